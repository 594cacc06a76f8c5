"""A network as an ONNX graph: one ``Gemm`` per dense layer, its activation, ``Softmax`` at the end.

For ``sizes`` [64, 32, 10] with ReLU the graph is::

    x (batch, 64) -> Gemm(W1, b1, transB=1) -> Relu -> Gemm(W2, b2, transB=1) -> Softmax -> probabilities (batch, 10)

``Gemm`` computes ``A @ B.T + C`` when ``transB=1``: with ``A`` the batch and ``B`` our ``W`` of shape
(n_out, n_in) that is exactly ``z = a_prev @ W.T + b`` of :mod:`explainer.layers`, with ``W`` stored as
it is. Activations are looked up in :data:`ONNX_OPS`; one that ONNX has no operator for is refused
before anything is written. The graph is float32 (a float64 network is rounded to it).

A convolutional network's layers before the dense ones (``Conv``, its activation, ``MaxPool``, and the
Flatten in our channels-last order) come from :mod:`~explainer.export.onnx_conv`.

The ``onnx`` package (its helper API writes the protobuf) is needed only here: ``pip install onnx``.
"""

import numpy as np

from ..activations import LEAKY_RELU_SLOPE
from ..layers import Dense
from .onnx_conv import CONV_LAYERS, conv_nodes, describe_layers

__all__ = ["to_onnx", "check_exportable", "ONNX_OPS", "OPSET", "IR_VERSION"]

# our activation -> (ONNX operator, its attributes)
ONNX_OPS = {
    "relu": ("Relu", {}),
    "leaky_relu": ("LeakyRelu", {"alpha": LEAKY_RELU_SLOPE}),
    "sigmoid": ("Sigmoid", {}),
    "tanh": ("Tanh", {}),
    "identity": ("Identity", {}),
    "softmax": ("Softmax", {"axis": 1}),  # over the classes of each row
}
OPSET = 13  # Softmax over one axis (opset 13's meaning); runtimes from 2020 on read it
IR_VERSION = 7  # the file format version that goes with opset 13, so that older runtimes read it too
INSTALL_HINT = "`explainer export --onnx` needs the onnx package: pip install onnx (or make setup-dev)"


def check_exportable(net):
    """Raise ValueError (one line: what cannot be exported and what can) unless every layer of ``net`` is a
    dense, convolution, 2x2 max-pooling or flatten layer and every activation is in :data:`ONNX_OPS`."""
    known = (Dense, *CONV_LAYERS)
    for i, layer in enumerate(net.layers, 1):
        if not isinstance(layer, known):
            raise ValueError(f"layer {i} is {type(layer).__name__}, which has no ONNX form here; exportable: "
                             f"{', '.join(kind.__name__ for kind in known)}")
        name = layer.activation.name
        if name not in ONNX_OPS:
            raise ValueError(f"layer {i}'s activation {name!r} has no ONNX operator here; exportable: "
                             f"{', '.join(ONNX_OPS)}")


def to_onnx(net, path=None, *, description=""):
    """The network ``net`` as an ONNX ``ModelProto``; written to ``path`` when one is given.

    Input ``x``: (batch, n_in) float32, prepared as :func:`explainer.prepare_image` does; output
    ``probabilities``: (batch, n_classes).
    """
    check_exportable(net)
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    nodes, weights, a, done = [], [], "x", 0
    if getattr(net, "specs", None) is not None:  # a CNN: x -> the maps -> the Flatten's vector
        nodes, weights, a, done = conv_nodes(net, ONNX_OPS, helper, numpy_helper)
    for i, layer in enumerate(net.layers[done:], done + 1):
        W, b = f"W{i}", f"b{i}"
        weights += [numpy_helper.from_array(np.asarray(layer.W, np.float32), W),  # (n_out, n_in), as stored
                    numpy_helper.from_array(np.asarray(layer.b, np.float32), b)]  # (n_out,)
        z = f"z{i}"
        nodes.append(helper.make_node("Gemm", [a, W, b], [z], name=f"dense{i}", transB=1))  # z = a W^T + b
        op, attributes = ONNX_OPS[layer.activation.name]
        a = "probabilities" if i == len(net.layers) else f"a{i}"
        nodes.append(helper.make_node(op, [z], [a], name=f"{layer.activation.name}{i}", **attributes))
    n_in, n_out = net.sizes[0], net.sizes[-1]
    graph = helper.make_graph(
        nodes, "explainer_network",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", n_in])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", n_out])],
        initializer=weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="explainer",
                              doc_string=description or f"explainer network {describe_layers(net, ' -> ')}")
    model.ir_version = IR_VERSION
    props = {"sizes": ",".join(map(str, net.sizes)),
             "input": "pixels prepared by explainer.prepare_image, ink 1, paper 0"}
    if getattr(net, "specs", None) is not None:
        props.update(layers=",".join(net.specs), image_shape=",".join(map(str, net.image_shape)))
    helper.set_model_props(model, props)
    onnx.checker.check_model(model)
    if path is not None:
        onnx.save(model, str(path))
    return model
