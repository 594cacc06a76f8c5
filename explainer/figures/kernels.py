"""A convolutional network's pictures: its first kernels, and one probe digit's feature maps.

A first-layer kernel ``W[j]`` (k, k) is a small dense unit that slides over the
digit: at every position it computes ``z = sum(W[j] * patch) + b[j]`` from
the k x k pixels under it. Drawn like the dense filters (the same colours,
one range for the run: :mod:`explainer.filters`), red where ink raises ``z``
and blue where it lowers it.

The maps are what those kernels, and the layers after them, make of one probe
digit: every convolution's and pooling layer's ``a`` (channels last, so map
``c`` is ``a[..., c]``), as recorded for the probe digits with maps
(``trace.map_probes``).
"""

import math

import numpy as np

from .. import colours
from ..filters import PERCENTILE, filter_range
from ..trace import TraceError
from .style import check_count, describe_step, new_figure, wrap
from .weights import tile_grid

__all__ = ["kernels", "feature_maps", "MAX_KERNELS", "MAPS_PER_ROW", "map_layers", "map_sample"]

MAX_KERNELS = 64  # kernels shown unless asked for more
MAPS_PER_ROW = 16  # a layer's maps are drawn in rows of at most this many


def require_cnn(trace, what, instead):
    """A one-line :class:`TraceError` if ``trace`` is a dense network's run, naming the figure to use ``instead``."""
    if not trace.is_cnn:
        raise TraceError(f"{what} shows a convolutional network's run, and {trace.path.name} is a dense network's: "
                         f"use {instead}")


def kernels(trace, step=None, n=None):
    """The first convolution's kernels ``W`` at the snapshot nearest ``step`` (default: the last), one tile each.

    Parameters
    ----------
    trace : Trace
        A convolutional network's run.
    step : int, optional
        The training step to show; the nearest snapshot is drawn, and the title says which.
    n : int, optional
        How many kernels to draw, from the first: default all, at most 64.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes[j]`` (j < n) shows kernel j: its image is ``W[j]`` (k, k)
        in the filters' colours (:func:`explainer.filters.filter_rgb`) on the
        run's range ``±vmax``, which the colour bar shows.
    """
    require_cnn(trace, "the kernels figure", "the filters figure (the first layer's weights as images)")
    s, words = describe_step(trace, step)
    images = trace.first_layer_filters(s)  # (n_out, k, k)
    if images.ndim != 3:
        raise TraceError(f"the kernels figure draws one input channel; {trace.path.name}'s images have "
                         f"{images.shape[-1]}")
    n_out, k = len(images), images.shape[1]
    n = min(n_out, MAX_KERNELS) if n is None else check_count("n", n, n_out)
    silent = set(trace.silent_units(s).tolist())  # channels with a = 0 everywhere, for every digit with maps
    vmax = filter_range(trace)  # one range for the whole run: the same colours at every step

    fig, width = tile_grid(images[:n], vmax, silent, "kernel")

    which = f"all {n} kernels" if n == n_out else f"the first {n} of {n_out} kernels"
    fig.suptitle(wrap(f"What {which} of the first convolution ({trace.run.specs[0]}) look for: each tile is one "
                      f"kernel's {k}×{k} weights W, slid over the digit, at {words}", width - 1.0), fontsize=12)
    caption = (f"At each position a kernel computes z = sum(W × the {k}×{k} pixels under it) + b. Red: ink there "
               f"raises z; blue: ink there lowers it. Colours span ±{vmax:.3g} at every step of the run (the "
               f"largest {PERCENTILE}th percentile of |W| at any snapshot).")
    if any(j < n for j in silent):
        caption += (f" Silent: a = 0 at every position for all {len(trace.map_probes)} probe digits with maps; "
                    "it gets no gradient, so it stops learning.")
    fig.supxlabel(wrap(caption, width - 1.0, 10), fontsize=10)
    return fig


