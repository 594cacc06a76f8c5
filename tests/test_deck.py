"""The lecture's slide deck, on small real data: two tiny scenes rendered by Manim, made into a deck.

Two ``LectureScene`` subclasses (two slides each, notes on every slide, some
with characters HTML or Markdown would eat) are rendered once per module with
``python -m manim render -ql`` at ``EXPLAINER_PACE=preview``. Then:

- :func:`build_deck` gives one HTML whose slides are A's then B's (each slide's
  video is byte for byte the one its scene's JSON names), each with its notes,
  only local files that exist, no remote URL; a rebuilt deck shows re-rendered
  videos;
- in Debian's Chromium, offline, from file://, the deck loads without a console
  error or a failed request, ArrowRight walks through every slide, each slide's
  video plays and its notes are there (a screenshot at 1366x768 is kept);
- :func:`build_pptx` gives one slide per slide, with its video and notes;
- reveal.js comes from the cache, verified: a damaged cached tarball is fetched
  again (by an ``npm`` script first on PATH that copies the real tarball), a
  tarball that is not the pinned one is refused, a missing npm is one clear
  error, and extraction writes nothing outside its folder.

The real reveal.js tarball is taken once per session from explainer's cache
(fetched into it with ``npm pack`` the first time); each test then works on a
private cache holding a copy.
"""

import filecmp
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import textwrap
import time
from pathlib import Path

import pytest

from explainer.errors import DataError
from explainer.lecture import revealjs
from explainer.lecture.deck import SlidesError, build_deck, build_pptx
from explainer.npm import NpmError, npm_pack

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="fake npm is a shell script")

SCENES = ["SceneA", "SceneB"]
# the notes of each slide, in the deck's order; some would break as raw HTML or turn into Markdown formatting
NOTES = ["A one: when a < b & c, W_1 * x_1 stays *as typed*", "A two: the square",
         "B one: a line\n1. not a list", "B two: gone"]
SCENE_FILE = textwrap.dedent(f'''
    from manim import BLUE, GREEN, ORANGE, UP, Circle, Create, FadeIn, FadeOut, Square, Text, Transform
    from explainer.scenes.slides import LectureScene

    NOTES = {NOTES!r}


    class SceneA(LectureScene):
        def construct(self):
            label = Text("Scene A", font_size=48).to_edge(UP)
            shape = Circle(color=BLUE, fill_opacity=0.5)
            self.play(FadeIn(label), Create(shape), run_time=0.6)
            self.wait(1.5)  # a video long enough to watch it play in the browser
            self.next_slide(notes=NOTES[0])
            self.play(Transform(shape, Square(color=ORANGE, fill_opacity=0.5)), run_time=0.6)
            self.wait(1.5)  # a video long enough to watch it play in the browser
            self.next_slide(notes=NOTES[1])


    class SceneB(LectureScene):
        def construct(self):
            label = Text("Scene B", font_size=48).to_edge(UP)
            shape = Square(color=GREEN, fill_opacity=0.5).rotate(0.5)
            self.play(FadeIn(label), Create(shape), run_time=0.6)
            self.wait(1.5)  # a video long enough to watch it play in the browser
            self.next_slide(notes=NOTES[2])
            self.play(FadeOut(shape), run_time=0.6)
            self.wait(1.5)  # a video long enough to watch it play in the browser
            self.next_slide(notes=NOTES[3])
''')


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def slides(tmp_path_factory):
    """The slides folder of the two scenes, rendered once (``-ql``, preview pace)."""
    from explainer.scenes.slides import SLIDES

    if not SLIDES:
        pytest.skip("manim-slides is not installed: the scenes render without slides")
    root = tmp_path_factory.mktemp("render")
    (root / "tiny_scenes.py").write_text(SCENE_FILE)
    env = {**os.environ, "EXPLAINER_PACE": "preview"}
    env.pop("EXPLAINER_SLIDES", None)  # the slides go to <media_dir>/slides
    done = subprocess.run([sys.executable, "-m", "manim", "render", "-ql", "--media_dir", str(root / "media"),
                           "tiny_scenes.py", *SCENES], cwd=root, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=600)
    folder = root / "media" / "slides"
    assert done.returncode == 0, f"manim render failed:\n{done.stderr[-3000:]}"
    assert all((folder / f"{scene}.json").is_file() for scene in SCENES), sorted(os.listdir(folder))
    return folder


def _slide_files(folder):
    """Each slide's video, in the deck's order (A's then B's), as the scenes' JSON names them."""
    return [Path(s["file"]) for scene in SCENES for s in json.loads((folder / f"{scene}.json").read_text())["slides"]]


