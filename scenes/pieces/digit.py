"""A digit as a sheet of paper, one square per pixel, drawn from the probe image.

Dark ink on light paper, as in the figures and the dashboards
(:func:`explainer.colours.digit_rgb`): on the scenes' dark background the
digit is a light tile.
"""

import numpy as np
from manim import DOWN, RIGHT, ImageMobject, Square, VGroup

from explainer import colours

from ..palette import PALETTE

__all__ = ["DigitImage", "grey_rgba"]


def grey_rgba(pixels):
    """Pixel values in [0, 1] (ink = 1) to RGBA bytes: ink on paper (:func:`explainer.colours.digit_rgb`)."""
    rgb = colours.digit_rgb(pixels)  # (..., 3)
    return np.concatenate([rgb, np.full((*rgb.shape[:-1], 1), 255, dtype=np.uint8)], axis=-1)


class DigitImage(ImageMobject):
    """The probe image ``x`` (flattened) shown at ``shape`` (8x8 or 28x28), ``height`` units high."""

    def __init__(self, x, shape, height=3.0, **kwargs):
        self.values = np.asarray(x).reshape(shape)
        super().__init__(grey_rgba(self.values), **kwargs)
        self.set_resampling_algorithm(0)  # nearest: pixels stay square
        self.height = height

    def pixel_center(self, i):
        """Where pixel ``i`` (an index into the flattened image, row by row) is drawn now."""
        rows, cols = self.values.shape
        r, c = divmod(int(i), cols)
        return self.get_corner(np.array([-1, 1, 0])) + RIGHT * (c + 0.5) * self.width / cols \
            + DOWN * (r + 0.5) * self.height / rows

    def pixel_marks(self, indices, colour=PALETTE.activation):
        """Outlined squares on the pixels ``indices``: which ones a network diagram shows."""
        side = self.height / self.values.shape[0]
        return VGroup(*[Square(side, stroke_color=colour, stroke_width=2).move_to(self.pixel_center(i))
                        for i in indices])
