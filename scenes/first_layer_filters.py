"""FirstLayerFilters: the first layer's weights, from random noise to learned strokes.

Every tile is one hidden unit's row of W, reshaped to the input image; the
grid steps through the recorded snapshots (dense early, where the filters
change fastest) while a cursor runs along the loss curve of the same run. At
the end, the units that were silent (a = 0) for every probe digit are
outlined: a ReLU that never fires gets no gradient, and stops learning.
On a convolutional network's trace the tiles are its first kernels, W[j]
(k x k), forming over training in the same colours; a kernel is silent when
its map is 0 at every position for every probe digit with maps.
Each phase ends with its speaker notes (``notes_start`` to ``notes_silent``):
what a teacher says over it, with the numbers the screen shows, in plain
Unicode (the deck renders notes as Markdown).

    manim render -ql scenes/first_layer_filters.py FirstLayerFilters
    EXPLAINER_TRACE=runs/mnist.zarr manim render -ql scenes/first_layer_filters.py FirstLayerFilters
"""

import numpy as np
from manim import *

from explainer import filter_range
from explainer.scenes.choice import chosen_step, chosen_trace
from explainer.scenes.palette import PALETTE
from explainer.scenes.pieces import FilterGrid, LossCurve, StepCounter
from explainer.scenes.pieces.legend import Legend
from explainer.scenes.slides import LectureScene, sweep

MAX_UNITS = 64  # tiles shown; wider layers show their first 64


class FirstLayerFilters(LectureScene):
    def setup(self):
        self.trace = chosen_trace("FirstLayerFilters")  # a dense network's or a CNN's
        last = chosen_step(self.trace)
        steps = self.trace.snapshot_steps
        self.steps = steps[steps <= last]
        self.n_units = n_units = self.trace.run.shapes[0][0]  # hidden units, or a convolution's kernels
        self.shown = min(n_units, MAX_UNITS)
        self.filters = np.stack([self.trace.first_layer_filters(int(s))[: self.shown] for s in self.steps])
        self.vmax = filter_range(self.trace)  # the run's colour range, as in the figure and the dashboards
        silent = self.trace.silent_units(int(self.steps[-1]), exact=True)
        self.silent = [int(j) for j in silent if j < self.shown]
        self.silent_unshown = len(silent) - len(self.silent)  # silent units beyond the tiles shown
        # a CNN's silent kernels are judged on the probe digits with maps
        self.n_probe = len(self.trace.map_probes) if self.trace.is_cnn else len(self.trace.probe_labels)
        self.camera.background_color = ManimColor(PALETTE.background)

    def construct(self):
        trace, steps = self.trace, self.steps
        h, w = self.filters.shape[2:4]  # the image's pixels, or a kernel's k x k
        columns = int(np.ceil(np.sqrt(self.shown)))
        grid = FilterGrid(self.filters, self.vmax, columns=columns, height=5.6)  # the frame is 8 high

        title = Text("What the first kernels learn to see" if trace.is_cnn else "What the first layer learns to see",
                     font_size=34, color=PALETTE.text).to_edge(UP, buff=0.3)
        grid.next_to(title, DOWN, buff=0.3).to_edge(LEFT, buff=0.5)
        n_units, unit = self.n_units, "kernel" if trace.is_cnn else "unit"
        first = (f"each tile: one kernel's {h}x{w} weights W[j] ({trace.run.specs[0]})" if trace.is_cnn
                 else f"each tile: one unit's weights W[j] on the {h}x{w} pixels")
        caption = Paragraph(
            first,
            f"(the first {self.shown} of {n_units} {unit}s)" if self.shown < n_units else f"({n_units} {unit}s)",
            font_size=20, color=PALETTE.muted, alignment="left",
        ).next_to(grid, DOWN, buff=0.15, aligned_edge=LEFT)
        legend = Legend([("square", PALETTE.positive, "W > 0: ink here raises z"),
                         ("square", PALETTE.negative, "W < 0: ink here lowers z")])

        curve = LossCurve(trace.scalars["loss"][: int(steps[-1]) + 1], width=5.2, height=2.8)
        curve_labels = curve.labels(y="loss")
        right = VGroup(curve, curve_labels).to_edge(RIGHT, buff=0.6).shift(DOWN * 0.6)
        legend.next_to(right, UP, buff=0.5, aligned_edge=LEFT)

        k = ValueTracker(0)  # which snapshot is shown
        step_of = lambda: int(steps[int(round(k.get_value()))])
        counter = StepCounter(label_size=28, number_size=40, buff=0.2).follow(step_of)
        counter.next_to(legend, UP, buff=0.4, aligned_edge=LEFT)
        grid.follow(k)
        curve.follow(step_of)

        self.play(FadeIn(title), FadeIn(grid), FadeIn(caption))
        self.next_slide(notes=notes_start(int(steps[0]), self.shown, n_units, (h, w),
                                          trace.run.specs[0] if trace.is_cnn else None))  # the filters at the start
        self.play(Create(curve.axes), FadeIn(curve_labels), FadeIn(counter), FadeIn(legend))
        self.play(Create(curve.line), FadeIn(curve.cursor), run_time=1.5)
        self.wait(0.5)
        self.next_slide(notes=notes_curve(curve.smoothed))  # the run's loss curve
        self.play(k.animate.set_value(len(steps) - 1), run_time=sweep(min(25, 0.4 * len(steps) + 2)), rate_func=linear)
        self.wait(1)
        self.next_slide(notes=notes_learned(len(steps), int(steps[-1]), curve.smoothed))  # the learned filters
        if self.silent:
            self.outline_silent(grid, caption)
            self.next_slide(notes=notes_silent(self.silent, self.n_probe, int(steps[-1]), self.silent_unshown,
                                               "kernel" if trace.is_cnn else "unit"))  # the silent units

    def outline_silent(self, grid, caption):
        """Outline the tiles of the units that were 0 for every probe digit, and say what that means."""
        n_probe, cnn = self.n_probe, self.trace.is_cnn
        which = units_named(self.silent, "kernel" if cnn else "unit")
        lines = [f"outlined: {which}, silent (a = 0) for the {n_probe} digits with maps" if cnn else
                 f"outlined: {which}, silent (a = 0) for all {n_probe} probe digits",
                 "a ReLU that never fires gets no gradient: its weights stop learning"]
        if self.silent_unshown:
            n_hidden = self.n_units
            lines.insert(1, f"(and {self.silent_unshown} of the {n_hidden - self.shown} {'kernel' if cnn else 'unit'}s "
                            "not shown)")
        note = Paragraph(*lines, font_size=20, color=PALETTE.text, alignment="left")
        note.next_to(grid, DOWN, buff=0.15, aligned_edge=LEFT)
        boxes = VGroup(*(grid.tile_box(j, PALETTE.activation) for j in self.silent))
        self.play(Create(boxes), FadeOut(caption), FadeIn(note))
        self.outlines, self.note = boxes, note  # (for checking)


