"""Where landscapes are kept between runs: beside the trace, checked before they are trusted.

A landscape takes seconds to compute and milliseconds to read, so
:mod:`explainer.landscape` keeps each one in a ``.npz`` file in a folder beside
its trace: ``runs/digits.zarr`` -> ``runs/digits.zarr.landscapes/``. A file is
named for what it holds (``landscape-step1199-pca-41x41-train-<key>.npz``) and
its header holds the whole key it was computed for: the trace's identity (its
run's settings, its snapshot steps, and a SHA-256 of the snapshot's and the
last snapshot's weights and of every step's loss), the step, the directions,
the resolution and the digits, with a SHA-256 of every array.

Rules:

* a file is used only if its key is the one asked for and every array's
  checksum matches: a stale or damaged file is computed again (and replaced);
* a file is written atomically: a temporary file in the same folder, renamed
  into place, so a reader never sees half a file;
* if the trace's folder cannot be written (a packed trace on a read-only
  place), the file goes to ``<cache>/landscapes/`` (``~/.cache/explainer``, or
  ``$EXPLAINER_CACHE``) and a warning says so; if that fails too, the result is
  returned uncached, with a warning: a long computation is never lost to a
  failed write;
* nothing is ever deleted but this module's own temporary files.
"""

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

__all__ = ["CacheEntry", "cached", "trace_identity", "FORMAT", "VERSION"]

FORMAT = "explainer-landscape"
VERSION = 1


def trace_identity(trace, step):
    """What a landscape of ``trace`` at ``step`` depends on, read through the reader (JSON-able)."""
    from .landscape import flatten

    last = int(trace.snapshot_steps[-1])
    digest = hashlib.sha256()
    for s in dict.fromkeys([int(step), last]):
        digest.update(np.ascontiguousarray(flatten(trace.weights(s, exact=True))).tobytes())
    digest.update(np.ascontiguousarray(trace.scalars["loss"]).tobytes())
    return {"run": trace.run.to_dict(), "status": trace.status, "n_steps": int(trace.n_steps),
            "snapshots": [int(s) for s in trace.snapshot_steps], "sha256": digest.hexdigest()}


def cached(trace, step, kind, tag, settings, use_cache=True, folder=".landscapes"):
    """The cache entry for ``kind`` (``"landscape"``, ``"slice"``, ``"spread"``) of ``trace`` at ``step`` with
    ``settings``, in the folder beside the trace named by ``folder`` (``runs/a.zarr`` -> ``runs/a.zarr<folder>``)."""
    key = {"format": FORMAT, "version": VERSION, "kind": kind, "step": int(step), **settings,
           "trace": trace_identity(trace, step) if use_cache else None}
    text = json.dumps(key, sort_keys=True)
    name = f"{kind}-step{int(step)}-{tag}-{hashlib.sha256(text.encode()).hexdigest()[:16]}.npz"
    beside = trace.path.with_name(trace.path.name + folder)
    from .data import cache_dir

    elsewhere = cache_dir(create=False) / folder.lstrip(".")
    places = [beside / name, elsewhere / f"{trace.path.name}-{name}"]
    return CacheEntry(places if use_cache else [], text)


class CacheEntry:
    """One cached result: :meth:`read` it (None if absent, stale or damaged), :meth:`write` it."""

    def __init__(self, places, key):
        self.places, self.key = places, key
        self.path = places[0] if places else None
        self.note = ""
        self._problems = []

    def read(self):
        """The fields stored for this key (arrays and numbers), or None; a file that is there but stale or
        damaged is noted, to be replaced."""
        for path in self.places:
            if not path.is_file():
                continue
            try:
                fields = _load(path, self.key)
            except Exception as e:  # whatever is wrong with the file, it is not trusted
                self._problems.append(f"{path} was stale or damaged ({_one_line(e)})")
                continue
            self.path, self.note = path, f"read from {path}"
            return fields
        return None

    def write(self, fields):
        """Store ``fields``; returns ``(path or None, what was done, in words)``. Never raises for a failed
        write: the result is then returned uncached, with a warning."""
        done = f"computed in {fields.get('seconds', 0):.1f} s"
        if self._problems:
            done += "; " + "; ".join(self._problems) + ": computed again"
        if not self.places:
            return None, done + " (not cached)"
        failures = []
        for path in self.places:
            try:
                _save(path, self.key, fields)
            except OSError as e:
                failures.append(f"{path.parent} cannot be written ({_one_line(e)})")
                continue
            note = f"{done}, cached in {path}"
            if failures:
                note = f"{done}; {failures[0]}, so cached in {path}"
                warnings.warn(note, stacklevel=4)
            self.path, self.note = path, note
            return path, note
        note = f"{done}, not cached: {'; '.join(failures)}"
        warnings.warn(note, stacklevel=4)
        self.path, self.note = None, note
        return None, note


def _save(path, key, fields):
    """Write ``fields`` to ``path`` atomically: a temporary file beside it, renamed into place."""
    arrays = {name: np.ascontiguousarray(value) for name, value in fields.items() if isinstance(value, np.ndarray)}
    values = {name: _plain(value) for name, value in fields.items() if name not in arrays}
    header = {"format": FORMAT, "version": VERSION, "key": key, "values": values,
              "arrays": {name: _describe(a) for name, a in arrays.items()}}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, header=np.array(json.dumps(header)), **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)  # our own temporary file, never anything else
        raise


def _load(path, key):
    """The fields in ``path``, if it holds exactly ``key`` and every array is the one written."""
    with np.load(path, allow_pickle=False) as f:
        header = json.loads(str(f["header"]))
        if header.get("format") != FORMAT or header.get("version") != VERSION:
            raise ValueError(f"not a landscape of format {FORMAT} version {VERSION}")
        if header.get("key") != key:
            raise ValueError("computed for another trace, step or setting")
        fields = dict(header["values"])
        for name, described in header["arrays"].items():
            array = f[name]
            if _describe(array) != described:
                raise ValueError(f"its array {name!r} is not the one written")
            fields[name] = array
    return fields


def _describe(array):
    """An array's dtype, shape and SHA-256, to check it by."""
    return {"dtype": array.dtype.str, "shape": list(array.shape),
            "sha256": hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()}


def _plain(value):
    """A number or string as plain JSON."""
    if isinstance(value, (np.integer, int)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value)
    if isinstance(value, str):
        return value
    raise TypeError(f"cannot cache {value!r}")


def _one_line(error):
    return " ".join(str(error).split()) or type(error).__name__
