"""The first layer's weights drawn as images: what each hidden unit looks for.

Row ``j`` of the first layer's ``W`` (n_hidden, n_in) holds unit ``j``'s
weight on every input pixel; reshaped to the image's height and width it shows
the pattern that makes ``z[j]`` large (red: ink there raises ``z[j]``; blue:
ink there lowers it).

A unit whose ``a`` was 0 for every probe digit at that step is marked
*silent*: a ReLU unit that is 0 for every input passes no gradient back, so
its weights stop learning (and weight decay shrinks them toward a blank tile).

The colours are those of every picture of the filters (:mod:`explainer.filters`):
one range per run, so the same weight looks the same here, in the scene and
in the dashboards, and at every step.
"""

import math

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import ListedColormap, Normalize

from .. import colours
from ..filters import PERCENTILE, SHADES, filter_palette, filter_range, filter_rgb
from ..trace import TraceError
from .style import check_count, describe_step, new_figure, wrap

__all__ = ["filters", "MAX_FILTERS"]

MAX_FILTERS = 64  # units shown unless asked for more: beyond that the tiles get too small to read


def filters(trace, step=None, n=None):
    """First-layer weights ``W`` at the snapshot nearest ``step`` (default: the last), one tile per unit.

    Parameters
    ----------
    trace : Trace
    step : int, optional
        The training step to show; the nearest snapshot is drawn, and the
        title says which.
    n : int, optional
        How many units (rows of ``W``) to draw, from the first: default all,
        at most 64.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes[j]`` (j < n) shows unit j: its image is ``W[j]`` reshaped
        to ``trace.image_shape``, in the filters' colours
        (:func:`explainer.filters.filter_rgb`, RGB) on the run's range
        ``±vmax`` (:func:`explainer.filters.filter_range`), which the colour
        bar shows. The title of a unit that was silent (``a = 0``) for every
        probe digit at that step says so.
    """
    if trace.is_cnn:
        raise TraceError(f"the filters figure shows a dense first layer's rows of W, and {trace.path.name} is a "
                         "convolutional network's run: use the kernels figure (explainer.figures.kernels)")
    s, words = describe_step(trace, step)
    images = trace.first_layer_filters(s)  # (n_hidden, height, width): W reshaped
    n_hidden = len(images)
    n = min(n_hidden, MAX_FILTERS) if n is None else check_count("n", n, n_hidden)
    shown = images[:n]  # (n, height, width)
    silent = set(trace.silent_units(s).tolist())
    vmax = filter_range(trace)  # one range for the whole run: the same colours at every step

    label_tiles = n <= MAX_FILTERS
    fig, width = tile_grid(shown, vmax, silent, "unit" if label_tiles else None)

    h, w = trace.image_shape
    which = f"all {n} hidden units" if n == n_hidden else f"the first {n} of {n_hidden} hidden units"
    fig.suptitle(wrap(f"What {which} of layer 1 look for: each tile is one row of W on the {h}×{w} input "
                      f"pixels, at {words}", width), fontsize=12)
    caption = (f"Red: ink on that pixel raises the unit's z; blue: ink there lowers it. Colours span "
               f"±{vmax:.3g} at every step of the run (the largest {PERCENTILE}th percentile of |W| at any "
               "snapshot), so pale tiles are small weights; larger ones show at full colour.")
    if label_tiles and any(j < n for j in silent):
        caption += (f" Silent: a = 0 for all {len(trace.probe_labels)} probe digits at this step; a ReLU unit "
                    "that never fires gets no gradient, so its weights stop learning.")
    fig.supxlabel(wrap(caption, width, 10), fontsize=10)
    return fig


def tile_grid(images, vmax, silent, name):
    """A figure of ``images`` (n, h, w) as square-ish rows of tiles in the filters' colours on ``±vmax``, with
    one colour bar; each tile titled ``"{name} j"`` (``": silent"`` for ``j`` in ``silent``), or untitled if
    ``name`` is None. Returns the figure and its width in inches (for the caller's title)."""
    n = len(images)
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    tile = 0.95 if n > 16 else 1.25  # inches
    width = max(6.0, cols * tile + 1.4)
    fig = new_figure(width, rows * tile + 1.8)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for j, ax in enumerate(axes):
        ax.set_xticks([])
        ax.set_yticks([])
        if j >= n:
            ax.set_visible(False)
            continue
        ax.imshow(filter_rgb(images[j], vmax), interpolation="nearest")
        if name is not None:
            if j in silent:
                ax.set_title(f"{name} {j}: silent", fontsize=9, pad=2, color=colours.MUTED)
            else:
                ax.set_title(f"{name} {j}", fontsize=9, pad=2)
    shades = ScalarMappable(Normalize(-vmax, vmax), ListedColormap(filter_palette()[:SHADES] / 255))
    cbar = fig.colorbar(shades, ax=axes[:n].tolist(), extend="both", extendfrac=0.03, aspect=30,
                        shrink=min(0.9, 0.4 + 0.1 * rows))
    cbar.set_label("weight W")
    return fig, width
