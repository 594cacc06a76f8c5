"""Quantities over training steps: the loss and accuracy curves, the gradient norms, the dead units.

The figures count steps along x (one step = one mini-batch update) with the
epochs marked along the top. Per-step values are noisy, since each comes from
one mini-batch of a few dozen digits, so a moving mean is drawn over them.
"""

import numpy as np
from matplotlib.ticker import PercentFormatter

from .style import (
    COLORS,
    LAYER_COLORS,
    add_epoch_axis,
    check_count,
    default_window,
    layer_label,
    new_figure,
    plain_log_labels,
    smooth,
)

__all__ = ["loss_curves", "gradient_norms", "dead_units", "draw_dead_share"]


def loss_curves(trace, smoothing=None):
    """Loss (top) and accuracy (bottom) over training, per step and per epoch.

    Parameters
    ----------
    trace : Trace
    smoothing : int, optional
        Width in steps of the moving mean drawn over the per-step values
        (default: about 1/40 of the run).

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes[0]`` is the loss panel; its first line is the raw per-step
        loss, ``trace.scalars["loss"]``, at x = 0, 1, ... n_steps - 1.
    """
    window = default_window(trace.n_steps) if smoothing is None else check_count("smoothing", smoothing, 10**9)
    steps = np.arange(trace.n_steps)  # (n_steps,)
    loss, accuracy = trace.scalars["loss"], trace.scalars["accuracy"]  # (n_steps,) each
    ep = trace.epochs
    ev = trace.evaluation

    fig = new_figure(8.5, 7.0)
    ax_loss, ax_acc = fig.subplots(2, 1, sharex=True)

    ax_loss.plot(steps, loss, color=COLORS["raw"], lw=0.6, alpha=0.6, label="each step's batch loss")
    if window > 1:
        ax_loss.plot(steps, smooth(loss, window), color=COLORS["train"], lw=1.8,
                     label=f"batch loss, mean of {window} steps")
    _epoch_means(ax_loss, ep, "train_loss", "train, mean over each epoch", COLORS["epoch"])
    _epoch_points(ax_loss, ep, "val_loss", "validation (at the epoch's end)", COLORS["val"], "s")
    if ev is not None:
        ax_loss.axhline(ev.test_loss, color=COLORS["test"], lw=1.5, ls=":",
                        label=f"test, after training: {ev.test_loss:.3f}")
    ax_loss.set_yscale("log")
    plain_log_labels(ax_loss)
    ax_loss.set_ylabel(f"{trace.run.loss.replace('_', '-')} loss (log scale)")
    ax_loss.legend(loc="upper right", fontsize=9)
    ax_loss.grid(True, which="major", alpha=0.3)
    add_epoch_axis(ax_loss, trace)

    ax_acc.plot(steps, smooth(accuracy, window), color=COLORS["train"], lw=1.8,
                label="each step's batch accuracy" if window == 1 else f"batch accuracy, mean of {window} steps")
    _epoch_means(ax_acc, ep, "train_accuracy", "train, mean over each epoch", COLORS["epoch"])
    _epoch_points(ax_acc, ep, "val_accuracy", "validation (at the epoch's end)", COLORS["val"], "s")
    if ev is not None:
        ax_acc.axhline(ev.test_accuracy, color=COLORS["test"], lw=1.5, ls=":",
                       label=f"test, after training: {ev.test_accuracy:.1%}")
    ax_acc.set_ylim(0, 1.03)
    ax_acc.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_xlabel("training step (one mini-batch update each)")
    ax_acc.legend(loc="lower right", fontsize=9)
    ax_acc.grid(True, alpha=0.3)
    ax_acc.set_xlim(0, max(trace.n_steps, 1))

    fig.suptitle(_headline(trace, loss, smooth(loss, window), window, ev), fontsize=12)
    return fig


def gradient_norms(trace, smoothing=None):
    """The size of each layer's weight gradient, ``‖dW‖``, at every step (log scale).

    One colour per layer, each a moving mean taken on the log scale (so a
    geometric mean): the per-step norms of a mini-batch scatter over a factor
    of ten, too much to show them all.
    """
    window = default_window(trace.n_steps) if smoothing is None else check_count("smoothing", smoothing, 10**9)
    steps = np.arange(trace.n_steps)  # (n_steps,)
    norms = np.asarray(trace.scalars["grad_norm"], dtype=float)  # (n_steps, n_layers)
    tiny = np.finfo(float).tiny

    fig = new_figure(8.5, 4.8)
    ax = fig.subplots()
    smoothed = []
    for i in range(trace.n_layers):
        g = np.maximum(norms[:, i], tiny)  # (n_steps,); a zero gradient (dead layer) stays on a log axis
        smoothed.append(np.exp(smooth(np.log(g), window)))  # geometric mean: the log scale's own average
        ax.plot(steps, smoothed[-1], color=LAYER_COLORS[i % len(LAYER_COLORS)], lw=1.8,
                label=layer_label(trace, i))
    ax.set_yscale("log")
    ax.set_xlim(0, max(trace.n_steps, 1))
    ax.set_xlabel("training step (one mini-batch update each)")
    ax.set_ylabel("‖dW‖ (Frobenius norm, log scale)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(title="each step" if window == 1 else f"geometric mean of {window} steps", fontsize=9,
              title_fontsize=9, loc="best")
    add_epoch_axis(ax, trace)
    if trace.n_steps:
        first, last = [np.array([g[k] for g in smoothed]) for k in (0, -1)]
        fig.suptitle(f"The size of each layer's weight gradient dW:\n{_span(first)} at the start of training, "
                     f"{_span(last)} at the end", fontsize=12)
    plain_log_labels(ax)
    return fig


