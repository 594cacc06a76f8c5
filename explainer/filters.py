"""How the first layer's filters are coloured and laid out: one rule for the figure, the video and the dashboards.

Row ``j`` of the first layer's ``W`` (n_hidden, n_in), reshaped to the
image, is what unit ``j`` looks for. Each weight becomes one of
:data:`SHADES` shades of matplotlib's ``RdBu_r``: white for 0, red for
positive (ink there raises ``z[j]``), blue for negative (ink there lowers it).

The colour range is one per run, symmetric about zero::

    vmax = max over snapshots of the 99th percentile of |W|

so the same weight has the same colour at every step and in every picture of
the run: the figure (:func:`explainer.figures.filters`), the scene
(FirstLayerFilters) and the dashboards (TrainingDashboard, LiveTraining). As
training goes a tile deepens where its weights grow and fades where they
shrink (weight decay fades a silent unit to white): the change is visible,
not hidden by a range that follows it. The percentile, not the largest |W|,
so one outlier does not wash out the rest.
A trace still being recorded has the range of its snapshots so far.

::

    vmax = filter_range(trace)                          # the run's range
    mosaic = filter_mosaic(trace.first_layer_filters(s), vmax, marked=trace.silent_units(s))
    rgb = filter_palette()[mosaic]                      # (height, width, 3) uint8
"""

import functools
import math

import numpy as np

from .colours import SIGNS_CMAP

__all__ = ["PERCENTILE", "SHADES", "CMAP", "GAP_RGB", "MARK_RGB", "FILTER_GAP", "snapshot_range", "filter_range",
           "filter_shades", "filter_palette", "filter_rgb", "filter_layout", "filter_mosaic", "tile_origin"]

PERCENTILE = 99  # each snapshot's range is this percentile of |W|; the run's is the largest of them
CMAP = SIGNS_CMAP  # matplotlib's diverging RdBu_r: blue (negative), white (0), red (positive)
SHADES = 253  # an odd number of shades, so that 0 has its own: index 126, white
GAP, MARK = SHADES, SHADES + 1  # palette indices of the gaps between tiles and of a marked tile's frame
GAP_RGB = (150, 150, 150)  # grey: no shade of RdBu_r
MARK_RGB = (0, 0, 0)  # black: no shade of RdBu_r, and clear against the grey gaps
FILTER_GAP = 2  # pixels between the tiles of a mosaic (2 or more keeps neighbouring frames apart)
MOSAIC_WIDTH = 960  # pixels: a default mosaic no wider than a notebook's column


def snapshot_range(W):
    """One snapshot's colour range: the 99th percentile of ``|W|`` (never 0; 1.0 for all-zero weights)."""
    W = np.asarray(W)
    return float(np.percentile(np.abs(W), PERCENTILE)) if W.size and np.any(W) else 1.0


def filter_range(trace, known=None):
    """The run's colour range: the largest :func:`snapshot_range` of the first layer's ``W`` over every snapshot.

    ``known`` (optional) is a dict ``{snapshot step: snapshot_range}`` kept by
    the caller between calls: a trace that grows (a live run) is read only at
    its new snapshots. Without it, a finished trace's range is kept beside the
    trace once computed (``runs/a.zarr.dashboard/``, checked against the trace
    before it is trusted: :mod:`explainer.landscape_cache`), so the dashboards
    and scenes that colour its filters open without reading every snapshot.
    """
    steps = [int(s) for s in trace.snapshot_steps]
    if known is None and steps and trace.complete:  # a finished run's range is read once, then kept beside it
        from .landscape_cache import cached

        entry = cached(trace, steps[-1], "range", "w1", {"percentile": PERCENTILE}, folder=".dashboard")
        fields = entry.read()
        if fields is None:
            fields = {"vmax": filter_range(trace, {})}
            entry.write(fields)
        return float(fields["vmax"])
    known = {} if known is None else known
    for s in steps:
        if s not in known:
            known[s] = snapshot_range(trace.weights(s, exact=True)[0][0])
    return max((known[s] for s in steps), default=1.0)


