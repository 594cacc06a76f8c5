"""The trace recorder: what ``fit`` sees happen, written to a Zarr v3 store.

::

    with TraceRecorder("runs/digits.zarr") as recorder:
        fit(net, data, config, recorder=recorder)

What the recorder is given is kept in memory for a while (at most
``flush_every`` steps of numbers and ``SNAPSHOT_CHUNK`` snapshots, so memory
stays bounded however long the run) and then flushed: every ``flush_seconds``
of training, whenever those buffers fill, and at the end. A flush writes the
new rows and then raises the group's ``committed`` counts, so a run killed at
any moment leaves a trace that opens with everything up to its last commit.
How the rows reach the disk (a writer thread, two snapshot buffers, the
checksums) is :mod:`explainer.trace.writer`'s business; this module says what
is recorded.
"""

import time
from pathlib import Path

import numpy as np

from .. import __version__
from ..data import choose_probe
from .replace import check_can_write
from .run import read_run
from .schedule import DEFAULT_SCHEDULE, snapshot_steps
from .schema import (  # noqa: F401  (SNAPSHOT_CHUNK, STEP_CHUNK: where readers of this module looked)
    EPOCH_FIELDS,
    SCHEMA,
    SCHEMA_VERSION,
    SNAPSHOT_CHUNK,
    STEP_CHUNK,
    STEP_PER_LAYER,
    STEP_SCALARS,
    layout,
    map_slices,
    parameter_slices,
    unit_slices,
)
from .writer import TraceWriter

__all__ = ["TraceRecorder"]

NON_NEGATIVE = {"relu", "sigmoid", "softmax"}  # activations whose a is never below 0

EVALUATION_ARRAYS = ("confusion", "predicted", "confidence", "labels")


