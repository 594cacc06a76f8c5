"""ChainRule's numbers: one weight's gradient, factor by factor, on one probe digit.

For a weight ``w = W^l_jk`` of a hidden layer ``l`` (from unit ``k`` of layer
``l - 1``, a pixel when ``l = 1``, to unit ``j`` of layer ``l``)::

    d loss / d w = a^{l-1}_k * f'(z^l_j) * d loss / d a^l_j
    d loss / d a^l_j = sum_i W^{l+1}_ij delta^{l+1}_i        # one term per unit i of layer l + 1: a path each
    f'(z^l_j) * d loss / d a^l_j = delta^l_j                 # the recorded delta
    d loss / d w = delta^l_j a^{l-1}_k                       # the digit's dW entry: delta (a^{l-1})^T

Every factor is the trace's: ``a`` and ``z`` and ``delta`` as recorded for the
probe digit, ``W^{l+1}`` of the snapshot. The output layer's ``delta^L`` comes
from the output/loss pair (``formulas.output_delta``): softmax's derivative is
a Jacobian, not one number per unit, so no scalar ``f'(z^L)`` is written for it.

Then the three levers of ``z^l_j = sum_k W^l_jk a^{l-1}_k + b^l_j``: its bias
(``dz/db = 1``), the weight (``dz/dw = a^{l-1}_k``) and the previous activation
(``dz/da^{l-1}_k = w``), each times ``delta^l_j`` for the loss::

    story = chain_story(trace, sample=3, step=40)     # by default the first layer's biggest |dW| entry
    story.a_prev * story.f_prime * story.dl_da == story.dW_entry
"""

from dataclasses import dataclass

import numpy as np

from ..activations import get_activation
from ..formulas import formulas_of
from .neuron import check_index

__all__ = ["ChainStory", "chain_story", "cannot_show", "default_step", "number_tex", "number_text", "EARLY"]

EARLY = 0.02  # the default step: this far into training, where the gradients are still large enough to read


def default_step(trace):
    """The snapshot nearest to 2% of the way into training."""
    return trace.check_step(int(max(trace.n_steps - 1, 0) * EARLY))


@dataclass(frozen=True)
class ChainStory:
    """What ChainRule draws: ``w = W^layer_{unit, source}`` on probe digit ``sample`` at snapshot ``step``."""

    step: int
    sample: int
    label: int
    layer: int  # l: 1 to L - 1, as on screen
    n_layers: int  # L
    unit: int  # j, in layer l
    source: int  # k, in layer l - 1 (a pixel when l = 1)
    image_shape: tuple
    x: np.ndarray  # (n_in,) the digit's pixels
    w: float  # W^l_jk
    b: float  # b^l_j
    a_prev: float  # a^{l-1}_k (x_k when l = 1)
    z: float  # z^l_j, recorded
    a: float  # a^l_j, recorded
    f_prime: float  # f'(z^l_j)
    W_next: np.ndarray  # (n_next,) W^{l+1}_ij: unit j's outgoing weights
    delta_next: np.ndarray  # (n_next,) delta^{l+1}, recorded
    terms: np.ndarray  # (n_next,) W^{l+1}_ij delta^{l+1}_i: one per path through layer l + 1
    dl_da: float  # d loss / d a^l_j: the terms' sum
    delta: float  # delta^l_j, recorded
    dW_entry: float  # delta^l_j a^{l-1}_k, both as recorded: the digit's dW entry
    activation: str  # layer l's activation
    f_tex: str  # its f(z)
    f_prime_tex: str  # its f'(z)
    next_delta_tex: str  # how delta^{l+1} was made: the output/loss pair's delta^L, or the backward step
    digit_gradient_tex: str  # delta^l (a^{l-1})^T

    @property
    def gradient(self):
        """d loss / d w, the product of the three factors."""
        return self.a_prev * self.f_prime * self.dl_da

    @property
    def biggest(self):
        """i: the unit of layer l + 1 whose path carries the biggest term."""
        return int(np.argmax(np.abs(self.terms)))

    @property
    def share(self):
        """The biggest term's share of the terms' total size, sum |terms| (0 when every term is 0)."""
        total = float(np.abs(self.terms).sum())
        return float(abs(self.terms[self.biggest]) / total) if total else 0.0

    @property
    def levers(self):
        """The three ways z^l_j can change, as ``(what, dz/d(what), d loss/d(what) through this unit)``."""
        return (("b", 1.0, self.delta), ("w", self.a_prev, self.delta * self.a_prev),
                ("a_prev", self.w, self.delta * self.w))


