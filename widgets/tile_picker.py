"""A mosaic of filter tiles that says which tile was clicked.

An ``ipywidgets.Image`` shows a PNG but not where it was clicked; this one
(run by anywidget, like the drawing canvas) shows the same PNG and sets
:attr:`TilePicker.picked` to the clicked tile's index, from the mosaic's
layout (:func:`explainer.tile_origin`: ``gap`` pixels around tiles of
``tile_width`` x ``tile_height`` in ``cols`` columns)::

    picker = TilePicker()
    picker.show(png_bytes, n=64, shape=(8, 8), scale=5, cols=8, first=0)
    picker.observe(lambda change: print(change.new), names="picked")
"""

import base64

import anywidget
import traitlets

from .common import CSS

__all__ = ["TilePicker", "tile_at"]

_ESM = """
function render({ model, el }) {
  const img = document.createElement("img");
  Object.assign(img.style, { cursor: "pointer", imageRendering: "pixelated", display: "block" });
  img.title = "click a tile to see it large";
  const show = () => { img.src = model.get("src"); };
  show();
  model.on("change:src", show);
  img.addEventListener("click", (e) => {
    const r = img.getBoundingClientRect();
    const x = (e.clientX - r.left) * img.naturalWidth / r.width;
    const y = (e.clientY - r.top) * img.naturalHeight / r.height;
    const gap = model.get("gap"), w = model.get("tile_width"), h = model.get("tile_height");
    const col = Math.floor((x - gap / 2) / (w + gap)), row = Math.floor((y - gap / 2) / (h + gap));
    const j = row * model.get("cols") + col;
    if (col < 0 || col >= model.get("cols") || row < 0 || j >= model.get("count")) return;
    model.set("picked", model.get("first") + j);
    model.save_changes();
  });
  el.append(img);
}
export default { render };
"""


def tile_at(x, y, gap, tile_width, tile_height, cols, count):
    """The tile under mosaic pixel ``(x, y)``, or None: the rule the browser applies to a click.

    Each tile owns its pixels and half the gap around them.

    >>> tile_at(3, 3, 2, 40, 40, 8, 64), tile_at(44, 3, 2, 40, 40, 8, 64), tile_at(3, 44, 2, 40, 40, 8, 64)
    (0, 1, 8)
    """
    col, row = int((x - gap / 2) // (tile_width + gap)), int((y - gap / 2) // (tile_height + gap))
    j = row * cols + col
    return j if 0 <= col < cols and row >= 0 and j < count else None


class TilePicker(anywidget.AnyWidget):
    """A filters mosaic (PNG) in which a click on tile ``j`` sets ``picked`` to ``first + j``."""

    _esm = _ESM
    format = "png"  # what ``value`` holds, as an ``ipywidgets.Image`` says
    src = traitlets.Unicode("", help="the mosaic as a PNG data URL").tag(sync=True)
    gap = traitlets.Int(2, help="pixels of gap around each tile").tag(sync=True)
    tile_width = traitlets.Int(0).tag(sync=True)
    tile_height = traitlets.Int(0).tag(sync=True)
    cols = traitlets.Int(1).tag(sync=True)
    count = traitlets.Int(0, help="tiles in the mosaic").tag(sync=True)
    first = traitlets.Int(0, help="the unit of the mosaic's first tile (a page of a larger layer)").tag(sync=True)
    picked = traitlets.Int(-1, help="the unit of the tile clicked last; -1 before any click").tag(sync=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.add_class(CSS["filters"])

    @property
    def value(self):
        """The mosaic's PNG bytes (as an ``ipywidgets.Image``'s ``value``)."""
        return base64.b64decode(self.src.split(",", 1)[1]) if self.src else b""

    def show(self, png, *, count, shape, scale, cols, first=0, gap=2):
        """Show ``png``: ``count`` tiles of ``shape`` (height, width) at ``scale``, in ``cols`` columns."""
        with self.hold_sync():
            self.gap, self.cols, self.count, self.first = gap, cols, count, first
            self.tile_height, self.tile_width = shape[0] * scale, shape[1] * scale
            self.src = "data:image/png;base64," + base64.b64encode(bytes(png)).decode("ascii")
