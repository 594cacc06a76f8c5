"""Two or more runs' loss curves on one pair of axes, each drawn as its training goes, with a cursor each."""

import numpy as np
from manim import DOWN, Axes, Dot, Text, VGroup

from explainer import figures

from ..palette import PALETTE
from .curves import NUMBER_SIZE, _tick

__all__ = ["RunCurves"]


class RunCurves(VGroup):
    """The batch loss of every run (a trailing moving mean, as :class:`~explainer.scenes.pieces.LossCurve`'s).

    Parameters
    ----------
    losses : list of arrays (n_steps_i,)
        Each run's per-step loss (``trace.scalars["loss"]``).
    colours : list of str
        One colour per run.
    by_fraction : bool
        x is the fraction of training (runs of different lengths) instead of the step.
    """

    MAX_POINTS = 300

    def __init__(self, losses, colours, by_fraction=False, width=9.0, height=2.6, **kwargs):
        super().__init__(**kwargs)
        self.by_fraction = by_fraction
        self.smoothed = [figures.smooth(np.asarray(loss, dtype=float), max(1, len(loss) // 60), centred=False)
                         for loss in losses]
        self.colours = list(colours)
        top = float(np.ceil(max(s.max() for s in self.smoothed) * 2) / 2)
        right = 1.0 if by_fraction else max(len(s) - 1 for s in self.smoothed)
        self.axes = Axes(
            x_range=[0, right, 0.25 if by_fraction else _tick(right)], y_range=[0, top, _tick(top)],
            x_length=width, y_length=height, tips=False,
            axis_config={"color": PALETTE.muted, "include_numbers": True, "font_size": NUMBER_SIZE},
            x_axis_config={"decimal_number_config": {"num_decimal_places": 2 if by_fraction else 0}},
        )
        self.cursors = VGroup(*(Dot(self.point_at(i, 0), color=c, radius=0.07) for i, c in enumerate(self.colours)))
        self.add(self.axes, self.cursors)

    def x(self, i, step):
        """Where run ``i``'s ``step`` sits along x."""
        return step / max(len(self.smoothed[i]) - 1, 1) if self.by_fraction else step

    def point_at(self, i, step):
        step = int(np.clip(step, 0, len(self.smoothed[i]) - 1))
        return self.axes.c2p(self.x(i, step), self.smoothed[i][step])

    def upto(self, i, step):
        """Run ``i``'s curve from step 0 to ``step``."""
        last = int(np.clip(step, 1, len(self.smoothed[i]) - 1))
        every = max(1, len(self.smoothed[i]) // self.MAX_POINTS)
        steps = np.unique(np.append(np.arange(0, last + 1, every), last))
        return self.axes.plot_line_graph(self.x(i, steps), self.smoothed[i][steps], add_vertex_dots=False,
                                         line_color=self.colours[i], stroke_width=3)

    def drawn_upto(self, i, step_of):
        """Run ``i``'s curve up to the step ``step_of()`` returns, redrawn only when that step changes."""
        shown = {"step": int(step_of())}
        line = self.upto(i, shown["step"])

        def redraw(line):
            step = int(step_of())
            if step != shown["step"]:
                line.become(self.upto(i, step))
                shown["step"] = step

        return line.add_updater(redraw)

    def follow(self, steps_of):
        """Keep each run's cursor at its step; ``steps_of()`` returns every run's step."""
        for i, cursor in enumerate(self.cursors):
            cursor.add_updater(lambda dot, i=i: dot.move_to(self.point_at(i, steps_of()[i])))
        return self

    def labels(self):
        """Axis labels, returned for the scene to place and animate."""
        style = {"font_size": 22, "color": PALETTE.muted}
        below = Text("fraction of training" if self.by_fraction else "training step", **style)
        return VGroup(below.next_to(self.axes.x_axis, DOWN, buff=0.45),
                      self.axes.get_y_axis_label(Text("loss", **style)))
