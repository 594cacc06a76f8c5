"""TwoRuns: two networks learning side by side (sigmoid and relu, SGD and Adam, ...), from two real traces.

Above, each run's first-layer filters (its first 32 units) form from their
random start; below, both runs' loss curves are drawn together as training
goes, one colour each. The runs are matched by their fraction of training
(:func:`explainer.matched_steps`): step for step when they are equally long.
At the end each run's last batch loss and test accuracy are written under its
filters. Each phase ends with its speaker notes.

Which two runs: ``EXPLAINER_TRACE`` (the first) and ``EXPLAINER_VERSUS`` (the
second), or ``explainer render TwoRuns --trace A --versus B``. With neither,
the default 8x8 trace (relu) against the same network with sigmoid units,
built once (:func:`explainer.default_versus`)::

    manim render -ql scenes/two_runs.py TwoRuns
    EXPLAINER_TRACE=runs/sgd.zarr EXPLAINER_VERSUS=runs/adam.zarr manim render -ql scenes/two_runs.py TwoRuns
"""

import os

import numpy as np
from manim import *

from explainer import default_versus, figures, filter_range, matched_snapshots, matched_steps, run_label, same_length
from explainer.scenes.choice import chosen_trace, fail
from explainer.scenes.palette import PALETTE
from explainer.scenes.pieces import FilterGrid
from explainer.scenes.pieces.run_curves import RunCurves
from explainer.scenes.slides import LectureScene, sweep
from explainer.trace import TraceError, open_trace

SHOWN = 32  # first-layer units shown per run: 4 rows of 8


def chosen_versus():
    """The second run: ``EXPLAINER_VERSUS``; unset, the sigmoid twin of the default trace (only beside the
    default trace itself: a run the user named needs its partner named too)."""
    text = os.environ.get("EXPLAINER_VERSUS", "").strip()
    if not text:
        if os.environ.get("EXPLAINER_TRACE", "").strip() not in ("", "default"):
            fail("TwoRuns shows two runs: name the second with EXPLAINER_VERSUS (or: explainer render TwoRuns "
                 "--trace A --versus B)")
        text = str(default_versus())
    try:
        trace = open_trace(text)
        trace.refuse_cnn("the scenes")  # they draw dense layers only, for now
    except (TraceError, TypeError) as e:
        fail(f"EXPLAINER_VERSUS: {e}")
    if trace.n_steps < 1 or not len(trace.snapshot_steps):
        fail(f"EXPLAINER_VERSUS: {trace.path} has no step recorded yet")
    return trace


def run_caption(trace, tint):
    """A run's two lines above its filters: how it was trained, in its colour; its file's name (cut to fit)."""
    name = run_label(trace, short=True)
    how = run_label(trace).removeprefix(f"{name}: ")
    name = name if len(name) <= 34 else name[:33] + "…"
    return VGroup(Text(how, font_size=22, color=tint), Text(name, font_size=20, color=PALETTE.muted)).arrange(
        DOWN, buff=0.1)


def final_words(trace, smoothed, short=False):
    """What is written under a run's filters at the end: its last drawn batch loss (the curve's end: a mean of
    the last training batches' losses, not the test loss) and its test accuracy ("test acc." when ``short``: two
    runs' lines side by side must not run together)."""
    ev = trace.evaluation
    test = (f"test {'acc.' if short else 'accuracy'} {ev.test_accuracy:.1%}" if ev is not None
            else "no test: stopped early")
    return f"batch loss {smoothed[-1]:.3f} · {test}"


