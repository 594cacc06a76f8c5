"""Reading a trace: lazily, with one clear error for anything wrong with it.

::

    trace = Trace.open("runs/digits.zarr")          # or a packed "runs/digits.zarr.zip"
    trace.config["training"]["lr"]
    trace.scalars["loss"]                            # (n_steps,) every step's loss
    trace.snapshot_steps                             # steps with full snapshots
    W, b = trace.weights(120)[0]                     # first layer, nearest snapshot to step 120
    record = trace.probe_record(120)                 # z, a, delta, probabilities of the probe set
    trace.evaluation.test_accuracy

Opening reads only the small metadata and the probe set; every other array is
read from disk when first asked for. Only *committed* rows are ever returned
(see :mod:`explainer.trace.schema`), so a trace whose run was killed reads
cleanly up to its last flush.
"""

import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import zarr

from ..errors import ExplainerError
from ..metrics import silent_units
from .schema import (
    EPOCH_FIELDS,
    SCHEMA,
    SCHEMA_VERSION,
    SNAPSHOT_PARAMS,
    SNAPSHOT_PROBE,
    STEP_PER_LAYER,
    STEP_SCALARS,
    WHOLE_NUMBERS,
    parameter_slices,
    unit_slices,
)

__all__ = ["Trace", "TraceError", "ProbeRecord", "Snapshot", "Evaluation", "open_trace"]


class TraceError(ExplainerError, ValueError):
    """A trace is missing, foreign, damaged, or newer than this explainer."""


@dataclass(frozen=True)
class ProbeRecord:
    """The probe set's forward and backward pass at one snapshot.

    ``z[i]``, ``a[i]``, ``delta[i]`` are layer ``i``'s arrays, each (n_probe, n_out).
    """

    step: int
    z: list
    a: list
    delta: list
    loss: float

    @property
    def probabilities(self):
        """The output layer's ``a``: (n_probe, n_classes)."""
        return self.a[-1]


@dataclass(frozen=True)
class Snapshot:
    """Everything recorded at one snapshot step."""

    step: int
    W: list  # W[i]: (n_out, n_in)
    b: list  # b[i]: (n_out,)
    dW: list
    db: list
    probe: ProbeRecord


@dataclass(frozen=True)
class Evaluation:
    """The final test-set evaluation."""

    test_loss: float
    test_accuracy: float
    confusion: np.ndarray  # (n_classes, n_classes): rows true, columns predicted
    predicted: np.ndarray  # (n_test,)
    confidence: np.ndarray  # (n_test,) probability of the predicted class
    labels: np.ndarray  # (n_test,) true classes


def open_trace(path):
    """Open a trace folder or packed ``.zip`` (same as :meth:`Trace.open`)."""
    return Trace.open(path)


