"""What a recorded run was: its settings, read from a trace's metadata and checked.

A trace's root attributes are JSON; :func:`read_run` turns them into a frozen
:class:`Run`, checking every field's type and that the fields agree with each
other (the layer shapes with the sizes, the probe size with the recording
settings, ...). Consumers ask ``trace.run`` and never index the JSON::

    trace.run.training.lr            # the learning rate of the first epoch
    trace.run.activations            # ('relu', 'relu', 'softmax'): one per layer
    trace.run.steps_per_epoch
    Network(**trace.run.network_config())

Anything missing or of the wrong type is a :class:`TraceError` that names the
field, never a ``KeyError`` from deep inside.
"""

import math
from dataclasses import asdict, dataclass

from ..activations import ACTIVATIONS
from ..data import DATASETS
from ..errors import ExplainerError
from ..initializers import INITIALIZERS
from ..losses import LOSSES
from ..training import TrainConfig

__all__ = ["Run", "TraceError", "read_run", "STATUSES"]

STATUSES = ("running", "interrupted", "complete")  # a killed run stays "running"


class TraceError(ExplainerError, ValueError):
    """A trace is missing, foreign, damaged, or of a schema this explainer does not read."""


@dataclass(frozen=True)
class Run:
    """The settings a trace was recorded with (frozen; read with ``trace.run``)."""

    dataset: str  # 'digits' or 'mnist' (or a test set's name)
    image_shape: tuple  # (height, width) of one image
    sizes: tuple  # units per layer, input first: (64, 128, 64, 10)
    activations: tuple  # each layer's activation, the output's last: ('relu', 'relu', 'softmax')
    activation: str  # the hidden layers' activation (also named for a network with none)
    loss: str  # 'cross_entropy' or 'mse'
    init: str  # the weight initialiser
    l1: float
    l2: float
    seed: int  # initial weights, split, shuffling and probe choice
    dtype: str  # 'float32' or 'float64'
    training: TrainConfig  # epochs, batch_size, optimizer, lr, lr_decay, seed
    schedule: str  # when snapshots were taken (explainer.trace.schedule)
    n_probe: int  # probe digits followed through every snapshot
    total_steps: int  # steps the run was planned to take
    steps_per_epoch: int
    planned_snapshots: tuple  # the steps the schedule picked
    explainer_version: str

    @property
    def shapes(self):
        """Each layer's ``W`` shape, ``(n_out, n_in)``."""
        return [(n_out, n_in) for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:])]

    @property
    def n_layers(self):
        return len(self.sizes) - 1

    @property
    def hidden(self):
        """The hidden layers' widths: ``(128, 64)``."""
        return self.sizes[1:-1]

    @property
    def n_classes(self):
        return self.sizes[-1]

    @property
    def epochs(self):
        """Epochs the run was planned to take."""
        return self.training.epochs

    def network_config(self):
        """Keyword arguments that rebuild the (untrained) network: ``Network(**run.network_config())``."""
        return {"sizes": list(self.sizes), "activation": self.activation, "output": self.activations[-1], "loss": self.loss, "init": self.init, "l1": self.l1,
                "l2": self.l2, "seed": self.seed, "dtype": self.dtype}

    def epoch_of(self, step):
        """The epoch (from 0) that step ``step`` belongs to."""
        return int(step) // self.steps_per_epoch

    def to_dict(self):
        """The run as plain JSON-able values."""
        d = asdict(self)
        d["training"] = self.training.to_dict()
        return {key: list(value) if isinstance(value, tuple) else value for key, value in d.items()}


# -- reading and checking the JSON -------------------------------------------------


class _Fields:
    """Typed access to one JSON object, with errors that name the field."""

    def __init__(self, value, where, path):
        if not isinstance(value, dict):
            raise _damaged(path, f"'{where}' is {type(value).__name__}, not an object")
        self.value, self.where, self.path = value, where, path

    def get(self, key, kind, check=None, what=""):
        where = f"{self.where}.{key}" if self.where else key
        if key not in self.value:
            raise _damaged(self.path, f"its metadata lacks '{where}'")
        value = self.value[key]
        ok = _is(value, kind) and (check is None or check(value))
        if not ok:
            raise _damaged(self.path, f"'{where}' is {value!r}, not {what or _name(kind)}")
        return float(value) if kind is float else value

    def sub(self, key):
        where = f"{self.where}.{key}" if self.where else key
        return _Fields(self.get(key, dict), where, self.path)


def _is(value, kind):
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, kind)


def _name(kind):
    return {int: "a whole number", float: "a number", str: "a string", list: "a list", dict: "an object"}[kind]


def _damaged(path, what):
    return TraceError(f"{path} is a damaged trace: {what}; record it again")


