"""OneNeuron: one hidden unit adds up a digit's pixels, each times its weight, and fires.

The probe digit becomes 64 (8x8) or 784 (28x28) numbers; the unit's incoming
weights W_j, drawn as an image of the same shape, meet the digit's ink; the
products W_ji x_i appear pixel by pixel in reading order while a counter adds
them up, and with the bias they give the recorded z_j; the point (z_j, a_j)
sits on the graph of the run's activation; then the whole layer at once,
z = W a + b, as blocks with their shapes and its count of parameters.
Every number comes from :mod:`explainer.chapters.neuron`.

    manim render -ql scenes/one_neuron.py OneNeuron
    EXPLAINER_TRACE=runs/mnist.zarr EXPLAINER_UNIT=7 manim render -ql scenes/one_neuron.py OneNeuron

``EXPLAINER_UNIT`` picks the unit of the first hidden layer (default: the one
this digit drives hardest, the largest recorded z).
"""

import os

import numpy as np
from manim import *

from explainer.chapters.neuron import check_index, neuron_story
from explainer.scenes.choice import chosen_sample, chosen_step, chosen_trace, fail
from explainer.scenes.palette import PALETTE
from explainer.scenes.pieces import DigitImage
from explainer.scenes.pieces.light import light
from explainer.scenes.pieces.pixels import InkOutline, NumberGrid, SignedImage, SignLegend, pixel_box
from explainer.scenes.slides import LectureScene, sweep

PANEL = 2.5  # height of the three pictures x, W_j and W_j * x


def chosen_unit(trace):
    """The unit of layer 1 named by ``EXPLAINER_UNIT``, or None (the story's default); a bad one stops in one line."""
    text = os.environ.get("EXPLAINER_UNIT", "").strip()
    if not text:
        return None
    if trace.n_layers < 2:
        fail("EXPLAINER_UNIT: this network has no hidden layer; its first layer is the output")
    try:
        return check_index(text, trace.sizes[1], "EXPLAINER_UNIT", "a unit of layer 1")
    except ValueError as e:
        fail(str(e))


def tex(s, size=32, colour=PALETTE.text):
    return light(MathTex(s, font_size=size, color=colour))


def text(s, size=22, colour=PALETTE.muted):
    return light(Text(s, font_size=size, color=colour))


