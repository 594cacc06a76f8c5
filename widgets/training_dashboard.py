"""TrainingDashboard: scrub through a recorded run and watch it learn.

Everything that depends on the step is read and summarised once, when the
dashboard opens (weights, gradients, their histograms); moving the slider
only indexes those arrays, recolours the filters and redraws a cursor and
the histogram bars over figures that were drawn once (:mod:`explainer.widgets.blit`).

The layout fits a laptop screen (1366x768): the curves and the histograms
share a tabbed panel, the filters show at most ``PAGE`` tiles at a time (a
page of a larger layer, with buttons to turn), and a click on a tile shows
its unit large beside them (:mod:`explainer.widgets.unit_view`).
"""

import ipywidgets as widgets
import numpy as np
import traitlets
from matplotlib.ticker import PercentFormatter

from explainer import colours, figures, filter_layout, run_spread

from .blit import BlitFigure
from .common import (
    TraceDashboard,
    filters_png,
    hold_sync,
    image_widget,
    network_words,
    png_bytes,
    shows_errors,
    step_controls,
)
from .histograms import Histograms
from .tile_picker import TilePicker
from .unit_view import UnitView

__all__ = ["TrainingDashboard", "PAGE"]

PAGE = 64  # filter tiles shown at once: 8 x 8
COLS = 8
TILE = 40  # screen pixels a tile's side may take (8x8 at 5 a weight; 28x28 at 1, and a click shows one large)
TEXT = "<div style='line-height:1.35'>{}</div>"  # JupyterLab's widget text is spaced for one-line labels
DPI = 80  # pixels per inch of the figures (they are shown at their natural size)


