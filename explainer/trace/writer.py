"""The recorder's private writer: the Zarr arrays, the buffers, the thread and the commits.

:class:`~explainer.trace.recorder.TraceRecorder` decides *what* is recorded;
this module decides how it reaches the disk, so that the recorder stays a page
a student can read.

Training does not wait for the disk: a hand-over gives the new rows (and the
commit that follows them) to one writer thread and training goes on. One
thread, so writes and commits land in the order they were made; a write that
fails stops the commits after it and raises in the training thread at the next
hand-over. Snapshots are gathered in one of two buffers while the other is
being written.

A commit writes the root attributes once, sealed (:func:`explainer.trace.store.seal`):
the new ``committed`` counts, the checksum each chunk now ends with, and the
status. Zarr writes every file atomically, so a run killed at any moment leaves
a trace that opens with everything up to its last commit.
"""

from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np
import zarr
from zarr.codecs import BytesCodec, Crc32cCodec, ZstdCodec

from .schema import COMMITTED_BY, SNAPSHOT_CHUNK
from .store import Files, chunk_key, rows_digest, seal

__all__ = ["TraceWriter"]

SNAPSHOT_ARRAYS = ("step", "loss", "params", "grads", "probe", "maps")  # snapshots/<name> (maps: a CNN's only)


