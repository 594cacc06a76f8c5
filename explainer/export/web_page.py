"""One self-contained web page that reads a digit drawn with a finger or a mouse.

Everything is in the one HTML file: the network's weights (float32, base64), the JavaScript that
prepares the drawing exactly as :func:`explainer.prepare_image` does
(:mod:`~explainer.export.own_image_js`), the JavaScript that runs the network, dense or convolutional
(:mod:`~explainer.export.network_js`), the drawing pad's (:mod:`~explainer.export.page_script`), the
styles. It needs no server and no internet: open it from a folder, or copy it to a phone. The
drawing pad is 280x280 pixels whatever its size on screen, and the page shows the input the network
sees, its answer (or why the drawing is not a digit, or "not sure", by own_image's rules and
numbers) and a bar for each digit's probability.

    to_html(net, "digits.html", image_shape=(28, 28))
"""

import html
import json

from .. import colours
from ..activations import LEAKY_RELU_SLOPE
from ..data import own_image
from ..data.digits import DIGITS_MAX_VALUE
from .network_js import NETWORK_JS, network_layers
from .onnx_conv import describe_layers
from .onnx_model import check_exportable
from .own_image_js import PREPARE_JS
from .page_script import PAGE_JS

__all__ = ["to_html", "GENERATOR", "PAD_SIDE"]

GENERATOR = '<meta name="generator" content="explainer export">'  # how `export --force` knows its own pages
PAD_SIDE = 280  # pixels a side of the drawing pad (10 per MNIST pixel)
_CONSTANTS = ("MIN_SIDE", "MAX_SIDE", "MIN_CONTRAST", "INK_LEVEL", "MAX_INK_SHARE", "MIN_INK_PIXELS", "MIN_EXTENT",
              "MAX_WIDTH_RATIO", "MIN_CONNECTED", "MAX_PAPER_TEXTURE", "MAX_THICKNESS", "UNSURE_BELOW", "MAX_SLANT",
              "SLANT_STEPS")


def to_html(net, path=None, *, image_shape, description=""):
    """The page as a string, written to ``path`` (UTF-8) when one is given.

    ``net`` is a dense or a convolutional network (as for ONNX: the page's JavaScript knows the same layers
    and activations);
    ``image_shape`` is (28, 28) or (8, 8), the inputs it was trained on.
    """
    check_exportable(net)
    shape = tuple(int(n) for n in image_shape)
    if shape not in ((28, 28), (8, 8)) or shape[0] * shape[1] != net.sizes[0]:
        raise ValueError(f"image_shape must be (28, 28) or (8, 8) and match the network's {net.sizes[0]} inputs; "
                         f"got {image_shape!r}")
    constants = {name: getattr(own_image, name) for name in _CONSTANTS}
    constants.update(DIGITS_BOX=list(own_image.DIGITS_BOX), DIGITS_MAX_VALUE=DIGITS_MAX_VALUE,
                     LEAKY_RELU_SLOPE=LEAKY_RELU_SLOPE, image_shape=list(shape))
    network = {
        "sizes": list(net.sizes),
        "constants": constants,
        "layers": network_layers(net),
    }
    arrow = describe_layers(net, space="\u00a0")  # a line breaks between layers, never inside one
    data = "MNIST's 28×28 digits" if shape == (28, 28) else "scikit-learn's 8×8 digits"
    page = _TEMPLATE.format(
        generator=GENERATOR,
        css=_css(),
        description=html.escape(description or f"explainer network {arrow}"),
        arrow=arrow, data=data, side=PAD_SIDE, h=shape[0], w=shape[1],
        bars="".join(f'<li><span class="label">{k}</span><span class="bar"><span class="fill"></span></span>'
                     f'<span class="pct"></span></li>' for k in range(net.sizes[-1])),
        network=json.dumps(network).replace("</", "<\\/"),
        script=PREPARE_JS + NETWORK_JS + PAGE_JS,
    )
    if path is not None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(page)
    return page


