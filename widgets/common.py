"""What every dashboard shares: the trace argument, PNG images, the error area, the step controls.

::

    image = widgets.Image(value=png_bytes(rgb))  # (height, width[, 3 or 4]) uint8 -> real PNG bytes
    errors = ErrorArea()                         # an HTML box with class "explainer-error"
    errors.show(exc)                             # the message, inside the dashboard; errors.clear()
    play, slider = step_controls(trace.snapshot_steps)
    filters_png(trace.first_layer_filters(s), filter_range(trace))   # the first layer's W as a mosaic of tiles

A dashboard is given its trace as :func:`explainer.trace.open_trace` takes it:
a path, a Trace, or None for the default 8x8 trace.

A dashboard method decorated with :func:`shows_errors` puts any exception it
raises into ``self.errors`` instead of losing it in a log, and the dashboard
keeps working.
"""

import contextlib
import functools
import html
import struct
import zlib

import ipywidgets as widgets
import numpy as np
import traitlets

from explainer import ExplainerError, colours, filter_mosaic, filter_palette
from explainer.trace import TraceError, open_trace

__all__ = [
    "CSS",
    "ErrorArea",
    "TraceDashboard",
    "shows_errors",
    "png_bytes",
    "upscale",
    "filters_png",
    "silent_words",
    "network_words",
    "step_controls",
    "image_widget",
    "hold_sync",
]

# The CSS classes a browser test finds the dashboards' parts by.
CSS = {
    "step_slider": "explainer-step-slider",
    "play": "explainer-play",
    "filters": "explainer-filters",
    "prediction": "explainer-prediction",
    "upload": "explainer-upload",
    "input": "explainer-input",
    "canvas": "explainer-canvas",
    "error": "explainer-error",
    "maps": "explainer-feature-maps",
}

# -- errors shown inside the dashboard -------------------------------------------


class ErrorArea(widgets.HTML):
    """Where a dashboard says what went wrong: hidden while there is nothing to say."""

    def __init__(self, **kwargs):
        super().__init__(value="", **kwargs)
        self._message = ""
        self.add_class(CSS["error"])
        self.layout.display = "none"

    @property
    def message(self):
        """The plain text shown, or "" when hidden."""
        return self._message if self.layout.display != "none" else ""

    def show(self, error):
        """Show an exception (or a string): explainer's own errors by their message, others with their type."""
        if isinstance(error, (ExplainerError, ValueError, TypeError, OSError)) or isinstance(error, str):
            text = str(error)
        else:
            text = f"{type(error).__name__}: {error} (this is a bug in explainer's dashboards; please report it)"
        self._message = text
        box = colours.MESSAGE
        self.value = (f'<div style="color:{box["text"]}; background:{box["background"]}; border:1px solid '
                      f'{box["border"]}; padding:6px 10px; border-radius:4px; white-space:pre-wrap">'
                      f"{html.escape(text)}</div>")
        self.layout.display = None

    def clear(self):
        self._message = ""
        self.value = ""
        self.layout.display = "none"


class TraceDashboard(widgets.VBox):
    """A dashboard over one trace: opens it, or says inside the dashboard why it could not.

    A subclass calls :meth:`_open` from its constructor with the work that needs
    the trace; if that fails (a missing or damaged trace, one with no snapshot
    yet), the dashboard shows the message instead of raising, and stays a widget.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.errors = ErrorArea()
        self.add_class("explainer-dashboard")

    def _open(self, trace, setup):
        """Open ``trace`` (:func:`~explainer.trace.open_trace`) as ``self.trace`` and call ``setup()``;
        return whether both worked."""
        try:
            self.trace = open_trace(trace)
            setup()
        except Exception as error:  # noqa: BLE001 -- a damaged trace is a message in the dashboard
            self.errors.show(error)
            self.children = [widgets.HTML(f"<b>{type(self).__name__}</b> could not open this trace:"), self.errors]
            return False
        return True

    def _snapshot_step(self, step):
        """The snapshot step a chosen ``step`` stands for: the nearest (the reader's rule, as ``--step``'s);
        a TraitError if it is not a step of the run."""
        try:
            return self.trace.check_step(step, "step")
        except TraceError as e:
            raise traitlets.TraitError(str(e)) from None

    @traitlets.validate("step")
    def _valid_step(self, proposal):
        return self._snapshot_step(proposal["value"]) if hasattr(self, "trace") else proposal["value"]

    @traitlets.validate("probe")
    def _valid_probe(self, proposal):
        """A probe digit's index (for the dashboards that follow one), checked by the reader."""
        if not hasattr(self, "trace"):
            return proposal["value"]
        try:
            return self.trace.check_sample(proposal["value"], "probe")
        except TraceError as e:
            raise traitlets.TraitError(str(e)) from None


