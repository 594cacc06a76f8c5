"""A loss landscape as a heat map: the network's loss over a plane through its weights, coloured by the log
of the loss, with contour lines, tick numbers along its axes (:class:`LossMap`) and a colour bar
(:class:`ColourBar`). GradientDescent draws the landscape that :mod:`explainer.landscape` computed."""

import numpy as np
from contourpy import contour_generator
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Group,
    ImageMobject,
    Line,
    ManimColor,
    Rectangle,
    Text,
    VGroup,
    VMobject,
    interpolate_color,
)

from ..palette import PALETTE

__all__ = ["LossMap", "ColourBar", "ramp", "MAP", "PIXELS"]

MAP = 4.6  # side of the heat map, in scene units
PIXELS = 240  # the heat map's image, upsampled from the grid


def text(s, size=22, colour=PALETTE.muted):
    return Text(s, font_size=size, color=colour)


def ramp(t):
    """Colours for t in [0, 1] (n,) -> (n, 3) floats: low loss dark, through the loss colour, to bright."""
    stops = [interpolate_color(ManimColor(PALETTE.background), ManimColor(PALETTE.loss), 0.25),
             ManimColor(PALETTE.loss), ManimColor(PALETTE.activation)]
    rgb = np.array([c.to_rgb() for c in stops])  # (3, 3)
    t = np.clip(np.asarray(t, dtype=np.float64), 0, 1) * (len(stops) - 1)
    k = np.minimum(t.astype(int), len(stops) - 2)
    f = (t - k)[..., None]
    return rgb[k] * (1 - f) + rgb[k + 1] * f


class LossMap(Group):
    """The landscape's loss as a heat map (colour: log of the loss) with contour lines, ``MAP`` units a side."""

    def __init__(self, land, levels, **kwargs):
        super().__init__(**kwargs)
        self.ends = (land.alpha[0], land.alpha[-1], land.beta[0], land.beta[-1])  # the grid's corners
        self.low, self.high = np.log(land.loss.min()), np.log(land.loss.max())
        fine_a, fine_b = (np.linspace(v[0], v[-1], PIXELS) for v in (land.alpha, land.beta))
        rows = np.array([np.interp(fine_a, land.alpha, row) for row in np.log(land.loss)])  # (n, PIXELS)
        grid = np.array([np.interp(fine_b, land.beta, col) for col in rows.T]).T  # (PIXELS, PIXELS)
        rgb = ramp(self.share(grid[::-1]))  # the image's first row is the top: the largest beta
        image = ImageMobject(np.concatenate([(rgb * 255).round(), np.full((*rgb.shape[:2], 1), 255)],
                                            axis=-1).astype(np.uint8))
        image.height = MAP
        self.image = image
        self.frame = Rectangle(width=MAP, height=MAP, stroke_color=PALETTE.muted, stroke_width=1.5)
        self.contours = VGroup()
        lines = contour_generator(x=land.alpha, y=land.beta, z=land.loss)
        for level in levels:
            for line in lines.lines(level):
                if len(line) > 1:
                    self.contours.add(VMobject(stroke_color=PALETTE.text, stroke_width=1.5, stroke_opacity=0.45)
                                      .set_points_as_corners([self.point(a, b) for a, b in line]))
        self.add(image, self.contours, self.frame)

    def share(self, log_loss):
        """Where log(loss) lies between the landscape's least and greatest, 0 to 1."""
        return (log_loss - self.low) / ((self.high - self.low) or 1.0)

    def point(self, alpha, beta):
        """The scene point of (alpha, beta); follows the map when it moves."""
        (a0, a1, b0, b1), centre = self.ends, self.image.get_center()
        x = (alpha - a0) / (a1 - a0) - 0.5
        y = (beta - b0) / (b1 - b0) - 0.5
        return centre + np.array([x * MAP, y * MAP, 0.0])

    def axes_ticks(self, alpha_ticks, beta_ticks):
        """Tick numbers along the bottom (alpha) and the left (beta) edges."""
        ticks = VGroup()
        bottom, left = self.frame.get_bottom()[1], self.frame.get_left()[0]
        for a in alpha_ticks:
            p = self.point(a, self.ends[2])
            ticks.add(Line(p, p + DOWN * 0.1, stroke_color=PALETTE.muted, stroke_width=1.5),
                      text(f"{a:g}", 20).move_to([p[0], bottom - 0.28, 0]))
        for b in beta_ticks:
            p = self.point(self.ends[0], b)
            ticks.add(Line(p, p + LEFT * 0.1, stroke_color=PALETTE.muted, stroke_width=1.5),
                      text(f"{b:g}", 20).next_to([left - 0.1, p[1], 0], LEFT, buff=0.08))
        return ticks


class ColourBar(Group):
    """The heat map's legend: its colours from the least to the greatest loss, with loss values beside."""

    def __init__(self, loss_map, ticks, height=MAP, width=0.28, **kwargs):
        super().__init__(**kwargs)
        t = np.linspace(1, 0, 200)  # top: the greatest loss
        rgb = np.repeat(ramp(t)[:, None, :], 8, axis=1)
        image = ImageMobject(np.concatenate([(rgb * 255).round(), np.full((*rgb.shape[:2], 1), 255)],
                                            axis=-1).astype(np.uint8))
        image.stretch_to_fit_height(height).stretch_to_fit_width(width)
        frame = Rectangle(width=width, height=height, stroke_color=PALETTE.muted, stroke_width=1)
        labels = VGroup()
        for value in ticks:
            y = (loss_map.share(np.log(value)) - 0.5) * height
            labels.add(Line([width / 2, y, 0], [width / 2 + 0.1, y, 0], stroke_color=PALETTE.muted, stroke_width=1.5),
                       text(f"{value:g}", 20, PALETTE.text).next_to([width / 2 + 0.1, y, 0], RIGHT, buff=0.08))
        title = text("loss", 22).next_to(frame, UP, buff=0.15)
        self.add(image, frame, labels, title)
