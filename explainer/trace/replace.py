"""Writing a trace where something already is: only a trace may be replaced.

``explainer train --out DIR --force`` replaces an earlier trace at ``DIR``. It
must never delete anything else: a folder holding a thesis is not a trace, and
neither is a folder whose trace metadata cannot be read (then the user decides).
A trace is recognised by its own metadata: a ``zarr.json`` at its root whose
attributes name the ``explainer-trace`` schema.
"""

import json
import shutil
import zipfile
from pathlib import Path

from ..outputs import check_trace_out
from .schema import SCHEMA

__all__ = ["is_trace", "check_can_write"]


def is_trace(path):
    """True when ``path`` is a trace folder or a packed trace, recognised by its own metadata.

    Never raises: a missing path, a damaged ``zarr.json`` or a foreign store is
    simply not (recognisably) a trace.
    """
    path = Path(path)
    try:
        if path.is_dir():
            text = (path / "zarr.json").read_bytes()
        elif zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                text = zf.read("zarr.json")
        else:
            return False
        meta = json.loads(text)
        return meta.get("node_type") == "group" and meta.get("attributes", {}).get("schema") == SCHEMA
    except (OSError, KeyError, ValueError, AttributeError, zipfile.BadZipFile, EOFError):
        return False


def check_can_write(path, overwrite, replace=False):
    """Check that a trace can be written at ``path`` (the rule of :func:`explainer.outputs.check_trace_out`:
    a new path, or with ``overwrite`` an existing trace, never anything else); with ``replace``, remove
    the old trace there."""
    path = check_trace_out(path, "path", overwrite=overwrite)
    if replace and (path.exists() or path.is_symlink()):
        shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
