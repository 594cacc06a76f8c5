"""The live loss curve of :class:`~explainer.widgets.live_training.LiveTraining`: cheap to redraw many times a run.

::

    plot = LossPlot(total_steps=400, steps_per_epoch=40)
    png = plot.png(loss, val_steps=[40, 80], val_accuracy=[0.61, 0.78])   # loss: (n_steps,) so far
"""

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, NullLocator

from explainer import colours, figures

from .blit import BlitFigure

__all__ = ["LossPlot"]

DPI = 80


class LossPlot:
    """Each step's batch loss (log scale), its moving mean, and each epoch's validation accuracy.

    The axes are drawn once and the curves redrawn over them
    (:class:`~explainer.widgets.blit.BlitFigure`). The step axis starts one epoch long
    and doubles whenever the run outgrows it, so the first steps, where most
    happens, are not squeezed into a corner; a loss outside the loss axis (a
    diverging run) widens it. Either redraws the whole figure, a few times a run.
    """

    def __init__(self, total_steps, steps_per_epoch):
        self.total, self.per_epoch = total_steps, steps_per_epoch
        self.limits = None

    def _limits(self, loss):
        """``(last step shown, lowest loss shown, highest)`` for these losses."""
        x = min(self.per_epoch, self.total)
        while x < min(len(loss), self.total):
            x = min(2 * x, self.total)
        seen = loss[np.isfinite(loss) & (loss > 0)]
        low = min(1e-3, 10 ** np.floor(np.log10(seen.min()))) if len(seen) else 1e-3
        high = max(10.0, 10 ** np.ceil(np.log10(seen.max()))) if len(seen) else 10.0
        return max(x, 1), float(low), float(high)

    def _build(self, limits):
        self.limits = (last, low, high) = limits
        # fixed margins: constrained layout (explainer.figures' default) would double the cost of
        # this redraw, made a few times a run
        fig = Figure(figsize=(6.2, 3.4), dpi=DPI, facecolor=colours.PAPER)
        fig.subplots_adjust(left=0.12, right=0.87, bottom=0.14, top=0.85)
        ax = fig.subplots()
        acc = ax.twinx()
        self.raw, = ax.plot([], [], color=figures.COLORS["raw"], lw=0.6, alpha=0.7, label="each step's batch loss")
        self.mean, = ax.plot([], [], color=figures.COLORS["train"], lw=1.6, label="its moving mean")
        self.val, = acc.plot([], [], "s--", color=figures.COLORS["val"], ms=4, lw=1, label="validation accuracy (right)")
        ax.set_xlim(0, last)
        ax.set_yscale("log")
        ax.set_ylim(low, high)
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:g}")  # 0.01, not mathtext's 10^-2: cheaper, plainer
        ax.yaxis.set_minor_locator(NullLocator())
        ax.set_ylabel("cross-entropy loss (log scale)")
        ax.set_xlabel(f"training step (of {self.total})")
        ax.grid(True, alpha=0.3)
        acc.set_ylim(0, 1.03)
        acc.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        acc.set_ylabel("validation accuracy", color=figures.COLORS["val"])
        per_epoch = self.per_epoch
        top = ax.secondary_xaxis("top", functions=(lambda s: s / per_epoch, lambda e: e * per_epoch))
        top.set_xlabel("epoch")
        top.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(handles=[self.raw, self.mean, self.val], loc="lower left", fontsize=8)
        self.blit = BlitFigure(fig, [self.raw, self.mean, self.val])

    def png(self, loss, val_steps, val_accuracy):
        """PNG bytes of the curves for ``loss`` (n_steps,) and the validation points."""
        loss = np.asarray(loss, dtype=float)  # (n_steps,)
        limits = self._limits(loss)
        if limits != self.limits:
            self._build(limits)
        steps = np.arange(len(loss))  # (n_steps,)
        self.raw.set_data(steps, loss)
        self.mean.set_data(steps, figures.smooth(loss, figures.default_window(len(loss))))
        self.val.set_data(val_steps, val_accuracy)
        return self.blit.png()