def cannot_show(trace):
    """One line saying why ChainRule cannot show this run, or None if it can."""
    if trace.n_layers < 2:
        return "No hidden layer, so no chain to follow (train with --hidden 64)."
    hidden = [name for name in trace.run.activations[:-1] if name == "softmax"]
    if hidden:
        return "A hidden layer uses softmax, whose f' is not one number per unit: not shown."
    return None


def chain_story(trace, sample, step, layer=None, unit=None):
    """The numbers of ChainRule for probe digit ``sample`` at the snapshot ``step`` (exact).

    ``layer``: a hidden layer, 1 to L - 1 (default 1). ``unit``: a unit of it
    (default: the unit whose dW entry for this digit is the biggest in size).
    The source ``k`` is then the one of the biggest ``|delta_j a_k|``, which is
    the input with the most ink (the first such pixel) when ``l = 1``.
    """
    why = cannot_show(trace)
    if why:
        raise ValueError(why)
    L = trace.n_layers
    ell = 1 if layer is None else check_index(layer, L, "layer", "a hidden layer", low=1)
    weights, record = trace.weights(step, exact=True), trace.probe_record(step, exact=True)
    x = np.asarray(trace.probe_x[sample])
    a_prev = x if ell == 1 else record.a[ell - 2][sample]  # (n_{l-1},)
    delta = record.delta[ell - 1][sample]  # (n_l,)
    n = len(delta)
    if unit is None:
        j = int(np.argmax(np.abs(delta)))  # |delta_j a_k| is biggest at the biggest |delta_j| and |a_k|
    else:
        j = check_index(unit, n, "unit", f"a unit of layer {ell}")
    k = int(np.argmax(np.abs(a_prev)))
    W, b = weights[ell - 1]
    W_next = weights[ell][0][:, j].astype(np.float64)  # (n_next,)
    delta_next = record.delta[ell][sample].astype(np.float64)  # (n_next,)
    terms = W_next * delta_next
    z, a = float(record.z[ell - 1][sample][j]), float(record.a[ell - 1][sample][j])
    formulas = formulas_of(trace, step)
    name, f_tex, f_prime_tex = formulas.activation(ell)
    f_prime = float(get_activation(name).backward(np.array([[z]]), np.array([[a]]), np.ones((1, 1)))[0, 0])
    return ChainStory(
        step=int(step), sample=int(sample), label=int(trace.probe_labels[sample]), layer=ell, n_layers=L,
        unit=j, source=k, image_shape=tuple(trace.image_shape), x=x,
        w=float(W[j, k]), b=float(b[j]), a_prev=float(a_prev[k]), z=z, a=a, f_prime=f_prime,
        W_next=W_next, delta_next=delta_next, terms=terms, dl_da=float(terms.sum()),
        delta=float(delta[j]), dW_entry=float(np.outer(delta, a_prev)[j, k]),
        activation=name, f_tex=f_tex, f_prime_tex=f_prime_tex,
        next_delta_tex=formulas.output_delta if ell + 1 == L else formulas.backward,
        digit_gradient_tex=formulas.digit_weight_gradient,
    )


def number_tex(v, digits=3):
    r"""A number for the screen, as LaTeX, with ``digits`` significant digits: ``0.0345``, ``-1.23``,
    ``2.1 \times 10^{-5}``; 0 is ``0``.

    >>> number_tex(0.034512), number_tex(-0.000021), number_tex(0.0)
    ('0.0345', '-2.1 \\times 10^{-5}', '0')
    """
    v = float(v)
    if v == 0:
        return "0"
    if 1e-3 <= abs(v) < 1e5:
        text = f"{v:.{digits}g}"
        if "e" not in text:
            return text
    mantissa, exponent = f"{v:.{digits - 1}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"


SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def number_text(v, digits=4):
    """A number for plain text (not LaTeX), with ``digits`` significant digits: ``-0.2446``, ``-7.062×10⁻⁵``.

    >>> number_text(-0.24461), number_text(-7.0617e-05), number_text(0.0)
    ('-0.2446', '-7.062×10⁻⁵', '0')
    """
    v = float(v)
    if v == 0:
        return "0"
    if 1e-3 <= abs(v) < 1e5:
        text = f"{v:.{digits}g}"
        if "e" not in text:
            return text
    mantissa, exponent = f"{v:.{digits - 1}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}×10{str(int(exponent)).translate(SUPERSCRIPT)}"