class TwoRuns(LectureScene):
    def setup(self):
        self.runs = [chosen_trace(), chosen_versus()]
        self.by_step = same_length(self.runs)
        stops = set()  # where the sweep stops: every snapshot of either run, as a fraction of its training
        for trace in self.runs:
            last = max(trace.n_steps - 1, 1)
            stops.update(round(min(int(s), last) / last, 6) for s in trace.snapshot_steps)
        self.fractions = sorted(stops)
        self.steps = [matched_steps(self.runs, f) for f in self.fractions]  # (n_stops, 2)
        snaps = [matched_snapshots(self.runs, f) for f in self.fractions]
        self.snapshot_k = [[int(t.snapshot_index(s[i], exact=True)) for i, t in enumerate(self.runs)] for s in snaps]
        self.filters = [np.stack([t.first_layer_filters(int(s))[:SHOWN] for s in t.snapshot_steps]) for t in self.runs]
        self.vmax = [filter_range(t) for t in self.runs]
        self.tints = figures.run_colours(2)
        self.camera.background_color = ManimColor(PALETTE.background)

    def construct(self):
        runs, tints = self.runs, self.tints
        title = Text("Two networks learning side by side", font_size=32, color=PALETTE.text).to_edge(UP, buff=0.25)
        k = ValueTracker(0)  # which stop of the sweep
        at = lambda: int(round(k.get_value()))
        columns, self.grids, self.counters = [], [], []
        for i, trace in enumerate(runs):
            grid = FilterGrid(self.filters[i], self.vmax[i], columns=min(8, self.filters[i].shape[1]), height=1.8)
            if grid.width > 4.6:  # a layer of fewer than 32 units: one long row, kept within its half of the frame
                grid.width = 4.6
            grid.add_updater(lambda g, i=i: g.show(self.snapshot_k[at()][i]))
            label = run_caption(trace, tints[i])
            counter = Text(f"step 0 of {trace.n_steps:,}", font_size=20, color=PALETTE.muted)
            column = Group(label, grid, counter).arrange(DOWN, buff=0.15)
            columns.append(column)
            self.grids.append(grid)
            self.counters.append(counter)
        Group(*columns).arrange(RIGHT, buff=1.0, aligned_edge=UP).next_to(title, DOWN, buff=0.3)
        for i, (counter, trace) in enumerate(zip(self.counters, runs)):
            shown, anchor = {"step": 0}, counter.get_center()

            def recount(text, i=i, trace=trace, shown=shown, anchor=anchor):  # rebuilt only when the step changes
                step = self.steps[at()][i]
                if step != shown["step"]:
                    words = f"step {step:,} of {trace.n_steps:,}"
                    text.become(Text(words, font_size=20, color=PALETTE.muted).move_to(anchor))
                    text.original_text = text.text = words  # (become() draws the new words but keeps the old names)
                    shown["step"] = step

            counter.add_updater(recount)

        self.curves = curves = RunCurves([t.scalars["loss"] for t in runs], tints, by_fraction=not self.by_step,
                                         width=8.5, height=1.9)
        labels = curves.labels()
        VGroup(curves, labels).to_edge(DOWN, buff=0.3)
        lines = [curves.drawn_upto(i, lambda i=i: self.steps[at()][i]) for i in range(2)]
        curves.follow(lambda: self.steps[at()])

        self.play(FadeIn(title), *(FadeIn(c) for c in columns))
        self.next_slide(notes=notes_start(runs))
        self.play(Create(curves.axes), FadeIn(labels), FadeIn(curves.cursors), *(FadeIn(line) for line in lines))
        self.next_slide(notes=notes_curves(self.by_step))
        self.play(k.animate.set_value(len(self.fractions) - 1), run_time=sweep(min(20, 0.3 * len(self.fractions) + 4)),
                  rate_func=linear)
        self.wait(0.5)
        self.next_slide(notes=notes_sweep(runs, curves.smoothed))
        self.finals = VGroup(*(Text(final_words(t, s, short=True), font_size=20, color=tints[i]).move_to(self.counters[i])
                               for i, (t, s) in enumerate(zip(runs, curves.smoothed))))
        for counter in self.counters:
            counter.clear_updaters()  # (an updater would redraw it at full opacity)
        self.play(*(FadeOut(c) for c in self.counters), FadeIn(self.finals))  # the step counters give way to the result
        for column, counter in zip(columns, self.counters):
            column.remove(counter)
        self.next_slide(notes=notes_end(runs, curves.smoothed))


# -- speaker notes: what a teacher says over each phase, with the numbers the screen shows -----------------------
def _names(runs):
    return [run_label(t, short=True) for t in runs]


def notes_start(runs):
    """Phase 1: the two runs and their filters at the start."""
    a, b = (run_label(t) for t in runs)
    return (f"Two runs of the same task, side by side: {a}; and {b}. Above each, the first {SHOWN} units of its "
            "first layer: each tile is one unit's weights on the pixels, red where ink raises its z, blue where ink "
            "lowers it. At the start they are the random initial weights.")


def notes_curves(by_step):
    """Phase 2: the shared loss axes."""
    matched = ("They are equally long, so both are shown at the same step." if by_step else
               "They differ in length, so each is shown at the same fraction of its own training.")
    return ("Below, both runs' batch loss will be drawn as training goes, one colour each, as a moving mean of "
            f"the past steps. {matched}")


def notes_sweep(runs, smoothed):
    """Phase 3: the sweep through training."""
    names = _names(runs)
    ends = "; ".join(f"{n} from {s[0]:.3f} to {s[-1]:.3f}" for n, s in zip(names, smoothed))
    return (f"Both runs train: the drawn loss goes {ends}. Watch where the filters of one run form strokes while "
            "the other's stay close to their start: a layer whose gradient is small learns slowly.")


def notes_end(runs, smoothed):
    """Phase 4: the final numbers."""
    steps = " and ".join(f"{t.n_steps:,}" for t in runs)
    return (f"At the end of training ({steps} steps): "
            + "; ".join(f"{n}, {final_words(t, s)}" for n, t, s in zip(_names(runs), runs, smoothed)) + ".")
