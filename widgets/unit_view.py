"""One first-layer unit, large: its row of W as a picture, and what it did over training.

TrainingDashboard shows it for the tile clicked last. On MNIST a tile of the
mosaic is 28 pixels a side at most; here the same weights are drawn at 7
screen pixels each, in the same colours (the run's one range), and under them
the unit's activation on the probe digits at every snapshot: the mean of
``a`` and the share of probe digits for which ``a > 0`` (0% is a silent unit).

On a CNN's trace a unit is a first-layer kernel (k x k weights) and its ``a``
is a whole feature map: the curve is the map's mean ``a`` and the share of the
probe digits with maps (``trace.map_probes``) whose map has ``a > 0`` somewhere.
"""

import ipywidgets as widgets
import numpy as np
from matplotlib.ticker import PercentFormatter

from explainer import colours, figures

from .blit import BlitFigure
from .common import filters_png, hold_sync, image_widget

__all__ = ["UnitView"]

_TEXT = "<div style='line-height:1.35'><small>{}</small></div>"

SIDE = 160  # screen pixels the large picture's side may take (8x8 weights at 20, 28x28 at 5)


class UnitView(widgets.VBox):
    """The large picture and activation curve of a first-layer unit; :meth:`show` picks the unit and step."""

    def __init__(self, trace, steps, filters, vmax, dpi):
        super().__init__(layout=widgets.Layout(width="178px"))
        self.trace, self.steps, self.filters, self.vmax, self.dpi = trace, steps, filters, vmax, dpi
        self._a = None  # (n_snap, n_probe, n_units) first-layer mean a, and where a > 0: read on the first show
        self._fires = None
        self._plot = self._cursor = None
        self.unit = None
        self._title = widgets.HTML(_TEXT.format("Click a tile to see its unit here, large."))
        self._picture = image_widget()
        self._curve = image_widget()
        for image in (self._picture, self._curve):  # hidden until a unit is shown: no empty pictures on the page
            image.layout.display = "none"
        self.children = [self._title, self._picture, self._curve]

    def show(self, unit, k):
        """Unit ``unit`` at snapshot ``k`` (a new unit redraws its curve; a new step only moves the cursor)."""
        if unit is None:
            return
        if unit != self.unit:
            self.unit = unit
            self._plot, self._cursor = self._figure(unit)
        h, w = self.filters[k].shape[1:]  # the input's pixels, or a CNN's kernel (k, k)
        picture = filters_png(self.filters[k][unit : unit + 1], self.vmax, scale=max(1, SIDE // max(h, w)), cols=1)
        self._cursor.set_xdata([self.steps[k], self.steps[k]])
        mean, fires = self._activations()
        a, fires = mean[k, :, unit], fires[k, :, unit]  # (n_probe,)
        if self.trace.is_cnn:
            words = (f"<b>Kernel {unit}</b> of layer 1, step {int(self.steps[k])}: its {h}×{w} weights. On the "
                     f"{len(a)} probe digits with maps: mean a over the map = {a.mean():.3g}, a &gt; 0 somewhere "
                     f"for {np.mean(fires):.0%}")
        else:
            words = (f"<b>Unit {unit}</b> of layer 1, step {int(self.steps[k])}: its row of W<sub>1</sub>. On the probe "
                     f"digits: mean a = {a.mean():.3g}, a &gt; 0 for {np.mean(fires):.0%}")
        with hold_sync(self._title, self._picture, self._curve):
            self._title.value = _TEXT.format(f"{words}{' (silent)' if not a.any() else ''}.")
            self._picture.value = picture
            self._curve.value = self._plot.png()
            self._picture.layout.display = self._curve.layout.display = None

    def _activations(self):
        """``(mean a, a > 0)`` of the first layer, each (n_snap, n_probe, n_units); a CNN's over each map's
        positions (its a is (n_maps, h, w, c))."""
        if self._a is None:
            a = np.stack([self.trace.probe_record(int(s), exact=True).a[0] for s in self.steps])
            positions = tuple(range(2, a.ndim - 1))  # a CNN's map rows and columns; none for a dense layer
            self._a, self._fires = a.mean(axis=positions), (a > 0).any(axis=positions)
        return self._a, self._fires

    def _figure(self, unit):
        mean, fires = self._activations()
        a, fires = mean[:, :, unit], fires[:, :, unit]  # (n_snap, n_probe)
        fig = figures.new_figure(2.2, 1.7)
        fig.set_dpi(self.dpi)
        ax = fig.subplots()
        ax.plot(self.steps, a.mean(axis=1), color=figures.COLORS["train"], lw=1.6, marker="o", ms=2.5,
                label="mean a")
        ax.set_ylabel("mean a (solid)", fontsize=7)
        ax.set_xlim(0, max(int(self.steps[-1]), 1))
        ax.set_ylim(0, max(float(a.mean(axis=1).max()), 1e-6) * 1.1)
        share = ax.twinx()
        share.plot(self.steps, fires.mean(axis=1), color=figures.COLORS["val"], lw=1.2, ls="--",
                   label="a > 0")
        share.set_ylim(0, 1.05)
        share.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        for axis in (ax, share):
            axis.tick_params(labelsize=7)
        ax.set_xlabel("training step", fontsize=7)
        share.set_ylabel("a > 0 (dashed)", fontsize=7)
        cursor = ax.axvline(0, color=colours.INK, lw=1.0)
        return BlitFigure(fig, [cursor]), cursor
