"""The layout of a trace on disk: one Zarr v3 group per training run.

::

    run.zarr/                       group attrs: schema, schema_version, explainer_version,
                                    config, image_shape, sizes, layers, total_steps,
                                    steps_per_epoch, planned_snapshots, status,
                                    committed = {steps, snapshots, epochs}, checksums, edges,
                                    evaluation = {test_loss, test_accuracy, n_test}, digest
      probe/x, probe/labels, probe/index      the fixed probe set (n_probe, n_in), (n_probe,)
      steps/scalars                 (n_steps, 4) one row per training step s: loss, accuracy,
                                    lr, epoch (the columns, named in the array's attributes)
      steps/layers                  (n_steps, 4, n_layers) per step and layer: weight_norm (of
                                    the weights step s used), grad_norm, update_norm (of the
                                    update step s applied), dead_share (units that were 0 for
                                    every sample of the batch)
      snapshots/step                (n_snapshots,) the step of each snapshot
      snapshots/loss                (n_snapshots,) the probe set's loss
      snapshots/params              (n_snapshots, n_params) every layer's W and b as step s
                                    used them (before its update), flattened and laid end
                                    to end in the order of ``net.params``: W0, b0, W1, b1, ...
      snapshots/grads               (n_snapshots, n_params) the batch's dW, db, laid out alike
      snapshots/probe               (n_snapshots, 3, n_probe, n_units) the probe set's z, a,
                                    delta (in that order along axis 1), every dense layer's
                                    units side by side: layer 0's n_out columns first, then
                                    layer 1's
      snapshots/maps                a CNN's only: (n_snapshots, 3, n_maps, n_map_values) the z, a,
                                    delta of every convolution and pooling layer, for the
                                    probe digits ``config.recording.map_probes`` names (one
                                    per class by default), each layer's (height, width,
                                    channels) values flattened and laid side by side; one
                                    snapshot per chunk, compressed
      epochs/metrics                (n_epochs, 7) one row per epoch: epoch, step, train_loss,
                                    train_accuracy, val_loss, val_accuracy, seconds
      evaluation/<name>             confusion (n_classes, n_classes); predicted,
                                    confidence, labels (n_test,)

Every array's shape, chunks, dtype and codecs follow from the run's settings
(:func:`layout`): the recorder makes the arrays from it and the reader checks
the stored metadata against it. Arrays are chunked along their first axis
only. Every number is stored in the run's dtype (float64 runs keep float64
scalars), except the epoch table (float64) and the integer arrays (int64).

Integrity. Every chunk ends with a CRC32C checksum of its bytes (Zarr's
``crc32c`` codec), which Zarr checks whenever the chunk is read. The root's
``checksums`` names, per array, the checksum each committed chunk ends with,
so that a chunk moved, swapped or left stale is noticed too; ``edges`` names,
per array, its last committed chunk, how many rows were written into it and
their CRC32C, so that a committed count that says more than was written is
noticed, and so are the committed rows of a chunk that a killed run rewrote
after its last commit; and ``digest`` is a SHA-256 of all the other root
attributes, so that damaged metadata is never taken for a real run's.

Arrays grow along their first axis as training runs. A flush writes the new
rows, then raises ``committed`` (with the new chunks' checksums); readers
trust only the rows below ``committed``, so a run killed mid-flush still
opens with everything that was committed before. Layers are numbered from 0
(the first hidden layer).

A convolutional network's run (version 5) has the same arrays, and more: its
layer specs in ``config.network.layers``; in ``layers``, ``params`` and
``grads``, and along the last axis of ``steps/layers``, its *weighted* layers
(each convolution's ``W`` of shape (n_out, k, k, c_in), then the dense ones);
in ``snapshots/probe``, the dense layers after the Flatten; and the feature
maps in ``snapshots/maps``. A dense run's trace is laid out exactly as in
version 4, which is read as it is.

Earlier versions (1 to 3, without checksums) are not read; ``explainer
upgrade`` copies one into the current layout.
"""

import math
from dataclasses import dataclass

from zarr.codecs import BytesCodec, Crc32cCodec, ZstdCodec

