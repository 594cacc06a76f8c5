"""OneNeuron's numbers: one hidden unit adds up the digit's pixels, each times its weight.

For a probe digit ``x`` (the 64 or 784 pixels, read row by row: ``a^0``) and
unit ``j`` of the first hidden layer, the scene shows::

    z_j = sum_i W_ji x_i + b_j      # the products pixel by pixel, added up in reading order
    a_j = f(z_j)                    # a point on the activation's graph

and then the whole layer at once, ``z = W x + b`` with ``W`` (n_out, n_in).
Every number is the trace's: ``W`` and ``b`` of the snapshot, ``z`` and ``a``
as recorded for the probe digit (the products, added in float64, give the
recorded ``z`` to float32's precision, which the tests check)::

    story = neuron_story(trace, sample=3, step=1200)      # unit: the one this digit drives hardest
    story.products, story.running[-1] + story.b, story.z, story.a
"""

from dataclasses import dataclass

import numpy as np

from ..activations import get_activation
from ..filters import filter_range
from ..formulas import formulas_of

__all__ = ["NeuronStory", "neuron_story", "check_index", "number_window", "WINDOW"]

WINDOW = 7  # an MNIST digit's pixels written out as numbers: a WINDOW x WINDOW square of them
TOP = 4  # the biggest products written out with their numbers


@dataclass(frozen=True)
class NeuronStory:
    """What OneNeuron draws: unit ``unit`` of layer 1 on probe digit ``sample`` at snapshot ``step``."""

    step: int
    sample: int
    label: int
    unit: int  # j: a unit of the first hidden layer (0-based, as in the code and on screen)
    image_shape: tuple  # (8, 8) or (28, 28)
    x: np.ndarray  # (n_in,) the digit's pixels, a^0
    w: np.ndarray  # (n_in,) W^1[j]: the unit's incoming weights
    b: float  # b^1[j]
    products: np.ndarray  # (n_in,) W_ji x_i, float64
    running: np.ndarray  # (n_in,) the running sum of the products in reading order
    z: float  # the recorded z^1_j of this digit
    a: float  # the recorded a^1_j = f(z^1_j)
    top: np.ndarray  # indices of the TOP biggest |products|, biggest first
    window: tuple  # (row, col, size): the square of pixels written out as numbers (the whole 8x8 image)
    weight_range: float  # colour range of weights: the run's (explainer.filters.filter_range)
    product_range: float  # colour range of the products: their largest |value| (never 0)
    activation: str  # the layer's activation's name
    f_tex: str  # f(z), from the run's formulas
    curve: tuple  # (z values, f(z) values) to plot the activation; None if a_j depends on more than z_j
    forward_tex: str  # z^l = W^l a^{l-1} + b^l
    W: np.ndarray  # (n_out, n_in) the whole layer's weights
    layer_b: np.ndarray  # (n_out,)
    layer_z: np.ndarray  # (n_out,) the recorded z of this digit, every unit

    @property
    def n_out(self):
        return self.W.shape[0]

    @property
    def n_in(self):
        return self.W.shape[1]

    @property
    def n_params(self):
        """The layer's parameters: n_out * n_in weights and n_out biases."""
        return self.n_out * self.n_in + self.n_out

    @property
    def weighted_sum(self):
        """sum_i W_ji x_i (without the bias)."""
        return float(self.running[-1])

    @property
    def total(self):
        """The products' sum plus the bias: the recorded z, recomputed."""
        return self.weighted_sum + self.b

    @property
    def n_ink(self):
        """Pixels with ink (x_i > 0): the only ones whose products are not 0."""
        return int(np.count_nonzero(self.x))


def check_index(value, n, name, what, low=0):
    """``value`` (an int or the text of one) as an index from ``low`` to ``n - 1``; a ValueError saying so otherwise.

    >>> check_index("3", 10, "EXPLAINER_UNIT", "a unit of layer 1")
    3
    """
    try:
        index = int(str(value).strip())
    except ValueError:
        index = None
    if index is None or not low <= index < n:
        raise ValueError(f"{name} must be {what}: a whole number from {low} to {n - 1}; got {value!r}")
    return index


def number_window(image, size=WINDOW):
    """``(row, col, size)``: the square of ``size`` x ``size`` pixels whose values differ the most
    (a stroke's edge: ink, paper and the greys between), or the whole image if it is that small."""
    rows, cols = image.shape
    if rows <= size + 1 and cols <= size + 1:
        return 0, 0, max(rows, cols)
    best, where = -1.0, (0, 0)
    for r in range(rows - size + 1):
        for c in range(cols - size + 1):
            spread = float(np.var(image[r : r + size, c : c + size]))
            if spread > best:
                best, where = spread, (r, c)
    return (*where, size)


def neuron_story(trace, sample, step, unit=None):
    """The numbers of OneNeuron for probe digit ``sample`` at the snapshot ``step`` (exact).

    ``unit``: a unit of the first hidden layer; by default the one with the
    largest recorded ``z`` for this digit (the unit it drives hardest).
    """
    weights, record = trace.weights(step, exact=True), trace.probe_record(step, exact=True)
    W, b = weights[0]  # (n_out, n_in), (n_out,)
    n_out = W.shape[0]
    layer_z = record.z[0][sample]  # (n_out,)
    j = int(np.argmax(layer_z)) if unit is None else check_index(unit, n_out, "unit", "a unit of layer 1")
    x = np.asarray(trace.probe_x[sample])  # (n_in,)
    products = W[j].astype(np.float64) * x.astype(np.float64)  # (n_in,)
    formulas = formulas_of(trace, step)
    name, f_tex, _ = formulas.activation(1)
    act = get_activation(name)
    z = float(layer_z[j])
    span = max(4.0, 1.3 * abs(z))
    grid = np.linspace(-span, span, 401)
    curve = None if name == "softmax" else (grid, act.forward(grid[None, :])[0])
    return NeuronStory(
        step=int(step), sample=int(sample), label=int(trace.probe_labels[sample]), unit=j,
        image_shape=tuple(trace.image_shape), x=x, w=np.asarray(W[j]), b=float(b[j]),
        products=products, running=np.cumsum(products), z=z, a=float(record.a[0][sample][j]),
        top=np.argsort(-np.abs(products), kind="stable")[:TOP],
        window=number_window(x.reshape(trace.image_shape)),
        weight_range=filter_range(trace), product_range=float(np.abs(products).max()) or 1.0,
        activation=name, f_tex=f_tex, curve=curve, forward_tex=formulas.forward,
        W=np.asarray(W), layer_b=np.asarray(b), layer_z=np.asarray(layer_z),
    )
