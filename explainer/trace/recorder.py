"""The trace recorder: what ``fit`` sees happen, written to a Zarr v3 store.

::

    with TraceRecorder("runs/digits.zarr") as recorder:
        fit(net, data, config, recorder=recorder)

What the recorder is given is kept in memory for a while (at most
``flush_every`` steps of numbers and ``SNAPSHOT_CHUNK`` snapshots, so memory
stays bounded however long the run) and then flushed: every ``flush_seconds``
of training, whenever those buffers fill, and at the end. Few large writes
cost far less than many small ones: Zarr's overhead is per array and per
write, about a millisecond each, so a snapshot is three arrays (see
:mod:`explainer.trace.schema`) and a flush hands all its writes to Zarr at
once. A flush writes the new rows and then raises the group's ``committed``
counts; Zarr writes every file atomically, so a run killed at any moment
leaves a trace that opens with everything up to its last commit.

Training does not wait for the disk: a flush during the run hands its rows
(and the commit that follows them) to a writer thread and training goes on.
One thread, so writes and commits land in the order they were made; a write
that fails stops the commits after it and raises in the training thread at
the next flush. Snapshots are gathered in one of two buffers while the other
is being written. :meth:`TraceRecorder.flush`, called by hand, and the end of
the run wait until everything is on disk.
"""

import asyncio
import shutil
import time
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import numpy as np
import zarr
from zarr.core.sync import sync

from .. import __version__
from ..data import choose_probe
from .schedule import DEFAULT_SCHEDULE, snapshot_steps
from .schema import (
    EPOCH_FIELDS,
    SCHEMA,
    SCHEMA_VERSION,
    SNAPSHOT_PROBE,
    STEP_PER_LAYER,
    STEP_SCALARS,
    parameter_slices,
    unit_slices,
)

__all__ = ["TraceRecorder"]

STEP_CHUNK = 4096  # rows of per-step scalars per chunk

SNAPSHOT_CHUNK = 8  # snapshots per chunk, and per flush

NON_NEGATIVE = {"relu", "sigmoid", "softmax"}  # activations whose a is never below 0


