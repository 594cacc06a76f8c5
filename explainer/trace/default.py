"""The default trace: an 8x8-digits run that scenes and dashboards use when
the user names none. Built once, through the public API, then reused."""

import os
import shutil
import tempfile
from pathlib import Path

from ..data import cache_dir
from ..experiment import Experiment, run
from .reader import Trace, TraceError
from .recorder import TraceRecorder
from .schema import SCHEMA_VERSION

__all__ = ["default_trace_path", "default_trace"]


def default_trace_path():
    """Where the default trace lives: ``<cache>/traces/digits-default-v<schema>.zarr``."""
    return cache_dir() / "traces" / f"digits-default-v{SCHEMA_VERSION}.zarr"


def default_trace(progress=True):
    """Return the path of the default trace, building it first if needed (a few seconds)."""
    path = default_trace_path()
    if path.exists():
        try:
            if Trace.open(path).verify().complete:
                return path
        except TraceError:
            pass
        shutil.rmtree(path, ignore_errors=True)  # a broken or half-built one: build it again
    path.parent.mkdir(parents=True, exist_ok=True)
    if progress:
        print(f"explainer: building the default trace (8x8 digits) at {path} ...")
    # build beside the final place, then move it in: a crash never leaves a half-built default
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=path.parent))
    try:
        with TraceRecorder(tmp / "trace.zarr") as recorder:
            run(Experiment.preset("digits"), recorder=recorder, progress=progress)
        os.replace(tmp / "trace.zarr", path)
    except OSError:
        if not path.exists():  # another process may have won the race; otherwise re-raise
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path
