"""``explainer render``: render a lecture scene, a friendlier face on ``manim render``.

::

    explainer render FirstLayerFilters                       # default trace, low quality
    explainer render FirstLayerFilters --trace runs/mnist.zarr -q h
    explainer render ForwardPass --digit 3 --step 120        # the first probe digit labelled 3
    explainer render list                                   # the scenes there are

It finds the scene's file, checks the trace, sample (or digit) and step before
Manim starts (so a bad choice is one line, not a failed render), passes them
to the scene through ``EXPLAINER_TRACE``, ``EXPLAINER_SAMPLE`` and
``EXPLAINER_STEP`` (its own options, not those of the shell), and says where
the video is. The video is named after the choices
(``ForwardPass_sample3_step120.mp4``; ``TrainingStory_step1199.mp4`` for a
scene that follows no single digit), through Manim's ``--output_file``, so a
second render with other choices does not replace the first. Manim's own
output (its progress bars) passes through to stderr as it comes, so a long
``-q h`` render shows how far it is; if Manim fails, its last line ends the
message.
"""

import os
import shutil
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

from ..outputs import check_folder_out
from ..probe_choice import probe_of_class
from ..trace import open_trace

__all__ = ["add_parser", "SCENES", "SAMPLE_SCENES", "scenes_folder", "available_scenes", "scene_file", "check_choices",
           "check_versus", "plan_choices", "MAP_SCENES",
           "output_name", "render_scene", "WHOLE_RUN_SCENES"]

# scene name -> file in scenes/, and what it shows
SCENES = {  # in lecture order: a neuron, the forward pass, the loss and its descent, the gradients, training
    "TitleCard": ("lecture_cards.py", "the run the lecture is told with (data, network, training, result) and the "
                  "chapters"),
    "OneNeuron": ("one_neuron.py", "one hidden unit: the digit's 64 or 784 numbers times its weights, summed with the "
                  "bias into z, then f(z); the whole layer as W a + b"),
    "ForwardPass": ("forward_pass.py", "one probe digit through the network, z = W a + b with real numbers"),
    "GradientDescent": ("gradient_descent.py", "one digit's cost, the batch's average, the real loss landscape around "
                        "a snapshot with the recorded trajectory, and a learning rate too high"),
    "Backprop": ("backprop.py", "that digit's error flowing back: delta per layer, its share of dW, the batch's gradient, the "
                 "run's own update, the loss after"),
    "ChainRule": ("chain_rule.py", "one weight's gradient along one path, each factor from the trace; the three "
                  "levers: bias, weight, previous activation"),
    "MiniBatches": ("mini_batches.py", "the probe digits' own gradients and their mean beside the batch's recorded "
                    "gradient: a noisy step downhill"),
    "FirstLayerFilters": ("first_layer_filters.py", "the first layer's weights from noise to strokes, with the loss "
                          "(a CNN's first kernels too)"),
    "TrainingStory": ("training_story.py", "loss and accuracy over training, probe guesses flipping, the confusion matrix"),
    "Convolution": ("convolution.py", "a CNN: the real first-layer kernel slides over the real digit, one "
                    "position's products and their sum written out, the feature map filling in, ReLU and pooling"),
    "FeatureMaps": ("feature_maps.py", "a CNN: one probe digit through every convolution and pooling layer to the "
                    "output probabilities, one layer at a time"),
    "TwoRuns": ("two_runs.py", "two runs side by side (--versus names the second): both loss curves drawn together, "
                "both first layers' filters forming"),
    "Recap": ("lecture_cards.py", "the run's own formulas in order (forward, loss, backward, update) and its result"),
}
# the scenes that follow one probe digit (they call chosen_sample): --sample and --digit choose it, and the
# video's name carries it; the others show the whole run or every probe digit (tests/test_cli.py checks)
SAMPLE_SCENES = ("ForwardPass", "Backprop", "OneNeuron", "GradientDescent", "ChainRule", "Convolution", "FeatureMaps")
# the scenes that follow a CNN's probe digit through its feature maps: only the digits with recorded maps
MAP_SCENES = ("Convolution", "FeatureMaps")
# the scenes that show the whole run, at no one step (they call no chosen_step): their video's name has no step
WHOLE_RUN_SCENES = ("TitleCard", "TwoRuns")
QUALITY = {"l": "-ql", "m": "-qm", "h": "-qh"}


def scenes_folder():
    """The folder of the scene files: the installed ``explainer.scenes`` (the repository's ``scenes/``
    in an editable install, ``explainer/scenes`` in a wheel)."""
    import explainer.scenes

    return Path(explainer.scenes.__file__).resolve().parent


def available_scenes():
    """The scenes of :data:`SCENES` whose file this install has, in order."""
    return [name for name, (filename, _) in SCENES.items() if (scenes_folder() / filename).is_file()]


