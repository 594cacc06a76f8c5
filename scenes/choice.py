"""Which trace, probe sample and step a scene shows.

Scenes are rendered by ``manim render``, which takes no options of ours, so the
choice comes from environment variables:

``EXPLAINER_TRACE``
    a trace folder or packed ``.zip``; unset or ``default``: the default 8x8
    trace, built once on first use (for Convolution and FeatureMaps, which
    show a convolutional network, the 8x8 CNN preset's trace, also built once).
``EXPLAINER_SAMPLE``
    which probe digit (0 to n_probe - 1); default 0.
``EXPLAINER_DIGIT``
    or which class: the first probe digit labelled with it (say ``3``); the
    render says which one it took. Not with ``EXPLAINER_SAMPLE``.
``EXPLAINER_STEP``
    which training step (the nearest snapshot is shown), or ``last``; default:
    the scene's own (the last step for most; early in training for
    Backprop, ChainRule, GradientDescent and MiniBatches: :data:`DEFAULT_STEPS`).

A bad choice stops the render with one line saying what was wrong and what is
allowed, not with a traceback from inside Manim. ``manim render`` names the
video after the scene alone (``ForwardPass.mp4``), so a second render with
other choices replaces the first; ``explainer render`` names it after the
sample and the step too (``ForwardPass_sample3_step120.mp4``).
"""

import importlib
import os
import sys

from explainer import probe_of_class
from explainer.trace import TraceError, open_trace

__all__ = ["chosen_trace", "chosen_sample", "chosen_step", "default_step", "DEFAULT_STEPS", "CNN_SCENES", "check_kind",
           "scene_source", "fail"]

# the scenes that show a convolutional network's run: "cnn" only that, "any" a dense one's too (every other
# scene shows a dense network's only, and refuses a CNN's in one line)
CNN_SCENES = {"Convolution": "cnn", "FeatureMaps": "cnn", "FirstLayerFilters": "any"}

# the scenes that show another step than the last when none is chosen: scene name -> the chapter module whose
# default_step(trace) gives it. A scene passes default_step(its name, trace) to
# chosen_step; `explainer render` names the video by it; tests/test_cli.py checks every scene's own default
DEFAULT_STEPS = {
    "Backprop": "explainer.chapters.backprop",  # 2% into training, where the error is still large
    "GradientDescent": "explainer.chapters.descent",  # 10%: the digit's cost and the slope still show
    "MiniBatches": "explainer.chapters.minibatch",  # 2%, where the recorded update follows
    "ChainRule": "explainer.chapters.chain_rule",  # 2%, where the gradients are large enough to read
}


def fail(message):
    """Stop the render with one clear line."""
    print(f"explainer: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def chosen_trace(scene=None):
    """The trace named by ``EXPLAINER_TRACE``, or the default one (:func:`~explainer.trace.open_trace`).

    ``scene`` (its class name) says which runs it can show (:data:`CNN_SCENES`): by default a dense
    network's only; Convolution and FeatureMaps a convolutional network's only; FirstLayerFilters either.
    """
    try:
        trace = open_trace(scene_source(scene, os.environ.get("EXPLAINER_TRACE")))
        check_kind(scene, trace)
        return trace
    except (TraceError, TypeError) as e:
        fail(f"EXPLAINER_TRACE: {e}")


def scene_source(scene, source):
    """The trace ``scene`` shows for ``source``: ``source`` itself, except that "default" (or none) is the
    default CNN trace (:func:`explainer.trace.default_cnn_trace`, built once) for a scene that shows
    a convolutional network only."""
    default = source is None or (isinstance(source, str) and source.strip() in ("", "default"))
    if default and CNN_SCENES.get(scene) == "cnn":
        from explainer.trace import default_cnn_trace

        return default_cnn_trace()
    return source


def check_kind(scene, trace, what=None):
    """A one-line :class:`TraceError` if ``scene`` cannot show ``trace``'s kind of network; ``what`` names the
    one refusing (default: the scene)."""
    what = what or scene or "the scenes"
    shows = CNN_SCENES.get(scene, "dense")
    if shows == "cnn" and not trace.is_cnn:
        raise TraceError(f"{what} shows a convolutional network's run, and {trace.path.name} is a dense "
                         "network's: record one with `explainer train --arch cnn --out runs/cnn8.zarr`")
    if shows == "dense" and trace.is_cnn:
        raise TraceError(f"{what} cannot show a convolutional network's run yet ({trace.path.name}: "
                         f"{', '.join(trace.run.specs)}); a CNN's scenes: {', '.join(CNN_SCENES)}")


def chosen_sample(trace, default=0):
    """The probe index named by ``EXPLAINER_SAMPLE`` (default: ``default``), checked by the reader; or the first
    probe digit of the class ``EXPLAINER_DIGIT``, said on stderr."""
    text = os.environ.get("EXPLAINER_SAMPLE", "").strip()
    digit = os.environ.get("EXPLAINER_DIGIT", "").strip()
    if text and digit:
        fail(f"EXPLAINER_SAMPLE={text} and EXPLAINER_DIGIT={digit} both choose the probe digit: unset one of them")
    try:
        if digit:
            sample, others = probe_of_class(trace, _number(digit), "EXPLAINER_DIGIT")
            print(f"explainer: EXPLAINER_DIGIT={digit}: probe digit {sample}, the first labelled {digit}"
                  + (f" (the others: {', '.join(map(str, others))})" if others else ""), file=sys.stderr)
            return sample
        return trace.check_sample(_number(text or str(default)), "EXPLAINER_SAMPLE")
    except (TraceError, ValueError) as e:
        fail(str(e))


def chosen_step(trace, default=None):
    """The snapshot step nearest to ``EXPLAINER_STEP``, checked by the reader (the rule of ``--step``).

    Unset, it is the snapshot nearest to ``default`` (a step), or the last one.
    """
    text = os.environ.get("EXPLAINER_STEP", "").strip()
    if text == "" and default is not None:
        step = int(default)
    elif text in ("", "last"):
        step = int(trace.snapshot_steps[-1]) if len(trace.snapshot_steps) else 0
    else:
        step = _number(text)
    try:
        return trace.check_step(step, "EXPLAINER_STEP")
    except TraceError as e:
        fail(str(e))


def default_step(scene, trace):
    """The step ``scene`` (its class name) shows when none is chosen: its chapter's ``default_step``
    (:data:`DEFAULT_STEPS`), or the last snapshot's."""
    module = DEFAULT_STEPS.get(scene)
    if module is not None:
        return int(importlib.import_module(module).default_step(trace))
    return int(trace.snapshot_steps[-1]) if len(trace.snapshot_steps) else 0


def _number(text):
    """``text`` as a whole number, or as it is: the reader's check then says what was wrong with it."""
    try:
        return int(text)
    except ValueError:
        return text
