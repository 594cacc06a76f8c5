"""The same network trained four ways: explainer, scikit-learn, torch and (when installed) Keras.

A student who has followed explainer's from-scratch network asks: would a
real library do better? :func:`compare` answers with one experiment
(:class:`~explainer.experiment.Experiment`) trained by each library on the
same split, with the same architecture, activation, optimizer, learning rate
(and its decay), L2 penalty, batch size and epochs::

    from explainer import Experiment
    from explainer.compare import compare

    comparison = compare(Experiment.preset("digits", epochs=10))
    print(comparison.table())

What stays different, and is each library's own: the initial weights and the
order of the mini-batches (each draws them from the same seed its own way),
and the order in which float32 sums are added. So the accuracies differ by
about what two seeds of one library differ by, which is the lesson.

Matching the settings, library by library:

- scikit-learn's ``MLPClassifier``, one ``partial_fit`` (one epoch) per call:
  ``alpha = l2 * batch_size``, since it divides its penalty by the batch's
  size; SGD and momentum as ``solver="sgd"`` with ``momentum`` 0 or 0.9
  (no Nesterov); it has no RMSprop and no leaky ReLU, and always ends in
  softmax with cross-entropy: those runs are skipped, with the reason.
- torch: ``nn.Sequential`` of ``Linear`` and the activation, ``cross_entropy``
  on the logits, the L2 penalty as weight decay on the weights only (as
  explainer's; the loss it reports adds the penalty, as the others' do), ``SGD`` (with momentum 0.9), ``RMSprop`` (``alpha`` is rho) or
  ``Adam``; imported only here, and only when asked for.
- Keras 3 (when importable: the optional ``[keras]`` extra), always on its
  torch backend: ``Dense`` layers, ``SparseCategoricalCrossentropy`` on the
  logits, the L2 penalty as an ``L2(l2 / 2)`` kernel regulariser (explainer's
  ``l2 / 2 |W|^2``), the same optimizers as torch's (Adam's epsilon set to
  1e-8, Keras's own is 1e-7), the batches in an order drawn from the seed.

The runners are in :mod:`explainer.libraries`.

Each library's epoch is timed by the wall clock, together with its
validation accuracy (which explainer's epoch computes too), and every library
gets the same number of threads (``threads``: NumPy's BLAS for explainer and
scikit-learn, ``torch.set_num_threads`` for torch). One thread by default: on a
machine shared with other work, more threads than free cores make the small
8x8 network's epochs many times slower and the times meaningless.
"""

import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from .data import load_dataset
from .libraries import LIBRARIES
from .metrics import confusion_matrix

__all__ = ["LIBRARIES", "LibraryRun", "Comparison", "compare", "check_comparable"]


@dataclass
class LibraryRun:
    """One library's run: per-epoch curves, the test predictions, or why it was skipped."""

    name: str
    version: str = ""
    skipped: str = ""  # why this library did not run ("" if it ran)
    train_loss: list = field(default_factory=list)  # per epoch: mean loss over the epoch's batches
    val_accuracy: list = field(default_factory=list)  # per epoch
    seconds: list = field(default_factory=list)  # per epoch: training plus the validation accuracy
    predicted: np.ndarray = None  # (n_test,) the predicted digit of every test image
    test_accuracy: float = float("nan")
    confusion: np.ndarray = None  # (n_classes, n_classes): rows true, columns predicted
    model: object = field(default=None, repr=False)  # the trained model itself: a Network, an nn.Sequential, ...
    parameters: list = field(default_factory=list, repr=False)  # [(W, b), ...] per layer, as NumPy, in its own layout
    rows: bool = False  # True: its W is (n_in, n_out) and z = a W + b on a row a; False: (n_out, n_in), z = W a + b

    @property
    def ran(self):
        return not self.skipped

    def as_network(self, experiment):
        """An explainer :class:`~explainer.Network` holding this library's trained weights, each ``W`` turned
        into the column convention (``z = W a + b``, ``W`` of shape (n_out, n_in)) where the library keeps it
        the other way round: the same function, run by explainer's forward pass."""
        n_in, n_classes = self.parameters[0][0].shape[0 if self.rows else 1], len(self.parameters[-1][1])
        net = experiment.network(n_in, n_classes)
        for layer, (W, b) in zip(net.weighted, self.parameters):
            layer.W[...], layer.b[...] = (W.T if self.rows else W), b
        return net

    @property
    def seconds_per_epoch(self):
        """The median epoch's seconds (a noisy neighbour on a shared machine slows a few epochs, not the median)."""
        return float(np.median(self.seconds)) if self.seconds else float("nan")


