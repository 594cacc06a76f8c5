"""The loss over a plane through the weights: a real loss landscape (Li et al. 2018).

With ``theta_s`` the weights of the snapshot at step ``s`` (every ``W`` and
``b``, flattened end to end, in the trace's order) and two directions ``d1``,
``d2`` in weight space, the plane is::

    theta(alpha, beta) = theta_s + alpha d1 + beta d2

and the landscape is the network's own loss ``L(theta(alpha, beta))`` (its
loss function, with its weight penalties) on real digits, at every point of a
grid::

    land = landscape(trace, step=1199)             # cached beside the trace
    land.loss[j, i]                                # L at (land.alpha[i], land.beta[j])
    land.coords[k], land.off_plane[k]              # snapshot k on the plane, and how far off it it is
    cut = lr_slice(trace, step=1199)               # L(theta_s - eta g) along the batch gradient g

**Directions.** ``"pca"`` (the default): the first two principal directions
of the recorded trajectory, the snapshots ``theta_0, theta_1, ...`` minus
``theta_s``: of all planes through ``theta_s``, the one that holds the most of
the path training took (``explained``: the share of the path's squared
displacement along each). ``"random"``: filter-normalised random directions:
each row of a random direction's ``W`` (one neuron's incoming weights) is
rescaled to the norm of the same row of ``W_s``, biases left at 0, so that a
step of 1 moves every neuron by its own size.

**Digits.** A fixed subset of the run's own training set (the split remade
from the run's data set and seed, and checked: its validation rows must hold
the trace's probe digits): the landscape is the function training went down.
The trace's probe digits are a few dozen validation images, too few for a
smooth surface, and not what was trained on; they are used only when the
training set cannot be had (MNIST not in the cache, a split that differs), and
``digits`` says so.

**The trajectory.** Every snapshot is projected onto the plane (least
squares: ``coords``); its distance from the plane is kept (``off_plane``), with
its own loss on the same digits (``snapshot_loss``) beside the plane's loss at
its shadow (``plane_loss``): a point drawn on the plane is where a snapshot's
shadow falls, not where the snapshot is.

**Speed.** (The mathematics is in :mod:`explainer.landscape_plane`.) The first layer is linear in its weights, so for the whole grid
``x (W + alpha D1 + beta D2)^T + b + ... = z_W + alpha z_D1 + beta z_D2``: three
products, then per point an addition, the activation and the small layers
above it, through the network's own layers and loss.
"""

import contextlib
import time
import warnings
from dataclasses import dataclass

import numpy as np

from .errors import ExplainerError
from .landscape_cache import cached
from .landscape_plane import flatten, loss_of, losses_at, plane_directions, project

__all__ = ["Landscape", "Slice", "landscape", "lr_slice", "landscape_digits", "plane_directions", "project",
           "losses_at", "flatten", "DIRECTIONS", "DIGITS", "RESOLUTION", "N_DIGITS"]

DIRECTIONS = {"pca": "the first two principal directions of the recorded trajectory",
              "random": "filter-normalised random directions (Li et al. 2018)"}
DIGITS = {"train": "a fixed subset of the run's training set", "probe": "the trace's probe digits"}
RESOLUTION = 41  # grid points along each axis: 1,681 losses
N_DIGITS = 2000  # training digits the loss is measured on (all of them when there are fewer)
ALGORITHM = 1  # raised whenever what is computed changes, so that no cache file of the old way is read
MARGIN = 0.2  # the grid reaches this share of the trajectory's span beyond it, on each side
# plain steps of 1, 2, 5, 10, 20, 50, ... times the run's learning rate: fine enough to land just past the valley
MULTIPLIERS = (np.array([1.0, 2.0, 5.0]) * 10.0 ** np.arange(9)[:, None]).ravel()


