"""CompareRuns: two or more recorded runs side by side, scrubbed with one slider.

::

    CompareRuns(["runs/sigmoid.zarr", "runs/relu.zarr"])

One slider moves every run at once. Runs are matched by their fraction of
training (:func:`explainer.matched_steps`): step for step when they are
equally long (the slider then counts steps), otherwise at the same share of
each run (the slider counts per cent). Left: the runs' loss, batch accuracy
and first-layer gradient norm overlaid, one colour per run, with a cursor at
the slider; right: each run's first-layer filters at its snapshot nearest the
matched step, each on its own run's colour range (:func:`explainer.filter_range`).

As in the other dashboards the figure is drawn once and only the cursor
moves (:class:`~explainer.widgets.blit.BlitFigure`); each position's PNGs are
made on its first visit and kept.
"""

import ipywidgets as widgets
import numpy as np
import traitlets
from matplotlib.ticker import PercentFormatter

from explainer import (
    colours,
    figures,
    filter_range,
    matched_snapshots,
    matched_steps,
    open_runs,
    run_label,
    same_length,
)

from .blit import BlitFigure
from .common import CSS, ErrorArea, filters_png, hold_sync, image_widget, shows_errors

__all__ = ["CompareRuns"]

COLS = 8  # filter tiles a row
TILE = 36  # screen pixels a tile's side may take (8x8 at 4 a weight; 28x28 at 1)
DPI = 80
TEXT = "<div style='line-height:1.35'>{}</div>"


