"""LiveTraining: train a network in the notebook, watch it learn, and keep the run as a trace.

::

    live = LiveTraining()                    # the 8x8 digits; press play
    live = LiveTraining(hidden="64,32", activation="sigmoid", optimizer="sgd", lr=0.5)
    live = LiveTraining(arch="cnn", conv="8,16")   # a CNN: 3x3 kernels on 8x8 (the preset's), 2x2 pooling
    live.run_steps(100)                      # or drive it from code: 100 steps, then a redraw
    live.start(); ...; live.pause()          # train in the background; the kernel stays free
    TrainingDashboard(live.trace_path)       # the run scrubbed through, even mid-run

The dashboard is a view of an :class:`explainer.LiveRun`, which trains with
:class:`explainer.Trainer` (the loop behind ``explainer train``) and records
the run as a trace at ``trace_path``. What it draws it reads back from that
trace, as the other dashboards do: the loss of every step so far, the
validation accuracy of every finished epoch, and the first-layer filters (a
CNN's kernels) at the latest snapshot, coloured on the run's range
(:mod:`explainer.widgets.live_filters`).
While playing it redraws at most every ``REDRAW_SECONDS``, and less often when a redraw
takes more than a fifth of the time between two.

A run is built from the controls when it takes its first step. Changing a
control ends the current run (its trace stays, marked interrupted); the next
play or step starts a new run in a new trace. Traces are never overwritten:
``-2``, ``-3``, ... is added to a name that is taken.
"""

import time
from contextlib import ExitStack
from pathlib import Path

import ipywidgets as widgets
import numpy as np
import traitlets

from explainer import LiveRun

from .common import CSS, ErrorArea, image_widget
from .live_filters import COLS, TILE, first_layer_view, planned_view
from .live_plot import LossPlot
from .live_settings import SETTINGS, SPEEDS, LiveSettings

__all__ = ["LiveTraining", "SPEEDS", "REDRAW_SECONDS", "TILE", "COLS"]

REDRAW_SECONDS = 0.25  # while playing, redraw at most this often (a redraw re-opens the trace: 20-70 ms)
REDRAW_SHARE = 0.2  # ... and spend at most this share of the time redrawing


