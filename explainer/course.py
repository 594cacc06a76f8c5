"""The student's course: exercises checked against a real run, and one weight's own loss curve.

The notebooks ask a student to compute a number themselves (a unit's ``z``,
its ``a``, a digit's loss, one step of gradient descent) and check the answer
against the run's own number, without printing that number first::

    check(my_z, story.z, "z")                 # ✓ right, or ✗ with a hint; "..." means not answered yet

:class:`OneWeight` is the loss of a trained network on the probe digits as a
function of a single weight, every other weight held where the run left it:
a real slice of the loss landscape, on which gradient descent can be watched
one step at a time. Its gradient is the network's own backward pass::

    one = OneWeight(trace, step)              # an output-layer weight the first probe digit leans on
    one.loss(w), one.gradient(w)              # L(w) and dL/dw
    path = one.descend(one.trained + 2, lr=0.5, steps=10)
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["check", "Verdict", "digit_loss", "less_sure_probe", "OneWeight"]


@dataclass(frozen=True)
class Verdict:
    """What :func:`check` found: ``right`` is True, False, or None (not answered yet)."""

    right: object
    message: str

    def __str__(self):
        return self.message

    def _ipython_display_(self):  # check() has printed the message: a notebook cell ending in check(...) shows it once
        pass


def check(answer, expected, what, *, rtol=1e-3, atol=1e-6, hint=""):
    """Check a student's ``answer`` for ``what`` against the run's ``expected`` number; print and return a
    :class:`Verdict`. A wrong answer gets the hint, never the expected number; ``...`` is not answered yet.

    >>> check(2.0001, 2.0, "z").right, check(3.0, 2.0, "z").right, check(..., 2.0, "z").right
    (True, False, None)
    """
    if answer is Ellipsis:
        verdict = Verdict(None, f"… {what}: not answered yet. Replace the ... with your computation and run the cell.")
    else:
        try:
            value = float(np.asarray(answer, dtype=np.float64).reshape(()))
        except (TypeError, ValueError):
            verdict = Verdict(False, f"✗ {what}: the answer must be one number; got {answer!r}")
        else:
            if np.isclose(value, float(expected), rtol=rtol, atol=atol):
                verdict = Verdict(True, f"✓ {what} = {value:.6g}: right, that is the run's own number.")
            else:
                verdict = Verdict(False, f"✗ {what}: {value:.6g} is not the run's number yet." +
                                  (f" Hint: {hint}" if hint else ""))
    print(verdict.message)
    return verdict


def digit_loss(trace, step, sample):
    """The cross-entropy loss ``-log p_y`` of probe digit ``sample`` at snapshot ``step``, from its recorded
    probabilities (without the run's weight penalty, which belongs to the batch, not to one digit)."""
    p = trace.probe_record(step, exact=True).probabilities[sample]  # (n_classes,)
    return float(-np.log(np.float64(p[int(trace.probe_labels[sample])])))


def less_sure_probe(trace, step):
    """A probe digit the network at ``step`` reads right but not with certainty: the right-read one at the
    three-quarter mark of their losses (a digit read at 99.99% makes a dull example)."""
    p = trace.probe_record(step, exact=True).probabilities  # (n_probe, n_classes)
    labels = np.asarray(trace.probe_labels)
    right = np.flatnonzero(p.argmax(axis=1) == labels)
    if not len(right):
        return 0
    losses = -np.log(np.maximum(p[right, labels[right]], 1e-30))
    return int(right[np.argsort(losses, kind="stable")[(3 * len(right)) // 4]])


class OneWeight:
    """The probe digits' mean loss as a function of one weight of the network at ``step``.

    Parameters
    ----------
    trace : Trace
    step : int
        A snapshot step: the network as it was then (``trace.network(step)``).
    layer, row, col : int, optional
        Which weight, ``W^layer[row, col]`` (layers counted from 1). By default an
        output-layer weight: from the hidden unit probe digit ``sample`` drives
        hardest to that digit's own output unit.
    sample : int
        The probe digit that picks the default weight.
    """

    def __init__(self, trace, step, layer=None, row=None, col=None, sample=0):
        self.net = trace.network(step)
        self.x = np.asarray(trace.probe_x, dtype=self.net.dtype)  # (n_probe, n_in)
        self.labels = np.asarray(trace.probe_labels)
        self.y = self.net.one_hot(self.labels)  # (n_probe, n_classes)
        L = len(self.net.weighted)
        self.layer = L if layer is None else int(layer)
        if not 1 <= self.layer <= L:
            raise ValueError(f"layer must be 1 to {L}; got {layer!r}")
        W = self.net.weighted[self.layer - 1].W
        if row is None or col is None:
            self.net.forward(self.x[sample : sample + 1])
            below = self.net.weighted[self.layer - 2].a[0] if self.layer > 1 else self.x[sample]
            row = int(self.labels[sample]) if self.layer == L else 0
            col = int(np.argmax(below))
        if not (0 <= row < W.shape[0] and 0 <= col < W.shape[1]):
            raise ValueError(f"W^{self.layer} has {W.shape[0]} rows and {W.shape[1]} columns; got ({row}, {col})")
        self.row, self.col = int(row), int(col)
        self.trained = float(W[self.row, self.col])  # where the run left this weight

    @property
    def name(self):
        return f"W^{self.layer}[{self.row}, {self.col}]"

    def _at(self, w):
        layer = self.net.weighted[self.layer - 1]
        layer.W[self.row, self.col] = w
        a = self.net.forward(self.x)
        return layer, a

    def loss(self, w):
        """The mean loss (with the run's penalty) on the probe digits with this weight at ``w``."""
        try:
            _, a = self._at(w)
            return float(self.net.loss(a, self.y))
        finally:
            self._at(self.trained)

    def gradient(self, w):
        """``dL/dw`` at ``w``: the network's own backward pass, the entry of ``dW`` for this weight."""
        try:
            layer, _ = self._at(w)
            self.net.backward(self.y)
            return float(layer.dW[self.row, self.col])
        finally:
            self._at(self.trained)

    def curve(self, low, high, n=121):
        """``(w, L(w))`` for ``n`` values of the weight from ``low`` to ``high``."""
        ws = np.linspace(low, high, n)
        return ws, np.array([self.loss(w) for w in ws])

    def descend(self, start, lr, steps=10):
        """Plain gradient descent on this one weight, ``w <- w - lr dL/dw``: the weights visited, start first."""
        path = [float(start)]
        for _ in range(int(steps)):
            path.append(path[-1] - lr * self.gradient(path[-1]))
        return np.array(path)
