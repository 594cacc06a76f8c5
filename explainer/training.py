"""Training: mini-batch gradient descent with a recorder watching every step.

::

    net = Network([64, 64, 10], seed=0)
    history = fit(net, load_dataset("digits"), TrainConfig(epochs=30))
    history.test_accuracy

The same run can be driven a step at a time (a notebook's play, pause and
single-step buttons do this), with :class:`Trainer`::

    trainer = Trainer(net, data, TrainConfig(epochs=30))
    trainer.step()              # one mini-batch; returns its loss, accuracy, lr
    trainer.run(100)            # up to 100 more steps
    trainer.epoch()             # on to the end of this epoch
    trainer.run()               # the rest
    history = trainer.finish()  # the test set, once

:func:`fit` is that loop run to the end with a progress bar: there is one
training loop, and a run taken in pieces is the same run, to the bit.

One epoch shuffles the training set (with the run's seed) and takes one step
per mini-batch: forward, backward, snapshot (if the recorder wants one),
update; with ``config.augment`` (:mod:`explainer.augment`) each batch's images
are first changed a little at random, from a second stream of the same seed.
How to train and what happened live in :mod:`explainer.train_config`
(:class:`TrainConfig`, :class:`History`); this module is the loop.

After each epoch the validation set is evaluated; after the last, the
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

import numpy as np
from tqdm.auto import tqdm

from .errors import TrainingDivergedError
from .metrics import confusion_matrix
from .optimizers import OPTIMIZERS, make_optimizer
from .recording import NullRecorder
from .train_config import History, TrainConfig

__all__ = ["TrainConfig", "History", "Trainer", "fit", "DIVERGENCE_FACTOR"]

DIVERGENCE_FACTOR = 3.0


class Trainer:
    """One training run that moves only when asked: a step, an epoch, or to the end.

    Parameters
    ----------
    net : Network
        Trained in place.
    data : Dataset
        Its ``X_train``/``y_train`` are trained on, ``X_val``/``y_val`` evaluated
        after every epoch, ``X_test``/``y_test`` once, by :meth:`finish`.
    config : TrainConfig, optional
        Epochs, batch size, optimiser, learning rate, seed and augmentation.
    recorder : Recorder, optional
        Watches every step (see :mod:`explainer.recording`); default: none.
        Its ``start`` is called here, so making a Trainer starts the run.

    Notes
    -----
    Between calls nothing moves: the weights, the optimiser's state (Adam's
    ``m`` and ``v``, its step count ``t``), the shuffling and augmentation
    generators and the place in the epoch all wait. Steps are numbered from 0; step ``s`` belongs
    to epoch ``s // steps_per_epoch``, since every epoch has the same number
    of mini-batches. If the loss diverges, :meth:`step` raises
    :class:`~explainer.errors.TrainingDivergedError` and the run is over
    (``stopped`` says why): a blown-up network cannot be trained further.

    Use it as a context manager, or call :meth:`close`, so that a run left
    unfinished still flushes its recorder.
    """

    def __init__(self, net, data, config=None, recorder=None):
        self.net, self.data = net, data
        self.config = config = config or TrainConfig()
        self.recorder = recorder or NullRecorder()
        _check_data(net, data)
        self.optimizer = make_optimizer(config.optimizer, config.lr)
        self.rng = np.random.default_rng([1, config.seed])  # stream 1 of the seed: shuffling
        self.augment_rng = np.random.default_rng([2, config.seed])  # stream 2: augmentation (drawn only when on)
        self.n = len(data.X_train)
        self.steps_per_epoch = math.ceil(self.n / config.batch_size)
        self.total_steps = self.steps_per_epoch * config.epochs
        self.x_train = np.ascontiguousarray(data.X_train, dtype=net.dtype)  # (n, n_in)
        self.y_train = net.one_hot(data.y_train)  # (n, n_classes)
        self.history = History()
        self.steps = 0  # steps taken; the next one is step number `steps`
        self.finished = False  # finish() has run
        self.stopped = None  # why the run cannot go on (a diverged loss), or None
        self.last_scalars = None  # the last step's epoch, loss, accuracy, lr (also when its epoch's end diverged)
        self._closed = False
        self._order = None  # this epoch's shuffled sample indices, (n,)
        self._loss_sum = self._correct = 0.0  # running sums over this epoch's batches
        self._first_loss = None
        run = {"network": net.config(), "training": config.to_dict(), "data": _describe(data)}
        self.recorder.start(config=run, net=net, data=data, total_steps=self.total_steps,
                            steps_per_epoch=self.steps_per_epoch)

    @property
    def done(self):
        """True when every step of every epoch has been taken."""
        return self.steps >= self.total_steps

    @property
    def remaining(self):
        """Steps still to take."""
        return self.total_steps - self.steps

    @property
    def current_epoch(self):
        """The epoch (from 0) that the next step belongs to; ``config.epochs`` when done."""
        return self.steps // self.steps_per_epoch

    @property
    def at_epoch_start(self):
        """True before an epoch's first step (so also right after an epoch ended)."""
        return self.steps % self.steps_per_epoch == 0

    def step(self):
        """Take one step: forward, backward, snapshot (if the recorder wants one), update.

        The step that completes an epoch also evaluates the validation set and
        appends the epoch's metrics to ``history.epochs``.

        Returns
        -------
        dict
            The step's ``epoch``, ``loss`` (this batch's), ``accuracy`` and ``lr``.
        """
        self._check_can_step()
        began = time.perf_counter()
        try:
            # overflow is caught by the finiteness checks, with a better message than numpy's
            with np.errstate(over="ignore", invalid="ignore"):
                scalars = self._step()
                if self.at_epoch_start:
                    self._end_epoch(scalars["epoch"], began)
        except BaseException as e:
            # a step cut short leaves the network half-updated: this run cannot go on
            self.stopped = self.stopped or f"step {self.steps} failed ({type(e).__name__}: {e})"
            raise
        finally:
            self.history.steps = self.steps
            self.history.seconds += time.perf_counter() - began
        return scalars

    def run(self, n_steps=None):
        """Take up to ``n_steps`` steps (default: every remaining one); stop at the run's end.

        Returns the number of steps taken.
        """
        if n_steps is None:
            n_steps = self.remaining
        if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 0:
            raise ValueError(f"n_steps must be a whole number >= 0; got {n_steps!r}")
        n = min(int(n_steps), self.remaining)
        for _ in range(n):
            self.step()
        return n

    def epoch(self):
        """Take steps up to the end of the current epoch; return that epoch's metrics."""
        self.step()
        while not self.at_epoch_start:
            self.step()
        return self.history.epochs[-1]

    def finish(self):
        """Evaluate the test set, tell the recorder, close it; return the :class:`History`.

        Call it once every step has been taken (``done``); a second call
        returns the same history.
        """
        if self.finished:
            return self.history
        if self.stopped:
            raise RuntimeError(f"this run cannot be finished: {self.stopped}")
        if not self.done:
            raise RuntimeError(f"{self.remaining} of the run's {self.total_steps} steps are still to take: "
                               "take them first (trainer.run()), or close() the run to abandon it")
        net, data, history = self.net, self.data, self.history
        with np.errstate(over="ignore", invalid="ignore"):
            history.test_loss, history.test_accuracy = net.evaluate(data.X_test, data.y_test)
            probabilities = net.predict_proba(data.X_test)  # (n_test, n_classes)
        predicted = probabilities.argmax(axis=1)
        history.confusion = confusion_matrix(data.y_test, predicted, net.sizes[-1])
        self.recorder.finish(
            {
                "test_loss": history.test_loss,
                "test_accuracy": history.test_accuracy,
                "confusion": history.confusion,
                "predicted": predicted,
                "confidence": probabilities.max(axis=1),
                "labels": np.asarray(data.y_test),
            }
        )
        self.finished = True
        self.close()
        return history

    def close(self):
        """Flush and release the recorder (once); harmless to call again, or after :meth:`finish`."""
        if not self._closed:
            self._closed = True
            self.recorder.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- one step, one epoch's end ---------------------------------------------

    def _check_can_step(self):
        if self._closed and not self.finished:
            raise RuntimeError("this run was closed before its end: start a new run (a new network and "
                               "Trainer) to train again")
        if self.stopped:
            raise RuntimeError(f"this run cannot go on: {self.stopped}. Start a new run (a new network "
                               "and Trainer) to train again")
        if self.done:
            raise RuntimeError(f"all {self.total_steps} steps of this run have been taken: "
                               "call finish() for the test-set evaluation")

    def _step(self):
        config, net, recorder, optimizer = self.config, self.net, self.recorder, self.optimizer
        s = self.steps
        epoch, k = divmod(s, self.steps_per_epoch)  # k: this step's place in the epoch
        if k == 0:  # a new epoch: its learning rate, its shuffle
            optimizer.lr = config.lr * config.lr_decay**epoch
            self._order = self.rng.permutation(self.n)
            self._loss_sum = self._correct = 0.0
        batch = self._order[k * config.batch_size : (k + 1) * config.batch_size]
        x, y = self.x_train[batch], self.y_train[batch]  # (batch, n_in), (batch, n_classes)
        if config.augment is not None:  # each image moved, turned, resized, re-inked a little (explainer.augment)
            x = config.augment(x, self.data.image_shape, self.augment_rng)  # (batch, n_in)
        a = net.forward(x)  # (batch, n_classes)
        loss = net.loss(a, y)
        if not math.isfinite(loss):
            self._diverge(s, epoch, f"the loss became {loss}")
        if self._first_loss is None:  # where the run starts: at least the loss of a uniform guess
            self._first_loss = max(loss, net.loss_fn.value(np.full_like(a, 1 / a.shape[1]), y))
        net.backward(y)
        hits = int((a.argmax(axis=1) == self.data.y_train[batch]).sum())
        if recorder.wants_snapshot(s):
            recorder.record_snapshot(s, net)
        updates = optimizer.update(net.params, net.grads)
        scalars = {"epoch": epoch, "loss": loss, "accuracy": hits / len(batch), "lr": optimizer.lr}
        recorder.record_step(s, net, scalars, updates)
        self.last_scalars = scalars
        self._loss_sum += loss * len(batch)
        self._correct += hits
        self.steps = s + 1
        return scalars

    def _end_epoch(self, epoch, began):
        # training metrics are the running means over the epoch's batches
        # (as Keras reports them): free, where a second pass would not be
        data, n = self.data, self.n
        metrics = {"epoch": epoch, "train_loss": self._loss_sum / n, "train_accuracy": self._correct / n}
        if metrics["train_loss"] > DIVERGENCE_FACTOR * self._first_loss:
            what = (f"the loss grew from {self._first_loss:.3g} at the start to an average of "
                    f"{metrics['train_loss']:.3g} over epoch {epoch + 1}")
            self._diverge(self.steps - 1, epoch, what)
        if len(data.X_val):
            metrics["val_loss"], metrics["val_accuracy"] = self.net.evaluate(data.X_val, data.y_val)
        metrics["seconds"] = self.history.seconds + time.perf_counter() - began
        self.history.epochs.append(metrics)
        self.recorder.record_epoch(epoch, self.steps, metrics)

    def _diverge(self, step, epoch, what):
        self.stopped = f"training diverged at step {step}"
        raise TrainingDivergedError(_diverged(self.net, self.config, step, epoch, what))


