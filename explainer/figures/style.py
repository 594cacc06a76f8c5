"""What every figure shares: the colours, the smoothing, the epoch axis, the words for a step.

Colours are the one scheme of every picture (:mod:`explainer.colours`):
Okabe-Ito curves, which stay distinguishable under the common forms of
colour blindness; right answers bluish green and wrong ones orange; digits
dark ink on white paper. Figures are made with
``matplotlib.figure.Figure`` (never pyplot), so making one touches no global
state and needs no display.
"""

import textwrap

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

from .. import colours

__all__ = ["COLORS", "LAYER_COLORS", "new_figure", "smooth", "default_window", "add_epoch_axis",
           "describe_step", "layer_label", "check_count", "plain_log_labels", "wrap"]

# the one colour scheme (explainer.colours): curves in Okabe-Ito, right bluish green, wrong orange
COLORS = {
    **colours.CURVES,
    "right": colours.RIGHT,
    "wrong": colours.WRONG,
    "true": colours.RIGHT,  # the true class, when the guess is wrong: where the right answer was
    "other": colours.OTHER,
    "ink": colours.INK,
    "paper": colours.PAPER,
}
LAYER_COLORS = colours.LAYER_COLOURS


def new_figure(width, height):
    """A figure with constrained layout (nothing cut off), white behind it for dark viewers."""
    return Figure(figsize=(width, height), layout="constrained", facecolor=colours.PAPER)


def wrap(text, width_inches, fontsize=12):
    """Break ``text`` into lines that fit ``width_inches`` at ``fontsize`` (constrained layout will not)."""
    per_line = max(20, int(width_inches * 72 / (0.5 * fontsize)))  # an average glyph is ~0.5 em wide
    return "\n".join(textwrap.fill(paragraph, per_line) for paragraph in text.split("\n"))


def default_window(n_steps):
    """An odd smoothing window of about 1/40 of the run: 31 steps for 1,200; 1 for 40 or fewer."""
    return 2 * (n_steps // 80) + 1


def smooth(y, window, centred=True):
    """Moving mean over ``window`` steps; the window shrinks at the ends.

    ``centred``: the steps around each step, for a curve of a whole run (the
    figures, the dashboards). Otherwise trailing: each step and the ones before
    it, for a curve drawn as training goes (the scenes), which must not know
    the losses still to come.

    >>> smooth([0.0, 3.0, 0.0, 3.0], 3)
    array([1.5, 1. , 2. , 1.5])
    >>> smooth([0.0, 3.0, 0.0, 3.0], 3, centred=False)
    array([0. , 1.5, 1. , 2. ])
    """
    y = np.asarray(y, dtype=float)  # (n_steps,)
    if window <= 1 or len(y) < 2:
        return y.copy()
    cumulative = np.concatenate([[0.0], np.cumsum(y)])  # (n_steps + 1,)
    i = np.arange(len(y))
    first = i - window // 2 if centred else i - window + 1  # steps first .. first + window - 1 are averaged
    lo, hi = np.maximum(first, 0), np.minimum(first + window, len(y))  # ... those inside the run
    return (cumulative[hi] - cumulative[lo]) / (hi - lo)


def add_epoch_axis(ax, trace):
    """An "epoch" scale along the top of an axes whose x axis counts steps."""
    per_epoch = trace.steps_per_epoch
    top = ax.secondary_xaxis("top", functions=(lambda s: s / per_epoch, lambda e: e * per_epoch))
    top.set_xlabel("epoch")
    top.xaxis.set_major_locator(MaxNLocator(integer=True))
    return top


def plain_log_labels(ax):
    """Label a log y axis 0.01, 0.1, 1 (not 10^-2 ...), and enough ticks between to read it.

    Call after plotting: it reads the axis limits. Under one decade every tick
    between is labelled; under three, the 2s and 5s; beyond, none.
    """
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    ax.yaxis.set_major_formatter(plain)
    lo, hi = ax.get_ylim()
    decades = np.log10(hi / lo)
    if decades < 1:
        ax.yaxis.set_minor_formatter(plain)
    elif decades < 3:
        def two_and_five(v, _):
            mantissa = round(v / 10 ** np.floor(np.log10(v) + 1e-9))
            return f"{v:g}" if mantissa in (2, 5) else ""
        ax.yaxis.set_minor_formatter(FuncFormatter(two_and_five))
    else:
        ax.yaxis.set_minor_formatter(NullFormatter())


def describe_step(trace, step):
    """Choose the snapshot nearest ``step`` (default: the last) and say which it is.

    Returns ``(snapshot_step, words)``, e.g. ``(1199, "step 1199 (epoch 30 of 30)")``.
    """
    if not len(trace.snapshot_steps):
        raise ValueError(f"{trace.path} holds no snapshot yet, so there are no weights to draw")
    wanted = int(trace.snapshot_steps[-1]) if step is None else step
    s = int(trace.snapshot_steps[trace.snapshot_index(wanted)])
    if s == 0:
        words = "step 0 (initial weights, before any update)"
    else:
        epoch = trace.run.epoch_of(s) + 1
        words = f"step {s} (epoch {epoch} of {trace.run.epochs})"
    if step is not None and s != step:
        words = f"{words}, the snapshot nearest to step {step}"
    return s, words


def layer_label(trace, i):
    """How weighted layer ``i`` (0-based, as in the code) is named on a figure: "layer 1 (64→128, relu)";
    a convolution's: "layer 1 (conv 16 5x5, relu)"."""
    shape = trace.run.shapes[i]
    if len(shape) == 4:  # a convolution's W: (n_out, k, k, c_in)
        n_out, k = shape[0], shape[1]
        return f"layer {i + 1} (conv {n_out} {k}x{k}, {trace.run.activations[i]})"
    n_out, n_in = shape
    return f"layer {i + 1} ({n_in}→{n_out}, {trace.run.activations[i]})"


def check_count(name, n, available):
    """Validate a user's count: a whole number from 1 to ``available``."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= available:
        raise ValueError(f"{name} must be a whole number from 1 to {available}; got {n!r}")
    return int(n)
