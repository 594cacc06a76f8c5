"""MiniBatches: every digit pulls the weights its own way; a training step follows a batch's mean.

At one snapshot: the run's formula of a step's gradient (the mean over a batch
of training digits); a few probe digits' own gradients for one first-layer
unit, drawn as images (each is the digit itself times its delta); their mean
over the probe set beside the batch's recorded gradient, with the cosines of
their directions; how the mean of k digits comes closer to the probe mean as k
grows; and what the optimiser did with the batch's mean (its own update rule,
and the step it took when the next step has a snapshot). Every number is
:func:`explainer.chapters.minibatch.minibatch_story`'s. Each phase ends with
its speaker notes (``notes_rules`` to ``notes_step``): what a teacher says over
it, with its numbers as the screen writes them, in plain Unicode (the deck
renders notes as Markdown: no LaTeX, no underscores).

    manim render -ql scenes/mini_batches.py MiniBatches
    EXPLAINER_TRACE=runs/mnist.zarr EXPLAINER_STEP=4 manim render -ql scenes/mini_batches.py MiniBatches
"""

import numpy as np
from manim import *

from explainer import filter_rgb
from explainer.chapters.minibatch import minibatch_story
from explainer.scenes.choice import chosen_step, chosen_trace, default_step
from explainer.scenes.palette import PALETTE
from explainer.scenes.pieces import DigitImage
from explainer.scenes.pieces.legend import Legend
from explainer.scenes.slides import LectureScene

COLUMN = 2.1  # scene units between the columns of pictures
PICTURE = 1.5  # a gradient picture's side
ROW = -0.45  # the pictures' centre line


def gradient_picture(values, shape, height=PICTURE):
    """A gradient (n_in,) as an image of the digit's shape: red > 0, blue < 0, scaled to its own largest |value|."""
    values = np.asarray(values, dtype=np.float64).reshape(shape)
    vmax = float(np.abs(values).max()) or 1.0
    rgb = filter_rgb(values, vmax)
    image = ImageMobject(np.concatenate([rgb, np.full((*shape, 1), 255, dtype=np.uint8)], axis=-1))
    image.set_resampling_algorithm(RESAMPLING_ALGORITHMS["nearest"])
    image.height = height
    return image


def column_text(tex, under, buff=0.15):
    return MathTex(tex, font_size=28, color=PALETTE.text).next_to(under, DOWN, buff=buff)


