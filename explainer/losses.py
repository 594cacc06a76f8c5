"""Loss functions, each with its gradient right beneath it.

A loss compares the network's output ``a`` (batch, n_classes) with the one-hot
targets ``y`` (batch, n_classes). Its value is the mean over the batch of the
per-sample losses::

    L = (1 / N) * sum_n loss(a_n, y_n)

Its ``gradient`` is the *per-sample* gradient ``d loss(a_n, y_n) / d a_n``,
without the ``1 / N``: the network's ``delta`` is per sample (as in Nielsen's
book), so a probe digit's ``delta`` does not depend on how many digits were in
the batch. The ``1 / N`` enters once, in ``dW`` and ``db``.

Some pairs of output activation and loss have a much simpler ``delta`` together
than apart. Softmax with cross-entropy gives ``delta = a - y``, which is exact
and avoids dividing by tiny probabilities; those shortcuts live in
``Loss.output_delta``.

Every loss, and every shortcut, carries its formula as LaTeX for the scenes
(:mod:`explainer.formulas`): ``tex`` is one sample's loss, ``gradient_tex`` its
gradient with respect to the output ``a``, and a shortcut's ``tex`` is the
output error ``delta`` it computes.
"""

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .tables import lookup

__all__ = ["Loss", "OutputDelta", "LOSSES", "get_loss", "one_hot"]

# Probabilities are raised to at least EPS before the log: log(0) would be -inf.
EPS = 1e-12


class OutputDelta(NamedTuple):
    """The output error of one output activation with one loss, worked out: ``delta(z, a, y)`` and its LaTeX."""

    delta: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    tex: str  # delta^L, in a^L, z^L and y


class Loss(NamedTuple):
    """A named loss: mean ``value(a, y)``, per-sample ``gradient(a, y)``, and
    ``output_delta``: activation name -> :class:`OutputDelta` shortcuts; with their LaTeX."""

    name: str
    value: Callable[[np.ndarray, np.ndarray], float]
    gradient: Callable[[np.ndarray, np.ndarray], np.ndarray]
    output_delta: dict
    description: str
    tex: str  # one sample's loss, in the output a^L and the one-hot target y
    gradient_tex: str  # d loss / d a, a vector


def cross_entropy(a, y):
    # L = -(1/N) sum_n sum_k y_nk log a_nk
    log_a = np.log(np.maximum(a, EPS))
    return float(-(y * log_a).sum() / len(a))


def cross_entropy_gradient(a, y):
    # d loss_n / d a_nk = -y_nk / a_nk
    return -y / np.maximum(a, EPS)


def softmax_cross_entropy_delta(z, a, y):
    # softmax_backward(-y / a) = a * (-y/a + sum_k y_k) = a - y, since sum_k y_k = 1
    return a - y


def sigmoid_cross_entropy_delta(z, a, y):
    # the chain rule, without dividing by a: (-y / a) * a (1 - a) = -y (1 - a)
    return -y * (1 - a)


def mean_squared_error(a, y):
    # L = (1/N) sum_n 1/2 ||a_n - y_n||^2
    diff = a - y
    return float(0.5 * (diff * diff).sum() / len(a))


def mean_squared_error_gradient(a, y):
    # d loss_n / d a_n = a_n - y_n
    return a - y


LOSSES = {
    loss.name: loss
    for loss in [
        Loss(
            "cross_entropy",
            cross_entropy,
            cross_entropy_gradient,
            {"softmax": OutputDelta(softmax_cross_entropy_delta, r"a^{L} - y"),
             "sigmoid": OutputDelta(sigmoid_cross_entropy_delta, r"-y \odot (1 - a^{L})")},
            "-sum y log a; the natural partner of softmax",
            r"-\sum_k y_k \log a^{L}_k",
            r"-y \oslash a^{L}",
        ),
        Loss(
            "mse",
            mean_squared_error,
            mean_squared_error_gradient,
            {},
            "1/2 ||a - y||^2; learns slowly through a saturated output",
            r"\tfrac{1}{2} \lVert a^{L} - y \rVert^2",
            r"a^{L} - y",
        ),
    ]
}


def get_loss(name):
    """Look up a loss by name (``"cross_entropy"`` or ``"mse"``)."""
    return name if isinstance(name, Loss) else lookup(LOSSES, name, "loss")


def one_hot(labels, n_classes, dtype=np.float32):
    """Turn integer labels into one-hot rows.

    >>> one_hot(np.array([2, 0]), 3)
    array([[0., 0., 1.],
           [1., 0., 0.]], dtype=float32)
    """
    labels = np.asarray(labels)
    y = np.zeros((len(labels), n_classes), dtype=dtype)  # (batch, n_classes)
    y[np.arange(len(labels)), labels] = 1
    return y
