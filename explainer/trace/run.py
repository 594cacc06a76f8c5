"""What a recorded run was: its settings, read from a trace's metadata and checked.

A trace's root attributes are JSON; :func:`read_run` turns them into a frozen
:class:`Run`, checking every field's type and that the fields agree with each
other (the layer shapes with the sizes, the probe size with the recording
settings, ...). Consumers ask ``trace.run`` and never index the JSON::

    trace.run.training.lr            # the learning rate of the first epoch
    trace.run.activations            # ('relu', 'relu', 'softmax'): one per layer
    trace.run.steps_per_epoch
    trace.run.is_cnn                 # True for a convolutional network: trace.run.specs, .maps
    Network(**trace.run.network_config())

Anything missing or of the wrong type is a :class:`TraceError` that names the
field, never a ``KeyError`` from deep inside.
"""

import math
from dataclasses import asdict, dataclass

from ..activations import ACTIVATIONS
from ..architecture import feature_shape, parse_spec
from ..augment import AUGMENT_SETTINGS, Augment
from ..data import DATASETS
from ..errors import ExplainerError
from ..initializers import INITIALIZERS
from ..losses import LOSSES
from ..training import TrainConfig

__all__ = ["Run", "TraceError", "read_run", "network_layers", "STATUSES"]

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
    training: TrainConfig  # epochs, batch_size, optimizer, lr, lr_decay, seed, augment (None if off)
    schedule: str  # when snapshots were taken (explainer.trace.schedule)
    n_probe: int  # probe digits followed through every snapshot
    total_steps: int  # steps the run was planned to take
    steps_per_epoch: int
    planned_snapshots: tuple  # the steps the schedule picked
    explainer_version: str
    specs: tuple = ()  # a CNN's convolution and pooling layers: ('conv 16 5', 'pool 2', ...); () for a dense one
    channels: int = 1  # channels of an input image (a CNN's)
    map_probes: tuple = ()  # the probe digits (indices into the probe set) whose feature maps were recorded

    @property
    def is_cnn(self):
        """True for a convolutional network's run (one with layer ``specs``)."""
        return bool(self.specs)

    @property
    def network_layers(self):
        """Every layer of the network in order, as ``(kind, out_shape, W shape or None)``; kind is
        ``"conv"``, ``"pool"``, ``"flatten"`` or ``"dense"`` (a dense network's are all ``"dense"``)."""
        return network_layers(self.specs, (*self.image_shape, self.channels), self.sizes)

    @property
    def shapes(self):
        """Each weighted layer's ``W`` shape: ``(n_out, n_in)``, a convolution's ``(n_out, k, k, c_in)``."""
        return [w for _, _, w in self.network_layers if w is not None]

    @property
    def dense_shapes(self):
        """The dense layers' ``W`` shapes, ``(n_out, n_in)``: all of a dense network's layers."""
        return [w for kind, _, w in self.network_layers if kind == "dense"]

    @property
    def maps(self):
        """A CNN's convolution and pooling layers: ``[(index in network_layers, kind, (h, w, c)), ...]``."""
        return [(i, kind, shape) for i, (kind, shape, _) in enumerate(self.network_layers) if kind in ("conv", "pool")]

    @property
    def n_layers(self):
        """The layers with weights (a CNN's convolutions and dense layers; every layer of a dense network)."""
        return len(self.shapes)

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
        cnn = {"layers": list(self.specs), "image_shape": [*self.image_shape, self.channels]} if self.specs else {}
        return {"sizes": list(self.sizes), "activation": self.activation, "output": self.activations[-1], "loss": self.loss, "init": self.init, "l1": self.l1,
                "l2": self.l2, "seed": self.seed, "dtype": self.dtype, **cnn}

    def epoch_of(self, step):
        """The epoch (from 0) that step ``step`` belongs to."""
        return int(step) // self.steps_per_epoch

    def to_dict(self):
        """The run as plain JSON-able values."""
        d = asdict(self)
        d["training"] = self.training.to_dict()
        if not self.specs:  # a dense run's description, as before CNNs were recorded
            for key in ("specs", "channels", "map_probes"):
                d.pop(key)
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


