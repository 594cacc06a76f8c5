"""A trained network, out into the world: an ONNX model, or a web page that reads drawn digits.

- :func:`to_onnx` writes the network as an ONNX graph (``Gemm`` per dense layer, its activation,
  ``Softmax``; a CNN's ``Conv`` and ``MaxPool`` layers before them, :mod:`.onnx_conv`), which
  onnxruntime and other runtimes (phones, browsers) can run;
- :func:`to_html` writes one self-contained page: draw a digit with a finger or a mouse, and the
  network, dense or convolutional, ported to plain JavaScript (:mod:`.network_js`) with the same
  preparation of the drawing as :func:`explainer.prepare_image` (:mod:`.own_image_js`), reads it.

The command line's door is ``explainer export`` (:mod:`explainer.cli.export`).
"""

from .onnx_model import ONNX_OPS, check_exportable, to_onnx
from .web_page import to_html

__all__ = ["to_onnx", "to_html", "check_exportable", "ONNX_OPS"]
