"""The spread of each layer's weights W and gradients dW at the step shown, as histograms drawn once and blitted.

Per layer two panels: W on a linear axis, and log10 |dW| on a log axis, from
:func:`explainer.run_spread` (every snapshot, read once and kept beside the
trace). Gradients of exactly 0 (silent units, pixels never inked) and the
tiniest are not drawn as bars: each dW panel says what share of the layer's
gradients they are.
"""

import numpy as np

from explainer import figures

from .blit import BlitFigure

__all__ = ["Histograms"]


class Histograms:
    """The histogram figure of a :class:`explainer.Spread`; :meth:`show` moves it to snapshot ``k``."""

    def __init__(self, trace, spread):
        self.trace, self.spread = trace, spread
        self.W = list(zip(spread.W_edges, spread.W_counts))  # per layer: (edges, counts (n_snap, BINS))
        self.dW = list(zip(spread.dW_edges, spread.dW_counts))
        self.small = spread.small  # per layer: (n_snap,) the share of gradients not drawn

    def figure(self, dpi, width=5.2):
        """The figure at snapshot 0 (a :class:`BlitFigure`); :meth:`show` moves it to another snapshot."""
        trace, n = self.trace, self.trace.n_layers
        fig = figures.new_figure(width, 1.3 * n + 0.9)
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
        # three short lines: two long ones ran past the edges of a figure this narrow
        fig.supxlabel("left: weight value; right: gradient size, log scale (−3 = 0.001).\nNot drawn: gradients of "
                      "exactly 0 (silent units, never-inked pixels)\nor left of the panel's first bin", fontsize=8)
        self.plot = BlitFigure(fig, [*self._bars, *self._notes])
        self.show(0)
        return self.plot

    def show(self, k):
        """Snapshot ``k``'s bars and notes (redrawn by the next ``plot.png()``)."""
        for i in range(self.trace.n_layers):
            self._bars[2 * i].set_data(self.W[i][1][k])
            self._bars[2 * i + 1].set_data(self.dW[i][1][k])
            self._notes[i].set_text(f"not drawn: {self.small[i][k]:.0%} (0 or tiny)")
