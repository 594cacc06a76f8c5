"""A convolutional network's pictures in a scene: signed numbers in coloured cells (a kernel's weights, the
products under it), and a layer's feature maps as one mosaic lit from the background to yellow.

The signed cells take the filters' colours (:func:`explainer.filters.filter_rgb`: red positive, white 0,
blue negative), so a kernel looks the same here as in FirstLayerFilters and the figures. A map's ``a``
lights it as a neuron is lit in the network diagram: the background at 0, yellow at the layer's largest.
"""

import numpy as np
from manim import DOWN, RIGHT, ImageMobject, ManimColor, Square, Text, VGroup

from explainer import filter_rgb

from ..palette import PALETTE
from .light import light

__all__ = ["ValueGrid", "MapMosaic", "short_number", "lit_rgba", "mosaic"]


def short_number(v):
    """A value as written in a small cell: ``-.35``, ``.04``, ``1.2``, ``0`` (two decimals, no leading zero)."""
    v = round(float(v), 2)
    if v == 0:
        return "0"
    if abs(v) >= 9.95:
        return f"{v:.0f}"
    if abs(v) >= 0.995:
        return f"{v:.1f}".removesuffix(".0")  # 1.00 -> "1", 2.71 -> "2.7"
    return f"{v:.2f}".replace("0.", ".", 1)


class ValueGrid(VGroup):
    """``values`` (rows, cols) written in cells of the filters' colours on ``±vmax``; ``cells[r][c]`` is
    ``VGroup(square, text)`` and ``written[r][c]`` the text it shows."""

    def __init__(self, values, vmax, cell=0.55, font_size=20, **kwargs):
        super().__init__(**kwargs)
        self.values = values = np.asarray(values, dtype=np.float64)
        rgb = filter_rgb(values, vmax) / 255  # (rows, cols, 3)
        rows, cols = values.shape
        self.written = [[short_number(values[r, c]) for c in range(cols)] for r in range(rows)]
        self.cells = []
        made = {}  # one Text per distinct number and ink, copied: making a Text is the slow part
        for r in range(rows):
            line = []
            for c in range(cols):
                square = Square(cell, stroke_color=PALETTE.muted, stroke_width=1).set_fill(
                    ManimColor(rgb[r, c]), opacity=1)
                square.move_to(RIGHT * c * cell + DOWN * r * cell)
                dark_ink = 0.2126 * rgb[r, c, 0] + 0.7152 * rgb[r, c, 1] + 0.0722 * rgb[r, c, 2] > 0.5
                key = (self.written[r][c], dark_ink)
                if key not in made:
                    made[key] = light(Text(key[0], font_size=font_size,
                                           color=PALETTE.background if dark_ink else PALETTE.text))
                item = VGroup(square, made[key].copy().move_to(square))
                line.append(item)
                self.add(item)
            self.cells.append(line)
        self.center()


def lit_rgba(a, vmax):
    """Values ``a`` >= 0 as RGBA bytes, from the background (0) to the activation's yellow (``vmax`` and above)."""
    back = np.array(ManimColor(PALETTE.background).to_rgb())
    lit = np.array(ManimColor(PALETTE.activation).to_rgb())
    t = np.clip(np.asarray(a, dtype=np.float64) / (vmax or 1.0), 0, 1)[..., None]
    rgb = np.round(255 * (back + t * (lit - back))).astype(np.uint8)
    return np.concatenate([rgb, np.full((*rgb.shape[:-1], 1), 255, np.uint8)], axis=-1)


def mosaic(a, columns, gap=1):
    """A layer's maps ``a`` (h, w, c) laid out ``columns`` to a row, ``gap`` pixels apart: ``(values, mask)``,
    both (rows * (h + gap) - gap, columns * (w + gap) - gap); ``mask`` is True on the maps' pixels."""
    h, w, c = a.shape
    rows = -(-c // columns)
    values = np.zeros((rows * (h + gap) - gap, columns * (w + gap) - gap))
    mask = np.zeros(values.shape, bool)
    for m in range(c):
        r, k = divmod(m, columns)
        values[r * (h + gap) : r * (h + gap) + h, k * (w + gap) : k * (w + gap) + w] = a[..., m]
        mask[r * (h + gap) : r * (h + gap) + h, k * (w + gap) : k * (w + gap) + w] = True
    return values, mask


class MapMosaic(ImageMobject):
    """A layer's maps ``a`` (h, w, c), ``columns`` to a row, lit to ``vmax`` (default: their largest), in a
    box ``width`` x ``height`` units (the mosaic keeps its shape); grey gaps between the maps.

    ``values`` is the mosaic as drawn: map ``m`` of ``a``, each value ``zoom`` x ``zoom`` pixels, in its place
    (:meth:`tile` gives it back)."""

    def __init__(self, a, columns, width, height, vmax=None, **kwargs):
        self.a = np.asarray(a)
        self.vmax = float(self.a.max()) if vmax is None else float(vmax)
        self.columns = columns
        self.zoom = zoom = -(-12 // self.a.shape[0])  # small maps drawn 2, 3, ... pixels a value: the gaps stay thin
        big = np.repeat(np.repeat(self.a, zoom, axis=0), zoom, axis=1)
        self.values, mask = mosaic(big, columns, gap=max(1, big.shape[0] // 12))
        rgba = lit_rgba(self.values, self.vmax or 1.0)
        rgba[~mask] = (*np.round(255 * np.array(ManimColor(PALETTE.muted).to_rgb())).astype(np.uint8), 255)
        super().__init__(rgba, **kwargs)
        self.set_resampling_algorithm(0)  # nearest: pixels stay square
        rows, cols = self.values.shape
        if cols / rows > width / height:
            self.width = width
        else:
            self.height = height

    def tile(self, m):
        """Map ``m`` as drawn in the mosaic, one value a pixel again: equal to ``a[..., m]``."""
        h, w, _ = self.a.shape
        z, gap = self.zoom, max(1, h * self.zoom // 12)
        r, k = divmod(m, self.columns)
        y, x = r * (h * z + gap), k * (w * z + gap)
        return self.values[y : y + h * z : z, x : x + w * z : z]
