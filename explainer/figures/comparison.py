"""Figures of ``explainer compare``: the libraries' curves side by side, and their confusion matrices."""

import numpy as np

from .. import colours
from .predictions import draw_confusion
from .style import new_figure

__all__ = ["comparison_curves", "comparison_confusions", "comparison_disputes", "library_colours", "check_pngs_out", "save_png"]


def library_colours(names):
    """One Okabe-Ito curve colour per library, in the table's order."""
    palette = list(colours.CURVES.values())
    return {name: palette[i % len(palette)] for i, name in enumerate(names)}


def comparison_curves(comparison):
    """Training loss and validation accuracy per epoch, one line per library that ran."""
    ran = comparison.ran
    tint = library_colours(r.name for r in comparison.runs)
    fig = new_figure(10, 4.2)
    loss_ax, acc_ax = fig.subplots(1, 2)
    for r in ran:
        epochs = np.arange(1, len(r.train_loss) + 1)
        loss_ax.plot(epochs, r.train_loss, marker="o", ms=3, color=tint[r.name], label=r.name)
        acc_ax.plot(epochs, r.val_accuracy, marker="o", ms=3, color=tint[r.name],
                    label=f"{r.name}: test {r.test_accuracy:.2%}")
    loss_ax.set(xlabel="epoch", ylabel="training loss (mean over the epoch's batches)", yscale="log",
                title="Training loss")
    acc_ax.set(xlabel="epoch", ylabel="validation accuracy", title="Validation accuracy")
    acc_ax.legend(title="test accuracy at the end", fontsize=9)
    loss_ax.legend(fontsize=9)
    for ax in (loss_ax, acc_ax):
        ax.grid(alpha=0.3)
    e = comparison.experiment
    fig.suptitle(f"The same network, {len(ran)} ways: {e.dataset}, {'-'.join(map(str, e.hidden))} hidden "
                 f"{e.activation}, {e.optimizer}, batch {e.batch_size}")
    return fig


def comparison_confusions(comparison):
    """Each library's test confusion matrix, side by side (rows true, columns predicted)."""
    ran = comparison.ran
    fig = new_figure(4.2 * max(len(ran), 1), 4.8)
    axes = np.atleast_1d(fig.subplots(1, max(len(ran), 1)))
    first = ran[0] if ran else None
    for ax, r in zip(axes, ran):
        draw_confusion(ax, r.confusion)
        mistakes = int(r.confusion.sum() - np.trace(r.confusion))
        differs = "" if r is first else f"; differs from {first.name} on {int((r.predicted != first.predicted).sum())}"
        ax.set_title(f"{r.name}: {r.test_accuracy:.2%}\n{mistakes} mistakes{differs}", fontsize=11)
    fig.suptitle(f"Test confusion matrices ({len(comparison.labels):,} test digits; the models disagree on "
                 f"{comparison.n_disputed():,})")
    return fig


def comparison_disputes(comparison, limit=24):
    """The test digits the libraries answer differently (up to ``limit``): each digit, its true label, and
    every library's answer beneath it, green where right and orange where wrong.

    The pictures are ``comparison.images``, the test digits (n_test, h, w).
    """
    images = comparison.images
    disputed, ran = comparison.disputed()[:limit], comparison.ran
    columns, width, picture, title, line, top = 8, 1.25, 0.9, 0.24, 0.17, 0.45  # inches
    row = title + picture + line * len(ran) + 0.12
    n_rows = max(1, -(-len(disputed) // columns))
    height = top + row * n_rows
    fig = new_figure(width * columns, height)
    fig.set_layout_engine(None)  # placed by hand: each picture with its answers below it
    for n, i in enumerate(disputed):
        r_, c_ = divmod(n, columns)
        bottom = height - top - r_ * row - title - picture
        ax = fig.add_axes([(c_ * width + (width - picture) / 2) / (width * columns), bottom / height,
                           picture / (width * columns), picture / height])
        ax.set_axis_off()
        truth = int(comparison.labels[i])
        ax.imshow(images[i], cmap=colours.digit_cmap(), vmin=0, vmax=max(float(images[i].max()), 1e-6))
        ax.set_title(f"#{i}: a {truth}", fontsize=9, pad=3)
        for k, r in enumerate(ran):
            answer = int(r.predicted[i])
            fig.text((c_ + 0.5) / columns, (bottom - 0.04 - line * k) / height, f"{r.name}: {answer}", ha="center",
                     va="top", fontsize=8, fontweight="bold",
                     color=colours.RIGHT if answer == truth else colours.WRONG)
    shown = f"the first {len(disputed)} of {comparison.n_disputed()}" if comparison.n_disputed() > len(disputed) \
        else f"all {len(disputed)}"
    fig.suptitle(f"The test digits the {len(ran)} libraries answer differently ({shown}); "
                 "green: right, orange: wrong" if len(disputed) else "The libraries agree on every test digit")
    return fig


def check_pngs_out(out, names, made_by):
    """Check, before any work, that ``out/NAME.png`` for each name is new or an earlier ``made_by``'s own.

    ``out`` must be a folder that can be written in (:func:`explainer.outputs.check_folder_out`); a file
    in the way that this command did not write (its PNG metadata says who did) is refused, never replaced.
    """
    from PIL import Image, UnidentifiedImageError

    from ..outputs import check_folder_out

    out = check_folder_out(out, "--out")
    paths = [out / f"{name}.png" for name in names]
    for path in paths:
        if not (path.exists() or path.is_symlink()):
            continue
        try:
            with Image.open(path) as image:
                ours = image.format == "PNG" and image.info.get("Software") == made_by
        except (OSError, UnidentifiedImageError):
            ours = False
        if not ours or path.is_symlink():
            raise FileExistsError(f"--out {out} already holds {path.name}, which `{made_by}` did not write: "
                                  "move it away, or choose another --out")
    return paths


def save_png(fig, path, made_by, dpi=150):
    """Write ``fig`` as a PNG at ``path``, marked as ``made_by``'s (so a rerun may replace it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, format="png", metadata={"Software": made_by})
    return path
