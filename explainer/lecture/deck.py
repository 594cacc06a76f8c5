"""The rendered chapters as one slide deck: an offline reveal.js HTML file, and a PowerPoint file.

A render of a scene writes ``<slides folder>/<Scene>.json`` (manim-slides
5.7.0's format: each slide's video and speaker notes). :func:`build_deck` and
:func:`build_pptx` read those files for the scenes asked for, in order, and hand
them to manim-slides' own converters, through its Python API (``RevealJS`` and
``PowerPoint`` built from ``PresentationConfig``s, as its ``convert`` command
does) rather than by running ``manim-slides convert``: a missing scene or video
becomes one :class:`SlidesError` naming it before anything is written, the
deck's options are checked by the converter's own model, and the written HTML
can be checked against the very slides it was made from.

The HTML deck is made to work offline, from file://: reveal.js is a folder
beside it (:func:`explainer.lecture.revealjs.reveal_assets`, the converter's
``cdn_url`` pointing at it), the videos are copied into ``<name>_assets/``, and
the written HTML is checked to reference no remote URL and no missing file.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

from explainer.errors import ExplainerError, OutputError
from explainer.lecture.revealjs import REVEAL_FOLDER, reveal_assets

__all__ = ["DEFAULT_TITLE", "SlidesError", "load_slides", "build_deck", "build_pptx"]

DEFAULT_TITLE = "How neural networks learn"

# the attributes of the written HTML that name a file the browser loads
_REFERENCES = {"link": ("href",), "script": ("src",), "img": ("src",), "video": ("src",), "source": ("src",),
               "section": ("data-background-video", "data-background-image")}


class SlidesError(ExplainerError, FileNotFoundError):
    """A scene's slides are not where they were looked for (not rendered, or rendered into another folder)."""


def load_slides(slides_folder: Path, scenes: Sequence[str]) -> list:
    """manim-slides' ``PresentationConfig`` of each scene, in order, read from ``<slides_folder>/<Scene>.json``.

    Raises
    ------
    SlidesError
        No scenes were named, or a scene has no slides file, or its file is
        unreadable or names a video that is not there.
    """
    from manim_slides.config import PresentationConfig
    from pydantic import ValidationError

    folder = Path(slides_folder)
    if not scenes:
        raise SlidesError("no scenes to make slides of: name at least one rendered scene")
    configs = []
    for scene in scenes:
        path = folder / f"{scene}.json"
        if not path.is_file():
            rendered = sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []
            raise SlidesError(f"no slides of {scene} in {folder} (no {path.name}; the folder holds "
                              f"{', '.join(rendered) or 'no slides'}): render {scene} first, or name the "
                              f"slides folder it was rendered into")
        try:
            configs.append(PresentationConfig.from_file(path))
        except (ValidationError, ValueError, OSError) as exc:
            why = " ".join(" ".join(str(exc).splitlines()[:3]).split()) or type(exc).__name__  # one line
            raise SlidesError(f"the slides of {scene} ({path}) cannot be used ({why}): render {scene} again") from exc
    return configs


def _replace_assets(folder: Path) -> None:
    """Empty the deck's own ``<name>_assets/`` before the converter fills it.

    manim-slides copies a video only if no file of its name is there yet, and a
    scene rendered again gives its slides the same names: without this, a
    rebuilt deck would show the old videos (and keep those of dropped chapters).
    """
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise OutputError(f"{folder} is not a folder, but the deck's videos go there: move it away")
    if folder.exists():
        shutil.rmtree(folder)


def _is_remote(reference: str) -> bool:
    """Whether a reference in the HTML goes to the network (a scheme other than file:, or ``//host``)."""
    parts = urlsplit(reference)
    return bool(parts.netloc) or parts.scheme not in ("", "file", "data")


def _local_file(folder: Path, reference: str) -> Path | None:
    """The file a relative reference names, or None for a data: URI."""
    parts = urlsplit(reference)
    if parts.scheme == "data":
        return None
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    return folder / unquote(parts.path)


def _references(soup):
    """``(element, attribute, reference)`` of every file the HTML loads."""
    for tag, attributes in _REFERENCES.items():
        for element in soup.find_all(tag):
            for attribute in attributes:
                if element.get(attribute):
                    yield element, attribute, element[attribute]


def _drop_comments(soup) -> None:
    """Remove the template's HTML comments.

    They are notes to the template's developers, and three of them are
    references to local files that do not exist (``lib/css/zenburn.css``,
    ``index.css``, ``index.js``, commented out, left from reveal.js's demo);
    another is a link to reveal.js's website. Inert in a browser, but they read
    like broken or remote links to anyone checking what the deck loads.
    """
    from bs4 import Comment

    for comment in soup.find_all(string=lambda text: isinstance(text, Comment)):
        comment.extract()