def filter_shades(values, vmax):
    """Shade index of each value: ``-vmax`` -> 0 (blue), ``0`` -> 126 (white), ``+vmax`` -> 252 (red),
    beyond ``±vmax`` the end shades.

    >>> filter_shades([-2.0, -1.0, 0.0, 0.5, 1.0], 1.0).tolist()
    [0, 0, 126, 189, 252]
    """
    half = (SHADES - 1) // 2
    index = (np.asarray(values, dtype=np.float32) / np.float32(vmax) + 1) * half + 0.5
    return np.clip(index, 0, SHADES - 1).astype(np.uint8)


@functools.cache
def _palette():
    from matplotlib import colormaps  # here, not at import: `import explainer` needs no matplotlib

    shades = (colormaps[CMAP](np.linspace(0, 1, SHADES))[:, :3] * 255).round()
    palette = np.vstack([shades, [GAP_RGB], [MARK_RGB]]).astype(np.uint8)  # (SHADES + 2, 3)
    palette.flags.writeable = False
    return palette


def filter_palette(background=None):
    """The RGB colour of every index a mosaic holds: (SHADES + 2, 3) uint8; the shades, then the gap and the frame.

    ``background`` (an RGB triple), if given, colours the gaps and frames instead (a scene's dark background).
    """
    if background is None:
        return _palette()
    palette = _palette().copy()
    palette[SHADES:] = background
    return palette


def filter_rgb(values, vmax):
    """``values`` in the filters' colours: (..., 3) uint8."""
    return _palette()[filter_shades(values, vmax)]


def filter_layout(n, shape, scale=None, cols=None, gap=FILTER_GAP):
    """``(scale, cols, rows)`` of a mosaic of ``n`` tiles of ``shape`` (height, width).

    By default twice as many columns as rows, and tiles about 56 pixels a side
    (8x8 at 7x, 28x28 at 2x), smaller when that would make the mosaic wider
    than 960 pixels: 512 MNIST filters come out at 1x.
    """
    cols = cols or math.ceil(math.sqrt(n * 2))
    if scale is None:
        fits = (MOSAIC_WIDTH - gap) // cols - gap  # pixels a tile may take
        scale = max(1, min(56 // shape[0], fits // shape[1]))
    return scale, cols, math.ceil(n / cols)


def tile_origin(j, shape, scale, cols, gap=FILTER_GAP):
    """``(y, x)``: the mosaic pixel where tile ``j``'s top-left weight starts."""
    return gap + (j // cols) * (shape[0] * scale + gap), gap + (j % cols) * (shape[1] * scale + gap)


def filter_mosaic(images, vmax, scale=None, cols=None, gap=FILTER_GAP, marked=()):
    """Filters (n, height, width) as one mosaic of palette indices: ``filter_palette()[mosaic]`` is the picture.

    Tile ``j`` sits at row ``j // cols``, column ``j % cols`` (see
    :func:`filter_layout` for the defaults), its weight (r, c) covering
    ``scale`` x ``scale`` pixels from :func:`tile_origin` + ``(r * scale, c * scale)``;
    ``gap`` pixels of grey between and around the tiles. Each tile of ``marked``
    is framed with the frame's index: the one pixel of the gap all round it.
    """
    images = np.asarray(images)  # (n, height, width)
    n, h, w = images.shape
    scale, cols, rows = filter_layout(n, (h, w), scale, cols, gap)
    th, tw = h * scale, w * scale
    mosaic = np.full((gap + rows * (th + gap), gap + cols * (tw + gap)), GAP, dtype=np.uint8)
    shades = filter_shades(images, vmax)  # (n, h, w)
    for j in marked:  # a frame one pixel wide, in the tile's half of the gap (the tile is drawn over its inside)
        y, x = tile_origin(int(j), (h, w), scale, cols, gap)
        mosaic[y - 1 : y + th + 1, x - 1 : x + tw + 1] = MARK
    for j in range(n):
        y, x = tile_origin(j, (h, w), scale, cols, gap)
        mosaic[y : y + th, x : x + tw] = np.repeat(np.repeat(shades[j], scale, axis=0), scale, axis=1)
    return mosaic
