"""Figures of ``explainer compare-runs``: two or more recorded runs overlaid, and their filters side by side.

Each run has one colour (Okabe-Ito, in the order the runs were named). The x
axis counts steps when the runs are equally long, otherwise the fraction of
training, by which the runs are matched (:mod:`explainer.run_pairs`).
"""

import numpy as np
from matplotlib.ticker import PercentFormatter

from .. import colours
from ..filters import filter_mosaic, filter_palette, filter_range
from ..run_pairs import FILTER_FRACTIONS, matched_snapshots, run_label, same_length
from .style import default_window, new_figure, plain_log_labels, smooth

__all__ = ["RUN_FIGURES", "run_colours", "runs_x", "runs_loss", "runs_gradient_norms", "runs_dead_units",
           "runs_filters"]

FILTERS_SHOWN = 16  # the first 16 units' filters of each run, in each matched snapshot


def run_colours(n):
    """``n`` curve colours, one per run (Okabe-Ito, black left out: it is the text's)."""
    palette = [c for name, c in colours.OKABE_ITO.items() if name != "black"]
    return [palette[i % len(palette)] for i in range(n)]


def runs_x(runs):
    """``(label, [x of each run])``: steps if the runs are equally long, else the fraction of training."""
    if same_length(runs):
        return "training step", [np.arange(t.n_steps) for t in runs]
    return "fraction of training", [np.arange(t.n_steps) / max(t.n_steps - 1, 1) for t in runs]


def _axes_x(ax, runs, label):
    ax.set_xlabel(label)
    if label.startswith("fraction"):
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))


def runs_loss(runs):
    """Loss (log scale) and batch accuracy of every run, each a moving mean, overlaid."""
    label, xs = runs_x(runs)
    fig = new_figure(9, 6.4)
    ax_loss, ax_acc = fig.subplots(2, 1, sharex=True)
    for trace, x, colour in zip(runs, xs, run_colours(len(runs))):
        window = default_window(trace.n_steps)
        loss, accuracy = trace.scalars["loss"], trace.scalars["accuracy"]  # (n_steps,) each
        ev = trace.evaluation
        test = f"; test {ev.test_accuracy:.1%}" if ev is not None else ""
        ax_loss.plot(x, smooth(loss, window), color=colour, lw=1.8, label=run_label(trace))
        ax_acc.plot(x, smooth(accuracy, window), color=colour, lw=1.8,
                    label=f"{run_label(trace, short=True)}: last {float(np.mean(accuracy[-window:])):.1%}{test}")
    ax_loss.set_yscale("log")
    plain_log_labels(ax_loss)
    ax_loss.set_ylabel("batch loss (moving mean, log scale)")
    ax_loss.legend(fontsize=9, loc="upper right")
    ax_acc.set_ylim(0, 1.03)
    ax_acc.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax_acc.set_ylabel("batch accuracy (moving mean)")
    ax_acc.legend(fontsize=9, loc="lower right")
    _axes_x(ax_acc, runs, label)
    for ax in (ax_loss, ax_acc):
        ax.grid(True, alpha=0.3)
    fig.suptitle(f"{len(runs)} runs: loss and accuracy" + ("" if same_length(runs) else
                                                            " (matched by fraction of training)"))
    return fig


