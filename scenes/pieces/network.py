"""The network as columns of neurons joined by edges, drawn from recorded numbers.

* A neuron's fill opacity is its recorded activation ``a``, divided by the
  largest in its layer (:func:`neuron_opacity`); for the output layer it is
  the probability itself, so an unsure network looks unsure.
* An edge's colour is its weight's sign (red positive, blue negative) and its
  width grows with ``|W|`` (:func:`edge_style`).
* A layer wider than ``max_shown`` shows ``max_shown`` of its units with a
  vertical ellipsis among them, and its true width (64, 784, ...) above it
  (the input layer: beside a brace). By default they are its first and last
  units; the scenes choose instead (``units``), each shown unit labelled with
  its index (``LABEL_SIZE``: legible at 480p, ``LABEL_GAP`` from its neuron):
  for the input, pixels with ink (:func:`inked_inputs`; a digit's first and
  last pixels are blank border), for a hidden layer the units this digit
  drives hardest (:func:`most_active`), and perhaps some it leaves silent.
* A hidden unit whose ``a`` is 0 is drawn with a bold outline
  (``SILENT_STROKE``), so a silent unit is not mistaken for a dim one.

Thousands of edges are drawn as a handful of paths: edges are grouped by sign
and width bin, and each group is one VMobject made of many line segments, so
Cairo strokes 2 x ``WIDTH_BINS`` paths instead of one per edge.
"""

import numpy as np
from manim import DOWN, LEFT, RIGHT, UP, Brace, Circle, Text, VGroup, VMobject

from explainer.chapters.forward_pass import inked_inputs, most_active
from explainer.chapters.forward_pass import shown_units as shown_units_of

from ..palette import PALETTE

__all__ = ["NetworkDiagram", "neuron_opacity", "edge_style", "shown_units", "inked_inputs", "most_active",
           "shown_units_for", "WIDTH_BINS", "NEURON_STROKE", "SILENT_STROKE", "LABEL_SIZE"]

WIDTH_BINS = 4
MAX_EDGE_WIDTH = 3.0
NEURON_STROKE = 1.5  # a neuron's outline
SILENT_STROKE = 4.0  # ... and a hidden unit's whose a is 0: bolder, so that silent units stand out
LABEL_SIZE = 20  # unit index labels: a digit 12.6 px high at 480p
LABEL_GAP = 0.08  # between a label and its neuron


def shown_units(n, max_shown):
    """Which units of an ``n``-wide layer are drawn: all, or the first and last halves of ``max_shown``."""
    if n <= max_shown:
        return np.arange(n)
    half = max_shown // 2
    return np.concatenate([np.arange(half), np.arange(n - half, n)])


def shown_units_for(x, record, sample, max_shown, silent=0, include=()):
    """What a scene about one probe digit shows of each wide layer, for :class:`NetworkDiagram`'s ``units``:
    pixels of ``x`` with ink (``include`` among them), then in every hidden layer the units with the largest
    recorded ``z``, and ``silent`` of the units with ``a = 0`` (:func:`explainer.chapters.forward_pass.shown_units`)."""
    return shown_units_of(x, record, sample, max_shown, silent=silent, include=include)


def neuron_opacity(a):
    """Fill opacity of each neuron: ``a / max(a)`` in its layer, clipped to [0, 1]."""
    a = np.asarray(a, dtype=np.float64)
    top = np.abs(a).max() if a.size else 0.0
    return np.clip(a / top, 0, 1) if top > 0 else np.zeros_like(a)


def edge_style(W, limit=None):
    """For every weight: (positive?, width bin 0..WIDTH_BINS-1), the bin from |W| / limit."""
    W = np.asarray(W, dtype=np.float64)
    limit = limit or (np.abs(W).max() or 1.0)
    bins = np.minimum((np.abs(W) / limit * WIDTH_BINS).astype(int), WIDTH_BINS - 1)
    return W > 0, bins


