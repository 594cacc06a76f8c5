"""The gallery: every chapter's video behind its poster frame, and the figures, from the default trace.

While the docs build (``builder-inited``), :func:`build_gallery` runs
:func:`explainer.lecture.build.build_lecture` on the default 8x8 trace at low
quality into ``explainer_gallery_dir`` (``docs/_build/gallery/lecture``): the
lecture's own cache renders only the chapters whose inputs changed, so a
second build renders nothing. The parts a reader opens -- the chapter videos,
their posters, the figures, the slide deck, the handout, the lecture's index
-- are copied to ``explainer_gallery_dir/site/lecture/``, which conf.py's
``html_extra_path`` puts at the site's root as ``lecture/``;
Manim's media and the PowerPoint file are not.

The ``explainer-gallery`` directive draws the page from that folder: a card per
chapter (title, what it shows, the step and probe digit it was made with, the
video with its poster) and each figure with its one-line description.
``explainer_gallery_chapters`` (names separated by commas; empty: the whole
lecture) builds a shorter gallery, as the docs test does to save time.
"""

from __future__ import annotations

import html
import shutil
from pathlib import Path

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

__all__ = ["build_gallery", "GalleryDirective", "setup"]

logger = logging.getLogger(__name__)

SITE_FOLDER = "lecture"  # where the lecture's files are in the built site
KEPT = ("index.html", "handout.html", "deck", "videos", "posters", "figures")  # what the site gets of the lecture


def _chapters(app):
    from explainer.lecture.build import LECTURE

    wanted = [name.strip() for name in app.config.explainer_gallery_chapters.split(",") if name.strip()]
    unknown = [name for name in wanted or () if name not in LECTURE]
    if unknown:
        raise ValueError(f"explainer_gallery_chapters: not chapters of the lecture: {', '.join(unknown)} "
                         f"(they are {', '.join(LECTURE)})")
    return [name for name in LECTURE if not wanted or name in wanted]


def build_gallery(app):
    """Build (or bring up to date) the default trace's lecture and stage what the site shows of it."""
    from explainer.cli.render import SCENES, plan_choices
    from explainer.figures import FIGURES
    from explainer.lecture.build import TITLES, build_lecture
    from explainer.trace import default_trace, open_trace

    work = Path(app.config.explainer_gallery_dir)
    trace = open_trace(default_trace())
    chapters = _chapters(app)
    lecture = work / "lecture"
    result = build_lecture(trace, lecture, quality="l", pptx=False, chapters=chapters,
                           say=lambda line: logger.info(f"gallery: {line}"))
    site = work / "site" / SITE_FOLDER
    shutil.rmtree(site, ignore_errors=True)
    site.mkdir(parents=True)
    for name in KEPT:
        source = lecture / name
        if source.is_dir():
            shutil.copytree(source, site / name)
        elif source.is_file():
            shutil.copyfile(source, site / name)
    cards = []
    for number, scene in enumerate(chapters, 1):
        sample, step = plan_choices(scene, trace)
        cards.append({"scene": scene, "title": TITLES[scene], "about": SCENES[scene][1], "step": step,
                      "sample": sample, "video": f"videos/{number:02d}_{scene}.mp4", "poster": f"posters/{scene}.png",
                      "state": result.chapters[scene][0]})
    figures = [{"name": path.stem, "file": f"figures/{path.name}",
                "about": (FIGURES[path.stem].__doc__ or path.stem).strip().splitlines()[0]}
               for path in sorted((site / "figures").glob("*.png")) if path.stem in FIGURES]
    app.env.explainer_gallery = {"cards": cards, "figures": figures}


class GalleryDirective(SphinxDirective):
    """``explainer-gallery chapters|figures|links``: the chapter cards, the figures, or the links to the
    slides, the handout and the lecture folder (see the module)."""

    required_arguments = 1

    def run(self):
        gallery = getattr(self.env, "explainer_gallery", None)
        if gallery is None:
            raise self.error("the gallery was not built (explainer's gallery extension runs at builder-inited)")
        if self.arguments[0] not in ("chapters", "figures", "links"):
            raise self.error(f"explainer-gallery takes chapters, figures or links; got {self.arguments[0]!r}")
        up = "../" * self.env.docname.count("/")
        base = f"{up}{SITE_FOLDER}/"
        cards = []
        for number, card in enumerate(gallery["cards"], 1):
            digit = f", probe digit {card['sample']}" if card["sample"] is not None else ""
            cards.append(
                f'<figure class="explainer-chapter" id="chapter-{card["scene"].lower()}">'
                f'<video controls preload="none" poster="{base}{card["poster"]}" src="{base}{card["video"]}">'
                f"</video><figcaption><b>{number}. {html.escape(card['title'])}</b> "
                f"(<code>{card['scene']}</code>, step {card['step']}{digit})<br>{html.escape(card['about'])}"
                f"</figcaption></figure>")
        figures = [f'<figure class="explainer-figure" id="figure-{f["name"].replace("_", "-")}">'
                   f'<a href="{base}{f["file"]}"><img src="{base}{f["file"]}" alt="{html.escape(f["name"])}"></a>'
                   f"<figcaption><code>{f['name']}</code>: {html.escape(f['about'])}</figcaption></figure>"
                   for f in gallery["figures"]]
        parts = {"chapters": f'<div class="explainer-gallery">{"".join(cards)}</div>',
                 "figures": f'<div class="explainer-gallery">{"".join(figures)}</div>',
                 "links": f'<p class="explainer-lecture-links"><a href="{base}deck/index.html">The slides</a> '
                          f'<a href="{base}handout.html">The handout</a> '
                          f'<a href="{base}index.html">The lecture folder</a></p>'}
        page = parts[self.arguments[0]]
        return [nodes.raw("", page, format="html")]


def _outdated(app, env, added, changed, removed):
    """The gallery page is read again on every build: the chapters behind it may have been re-rendered."""
    return [name for name in env.found_docs if name == "gallery"]


def setup(app):
    app.add_config_value("explainer_gallery_dir", "", "env")
    app.add_config_value("explainer_gallery_chapters", "", "env", types=(str,))
    app.add_directive("explainer-gallery", GalleryDirective)
    app.connect("builder-inited", build_gallery)
    app.connect("env-get-outdated", _outdated)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
