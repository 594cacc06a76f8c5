"""The layout of a trace on disk: one Zarr v3 group per training run.

::

    run.zarr/                       group attrs: schema, schema_version, explainer_version,
                                    config, image_shape, sizes, layers, probe, status,
                                    committed = {steps, snapshots, epochs}
      probe/x, probe/labels, probe/index      the fixed probe set (n_probe, n_in), (n_probe,)
      steps/<name>                  one row per training step s: loss, accuracy, lr, epoch,
                                    and per layer (n_steps, n_layers): weight_norm (of the
                                    weights step s used), grad_norm, update_norm (of the
                                    update step s applied), dead_share (units that were 0
                                    for every sample of the batch)
      snapshots/step                (n_snapshots,) the step of each snapshot
      snapshots/loss                (n_snapshots,) the probe set's loss
      snapshots/layer<i>/<name>     W, b, dW, db          (n_snapshots, n_out[, n_in])
                                    (W and b as step s used them, before its update)
                                    z, a, delta           (n_snapshots, n_probe, n_out)
      epochs/<name>                 (n_epochs,) epoch, step, train_loss, train_accuracy,
                                    val_loss, val_accuracy, seconds
      evaluation/<name>             confusion (n_classes, n_classes); predicted,
                                    confidence, labels (n_test,); attrs test_loss,
                                    test_accuracy

Arrays grow along their first axis as training runs. A flush writes the new
rows, then raises ``committed``; readers trust only the rows below
``committed``, so a run killed mid-flush still opens with everything that was
committed before. Layers are numbered from 0 (the first hidden layer).
"""

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "STEP_SCALARS",
    "STEP_PER_LAYER",
    "SNAPSHOT_PARAMS",
    "SNAPSHOT_PROBE",
    "EPOCH_FIELDS",
]

SCHEMA = "explainer-trace"
SCHEMA_VERSION = 1

STEP_SCALARS = ("loss", "accuracy", "lr", "epoch")
STEP_PER_LAYER = ("weight_norm", "grad_norm", "update_norm", "dead_share")
SNAPSHOT_PARAMS = ("W", "b", "dW", "db")
SNAPSHOT_PROBE = ("z", "a", "delta")
EPOCH_FIELDS = ("epoch", "step", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds")
