"""Which trace, probe sample and step a scene shows.

Scenes are rendered by ``manim render``, which takes no options of ours, so the
choice comes from environment variables:

``EXPLAINER_TRACE``
    a trace folder or packed ``.zip``; unset or ``default``: the default 8x8
    trace, built once on first use.
``EXPLAINER_SAMPLE``
    which probe digit (0 to n_probe - 1); default 0.
``EXPLAINER_STEP``
    which training step (the nearest snapshot is shown), or ``last``; default:
    the scene's own (the last step for most; early in training for Backprop).

A bad choice stops the render with one line saying what was wrong and what is
allowed, not with a traceback from inside Manim.
"""

import os
import sys

from explainer.trace import TraceError, open_trace

__all__ = ["chosen_trace", "chosen_sample", "chosen_step", "fail"]


def fail(message):
    """Stop the render with one clear line."""
    print(f"explainer: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def chosen_trace():
    """The trace named by ``EXPLAINER_TRACE``, or the default one (:func:`~explainer.trace.open_trace`)."""
    try:
        return open_trace(os.environ.get("EXPLAINER_TRACE"))
    except (TraceError, TypeError) as e:
        fail(f"EXPLAINER_TRACE: {e}")


def chosen_sample(trace):
    """The probe index named by ``EXPLAINER_SAMPLE`` (default 0), checked by the reader."""
    text = os.environ.get("EXPLAINER_SAMPLE", "").strip() or "0"
    try:
        return trace.check_sample(_number(text), "EXPLAINER_SAMPLE")
    except TraceError as e:
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


def _number(text):
    """``text`` as a whole number, or as it is: the reader's check then says what was wrong with it."""
    try:
        return int(text)
    except ValueError:
        return text
