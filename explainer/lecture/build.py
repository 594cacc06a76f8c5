"""One run becomes a lecture: the chapters rendered in order, one offline deck, a PPTX, a handout, an index.

:func:`build_lecture` renders each chapter (a Manim scene that is also a deck of
slides with speaker notes) from one trace, in lecture order (:data:`LECTURE`),
then makes of all of them one reveal.js deck that works with the network off
(:mod:`explainer.lecture.deck`), the same as PowerPoint, the run's figures,
a poster frame per chapter, a handout that prints to PDF
(:mod:`explainer.lecture.handout`) and an ``index.html`` that links them.

The lecture folder::

    OUT/
      index.html            links to everything below
      deck/index.html       the slides, one deck (reveal.js beside it; arrow keys; S for the notes)
      lecture.pptx          the same slides for PowerPoint, with the notes
      handout.html          the run, each chapter's key formula with its numbers, the figures, the notes
      videos/NN_Chapter.mp4 each chapter's video
      posters/Chapter.png   its last frame
      figures/*.png         the run's figures (explainer plot's)
      build/                Manim's media, the slides and what each chapter was made from

A second build renders only the chapters whose inputs changed: each chapter's
*key* (its scene file, the code every scene shares, the trace's summary, the
chapter's choices, the quality and pace) is written beside its slides once
it has rendered, and a chapter whose key is unchanged and whose files are all
there is kept. The key is written last, so a build stopped with Ctrl-C keeps
every chapter that finished and redoes the one it was in.

The folder is the lecture's own: a build refuses an existing folder that is
neither empty nor a lecture (:data:`MARK`), and it deletes nothing but its own
files of a chapter it renders again.
"""

import contextlib
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import OutputError
from ..trace import open_trace

__all__ = ["LECTURE", "TITLES", "MARK", "LectureResult", "build_lecture", "chapter_key", "trace_fingerprint", "poster", "finished_chapters"]

# the chapters in lecture order: a neuron, the forward pass, the loss and its descent, the gradients, training
LECTURE = ("TitleCard", "OneNeuron", "ForwardPass", "GradientDescent", "Backprop", "ChainRule", "MiniBatches",
           "FirstLayerFilters", "TrainingStory", "Recap")
TITLES = {"TitleCard": "The run", "OneNeuron": "One neuron", "ForwardPass": "The forward pass",
          "GradientDescent": "Gradient descent", "Backprop": "Backpropagation", "ChainRule": "The chain rule",
          "MiniBatches": "Mini-batches", "FirstLayerFilters": "What the first layer learns",
          "TrainingStory": "Training, step by step", "Recap": "Recap"}
MARK = ".explainer-lecture"  # the file that says a folder is a lecture this package built
KEY_VERSION = 1  # bump when what a chapter's key covers changes


@dataclass
class LectureResult:
    """What a build made: the index, the deck, the handout, the PPTX, and per chapter whether it was rendered
    (``"rendered"``) or kept (``"unchanged"``), with its seconds."""

    folder: Path
    index: Path
    deck: Path
    handout: Path
    pptx: Path | None
    chapters: dict = field(default_factory=dict)  # name -> ("rendered" | "unchanged", seconds)


def check_lecture_out(out):
    """``out`` can hold a lecture: missing, empty, or a lecture this package built (its :data:`MARK`)."""
    from ..outputs import check_folder_out

    out = check_folder_out(Path(out), "--out")
    if out.exists() and any(out.iterdir()) and not (out / MARK).exists():
        raise OutputError(f"--out {out} is a folder that holds other files and is not a lecture: name a new or "
                          "empty folder (a lecture is only ever rebuilt in its own folder)")
    return out


def trace_fingerprint(trace):
    """The trace as a chapter's key sees it: its place and its summary (which reads, and so checks, every
    chunk: a damaged trace stops the build here, before any render)."""
    return json.dumps({"path": str(trace.path.resolve()), **trace.summary()}, sort_keys=True, default=str)


