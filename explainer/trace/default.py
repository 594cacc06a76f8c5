"""The default traces: an 8x8-digits run that scenes and dashboards use when
the user names none, and an MNIST run the notebooks switch to. Each is built
once, through the public API, then reused."""

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from ..data import cache_dir
from ..experiment import Experiment, run
from ..tables import lookup
from .reader import Trace, TraceError
from .recorder import TraceRecorder
from .schedule import DEFAULT_SCHEDULE
from .schema import SCHEMA_VERSION

__all__ = ["default_trace_path", "default_trace", "default_cnn_trace", "build_once"]


def default_experiment(dataset="digits"):
    """The run a default trace records: the 8x8 digits preset; on MNIST, a smaller network than its preset
    (784-128-64-10, 2 epochs: about 20 s to record, not the preset's minutes) that reads 97% of the test digits."""
    return lookup({"digits": lambda: Experiment.preset("digits"),
                   "mnist": lambda: Experiment.preset("mnist", hidden=(128, 64), epochs=2)}, dataset, "dataset")()


def default_trace_path(dataset="digits"):
    """Where a default trace lives: ``<cache>/traces/<dataset>-default-v<schema>-<settings>.zarr``.

    ``<settings>`` is a short hash of the experiment and the snapshot schedule, so
    a trace cached by an explainer with other presets is never taken for this one.
    """
    experiment = default_experiment(dataset)
    settings = json.dumps({"experiment": experiment.to_dict(), "schedule": DEFAULT_SCHEDULE}, sort_keys=True)
    tag = hashlib.sha256(settings.encode()).hexdigest()[:8]
    return cache_dir() / "traces" / f"{experiment.dataset}-default-v{SCHEMA_VERSION}-{tag}.zarr"


def default_trace(progress=True, dataset="digits"):
    """Return the path of a default trace (``dataset``: "digits" or "mnist"), building it first if needed:
    a few seconds on the 8x8 digits; on MNIST about 20 s, after its files are fetched once if missing."""
    what = f"the default trace ({'8x8 digits' if dataset == 'digits' else dataset})"
    return build_once(default_trace_path(dataset), default_experiment(dataset), what, progress)


def default_cnn_trace(progress=True):
    """The path of the 8x8 digits' CNN preset's trace (conv 32, pool, conv 64, pool, 30 epochs: about 10 s and
    50 MB), built once: what the scenes of a convolutional network (Convolution, FeatureMaps) show when no
    trace is named."""
    experiment = Experiment.preset("digits", arch="cnn")
    settings = json.dumps({"experiment": experiment.to_dict(), "schedule": DEFAULT_SCHEDULE}, sort_keys=True)
    tag = hashlib.sha256(settings.encode()).hexdigest()[:8]
    path = cache_dir() / "traces" / f"digits-cnn-default-v{SCHEMA_VERSION}-{tag}.zarr"
    return build_once(path, experiment, "the default CNN trace (8x8 digits)", progress)


def build_once(path, experiment, what, progress=True):
    """``path``, recording ``experiment``'s run there first unless a complete trace is there already.

    The run is recorded beside its place, then moved in: a crash never leaves a half-built trace, and a
    broken or half-built one found there is built again. ``what`` names it in the progress line.
    """
    path = Path(path)
    if path.exists():
        try:
            if Trace.open(path).complete:
                return path
        except TraceError:
            pass
        shutil.rmtree(path, ignore_errors=True)  # a broken or half-built one: build it again
    path.parent.mkdir(parents=True, exist_ok=True)
    if progress:
        print(f"explainer: building {what} at {path} ...")
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=path.parent))
    try:
        with TraceRecorder(tmp / "trace.zarr") as recorder:
            run(experiment, recorder=recorder, progress=progress)
        os.replace(tmp / "trace.zarr", path)
    except OSError:
        if not path.exists():  # another process may have won the race; otherwise re-raise
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path
