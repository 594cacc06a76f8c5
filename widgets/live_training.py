"""LiveTraining: train a network in the notebook, watch it learn, and keep the run as a trace.

::

    live = LiveTraining()                    # the 8x8 digits; press play
    live = LiveTraining(hidden="64,32", activation="sigmoid", optimizer="sgd", lr=0.5)
    live.run_steps(100)                      # or drive it from code: 100 steps, then a redraw
    live.start(); ...; live.pause()          # train in the background; the kernel stays free
    TrainingDashboard(live.trace_path)       # the run scrubbed through, even mid-run

It trains with :class:`explainer.Trainer`, the loop behind ``explainer train``,
and records every run with a :class:`~explainer.trace.TraceRecorder` at
``trace_path``. Play trains on a background thread, redrawing the loss curve
and the first-layer filters at most every ``REDRAW_SECONDS``; pausing, the
end of the run and a diverging loss flush the trace, so the other dashboards
open it at once.

A run is built from the controls when it takes its first step. Changing a
control ends the current run (its trace stays, marked interrupted); the next
play or step starts a new run in a new trace. Traces are never overwritten:
``-2``, ``-3``, ... is added to a name that is taken.
"""

import threading
import time
from contextlib import ExitStack
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import ipywidgets as widgets
import numpy as np
import traitlets

from explainer import PRESETS, Experiment, Trainer, snapshot_range
from explainer.activations import ACTIVATIONS
from explainer.data import DATASETS, MNIST_FILES, load_dataset
from explainer.data.mnist import locate_mnist
from explainer.errors import TrainingDivergedError
from explainer.figures.weights import MAX_FILTERS
from explainer.metrics import silent_units
from explainer.optimizers import OPTIMIZERS
from explainer.tables import lookup
from explainer.trace import TraceRecorder

from .common import CSS, ErrorArea, filters_png, image_widget, silent_words
from .live_plot import LossPlot

__all__ = ["LiveTraining", "HIDDEN_ACTIVATIONS", "SPEEDS", "LIVE_DIR", "REDRAW_SECONDS", "available_datasets"]

HIDDEN_ACTIVATIONS = [name for name in ACTIVATIONS if name != "softmax"]  # as `explainer train --activation`
SPEEDS = {"10 steps/s": 10.0, "50 steps/s": 50.0, "200 steps/s": 200.0, "as fast as it can": 0.0}
LIVE_DIR = Path("runs/live")  # where runs go when no trace_path is given (relative to the working folder)
REDRAW_SECONDS = 0.25  # while playing, redraw at most this often: a redraw costs a few ms, a step far less
MAX_WIDTH = 4096  # widest hidden layer accepted: wider ones train too slowly to watch
SETTINGS = ("dataset", "hidden", "activation", "optimizer", "lr", "batch_size", "epochs", "seed")


def available_datasets():
    """The data sets that can be trained on here, without downloading: digits, and MNIST if its files are on disk."""
    folder, _ = locate_mnist()
    mnist = all(any((folder / f"{name}{ext}").is_file() for ext in ("", ".gz")) for name in MNIST_FILES)
    return [name for name in DATASETS if name != "mnist" or mnist]


@lru_cache(maxsize=2)
def _data(name, seed):
    """A loaded, split data set; kept, since loading MNIST takes seconds."""
    return load_dataset(name, seed=seed, download=False, progress=False)


def parse_hidden(text):
    """``"64,32"`` -> ``(64, 32)``; ``""`` -> ``()`` (no hidden layer). ValueError that says how to write it."""
    parts = [p.strip() for p in str(text).replace(";", ",").split(",")]
    if parts == [""]:
        return ()
    if not all(p.isdigit() and int(p) >= 1 for p in parts):
        raise ValueError(f"hidden sizes must be whole numbers >= 1 separated by commas, one per hidden layer, "
                         f"like 64,32 (or nothing for no hidden layer); got {text!r}")
    sizes = tuple(int(p) for p in parts)
    if max(sizes) > MAX_WIDTH:
        raise ValueError(f"hidden layers can be at most {MAX_WIDTH} units wide here, to train at a speed worth "
                         f"watching; got {text!r}")
    return sizes