def chapter_key(scene, fingerprint, sample, step, quality, pace):
    """What chapter ``scene`` is made from, hashed: its scene file, the code all scenes share (the scenes'
    pieces and the library), the trace (:func:`trace_fingerprint`), its choices, the quality and the pace."""
    from ..cli.render import scene_file, scenes_folder

    digest = hashlib.sha256()
    digest.update(f"{KEY_VERSION}|{scene}|{sample}|{step}|{quality}|{pace}|".encode())
    digest.update(fingerprint.encode())
    library = Path(__file__).resolve().parents[1]
    own = scene_file(scene)
    shared = [p for p in sorted(scenes_folder().rglob("*.py")) if p.parent != scenes_folder() or p.name in
              ("slides.py", "slide_compat.py", "choice.py", "palette.py", "__init__.py")]
    for path in [own, *shared, *sorted(p for p in library.rglob("*.py") if "lecture" not in p.parts)]:
        digest.update(str(path.name).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def build_lecture(trace, out, *, quality="l", digit=None, sample=None, step=None, pace="lecture", say=print,
                  progress=False, pptx=True, chapters=LECTURE):
    """Build the lecture of ``trace`` in the folder ``out`` (see the module); return a :class:`LectureResult`.

    ``digit`` / ``sample`` choose the probe digit of the chapters that follow one, ``step`` the snapshot of
    every chapter (default: each chapter's own); ``say`` prints the progress lines; with ``progress``
    Manim's own progress bars pass through to stderr. ``chapters`` (default: all of :data:`LECTURE`, in
    its order) builds a shorter lecture.
    """
    from ..cli.render import SAMPLE_SCENES, plan_choices
    from .revealjs import reveal_tarball

    trace = open_trace(trace)
    trace.refuse_cnn("explainer lecture")
    out = check_lecture_out(out)
    unknown = [scene for scene in chapters if scene not in LECTURE]
    if unknown:
        raise ValueError(f"not chapters of the lecture: {', '.join(unknown)} (they are {', '.join(LECTURE)})")
    chapters = [scene for scene in LECTURE if scene in chapters]  # lecture order
    follows = set(SAMPLE_SCENES)  # the chapters that follow one probe digit take --digit / --sample
    plans = {scene: plan_choices(scene, trace, *((sample, step, digit) if scene in follows else (None, step, None)))
             for scene in chapters}  # every choice checked before the first render
    fingerprint = trace_fingerprint(trace)
    reveal_tarball()  # the deck's reveal.js, fetched (or found in the cache) before the renders, not after them
    out.mkdir(parents=True, exist_ok=True)
    (out / MARK).write_text("A lecture built by explainer; `explainer lecture --out` rebuilds it here.\n")
    build = out / "build"
    result = LectureResult(out, out / "index.html", out / "deck" / "index.html", out / "handout.html", None)
    for number, scene in enumerate(chapters, 1):
        sample_, step_ = plans[scene]
        key = chapter_key(scene, fingerprint, sample_, step_, quality, pace)
        started = time.perf_counter()
        if _unchanged(build, scene, key):
            result.chapters[scene] = ("unchanged", 0.0)
            say(f"[{number:2d}/{len(chapters)}] {scene:18s} unchanged, kept")
            continue
        say(f"[{number:2d}/{len(chapters)}] {scene:18s} rendering (-q{quality}) ...")
        _render_chapter(scene, trace, build, sample_, step_, quality, pace, progress)
        _record(build, scene, key, sample_, step_)
        seconds = time.perf_counter() - started
        result.chapters[scene] = ("rendered", seconds)
        say(f"[{number:2d}/{len(chapters)}] {scene:18s} done in {seconds:.0f} s")
    _collect(out, build, trace, chapters, plans, result, say, pptx)
    return result


def _chapter_files(build, scene):
    """The files a rendered chapter leaves: its key, its slides' JSON, its video."""
    return build / "keys" / f"{scene}.json", build / "slides" / f"{scene}.json", build / "videos" / f"{scene}.mp4"


def finished_chapters(out):
    """The chapters of the lecture in ``out`` that finished rendering (their key is written)."""
    return [scene for scene in LECTURE if _chapter_files(Path(out) / "build", scene)[0].is_file()]


def _unchanged(build, scene, key):
    key_file, slides, video = _chapter_files(build, scene)
    if not (key_file.is_file() and slides.is_file() and video.is_file()):
        return False
    try:
        written = json.loads(key_file.read_text())
        files = [Path(s["file"]) for s in json.loads(slides.read_text())["slides"]]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return written.get("key") == key and all(f.is_file() for f in files)


def _render_chapter(scene, trace, build, sample, step, quality, pace, progress):
    """Render ``scene`` into ``build``: its slides into build/slides (EXPLAINER_SLIDES), its video copied to
    build/videos/Scene.mp4. The chapter's key is removed first, so a render stopped half-way is redone."""
    from ..cli.render import QUALITY, run_passing_through, scene_file, scenes_folder

    key_file, _, video = _chapter_files(build, scene)
    key_file.unlink(missing_ok=True)
    media = build / "media" / scene
    if media.exists():
        shutil.rmtree(media)  # this chapter's own earlier render (build/ is the lecture's)
    env = {name: value for name, value in os.environ.items()
           if name not in ("EXPLAINER_SAMPLE", "EXPLAINER_DIGIT", "EXPLAINER_STEP")}
    env.update(EXPLAINER_TRACE=str(trace.path.resolve()), EXPLAINER_STEP=str(step), EXPLAINER_PACE=pace,
               EXPLAINER_SLIDES=str((build / "slides").resolve()))
    if sample is not None:
        env["EXPLAINER_SAMPLE"] = str(sample)
    command = [sys.executable, "-m", "manim", "render", QUALITY[quality], "--media_dir", str(media.resolve()),
               "--output_file", scene, str(scene_file(scene)), scene]
    returncode, output = run_passing_through(command, env=env, cwd=scenes_folder().parent, echo=progress)
    if returncode != 0:
        tail = [line for line in output.splitlines() if line.strip()][-1:] or ["(no message)"]
        raise RuntimeError(f"manim failed rendering {scene}: {tail[0].strip()}")
    rendered = sorted(media.rglob(f"{scene}.mp4"), key=lambda p: p.stat().st_mtime)
    if not rendered:
        raise RuntimeError(f"manim rendered {scene} but wrote no {scene}.mp4 under {media}")
    video.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(rendered[-1], video)


def _record(build, scene, key, sample, step):
    key_file = _chapter_files(build, scene)[0]
    key_file.parent.mkdir(parents=True, exist_ok=True)
    partial = key_file.with_suffix(".partial")
    partial.write_text(json.dumps({"key": key, "sample": sample, "step": step}, indent=1))
    partial.replace(key_file)  # written last, whole: a chapter with a key is a finished chapter


def _notes(build, scene):
    slides = json.loads((build / "slides" / f"{scene}.json").read_text())["slides"]
    return [s.get("notes", "") for s in slides]


def poster(video, png):
    """The last frame of ``video`` as ``png`` (ffmpeg, which Manim's install brings)."""
    png.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-sseof", "-0.1", "-i", str(video), "-frames:v", "1",
                    str(png)], check=True, stdin=subprocess.DEVNULL)
    return png


