"""The bytes of a trace on disk, checked before anything is believed.

A trace is a folder or a zip of one (:mod:`explainer.trace.pack`). This module
opens either, lists the files it holds, reads the checksum each chunk ends
with, and checks what Zarr would otherwise take on trust:

- the root attributes against their ``digest`` (:func:`seal`, :func:`check_seal`);
- each array's metadata against the layout the run's settings imply
  (:func:`check_array`);
- each committed chunk: present, and ending with the checksum the root's
  ``checksums`` names for it (:meth:`Files.check_chunks`); Zarr's ``crc32c``
  codec then checks the chunk's bytes against that checksum when it is read.

Everything that goes wrong becomes one :class:`~explainer.trace.run.TraceError`.
"""

import hashlib
import json
import os
import zipfile
from pathlib import Path

import google_crc32c
import numpy as np
import zarr

from .run import TraceError

__all__ = ["Files", "seal", "check_seal", "check_array", "chunk_key", "open_root", "rows_digest", "ROOT_FILE"]

ROOT_FILE = "zarr.json"
TAIL = 4  # bytes of the CRC32C checksum at the end of every chunk


def seal(attrs):
    """``attrs`` with its ``digest``: a SHA-256 of everything else in it."""
    body = {key: value for key, value in attrs.items() if key != "digest"}
    return {**body, "digest": _digest(body)}


def check_seal(attrs, path):
    """Raise :class:`TraceError` unless ``attrs`` is exactly as its writer sealed it."""
    body = {key: value for key, value in attrs.items() if key != "digest"}
    if attrs.get("digest") != _digest(body):
        raise TraceError(f"{path} is a damaged trace: its metadata (zarr.json) was changed after it was "
                         "written (its digest does not match); record it again")


def _digest(body):
    return hashlib.sha256(json.dumps(body, sort_keys=True, allow_nan=True).encode()).hexdigest()


def rows_digest(values, crc=0):
    """The CRC32C of rows as they are stored (little-endian, row after row), continuing from ``crc``.

    The writer keeps one for the rows written so far into each array's last
    chunk (the root's ``edges``), so that the rows of a chunk a killed run
    rewrote after its last commit can still be checked.
    """
    values = np.ascontiguousarray(values)
    return google_crc32c.extend(crc, values.astype(values.dtype.newbyteorder("<"), copy=False).tobytes())


def chunk_key(key, index, ndim):
    """The file of chunk ``index`` (along the first axis) of array ``key``: ``steps/scalars/c/0/0``."""
    return f"{key}/c/{index}" + "/0" * (ndim - 1)


