"""The layout of a trace on disk: one Zarr v3 group per training run.

::

    run.zarr/                       group attrs: schema, schema_version, explainer_version,
                                    config, image_shape, sizes, layers, probe, status,
                                    committed = {steps, snapshots, epochs}
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
                                    delta (in that order along axis 1), every layer's units
                                    side by side: layer 0's n_out columns first, then layer 1's
      epochs/metrics                (n_epochs, 7) one row per epoch: epoch, step, train_loss,
                                    train_accuracy, val_loss, val_accuracy, seconds
      evaluation/<name>             confusion (n_classes, n_classes); predicted,
                                    confidence, labels (n_test,); attrs test_loss,
                                    test_accuracy

Where each layer sits in a row of ``params``, ``grads`` and ``probe`` follows
from the layer shapes in the group attributes (:func:`parameter_slices`,
:func:`unit_slices`); ``params`` and ``grads`` also name their parts in their
own attributes, for anyone reading the store with plain Zarr. Zarr's cost is
per array and per write (about a millisecond each), so the numbers that are
written together share an array: a snapshot is three arrays, not seven per
layer, and a step's numbers are two. Fewer arrays make recording, and the
first read of a snapshot, cheaper.

Arrays grow along their first axis as training runs. A flush writes the new
rows, then raises ``committed``; readers trust only the rows below
``committed``, so a run killed mid-flush still opens with everything that was
committed before. Layers are numbered from 0 (the first hidden layer).

Earlier versions, still read: version 1 kept one array per layer and name
(``snapshots/layer<i>/W``, ..., ``z``, ``a``, ``delta``); versions 1 and 2 kept
one array per step and epoch column (``steps/loss``, ..., ``epochs/val_loss``).
"""

__all__ = [
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
]

SCHEMA = "explainer-trace"
SCHEMA_VERSION = 3

STEP_SCALARS = ("loss", "accuracy", "lr", "epoch")  # the columns of steps/scalars
STEP_PER_LAYER = ("weight_norm", "grad_norm", "update_norm", "dead_share")  # axis 1 of steps/layers
SNAPSHOT_PARAMS = ("W", "b", "dW", "db")
SNAPSHOT_PROBE = ("z", "a", "delta")  # the order along axis 1 of snapshots/probe
EPOCH_FIELDS = ("epoch", "step", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds")  # epochs/metrics
WHOLE_NUMBERS = ("epoch", "step")  # columns that hold counts: read back as integers


def parameter_slices(shapes):
    """Where each layer's ``W`` and ``b`` sit in a row of ``snapshots/params``.

    ``shapes`` are the layers' ``W`` shapes, ``(n_out, n_in)``. For 64-16-10::

        >>> parameter_slices([(16, 64), (10, 16)])
        [(slice(0, 1024, None), slice(1024, 1040, None)), (slice(1040, 1200, None), slice(1200, 1210, None))]
    """
    slices, start = [], 0
    for n_out, n_in in shapes:
        w = slice(start, start + n_out * n_in)
        b = slice(w.stop, w.stop + n_out)
        slices.append((w, b))
        start = b.stop
    return slices


def unit_slices(shapes):
    """Which columns of ``snapshots/probe`` hold each layer's units.

        >>> unit_slices([(16, 64), (10, 16)])
        [slice(0, 16, None), slice(16, 26, None)]
    """
    slices, start = [], 0
    for n_out, _ in shapes:
        slices.append(slice(start, start + n_out))
        start += n_out
    return slices
