"""One training run, described by a single frozen dataclass.

An :class:`Experiment` names the data set, the network and how to train it;
:func:`run` loads the data, builds the network, trains it and returns the lot.
The command line, the demo and the default trace all go through here, so a
run described in a trace's configuration can be repeated exactly::

    result = run(Experiment.preset("digits", epochs=5))
    result.history.test_accuracy

Each data set has a preset (:data:`PRESETS`): settings that train well there.
"""

from dataclasses import asdict, dataclass, fields, replace

import numpy as np

from .architecture import cnn_layers, feature_shape
from .augment import Augment
from .budget import check_run
from .conv import PADDINGS
from .data import DATASETS, load_dataset
from .network import Network, check_settings
from .optimizers import default_lr
from .tables import lookup
from .training import TrainConfig, fit

__all__ = ["Experiment", "PRESETS", "CNN_PRESETS", "ARCHS", "Result", "run", "parse_hidden"]


def parse_hidden(text, name="hidden"):
    """Hidden widths written as text: ``"64,32"`` -> ``(64, 32)``; ``""`` or ``"none"`` -> ``()``.

    The one rule for the command line's ``--hidden`` and the live-training
    dashboard's box: whole numbers >= 1 separated by commas (spaces around
    them are fine). ``name`` is what the setting is called in the error.

    >>> parse_hidden(" 64, 32 ")
    (64, 32)
    """
    if not isinstance(text, str):
        raise TypeError(f"{name} must be text like '64,32'; got {text!r}")
    if text.strip().lower() in ("", "none"):
        return ()
    parts = [part.strip() for part in text.split(",")]
    if not all(part.isascii() and part.isdigit() and int(part) >= 1 for part in parts):
        raise ValueError(f"{name} takes widths separated by commas, each a whole number >= 1, like 64,32 "
                         f"('none' for no hidden layer); got {text!r}")
    return tuple(int(part) for part in parts)


@dataclass(frozen=True)
class Experiment:
    """Everything that decides a run's numbers."""

    dataset: str = "digits"  # a name from explainer.data.DATASETS
    hidden: tuple = (64,)  # widths of the hidden layers
    activation: str = "relu"  # hidden-layer activation
    output: str = "softmax"  # output activation
    loss: str = "cross_entropy"
    init: str = None  # None: he for relu-like activations, xavier otherwise
    l1: float = 0.0
    l2: float = 0.0
    optimizer: str = "adam"
    lr: float = None  # None: the optimizer's default (0.1 for sgd, 0.01 for momentum, 0.001 for rmsprop and adam)
    lr_decay: float = 1.0  # multiplies the learning rate after every epoch
    batch_size: int = 32
    epochs: int = 30
    seed: int = 0  # initial weights, data split and shuffling
    dtype: str = "float32"
    conv: tuple = ()  # filters of each convolution, each followed by 2x2 max-pooling; () for a dense network
    kernel: int = 5  # the convolutions' kernel size (kernel x kernel)
    padding: str = "valid"  # the convolutions' padding: "valid" or "same"
    augment: Augment = None  # each batch's images changed at random (explainer.augment); None: not at all

    def __post_init__(self):
        lookup(DATASETS, self.dataset, "dataset")
        try:
            hidden = tuple(int(h) for h in self.hidden)
        except (TypeError, ValueError):
            raise ValueError(f"hidden must be layer widths like (64, 32); got {self.hidden!r}") from None
        if any(h < 1 for h in hidden):
            raise ValueError(f"hidden layer widths must be >= 1; got {self.hidden!r}")
        object.__setattr__(self, "hidden", hidden)
        self._check_conv()
        object.__setattr__(self, "augment", TrainConfig(augment=self.augment).augment)  # an Augment, or None if off
        if self.lr is None:
            object.__setattr__(self, "lr", default_lr(self.optimizer))
        # every setting is checked now, before any data is loaded: the same rules as Network and TrainConfig
        check_settings(self.activation, self.output, self.loss, self.init, self.l1, self.l2, self.seed, self.dtype)
        self.train_config()

    def _check_conv(self):
        conv, kernel = self.conv, self.kernel
        if isinstance(conv, str) or not all(isinstance(n, (int, np.integer)) and n >= 1 for n in conv):
            raise ValueError(f"conv must be the filter counts of the convolutions, like (16, 32); got {conv!r}")
        if isinstance(kernel, bool) or not isinstance(kernel, (int, np.integer)) or kernel < 1:
            raise ValueError(f"kernel must be a whole number >= 1, like 5; got {kernel!r}")
        lookup(dict.fromkeys(PADDINGS), self.padding, "padding")
        object.__setattr__(self, "conv", tuple(int(n) for n in conv))
        if conv:  # a kernel or a pooling that does not fit the images is refused now, before any data is loaded
            feature_shape(self.layers(), (*DATASETS[self.dataset].image_shape, 1))

    @property
    def arch(self):
        """``"cnn"`` with convolutions, ``"mlp"`` (dense layers only) without."""
        return "cnn" if self.conv else "mlp"

    def layers(self):
        """The convolution and pooling layers' specs (:mod:`explainer.architecture`), or None for a dense network."""
        return cnn_layers(self.conv, self.kernel, self.padding) if self.conv else None

    @classmethod
    def preset(cls, dataset="digits", arch="mlp", **overrides):
        """The preset for ``dataset`` and ``arch`` (``"mlp"`` or ``"cnn"``) with some settings changed.

        >>> Experiment.preset("mnist", epochs=2).batch_size
        128
        >>> Experiment.preset("digits", optimizer="sgd").lr  # its own default, not Adam's 0.001
        0.1
        """
        presets = lookup(ARCHS, arch, "arch")
        lookup(presets, dataset, "dataset")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise TypeError(f"Experiment has no setting {unknown[0]!r}; settings: {', '.join(sorted(known))}")
        changes = {k: v for k, v in overrides.items() if v is not None}
        if "optimizer" in changes and "lr" not in changes:
            changes["lr"] = None  # another optimizer takes its own default learning rate, not the preset's
        return replace(presets[dataset], **changes)

    def network(self, n_in, n_classes):
        """Build the (untrained) network this experiment describes."""
        return Network(
            [n_in, *self.hidden, n_classes],
            activation=self.activation,
            output=self.output,
            loss=self.loss,
            init=self.init,
            l1=self.l1,
            l2=self.l2,
            seed=self.seed,
            dtype=self.dtype,
            layers=self.layers(),
        )

    def train_config(self):
        return TrainConfig(
            epochs=self.epochs, batch_size=self.batch_size, optimizer=self.optimizer, lr=self.lr,
            lr_decay=self.lr_decay, seed=self.seed, augment=self.augment
        )

    def to_dict(self):
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        if self.conv:
            d["conv"] = list(self.conv)
        else:  # a dense network's description stays as it was before convolutions existed
            for name in ("conv", "kernel", "padding"):
                del d[name]
        if self.augment is None:  # nor does a run without augmentation's
            del d["augment"]
        return d