def fit(net, data, config=None, recorder=None, progress=True):
    """Train ``net`` on ``data`` (an :class:`explainer.data.Dataset`) to the end.

    Parameters
    ----------
    net : Network
        Trained in place.
    data : Dataset
        Its ``X_train``/``y_train`` are trained on, ``X_val``/``y_val`` evaluated
        after every epoch, ``X_test``/``y_test`` once at the end.
    config : TrainConfig, optional
        Epochs, batch size, optimiser, learning rate, seed and augmentation.
    recorder : Recorder, optional
        Watches every step (see :mod:`explainer.recording`); default: none.
    progress : bool
        Show a progress bar with the loss and accuracy.

    Returns
    -------
    History
    """
    trainer = Trainer(net, data, config, recorder)
    epochs = trainer.config.epochs
    bar = tqdm(total=trainer.total_steps, unit="step", disable=not progress, dynamic_ncols=True)
    try:
        while not trainer.done:
            if trainer.at_epoch_start:
                bar.set_description(f"epoch {trainer.current_epoch + 1}/{epochs}")
            scalars = trainer.step()
            if trainer.steps % 25 == 0:
                bar.set_postfix(loss=f"{scalars['loss']:.3f}", refresh=False)
            bar.update()
            if trainer.at_epoch_start:  # an epoch just ended
                metrics = trainer.history.epochs[-1]
                bar.set_postfix(
                    loss=f"{metrics['train_loss']:.3f}",
                    acc=f"{metrics['train_accuracy']:.3f}",
                    val_acc=f"{metrics.get('val_accuracy', float('nan')):.3f}",
                )
        return trainer.finish()
    finally:
        bar.close()
        trainer.close()


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
        bad = [symbol for symbol, x in (("W", layer.W), ("z", layer.z), ("a", layer.a))
               if x is not None and not np.isfinite(x).all()]  # pooling has no W; a fast convolution keeps no z
        if bad:
            where = f" The first non-finite values are in layer {i + 1}'s {bad[0]}."
            break
    sizes = [0.0 if layer.z is None else float(np.nanmax(np.abs(layer.z))) if np.isfinite(layer.z).any()
             else float("inf") for layer in net.layers]
    biggest = int(np.argmax(sizes))
    low, high = OPTIMIZERS[config.optimizer].usual_lr
    return (
        f"training diverged at step {step} (epoch {epoch + 1}): {what}.{where} The largest |z| is "
        f"{sizes[biggest]:.3g}, in layer {biggest + 1}. The learning rate {config.lr:g} is too high for "
        f"{config.optimizer}, which usually works with {low:g} to {high:g}: try a smaller one, such as "
        f"{_smaller_lr(config.lr, low, high):g}."
    )


def _smaller_lr(lr, low, high):
    """A learning rate to try after ``lr`` diverged: 30 times smaller, rounded, kept in the usual range if it was above.

    >>> _smaller_lr(60, 0.01, 0.5), _smaller_lr(0.3, 0.01, 0.5), _smaller_lr(0.001, 0.001, 0.1)
    (0.5, 0.01, 3e-05)
    """
    smaller = float(f"{lr / 30:.1g}")
    return min(max(smaller, low), high) if lr > low else smaller
