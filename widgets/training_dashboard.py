"""TrainingDashboard: scrub through a recorded run and watch it learn.

Everything that depends on the step is read and summarised once, when the
dashboard opens (weights, gradients, their histograms); moving the slider
only indexes those arrays, recolours the filters and redraws a cursor and
the histogram bars over figures that were drawn once (:mod:`explainer.widgets.blit`).
"""

import ipywidgets as widgets
import numpy as np
import traitlets
from matplotlib.ticker import PercentFormatter

from explainer import colours, figures, filter_range, snapshot_range

from .blit import BlitFigure
from .common import (
    CSS,
    TraceDashboard,
    filters_png,
    hold_sync,
    image_widget,
    shows_errors,
    silent_words,
    step_controls,
)

__all__ = ["TrainingDashboard"]

BINS = 50  # histogram bins per layer
DECADES = 8  # the gradient histograms span at most this many powers of ten (smaller ones go in the first bin)
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

    def __init__(self, trace=None, step=None, **kwargs):
        super().__init__(**kwargs)
        if not self._open(trace, lambda: (self._precompute(), self._build(step))):
            return
        self.observe(self._on_step, names="step")
        self._on_step()

    # -- once, when the dashboard opens ------------------------------------------

    def _precompute(self):
        """Read every snapshot once: keep the first layer's W as images, and histograms of every W and dW."""
        trace = self.trace
        self._steps = np.asarray(trace.snapshot_steps, dtype=np.int64)  # (n_snap,)
        if not len(self._steps):
            raise ValueError(f"{trace.path} holds no snapshot yet: nothing to scrub through")
        steps = [int(s) for s in self._steps]
        W = [[w for w, _ in trace.weights(s)] for s in steps]  # [snap][layer] (n_out, n_in)
        self._filters = np.stack([w[0] for w in W]).reshape(len(steps), -1, *trace.image_shape)  # (n_snap, n_hidden, h, w)
        # one colour range for the whole run, as in the figure and the scene: a weight's colour never changes
        self._vmax = filter_range(trace, {s: snapshot_range(f) for s, f in zip(steps, self._filters)})
        self._hist_W = [_histograms([w[i] for w in W], _weight_edges([w[i] for w in W]))
                        for i in range(trace.n_layers)]  # per layer: (edges, counts (n_snap, BINS))
        del W
        # the gradients are read twice (their range, then their histograms) rather than all held at once
        edges = _log_edges(trace, steps)
        counts = [[] for _ in range(trace.n_layers)]
        for s in steps:
            for i, (dW, _) in enumerate(trace.gradients(s)):
                counts[i].append(_histograms([_log_sizes(dW)], edges[i])[1][0])
        self._hist_dW = [(edges[i], np.stack(counts[i])) for i in range(trace.n_layers)]

    def _build(self, step):
        self._play, self._slider = step_controls(self._steps)
        traitlets.link((self._slider, "value"), (self, "step"))
        self._status = widgets.HTML()
        self._png_cache = {}  # snapshot index -> (curves, histograms, filters) PNG bytes
        self._silent = {}  # snapshot index -> the first-layer units silent for every probe digit
        self._curves_plot, self._cursors = self._curves_figure()
        self._hist_plot, self._bars = self._histogram_figure()
        self._curves = image_widget(self._curves_plot.png())
        self._hists = image_widget(self._hist_plot.png())
        self._filters_image = image_widget(css=CSS["filters"])
        self._filters_caption = widgets.HTML()
        h, w = self.trace.image_shape
        n = self._filters.shape[1]
        self.children = [
            widgets.HTML(f"<b>Training</b> — {self.trace.dataset} {'→'.join(map(str, self.trace.sizes))}, "
                         f"{self.trace.n_steps} steps, {len(self._steps)} snapshots. Press play or move the slider."),
            widgets.HBox([self._play, self._slider]),
            self._status,
            self.errors,
            widgets.HBox([self._curves, self._hists], layout=widgets.Layout(flex_flow="row wrap")),
            widgets.HTML(f"<b>First-layer filters</b>: each tile is one of the {n} rows of W<sub>1</sub> "
                         f"(unit 0 at the top left, then row by row) shown on the {h}×{w} input pixels "
                         "(red: ink there raises the unit's z; blue: lowers it)."),
            self._filters_image,
            self._filters_caption,
        ]
        self.step = int(self._steps[0]) if step is None else step  # (the nearest snapshot: _valid_step)

    def _curves_figure(self):
        """Loss, accuracy, gradient norms and (with hidden layers) dead units over every step, each with a cursor."""
        trace = self.trace
        steps = np.arange(trace.n_steps)  # (n_steps,)
        loss, accuracy = trace.scalars["loss"], trace.scalars["accuracy"]  # (n_steps,)
        norms = np.maximum(np.asarray(trace.scalars["grad_norm"], dtype=float), np.finfo(float).tiny)
        ep, window = trace.epochs, figures.default_window(trace.n_steps)
        hidden = trace.n_layers - 1  # softmax output units never die: only hidden layers get a line
        fig = figures.new_figure(6.0, 9.0 if hidden else 7.2)
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
        axes[-1].set_xlim(0, max(trace.n_steps - 1, 1))
        for ax in axes:
            ax.grid(True, alpha=0.3)
        cursors = [ax.axvline(0, color=colours.INK, lw=1.2) for ax in axes]
        return BlitFigure(fig, cursors), cursors

    def _dead_panel(self, ax, window):
        """Per hidden layer, the share of its units that were 0 for every digit of the batch (mean of ``window``)."""
        figures.draw_dead_share(ax, self.trace, window)
        ax.set_ylabel("dead units")
        ax.legend(loc="best", fontsize=7, title="units 0 for the whole batch", title_fontsize=7)

    def _histogram_figure(self):
        """Per layer, a histogram of W and one of log10 |dW|, with bars redrawn at each step."""
        trace = self.trace
        n = trace.n_layers
        fig = figures.new_figure(5.8, 1.45 * n + 0.7)
        fig.set_dpi(DPI)
        axes = np.atleast_2d(fig.subplots(n, 2))  # (n_layers, 2)
        bars = []
        for i in range(n):
            color = figures.LAYER_COLORS[i % len(figures.LAYER_COLORS)]
            for ax, (edges, counts), what in ((axes[i, 0], self._hist_W[i], "W"),
                                              (axes[i, 1], self._hist_dW[i], "log₁₀|dW|")):
                bars.append(ax.stairs(counts[0], edges, fill=True, color=color, alpha=0.8))
                ax.set_xlim(edges[0], edges[-1])
                ax.set_ylim(0, max(counts.max(), 1) * 1.05)
                ax.set_yticks([])
                ax.tick_params(labelsize=8)
                ax.set_title(f"{what}, {figures.layer_label(trace, i)}", fontsize=8, pad=2)
        fig.suptitle("How the weights W and the gradients dW are spread, per layer", fontsize=10)
        fig.supxlabel("left: weight value; right: gradient size, log scale (−3 = 0.001)", fontsize=8)
        return BlitFigure(fig, bars), bars

    # -- each step change -------------------------------------------------------------

    @shows_errors
    def _on_step(self, change=None):
        k = self.trace.snapshot_index(self.step, exact=True)
        curves, hists, filters = self._pictures(k)
        with hold_sync(self._curves, self._hists, self._filters_image, self._filters_caption, self._status):
            self._curves.value, self._hists.value, self._filters_image.value = curves, hists, filters
            self._filters_caption.value = f"<small>{self._filters_words(k)}</small>"
            self._status.value = self._describe(k)

    def _pictures(self, k):
        """The three PNGs of snapshot ``k``: drawn on its first visit, then kept."""
        if k not in self._png_cache:
            for cursor in self._cursors:
                cursor.set_xdata([self._steps[k], self._steps[k]])
            for i in range(self.trace.n_layers):
                self._bars[2 * i].set_data(self._hist_W[i][1][k])
                self._bars[2 * i + 1].set_data(self._hist_dW[i][1][k])
            self._png_cache[k] = (self._curves_plot.png(), self._hist_plot.png(),
                                  filters_png(self._filters[k], self._vmax, marked=self._silent_at(k)))
        return self._png_cache[k]

    def _filters_words(self, k):
        """The caption under snapshot ``k``'s filters: their colour range, and which units were silent."""
        words = (f"Colours span ±{self._vmax:.3g} at every step (the largest 99th percentile of |W<sub>1</sub>| at "
                 "any snapshot): a weight keeps its colour, so tiles deepen where weights grow and fade where "
                 "they shrink.")
        return words + silent_words(self._silent_at(k), self._filters.shape[1], len(self.trace.probe_labels))

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


