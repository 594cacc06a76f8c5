"""FeatureMaps: one probe digit through every convolution and pooling layer, to the output probabilities.

Left to right, one layer at a time: the digit; each convolution's maps (one
per kernel, its recorded a) and each pooling layer's smaller ones; the
flattened maps into the dense hidden layer (its recorded a); the output
probabilities, the guess marked right or wrong. Maps are lit as neurons are:
the background at 0, yellow at the layer's largest a. Every value is the
trace's (:mod:`explainer.chapters.convolution`). Needs a CNN's trace::

    EXPLAINER_TRACE=runs/cnn.zarr manim render -ql scenes/feature_maps.py FeatureMaps
    explainer render FeatureMaps --trace runs/cnn.zarr --digit 3
"""

import math

import numpy as np
from manim import *

from explainer.chapters.convolution import feature_maps_story
from explainer.scenes.choice import chosen_sample, chosen_step, chosen_trace, fail
from explainer.scenes.palette import PALETTE
from explainer.scenes.pieces import DigitImage
from explainer.scenes.pieces.light import light
from explainer.scenes.pieces.maps import MapMosaic
from explainer.scenes.slides import LectureScene
from explainer.trace import TraceError

COLUMN = 1.55  # width of a layer's column, in scene units
TALL = 4.4  # the tallest a column's picture may be


def text(s, size=20, colour=PALETTE.muted):
    return light(Text(s, font_size=size, color=colour))


def percent(p, decimals=1):
    """A probability as a percentage that never rounds a near-certainty up to 100%: 0.9996 -> '>99.9%'
    (as ForwardPass writes it); ``decimals=0``: 0.996 -> '>99%'."""
    top = 1 - 0.5 * 10 ** -(decimals + 2)
    return f"{p:.{decimals}%}" if p < top or p == 1 else f">{100 - 10 ** -decimals:.{decimals}f}%"


def layer_words(layer):
    """What a layer did, in a line under the screen: 'conv 16 5: 16 kernels of 5x5, each a map of 24x24'."""
    h, w, c = layer.a.shape
    if layer.kind == "conv":
        k = layer.spec.split()[2]
        seen = "the digit" if layer.first else "the maps before"
        return f"{layer.spec}: {c} kernels of {k}x{k} slide over {seen}: {c} maps of {h}x{w}, a = {layer.activation}(z)"
    return f"{layer.spec}: each 2x2 window keeps its largest: {c} maps of {h}x{w}"


