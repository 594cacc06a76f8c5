"""MiniBatches: every digit pulls the weights its own way; a step follows a batch's mean.

For a probe digit ``n`` at a snapshot, its own gradient of layer ``l``'s
weights is, from its recorded ``delta`` and ``a`` (column vectors, ``a^0 = x``)::

    g_n = delta^l_n (a^{l-1}_n)^T  (+ the weight penalty's term, which every gradient of the run has)

and of the biases ``delta^l_n``. A training step's gradient is the mean of
these over its batch of ``batch_size`` training digits: the trace records it
(``trace.gradients(step)``) and that is what went into the optimiser. The mean
over the probe digits stands in for the full gradient (the mean over every
training digit, which the trace does not hold): it is what
``Network.inspect(probe_x, probe_labels).dW`` gives with the snapshot's
weights, which the tests check.

Cosines compare directions over all weights and biases. The curve: the mean
of ``k`` probe digits drawn at random, compared with the mean of the whole
probe set. A draw is part of that mean, which pulls its cosine up as ``k``
grows (at ``k = n_probe`` it is 1 by construction), so ``k`` stops at a third
of the probe set::

    story = minibatch_story(trace, step=9, sample=0)
    story.digit_rows[0]        # (n_in,) digit story.samples[0]'s gradient of unit story.unit's weights
    story.batch_cosine         # the batch's gradient against the probe mean
    story.mean_of_k            # the curve: mean cosine of k digits' mean, k = story.ks
    story.formulas.update      # the optimiser's rule, which the batch's mean went into
"""

from dataclasses import dataclass

import numpy as np

from ..formulas import Formulas, formulas_of

__all__ = ["MiniBatchStory", "minibatch_story", "digit_gradients", "flat", "cosine", "default_step",
           "penalty_tex", "EARLY", "DRAWS"]

EARLY = 0.02  # the default step: this far into training, where the gradients still agree
DRAWS = 30  # random draws of k digits for each k of the curve
SHOWN = 4  # digits whose gradients are drawn one by one


@dataclass(frozen=True)
class MiniBatchStory:
    """What MiniBatches draws at snapshot ``step`` (see the module's docstring)."""

    step: int
    formulas: Formulas  # the run's formulas at this step: the gradient's, the optimiser's
    penalty: str  # the weight penalty's term of unit j's gradient, as LaTeX ('' without one)
    digit_tex: str  # one digit's gradient of layer l: g_n = delta^l_n (a^{l-1}_n)^T + the penalty's term
    unit_tex: str  # ... its row j in layer 1: delta^1_{n,j} x_n^T + the penalty's term
    image_shape: tuple
    n_probe: int
    batch_size: int
    unit: int  # j: the first-layer unit whose gradients are drawn as images
    samples: tuple  # the probe digits drawn one by one
    labels: tuple  # their labels
    x: np.ndarray  # (len(samples), n_in) their pixels
    delta: np.ndarray  # (len(samples),) their delta^1_j: each one's gradient of W^1_j is delta^1_j x + penalty
    digit_rows: np.ndarray  # (len(samples), n_in) their gradients of W^1_j
    mean_row: np.ndarray  # (n_in,) the probe digits' mean gradient of W^1_j
    batch_row: np.ndarray  # (n_in,) the training batch's, as recorded
    digit_cosines: np.ndarray  # (n_probe,) each probe digit's whole gradient against the probe mean
    digit_norms: np.ndarray  # (n_probe,) their lengths
    mean_norm: float
    batch_norm: float
    batch_cosine: float  # the batch's whole gradient against the probe mean
    ks: np.ndarray  # (K,) 1, 2, ..., n_probe // 3
    draws: tuple  # per k: cosines of the mean of k probe digits drawn at random with the probe mean (DRAWS
    #               draws; for k = 1 every digit once)
    mean_of_k: np.ndarray  # (K,) the mean of each k's cosines
    taken: np.ndarray  # (n_params,) the step the optimiser took, W_{s+1} - W_s, or None without a snapshot at s+1
    taken_row: np.ndarray  # (n_in,) its row of unit j, or None
    taken_cosine: float  # cosine of the step taken with -g (the batch's gradient), or None
    taken_norm: float  # |W_{s+1} - W_s|, or None
    sgd_norm: float  # eta |g|: how long a plain SGD step, -eta g, would have been

    @property
    def shown_cosines(self):
        """The cosines of the digits drawn one by one."""
        return self.digit_cosines[list(self.samples)]


