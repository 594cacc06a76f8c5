"""``explainer predict``: read your own digit pictures with a trained network.

Each picture is prepared exactly as the training images were
(:func:`explainer.prepare_image`: cropped to the ink, fitted and centred like
MNIST, or drawn into 8x8 blocks like the scikit-learn digits), shown in the
terminal as the network sees it, and read::

    $ explainer predict my_seven.png --model model.npz      # an 8x8 network
    network: model.npz (8x8 inputs)

    my_seven.png: 7 (91%)
      ▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁
        ▓▓████████▓▓
                ██▒▒
              ▒▒██       1. 7   90.6%  ██████████████████
              ▓▓▓▓       2. 3    9.1%  ██
              ██▒▒       3. 2    0.3%
            ▒▒██
            ██▒▒
          ░░██
      ▔▔▔▔▔▔▔▔▔▔▔▔▔▔▔▔

A picture that is not a digit (a dot, noise, a photo) is refused with the
reason, and a digit the network reads with less than ``UNSURE_BELOW``
confidence is reported as "not sure". The rules live in
:mod:`explainer.data.own_image`, so the dashboards follow them too.

``--model``/``--trace``/``--step`` (:func:`add_network_options`,
:func:`load_network`) are shared with ``explainer export``.
"""

import json
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

from ..colours import digit_rgb
from ..data import UNSURE_BELOW, is_unsure, prepare_image
from ..errors import DataError
from ..network import Network
from ..outputs import check_file_out, check_folder_out
from ..trace import open_trace

__all__ = ["add_parser", "add_network_options", "load_network", "terminal_picture", "PICTURE_SUFFIXES"]

PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
TOP = 3  # the likeliest digits shown
SHOWN_SIDE = 224  # pixels a side of a prepared picture saved with --show
_MADE_BY = "explainer predict"  # written into every PNG --show saves, so that --force replaces only those
_INPUT_SHAPES = {64: (8, 8), 784: (28, 28)}  # a dense network's number of inputs -> the pictures it reads


def add_parser(subparsers):
    p = subparsers.add_parser(
        "predict", help="read your own digit pictures with a trained network",
        description="Read pictures of handwritten digits (PNG, JPEG, ...; any size, dark on light or light on "
        "dark) with a network you trained. Each picture is prepared the way the training images were, shown as "
        "the network sees it, and given the three likeliest digits. Pictures that are not digits (a dot, noise, "
        f"a photo) are refused with the reason; below {UNSURE_BELOW:.0%} confidence the answer is 'not sure'.")
    p.add_argument("images", nargs="+", type=Path, metavar="IMAGE",
                   help="picture files, or folders: every picture in a folder is read")
    add_network_options(p)
    p.add_argument("--json", action="store_true",
                   help="print the results as one JSON object instead (for scripts)")
    p.add_argument("--show", type=Path, metavar="DIR",
                   help="also save each prepared input, as the network sees it, as a PNG in this folder "
                   "(made if missing): NAME-28x28.png (or -8x8)")
    p.add_argument("--force", action="store_true",
                   help="replace pictures an earlier `explainer predict --show` saved (never other files)")
    p.set_defaults(func=predict_command)


def add_network_options(p):
    """``--model FILE | --trace TRACE`` and ``--step N``: which network to use."""
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", type=Path, metavar="FILE.npz",
                       help="a network saved by `explainer train --save FILE.npz`")
    which.add_argument("--trace", metavar="TRACE",
                       help="a recorded run (`explainer train --out TRACE`), or 'default' for the default 8x8 run")
    p.add_argument("--step", type=int, metavar="N",
                   help="with --trace: the network as it was at this training step (the nearest snapshot; "
                   "default: the last, the trained network)")


def load_network(args):
    """``(net, image_shape, described)`` from ``--model`` or ``--trace``/``--step``; checks the choice."""
    if args.model is not None:
        if args.step is not None:
            raise ValueError("--step goes with --trace (a saved --model has one set of weights); drop --step")
        if not args.model.is_file():
            raise FileNotFoundError(f"--model {args.model}: no such file; save a network with "
                                    "`explainer train --save model.npz`")
        net = Network.load(args.model)
        described = str(args.model)
    else:
        trace = open_trace(args.trace)
        step = trace.check_step(args.step if args.step is not None else max(trace.n_steps - 1, 0), "--step")
        net = trace.network(step)
        described = f"{trace.path} at step {step}"
    return net, _image_shape(net), described


def _image_shape(net):
    shape = getattr(net, "image_shape", None)  # a convolutional network knows its input
    if shape is not None:
        shape = tuple(shape)[:2]
    else:
        shape = _INPUT_SHAPES.get(net.sizes[0])
    if shape not in ((8, 8), (28, 28)):
        raise ValueError(f"this network takes {net.sizes[0]} inputs; pictures are prepared for networks of 64 "
                         "(8x8 digits) or 784 (28x28 MNIST) inputs: train one with `explainer train`")
    return shape


def predict_command(args):
    pictures = _pictures(args.images)
    if args.show:
        check_folder_out(args.show, "--show")  # before the network is loaded (the default trace may be built)
    net, shape, described = load_network(args)
    shown = _show_paths(pictures, shape, args.show, args.force) if args.show else {}
    results = [_read(picture, net, shape) for picture in pictures]
    for result, x in results:
        if x is not None and result["image"] in shown:
            _save_prepared(x.reshape(shape), shown[result["image"]])
    if args.json:
        print(json.dumps({"network": described, "image_shape": list(shape), "unsure_below": UNSURE_BELOW,
                          "pictures": [result for result, _ in results]}))
    else:
        print(f"network: {described} ({shape[0]}x{shape[1]} inputs)\n")
        for result, x in results:
            print(_report(result, x, shape))
    refused = sum(result["refused"] is not None for result, _ in results)
    return 1 if refused else 0