@pytest.fixture(scope="session")
def reveal_tgz():
    """The bytes of the real, verified reveal.js tarball (from explainer's cache; fetched into it once)."""
    try:
        return revealjs.reveal_tarball()
    except NpmError as exc:
        reason = f"reveal.js is not cached and cannot be fetched: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A private, empty explainer cache; returns where reveal.js's tarball goes in it."""
    monkeypatch.setenv("EXPLAINER_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "npm" / "reveal.js-6.0.1.tgz"


@pytest.fixture
def cached_reveal(cache, reveal_tgz):
    """The private cache holding the real tarball: no npm needed."""
    cache.parent.mkdir(parents=True)
    cache.write_bytes(reveal_tgz)
    return cache


def _fake_npm(tmp_path, tarball_bytes):
    """A PATH whose only npm is a script that records each call and drops a copy of ``tarball_bytes``."""
    served = tmp_path / "served" / "reveal.js-6.0.1.tgz"
    served.parent.mkdir()
    served.write_bytes(tarball_bytes)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "npm"
    script.write_text(f'#!/bin/sh\n[ "$1" = pack ] || exit 3\necho "$@" >> "{tmp_path}/npm-calls"\n'
                      f'cp "{served}" .\n')
    script.chmod(0o755)
    return f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin", tmp_path / "npm-calls"


def _soup(path):
    from bs4 import BeautifulSoup

    return BeautifulSoup(Path(path).read_text(encoding="utf-8"), "html.parser")


def _video_sections(soup):
    return [s for s in soup.find_all("section") if s.get("data-background-video")]


# ---------------------------------------------------------------- the HTML deck


def test_deck_holds_both_scenes_in_order_with_their_notes_and_only_local_files(slides, cached_reveal, tmp_path):
    dest = build_deck(slides, SCENES, tmp_path / "deck" / "lecture.html", title="Two tiny scenes")
    assert dest == tmp_path / "deck" / "lecture.html" and dest.is_file()
    soup = _soup(dest)
    assert soup.title.string == "Two tiny scenes"
    sections = _video_sections(soup)
    assert len(sections) == len(NOTES)
    for section, video, notes in zip(sections, _slide_files(slides), NOTES):
        copied = dest.parent / section["data-background-video"]
        assert filecmp.cmp(copied, video, shallow=False), f"{copied} is not {video}: slides out of order"
        asides = section.find_all("aside", class_="notes")
        assert len(asides) == 1 and not asides[0].has_attr("data-markdown")
        assert asides[0].get_text("\n") == notes  # literal: no tag opened by '<', no Markdown emphasis

    html = dest.read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html
    for name in ("lib/css/zenburn.css", "index.css", "index.js", "<!--"):
        assert name not in html, f"the deck still mentions {name}"
    referenced = [(tag.name, tag.get("href") or tag.get("src") or tag.get("data-background-video"))
                  for tag in soup.find_all(["link", "script", "section", "img", "video", "source"])]
    referenced = [(name, ref) for name, ref in referenced if ref]
    assert {ref for _, ref in referenced} >= {"reveal.js/dist/reveal.js", "reveal.js/dist/reveal.css",
                                              "reveal.js/dist/plugin/notes.js", "reveal.js/dist/plugin/markdown.js",
                                              "reveal.js/dist/theme/black.css",
                                              "reveal.js/dist/plugin/highlight/zenburn.css"}
    for name, ref in referenced:
        assert (dest.parent / ref).is_file(), f"<{name}> names {ref}, which is not there"


def test_a_rebuilt_deck_shows_the_videos_rendered_since(slides, cached_reveal, tmp_path):
    # a copy of SceneA's slides, whose first video is then "rendered again" under the same name
    folder = tmp_path / "slides"
    (folder / "files").mkdir(parents=True)
    config = json.loads((slides / "SceneA.json").read_text())
    for slide in config["slides"]:
        copy = folder / "files" / Path(slide["file"]).name
        copy.write_bytes(Path(slide["file"]).read_bytes())
        slide["file"] = slide["rev_file"] = str(copy)
    (folder / "SceneA.json").write_text(json.dumps(config))
    dest = build_deck(folder, ["SceneA"], tmp_path / "deck" / "lecture.html")
    first = Path(config["slides"][0]["file"])
    first.write_bytes(Path(config["slides"][1]["file"]).read_bytes())
    build_deck(folder, ["SceneA"], dest)
    shown = dest.parent / _video_sections(_soup(dest))[0]["data-background-video"]
    assert filecmp.cmp(shown, first, shallow=False), "the rebuilt deck still shows the old video"


def test_a_scene_without_slides_is_one_clear_error_and_nothing_is_written(slides, cached_reveal, tmp_path):
    dest = tmp_path / "deck" / "lecture.html"
    with pytest.raises(SlidesError) as info:
        build_deck(slides, ["SceneA", "Missing"], dest)
    message = str(info.value)
    assert "\n" not in message
    assert "Missing" in message and "SceneA, SceneB" in message and "render Missing first" in message
    assert not dest.parent.exists()
    with pytest.raises(SlidesError, match="name at least one"):
        build_deck(slides, [], dest)


def test_slides_naming_a_missing_video_are_one_clear_error(slides, tmp_path):
    config = json.loads((slides / "SceneB.json").read_text())
    config["slides"][1]["file"] = str(tmp_path / "gone.mp4")
    (tmp_path / "SceneB.json").write_text(json.dumps(config))
    with pytest.raises(SlidesError, match=r"^the slides of SceneB .*gone\.mp4.*: render SceneB again$"):
        build_pptx(tmp_path, ["SceneB"], tmp_path / "lecture.pptx")
    assert not (tmp_path / "lecture.pptx").exists()


# ---------------------------------------------------------------- the deck in a browser


@pytest.mark.browser
@pytest.mark.slow
def test_deck_in_chromium_offline_plays_every_slide_with_its_notes(slides, cached_reveal, tmp_path,
                                                                  tmp_path_factory):
    from jupyter_support import chromium_page, offline, require_chromium, screenshot_dir

    require_chromium()
    dest = build_deck(slides, SCENES, tmp_path / "deck" / "lecture.html")
    shots = screenshot_dir(tmp_path_factory)
    with chromium_page(tmp_path / "profile", width=1366, height=768) as page:
        problems, blocked = offline(page)
        page.goto(dest.as_uri())
        page.wait_for_function("window.Reveal && Reveal.isReady()")
        assert page.evaluate("Reveal.getTotalSlides()") == len(NOTES)
        for number, notes in enumerate(NOTES):
            assert page.evaluate("Reveal.getIndices()")["h"] == number
            # the slide's background video plays: its time advances from where it was
            started = page.evaluate(
                "() => Reveal.getCurrentSlide().slideBackgroundContentElement.querySelector('video').currentTime")
            page.wait_for_function(
                f"() => {{ const v = Reveal.getCurrentSlide().slideBackgroundContentElement.querySelector('video');"
                f" return v && v.readyState >= 2 && v.currentTime > {started} + 0.2; }}", timeout=10_000)
            shown = page.evaluate("() => { const d = document.createElement('div');"
                                  " d.innerHTML = Reveal.getSlideNotes().replace(/<br\\s*\\/?>/g, '\\n');"
                                  " return d.textContent; }")
            assert shown == notes
            if number == 1:
                page.wait_for_timeout(800)  # the Transform has ended: a square and the label
                page.screenshot(path=str(shots / "deck_slide2.png"))
            page.keyboard.press("ArrowRight")
            page.wait_for_function(f"Reveal.getIndices().h == {min(number + 1, len(NOTES) - 1)}")
        assert page.evaluate("Reveal.getIndices()")["h"] == len(NOTES) - 1  # past the end: still on the last
        assert page.evaluate("Reveal.isLastSlide()")
    print(f"\ndeck screenshot: {shots / 'deck_slide2.png'}")
    assert not blocked, f"the deck asked the network for {blocked}"
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- PowerPoint


def test_pptx_has_every_slide_in_order_with_its_video_and_notes(slides, tmp_path):
    import pptx
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    dest = build_pptx(slides, SCENES, tmp_path / "lecture.pptx")
    assert dest == tmp_path / "lecture.pptx" and not list(tmp_path.glob(".*part*"))
    deck = pptx.Presentation(str(dest))
    assert len(deck.slides) == len(NOTES)
    for slide, video, notes in zip(deck.slides, _slide_files(slides), NOTES):
        assert slide.has_notes_slide and slide.notes_slide.notes_text_frame.text == notes
        (movie,) = [shape for shape in slide.shapes if shape.shape_type == MSO_SHAPE_TYPE.MEDIA]
        (link,) = movie._element.xpath(".//a:videoFile/@r:link")
        assert slide.part.related_part(link).blob == video.read_bytes(), "slides out of order"


# ---------------------------------------------------------------- reveal.js from the cache


def test_reveal_assets_come_from_the_cache_without_npm(cached_reveal, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "no-npm-here"))
    folder = revealjs.reveal_assets(tmp_path / "out")
    assert folder == tmp_path / "out" / "reveal.js"
    dist = folder / "dist"
    for name in ("reveal.js", "reveal.css", "theme/black.css", "plugin/notes.js", "plugin/markdown.js",
                 "plugin/highlight/zenburn.css"):
        assert (dist / name).is_file(), name
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["reveal.js"]
    assert sorted(p.name for p in folder.iterdir()) == ["dist"]  # no staging folder left
    (dist / "stale.js").write_text("from an earlier extraction")
    revealjs.reveal_assets(tmp_path / "out")
    assert not (dist / "stale.js").exists()