class LiveTraining(LiveSettings):
    """Controls, play / pause / step / new run, a live loss curve and the first-layer filters.

    Parameters
    ----------
    trace_path : str or Path, optional
        Where the first run is recorded; later runs get ``-2``, ``-3``, ...
        Default: ``runs/live/<date>-<time>.zarr`` for each run.
    **settings
        Starting values of the controls: ``dataset``, ``arch`` (``"mlp"``, dense
        layers only, or ``"cnn"``: convolutions with the data set's CNN preset's
        kernel size and padding, each followed by 2x2 max-pooling, then the hidden
        layers), ``conv`` (a CNN's filters per convolution, ``"32,64"``: the
        preset's), ``hidden`` (``"64,32"`` or ``(64, 32)``), ``activation``, ``init``, ``optimizer``, ``lr``, ``l2``,
        ``batch_size``, ``epochs``, ``seed``, and ``steps_per_second``. Defaults: the
        digits preset with one hidden layer of 64, no weight decay and 10 epochs;
        the learning rate is the optimizer's own default (0.1 for sgd, 0.001 for
        adam), and choosing another optimizer moves an unchanged rate to its default.

    Notes
    -----
    Headless use (tests, notebooks run by nbclient): :meth:`run_steps`,
    :meth:`step_once`, :meth:`start` / :meth:`pause` / :meth:`wait`,
    :meth:`new_run`; ``run`` is the current :class:`explainer.LiveRun` (None
    before the first step). Errors never escape: they show in ``errors`` (an
    :class:`~explainer.widgets.common.ErrorArea`, CSS class ``explainer-error``).
    """

    step = traitlets.Int(0, help="steps the current run has taken (the next step's number)")
    playing = traitlets.Bool(False, help="training in the background")
    trace_path = traitlets.Unicode("", help="the trace the current (or last) run records to; set it to choose "
                                   "where the next run goes")

    def __init__(self, trace_path=None, **settings):
        super().__init__(**settings)
        self.add_class("explainer-dashboard")
        self.errors = ErrorArea()
        self._base = Path(trace_path) if trace_path is not None else None
        self.trace_path = str(self._base) if self._base is not None else ""
        self.run = None  # the current LiveRun: made from the controls at the first step
        self._naming = False
        self._ranges = {}  # snapshot step -> its colour range (explainer.snapshot_range), for the current run
        self._next_draw = 0.0  # while playing: when the next redraw is due
        self._plot = self._plot_shape = None
        self._build()
        self.observe(self._on_settings, names=list(SETTINGS))
        self.observe(self._on_playing, names="playing")
        self.observe(self._on_pace, names="steps_per_second")
        self.observe(self._on_trace_path, names="trace_path")
        self._on_trace_path()
        self._on_playing()
        self._show_settings()

    # -- the view, built once --------------------------------------------------------

    def _build(self):
        self._controls, self._speed = self._settings_controls()
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
        self._filters_labels = widgets.HTML()  # with no hidden layer: each output tile's digit, under it
        self._filters_labels.add_class("explainer-filter-labels")
        controls = list(self._controls.values())  # four columns: the network, its training, the rest
        self.children = [
            widgets.HTML("<b>Live training</b>: choose a network, press play, and watch the loss fall and the "
                         "first layer's filters take shape. Every run is recorded as a trace."),
            widgets.HBox([widgets.VBox(controls[:4]), widgets.VBox(controls[4:7]), widgets.VBox(controls[7:10]),
                          widgets.VBox([*controls[10:], self._speed])]),
            widgets.HBox(list(self._buttons.values())),
            self._status,
            self.errors,
            # the filters' caption under the loss curve, where there is room: the dashboard fits 1366x768
            widgets.HBox([widgets.VBox([self._loss_image, self._filters_caption], layout=widgets.Layout(width="470px")),
                          widgets.VBox([self._filters_image, self._filters_labels], layout=widgets.Layout(width="430px"))],
                         layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start")),
            self._where,
        ]

    # -- what the buttons do (also the headless API) ----------------------------------

    def start(self):
        """Play: train in the background until paused, finished or diverged. Returns at once."""
        if self.playing or not self._ready():
            return
        self.playing = True
        self._next_draw = time.monotonic() + REDRAW_SECONDS
        self.run.start(on_step=self._on_step, on_stop=self._on_stop)

    def pause(self):
        """Stop playing (after the step under way) and write the trace so far, so that it opens mid-run."""
        if self.run is not None:
            self.run.pause()

    def wait(self, timeout=None):
        """Block until play stops by itself (the run finished or diverged); True if it has stopped."""
        return self.run.wait(timeout) if self.run is not None else True

    def run_steps(self, n):
        """Take ``n`` steps now (fewer if the run ends), then redraw and write the trace; returns how many."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n must be a whole number of steps >= 0; got {n!r}")
        self.pause()
        if not n or not self._ready():
            return 0
        taken = self.run.run_steps(n)
        self._after_steps()
        return taken

    def step_once(self):
        """One step (one mini-batch): forward, backward, update. Returns 1, or 0 if none could be taken."""
        return self.run_steps(1)

    def new_run(self):
        """End the current run (its trace stays); the next play or step starts a fresh one."""
        self._end_run()
        self._show_settings()

    def close(self):
        """Stop training, close the run's trace, and close the dashboard's widgets."""
        if not hasattr(self, "errors"):  # refused by __init__ (a bad setting): nothing was started
            return super().close()
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

    # -- the run ----------------------------------------------------------------------------

    def _ready(self):
        """Make sure there is a run that can take a step: a new one if there is none, or it is over.

        Returns False (with the reason in ``errors``) when the settings do not make a run.
        """
        if self.run is not None and not self.run.over:
            return True
        self._end_run()
        try:
            experiment = self._experiment()
        except Exception as error:  # noqa: BLE001 -- a bad setting is a message in the dashboard
            self._not_started(error)
            return False
        self.errors.clear()
        self.run = LiveRun(experiment, self._base, steps_per_second=self.steps_per_second)
        self._ranges = {}
        self._status.value = f"<b>starting</b> · loading {experiment.dataset}, building the network…"
        return True

    def _on_step(self, run):
        """After each step in the background (the run's lock held): the step count, and now and then a redraw."""
        self._started(run)
        self.step = run.step
        began = time.monotonic()
        if began >= self._next_draw:
            self._draw_safely(run)
            cost = time.monotonic() - began
            self._next_draw = began + max(REDRAW_SECONDS, cost / REDRAW_SHARE)

    def _on_stop(self, run):
        """Play has stopped (paused, finished, diverged): the last redraw."""
        try:
            self._after_steps()
        finally:
            self.playing = False

    def _after_steps(self):
        run = self.run
        if run is None:
            return
        if not run.started:
            self._not_started(run.error)
            return
        self._started(run)
        self.step = run.step
        if run.error is not None and run.over:
            hint = ("\nChange the learning rate (or another setting) and press play to start a new run."
                    if "diverged" in run.over else "")
            self.errors.show(f"{run.error}{hint}" if hint else run.error)
        self._draw_safely(run)

    def _started(self, run):
        if run.path is not None and self.trace_path != str(run.path):
            self._naming = True  # not a path chosen from outside: see _on_trace_path
            try:
                self.trace_path = str(run.path)
            finally:
                self._naming = False

    def _not_started(self, error):
        self.errors.show(error)
        self._status.value = "<b>not started</b>: see the message below"

    def _end_run(self):
        run, self.run = self.run, None
        if run is not None:
            run.close()

    # -- observers ---------------------------------------------------------------------------

    def _on_settings(self, change):
        """A control changed: the current run ends; show what the new settings start from."""
        self._end_run()
        self._on_playing()  # the conv filters' box is open for a CNN only
        self._show_settings()

    def _on_pace(self, change):
        if self.run is not None:
            self.run.steps_per_second = self.steps_per_second

    def _on_playing(self, change=None):
        with ExitStack() as stack:
            for widget in [*self._controls.values(), *self._buttons.values()]:
                stack.enter_context(widget.hold_sync())
            for control in self._controls.values():
                control.disabled = self.playing
            self._controls["conv"].disabled = self.playing or self.arch != "cnn"  # a dense network has none
            self._buttons["play"].disabled = self.playing
            self._buttons["pause"].disabled = not self.playing

    def _on_trace_path(self, change=None):
        """Show where runs are recorded; a path set from outside is where the next run goes."""
        if change is not None and not self._naming:
            self._base = Path(self.trace_path) if self.trace_path else None
            self._end_run()
            self._show_settings()
        if self.trace_path:
            self._where.value = (f"<small>Trace: <code>{self.trace_path}</code>; open it with "
                                 f"<code>TrainingDashboard(\"{self.trace_path}\")</code> (it holds every step up to "
                                 "the last pause).</small>")
        else:
            self._where.value = "<small>Each run is recorded as a trace under <code>runs/live/</code>.</small>"

    # -- drawing: what the trace holds so far -------------------------------------------------------

    def _show_settings(self):
        """Before a run: its empty loss axes, and a blank tile for each first-layer unit."""
        try:
            experiment = self._experiment()
            plan = LiveRun.plan(experiment)
        except Exception as error:  # noqa: BLE001 -- a bad setting is a message in the dashboard
            self.errors.show(error)
            return
        self.errors.clear()
        self.step = 0
        advice = self.lr_advice()
        warning = f"<br><span class='explainer-warning'>⚠ {advice}</span>" if advice else ""
        filters_png, caption, labels = planned_view(experiment, plan)
        self._filters_labels.value = labels
        self._draw(plan.total_steps, plan.steps_per_epoch, np.zeros(0), [], [], filters_png,
                   f"Press play or step to start a new run with these settings.{warning}", caption)

    def _draw_safely(self, run):
        try:
            self._redraw(run)
        except Exception as error:  # noqa: BLE001 -- a failed redraw is a message, and training goes on
            self.errors.show(error)

    def _redraw(self, run):
        """Everything drawn from the run's trace, re-opened: it holds every step up to now."""
        trace = run.trace()
        s, total, epochs = trace.n_steps, trace.run.total_steps, trace.run.epochs
        ep = trace.epochs
        parts = [f"step {s} of {total}", f"epoch {trace.run.epoch_of(min(s, total - 1)) + 1} of {epochs}"]
        loss = trace.scalars["loss"]  # (n_steps,) every step so far
        if s:
            parts.append(f"batch loss {loss[-1]:.3f}")
        if trace.n_epochs:
            parts.append(f"validation accuracy {ep['val_accuracy'][-1]:.1%} after epoch {trace.n_epochs}")
        state = run.over or ("playing" if run.playing else "paused" if s else "ready")
        filters_png, caption, labels = first_layer_view(trace, self._ranges)
        self._filters_labels.value = labels
        self._draw(total, trace.steps_per_epoch, loss, ep["step"], ep["val_accuracy"], filters_png,
                   f"<b>{state}</b> · " + " · ".join(parts), caption)

    def _draw(self, total, per_epoch, loss, val_steps, val_accuracy, filters, status, caption):
        """The loss curve (``loss``: (n_steps,) so far) and validation points, the filters' PNG, the status line."""
        shape = (total, per_epoch)
        if self._plot is None or self._plot_shape != shape:
            self._plot, self._plot_shape = LossPlot(total, per_epoch), shape
        with ExitStack() as stack:
            for widget in (self._loss_image, self._filters_image, self._filters_caption, self._status):
                stack.enter_context(widget.hold_sync())
            self._loss_image.value = self._plot.png(loss, val_steps, val_accuracy)
            self._filters_image.value = filters
            self._filters_caption.value = caption
            self._status.value = status
