"""Pixels as pictures and as numbers: signed values in the filters' colours (with their legend),
a digit's ink outlined over another picture of the same shape, and pixel values written out.

A weight image is coloured by the rule of every picture of the filters
(:func:`explainer.filters.filter_rgb`: red positive, white 0, blue negative,
``±vmax`` the ends), so a unit's weights look the same here as in
FirstLayerFilters, the figures and the dashboards.
"""

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UL,
    UP,
    Group,
    ImageMobject,
    Line,
    ManimColor,
    Rectangle,
    Square,
    Text,
    VGroup,
    VMobject,
)

from explainer import filter_rgb

from ..palette import PALETTE
from .digit import grey_rgba
from .light import light

__all__ = ["SignedImage", "SignLegend", "InkOutline", "NumberGrid", "pixel_box", "pixel_number"]


def _rgba(rgb):
    return np.concatenate([rgb, np.full((*rgb.shape[:-1], 1), 255, dtype=np.uint8)], axis=-1)


class SignedImage(ImageMobject):
    """``values`` (rows, cols) in the filters' colours with the range ``±vmax``, ``height`` units high
    (or ``width`` units wide, if given)."""

    def __init__(self, values, vmax, height=2.5, width=None, **kwargs):
        self.values, self.vmax = np.asarray(values, dtype=np.float64), float(vmax)
        super().__init__(_rgba(filter_rgb(self.values, self.vmax)), **kwargs)
        self.set_resampling_algorithm(0)  # nearest: pixels stay square
        if width is not None:
            self.width = width
        else:
            self.height = height

    def reveal(self, n, hidden=None):
        """Show the first ``n`` values in reading order; the rest in ``hidden``'s colour (the background)."""
        colours = _rgba(filter_rgb(self.values, self.vmax)).reshape(-1, 4)
        back = np.array([*(np.array(ManimColor(hidden or PALETTE.background).to_rgb()) * 255).round(), 255])
        colours[int(n):] = back.astype(np.uint8)
        self.pixel_array = colours.reshape(*self.values.shape, 4)
        return self


def pixel_box(image, i, colour=PALETTE.activation, stroke_width=3, min_side=0.0):
    """A square around pixel ``i`` (reading order) of an image mobject of ``shape`` = its pixel array's."""
    rows, cols = image.pixel_array.shape[:2]
    r, c = divmod(int(i), cols)
    w, h = image.width / cols, image.height / rows
    centre = image.get_corner(UL) + RIGHT * (c + 0.5) * w + DOWN * (r + 0.5) * h
    return Rectangle(width=max(w, min_side), height=max(h, min_side), stroke_color=colour,
                     stroke_width=stroke_width).move_to(centre)


class SignLegend(Group):
    """A colour bar of the filters' colours from ``-vmax`` (blue) to ``+vmax`` (red), its ends and 0 written,
    and ``caption`` above it."""

    def __init__(self, vmax, caption, width=2.6, number=None, **kwargs):
        super().__init__(**kwargs)
        ramp = np.linspace(-1, 1, 101)[None, :] * vmax
        bar = ImageMobject(_rgba(filter_rgb(ramp, vmax)))
        bar.stretch_to_fit_width(width).stretch_to_fit_height(0.16)
        frame = Rectangle(width=width, height=0.16, stroke_color=PALETTE.muted, stroke_width=1).move_to(bar)
        number = number or (lambda v: f"{v:.2g}")
        style = {"font_size": 20, "color": PALETTE.muted}
        ends = light(VGroup(Text(f"-{number(vmax)}", **style).next_to(frame, DOWN, buff=0.08).align_to(frame, LEFT),
                            Text("0", **style).next_to(frame, DOWN, buff=0.08),
                            Text(f"+{number(vmax)}", **style).next_to(frame, DOWN, buff=0.08).align_to(frame, RIGHT)))
        title = light(Text(caption, **style)).next_to(frame, UP, buff=0.08)
        self.add(bar.move_to(frame), frame, ends, title)


class InkOutline(VMobject):
    """The outline of a digit's ink (pixels of at least ``threshold``), drawn over ``image``
    (any image mobject of the digit's shape): where the ink meets the picture under it."""

    def __init__(self, x, shape, image, threshold=0.5, colour=PALETTE.background, stroke_width=3, **kwargs):
        super().__init__(stroke_color=colour, stroke_width=stroke_width, **kwargs)
        ink = np.asarray(x).reshape(shape) >= threshold
        rows, cols = shape
        w, h = image.width / cols, image.height / rows
        corner = image.get_corner(UL)

        def at(r, c):
            return corner + RIGHT * c * w + DOWN * r * h

        padded = np.pad(ink, 1)
        for r in range(rows):
            for c in range(cols):
                if not ink[r, c]:
                    continue
                if not padded[r, c + 1]:  # the pixel above is paper
                    self.append_points(Line(at(r, c), at(r, c + 1)).points)
                if not padded[r + 2, c + 1]:  # below
                    self.append_points(Line(at(r + 1, c), at(r + 1, c + 1)).points)
                if not padded[r + 1, c]:  # left
                    self.append_points(Line(at(r, c), at(r + 1, c)).points)
                if not padded[r + 1, c + 2]:  # right
                    self.append_points(Line(at(r, c + 1), at(r + 1, c + 1)).points)


def pixel_number(v):
    """A pixel value as written in a cell: ``0``, ``1``, ``.88``, the leading zero dropped to fit."""
    v = float(v)
    if v == 0 or v == 1:
        return f"{v:.0f}"
    return f"{v:.2f}".lstrip("0")


class NumberGrid(VGroup):
    """Pixel values (rows, cols) written in cells of their own grey (ink on paper, as the digit is drawn)."""

    def __init__(self, values, cell=0.6, font_size=20, **kwargs):
        super().__init__(**kwargs)
        values = np.asarray(values)
        rgba = grey_rgba(values)
        ink, paper = ManimColor(PALETTE.background), ManimColor(PALETTE.text)  # the number's, on light/dark
        rows, cols = values.shape
        made = {}  # one Text per distinct number and colour, copied: making a Text is the slow part
        for r in range(rows):
            for c in range(cols):
                rgb = rgba[r, c, :3] / 255
                square = Square(cell, stroke_color=PALETTE.muted, stroke_width=1).set_fill(
                    ManimColor(rgb), opacity=1)
                square.move_to(RIGHT * c * cell + DOWN * r * cell)
                lum = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]
                key = (pixel_number(values[r, c]), lum > 0.5)
                if key not in made:
                    made[key] = light(Text(key[0], font_size=font_size, color=ink if key[1] else paper))
                text = made[key].copy().move_to(square)
                self.add(VGroup(square, text))
        self.center()

