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
- Keras 3: when it is importable (it is an optional extra, not installed by
  the package); otherwise its row says so.

Each library's epoch is timed by the wall clock, together with its
validation accuracy (which explainer's epoch computes too), and every library
gets the same number of threads (``threads``: NumPy's BLAS for explainer and
scikit-learn, ``torch.set_num_threads`` for torch). One thread by default: on a
machine shared with other work, more threads than free cores make the small
8x8 network's epochs many times slower and the times meaningless.
"""

import importlib.util
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from .data import load_dataset
from .metrics import confusion_matrix
from .training import Trainer

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

    @property
    def ran(self):
        return not self.skipped

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

    @property
    def ran(self):
        return [r for r in self.runs if r.ran]

    def disagreements(self):
        """``{(a, b): n}``: on how many test digits library ``a``'s answer differs from ``b``'s."""
        ran = self.ran
        return {(a.name, b.name): int((a.predicted != b.predicted).sum())
                for i, a in enumerate(ran) for b in ran[i + 1:]}

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


# -- the libraries --------------------------------------------------------------------------------------
# Each runner is made with (experiment, data), trains one epoch per ``epoch()`` call (returning the mean
# training loss of its batches, and the validation accuracy if it measured it) and answers ``predict(X) -> (n,) digits``. ``skip(experiment)`` says why a
# library cannot run this experiment ("" if it can).


class _ExplainerRunner:
    name = "explainer"

    @staticmethod
    def version():
        from . import __version__

        return __version__

    @staticmethod
    def skip(experiment):
        return ""

    def __init__(self, experiment, data):
        self.net = experiment.network(data.X_train.shape[1], data.n_classes)
        self.trainer = Trainer(self.net, data, experiment.train_config())

    def epoch(self):
        metrics = self.trainer.epoch()  # the trainer measures the validation accuracy itself
        return metrics["train_loss"], metrics.get("val_accuracy")

    def predict(self, X):
        return self.net.predict(X)


class _SklearnRunner:
    name = "scikit-learn"
    ACTIVATIONS = {"relu": "relu", "sigmoid": "logistic", "tanh": "tanh", "identity": "identity"}
    SOLVERS = {"sgd": ("sgd", 0.0), "momentum": ("sgd", 0.9), "adam": ("adam", 0.0)}  # (solver, momentum)

    @staticmethod
    def version():
        import sklearn

        return sklearn.__version__

    @classmethod
    def skip(cls, experiment):
        if experiment.activation not in cls.ACTIVATIONS:
            return f"MLPClassifier has no {experiment.activation} (it has {', '.join(cls.ACTIVATIONS)})"
        if experiment.optimizer not in cls.SOLVERS:
            return f"MLPClassifier has no {experiment.optimizer} (it has {', '.join(cls.SOLVERS)})"
        if (experiment.output, experiment.loss) != ("softmax", "cross_entropy") or experiment.l1:
            return "MLPClassifier always ends in softmax with cross-entropy, and has no L1 penalty"
        return ""

    def __init__(self, experiment, data):
        from sklearn.neural_network import MLPClassifier

        solver, momentum = self.SOLVERS[experiment.optimizer]
        self.model = MLPClassifier(
            hidden_layer_sizes=experiment.hidden, activation=self.ACTIVATIONS[experiment.activation],
            solver=solver, momentum=momentum, nesterovs_momentum=False, learning_rate_init=experiment.lr,
            alpha=experiment.l2 * experiment.batch_size,  # sklearn's penalty is alpha / 2 |W|^2 / batch size
            batch_size=experiment.batch_size, shuffle=True, random_state=experiment.seed)
        self.experiment, self.data, self.epochs_done = experiment, data, 0
        self.classes = np.arange(data.n_classes)

    def epoch(self):
        from sklearn.exceptions import ConvergenceWarning

        lr = self.experiment.lr * self.experiment.lr_decay ** self.epochs_done
        optimizer = getattr(self.model, "_optimizer", None)
        if optimizer is not None:  # the learning rate's decay: partial_fit reads it from its optimizer
            optimizer.learning_rate_init = optimizer.learning_rate = lr
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model.partial_fit(self.data.X_train, self.data.y_train, classes=self.classes)
        self.epochs_done += 1
        return self.model.loss_curve_[-1], None

    def predict(self, X):
        return self.model.predict(X)


class _TorchRunner:
    name = "torch"

    @staticmethod
    def version():
        import torch

        return torch.__version__.split("+")[0]

    @staticmethod
    def skip(experiment):
        if importlib.util.find_spec("torch") is None:
            return "not installed (optional: pip install torch)"
        if (experiment.output, experiment.loss) != ("softmax", "cross_entropy") or experiment.l1:
            return "compared only with softmax and cross-entropy, without an L1 penalty"
        return ""

    def __init__(self, experiment, data):
        import torch
        from torch import nn

        self.torch, self.experiment, self.data, self.epochs_done = torch, experiment, data, 0
        torch.manual_seed(experiment.seed)
        activation = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.01), "sigmoid": nn.Sigmoid,
                      "tanh": nn.Tanh, "identity": nn.Identity}[experiment.activation]
        sizes = [data.X_train.shape[1], *experiment.hidden, data.n_classes]
        layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(n_in, n_out), activation()]
        self.model = nn.Sequential(*layers[:-1])  # logits out: cross_entropy applies the softmax
        self.weights = [p for name, p in self.model.named_parameters() if name.endswith("weight")]
        biases = [p for name, p in self.model.named_parameters() if name.endswith("bias")]
        groups = [{"params": self.weights, "weight_decay": experiment.l2}, {"params": biases, "weight_decay": 0.0}]
        lr = experiment.lr
        self.optimizer = {
            "sgd": lambda: torch.optim.SGD(groups, lr=lr),
            "momentum": lambda: torch.optim.SGD(groups, lr=lr, momentum=0.9),
            "rmsprop": lambda: torch.optim.RMSprop(groups, lr=lr, alpha=0.9, eps=1e-8),
            "adam": lambda: torch.optim.Adam(groups, lr=lr, betas=(0.9, 0.999), eps=1e-8),
        }[experiment.optimizer]()
        self.X = torch.from_numpy(data.X_train)  # (n, d) float32, shares memory
        self.y = torch.from_numpy(data.y_train)  # (n,) int64
        self.generator = torch.Generator().manual_seed(experiment.seed)

    def epoch(self):
        torch, e = self.torch, self.experiment
        for group in self.optimizer.param_groups:
            group["lr"] = e.lr * e.lr_decay ** self.epochs_done
        order = torch.randperm(len(self.X), generator=self.generator)
        total = 0.0
        for first in range(0, len(order), e.batch_size):
            batch = order[first:first + e.batch_size]
            loss = torch.nn.functional.cross_entropy(self.model(self.X[batch]), self.y[batch])
            self.optimizer.zero_grad()
            loss.backward()
            if e.l2:  # reported like explainer's and scikit-learn's loss: with the penalty weight decay stands for
                with torch.no_grad():
                    loss = loss + e.l2 / 2 * sum((W * W).sum() for W in self.weights)
            self.optimizer.step()
            total += loss.item() * len(batch)
        self.epochs_done += 1
        return total / len(order), None

    def predict(self, X):
        with self.torch.no_grad():
            return self.model(self.torch.from_numpy(X)).argmax(dim=1).numpy()


class _KerasRunner:
    name = "keras"

    @staticmethod
    def version():
        return ""

    @staticmethod
    def skip(experiment):
        if importlib.util.find_spec("keras") is None:
            return "not installed (optional: Keras 3 on its torch backend)"
        return "installed, but not compared yet"


LIBRARIES = {runner.name: runner for runner in (_ExplainerRunner, _SklearnRunner, _TorchRunner, _KerasRunner)}


def check_comparable(experiment):
    """Refuse, in one line, an experiment no library but explainer could train (a CNN)."""
    if experiment.conv:
        raise ValueError("explainer compare trains dense networks only (scikit-learn's MLPClassifier has no "
                         "convolutions); leave out --conv")
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
    return Comparison(experiment, np.asarray(data.y_test), runs)


@contextmanager
def _torch_threads(name, threads):
    """torch's intra-op threads set to ``threads`` while it trains (and put back after)."""
    if name != "torch":
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