def shows_errors(method):
    """Run a dashboard method; on an exception show it in ``self.errors`` and carry on (return None)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            result = method(self, *args, **kwargs)
        except Exception as error:  # noqa: BLE001 -- every error belongs in the dashboard, not in a lost log
            self.errors.show(error)
            return None
        self.errors.clear()
        return result

    return wrapper


# -- pictures --------------------------------------------------------------------


def png_bytes(image, palette=None):
    """Encode a uint8 image as PNG bytes: (height, width) grey, (..., 3) RGB, (..., 4) RGBA,
    or (height, width) indices into ``palette`` (n_colours <= 256, 3) uint8.

    Written out here rather than through Pillow because a step change has
    about 50 ms for everything: rows are stored unfiltered and deflated at
    level 1, which is 2-3x faster than Pillow's adaptive filters on these
    pictures (large flat areas) and the files come out no larger.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise TypeError(f"png_bytes needs a uint8 image; got {image.dtype}")
    if image.ndim == 2:
        channels, colour_type = 1, (0 if palette is None else 3)  # grey, or indexed colour
    elif image.ndim == 3 and image.shape[2] in (3, 4) and palette is None:
        channels, colour_type = image.shape[2], {3: 2, 4: 6}[image.shape[2]]  # RGB, RGBA
    else:
        raise ValueError(f"png_bytes takes (height, width) or (height, width, 3 or 4) pixels; got {image.shape}")
    h, w = image.shape[:2]
    rows = np.empty((h, 1 + w * channels), dtype=np.uint8)
    rows[:, 0] = 0  # each row starts with its filter type: 0, none
    pixels = rows[:, 1:]
    pixels.shape = image.shape  # a view: the image is copied once, straight into place
    pixels[...] = image
    chunks = [(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, colour_type, 0, 0, 0))]
    if palette is not None:
        chunks.append((b"PLTE", np.ascontiguousarray(palette, dtype=np.uint8).tobytes()))
    chunks += [(b"IDAT", zlib.compress(rows.tobytes(), 1)), (b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data)) for kind, data in chunks
    )


def upscale(image, factor):
    """Nearest-neighbour enlargement by a whole ``factor``: each pixel becomes a factor x factor block."""
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def network_words(trace):
    """The network in a few words: ``64→128→64→10``; a CNN's ``8×8 → conv 8 3 same → pool 2 → 128→10``."""
    dense = "→".join(map(str, trace.sizes[1:] if trace.is_cnn else trace.sizes))
    if not trace.is_cnn:
        return dense
    h, w = trace.image_shape
    return " → ".join([f"{h}×{w}", *trace.run.specs, dense])


def silent_words(silent, n_shown, n_probe, listed=12):
    """The caption's sentence on the ``silent`` units framed in a filters mosaic of ``n_shown`` tiles ("" if none)."""
    if not len(silent):
        return ""
    why = "a unit that is 0 for every digit gets no gradient and stops learning."
    framed = [int(j) for j in silent if j < n_shown]
    beyond = len(silent) - len(framed)
    if not framed:
        return (f" {beyond} unit{'s' if beyond > 1 else ''} not shown here {'are' if beyond > 1 else 'is'} silent "
                f"(a = 0) for all {n_probe} probe digits; {why}")
    which = f"unit{'s' if len(framed) > 1 else ''} {', '.join(map(str, framed[:listed]))}"
    which += f" and {len(framed) - listed} more" if len(framed) > listed else ""
    which += f" ({beyond} more among the units not shown)" if beyond else ""
    return f" Framed in black: {which}, silent (a = 0) for all {n_probe} probe digits; {why}"


def filters_png(images, vmax, scale=None, cols=None, gap=None, marked=()):
    """PNG bytes (indexed colour) of filters (n, height, width) on ``±vmax``: :func:`explainer.filter_mosaic`,
    in the colours of every picture of the filters."""
    layout = {"gap": gap} if gap is not None else {}
    return png_bytes(filter_mosaic(images, vmax, scale=scale, cols=cols, marked=marked, **layout),
                     palette=filter_palette())


def image_widget(png=b"", css=None, **kwargs):
    """An ``ipywidgets.Image`` holding PNG bytes, with an optional CSS class."""
    kwargs.setdefault("layout", widgets.Layout(align_self="flex-start"))  # its own size: a box would stretch it
    image = widgets.Image(value=png, format="png", **kwargs)
    if css:
        image.add_class(css)
    return image


# -- scrubbing through the snapshots ---------------------------------------------


def step_controls(steps, value=None, interval=250):
    """A play button and a step slider over ``steps`` (the snapshot steps), linked together.

    The slider's ``value`` is the step itself (an int); the play button
    counts snapshots (its ``value`` is the slider's ``index``).
    """
    steps = [int(s) for s in steps]
    if not steps:
        raise ValueError("there is no snapshot to show yet: the trace holds no snapshot step")
    slider = widgets.SelectionSlider(options=[(str(s), s) for s in steps],
                                     value=steps[0] if value is None else int(value),
                                     description="step", continuous_update=True,
                                     layout=widgets.Layout(width="460px"))
    slider.add_class(CSS["step_slider"])
    play = widgets.Play(value=slider.index, min=0, max=len(steps) - 1, interval=interval, description="play")
    play.add_class(CSS["play"])
    widgets.link((play, "value"), (slider, "index"))
    return play, slider


@contextlib.contextmanager
def hold_sync(*views):
    """``hold_sync()`` of several widgets at once: their new values reach the browser together."""
    with contextlib.ExitStack() as stack:
        for view in views:
            stack.enter_context(view.hold_sync())
        yield