@posix_only
def test_a_damaged_cached_tarball_is_fetched_again_not_used(cache, reveal_tgz, tmp_path, monkeypatch):
    cache.parent.mkdir(parents=True)
    damaged = bytearray(reveal_tgz)
    damaged[len(damaged) // 2] ^= 0xFF
    cache.write_bytes(bytes(damaged))
    path, calls = _fake_npm(tmp_path, reveal_tgz)
    monkeypatch.setenv("PATH", path)
    folder = revealjs.reveal_assets(tmp_path / "out")
    assert calls.read_text().split() == ["pack", "reveal.js@6.0.1", "--ignore-scripts"]
    assert hashlib.sha256(cache.read_bytes()).hexdigest() == revealjs.REVEAL_SHA256
    assert (folder / "dist" / "reveal.js").is_file()
    revealjs.reveal_assets(tmp_path / "out")  # now cached and sound: npm is not asked again
    assert len(calls.read_text().splitlines()) == 1


@posix_only
def test_a_tarball_that_is_not_the_pinned_one_is_refused(cache, reveal_tgz, tmp_path, monkeypatch):
    path, _ = _fake_npm(tmp_path, reveal_tgz + b"\0")  # one byte more than the pinned tarball
    monkeypatch.setenv("PATH", path)
    with pytest.raises(NpmError, match=f"has SHA-256 [0-9a-f]{{64}}, expected the pinned {revealjs.REVEAL_SHA256}"):
        revealjs.reveal_assets(tmp_path / "out")
    assert not cache.exists() and not (tmp_path / "out").exists()


def test_npm_missing_is_one_clear_error(cache, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(NpmError) as info:
        revealjs.reveal_assets(tmp_path / "out")
    message = str(info.value)
    assert message.startswith("npm pack reveal.js@6.0.1: npm is not installed") and "install" in message
    assert "\n" not in message
    assert not (tmp_path / "out").exists()


def test_extraction_never_writes_outside_its_folder(tmp_path):
    def tarball(name):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            info = tarfile.TarInfo(name)
            info.size = 4
            tar.addfile(info, io.BytesIO(b"evil"))
        return buffer.getvalue()

    target = tmp_path / "target"
    target.mkdir()
    for name in ("package/dist/../../../escaped.js", "/tmp/escaped.js"):
        with pytest.raises(DataError, match="unsafe path"):
            revealjs._extract_dist(tarball(name), target)
    link = io.BytesIO()
    with tarfile.open(fileobj=link, mode="w:gz") as tar:
        info = tarfile.TarInfo("package/dist/reveal.js")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(info)
    with pytest.raises(DataError, match="not a plain file"):
        revealjs._extract_dist(link.getvalue(), target)
    assert list(target.iterdir()) == [] and not (tmp_path / "escaped.js").exists()


@posix_only
def test_npm_pack_checks_the_pin_and_moves_the_tarball(tmp_path, monkeypatch):
    data = b"a tarball"
    path, _ = _fake_npm(tmp_path, data)
    monkeypatch.setenv("PATH", path)
    good = npm_pack("reveal.js@6.0.1", hashlib.sha256(data).hexdigest(), tmp_path / "dest")
    assert good == tmp_path / "dest" / "reveal.js-6.0.1.tgz" and good.read_bytes() == data
    good.unlink()
    with pytest.raises(NpmError, match="expected the pinned 0{64}"):
        npm_pack("reveal.js@6.0.1", "0" * 64, tmp_path / "dest")
    assert list((tmp_path / "dest").iterdir()) == []


@posix_only
def test_npm_pack_timing_out_stops_npm_and_what_it_started(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "npm"
    # a child that holds npm's output open: stopping npm alone would leave the wait hanging for 30 s
    script.write_text(f'#!/bin/sh\nsleep 30 &\necho $! > "{tmp_path}/child"\nwait\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    started = time.monotonic()
    with pytest.raises(NpmError, match=r"^npm pack reveal.js@6.0.1: timed out after 0.5 s"):
        npm_pack("reveal.js@6.0.1", "0" * 64, tmp_path / "dest", timeout=0.5)
    assert time.monotonic() - started < 10
    child = int((tmp_path / "child").read_text())
    time.sleep(0.2)
    assert not _running(child), "npm's child outlived the time-out"
    assert not (tmp_path / "dest").exists()


def _running(pid):
    """Whether process ``pid`` still runs (a zombie, stopped but not yet reaped by its new parent, does not)."""
    status = Path(f"/proc/{pid}/status")
    if status.parent.parent.is_dir() and Path("/proc/self").exists():
        return status.exists() and "State:\tZ" not in status.read_text()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
