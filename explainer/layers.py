"""The dense layer: one matrix multiply, one bias, one activation.

On the slides one sample is a column vector: ``z = W a + b``, and going
backward ``grad_a_prev = W^T delta``, ``dW = delta a_prev^T``. The code holds a
batch as rows, one sample per row, so each formula is written transposed, for
all the samples at once. For a batch of inputs ``a_prev`` (batch, n_in)::

    z = a_prev @ W.T + b      # (batch, n_out)   row n: z = W a + b of sample n
    a = f(z)                  # (batch, n_out)

and, going backward from ``delta = d loss_n / d z`` (per sample)::

    dW = delta.T @ a_prev / N # (n_out, n_in)    the mean of delta_n a_n^T over the batch
    db = mean of delta        # (n_out,)
    grad_a_prev = delta @ W   # (batch, n_in)    row n: W^T delta of sample n, for the layer below

``W`` has shape (n_out, n_in) as in the formula ``z = W a + b``: row ``j`` holds
neuron ``j``'s incoming weights, so in the first layer ``W[j].reshape(8, 8)`` is
that neuron's filter.

A layer keeps every intermediate value of its last forward and backward pass
(``a_prev``, ``z``, ``a``, ``delta``, ``dW``, ``db``): that is what the trace
recorder reads, and what the lecture shows.
"""

import numpy as np

from .activations import get_activation
from .initializers import get_initializer

__all__ = ["Dense"]


class Dense:
    """A fully connected layer ``a = f(W a_prev + b)``.

    Parameters
    ----------
    n_in, n_out : int
        Number of inputs and of neurons. ``Dense(64, 32)`` maps an 8x8 image
        (64 pixels) to 32 hidden units.
    activation : str
        A name from :data:`explainer.activations.ACTIVATIONS`.
    init : str
        A name from :data:`explainer.initializers.INITIALIZERS`.
    rng : numpy.random.Generator
        Where the initial weights come from.
    dtype : numpy dtype
        ``float32`` (fast) or ``float64`` (for gradient checks).
    """

    def __init__(self, n_in, n_out, activation, init, rng, dtype=np.float32):
        self.activation = get_activation(activation)
        self.init = get_initializer(init)
        self.W = self.init.draw(rng, n_in, n_out, dtype)  # (n_out, n_in)
        self.b = np.zeros(n_out, dtype=dtype)  # (n_out,)
        self.a_prev = self.z = self.a = None  # set by forward
        self.delta = self.dW = self.db = None  # set by backward

    @property
    def shape(self):
        """``(n_out, n_in)``, the shape of ``W``."""
        return self.W.shape

    def forward(self, a_prev):
        self.a_prev = a_prev  # (batch, n_in)
        self.z = a_prev @ self.W.T  # (batch, n_out)
        self.z += self.b
        self.a = self.activation.forward(self.z)  # (batch, n_out)
        return self.a

    def backward(self, grad_a=None, *, delta=None, need_grad_input=True):
        """Back-propagate through this layer.

        Give either ``grad_a`` (d loss_n / d a, per sample) or ``delta``
        (d loss_n / d z, when the loss supplied it directly). Returns
        ``grad_a_prev = delta @ W`` (``W^T delta`` of each sample) for the layer below, or None when
        ``need_grad_input`` is False (the first layer has no layer below).
        """
        if delta is None:
            delta = self.activation.backward(self.z, self.a, grad_a)
        self.delta = delta  # (batch, n_out)
        scale = self.W.dtype.type(1 / len(delta))
        self.dW = delta.T @ self.a_prev  # (n_out, n_in)
        self.dW *= scale
        self.db = delta.sum(axis=0)  # (n_out,)
        self.db *= scale
        return delta @ self.W if need_grad_input else None  # (batch, n_in)

    def __repr__(self):
        n_out, n_in = self.W.shape
        return f"Dense({n_in}, {n_out}, activation={self.activation.name!r}, init={self.init.name!r})"
