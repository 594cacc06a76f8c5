"""A training run taken live: a step at a time or in the background, recorded as a trace as it goes.

::

    live = LiveRun(Experiment(hidden=(16,), epochs=2), "runs/live/first.zarr")
    live.run_steps(25)              # 25 steps now; returns how many were taken
    trace = live.trace()            # the trace so far, through the reader
    live.start(on_step=print)       # train in the background; on_step(live) after every step
    live.pause()                    # stop after the step under way; the trace holds every step so far
    live.close()

A live run is :class:`explainer.Trainer`, the loop behind ``explainer train``
(so it is the same run as ``explainer train`` with the same settings), with a
:class:`~explainer.trace.TraceRecorder`, one background thread and one lock:
a step, a read of the trace, a pause or the end of the run each hold the lock,
so they never overlap. Nothing is loaded or written until the first step; the
trace goes to ``path``, or, if that is taken, to the first free name with
``-2``, ``-3``, ... added (a trace is never overwritten).

The dashboard :class:`explainer.widgets.LiveTraining` is a view of one: it
draws what :meth:`LiveRun.trace` reads back, as the other dashboards do.
"""

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import numpy as np

from .activations import HIDDEN_ACTIVATIONS
from .architecture import cnn_layers, feature_shape
from .data import DATASETS, MNIST_FILES, load_dataset
from .data.mnist import locate_mnist
from .errors import TrainingDivergedError
from .experiment import ARCHS, CNN_PRESETS, Experiment, parse_hidden
from .optimizers import OPTIMIZERS
from .tables import lookup
from .training import Trainer

__all__ = ["LiveRun", "Plan", "LIVE_DIR", "MAX_WIDTH", "available_datasets", "free_path"]

LIVE_DIR = Path("runs/live")  # where runs go when no path is given (relative to the working folder)
MAX_WIDTH = 4096  # widest hidden layer accepted: wider ones train too slowly to watch
MAX_CHANNELS = 256  # most filters a convolution may have here, for the same reason


def available_datasets():
    """The data sets that can be trained on here without downloading: digits, and MNIST if its files are on disk."""
    folder, _ = locate_mnist()
    mnist = all(any((folder / f"{name}{ext}").is_file() for ext in ("", ".gz")) for name in MNIST_FILES)
    return [name for name in DATASETS if name != "mnist" or mnist]


def free_path(base):
    """``base``, or the first of ``base-2``, ``base-3``, ... that does not exist yet."""
    path, k = Path(base), 1
    while path.exists():
        k += 1
        path = Path(base).with_name(f"{Path(base).stem}-{k}{Path(base).suffix}")
    return path


@dataclass(frozen=True)
class Plan:
    """A live run before it starts (:meth:`LiveRun.plan`)."""

    image_shape: tuple  # (height, width) of its images
    n_units: int  # of its first layer: the filters (a CNN's kernels) there will be
    total_steps: int
    steps_per_epoch: int
    tile_shape: tuple = None  # (height, width) of a first-layer filter: the image's, or a CNN's kernel (k, k)


@lru_cache(maxsize=2)
def _data(name, seed):
    """A loaded, split data set; kept, since loading MNIST takes seconds."""
    return load_dataset(name, seed=seed, download=False, progress=False)