@dataclass
class Comparison:
    """What :func:`compare` returns: the experiment, the test labels, and one :class:`LibraryRun` per library."""

    experiment: object
    labels: np.ndarray  # (n_test,)
    runs: list
    images: np.ndarray = field(default=None, repr=False)  # (n_test, h, w): the test digits, as the labels' order

    @property
    def ran(self):
        return [r for r in self.runs if r.ran]

    def disagreements(self):
        """``{(a, b): n}``: on how many test digits library ``a``'s answer differs from ``b``'s."""
        ran = self.ran
        return {(a.name, b.name): int((a.predicted != b.predicted).sum())
                for i, a in enumerate(ran) for b in ran[i + 1:]}

    def disputed(self):
        """The test digits (indices into the test set) on which the libraries that ran do not all agree."""
        ran = self.ran
        if len(ran) < 2:
            return np.zeros(0, dtype=np.int64)
        answers = np.stack([r.predicted for r in ran])  # (n_libraries, n_test)
        return np.flatnonzero((answers != answers[0]).any(axis=0))

    def n_disputed(self):
        """Test digits on which the libraries that ran do not all give the same answer."""
        ran = self.ran
        if len(ran) < 2:
            return 0
        answers = np.stack([r.predicted for r in ran])  # (n_libraries, n_test)
        return int((answers != answers[0]).any(axis=0).sum())

    def table(self):
        """The comparison as text: a row per library, then how often they disagree."""
        e = self.experiment
        first = self.ran[0] if self.ran else None
        lines = [f"{e.dataset}: {'-'.join(map(str, e.hidden)) or 'no hidden layer'} hidden, {e.activation}, "
                 f"{e.optimizer} lr {e.lr:g}" + (f" x{e.lr_decay:g} per epoch" if e.lr_decay != 1 else "")
                 + f", l2 {e.l2:g}, batch {e.batch_size}, {e.epochs} epochs, seed {e.seed}; "
                 f"{len(self.labels):,} test digits",
                 "",
                 f"{'library':<14} {'version':<10} {'test accuracy':>13} {'s/epoch':>8} "
                 + (f"{'differs from ' + first.name:>24}" if first else "")]
        for r in self.runs:
            if not r.ran:
                lines.append(f"{r.name:<14} {r.version:<10} {'-':>13} {'-':>8}   {r.skipped}")
                continue
            differs = int((r.predicted != first.predicted).sum())
            lines.append(f"{r.name:<14} {r.version:<10} {r.test_accuracy:>13.4f} {r.seconds_per_epoch:>8.3f} "
                         f"{differs:>24,}")
        if len(self.ran) >= 2:
            lines += ["", f"The {len(self.ran)} models disagree on {self.n_disputed():,} of {len(self.labels):,} "
                      "test digits; pair by pair: "
                      + ", ".join(f"{a} and {b} {n:,}" for (a, b), n in self.disagreements().items())]
        return "\n".join(lines)

    def to_dict(self):
        """A JSON-able summary (no per-digit arrays)."""
        return {
            "experiment": self.experiment.to_dict(),
            "n_test": int(len(self.labels)),
            "libraries": [{"name": r.name, "version": r.version, "skipped": r.skipped or None,
                           "test_accuracy": None if not r.ran else float(r.test_accuracy),
                           "seconds_per_epoch": None if not r.ran else round(r.seconds_per_epoch, 4),
                           "train_loss": [round(float(x), 6) for x in r.train_loss],
                           "val_accuracy": [float(x) for x in r.val_accuracy]}
                          for r in self.runs],
            "disagree": self.n_disputed(),
            "pairs": [{"a": a, "b": b, "disagree": n} for (a, b), n in self.disagreements().items()],
        }