@dataclass(frozen=True, eq=False)
class Landscape:
    """The loss over a plane through one snapshot's weights, with the trajectory projected onto it."""

    step: int
    directions: str  # "pca" or "random"
    alpha: np.ndarray  # (n,) the grid along d1
    beta: np.ndarray  # (n,) along d2
    loss: np.ndarray  # (n, n): loss[j, i] at (alpha[i], beta[j])
    d1: np.ndarray  # (n_params,) the directions, in the trace's order of parameters
    d2: np.ndarray  # (n_params,)
    explained: np.ndarray  # (2,) share of the trajectory's squared displacement along d1, d2 (NaN: random)
    steps: np.ndarray  # (n_snapshots,) the snapshots' steps
    coords: np.ndarray  # (n_snapshots, 2) each one's (alpha, beta): its shadow on the plane
    off_plane: np.ndarray  # (n_snapshots,) its distance from the plane
    distance: np.ndarray  # (n_snapshots,) its distance from theta_s
    snapshot_loss: np.ndarray  # (n_snapshots,) the loss of its own weights on these digits
    plane_loss: np.ndarray  # (n_snapshots,) the loss at its shadow on the plane
    recorded_loss: np.ndarray  # (n_snapshots,) the run's batch loss at that step (trace.scalars["loss"])
    probe_loss: np.ndarray  # (n_snapshots,) the probe set's recorded loss at that snapshot
    digits: str  # what the loss was measured on: "1,258 training digits"
    seconds: float  # how long computing it took
    cache: str = ""  # the cache file read or written ("" if none)
    note: str = ""  # what the cache did, in words

    @property
    def resolution(self):
        return len(self.alpha)


@dataclass(frozen=True, eq=False)
class Slice:
    """The loss along the batch gradient from one snapshot: ``L(theta_s - eta g)``, and plain steps of
    1, 2, 5, 10, 20, ... times the run's learning rate, up to the first that lands higher than it started."""

    step: int
    lr: float  # the learning rate in force at this step
    grad_norm: float  # |g|, the batch gradient's norm (every W and b)
    eta: np.ndarray  # (m,) learning rates along the curve, from 0
    loss: np.ndarray  # (m,) L(theta_s - eta g)
    multipliers: np.ndarray  # (k,) plain steps of eta = lr * multiplier
    step_loss: np.ndarray  # (k,) the loss after each
    digits: str
    seconds: float
    cache: str = ""
    note: str = ""

    @property
    def start_loss(self):
        """The loss before any step, ``L(theta_s)``."""
        return float(self.loss[0])

    @property
    def overshoot(self):
        """Index into ``multipliers`` of the first step that ends higher than it started, or None."""
        higher = np.flatnonzero(~(self.step_loss <= self.start_loss))
        return int(higher[0]) if len(higher) else None


# -- the public functions ------------------------------------------------------------


def landscape(trace, step=None, *, directions="pca", resolution=RESOLUTION, digits="train", n_digits=N_DIGITS,
              seed=0, cache=True, progress=False):
    """The loss over a plane through the weights of the snapshot nearest to ``step`` (default: the last).

    Parameters
    ----------
    trace : Trace or path
    step : int, optional
    directions : {"pca", "random"}
    resolution : int
        Grid points along each axis (3 to 201).
    digits : {"train", "probe"}
        A fixed subset of ``n_digits`` of the run's training digits, or the probe digits.
    seed : int
        Chooses the training digits, and the random directions.
    cache : bool
        Read and write the cache beside the trace (:mod:`explainer.landscape_cache`).
    progress : bool
        Show a progress bar over the grid (on stderr).
    """
    from .trace import open_trace

    trace = open_trace(trace)
    step = _check(trace, step, directions, resolution, digits, n_digits, seed)
    tag = f"{directions}-{resolution}x{resolution}"
    settings = {"directions": directions, "resolution": resolution, "seed": seed, "margin": MARGIN,
                "algorithm": ALGORITHM}
    return _cached(trace, step, "landscape", tag, settings, digits, n_digits, seed, cache,
                   lambda x, labels, what: _compute_landscape(trace, step, directions, resolution, seed, x, labels,
                                                              what, progress), Landscape)


