"""Traces: a training run recorded step by step, and read back lazily.

Record with :class:`TraceRecorder` (passed to :func:`explainer.fit`), read with
:func:`open_trace` (or :meth:`Trace.open`). The layout on disk is described in
:mod:`explainer.trace.schema`; when snapshots are taken, in
:mod:`explainer.trace.schedule`; what the run was, in :mod:`explainer.trace.run`.
"""

from .default import default_cnn_trace, default_trace, default_trace_path
from .pack import pack_trace
from .reader import Trace, open_trace
from .recorder import TraceRecorder
from .records import Evaluation, Snapshot
from .replace import is_trace
from .run import Run, TraceError
from .schedule import DEFAULT_SCHEDULE, snapshot_steps
from .schema import SCHEMA, SCHEMA_VERSION

__all__ = [
    "Trace",
    "TraceError",
    "TraceRecorder",
    "Run",
    "Snapshot",
    "Evaluation",
    "open_trace",
    "is_trace",
    "pack_trace",
    "default_cnn_trace",
    "default_trace",
    "default_trace_path",
    "snapshot_steps",
    "DEFAULT_SCHEDULE",
    "SCHEMA",
    "SCHEMA_VERSION",
]
