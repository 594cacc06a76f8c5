"""A CNN's feature maps in ForwardExplorer: one digit through every convolution and pooling layer.

Each convolution or pooling layer is one row: a few words on the left, its
maps on the right, one small tile per channel, in the filters' diverging
colours (red above 0, blue below) on ± the largest ``|value|`` the probe
digits with maps reach in that layer at this step::

    z = sum over the kernel's k x k x c_in window of W * a_prev, + b   # (h, w, n_maps): one map per kernel
    a = f(z)                                                            # what the next layer sees
    pool: a = the max of each 2x2 window of a_prev                      # (h / 2, w / 2, n_maps)

For a probe digit whose maps the trace kept (``trace.map_probes``) the maps
shown are the recorded ones; for any other digit (drawn, uploaded, or a probe
digit without maps) the network of that step computes them
(``trace.network(step).inspect``), the same numbers as a recorded pass gives
(tests/test_trace_cnn.py). Tiles are sized to fit :data:`WIDTH` x :data:`HEIGHT`
pixels whatever the layer count: MNIST's 16 and 32 maps as much as 8x8's.
"""

import ipywidgets as widgets
import numpy as np

from .common import CSS, filters_png, hold_sync, image_widget

__all__ = ["FeatureMaps", "maps_layout", "cnn_pass", "WIDTH", "HEIGHT"]

WIDTH = 470  # pixels the maps of one layer may take across (beside their words, in a 934-pixel notebook)
HEIGHT = 300  # pixels all the layers' maps may take down, together
LARGEST = 48  # the largest side of a tile: an 8x8 digit's 2x2 maps are not blown up to the whole width
GAP = 2  # pixels between tiles (as in every mosaic of filters)
WORDS = "<div style='line-height:1.3; font-size:11px'>{}</div>"


def maps_layout(shapes, width=WIDTH, height=HEIGHT):
    """``[(scale, cols), ...]``: how the maps of each layer (``shapes``: (h, w, n_maps) each) are tiled so that
    every layer fits ``width`` and all of them ``height``.

    Every layer starts at one screen pixel a value; then, one step of scale at a time, the layer with the
    smallest tiles grows (taking more rows when a row is full), as long as all still fit, its tiles stay at most
    LARGEST pixels a side, and no larger than the layer's before it: along the network the tiles never grow,
    so a 2x2 map is never drawn larger than the 8x8 maps it was pooled from.

    >>> maps_layout([(24, 24, 16), (12, 12, 16), (8, 8, 32), (4, 4, 32)])  # MNIST's: 48, 36, 24, 24 pixels
    [(2, 8), (3, 8), (3, 16), (6, 16)]
    """
    options = [_options(shape, width) for shape in shapes]  # per layer, by scale: (tile side, height, scale, cols)
    chosen = [0] * len(shapes)

    def side(j, step=0):
        return options[j][chosen[j] + step][0]

    while True:
        total = sum(options[j][c][1] for j, c in enumerate(chosen))
        growing = [j for j in range(len(shapes)) if chosen[j] + 1 < len(options[j])
                   and (j == 0 or side(j, 1) <= side(j - 1))
                   and total - options[j][chosen[j]][1] + options[j][chosen[j] + 1][1] <= height]
        if not growing:
            return [options[j][c][2:] for j, c in enumerate(chosen)]
        chosen[min(growing, key=side)] += 1  # the smallest tiles grow first (ties: the earlier layer)


