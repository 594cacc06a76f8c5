"""Activation functions, each with its backward step right beneath it.

An activation turns a layer's pre-activation ``z`` into its activation ``a``::

    a = f(z)

Going backward, it turns the gradient of the loss with respect to ``a`` into
the gradient with respect to ``z`` (a vector-Jacobian product)::

    grad_z = grad_a * f'(z)                      # element-wise activations
    grad_z = a * (grad_a - sum(grad_a * a))      # softmax, whose Jacobian is full

Every ``backward`` takes ``(z, a, grad_a)`` so that each one can use whichever of
``z`` and ``a`` gives the simplest derivative (``sigmoid' = a (1 - a)``).
All functions keep the dtype of their input and never overwrite ``z``: the trace
records both ``z`` and ``a``.

Activations are looked up by name in :data:`ACTIVATIONS`; the command line's
choices and the error messages come from that table. Each entry also carries
its formula as LaTeX, which is what the scenes write on screen
(:mod:`explainer.formulas`): ``tex`` is ``f(z)``, ``derivative_tex`` is
``f'(z)``, and ``backward_tex`` is the backward step above in vector form, with
``{g}`` standing for the gradient that arrives (``grad_a``) and ``{l}`` for the
layer.
"""

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .tables import lookup

__all__ = ["Activation", "ACTIVATIONS", "HIDDEN_ACTIVATIONS", "get_activation", "LEAKY_RELU_SLOPE"]

LEAKY_RELU_SLOPE = 0.01


class Activation(NamedTuple):
    """A named activation ``a = forward(z)`` and its ``backward(z, a, grad_a)``, with their LaTeX."""

    name: str
    forward: Callable[[np.ndarray], np.ndarray]
    backward: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    description: str
    tex: str  # f(z), of one unit (softmax: of unit k)
    derivative_tex: str  # f'(z) of one unit, in z or a = f(z) (softmax: the Jacobian's entry d a_k / d z_j)
    backward_tex: str = r"{g} \odot f'(z^{{{l}}})"  # grad_z from grad_a = {g}, in vector form


def identity(z):
    return z.copy()


def identity_backward(z, a, grad_a):
    # d a / d z = 1
    return grad_a


def relu(z):
    return np.maximum(z, 0)


def relu_backward(z, a, grad_a):
    # d a / d z = 1 where z > 0, else 0
    return grad_a * (z > 0)


def leaky_relu(z):
    return np.where(z > 0, z, z * z.dtype.type(LEAKY_RELU_SLOPE))


def leaky_relu_backward(z, a, grad_a):
    # d a / d z = 1 where z > 0, else the slope
    return grad_a * np.where(z > 0, z.dtype.type(1), z.dtype.type(LEAKY_RELU_SLOPE))


def sigmoid(z):
    # 1 / (1 + e^-z), written through tanh so that large |z| never overflows
    return 0.5 * (np.tanh(0.5 * z) + 1)


def sigmoid_backward(z, a, grad_a):
    # d a / d z = a (1 - a)
    return grad_a * a * (1 - a)


def tanh(z):
    return np.tanh(z)


def tanh_backward(z, a, grad_a):
    # d a / d z = 1 - a^2
    return grad_a * (1 - a * a)


def softmax(z):
    # a_k = e^{z_k} / sum_j e^{z_j}, over the class axis; shifting z by its
    # row maximum changes nothing mathematically and keeps e^z from overflowing
    e = np.exp(z - z.max(axis=1, keepdims=True))  # (batch, n_classes)
    return e / e.sum(axis=1, keepdims=True)


def softmax_backward(z, a, grad_a):
    # d a_k / d z_j = a_k (1[k = j] - a_j), so
    # grad_z_j = sum_k grad_a_k a_k (1[k = j] - a_j) = a_j (grad_a_j - sum_k grad_a_k a_k)
    return a * (grad_a - (grad_a * a).sum(axis=1, keepdims=True))


ACTIVATIONS = {
    activation.name: activation
    for activation in [
        Activation("relu", relu, relu_backward, "max(0, z); the default for hidden layers",
                   r"\max(0,\, z)", r"\begin{cases} 1 & z > 0 \\ 0 & z \le 0 \end{cases}"),
        Activation(
            "leaky_relu",
            leaky_relu,
            leaky_relu_backward,
            f"z if z > 0 else {LEAKY_RELU_SLOPE} z; never quite dead",
            rf"\begin{{cases}} z & z > 0 \\ {LEAKY_RELU_SLOPE:g}\, z & z \le 0 \end{{cases}}",
            rf"\begin{{cases}} 1 & z > 0 \\ {LEAKY_RELU_SLOPE:g} & z \le 0 \end{{cases}}",
        ),
        Activation("sigmoid", sigmoid, sigmoid_backward, "1 / (1 + e^-z); shows vanishing gradients",
                   r"\frac{1}{1 + e^{-z}}", r"a\,(1 - a)"),
        Activation("tanh", tanh, tanh_backward, "tanh(z); zero-centred sigmoid", r"\tanh z", r"1 - a^2"),
        Activation("identity", identity, identity_backward, "z unchanged; a linear layer", "z", "1"),
        Activation("softmax", softmax, softmax_backward, "e^z / sum e^z; class probabilities",
                   r"\frac{e^{z_k}}{\sum_j e^{z_j}}", r"a_k\,(\mathbb{1}[k = j] - a_j)",
                   r"a^{{{l}}} \odot \left({g} - \left(a^{{{l}}}\right)^{{\mathsf T}} {g}\right)"),
    ]
}

# The activations a hidden layer can have (softmax belongs to the output): the
# choices of `explainer train --activation` and of the live-training dashboard.
HIDDEN_ACTIVATIONS = tuple(name for name in ACTIVATIONS if name != "softmax")


def get_activation(name):
    """Look up an activation by name.

    >>> get_activation("relu").forward(np.array([[-1.0, 2.0]]))
    array([[0., 2.]])
    """
    return name if isinstance(name, Activation) else lookup(ACTIVATIONS, name, "activation")