def _css():
    """The page's colours as CSS custom properties, all from :mod:`explainer.colours`: the pages' palette, the
    muted text, right (the answer) and wrong-orange ("not sure"), and the pad's paper and the pen's ink, which
    are the digits' own (what the preparation reads)."""
    extra = {"muted": colours.PAGE["label"], "accent": colours.RIGHT, "unsure": colours.WRONG,
             "pad-paper": colours.PAPER, "pen": colours.INK}
    return colours.page_css().strip() + " :root { " + " ".join(f"--{k}: {v};" for k, v in extra.items()) + " }"


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{generator}
<meta name="description" content="{description}">
<title>Draw a digit</title>
<style>
  {css}
  * {{ box-sizing: border-box; }}
  body {{ margin: 0; font: 16px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
         background: var(--backdrop); }}
  main {{ max-width: 760px; margin: 0 auto; padding: 12px; display: flex; flex-wrap: wrap; gap: 16px;
         justify-content: center; }}
  header {{ width: 100%; }}
  h1 {{ font-size: 22px; margin: 0; }}
  header p {{ margin: 2px 0 0; color: var(--muted); font-size: 13px; }}
  .pad {{ flex: 0 1 340px; display: flex; flex-direction: column; gap: 8px; }}
  #pad {{ width: 100%; aspect-ratio: 1; background: var(--paper); border: 2px solid var(--line); border-radius: 10px;
         touch-action: none; cursor: crosshair; display: block; }}
  button {{ font: inherit; padding: 8px 16px; border-radius: 8px; border: 1px solid var(--line); background: var(--paper); }}
  .result {{ flex: 1 1 300px; max-width: 360px; display: flex; flex-direction: column; gap: 8px; }}
  .answer {{ display: flex; align-items: center; gap: 12px; }}
  .seen {{ display: flex; flex-direction: column; align-items: center; font-size: 11px; color: var(--muted); }}
  #seen {{ width: 56px; height: 56px; image-rendering: pixelated; border: 1px solid var(--line); background: var(--paper); }}
  #digit {{ font-size: 48px; font-weight: 700; width: 1.2em; text-align: center; color: var(--accent); }}
  #digit.unsure {{ color: var(--unsure); }}
  #verdict {{ flex: 1; font-size: 15px; }}
  #bars {{ list-style: none; margin: 0; padding: 0; display: grid; gap: 3px; }}
  #bars[hidden] {{ display: none; }}
  #bars li {{ display: grid; grid-template-columns: 1.2em 1fr 3.6em; align-items: center; gap: 6px;
             font-size: 14px; font-variant-numeric: tabular-nums; }}
  .bar {{ height: 14px; background: var(--track); border-radius: 4px; overflow: hidden; }}
  .fill {{ display: block; height: 100%; width: 0; background: var(--fill); }}
  #bars li.best .fill {{ background: var(--accent); }}
  #bars li.best .label {{ font-weight: 700; }}
  .pct {{ text-align: right; color: var(--muted); }}
</style>
</head>
<body>
<main>
  <header>
    <h1>Draw a digit</h1>
    <p>A network trained on {data} ({arrow}) runs in this page: no internet needed.</p>
  </header>
  <div class="pad">
    <canvas id="pad" width="{side}" height="{side}" aria-label="drawing pad: draw one digit"></canvas>
    <button id="clear" type="button">Clear</button>
  </div>
  <section class="result" aria-live="polite">
    <div class="answer">
      <div class="seen"><canvas id="seen" width="{w}" height="{h}"></canvas>what it sees</div>
      <div id="digit">?</div>
      <div id="verdict"></div>
    </div>
    <ol id="bars">{bars}</ol>
  </section>
</main>
<script type="application/json" id="network">{network}</script>
<script>
{script}
</script>
</body>
</html>
"""