class TrainingDashboard(TraceDashboard):
    """Loss curves, filters, histograms and gradient norms of a recorded run, at a chosen step.

    Parameters
    ----------
    trace : str, Path, Trace or None
        The run; None opens the default 8x8 trace (built once if missing).
    step : int, optional
        The step shown first (the nearest snapshot); default the first snapshot.
    """

    step = traitlets.Int(0, help="the snapshot step shown")
    page = traitlets.Int(0, help="which PAGE first-layer tiles are shown: units page*PAGE onwards")
    unit = traitlets.Int(-1, help="the first-layer unit shown large (the tile clicked last); -1: none yet")

    def __init__(self, trace=None, step=None, **kwargs):
        super().__init__(**kwargs)
        if not self._open(trace, lambda: (self._precompute(), self._build(step))):
            return
        self.observe(self._on_step, names=["step", "page"])
        self.observe(self._on_unit, names="unit")
        self._on_step()

    # -- once, when the dashboard opens ------------------------------------------

    def _precompute(self):
        """The run's spread of W and dW and its colour range (explainer.run_spread: every snapshot read once, then
        kept beside a finished trace); each snapshot's filters are read when it is first shown."""
        trace = self.trace
        self._steps = np.asarray(trace.snapshot_steps, dtype=np.int64)  # (n_snap,)
        if not len(self._steps):
            raise ValueError(f"{trace.path} holds no snapshot yet: nothing to scrub through")
        spread = run_spread(trace)
        # one colour range for the whole run, as in the figure and the scene: a weight's colour never changes
        self._vmax = spread.vmax
        self._hist = Histograms(trace, spread)
        self._filters = _Filters(trace, self._steps)

    def _build(self, step):
        self._play, self._slider = step_controls(self._steps)
        self._slider.layout.width = "300px"
        traitlets.link((self._slider, "value"), (self, "step"))
        self._status = widgets.HTML()
        self._png_cache = {}  # ("curves" | "histograms", snapshot index) or ("filters", index, page) -> PNG bytes
        self._silent = {}  # snapshot index -> the first-layer units silent for every probe digit
        self._curves_plot, self._cursors = self._curves_figure()
        self._hist_plot = None  # drawn when its tab is first opened: a third of the time to open the dashboard
        self._curves = image_widget(self._curves_plot.png())
        self._hists = image_widget(_tab_hint())  # until the tab is opened (and what a saved notebook shows)
        self._tabs = tabs = widgets.Tab(children=[self._curves, self._hists],
                                        layout=widgets.Layout(width="392px", flex="0 0 auto"))
        tabs.observe(lambda change: self._on_step(), names="selected_index")
        for i, title in enumerate(("curves", "histograms")):
            tabs.set_title(i, title)
        self._n_units = self.trace.run.shapes[0][0]  # rows of W1: a dense layer's units, a convolution's kernels
        self._tile = h, w = self._filters[0].shape[1:]  # the input's pixels, or a CNN's kernel (k, k)
        self._cols = min(COLS, self._n_units)  # a CNN's few kernels: no empty columns
        self._scale, _, _ = filter_layout(PAGE, (h, w), scale=max(1, TILE // max(h, w)), cols=self._cols)
        self._filters_image = TilePicker()
        traitlets.dlink((self._filters_image, "picked"), (self, "unit"))
        self._unit_view = UnitView(self.trace, self._steps, self._filters, self._vmax, DPI)
        self._filters_caption = widgets.HTML()
        self._pager = self._pager_controls()
        n = self._n_units
        self.children = [
            widgets.HTML(f"<b>Training</b> — {self.trace.dataset} {network_words(self.trace)}, "
                         f"{self.trace.n_steps} steps, {len(self._steps)} snapshots: press play or move the slider."),
            widgets.HBox([self._play, self._slider, self._status], layout=widgets.Layout(align_items="center")),
            self.errors,
            widgets.HBox([
                tabs,
                widgets.VBox([widgets.HTML(TEXT.format(f"<small>{self._filters_title(n, h, w)}</small>")),
                              self._filters_image, self._pager],
                    layout=widgets.Layout(width="342px", margin="0 6px", flex="0 0 auto")),
                widgets.VBox([self._unit_view, self._filters_caption], layout=widgets.Layout(width="178px")),
            ], layout=widgets.Layout(align_items="flex-start", justify_content="flex-start")),
        ]
        self.step = int(self._steps[0]) if step is None else step  # (the nearest snapshot: _valid_step)

    def _filters_title(self, n, h, w):
        """What a tile of the mosaic is: a dense unit's row of W1 on the image, or a convolution's kernel."""
        if self.trace.is_cnn:
            return (f"<b>First-layer kernels</b> ({figures.layer_label(self.trace, 0)}): a tile is one kernel's "
                    f"{h}×{w} weights ({n} kernels), slid over the image to make its feature map; red: ink under it "
                    "raises the map's z, blue: lowers it. Click a tile to see it large.")
        return (f"<b>First-layer filters</b>: a tile is a unit's row of W<sub>1</sub> ({n} units) on the {h}×{w} "
                "pixels; red: ink there raises its z, blue: lowers it. Click a tile to see it large.")

    def _pager_controls(self):
        """Previous / next page buttons and where we are, shown only when the layer has more than PAGE units."""
        self._pages = -(-self._n_units // PAGE)
        back = widgets.Button(description="", icon="chevron-left", tooltip="the previous 64 units",
                              layout=widgets.Layout(width="40px"))
        forward = widgets.Button(description="", icon="chevron-right", tooltip="the next 64 units",
                                 layout=widgets.Layout(width="40px"))
        back.on_click(lambda _: setattr(self, "page", (self.page - 1) % self._pages))
        forward.on_click(lambda _: setattr(self, "page", (self.page + 1) % self._pages))
        self._page_words = widgets.HTML()
        box = widgets.HBox([back, self._page_words, forward], layout=widgets.Layout(align_items="center"))
        if self._pages == 1:
            box.layout.display = "none"
        return box

    @traitlets.validate("page")
    def _valid_page(self, proposal):
        pages = getattr(self, "_pages", 1)
        if not 0 <= proposal["value"] < pages:
            raise traitlets.TraitError(f"page must be 0 to {pages - 1} ({PAGE} tiles a page); got {proposal['value']}")
        return proposal["value"]

    @traitlets.validate("unit")
    def _valid_unit(self, proposal):
        n = getattr(self, "_n_units", None)
        if n is not None and not -1 <= proposal["value"] < n:
            raise traitlets.TraitError(f"unit must be 0 to {n - 1}, a first-layer unit (or -1: none); got {proposal['value']}")
        return proposal["value"]

    def _curves_figure(self):
        """Loss, accuracy, gradient norms and (with hidden layers) dead units over every step, each with a cursor."""
        trace = self.trace
        steps = np.arange(trace.n_steps)  # (n_steps,)
        loss, accuracy = trace.scalars["loss"], trace.scalars["accuracy"]  # (n_steps,)
        norms = np.maximum(np.asarray(trace.scalars["grad_norm"], dtype=float), np.finfo(float).tiny)
        ep, window = trace.epochs, figures.default_window(trace.n_steps)
        hidden = trace.n_layers - 1  # softmax output units never die: only hidden layers get a line
        fig = figures.new_figure(4.7, 5.6 if hidden else 4.5)
        fig.set_dpi(DPI)
        axes = fig.subplots(4 if hidden else 3, 1, sharex=True, height_ratios=[1, 1, 1, 0.75][: 4 if hidden else 3])
        ax_loss, ax_acc, ax_grad = axes[:3]

        ax_loss.plot(steps, loss, color=figures.COLORS["raw"], lw=0.6, alpha=0.6, label="each step's batch loss")
        if window > 1:
            ax_loss.plot(steps, figures.smooth(loss, window), color=figures.COLORS["train"], lw=1.6,
                         label=f"mean of {window} steps")
        _epoch_means(ax_loss, ep, "train_loss")
        ax_loss.plot(ep["step"], ep["val_loss"], "s--", color=figures.COLORS["val"], ms=4, lw=1, label="validation")
        ax_loss.set_yscale("log")
        figures.plain_log_labels(ax_loss)
        ax_loss.set_ylabel("loss (log)")
        ax_loss.legend(loc="upper right", fontsize=8)
        figures.add_epoch_axis(ax_loss, trace)

        ax_acc.plot(steps, figures.smooth(accuracy, window), color=figures.COLORS["train"], lw=1.6,
                    label="batch accuracy")
        _epoch_means(ax_acc, ep, "train_accuracy")
        ax_acc.plot(ep["step"], ep["val_accuracy"], "s--", color=figures.COLORS["val"], ms=4, lw=1, label="validation")
        ax_acc.set_ylim(0, 1.03)
        ax_acc.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax_acc.set_ylabel("accuracy")
        ax_acc.legend(loc="lower right", fontsize=8)

        for i in range(trace.n_layers):
            geometric = np.exp(figures.smooth(np.log(norms[:, i]), window))  # (n_steps,) the log scale's own mean
            ax_grad.plot(steps, geometric, color=figures.LAYER_COLORS[i % len(figures.LAYER_COLORS)], lw=1.4,
                         label=figures.layer_label(trace, i))
        ax_grad.set_yscale("log")
        figures.plain_log_labels(ax_grad)
        ax_grad.set_ylabel("‖dW‖ (log)")
        ax_grad.legend(loc="best", fontsize=7, title="gradient size per layer", title_fontsize=7)
        if hidden:
            self._dead_panel(axes[3], window)
        axes[-1].set_xlabel("training step")
        # past the last snapshot (which can be the weights after the final update, step n_steps) by 1.5%: a
        # cursor on the axes' right edge would hide under its frame
        end = max(trace.n_steps - 1, int(self._steps[-1]), 1)
        axes[-1].set_xlim(0, end * 1.015)
        for ax in axes:
            ax.grid(True, alpha=0.3)
        cursors = [ax.axvline(0, color=colours.INK, lw=1.2) for ax in axes]
        return BlitFigure(fig, cursors), cursors

    def _dead_panel(self, ax, window):
        """Per hidden layer, the share of its units that were 0 for every digit of the batch (mean of ``window``)."""
        figures.draw_dead_share(ax, self.trace, window)
        ax.set_ylabel("dead units")
        ax.legend(loc="best", fontsize=7, title="units 0 for the whole batch", title_fontsize=7)

    # -- each step change -------------------------------------------------------------

    @shows_errors
    def _on_step(self, change=None):
        k = self.trace.snapshot_index(self.step, exact=True)
        curves, hists, filters = self._pictures(k, self.page, histograms=self._tabs.selected_index == 1)
        first = self.page * PAGE
        count = min(PAGE, self._n_units - first)
        with hold_sync(self._curves, self._hists, self._filters_image, self._filters_caption, self._status,
                       self._page_words):
            self._curves.value = curves
            if hists is not None:
                self._hists.value = hists
            self._filters_image.show(filters, count=count, shape=self._tile, scale=self._scale,
                                     cols=self._cols, first=first)
            self._filters_caption.value = TEXT.format(f"<small>{self._filters_words(k)}</small>")
            self._page_words.value = (f"{'kernels' if self.trace.is_cnn else 'units'} {first} to {first + count - 1} "
                                      f"of {self._n_units}")
            self._status.value = self._describe(k)
        if self.unit >= 0:  # none until a tile is clicked: its curve reads every snapshot's probe record
            self._unit_view.show(self.unit, k)

    @shows_errors
    def _on_unit(self, change=None):
        if self.unit >= 0:
            self._unit_view.show(self.unit, self.trace.snapshot_index(self.step, exact=True))

    def _pictures(self, k, page, histograms=False):
        """The PNGs of snapshot ``k``: the curves with their cursor, the histograms (None unless asked for) and
        filters page ``page``; each drawn on its first visit, then kept."""
        cache = self._png_cache
        if ("curves", k) not in cache:
            for cursor in self._cursors:
                cursor.set_xdata([self._steps[k], self._steps[k]])
            cache["curves", k] = self._curves_plot.png()
        if histograms and ("histograms", k) not in cache:
            if self._hist_plot is None:
                self._hist_plot = self._hist.figure(DPI, width=4.7)
            self._hist.show(k)
            cache["histograms", k] = self._hist_plot.png()
        if ("filters", k, page) not in cache:
            first = page * PAGE
            marked = [j - first for j in self._silent_at(k) if first <= j < first + PAGE]
            cache["filters", k, page] = filters_png(self._filters[k][first : first + PAGE], self._vmax,
                                                    scale=self._scale, cols=self._cols, marked=marked)
        return cache["curves", k], cache.get(("histograms", k)), cache["filters", k, page]

    def _filters_words(self, k):
        """The caption beside snapshot ``k``'s filters: their colour range, which units were silent, and blank tiles."""
        words = f"Colours span ±{self._vmax:.3g} at every step: a weight keeps its colour."
        cnn = self.trace.is_cnn  # a kernel is silent when its whole map is 0 for every probe digit with maps
        silent, n_probe = self._silent_at(k), len(self.trace.map_probes if cnn else self.trace.probe_labels)
        unit, silent_for = ("kernel", "silent (a = 0 all over its map) for all") if cnn else ("unit", "silent (a = 0) for all")
        digits = "probe digits with maps" if cnn else "probe digits"
        first = self.page * PAGE
        here = [int(j) for j in silent if first <= j < first + PAGE]
        if here:
            listed = ", ".join(map(str, here[:12])) + (f" and {len(here) - 12} more" if len(here) > 12 else "")
            words += (f" Framed in black: {unit}{'s' if len(here) > 1 else ''} {listed}, {silent_for} "
                      f"{n_probe} {digits}: no gradient reaches them.")
        if len(silent) > len(here):
            words += f" {len(silent) - len(here)} silent {unit}(s) on other pages."
        words += " A faded tile without a frame still fires, through its bias: click it to see."
        return words

    def _silent_at(self, k):
        """The first-layer units silent for every probe digit at snapshot ``k`` (read on the first visit: a few ms)."""
        if k not in self._silent:
            self._silent[k] = self.trace.silent_units(int(self._steps[k]), exact=True)
        return self._silent[k]

    def _describe(self, k):
        s, scalars = self.step, self.trace.scalars
        if s >= self.trace.n_steps:  # the last snapshot can be the weights after the final update
            return f"step {s} (after training)"
        epoch = int(scalars["epoch"][s]) + 1
        return (f"step {s} · epoch {epoch} of {self.trace.run.epochs} · "
                f"batch loss {scalars['loss'][s]:.3f} · batch accuracy {scalars['accuracy'][s]:.0%}")


def _epoch_means(ax, epochs, key):
    """Each epoch's mean over its batches: a bar across the epoch's steps, a dot at its end."""
    end, y = np.asarray(epochs["step"]), np.asarray(epochs[key], dtype=float)
    if len(end):
        start = np.concatenate([[0], end[:-1]])
        ax.hlines(y, start, end, color=figures.COLORS["epoch"], lw=1.8, label="train, mean over each epoch")
        ax.plot(end, y, "o", color=figures.COLORS["epoch"], ms=4)


class _Filters:
    """The first layer's W as images at each snapshot, read from the trace when first asked for and kept
    (the last ``KEEP`` snapshots visited): ``filters[k]`` is (n_units, height, width)."""

    KEEP = 16

    def __init__(self, trace, steps):
        self.trace, self.steps, self._kept = trace, steps, {}

    def __getitem__(self, k):
        k = int(k)
        if k not in self._kept:
            if len(self._kept) >= self.KEEP:
                self._kept.pop(next(iter(self._kept)))  # the oldest visit
            self._kept[k] = self.trace.first_layer_filters(int(self.steps[k]), exact=True)
        return self._kept[k]


def _tab_hint():
    """A small picture saying that the histograms are drawn when their tab is opened: what the tab holds until
    then, and all it can hold in a notebook saved or published without its kernel."""
    from PIL import Image, ImageDraw, ImageFont

    picture = Image.new("RGB", (376, 64), colours.PAPER)
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size=13)
    for i, line in enumerate(("The histograms of W and dW are drawn when", "this tab is first opened in a running notebook.")):
        draw.text((12, 12 + 20 * i), line, fill=colours.PAGE["label"], font=font)
    return png_bytes(np.asarray(picture))
