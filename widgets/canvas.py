"""A canvas to draw a digit on with the mouse (or a finger), synced to Python as a PNG.

The drawing happens in the browser (an HTML ``<canvas>``, run by anywidget),
so strokes are smooth however busy the kernel is; when a stroke ends the
canvas sends its picture back as a PNG in :attr:`DrawingCanvas.drawing`, and
the dashboard prepares it like any uploaded picture
(:func:`explainer.data.prepare_image`)::

    canvas = DrawingCanvas()
    canvas.observe(lambda change: print(len(canvas.png or b"")), names="drawing")
"""

import base64

import anywidget
import traitlets

from explainer import colours

from .common import CSS

__all__ = ["DrawingCanvas"]

_PREFIX = "data:image/png;base64,"

_ESM = """
function render({ model, el }) {
  const size = model.get("size");
  const canvas = document.createElement("canvas");
  canvas.width = size;
  canvas.height = size;
  Object.assign(canvas.style, { border: "1px solid __FRAME__", cursor: "crosshair", touchAction: "none",
                                width: size + "px", height: size + "px", background: "__PAPER__" });
  const ctx = canvas.getContext("2d");
  const blank = () => { ctx.fillStyle = "__PAPER__"; ctx.fillRect(0, 0, size, size); };
  const show = () => {
    blank();
    const url = model.get("drawing");
    if (url) { const img = new Image(); img.onload = () => ctx.drawImage(img, 0, 0, size, size); img.src = url; }
  };
  show();
  const at = (e) => {
    const r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * size / r.width, (e.clientY - r.top) * size / r.height];
  };
  let last = null;
  const line = (p, q) => {
    Object.assign(ctx, { strokeStyle: "__INK__", lineWidth: model.get("brush"), lineCap: "round", lineJoin: "round" });
    ctx.beginPath(); ctx.moveTo(p[0], p[1]); ctx.lineTo(q[0], q[1]); ctx.stroke();
  };
  canvas.addEventListener("pointerdown", (e) => {
    last = at(e); canvas.setPointerCapture(e.pointerId); line(last, last);
  });
  canvas.addEventListener("pointermove", (e) => { if (last) { const p = at(e); line(last, p); last = p; } });
  const finish = () => {
    if (!last) return;
    last = null;
    model.set("drawing", canvas.toDataURL("image/png"));
    model.save_changes();
  };
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", finish);
  const clear = document.createElement("button");
  clear.textContent = "clear";
  clear.className = "jupyter-button widget-button explainer-canvas-clear";
  clear.addEventListener("click", () => { blank(); model.set("drawing", ""); model.save_changes(); });
  model.on("change:drawing", () => { if (!last) show(); });
  const box = document.createElement("div");
  Object.assign(box.style, { display: "flex", flexDirection: "column", gap: "4px", alignItems: "flex-start" });
  box.append(canvas, clear);
  el.append(box);
}
export default { render };
"""
# ink on paper, as every digit is drawn (explainer.colours)
_ESM = _ESM.replace("__PAPER__", colours.PAPER).replace("__INK__", colours.INK).replace("__FRAME__", colours.FRAME)


class DrawingCanvas(anywidget.AnyWidget):
    """A square of paper to draw a digit on in ink (:mod:`explainer.colours`: white and black); ``drawing`` is the picture as a PNG data URL ("" = blank)."""

    _esm = _ESM
    drawing = traitlets.Unicode("", help="the picture as 'data:image/png;base64,...', or '' when blank").tag(sync=True)
    size = traitlets.Int(224, help="side of the canvas in pixels").tag(sync=True)
    brush = traitlets.Int(18, help="width of the pen in pixels").tag(sync=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.add_class(CSS["canvas"])

    @property
    def png(self):
        """The drawing's PNG bytes, or None when the canvas is blank."""
        if not self.drawing:
            return None
        if not self.drawing.startswith(_PREFIX):
            raise ValueError("the canvas sent a picture that is not a PNG data URL; clear it and draw again")
        return base64.b64decode(self.drawing[len(_PREFIX) :])

    @png.setter
    def png(self, data):
        """Put a PNG on the canvas (what a test does instead of drawing with a mouse)."""
        self.drawing = _PREFIX + base64.b64encode(bytes(data)).decode("ascii") if data else ""

    def clear(self):
        self.drawing = ""
