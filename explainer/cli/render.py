"""``explainer render``: render a lecture scene, a friendlier face on ``manim render``.

::

    explainer render FirstLayerFilters                       # default trace, low quality
    explainer render FirstLayerFilters --trace runs/mnist.zarr -q h
    explainer render list                                   # the scenes there are

It finds the scene's file, checks the trace, sample and step before Manim
starts (so a bad choice is one line, not a failed render), passes them to the
scene through ``EXPLAINER_TRACE``, ``EXPLAINER_SAMPLE`` and ``EXPLAINER_STEP``,
and says where the video is. Manim's own output (its progress bars) passes
through to stderr as it comes, so a long ``-q h`` render shows how far it is;
if Manim fails, its last line ends the message.
"""

import os
import shutil
import subprocess
import sys
from collections import deque
from pathlib import Path

from ..outputs import check_folder_out
from ..trace import open_trace

__all__ = ["add_parser", "SCENES", "scenes_folder", "check_choices", "render_scene"]

# scene name -> file in scenes/, and what it shows
SCENES = {
    "FirstLayerFilters": ("first_layer_filters.py", "the first layer's weights from noise to strokes, with the loss"),
    "ForwardPass": ("forward_pass.py", "one probe digit through the network, z = W a + b with real numbers"),
    "Backprop": ("backprop.py", "that digit's error flowing back: delta per layer, dW, the update, the loss after"),
    "TrainingStory": ("training_story.py", "loss and accuracy over training, probe guesses flipping, the confusion matrix"),
}
QUALITY = {"l": "-ql", "m": "-qm", "h": "-qh"}


def scenes_folder():
    """The folder of the scene files: the installed ``explainer.scenes`` (the repository's ``scenes/``
    in an editable install, ``explainer/scenes`` in a wheel)."""
    import explainer.scenes

    return Path(explainer.scenes.__file__).resolve().parent


def add_parser(subparsers):
    p = subparsers.add_parser(
        "render", help="render a lecture scene with Manim",
        description="Render a Manim scene from a recorded trace. Scenes: "
        + "; ".join(f"{name}: {what}" for name, (_, what) in SCENES.items()) + ".",
    )
    p.add_argument("scene", metavar="SCENE", help=f"one of {', '.join(SCENES)}, or 'list'")
    p.add_argument("--trace", default="default", metavar="TRACE",
                   help="a trace folder or .zip (default: the default 8x8 trace, built once)")
    p.add_argument("--sample", type=int, metavar="N", help="which probe digit to follow (default: 0)")
    p.add_argument("--step", type=int, metavar="S", help="which training step (default: the last)")
    p.add_argument("-q", "--quality", choices=list(QUALITY), default="l",
                   help="l: 480p15 (fast), m: 720p30, h: 1080p60 (default: l)")
    p.add_argument("--media-dir", type=Path, default=Path("media"), metavar="DIR",
                   help="where Manim writes videos (default: media)")
    p.add_argument("--last-frame", action="store_true", help="render only the last frame, as a PNG")
    p.add_argument("--quiet", action="store_true", help="hide Manim's output and progress bars")
    p.set_defaults(func=render_command)


def render_command(args):
    if args.scene == "list":
        for name, (_, what) in SCENES.items():
            print(f"{name:20s} {what}")
        return 0
    check_folder_out(args.media_dir, "--media-dir")
    trace = check_choices(args.scene, args.trace, args.sample, args.step)
    print(f"rendering {args.scene} from {trace.path} ...", flush=True)
    out = render_scene(args.scene, trace, quality=args.quality, media_dir=args.media_dir,
                       last_frame=args.last_frame, sample=args.sample, step=args.step, progress=not args.quiet)
    print(f"wrote {out}")
    return 0


def check_choices(scene, trace, sample=None, step=None):
    """Check a scene, trace, sample and step before Manim starts; return the opened trace.

    The same rule as ``explainer plot``: a step of the run (the nearest snapshot
    is shown), and a trace that holds a snapshot.
    """
    if scene not in SCENES:
        raise ValueError(f"SCENE must be one of {', '.join(repr(s) for s in SCENES)}; got {scene!r}")
    trace = open_trace(trace)
    if sample is not None:
        trace.check_sample(sample, "--sample")
    trace.check_step(step if step is not None else max(trace.n_steps - 1, 0), "--step")
    return trace


def render_scene(scene, trace, *, quality="l", media_dir="media", last_frame=False, sample=None, step=None,
                 progress=False):
    """Render ``scene`` from ``trace`` (a path, ``"default"`` or a :class:`~explainer.trace.Trace`) with
    Manim; return the video (or PNG) written.

    The choices are checked first, so that a bad one is a clear error here and
    not a failed render (see :func:`check_choices`). With ``progress``, Manim's
    output is passed through to stderr while it renders.
    """
    trace = check_choices(scene, trace, sample, step)
    env = {**os.environ, "EXPLAINER_TRACE": str(trace.path.resolve())}
    if progress and sys.stderr.isatty():  # Manim writes into a pipe: keep its colours and our width
        env.setdefault("FORCE_COLOR", "1")
        env.setdefault("COLUMNS", str(shutil.get_terminal_size().columns))
    if sample is not None:
        env["EXPLAINER_SAMPLE"] = str(sample)
    if step is not None:
        env["EXPLAINER_STEP"] = str(step)
    media_dir = Path(media_dir).resolve()
    filename, _ = SCENES[scene]
    command = [sys.executable, "-m", "manim", "render", QUALITY[quality], "--media_dir", str(media_dir)]
    if last_frame:
        command.append("-s")
    command += [str(scenes_folder() / filename), scene]
    returncode, output = run_passing_through(command, env=env, cwd=scenes_folder().parent, echo=progress)
    if returncode != 0:
        tail = [line for line in output.splitlines() if line.strip()][-1:] or ["(no message)"]
        raise RuntimeError(f"manim failed rendering {scene}: {tail[0].strip()}")
    outputs = sorted(media_dir.rglob(f"{scene}*.{'png' if last_frame else 'mp4'}"), key=lambda p: p.stat().st_mtime)
    return outputs[-1] if outputs else media_dir


def run_passing_through(command, *, env, cwd, echo, keep=64 * 1024):
    """Run ``command``, its stdout and stderr merged; with ``echo``, write what it prints to our stderr
    as it comes (progress bars redraw in place). Return (exit code, the last ``keep`` bytes as text)."""
    tail, kept = deque(), 0
    with subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as process:
        for chunk in iter(lambda: process.stdout.read1(8192), b""):
            if echo:
                sys.stderr.buffer.write(chunk)
                sys.stderr.flush()
            tail.append(chunk)
            kept += len(chunk)
            while kept - len(tail[0]) >= keep:
                kept -= len(tail.popleft())
    return process.returncode, b"".join(tail).decode(errors="replace")
