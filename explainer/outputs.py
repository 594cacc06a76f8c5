"""Where a command writes, checked before its long work starts.

A run that cannot save what it made should say so in its first second, not
after an hour of training; and nothing the user made is ever deleted or
overwritten. The rule, for every output:

- a **trace** (``explainer train --out``, the demo's trace): a new path, or
  with ``overwrite`` (``--force``) an existing *trace*, recognised by its own
  metadata (:func:`explainer.trace.is_trace`); never anything else;
- a **file** (``--save``, ``explainer pack --out``): a new path, or with
  ``overwrite`` an existing file of the same kind (a saved network, a packed
  trace); never a folder or another file;
- a **folder of outputs** (``plot --out``, ``render --media-dir``): new or
  existing; the command writes only its own files into it.

In each case the folder the output goes in must be a folder, and one that can
be written: that is tried (a folder made and removed at once), since
permissions alone do not tell (root, read-only disks, ``/proc``). ``name`` is
what the output is called in the message: ``"--out"`` on the command line.
"""

import tempfile
from pathlib import Path

from .errors import OutputError

__all__ = ["check_trace_out", "check_file_out", "check_folder_out"]


def check_trace_out(path, name="path", *, overwrite=False):
    """Check that a trace can be recorded at ``path`` (replacing only a trace, with ``overwrite``)."""
    from .trace import is_trace  # here: explainer.trace imports the modules that use this one

    path = Path(path)
    if path.exists() or path.is_symlink():
        if not is_trace(path):
            raise FileExistsError(f"{name} {path} already exists and is not a trace: choose another path "
                                  "(--force replaces only a trace, never other files or folders)")
        if not overwrite:
            raise FileExistsError(f"{name} {path} already holds a trace: choose another path, or add --force "
                                  "to replace it")
    _check_can_make(path, name)
    return path


def check_file_out(path, name, *, overwrite=False, kind, is_kind, example):
    """Check that a file of ``kind`` (``is_kind(path)`` tells one) can be written at ``path``.

    ``example`` is a file name to suggest when ``path`` is a folder.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{name} {path} is a folder: name a file in it, like {path / example}")
    if path.exists() or path.is_symlink():
        if not is_kind(path):
            raise FileExistsError(f"{name} {path} already exists and is not a {kind}: choose another name "
                                  f"(--force replaces only a {kind})")
        if not overwrite:
            raise FileExistsError(f"{name} {path} already holds a {kind}: choose another name, or add --force "
                                  "to replace it")
    _check_can_make(path, name)
    return path


def check_folder_out(path, name):
    """Check that ``path`` is a folder, or can be made one, and can be written in."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise FileExistsError(f"{name} {path} is a file, not a folder: name a folder (it is made if missing)")
    _check_can_make(path / "x", name, shown=path)
    return path


def _check_can_make(path, name, shown=None):
    """The nearest existing folder above ``path`` is a folder that can be written in."""
    shown = path if shown is None else shown
    folder = path.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(f"{name} {shown}: {folder} is a file, not a folder; choose a path in a folder")
    try:
        Path(tempfile.mkdtemp(prefix=".explainer-can-write-", dir=folder)).rmdir()
    except OSError as e:
        raise OutputError(f"{name} {shown}: cannot write in {folder} ({e.strerror or e}); choose a folder you "
                          "can write in") from None