def check_comparable(experiment):
    """Refuse, in one line, an experiment no library but explainer could train alike (a CNN, augmentation)."""
    if experiment.conv:
        raise ValueError("explainer compare trains dense networks only (scikit-learn's MLPClassifier has no "
                         "convolutions); leave out --conv")
    if experiment.augment is not None:
        raise ValueError(f"explainer compare trains every library on the same images, and only explainer's "
                         f"trainer augments them ({experiment.augment}); leave out augment")
    return experiment


def compare(experiment, *, libraries=tuple(LIBRARIES), threads=1, data_dir=None, download=True, progress=print):
    """Train ``experiment`` with each library in ``libraries``; return a :class:`Comparison`.

    Parameters
    ----------
    experiment : Experiment
        A dense network (no ``conv``); its data set is loaded and split once, by its seed.
    libraries : sequence of str
        Names from :data:`LIBRARIES`, in the table's order; the first one that
        runs is the one the others are measured against. A library that is
        not installed, or cannot train this experiment, gets a row that says why.
    threads : int
        Threads each library may use (NumPy's BLAS, torch's intra-op threads).
    progress : callable or None
        Called with a line of text as each library finishes an epoch.
    """
    check_comparable(experiment)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a whole number >= 1; got {threads!r}")
    unknown = [name for name in libraries if name not in LIBRARIES]
    if unknown or not libraries:
        raise ValueError(f"libraries must be chosen from {', '.join(LIBRARIES)}; got {', '.join(unknown) or 'none'}")
    data = load_dataset(experiment.dataset, seed=experiment.seed, data_dir=data_dir, download=download,
                        progress=progress is not None)
    say = progress or (lambda line: None)
    runs = []
    for name in libraries:
        runner_class = LIBRARIES[name]
        skipped = runner_class.skip(experiment)
        run = LibraryRun(name=name, version="" if skipped else runner_class.version(), skipped=skipped)
        runs.append(run)
        if skipped:
            say(f"{name}: skipped: {skipped}")
            continue
        with threadpool_limits(threads), _torch_threads(name, threads):
            _train(runner_class(experiment, data), run, experiment, data, say)
    return Comparison(experiment, np.asarray(data.y_test), runs, data.X_test.reshape(-1, *data.image_shape))


@contextmanager
def _torch_threads(name, threads):
    """torch's intra-op threads set to ``threads`` while it trains (and put back after)."""
    if name not in ("torch", "keras"):  # Keras runs on torch
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _train(runner, run, experiment, data, say):
    """Train ``runner`` epoch by epoch, filling ``run`` (a :class:`LibraryRun`) with what it did."""
    name = run.name
    for epoch in range(experiment.epochs):
        began = time.perf_counter()
        loss, val = runner.epoch()
        if val is None:
            val = float((runner.predict(data.X_val) == data.y_val).mean()) if len(data.y_val) else float("nan")
        run.seconds.append(time.perf_counter() - began)
        run.train_loss.append(float(loss))
        run.val_accuracy.append(val)
        say(f"{name}: epoch {epoch + 1}/{experiment.epochs}: loss {loss:.4f}, validation accuracy {val:.4f}, "
            f"{run.seconds[-1]:.2f} s")
    run.predicted = np.asarray(runner.predict(data.X_test), dtype=np.int64)  # (n_test,)
    run.test_accuracy = float((run.predicted == data.y_test).mean())
    run.confusion = confusion_matrix(data.y_test, run.predicted, data.n_classes)
    run.model, run.parameters, run.rows = runner.model, runner.parameters(), runner.rows
