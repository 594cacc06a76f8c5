"""Copying a trace of an earlier schema (1 to 3) into the current layout.

The reader speaks one schema, the current one. A trace recorded by an earlier
explainer is not read in place; :func:`upgrade_trace` (``explainer upgrade``)
copies its numbers into a new trace, with checksums, and leaves the old one as
it was. Only the layout changes: every recorded number is copied as it is
(the per-step numbers of a float64 run, which earlier versions kept as float32,
are widened back to float64 without changing their values).

What each earlier version kept differently:

- version 3: this layout without checksums; the per-step numbers and the probe
  loss in float32; the test loss and accuracy in the attributes of the
  ``evaluation`` group;
- version 2: as 3, but one array per step column and per epoch column
  (``steps/loss``, ..., ``epochs/val_accuracy``);
- version 1: as 2, and one array per layer and name for the snapshots
  (``snapshots/layer<i>/W``, ``b``, ``dW``, ``db``, ``z``, ``a``, ``delta``).
"""

import time
from pathlib import Path

import numpy as np
import zarr

from .. import __version__
from .replace import check_can_write
from .run import TraceError, read_run
from .schema import (
    EPOCH_FIELDS,
    READABLE,
    SCHEMA,
    SCHEMA_VERSION,
    SNAPSHOT_PROBE,
    STEP_PER_LAYER,
    STEP_SCALARS,
    layout,
)
from .writer import TraceWriter

__all__ = ["upgrade_trace", "UPGRADABLE"]

UPGRADABLE = (1, 2, 3)  # the schema versions upgrade_trace reads
EVALUATION_ARRAYS = ("confusion", "predicted", "confidence", "labels")
STATIC = ("schema", "explainer_version", "created", "config", "image_shape", "sizes", "layers", "total_steps",
          "steps_per_epoch", "planned_snapshots", "status")


def upgrade_trace(old, new=None):
    """Copy the trace ``old`` (schema 1 to 3; a folder or a packed ``.zip``) into the current layout at ``new``
    (default: beside it, ``<name>-v4.zarr``); return ``new``. ``old`` is only read."""
    old = Path(old)
    new = Path(new) if new is not None else old.with_name(old.name.split(".")[0] + f"-v{SCHEMA_VERSION}.zarr")
    check_can_write(new, overwrite=False)  # before reading anything: never over something that is there
    try:
        store = zarr.storage.ZipStore(old, mode="r") if old.is_file() else old
        root = zarr.open_group(store, mode="r", zarr_format=3)
        attrs = root.attrs.asdict()
    except Exception as e:
        raise TraceError(f"{old} cannot be read as a trace ({type(e).__name__}); nothing to upgrade") from None
    version = attrs.get("schema_version")
    if attrs.get("schema") != SCHEMA or version not in (*UPGRADABLE, *READABLE):
        raise TraceError(f"{old} is not a trace of schema version {', '.join(map(str, UPGRADABLE))}: "
                         "nothing to upgrade")
    if version in READABLE:
        raise TraceError(f"{old} is already of schema version {version}, which this explainer reads: "
                         "nothing to upgrade")
    static = {key: attrs[key] for key in STATIC if key in attrs}
    run = read_run(static, old)
    committed = attrs.get("committed", {})
    counts = {name: committed.get(name) for name in ("steps", "snapshots", "epochs")}
    if not all(isinstance(n, int) and n >= 0 for n in counts.values()):
        raise TraceError(f"{old} is a damaged trace: its committed counts are {committed!r}; nothing to upgrade")
    legacy = _Legacy(root, version, run, counts, old)
    complete = static.get("status") == "complete"
    static.update(schema_version=SCHEMA_VERSION, status="running",
                  upgraded={"from_schema_version": version, "by_explainer": __version__,
                            "at": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
    writer = TraceWriter(new, static, layout(run), {name: legacy.read(name) for name in
                                                    ("probe/x", "probe/labels", "probe/index")})
    try:
        writer.write_now(legacy.rows(), counts)
        if complete:
            evaluation = root["evaluation"].attrs.asdict()
            arrays = {f"evaluation/{name}": legacy.read(f"evaluation/{name}") for name in EVALUATION_ARRAYS}
            n_test = len(arrays["evaluation/labels"])
            specs = {k: v for k, v in layout(run, n_test).items() if k.startswith("evaluation/")}
            writer.finish({k: v.astype(specs[k].dtype) for k, v in arrays.items()},
                          {"test_loss": float(evaluation["test_loss"]),
                           "test_accuracy": float(evaluation["test_accuracy"]), "n_test": n_test}, specs)
    except (KeyError, ValueError, TypeError) as e:
        raise TraceError(f"{old} is a damaged trace ({type(e).__name__}: {e}); it cannot be upgraded") from None
    finally:
        writer.close(attrs.get("status") if attrs.get("status") in ("running", "interrupted") else "interrupted")
    return new


class _Legacy:
    """The arrays of an earlier layout, read as the current one's rows."""

    def __init__(self, root, version, run, counts, path):
        self.root, self.version, self.run, self.counts, self.path = root, version, run, counts, path

    def read(self, key, n=None):
        try:
            node = self.root[key]
            return node[:n] if n is not None else node[...]
        except Exception as e:
            raise TraceError(f"{self.path} is a damaged trace: '{key}' cannot be read ({type(e).__name__}); "
                             "it cannot be upgraded") from None

    def rows(self):
        """``(key, rows, values)`` for every committed row, in the current layout and dtypes."""
        n, n_snap, n_epochs = self.counts["steps"], self.counts["snapshots"], self.counts["epochs"]
        dtype = self.run.dtype
        if self.version >= 3:
            scalars, layers = self.read("steps/scalars", n), self.read("steps/layers", n)
            metrics = self.read("epochs/metrics", n_epochs)
        else:  # one array per column
            scalars = np.stack([self.read(f"steps/{name}", n) for name in STEP_SCALARS], axis=1)
            layers = np.stack([self.read(f"steps/{name}", n) for name in STEP_PER_LAYER], axis=1)
            metrics = np.stack([self.read(f"epochs/{name}", n_epochs) for name in EPOCH_FIELDS], axis=1)
        snapshots = {"step": self.read("snapshots/step", n_snap), "loss": self.read("snapshots/loss", n_snap)}
        if self.version >= 2:
            for name in ("params", "grads", "probe"):
                snapshots[name] = self.read(f"snapshots/{name}", n_snap)
        else:  # one array per layer and name
            layer = range(self.run.n_layers)
            per = {name: [self.read(f"snapshots/layer{i}/{name}", n_snap) for i in layer]
                   for name in ("W", "b", "dW", "db", *SNAPSHOT_PROBE)}
            flat = [np.concatenate([np.concatenate([W.reshape(n_snap, -1), b], axis=1) for W, b in zip(*pair)],
                                   axis=1) for pair in ((per["W"], per["b"]), (per["dW"], per["db"]))]
            snapshots["params"], snapshots["grads"] = flat
            snapshots["probe"] = np.stack([np.concatenate(per[name], axis=2) for name in SNAPSHOT_PROBE], axis=1)
        writes = [("steps/scalars", slice(0, n), scalars.astype(dtype)),
                  ("steps/layers", slice(0, n), layers.astype(dtype)),
                  ("epochs/metrics", slice(0, n_epochs), metrics.astype(np.float64))]
        writes += [(f"snapshots/{name}", slice(0, n_snap), values.astype(np.int64 if name == "step" else dtype))
                   for name, values in snapshots.items()]
        return [(key, rows, values) for key, rows, values in writes if rows.stop > 0]