def scene_file(scene):
    """The file of ``scene``; a clear error if this install does not have it (yet)."""
    path = scenes_folder() / SCENES[scene][0]
    if not path.is_file():
        raise FileNotFoundError(f"{scene}'s file {path} is not there: this install of explainer does not have that "
                                f"scene yet; the scenes it has: {', '.join(available_scenes())}")
    return path


def add_parser(subparsers):
    p = subparsers.add_parser(
        "render", help="render a lecture scene with Manim",
        description="Render a Manim scene from a recorded trace. Scenes: "
        + "; ".join(f"{name}: {what}" for name, (_, what) in SCENES.items()) + ".",
    )
    p.add_argument("scene", metavar="SCENE", help=f"one of {', '.join(SCENES)}, or 'list'")
    p.add_argument("--trace", default="default", metavar="TRACE",
                   help="a trace folder or .zip (default: the default 8x8 trace, built once; for Convolution and "
                   "FeatureMaps the 8x8 CNN preset's, built once)")
    p.add_argument("--sample", type=int, metavar="N",
                   help="which probe digit to follow, by its index (default: 0; `explainer info TRACE --probes` "
                   "lists them)")
    p.add_argument("--digit", type=int, metavar="D",
                   help="or by its class: the first probe digit labelled D (the command says which); not with --sample")
    p.add_argument("--step", type=int, metavar="S",
                   help="which training step; the nearest snapshot is shown (default: the scene's own, the last for "
                   "most, early in training for Backprop, ChainRule, GradientDescent and MiniBatches)")
    p.add_argument("--versus", metavar="TRACE",
                   help="TwoRuns only: the second run, shown beside --trace's (default, beside the default trace: the "
                   "same network with sigmoid units, built once)")
    p.add_argument("-q", "--quality", choices=list(QUALITY), default="l",
                   help="l: 480p15 (fast), m: 720p30, h: 1080p60 (default: l)")
    p.add_argument("--media-dir", type=Path, default=Path("media"), metavar="DIR",
                   help="where Manim writes videos (default: media)")
    p.add_argument("--last-frame", action="store_true", help="render only the last frame, as a PNG")
    p.add_argument("--quiet", action="store_true", help="hide Manim's output and progress bars")
    p.set_defaults(func=render_command)


def render_command(args):
    if args.scene == "list":
        for name, (filename, what) in SCENES.items():
            missing = "" if (scenes_folder() / filename).is_file() else f" (not in this install yet: {filename})"
            print(f"{name:20s} {what}{missing}")
        return 0
    check_folder_out(args.media_dir, "--media-dir")
    trace = check_choices(args.scene, args.trace, args.sample, args.step, args.digit)
    versus = check_versus(args.scene, args.trace, args.versus)
    scene_file(args.scene)  # a scene this install does not have: one line, before anything is said
    if args.digit is not None:
        sample, others = probe_of_class(trace, args.digit, "--digit")
        print(f"--digit {args.digit}: probe digit {sample}, the first labelled {args.digit}"
              + (f" (the others: {', '.join(map(str, others))}; choose one with --sample N)" if others else ""))
    print(f"rendering {args.scene} from {trace.path} ...", flush=True)
    out = render_scene(args.scene, trace, quality=args.quality, media_dir=args.media_dir, last_frame=args.last_frame,
                       sample=args.sample, step=args.step, digit=args.digit, progress=not args.quiet, versus=versus)
    print(f"wrote {out}")
    return 0


def check_choices(scene, trace, sample=None, step=None, digit=None):
    """Check a scene, trace, sample (or digit) and step before Manim starts; return the opened trace.

    The same rule as ``explainer plot``: a step of the run (the nearest snapshot
    is shown), and a trace that holds a snapshot. ``sample`` (a probe digit's
    index) and ``digit`` (a class: its first probe digit) choose the same
    thing, so not both; and only for a scene that follows one digit
    (:data:`SAMPLE_SCENES`).
    """
    if scene not in SCENES:
        raise ValueError(f"SCENE must be one of {', '.join(repr(s) for s in SCENES)}; got {scene!r}")
    if sample is not None and digit is not None:
        raise ValueError(f"--sample {sample} and --digit {digit} both choose the probe digit: give one of them")
    from explainer.chapters.convolution import map_row
    from explainer.scenes.choice import check_kind, scene_source  # (no Manim is imported)

    trace = open_trace(scene_source(scene, trace))  # "default": a CNN's scene takes the default CNN trace
    check_kind(scene, trace, f"explainer render {scene}")
    if sample is not None:
        trace.check_sample(sample, "--sample")
        if scene in MAP_SCENES:
            map_row(trace, sample, "--sample")
    if digit is not None:
        chosen = probe_of_class(trace, digit, "--digit")[0]
        if scene in MAP_SCENES:
            map_row(trace, chosen, f"--digit {digit} chose")
    given = "--sample" if sample is not None else "--digit" if digit is not None else None
    if given and scene not in SAMPLE_SCENES:
        raise ValueError(f"{scene} follows no single probe digit, so it takes no {given}; the scenes that do: "
                         f"{', '.join(SAMPLE_SCENES)}")
    trace.check_step(step if step is not None else max(trace.n_steps - 1, 0), "--step")
    return trace