class Files:
    """The files of a trace, in a folder or a zip: their names, and the tails of chunks."""

    def __init__(self, path):
        self.path = Path(path)
        self.packed = self.path.is_file()
        self._zip = None
        if self.packed:
            try:
                self._zip = zipfile.ZipFile(self.path)
                self._members = {info.filename: info for info in self._zip.infolist()}
            except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
                raise TraceError(f"{path} cannot be read as a packed trace ({type(e).__name__}: {e}); it is "
                                 "damaged or not a trace: pack or copy it again") from None
        self._names = None

    @property
    def names(self):
        """Every file's path inside the trace (``steps/scalars/c/0/0``), listed once."""
        if self._names is None:
            if self.packed:
                self._names = set(self._members)
            else:
                names, root = set(), os.fspath(self.path)
                for folder, _, files in os.walk(root):
                    relative = os.path.relpath(folder, root).replace(os.sep, "/")
                    prefix = "" if relative == "." else relative + "/"
                    names.update(prefix + name for name in files)
                self._names = names
        return self._names

    def read(self, name):
        """A whole (small) file's bytes."""
        if self.packed:
            return self._zip.read(self._members[name])
        return (self.path / name).read_bytes()

    def tail(self, name):
        """The last 4 bytes of a file: a chunk's CRC32C checksum, as 8 hex digits."""
        try:
            if self.packed:
                info = self._members[name]
                with self._zip.open(info) as f:
                    if info.file_size < TAIL:
                        return None
                    f.seek(info.file_size - TAIL)
                    data = f.read(TAIL)
            else:
                with open(self.path / name, "rb") as f:
                    f.seek(0, os.SEEK_END)
                    if f.tell() < TAIL:
                        return None
                    f.seek(-TAIL, os.SEEK_END)
                    data = f.read(TAIL)
        except (OSError, KeyError, zipfile.BadZipFile, ValueError, EOFError):
            return None
        return data.hex() if len(data) == TAIL else None

    def check_chunks(self, key, rows, spec, checksums, loose=False):
        """Check that the chunks holding the first ``rows`` rows of ``key`` are there and in place.

        Each must end with the checksum ``checksums`` names for it. With
        ``loose`` (a run killed mid-flush), the chunk holding the last committed
        rows may have been rewritten after the last commit (with rows that were
        never committed): then this returns True, and the caller checks those
        rows' contents against their digest (:func:`rows_digest`) instead.
        """
        if rows == 0:
            return False
        n = -(-rows // spec.chunks[0]) if spec.shape else 1  # chunks holding committed rows
        expected = checksums.get(key) if isinstance(checksums, dict) else None
        if not isinstance(expected, list) or len(expected) < n:
            raise TraceError(f"{self.path} is a damaged trace: its metadata lists no checksum for every committed "
                             f"chunk of '{key}'; record it again")
        for index in range(n):
            name = chunk_key(key, index, len(spec.shape))
            if name not in self.names:
                raise TraceError(f"{self.path} is a truncated or damaged trace: chunk {index} of '{key}' "
                                 f"({name}) is missing (was it copied incompletely?); copy or record it again")
            if self.tail(name) == expected[index]:
                continue
            if loose and index == n - 1 and rows % spec.chunks[0] != 0:
                return True
            raise TraceError(f"{self.path} is a damaged trace: chunk {index} of '{key}' ({name}) is not the one "
                             "that was written there (its checksum differs); copy or record it again")
        return False

    def store(self):
        """A read-only Zarr store over these files."""
        if self.packed:
            return zarr.storage.ZipStore(self.path, mode="r")
        return zarr.storage.LocalStore(self.path, read_only=True)

    def close(self):
        if self._zip is not None:
            self._zip.close()


def open_root(files):
    """The trace's root Zarr group, read-only; :class:`TraceError` if it cannot be read."""
    path = files.path
    if ROOT_FILE not in files.names:
        raise TraceError(f"{path} is not a trace (no Zarr group there): record one with "
                         "`explainer train --out PATH`")
    try:
        return zarr.open_group(files.store(), mode="r", zarr_format=3)
    except Exception as e:  # a truncated zip, a mangled zarr.json, non-UTF-8 bytes, a wrong type ...
        raise TraceError(f"{path} cannot be read as a trace ({type(e).__name__}: {_short(e)}); it is damaged or "
                         "not a trace: record it again") from None


def check_array(files, key, spec):
    """Check the metadata of the array ``key`` (its ``zarr.json``) against ``spec``, before Zarr reads it."""
    path, name = files.path, f"{key}/zarr.json"
    if name not in files.names:
        raise TraceError(f"{path} is a damaged trace: the array '{key}' is missing; record it again")
    try:
        meta = json.loads(files.read(name))
        found = {"node_type": meta["node_type"], "zarr_format": meta["zarr_format"], "shape": meta["shape"],
                 "chunks": meta["chunk_grid"]["configuration"]["chunk_shape"], "dtype": meta["data_type"],
                 "codecs": meta["codecs"], "fill_value": meta["fill_value"],
                 "chunk_key_encoding": meta["chunk_key_encoding"],
                 "storage_transformers": meta.get("storage_transformers", [])}
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as e:
        raise TraceError(f"{path} is a damaged trace: the metadata of '{key}' cannot be read "
                         f"({type(e).__name__}: {_short(e)}); record it again") from None
    wanted = {"node_type": "array", "zarr_format": 3, "shape": spec.shape, "chunks": spec.chunks, "dtype": spec.dtype,
              "codecs": spec.codecs, "fill_value": 0,
              "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
              "storage_transformers": []}
    if _plain(found) == _plain(wanted):
        return
    for field, value in wanted.items():
        if _plain(found[field]) != _plain(value):
            raise TraceError(f"{path} is a damaged trace: '{key}' has {field} {_plain(found[field])}, where the "
                             f"run's settings give {_plain(value)}; record it again")


def _plain(value):
    """Metadata as plain JSON values, so that (3,) equals [3] and 0.0 equals 0."""
    return json.loads(json.dumps(value, default=str))


def _short(e, limit=160):
    text = " ".join(str(e).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