def units_named(units, word="unit"):
    """``unit 3`` or ``units 1, 4`` (``kernel 3`` ... for a CNN), as the screen names the silent units."""
    return f"{word} {units[0]}" if len(units) == 1 else f"{word}s {', '.join(map(str, units))}"


# -- speaker notes: what a teacher says over each phase, with the numbers the screen shows -----------------------
def loss_text(v):
    """A loss read off the curve, for the notes: ``2.302``."""
    return f"{v:.3f}"


def notes_start(step, shown, n_units, shape, conv=None):
    """Phase 1: the filters at the first snapshot (``conv``: a CNN's first layer's spec, whose kernels they are)."""
    when = "at step 0, before any training, they are the random initial weights: noise" if step == 0 else \
        f"at step {step}, the first snapshot, training has only begun"
    if conv is not None:
        which = f"the first {shown} of its {n_units} kernels" if shown < n_units else f"all {n_units} kernels"
        return ("A convolution's kernel is a small unit slid over the digit: at every position it computes "
                f"z = W[j]·patch + b from the {shape[0]}x{shape[1]} pixels under it, so its weights show the "
                "pattern that raises z there (red) and the one that lowers it (blue). "
                f"Here each tile is one kernel of the first layer, {conv}: {which}; {when}.")
    which = f"the first {shown} of the {n_units} units" if shown < n_units else f"all {n_units} units"
    return ("A first-layer unit computes z = W[j]·x + b, so its row of weights, laid out on the pixels, shows "
            "which ink raises z (red) and which lowers it (blue). "
            f"Here each tile is one unit's weights on the {shape[0]}x{shape[1]} pixels, {which}; {when}.")


def notes_curve(smoothed):
    """Phase 2: the run's loss curve (``smoothed``: the curve's values, step 0 to the last), drawn as a moving
    mean of the batch losses."""
    return ("The filters change because the loss pulls them: this is the run's batch loss, step by step, drawn as "
            "a moving mean of the past steps, and the cursor marks the step the grid shows. "
            f"It starts at {loss_text(smoothed[0])} at step 0 and ends at {loss_text(smoothed[-1])} at step "
            f"{len(smoothed) - 1}.")


def notes_learned(n_snapshots, last, smoothed):
    """Phase 3: the sweep through the snapshots, to the learned filters."""
    return (f"The grid steps through the {n_snapshots} recorded snapshots up to step {last}, while the cursor "
            "runs along the loss; the colour scale stays the same over the whole run. Compare with the start: "
            "where a tile's noise has given way to smooth red and blue regions, its unit has learned which ink "
            f"to respond to. At step {last} the drawn loss is {loss_text(smoothed[-1])}.")


def notes_silent(silent, n_probe, last, unshown, word="unit"):
    """Phase 4: the units silent for every probe digit (``word="kernel"``: a CNN's kernels, whose maps are
    0 at every position for every probe digit with maps)."""
    more = f" (and {unshown} more among the {word}s not shown)" if unshown else ""
    where = " at every position" if word == "kernel" else ""
    digits = "probe digits with recorded maps" if word == "kernel" else "probe digits"
    return (f"Outlined: {units_named(silent, word)}{more}, silent (a = 0){where} for all {n_probe} {digits} at step "
            f"{last}. A ReLU that never fires passes no gradient back, so its weights stop learning: a dead {word}. "
            "The probe digits are held out, never trained on: silent on every one of them suggests, without "
            f"proving it, that {f'this {word} fires' if len(silent) == 1 else f'these {word}s fire'} for no "
            "training digit either.")
