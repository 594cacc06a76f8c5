"""Training: mini-batch gradient descent with a recorder watching every step.

::

    net = Network([64, 64, 10], seed=0)
    history = fit(net, load_dataset("digits"), TrainConfig(epochs=30))
    history.test_accuracy

One epoch shuffles the training set (with the run's seed) and takes one step
per mini-batch: forward, backward, snapshot (if the recorder wants one),
update. After each epoch the validation set is evaluated; after the last, the
test set. If the loss stops being a finite number, training stops with a
:class:`~explainer.errors.TrainingDivergedError` that says where it blew up and
what to try. So does a loss that, over a whole epoch, averages more than
``DIVERGENCE_FACTOR`` times where it started (the first step's loss, or the
loss of guessing every class equally, whichever is larger): with the
probabilities clipped, a blown-up network can keep a finite loss while
learning nothing.
"""

import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
from tqdm.auto import tqdm

from .errors import TrainingDivergedError
from .metrics import confusion_matrix
from .optimizers import make_optimizer
from .recording import NullRecorder

__all__ = ["TrainConfig", "History", "fit", "DIVERGENCE_FACTOR"]

DIVERGENCE_FACTOR = 3.0
# learning rates that usually work, quoted when training diverges
TYPICAL_LR = {"sgd": "0.01 to 0.5", "momentum": "0.01 to 0.1", "rmsprop": "1e-4 to 1e-3", "adam": "1e-4 to 3e-3"}


@dataclass(frozen=True)
class TrainConfig:
    """How to train (the network's shape and seed live in :class:`Network`)."""

    epochs: int = 20  # passes over the training set
    batch_size: int = 32  # samples per step; the last batch of an epoch may be smaller
    optimizer: str = "adam"  # a name from OPTIMIZERS
    lr: float = 1e-3  # learning rate of the first epoch
    lr_decay: float = 1.0  # the learning rate is multiplied by this after every epoch
    seed: int = 0  # seeds the shuffling; the same seed gives the same run, to the bit

    def __post_init__(self):
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1; got {value!r}")
        make_optimizer(self.optimizer, self.lr)  # validates the name and lr
        if not (isinstance(self.lr_decay, (int, float)) and 0 < self.lr_decay <= 1):
            raise ValueError(f"lr_decay must be a number in (0, 1]; got {self.lr_decay!r}")

    def to_dict(self):
        return asdict(self)


@dataclass
class History:
    """What happened during ``fit``: one dict per epoch, and the final test."""

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


