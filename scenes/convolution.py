"""Convolution: the real first-layer kernel slides over the real digit, and the feature map fills in.

A kernel of the first convolution (the one this probe digit drives hardest) is
shown with its weights; at one position (where it responds most) the k x k
pixels under it, times its weights, give k * k products, written out, whose
sum plus the bias is the recorded z there; then the kernel slides over every
position while its map fills in with the recorded z; ReLU turns the
negatives to 0; 2x2 max pooling keeps each window's largest. Every number is
the trace's (:mod:`explainer.chapters.convolution`). Needs a CNN's trace::

    EXPLAINER_TRACE=runs/cnn.zarr manim render -ql scenes/convolution.py Convolution
    explainer render Convolution --trace runs/cnn.zarr --digit 3
"""

import numpy as np
from manim import *

from explainer.chapters.convolution import convolution_story
from explainer.scenes.choice import chosen_sample, chosen_step, chosen_trace, fail
from explainer.scenes.palette import PALETTE
from explainer.scenes.pieces import DigitImage
from explainer.scenes.pieces.light import light
from explainer.scenes.pieces.maps import ValueGrid, short_number
from explainer.scenes.pieces.pixels import NumberGrid, SignedImage, SignLegend, pixel_box
from explainer.scenes.slides import LectureScene, sweep
from explainer.trace import TraceError

DIGIT = 3.2  # height of the digit, and of the map while the kernel slides
CELL = {3: 0.75}  # a written grid's cell side, by kernel size: room for "-.35" at 20 points
CELL_DEFAULT = 0.6


def text(s, size=20, colour=PALETTE.muted):
    return light(Text(s, font_size=size, color=colour))


def window_box(image, r, c, size, colour=PALETTE.activation):
    """A square around the ``size`` x ``size`` pixels of ``image`` whose top left pixel is (r, c)."""
    rows, cols = image.pixel_array.shape[:2]
    w, h = image.width / cols, image.height / rows
    corner = image.get_corner(UL) + RIGHT * c * w + DOWN * r * h
    return Rectangle(width=size * w, height=size * h, stroke_color=colour, stroke_width=3).move_to(
        corner + RIGHT * size * w / 2 + DOWN * size * h / 2)


