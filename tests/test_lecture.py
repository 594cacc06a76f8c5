"""`explainer lecture`: the chapters of one run rendered into one folder, one deck of all their slides with
notes, a handout and an index; a second build renders only what changed; Ctrl-C keeps what finished; a
folder that is not a lecture is refused. A tiny real trace, and two quick chapters of the ten."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from explainer import Experiment, probe_of_class, run
from explainer.errors import OutputError
from explainer.lecture import build as lecture
from explainer.lecture.build import MARK, build_lecture, finished_chapters
from explainer.trace import TraceRecorder, open_trace

QUICK = ("TitleCard", "ChainRule")  # one chapter that follows a probe digit, one that does not


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = tmp_path_factory.mktemp("lecture-trace") / "tiny.zarr"
    with TraceRecorder(path, schedule="every:10", n_probe=10) as recorder:
        run(Experiment.preset("digits", hidden=(6,), epochs=1), recorder=recorder, progress=False)
    return path


@pytest.fixture(scope="module")
def built(tiny, tmp_path_factory):
    """A lecture of the two quick chapters, then the same build again."""
    out = tmp_path_factory.mktemp("lecture") / "lecture"
    said = []
    first = build_lecture(tiny, out, pace="preview", chapters=QUICK, say=said.append)
    second = build_lecture(tiny, out, pace="preview", chapters=QUICK, say=said.append)
    return out, first, second, said


def slides_of(out, scene):
    return json.loads((out / "build" / "slides" / f"{scene}.json").read_text())["slides"]


def test_the_lecture_folder_holds_every_part(built):
    out, first, _, said = built
    assert first.chapters.keys() == set(QUICK) and all(state == "rendered" for state, _ in first.chapters.values())
    for path in (first.index, first.deck, first.handout, first.pptx, out / MARK):
        assert path.is_file() and path.stat().st_size > 0, path
    assert [p.name for p in sorted((out / "videos").glob("*.mp4"))] == ["01_TitleCard.mp4", "02_ChainRule.mp4"]
    assert all((out / "posters" / f"{scene}.png").read_bytes()[:4] == b"\x89PNG" for scene in QUICK)
    assert any(line.startswith("[ 1/2] TitleCard") and "rendering" in line for line in said)


def test_the_deck_is_every_chapters_slides_in_order_with_their_notes(built):
    out, first, _, _ = built
    page = first.deck.read_text()
    notes = [s["notes"] for scene in QUICK for s in slides_of(out, scene)]
    assert all(len(n) >= 40 for n in notes)  # every slide has notes (the chapters give them)
    assert page.count("<section") >= len(notes)
    asides = re.findall(r'<aside class="notes"[^>]*>(.*?)</aside>', page, flags=re.S)
    assert len(asides) == len(notes)
    assert not re.search(r"""(src|href)=["']https?://""", page)  # offline: nothing from the network


def test_the_index_links_only_files_that_are_there(built):
    out, first, _, _ = built
    page = first.index.read_text()
    links = re.findall(r'(?:href|src)="([^"]+)"', page)
    assert len(links) >= 6 and all((out / link).exists() for link in links), links


def test_a_second_build_renders_nothing(built):
    _, first, second, said = built
    assert all(state == "unchanged" for state, _ in second.chapters.values())
    assert sum("unchanged, kept" in line for line in said) == len(QUICK)
    assert second.deck.read_text().count("<aside") == first.deck.read_text().count("<aside")


def test_another_digit_renders_only_the_chapters_that_follow_one(tiny, built):
    out, _, _, _ = built
    trace = open_trace(tiny)
    other = int(trace.probe_labels[trace.probe_labels != trace.probe_labels[0]][0])  # not probe 0's class
    third = build_lecture(tiny, out, pace="preview", chapters=QUICK, digit=other, say=lambda line: None)
    assert third.chapters["TitleCard"][0] == "unchanged" and third.chapters["ChainRule"][0] == "rendered"
    chosen = json.loads((out / "build" / "keys" / "ChainRule.json").read_text())["sample"]
    assert chosen == probe_of_class(trace, other)[0] != 0


def test_ctrl_c_keeps_the_chapters_that_finished(tiny, tmp_path, monkeypatch):
    out = tmp_path / "lecture"
    original = lecture._render_chapter

    def stopped_at_chain_rule(scene, *args):
        if scene == "ChainRule":
            raise KeyboardInterrupt
        return original(scene, *args)

    monkeypatch.setattr(lecture, "_render_chapter", stopped_at_chain_rule)
    with pytest.raises(KeyboardInterrupt):
        build_lecture(tiny, out, pace="preview", chapters=QUICK, say=lambda line: None, pptx=False)
    assert finished_chapters(out) == ["TitleCard"]
    monkeypatch.setattr(lecture, "_render_chapter", original)
    again = build_lecture(tiny, out, pace="preview", chapters=QUICK, say=lambda line: None, pptx=False)
    assert again.chapters["TitleCard"][0] == "unchanged" and again.chapters["ChainRule"][0] == "rendered"


