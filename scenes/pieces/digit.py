"""A digit as a grid of grey squares, one per pixel, drawn from the probe image."""

import numpy as np
from manim import ImageMobject

__all__ = ["DigitImage", "grey_rgba"]


def grey_rgba(pixels):
    """Pixel values in [0, 1] (ink = 1) to RGBA bytes: ink white on the dark background."""
    g = (np.clip(np.asarray(pixels, dtype=np.float64), 0, 1) * 255).round().astype(np.uint8)
    return np.stack([g, g, g, np.full_like(g, 255)], axis=-1)


class DigitImage(ImageMobject):
    """The probe image ``x`` (flattened) shown at ``shape`` (8x8 or 28x28), ``height`` units high."""

    def __init__(self, x, shape, height=3.0, **kwargs):
        self.values = np.asarray(x).reshape(shape)
        super().__init__(grey_rgba(self.values), **kwargs)
        self.set_resampling_algorithm(0)  # nearest: pixels stay square
        self.height = height
