"""What a run needs, worked out before it starts.

A run too large for the machine should be refused in its first second, with
one line that says what it would need and what to make smaller, rather than
end in a MemoryError or a full disk an hour later. :func:`estimate` adds the
needs up from the settings alone (nothing is loaded or allocated);
:func:`check_run`, called by :func:`explainer.run` and by ``explainer train``
before anything else, compares them with the machine.

Memory, in bytes (``p``: bytes per number, 4 for float32; ``P``: the network's
parameters, every W and b; ``U``: its units, every layer but the input):

=============  ==================================================================
data           every image as uint8 and twice as float32 (loaded, then split),
               plus the training images and one-hot labels in the run's dtype
network        P x p x (weights, gradients, the update, 2 temporaries, and the
               optimiser's state: Adam 2, momentum and RMSprop 1, SGD 0)
activations    z, a, delta and a temporary for U units of the largest batch in
               flight (the training batch, or 2048 images when evaluating)
history        about 500 bytes per epoch (its metrics, kept to the end)
snapshots      with a trace: three chunks of 8 snapshots in memory (two buffers,
               one being written), each snapshot 2 P + 3 x n_probe x U numbers,
               and about 200 bytes per planned snapshot step
=============  ==================================================================

Disk, for a trace (``L``: the layers; snapshots counted in whole chunks of 8,
steps in whole chunks of 4096, as they are written)::

    snapshots x (2 P + 3 x n_probe x U) x p     weights, gradients; the probe digits' z, a, delta
    + steps x (4 + 4 L) x p                     every step's loss, accuracy, lr, epoch, and per layer
                                                the norms of W, dW and the update, and the dead share
    + epochs x 9 x 8                            every epoch's metrics
    + n_test x 24 + n_probe x n_in x p + 64 kB  the test set's predictions, the probe images, metadata

A convolutional network counts its convolutions' weights in ``P``, every
layer's values (convolution, pooling and Flatten maps too) in ``U``, and in
each snapshot ``3 x n_probe`` numbers per dense unit plus ``3 x n_maps`` per
value of its convolution and pooling maps (the feature maps a trace keeps for
``n_maps`` probe digits, 10 by default). Both are upper bounds within a small factor: the probe values are compressed
on disk, and the schedule's snapshot count is taken as the sum of its parts.
The machine has ``SC_PHYS_PAGES x SC_PAGE_SIZE`` bytes of memory (``os.sysconf``)
and ``shutil.disk_usage(...).free`` bytes of disk where the trace goes.
"""

import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .data import DATASETS

__all__ = ["Estimate", "estimate", "check_run", "check_probe", "physical_memory", "free_disk", "API_NAMES"]

EVAL_BATCH = 2048  # images per batch when evaluating (Network.predict_proba)
EPOCH_BYTES = 500  # one epoch's metrics in the History
SNAPSHOT_STEP_BYTES = 200  # one planned snapshot step: its number in arrays, a set and the metadata
METADATA_BYTES = 64_000  # a trace's zarr.json files
OPTIMIZER_SLOTS = {"sgd": 0, "momentum": 1, "rmsprop": 1, "adam": 2}  # arrays of state per parameter

# how each setting is called in messages: by the API (here) and by the command line (explainer.cli.train)
API_NAMES = {"hidden": "hidden", "batch_size": "batch_size", "epochs": "epochs", "schedule": "schedule",
             "n_probe": "n_probe"}


@dataclass(frozen=True)
class Estimate:
    """What a run needs: bytes of memory and of disk, part by part (see the module's table)."""

    memory: dict  # part -> bytes
    disk: dict  # part -> bytes; empty when no trace is recorded
    n_params: int
    n_units: int
    batch_rows: int  # the largest batch in flight
    total_steps: int
    n_snapshots: int  # at most

    @property
    def memory_total(self):
        return sum(self.memory.values())

    @property
    def disk_total(self):
        return sum(self.disk.values())