def best_columns(c, width, height):
    """How many of ``c`` square maps to a row, so that they fill a ``width`` x ``height`` box the largest:
    a divisor of ``c`` (no empty places), 16 maps in a tall box: 2 to a row."""
    divisors = [d for d in range(1, c + 1) if c % d == 0]
    return max(divisors, key=lambda d: min(width / d, height / (c // d)))


class FeatureMaps(LectureScene):
    def setup(self):
        trace = chosen_trace("FeatureMaps")
        sample = chosen_sample(trace, default=trace.map_probes[0])
        try:
            self.story = feature_maps_story(trace, sample, chosen_step(trace))
        except TraceError as e:
            fail(f"EXPLAINER_SAMPLE: {e}")
        self.camera.background_color = ManimColor(PALETTE.background)

    def construct(self):
        st = self.story
        self.title = light(Text(f"Feature maps: a {st.label} through the network, step {st.step}", font_size=30,
                                color=PALETTE.text)).to_edge(UP, buff=0.25)
        self.add(self.title)
        n_columns = 1 + len(st.layers) + len(st.hidden) + 1
        gap = (config.frame_width - 0.4 - n_columns * COLUMN - 0.6) / (n_columns - 1)  # the output column is wider
        xs = [-config.frame_width / 2 + 0.2 + COLUMN / 2 + i * (COLUMN + gap) for i in range(n_columns)]
        xs[-1] += 0.3
        self.xs, self.y = xs, 0.1
        self.pictures = []  # what each column shows, in order (for checking)
        self.show_input()
        for layer in st.layers:
            self.show_maps(layer)
        for n, a, f in st.hidden:
            self.show_hidden(n, a, f)
        self.show_output()

    def column(self, picture, head, shape):
        """Put ``picture`` in the next column, with ``head`` above and ``shape`` below; an arrow from the last."""
        x = self.xs[len(self.pictures)]
        picture.move_to([x, self.y, 0])
        # the labels in two rows across the screen, above and below the tallest picture
        top = text(head, 20, PALETTE.text).move_to([x, self.y + TALL / 2 + 0.3, 0])
        bottom = text(shape, 20).move_to([x, self.y - TALL / 2 - 0.3, 0])
        parts = [FadeIn(picture), FadeIn(top), FadeIn(bottom)]
        if self.pictures:
            before = self.pictures[-1]
            parts.append(GrowArrow(Arrow(before.get_right(), picture.get_left(), buff=0.08, color=PALETTE.muted,
                                         max_tip_length_to_length_ratio=0.35, stroke_width=3)))
        self.pictures.append(picture)
        return parts

    def say(self, line):
        """The line under the pictures that says what the last layer did."""
        words = text(line, 22, PALETTE.text).to_edge(DOWN, buff=0.45)
        if words.width > config.frame_width - 0.6:
            words.scale_to_fit_width(config.frame_width - 0.6)
        old = getattr(self, "words", None)
        self.words = words
        return [FadeOut(old), FadeIn(words)] if old is not None else [FadeIn(words)]

    # -- the digit -------------------------------------------------------------------------------
    def show_input(self):
        st = self.story
        h, w = st.x.shape
        digit = DigitImage(st.x, (h, w), height=COLUMN)
        self.play(*self.column(digit, "input", f"{h}x{w}"), *self.say(f"probe digit {st.sample}: a {st.label}, "
                                                                      f"{h}x{w} pixels, one channel"))
        self.next_slide(notes=(f"Probe digit {st.sample}, a {st.label}, held out of training: {h}x{w} pixels, one "
                               f"channel. We follow it through the network as it was at step {st.step}."))

    # -- each convolution and pooling layer -------------------------------------------------------
    def show_maps(self, layer):
        h, w, c = layer.a.shape
        maps = MapMosaic(layer.a, best_columns(c, COLUMN, TALL), width=COLUMN, height=TALL)
        strongest = int(np.argmax(layer.a.reshape(-1, c).max(axis=0)))
        self.play(*self.column(maps, layer.spec, f"{c} of {h}x{w}"), *self.say(layer_words(layer)))
        dark = int((layer.a.reshape(-1, c).max(axis=0) == 0).sum())
        self.next_slide(notes=(
            f"{layer_words(layer)}. Each small square is one map, lit where its a is large: the background is 0, "
            f"yellow the layer's largest a, {layer.a.max():.2f} (map {strongest}). "
            + (f"{dark} of the {c} maps {'is' if dark == 1 else 'are'} dark everywhere: "
               f"{'its kernel' if dark == 1 else 'their kernels'} found nothing of its pattern in this digit. "
               if dark else "")
            + ("Pooling halves each map's height and width and keeps where each pattern was strongest."
               if layer.kind == "pool" else "Each map is one kernel's answer at every position.")))

    # -- the dense hidden layers -------------------------------------------------------------------
    def show_hidden(self, n, a, f):
        st = self.story
        columns = 8 if n >= 32 else 4
        rows = math.ceil(n / columns)
        grid = np.zeros(rows * columns)
        grid[:n] = a
        units = MapMosaic(grid.reshape(rows, columns, 1), 1, width=COLUMN * 0.6, height=TALL)
        active = int((a > 0).sum())
        self.play(*self.column(units, f"dense {n}", f"{active} of {n} > 0"),
                  *self.say(f"flatten: the {st.flat} values in one column; dense: a = {f}(W a + b), {n} units"))
        self.next_slide(notes=(
            f"The last maps, {st.flat} numbers in all, are flattened into one column and go through a dense layer "
            f"of {n} units, a = {f}(W a + b), as in a dense network: each square is one unit, lit by its a. "
            f"{active} of the {n} units are above 0 for this digit."))

    # -- the output --------------------------------------------------------------------------------
    def show_output(self):
        st = self.story
        p = st.probabilities
        n = len(p)
        bars = VGroup()
        row_height = min(0.34, TALL / n)
        for d in range(n):
            colour = (PALETTE.correct if d == st.label else PALETTE.wrong) if d == st.guess else PALETTE.muted
            label = text(str(d), 20, PALETTE.text)
            bar = Rectangle(width=max(1.2 * float(p[d]), 0.02), height=row_height * 0.7, stroke_width=0,
                            fill_color=colour, fill_opacity=1)
            line = VGroup(label, bar).arrange(RIGHT, buff=0.12)
            bar.align_to(label.get_right() + RIGHT * 0.12, LEFT)
            line.move_to(DOWN * d * row_height)
            label.set_x(0)
            bar.next_to(label, RIGHT, buff=0.12)
            bars.add(line)
        guess = bars[st.guess]
        value = text(percent(p[st.guess], 0), 20, PALETTE.text).next_to(guess[1], RIGHT, buff=0.1)
        chart = VGroup(bars, value)
        right = st.guess == st.label
        parts = self.column(chart, "output", "softmax")
        self.play(*parts, *self.say(f"softmax: the network says {st.guess}, {percent(p[st.guess])} sure: "
                                    f"{'right' if right else f'wrong, it is a {st.label}'}"))
        self.next_slide(notes=(
            f"The output layer's softmax turns the last layer into {n} probabilities, drawn as bars. The network "
            f"says {st.guess} with {percent(p[st.guess])}; the digit is a {st.label}, so it is "
            f"{'right' if right else 'wrong'}. Every picture on the way was the trace's recorded a for this digit."))
        self.chart = chart
