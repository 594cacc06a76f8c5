"""2x2 max-pooling: each window of four values keeps its largest.

For feature maps ``a_prev`` (batch, H, W, C), channels last::

    z = max over each 2x2 window of a_prev   # (batch, H // 2, W // 2, C)
    a = z                                    # pooling has no activation of its own

and going backward, a window's gradient goes to the one value that won::

    grad_a_prev = delta at the winner's place, 0 at the other three   # (batch, H, W, C)

A window with two equal largest values gives the gradient to the first of
them in reading order (top left, top right, bottom left, bottom right), as
torch does. Giving it to every value equal to the maximum would count it two
to four times on MNIST's flat background. An odd last row or column is left
out, as in torch. Pooling has no weights: ``W``, ``b``, ``dW`` and ``db`` are
None.
"""

import numpy as np

from .activations import get_activation

__all__ = ["MaxPool2D", "max_pool", "unpool", "winner_index", "max_of_four", "unpool_four"]


def max_pool(x):
    """The 2x2 maximum of ``x`` (batch, H, W, C) and which value won: ``(m, (right, lower))``.

    In two halves, each over contiguous memory: the maximum of each row's
    pair (``right``: the right one was larger, (batch, H, W // 2, C)), then of
    the window's two rows (``lower``: the lower row's was larger,
    (batch, H // 2, W // 2, C)). Ties stay with the left value and the upper
    row, which is the first in reading order.
    """
    b, h, w, c = x.shape
    h2, w2 = h // 2 * 2, w // 2 * 2
    if (h2, w2) != (h, w):
        x = np.ascontiguousarray(x[:, :h2, :w2, :])  # drop an odd last row or column
    pairs = x.reshape(b, h2, w2 // 2, 2, c)
    left, right_value = pairs[:, :, :, 0, :], pairs[:, :, :, 1, :]  # (batch, H, W // 2, C) each
    right = right_value > left
    rows = np.maximum(left, right_value).reshape(b, h2 // 2, 2, w2 // 2 * c)
    upper, lower_value = rows[:, :, 0, :], rows[:, :, 1, :]  # (batch, H // 2, W // 2 * C) each
    lower = lower_value > upper
    m = np.maximum(upper, lower_value).reshape(b, h2 // 2, w2 // 2, c)  # (batch, H // 2, W // 2, C)
    return m, (right, lower.reshape(m.shape))


def unpool(delta, winner, shape):
    """The gradient of :func:`max_pool`'s input: ``delta`` (batch, H // 2, W // 2, C) put back where it won.

    ``winner`` is the ``(right, lower)`` pair :func:`max_pool` returned; ``shape`` is its input's.
    """
    right, lower = winner
    b, h, w, c = shape
    hp, wp = h // 2, w // 2
    d = delta.reshape(b, hp, wp * c)
    rows = np.empty((b, hp, 2, wp * c), delta.dtype)  # the gradient of each window's two row maxima
    np.multiply(d, ~lower.reshape(b, hp, wp * c), out=rows[:, :, 0, :])
    np.multiply(d, lower.reshape(b, hp, wp * c), out=rows[:, :, 1, :])
    rows = rows.reshape(b, 2 * hp, wp, c)
    pairs = np.empty((b, 2 * hp, wp, 2, c), delta.dtype)  # and of each row's two values
    np.multiply(rows, ~right, out=pairs[:, :, :, 0, :])
    np.multiply(rows, right, out=pairs[:, :, :, 1, :])
    grad = pairs.reshape(b, 2 * hp, 2 * wp, c)
    if (2 * hp, 2 * wp) != (h, w):  # an odd last row or column had no say
        grad = np.pad(grad, ((0, 0), (0, h - 2 * hp), (0, w - 2 * wp), (0, 0)))
    return grad  # (batch, H, W, C)


def winner_index(winner):
    """Which of a window's four values won, 0 to 3 in reading order: (batch, H // 2, W // 2, C)."""
    right, lower = winner
    b, h, wp, c = right.shape
    right_of_row = np.where(lower, right[:, 1::2], right[:, 0::2])  # the winning row's choice
    return (2 * lower + right_of_row).astype(np.uint8)


class MaxPool2D:
    """2x2 max-pooling, stride 2, over feature maps of ``(height, width, channels)``.

    ``MaxPool2D((24, 24, 16))`` takes a 5x5 convolution's 16 maps of an MNIST
    digit down to (12, 12, 16).
    """

    W = b = dW = db = None  # no weights

    def __init__(self, in_shape, size=2):
        if size != 2:
            raise ValueError(f"pooling windows must be 2x2 (size 2); got size {size!r}")
        h, w, c = in_shape
        if h < 2 or w < 2:
            raise ValueError(f"2x2 pooling needs feature maps of at least 2x2; got {h}x{w}")
        self.in_shape, self.size = tuple(in_shape), size
        self.out_shape = (h // 2, w // 2, c)
        self.activation = get_activation("identity")
        self.a_prev = self.z = self.a = self.winner = None  # set by forward
        self.delta = None  # set by backward

    def forward(self, a_prev):
        self.a_prev = a_prev  # (batch, H, W, C)
        self.z, self.winner = max_pool(a_prev)  # (batch, H // 2, W // 2, C)
        self.a = self.z
        return self.a

    def backward(self, grad_a=None, *, delta=None, need_grad_input=True):
        self.delta = grad_a if delta is None else delta  # (batch, H // 2, W // 2, C); a = z, so d/dz = d/da
        return unpool(self.delta, self.winner, self.a_prev.shape) if need_grad_input else None

    def __repr__(self):
        return f"MaxPool2D({self.in_shape} -> {self.out_shape})"


def max_of_four(q):
    """The maximum of four contiguous blocks ``q`` (4, m) and which won (m,), 0 to 3, the first of equal values.

    As :func:`max_pool` does: each row's pair first, then the two rows.
    """
    top, bottom = np.maximum(q[0], q[1]), np.maximum(q[2], q[3])  # (m,) each
    right_top, right_bottom = (q[1] > q[0]).view(np.uint8), (q[3] > q[2]).view(np.uint8)  # ties stay left
    lower = (bottom > top).view(np.uint8)  # ties stay on top
    m = np.maximum(top, bottom, out=top)
    winner = right_bottom + np.uint8(2)  # 2 or 3 if the lower row won ...
    winner -= right_top
    winner *= lower
    winner += right_top  # ... else 0 or 1
    return m, winner


def unpool_four(delta, winner):
    """``delta`` (m,) put back in the block of its winner: (4, m), 0 in the other three."""
    grad = np.empty((4, len(delta)), delta.dtype)
    for k in range(4):
        np.multiply(delta, winner == k, out=grad[k])
    return grad