def check_versus(scene, trace, versus):
    """The second run of TwoRuns (``--versus``), opened and checked; beside the default trace, when none is
    named, the default trace's sigmoid twin (:func:`explainer.default_versus`, built once); None for the
    other scenes."""
    if scene != "TwoRuns":
        if versus is not None:
            raise ValueError(f"{scene} shows one run, so it takes no --versus; TwoRuns shows two")
        return None
    if versus is None:
        if not (isinstance(trace, str) and trace.strip() in ("", "default")):
            raise ValueError("TwoRuns shows two runs: name the second with --versus TRACE")
        from .. import default_versus

        versus = default_versus()
    other = open_trace(versus)
    other.refuse_cnn("explainer render TwoRuns")
    other.check_step(max(other.n_steps - 1, 0), "--versus")
    return other


def plan_choices(scene, trace, sample=None, step=None, digit=None):
    """``(sample, step)`` that ``scene`` will show: the probe digit (None for a scene that follows none; the
    first of class ``digit``; or 0) and the snapshot step (the nearest to ``step``, or the scene's default)."""
    from explainer.scenes.choice import default_step  # the scenes' own rule (no Manim is imported)

    trace = check_choices(scene, trace, sample, step, digit)
    if scene not in SAMPLE_SCENES:
        sample = None
    elif digit is not None:
        sample = probe_of_class(trace, digit, "--digit")[0]
    elif sample is None:
        sample = trace.map_probes[0] if scene in MAP_SCENES else 0
    return sample, trace.check_step(default_step(scene, trace) if step is None else step, "--step")


def output_name(scene, sample, step):
    """The file name Manim is given (without its extension): ``ForwardPass_sample3_step120``,
    ``TrainingStory_step1199`` for a scene that follows no single digit, ``TitleCard`` for one that shows the
    whole run (:data:`WHOLE_RUN_SCENES`)."""
    if scene in WHOLE_RUN_SCENES:
        return scene
    return f"{scene}_step{step}" if sample is None else f"{scene}_sample{sample}_step{step}"


def render_scene(scene, trace, *, quality="l", media_dir="media", last_frame=False, sample=None, step=None,
                 digit=None, progress=False, versus=None):
    """Render ``scene`` from ``trace`` (a path, ``"default"`` or a :class:`~explainer.trace.Trace`) with
    Manim; return the video (or PNG) written.

    The choices are checked first, so that a bad one is a clear error here and
    not a failed render (see :func:`check_choices`), and passed to the scene
    explicitly (whatever ``EXPLAINER_SAMPLE``, ``EXPLAINER_DIGIT`` or
    ``EXPLAINER_STEP`` the shell holds), so the file's name
    (:func:`output_name`) says what it shows. With ``progress``, Manim's output
    is passed through to stderr while it renders. ``versus``: TwoRuns' second run (``EXPLAINER_VERSUS``).
    """
    from explainer.scenes.choice import scene_source

    sample, step = plan_choices(scene, trace, sample, step, digit)
    trace = open_trace(scene_source(scene, trace))
    path = scene_file(scene)
    env = {name: value for name, value in os.environ.items()
           if name not in ("EXPLAINER_SAMPLE", "EXPLAINER_DIGIT", "EXPLAINER_STEP", "EXPLAINER_VERSUS")}
    env["EXPLAINER_TRACE"] = str(trace.path.resolve())
    if versus is not None:
        env["EXPLAINER_VERSUS"] = str(open_trace(versus).path.resolve())
    if progress and sys.stderr.isatty():  # Manim writes into a pipe: keep its colours and our width
        env.setdefault("FORCE_COLOR", "1")
        env.setdefault("COLUMNS", str(shutil.get_terminal_size().columns))
    if sample is not None:
        env["EXPLAINER_SAMPLE"] = str(sample)
    env["EXPLAINER_STEP"] = str(step)
    media_dir = Path(media_dir).resolve()
    name = output_name(scene, sample, step)
    command = [sys.executable, "-m", "manim", "render", QUALITY[quality], "--media_dir", str(media_dir),
               "--output_file", name]
    if last_frame:
        command.append("-s")
    command += [str(path), scene]
    started = time.time()
    returncode, output = run_passing_through(command, env=env, cwd=scenes_folder().parent, echo=progress)
    if returncode != 0:
        tail = [line for line in output.splitlines() if line.strip()][-1:] or ["(no message)"]
        raise RuntimeError(f"manim failed rendering {scene}: {tail[0].strip()}")
    written = [p for p in media_dir.rglob(f"{name}.{'png' if last_frame else 'mp4'}")
               if p.stat().st_mtime >= started - 1]  # this render's, not an earlier one's of another quality
    if not written:
        raise RuntimeError(f"manim rendered {scene} but wrote no {name}.{'png' if last_frame else 'mp4'} under "
                           f"{media_dir}")
    return max(written, key=lambda p: p.stat().st_mtime)


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