def _map_probes(labels, n):
    """The first ``n`` probe digits taken one per class in turn (the first of each class, then the second, ...)."""
    rank = np.zeros(len(labels), dtype=np.int64)  # how many of the same class come before each digit
    for c in np.unique(labels):
        rank[labels == c] = np.arange(np.count_nonzero(labels == c))
    order = np.lexsort((np.arange(len(labels)), rank))  # by rank, then by place in the probe set
    return sorted(int(i) for i in order[:n])


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
    n_maps : int
        For a convolutional network: how many of the probe digits keep their
        feature maps (one per class first, then the next of each class); the
        maps are the bulk of a CNN's trace (see docs/traces.md).
    flush_seconds : float
        Flush at least this often (wall-clock seconds): what a crash can lose.
    flush_every : int
        Flush at least every this many steps.
    overwrite : bool
        Replace an existing trace at ``path``; otherwise refuse to.
    """

    def __init__(self, path, *, schedule=DEFAULT_SCHEDULE, n_probe=30, n_maps=10, flush_seconds=5.0,
                 flush_every=4096, overwrite=False):
        self.path = Path(path)
        check_can_write(self.path, overwrite)  # before training starts, not after
        snapshot_steps(schedule, 1, 1)  # validates the schedule string now, not mid-run
        if not (isinstance(n_probe, int) and n_probe >= 1):
            raise ValueError(f"n_probe must be a whole number >= 1; got {n_probe!r}")
        if isinstance(n_maps, bool) or not (isinstance(n_maps, int) and n_maps >= 1):
            raise ValueError(f"n_maps must be a whole number >= 1; got {n_maps!r}")
        self.schedule, self.n_probe, self.n_maps = schedule, n_probe, n_maps
        self.flush_seconds, self.flush_every = flush_seconds, flush_every
        self.overwrite = overwrite
        self._rows = []  # per-step numbers not yet flushed, raw (see record_step)
        self._epochs = []  # epoch metrics not yet flushed
        self._writer = None
        self._closed = False
        self._last_flush = time.monotonic()

    # -- the Recorder protocol (called by fit) -------------------------------

    def start(self, *, config, net, data, total_steps, steps_per_epoch):
        self.steps = snapshot_steps(self.schedule, total_steps, steps_per_epoch)
        self._wanted = set(self.steps.tolist())
        index = choose_probe(data.X_val, data.y_val, self.n_probe, seed=net.seed)
        self.probe_x = np.ascontiguousarray(data.X_val[index], dtype=net.dtype)  # (n_probe, n_in)
        self.probe_labels = np.asarray(data.y_val[index], dtype=np.int64)
        recording = {"schedule": self.schedule, "n_probe": len(index)}
        if net.specs is not None:  # a CNN: the probe digits whose feature maps are kept
            recording["map_probes"] = _map_probes(self.probe_labels, self.n_maps)
        attrs = {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "explainer_version": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "config": {**config, "recording": recording},
            "image_shape": list(data.image_shape),
            "sizes": list(net.sizes),
            "layers": [{"activation": layer.activation.name, "shape": list(layer.W.shape)} for layer in net.weighted],
            "total_steps": int(total_steps),
            "steps_per_epoch": int(steps_per_epoch),
            "planned_snapshots": self.steps.tolist(),
            "status": "running",
        }
        self.run = read_run(attrs, self.path)  # the same checks a reader makes
        check_can_write(self.path, self.overwrite, replace=True)
        # the arrays are made now, at their planned size; `committed` says how much is real
        self._writer = TraceWriter(self.path, attrs, layout(self.run), {
            "probe/x": self.probe_x, "probe/labels": self.probe_labels,
            "probe/index": np.asarray(index, dtype=np.int64)})
        run = self.run
        self._param_slices, self._unit_slices = parameter_slices(run.shapes), unit_slices(run.dense_shapes)
        self._dense = [i for i, (kind, _, _) in enumerate(run.network_layers) if kind == "dense"]
        self._maps = [(i, part) for (i, _, _), part in zip(run.maps, map_slices([s for _, _, s in run.maps]))]
        self._dtype = net.dtype
        weighted = net.weighted
        self._w2 = [np.vdot(layer.W, layer.W) for layer in weighted]  # ||W_0||^2
        self._n_units = np.array([layer.W.shape[0] for layer in weighted])  # a convolution's: its channels
        # where to look for a weighted layer's activations: its own a, or (a convolution run pooled, which
        # keeps no full-size a) the pooling's after it, f(max z), zero exactly where every f(z) is
        self._seen = [j + 1 for j, layer in enumerate(net.layers) if layer.W is not None]
        self._ones = {}  # (batch, dtype) -> a vector of ones, for counting live units

    @property
    def committed(self):
        """Rows on disk and committed: ``{"steps": ..., "snapshots": ..., "epochs": ...}``."""
        return dict(self._writer.committed) if self._writer else {"steps": 0, "snapshots": 0, "epochs": 0}

    def wants_snapshot(self, step):
        return step in self._wanted

    def record_snapshot(self, step, net):
        probe = net.inspect(self.probe_x, self.probe_labels)
        buffer, j = self._writer.snapshot_row()  # row j of each snapshots/<name> waiting to be written
        buffer["step"][j], buffer["loss"][j] = step, probe.loss
        for layer, (w, b) in zip(net.weighted, self._param_slices):
            buffer["params"][j, w], buffer["params"][j, b] = layer.W.ravel(), layer.b
            buffer["grads"][j, w], buffer["grads"][j, b] = layer.dW.ravel(), layer.db
        for k, values in enumerate((probe.z, probe.a, probe.delta)):  # the order of SNAPSHOT_PROBE
            for i, units in zip(self._dense, self._unit_slices):
                buffer["probe"][j, k, :, units] = values[i]  # (n_probe, n_out)
            for i, part in self._maps:  # a CNN's maps, of the chosen probe digits only
                maps = values[i][self.run.map_probes, ...]  # (n_maps, h, w, c)
                buffer["maps"][j, k, :, part] = maps.reshape(len(maps), -1)
        self._writer.snapshot_taken()

    def record_step(self, step, net, scalars, updates):
        # Every per-step number describes step s: the weights W_s it used (the ones
        # a snapshot at s holds), its gradient, and the update u_s = W_{s+1} - W_s.
        # W already holds W_{s+1}: its squared norm is kept for the next step's row
        # (||W_0||^2 comes from start). This runs every step, so it only gathers raw
        # numbers (vdot: the sum of products over every entry, i.e. a squared norm);
        # square roots and shares are taken for a whole block of rows at the flush.
        row, w2, layers = [scalars[name] for name in STEP_SCALARS], self._w2, net.layers
        last = len(w2) - 1
        for i, (layer, u) in enumerate(zip(net.weighted, updates[0::2])):
            live = self._alive(layer, layers, i) if i < last else layer.W.shape[0]  # softmax units never die
            row += w2[i], np.vdot(layer.dW, layer.dW), np.vdot(u, u), live
            w2[i] = np.vdot(layer.W, layer.W)
        self._rows.append(row)
        if len(self._rows) >= self.flush_every or time.monotonic() - self._last_flush > self.flush_seconds:
            self._hand_over()  # written and committed while training goes on

    def _alive(self, layer, layers, i):
        """How many of the layer's units (a convolution's channels) were not zero for every sample of the batch."""
        a = layer.a  # (batch, n_out), a convolution's (batch, h, w, n_out)
        if a is None:  # a convolution run pooled first keeps no full-size a: f(max z) is zero where all f(z) are
            a = layers[self._seen[i]].a
        a = a.reshape(-1, a.shape[-1])  # (batch * h * w, n_out)
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
        arrays = {f"evaluation/{name}": np.asarray(evaluation[name]) for name in EVALUATION_ARRAYS}
        n_test = len(arrays["evaluation/labels"])
        specs = {key: spec for key, spec in layout(self.run, n_test).items() if key.startswith("evaluation/")}
        arrays = {key: values.astype(specs[key].dtype, copy=False) for key, values in arrays.items()}
        self._writer.finish(arrays, {"test_loss": float(evaluation["test_loss"]),
                                     "test_accuracy": float(evaluation["test_accuracy"]), "n_test": n_test}, specs)

    def close(self):
        """Flush what is pending; harmless to call twice."""
        if self._closed or self._writer is None:
            self._closed = True
            return
        self._closed = True
        try:
            if not self._writer.failed:  # (after a failed write the writer commits nothing more)
                self._hand_over()
        finally:
            self._writer.close("interrupted")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- handing rows to the writer --------------------------------------------

    def flush(self):
        """Write everything pending and commit it; return once it is on disk."""
        self._hand_over()
        self._writer.wait()

    def _hand_over(self):
        self._last_flush = time.monotonic()
        steps = self._step_rows() if self._rows else None
        epochs = np.array([[e.get(name, np.nan) for name in EPOCH_FIELDS] for e in self._epochs], dtype=np.float64)
        self._rows, self._epochs = [], []
        self._writer.hand_over(steps=steps, epochs=epochs)

    def _step_rows(self):
        """The raw rows of ``record_step`` as the values of ``steps/scalars`` and ``steps/layers``."""
        raw = np.array(self._rows, dtype=np.float64)  # (n, 4 + 4 n_layers)
        n, n_scalars = len(raw), len(STEP_SCALARS)
        w2, g2, u2, live = raw[:, n_scalars:].reshape(n, -1, 4).transpose(2, 0, 1)  # each (n, n_layers)
        layers = np.stack([np.sqrt(w2), np.sqrt(g2), np.sqrt(u2), 1 - live / self._n_units], axis=1)
        # (n, 4), (n, 4, n_layers): the columns of STEP_SCALARS and STEP_PER_LAYER, in the run's dtype
        assert layers.shape[1] == len(STEP_PER_LAYER)
        return {"steps/scalars": raw[:, :n_scalars].astype(self._dtype),
                "steps/layers": layers.astype(self._dtype)}