def runs_gradient_norms(runs):
    """‖dW‖ of each layer, one panel per layer, every run overlaid (geometric moving mean, log scale).

    Where a sigmoid network's gradients vanish, its first layer's line lies
    far below a ReLU network's: each layer back from the output multiplies
    the gradient by sigmoid' <= 1/4.
    """
    label, xs = runs_x(runs)
    depth = max(t.n_layers for t in runs)
    fig = new_figure(4.0 * depth, 4.4)
    axes = np.atleast_1d(fig.subplots(1, depth, sharey=True))
    tiny = np.finfo(float).tiny
    for trace, x, colour in zip(runs, xs, run_colours(len(runs))):
        norms = np.asarray(trace.scalars["grad_norm"], dtype=float)  # (n_steps, n_layers)
        window = default_window(trace.n_steps)
        for i in range(trace.n_layers):
            g = np.exp(smooth(np.log(np.maximum(norms[:, i], tiny)), window))  # geometric mean of the window
            axes[i].plot(x, g, color=colour, lw=1.6, label=f"{run_label(trace, short=True)} "
                         f"({trace.run.activations[i]}): start {g[0]:.2g}, end {g[-1]:.2g}")
    for i, ax in enumerate(axes):
        ax.set_yscale("log")
        plain_log_labels(ax)
        ax.set_title("output layer" if i == depth - 1 else f"layer {i + 1}" + (" (first)" if i == 0 else ""))
        _axes_x(ax, runs, label)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    axes[0].set_ylabel("‖dW‖ (log scale)")
    fig.suptitle("The size of each layer's weight gradient dW, run by run: a layer whose line lies far below "
                 "another run's learns that much slower")
    return fig


def runs_dead_units(runs):
    """The share of each hidden layer's units that were 0 for the whole batch, every run overlaid."""
    label, xs = runs_x(runs)
    depth = max(t.n_layers - 1 for t in runs)
    if depth < 1:
        raise ValueError("none of these runs has a hidden layer, so there are no dead units to draw")
    fig = new_figure(4.2 * depth, 4.2)
    axes = np.atleast_1d(fig.subplots(1, depth, sharey=True))
    top = 0.05
    for trace, x, colour in zip(runs, xs, run_colours(len(runs))):
        dead = np.asarray(trace.scalars["dead_share"], dtype=float)  # (n_steps, n_layers)
        window = default_window(trace.n_steps)
        for i in range(trace.n_layers - 1):
            line = smooth(dead[:, i], window)
            top = max(top, float(line.max()))
            axes[i].plot(x, line, color=colour, lw=1.6, label=f"{run_label(trace, short=True)} "
                         f"({trace.run.activation}): end {line[-1]:.0%}")
    for i, ax in enumerate(axes):
        ax.set_ylim(0, min(1.0, top * 1.15))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_title(f"hidden layer {i + 1}")
        _axes_x(ax, runs, label)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    axes[0].set_ylabel("dead units: 0 for every digit of the batch")
    fig.suptitle("Dead units, run by run (a unit at 0 for the whole batch passes no gradient back)")
    return fig


def runs_filters(runs, fractions=FILTER_FRACTIONS, n=FILTERS_SHOWN):
    """The first layer's filters of every run (rows) at matched fractions of training (columns).

    Each run keeps its own colour range (:func:`explainer.filters.filter_range`): the same weight has
    the same colour in all of one run's pictures; white is 0 in every one.
    """
    fig = new_figure(2.3 * len(fractions) + 0.6, 2.0 * len(runs) + 0.8)
    axes = np.atleast_2d(fig.subplots(len(runs), len(fractions)))
    palette = filter_palette()
    for row, trace in enumerate(runs):
        vmax = filter_range(trace)
        steps = [matched_snapshots(runs, f)[row] for f in fractions]
        for col, (fraction, step) in enumerate(zip(fractions, steps)):
            images = trace.first_layer_filters(step)[:n]  # (n, height, width)
            ax = axes[row, col]
            ax.imshow(palette[filter_mosaic(images, vmax, cols=4)], interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{fraction:.0%}: step {step:,}", fontsize=9)
            if col == 0:
                ax.set_ylabel(run_label(trace, short=True), fontsize=10)
    fig.suptitle(f"First-layer filters (the first {n} units) at matched fractions of training; red: ink there "
                 "raises z, blue: lowers it", fontsize=11)
    return fig


# name -> function; the name is also the file name compare-runs writes
RUN_FIGURES = {
    "runs_loss": runs_loss,
    "runs_gradient_norms": runs_gradient_norms,
    "runs_dead_units": runs_dead_units,
    "runs_filters": runs_filters,
}