# Settings that train well on each data set (see docs/training.md for how they were chosen).
PRESETS = {
    # l2: without it, weights on pixels that are almost never inked random-walk under Adam's normalised
    # steps and the first-layer filters stay mostly their random start; 5e-4 fades them to zero, so
    # the filters show strokes, for 0.0014 of mean test accuracy (docs/training.md)
    "digits": Experiment(dataset="digits", hidden=(128, 64), batch_size=32, l2=5e-4, epochs=30),
    "mnist": Experiment(dataset="mnist", hidden=(512,), batch_size=128, lr_decay=0.9, l2=1e-4, epochs=15),
}

# Convolutional networks (`explainer train --arch cnn`), each convolution followed by 2x2 max-pooling
# (docs/training.md: how they were chosen and what they reach).
CNN_PRESETS = {
    # 8x8: 3x3 kernels with 'same' padding, since two valid 3x3 convolutions and poolings do not fit in 8x8
    "digits": Experiment(dataset="digits", conv=(32, 64), kernel=3, padding="same", hidden=(128,), batch_size=32,
                         l2=5e-4, lr_decay=0.95, epochs=30),
    # MNIST: the network of issue 14's prototype; 5 epochs, the learning rate 0.002 and x0.6 after each
    "mnist": Experiment(dataset="mnist", conv=(16, 32), kernel=5, hidden=(128,), batch_size=128, lr=2e-3,
                        lr_decay=0.6, epochs=5),
}

ARCHS = {"mlp": PRESETS, "cnn": CNN_PRESETS}  # --arch: dense layers only, or convolutions first


@dataclass
class Result:
    """A finished run: the experiment, its data, the trained network and its history."""

    experiment: Experiment
    data: object
    net: Network
    history: object

    def summary(self):
        return {"dataset": self.experiment.dataset, **self.history.summary()}


def run(experiment, *, recorder=None, progress=True, data_dir=None, download=True):
    """Load the data, build the network, train it; return a :class:`Result`.

    First, before anything is loaded, the run is refused (a ValueError that says
    how to fix it) if it would need more memory than the machine has or, with a
    recorder that writes a trace (a :class:`~explainer.trace.TraceRecorder`),
    more disk than is free where the trace goes: see :mod:`explainer.budget`.
    """
    check_run(experiment, schedule=getattr(recorder, "schedule", None), n_probe=getattr(recorder, "n_probe", None),
              n_maps=getattr(recorder, "n_maps", None),
              out=getattr(recorder, "path", None))
    data = load_dataset(experiment.dataset, seed=experiment.seed, data_dir=data_dir, download=download,
                        progress=progress)
    net = experiment.network(data.X_train.shape[1], data.n_classes)
    history = fit(net, data, experiment.train_config(), recorder=recorder, progress=progress)
    return Result(experiment, data, net, history)
