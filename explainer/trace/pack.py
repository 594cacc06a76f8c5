"""Packing a trace folder into one file for sharing, and reading it back.

A packed trace is a plain zip of the trace folder (stored, not re-compressed:
the chunks are already compressed), which Zarr opens read-only in place with
its ``ZipStore``: ``Trace.open("run.zarr.zip")``.

The zip is written to a hidden file beside ``out`` and moved into place when
complete, so ``out`` is either the whole packed trace or untouched. An
existing ``out`` is replaced only when it is a packed trace and ``overwrite``
is given (``--force``): never a folder or another file.
"""

import os
import tempfile
import zipfile
from pathlib import Path

from ..errors import OutputError
from ..outputs import check_file_out
from .reader import Trace
from .replace import is_trace
from .run import TraceError

__all__ = ["pack_trace"]


def pack_trace(path, out=None, *, overwrite=False):
    """Pack the trace folder ``path`` into ``out`` (default: ``<path>.zip``); return ``out``.

    ``out``'s folder is made if missing.
    """
    path = Path(path)
    trace = Trace.open(path)
    if trace.packed:
        raise TraceError(f"{path} is already a packed trace")
    out = Path(out) if out is not None else path.with_name(path.name + ".zip")
    if out.absolute().is_relative_to(path.absolute()):
        raise ValueError(f"out {out} is inside the trace it packs: choose a path outside {path}")
    check_file_out(out, "out", overwrite=overwrite, kind="packed trace", is_kind=is_trace,
                   example=path.name + ".zip")
    trace.verify()  # refuse to pack a damaged trace
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)
    except OSError as e:
        raise OutputError(f"cannot write {out}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as f, zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as zf:
            for file in sorted(path.rglob("*")):
                if file.is_file() and not file.name.endswith(".partial"):
                    zf.write(file, file.relative_to(path).as_posix())
        os.replace(partial, out)
    except OSError as e:
        raise OutputError(f"cannot write {out}: {e.strerror or e}") from None
    finally:
        Path(partial).unlink(missing_ok=True)
    return out
