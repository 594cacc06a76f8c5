"""The spread of each layer's weights W and gradients dW at every snapshot, as histograms drawn once and blitted.

Per layer two panels: W on a linear axis, and log10 |dW| on a log axis. A
gradient of exactly 0 has no logarithm, and the smallest ones would pile up
in the first bin as a spike nothing explains; both are counted apart instead,
and each dW panel says what share of the layer's gradients they are:
exact zeros come from silent units (a = 0, so no gradient reaches their
weights) and from pixels that are never inked (x = 0, so dW = delta x^T is 0).
"""

import numpy as np

from explainer import figures

from .blit import BlitFigure

__all__ = ["Histograms", "BINS", "DECADES", "histograms", "weight_edges", "log_edges", "log_sizes"]

BINS = 50  # histogram bins per layer
DECADES = 8  # the gradient histograms span at most this many powers of ten; smaller gradients are counted apart


class Histograms:
    """Histograms of every layer's W and log10 |dW| at every snapshot of ``trace``, read once.

    ``W[i]`` and ``dW[i]`` are ``(edges, counts)`` with counts (n_snap, BINS);
    ``small[i]`` is (n_snap,): the share of layer ``i``'s gradients that are 0
    or below the dW panel's first edge (not drawn as bars).
    """

    def __init__(self, trace, steps, first_weights):
        n = trace.n_layers
        self.trace = trace
        self.W = [histograms([w[i] for w in first_weights], weight_edges([w[i] for w in first_weights]))
                  for i in range(n)]
        edges = log_edges(trace, steps)  # the gradients are read twice (their range, then their counts)
        counts, small = [[] for _ in range(n)], [[] for _ in range(n)]
        for s in steps:
            for i, (dW, _) in enumerate(trace.gradients(s, exact=True)):
                sizes = log_sizes(dW)  # (n_nonzero,)
                kept = sizes[sizes >= edges[i][0]]
                counts[i].append(histograms([kept], edges[i])[1][0])
                small[i].append(1 - kept.size / max(dW.size, 1))
        self.dW = [(edges[i], np.stack(counts[i])) for i in range(n)]
        self.small = [np.asarray(share) for share in small]

    def figure(self, dpi, width=5.2):
        """The figure at snapshot 0 (a :class:`BlitFigure`); :meth:`show` moves it to another snapshot."""
        trace, n = self.trace, self.trace.n_layers
        fig = figures.new_figure(width, 1.3 * n + 0.75)
        fig.set_dpi(dpi)
        axes = np.atleast_2d(fig.subplots(n, 2))  # (n_layers, 2)
        self._bars, self._notes = [], []
        for i in range(n):
            color = figures.LAYER_COLORS[i % len(figures.LAYER_COLORS)]
            for ax, (edges, counts), what in ((axes[i, 0], self.W[i], "W"), (axes[i, 1], self.dW[i], "log₁₀|dW|")):
                self._bars.append(ax.stairs(counts[0], edges, fill=True, color=color, alpha=0.8))
                ax.set_xlim(edges[0], edges[-1])
                ax.set_ylim(0, max(counts.max(), 1) * 1.3)  # room above the bars for the note
                ax.set_yticks([])
                ax.tick_params(labelsize=8)
                ax.set_title(f"{what}, {figures.layer_label(trace, i)}", fontsize=8, pad=2)
            self._notes.append(axes[i, 1].text(0.02, 0.95, "", transform=axes[i, 1].transAxes, fontsize=7,
                                               va="top", ha="left", color=figures.COLORS["raw"]))
        fig.suptitle("How the weights W and the gradients dW are spread, per layer", fontsize=10)
        fig.supxlabel("left: weight value; right: gradient size, log scale (−3 = 0.001).\nNot drawn: gradients of "
                      "exactly 0 (silent units, never-inked pixels) or left of the panel's first bin", fontsize=8)
        self.plot = BlitFigure(fig, [*self._bars, *self._notes])
        self.show(0)
        return self.plot

    def show(self, k):
        """Snapshot ``k``'s bars and notes (redrawn by the next ``plot.png()``)."""
        for i in range(self.trace.n_layers):
            self._bars[2 * i].set_data(self.W[i][1][k])
            self._bars[2 * i + 1].set_data(self.dW[i][1][k])
            self._notes[i].set_text(f"not drawn: {self.small[i][k]:.0%} (0 or tiny)")


def weight_edges(arrays):
    """Bins symmetric about 0 wide enough for (nearly) every weight at every snapshot."""
    top = max(float(np.percentile(np.abs(a), 99.9)) for a in arrays) or 1.0
    return np.linspace(-top, top, BINS + 1)


def log_sizes(dW):
    """log10 |dW| of the non-zero gradients (a zero has no logarithm: a unit or pixel that did not learn)."""
    return np.log10(np.abs(dW[dW != 0]))


def log_edges(trace, steps):
    """Per layer, bins over log10 |dW| from (nearly) the smallest to the largest gradient of any snapshot."""
    lo, hi = np.full(trace.n_layers, np.inf), np.full(trace.n_layers, -np.inf)
    for s in steps:
        for i, (dW, _) in enumerate(trace.gradients(s, exact=True)):
            sizes = log_sizes(dW)
            if sizes.size:
                lo[i], hi[i] = min(lo[i], float(np.percentile(sizes, 1))), max(hi[i], float(sizes.max()))
    edges = []
    for low, high in zip(lo, hi):
        if not np.isfinite(high):  # no gradient at all
            low, high = -8.0, 0.0
        low = max(low, high - DECADES)
        edges.append(np.linspace(low, max(high, low + 1), BINS + 1))
    return edges


def histograms(arrays, edges):
    """``(edges, counts)``: one histogram per snapshot, values outside the edges counted in the end bins."""
    # the edges are evenly spaced: given as a count and a range, numpy bins without sorting
    lo, hi = edges[0], edges[-1]
    counts = np.stack([np.histogram(np.clip(a, lo, hi), len(edges) - 1, (lo, hi))[0] for a in arrays])  # (n_snap, BINS)
    return edges, counts
