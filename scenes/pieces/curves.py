"""A training curve drawn from a trace's per-step numbers, with a cursor."""

import numpy as np
from manim import DOWN, RIGHT, Axes, Dot, Integer, Text, VGroup

from explainer import figures

from ..palette import PALETTE

__all__ = ["LossCurve", "StepCounter", "NUMBER_SIZE"]

NUMBER_SIZE = 28  # the axes' numbers (DecimalNumbers, sized as MathTex): a digit 12 px high at 480p


class LossCurve(VGroup):
    """The batch loss at every step, on axes of steps by loss: a trailing moving mean
    (:func:`explainer.figures.smooth`), since the curve is drawn as training goes."""

    MAX_POINTS = 300  # drawn points: the smoothed curve looks the same, and redraws stay cheap

    def __init__(self, loss, width=5.5, height=3.0, smoothing=None, colour=PALETTE.loss, **kwargs):
        super().__init__(**kwargs)
        loss = np.asarray(loss, dtype=np.float64)
        n = len(loss)
        self.colour = colour
        self.smoothed = figures.smooth(loss, smoothing or max(1, n // 60), centred=False)
        self.every = max(1, n // self.MAX_POINTS)
        top = float(np.ceil(self.smoothed.max() * 2) / 2)
        self.axes = Axes(
            x_range=[0, n, _tick(n)], y_range=[0, top, _tick(top)], x_length=width, y_length=height,
            axis_config={"color": PALETTE.muted, "include_numbers": True, "font_size": NUMBER_SIZE},
            x_axis_config={"decimal_number_config": {"num_decimal_places": 0}},
            tips=False,
        )
        self.line = self._line(n - 1)
        self.cursor = Dot(self.axes.c2p(0, self.smoothed[0]), color=PALETTE.text, radius=0.06)
        self.add(self.axes, self.line, self.cursor)

    def upto(self, step):
        """The curve from step 0 to ``step``: a new line, for drawing it as training goes."""
        return self._line(int(np.clip(step, 1, len(self.smoothed) - 1)))

    def _line(self, last):
        steps = np.unique(np.append(np.arange(0, last + 1, self.every), last))
        return self.axes.plot_line_graph(steps, self.smoothed[steps], add_vertex_dots=False,
                                         line_color=self.colour, stroke_width=3)

    def drawn_upto(self, step_of):
        """The curve up to the step ``step_of()`` returns, redrawn as it moves (and only when it moves:
        at 60 frames a second most frames show the same snapshot)."""
        shown = {"step": int(step_of())}
        line = self.upto(shown["step"])

        def redraw(line):
            step = int(step_of())
            if step != shown["step"]:
                line.become(self.upto(step))
                shown["step"] = step

        return line.add_updater(redraw)

    def point_at(self, step):
        step = int(np.clip(step, 0, len(self.smoothed) - 1))
        return self.axes.c2p(step, self.smoothed[step])

    def follow(self, step_of):
        """Keep the cursor at the step ``step_of()`` returns."""
        self.cursor.add_updater(lambda dot: dot.move_to(self.point_at(step_of())))
        return self

    def labels(self, x="training step", y="loss"):
        """Axis labels, returned for the scene to place and animate."""
        style = {"font_size": 22, "color": PALETTE.muted}
        below = Text(x, **style).next_to(self.axes.x_axis, DOWN, buff=0.45)
        return VGroup(below, self.axes.get_y_axis_label(Text(y, **style)))


class StepCounter(VGroup):
    """"step 1,234": the training step shown, for scenes that scrub through a run."""

    def __init__(self, label_size=24, number_size=36, buff=0.15, **kwargs):
        super().__init__(Text("step", font_size=label_size, color=PALETTE.muted),
                         Integer(0, font_size=number_size, color=PALETTE.text), **kwargs)
        self.arrange(RIGHT, buff=buff)

    def follow(self, step_of):
        """Show the step ``step_of()`` returns; the number is rebuilt only when it changes (an Integer
        rebuilds every digit on each ``set_value``)."""

        def update(number):
            step = int(step_of())
            if step != number.get_value():
                number.set_value(step)

        self[1].add_updater(update)
        return self


def _tick(top, most=4):
    """A round tick spacing (1, 2 or 5 times a power of ten) giving at most ``most`` intervals from 0 to ``top``:
    few ticks, so that their numbers can be large enough to read at 480p."""
    if top <= 0:
        return 1
    step = 10 ** np.floor(np.log10(top / most))  # step <= top / most < 10 step
    for factor in (1, 2, 5, 10):
        if top / (step * factor) <= most:
            return float(step * factor)
    return float(step * 10)  # (not reached)