class TraceRecorder:
    """Record a training run into a trace folder.

    Parameters
    ----------
    path : str or Path
        The trace folder to create (``.zarr`` by convention).
    schedule : str
        When to take full snapshots; see :mod:`explainer.trace.schedule`.
    n_probe : int
        Size of the probe set, drawn from the validation set with the run's
        seed and covering every class.
    flush_seconds : float
        Flush at least this often (wall-clock seconds): what a crash can lose.
    flush_every : int
        Flush at least every this many steps.
    overwrite : bool
        Replace an existing trace at ``path``; otherwise refuse to.
    """

    def __init__(self, path, *, schedule=DEFAULT_SCHEDULE, n_probe=30, flush_seconds=5.0, flush_every=4096,
                 overwrite=False):
        self.path = Path(path)
        if self.path.exists() and not overwrite:
            raise FileExistsError(
                f"a file or folder already exists at {self.path}: choose another path, or "
                "pass overwrite=True (--force on the command line) to replace it"
            )
        snapshot_steps(schedule, 1, 1)  # validates the schedule string now, not mid-run
        if not (isinstance(n_probe, int) and n_probe >= 1):
            raise ValueError(f"n_probe must be a whole number >= 1; got {n_probe!r}")
        self.schedule, self.n_probe = schedule, n_probe
        self.flush_seconds, self.flush_every = flush_seconds, flush_every
        self.overwrite = overwrite
        self._rows = []  # per-step numbers not yet flushed, raw (see record_step)
        self._n_snaps = 0  # snapshots not yet flushed
        self._epochs = []  # epoch metrics not yet flushed
        self.root = None
        self._closed = False
        self._last_flush = time.monotonic()
        self.committed = {"steps": 0, "snapshots": 0, "epochs": 0}
        self._written = dict(self.committed)  # rows handed to Zarr, committed or not yet

    # -- the Recorder protocol (called by fit) -------------------------------

    def start(self, *, config, net, data, total_steps, steps_per_epoch):
        self.steps = snapshot_steps(self.schedule, total_steps, steps_per_epoch)
        self._wanted = set(self.steps.tolist())
        index = choose_probe(data.X_val, data.y_val, self.n_probe, seed=net.seed)
        self.probe_x = np.ascontiguousarray(data.X_val[index], dtype=net.dtype)  # (n_probe, n_in)
        self.probe_labels = np.asarray(data.y_val[index])
        if self.overwrite and self.path.exists():
            shutil.rmtree(self.path) if self.path.is_dir() else self.path.unlink()
        n_layers, shapes = len(net.layers), [layer.W.shape for layer in net.layers]
        self.root = zarr.open_group(
            self.path, mode="w-", zarr_format=3, attributes={
                "schema": SCHEMA,
                "schema_version": SCHEMA_VERSION,
                "explainer_version": __version__,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "config": {**config, "recording": {"schedule": self.schedule, "n_probe": self.n_probe}},
                "image_shape": list(data.image_shape),
                "sizes": list(net.sizes),
                "layers": [{"activation": layer.activation.name, "shape": list(layer.W.shape)} for layer in net.layers],
                "total_steps": int(total_steps),
                "steps_per_epoch": int(steps_per_epoch),
                "planned_snapshots": self.steps.tolist(),
                "status": "running",
                "committed": dict(self.committed),
            },
        )
        # Arrays are made now, at their planned size; `committed` says how much is real.
        n_snap, n_probe = len(self.steps), len(self.probe_x)
        self._param_slices, self._unit_slices = parameter_slices(shapes), unit_slices(shapes)
        n_params, n_units = self._param_slices[-1][1].stop, self._unit_slices[-1].stop

        def parts(W, b):  # what sits where in a row of params or grads, for readers of the raw store
            return [{"name": f"layer{i}/{name}", "shape": list(shape), "start": part.start}
                    for i, ((n_out, n_in), (w, b_)) in enumerate(zip(shapes, self._param_slices))
                    for name, shape, part in ((W, (n_out, n_in), w), (b, (n_out,), b_))]

        specs = {  # path -> (shape, chunks, dtype, options)
            "probe/x": self.probe_x, "probe/labels": self.probe_labels, "probe/index": np.asarray(index),
            "snapshots/step": ((n_snap,), (max(n_snap, 1),), "int64", {"compressors": None}),
            "snapshots/loss": ((n_snap,), (max(n_snap, 1),), "float32", {"compressors": None}),
            # trained weights are float noise to a compressor: zstd saved 8% of their size
            # and made writing 7x and reading 5x slower, so they are stored raw
            "snapshots/params": ((n_snap, n_params), (SNAPSHOT_CHUNK, n_params), net.dtype,
                                 {"compressors": None, "attributes": {"parts": parts("W", "b")}}),
            "snapshots/grads": ((n_snap, n_params), (SNAPSHOT_CHUNK, n_params), net.dtype,
                                {"compressors": None, "attributes": {"parts": parts("dW", "db")}}),
            "snapshots/probe": ((n_snap, len(SNAPSHOT_PROBE), n_probe, n_units),
                                (SNAPSHOT_CHUNK, len(SNAPSHOT_PROBE), n_probe, n_units), net.dtype,
                                {"attributes": {"axis1": list(SNAPSHOT_PROBE),
                                                "units": [[u.start, u.stop] for u in self._unit_slices]}}),
        }
        # the small tables are stored raw: compressing them saves little and costs time at every write
        n_epochs, raw = max(1, total_steps // steps_per_epoch), {"compressors": None}
        specs["steps/scalars"] = ((total_steps, len(STEP_SCALARS)), (STEP_CHUNK, len(STEP_SCALARS)), "float32",
                                  {**raw, "attributes": {"columns": list(STEP_SCALARS)}})
        specs["steps/layers"] = ((total_steps, len(STEP_PER_LAYER), n_layers),
                                 (STEP_CHUNK, len(STEP_PER_LAYER), n_layers), "float32",
                                 {**raw, "attributes": {"axis1": list(STEP_PER_LAYER)}})
        specs["epochs/metrics"] = ((n_epochs, len(EPOCH_FIELDS)), (n_epochs, len(EPOCH_FIELDS)), "float64",
                                   {**raw, "attributes": {"columns": list(EPOCH_FIELDS)}})
        # A handle on each array is kept: looking one up re-reads its metadata from disk.
        made = _create_arrays(self.root, specs)
        self._steps = {name: made[f"steps/{name}"] for name in ("scalars", "layers")}
        self._snap_arrays = {name: made[f"snapshots/{name}"] for name in ("step", "loss", "params", "grads", "probe")}
        self._epoch_metrics = made["epochs/metrics"]
        # snapshots not yet written wait in this buffer, rows of the arrays above
        self._snap_buffer, self._spare_buffer = (
            {name: np.zeros((SNAPSHOT_CHUNK, *array.shape[1:]), dtype=array.dtype)
             for name, array in self._snap_arrays.items()} for _ in range(2))
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="trace-writer")
        self._in_flight = []  # futures of what the writer thread has not yet written and committed
        self._spare_write = None  # the future of the last write from the spare snapshot buffer
        self._failed = False  # a write failed: the writer commits nothing after it
        self._n_snaps = 0  # snapshots waiting in self._snap_buffer
        self._w2 = [np.vdot(layer.W, layer.W) for layer in net.layers]  # ||W_0||^2
        self._n_units = np.array([layer.W.shape[0] for layer in net.layers])
        self._ones = {}  # (batch, dtype) -> a vector of ones, for counting live units

    def wants_snapshot(self, step):
        return step in self._wanted

    def record_snapshot(self, step, net):
        probe = net.inspect(self.probe_x, self.probe_labels)
        j, buffer = self._n_snaps, self._snap_buffer
        buffer["step"][j], buffer["loss"][j] = step, probe.loss
        for layer, (w, b), units, z, a, delta in zip(net.layers, self._param_slices, self._unit_slices,
                                                     probe.z, probe.a, probe.delta):
            buffer["params"][j, w], buffer["params"][j, b] = layer.W.ravel(), layer.b
            buffer["grads"][j, w], buffer["grads"][j, b] = layer.dW.ravel(), layer.db
            for k, values in enumerate((z, a, delta)):  # the order of SNAPSHOT_PROBE
                buffer["probe"][j, k, :, units] = values  # (n_probe, n_out)
        self._n_snaps = j + 1
        if (self._written["snapshots"] + self._n_snaps) % SNAPSHOT_CHUNK == 0:  # a chunk is full:
            self._hand_over(steps=False)  # written on its own

    def record_step(self, step, net, scalars, updates):
        # Every per-step number describes step s: the weights W_s it used (the ones
        # a snapshot at s holds), its gradient, and the update u_s = W_{s+1} - W_s.
        # W already holds W_{s+1}: its squared norm is kept for the next step's row
        # (||W_0||^2 comes from start). This runs every step, so it only gathers raw
        # numbers (vdot: the sum of products over every entry, i.e. a squared norm);
        # square roots and shares are taken for a whole block of rows at the flush.
        row, w2, last = [scalars[name] for name in STEP_SCALARS], self._w2, len(net.layers) - 1
        for i, (layer, u) in enumerate(zip(net.layers, updates[0::2])):
            live = self._alive(layer) if i < last else layer.W.shape[0]  # softmax units never die
            row += w2[i], np.vdot(layer.dW, layer.dW), np.vdot(u, u), live
            w2[i] = np.vdot(layer.W, layer.W)
        self._rows.append(row)
        if len(self._rows) >= self.flush_every or time.monotonic() - self._last_flush > self.flush_seconds:
            self._hand_over()  # written and committed while training goes on

    def _alive(self, layer):
        """How many of the layer's units were not zero for every sample of the batch."""
        a = layer.a  # (batch, n_out)
        if layer.activation.name not in NON_NEGATIVE:
            return np.count_nonzero(a.any(axis=0))
        # with no negative values to cancel, a column is all zeros exactly when it sums
        # to zero; summing is a matrix product, twice as fast as any(axis=0)
        ones = self._ones.get((len(a), a.dtype))
        if ones is None:
            ones = self._ones[len(a), a.dtype] = np.ones(len(a), a.dtype)
        return np.count_nonzero(ones @ a)

    def record_epoch(self, epoch, step, metrics):
        self._epochs.append({"epoch": epoch, "step": step, **metrics})

    def finish(self, evaluation):
        self.flush()
        self.root.create_group("evaluation", attributes={
            "test_loss": float(evaluation["test_loss"]), "test_accuracy": float(evaluation["test_accuracy"])})
        _create_arrays(self.root, {f"evaluation/{name}": np.asarray(evaluation[name])
                               for name in ("confusion", "predicted", "confidence", "labels")})
        self.root.attrs["status"] = "complete"

    def close(self):
        """Flush what is pending; harmless to call twice."""
        if self._closed or self.root is None:
            self._closed = True
            return
        self._closed = True
        try:
            if not self._failed:  # (after a failed write the writer commits nothing more)
                self.flush()
        finally:
            self._writer.shutdown()
        if self.root.attrs.get("status") == "running":
            self.root.attrs["status"] = "interrupted"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- writing ---------------------------------------------------------------

    def flush(self):
        """Write everything pending and commit it; return once it is on disk."""
        self._hand_over()
        self._wait()

    def _hand_over(self, steps=True):
        """Give what is pending (``steps=False``: the snapshots alone) to the writer thread.

        The writer writes it and then raises ``committed``; one thread, so the
        writes and commits land in the order they were handed over.
        """
        if steps:
            self._last_flush = time.monotonic()
        if self.root is None or not (self._n_snaps or steps and (self._rows or self._epochs)):
            return
        counts = dict(self._written)
        writes = []  # (array, rows, values)
        if steps and self._rows:
            start, n = counts["steps"], len(self._rows)
            writes += [(self._steps[name], slice(start, start + n), values)
                       for name, values in self._step_rows().items()]
            counts["steps"] = start + n
            self._rows = []
        if steps and self._epochs:
            epochs, self._epochs = self._epochs, []
            rows = slice(counts["epochs"], counts["epochs"] + len(epochs))
            values = np.array([[e.get(name, np.nan) for name in EPOCH_FIELDS] for e in epochs], dtype=np.float64)
            writes.append((self._epoch_metrics, rows, values))
            counts["epochs"] = rows.stop
        snapshots = bool(self._n_snaps)
        if snapshots:
            start, n = counts["snapshots"], self._n_snaps
            writes += [(array, slice(start, start + n), self._snap_buffer[name][:n])
                       for name, array in self._snap_arrays.items()]
            counts["snapshots"] = start + n
            self._n_snaps = 0
            # the next snapshots go to the spare buffer while these rows are written,
            # once its own last write is done (a failed write raises below)
            if self._spare_write is not None:
                wait([self._spare_write])
            self._snap_buffer, self._spare_buffer = self._spare_buffer, self._snap_buffer
        self._written = counts
        future = self._writer.submit(self._write_and_commit, writes, counts)
        if snapshots:  # written from what is now the spare buffer
            self._spare_write = future
        pending = []
        for earlier in self._in_flight:
            if earlier.done():
                earlier.result()  # a write that failed raises here, in the training thread
            else:
                pending.append(earlier)
        self._in_flight = [*pending, future]

    def _write_and_commit(self, writes, counts):
        """On the writer thread: write, then commit (nothing more once a write has failed)."""
        if self._failed:
            return
        try:
            _write_arrays(writes)
            self._commit(counts)
        except BaseException:
            self._failed = True
            raise

    def _wait(self):
        """Wait for everything handed to the writer thread; raise the first write that failed."""
        in_flight, self._in_flight = self._in_flight, []
        for future in in_flight:
            future.result()

    def _step_rows(self):
        """The raw rows of ``record_step`` as the values of ``steps/scalars`` and ``steps/layers``."""
        raw = np.array(self._rows, dtype=np.float64)  # (n, 4 + 4 n_layers)
        n, n_scalars = len(raw), len(STEP_SCALARS)
        w2, g2, u2, live = raw[:, n_scalars:].reshape(n, -1, 4).transpose(2, 0, 1)  # each (n, n_layers)
        layers = np.stack([np.sqrt(w2), np.sqrt(g2), np.sqrt(u2), 1 - live / self._n_units], axis=1)
        values = {"scalars": raw[:, :n_scalars], "layers": layers}  # (n, 4), (n, 4, n_layers): STEP_PER_LAYER
        return {name: values[name].astype(array.dtype) for name, array in self._steps.items()}

    def _commit(self, counts):
        # commit last: readers trust only what `committed` covers
        self.root.attrs["committed"] = counts
        self.committed = counts


