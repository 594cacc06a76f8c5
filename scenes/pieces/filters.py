"""The first layer's weights as a grid of small images, one per hidden unit.

Row ``j`` of the first layer's ``W`` holds unit ``j``'s weight on every input
pixel; reshaped to the image (8x8 or 28x28) it shows what the unit responds
to. Colours: :func:`scenes.palette.diverging_rgba` with one range for every
snapshot, so a change of colour is a change of weight.

The grid is drawn as one image (a mosaic of the tiles, one background pixel
between them): Manim resamples each image on every frame, and one image of
64 tiles costs what one tile costs.
"""

import numpy as np
from manim import DOWN, RIGHT, UL, ImageMobject, ManimColor, Rectangle

from ..palette import PALETTE, diverging_rgba, symmetric_limit

__all__ = ["FilterGrid", "mosaic"]


def mosaic(tiles, columns, background):
    """Lay ``tiles`` (n, h, w, 4) out ``columns`` to a row, one ``background`` pixel apart."""
    n, h, w, _ = tiles.shape
    rows = -(-n // columns)
    out = np.empty((rows * (h + 1) - 1, columns * (w + 1) - 1, 4), dtype=np.uint8)
    out[...] = background
    for j in range(n):
        r, c = divmod(j, columns)
        out[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = tiles[j]
    return out


class FilterGrid(ImageMobject):
    """Filters of ``n_units`` hidden units at every snapshot, as one image.

    Parameters
    ----------
    filters : array (n_snapshots, n_units, height, width)
        First-layer weights per snapshot (``Trace.first_layer_filters``), already
        cut to the units to show.
    columns : int
        Tiles per row.
    height : float
        Height of the whole grid, in scene units.
    """

    def __init__(self, filters, columns=8, height=6.0, **kwargs):
        self.filters = np.asarray(filters)
        self.columns = columns
        self.limit = symmetric_limit(self.filters)
        background = (np.array(ManimColor(PALETTE.background).to_rgba()) * 255).astype(np.uint8)
        colours = diverging_rgba(self.filters, self.limit)  # (n_snapshots, n_units, h, w, 4)
        self.frames = np.stack([mosaic(c, columns, background) for c in colours])
        super().__init__(self.frames[0].copy(), **kwargs)
        self.set_resampling_algorithm(0)  # nearest: pixels stay square
        self.height = height
        self.index = 0

    def tile(self, k, j):
        """The RGBA pixels of unit ``j``'s tile at snapshot ``k`` (for checking)."""
        h, w = self.filters.shape[2:]
        r, c = divmod(j, self.columns)
        return self.frames[k, r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w]

    def tile_box(self, j, color, buff=0.5):
        """A rectangle around unit ``j``'s tile, ``buff`` pixels outside it (within the gap between tiles)."""
        h, w = self.filters.shape[2:]
        r, c = divmod(j, self.columns)
        px = self.height / self.frames.shape[1]  # scene units per pixel of the mosaic
        corner = self.get_corner(UL) + (c * (w + 1) - buff) * px * RIGHT + (r * (h + 1) - buff) * px * DOWN
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
