"""The first layer's weights as a grid of small images, one per hidden unit.

Row ``j`` of the first layer's ``W`` holds unit ``j``'s weight on every input
pixel; reshaped to the image (8x8 or 28x28) it shows what the unit responds
to. Colours and layout are those of every picture of the filters
(:mod:`explainer.filters`): one range for the whole run, so a change of
colour is a change of weight, and the video shows the same colours as the
figure and the dashboards.

The grid is drawn as one image (a mosaic of the tiles, one background pixel
between them): Manim resamples each image on every frame, and one image of
64 tiles costs what one tile costs.
"""

import numpy as np
from manim import DOWN, RIGHT, UL, ImageMobject, ManimColor, Rectangle

from explainer import filter_mosaic, filter_palette, tile_origin

from ..palette import PALETTE

__all__ = ["FilterGrid"]

GAP = 1  # background pixels between tiles


class FilterGrid(ImageMobject):
    """Filters of ``n_units`` hidden units at every snapshot, as one image.

    Parameters
    ----------
    filters : array (n_snapshots, n_units, height, width)
        First-layer weights per snapshot (``Trace.first_layer_filters``), already
        cut to the units to show.
    vmax : float
        The colour range, ``±vmax``: the run's (:func:`explainer.filter_range`).
    columns : int
        Tiles per row.
    height : float
        Height of the whole grid, in scene units.
    """

    def __init__(self, filters, vmax, columns=8, height=6.0, **kwargs):
        self.filters = np.asarray(filters)
        self.columns, self.vmax = columns, vmax
        background = (np.array(ManimColor(PALETTE.background).to_rgb()) * 255).round()
        palette = filter_palette(background)  # the filters' shades; the gaps in the scene's background
        rgba = np.hstack([palette, np.full((len(palette), 1), 255, dtype=np.uint8)])  # opaque
        self.frames = np.stack([rgba[filter_mosaic(f, vmax, scale=1, cols=columns, gap=GAP)] for f in self.filters])
        super().__init__(self.frames[0].copy(), **kwargs)
        self.set_resampling_algorithm(0)  # nearest: pixels stay square
        self.height = height
        self.index = 0

    def _origin(self, j):
        return tile_origin(j, self.filters.shape[2:], 1, self.columns, GAP)

    def tile(self, k, j):
        """The RGBA pixels of unit ``j``'s tile at snapshot ``k`` (for checking)."""
        (y, x), (h, w) = self._origin(j), self.filters.shape[2:]
        return self.frames[k, y : y + h, x : x + w]

    def tile_box(self, j, color, buff=0.5):
        """A rectangle around unit ``j``'s tile, ``buff`` pixels outside it (within the gap between tiles)."""
        (y, x), (h, w) = self._origin(j), self.filters.shape[2:]
        px = self.height / self.frames.shape[1]  # scene units per pixel of the mosaic
        corner = self.get_corner(UL) + (x - buff) * px * RIGHT + (y - buff) * px * DOWN
        box = Rectangle(width=(w + 2 * buff) * px, height=(h + 2 * buff) * px, color=color, stroke_width=3)
        return box.move_to(corner, aligned_edge=UL)

    def show(self, k):
        """Show snapshot ``k``."""
        k = int(np.clip(round(k), 0, len(self.frames) - 1))
        if k != self.index:
            self.pixel_array = self.frames[k].copy()
            self.index = k
        return self

    def follow(self, tracker):
        """Keep showing the snapshot whose index ``tracker`` holds."""
        return self.add_updater(lambda grid: grid.show(tracker.get_value()))