def _plain_notes(soup, configs) -> None:
    """Each slide's ``<aside class="notes">`` holds its notes as plain text, escaped.

    The template pastes the notes into the HTML unescaped and marks them
    ``data-markdown``: a teacher's ``a < b`` would open a tag, and ``W_1 * x``
    or a line starting ``1.`` would turn into formatting. The notes are plain
    text (as in the PowerPoint file); line breaks are kept.
    """
    slides = [slide for config in configs for slide in config.slides]
    sections = [s for s in soup.find_all("section") if s.get("data-background-video") or s.get("data-background-image")]
    if len(sections) != len(slides):
        raise OutputError(f"the converter wrote {len(sections)} slides for {len(slides)} in the scenes' files")
    for section, slide in zip(sections, slides):
        aside = section.find("aside", class_="notes")
        if not slide.notes:
            continue
        if aside is None:
            aside = soup.new_tag("aside", attrs={"class": "notes"})
            section.append(aside)
        aside.clear()
        aside.attrs.pop("data-markdown", None)
        for number, line in enumerate(slide.notes.splitlines()):
            if number:
                aside.append(soup.new_tag("br"))
            aside.append(line)


def _check_references(soup, folder: Path, dest_html: Path) -> None:
    """Every file the deck loads is local and exists; else the deck would be broken, so it is an error."""
    for _, attribute, reference in _references(soup):
        if _is_remote(reference):
            raise OutputError(f"{dest_html} would load {reference} from the network ({attribute}); "
                              f"the deck must work offline")
        local = _local_file(folder, reference)
        if local is not None and not local.is_file():
            raise OutputError(f"{dest_html} names {reference} ({attribute}), which is not there")


def _finish_html(part: Path, dest_html: Path, configs, title: str) -> None:
    """Clean and check the converter's HTML in ``part``, then move it to ``dest_html`` (atomically)."""
    from bs4 import BeautifulSoup

    folder = dest_html.parent
    soup = BeautifulSoup(part.read_text(encoding="utf-8"), "html.parser")
    _drop_comments(soup)
    _plain_notes(soup, configs)
    if soup.title is None or soup.title.string != title:
        raise OutputError(f"the converter did not set the deck's title to {title!r}")
    _check_references(soup, folder, dest_html)
    part.write_text(str(soup), encoding="utf-8")
    os.replace(part, dest_html)


def build_deck(slides_folder: Path, scenes: Sequence[str], dest_html: Path, title: str = DEFAULT_TITLE) -> Path:
    """Write ONE reveal.js deck of the scenes' slides, in order, that works offline from file://.

    Parameters
    ----------
    slides_folder : pathlib.Path
        Where the renders wrote ``<Scene>.json`` (``<media_dir>/slides``).
    scenes : sequence of str
        The scenes (class names), in the order of the deck.
    dest_html : pathlib.Path
        The HTML file to write. Beside it: ``<name>_assets/`` (the slides'
        videos; this folder is the deck's own and is replaced on every build)
        and ``reveal.js/`` (reveal.js 6.0.1's ``dist/``).
    title : str
        The deck's title (the browser tab's).

    Returns
    -------
    pathlib.Path
        ``dest_html``.

    Raises
    ------
    SlidesError
        A scene's slides are missing or unreadable.
    explainer.npm.NpmError
        reveal.js is not cached and ``npm pack`` cannot fetch it.
    OutputError
        The deck cannot be written, or the written HTML would not work offline.
    """
    from manim_slides.convert import RevealJS
    from pydantic import ValidationError

    configs = load_slides(slides_folder, scenes)
    dest_html = Path(dest_html).absolute()
    folder = dest_html.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {folder} for the deck ({exc}); choose another output path") from exc
    reveal_assets(folder)
    assets = f"{dest_html.stem}_assets"
    _replace_assets(folder / assets)
    try:
        converter = RevealJS(presentation_configs=configs, cdn_url=REVEAL_FOLDER, title=title,
                             assets_dir=assets.replace("{", "{{").replace("}", "}}"))  # a format string
    except ValidationError as exc:
        raise OutputError(f"manim-slides refused the deck's options: {exc}") from exc
    part = folder / f".{dest_html.name}.part"  # the converter writes here; the checked HTML replaces dest_html
    try:
        converter.convert_to(part)
        _finish_html(part, dest_html, configs, title)
    finally:
        part.unlink(missing_ok=True)
    return dest_html


def build_pptx(slides_folder: Path, scenes: Sequence[str], dest_pptx: Path) -> Path:
    """Write the scenes' slides, in order, as one PowerPoint file, each video slide with its speaker notes.

    Parameters
    ----------
    slides_folder : pathlib.Path
        Where the renders wrote ``<Scene>.json``.
    scenes : sequence of str
        The scenes (class names), in order.
    dest_pptx : pathlib.Path
        The ``.pptx`` file to write (the videos are inside it).

    Returns
    -------
    pathlib.Path
        ``dest_pptx``.

    Raises
    ------
    SlidesError
        A scene's slides are missing or unreadable.
    OutputError
        The file cannot be written.
    """
    from manim_slides.convert import PowerPoint

    configs = load_slides(slides_folder, scenes)
    dest_pptx = Path(dest_pptx).absolute()
    part = dest_pptx.with_name(f".{dest_pptx.name}.part.pptx")  # never a half-written file under its name
    try:
        PowerPoint(presentation_configs=configs).convert_to(part)
        os.replace(part, dest_pptx)
    except OSError as exc:
        raise OutputError(f"cannot write {dest_pptx} ({exc}); choose another output path") from exc
    finally:
        part.unlink(missing_ok=True)
    return dest_pptx