class CompareRuns(widgets.VBox):
    """Two or more traces scrubbed together: their curves overlaid with a cursor, their filters side by side.

    Parameters
    ----------
    traces : sequence of str, Path or Trace
        Two or more runs (anything :func:`explainer.trace.open_trace` takes).
    fraction : float, optional
        Where to start, as a fraction of training from 0 to 1 (the nearest slider position); default 0.
    """

    fraction = traitlets.Float(0.0, help="the fraction of training shown (0 to 1); each run shows its step there")

    def __init__(self, traces, fraction=None, **kwargs):
        super().__init__(**kwargs)
        self.errors = ErrorArea()
        self.add_class("explainer-dashboard")
        try:
            self.runs = open_runs(traces, "CompareRuns")
            self._build()
        except Exception as error:  # noqa: BLE001 -- a bad trace is a message in the dashboard
            self.errors.show(error)
            self.children = [widgets.HTML("<b>CompareRuns</b> could not open these traces:"), self.errors]
            return
        self.observe(self._on_fraction, names="fraction")
        self.fraction = 0.0 if fraction is None else fraction
        self._on_fraction()

    # -- once ---------------------------------------------------------------------

    def _positions(self):
        """The slider's stops: every run's snapshot steps, as fractions of its training (sorted, each once)."""
        stops = set()
        for trace in self.runs:
            last = max(trace.n_steps - 1, 1)
            stops.update(round(min(int(s), last) / last, 6) for s in trace.snapshot_steps)
        return sorted(stops)

    def _build(self):
        runs = self.runs
        self._by_step = same_length(runs)
        self._stops = self._positions()
        last = runs[0].n_steps - 1
        options = [(str(round(f * last)) if self._by_step else f"{f:.1%}", f) for f in self._stops]
        self._slider = widgets.SelectionSlider(options=options, value=self._stops[0], continuous_update=True,
                                               description="step" if self._by_step else "training",
                                               layout=widgets.Layout(width="360px"))
        self._slider.add_class(CSS["step_slider"])
        self._play = widgets.Play(value=0, min=0, max=len(self._stops) - 1, interval=300, description="play")
        self._play.add_class(CSS["play"])
        widgets.link((self._play, "value"), (self._slider, "index"))
        traitlets.link((self._slider, "value"), (self, "fraction"))
        self._tint = figures.run_colours(len(runs))
        self._vmax = [filter_range(trace) for trace in runs]  # each run's own colour range
        self._rows = max(1, 8 // len(runs))  # rows of COLS tiles per run: 32 filters for two runs, 16 for 3 or 4
        self._png_cache = {}
        self._plot, self._cursors = self._curves_figure()
        self._curves = image_widget(self._plot.png())
        self._filters = [image_widget(css=CSS["filters"]) for _ in runs]
        self._captions = [widgets.HTML() for _ in runs]
        self._status = widgets.HTML()
        matched = ("step for step (they are equally long)" if self._by_step
                   else "at the same fraction of each run's training (they differ in length)")
        panels = [widgets.VBox([caption, image], layout=widgets.Layout(margin="0 0 4px 0"))
                  for image, caption in zip(self._filters, self._captions)]
        self.children = [
            widgets.HTML(TEXT.format(f"<b>{len(runs)} runs</b>, matched {matched}: move the slider or press play. "
                                     "<small>Filters: each run's first-layer W; red: ink there raises z, blue: "
                                     "lowers it.</small>")),
            widgets.HBox([self._play, self._slider], layout=widgets.Layout(align_items="center")),
            self.errors,
            widgets.HBox([
                widgets.VBox([self._curves, self._status], layout=widgets.Layout(width="390px", flex="0 0 auto")),
                widgets.VBox(panels, layout=widgets.Layout(margin="0 0 0 8px", flex="0 0 auto")),
            ], layout=widgets.Layout(align_items="flex-start")),
        ]

    def _curves_figure(self):
        """Loss, batch accuracy and the first layer's ‖dW‖ of every run, overlaid, each axis with a cursor."""
        runs, tiny = self.runs, np.finfo(float).tiny
        fig = figures.new_figure(4.8, 5.2)
        fig.set_dpi(DPI)
        ax_loss, ax_acc, ax_grad = fig.subplots(3, 1, sharex=True)
        for trace, tint in zip(runs, self._tint):
            window = figures.default_window(trace.n_steps)
            x = self._x(trace, np.arange(trace.n_steps))
            ax_loss.plot(x, figures.smooth(trace.scalars["loss"], window), color=tint, lw=1.5,
                         label=run_label(trace, short=True))
            ax_acc.plot(x, figures.smooth(trace.scalars["accuracy"], window), color=tint, lw=1.5)
            g = np.maximum(np.asarray(trace.scalars["grad_norm"], dtype=float)[:, 0], tiny)  # (n_steps,)
            ax_grad.plot(x, np.exp(figures.smooth(np.log(g), window)), color=tint, lw=1.5)
        ax_loss.set_yscale("log")
        figures.plain_log_labels(ax_loss)
        ax_loss.set_ylabel("batch loss (log)")
        ax_loss.legend(fontsize=8, loc="upper right")
        ax_acc.set_ylim(0, 1.03)
        ax_acc.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax_acc.set_ylabel("batch accuracy")
        ax_grad.set_yscale("log")
        figures.plain_log_labels(ax_grad)
        ax_grad.set_ylabel("first layer ‖dW‖")
        if self._by_step:
            ax_grad.set_xlabel("training step")
            ax_grad.set_xlim(0, max(runs[0].n_steps - 1, 1) * 1.015)
        else:
            ax_grad.set_xlabel("fraction of training")
            ax_grad.xaxis.set_major_formatter(PercentFormatter(1.0))
            ax_grad.set_xlim(0, 1.015)
        for ax in (ax_loss, ax_acc, ax_grad):
            ax.grid(True, alpha=0.3)
        cursors = [ax.axvline(0, color=colours.INK, lw=1.2) for ax in (ax_loss, ax_acc, ax_grad)]
        return BlitFigure(fig, cursors), cursors

    def _x(self, trace, steps):
        """Where ``steps`` of ``trace`` sit on the shared x axis: the step, or the fraction of training."""
        return steps if self._by_step else steps / max(trace.n_steps - 1, 1)

    @traitlets.validate("fraction")
    def _valid_fraction(self, proposal):
        f = proposal["value"]
        if not 0 <= f <= 1:
            raise traitlets.TraitError(f"fraction must be a number from 0 to 1 (a share of training); got {f!r}")
        stops = getattr(self, "_stops", None)
        return f if not stops else min(stops, key=lambda s: abs(s - f))  # the nearest slider position

    # -- each move of the slider ---------------------------------------------------------

    @property
    def steps(self):
        """Each run's step at the fraction shown."""
        return matched_steps(self.runs, self.fraction)

    @property
    def snapshots(self):
        """Each run's snapshot step whose filters are shown (the nearest to :attr:`steps`)."""
        return matched_snapshots(self.runs, self.fraction)

    @shows_errors
    def _on_fraction(self, change=None):
        f = self.fraction
        curves, filters = self._pictures(f)
        with hold_sync(self._curves, self._status, *self._filters, *self._captions):
            self._curves.value = curves
            for image, png in zip(self._filters, filters):
                image.value = png
            for caption, trace, tint, step, snap in zip(self._captions, self.runs, self._tint, self.steps,
                                                        self.snapshots):
                caption.value = TEXT.format(
                    f"<small><b style='color:{tint}'>■ {run_label(trace)}</b>: step {step:,} of {trace.n_steps:,}, "
                    f"filters at snapshot {snap:,}</small>")
            self._status.value = TEXT.format("<small>" + "<br>".join(self._words(trace, tint, step) for trace, tint, step
                                                                     in zip(self.runs, self._tint, self.steps))
                                             + "</small>")

    def _pictures(self, f):
        """The curves with the cursor at ``f`` and each run's filters there; made on the first visit, then kept."""
        if f not in self._png_cache:
            x = self.steps[0] if self._by_step else f
            for cursor in self._cursors:
                cursor.set_xdata([x, x])
            n = self._rows * COLS
            pictures = []
            for trace, vmax, snap in zip(self.runs, self._vmax, self.snapshots):
                images = trace.first_layer_filters(snap)[:n]  # (n, height, width)
                h, w = trace.image_shape
                pictures.append(filters_png(images, vmax, scale=max(1, TILE // max(h, w)), cols=COLS))
            self._png_cache[f] = (self._plot.png(), pictures)
        return self._png_cache[f]

    @staticmethod
    def _words(trace, tint, step):
        loss, accuracy = trace.scalars["loss"][step], trace.scalars["accuracy"][step]
        return (f"<span style='color:{tint}'>■</span> {run_label(trace, short=True)}: batch loss {loss:.3f}, "
                f"accuracy {accuracy:.0%}")