__all__ = [
    "ArraySpec",
    "layout",
    "READABLE",
    "STEP_CHUNK",
    "SNAPSHOT_CHUNK",
    "SCHEMA",
    "SCHEMA_VERSION",
    "STEP_SCALARS",
    "STEP_PER_LAYER",
    "SNAPSHOT_PARAMS",
    "SNAPSHOT_PROBE",
    "EPOCH_FIELDS",
    "WHOLE_NUMBERS",
    "parameter_slices",
    "unit_slices",
    "map_slices",
]

SCHEMA = "explainer-trace"
SCHEMA_VERSION = 6
# the versions the reader opens in place: 5 is 6 without augmentation, 4 is 5 without convolutional networks
# (an older explainer, which would show an augmented run as a plain one, refuses a 6: 'upgrade explainer')
READABLE = (4, 5, 6)
STEP_CHUNK = 4096  # rows of per-step numbers per chunk
SNAPSHOT_CHUNK = 8  # snapshots per chunk

STEP_SCALARS = ("loss", "accuracy", "lr", "epoch")  # the columns of steps/scalars
STEP_PER_LAYER = ("weight_norm", "grad_norm", "update_norm", "dead_share")  # axis 1 of steps/layers
SNAPSHOT_PARAMS = ("W", "b", "dW", "db")
SNAPSHOT_PROBE = ("z", "a", "delta")  # the order along axis 1 of snapshots/probe
EPOCH_FIELDS = ("epoch", "step", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds")  # epochs/metrics
WHOLE_NUMBERS = ("epoch", "step")  # columns that hold counts: read back as integers


def parameter_slices(shapes):
    """Where each layer's ``W`` and ``b`` sit in a row of ``snapshots/params``.

    ``shapes`` are the layers' ``W`` shapes: ``(n_out, n_in)``, or a convolution's
    ``(n_out, k, k, c_in)``; ``b`` has ``n_out`` values. For 64-16-10::

        >>> parameter_slices([(16, 64), (10, 16)])
        [(slice(0, 1024, None), slice(1024, 1040, None)), (slice(1040, 1200, None), slice(1200, 1210, None))]
    """
    slices, start = [], 0
    for shape in shapes:
        w = slice(start, start + math.prod(shape))
        b = slice(w.stop, w.stop + shape[0])
        slices.append((w, b))
        start = b.stop
    return slices


def unit_slices(shapes):
    """Which columns of ``snapshots/probe`` hold each layer's units (``shapes``: the dense layers' ``W`` shapes).

        >>> unit_slices([(16, 64), (10, 16)])
        [slice(0, 16, None), slice(16, 26, None)]
    """
    slices, start = [], 0
    for n_out, _ in shapes:
        slices.append(slice(start, start + n_out))
        start += n_out
    return slices


def map_slices(shapes):
    """Which columns of ``snapshots/maps`` hold each convolution's or pooling's maps (``shapes``: (h, w, c) each).

        >>> map_slices([(6, 6, 4), (3, 3, 4)])
        [slice(0, 144, None), slice(144, 180, None)]
    """
    slices, start = [], 0
    for shape in shapes:
        slices.append(slice(start, start + math.prod(shape)))
        start = slices[-1].stop
    return slices


@dataclass(frozen=True)
class ArraySpec:
    """What one stored array must be: its full (planned) shape, chunking, dtype and codecs."""

    shape: tuple
    chunks: tuple
    dtype: str
    compressed: bool = False  # zstd before the checksum; else the raw bytes and the checksum
    attributes: dict = None  # names of the columns, for anyone reading the store with plain Zarr

    @property
    def codecs(self):
        """The codec chain, as Zarr writes it into the array's metadata."""
        chain = [BytesCodec(endian="little")] + ([ZstdCodec(level=0)] if self.compressed else []) + [Crc32cCodec()]
        return [codec.to_dict() for codec in chain]

    @property
    def n_chunks(self):
        """Chunks along the first axis (the only chunked axis)."""
        return math.ceil(self.shape[0] / self.chunks[0]) if self.shape else 1


def layout(run, n_test=None):
    """``{path: ArraySpec}`` of every array of a trace of ``run`` (a :class:`~explainer.trace.run.Run`).

    ``n_test``, the size of the test set, is known once the run has finished;
    the evaluation arrays are left out without it.
    """
    shapes, dtype, n_probe = run.shapes, run.dtype, run.n_probe
    n_params = parameter_slices(shapes)[-1][1].stop
    n_units = unit_slices(run.dense_shapes)[-1].stop
    n_snap, n_epochs, n_layers = len(run.planned_snapshots), run.training.epochs, run.n_layers

    def parts(W, b):  # what sits where in a row of params or grads, for readers of the raw store
        return [{"name": f"layer{i}/{name}", "shape": list(shape), "start": part.start}
                for i, (shape_w, (w, b_)) in enumerate(zip(shapes, parameter_slices(shapes)))
                for name, shape, part in ((W, shape_w, w), (b, shape_w[:1], b_))]

    def whole(shape, dtype, **options):  # one chunk
        return ArraySpec(shape, tuple(max(1, n) for n in shape), dtype, **options)

    def rows(shape, per_chunk, dtype, **options):  # chunked along the first axis
        return ArraySpec(shape, (per_chunk, *shape[1:]), dtype, **options)

    # trained weights are float noise to a compressor: zstd saved 8% of their size and made
    # writing 7x and reading 5x slower, so they are stored raw; so are the small tables,
    # written at every flush
    specs = {
        "probe/x": whole((n_probe, run.sizes[0]), dtype, compressed=True),
        "probe/labels": whole((n_probe,), "int64", compressed=True),
        "probe/index": whole((n_probe,), "int64", compressed=True),
        "snapshots/step": whole((n_snap,), "int64"),
        "snapshots/loss": whole((n_snap,), dtype),
        "snapshots/params": rows((n_snap, n_params), SNAPSHOT_CHUNK, dtype, attributes={"parts": parts("W", "b")}),
        "snapshots/grads": rows((n_snap, n_params), SNAPSHOT_CHUNK, dtype, attributes={"parts": parts("dW", "db")}),
        "snapshots/probe": rows((n_snap, len(SNAPSHOT_PROBE), n_probe, n_units), SNAPSHOT_CHUNK, dtype,
                                compressed=True, attributes={"axis1": list(SNAPSHOT_PROBE)}),
        "steps/scalars": rows((run.total_steps, len(STEP_SCALARS)), STEP_CHUNK, dtype,
                              attributes={"columns": list(STEP_SCALARS)}),
        "steps/layers": rows((run.total_steps, len(STEP_PER_LAYER), n_layers), STEP_CHUNK, dtype,
                             attributes={"axis1": list(STEP_PER_LAYER)}),
        "epochs/metrics": whole((n_epochs, len(EPOCH_FIELDS)), "float64", attributes={"columns": list(EPOCH_FIELDS)}),
    }
    if run.specs:  # a CNN's feature maps: one snapshot per chunk, so that showing one reads one
        maps = run.maps
        n_values = map_slices([shape for _, _, shape in maps])[-1].stop
        parts = [{"name": f"{kind}{i}", "layer": i, "shape": list(shape), "start": part.start}
                 for (i, kind, shape), part in zip(maps, map_slices([shape for _, _, shape in maps]))]
        specs["snapshots/maps"] = ArraySpec((n_snap, len(SNAPSHOT_PROBE), len(run.map_probes), n_values),
                                            (1, len(SNAPSHOT_PROBE), len(run.map_probes), n_values), dtype,
                                            compressed=True, attributes={"axis1": list(SNAPSHOT_PROBE), "parts": parts,
                                                                         "probes": list(run.map_probes)})
    if n_test is not None:
        n_classes = run.n_classes
        specs.update({
            "evaluation/confusion": whole((n_classes, n_classes), "int64", compressed=True),
            "evaluation/predicted": whole((n_test,), "int64", compressed=True),
            "evaluation/confidence": whole((n_test,), dtype, compressed=True),
            "evaluation/labels": whole((n_test,), "int64", compressed=True),
        })
    return specs


COMMITTED_BY = {"steps": ("steps/scalars", "steps/layers"),  # which arrays each committed count covers
                "snapshots": ("snapshots/step", "snapshots/loss", "snapshots/params", "snapshots/grads",
                              "snapshots/probe", "snapshots/maps"),  # (maps: a CNN's only)
                "epochs": ("epochs/metrics",)}