def _weight_edges(arrays):
    """Bins symmetric about 0 wide enough for (nearly) every weight at every snapshot."""
    top = max(float(np.percentile(np.abs(a), 99.9)) for a in arrays) or 1.0
    return np.linspace(-top, top, BINS + 1)


def _log_sizes(dW):
    """log10 |dW| of the non-zero gradients (a zero has no logarithm: a unit that did not learn)."""
    return np.log10(np.abs(dW[dW != 0]))


def _log_edges(trace, steps):
    """Per layer, bins over log10 |dW| from (nearly) the smallest to the largest gradient of any snapshot."""
    lo, hi = np.full(trace.n_layers, np.inf), np.full(trace.n_layers, -np.inf)
    for s in steps:
        for i, (dW, _) in enumerate(trace.gradients(s)):
            sizes = _log_sizes(dW)
            if sizes.size:
                lo[i], hi[i] = min(lo[i], float(np.percentile(sizes, 1))), max(hi[i], float(sizes.max()))
    edges = []
    for low, high in zip(lo, hi):
        if not np.isfinite(high):  # no gradient at all
            low, high = -8.0, 0.0
        low = max(low, high - DECADES)
        edges.append(np.linspace(low, max(high, low + 1), BINS + 1))
    return edges


def _histograms(arrays, edges):
    """``(edges, counts)``: one histogram per snapshot, values outside the edges counted in the end bins."""
    # the edges are evenly spaced: given as a count and a range, numpy bins without sorting
    lo, hi = edges[0], edges[-1]
    counts = np.stack([np.histogram(np.clip(a, lo, hi), len(edges) - 1, (lo, hi))[0] for a in arrays])  # (n_snap, BINS)
    return edges, counts