def lr_slice(trace, step=None, *, points=161, digits="train", n_digits=N_DIGITS, seed=0, cache=True):
    """The loss along the recorded batch gradient of the snapshot nearest to ``step``: ``L(theta_s - eta g)``
    for ``points`` learning rates from 0 to a little past the first plain step (of 1, 2, 5, 10, 20, ... times the
    run's learning rate) that ends higher than it started (:class:`Slice`)."""
    from .trace import open_trace

    trace = open_trace(trace)
    step = _check(trace, step, "pca", 3, digits, n_digits, seed)
    if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or not 3 <= points <= 2001:
        raise ValueError(f"points must be a whole number from 3 to 2001; got {points!r}")
    return _cached(trace, step, "slice", f"{points}", {"points": int(points), "multipliers": MULTIPLIERS.tolist(),
                                                               "algorithm": ALGORITHM}, digits, n_digits, seed, cache,
                   lambda x, labels, what: _compute_slice(trace, step, int(points), x, labels, what), Slice)


def landscape_digits(trace, digits="train", n_digits=N_DIGITS, seed=0):
    """``(x, labels, what)``: the digits a landscape is measured on, and in words what they are.

    ``"train"``: ``n_digits`` training digits (all when there are fewer), chosen with ``seed``, from the
    split remade with the run's data set and seed; if that cannot be had (not on disk: nothing is
    downloaded) or is not the run's split, the probe digits, with a warning saying why.
    """
    if digits == "probe":
        return trace.probe_x, trace.probe_labels, f"{len(trace.probe_labels)} probe digits"
    from .data import load_dataset

    dtype = np.dtype(trace.run.dtype)
    why = None
    try:
        data = load_dataset(trace.run.dataset, seed=trace.run.seed, download=False, progress=False)
    except (ExplainerError, ValueError, OSError) as e:
        why = f"its training set cannot be loaded ({' '.join(str(e).split())})"
    else:
        index = trace.probe_index
        if (index.max(initial=-1) >= len(data.y_val)
                or not np.array_equal(data.X_val[index].astype(dtype), trace.probe_x)):
            why = "the split remade from its data set and seed does not hold its probe digits"
    if why:
        warnings.warn(f"{trace.path.name}: {why}: the landscape is measured on the probe digits", stacklevel=3)
        return landscape_digits(trace, "probe")
    rng = np.random.default_rng(seed)
    n = len(data.y_train)
    rows = np.sort(rng.choice(n, size=min(n_digits, n), replace=False))
    x = np.ascontiguousarray(data.X_train[rows], dtype=dtype)  # (n_digits, n_in)
    return x, data.y_train[rows], f"{len(rows):,} training digits"


# -- computing, and the cache --------------------------------------------------------------


