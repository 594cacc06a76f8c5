"""How to train (:class:`TrainConfig`) and what happened (:class:`History`): the two records either side
of the training loop in :mod:`explainer.training`.

::

    config = TrainConfig(epochs=30, augment=Augment(slant=12, stretch=0.1))   # or augment="slant=12,stretch=0.1"
    history = fit(net, data, config)
    history.test_accuracy
"""

from dataclasses import dataclass, field

import numpy as np

from .augment import Augment, parse_augment
from .network import check_seed
from .optimizers import default_lr, make_optimizer

__all__ = ["TrainConfig", "History"]


@dataclass(frozen=True)
class TrainConfig:
    """How to train (the network's shape and seed live in :class:`Network`)."""

    epochs: int = 20  # passes over the training set
    batch_size: int = 32  # samples per step; the last batch of an epoch may be smaller
    optimizer: str = "adam"  # a name from OPTIMIZERS
    lr: float = None  # learning rate of the first epoch; None: the optimizer's default (optimizers.default_lr)
    lr_decay: float = 1.0  # the learning rate is multiplied by this after every epoch
    seed: int = 0  # seeds the shuffling and the augmentation (0 to 2**32 - 1); the same seed gives the same run
    augment: Augment = None  # each batch's images changed at random (explainer.augment), or its text; None: not at all

    def __post_init__(self):
        check_seed(self.seed)
        if self.lr is None:
            object.__setattr__(self, "lr", default_lr(self.optimizer))
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1; got {value!r}")
        make_optimizer(self.optimizer, self.lr)  # validates the name and lr
        if not (isinstance(self.lr_decay, (int, float)) and 0 < self.lr_decay <= 1):
            raise ValueError(f"lr_decay must be a number in (0, 1]; got {self.lr_decay!r}")
        augment = self.augment
        if isinstance(augment, str):  # as the command line takes it: "slant=12,stretch=0.1"
            augment = parse_augment(augment, "augment")
        if isinstance(augment, dict):
            augment = Augment(**augment)
        if augment is not None and not isinstance(augment, Augment):
            raise TypeError(f"augment must be an explainer.Augment, text like 'slant=12,stretch=0.1', or None; "
                            f"got {augment!r}")
        object.__setattr__(self, "augment", augment if augment is not None and augment.on else None)

    def to_dict(self):
        """The settings as JSON-able values; ``augment`` only when it is on (a run without it is described
        as runs were before augmentation existed)."""
        d = {name: getattr(self, name) for name in ("epochs", "batch_size", "optimizer", "lr", "lr_decay", "seed")}
        if self.augment is not None:
            d["augment"] = self.augment.to_dict()
        return d


@dataclass
class History:
    """What happened during ``fit``: one dict per epoch, and the final test.

    ``seconds`` counts time spent training (steps and validation), not time
    spent paused between a :class:`Trainer`'s calls.
    """

    epochs: list = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0
    test_loss: float = float("nan")
    test_accuracy: float = float("nan")
    confusion: np.ndarray = None

    def summary(self):
        """A JSON-able one-line summary."""
        last = self.epochs[-1] if self.epochs else {}
        return {
            "epochs": len(self.epochs),
            "steps": self.steps,
            "seconds": round(self.seconds, 3),
            "train_loss": last.get("train_loss"),
            "train_accuracy": last.get("train_accuracy"),
            "val_accuracy": last.get("val_accuracy"),
            "test_loss": self.test_loss,
            "test_accuracy": self.test_accuracy,
        }
