"""Weight initialisers: how ``W`` is drawn before the first step.

Each takes ``(rng, n_in, n_out, dtype)`` and returns ``W`` of shape
``(n_out, n_in)``: row ``j`` holds the weights into neuron ``j``, so a first-layer
row reshaped to the image's shape *is* that neuron's filter. Biases start at 0.

The scale matters: too small and the signal fades layer by layer, too large and
it explodes. He keeps the variance of ReLU activations steady across layers;
Xavier (Glorot) does the same for tanh and sigmoid.
"""

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .tables import lookup

__all__ = ["Initializer", "INITIALIZERS", "get_initializer", "default_initializer", "NORMAL_STD"]

NORMAL_STD = 0.01


class Initializer(NamedTuple):
    name: str
    draw: Callable
    description: str


def he(rng, n_in, n_out, dtype):
    # W ~ N(0, 2 / n_in)
    return (rng.standard_normal((n_out, n_in)) * np.sqrt(2.0 / n_in)).astype(dtype)


def xavier(rng, n_in, n_out, dtype):
    # W ~ U(-r, r) with r = sqrt(6 / (n_in + n_out)), so Var W = 2 / (n_in + n_out)
    r = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-r, r, size=(n_out, n_in)).astype(dtype)


def normal(rng, n_in, n_out, dtype):
    # W ~ N(0, NORMAL_STD^2), whatever the layer's size
    return (rng.standard_normal((n_out, n_in)) * NORMAL_STD).astype(dtype)


INITIALIZERS = {
    init.name: init
    for init in [
        Initializer("he", he, "N(0, 2/n_in); for relu and leaky_relu"),
        Initializer("xavier", xavier, "U(+-sqrt(6/(n_in+n_out))); for sigmoid, tanh, softmax"),
        Initializer("normal", normal, f"N(0, {NORMAL_STD}^2); small and plain"),
    ]
}

# The initialiser that suits each activation when the user names none.
_DEFAULT_FOR = {"relu": "he", "leaky_relu": "he"}


def default_initializer(activation_name):
    """``"he"`` for ReLU-like activations, ``"xavier"`` for the others."""
    return _DEFAULT_FOR.get(activation_name, "xavier")


def get_initializer(name):
    """Look up an initialiser by name."""
    return name if isinstance(name, Initializer) else lookup(INITIALIZERS, name, "init")
