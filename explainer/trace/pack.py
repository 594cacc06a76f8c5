"""Packing a trace folder into one file for sharing, and reading it back.

A packed trace is a plain zip of the trace folder (stored, not re-compressed:
the chunks are already compressed), which Zarr opens read-only in place with
its ``ZipStore``: ``Trace.open("run.zarr.zip")``.
"""

import os
import zipfile
from pathlib import Path

from .reader import Trace, TraceError

__all__ = ["pack_trace"]


def pack_trace(path, out=None):
    """Pack the trace folder ``path`` into ``out`` (default: ``<path>.zip``); return ``out``."""
    path = Path(path)
    trace = Trace.open(path)
    if trace.packed:
        raise TraceError(f"{path} is already a packed trace")
    trace.verify()  # refuse to pack a damaged trace
    out = Path(out) if out else path.with_name(path.name + ".zip")
    partial = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as zf:
        for file in sorted(path.rglob("*")):
            if file.is_file() and not file.name.endswith(".partial"):
                zf.write(file, file.relative_to(path).as_posix())
    os.replace(partial, out)
    return out