def default_step(trace):
    """Early in training (2% of the steps), at a snapshot whose next step also has one (so the step the
    optimiser took is recorded); the snapshot nearest to 2% if there is no such pair."""
    steps = trace.snapshot_steps
    target = int(max(trace.n_steps - 1, 0) * EARLY)
    pairs = [int(s) for s, t in zip(steps[:-1], steps[1:]) if t == s + 1 and s <= target]
    return pairs[-1] if pairs else trace.check_step(target)


def penalty_tex(formulas):
    """The weight penalty's term of dL/dW in the run's formula (e.g. ``' + 0.0005\\, W^{l}'``), or ''."""
    return formulas.penalty_gradient


def digit_gradients(trace, step):
    """Every probe digit's own gradient at snapshot ``step``: ``[(dW, db), ...]`` per layer,
    dW (n_probe, n_out, n_in) = delta_n a_n^T (+ the penalty's term), db (n_probe, n_out) = delta_n."""
    record, run = trace.probe_record(step, exact=True), trace.run
    grads = []
    for layer, (W, _) in enumerate(trace.weights(step, exact=True)):
        a_prev = trace.probe_x if layer == 0 else record.a[layer - 1]  # (n_probe, n_in)
        delta = record.delta[layer].astype(np.float64)  # (n_probe, n_out)
        dW = delta[:, :, None] * a_prev[:, None, :]  # (n_probe, n_out, n_in): delta_n a_n^T
        dW += _penalty(W, run.l1, run.l2)  # (n_out, n_in), the same for every digit
        grads.append((dW, delta))
    return grads


def _penalty(W, l1, l2):
    """d/dW of l1 sum|W| + l2/2 sum W^2, as the network adds it to every gradient."""
    W = np.asarray(W, dtype=np.float64)
    return l2 * W + l1 * np.sign(W)


def flat(grads):
    """``[(dW, db), ...]`` as one long vector per digit: every weight and bias, layer by layer.
    Works on one gradient (dW (n_out, n_in)) and on a stack of them (dW (n, n_out, n_in))."""
    stacked = np.ndim(grads[0][1]) == 2  # db (n, n_out): one row per digit
    rows = [part.reshape(len(part), -1) if stacked else part.reshape(1, -1) for dW, db in grads for part in (dW, db)]
    out = np.concatenate(rows, axis=1).astype(np.float64)
    return out if stacked else out[0]


def cosine(u, v):
    """cos of the angle between ``u`` and ``v`` (0 if either is 0)."""
    return float(_ratio(u @ v, np.linalg.norm(u) * np.linalg.norm(v)))


def _ratio(dot, norms):
    """dot / norms, 0 where norms is 0."""
    dot, norms = np.asarray(dot, dtype=np.float64), np.asarray(norms, dtype=np.float64)
    out = np.divide(dot, norms, out=np.zeros_like(dot * norms), where=norms > 0)
    return out if out.ndim else float(out)