def _options(shape, width):
    """The ways to tile maps of ``shape`` within ``width``, one per scale up to LARGEST pixels a side, each on
    as few rows as fit: ``(tile side, height, scale, cols)``."""
    h, w, n = shape
    found = []
    for scale in range(1, max(1, LARGEST // max(h, w)) + 1):
        fit = max(1, (width - GAP) // (w * scale + GAP))  # tiles a row can hold
        rows = -(-n // fit)
        found.append((h * scale, GAP + rows * (h * scale + GAP), scale, -(-n // rows)))
    return found


def cnn_pass(trace, record, network, x, probe=None):
    """One digit's ``(z, a, recorded)`` through a CNN: ``z`` and ``a`` one array per layer of the network
    (the maps (h, w, c), the Flatten's, the dense layers' (n_out,)); ``recorded`` says whether the maps are the
    trace's own (a probe digit in ``trace.map_probes``) or computed by ``network`` (any other digit).

    A probe digit's dense layers are always the recorded ones (the trace keeps them for every probe digit).
    """
    n_maps = len(trace.run.maps) + 1  # the convolution and pooling layers, and the Flatten
    if probe is not None and probe in trace.map_probes:
        m = trace.map_probes.index(probe)
        return ([v[m] for v in record.z[:n_maps]] + [v[probe] for v in record.z[n_maps:]],
                [v[m] for v in record.a[:n_maps]] + [v[probe] for v in record.a[n_maps:]], True)
    x = np.asarray(x, dtype=network.dtype)[None]  # (1, n_in)
    # inspect runs the backward pass too: a probe digit's label, else the network's own guess (delta is not shown)
    label = trace.probe_labels[probe] if probe is not None else np.argmax(network.predict_proba(x), axis=1)
    again = network.inspect(x, np.atleast_1d(label))
    z, a = [v[0] for v in again.z], [v[0] for v in again.a]
    if probe is not None:
        z[n_maps:], a[n_maps:] = [v[probe] for v in record.z[n_maps:]], [v[probe] for v in record.a[n_maps:]]
    return z, a, False


class FeatureMaps(widgets.VBox):
    """The maps of every convolution and pooling layer of a CNN, one row a layer; :meth:`show` draws a digit's."""

    def __init__(self, trace, width=WIDTH, height=HEIGHT):
        super().__init__()
        self.trace = trace
        self._layers = trace.run.maps  # [(index in network_layers, kind, (h, w, c)), ...]
        self._layouts = maps_layout([shape for _, _, shape in self._layers], width, height)
        self._words = [widgets.HTML(layout=widgets.Layout(width="150px", min_width="150px"))
                       for _ in self._layers]
        self._images = [image_widget(css=CSS["maps"]) for _ in self._layers]
        self._caption = widgets.HTML()
        rows = [widgets.HBox([words, image], layout=widgets.Layout(align_items="center", margin="0 0 3px 0"))
                for words, image in zip(self._words, self._images)]
        self.children = [self._caption, *rows]
        self.shown = []  # the maps drawn last, one (h, w, c) array a layer: what a test checks against the trace

    def show(self, values, ranges, quantity, recorded, step):
        """Draw ``values`` (one (h, w, c) array per convolution or pooling layer) of ``quantity`` ("a" or "z")
        on ± ``ranges`` (one a layer); ``recorded``: the trace's own maps, else computed at ``step``."""
        self.shown = list(values)
        pictures = []
        for (scale, cols), maps, vmax in zip(self._layouts, values, ranges):
            tiles = np.moveaxis(maps, -1, 0)  # (c, h, w): one tile a map
            pictures.append(filters_png(tiles, vmax, scale=scale, cols=cols, gap=GAP))
        where = ("recorded in the trace" if recorded else
                 f"computed by the network of step {step} (the trace keeps {len(self.trace.map_probes)} probe "
                 "digits' maps)")
        with hold_sync(self._caption, *self._words, *self._images):
            self._caption.value = WORDS.format(
                f"<b>Feature maps</b>, {where}: a tile per kernel, {_what(quantity)}; red &gt; 0, blue &lt; 0 "
                "(± the probe digits' largest in each layer at this step).")
            for words, image, png, (i, kind, shape), vmax in zip(self._words, self._images, pictures,
                                                                 self._layers, ranges):
                words.value = WORDS.format(f"{_name(self.trace, i, kind)}<br>{shape[2]} maps of "
                                           f"{shape[0]}×{shape[1]}, ±{vmax:.2g}")  # two lines, beside the maps
                image.value = png


def _what(quantity):
    return ("a = f(z), what the next layer sees" if quantity == "a" else
            "z = W ∗ input + b, before f (a pooling layer's z is its a)")


def _name(trace, i, kind):
    """``conv 1: 16 5×5, relu`` or ``pool 1: 2×2 max``: the layer at ``network_layers[i]``."""
    before = [k for k, _, _ in trace.run.network_layers[: i + 1]]
    n = before.count(kind)
    if kind == "pool":
        return f"<b>pool {n}</b>: 2×2 max"
    j = sum(1 for _, _, w in trace.run.network_layers[:i] if w is not None)  # its index among the weighted layers
    n_out, k = trace.run.shapes[j][:2]
    return f"<b>conv {n}</b>: {n_out} {k}×{k}, {trace.run.activations[j]}"
