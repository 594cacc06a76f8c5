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

from explainer.trace import Trace, TraceError, default_trace

__all__ = ["chosen_trace", "chosen_sample", "chosen_step", "fail"]


def fail(message):
    """Stop the render with one clear line."""
    print(f"explainer: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def chosen_trace():
    """The trace named by ``EXPLAINER_TRACE``, or the default one."""
    name = os.environ.get("EXPLAINER_TRACE", "default").strip() or "default"
    try:
        return Trace.open(default_trace() if name == "default" else name)
    except TraceError as e:
        fail(f"EXPLAINER_TRACE: {e}")


def _whole_number(variable, text):
    try:
        return int(text)
    except ValueError:
        fail(f"{variable} must be a whole number; got {text!r}")


def chosen_sample(trace):
    """The probe index named by ``EXPLAINER_SAMPLE`` (default 0), checked against the trace."""
    text = os.environ.get("EXPLAINER_SAMPLE", "0").strip()
    sample = _whole_number("EXPLAINER_SAMPLE", text)
    n = len(trace.probe_labels)
    if not 0 <= sample < n:
        fail(f"EXPLAINER_SAMPLE={sample} is not a probe digit of {trace.path.name}: choose 0 to {n - 1}")
    return sample


def chosen_step(trace, default=None):
    """The snapshot step nearest to ``EXPLAINER_STEP``, checked against the trace.

    Unset, it is the snapshot nearest to ``default`` (a step), or the last one.
    """
    text = os.environ.get("EXPLAINER_STEP", "").strip()
    if text == "" and default is not None:
        return int(trace.snapshot_steps[trace.snapshot_index(int(default))])
    if text in ("", "last"):
        return int(trace.snapshot_steps[-1])
    step = _whole_number("EXPLAINER_STEP", text)
    if not 0 <= step < trace.n_steps:
        fail(f"EXPLAINER_STEP={step} is outside the run: {trace.path.name} has steps 0 to {trace.n_steps - 1}")
    return int(trace.snapshot_steps[trace.snapshot_index(step)])
