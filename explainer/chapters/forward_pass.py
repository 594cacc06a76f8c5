"""ForwardPass's numbers: one probe digit through the network, which units are drawn, one neuron's z.

A layer wider than ``count`` units is drawn through some of them:

* the input, through pixels with ink (:func:`inked_inputs`; a digit's first and
  last pixels are blank border), among them the pixels of the two terms of
  ``z`` written out;
* a hidden layer, through the units this digit drives hardest (the largest
  ``z``, :func:`most_active`) and a few that it leaves silent (``a = 0``), so the
  picture does not suggest that every unit fires: on an MNIST run, a digit
  leaves about 4 in 10 of the 512 at 0 (:func:`shown_units`).

The neuron written out is the most active unit ``j`` of the first hidden layer,
with its two largest products ``W^1_{ji} a^0_i``::

    story = forward_story(trace, sample=3, step=1199)
    story.units                       # {layer: unit indices drawn}, for the network diagram
    story.silent, story.widths        # per hidden layer: units at a = 0 for this digit, of how many
    story.unit, story.terms, story.z  # j, the pixels of the two terms, W_j a^0 + b_j (= the recorded z)
"""

from dataclasses import dataclass

import numpy as np

from ..formulas import Formulas, formulas_of

__all__ = ["ForwardStory", "forward_story", "inked_inputs", "most_active", "with_silent", "shown_units",
           "unit_forward_tex", "MAX_SHOWN", "SILENT_SHOWN"]

MAX_SHOWN = 10  # units drawn of a wide layer
SILENT_SHOWN = 3  # of them, units at a = 0 (when the layer has that many for this digit)
TERMS = 2  # products W_ji a_i written out


def inked_inputs(x, count, include=()):
    """``count`` pixels of the digit ``x`` (flattened) that carry ink, in reading order, ``include`` among them.

    The candidates are the pixels with at least half of the digit's strongest
    ink; the ones not in ``include`` are taken evenly spread through the image,
    so the column samples the whole stroke rather than its thickest spot. A
    faint digit with fewer candidates gets its most inked pixels.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    count = min(count, x.size)
    include = np.unique(np.asarray(include, dtype=int))[:count]
    inked = np.flatnonzero(x >= 0.5 * x.max()) if x.max() > 0 else np.array([], dtype=int)
    inked = np.setdiff1d(inked, include)
    rest = count - len(include)
    if len(inked) >= rest:
        chosen = inked[np.linspace(0, len(inked) - 1, rest).round().astype(int)] if rest else inked[:0]
    else:
        order = np.argsort(-x, kind="stable")
        chosen = order[~np.isin(order, include)][:rest]
    return np.sort(np.concatenate([include, chosen]).astype(int))


def most_active(z, count):
    """The ``count`` units with the largest ``z`` for one digit, in index order.

    Ranking by ``z`` rather than ``a`` also orders the units a ReLU sets to 0.
    """
    z = np.asarray(z, dtype=np.float64).ravel()
    return np.sort(np.argsort(-z, kind="stable")[: min(count, z.size)])


def with_silent(z, a, count, silent):
    """``count`` units of one hidden layer for one digit: ``silent`` of those with ``a = 0`` (evenly spread
    in index order; fewer if the layer has fewer), the rest the ones with the largest ``z``; in index order."""
    z, a = np.asarray(z, dtype=np.float64).ravel(), np.asarray(a).ravel()
    off = np.flatnonzero(a == 0)
    take = min(silent, len(off), count)
    chosen = off[np.linspace(0, len(off) - 1, take).round().astype(int)] if take else off[:0]
    on = np.setdiff1d(np.arange(z.size), chosen)
    top = on[np.argsort(-z[on], kind="stable")[: count - take]]
    return np.sort(np.concatenate([chosen, top]))


def shown_units(x, record, sample, count, silent=0, include=()):
    """What a scene about one probe digit draws of each layer (for a network diagram's ``units``): pixels of
    ``x`` with ink (``include`` among them), then in each hidden layer the units with the largest recorded
    ``z`` and ``silent`` with ``a = 0`` (:func:`with_silent`)."""
    units = {0: inked_inputs(x, count, include)}
    for i, (z, a) in enumerate(zip(record.z[:-1], record.a[:-1])):  # the hidden layers (the output is whole)
        units[i + 1] = with_silent(z[sample], a[sample], count, silent)
    return units


def unit_forward_tex(forward, layer, unit):
    """The run's ``z^l = W^l a^{l-1} + b^l`` for one unit of one layer: ``z^{1}_{7} = W^{1}_{7} a^{0} + b^{1}_{7}``."""
    tex = forward.replace("{l-1}", f"{{{layer - 1}}}")
    for symbol in ("z", "W", "b"):
        tex = tex.replace(f"{symbol}^{{l}}", f"{symbol}^{{{layer}}}_{{{unit}}}")
    return tex


@dataclass(frozen=True)
class ForwardStory:
    """What ForwardPass draws: probe digit ``sample`` at snapshot ``step``."""

    step: int
    sample: int
    label: int
    formulas: Formulas
    x: np.ndarray  # (n_in,) the digit: a^0
    units: dict  # {layer: unit indices drawn}: layer 0 the input, then each hidden layer
    widths: tuple  # units per hidden layer
    silent: tuple  # per hidden layer: how many units have a = 0 for this digit
    unit: int  # j: the most active unit of the first hidden layer (largest z)
    terms: np.ndarray  # (TERMS,) the pixels i of the largest |W_ji a^0_i|, largest first
    weights: np.ndarray  # (TERMS,) W_ji of those pixels
    inputs: np.ndarray  # (TERMS,) a^0_i of those pixels
    b: float  # b_j
    z: float  # W_j a^0 + b_j, in float64
    z_recorded: float  # the recorded z^1_j
    a: float  # the recorded a^1_j
    unit_tex: str  # the run's forward formula for unit j
    activation: tuple  # (name, f(z) as LaTeX) of layer 1
    probabilities: np.ndarray  # (n_classes,) the recorded output

    @property
    def predicted(self):
        return int(np.argmax(self.probabilities))


def forward_story(trace, sample, step, count=MAX_SHOWN, silent=SILENT_SHOWN):
    """ForwardPass's numbers for probe digit ``sample`` at snapshot ``step`` (see the module's docstring)."""
    record = trace.probe_record(step, exact=True)
    W, b = trace.weights(step, exact=True)[0]
    x = np.asarray(trace.probe_x[sample], dtype=np.float64)
    j = int(np.argmax(record.z[0][sample]))
    products = np.asarray(W[j], dtype=np.float64) * x  # (n_in,) W_ji a^0_i
    terms = np.argsort(-np.abs(products), kind="stable")[:TERMS]
    f = formulas_of(trace, record.step)
    name, tex, _ = f.activation(1)
    hidden = record.a[:-1]
    return ForwardStory(
        step=record.step, sample=int(sample), label=int(trace.probe_labels[sample]), formulas=f, x=x,
        units=shown_units(x, record, sample, count, silent, include=terms),
        widths=tuple(a.shape[1] for a in hidden), silent=tuple(int((a[sample] == 0).sum()) for a in hidden),
        unit=j, terms=terms, weights=np.asarray(W[j, terms], dtype=np.float64), inputs=x[terms], b=float(b[j]),
        z=float(products.sum() + b[j]), z_recorded=float(record.z[0][sample, j]), a=float(record.a[0][sample, j]),
        unit_tex=unit_forward_tex(f.forward, 1, j), activation=(name, tex), probabilities=record.probabilities[sample],
    )