def map_layers(trace):
    """The layers with feature maps: ``[(index into a probe record's layers, spec, (h, w, c)), ...]``."""
    return [(i, spec, shape) for (i, _, shape), spec in zip(trace.run.maps, trace.run.specs)]


def map_sample(trace, sample):
    """The probe digit a maps picture shows (default: the first with maps) and its row among the recorded maps."""
    if sample is None:
        sample = trace.map_probes[0]
    sample = trace.check_sample(sample)
    if sample not in trace.map_probes:
        raise TraceError(f"probe digit {sample} has no recorded feature maps in {trace.path.name}: choose one of "
                         f"{', '.join(map(str, trace.map_probes))}")
    return sample, trace.map_probes.index(sample)


def feature_maps(trace, step=None, sample=None):
    """One probe digit through every convolution and pooling layer: its feature maps ``a``, layer by layer.

    Parameters
    ----------
    trace : Trace
        A convolutional network's run.
    step : int, optional
        The training step (the nearest snapshot); default: the last.
    sample : int, optional
        The probe digit, one of ``trace.map_probes`` (default: the first of them).

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.subfigs[0]`` shows the input digit; ``fig.subfigs[1 + l]`` the
        maps of layer ``l`` (``trace.run.specs[l]``), map ``c`` in its
        ``axes[c]``, whose image holds ``a[..., c]`` as recorded (on one
        colour scale per layer, 0 to the layer's largest ``a``).
    """
    require_cnn(trace, "the feature maps figure", "the probes figure")
    s, words = describe_step(trace, step)
    sample, row = map_sample(trace, sample)
    record = trace.probe_record(s)
    layers = map_layers(trace)
    label = int(trace.probe_labels[sample])
    guess = int(np.argmax(record.probabilities[sample]))
    h, w = trace.image_shape

    n_rows = [1] + [math.ceil(shape[2] / MAPS_PER_ROW) for _, _, shape in layers]
    width = 11.0
    tile = width / (MAPS_PER_ROW + 1)
    heights = [tile * r + 0.55 for r in n_rows]
    heights[0] = 1.5
    fig = new_figure(width, sum(heights) + 1.3)
    subfigs = np.atleast_1d(fig.subfigures(len(heights), 1, height_ratios=heights))

    ax = subfigs[0].subplots()
    ax.imshow(colours.digit_rgb(trace.probe_x[sample].reshape(h, w)), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    subfigs[0].suptitle(f"input: probe digit {sample}, a {label}, {h}×{w} pixels", fontsize=10)

    for sub, (i, spec, (mh, mw, c)), r in zip(subfigs[1:], layers, n_rows[1:]):
        a = record.a[i][row]  # (h, w, c): this digit's maps
        vmax = float(a.max()) if a.max() > 0 else 1.0
        axes = np.atleast_1d(sub.subplots(r, MAPS_PER_ROW)).ravel()
        for m, ax in enumerate(axes):
            ax.set_xticks([])
            ax.set_yticks([])
            if m >= c:
                ax.set_visible(False)
                continue
            ax.imshow(a[..., m], cmap=colours.ACTIVATION_CMAP, vmin=0, vmax=vmax, interpolation="nearest")
        what = "a = f(z), each map one kernel's z at every position" if spec.startswith("conv") else \
            "the largest a of each 2×2 window"
        sub.suptitle(f"{spec}: {c} maps of {mh}×{mw} ({what}; 0 to {vmax:.3g})", fontsize=10)

    verdict = "right" if guess == label else "wrong"
    fig.suptitle(wrap(f"A {label} through every convolution and pooling layer at {words}: the network guesses "
                      f"{guess} ({record.probabilities[sample, guess]:.0%}, {verdict})", width), fontsize=12)
    fig.supxlabel(wrap("Dark: 0 (the kernel found nothing of its pattern there); yellow: the layer's largest a. "
                       "Each pooling layer halves the maps' height and width.", width, 10), fontsize=10)
    return fig
