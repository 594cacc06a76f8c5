"""GradientDescent's numbers: one digit's cost, the batch's average, the loss over a plane through the
weights with the path training took across it, and what a step that is too long does.

Everything comes from the trace and the library: the digit's cost is the run's
loss function on its recorded output ``a^L``; the average is the probe set's
recorded loss and the training batch's recorded loss; the landscape and the
slice along the batch gradient are :mod:`explainer.landscape`'s (cached beside
the trace)::

    story = descent_story(trace, sample=3, step=120)
    story.digit_loss, story.digit_tex       # ell = -log a_7 = -log 0.832 = 0.184
    story.probe_losses, story.probe_mean    # every probe digit's cost, and their mean
    story.penalty, story.probe_loss         # + the weight penalty = the trace's probe loss
    story.batch_loss                        # the training batch's loss at this step, as recorded
    story.land                              # the Landscape: loss over the plane, the projected snapshots
    story.cut                               # the Slice: L(theta_s - eta g) and plain steps of 1, 2, 5, ... x lr
"""

from dataclasses import dataclass

import numpy as np

from ..formulas import Formulas, formulas_of
from ..landscape import RESOLUTION, Landscape, Slice, landscape, lr_slice
from ..losses import get_loss, one_hot
from ..optimizers import tex_number

__all__ = ["DescentStory", "descent_story", "default_step", "digit_tex", "nice", "contour_levels", "colour_ticks",
           "labelled_snapshots", "shown_steps", "ticks_within", "tell_apart", "fixed", "number", "EARLY"]

EARLY = 0.1  # the default step: this far into training, where the digit's cost and the slope still show
MAX_LABELS = 6  # snapshots labelled with their step on the path


@dataclass(frozen=True)
class DescentStory:
    """What GradientDescent draws, for probe digit ``sample`` at the snapshot ``step``."""

    step: int
    sample: int
    label: int
    formulas: Formulas  # the run's: .loss (one sample's), .cost (the batch's mean), .update, .lr
    probabilities: np.ndarray  # (n_classes,) the digit's recorded output a^L
    y: np.ndarray  # (n_classes,) its one-hot target
    digit_loss: float  # ell of this digit: the run's loss function on a^L and y
    digit_tex: tuple  # ell's formula, then with this digit's numbers
    probe_losses: np.ndarray  # (n_probe,) every probe digit's ell
    probe_labels: np.ndarray  # (n_probe,)
    probe_mean: float  # (1 / n_probe) sum of ell
    penalty: float  # the weight penalty at this step (0 without l1 or l2)
    probe_loss: float  # the trace's probe loss at this snapshot: probe_mean + penalty
    batch_loss: float  # the training batch's loss at this step (trace.scalars["loss"])
    land: Landscape
    levels: np.ndarray  # loss values of the contour lines
    ticks: np.ndarray  # loss values on the colour bar
    labelled: np.ndarray  # indices of the snapshots labelled with their step on the path
    axis_names: tuple  # what alpha and beta are, in words
    cut: Slice
    rows: np.ndarray  # indices of cut.multipliers written out in the table
    plain_note: tuple  # how a plain step relates to the run's own update, in short lines
    cost_ticks: np.ndarray  # tick values of the probe digits' costs
    alpha_ticks: np.ndarray  # tick values along the landscape's axes
    beta_ticks: np.ndarray
    eta_ticks: np.ndarray  # ... and the slice's: learning rates
    slice_ticks: np.ndarray  # losses
    slice_digits: int  # significant digits that tell each plain step's loss from the loss before it
    gap: int  # the snapshot whose own loss differs most from its shadow's on the plane

    @property
    def snapshot(self):
        """Index of this step's snapshot in ``land.steps``: the plane's origin."""
        return int(np.flatnonzero(self.land.steps == self.step)[0])


def default_step(trace):
    """The snapshot nearest to 10% of the way through training."""
    return trace.check_step(int(max(trace.n_steps - 1, 0) * EARLY))