class OneNeuron(LectureScene):
    def setup(self):
        trace = chosen_trace()
        sample, step = chosen_sample(trace), chosen_step(trace)
        self.story = neuron_story(trace, sample, step, chosen_unit(trace))
        self.camera.background_color = ManimColor(PALETTE.background)
        # Manim's cache hashes every mobject on screen before each animation, to reuse partial movies on a
        # second render: here that hashing took half the render time (a digit's worth of numbers, three images)

    def construct(self):
        st = self.story
        self.title = Text(f"One neuron: unit {st.unit} of layer 1, step {st.step}", font_size=32,
                          color=PALETTE.text).to_edge(UP, buff=0.25)
        self.add(self.title)
        self.digit_as_numbers()
        self.weights_meet_the_digit()
        self.products_add_up()
        self.activation_point()
        self.whole_layer()

    def clear_below_title(self):
        """A cut to the next phase's picture (fading out a screenful of mobjects costs a copy of each)."""
        self.remove(*[m for m in self.mobjects if m is not self.title])

    # -- 1: the digit is numbers ---------------------------------------------------------------
    def digit_as_numbers(self):
        st = self.story
        rows, cols = st.image_shape
        digit = DigitImage(st.x, st.image_shape, height=3.4).move_to(LEFT * 4.2 + UP * 0.2)
        caption = text(f"probe digit {st.sample}: a {st.label}").next_to(digit, DOWN, buff=0.2)
        self.play(FadeIn(digit), FadeIn(caption))
        r0, c0, size = st.window
        window = st.x.reshape(st.image_shape)[r0 : r0 + size, c0 : c0 + size]
        grid = NumberGrid(window, cell=0.56 if size > 7 else 0.62).move_to(RIGHT * 2.6 + UP * 0.2)
        n = rows * cols
        if size >= max(rows, cols):
            note = text(f"{rows}x{cols} pixels: {n} numbers, 0 = paper to 1 = ink")
            self.play(LaggedStart(*[FadeIn(cell) for cell in grid], lag_ratio=0.01, run_time=1.5))
        else:
            side = digit.height / rows
            box = Rectangle(width=size * side, height=size * side, stroke_color=PALETTE.activation, stroke_width=3)
            box.move_to(digit.get_corner(UL) + RIGHT * (c0 + size / 2) * side + DOWN * (r0 + size / 2) * side)
            note = text(f"{rows}x{cols} pixels: {n} numbers, too many to write; the {size}x{size} marked, written out")
            self.play(Create(box))
            self.play(TransformFromCopy(box, grid), run_time=1.2)
        note.next_to(grid, DOWN, buff=0.25).set_x(0)
        column = tex(rf"x = a^{{0}} = (x_0,\, x_1,\, \dots,\, x_{{{n - 1}}}),\ \text{{read row by row}}", 30)
        column.next_to(note, DOWN, buff=0.2)
        self.play(FadeIn(note), Write(column))
        notes = (f"To a network a digit is only numbers: one per pixel, from 0 for paper to 1 for ink. This is "
                 f"probe digit {st.sample}, a {st.label}, held out of training: its {rows}x{cols} pixels are {n} "
                 f"numbers, read row by row into one column, x = a⁰.")
        if size < max(rows, cols):
            notes += f" {n} are too many to write out, so only the {size}x{size} square marked on the digit is."
        self.next_slide(notes=notes)  # the digit as numbers

    # -- 2: the unit's weights, in the digit's shape --------------------------------------------
    def weights_meet_the_digit(self):
        st = self.story
        self.clear_below_title()
        y = UP * 1.0
        x_img = DigitImage(st.x, st.image_shape, height=PANEL).move_to(LEFT * 4.6 + y)
        w_img = SignedImage(st.w.reshape(st.image_shape), st.weight_range, height=PANEL).move_to(LEFT * 0.6 + y)
        outline = InkOutline(st.x, st.image_shape, w_img)
        p_img = SignedImage(st.products.reshape(st.image_shape), st.product_range, height=PANEL).move_to(RIGHT * 3.4 + y)
        p_img.reveal(0)
        p_frame = SurroundingRectangle(p_img, buff=0, stroke_color=PALETTE.muted, stroke_width=1)
        times = tex(r"\odot", 44).move_to((x_img.get_right() + w_img.get_left()) / 2)
        equals = tex("=", 44).move_to((w_img.get_right() + p_img.get_left()) / 2)
        labels = VGroup(tex(r"x", 32).next_to(x_img, UP, buff=0.15),
                        tex(rf"W_{{{st.unit}}}", 32).next_to(w_img, UP, buff=0.15),
                        tex(rf"W_{{{st.unit}}} \odot x", 32).next_to(p_img, UP, buff=0.15))
        w_legend = SignLegend(st.weight_range, "weight (red +, blue -)", width=2.5).next_to(w_img, DOWN, buff=0.25)
        n = st.n_in
        note = VGroup(text(f"unit {st.unit}'s {n} incoming weights, one per pixel, in the image's shape;"),
                      text("over them, the outline of the digit's ink (x >= 0.5)")).arrange(DOWN, buff=0.12)
        note.to_edge(DOWN, buff=0.4)
        self.play(FadeIn(x_img), FadeIn(labels[0]))
        self.play(FadeIn(w_img), FadeIn(labels[1]), FadeIn(w_legend), FadeIn(note))
        self.play(Create(outline), run_time=1.2)
        self.next_slide(notes=(
            f"A unit of the first layer looks at every pixel through a weight of its own. Unit {st.unit} of "
            f"layer 1 has {n} incoming weights, one per pixel, drawn in the digit's shape: red positive, blue "
            f"negative, from -{st.weight_range:.2g} to +{st.weight_range:.2g}. The outline is the digit's ink "
            "(x ≥ 0.5): ink over red pushes the unit up, ink over blue pushes it down."))  # W_j over the digit
        self.panels = (x_img, w_img, p_img, p_frame, times, equals, labels, outline, note)

    # -- 3: the products, pixel by pixel, and their sum --------------------------------------------
    def products_add_up(self):
        st = self.story
        x_img, w_img, p_img, p_frame, times, equals, labels, outline, note = self.panels
        p_legend = SignLegend(st.product_range, "product (red +, blue -)", width=2.5).next_to(p_img, DOWN, buff=0.25)
        self.play(FadeOut(note), FadeIn(times), FadeIn(equals), FadeIn(p_frame), FadeIn(p_img), FadeIn(labels[2]),
                  FadeIn(p_legend))
        # the count moves on in steps of `every` pixels (64 -> 2, 784 -> 25): about 32 values of the counter,
        # each of which costs a DecimalNumber redrawn
        every = -(-st.n_in // 32)
        counted = ValueTracker(0)
        shown = {"n": 0}

        def added():
            return min(st.n_in, every * int(counted.get_value() / every + 0.5))

        def reveal(image):
            n = added()
            if n != shown["n"]:
                image.reveal(n)
                shown["n"] = n
                so_far.set_value(st.running[n - 1] if n else 0.0)

        cursors = VGroup(*[pixel_box(img, 0, stroke_width=2, min_side=0.08) for img in (x_img, w_img, p_img)])

        def follow(group):
            i = min(added(), st.n_in - 1)
            for box, img in zip(group, (x_img, w_img, p_img)):
                box.move_to(pixel_box(img, i).get_center())

        cursors.add_updater(follow)
        # digits drawn as Text, not LaTeX: each new digit of a MathTex number costs a LaTeX run
        so_far = DecimalNumber(0, num_decimal_places=3, include_sign=True, font_size=28, color=PALETTE.text,
                               mob_class=Text)
        head = tex(rf"\textstyle\sum_i W_{{{st.unit},i}}\, x_i =", 34)
        counter = VGroup(head, so_far).arrange(RIGHT, buff=0.2).move_to(DOWN * 1.75).to_edge(LEFT, buff=0.8)
        order = text("pixel by pixel, row by row").next_to(counter, DOWN, buff=0.2)
        p_img.add_updater(reveal)
        self.add(cursors)
        self.play(FadeIn(counter), FadeIn(order))
        self.play(counted.animate.set_value(st.n_in), run_time=sweep(4), rate_func=linear)
        self.remove(counted)  # a ValueTracker is a point at (value, 0): off screen
        p_img.clear_updaters()
        p_img.reveal(st.n_in)
        cursors.clear_updaters()
        so_far.set_value(st.weighted_sum)
        self.play(FadeOut(cursors), FadeOut(order))
        # the biggest products, written out, and the bias: the recorded z
        marks = VGroup(*[pixel_box(p_img, i, colour=PALETTE.activation, stroke_width=3, min_side=0.14)
                         for i in st.top[:3]])
        top3 = [f"{st.products[i]:.3f}" for i in st.top[:3]]
        biggest = " + ".join(top3)
        rest = st.n_ink - 3
        terms = tex(rf"= {biggest} + \dots", 30).next_to(counter, DOWN, buff=0.2).align_to(head, LEFT)
        why = text(f"the 3 biggest (outlined), {rest} more with ink; paper (x = 0) adds 0", 20).next_to(terms, DOWN, buff=0.15).align_to(head, LEFT)
        self.play(Create(marks), Write(terms), FadeIn(why))
        self.next_slide(notes=(
            "Each pixel times its weight gives a product, and the unit adds them all up. Paper (x = 0) adds "
            f"nothing, so only the {st.n_ink} pixels with ink count. Added pixel by pixel, row by row, they come to "
            f"Σ W·x = {st.weighted_sum:+.3f}; the three biggest products, outlined, are {top3[0]}, {top3[1]} "
            f"and {top3[2]}."))  # the products and their sum
        sign = "+" if st.b >= 0 else "-"
        z_line = tex(rf"z_{{{st.unit}}} = {st.weighted_sum:.3f} {sign} {abs(st.b):.3f} = {st.total:.3f}", 34)
        z_line.move_to(DOWN * 1.85).to_edge(LEFT, buff=0.8)
        bias = text(f"plus the bias b_{st.unit}; the recorded z of this digit: {st.z:.3f}", 22)
        bias.next_to(z_line, DOWN, buff=0.2).align_to(z_line, LEFT)
        self.remove(terms, why, counter)
        self.play(Write(z_line), FadeIn(bias))
        self.next_slide(notes=(  # z = the sum + b
            f"Add the unit's bias, b = {st.b:.3f}, and the sum becomes its z: {st.weighted_sum:.3f} {sign} "
            f"{abs(st.b):.3f} = {st.total:.3f}. That is the z the trace recorded when this digit went through the "
            f"network at step {st.step}, {st.z:.3f}: the picture is the network's own arithmetic."))

    # -- 4: the activation: a point on its graph ----------------------------------------------------
    def activation_point(self):
        st = self.story
        self.clear_below_title()
        name = st.activation.replace("_", r"\_")
        rule = tex(rf"a = f(z) = {st.f_tex}", 34)
        called = text(f"f: {st.activation}, this run's activation in layer 1")
        z_tex = tex(rf"z_{{{st.unit}}} = {st.z:.3f}", 34)
        a_tex = tex(rf"a_{{{st.unit}}} = f(z_{{{st.unit}}}) = {st.a:.3f}", 34)
        left = VGroup(called, rule, z_tex, a_tex).arrange(DOWN, aligned_edge=LEFT, buff=0.35)
        left.to_edge(LEFT, buff=0.6).shift(DOWN * 0.3)
        self.play(FadeIn(called), Write(rule))
        if st.curve is None:  # softmax: a_j depends on every z, not on z_j alone
            why = text(f"{st.activation}: a_{st.unit} depends on every unit's z, so there is no curve of z alone",
                       22).next_to(left, DOWN, buff=0.4).align_to(left, LEFT)
            self.play(Write(z_tex), Write(a_tex), FadeIn(why))
            self.next_slide(notes=(
                f"Then the unit's z goes through this run's activation, {_words(st.activation)}. Here layer 1 is the "
                f"output: softmax makes unit {st.unit}'s a from every unit's z at once, so there is no curve of z "
                f"alone to draw. Its z of {st.z:.3f} gives a = {st.a:.3f}, as recorded."))  # the activation
            return
        zs, fs = st.curve
        lo, hi = float(fs.min()), float(fs.max())
        pad = 0.1 * (hi - lo or 1)
        span = float(zs[-1])
        axes = Axes(x_range=[-span, span, _tick(span)], y_range=[lo - pad, hi + pad, _tick(hi - lo + 2 * pad)],
                    x_length=5.6, y_length=4.2, tips=False,
                    axis_config={"color": PALETTE.muted})
        axes.to_edge(RIGHT, buff=0.5).shift(DOWN * 0.3)
        for axis, (low, high, step) in ((axes.x_axis, axes.x_range), (axes.y_axis, axes.y_range)):
            ticks = [v for v in np.arange(np.ceil(low / step), np.floor(high / step) + 1) * step if abs(v) > 1e-9]
            axis.add_labels({v: text(f"{v:g}", 20) for v in ticks}, font_size=20)  # Text: no LaTeX run per label
        graph = axes.plot_line_graph(zs, fs, add_vertex_dots=False, line_color=PALETTE.activation, stroke_width=4)
        names = VGroup(tex("z", 30).next_to(axes.x_axis, RIGHT, buff=0.15).shift(DOWN * 0.1),
                       tex(rf"\mathrm{{{name}}}(z)", 30, PALETTE.activation).next_to(axes, UP, buff=0.1))
        point = axes.c2p(st.z, st.a)
        dot = Dot(point, radius=0.09, color=PALETTE.text)
        guides = VGroup(DashedLine(axes.c2p(st.z, 0 if lo <= 0 <= hi else lo), point, color=PALETTE.text),
                        DashedLine(axes.c2p(0 if -span <= 0 else -span, st.a), point, color=PALETTE.text))
        where = tex(rf"({st.z:.2f},\ {st.a:.2f})", 30).next_to(dot, UL, buff=0.1)
        if where.get_left()[0] < axes.c2p(0, 0)[0] + 0.1 < where.get_right()[0] + 0.2:  # it would sit on the y axis
            where.next_to(dot, DR, buff=0.1)
        self.play(Create(axes), FadeIn(names), Create(graph))
        self.play(Write(z_tex))
        self.play(Create(guides), FadeIn(dot), FadeIn(where), Write(a_tex))
        recorded = text(f"the recorded a_{st.unit} of this digit: {st.a:.3f}").next_to(left, DOWN, buff=0.35)
        self.play(FadeIn(recorded.align_to(left, LEFT)))
        notes = (f"Then the unit fires: its z goes through this run's activation, {_words(st.activation)}, a = f(z). "
                 f"Unit {st.unit}'s z of {st.z:.3f} gives a = {st.a:.3f}, the point on the curve, exactly the a the "
                 "trace recorded for this digit.")
        if st.a == 0:
            notes += " An a of 0: this digit leaves the unit silent, and it passes nothing on."
        self.next_slide(notes=notes)  # the point (z, a)

    # -- 5: the whole layer at once -------------------------------------------------------------
    def whole_layer(self):
        st = self.story
        self.clear_below_title()
        n_out, n_in = st.n_out, st.n_in
        rule = tex(st.forward_tex + r",\quad l = 1", 36).next_to(self.title, DOWN, buff=0.3)
        scale = 3.4 / max(n_out, n_in)  # units per row or column of W
        W = SignedImage(st.W, st.weight_range, height=n_out * scale)
        thick = 0.3
        x = DigitImage(st.x, (n_in, 1), height=n_in * scale)
        x.stretch_to_fit_width(thick)
        b = SignedImage(st.layer_b[:, None], st.weight_range, height=n_out * scale).stretch_to_fit_width(thick)
        z_range = float(np.abs(st.layer_z).max()) or 1.0
        z = SignedImage(st.layer_z[:, None], z_range, height=n_out * scale).stretch_to_fit_width(thick)
        plus, equals = tex("+", 44), tex("=", 44)
        blocks = Group(z, equals, W, x, plus, b).arrange(RIGHT, buff=0.3)
        # a^0's shape ("784 × 1") is wider than its column: keep it clear of W on its left and + on its right
        room = max(0.0, (text(f"{n_in} × 1", 22).width - thick) / 2 - 0.3 + 0.15)
        for m in (x, plus, b):
            m.shift(RIGHT * room)
        for m in (plus, b):
            m.shift(RIGHT * room)
        blocks.move_to(LEFT * 2.4 + UP * 0.05)
        frames = VGroup(*[SurroundingRectangle(m, buff=0, stroke_color=PALETTE.muted, stroke_width=1)
                          for m in (z, W, x, b)])
        shapes = VGroup(*[text(f"{r} × {c}", 22, PALETTE.text).next_to(m, DOWN, buff=0.2)
                          for m, (r, c) in zip((z, W, x, b), ((n_out, 1), (n_out, n_in), (n_in, 1), (n_out, 1)))])
        names = VGroup(*[tex(s, 30).next_to(m, UP, buff=0.15) for s, m in
                         zip(("z^{1}", "W^{1}", "a^{0}", "b^{1}"), (z, W, x, b))])

        def at_row(m, width):  # row j of a block n_out high: the unit of the story
            return Rectangle(width=width, height=max(scale, 0.07), stroke_color=PALETTE.activation,
                             stroke_width=3).move_to(m.get_top() + DOWN * (st.unit + 0.5) * m.height / n_out)

        marks = VGroup(at_row(W, W.width + 0.06), at_row(b, thick + 0.08), at_row(z, thick + 0.08),
                       SurroundingRectangle(x, buff=0.03, stroke_color=PALETTE.activation, stroke_width=3))
        self.play(Write(rule))
        self.play(FadeIn(blocks), FadeIn(frames), FadeIn(names), FadeIn(shapes))
        legend = Group(SignLegend(st.weight_range, "W and b (red +, blue -)", width=2.8),
                       SignLegend(z_range, "z of this digit", width=2.8)).arrange(DOWN, buff=0.5)
        legend.to_edge(RIGHT, buff=0.7).shift(UP * 0.6)
        self.play(FadeIn(legend))
        which = text(f"outlined: unit {st.unit}'s row of W, its bias and its z; a^0 is the digit, as a column")
        count = tex(rf"{n_out} \cdot {n_in} + {n_out} = {st.n_params:,}".replace(",", "{,}"), 34)
        words = text(f"parameters: {n_out * n_in:,} weights and {n_out} biases")
        params = VGroup(count, words).arrange(RIGHT, buff=0.4)
        VGroup(which, params).arrange(DOWN, aligned_edge=LEFT, buff=0.3).to_corner(DL, buff=0.45)
        self.play(Create(marks), FadeIn(which))
        self.play(Write(count), FadeIn(words))
        self.next_slide(notes=(
            f"Every unit of layer 1 does the same at once, one row of W each: z¹ = W¹a⁰ + b¹. W¹ is {n_out} × {n_in}, "
            f"the digit a⁰ is a column of {n_in}, b¹ and z¹ are columns of {n_out}; unit {st.unit}'s row, bias and "
            f"z are outlined. That makes {st.n_params:,} parameters in this one layer: {n_out} × {n_in} weights and "
            f"{n_out} biases, all learned."))  # the whole layer, and its parameters


def _words(name):
    """A name from the code (``leaky_relu``) as the notes say it (``leaky relu``): Markdown reads ``_`` as emphasis."""
    return name.replace("_", " ")


def _tick(span):
    """A round tick spacing giving about 3 to 6 ticks over ``span``."""
    step = 10 ** np.floor(np.log10(max(span, 1e-9) / 3))
    for factor in (1, 2, 5, 10):
        if span / (step * factor) <= 6:
            return float(step * factor)
    return float(step * 10)