def network_layers(specs, image_shape, sizes):
    """``(kind, out_shape, W shape or None)`` of every layer of a network of ``specs`` (conv and pool layers,
    or none) over images of ``image_shape`` (h, w, c) and dense ``sizes`` (see :attr:`Run.network_layers`)."""
    if not specs:
        return [("dense", (n_out,), (n_out, n_in)) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    layers, shape = [], tuple(image_shape)
    for spec in specs:
        kind, *args = parse_spec(spec)
        out = feature_shape([spec], shape)
        layers.append((kind, out, (args[0], args[1], args[1], shape[2]) if kind == "conv" else None))
        shape = out
    widths = [math.prod(shape), *sizes[1:]]
    return [*layers, ("flatten", (widths[0],), None),
            *(("dense", (n_out,), (n_out, n_in)) for n_in, n_out in zip(widths[:-1], widths[1:]))]


def _read_cnn(network, recording, image_shape, sizes, path):
    """A CNN's layer specs, input channels and the probe digits with maps; ``((), 1, ())`` for a dense run."""
    if network.value.get("layers") is None:
        if recording.value.get("map_probes", []) != []:
            raise _damaged(path, "'config.recording.map_probes' names feature maps, but the run has no convolutions")
        return (), 1, ()
    specs = network.get("layers", list, lambda v: len(v) >= 1 and all(isinstance(x, str) for x in v),
                        "a list of layer specs")
    shape = network.get("image_shape", list, lambda v: _whole_numbers(v, 3) and v[:2] == image_shape
                        and math.prod(v) == sizes[0], f"[{image_shape[0]}, {image_shape[1]}, channels] of "
                        f"{sizes[0]} inputs")
    try:
        network_layers(specs, shape, sizes)
    except ValueError as e:
        raise _damaged(path, f"'config.network.layers' {specs} do not fit its images ({e})") from None
    n_probe = recording.get("n_probe", int)
    probes = recording.get("map_probes", list, lambda v: len(v) >= 1 and _whole_numbers(v, low=0)
                           and all(a < b for a, b in zip(v, v[1:])) and v[-1] < n_probe,
                           f"ascending probe digits from 0 to {n_probe - 1}")
    return tuple(specs), shape[2], tuple(probes)


def _read_augment(training, path):
    """The run's augmentation (:class:`~explainer.augment.Augment`), or None: traces recorded without it, and
    those recorded before augmentation existed, have no ``config.training.augment``."""
    if training.value.get("augment") is None:
        return None
    settings = training.get("augment", dict)
    unknown = sorted(set(settings) - set(AUGMENT_SETTINGS))
    if unknown:
        raise _damaged(path, f"'config.training.augment' has a setting {unknown[0]!r} that no augmentation has")
    return Augment(**settings)


def read_run(attrs, path):
    """The :class:`Run` described by a trace's root attributes; :class:`TraceError` if they are damaged."""
    root = _Fields(attrs, "", path)
    config = root.sub("config")
    network, training, data, recording = (config.sub(name) for name in ("network", "training", "data", "recording"))
    sizes = root.get("sizes", list, lambda v: len(v) >= 2 and _whole_numbers(v), "at least two widths >= 1")
    image_shape = root.get("image_shape", list, lambda v: _whole_numbers(v, 2), "[height, width]")
    specs, channels, map_probes = _read_cnn(network, recording, image_shape, sizes, path)
    shapes = [w for _, _, w in network_layers(specs, (*image_shape, channels), sizes) if w is not None]
    layers = root.get("layers", list, lambda v: len(v) == len(shapes), f"{len(shapes)} layers")
    activations = []
    for i, (layer, shape) in enumerate(zip(layers, shapes)):
        fields = _Fields(layer, f"layers[{i}]", path)
        activations.append(fields.get("activation", str, ACTIVATIONS.__contains__, "an activation's name"))
        fields.get("shape", list, lambda v, shape=shape: v == list(shape), str(list(shape)))
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
    if math.prod(image_shape) * channels != sizes[0]:
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
            lr_decay=training.get("lr_decay", float), seed=training.get("seed", int),
            augment=_read_augment(training, path))
    except (TypeError, ValueError) as e:
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
        specs=specs,
        channels=channels,
        map_probes=map_probes,
    )