def descent_story(trace, sample, step, *, resolution=RESOLUTION, directions="pca", progress=False):
    """The numbers of GradientDescent for probe digit ``sample`` at the snapshot ``step`` (exact)."""
    step = int(trace.snapshot_steps[trace.snapshot_index(step, exact=True)])
    formulas = formulas_of(trace, step)
    record = trace.probe_record(step, exact=True)
    labels = np.asarray(trace.probe_labels)
    n_classes = record.probabilities.shape[1]
    Y = one_hot(labels, n_classes, np.float64)
    P = record.probabilities.astype(np.float64)  # (n_probe, n_classes)
    loss = get_loss(trace.run.loss)
    probe_losses = np.array([loss.value(P[n : n + 1], Y[n : n + 1]) for n in range(len(P))])  # each digit's ell
    weights = trace.weights(step, exact=True)
    penalty = (trace.run.l1 * sum(float(np.abs(W).sum()) for W, _ in weights)
               + trace.run.l2 / 2 * sum(float((W.astype(np.float64) ** 2).sum()) for W, _ in weights))
    land = landscape(trace, step, directions=directions, resolution=resolution, progress=progress)
    cut = lr_slice(trace, step)
    recorded = trace.scalars["loss"]
    return DescentStory(
        step=step, sample=int(sample), label=int(labels[sample]), formulas=formulas,
        probabilities=P[sample], y=Y[sample], digit_loss=float(probe_losses[sample]),
        digit_tex=digit_tex(trace.run.loss, formulas.loss, P[sample], Y[sample], probe_losses[sample]),
        probe_losses=probe_losses, probe_labels=labels, probe_mean=float(probe_losses.mean()), penalty=penalty,
        probe_loss=float(record.loss), batch_loss=float(recorded[step]) if step < len(recorded) else float("nan"),
        land=land, levels=contour_levels(land.loss), ticks=colour_ticks(land.loss.min(), land.loss.max()),
        labelled=labelled_snapshots(land, step), axis_names=_axis_names(land), cut=cut,
        rows=shown_steps(cut.multipliers), plain_note=_plain_note(formulas),
        cost_ticks=ticks_within(0.0, probe_losses.max(), most=4),
        alpha_ticks=ticks_within(land.alpha[0], land.alpha[-1]), beta_ticks=ticks_within(land.beta[0], land.beta[-1]),
        eta_ticks=ticks_within(0.0, cut.eta[-1], most=5), slice_ticks=ticks_within(cut.loss.min(), cut.loss.max(), most=5),
        slice_digits=tell_apart(cut.step_loss, cut.start_loss),
        gap=int(np.argmax(np.abs(land.snapshot_loss - land.plane_loss))),
    )


# -- what is written, and where the marks go ------------------------------------------------


def nice(value, digits=3):
    """A number as LaTeX with ``digits`` significant digits: ``0.184``, ``2.31``, ``3.2 \\times 10^{-5}``."""
    return tex_number(float(f"{value:.{digits}g}"))


def number(value, digits=3):
    """A value as LaTeX with ``digits`` significant digits, trailing zeros kept (``0.3850``), or as a power of ten
    when it is very small or large (``7.4 \\times 10^{-4}``)."""
    return fixed(value, digits) if 1e-3 <= abs(value) < 1e5 else nice(value, digits)


def fixed(value, digits):
    """A number with exactly ``digits`` significant digits, trailing zeros kept: ``0.3850``, ``2.310``."""
    if value == 0 or not np.isfinite(value):
        return f"{value:g}"
    places = max(0, digits - 1 - int(np.floor(np.log10(abs(value)))))
    return f"{value:.{places}f}"


def digit_tex(loss_name, formula, a, y, value):
    """One digit's cost: the run's formula for ``ell``, then with its numbers (cross-entropy:
    ``= -log a_k = -log 0.832 = 0.184`` for its class k; mse: ``= 1/2 sum_k (a_k - y_k)^2 = 1/2 * 0.716``)."""
    if loss_name == "cross_entropy":
        k = int(np.argmax(y))
        d = next(d for d in range(3, 10)  # as many digits of a_k as -log of it needs to give the value shown
                 if d == 9 or number(-np.log(float(f"{a[k]:.{d}g}") or 1e-300)) == number(value))
        numbers = rf"= -\log a^{{L}}_{{{k}}} = -\log {number(a[k], d)} = {number(value)}"
    elif loss_name == "mse":
        squares = float(((np.asarray(a, dtype=np.float64) - y) ** 2).sum())
        numbers = (rf"= \tfrac{{1}}{{2}} \sum_k \left(a^{{L}}_k - y_k\right)^2 = \tfrac{{1}}{{2}} \cdot {number(squares, 4)}"
                   rf" = {number(value)}")
    else:  # a loss this chapter does not write out term by term: its value only
        numbers = rf"= {number(value)}"
    return formula, numbers