# Every chunk is written, even an all-zero one (Zarr skips those by default), so
# that the reader can tell a missing chunk file from a chunk of zeros.
_WRITE_ALL = {"write_empty_chunks": True}


def _create_arrays(root, specs):
    """Make every array of ``specs`` at once; return ``{path: zarr.Array}``.

    A spec is either the data itself or ``(shape, chunks, dtype, options)`` for an
    array of zeros. The arrays are made concurrently, in one call into Zarr's
    event loop: made one after the other, each costs a few milliseconds.
    """
    def create(path, spec):
        common = {"name": path, "fill_value": 0, "config": _WRITE_ALL}
        if isinstance(spec, np.ndarray):
            chunks = tuple(max(1, n) for n in spec.shape) or (1,)
            return zarr.api.asynchronous.create_array(root.store, data=spec, chunks=chunks, **common)
        shape, chunks, dtype, options = spec
        return zarr.api.asynchronous.create_array(root.store, shape=shape, chunks=chunks, dtype=dtype,
                                                  **common, **options)

    async def create_all():
        return await asyncio.gather(*(create(path, spec) for path, spec in specs.items()))

    return {path: zarr.Array(array) for path, array in zip(specs, sync(create_all()))}


def _write_arrays(writes):
    """Write ``(array, rows, values)`` triples concurrently, in one call into Zarr's event loop."""
    async def write_all():
        await asyncio.gather(*(array.async_array.setitem(rows, values) for array, rows, values in writes))

    if writes:
        sync(write_all())
