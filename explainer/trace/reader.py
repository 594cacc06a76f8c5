"""Reading a trace: lazily, checked, with one clear error for anything wrong with it.

::

    trace = open_trace("runs/digits.zarr")           # a packed "runs/digits.zarr.zip", "default", a Trace
    trace.run.training.lr, trace.run.activations    # how the run was made (explainer.trace.run.Run)
    trace.scalars["loss"]                            # (n_steps,) every step's loss
    trace.learning_rate(120)                         # the learning rate step 120 used
    trace.snapshot_steps                             # steps with full snapshots
    W, b = trace.weights(120)[0]                     # first layer, nearest snapshot to step 120
    trace.network(120)                               # a Network holding those weights
    record = trace.probe_record(120)                 # z, a, delta, probabilities of the probe set
    trace.is_cnn, trace.map_probes                   # a CNN's run; the probe digits with feature maps
    trace.evaluation.test_accuracy

Opening reads the metadata and the probe set, and checks the metadata: against
its digest, field by field, and every array's shape, dtype and codecs against
what the run's settings give. Every other array is read when first asked for,
after checking that its committed chunks are all there and in place; Zarr
checks each chunk's CRC32C as it reads it. Only *committed* rows are ever
returned (see :mod:`explainer.trace.schema`), so a trace whose run was killed
reads cleanly up to its last flush. Whatever is wrong is one :class:`TraceError`.
"""

import os
from functools import cached_property
from pathlib import Path

import numpy as np

from ..metrics import silent_units
from .progress import read_progress
from .records import Evaluation
from .run import Run, TraceError, read_run
from .schema import (
    EPOCH_FIELDS,
    READABLE,
    SCHEMA,
    SCHEMA_VERSION,
    STEP_PER_LAYER,
    STEP_SCALARS,
    WHOLE_NUMBERS,
    layout,
)
from .snapshot_access import SnapshotAccess
from .store import Files, check_array, check_seal, open_root, rows_digest

__all__ = ["Trace", "TraceError", "open_trace"]

EVALUATION_ARRAYS = ("confusion", "predicted", "confidence", "labels")


def open_trace(source=None):
    """The trace ``source`` names: a path (a folder or a packed ``.zip``), a :class:`Trace`
    (returned as it is), or ``"default"`` / None for the default 8x8 trace (built once)."""
    if isinstance(source, Trace):
        return source
    if source is None or (isinstance(source, str) and source.strip() in ("", "default")):
        from .default import default_trace

        source = default_trace()
    return Trace.open(source)