class MiniBatches(LectureScene):
    def setup(self):
        self.trace = trace = chosen_trace()
        self.story = minibatch_story(trace, chosen_step(trace, default=default_step("MiniBatches", trace)))
        self.camera.background_color = ManimColor(PALETTE.background)

    def construct(self):
        story, f = self.story, self.story.formulas
        title = Text("Mini-batches: a noisy step downhill", font_size=32, color=PALETTE.text).to_edge(UP, buff=0.25)
        subtitle = Text(f"step {story.step}: the gradient of a step is the mean over a batch of "
                        f"{story.batch_size} training digits", font_size=22, color=PALETTE.muted)
        subtitle.next_to(title, DOWN, buff=0.15)
        batch_rule = MathTex(f.weight_gradient, font_size=36, color=PALETTE.text)
        digit_words = Text("one digit's own gradient (of its loss and the weight penalty):", font_size=22,
                           color=PALETTE.muted)
        digit_rule = MathTex(story.digit_tex, font_size=36, color=PALETTE.text)
        rules = VGroup(batch_rule, digit_words, digit_rule).arrange(DOWN, buff=0.35).move_to(DOWN * 0.2)
        self.play(FadeIn(title), FadeIn(subtitle), Write(batch_rule))
        self.play(FadeIn(digit_words), Write(digit_rule))
        self.next_slide(notes=notes_rules(story))  # a step's gradient is a mean of digits' gradients

        digits = self.digit_columns()
        unit_rule = MathTex(story.unit_tex, font_size=32, color=PALETTE.text).next_to(subtitle, DOWN, buff=0.3)
        unit_words = Text(f"for unit {story.unit} of layer 1: the digit times its delta", font_size=20,
                          color=PALETTE.muted).next_to(unit_rule, DOWN, buff=0.1)
        legend = Legend([("square", PALETTE.positive, "> 0"), ("square", PALETTE.negative, "< 0")], font_size=20)
        legend_words = Paragraph("each picture scaled", "to its own largest value", font_size=20, color=PALETTE.muted,
                                 line_spacing=0.6)  # two short lines: the last phase's step sits to the right
        key = VGroup(legend, legend_words).arrange(RIGHT, buff=0.3).to_corner(DL, buff=0.3)
        self.play(FadeOut(rules), Write(unit_rule), FadeIn(unit_words))
        self.play(LaggedStart(*[FadeIn(column) for column in digits], lag_ratio=0.3), FadeIn(key))
        self.next_slide(notes=notes_digits(story))  # each digit's gradient

        mean, batch = self.mean_and_batch()
        cosines = VGroup(*[column_text(rf"\cos = {c:.2f}", column[-1], buff=0.1)
                           for c, column in zip(story.shown_cosines, digits)])
        stand_in = Paragraph(
            f"cos: each gradient against the mean of the {story.n_probe} probe digits (all weights and biases);", "that mean stands in for the full gradient (the mean over every training digit, not in the "
            "trace)", font_size=20, color=PALETTE.muted, alignment="left").next_to(key, UP, buff=0.25)
        stand_in.align_to(key, LEFT)
        self.play(FadeIn(mean), FadeIn(batch))
        self.play(FadeIn(cosines), FadeIn(stand_in))
        self.next_slide(notes=notes_mean(story))  # their mean, and the batch's

        self.play(FadeOut(digits), FadeOut(cosines), FadeOut(unit_rule), FadeOut(unit_words), FadeOut(stand_in))
        self.play(mean.animate.set_x(-5.75), batch.animate.set_x(-5.75 + COLUMN))
        curve = self.curve()
        self.play(Create(curve[0]), FadeIn(curve[1]))
        self.play(FadeIn(curve[2]), Create(curve[3]), FadeIn(curve[4]), FadeIn(curve[5]))
        self.next_slide(notes=notes_curve(story))  # averaging more digits

        self.play(FadeOut(curve))
        step = self.the_step(batch)
        self.play(FadeIn(step))
        self.pictures = Group(digits, mean, batch)  # (for checking)
        self.next_slide(notes=notes_step(story))  # what the optimiser did with the batch's mean

    def digit_columns(self):
        """Each drawn probe digit above its gradient of unit j, with its delta and the gradient's length."""
        story = self.story
        columns = Group()
        for k, (x, delta, row, norm) in enumerate(zip(story.x, story.delta, story.digit_rows,
                                                      story.digit_norms[list(story.samples)])):
            picture = gradient_picture(row, story.image_shape).move_to([-6.0 + k * COLUMN, ROW, 0])
            digit = DigitImage(x, story.image_shape, height=0.85).next_to(picture, UP, buff=0.6)
            words = MathTex(rf"\delta^{{1}}_{{{story.unit}}} = {delta:.3f}", font_size=28,
                            color=PALETTE.text).next_to(picture, UP, buff=0.12)
            length = column_text(rf"\lVert g_n \rVert = {norm:.2f}", picture)
            columns.add(Group(digit, words, picture, length))
        self.digit_pictures = columns  # (for checking)
        return columns

    def mean_and_batch(self):
        """The probe digits' mean gradient of unit j and the batch's recorded one, with lengths; the batch's cosine."""
        story = self.story
        x0 = -6.0 + len(story.samples) * COLUMN + 0.3
        mean_picture = gradient_picture(story.mean_row, story.image_shape).move_to([x0, ROW, 0])
        batch_picture = gradient_picture(story.batch_row, story.image_shape).move_to([x0 + COLUMN, ROW, 0])
        mean = Group(
            Paragraph(f"mean of the {story.n_probe}", "probe digits", font_size=20, color=PALETTE.text,
                      alignment="center").next_to(mean_picture, UP, buff=0.15),
            mean_picture, column_text(rf"\lVert \bar g \rVert = {story.mean_norm:.2f}", mean_picture))
        batch = Group(
            Paragraph("the batch's g", f"({story.batch_size} digits)", font_size=20, color=PALETTE.activation,
                      alignment="center").next_to(batch_picture, UP, buff=0.15),
            batch_picture, column_text(rf"\lVert g \rVert = {story.batch_norm:.2f}", batch_picture))
        batch.add(column_text(rf"\cos = {story.batch_cosine:.2f}", batch[-1], buff=0.1))
        return mean, batch

    def curve(self):
        """The cosine of the mean of k probe digits with the probe mean, against k; the batch's as a line."""
        story = self.story
        low = min(0.0, float(np.floor(min(min(d.min() for d in story.draws), story.batch_cosine) * 2) / 2))
        K = int(story.ks[-1])
        axes = Axes(x_range=[0, K + 0.5, max(1, K // 4) if K > 4 else 1], y_range=[low, 1, 0.5], x_length=6.0,
                    y_length=3.2, tips=False,
                    axis_config={"color": PALETTE.muted, "include_numbers": True, "font_size": 28},
                    x_axis_config={"numbers_to_exclude": [0]})
        axes.move_to([2.6, -0.1, 0])
        labels = VGroup(
            Text("k: probe digits averaged", font_size=22, color=PALETTE.muted).next_to(axes.x_axis, DOWN, buff=0.5),
            Text(f"cos with the mean of all {story.n_probe}", font_size=22, color=PALETTE.muted)
            .rotate(PI / 2).next_to(axes.y_axis, LEFT, buff=0.55),
        )
        dots = VGroup(*[Dot(axes.c2p(k, c), radius=0.035, color=PALETTE.muted, fill_opacity=0.6)
                        for k, draws in zip(story.ks, story.draws) for c in draws])
        line = axes.plot_line_graph(story.ks, story.mean_of_k, line_color=PALETTE.loss, stroke_width=4,
                                    vertex_dot_radius=0.06, vertex_dot_style={"color": PALETTE.loss})
        batch_line = DashedLine(axes.c2p(0, story.batch_cosine), axes.c2p(K + 0.5, story.batch_cosine),
                                color=PALETTE.activation, stroke_width=3)
        key = VGroup(
            VGroup(Line(LEFT * 0.25, RIGHT * 0.25, color=PALETTE.loss, stroke_width=4),
                   Text("k probe digits' mean: average of the draws", font_size=20,
                        color=PALETTE.text)).arrange(RIGHT, buff=0.15),
            VGroup(DashedLine(LEFT * 0.25, RIGHT * 0.25, color=PALETTE.activation, stroke_width=3),
                   Text(f"this step's batch of {story.batch_size}: {story.batch_cosine:.2f}", font_size=20,
                        color=PALETTE.activation)).arrange(RIGHT, buff=0.15),
        ).arrange(DOWN, aligned_edge=LEFT, buff=0.1).next_to(axes, UP, buff=0.25).align_to(axes, LEFT)
        note = Paragraph(
            f"dots: k probe digits drawn at random ({len(story.draws[-1])} draws)",
            f"the mean of all {story.n_probe} includes them: k stops at {K}",
            font_size=20, color=PALETTE.muted, alignment="left").next_to(labels[0], DOWN, buff=0.2)
        note.align_to(axes, LEFT)
        self.axes = axes  # (for checking)
        return VGroup(axes, labels, dots, line, VGroup(batch_line, key), note)

    def the_step(self, batch):
        """What the optimiser did with g: its update rule, and the step it took if the next step has a snapshot."""
        story, f = self.story, self.story.formulas
        words = Text(f"g goes into the optimiser ({f.optimizer_name}), whose rule is:", font_size=22,
                     color=PALETTE.text)
        lines = [MathTex(line, font_size=28, color=PALETTE.text) for line in f.update]
        width = 13.6 - (batch.get_right()[0] + 7.1) - 0.4  # what the right of the frame leaves
        split = []
        for line, tex in zip(lines, f.update):  # a line too wide is cut at its commas
            parts = tex.split(r",\quad ")
            split += [line] if line.width <= width or len(parts) == 1 else \
                [MathTex(p, font_size=28, color=PALETTE.text) for p in parts]
        rule = VGroup(words, *split).arrange(DOWN, aligned_edge=LEFT, buff=0.15)
        rule.next_to(batch, RIGHT, buff=0.6).to_edge(UP, buff=1.4)
        if story.taken is None:
            taken = Paragraph(f"step {story.step + 1} has no snapshot: the step it took is not in the trace",
                              font_size=20, color=PALETTE.muted, alignment="left")
            taken.next_to(rule, DOWN, buff=0.4, aligned_edge=LEFT)
            return VGroup(rule, taken)
        picture = gradient_picture(story.taken_row, story.image_shape, height=1.2)
        caption = VGroup(
            Text(f"the step it took (unit {story.unit}'s row):", font_size=22, color=PALETTE.text),
            MathTex(rf"\Delta W = W_{{{story.step + 1}}} - W_{{{story.step}}}", font_size=28, color=PALETTE.text),
        ).arrange(RIGHT, buff=0.2)
        numbers = VGroup(
            MathTex(rf"\cos(\Delta W, -g) = {story.taken_cosine:.2f}", font_size=28, color=PALETTE.text),
            MathTex(rf"\lVert \Delta W \rVert = {story.taken_norm:.4f}", font_size=28, color=PALETTE.text),
            MathTex(rf"\eta \lVert g \rVert = {story.sgd_norm:.4f}", font_size=28, color=PALETTE.text),
            Text("(the length of a plain SGD step, -\u03b7 g)" if f.optimizer_name != "sgd"
                 else "(sgd: the step is -\u03b7 g)", font_size=20, color=PALETTE.muted),
        ).arrange(DOWN, aligned_edge=LEFT, buff=0.12)
        taken = Group(caption, Group(picture, numbers).arrange(RIGHT, buff=0.3)).arrange(DOWN, aligned_edge=LEFT,
                                                                                         buff=0.2)
        taken.next_to(rule, DOWN, buff=0.35, aligned_edge=LEFT)
        return Group(rule, taken)


# -- speaker notes: what a teacher says over each phase, with its numbers as the screen writes them ------------
def listed(words):
    """``a``, ``a and b``, ``a, b and c``."""
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def notes_rules(story):
    """Phase 1: a step's gradient is the mean of its batch's digits' own gradients."""
    penalty = " plus the weight penalty's term," if story.penalty else ""
    return ("Each digit has its own gradient, and a training step follows their mean: "
            f"at step {story.step} the gradient is the mean over a batch of {story.batch_size} training digits. "
            f"One digit's gradient of a layer's weights is its δ times the activations coming in, δ aᵀ,{penalty} "
            "so every digit pulls the weights its own way.")


def notes_digits(story):
    """Phase 2: a few probe digits' own gradients of one first-layer unit, with their deltas and lengths."""
    deltas = listed(f"{d:.3f} (a {label})" for d, label in zip(story.delta, story.labels))
    norms = listed(f"{n:.2f}" for n in story.digit_norms[list(story.samples)])
    zero = "only the weight penalty's term" if story.penalty else "nothing"
    return (f"For unit {story.unit} of layer 1 a digit's gradient is the digit itself times its δ: "
            f"a positive δ makes a red copy, a negative one a blue copy, and δ = 0 leaves {zero}. "
            f"These {len(story.samples)} probe digits (held out, never trained on) have δ = {deltas}; "
            f"their whole gradients (every weight and bias) are {norms} long.")


def notes_mean(story):
    """Phase 3: the probe digits' mean beside the batch's recorded gradient, and the cosines."""
    cosines = listed(f"{c:.2f}" for c in story.shown_cosines)
    return ("Averaging keeps what the digits agree on and cancels the rest. Against the mean of the "
            f"{story.n_probe} probe digits, the digits' whole gradients (all weights and biases) have cos {cosines}. "
            f"The batch's recorded gradient, ‖g‖ = {story.batch_norm:.2f}, points within cos "
            f"{story.batch_cosine:.2f} of that mean (‖ḡ‖ = {story.mean_norm:.2f}). The probe mean stands in for "
            "the full gradient, the mean over every training digit, which the trace does not hold.")


def notes_curve(story):
    """Phase 4: the mean of k probe digits comes closer to the probe mean as k grows."""
    K = int(story.ks[-1])
    return ("The more digits a mean takes in, the closer its direction comes to the probe mean, our stand-in "
            "for the full gradient: a small batch is a noisy estimate. One probe digit lies at cos "
            f"{story.mean_of_k[0]:.2f} of it on average, a mean of {K} at {story.mean_of_k[-1]:.2f} (averaged over "
            f"{len(story.draws[-1])} random draws; they are part of that mean, so k stops at {K}). "
            f"This step's batch of {story.batch_size} training digits: {story.batch_cosine:.2f}.")


def notes_step(story):
    """Phase 5: what the optimiser did with the batch's mean g."""
    name = story.formulas.optimizer_name
    said = f"The batch's mean g goes into the optimiser, {name}, and its rule makes the step. "
    if story.taken is None:
        return said + (f"Step {story.step + 1} has no snapshot, so the step it took is not in the trace: "
                       "choose a step whose next step was recorded to see it.")
    plain = ("with sgd the step is −η g itself" if name == "sgd"
             else "which is how long a plain SGD step, −η g, would have been")
    return said + (f"The step it took, ΔW = W at step {story.step + 1} − W at step {story.step}, lies at "
                   f"cos(ΔW, −g) = {story.taken_cosine:.2f}; it is {story.taken_norm:.4f} long, against "
                   f"η‖g‖ = {story.sgd_norm:.4f}, {plain}.")