class LiveRun:
    """One training run, taken a step at a time or in the background, and recorded.

    Parameters
    ----------
    experiment : Experiment
        The run's settings (:meth:`experiment` makes one from a dashboard's controls).
    path : str or Path, optional
        Where the trace goes; default ``runs/live/<date>-<time>.zarr``. A taken
        name gets ``-2``, ``-3``, ... added when the run starts.
    steps_per_second : float
        The pace in the background; 0: as fast as it can. May be changed while playing.

    Attributes
    ----------
    path : Path or None
        The trace, once the run has started (its first step).
    over : str
        Why the run can take no more steps ("finished: test accuracy 91.2%",
        "training diverged at step 57", "not started: ..."), or "".
    error : Exception or None
        The error that ended the run, if one did.
    lock : threading.RLock
        Held by every step and every read of the trace.
    """

    def __init__(self, experiment, path=None, *, steps_per_second=0.0):
        if not isinstance(experiment, Experiment):
            raise TypeError(f"experiment must be an explainer.Experiment; got {type(experiment).__name__}")
        self.experiment = experiment
        self.steps_per_second = float(steps_per_second)
        self.path = None
        self.over, self.error = "", None
        self.lock = threading.RLock()
        self._base = Path(path) if path is not None else None
        self._trainer = None
        self._stop = threading.Event()
        self._thread = None

    # -- the settings a dashboard offers ----------------------------------------------

    @staticmethod
    def choices(setting):
        """What a dashboard may offer for ``setting``: "dataset" (those on disk), "activation" or "optimizer"."""
        offered = {"dataset": available_datasets, "activation": lambda: list(HIDDEN_ACTIVATIONS),
                   "optimizer": lambda: list(OPTIMIZERS), "arch": lambda: list(ARCHS)}
        return lookup(offered, setting, "setting")()

    @staticmethod
    def check(setting, value):
        """``value`` if it is a choice of ``setting`` ("dataset", "activation", "optimizer" or "arch") that can be
        trained on here; a ValueError naming the choices (or saying how to get the data) otherwise."""
        tables = {"dataset": DATASETS, "activation": dict.fromkeys(HIDDEN_ACTIVATIONS), "optimizer": OPTIMIZERS,
                  "arch": ARCHS}
        lookup(lookup(tables, setting, "setting"), value, setting)
        if setting == "dataset" and value not in available_datasets():
            folder, _ = locate_mnist()
            raise ValueError(f"the {value} files are not on this machine (looked in {folder}): fetch them once "
                             f"with `explainer data fetch {value}`, then make a new LiveTraining")
        return value

    @staticmethod
    def experiment(dataset="digits", hidden="64", arch="mlp", conv=None, **settings):
        """The :class:`Experiment` a dashboard's controls describe: ``hidden`` as text ("64,32"), at most
        ``MAX_WIDTH`` units wide; with ``arch="cnn"``, convolutions of ``conv`` filters ("32,64"; default the
        data set's CNN preset's), each followed by 2x2 max-pooling, with the preset's kernel size and padding.
        A ValueError naming the setting if they describe none."""
        widths = parse_hidden(hidden) if isinstance(hidden, str) else tuple(hidden)
        if widths and max(widths) > MAX_WIDTH:
            raise ValueError(f"hidden layers can be at most {MAX_WIDTH} units wide here, to train at a speed worth "
                             f"watching; got {hidden!r}")
        if LiveRun.check("arch", arch) == "cnn":
            lookup(DATASETS, dataset, "dataset")
            preset = CNN_PRESETS.get(dataset)  # its kernel size and padding, and its filters unless conv names some
            filters = preset.conv if conv is None and preset else conv
            try:
                filters = parse_hidden(filters, "conv") if isinstance(filters, str) else tuple(filters or ())
            except ValueError:
                filters = ()
            if not filters or max(filters) > MAX_CHANNELS:
                raise ValueError(f"conv takes each convolution's filters separated by commas, each a whole number "
                                 f"from 1 to {MAX_CHANNELS}, like 32,64; got {conv!r}")
            kernel, padding = (preset.kernel, preset.padding) if preset else (5, "valid")
            try:  # each convolution halves the maps (its pooling): a few too many leave nothing to pool
                feature_shape(cnn_layers(filters, kernel, padding), (*DATASETS[dataset].image_shape, 1))
            except ValueError as e:
                raise ValueError(f"conv: {len(filters)} convolutions of {kernel}x{kernel} ({padding}), each with 2x2 "
                                 f"pooling, do not fit the {dataset} images ({e}); got {conv!r}") from None
            return Experiment(dataset=dataset, hidden=widths, conv=filters, kernel=kernel, padding=padding, **settings)
        return Experiment(dataset=dataset, hidden=widths, **settings)

    @staticmethod
    def plan(experiment):
        """What a run of ``experiment`` will be, before it starts: a :class:`Plan`."""
        info = DATASETS[experiment.dataset]
        per_epoch = -(-info.split_sizes()["train"] // experiment.batch_size)
        if experiment.conv:  # the first layer is a convolution: its kernels are the filters
            n_units, tile = experiment.conv[0], (experiment.kernel, experiment.kernel)
        else:
            n_units, tile = (experiment.hidden or (info.n_classes,))[0], tuple(info.image_shape)
        return Plan(image_shape=tuple(info.image_shape), n_units=n_units, total_steps=per_epoch * experiment.epochs,
                    steps_per_epoch=per_epoch, tile_shape=tile)

    # -- where the run is ------------------------------------------------------------------

    @property
    def started(self):
        """True once the run has its trainer and trace (its first step was asked for and could be taken)."""
        return self._trainer is not None

    @property
    def step(self):
        """Steps taken; the next step's number."""
        return self._trainer.steps if self._trainer is not None else 0

    @property
    def playing(self):
        """True while the background thread trains: started, not asked to pause, not over."""
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set() and not self.over

    def trace(self):
        """The run's trace as it is now, through the reader: every step taken so far (written first)."""
        with self.lock:
            if self.path is None:
                raise ValueError("this run has not started: take a step first")
            self._flush()
            from .trace import open_trace  # here, not at import: `import explainer` needs no Zarr

            return open_trace(self.path)

    # -- taking steps ---------------------------------------------------------------------------

    def run_steps(self, n):
        """Take ``n`` steps now (fewer if the run ends), then write the trace; return how many were taken."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n must be a whole number of steps >= 0; got {n!r}")
        self.pause()
        with self.lock:
            if not n or not self._begin():
                return 0
            first = self._trainer.steps
            try:
                while self._trainer.steps - first < n and self._advance():
                    pass
            finally:
                self._flush()
            return self._trainer.steps - first  # a step whose epoch's end diverged counts

    def start(self, on_step=None, on_stop=None):
        """Train in the background until paused, finished or diverged; return at once.

        ``on_step(run)`` is called after every step and ``on_stop(run)`` once at the
        end, both on the training thread, holding the lock (a dashboard redraws there).
        """
        if self.playing:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._play, args=(on_step, on_stop), name="explainer-live-run",
                                        daemon=True)
        self._thread.start()

    def pause(self):
        """Stop the background training (after the step under way) and write the trace so far."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        with self.lock:
            self._flush()

    def wait(self, timeout=None):
        """Block until the background training stops by itself; True if it has stopped."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not (thread is not None and thread.is_alive())

    def close(self):
        """Stop, and close the trace: marked interrupted, unless the run finished. Harmless twice."""
        self.pause()
        with self.lock:
            if self._trainer is not None:
                self._trainer.close()  # harmless after finish()
            self.over = self.over or "closed"

    def _play(self, on_step, on_stop):
        try:
            with self.lock:
                going = self._begin()
            due = time.monotonic()  # when the next step is due, at the chosen pace
            while going and not self._stop.is_set():
                with self.lock:
                    if not self._advance():
                        break
                    if on_step is not None:
                        on_step(self)
                if self.steps_per_second > 0:  # keep to the pace (never catching up more than 0.1 s)
                    due = max(due + 1 / self.steps_per_second, time.monotonic() - 0.1)
                    self._stop.wait(max(0.0, due - time.monotonic()))  # wakes at once on pause
        except Exception as error:  # noqa: BLE001 -- a thread's exception would be lost: keep it
            self.error = error
        finally:
            with self.lock:
                self._flush()
                if on_stop is not None:
                    on_stop(self)

    def _begin(self):
        """Load the data and start the trainer and its trace, on the first step; False if that failed."""
        if self._trainer is not None:
            return not self.over
        if self.over:
            return False
        try:
            data = _data(self.experiment.dataset, self.experiment.seed)
            net = self.experiment.network(data.X_train.shape[1], data.n_classes)
            path = free_path(self._base or LIVE_DIR / f"{datetime.now():%Y%m%d-%H%M%S}.zarr")
            path.parent.mkdir(parents=True, exist_ok=True)
            from .trace import TraceRecorder

            recorder = TraceRecorder(path)
            try:
                self._trainer = Trainer(net, data, self.experiment.train_config(), recorder=recorder)
            except BaseException:
                recorder.close()
                raise
        except Exception as error:  # noqa: BLE001 -- the run cannot start: say why, to whoever asks
            self.over, self.error = f"not started: {error}", error
            return False
        self.path = path
        return True

    def _advance(self):
        """One step; False when none was taken (the run is over, or just diverged)."""
        trainer = self._trainer
        if trainer is None or self.over:
            return False
        try:
            trainer.step()
        except TrainingDivergedError as error:
            self.over, self.error = trainer.stopped, error  # "training diverged at step s"
            trainer.close()  # the trace keeps every step up to here, marked interrupted
            return False
        except Exception as error:  # noqa: BLE001 -- e.g. the disk is full: the run cannot go on
            self.over, self.error = trainer.stopped or f"stopped: {type(error).__name__}", error
            trainer.close()
            return False
        if trainer.done:
            history = trainer.finish()  # the test set; the trace is complete
            self.over = f"finished: test accuracy {history.test_accuracy:.1%}"
        return True

    def _flush(self):
        if self._trainer is not None and not self.over:
            self._trainer.recorder.flush()