def test_a_folder_that_is_not_a_lecture_is_refused_and_kept(tiny, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("a teacher's own file")
    with pytest.raises(OutputError, match="is not a lecture"):
        build_lecture(tiny, out, chapters=QUICK, say=lambda line: None)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize(("options", "says"), [
    (["--digit", "11"], "--digit"), (["--step", "-5"], "--step"), (["--digit", "1", "--sample", "2"], "not both"),
    (["--chapters"], "unrecognized"),
])
def test_bad_choices_are_one_line_before_any_render(tiny, tmp_path, options, says):
    result = subprocess.run([sys.executable, "-m", "explainer", "lecture", "--trace", str(tiny), "--out",
                             str(tmp_path / "lecture"), *options], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "lecture").exists()  # checked before anything was made


@pytest.mark.browser
@pytest.mark.slow
def test_the_lecture_in_chromium_with_the_network_off(built, tmp_path, tmp_path_factory):
    """From index.html to the deck by its link; every slide reached with the arrow key, each with its notes; a
    slide's video plays; the handout opens; nothing asks the network, nothing fails."""
    from jupyter_support import chromium_page, offline, require_chromium, screenshot_dir

    require_chromium()
    out, first, _, _ = built
    notes = [s["notes"] for scene in QUICK for s in slides_of(out, scene)]
    shots = screenshot_dir(tmp_path_factory)
    with chromium_page(tmp_path / "profile", width=1366, height=768) as page:
        problems, blocked = offline(page)
        page.goto(first.index.as_uri())
        page.screenshot(path=str(shots / "lecture_index.png"))
        page.click("text=The slides")
        page.wait_for_function("window.Reveal && Reveal.isReady()")
        assert page.evaluate("Reveal.getTotalSlides()") == len(notes)
        for number in range(len(notes)):
            assert page.evaluate("Reveal.getIndices()")["h"] == number
            assert len(page.evaluate("Reveal.getSlideNotes()") or "") >= 40
            if number == 1:  # a slide's video plays: its time advances
                started = page.evaluate("() => Reveal.getCurrentSlide().slideBackgroundContentElement"
                                        ".querySelector('video').currentTime")
                page.wait_for_function("() => { const v = Reveal.getCurrentSlide().slideBackgroundContentElement"
                                       f".querySelector('video'); return v.currentTime > {started} + 0.2; }}",
                                       timeout=10_000)
                page.screenshot(path=str(shots / "lecture_deck_slide2.png"))
            page.keyboard.press("ArrowRight")
            page.wait_for_function(f"Reveal.getIndices().h == {min(number + 1, len(notes) - 1)}")
        assert page.evaluate("Reveal.isLastSlide()")
        page.goto(first.handout.as_uri())
        assert "test accuracy" in page.content()
    assert not blocked, f"the lecture asked the network for {blocked}"
    assert not problems, "\n".join(problems)


@pytest.mark.slow
@pytest.mark.parametrize("scene", lecture.LECTURE)
def test_manim_slides_renders_every_chapter_under_this_manim(tiny, tmp_path, scene):
    """`manim-slides render` (not only `manim render`) of each chapter: one slide a phase, each with its video and
    its notes, in the media folder."""
    from explainer.cli.render import scene_file, scenes_folder

    media = tmp_path / "media"
    result = subprocess.run(
        [sys.executable, "-m", "manim_slides", "render", "-ql", "--media_dir", str(media), str(scene_file(scene)),
         scene], cwd=scenes_folder().parent, capture_output=True, text=True, timeout=600,
        env={**os.environ, "EXPLAINER_TRACE": str(tiny), "EXPLAINER_PACE": "preview"})
    assert result.returncode == 0, result.stderr[-2000:]
    slides = json.loads((media / "slides" / f"{scene}.json").read_text())["slides"]
    assert len(slides) >= 2
    assert all(Path(s["file"]).is_file() for s in slides)
    assert all(len(s["notes"]) >= 40 for s in slides), [s["notes"] for s in slides]


def test_a_lecture_folder_given_as_a_relative_path(tiny, tmp_path, monkeypatch):
    """make demo names runs/demo/lecture, relative: every link is still a path inside the folder."""
    monkeypatch.chdir(tmp_path)
    result = build_lecture(tiny, "runs/lecture", pace="preview", chapters=("TitleCard",), say=lambda line: None)
    links = re.findall(r'(?:href|src)="([^"]+)"', result.index.read_text())
    assert "lecture.pptx" in links and all((tmp_path / "runs" / "lecture" / link).exists() for link in links)
