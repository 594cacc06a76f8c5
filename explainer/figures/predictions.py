"""What the network answers: the test set's confusion matrix, and the probe digits one by one."""

import math

import numpy as np
from matplotlib.patches import Patch

from .. import colours
from ..errors import ExplainerError
from .style import COLORS, check_count, describe_step, new_figure, wrap

__all__ = ["confusion", "draw_confusion", "probes", "NoEvaluationError", "require_evaluation"]


class NoEvaluationError(ExplainerError, ValueError):
    """The trace has no test evaluation: its run stopped before the end."""


def confusion(trace):
    """The test set's confusion matrix: row = true digit, column = predicted digit, count in each cell.

    Raises
    ------
    NoEvaluationError
        If the run did not finish, so the test set was never evaluated.
    """
    ev = require_evaluation(trace)
    counts = np.asarray(ev.confusion)  # (n_classes, n_classes): rows true, columns predicted
    fig = new_figure(6.8, 6.2)
    ax = fig.subplots()
    draw_confusion(ax, counts)
    fig.legend(handles=[Patch(color=COLORS["right"], label="right: predicted = true (the diagonal)"),
                        Patch(color=COLORS["wrong"], label="wrong: each count off the diagonal is a mistake")],
               title="deeper colour: more test digits (square-root scale); white: none", title_fontsize=9,
               loc="outside lower center", ncols=1, fontsize=9, frameon=False)
    n_test, right = int(counts.sum()), int(np.trace(counts))
    ax.set_title(f"Test accuracy {ev.test_accuracy:.1%}: {right:,} of {n_test:,} test digits on the diagonal;\n"
                 f"{n_test - right:,} mistakes off it", fontsize=12)
    return fig


def draw_confusion(ax, counts):
    """Draw a confusion matrix (rows true, columns predicted) on ``ax``: the diagonal in the colour of right
    answers, mistakes in the colour of wrong ones, each cell with its count."""
    counts = np.asarray(counts)  # (n_classes, n_classes)
    k = len(counts)
    # each cell in the colour of right answers (the diagonal) or of mistakes, deeper with its count; on a
    # square-root scale, so that a handful of mistakes still shows against a diagonal of hundreds
    shade = colours.count_shade(counts)  # (k, k) from 0 (paper) to 1 (full colour)
    diagonal = np.eye(k, dtype=bool)[..., None]  # (k, k, 1)
    picture = np.where(diagonal, colours.mix(colours.RIGHT, shade), colours.mix(colours.WRONG, shade))  # (k, k, 3)
    ax.imshow(picture, interpolation="nearest")
    for true in range(k):
        for pred in range(k):
            c = int(counts[true, pred])
            r, g, b = picture[true, pred]
            if 0.299 * r + 0.587 * g + 0.114 * b < 0.5:
                color = colours.PAPER
            else:
                color = colours.INK if c else colours.MUTED
            ax.text(pred, true, str(c), ha="center", va="center", color=color,
                    fontweight="bold" if c and true != pred else "normal", fontsize=10 if k <= 10 else 9)
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")


def require_evaluation(trace):
    """The trace's :class:`~explainer.trace.Evaluation`, or a clear error if the run did not finish."""
    if trace.evaluation is None:
        raise NoEvaluationError(
            f"{trace.path} has no test evaluation (status '{trace.status}': the run stopped before its end), "
            "so there is no confusion matrix; train to the end to get one, or draw the other figures "
            "(explainer plot TRACE --only loss_curves,filters,probes,gradient_norms)")
    return trace.evaluation


def probes(trace, step=None, n=10):
    """Probe digits with the network's answer and its confidence in every class, at one snapshot.

    The probes are taken one per class in turn (a 0, a 1, ... then a second
    0, ...), so the default ``n=10`` shows each digit once. Under each image,
    the output layer's ``a`` (the softmax probabilities) for that digit.
    """
    s, words = describe_step(trace, step)
    p = trace.probe_record(s).probabilities  # (n_probe, n_classes)
    labels = np.asarray(trace.probe_labels)  # (n_probe,)
    n = check_count("n", n, len(labels))
    chosen = _one_per_class_in_turn(labels)[:n]
    predicted = p.argmax(axis=1)  # (n_probe,)
    images = trace.probe_x.reshape(len(labels), *trace.image_shape)  # (n_probe, h, w)
    lo, hi = float(trace.probe_x.min()), float(trace.probe_x.max())
    n_classes = p.shape[1]
    ink_on_paper = colours.digit_cmap()

    cols = min(n, 5)
    rows = math.ceil(n / cols)
    width = max(6.0, 2.1 * cols + 0.5)
    fig = new_figure(width, 3.3 * rows + 1.0)
    grid = fig.add_gridspec(2 * rows, cols, height_ratios=[1.0, 0.6] * rows)
    n_right = 0
    for slot, i in enumerate(chosen):
        r, c = divmod(slot, cols)
        right = predicted[i] == labels[i]
        n_right += bool(right)
        ax_img = fig.add_subplot(grid[2 * r, c])
        ax_img.imshow(images[i], cmap=ink_on_paper, vmin=lo, vmax=hi, interpolation="nearest")
        ax_img.set_xticks([])
        ax_img.set_yticks([])
        ax_img.set_title(f"true {labels[i]} / predicted {predicted[i]}", fontsize=10,
                         color=COLORS["ink"] if right else COLORS["wrong"], fontweight="normal" if right else "bold")
        if not right:
            for spine in ax_img.spines.values():
                spine.set_color(COLORS["wrong"])
                spine.set_linewidth(3)

        ax_bar = fig.add_subplot(grid[2 * r + 1, c])
        colors = [COLORS["other"]] * n_classes
        if not right:
            colors[labels[i]] = COLORS["true"]
        colors[predicted[i]] = COLORS["right"] if right else COLORS["wrong"]
        ax_bar.bar(range(n_classes), p[i], color=colors, width=0.8)
        ax_bar.set_ylim(0, 1.3)  # room for the confidence above the tallest bar
        ax_bar.set_xticks(range(n_classes))
        ax_bar.tick_params(labelsize=9, length=2, pad=1)
        ax_bar.set_yticks([0, 0.5, 1])
        if c == 0:
            ax_bar.set_ylabel("probability", fontsize=9)
        else:
            ax_bar.set_yticklabels([])
        ax_bar.spines[["top", "right"]].set_visible(False)
        ax_bar.spines["left"].set_bounds(0, 1)
        k = predicted[i]
        ax_bar.text(k, p[i, k] + 0.04, f"{p[i, k]:.0%}", ha={0: "left", n_classes - 1: "right"}.get(k, "center"),
                    va="bottom", fontsize=9, color=colors[k])

    fig.legend(handles=[Patch(color=COLORS["right"], label="the true digit (and the guess, when it is right)"),
                        Patch(color=COLORS["wrong"], label="the guess, when it is wrong"),
                        Patch(color=COLORS["other"], label="other digits")],
               loc="outside lower center", ncols=1 if cols < 4 else 3, fontsize=9, frameon=False)
    fig.suptitle(wrap(f"{n_right} of {n} probe digits classified correctly at {words}\n"
                      "bars: the softmax output a, the network's probability for each digit", width), fontsize=12)
    return fig


def _one_per_class_in_turn(labels):
    """Indices ordered one per class in turn: first 0, first 1, ..., then second 0, second 1, ..."""
    rank = np.zeros(len(labels), dtype=int)  # how many of the same class come before it
    for k in np.unique(labels):
        where = np.flatnonzero(labels == k)
        rank[where] = np.arange(len(where))
    return np.lexsort((labels, rank))  # by rank, then by class
