"""The lecture's handout: one self-contained HTML page that prints to PDF (A4) from the browser.

::

    write_handout(trace, chapters, figures, "lecture/handout.html")

The page holds the run (the facts ``explainer info`` prints, read from the
trace's reader), then each chapter in order: its title, its key formula with
this run's numbers (:mod:`explainer.lecture.key_formulas`), its poster frame
and its speaker notes; then the figures, each with a one-line caption.

Offline by construction: the style is inline, no font, script or style is
fetched, the math is Unicode with ``<sub>`` and ``<sup>`` (no MathJax), and
every image is a path relative to the page's folder. Every text put into the
page is escaped. On screen a chapter's video plays behind its poster; in print
the poster stands alone.
"""

import html
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ..colours import page_css
from .key_formulas import KEY_FORMULAS, key_formula

__all__ = ["Chapter", "write_handout", "key_formula", "run_facts", "CAPTIONS"]

# a figure's one-line caption, by its file's name (explainer.figures.FIGURES, as save_all names them)
CAPTIONS = {
    "loss_curves": "Loss (top) and accuracy (bottom) over training, per step and per epoch.",
    "filters": "The first layer's weights: one tile per hidden unit, in the shape of the image (red > 0, blue < 0).",
    "confusion": "The test set's confusion matrix: a row per true digit, a column per predicted digit.",
    "probes": "Probe digits with the network's answer and its confidence in every class.",
    "gradient_norms": "The size of each layer's weight gradient, ‖dW‖, at every step (log scale).",
    "dead_units": "The share of each hidden layer's units that were 0 for every digit of the batch, at every step.",
}


@dataclass(frozen=True)
class Chapter:
    """One chapter of the lecture, as the handout shows it.

    Attributes
    ----------
    name : str
        The scene's class name (``"Backprop"``); it picks the key formula.
    title : str
        A human title (``"Backpropagation"``).
    step : int
        The training step the chapter shows.
    sample : int or None
        The probe digit it follows, or None for a chapter that follows none.
    notes : sequence of str
        The speaker notes of its slides, in order (blank ones are left out of the page).
    poster : Path or None
        A PNG frame of its video.
    video : Path or None
        Its video (played on screen, left out of print).
    """

    name: str
    title: str
    step: int
    sample: int | None = None
    notes: Sequence[str] = ()
    poster: Path | None = None
    video: Path | None = None