class Trace:
    """A recorded training run, read lazily. Make one with :meth:`Trace.open`."""

    def __init__(self, root, path):
        self._root, self.path = root, Path(path)
        self._nodes = {}  # opened arrays: opening one reads its metadata from disk
        self.packed = self.path.is_file()
        attrs = root.attrs.asdict()
        if attrs.get("schema") != SCHEMA:
            raise TraceError(f"{path} is a Zarr store but not an explainer trace (no '{SCHEMA}' schema in its "
                             "attributes): record one with `explainer train --out PATH`")
        version = attrs.get("schema_version")
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            raise TraceError(
                f"{path} is a trace of schema version {version}, newer than this explainer reads "
                f"(up to {SCHEMA_VERSION}; written by explainer {attrs.get('explainer_version')}): "
                "upgrade explainer with `pip install -U explainer`"
            )
        self.schema_version = version  # older versions are read too (see schema.py)
        try:
            self.attrs = attrs
            self.config = attrs["config"]
            self.image_shape = tuple(attrs["image_shape"])
            self.sizes = list(attrs["sizes"])
            self.layers = list(attrs["layers"])
            committed = attrs["committed"]
            self.n_steps = int(committed["steps"])
            self.n_snapshots = int(committed["snapshots"])
            self.n_epochs = int(committed["epochs"])
            self.status = attrs["status"]
            self.probe_x = self._read("probe/x")  # (n_probe, n_in)
            self.probe_labels = self._read("probe/labels")  # (n_probe,)
            self.probe_index = self._read("probe/index")
        except KeyError as e:
            raise TraceError(f"{path} is a damaged trace: its metadata lacks {e}; record it again") from None

    @classmethod
    def open(cls, path):
        """Open a trace folder, or a trace packed into one ``.zip`` file (read-only)."""
        path = Path(path)
        if not path.exists():
            raise TraceError(f"no trace at {path}: record one with `explainer train --out {path}`")
        try:
            if path.is_file():
                store = zarr.storage.ZipStore(path, mode="r")
                root = zarr.open_group(store, mode="r")
            else:
                root = zarr.open_group(path, mode="r", zarr_format=3)
        except (FileNotFoundError, zarr.errors.GroupNotFoundError, zarr.errors.NodeTypeValidationError):
            raise TraceError(f"{path} is not a trace (no Zarr group there): record one with "
                             f"`explainer train --out PATH`") from None
        except Exception as e:  # a truncated zip, a mangled zarr.json, ...
            raise TraceError(f"{path} cannot be read as a trace ({type(e).__name__}: {e}); it is damaged or "
                             "not a trace: record it again") from None
        return cls(root, path)

    # -- what the run was --------------------------------------------------

    @property
    def complete(self):
        """True when training ran to its end and the test evaluation was written."""
        return self.status == "complete"

    @property
    def n_layers(self):
        return len(self.layers)

    @property
    def dataset(self):
        return self.config["data"]["name"]

    def __repr__(self):
        return (f"<Trace {self.path.name}: {self.dataset} {'-'.join(map(str, self.sizes))}, "
                f"{self.n_steps} steps, {self.n_snapshots} snapshots, {self.status}>")

    # -- every step --------------------------------------------------------

    @cached_property
    def scalars(self):
        """Per-step arrays: ``loss``, ``accuracy``, ``lr``, ``epoch`` (n_steps,) and
        ``weight_norm``, ``grad_norm``, ``update_norm``, ``dead_share`` (n_steps, n_layers)."""
        if self.schema_version < 3:  # one array per name
            return {name: self._read(f"steps/{name}", self.n_steps) for name in STEP_SCALARS + STEP_PER_LAYER}
        table, layers = self._read("steps/scalars", self.n_steps), self._read("steps/layers", self.n_steps)
        return {**_columns(table, STEP_SCALARS, np.int32),
                **{name: np.ascontiguousarray(layers[:, j]) for j, name in enumerate(STEP_PER_LAYER)}}

    @cached_property
    def epochs(self):
        """Per-epoch arrays: ``train_loss``, ``val_accuracy``, ... (n_epochs,)."""
        if self.schema_version < 3:  # one array per name
            return {name: self._read(f"epochs/{name}", self.n_epochs) for name in EPOCH_FIELDS}
        return _columns(self._read("epochs/metrics", self.n_epochs), EPOCH_FIELDS, np.int64)

    # -- snapshots ---------------------------------------------------------

    @cached_property
    def snapshot_steps(self):
        """The steps that have a full snapshot, ascending."""
        return self._read("snapshots/step", self.n_snapshots)

    def snapshot_index(self, step, exact=False):
        """Index of the snapshot at ``step`` or, unless ``exact``, the nearest one (ties go earlier)."""
        steps = self.snapshot_steps
        if not len(steps):
            raise TraceError(f"{self.path} holds no snapshot yet")
        if not isinstance(step, (int, np.integer)):
            raise TypeError(f"step must be a whole number; got {step!r}")
        k = int(np.argmin(np.abs(steps - step)))
        if exact and steps[k] != step:
            raise TraceError(f"step {step} has no snapshot; the nearest is {int(steps[k])} "
                             f"(snapshots: {_describe_steps(steps)})")
        return k

    def weights(self, step, exact=False):
        """``[(W, b), ...]`` per layer at the snapshot nearest to ``step``."""
        return self._parameters("snapshots/params", self.snapshot_index(step, exact))

    def gradients(self, step, exact=False):
        """``[(dW, db), ...]`` per layer: the training batch's gradients at that snapshot."""
        return self._parameters("snapshots/grads", self.snapshot_index(step, exact))

    def probe_record(self, step, exact=False):
        """The probe set's ``z``, ``a``, ``delta`` and probabilities at the snapshot nearest to ``step``."""
        k = self.snapshot_index(step, exact)
        if self.schema_version == 1:  # one array per layer and name
            arrays = {name: [self._row(f"snapshots/layer{i}/{name}", k) for i in range(self.n_layers)]
                      for name in SNAPSHOT_PROBE}
        else:
            row = self._row("snapshots/probe", k)  # (3, n_probe, n_units)
            arrays = {name: [np.ascontiguousarray(row[j, :, units]) for units in unit_slices(self._shapes)]
                      for j, name in enumerate(SNAPSHOT_PROBE)}
        return ProbeRecord(step=int(self.snapshot_steps[k]), loss=float(self._row("snapshots/loss", k)), **arrays)

    def snapshot(self, step, exact=False):
        """Everything at the snapshot nearest to ``step``."""
        k = self.snapshot_index(step, exact)
        s = int(self.snapshot_steps[k])
        (W, b), (dW, db) = zip(*self.weights(s, exact=True)), zip(*self.gradients(s, exact=True))
        return Snapshot(step=s, W=list(W), b=list(b), dW=list(dW), db=list(db), probe=self.probe_record(s, exact=True))

    def first_layer_filters(self, step, exact=False):
        """The first layer's weights as images: (n_hidden, height, width)."""
        W, _ = self.weights(step, exact)[0]
        return W.reshape(len(W), *self.image_shape)

    def silent_units(self, step, layer=0, exact=False):
        """The units of ``layer`` whose ``a`` was 0 for every probe digit, at the snapshot nearest to ``step``.

        A ReLU unit that is 0 for every input passes no gradient back, so its
        weights stop learning. Returns their indices (rows of that layer's
        ``W``), ascending; empty when every unit fired for some probe digit.
        """
        return silent_units(self.probe_record(step, exact).a[layer])  # a: (n_probe, n_out)

    @property
    def _shapes(self):
        return [tuple(layer["shape"]) for layer in self.layers]

    def _parameters(self, key, k):
        """Row ``k`` of ``snapshots/params`` or ``grads``, cut into ``[(W, b), ...]`` per layer."""
        if self.schema_version == 1:  # one array per layer and name
            names = ("W", "b") if key.endswith("params") else ("dW", "db")
            return [tuple(self._row(f"snapshots/layer{i}/{name}", k) for name in names) for i in range(self.n_layers)]
        row = self._row(key, k)  # (n_params,)
        return [(row[w].reshape(shape), row[b]) for shape, (w, b) in zip(self._shapes, parameter_slices(self._shapes))]

    # -- the end -------------------------------------------------------------

    @cached_property
    def evaluation(self):
        """The test-set :class:`Evaluation`, or None if the run did not finish."""
        if not self.complete:
            return None
        attrs = self._node("evaluation").attrs
        return Evaluation(
            test_loss=float(attrs["test_loss"]),
            test_accuracy=float(attrs["test_accuracy"]),
            **{name: self._read(f"evaluation/{name}") for name in ("confusion", "predicted", "confidence", "labels")},
        )

    def summary(self):
        """A JSON-able summary of the run (used by ``explainer info``)."""
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
            "activations": [layer["activation"] for layer in self.layers],
            "training": self.config["training"],
            "steps": self.n_steps,
            "planned_steps": self.attrs.get("total_steps"),
            "epochs": self.n_epochs,
            "snapshots": self.n_snapshots,
            "probe_size": len(self.probe_labels),
            "last_snapshot": last_snapshot,
            "silent_units": None if a is None else [silent_units(a[i]).tolist() for i in range(self.n_layers - 1)],
            "final_train_loss": last.get("train_loss"),
            "final_val_accuracy": last.get("val_accuracy"),
            "test_accuracy": ev.test_accuracy if ev else None,
            "explainer_version": self.attrs.get("explainer_version"),
            "schema_version": self.attrs.get("schema_version"),
        }

    def verify(self):
        """Check that every array is present and holds all its committed chunks.

        Reading checks each array when it is first used; this checks them all
        at once (a few milliseconds per array). Raises :class:`TraceError`.
        """
        keys = ["probe/x", "probe/labels", "probe/index"]
        keys += ["snapshots/step", "snapshots/loss"]
        if self.schema_version == 1:
            keys += [f"snapshots/layer{i}/{name}" for i in range(self.n_layers)
                     for name in SNAPSHOT_PARAMS + SNAPSHOT_PROBE]
        else:
            keys += [f"snapshots/{name}" for name in ("params", "grads", "probe")]
        if self.schema_version < 3:
            keys += [f"steps/{name}" for name in STEP_SCALARS + STEP_PER_LAYER]
            keys += [f"epochs/{name}" for name in EPOCH_FIELDS]
        else:
            keys += ["steps/scalars", "steps/layers", "epochs/metrics"]
        if self.complete:
            keys += [f"evaluation/{name}" for name in ("confusion", "predicted", "confidence", "labels")]
        for key in keys:
            self._node(key)
        return self

    # -- reading, with errors that say what broke ---------------------------

    def _node(self, key):
        """The array at ``key``, checked once: it exists and holds every chunk it should."""
        if key in self._nodes:
            return self._nodes[key]
        try:
            node = self._root[key]
        except KeyError:
            raise TraceError(f"{self.path} is a damaged trace: the array '{key}' is missing; record it again") from None
        if not isinstance(node, zarr.Array) or self.packed:
            # a group has no chunks to count; a packed trace is checked when packed,
            # and its zip members carry their own checksums
            self._nodes[key] = node
            return node
        rows = self._committed_rows(key, node)
        per_row_block = math.prod(math.ceil(n / c) for n, c in zip(node.shape[1:], node.chunks[1:]))
        expected = math.ceil(rows / node.chunks[0]) * per_row_block if node.ndim else 1
        try:
            present = node.nchunks_initialized
        except Exception as e:
            raise TraceError(f"{self.path} is a damaged trace: '{key}' cannot be listed ({e}); record it again") from None
        if present < expected:
            raise TraceError(
                f"{self.path} is a truncated or damaged trace: '{key}' has {present} of its {expected} chunks "
                "of data (was it copied incompletely?); copy or record it again"
            )
        self._nodes[key] = node
        return node

    def _committed_rows(self, key, node):
        group = key.split("/")[0]
        counts = {"steps": self.n_steps, "snapshots": self.n_snapshots, "epochs": self.n_epochs}
        return counts.get(group, node.shape[0] if node.ndim else 1)

    def _read(self, key, n=None):
        node = self._node(key)
        try:
            return node[:n] if n is not None else node[...]
        except Exception as e:
            raise TraceError(f"{self.path} is a damaged trace: '{key}' cannot be read ({type(e).__name__}: {e}); "
                             "record it again") from None

    def _row(self, key, k):
        node = self._node(key)
        try:
            return node[k]
        except Exception as e:
            raise TraceError(f"{self.path} is a damaged trace: row {k} of '{key}' cannot be read "
                             f"({type(e).__name__}: {e}); record it again") from None


def _columns(table, names, whole):
    """A table's columns by name; the columns that hold counts as integers of dtype ``whole``."""
    return {name: np.ascontiguousarray(table[:, j], dtype=whole if name in WHOLE_NUMBERS else table.dtype)
            for j, name in enumerate(names)}


def _describe_steps(steps):
    shown = ", ".join(str(int(s)) for s in steps[:8])
    return shown + (f", ... {int(steps[-1])}" if len(steps) > 8 else "")


