"""Flatten: feature maps laid out as one vector per image, for the dense layers above.

::

    z = a = a_prev.reshape(batch, -1)     # (batch, H * W * C), row-major: (h, w, c)
    grad_a_prev = grad_a.reshape(batch, H, W, C)

Nothing is computed; the values are the same, only arranged in one row. The
order is row-major over (height, width, channel), so the dense layer above
has ``W`` of shape (n_out, H * W * C) and ``W[j].reshape(H, W, C)`` is what
neuron ``j`` looks for in the maps. (torch flattens (channel, height, width).)
Flatten has no weights: ``W``, ``b``, ``dW`` and ``db`` are None.
"""

from .activations import get_activation

__all__ = ["Flatten"]


class Flatten:
    """Maps of ``in_shape`` (height, width, channels) as vectors of height * width * channels."""

    W = b = dW = db = None  # no weights

    def __init__(self, in_shape):
        self.in_shape = tuple(in_shape)
        self.n_out = 1
        for n in self.in_shape:
            self.n_out *= n
        self.activation = get_activation("identity")
        self.a_prev = self.z = self.a = None  # set by forward
        self.delta = None  # set by backward

    def forward(self, a_prev):
        self.a_prev = a_prev  # (batch, H, W, C)
        self.z = self.a = a_prev.reshape(len(a_prev), self.n_out)  # (batch, H * W * C)
        return self.a

    def backward(self, grad_a=None, *, delta=None, need_grad_input=True):
        self.delta = grad_a if delta is None else delta  # (batch, H * W * C)
        return self.delta.reshape(len(self.delta), *self.in_shape) if need_grad_input else None  # (batch, H, W, C)

    def __repr__(self):
        return f"Flatten({self.in_shape} -> {self.n_out})"