def dead_units(trace, smoothing=None):
    """The share of each hidden layer's units that were 0 for every digit of the batch, at every step.

    Such a unit passed no gradient back on that step. One colour per hidden
    layer, each a moving mean (the output layer's softmax units are never 0,
    so it has no line). A network with no hidden layer has nothing to draw:
    ValueError.
    """
    hidden = trace.n_layers - 1
    if hidden < 1:
        raise ValueError(f"{trace.path} has no hidden layer, so no unit that can die: there are no dead units to draw")
    window = default_window(trace.n_steps) if smoothing is None else check_count("smoothing", smoothing, 10**9)
    fig = new_figure(8.5, 4.8)
    ax = fig.subplots()
    smoothed = draw_dead_share(ax, trace, window, lw=1.8)
    ax.set_xlim(0, max(trace.n_steps, 1))
    ax.set_xlabel("training step (one mini-batch update each)")
    ax.set_ylabel("dead units: 0 for every digit of the batch")
    ax.grid(True, alpha=0.3)
    ax.legend(title="each step" if window == 1 else f"mean of {window} steps", fontsize=9, title_fontsize=9,
              loc="best")
    add_epoch_axis(ax, trace)
    if trace.n_steps:
        change = "\n".join(_dead_words(i, line) for i, line in enumerate(smoothed))
        fig.suptitle(f"Dead units per hidden layer (a ReLU unit at 0 for a whole batch gets no gradient from it):\n"
                     f"{change}", fontsize=12)
    return fig


def draw_dead_share(ax, trace, window, lw=1.4):
    """On ``ax``, one line per hidden layer: the moving mean (``window`` steps) of its recorded ``dead_share``.

    The y axis runs from 0 to a little above the highest line, in per cent.
    Returns the lines' values, one (n_steps,) array per hidden layer.
    """
    steps = np.arange(trace.n_steps)  # (n_steps,)
    dead = np.asarray(trace.scalars["dead_share"], dtype=float)  # (n_steps, n_layers); softmax units never die
    smoothed = [smooth(dead[:, i], window) for i in range(trace.n_layers - 1)]
    for i, line in enumerate(smoothed):
        ax.plot(steps, line, color=LAYER_COLORS[i % len(LAYER_COLORS)], lw=lw, label=layer_label(trace, i))
    top = max((float(line.max()) for line in smoothed if len(line)), default=0.0)
    ax.set_ylim(0, max(0.05, min(1.0, top * 1.15)))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    return smoothed


def _epoch_points(ax, epochs, key, label, color, marker):
    """Values measured at each epoch's end: a marker there, joined by a dashed line (missing ones skipped)."""
    x, y = np.asarray(epochs["step"]), np.asarray(epochs[key], dtype=float)
    keep = np.isfinite(y)
    if keep.any():
        ax.plot(x[keep], y[keep], color=color, marker=marker, ms=5, lw=1, ls="--", label=label, clip_on=False)


def _epoch_means(ax, epochs, key, label, color):
    """Means over each epoch's batches: a bar across the epoch's steps, with a marker at its end."""
    end, y = np.asarray(epochs["step"]), np.asarray(epochs[key], dtype=float)
    if not len(end):  # the run stopped during its first epoch
        return
    start = np.concatenate([[0], end[:-1]])
    nan = np.full(len(y), np.nan)
    xs = np.column_stack([start, end, nan]).ravel()  # start, end, gap, start, end, gap, ...
    ys = np.column_stack([y, y, nan]).ravel()
    ax.plot(xs, ys, color=color, lw=2.2, marker="o", ms=6, mfc=COLORS["paper"], mew=1.5,
            markevery=slice(1, None, 3), label=label, clip_on=False)


def _span(values):
    """"0.083" or "0.083 to 0.098": the range of a few positive numbers, to 2 significant digits."""
    lo, hi = f"{values.min():.2g}", f"{values.max():.2g}"
    return lo if lo == hi else f"{lo} to {hi}"


def _dead_words(i, line):
    """"layer 1: 1% at the start, 2% at the end, 5% at most (step 830)": a peak between the ends is not hidden."""
    peak = int(np.argmax(line))
    words = f"layer {i + 1}: {line[0]:.0%} at the start, {line[-1]:.0%} at the end"
    if f"{line[peak]:.0%}" not in (f"{line[0]:.0%}", f"{line[-1]:.0%}"):
        words += f", {line[peak]:.0%} at most (step {peak})"
    return words


def _headline(trace, loss, smoothed_loss, window, ev):
    """The loss from where its curve starts (step 0's batch loss) to where the mean line ends."""
    if not trace.n_steps:
        return f"{trace.dataset}: no training step recorded yet"
    first, last = float(loss[0]), float(smoothed_loss[-1])
    epochs = f"{trace.n_epochs} epochs" if trace.n_epochs else "within the first epoch"
    end = "the last step" if window == 1 else f"the mean of the last {window} steps"
    words = (f"{trace.dataset} {'→'.join(map(str, trace.sizes))}: over {trace.n_steps} steps ({epochs}) the batch "
             f"loss {'fell' if last < first else 'rose'}\nfrom {first:.2f} (step 0) to {last:.3f} ({end})")
    if ev is not None:
        return f"{words}\nand the network classifies {ev.test_accuracy:.1%} of the test digits correctly"
    return f"{words}\nand the run stopped before its end: no test accuracy"