def _pictures(sources):
    """The picture files named, with folders opened (their pictures, sorted by name); checked to exist."""
    pictures = []
    for source in sources:
        if source.is_dir():
            inside = sorted(p for p in source.iterdir() if p.is_file() and p.suffix.lower() in PICTURE_SUFFIXES)
            if not inside:
                raise FileNotFoundError(f"{source} holds no picture ({', '.join(PICTURE_SUFFIXES)}): name picture "
                                        "files or a folder of them")
            pictures += inside
        elif source.is_file():
            pictures.append(source)
        else:
            raise FileNotFoundError(f"{source}: no such file or folder; name pictures of digits (PNG, JPEG) or a "
                                    "folder of them")
    return pictures


def _read(picture, net, shape):
    """``(result, x)``: the JSON-able reading of one picture and its prepared input (None if refused)."""
    result = {"image": str(picture), "refused": None, "digit": None, "unsure": None, "top": []}
    try:
        x = prepare_image(picture, shape)  # (h * w,)
    except DataError as e:
        result["refused"] = str(e)
        return result, None
    p = net.predict_proba(x[None])[0]  # (10,)
    order = np.argsort(p)[::-1][:TOP]
    result["top"] = [{"digit": int(k), "probability": float(p[k])} for k in order]
    result["unsure"] = is_unsure(p)
    result["digit"] = None if result["unsure"] else int(order[0])
    return result, x


def _report(result, x, shape):
    """The lines printed for one picture: a heading, then its prepared input beside the likeliest digits."""
    name = result["image"]
    if result["refused"] is not None:
        return f"{name}: refused: {result['refused']}\n"
    top = result["top"]
    best = top[0]
    heading = (f"{name}: not sure (likeliest {best['digit']}, {best['probability']:.0%}; under "
               f"{UNSURE_BELOW:.0%} is not sure)" if result["unsure"] else
               f"{name}: {best['digit']} ({best['probability']:.0%})")
    right = [f"{i}. {t['digit']}  {t['probability']:6.1%}  {'█' * round(20 * t['probability'])}"
             for i, t in enumerate(top, 1)]
    left = terminal_picture(x.reshape(shape), scale=2 if shape == (8, 8) else 1)
    start = max(0, (len(left) - len(right)) // 2)  # the digits beside the middle of the picture
    beside = [""] * start + right + [""] * max(0, len(left) - start - len(right))
    lines = [f"  {row}   {text}".rstrip() for row, text in zip(left, beside)]
    return "\n".join([heading, *lines]) + "\n"


def terminal_picture(image, scale=1, level=0.5):
    """A picture (h, w) in [0, 1], ink 1, as lines of text framed by ``▁``/``▔``.

    At ``scale`` 1 each line holds two pixel rows as Unicode half blocks (``▀▄█``), ink where a pixel
    is at least ``level``: a 28x28 input is 28 characters by 14 lines. At ``scale`` 2 and more each
    pixel is ``scale`` characters of one line shaded by its ink (`` ░▒▓█``): an 8x8 input, whose
    pixels are counts of sixteenths, keeps its grey levels.
    """
    image = np.asarray(image)
    if scale >= 2:
        shades = np.array(list(" ░▒▓█"))[np.clip(np.round(image * 4), 0, 4).astype(int)]  # (h, w)
        rows = ["".join(np.repeat(row, scale)) for row in shades]
        width = image.shape[1] * scale
    else:
        ink = image >= level  # (h, w)
        if len(ink) % 2:
            ink = np.vstack([ink, np.zeros((1, ink.shape[1]), bool)])
        glyphs = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}
        rows = ["".join(glyphs[top, bottom] for top, bottom in zip(upper, lower))
                for upper, lower in zip(ink[::2], ink[1::2])]
        width = ink.shape[1]
    return ["▁" * width, *rows, "▔" * width]


def _show_paths(pictures, shape, folder, force):
    """Where each prepared input is saved: ``{str(picture): path}``, every path checked before any work."""
    paths, taken = {}, set()
    for i, picture in enumerate(pictures):
        name = f"{picture.stem}-{shape[0]}x{shape[1]}.png"
        if name in taken:  # two pictures of the same name in different folders, or seven.png and seven.jpg
            name = f"{picture.stem}-{i + 1}-{shape[0]}x{shape[1]}.png"
        taken.add(name)
        paths[str(picture)] = check_file_out(folder / name, "--show", overwrite=force,
                                             kind="picture saved by explainer predict", is_kind=_made_here,
                                             example=name)
    return paths


def _save_prepared(image, path):
    """The prepared input ``image`` (h, w) as a PNG of about SHOWN_SIDE pixels a side, dark ink on paper."""
    factor = max(1, SHOWN_SIDE // image.shape[0])
    rgb = np.repeat(np.repeat(digit_rgb(image), factor, axis=0), factor, axis=1)  # (H, W, 3)
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", _MADE_BY)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(path, pnginfo=info)


def _made_here(path):
    try:
        with Image.open(path) as image:
            return image.format == "PNG" and image.info.get("Software") == _MADE_BY
    except Exception:  # not a picture, unreadable: not one of ours
        return False
