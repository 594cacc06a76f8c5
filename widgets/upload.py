"""An upload button for one picture that says which picture is shown, not how many files it holds.

``ipywidgets.FileUpload`` always writes its file count on the button, and a
dashboard that empties it after reading (so that the same file chosen again
is a change too) leaves it reading "upload a picture (0)" just after an
upload. This one (run by anywidget, like the drawing canvas) sends the
chosen file in :attr:`PictureUpload.value`, in FileUpload's format, and
shows ``shown``, the name the dashboard says it is showing::

    upload = PictureUpload()
    upload.observe(lambda change: print(upload.value[0]["name"]) if upload.value else None, names="value")
"""

import anywidget
import traitlets

from .common import CSS

__all__ = ["PictureUpload"]

_ESM = """
function render({ model, el }) {
  const button = document.createElement("button");
  button.className = "jupyter-button widget-button";
  Object.assign(button.style, { width: "auto", maxWidth: "290px" });  // the label grows with the picture's name
  const input = document.createElement("input");
  input.type = "file";
  input.style.display = "none";
  const label = () => {
    input.accept = model.get("accept");
    const shown = model.get("shown");
    button.textContent = "\u2b06 " + model.get("description") + (shown ? " \u00b7 shown: " + shown : "");
  };
  button.addEventListener("click", () => input.click());
  input.addEventListener("click", () => { input.value = ""; });  // the same file chosen again is a change too
  input.addEventListener("change", async () => {
    const file = input.files && input.files[0];
    if (!file) return;
    const content = new DataView(await file.arrayBuffer());
    model.set("value", [{ name: file.name, type: file.type, size: file.size, content }]);
    model.save_changes();
  });
  model.on("change:shown", label);
  model.on("change:description", label);
  label();
  el.append(button, input);
}
export default { render };
"""


class PictureUpload(anywidget.AnyWidget):
    """A button that uploads one picture: ``value`` is ``({"name", "type", "size", "content"},)`` or ``()``."""

    _esm = _ESM
    value = traitlets.Tuple(help="the chosen file, as ipywidgets.FileUpload gives it; () when emptied").tag(sync=True)
    accept = traitlets.Unicode("image/png,image/jpeg,.png,.jpg,.jpeg", help="the file types offered").tag(sync=True)
    description = traitlets.Unicode("upload a picture").tag(sync=True)
    shown = traitlets.Unicode("", help="the name of the picture the dashboard shows; '' for none").tag(sync=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.add_class(CSS["upload"])
