"""The trace recorder: what ``fit`` sees happen, written to a Zarr v3 store.

::

    with TraceRecorder("runs/digits.zarr") as recorder:
        fit(net, data, config, recorder=recorder)

What the recorder is given is kept in memory for a while (at most
``flush_every`` steps of scalars and ``SNAPSHOT_CHUNK`` snapshots, so memory
stays bounded however long the run) and then flushed: every ``flush_seconds``
of training, whenever those buffers fill, and at the end. Few large writes cost
far less than many small ones (Zarr's overhead is per write, 2 to 4 ms). A flush writes the new rows and then raises
the group's ``committed`` counts (see :mod:`explainer.trace.schema`); Zarr
writes every file atomically, so a run killed at any moment leaves a trace that
opens with everything up to its last flush.
"""

import shutil
import time
from pathlib import Path

import numpy as np
import zarr

from .. import __version__
from ..data import choose_probe
from .schedule import DEFAULT_SCHEDULE, snapshot_steps
from .schema import EPOCH_FIELDS, SCHEMA, SCHEMA_VERSION, SNAPSHOT_PROBE, STEP_PER_LAYER, STEP_SCALARS

__all__ = ["TraceRecorder"]

STEP_CHUNK = 4096  # rows of per-step scalars per chunk

SNAPSHOT_CHUNK = 8  # snapshots per chunk, and per flush


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
        self._n_rows = 0  # per-step scalars not yet flushed, in self._buffer
        self._snapshots = []  # snapshots not yet flushed
        self._epochs = []  # epoch metrics not yet flushed
        self.root = None
        self._closed = False
        self._last_flush = time.monotonic()
        self.committed = {"steps": 0, "snapshots": 0, "epochs": 0}

    # -- the Recorder protocol (called by fit) -------------------------------

    def start(self, *, config, net, data, total_steps, steps_per_epoch):
        self.steps = snapshot_steps(self.schedule, total_steps, steps_per_epoch)
        self._wanted = set(self.steps.tolist())
        index = choose_probe(data.X_val, data.y_val, self.n_probe, seed=net.seed)
        self.probe_x = np.ascontiguousarray(data.X_val[index], dtype=net.dtype)  # (n_probe, n_in)
        self.probe_labels = np.asarray(data.y_val[index])
        if self.overwrite and self.path.exists():
            shutil.rmtree(self.path) if self.path.is_dir() else self.path.unlink()
        self.root = zarr.open_group(self.path, mode="w-", zarr_format=3)
        n_layers = len(net.layers)
        self.root.attrs.update(
            {
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
            }
        )
        probe = self.root.create_group("probe")
        _array(probe, "x", self.probe_x)
        _array(probe, "labels", self.probe_labels)
        _array(probe, "index", np.asarray(index))
        # Arrays are made now, at their planned size; `committed` says how much is real.
        # A handle on each is kept: looking one up re-reads its metadata from disk.
        specs = {}  # path -> (shape, chunks, dtype, options)
        for name in STEP_SCALARS:
            specs[f"steps/{name}"] = ((total_steps,), (STEP_CHUNK,), "int32" if name == "epoch" else "float32", {})
        for name in STEP_PER_LAYER:
            specs[f"steps/{name}"] = ((total_steps, n_layers), (STEP_CHUNK, n_layers), "float32", {})
        n_snap, n_probe = len(self.steps), len(self.probe_x)
        specs["snapshots/step"] = ((n_snap,), (max(n_snap, 1),), "int64", {})
        specs["snapshots/loss"] = ((n_snap,), (max(n_snap, 1),), "float32", {})
        for i, layer in enumerate(net.layers):
            n_out, n_in = layer.W.shape
            for name, shape in (("W", (n_out, n_in)), ("dW", (n_out, n_in)), ("b", (n_out,)), ("db", (n_out,))):
                # trained weights are float noise to a compressor: zstd saved 8% of their size
                # and made writing 7x and reading 5x slower, so they are stored raw
                specs[f"snapshots/layer{i}/{name}"] = (
                    (n_snap, *shape), (SNAPSHOT_CHUNK, *shape), net.dtype, {"compressors": None})
            for name in SNAPSHOT_PROBE:
                shape = (n_probe, n_out)
                specs[f"snapshots/layer{i}/{name}"] = ((n_snap, *shape), (SNAPSHOT_CHUNK, *shape), net.dtype, {})
        n_epochs = max(1, total_steps // steps_per_epoch)
        for name in EPOCH_FIELDS:
            dtype = "int64" if name in ("epoch", "step") else "float64"
            specs[f"epochs/{name}"] = ((n_epochs,), (n_epochs,), dtype, {})
        for group in ["steps", "snapshots", "epochs"] + [f"snapshots/layer{i}" for i in range(n_layers)]:
            self.root.create_group(group)
        made = {path: _empty(self.root, path, *spec) for path, spec in specs.items()}
        self._steps = {name: made[f"steps/{name}"] for name in STEP_SCALARS + STEP_PER_LAYER}
        self._snap_step, self._snap_loss = made["snapshots/step"], made["snapshots/loss"]
        self._snap_layers = [
            {name: made[f"snapshots/layer{i}/{name}"] for name in ("W", "dW", "b", "db", *SNAPSHOT_PROBE)}
            for i in range(n_layers)
        ]
        self._epoch_arrays = {name: made[f"epochs/{name}"] for name in EPOCH_FIELDS}
        self._w2 = [None] * n_layers  # ||W||^2 per layer, carried by record_step
        self._buffer = {name: np.zeros((self.flush_every, *array.shape[1:]), dtype=array.dtype)
                        for name, array in self._steps.items()}

    def wants_snapshot(self, step):
        return step in self._wanted

    def record_snapshot(self, step, net):
        probe = net.inspect(self.probe_x, self.probe_labels)
        self._w2 = [float(layer.W.ravel() @ layer.W.ravel()) for layer in net.layers]  # exact, see record_step
        layers = [
            {"W": layer.W.copy(), "b": layer.b.copy(), "dW": layer.dW.copy(), "db": layer.db.copy(),
             "z": probe.z[i], "a": probe.a[i], "delta": probe.delta[i]}
            for i, layer in enumerate(net.layers)
        ]
        self._snapshots.append((step, probe.loss, layers))
        if len(self._snapshots) >= SNAPSHOT_CHUNK:
            self.flush()

    def record_step(self, step, net, scalars, updates):
        # Every per-step number describes step s: the weights W_s it used (the ones
        # a snapshot at s holds), its gradient, and the update u_s = W_{s+1} - W_s.
        # W already holds W_{s+1}. ||W||^2 is carried from step to step,
        #     ||W_{s+1}||^2 = ||W_s||^2 + 2 W_s.u + ||u||^2 = ||W_s||^2 + 2 W.u - ||u||^2,
        # and set exactly at every snapshot: one dot product per layer fewer.
        r, buffer, w2 = self._n_rows, self._buffer, self._w2
        for name in STEP_SCALARS:
            buffer[name][r] = scalars[name]
        last = len(net.layers) - 1
        for i, (layer, u) in enumerate(zip(net.layers, updates[0::2])):
            w, u, g = layer.W.ravel(), u.ravel(), layer.dW.ravel()
            wu, uu = float(w @ u), float(u @ u)
            if w2[i] is None:
                w2[i] = float(w @ w) - 2 * wu + uu  # ||W - u||^2
            buffer["weight_norm"][r, i] = max(w2[i], 0.0) ** 0.5
            w2[i] += 2 * wu - uu
            buffer["update_norm"][r, i] = uu**0.5
            buffer["grad_norm"][r, i] = float(g @ g) ** 0.5
            # a unit is dead on this batch when it is zero for every sample in it;
            # the output layer (softmax) never is
            if i < last:
                alive = np.count_nonzero(layer.a.any(axis=0))
                buffer["dead_share"][r, i] = 1 - alive / layer.a.shape[1]
        self._n_rows = r + 1
        if self._n_rows >= self.flush_every or time.monotonic() - self._last_flush > self.flush_seconds:
            self.flush()

    def record_epoch(self, epoch, step, metrics):
        self._epochs.append({"epoch": epoch, "step": step, **metrics})

    def finish(self, evaluation):
        self.flush()
        group = self.root.create_group("evaluation")
        for name in ("confusion", "predicted", "confidence", "labels"):
            _array(group, name, np.asarray(evaluation[name]))
        group.attrs.update({"test_loss": float(evaluation["test_loss"]),
                            "test_accuracy": float(evaluation["test_accuracy"])})
        self.root.attrs["status"] = "complete"

    def close(self):
        """Flush what is pending; harmless to call twice."""
        if self._closed or self.root is None:
            self._closed = True
            return
        self._closed = True
        self.flush()
        if self.root.attrs.get("status") == "running":
            self.root.attrs["status"] = "interrupted"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- writing ---------------------------------------------------------------

    def flush(self):
        """Write everything pending, then commit it (one metadata write)."""
        self._last_flush = time.monotonic()
        if self.root is None or not (self._n_rows or self._snapshots or self._epochs):
            return
        counts = dict(self.committed)
        writes = []  # (array, rows, values)
        if self._n_rows:
            start, n = counts["steps"], self._n_rows
            writes += [(array, slice(start, start + n), self._buffer[name][:n])
                       for name, array in self._steps.items()]
            counts["steps"] = start + n
            self._n_rows = 0
        if self._snapshots:
            snaps, self._snapshots = self._snapshots, []
            rows = slice(counts["snapshots"], counts["snapshots"] + len(snaps))
            writes.append((self._snap_step, rows, [step for step, _, _ in snaps]))
            writes.append((self._snap_loss, rows, [loss for _, loss, _ in snaps]))
            for i, arrays in enumerate(self._snap_layers):
                writes += [(array, rows, np.stack([layers[i][name] for _, _, layers in snaps]))
                           for name, array in arrays.items()]
            counts["snapshots"] = rows.stop
        if self._epochs:
            epochs, self._epochs = self._epochs, []
            rows = slice(counts["epochs"], counts["epochs"] + len(epochs))
            writes += [(array, rows, [e.get(name, np.nan) for e in epochs]) for name, array in self._epoch_arrays.items()]
            counts["epochs"] = rows.stop
        for array, rows, values in writes:
            array[rows] = values
        # commit last: readers trust only what `committed` covers
        self.root.attrs["committed"] = counts
        self.committed = counts


# Every chunk is written, even an all-zero one (Zarr skips those by default), so
# that the reader can tell a missing chunk file from a chunk of zeros.
_WRITE_ALL = {"write_empty_chunks": True}


def _empty(group, name, shape, chunks, dtype, options=None):
    return group.create_array(name, shape=shape, chunks=chunks, dtype=dtype, fill_value=0, config=_WRITE_ALL,
                              **(options or {}))


def _array(group, name, data):
    chunks = tuple(max(1, n) for n in data.shape) or (1,)
    array = group.create_array(name, shape=data.shape, chunks=chunks, dtype=data.dtype, config=_WRITE_ALL)
    array[...] = data
    return array