def estimate(experiment, *, schedule=None, n_probe=None, n_maps=None, names=API_NAMES):
    """What ``experiment`` needs, and with ``schedule`` and ``n_probe``, its trace too (a CNN's: with the feature
    maps of ``n_maps`` probe digits, default 10).

    >>> from explainer import Experiment
    >>> e = estimate(Experiment.preset("digits"), schedule="log:48+epochs", n_probe=30)
    >>> e.n_params, e.total_steps, e.n_snapshots
    (17226, 1200, 80)
    """
    # here, not above: explainer.trace imports explainer.experiment, which imports this module
    from .trace.recorder import SNAPSHOT_CHUNK, STEP_CHUNK
    from .trace.run import network_layers
    from .trace.schedule import check_count

    info = DATASETS[experiment.dataset]
    n_in, n_classes = math.prod(info.image_shape), info.n_classes
    split = info.split_sizes()
    sizes = [n_in, *experiment.hidden, n_classes]
    n_params = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))  # W and b of every layer
    n_units = sum(sizes[1:])
    probe_units, map_units, n_weighted = n_units, 0, len(sizes) - 1  # a snapshot's numbers per probe digit
    if experiment.conv:  # a CNN: its convolutions' and dense layers' weights, every layer's units, the maps
        layers = network_layers(experiment.layers(), (*info.image_shape, 1), sizes)
        n_params = sum(math.prod(w) + w[0] for _, _, w in layers if w is not None)
        n_units = sum(math.prod(out) for _, out, _ in layers)
        probe_units = sum(out[0] for kind, out, _ in layers if kind == "dense")
        map_units = sum(math.prod(out) for kind, out, _ in layers if kind in ("conv", "pool"))
        n_weighted = sum(w is not None for _, _, w in layers)
    p = np.dtype(experiment.dtype).itemsize
    steps_per_epoch = math.ceil(split["train"] / experiment.batch_size)
    total_steps = steps_per_epoch * experiment.epochs
    n_all = info.n_pool + (info.n_official_test or 0)
    rows = max(experiment.batch_size, EVAL_BATCH, n_probe or 0)
    memory = {
        "data": n_all * n_in * (1 + 4 + 4) + split["train"] * (n_in + n_classes) * p,
        "network": n_params * p * (5 + OPTIMIZER_SLOTS.get(experiment.optimizer, 2)),
        "activations": rows * (4 * n_units + 2 * n_in) * p,
        "history": experiment.epochs * EPOCH_BYTES,
    }
    disk, n_snapshots = {}, 0
    if schedule is not None:
        n_snapshots = check_count(schedule, total_steps, steps_per_epoch, names["schedule"])
        n_maps = min(10 if n_maps is None else n_maps, n_probe or 0) if map_units else 0
        snapshot = (2 * n_params + 3 * (n_probe or 0) * probe_units + 3 * n_maps * map_units) * p  # one snapshot's
        memory["snapshots"] = 3 * SNAPSHOT_CHUNK * snapshot + n_snapshots * SNAPSHOT_STEP_BYTES
        memory["network"] += n_params * p  # the probe digits' own gradients, at every snapshot
        memory["history"] += experiment.epochs * 3 * 9 * 8  # the per-epoch table, written as one chunk
        disk = {  # whole chunks are written: 8 snapshots, 4096 steps
            "snapshots": _whole(n_snapshots, SNAPSHOT_CHUNK) * snapshot,
            "steps": _whole(total_steps, STEP_CHUNK) * (4 + 4 * n_weighted) * p,
            "epochs": experiment.epochs * 9 * 8,
            "other": split["test"] * 24 + (n_probe or 0) * n_in * p + METADATA_BYTES,
        }
    return Estimate(memory, disk, n_params, n_units, rows, total_steps, n_snapshots)


