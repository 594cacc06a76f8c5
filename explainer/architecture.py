"""A network as a list of layer specs: convolution and pooling layers, then dense ones.

A convolutional network for MNIST is written as the layers between the image
and the dense layers, each a short text, and the dense widths as usual::

    Network([784, 128, 10], layers=["conv 16 5", "pool 2", "conv 32 5", "pool 2"], image_shape=(28, 28))

builds::

    image (28, 28, 1) -> Conv2D 16 5x5 -> (24, 24, 16) -> MaxPool2D -> (12, 12, 16)
                      -> Conv2D 32 5x5 -> (8, 8, 32) -> MaxPool2D -> (4, 4, 32)
                      -> Flatten -> 512 -> Dense 128 -> Dense 10

A spec is ``"conv FILTERS KERNEL"`` (with ``same`` at the end for 'same'
padding) or ``"pool 2"``; a Flatten goes in before the first dense layer by
itself. Every convolution takes the network's hidden activation and
initialiser, like the hidden dense layers. :func:`cnn_layers` writes the
usual pattern (each convolution followed by 2x2 pooling) from the filter
counts, as ``explainer train --conv 16,32 --kernel 5`` does.
"""

import numpy as np

from .conv import PADDINGS, POOL_FIRST, Conv2D, ConvPool
from .flatten import Flatten
from .layers import Dense
from .pool import MaxPool2D

__all__ = ["LAYER_KINDS", "parse_spec", "cnn_layers", "feature_shape", "build_layers", "plan", "image_shape_for"]

# spec word -> how the spec is written, for messages
LAYER_KINDS = {"conv": "conv FILTERS KERNEL", "pool": "pool 2"}


def parse_spec(spec):
    """``"conv 16 5"`` -> ``("conv", 16, 5, "valid")``; ``"pool 2"`` -> ``("pool", 2)``; else a ValueError."""
    words = spec.split() if isinstance(spec, str) else []
    kind = words[0] if words else None
    numbers = [int(w) for w in words[1:3] if w.isascii() and w.isdigit() and int(w) >= 1]
    if kind == "conv" and len(numbers) == 2 and len(words) in (3, 4):
        padding = words[3] if len(words) == 4 else "valid"
        if padding in PADDINGS:
            return ("conv", *numbers, padding)
    if kind == "pool" and words[1:] == ["2"]:
        return ("pool", 2)
    allowed = " or ".join(f"'{v}'" for v in LAYER_KINDS.values())
    raise ValueError(f"a layer spec is {allowed} (add 'same' to a conv for same padding), e.g. 'conv 16 5'; "
                     f"got {spec!r}")


def cnn_layers(conv, kernel, padding="valid"):
    """Each convolution followed by 2x2 pooling: ``cnn_layers((16, 32), 5)`` ->
    ``["conv 16 5", "pool 2", "conv 32 5", "pool 2"]``."""
    same = " same" if padding == "same" else ""
    return [spec for n in conv for spec in (f"conv {n} {kernel}{same}", "pool 2")]


def feature_shape(specs, image_shape):
    """The shape of the maps after ``specs`` over images of ``image_shape`` (h, w, c), without building them:
    a ValueError (the layers' own) if a kernel or a pooling window does not fit."""
    shape = tuple(image_shape)
    for spec in specs:
        kind, *args = parse_spec(spec)
        if kind == "conv":
            n_out, k, padding = args
            pad = k // 2 if padding == "same" else 0
            if (padding == "same" and k % 2 == 0) or min(shape[:2]) + 2 * pad < k:
                Conv2D(shape, n_out, k, "identity", "he", np.random.default_rng(0), np.float32, padding)  # its error
            shape = (shape[0] + 2 * pad - k + 1, shape[1] + 2 * pad - k + 1, n_out)
        else:
            shape = MaxPool2D(shape, *args).out_shape
    return shape


def image_shape_for(n_in, image_shape=None):
    """``(height, width, channels)`` of the input: the given one, or a square one-channel image of ``n_in`` pixels."""
    if image_shape is None:
        side = int(round(np.sqrt(n_in)))
        if side * side != n_in:
            raise ValueError(f"image_shape is needed for {n_in} inputs, which is not a square image; "
                             "give it as (height, width)")
        image_shape = (side, side)
    shape = tuple(int(n) for n in image_shape)
    shape = shape + (1,) if len(shape) == 2 else shape
    if len(shape) != 3 or min(shape) < 1 or int(np.prod(shape)) != n_in:
        raise ValueError(f"image_shape must be (height, width) or (height, width, channels) with {n_in} values in "
                         f"all, as the first size says; got {image_shape!r}")
    return shape


def build_layers(specs, image_shape, sizes, hidden, output, init, rng, dtype):
    """The layers of ``specs`` over images of ``image_shape``, a Flatten, then the dense layers of ``sizes``."""
    layers, shape = [], image_shape
    for spec in specs:
        kind, *args = parse_spec(spec)
        if kind == "conv":
            n_out, k, padding = args
            layers.append(Conv2D(shape, n_out, k, hidden, init, rng, dtype, padding))
        else:
            layers.append(MaxPool2D(shape, *args))
        shape = layers[-1].out_shape
    layers.append(Flatten(shape))
    widths = [layers[-1].n_out, *sizes[1:]]
    activations = [hidden] * (len(widths) - 2) + [output]
    layers += [Dense(n_in, n_out, act, init, rng, dtype) for n_in, n_out, act in zip(widths[:-1], widths[1:], activations)]
    return layers


def plan(layers, fast=True):
    """How the network calls its layers: one by one, except, with ``fast``, a convolution whose
    activation allows it together with the pooling after it (:class:`~explainer.conv.ConvPool`)."""
    steps, i = [], 0
    while i < len(layers):
        layer, after = layers[i], layers[i + 1] if i + 1 < len(layers) else None
        if fast and isinstance(layer, Conv2D) and isinstance(after, MaxPool2D) \
                and layer.activation.name in POOL_FIRST:
            steps.append(ConvPool(layer, after))
            i += 2
        else:
            steps.append(layer)
            i += 1
    return steps
