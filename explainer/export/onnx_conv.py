"""A convolutional network's layers before the dense ones, as ONNX nodes.

ONNX's ``Conv`` and ``MaxPool`` work on images held channels first, (batch, channels, height, width);
ours are held channels last, (batch, height, width, channels). So the graph turns the image around
once on the way in and once before the Flatten, and every weight keeps its meaning. For MNIST's
``conv 16 5, pool 2, conv 32 5, pool 2`` the graph is::

    x (batch, 784) -> Reshape (batch, 28, 28, 1) -> Transpose to (batch, 1, 28, 28)
      -> Conv(W1 as (16, 1, 5, 5), b1) -> Relu -> MaxPool 2x2 stride 2      # (batch, 16, 12, 12)
      -> Conv(W3 as (32, 16, 5, 5), b3) -> Relu -> MaxPool 2x2 stride 2     # (batch, 32, 4, 4)
      -> Transpose back to (batch, 4, 4, 32) -> Reshape (batch, 512)        # our Flatten's (h, w, c) order
      -> the dense layers (Gemm, transB=1)

A filter ``W[j]`` is (k, k, c_in) here and (c_in, k, k) in ONNX: ``W.transpose(0, 3, 1, 2)``.
'same' padding frames the maps with ``k // 2`` zeros on each side (``pads``). The network
pools before adding the bias and applying f where that is exact (:class:`explainer.conv.ConvPool`);
the graph does it in the textbook order (Conv with its bias, f, MaxPool), which gives the same values:
adding ``b`` and a rising f never change which of four values is largest. Like torch, MaxPool leaves
out an odd last row or column.
"""

import numpy as np

from ..conv import Conv2D
from ..flatten import Flatten
from ..pool import MaxPool2D

__all__ = ["CONV_LAYERS", "conv_nodes", "describe_layers"]

CONV_LAYERS = (Conv2D, MaxPool2D, Flatten)  # the layers before the dense ones that the graph knows


def conv_nodes(net, ops, helper, numpy_helper):
    """The nodes and weights from ``x`` (batch, n_in) to the Flatten's output, and that output's name.

    ``ops`` is the activation table (our name -> ONNX operator and attributes); ``helper`` and
    ``numpy_helper`` are onnx's. Returns ``(nodes, weights, name, i)``: ``i`` is the number of
    layers done, so that the dense layers after them go on counting from ``i + 1``.
    """
    h, w, c = net.image_shape
    nodes, weights = [], [_ints(numpy_helper, "image_shape", [-1, h, w, c])]
    nodes += [helper.make_node("Reshape", ["x", "image_shape"], ["image_nhwc"], name="image"),  # (batch, H, W, C)
              helper.make_node("Transpose", ["image_nhwc"], ["a0"], name="to_nchw", perm=[0, 3, 1, 2])]
    a = "a0"  # (batch, C, H, W): ONNX's order from here to the Flatten
    for i, layer in enumerate(net.layers, 1):
        if isinstance(layer, Conv2D):
            W, b, z = f"W{i}", f"b{i}", f"z{i}"
            weights += [numpy_helper.from_array(np.ascontiguousarray(layer.W.transpose(0, 3, 1, 2), np.float32), W),
                        numpy_helper.from_array(np.asarray(layer.b, np.float32), b)]  # (n_out, c_in, k, k), (n_out,)
            nodes.append(helper.make_node("Conv", [a, W, b], [z], name=f"conv{i}", kernel_shape=[layer.k] * 2,
                                          strides=[1, 1], pads=[layer.pad] * 4))  # z = W * a + b
            op, attributes = ops[layer.activation.name]
            a = f"a{i}"
            nodes.append(helper.make_node(op, [z], [a], name=f"{layer.activation.name}{i}", **attributes))
        elif isinstance(layer, MaxPool2D):
            nodes.append(helper.make_node("MaxPool", [a], [f"a{i}"], name=f"pool{i}", kernel_shape=[2, 2],
                                          strides=[2, 2]))  # (batch, C, H // 2, W // 2)
            a = f"a{i}"
        else:  # Flatten: back to channels last first, so that the values come in our (h, w, c) order
            weights.append(_ints(numpy_helper, f"flat{i}", [-1, layer.n_out]))
            nodes += [helper.make_node("Transpose", [a], [f"maps{i}"], name=f"to_nhwc{i}", perm=[0, 2, 3, 1]),
                      helper.make_node("Reshape", [f"maps{i}", f"flat{i}"], [f"a{i}"], name=f"flatten{i}")]
            return nodes, weights, f"a{i}", i  # (batch, H * W * C)
    raise AssertionError("a convolutional network ends its maps with a Flatten")


def describe_layers(net, arrow=" → ", space=" "):
    """The layers in words: ``conv 16 5x5 → pool → conv 32 5x5 → pool → 512 → 128 → 10``; a dense
    network's are its sizes, ``64 → 32 → 10``. ``space`` goes between a layer's own words (a web page
    gives a no-break space, so that a line breaks only between layers)."""
    if getattr(net, "specs", None) is None:
        return arrow.join(map(str, net.sizes))
    words = []
    for layer in net.layers:
        if isinstance(layer, Conv2D):
            same = ["same"] if layer.padding == "same" else []
            words.append(space.join(["conv", str(len(layer.W)), f"{layer.k}×{layer.k}", *same]))
        elif isinstance(layer, MaxPool2D):
            words.append("pool")
        elif isinstance(layer, Flatten):
            words.append(str(layer.n_out))
    return arrow.join(words + [str(n) for n in net.sizes[1:]])


def _ints(numpy_helper, name, values):
    return numpy_helper.from_array(np.asarray(values, np.int64), name)
