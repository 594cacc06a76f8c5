"""Traces: a training run recorded step by step, and read back lazily.

Record with :class:`TraceRecorder` (passed to :func:`explainer.fit`), read with
:meth:`Trace.open`. The layout on disk is described in
:mod:`explainer.trace.schema`; when snapshots are taken, in
:mod:`explainer.trace.schedule`.
"""

from .default import default_trace, default_trace_path
from .pack import pack_trace
from .reader import Evaluation, ProbeRecord, Snapshot, Trace, TraceError, open_trace
from .recorder import TraceRecorder
from .schedule import DEFAULT_SCHEDULE, snapshot_steps
from .schema import SCHEMA, SCHEMA_VERSION

__all__ = [
    "Trace",
    "TraceError",
    "TraceRecorder",
    "ProbeRecord",
    "Snapshot",
    "Evaluation",
    "open_trace",
    "pack_trace",
    "default_trace",
    "default_trace_path",
    "snapshot_steps",
    "DEFAULT_SCHEDULE",
    "SCHEMA",
    "SCHEMA_VERSION",
]
