"""Placeholder: the web page comes next."""

__all__ = ["to_html"]


def to_html(net, path=None, *, description=""):
    raise NotImplementedError("--html is not written yet in this version: use --onnx")

GENERATOR = '<meta name="generator" content="explainer export">'
