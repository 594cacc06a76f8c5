"""What LiveTraining draws of the first layer: its filters (a CNN's kernels) at the run's latest snapshot.

::

    png, caption, labels = first_layer_view(trace, ranges)   # read from the live run's trace as it grows
    png, caption, labels = planned_view(experiment, plan)     # before the run: a blank tile per unit

A dense layer's tile is a unit's row of ``W1`` on the image's pixels; a
convolution's is one k x k kernel (``trace.first_layer_filters``). Both are
coloured on the run's range so far (:func:`explainer.filter_range`), so a
weight keeps its colour from step to step; the tiles of units (kernels) silent
for every probe digit are framed. With no hidden layer the tiles are the ten
output units, one row in digit order, each labelled under it.
"""

import numpy as np

from explainer import figures, filter_layout, filter_range, tile_origin

from .common import filters_png, silent_words

__all__ = ["first_layer_view", "planned_view", "TILE", "COLS"]

TILE = 40  # screen pixels a filter tile's side may take (8x8 at 5 a weight, 28x28 at 1, a 3x3 kernel at 13)
COLS = 8  # tiles a row
CAPTION = "<div style='line-height:1.35'><small>{}</small></div>"


def first_layer_view(trace, ranges):
    """``(png, caption, labels)`` of the first layer at ``trace``'s latest snapshot; ``ranges`` is the caller's
    ``{snapshot step: colour range}``, kept between calls so that a growing trace is read at its new snapshots only."""
    last = int(trace.snapshot_steps[-1])
    images = trace.first_layer_filters(last)  # (n_units, height, width): rows of W on the pixels, or kernels
    n_units = len(images)
    n = min(n_units, figures.MAX_FILTERS)
    vmax = filter_range(trace, ranges)  # the range of every snapshot so far: a weight keeps its colour
    output = trace.n_layers == 1  # no hidden layer: these are the output units, and softmax units never die
    silent = np.zeros(0, dtype=np.int64) if output else trace.silent_units(last)
    when = "step 0: the random initial weights" if last == 0 else f"step {last}, the latest snapshot"
    which = f"all {n}" if n == n_units else f"the first {n} of {n_units}"
    if trace.is_cnn:
        k = images.shape[1]
        n_maps = len(trace.map_probes)
        words = (f"<b>First-layer kernels</b>, {when}: {which} {k}×{k} kernels of {figures.layer_label(trace, 0)}, "
                 f"each slid over the image to make one feature map. Red: ink under it raises the map's z; blue: "
                 f"lowers it (±{vmax:.3g}, the same at every step).")
        if len(silent):
            which = ", ".join(map(str, silent[:12])) + (f" and {len(silent) - 12} more" if len(silent) > 12 else "")
            many = len(silent) > 1
            words += (f" Framed in black: kernel{'s' if many else ''} {which}, whose map{'s are' if many else ' is'} 0 "
                      f"everywhere for all {n_maps} probe digits with maps: no gradient reaches {'them' if many else 'it'}.")
    else:
        h, w = trace.image_shape
        note = "; with no hidden layer these are the output units, one per digit, labelled under each" if output else ""
        words = (f"<b>First-layer filters</b>, {when}: {which} rows of W<sub>1</sub> on the {h}×{w} pixels{note}. "
                 f"Red: ink there raises the unit's z; blue: lowers it (±{vmax:.3g}, the same at every step)."
                 f"{silent_words(silent, n, len(trace.probe_labels))}")
    png = _tiles_png(images[:n], vmax, marked=[j for j in silent if j < n], output=output)
    return png, CAPTION.format(words), _digit_labels(images.shape[1:], n) if output else ""


def planned_view(experiment, plan):
    """``(png, caption, labels)`` before a run of ``experiment`` (its :class:`explainer.live.Plan`): blank tiles."""
    n, shape = min(plan.n_units, figures.MAX_FILTERS), plan.tile_shape
    output = not experiment.hidden and not experiment.conv
    what = (f"<b>First-layer kernels</b>: {n} tiles, one per {shape[0]}×{shape[1]} kernel of the first convolution"
            if experiment.conv else f"<b>First-layer filters</b>: {n} tiles, one per unit")
    caption = CAPTION.format(f"{what}, drawn from the run's trace: the first snapshot (step 0) shows the random "
                             "initial weights.")
    return (_tiles_png(np.zeros((n, *shape)), 1.0, output=output), caption,
            _digit_labels(shape, n) if output else "")


def _tile_scale(shape):
    """Screen pixels a weight: a tile at most TILE pixels a side, so the filters stand beside the loss curve."""
    return max(1, TILE // max(shape))


def _tiles_png(images, vmax, marked=(), output=False):
    """The filters' PNG, 8 tiles a row; with no hidden layer the ten output units stand in one row, in digit
    order."""
    images = np.asarray(images)
    return filters_png(images, vmax, marked=marked, scale=_tile_scale(images.shape[1:]),
                       cols=len(images) if output else min(COLS, len(images)))


def _digit_labels(shape, n):
    """HTML: the digit of each of ``n`` output tiles in one row, each label centred under its tile."""
    scale, _, _ = filter_layout(n, shape, scale=_tile_scale(shape), cols=n)
    first, second = (tile_origin(j, shape, scale, n)[1] for j in (0, 1))
    cells = "".join(f"<span style='display:inline-block;width:{second - first}px;text-align:center'>{d}</span>"
                    for d in range(n))
    return f"<div style='padding-left:{first // 2}px;font-weight:bold'>{cells}</div>"