def write_handout(trace, chapters, figures, dest):
    """Write the handout of ``trace``'s run to ``dest`` (an HTML file; its folder is made if missing).

    Parameters
    ----------
    trace : Trace
        The open trace (:func:`explainer.trace.open_trace`).
    chapters : sequence of Chapter
        The lecture's chapters, in order.
    figures : sequence of path
        The run's figures (PNG files, as :func:`explainer.figures.save_all` writes them).
    dest : str or Path
        The page to write. Posters, videos and figures are referred to by their
        path relative to its folder.

    Returns
    -------
    Path
        ``dest``.

    Raises
    ------
    FileNotFoundError
        If a poster, video or figure named is not a file (the page would show a broken picture).
    """
    dest = Path(dest)
    folder = dest.resolve().parent
    chapters, figures = list(chapters), [Path(f) for f in figures]
    missing = [str(p) for c in chapters for p in (c.poster, c.video) if p is not None and not Path(p).is_file()]
    missing += [str(f) for f in figures if not f.is_file()]
    if missing:
        raise FileNotFoundError(f"the handout {dest} would show missing files: {', '.join(missing)}")
    body = [_header(trace, chapters), _run_section(trace)]
    body += [_chapter_section(trace, number, chapter, folder) for number, chapter in enumerate(chapters, 1)]
    if figures:
        body.append(_figures_section(figures, folder))
    page = (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(_title(trace))}</title>\n<style>{page_css()}{STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")
    folder.mkdir(parents=True, exist_ok=True)
    dest.write_text(page, encoding="utf-8")
    return dest


# -- the run --------------------------------------------------------------------------------------------------


def run_facts(trace):
    """What ``explainer info`` says of the run, as ``[(key, label, value), ...]`` (plain text), from the
    reader: ``trace.summary()`` and ``trace.run``."""
    s, run = trace.summary(), trace.run
    t = s["training"]
    penalties = ", ".join(f"{name} = {value:g}" for name, value in (("l1", run.l1), ("l2", run.l2)) if value)
    decay = "none" if t["lr_decay"] == 1 else f"× {t['lr_decay']:g} each epoch"
    facts = [
        ("dataset", "data", f"{s['dataset']}, images of {s['image_shape'][0]}x{s['image_shape'][1]}"),
        ("network", "network", f"{' → '.join(map(str, s['sizes']))}  ({', '.join(s['activations'])})"),
        ("loss", "loss", run.loss + (f", weight penalty {penalties}" if penalties else "")),
        ("optimizer", "optimiser", t["optimizer"]),
        ("lr", "learning rate", f"{t['lr']:g}, decay: {decay}"),
        ("batch_size", "batch size", str(t["batch_size"])),
        ("epochs", "epochs", f"{s['epochs']} of {t['epochs']}"),
        ("steps", "steps", f"{s['steps']} of {s['planned_steps']} ({s['status']})"),
        ("snapshots", "snapshots", f"{s['snapshots']} (schedule {run.schedule}), {s['probe_size']} probe digits"),
        ("seed", "seed", str(t["seed"])),
    ]
    if s["final_val_accuracy"] is not None:
        facts.append(("last_epoch", "last epoch", f"train loss {s['final_train_loss']:.4f}, validation accuracy "
                                                  f"{s['final_val_accuracy']:.4f}"))
    accuracy = s["test_accuracy"]
    facts.append(("test_accuracy", "test accuracy", f"{accuracy:.4f} ({accuracy:.1%})" if accuracy is not None
                  else "none: the run stopped before its end"))
    return facts


def _title(trace):
    return f"How a neural network learns: {'-'.join(map(str, trace.sizes))} on {trace.dataset}"


def _header(trace, chapters):
    contents = "".join(f'<li><a href="#{_e(c.name)}">{_e(c.title)}</a></li>' for c in chapters)
    return (f"<header><h1>How a neural network learns</h1>\n"
            f'<p class="subtitle">A handout for one recorded run: a {_e(" → ".join(map(str, trace.sizes)))} network '
            f"on {_e(trace.dataset)} (trace {_e(trace.path.name)}). Every number below is this run's.</p>\n"
            + (f'<nav><ol class="contents">{contents}</ol></nav>' if contents else "") + "</header>")


def _run_section(trace):
    rows = "".join(f'<tr data-fact="{_e(key)}"><th>{_e(label)}</th><td>{_e(value)}</td></tr>'
                   for key, label, value in run_facts(trace))
    return f'<section class="run"><h2>The run</h2><table class="facts">{rows}</table></section>'


# -- the chapters -----------------------------------------------------------------------------------------------


def _chapter_section(trace, number, chapter, folder):
    where = _where(trace, chapter)
    formula = key_formula(trace, chapter)
    notes = [n for n in chapter.notes if n and n.strip()]
    parts = [f"<h2>{number}. {_e(chapter.title)}</h2>",
             f'<p class="where">{_e(where)}</p>' if where else "",
             formula,
             _frame(chapter, folder),
             ('<ol class="notes">' + "".join(f"<li>{_e(n.strip())}</li>" for n in notes) + "</ol>") if notes else ""]
    return f'<section class="chapter" id="{_e(chapter.name)}">' + "".join(parts) + "</section>"


def _where(trace, chapter):
    """"step 120, probe digit 3 (a 5)" for a chapter with a key formula; "" for the others."""
    if chapter.name not in KEY_FORMULAS:
        return ""
    where = f"step {trace.check_step(chapter.step)}"
    if chapter.sample is not None:
        sample = trace.check_sample(chapter.sample)
        where += f", probe digit {sample} (a {int(trace.probe_labels[sample])})"
    return where


def _frame(chapter, folder):
    """The poster (always in print) and, on screen, the video behind it."""
    if chapter.poster is None and chapter.video is None:
        return ""
    poster = _url(chapter.poster, folder) if chapter.poster is not None else None
    parts = []
    if poster:
        hidden = " print-only" if chapter.video is not None else ""  # on screen the video shows the poster
        parts.append(f'<img class="frame{hidden}" src="{poster}" alt="{_e("a frame of " + chapter.title)}">')
    if chapter.video is not None:
        shown = f' poster="{poster}"' if poster else ""
        parts.append(f'<video class="screen-only" controls preload="none"{shown} src="{_url(chapter.video, folder)}">'
                     "</video>")
        parts.append(f"<figcaption>video: {_e(_relative(chapter.video, folder))}</figcaption>")
    return '<figure class="poster">' + "".join(parts) + "</figure>"


# -- the figures -------------------------------------------------------------------------------------------------


def _figures_section(figures, folder):
    items = []
    for path in figures:
        caption = CAPTIONS.get(path.stem, path.stem.replace("_", " ").capitalize() + ".")
        items.append(f'<figure class="figure"><img src="{_url(path, folder)}" alt="{_e(path.stem)}">'
                     f"<figcaption>{_e(caption)}</figcaption></figure>")
    return '<section class="figures"><h2>Figures</h2>' + "".join(items) + "</section>"


# -- pieces ---------------------------------------------------------------------------------------------------


def _e(text):
    return html.escape(str(text), quote=True)


def _relative(path, folder):
    """``path`` relative to the page's folder, with forward slashes."""
    return Path(os.path.relpath(Path(path).resolve(), folder)).as_posix()


def _url(path, folder):
    """``path`` as a relative URL from the page's folder, escaped for an attribute."""
    return _e(quote(_relative(path, folder)))


STYLE = """
:root { color-scheme: light; }
body { font-family: "DejaVu Serif", "Liberation Serif", Georgia, serif; color: var(--ink); background: var(--paper);
       max-width: 50rem; margin: 2rem auto; padding: 0 1.2rem; line-height: 1.45; }
h1 { font-size: 2rem; margin: 0 0 0.3rem; }
h2 { font-size: 1.35rem; margin: 2rem 0 0.4rem; padding-bottom: 0.2rem; border-bottom: 1px solid var(--rule); }
.subtitle, .where { color: var(--text); margin: 0.2rem 0; }
.contents { columns: 2; color: var(--text); }
.contents a { color: inherit; }
table.facts { border-collapse: collapse; }
table.facts th { text-align: left; font-weight: normal; color: var(--label); padding: 0.15rem 1.5rem 0.15rem 0; }
table.facts td { padding: 0.15rem 0; }
.formula { border-left: 3px solid var(--accent); background: var(--accent-paper); padding: 0.4rem 0.9rem; margin: 0.8rem 0; }
.formula .math { font-size: 1.1rem; margin: 0.3rem 0; overflow-wrap: anywhere; }
.formula .says { font-size: 0.9rem; color: var(--text); margin: 0.3rem 0; }
.ss { display: inline-block; vertical-align: -0.4em; font-size: 0.75em; line-height: 1; }
.ss sup, .ss sub { display: block; font-size: 1em; line-height: 1; }
.root { border-top: 1px solid currentColor; padding-top: 0.05em; }
figure { margin: 1rem 0; }
figure img, figure video { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figure.poster img, figure.poster video { width: 100%; border: 1px solid var(--frame); }
figcaption { font-size: 0.9rem; color: var(--text); margin-top: 0.3rem; }
.notes li { margin: 0.3rem 0; white-space: pre-line; }
.print-only { display: none; }
@page { size: A4; margin: 16mm 15mm 18mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10.5pt; }
  .screen-only, video { display: none !important; }
  .print-only { display: block; }
  nav { display: none; }
  a { color: inherit; text-decoration: none; }
  h1, h2 { break-after: avoid; }
  section.chapter { break-inside: avoid; }
  .formula, figure, .notes li, table.facts tr { break-inside: avoid; }
  .formula { background: none; border: 1px solid var(--print-border); }
  figure.poster img { width: auto; max-width: 100%; max-height: 100mm; }
  .figures figure img { max-height: 115mm; }
}
"""
