"""Writing a trace where something already is: only a trace may be replaced.

``explainer train --out DIR --force`` replaces an earlier trace at ``DIR``. It
must never delete anything else: a folder holding a thesis is not a trace, and
neither is a folder whose trace metadata cannot be read (then the user decides).
A trace is recognised by its own metadata: a ``zarr.json`` at its root whose
attributes name the ``explainer-trace`` schema.
"""

import json
import os
import shutil
import zipfile
from pathlib import Path

from ..errors import OutputError
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
    """Check that a trace can be written at ``path``; with ``replace``, remove the old trace there.

    Raises ``FileExistsError`` when something is there and ``overwrite`` is
    false, or when what is there is not a trace; :class:`~explainer.errors.OutputError`
    when the folder it goes in cannot be made or written.
    """
    path = Path(path)
    if path.exists() or path.is_symlink():
        if not overwrite:
            raise FileExistsError(f"a file or folder already exists at {path}: choose another path, or "
                                  "pass overwrite=True (--force on the command line) to replace the trace there")
        if not is_trace(path):
            raise FileExistsError(f"refusing to replace {path}: it is not a trace (no explainer trace metadata "
                                  "in it), and only a trace is ever replaced; choose another path, or move it "
                                  "away yourself")
        if replace:
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
        return
    parent = _existing_parent(path)
    if not parent.is_dir():
        raise OutputError(f"cannot write a trace at {path}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write a trace at {path}: the folder {parent} is not writable; "
                              "choose a path you may write to")


def _existing_parent(path):
    """The nearest ancestor of ``path`` that exists (the folder it would be made in)."""
    for parent in Path(os.path.abspath(path)).parents:
        if parent.exists():
            return parent
    return Path("/")
