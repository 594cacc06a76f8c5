"""The lecture folder's ``index.html``: one page that links the deck, the handout, the PPTX, each chapter's
video (behind its poster frame) and the figures. Self-contained: its style is inline, every link is a
relative path inside the folder, nothing is fetched from the network."""

import html
from pathlib import Path

from ..colours import page_css

__all__ = ["write_index"]

STYLE = """
body { font-family: sans-serif; max-width: 62rem; margin: 2rem auto; padding: 0 1rem; color: var(--ink); }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
.run { color: var(--label); margin-top: 0; }
.main a { display: inline-block; margin: 0.4rem 1rem 0.4rem 0; padding: 0.5rem 0.9rem; border: 1px solid var(--border);
          border-radius: 6px; text-decoration: none; color: var(--ink); }
.chapters { display: grid; grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr)); gap: 1rem; }
.chapter img { width: 100%; border: 1px solid var(--frame); }
.chapter p { margin: 0.2rem 0; }
.figures img { max-width: 30%; margin: 0.3rem; border: 1px solid var(--frame); vertical-align: top; }
"""


def _link(target, folder):
    """``target`` as a link relative to the page's ``folder`` (either may be given relative or absolute)."""
    return html.escape(Path(target).resolve().relative_to(Path(folder).resolve()).as_posix(), quote=True)


def write_index(result, trace, chapters, figures):
    """Write ``result.index`` for a built lecture (:class:`~explainer.lecture.build.LectureResult`), its
    ``chapters`` (:class:`~explainer.lecture.handout.Chapter`, in order) and ``figures`` (PNG paths)."""
    folder = result.folder
    summary = trace.run
    accuracy = trace.evaluation.test_accuracy if trace.evaluation else None
    run = (f"{' → '.join(str(n) for n in summary.sizes)} ({', '.join(summary.activations)}), "
           f"{summary.training.optimizer}, lr {summary.training.lr:g}, {summary.training.epochs} epochs on "
           f"{'MNIST' if trace.dataset == 'mnist' else 'the 8x8 digits'}"
           + (f"; test accuracy {accuracy:.1%}" if accuracy is not None else ""))
    main = [("The slides", result.deck), ("The handout (prints to PDF)", result.handout)]
    if result.pptx is not None:
        main.append(("PowerPoint", result.pptx))
    cards = []
    for number, chapter in enumerate(chapters, 1):
        picture = (f'<img src="{_link(chapter.poster, folder)}" alt="{html.escape(chapter.title)}">'
                   if chapter.poster else "")
        choice = f"step {chapter.step}" + (f", probe digit {chapter.sample}" if chapter.sample is not None else "")
        cards.append(f'<div class="chapter"><a href="{_link(chapter.video, folder)}">{picture}</a>'
                     f"<p><b>{number}. {html.escape(chapter.title)}</b></p>"
                     f"<p>{html.escape(choice)}; {len(chapter.notes)} slides</p></div>")
    pictures = "".join(f'<a href="{_link(f, folder)}"><img src="{_link(f, folder)}" alt="{html.escape(f.stem)}"></a>'
                       for f in figures)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>A lecture from one run</title>
<style>{page_css()}{STYLE}</style></head>
<body>
<h1>How a neural network learns, from one run</h1>
<p class="run">{html.escape(run)}. Trace: {html.escape(str(trace.path))}</p>
<p class="main">{''.join(f'<a href="{_link(target, folder)}">{html.escape(name)}</a>' for name, target in main)}</p>
<p>In the slides: the arrow keys move on, S opens the speaker notes, F goes full screen.</p>
<h2>The chapters</h2>
<div class="chapters">{''.join(cards)}</div>
<h2>The figures</h2>
<div class="figures">{pictures}</div>
</body></html>
"""
    result.index.write_text(page, encoding="utf-8")
    return result.index