def _check(trace, step, directions, resolution, digits, n_digits, seed):
    from .tables import lookup

    trace.refuse_cnn("the loss landscape")
    lookup(DIRECTIONS, directions, "directions")
    lookup(DIGITS, digits, "digits")
    for name, value, low, high in (("resolution", resolution, 3, 201), ("n_digits", n_digits, 1, 10**6),
                                   ("seed", seed, 0, 2**32 - 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
            raise ValueError(f"{name} must be a whole number from {low} to {high}; got {value!r}")
    if step is None:
        return trace.check_step(max(trace.n_steps - 1, 0), "step")
    return trace.check_step(step, "step")


def _cached(trace, step, kind, tag, settings, digits, n_digits, seed, use_cache, compute, result_type):
    """Read ``kind`` from the cache, or compute it (on the digits asked for, or the probe digits if those
    cannot be had) and cache it."""
    def key_of(what):
        return {**settings, "digits": what, "n_digits": int(n_digits) if what == "train" else None,
                "digit_seed": int(seed) if what == "train" else None}

    for what in dict.fromkeys([digits, "probe"]):  # the digits asked for, then the fallback's
        entry = cached(trace, step, kind, f"{tag}-{what}", key_of(what), use_cache)
        found = entry.read()
        if found is not None:
            return result_type(**found, cache=str(entry.path), note=entry.note)
        if what == digits:
            x, labels, description = landscape_digits(trace, digits, n_digits, seed)
            if description.endswith("probe digits") and digits != "probe":
                continue  # fell back to the probe digits: look for those in the cache first
        with _one_blas_thread():
            fields = compute(x, labels, description)
        path, note = entry.write(fields)
        return result_type(**fields, cache=str(path or ""), note=note)
    raise AssertionError("unreachable")


def _compute_landscape(trace, step, directions, resolution, seed, x, labels, digits, progress):
    from tqdm.auto import tqdm

    started = time.perf_counter()
    steps = np.asarray(trace.snapshot_steps)
    trajectory = np.stack([flatten(trace.weights(int(s), exact=True)) for s in steps])  # (n_snapshots, n_params)
    k = int(np.flatnonzero(steps == step)[0])
    theta = trajectory[k].astype(np.float64)
    d1, d2, explained = plane_directions(trajectory, theta, directions, trace.run.shapes, seed)
    coords, off_plane, distance = project(trajectory, theta, d1, d2)
    alpha, beta = (_axis(coords[:, i], directions, resolution) for i in (0, 1))
    grid = np.stack(np.meshgrid(alpha, beta), axis=-1).reshape(-1, 2)  # row j holds beta[j]: (n * n, 2)
    net = trace.network(step, exact=True)
    with tqdm(total=len(grid) + len(steps), unit="point", disable=not progress, desc="landscape",
              leave=False) as bar:
        loss = losses_at(net, x, labels, theta, d1, d2, grid, progress=bar).reshape(len(beta), len(alpha))
        plane_loss = losses_at(net, x, labels, theta, d1, d2, coords)
        snapshot_loss = np.array([loss_of(net, x, labels, row) for row in trajectory])
        bar.update(len(steps))
    recorded = trace.scalars["loss"]
    return dict(
        step=int(step), directions=directions, alpha=alpha, beta=beta, loss=loss, d1=d1, d2=d2,
        explained=np.asarray(explained, dtype=np.float64), steps=steps.astype(np.int64), coords=coords,
        off_plane=off_plane, distance=distance, snapshot_loss=snapshot_loss, plane_loss=plane_loss,
        recorded_loss=np.array([recorded[s] if s < len(recorded) else np.nan for s in steps], dtype=np.float64),
        probe_loss=np.array([trace.probe_record(int(s), exact=True).loss for s in steps], dtype=np.float64),
        digits=digits, seconds=time.perf_counter() - started)


def _compute_slice(trace, step, points, x, labels, digits):
    started = time.perf_counter()
    net = trace.network(step, exact=True)
    theta = flatten(trace.weights(step, exact=True)).astype(np.float64)
    g = flatten(trace.gradients(step, exact=True)).astype(np.float64)
    lr = trace.learning_rate(step)
    zero = np.zeros_like(g)

    def after(etas):  # the loss after a plain step theta - eta g, for each eta
        return losses_at(net, x, labels, theta, -g, zero, np.stack([etas, np.zeros_like(etas)], axis=1))

    start = float(after(np.zeros(1))[0])
    multipliers, step_loss = [], []
    for m in MULTIPLIERS:  # 1, 2, 5, 10, ... times lr, up to the first step that ends higher than it started
        multipliers.append(m)
        step_loss.append(float(after(np.array([lr * m]))[0]))
        if not step_loss[-1] <= start:
            break
    eta = np.linspace(0, 1.15 * lr * multipliers[-1], points)
    loss = after(eta)
    loss[0] = start
    return dict(step=int(step), lr=float(lr), grad_norm=float(np.linalg.norm(g)), eta=eta, loss=loss,
                multipliers=np.array(multipliers), step_loss=np.array(step_loss), digits=digits,
                seconds=time.perf_counter() - started)


def _one_blas_thread():
    """BLAS on one thread: the products here are small, and OpenBLAS's threads, waiting on each other on
    a busy 2-core machine, made them 20 times slower (docs/benchmarks.md, "Loss landscapes")."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # scikit-learn brings it; without it, BLAS keeps its own threads
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _axis(values, directions, resolution):
    """Grid values along one axis: the trajectory's range (and 0) with a margin; for random directions at
    least -1 to 1, the scale their filter normalisation gives."""
    low, high = min(values.min(), 0.0), max(values.max(), 0.0)
    if directions == "random":
        low, high = min(low, -1.0), max(high, 1.0)
    span = high - low or 1.0
    return np.linspace(low - MARGIN * span, high + MARGIN * span, resolution)