def check_probe(n_probe, dataset, name="n_probe"):
    """``n_probe`` as an int, or a ValueError: from 1 to the size of ``dataset``'s validation split."""
    n_val = DATASETS[dataset].split_sizes()["val"]
    if isinstance(n_probe, bool) or not isinstance(n_probe, (int, np.integer)) or not 1 <= n_probe <= n_val:
        raise ValueError(f"{name} must be a whole number from 1 to {n_val} (the validation images of "
                         f"{dataset}, which the probe digits are drawn from); got {n_probe!r}")
    return int(n_probe)


def check_run(experiment, *, schedule=None, n_probe=None, n_maps=None, out=None, names=API_NAMES):
    """Refuse, with a ValueError that says how to fix it, a run the machine cannot hold.

    ``schedule``, ``n_probe`` and ``out`` describe the trace to record (None:
    none); ``names`` says what each setting is called in the message (the
    command line passes its flags). Returns the :class:`Estimate`.
    """
    if n_probe is not None:
        check_probe(n_probe, experiment.dataset, names["n_probe"])
    need = estimate(experiment, schedule=schedule, n_probe=n_probe, n_maps=n_maps, names=names)
    have = physical_memory()
    if have is not None and need.memory_total > have:
        part = max(need.memory, key=need.memory.get)
        raise ValueError(f"this run would need about {_size(need.memory_total)} of memory "
                         f"(mostly {_what(part, need, experiment)}), more than this machine has "
                         f"({_size(have)}): {_fix(part, names)}")
    if out is not None and need.disk:
        where = _existing(Path(out))
        free = free_disk(where)
        if free is not None and need.disk_total > free:
            part = max(need.disk, key=need.disk.get)
            raise ValueError(f"the trace at {out} would need about {_size(need.disk_total)} of disk "
                             f"(mostly {_what(part, need, experiment)}), more than is free in {where} "
                             f"({_size(free)}): {_fix(part, names)}, or record it on a larger disk")
    return need


def physical_memory():
    """Bytes of memory the machine has, or None if the system does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def free_disk(path):
    """Bytes free on the disk that holds ``path``, or None if that cannot be told."""
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def _whole(n, chunk):
    """``n`` rounded up to whole chunks."""
    return -(-n // chunk) * chunk


def _existing(path):
    """``path`` or its nearest ancestor that exists (the disk a new file would go to)."""
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _what(part, need, experiment):
    """The part of an estimate that weighs most, in words."""
    return {
        "data": f"the {experiment.dataset} images",
        "network": f"the weights, gradients and optimiser state of {need.n_params:,} parameters",
        "activations": f"z, a and delta of {need.n_units:,} units for {need.batch_rows:,} images at a time",
        "history": f"the metrics of {experiment.epochs:,} epochs",
        "snapshots": f"up to {need.n_snapshots:,} snapshots of {need.n_params:,} parameters",
        "steps": f"the numbers of {need.total_steps:,} steps",
        "epochs": f"the metrics of {experiment.epochs:,} epochs",
        "other": "the test set's predictions and the probe images",
    }[part]


def _fix(part, names):
    """What to make smaller when ``part`` weighs most."""
    n = names
    return {
        "data": "this data set does not fit on this machine",
        "network": f"choose fewer or narrower hidden layers ({n['hidden']})",
        "activations": f"choose narrower hidden layers ({n['hidden']}) or a smaller batch ({n['batch_size']})",
        "history": f"choose fewer epochs ({n['epochs']})",
        "snapshots": f"take fewer snapshots ({n['schedule']}, like log:64) or choose narrower hidden layers "
                     f"({n['hidden']}) or fewer probe digits ({n['n_probe']})",
        "steps": f"choose fewer epochs ({n['epochs']}) or a larger batch ({n['batch_size']})",
        "epochs": f"choose fewer epochs ({n['epochs']})",
        "other": f"choose fewer probe digits ({n['n_probe']})",
    }[part]


def _size(n):
    """``1234567`` -> ``'1.2 MB'``."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n} bytes"