class Convolution(LectureScene):
    def setup(self):
        trace = chosen_trace("Convolution")
        sample = chosen_sample(trace, default=trace.map_probes[0])
        try:
            self.story = convolution_story(trace, sample, chosen_step(trace))
        except TraceError as e:
            fail(f"EXPLAINER_SAMPLE: {e}")
        self.camera.background_color = ManimColor(PALETTE.background)

    def construct(self):
        st = self.story
        self.title = light(Text(f"Convolution: kernel {st.kernel} of {st.spec} slides over a {st.label}",
                                font_size=30, color=PALETTE.text)).to_edge(UP, buff=0.25)
        self.add(self.title)
        self.the_kernel()
        self.one_position()
        self.slide()
        self.relu()
        if st.pooled is not None:
            self.pooling()

    def keep(self, *kept):
        """A cut to the next phase: everything but the title and ``kept`` leaves the screen."""
        self.remove(*[m for m in self.mobjects if m is not self.title and not any(m is k for k in kept)])

    # -- 1: the digit and the kernel --------------------------------------------------------------
    def the_kernel(self):
        st = self.story
        h, w = st.x.shape
        self.digit = DigitImage(st.x_padded, st.x_padded.shape, height=DIGIT).move_to(LEFT * 5.2 + UP * 0.4)
        caption = VGroup(text(f"probe digit {st.sample}, a {st.label}"), text(f"{h}x{w} pixels"))
        if st.pad:
            caption.add(text(f"framed by {st.pad} zero{'s' if st.pad > 1 else ''} ('same')"))
            inner = window_box(self.digit, st.pad, st.pad, h, colour=PALETTE.muted)
            inner.stretch_to_fit_width(self.digit.width * w / st.x_padded.shape[1])
            self.frame_inner = inner.set_stroke(width=1.5)
        caption.arrange(DOWN, buff=0.1).next_to(self.digit, DOWN, buff=0.2)
        self.caption = caption
        cell = CELL.get(st.k, CELL_DEFAULT)
        self.weights = ValueGrid(st.W, st.weight_range, cell=cell).move_to(RIGHT * 1.6 + UP * 0.5)
        head = text(f"kernel {st.kernel}: its {st.k}x{st.k} weights W", 24, PALETTE.text)
        head.next_to(self.weights, UP, buff=0.25)
        legend = SignLegend(st.weight_range, "weight (red +, blue -)", width=2.6).next_to(self.weights, DOWN,
                                                                                          buff=0.3)
        why = VGroup(text(f"one of the {st.n_kernels} kernels of {st.spec}:"),
                     text("the one this digit drives hardest")).arrange(DOWN, buff=0.1, aligned_edge=LEFT)
        why.next_to(legend, DOWN, buff=0.35)
        self.play(FadeIn(self.digit), FadeIn(caption), *([Create(self.frame_inner)] if st.pad else []))
        self.play(FadeIn(self.weights), FadeIn(head), FadeIn(legend), FadeIn(why))
        self.next_slide(notes=(
            f"A convolution looks at the digit through small windows. This is probe digit {st.sample}, a {st.label}, "
            f"{h}x{w} pixels" + (f", framed by {st.pad} zero pixels so that the map keeps its size ('same' "
                                 "padding)" if st.pad else "") +
            f". Its first layer, {st.spec}, has {st.n_kernels} kernels of {st.k}x{st.k} weights; this is kernel "
            f"{st.kernel}, the one this digit drives hardest, at step {st.step}. Red weights are positive, blue "
            f"negative, from -{st.weight_range:.2g} to +{st.weight_range:.2g}."))  # the kernel
        self.keep(self.digit, self.caption, self.weights, *([self.frame_inner] if st.pad else []))

    # -- 2: one position, written out ---------------------------------------------------------------
    def one_position(self):
        st = self.story
        r, c = st.position
        k, cell = st.k, CELL.get(st.k, CELL_DEFAULT)
        box = window_box(self.digit, r, c, k)
        patch = NumberGrid(st.patch, cell=cell, font_size=20)
        products = ValueGrid(st.products, float(np.abs(st.products).max()) or 1.0, cell=cell)
        times, equals = text("×", 36, PALETTE.text), text("=", 36, PALETTE.text)
        row = Group(patch, times, self.weights.copy(), equals, products).arrange(RIGHT, buff=0.18)
        row.move_to(UP * 0.5).set_x((self.digit.get_right()[0] + 0.3 + config.frame_width / 2 - 0.1) / 2)
        labels = VGroup(text("pixels under the box"), text("weights W"), text("products")).set_color(PALETTE.text)
        for label, grid in zip(labels, (patch, row[2], products)):
            label.next_to(grid, UP, buff=0.2)
        self.play(Create(box))
        self.play(TransformFromCopy(box, patch), self.weights.animate.move_to(row[2]), FadeIn(times),
                  FadeIn(labels[0]), FadeIn(labels[1]))
        self.play(FadeIn(equals), FadeIn(products, lag_ratio=0.05), FadeIn(labels[2]), run_time=1.5)
        n = k * k
        total = light(Text(f"sum of the {n} products = {st.total:.3f}", font_size=24, color=PALETTE.text))
        bias = light(Text(f"+ b ({st.b:.3f})", font_size=24, color=PALETTE.text))
        z = light(Text(f"= z = {st.z_here:.3f}", font_size=24, color=PALETTE.activation))
        VGroup(bias, z).arrange(RIGHT, buff=0.25)
        sums = VGroup(total, VGroup(bias, z)).arrange(DOWN, buff=0.2, aligned_edge=RIGHT).next_to(row, DOWN, buff=0.4)
        recorded = text(f"the recorded z of kernel {st.kernel} at row {r}, column {c}: {st.z_here:.3f}")
        recorded.next_to(sums, DOWN, buff=0.2)
        self.play(Write(total))
        self.play(Write(bias), Write(z), FadeIn(recorded))
        self.next_slide(notes=(
            f"At one position, row {r} and column {c}, the kernel covers {k}x{k} pixels. Each pixel times the "
            f"weight over it gives {n} products; paper (0) adds nothing. They add up to {st.total:.3f}; with the "
            f"bias b = {st.b:.3f} that is z = {st.z_here:.3f}, the number the network recorded there. This is "
            "one dense unit's z = W a + b, on a small window."))  # one position's arithmetic
        self.box = box
        self.keep(self.digit, self.caption, box, *([self.frame_inner] if st.pad else []))

    # -- 3: the kernel slides, the map fills in -----------------------------------------------------
    def slide(self):
        st = self.story
        ho, wo = st.z.shape
        n = ho * wo
        zmap = SignedImage(st.z, st.z_range, height=DIGIT).move_to(RIGHT * 4.4 + UP * 0.3)
        frame = SurroundingRectangle(zmap, buff=0, stroke_color=PALETTE.muted, stroke_width=1)
        zmap.reveal(0)
        head = text(f"z: kernel {st.kernel}'s map, {ho}x{wo}", 24, PALETTE.text).next_to(zmap, UP, buff=0.2)
        kernel = SignedImage(st.W, st.weight_range, height=1.4).move_to(LEFT * 0.2 + UP * 1.2)
        klabel = text(f"kernel {st.kernel}", 20, PALETTE.text).next_to(kernel, UP, buff=0.15)
        formula = VGroup(text("at each position:", 20), text("z = sum(W × pixels) + b", 24, PALETTE.text))
        formula.arrange(DOWN, buff=0.12).next_to(kernel, DOWN, buff=0.4)
        legend = SignLegend(st.z_range, "z (red +, blue -)", width=2.6).next_to(zmap, DOWN, buff=0.3)
        self.play(FadeIn(zmap), Create(frame), FadeIn(head), FadeIn(kernel), FadeIn(klabel), FadeIn(formula),
                  FadeIn(legend))
        done = ValueTracker(0)
        shown = {"n": -1}
        cursor = pixel_box(zmap, 0, stroke_width=2, min_side=0.08)

        def follow(_):
            i = min(int(done.get_value()), n - 1)
            if i != shown["n"]:
                shown["n"] = i
                zmap.reveal(i + 1)
                r, c = divmod(i, wo)
                self.box.move_to(window_box(self.digit, r, c, st.k).get_center())
                cursor.move_to(pixel_box(zmap, i).get_center())

        zmap.add_updater(follow)
        self.add(cursor, self.box)  # after the map in the scene's list: redrawn every frame, not kept as still
        self.play(done.animate.set_value(n), run_time=sweep(8 if n > 100 else 5), rate_func=linear)
        zmap.clear_updaters()
        self.remove(done)
        zmap.reveal(n)
        r, c = st.position
        self.box.move_to(window_box(self.digit, r, c, st.k).get_center())
        mark = pixel_box(zmap, r * wo + c, colour=PALETTE.activation, stroke_width=3, min_side=0.14)
        said = VGroup(text("outlined: the position written out,", 20, PALETTE.text),
                      text(f"z = {st.z_here:.3f}, the largest", 20, PALETTE.text)).arrange(DOWN, buff=0.1)
        said.next_to(formula, DOWN, buff=0.4)
        self.play(FadeOut(cursor), Create(mark), FadeIn(said))
        self.next_slide(notes=(
            f"The same {st.k}x{st.k} weights slide over every position, row by row: {n} positions, {ho}x{wo}, "
            f"each with its own z. That is the feature map of kernel {st.kernel}, drawn from the recorded values: red "
            f"where the pixels match the kernel's pattern, blue where they oppose it, from -{st.z_range:.2f} to "
            f"+{st.z_range:.2f}. The outlined cell is the position written out before, z = {st.z_here:.3f}, the "
            "largest. One kernel, shared by every position: that is why a convolution needs so few weights."))
        self.zmap, self.zlegend = zmap, legend
        self.keep(zmap, legend)

    # -- 4: ReLU --------------------------------------------------------------------------------
    def relu(self):
        st = self.story
        ho, wo = st.z.shape
        size = 3.0
        self.zmap.height = size
        self.zmap.move_to(LEFT * 4.6 + UP * 0.4)
        zhead = text(f"z: {ho}x{wo}", 24, PALETTE.text).next_to(self.zmap, UP, buff=0.2)
        self.zlegend.next_to(self.zmap, DOWN, buff=0.3)
        amap = SignedImage(st.a, st.z_range, height=size).move_to(UP * 0.4)
        f = "max(0, z)" if st.activation == "relu" else f"{st.activation}(z)"
        ahead = text(f"a = {f}", 24, PALETTE.text).next_to(amap, UP, buff=0.2)
        arrow = Arrow(self.zmap.get_right(), amap.get_left(), buff=0.2, color=PALETTE.muted)
        negative = int((st.z < 0).sum())
        said = VGroup(text(f"{negative} of the {ho * wo} values of z are negative:" if st.activation == "relu"
                           else f"f = {st.activation}, applied to every value"),
                      text("ReLU makes them 0 (white)" if st.activation == "relu" else "of the map"))
        said.arrange(DOWN, buff=0.1).next_to(amap, DOWN, buff=0.3)
        self.add(self.zmap, self.zlegend, zhead)
        self.play(GrowArrow(arrow), TransformFromCopy(self.zmap, amap), FadeIn(ahead), FadeIn(said))
        self.next_slide(notes=(
            f"Then the activation, one value at a time: a = {f}. "
            + (f"{negative} of the map's {ho * wo} values are negative; ReLU sets them to 0 and keeps the rest, so "
               "only the places where the kernel found its pattern stay." if st.activation == "relu" else "")
            + " These are the recorded a values."))  # ReLU
        self.amap, self.arest = amap, (said,)

    # -- 5: 2x2 max pooling ----------------------------------------------------------------------
    def pooling(self):
        st = self.story
        R, C = st.window
        hp, wp = st.pooled.shape
        pmap = SignedImage(st.pooled, st.z_range, height=3.0).move_to(RIGHT * 4.6 + UP * 0.4)
        phead = text(f"pool 2: {hp}x{wp}", 24, PALETTE.text).next_to(pmap, UP, buff=0.2)
        arrow = Arrow(self.amap.get_right(), pmap.get_left(), buff=0.2, color=PALETTE.muted)
        box = window_box(self.amap, 2 * R, 2 * C, 2)
        values = ValueGrid(st.window_values, st.z_range, cell=0.6).next_to(self.amap, DOWN, buff=0.35)
        best = float(st.window_values.max())
        said = text(f"max = {short_number(best)}", 24, PALETTE.text).next_to(values, RIGHT, buff=0.3)
        target = pixel_box(pmap, R * wp + C, colour=PALETTE.activation, stroke_width=3, min_side=0.14)
        self.play(FadeOut(*self.arest), Create(box))
        self.play(TransformFromCopy(box, values))
        self.play(FadeIn(said), GrowArrow(arrow), FadeIn(pmap), FadeIn(phead), Create(target))
        rule = text("each 2x2 window keeps its largest: half the height, half the width", 20, PALETTE.text)
        rule.to_edge(DOWN, buff=0.35)
        self.play(FadeIn(rule))
        self.next_slide(notes=(
            f"Max pooling keeps the largest value of each 2x2 window: the map shrinks from {st.z.shape[0]}x"
            f"{st.z.shape[1]} to {hp}x{wp}. The window outlined holds {', '.join(short_number(v) for v in st.window_values.ravel())}; "
            f"it keeps {short_number(best)}. Whether the pattern was a pixel to the left or right no longer "
            "matters: pooling keeps that it was there."))  # pooling
        self.pooled_map = pmap
