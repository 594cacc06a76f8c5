"""Backprop: what the Backprop scene shows of one probe digit at one snapshot, from the trace.

The digit's output error, its ``delta`` in every layer and its share of the
gradient, ``delta^l (a^{l-1})^T``, all as recorded; then what the step really
did: the optimiser got the *training batch's* mean gradient (the probe digits
are held out, so this digit's own gradient is shown, never applied), with the
run's update rule and its numbers; and the digit's loss before and after.

    story = backprop_story(trace, sample=3, step=40)
    story.formulas.output_delta    # the run's delta^L, as LaTeX
    story.digit_dW[0]              # (n_out, n_in) this digit's share in the first layer
    story.batch_dW[0]              # what the optimiser was given
    story.after                    # the digit's loss at the next snapshot, and how many updates later

If the recorded output error is not what the run's formula gives from the
recorded ``z``, ``a`` and ``y``, :attr:`BackpropStory.untruthful` says why in one
line and the scene writes that line instead of drawing a formula.
"""

from dataclasses import dataclass

import numpy as np

from ..activations import get_activation
from ..formulas import Formulas, formulas_of
from ..losses import get_loss, one_hot
from ..passes import Pass

__all__ = ["BackpropStory", "After", "backprop_story", "default_step", "digit_loss"]

EARLY = 0.02  # the default step: this far into training, where the error is large and learning shows


@dataclass(frozen=True)
class After:
    """The digit's loss at the next snapshot."""

    step: int
    loss: float
    updates: int  # optimiser steps between the snapshot shown and this one (1: just this step's)


@dataclass(frozen=True)
class BackpropStory:
    step: int
    sample: int
    label: int
    formulas: Formulas
    x: np.ndarray  # (n_in,) the digit
    y: np.ndarray  # (n_classes,) its one-hot target
    record: Pass  # the probe set's pass at this snapshot
    weights: list  # [(W, b), ...] the step's weights
    a: list  # a[0] = x, a[l] = layer l's recorded activation for this digit (l = 1 to L)
    z: list  # z[l - 1]: layer l's recorded z for this digit
    delta: list  # delta[l - 1]: layer l's recorded delta for this digit
    digit_dW: list  # digit_dW[l - 1] = delta^l (a^{l-1})^T: (n_out, n_in)
    batch_dW: list  # the training batch's mean gradient, what the optimiser was given
    loss: float  # the digit's loss at this snapshot
    after: After  # ... and at the next one (None at the last snapshot)
    untruthful: str  # why the run's formula cannot be drawn over these numbers, or ""

    @property
    def predicted(self):
        return int(np.argmax(self.a[-1]))


def digit_loss(loss_name, a, y):
    """One sample's loss ``loss(a, y)`` with the run's loss function (no weight penalty)."""
    return get_loss(loss_name).value(np.asarray(a)[None], np.asarray(y)[None])


def default_step(trace):
    """Early in training (2% of the steps), at a snapshot whose next step also has one, so that "after
    the update" is one update later; the nearest snapshot to 2% if there is no such pair."""
    steps = trace.snapshot_steps
    target = int(max(trace.n_steps - 1, 0) * EARLY)
    pairs = [int(s) for s, t in zip(steps[:-1], steps[1:]) if t == s + 1 and s <= target]
    return pairs[-1] if pairs else trace.check_step(target)


def backprop_story(trace, sample, step):
    """What Backprop shows of probe digit ``sample`` at the snapshot ``step`` (which must have one)."""
    k = trace.snapshot_index(step, exact=True)
    record = trace.probe_record(step, exact=True)
    run = trace.run
    x = np.asarray(trace.probe_x[sample])
    label = int(trace.probe_labels[sample])
    y = one_hot(np.array([label]), run.n_classes, dtype=x.dtype)[0]
    a = [x] + [layer[sample] for layer in record.a]
    z = [layer[sample] for layer in record.z]
    delta = [layer[sample] for layer in record.delta]
    digit_dW = [np.outer(d, a_prev) for d, a_prev in zip(delta, a[:-1])]
    batch_dW = [dW for dW, _ in trace.gradients(step, exact=True)]
    loss = digit_loss(run.loss, a[-1], y)
    after = None
    if k + 1 < trace.n_snapshots:
        s = int(trace.snapshot_steps[k + 1])
        nxt = trace.probe_record(s, exact=True)
        after = After(step=s, loss=digit_loss(run.loss, nxt.probabilities[sample], y), updates=s - step)
    return BackpropStory(step=step, sample=sample, label=label, formulas=formulas_of(trace, step), x=x, y=y,
                         record=record, weights=trace.weights(step, exact=True), a=a, z=z, delta=delta,
                         digit_dW=digit_dW, batch_dW=batch_dW, loss=loss, after=after,
                         untruthful=_check_output_delta(run, z[-1], a[-1], y, delta[-1]))


def _check_output_delta(run, z, a, y, recorded):
    """"" if the run's output/loss formula, applied to the recorded z, a and y, gives the recorded delta^L;
    else one line saying it does not (a trace recorded by a different explainer, say)."""
    loss, out = get_loss(run.loss), get_activation(run.activations[-1])
    shortcut = loss.output_delta.get(out.name)
    z, a, y = z[None], a[None], y[None]
    expected = shortcut.delta(z, a, y) if shortcut else out.backward(z, a, loss.gradient(a, y))
    if np.allclose(expected[0], recorded, rtol=1e-4, atol=1e-6):
        return ""
    return (f"the recorded output error is not {out.name} with {loss.name}'s delta (recorded by explainer "
            f"{run.explainer_version}): its formula is not drawn")
