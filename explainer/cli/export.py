"""``explainer export``: a trained network out into the world, as an ONNX model or a web page.

    explainer export --onnx digits.onnx --model model.npz
    explainer export --html digits.html --trace runs/digits.zarr

The network may be dense or convolutional. The ONNX file runs in onnxruntime
(and on phones and in browsers); the page is one self-contained HTML file that
reads a digit drawn with a finger or a mouse, with no network connection, the
network's numbers written into the page.
"""

from pathlib import Path

from ..export import check_exportable, to_html, to_onnx
from ..export.onnx_model import INSTALL_HINT
from ..export.web_page import GENERATOR
from ..outputs import check_file_out
from .predict import add_network_options, load_network

__all__ = ["add_parser"]


def add_parser(subparsers):
    p = subparsers.add_parser(
        "export", help="save a trained network as an ONNX model or as a web page that reads drawn digits",
        description="Save a trained network, dense or convolutional (CNN), for use outside explainer. --onnx writes "
        "an ONNX model (convolutions as Conv, 2x2 pooling as MaxPool, dense layers as Gemm, their activations, "
        "Softmax) that onnxruntime and phone or browser runtimes can run. --html writes one web page, a single file "
        "that needs no internet: draw a digit with your finger or the mouse and the network, running in the page, "
        "shows what it reads and how sure it is of every digit. Open it on your phone.")
    p.add_argument("--onnx", type=Path, metavar="FILE.onnx", help="write the network as an ONNX model to this file")
    p.add_argument("--html", type=Path, metavar="FILE.html",
                   help="write a self-contained web page to this file: draw a digit, see what the network reads")
    add_network_options(p)
    p.add_argument("--force", action="store_true",
                   help="replace a file an earlier `explainer export` wrote there (never any other file)")
    p.set_defaults(func=export_command)


def export_command(args):
    if args.onnx is None and args.html is None:
        raise ValueError("say what to write: --onnx FILE.onnx, --html FILE.html, or both")
    if args.onnx is not None:
        try:
            import onnx  # noqa: F401  (checked first: nothing else is done without it)
        except ImportError:
            raise ValueError(INSTALL_HINT) from None
        check_file_out(args.onnx, "--onnx", overwrite=args.force, kind="network exported to ONNX by explainer",
                       is_kind=_is_our_onnx, example="digits.onnx")
    if args.html is not None:
        check_file_out(args.html, "--html", overwrite=args.force, kind="page written by explainer export",
                       is_kind=_is_our_page, example="digits.html")
    net, shape, described = load_network(args)
    if args.onnx is not None:
        check_exportable(net)
    description = f"explainer network {described}"
    if args.onnx is not None:
        args.onnx.parent.mkdir(parents=True, exist_ok=True)
        to_onnx(net, args.onnx, description=description)
        print(f"wrote {args.onnx}  (input x: (batch, {net.sizes[0]}) pixels prepared like the training images; "
              f"output probabilities: (batch, {net.sizes[-1]}))")
    if args.html is not None:
        args.html.parent.mkdir(parents=True, exist_ok=True)
        to_html(net, args.html, image_shape=shape, description=description)
        print(f"wrote {args.html}  (open it in a browser, or copy it to your phone: it needs no internet)")
    return 0


def _is_our_onnx(path):
    try:
        import onnx

        return onnx.load(str(path), load_external_data=False).producer_name == "explainer"
    except Exception:  # not an ONNX file, unreadable: not one of ours
        return False


def _is_our_page(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return GENERATOR in f.read(4096)
    except OSError:
        return False