class LiveTraining(widgets.VBox):
    """Controls, play / pause / step / new run, a live loss curve and the first-layer filters.

    Parameters
    ----------
    trace_path : str or Path, optional
        Where the first run is recorded; later runs get ``-2``, ``-3``, ...
        Default: ``runs/live/<date>-<time>.zarr`` for each run.
    **settings
        Starting values of the controls: ``dataset``, ``hidden`` (``"64,32"``
        or ``(64, 32)``), ``activation``, ``optimizer``, ``lr``, ``batch_size``,
        ``epochs``, ``seed``, and ``steps_per_second``. Defaults: the digits
        preset with one hidden layer of 64 and 10 epochs.

    Headless use (tests, notebooks run by nbclient): :meth:`run_steps`,
    :meth:`step_once`, :meth:`start` / :meth:`pause` / :meth:`wait`,
    :meth:`new_run`. Errors never escape: they show in ``errors`` (an
    :class:`~widgets.common.ErrorArea`, CSS class ``explainer-error``).
    """

    dataset = traitlets.Unicode("digits", help="a name from explainer.data.DATASETS whose files are on disk")
    hidden = traitlets.Unicode("64", help="hidden layer widths, like '64,32'")
    activation = traitlets.Unicode("relu", help="hidden-layer activation, from explainer.activations.ACTIVATIONS")
    optimizer = traitlets.Unicode("adam", help="a name from explainer.optimizers.OPTIMIZERS")
    lr = traitlets.Float(1e-3, help="learning rate")
    batch_size = traitlets.Int(32)
    epochs = traitlets.Int(10)
    seed = traitlets.Int(0, help="initial weights, data split and shuffling")
    steps_per_second = traitlets.Float(50.0, help="play's pace; 0: as fast as it can")
    step = traitlets.Int(0, help="steps the current run has taken (the next step's number)")
    playing = traitlets.Bool(False, help="training in the background")
    trace_path = traitlets.Unicode("", help="the trace the current (or last) run records to; set it to choose "
                                   "where the next run goes")

    def __init__(self, trace_path=None, **settings):
        known = (*SETTINGS, "steps_per_second")
        unknown = sorted(set(settings) - set(known))
        if unknown:
            raise TypeError(f"LiveTraining has no setting {unknown[0]!r}; settings: {', '.join(known)}")
        if isinstance(settings.get("hidden"), (tuple, list)):
            settings["hidden"] = ",".join(str(h) for h in settings["hidden"])
        preset = PRESETS["digits"]
        defaults = {"optimizer": preset.optimizer, "lr": preset.lr, "batch_size": preset.batch_size}
        super().__init__(**{**defaults, **settings})
        self.add_class("explainer-dashboard")
        self.errors = ErrorArea()
        self._base = Path(trace_path) if trace_path is not None else None
        self.trace_path = str(self._base) if self._base is not None else ""
        self._lock = threading.RLock()  # one of: a step, a redraw, a run's start or end
        self._stop = threading.Event()
        self._thread = None
        self._naming = False
        self._trainer = self._recorder = None  # the current run
        self._over = ""  # why the current run is over ("finished ...", "diverged ..."), or ""
        self._loss = np.zeros(0, dtype=np.float32)  # (total_steps,) the run's batch losses so far
        self._plot = self._plot_shape = None
        self._build()
        self.observe(self._on_settings, names=list(SETTINGS))
        self.observe(self._on_playing, names="playing")
        self.observe(self._on_trace_path, names="trace_path")
        self._on_trace_path()
        self._show_settings()

    # -- the view, built once --------------------------------------------------------

    def _build(self):
        style = {"description_width": "95px"}
        narrow = widgets.Layout(width="230px")
        self._controls = {
            "dataset": widgets.Dropdown(options=available_datasets(), description="data set", style=style,
                                        layout=narrow),
            "hidden": widgets.Text(description="hidden sizes", placeholder="e.g. 64,32", continuous_update=False,
                                   style=style, layout=narrow),
            "activation": widgets.Dropdown(options=HIDDEN_ACTIVATIONS, description="activation", style=style,
                                           layout=narrow),
            "optimizer": widgets.Dropdown(options=list(OPTIMIZERS), description="optimizer", style=style,
                                          layout=narrow),
            "lr": widgets.FloatText(description="learning rate", step=None, style=style, layout=narrow),
            "batch_size": widgets.IntText(description="batch size", style=style, layout=narrow),
            "epochs": widgets.IntText(description="epochs", style=style, layout=narrow),
            "seed": widgets.IntText(description="seed", style=style, layout=narrow),
        }
        for name, control in self._controls.items():
            traitlets.link((self, name), (control, "value"))
        self._speed = widgets.Dropdown(options=list(SPEEDS.items()), description="speed", style=style, layout=narrow)
        if self.steps_per_second not in SPEEDS.values():
            self._speed.options = [*SPEEDS.items(), (f"{self.steps_per_second:g} steps/s", self.steps_per_second)]
        traitlets.link((self, "steps_per_second"), (self._speed, "value"))

        self._buttons = {
            "play": widgets.Button(description="play", icon="play", tooltip="train in the background"),
            "pause": widgets.Button(description="pause", icon="pause", disabled=True,
                                    tooltip="stop, and write the trace so far"),
            "step_once": widgets.Button(description="step", icon="step-forward", tooltip="one mini-batch"),
            "new_run": widgets.Button(description="new run", icon="refresh",
                                      tooltip="end this run (its trace stays); the next play starts from the initial weights"),
        }
        actions = {"play": self.start, "pause": self.pause, "step_once": self.step_once, "new_run": self.new_run}
        for name, button in self._buttons.items():
            button.add_class(CSS.get(name, f"explainer-{name.replace('_', '-')}"))
            button.on_click(lambda _, action=actions[name]: self._click(action))
        self._status = widgets.HTML()
        self._where = widgets.HTML()
        self._where.add_class("explainer-trace-path")
        self._loss_image = image_widget(css="explainer-loss")
        self._filters_image = image_widget(css=CSS["filters"])
        self._filters_caption = widgets.HTML()
        self.children = [
            widgets.HTML("<b>Live training</b>: choose a network, press play, and watch the loss fall and the "
                         "first layer's filters take shape. Every run is recorded as a trace."),
            widgets.HBox([widgets.VBox(list(self._controls.values())[:4] + [self._speed]),
                          widgets.VBox(list(self._controls.values())[4:])]),
            widgets.HBox(list(self._buttons.values())),
            self._status,
            self.errors,
            widgets.HBox([self._loss_image, widgets.VBox([self._filters_image, self._filters_caption])],
                         layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start")),
            self._where,
        ]

    # -- what the buttons do (also the headless API) ----------------------------------

    def start(self):
        """Play: train in the background until paused, finished or diverged. Returns at once."""
        if self.playing:
            return
        self._stop.clear()
        self.playing = True
        self._thread = threading.Thread(target=self._play, name="explainer-live-training", daemon=True)
        self._thread.start()

    def pause(self):
        """Stop playing (after the step under way) and write the trace so far, so that it opens mid-run."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        self._thread = None
        with self._lock:
            self._flush()

    def wait(self, timeout=None):
        """Block until play stops by itself (the run finished or diverged); True if it has stopped."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not (thread is not None and thread.is_alive())

    def run_steps(self, n):
        """Take ``n`` steps now (fewer if the run ends), then redraw and write the trace; returns how many."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n must be a whole number of steps >= 0; got {n!r}")
        self.pause()
        with self._lock:
            taken = 0
            try:
                if n and self._ready():
                    first = self._trainer.steps
                    while self._trainer.steps - first < n and self._advance():
                        pass
                    taken = self._trainer.steps - first  # a step whose epoch's end diverged counts
            finally:
                self._flush()
                self._redraw()
        return taken

    def step_once(self):
        """One step (one mini-batch): forward, backward, update. Returns 1, or 0 if none could be taken."""
        return self.run_steps(1)

    def new_run(self):
        """End the current run (its trace stays); the next play or step starts a fresh one."""
        self.pause()
        with self._lock:
            self._end_run()
            self._show_settings()

    def close(self):
        """Stop training, close the run's trace, and close the dashboard's widgets."""
        if not hasattr(self, "_lock"):  # refused by __init__ (a bad setting): nothing was started
            return super().close()
        self.pause()
        with self._lock:
            self._end_run()
        for widget in self._all_widgets():
            widget.close()
        super().close()

    def _all_widgets(self, box=None):
        """Every widget inside the dashboard, innermost first."""
        for child in (box or self).children:
            if isinstance(child, widgets.Box):
                yield from self._all_widgets(child)
            yield child

    def _click(self, action):
        """A button's action; whatever goes wrong is shown in the dashboard, not lost in the kernel's log."""
        try:
            action()
        except Exception as error:  # noqa: BLE001
            self.errors.show(error)

    # -- training ------------------------------------------------------------------------

    def _play(self):
        """The background thread: steps at the chosen pace, a redraw now and then."""
        try:
            with self._lock:
                ready = self._ready()
            last_draw = due = time.monotonic()  # due: when the next step is due, at the chosen pace
            while ready and not self._stop.is_set():
                with self._lock:
                    if not self._advance():
                        break
                now = time.monotonic()
                if now - last_draw >= REDRAW_SECONDS:
                    with self._lock:
                        self._redraw()
                    last_draw = now
                if self.steps_per_second > 0:  # keep to the pace (never catching up more than 0.1 s)
                    due = max(due + 1 / self.steps_per_second, now - 0.1)
                    self._stop.wait(max(0.0, due - time.monotonic()))  # wakes at once on pause
        except Exception as error:  # noqa: BLE001 -- a thread's exception would be lost: show it
            self.errors.show(error)
        finally:
            try:
                with self._lock:
                    self._flush()
                    self._redraw()
            except Exception as error:  # noqa: BLE001
                self.errors.show(error)
            finally:
                self.playing = False

    def _ready(self):
        """Make sure there is a run that can take a step: start one if there is none, or it is over.

        Returns False (with the reason in ``errors``) when the settings do not make a run.
        """
        if self._trainer is not None and not self._over:
            return True
        self._end_run()
        try:
            experiment = self._experiment()
            self._status.value = f"<b>starting</b> · loading {experiment.dataset}, building the network…"
            data = _data(experiment.dataset, experiment.seed)
            net = experiment.network(data.X_train.shape[1], data.n_classes)
            path = self._next_path()
            path.parent.mkdir(parents=True, exist_ok=True)
            recorder = TraceRecorder(path)
            try:
                trainer = Trainer(net, data, experiment.train_config(), recorder=recorder)
            except BaseException:
                recorder.close()
                raise
        except Exception as error:  # noqa: BLE001 -- a bad setting is a message in the dashboard
            self.errors.show(error)
            self._status.value = "<b>not started</b>: see the message below"
            return False
        self.errors.clear()
        self._trainer, self._recorder = trainer, recorder
        self._loss = np.full(trainer.total_steps, np.nan, dtype=np.float32)  # (total_steps,)
        self._naming = True  # not a path chosen from outside: see _on_trace_path
        try:
            self.trace_path = str(path)
        finally:
            self._naming = False
        self.step = 0
        return True

    def _advance(self):
        """One step of the current run; False when none was taken (the run is over, or just diverged)."""
        trainer = self._trainer
        if trainer is None or self._over:
            return False
        try:
            trainer.step()
        except TrainingDivergedError as error:
            self._over = trainer.stopped  # "training diverged at step s"
            trainer.close()  # the trace keeps every step up to here, marked interrupted
            self.errors.show(f"{error}\nChange the learning rate (or another setting) and press play to "
                             "start a new run.")
            return False
        except Exception as error:  # noqa: BLE001 -- e.g. the disk is full: the run cannot go on
            self._over = trainer.stopped or f"stopped: {type(error).__name__}"
            self.errors.show(error)
            trainer.close()
            return False
        finally:
            if trainer.steps:  # a step whose epoch's end diverged was still taken, and recorded
                self._loss[trainer.steps - 1] = trainer.last_scalars["loss"]
            self.step = trainer.steps
        if trainer.done:
            history = trainer.finish()  # test set; the trace is complete
            self._over = f"finished: test accuracy {history.test_accuracy:.1%}"
        return True

    def _end_run(self):
        if self._trainer is not None:
            self._trainer.close()  # harmless after finish()
        self._trainer = self._recorder = None
        self._over = ""

    def _flush(self):
        if self._trainer is not None and not self._over:
            self._recorder.flush()

    def _experiment(self):
        """The run the controls describe; a ValueError naming the setting if they describe none."""
        if self.seed < 0:
            raise ValueError(f"seed must be a whole number >= 0; got {self.seed}")
        experiment = Experiment(dataset=self.dataset, hidden=parse_hidden(self.hidden), activation=self.activation,
                          optimizer=self.optimizer, lr=self.lr, batch_size=self.batch_size, epochs=self.epochs,
                          seed=self.seed)
        experiment.train_config()  # checks the optimizer, learning rate, batch size and epochs
        return experiment

    def _next_path(self):
        base = self._base or LIVE_DIR / f"{datetime.now():%Y%m%d-%H%M%S}.zarr"
        path, k = base, 1
        while path.exists():
            k += 1
            path = base.with_name(f"{base.stem}-{k}{base.suffix}")
        return path

    # -- observers ---------------------------------------------------------------------------

    @traitlets.validate("dataset")
    def _valid_dataset(self, proposal):
        name = _check_choice(DATASETS, proposal["value"], "dataset")
        if name not in available_datasets():
            folder, _ = locate_mnist()
            raise traitlets.TraitError(f"the {name} files are not on this machine (looked in {folder}): fetch them "
                                       f"once with `explainer data fetch {name}`, then make a new LiveTraining")
        return name

    @traitlets.validate("activation")
    def _valid_activation(self, proposal):
        return _check_choice(dict.fromkeys(HIDDEN_ACTIVATIONS), proposal["value"], "activation")

    @traitlets.validate("optimizer")
    def _valid_optimizer(self, proposal):
        return _check_choice(OPTIMIZERS, proposal["value"], "optimizer")

    def _on_settings(self, change):
        """A control changed: the current run ends; show what the new settings start from."""
        if self.playing:
            self.pause()
        with self._lock:
            self._end_run()
            self._show_settings()

    def _on_playing(self, change=None):
        with ExitStack() as stack:
            for widget in [*self._controls.values(), *self._buttons.values()]:
                stack.enter_context(widget.hold_sync())
            for control in self._controls.values():
                control.disabled = self.playing
            self._buttons["play"].disabled = self.playing
            self._buttons["pause"].disabled = not self.playing

    def _on_trace_path(self, change=None):
        """Show where runs are recorded; a path set from outside is where the next run goes."""
        if change is not None and not self._naming:
            if self.playing:
                self.pause()
            with self._lock:
                self._base = Path(self.trace_path) if self.trace_path else None
                self._end_run()
                self._show_settings()
        if self.trace_path:
            self._where.value = (f"<small>Trace: <code>{self.trace_path}</code>; open it with "
                                 f"<code>TrainingDashboard(\"{self.trace_path}\")</code> (it holds every step up to "
                                 "the last pause).</small>")
        else:
            self._where.value = "<small>Each run is recorded as a trace under <code>runs/live/</code>.</small>"

    # -- drawing -------------------------------------------------------------------------------

    def _show_settings(self):
        """Before a run: its empty loss axes and its initial weights (the same seed draws the same ones)."""
        try:
            experiment = self._experiment()
            info = DATASETS[experiment.dataset]
            n_train = info.split_sizes()["train"]
            per_epoch = -(-n_train // experiment.batch_size)
            net = experiment.network(info.image_shape[0] * info.image_shape[1], info.n_classes)
        except Exception as error:  # noqa: BLE001 -- a bad setting is a message in the dashboard
            self.errors.show(error)
            return
        self.errors.clear()
        self._loss = np.zeros(0, dtype=np.float32)
        self.step = 0
        self._draw(net, info.image_shape, per_epoch * experiment.epochs, per_epoch, self._loss, [], [],
                   "Press play or step to start a new run with these settings.",
                   "step 0: the random initial weights, before any update")

    def _redraw(self):
        trainer = self._trainer
        if trainer is None:
            return
        s, total = trainer.steps, trainer.total_steps
        epochs = trainer.history.epochs
        done = [e for e in epochs if "val_accuracy" in e]
        parts = [f"step {s} of {total}", f"epoch {min(trainer.current_epoch + 1, trainer.config.epochs)} of "
                 f"{trainer.config.epochs}"]
        if s:
            parts.append(f"batch loss {self._loss[s - 1]:.3f}")
        if done:
            parts.append(f"validation accuracy {done[-1]['val_accuracy']:.1%} after epoch {done[-1]['epoch'] + 1}")
        state = self._over or ("playing" if self.playing and not self._stop.is_set() else "paused" if s else "ready")
        self._draw(trainer.net, trainer.data.image_shape, total, trainer.steps_per_epoch, self._loss[:s],
                   [(e["epoch"] + 1) * trainer.steps_per_epoch for e in done], [e["val_accuracy"] for e in done],
                   f"<b>{state}</b> · " + " · ".join(parts),
                   "step 0: the random initial weights" if s == 0 else f"after step {s - 1}'s update",
                   self._silent(trainer.net))

    def _silent(self, net):
        """The first-layer units that are 0 for every probe digit now (none when that layer is the output)."""
        if len(net.layers) == 1:
            return np.zeros(0, dtype=np.int64)
        recorder = self._recorder
        return silent_units(net.inspect(recorder.probe_x, recorder.probe_labels).a[0])

    def _draw(self, net, image_shape, total, per_epoch, loss, val_steps, val_accuracy, status, when, silent=()):
        """The loss curve (``loss``: (n_steps,) so far), the filters of ``net``'s first layer, the status line.

        ``silent``: the first-layer units that are 0 for every probe digit, framed in black.
        """
        shape = (total, per_epoch)
        if self._plot is None or self._plot_shape != shape:
            self._plot, self._plot_shape = LossPlot(total, per_epoch), shape
        W = net.layers[0].W  # (n_units, n_in)
        n_units = len(W)
        n = min(n_units, MAX_FILTERS)
        images = W[:n].reshape(n, *image_shape)  # (n, height, width): rows of W on the input pixels
        vmax = snapshot_range(images)
        which = f"all {n}" if n == n_units else f"the first {n} of {n_units}"
        note = "; with no hidden layer these are the output units, one per digit from 0" if len(net.layers) == 1 else ""
        with ExitStack() as stack:
            for widget in (self._loss_image, self._filters_image, self._filters_caption, self._status):
                stack.enter_context(widget.hold_sync())
            self._loss_image.value = self._plot.png(loss, val_steps, val_accuracy)
            self._filters_image.value = filters_png(images, vmax, marked=[j for j in silent if j < n])
            dead = silent_words(silent, n, len(self._recorder.probe_labels) if self._recorder else 0)
            self._filters_caption.value = (
                f"<small><b>First-layer filters</b>, {when}: {which} rows of W<sub>1</sub> on the "
                f"{image_shape[0]}×{image_shape[1]} pixels{note}. Red: ink there raises the unit's z; blue: lowers it "
                f"(±{vmax:.3g}).{dead}</small>")
            self._status.value = status


def _check_choice(table, name, parameter):
    """``name`` if it is in ``table``; a TraitError naming the choices otherwise."""
    try:
        lookup(table, name, parameter)
    except ValueError as e:
        raise traitlets.TraitError(str(e)) from None
    return name