class Trace(SnapshotAccess):
    """A recorded training run, read lazily. Make one with :meth:`Trace.open` or :func:`open_trace`."""

    def __init__(self, files, root, attrs):
        self.path, self.packed = files.path, files.packed
        self._files, self._root, self._nodes = files, root, {}
        path = self.path
        check_seal(attrs, path)
        self.schema_version = attrs.get("schema_version")
        self.run: Run = read_run(attrs, path)
        if self.run.is_cnn and self.schema_version < 5:
            raise self._damaged(f"it records a convolutional network, which schema version {self.schema_version} "
                                "cannot hold")
        if self.run.training.augment is not None and self.schema_version < 6:
            raise self._damaged(f"it records augmentation ({self.run.training.augment}), which schema version "
                                f"{self.schema_version} cannot hold")
        self._progress = progress = read_progress(attrs, self.run, path)
        self.status = progress.status
        self.n_steps, self.n_snapshots, self.n_epochs = (progress.committed[name]
                                                         for name in ("steps", "snapshots", "epochs"))
        if not self.complete and any(name.startswith("evaluation/") for name in files.names):
            raise self._damaged(f"it holds a test evaluation, but its status is {self.status!r}")
        self._specs = layout(self.run, progress.evaluation["n_test"] if progress.evaluation else None)
        for key, spec in self._specs.items():  # every array's metadata, against the run's settings,
            check_array(files, key, spec)  # and its committed chunks: all there, each where it was written
            if files.check_chunks(key, self._rows(key), spec, progress.checksums, loose=self.status == "running"):
                self._check_rewritten_edge(key)

    @cached_property
    def probe_x(self):
        """The probe digits, (n_probe, n_in): followed through every snapshot."""
        return self._read("probe/x")

    @cached_property
    def probe_labels(self):
        """Their labels, (n_probe,)."""
        labels = self._read("probe/labels")
        if labels.min() < 0 or labels.max() >= self.run.n_classes:
            raise self._damaged(f"its probe labels are not classes 0 to {self.run.n_classes - 1}")
        return labels

    @cached_property
    def probe_index(self):
        """Their rows in the validation set, (n_probe,)."""
        return self._read("probe/index")

    @classmethod
    def open(cls, path):
        """Open a trace folder, or a trace packed into one ``.zip`` file (read-only)."""
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"a trace is named by its path (a str or pathlib.Path); got {path!r}")
        path = Path(path)
        if not path.exists():
            raise TraceError(f"no trace at {path}: record one with `explainer train --out {path}`")
        files = Files(path)
        root = open_root(files)
        try:
            attrs = root.attrs.asdict()
        except Exception as e:
            raise TraceError(f"{path} cannot be read as a trace ({type(e).__name__}); it is damaged: "
                             "record it again") from None
        if not isinstance(attrs, dict) or attrs.get("schema") != SCHEMA:
            raise TraceError(f"{path} is a Zarr store but not an explainer trace (no '{SCHEMA}' schema in its "
                             "attributes): record one with `explainer train --out PATH`")
        version = attrs.get("schema_version")
        if not isinstance(version, int) or isinstance(version, bool) or version > SCHEMA_VERSION:
            raise TraceError(
                f"{path} is a trace of schema version {version!r}, newer than this explainer reads "
                f"({SCHEMA_VERSION}; written by explainer {attrs.get('explainer_version')!r}): "
                "upgrade explainer to read it"
            )
        if version not in READABLE:
            raise TraceError(
                f"{path} is a trace of schema version {version}, older than this explainer reads "
                f"({SCHEMA_VERSION}, whose chunks carry checksums): copy it into the current layout with "
                f"`explainer upgrade {path}`"
            )
        return cls(files, root, attrs)

    # -- what the run was --------------------------------------------------

    @property
    def complete(self):
        """True when training ran to its end and the test evaluation was written."""
        return self.status == "complete"

    @property
    def dataset(self):
        return self.run.dataset

    @property
    def is_cnn(self):
        """True for a convolutional network's run (``trace.run.specs``: its convolution and pooling layers)."""
        return self.run.is_cnn

    @property
    def map_probes(self):
        """The probe digits (indices into ``probe_x``) whose feature maps were recorded: a CNN's ``probe_record``
        holds its convolution, pooling and flatten layers' ``z``, ``a``, ``delta`` for these only. Empty for a
        dense run."""
        return list(self.run.map_probes)

    def refuse_cnn(self, what):
        """Raise a one-line :class:`TraceError` if this is a CNN's run, which ``what`` cannot show yet."""
        if self.is_cnn:
            raise TraceError(f"{what} cannot show a convolutional network's run yet ({self.path.name}: "
                             f"{', '.join(self.run.specs)}); use a dense network's trace")

    @property
    def sizes(self):
        """Units per layer, input first: ``[64, 128, 64, 10]``."""
        return list(self.run.sizes)

    @property
    def image_shape(self):
        return self.run.image_shape

    @property
    def n_layers(self):
        return self.run.n_layers

    @property
    def steps_per_epoch(self):
        return self.run.steps_per_epoch

    def learning_rate(self, step):
        """The learning rate step ``step`` used: ``lr * lr_decay ** epoch``, exactly as the trainer set it
        (``scalars["lr"]`` holds the same numbers, rounded to the run's dtype)."""
        step = self._whole(step, "step")
        if not 0 <= step < self.run.total_steps:
            raise TraceError(f"step {step} is outside the run: {self.path.name} plans steps 0 to "
                             f"{self.run.total_steps - 1}")
        return self.run.training.lr * self.run.training.lr_decay ** self.run.epoch_of(step)

    def __repr__(self):
        cnn = f"{', '.join(self.run.specs)}, " if self.is_cnn else ""
        return (f"<Trace {self.path.name}: {self.dataset} {cnn}{'-'.join(map(str, self.sizes))}, "
                f"{self.n_steps} steps, {self.n_snapshots} snapshots, {self.status}>")

    # -- every step --------------------------------------------------------

    @cached_property
    def scalars(self):
        """Per-step arrays: ``loss``, ``accuracy``, ``lr``, ``epoch`` (n_steps,) and
        ``weight_norm``, ``grad_norm``, ``update_norm``, ``dead_share`` (n_steps, n_layers)."""
        table, layers = self._read("steps/scalars"), self._read("steps/layers")
        columns = {**_columns(table, STEP_SCALARS, np.int32),
                   **{name: np.ascontiguousarray(layers[:, j]) for j, name in enumerate(STEP_PER_LAYER)}}
        if not np.array_equal(columns["epoch"], np.arange(self.n_steps) // self.steps_per_epoch):
            raise self._damaged("'steps/scalars' holds epoch numbers that do not follow its steps")
        return columns

    @cached_property
    def epochs(self):
        """Per-epoch arrays: ``train_loss``, ``val_accuracy``, ... (n_epochs,)."""
        columns = _columns(self._read("epochs/metrics"), EPOCH_FIELDS, np.int64)
        n = np.arange(self.n_epochs)
        if not (np.array_equal(columns["epoch"], n) and np.array_equal(columns["step"], (n + 1) * self.steps_per_epoch)):
            raise self._damaged("'epochs/metrics' holds epochs that do not follow one another")
        return columns

    # -- the end -------------------------------------------------------------

    @cached_property
    def evaluation(self):
        """The test-set :class:`Evaluation`, or None if the run did not finish."""
        if not self.complete:
            return None
        arrays = {name: self._read(f"evaluation/{name}") for name in EVALUATION_ARRAYS}
        labels, predicted, n = arrays["labels"], arrays["predicted"], self.run.n_classes
        if len(labels) and (min(labels.min(), predicted.min()) < 0 or max(labels.max(), predicted.max()) >= n):
            raise self._damaged(f"its test labels or predictions are not classes 0 to {n - 1}")
        counted = np.bincount(labels * n + predicted, minlength=n * n).reshape(n, n)
        accuracy = float(np.mean(labels == predicted)) if len(labels) else float("nan")
        if not np.array_equal(counted, arrays["confusion"]) or not (
                accuracy == self._progress.evaluation["test_accuracy"] or not len(labels)):
            raise self._damaged("its test accuracy and confusion matrix are not those of its test predictions")
        return Evaluation(test_loss=self._progress.evaluation["test_loss"], test_accuracy=self._progress.evaluation["test_accuracy"],
                          **arrays)

    def summary(self):
        """A JSON-able summary of the run (used by ``explainer info``), once :meth:`verify` has read
        every chunk: a summary is never given for a damaged trace."""
        self.verify()
        ev = self.evaluation
        last = {name: float(values[-1]) for name, values in self.epochs.items()} if self.n_epochs else {}
        last_snapshot = int(self.snapshot_steps[-1]) if self.n_snapshots else None
        # per hidden layer, the units with a = 0 for every probe digit at the last snapshot (one read)
        a = self.probe_record(last_snapshot, exact=True).a if last_snapshot is not None else None
        return {
            "path": str(self.path),
            "status": self.status,
            "dataset": self.dataset,
            "image_shape": list(self.image_shape),
            "sizes": self.sizes,
            "activations": list(self.run.activations),
            "training": self.run.training.to_dict(),
            "steps": self.n_steps,
            "planned_steps": self.run.total_steps,
            "epochs": self.n_epochs,
            "snapshots": self.n_snapshots,
            "probe_size": len(self.probe_labels),
            "last_snapshot": last_snapshot,
            "layers": list(self.run.specs) if self.is_cnn else None,
            "units": [shape[0] for shape in self.run.shapes],  # per weighted layer (a convolution's: channels)
            "feature_map_probes": len(self.run.map_probes) if self.is_cnn else None,
            "silent_units": None if a is None else [
                silent_units(a[j].reshape(-1, a[j].shape[-1])).tolist()
                for j in map(self._layer_index, range(self.n_layers - 1))],
            "final_train_loss": last.get("train_loss"),
            "final_val_accuracy": last.get("val_accuracy"),
            "test_accuracy": ev.test_accuracy if ev else None,
            "explainer_version": self.run.explainer_version,
            "schema_version": self.schema_version,
        }

    def verify(self):
        """Read every committed chunk of every array, so that each one's checksum is checked.

        Reading checks what it reads; this checks everything at once (about a
        second for a 28x28 run's trace). Raises :class:`TraceError`; returns the trace.
        """
        for key in self._specs:
            self._read(key)
        _ = self.probe_labels, self.scalars, self.epochs, self.snapshot_steps, self.evaluation  # and what their values must agree with
        return self

    # -- reading, with errors that say what broke ---------------------------

    def _damaged(self, what):
        return TraceError(f"{self.path} is a damaged trace: {what}; record it again")

    def _rows(self, key):
        """How many rows of ``key`` are real: the committed count of its group, or all of them."""
        return self._progress.rows(key, self._specs[key])

    def _check_rewritten_edge(self, key):
        """A killed run's last chunk of ``key``, rewritten after the last commit: check its committed rows."""
        index, n, digest = self._progress.edges[key]
        start = index * self._specs[key].chunks[0]
        node = self._node(key)
        try:
            values = node[start : start + n]
        except Exception as e:
            raise self._damaged(f"'{key}' cannot be read ({type(e).__name__}: {_first_line(e)})") from None
        if f"{rows_digest(values):08x}" != digest:
            raise self._damaged(f"chunk {index} of '{key}' does not hold the rows that were committed there")

    def _node(self, key):
        """The array at ``key``, opened once (its chunks were checked when the trace opened)."""
        node = self._nodes.get(key)
        if node is None:
            try:
                node = self._nodes[key] = self._root[key]
            except Exception as e:
                raise self._damaged(f"'{key}' cannot be opened ({type(e).__name__}: {_first_line(e)})") from None
        return node

    def _read(self, key):
        node, n = self._node(key), self._rows(key)
        try:
            return node[:n] if node.ndim else node[...]
        except Exception as e:
            raise self._damaged(f"'{key}' cannot be read ({type(e).__name__}: {_first_line(e)})") from None

    def _row(self, key, k):
        node = self._node(key)
        try:
            return node[k]
        except Exception as e:
            raise self._damaged(f"row {k} of '{key}' cannot be read ({type(e).__name__}: {_first_line(e)})") from None


def _columns(table, names, whole):
    """A table's columns by name; the columns that hold counts as integers of dtype ``whole``."""
    return {name: np.ascontiguousarray(table[:, j], dtype=whole if name in WHOLE_NUMBERS else table.dtype)
            for j, name in enumerate(names)}


def _first_line(e, limit=160):
    text = " ".join(str(e).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