class NetworkDiagram(VGroup):
    """Columns of neurons for ``sizes`` (input first), ``width`` x ``height`` scene units.

    ``units``: ``{layer: unit indices}``, which units to draw of a layer wider
    than ``max_shown`` (layer 0 is the input; e.g. :func:`inked_inputs`,
    :func:`most_active`); each is then labelled with its index. By default a
    wide layer shows its first and last units.
    """

    def __init__(self, sizes, max_shown=10, width=9.0, height=5.6, radius=0.14, units=None, note=None,
                 note_gap=0.25, **kwargs):
        super().__init__(**kwargs)
        self.sizes = list(sizes)
        self.shown = [shown_units(n, max_shown) for n in self.sizes]
        chosen = {layer: np.sort(np.asarray(indices, dtype=int)) for layer, indices in (units or {}).items()
                  if self.sizes[layer] > max_shown}
        for layer, indices in chosen.items():
            self.shown[layer] = indices
        self.layers = VGroup()
        self.extras = VGroup()  # ellipses, braces, unit labels
        self.unit_labels = {}  # layer -> VGroup of index labels, for the chosen layers
        xs = np.linspace(-width / 2, width / 2, len(self.sizes))
        for layer, (x, n, shown) in enumerate(zip(xs, self.sizes, self.shown)):
            truncated = len(shown) < n
            slots = len(shown) + (1 if truncated else 0)
            ys = np.linspace(height / 2, -height / 2, slots) if slots > 1 else np.zeros(1)
            if truncated:  # leave the middle slot for the ellipsis
                ys = np.delete(ys, len(shown) // 2)
            column = VGroup(*[
                Circle(radius=radius, stroke_color=PALETTE.muted, stroke_width=NEURON_STROKE)
                .set_fill(PALETTE.activation, opacity=0).move_to([x, y, 0])
                for y in ys
            ])
            self.layers.add(column)
            width_label = Text(str(n), font_size=22, color=PALETTE.muted).next_to(column, UP, 0.2)
            self.extras.add(width_label)
            if not truncated:
                continue
            self.extras.add(Text("⋮", font_size=28, color=PALETTE.muted).move_to([x, 0, 0]))
            labelled = column
            if layer in chosen:  # which units these are: the input's to the left, a hidden layer's above-left
                where = LEFT if layer == 0 else UP + LEFT
                labels = VGroup(*[Text(str(i), font_size=LABEL_SIZE, color=PALETTE.muted)
                                  .next_to(circle, where, LABEL_GAP) for i, circle in zip(shown, column)])
                if layer:  # among the edges: on a patch of background, drawn over them
                    for label in labels:
                        label.add_background_rectangle(color=PALETTE.background, opacity=0.85, buff=0.02)
                    labels.set_z_index(1)
                self.unit_labels[layer] = labels
                self.extras.add(labels)
                labelled = VGroup(column, labels)
                width_label.next_to(labelled, UP, 0.15).set_x(x)  # above the top unit's label
            if layer == 0:  # the input layer: a brace with its true width
                brace = Brace(labelled, LEFT, color=PALETTE.muted)
                self.extras.add(brace, Text(str(n), font_size=26, color=PALETTE.text).next_to(brace, LEFT, 0.1))
        self.input_labels = self.unit_labels.get(0, VGroup())
        hidden = sorted(layer for layer in self.unit_labels if layer)
        if note is None and hidden:
            note = f"hidden layers: the {max_shown} units with the largest z, by index"
        self.note = Text(note or "", font_size=20, color=PALETTE.muted).next_to(self.layers, DOWN, note_gap)
        if note:  # say what the hidden columns are
            self.extras.add(self.note)
        self.edges = [VGroup() for _ in self.sizes[1:]]
        self.add(*self.edges, self.layers, self.extras)

    def neuron(self, layer, unit):
        """The circle drawn for ``unit`` of ``layer`` (an index into the layer), if it is shown."""
        where = np.flatnonzero(self.shown[layer] == unit)
        return self.layers[layer][int(where[0])] if len(where) else None

    def set_activations(self, layer, a):
        """Fill the shown neurons of ``layer`` from that layer's activations ``a`` (all units);
        the output layer's probabilities are used as they are."""
        self._fill_activations(self.layers[layer], layer, a)
        return self

    def activation_column(self, layer, a):
        """A copy of ``layer``'s neurons filled as :meth:`set_activations` would: an animation's target.
        (Copying the column alone: a copy of the whole diagram costs seconds of a render.)"""
        return self._fill_activations(self.layers[layer].copy(), layer, a)

    def _fill_activations(self, column, layer, a):
        a = np.asarray(a)[self.shown[layer]]
        hidden = 0 < layer < len(self.sizes) - 1
        opacity = neuron_opacity(a) if layer < len(self.sizes) - 1 else np.clip(a, 0, 1)
        for circle, o, value in zip(column, opacity, a):
            circle.set_fill(PALETTE.activation, opacity=float(o))
            circle.set_stroke(width=SILENT_STROKE if hidden and value == 0 else NEURON_STROKE)
        return column

    def silent(self, layer):
        """The shown neurons of ``layer`` drawn as silent (a = 0: the bold outline), by position in the column."""
        return [i for i, circle in enumerate(self.layers[layer]) if circle.get_stroke_width() == SILENT_STROKE]

    def set_signed(self, layer, values):
        """Fill the shown neurons of ``layer`` by sign and size of ``values`` (all units), e.g. ``delta``:
        red positive, blue negative, opacity ``|v| / max |v|`` over the shown units."""
        self._fill_signed(self.layers[layer], layer, values)
        return self

    def signed_column(self, layer, values):
        """A copy of ``layer``'s neurons filled as :meth:`set_signed` would: an animation's target."""
        return self._fill_signed(self.layers[layer].copy(), layer, values)

    def _fill_signed(self, column, layer, values):
        v = np.asarray(values, dtype=np.float64)[self.shown[layer]]
        opacity = neuron_opacity(np.abs(v))
        for circle, value, o in zip(column, v, opacity):
            circle.set_fill(PALETTE.positive if value > 0 else PALETTE.negative, opacity=float(o))
        return column

    def edges_from(self, layer, W, limit=None):
        """The edges from ``layer`` to ``layer + 1`` for weights ``W`` (n_out, n_in), as a few paths."""
        self.edges[layer].remove(*self.edges[layer].submobjects)
        self.edges[layer].add(*self.edge_paths(layer, W, limit))
        return self.edges[layer]

    def edge_paths(self, layer, W, limit=None):
        """New paths for the edges from ``layer`` to ``layer + 1`` with weights ``W``, the diagram unchanged:
        one path per sign and width bin."""
        src, dst = self.shown[layer], self.shown[layer + 1]
        positive, bins = edge_style(np.asarray(W)[np.ix_(dst, src)], limit)
        groups = VGroup()
        for sign in (True, False):
            for b in range(WIDTH_BINS):
                path = VMobject(stroke_color=PALETTE.positive if sign else PALETTE.negative,
                                stroke_width=MAX_EDGE_WIDTH * (b + 1) / WIDTH_BINS,
                                stroke_opacity=0.35 + 0.6 * (b + 1) / WIDTH_BINS)
                for j, i in zip(*np.nonzero((positive == sign) & (bins == b))):
                    start = self.layers[layer][i].get_right()
                    end = self.layers[layer + 1][j].get_left()
                    path.start_new_path(start)
                    path.add_line_to(end)
                if path.has_points():
                    groups.add(path)
        return groups

    def output_labels(self, names=None):
        """Labels beside the last layer's neurons (the digits 0-9 by default)."""
        names = names or [str(u) for u in self.shown[-1]]
        return VGroup(*[Text(name, font_size=20, color=PALETTE.text).next_to(circle, RIGHT, 0.12)
                        for name, circle in zip(names, self.layers[-1])])