def contour_levels(loss, n=9):
    """``n`` loss values for contour lines, evenly spaced in log between the landscape's least and greatest,
    rounded to two significant digits."""
    low, high = float(np.min(loss)), float(np.max(loss))
    if not high > low > 0:
        return np.array([low]) if np.isfinite(low) else np.array([])
    levels = np.geomspace(low, high, n + 2)[1:-1]
    return np.unique([float(f"{v:.2g}") for v in levels])


def colour_ticks(low, high):
    """Loss values for the colour bar (whose colours follow log(loss)): 1, 2, 5 times powers of ten between
    ``low`` and ``high``, at most six; evenly spaced round values when fewer than three of those fall between."""
    if not high > low > 0:
        return np.array([low])
    decades = np.arange(np.floor(np.log10(low)), np.ceil(np.log10(high)) + 1)
    candidates = (np.array([1.0, 2.0, 5.0]) * 10.0 ** decades[:, None]).ravel()
    ticks = candidates[(candidates >= low) & (candidates <= high)]
    while len(ticks) > 6:
        ticks = ticks[::2]
    return ticks if len(ticks) >= 3 else ticks_within(low, high, most=4)


def labelled_snapshots(land, step, most=MAX_LABELS, apart=0.12):
    """Indices of the snapshots to label with their step: the first, this step's and the last, then others in
    order of step, each at least ``apart`` of the grid's size from every label already chosen."""
    span = np.array([np.ptp(land.alpha) or 1.0, np.ptp(land.beta) or 1.0])
    xy = land.coords / span  # the grid's size is 1 along each axis
    chosen = list(dict.fromkeys([0, int(np.flatnonzero(land.steps == step)[0]), len(land.steps) - 1]))
    chosen = [k for i, k in enumerate(chosen) if all(np.linalg.norm(xy[k] - xy[j]) >= apart for j in chosen[:i])]
    for k in range(len(land.steps)):
        if len(chosen) >= most:
            break
        if all(np.linalg.norm(xy[k] - xy[j]) >= apart for j in chosen):
            chosen.append(k)
    return np.array(sorted(chosen))


def shown_steps(multipliers):
    """Which plain steps the table writes out: 1, 10, 100, ... times the learning rate, and the last two (the
    one nearest the valley's floor and the first that lands higher than it started)."""
    n = len(multipliers)
    decades = [k for k, m in enumerate(multipliers) if np.isclose(np.log10(m), round(np.log10(m)))]
    return np.array(sorted(set(decades) | set(range(max(n - 2, 0), n))))


def ticks_within(low, high, most=6):
    """Round tick values (1, 2 or 5 times a power of ten apart) from ``low`` to ``high``, at most ``most``."""
    span = float(high - low)
    if not span > 0:
        return np.array([float(low)])
    for power in range(int(np.floor(np.log10(span / most))), int(np.ceil(np.log10(span))) + 1):
        for factor in (1, 2, 5):
            step = factor * 10.0**power
            ticks = np.arange(np.ceil(low / step - 1e-9), np.floor(high / step + 1e-9) + 1) * step
            if len(ticks) <= most:
                return np.round(ticks, max(0, -power + 1)) + 0.0  # + 0.0: no -0
    return np.array([float(low), float(high)])


def tell_apart(values, reference, least=3, most=7):
    """Significant digits enough that each of ``values`` written out differs from ``reference`` written out
    (where they differ at all), at least ``least``."""
    for digits in range(least, most + 1):
        if all(f"{v:.{digits}g}" != f"{reference:.{digits}g}" for v in values if v != reference):
            return digits
    return most


def _axis_names(land):
    if land.directions == "pca":
        first, second = land.explained
        return (rf"α: the path's 1st principal direction ({first:.0%} of it)",
                rf"β: its 2nd ({second:.0%})")
    return "α: a random direction, filter-normalised", "β: another one"


OPTIMIZER_NAMES = {"sgd": "SGD", "momentum": "momentum", "rmsprop": "RMSprop", "adam": "Adam"}


def _plain_note(formulas):
    if formulas.optimizer_name == "sgd":
        return ("a plain step like these", "is this run's own update (SGD)")
    name = OPTIMIZER_NAMES.get(formulas.optimizer_name, formulas.optimizer_name)
    if formulas.optimizer_name == "momentum":  # a velocity of past gradients, one rate for every weight
        return (f"this run's own update was {name}'s,", "which adds up the past steps' gradients")
    return (f"this run's own update was {name}'s,", "which scales each weight's step")