def _whole_numbers(value, n=None, low=1):
    return (isinstance(value, list) and (n is None or len(value) == n)
            and all(_is(v, int) and v >= low for v in value))


def read_run(attrs, path):
    """The :class:`Run` described by a trace's root attributes; :class:`TraceError` if they are damaged."""
    root = _Fields(attrs, "", path)
    config = root.sub("config")
    network, training, data, recording = (config.sub(name) for name in ("network", "training", "data", "recording"))
    sizes = root.get("sizes", list, lambda v: len(v) >= 2 and _whole_numbers(v), "at least two widths >= 1")
    image_shape = root.get("image_shape", list, lambda v: _whole_numbers(v, 2), "[height, width]")
    layers = root.get("layers", list, lambda v: len(v) == len(sizes) - 1, f"{len(sizes) - 1} layers")
    activations = []
    for i, (layer, n_in, n_out) in enumerate(zip(layers, sizes[:-1], sizes[1:])):
        fields = _Fields(layer, f"layers[{i}]", path)
        activations.append(fields.get("activation", str, ACTIVATIONS.__contains__, "an activation's name"))
        fields.get("shape", list, lambda v, n_out=n_out, n_in=n_in: v == [n_out, n_in], f"[{n_out}, {n_in}]")
    activation = network.get("activation", str, ACTIVATIONS.__contains__, "an activation's name")
    output = network.get("output", str, ACTIVATIONS.__contains__, "an activation's name")
    if activations != [activation] * (len(activations) - 1) + [output]:
        raise _damaged(path, f"'layers' have the activations {activations}, not those of 'config.network'")
    if network.get("sizes", list) != sizes:
        raise _damaged(path, f"'config.network.sizes' {network.get('sizes', list)} differs from 'sizes' {sizes}")
    dataset = data.get("name", str)
    if dataset in DATASETS and (tuple(image_shape), sizes[-1]) != (DATASETS[dataset].image_shape,
                                                                 DATASETS[dataset].n_classes):
        raise _damaged(path, f"'image_shape' {image_shape} and {sizes[-1]} classes are not those of {dataset!r}")
    if data.value.get("image_shape", image_shape) != image_shape:
        raise _damaged(path, f"'config.data.image_shape' differs from 'image_shape' {image_shape}")
    if math.prod(image_shape) != sizes[0]:
        raise _damaged(path, f"'image_shape' {image_shape} does not hold the {sizes[0]} inputs of 'sizes'")
    total_steps = root.get("total_steps", int, lambda v: v >= 1, "a whole number >= 1")
    steps_per_epoch = root.get("steps_per_epoch", int, lambda v: 1 <= v <= total_steps,
                               f"a whole number from 1 to {total_steps}")
    planned = root.get("planned_snapshots", list,
                       lambda v: _whole_numbers(v, low=0) and all(a < b for a, b in zip(v, v[1:]))
                       and (not v or v[-1] < total_steps), "ascending steps of the run")
    try:
        train_config = TrainConfig(
            epochs=training.get("epochs", int), batch_size=training.get("batch_size", int),
            optimizer=training.get("optimizer", str), lr=training.get("lr", float),
            lr_decay=training.get("lr_decay", float), seed=training.get("seed", int))
    except ValueError as e:
        if isinstance(e, TraceError):
            raise
        raise _damaged(path, f"'config.training' holds settings no run can have ({e})") from None
    if train_config.epochs * steps_per_epoch != total_steps:
        raise _damaged(path, f"'total_steps' {total_steps} is not {train_config.epochs} epochs of "
                             f"{steps_per_epoch} steps")
    return Run(
        dataset=dataset,
        image_shape=tuple(image_shape),
        sizes=tuple(sizes),
        activations=tuple(activations),
        activation=activation,
        loss=network.get("loss", str, LOSSES.__contains__, "a loss's name"),
        init=network.get("init", str, INITIALIZERS.__contains__, "an initialiser's name"),
        l1=network.get("l1", float, lambda v: v >= 0, "a number >= 0"),
        l2=network.get("l2", float, lambda v: v >= 0, "a number >= 0"),
        seed=network.get("seed", int, lambda v: v >= 0, "a whole number >= 0"),
        dtype=network.get("dtype", str, ("float32", "float64").__contains__, "'float32' or 'float64'"),
        training=train_config,
        schedule=recording.get("schedule", str),
        n_probe=recording.get("n_probe", int, lambda v: v >= 1, "a whole number >= 1"),
        total_steps=total_steps,
        steps_per_epoch=steps_per_epoch,
        planned_snapshots=tuple(planned),
        explainer_version=root.get("explainer_version", str),
    )

