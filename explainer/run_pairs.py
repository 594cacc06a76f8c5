"""Two or more recorded runs, put side by side: which step of each goes with which.

``explainer compare-runs``, the CompareRuns dashboard and the TwoRuns scene
show runs together (a sigmoid network beside a ReLU one, SGD beside Adam). The
rule that pairs their steps is one, here:

**Runs are matched by their fraction of training.** At fraction ``f``
(0 at the first step, 1 at the last) run ``i`` is at step
``round(f * (n_steps_i - 1))``; its filters are those of the snapshot nearest
that step. Runs of the same length are thus matched step for step; a run of
600 steps beside one of 1,200 is matched at the same share of its training
(its step 300 beside the other's 600), which for two runs on one data set with
different batch sizes is also the same epoch.

::

    runs = open_runs(["runs/sigmoid.zarr", "runs/relu.zarr"])
    matched_steps(runs, 0.5)          # [599, 599]: each run's step halfway through
    run_label(runs[0])                # 'sigmoid: 64-32 sigmoid, sgd lr 0.5'
"""

import hashlib
import json
from pathlib import Path

import numpy as np

from .data import cache_dir
from .trace import SCHEMA_VERSION, open_trace
from .trace.default import build_once

__all__ = ["open_runs", "matched_steps", "matched_snapshots", "run_label", "same_length", "FILTER_FRACTIONS",
           "versus_experiment", "default_versus"]

# where the side-by-side filters are drawn: the first snapshot, four points of the first quarter (where the
# filters change fastest) and the end
FILTER_FRACTIONS = (0.0, 0.02, 0.1, 0.3, 1.0)


def open_runs(paths, name="runs"):
    """Open two or more traces (paths, packed .zip files, ``"default"`` or Traces); a clear error otherwise.

    Every run must have taken at least one step and hold a snapshot.
    """
    paths = list(paths)
    if len(paths) < 2:
        raise ValueError(f"{name}: name two or more traces to compare; got {len(paths)}")
    runs = [open_trace(p) for p in paths]
    for trace in runs:
        trace.refuse_cnn(name)
        if trace.n_steps < 1 or not len(trace.snapshot_steps):
            raise ValueError(f"{trace.path} has no step recorded yet: nothing to compare")
    return runs


def _check_fraction(fraction):
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float, np.floating)) or not 0 <= fraction <= 1:
        raise ValueError(f"fraction of training must be a number from 0 to 1; got {fraction!r}")
    return float(fraction)


def matched_steps(runs, fraction):
    """Each run's step at ``fraction`` (0 to 1) of its training: ``round(fraction * (n_steps - 1))``."""
    fraction = _check_fraction(fraction)
    return [int(round(fraction * (trace.n_steps - 1))) for trace in runs]


def matched_snapshots(runs, fraction):
    """Each run's snapshot step nearest its :func:`matched_steps` step (what its filters show there)."""
    return [int(trace.check_step(step)) for trace, step in zip(runs, matched_steps(runs, fraction))]


def same_length(runs):
    """True if every run has taken the same number of steps (so fraction and step match alike)."""
    return len({trace.n_steps for trace in runs}) == 1


def run_label(trace, short=False):
    """A run's name (its file's, without ``.zarr``/``.zip``) and, unless ``short``, how it was trained."""
    name = Path(str(trace.path)).name
    for suffix in (".zip", ".zarr"):
        name = name.removesuffix(suffix)
    if short:
        return name
    run = trace.run
    hidden = "-".join(map(str, run.hidden)) or "no hidden layer"
    return f"{name}: {hidden} {run.activation}, {run.training.optimizer} lr {run.training.lr:g}"


def versus_experiment():
    """The run the default trace is compared with when no second run is named (the TwoRuns scene): the
    8x8 digits preset with sigmoid units instead of relu, everything else the same."""
    from .experiment import Experiment

    return Experiment.preset("digits", activation="sigmoid")


def default_versus(progress=True):
    """The path of the :func:`versus_experiment` run's trace, recorded once into the cache (like the default
    trace: built beside its place, then moved in) and reused."""
    experiment = versus_experiment()
    tag = hashlib.sha256(json.dumps(experiment.to_dict(), sort_keys=True).encode()).hexdigest()[:8]
    path = cache_dir() / "traces" / f"digits-sigmoid-v{SCHEMA_VERSION}-{tag}.zarr"
    return build_once(path, experiment, "the sigmoid run to compare the default trace with", progress)