def minibatch_story(trace, step, sample=0, count=SHOWN, draws=DRAWS, seed=0):
    """What MiniBatches draws at snapshot ``step``: probe digit ``sample`` and the next ones of other
    classes (``count`` in all), and the curve from ``draws`` draws of k digits (a fixed ``seed``)."""
    step = int(trace.snapshot_steps[trace.snapshot_index(step, exact=True)])
    grads = digit_gradients(trace, step)
    G = flat(grads)  # (n_probe, n_params): each probe digit's gradient
    mean = G.mean(axis=0)  # the probe set's gradient: the stand-in for the full one
    batch = trace.gradients(step, exact=True)
    g = flat(batch)  # what went into the optimiser

    labels = np.asarray(trace.probe_labels)
    samples = _other_classes(labels, sample, count)
    dW1 = grads[0][0]  # (n_probe, n_hidden, n_in)
    unit = _unit(grads[0][1], dW1.mean(axis=0), samples)

    # every cosine among the digits' gradients and their means follows from their dot products
    K = G @ G.T  # (n_probe, n_probe): K[m, n] = g_m . g_n
    n = len(G)
    to_mean = K.mean(axis=1)  # (n_probe,) g_n . mean
    mean_norm = float(np.sqrt(max(to_mean.mean(), 0.0)))  # |mean|^2 = mean . mean
    norms = np.sqrt(np.diag(K))
    cosines = _ratio(to_mean, norms * mean_norm)

    def cosine_of_mean(S):  # the mean of the digits S against the probe mean
        return _ratio(to_mean[S].mean(), np.sqrt(K[np.ix_(S, S)].mean()) * mean_norm)

    rng = np.random.default_rng(seed)
    ks = np.arange(1, max(n // 3, 1) + 1)
    drawn = (cosines,) + tuple(np.array([cosine_of_mean(rng.choice(n, k, replace=False)) for _ in range(draws)])
                               for k in ks[1:])  # one digit: every one of them, not a sample
    mean_of_k = np.array([d.mean() for d in drawn])  # (K,)

    f = formulas_of(trace, step)
    taken = _step_taken(trace, step)
    n_in = trace.sizes[0]
    penalty = penalty_tex(f).replace("W^{l}", rf"W^{{1}}_{{{unit}}}")
    return MiniBatchStory(
        step=step, formulas=f, penalty=penalty,
        digit_tex=(r"g_n = " + f.digit_weight_gradient.replace("^{l}", "^{l}_n").replace("^{l-1}", "^{l-1}_n")
                   + penalty_tex(f)),
        unit_tex=rf"g_{{n,{unit}}} = \delta^{{1}}_{{n,{unit}}}\, x_n^{{\mathsf T}}{penalty}",
        image_shape=tuple(trace.image_shape), n_probe=n, batch_size=f.batch_size, unit=unit,
        samples=tuple(samples), labels=tuple(int(labels[s]) for s in samples),
        x=np.asarray(trace.probe_x[samples], dtype=np.float64), delta=grads[0][1][samples, unit],
        digit_rows=dW1[samples, unit], mean_row=dW1[:, unit].mean(axis=0),
        batch_row=np.asarray(batch[0][0][unit], dtype=np.float64),
        digit_cosines=cosines, digit_norms=norms, mean_norm=mean_norm, batch_norm=float(np.linalg.norm(g)), batch_cosine=cosine(g, mean),
        ks=ks, draws=drawn, mean_of_k=mean_of_k,
        taken=taken, taken_row=None if taken is None else taken[unit * n_in:(unit + 1) * n_in],
        taken_cosine=None if taken is None else cosine(taken, -g),
        taken_norm=None if taken is None else float(np.linalg.norm(taken)),
        sgd_norm=f.lr * float(np.linalg.norm(g)),
    )


def _other_classes(labels, sample, count):
    """``sample``, then the next probe digits (going round) whose class is not taken yet, ``count`` in all."""
    n = len(labels)
    chosen, classes = [], set()
    for i in (np.arange(n) + sample) % n:
        if labels[i] not in classes:
            chosen.append(int(i))
            classes.add(labels[i])
        if len(chosen) == count:
            break
    return chosen


def _unit(delta1, mean_dW1, samples):
    """The first-layer unit drawn: the one with a gradient (delta != 0) for most of the digits drawn,
    and of those, the one the probe digits' mean gradient pushes hardest."""
    alive = (delta1[samples] != 0).sum(axis=0)  # (n_hidden,)
    push = np.linalg.norm(mean_dW1, axis=1)  # (n_hidden,)
    return int(np.lexsort((-push, -alive))[0])


def _step_taken(trace, step):
    """W_{s+1} - W_s over every weight and bias, if step s + 1 has a snapshot; else None."""
    steps = trace.snapshot_steps
    k = trace.snapshot_index(step, exact=True)
    if k + 1 >= len(steps) or steps[k + 1] != step + 1:
        return None
    return flat(trace.weights(step + 1, exact=True)) - flat(trace.weights(step, exact=True))