class TraceWriter:
    """Make a trace's arrays at ``path`` and write rows into them, committing as it goes.

    ``attrs`` are the root attributes (without ``committed``, ``checksums`` and
    ``digest``, which the writer keeps); ``specs`` the layout
    (:func:`explainer.trace.schema.layout`); ``data`` the arrays written once,
    at the start (the probe set).
    """

    def __init__(self, path, attrs, specs, data):
        self.path = path
        self.committed = {"steps": 0, "snapshots": 0, "epochs": 0}
        self._written = dict(self.committed)  # rows handed to the writer, committed or not yet
        self._attrs = {**attrs, "committed": dict(self.committed), "checksums": {}, "edges": {}}
        self._edges = {}  # array -> [its last chunk, rows written in it, their digest]: see store.rows_digest
        # the group is made with its attributes, so that even a run killed now leaves a
        # folder recognisable as a trace (one that says it is damaged, and may be replaced)
        self.root = zarr.open_group(path, mode="w-", zarr_format=3, attributes=seal(self._attrs))
        self.arrays = {key: _create(self.root, key, spec) for key, spec in specs.items()}
        for key, values in data.items():
            self.arrays[key][...] = values
        self._touched = {key: {0} for key in data}
        self._commit(self.committed)
        self._snapshots = {name: self.arrays[f"snapshots/{name}"] for name in SNAPSHOT_ARRAYS
                           if f"snapshots/{name}" in self.arrays}
        # snapshots not yet written wait in one buffer, rows of the arrays above
        self._buffer, self._spare = ({name: np.zeros((SNAPSHOT_CHUNK, *array.shape[1:]), dtype=array.dtype)
                                      for name, array in self._snapshots.items()} for _ in range(2))
        self.n_snapshots = 0  # snapshots waiting in the buffer
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="trace-writer")
        self._in_flight = []  # futures of what the thread has not yet written and committed
        self._spare_write = None  # the future of the last write from the spare buffer
        self.failed = False  # a write failed: the thread commits nothing after it

    # -- what the recorder hands over ------------------------------------------

    def snapshot_row(self):
        """Where the next snapshot is written: ``(buffer, j)``, row ``j`` of ``buffer[name]``."""
        return self._buffer, self.n_snapshots

    def snapshot_taken(self):
        """The row from :meth:`snapshot_row` is filled; a full chunk is handed over at once."""
        self.n_snapshots += 1
        if (self._written["snapshots"] + self.n_snapshots) % SNAPSHOT_CHUNK == 0:
            self.hand_over()

    def hand_over(self, steps=None, epochs=None):
        """Give the pending snapshots and these rows (``{array: values}``, ``(n, 7)``) to the writer thread."""
        if not (self.n_snapshots or steps or epochs is not None and len(epochs)):
            return
        counts, writes = dict(self._written), []  # (array key, rows, values)
        if steps:
            start = counts["steps"]
            n = len(next(iter(steps.values())))
            writes += [(key, slice(start, start + n), values) for key, values in steps.items()]
            counts["steps"] = start + n
        if epochs is not None and len(epochs):
            start = counts["epochs"]
            writes.append(("epochs/metrics", slice(start, start + len(epochs)), epochs))
            counts["epochs"] = start + len(epochs)
        snapshots = bool(self.n_snapshots)
        if snapshots:
            start, n = counts["snapshots"], self.n_snapshots
            writes += [(f"snapshots/{name}", slice(start, start + n), self._buffer[name][:n])
                       for name in self._snapshots]
            counts["snapshots"] = start + n
            self.n_snapshots = 0
            # the next snapshots go to the spare buffer while these rows are written,
            # once its own last write is done (a failed write raises below)
            if self._spare_write is not None:
                wait([self._spare_write])
            self._buffer, self._spare = self._spare, self._buffer
        self._written = counts
        future = self._thread.submit(self._write_and_commit, writes, counts)
        if snapshots:  # written from what is now the spare buffer
            self._spare_write = future
        pending = []
        for earlier in self._in_flight:
            if earlier.done():
                earlier.result()  # a write that failed raises here, in the training thread
            else:
                pending.append(earlier)
        self._in_flight = [*pending, future]

    def wait(self):
        """Wait for everything handed over; raise the first write that failed."""
        in_flight, self._in_flight = self._in_flight, []
        for future in in_flight:
            future.result()

    def write_now(self, writes, counts):
        """Write ``(key, rows, values)`` triples and commit ``counts``, on this thread (to copy a trace)."""
        self.wait()
        self._write_and_commit(writes, counts)
        self._written = dict(counts)

    def finish(self, arrays, evaluation, specs):
        """Write the final evaluation (``arrays`` by key, their ``specs``) and mark the run complete."""
        self.wait()
        self.arrays.update({key: _create(self.root, key, spec) for key, spec in specs.items()})
        for key, values in arrays.items():
            self.arrays[key][...] = values
            self._touched[key] = {0}
        self._attrs.update(evaluation=evaluation, status="complete")
        self._commit(self.committed)

    def close(self, status):
        """Stop the thread; unless the run completed, mark it with ``status`` (a final commit)."""
        try:
            if not self.failed:
                self.wait()
        finally:
            self._thread.shutdown()
        if self._attrs["status"] == "complete":
            return
        # a write that failed may have replaced the chunk holding the first uncommitted
        # rows (its committed rows intact: Zarr replaces files whole): take their checksums anew
        for group, keys in COMMITTED_BY.items():
            for key in filter(self.arrays.__contains__, keys):
                per_chunk, rows = self.arrays[key].chunks[0], self.committed[group]
                if rows % per_chunk:
                    self._touched.setdefault(key, set()).add(rows // per_chunk)
        self._attrs["status"] = status
        self._commit(self.committed)

    # -- on the writer thread ----------------------------------------------------

    def _write_and_commit(self, writes, counts):
        """Write, then commit (nothing more once a write has failed)."""
        if self.failed:
            return
        try:
            write_rows(self.arrays, writes)
            for key, rows, values in writes:
                per_chunk = self.arrays[key].chunks[0]
                self._touched.setdefault(key, set()).update(range(rows.start // per_chunk,
                                                                  (rows.stop - 1) // per_chunk + 1))
                self._extend_edge(key, rows, values)
            self._commit(counts)
        except BaseException:
            self.failed = True
            raise

    def _extend_edge(self, key, rows, values):
        """Add rows just written to the digest of the rows in their array's last chunk."""
        array = self.arrays[key]
        per_chunk, values = array.chunks[0], np.asarray(values, dtype=array.dtype)
        start = rows.start
        while start < rows.stop:
            index = start // per_chunk
            stop = min(rows.stop, (index + 1) * per_chunk)
            edge = self._edges.get(key)
            if edge is None or edge[0] != index:  # a new chunk begins
                edge = self._edges[key] = [index, 0, 0]
            edge[1] += stop - start
            edge[2] = rows_digest(values[start - rows.start : stop - rows.start], edge[2])
            start = stop

    def _commit(self, counts):
        """Raise ``committed`` to ``counts``, with the checksums of the chunks written since the last commit."""
        files = Files(self.path)
        checksums = self._attrs["checksums"]
        for key, indices in self._touched.items():
            tails = checksums.setdefault(key, [])
            for index in sorted(indices):
                tail = files.tail(chunk_key(key, index, self.arrays[key].ndim))
                tails.extend([None] * (index + 1 - len(tails)))
                tails[index] = tail
        self._touched = {}
        self._attrs["committed"] = dict(counts)
        self._attrs["edges"] = {key: [index, n, f"{crc:08x}"] for key, (index, n, crc) in self._edges.items()}
        # commit last: readers trust only what `committed` covers
        self.root.attrs.put(seal(self._attrs))
        self.committed = dict(counts)


def write_rows(arrays, writes):
    """Write ``(key, rows, values)`` triples, one after the other (Zarr's public API)."""
    for key, rows, values in writes:
        arrays[key][rows] = values


def _create(root, key, spec):
    """Make an empty array of ``spec`` (every chunk is written, even an all-zero one, so that
    the reader can tell a missing chunk file from a chunk of zeros)."""
    return root.create_array(
        key, shape=spec.shape, chunks=spec.chunks, dtype=spec.dtype, fill_value=0,
        serializer=BytesCodec(endian="little"),
        compressors=([ZstdCodec(level=0)] if spec.compressed else []) + [Crc32cCodec()],
        filters=None, chunk_key_encoding={"name": "default", "separator": "/"},
        attributes=spec.attributes or {}, config={"write_empty_chunks": True})