def _collect(out, build, trace, chapters, plans, result, say, pptx):
    """The lecture's files from the chapters: videos, posters, figures, deck, PPTX, handout, index."""
    from ..figures import save_all
    from .deck import build_deck, build_pptx
    from .handout import Chapter, write_handout
    from .index import write_index

    videos, posters = out / "videos", out / "posters"
    videos.mkdir(exist_ok=True)
    made = []
    for number, scene in enumerate(chapters, 1):
        video = videos / f"{number:02d}_{scene}.mp4"
        shutil.copyfile(_chapter_files(build, scene)[2], video)
        picture = poster(video, posters / f"{scene}.png")
        sample, step = plans[scene]
        made.append(Chapter(name=scene, title=TITLES[scene], step=step, sample=sample,
                            notes=_notes(build, scene), poster=picture, video=video))
    say("figures      ...")
    figures = save_all(trace.path, out / "figures", formats=("png",))
    say("deck         ...")
    build_deck(build / "slides", chapters, result.deck, title=f"How a neural network learns: {_run_name(trace)}")
    if pptx:
        say("pptx         ...")
        with _quiet_progress_bars():  # manim-slides' converter draws a bar per chapter, over our lines
            result.pptx = build_pptx(build / "slides", chapters, out / "lecture.pptx")
    say("handout      ...")
    write_handout(trace, made, figures, result.handout)
    write_index(result, trace, made, figures)


@contextlib.contextmanager
def _quiet_progress_bars():
    """The block's progress bars (tqdm's, on stderr) not shown: tqdm reads TQDM_DISABLE only when imported.
    An error still propagates, with its message."""
    with contextlib.redirect_stderr(io.StringIO()):
        yield


def _run_name(trace):
    return f"{'-'.join(str(n) for n in trace.sizes)} on {'MNIST' if trace.dataset == 'mnist' else 'the 8x8 digits'}"