def fit(net, data, config=None, recorder=None, progress=True):
    """Train ``net`` on ``data`` (an :class:`explainer.data.Dataset`).

    Parameters
    ----------
    net : Network
        Trained in place.
    data : Dataset
        Its ``X_train``/``y_train`` are trained on, ``X_val``/``y_val`` evaluated
        after every epoch, ``X_test``/``y_test`` once at the end.
    config : TrainConfig, optional
        Epochs, batch size, optimiser, learning rate and seed.
    recorder : Recorder, optional
        Watches every step (see :mod:`explainer.recording`); default: none.
    progress : bool
        Show a progress bar with the loss and accuracy.

    Returns
    -------
    History
    """
    config = config or TrainConfig()
    recorder = recorder or NullRecorder()
    _check_data(net, data)
    optimizer = make_optimizer(config.optimizer, config.lr)
    rng = np.random.default_rng([1, config.seed])  # stream 1 of the seed: shuffling
    n = len(data.X_train)
    steps_per_epoch = math.ceil(n / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    x_train = np.ascontiguousarray(data.X_train, dtype=net.dtype)
    y_train = net.one_hot(data.y_train)  # (n, n_classes)
    history = History()
    run = {"network": net.config(), "training": config.to_dict(), "data": _describe(data)}
    recorder.start(config=run, net=net, data=data, total_steps=total_steps, steps_per_epoch=steps_per_epoch)

    bar = tqdm(total=total_steps, unit="step", disable=not progress, dynamic_ncols=True)
    start = time.perf_counter()
    step = 0
    first_loss = None
    # overflow is caught by the finiteness check below, with a better message than numpy's
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            for epoch in range(config.epochs):
                bar.set_description(f"epoch {epoch + 1}/{config.epochs}")
                optimizer.lr = config.lr * config.lr_decay**epoch
                order = rng.permutation(n)
                loss_sum = correct = 0.0
                for first in range(0, n, config.batch_size):
                    batch = order[first : first + config.batch_size]
                    x, y = x_train[batch], y_train[batch]  # (batch, n_in), (batch, n_classes)
                    a = net.forward(x)
                    loss = net.loss(a, y)
                    if not math.isfinite(loss):
                        raise TrainingDivergedError(_diverged(net, config, step, epoch, f"the loss became {loss}"))
                    if first_loss is None:  # where the run starts: at least the loss of a uniform guess
                        first_loss = max(loss, net.loss_fn.value(np.full_like(a, 1 / a.shape[1]), y))
                    net.backward(y)
                    hits = int((a.argmax(axis=1) == data.y_train[batch]).sum())
                    if recorder.wants_snapshot(step):
                        recorder.record_snapshot(step, net)
                    updates = optimizer.update(net.params, net.grads)
                    scalars = {"epoch": epoch, "loss": loss, "accuracy": hits / len(batch), "lr": optimizer.lr}
                    recorder.record_step(step, net, scalars, updates)
                    loss_sum += loss * len(batch)
                    correct += hits
                    step += 1
                    if step % 25 == 0:
                        bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
                    bar.update()
                # training metrics are the running means over the epoch's batches
                # (as Keras reports them): free, where a second pass would not be
                metrics = {"epoch": epoch, "train_loss": loss_sum / n, "train_accuracy": correct / n}
                if metrics["train_loss"] > DIVERGENCE_FACTOR * first_loss:
                    what = (f"the loss grew from {first_loss:.3g} at the start to an average of "
                            f"{metrics['train_loss']:.3g} over epoch {epoch + 1}")
                    raise TrainingDivergedError(_diverged(net, config, step - 1, epoch, what))
                if len(data.X_val):
                    metrics["val_loss"], metrics["val_accuracy"] = net.evaluate(data.X_val, data.y_val)
                metrics["seconds"] = time.perf_counter() - start
                history.epochs.append(metrics)
                recorder.record_epoch(epoch, step, metrics)
                bar.set_postfix(
                    loss=f"{metrics['train_loss']:.3f}",
                    acc=f"{metrics['train_accuracy']:.3f}",
                    val_acc=f"{metrics.get('val_accuracy', float('nan')):.3f}",
                )
            history.steps = step
            history.seconds = time.perf_counter() - start
            history.test_loss, history.test_accuracy = net.evaluate(data.X_test, data.y_test)
            probabilities = net.predict_proba(data.X_test)
            predicted = probabilities.argmax(axis=1)
            history.confusion = confusion_matrix(data.y_test, predicted, net.sizes[-1])
            recorder.finish(
                {
                    "test_loss": history.test_loss,
                    "test_accuracy": history.test_accuracy,
                    "confusion": history.confusion,
                    "predicted": predicted,
                    "confidence": probabilities.max(axis=1),
                    "labels": np.asarray(data.y_test),
                }
            )
    finally:
        bar.close()
        recorder.close()
    return history


def _check_data(net, data):
    n_in, n_classes = net.sizes[0], net.sizes[-1]
    if data.X_train.ndim != 2 or data.X_train.shape[1] != n_in:
        raise ValueError(
            f"the network takes {n_in} inputs but the data set {data.name!r} has images of "
            f"{data.X_train.shape[1:]} values: make its first size {data.X_train.shape[1]}"
        )
    if len(data.X_train) == 0:
        raise ValueError(f"the data set {data.name!r} has no training samples")
    top = int(max(data.y_train.max(), data.y_test.max() if len(data.y_test) else 0))
    if top >= n_classes:
        raise ValueError(f"labels go up to {top} but the network has {n_classes} outputs")


def _describe(data):
    return {"name": data.name, "image_shape": list(data.image_shape), "split": data.split}


def _diverged(net, config, step, epoch, what):
    """Explain a diverged run: where it blew up, and what to try."""
    where = ""
    for i, layer in enumerate(net.layers):
        bad = [symbol for symbol, x in (("W", layer.W), ("z", layer.z), ("a", layer.a)) if not np.isfinite(x).all()]
        if bad:
            where = f" The first non-finite values are in layer {i + 1}'s {bad[0]}."
            break
    sizes = [float(np.nanmax(np.abs(layer.z))) if np.isfinite(layer.z).any() else float("inf") for layer in net.layers]
    biggest = int(np.argmax(sizes))
    return (
        f"training diverged at step {step} (epoch {epoch + 1}): {what}.{where} The largest |z| is "
        f"{sizes[biggest]:.3g}, in layer {biggest + 1}. The learning rate {config.lr:g} is too high for "
        f"{config.optimizer}, which usually works with {TYPICAL_LR.get(config.optimizer, 'a smaller one')}: "
        f"try a learning rate 10 to 100 times smaller (--lr {float(f'{config.lr / 30:.1g}'):g})."
    )
