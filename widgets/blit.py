"""A matplotlib figure drawn once, then updated by redrawing only what moves (blitting).

Drawing a whole figure costs tens of milliseconds; a step change must cost
less. So the axes, labels, curves and legends are drawn once into an Agg
buffer and kept; the *animated* artists (a cursor line, histogram bars, an
image, a title) are redrawn over a copy of that background::

    fig = new_figure(6, 3); ax = fig.subplots()
    ax.plot(steps, loss)
    cursor = ax.axvline(0, color="k")
    plot = BlitFigure(fig, [cursor])       # draws everything else once
    cursor.set_xdata([step]); png = plot.png()

The axes limits must be fixed before the first draw (an animated artist does
not rescale anything).
"""

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg

from .common import png_bytes

__all__ = ["BlitFigure"]


class BlitFigure:
    """``fig`` with its static part drawn once; ``png()`` redraws ``animated`` over it."""

    def __init__(self, fig, animated):
        self.fig = fig
        self.canvas = FigureCanvasAgg(fig)
        self.animated = list(animated)
        for artist in self.animated:
            artist.set_animated(True)
        self.canvas.draw()  # lays out (constrained layout) and draws everything but the animated artists
        fig.set_layout_engine("none")  # the layout is done; a later draw must not move anything
        self._background = self.canvas.copy_from_bbox(fig.bbox)

    def add(self, *artists):
        """More animated artists, made after the background was drawn (they must fit the fixed layout)."""
        for artist in artists:
            artist.set_animated(True)
            self.animated.append(artist)

    def render(self):
        """The figure with the animated artists' current state: (height, width, 3) uint8."""
        self.canvas.restore_region(self._background)
        for artist in self.animated:
            if artist.get_visible():
                self.fig.draw_artist(artist)
        return np.asarray(self.canvas.buffer_rgba())[..., :3]

    def png(self):
        """PNG bytes of :meth:`render`."""
        return png_bytes(self.render())
