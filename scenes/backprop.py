"""Backprop: the error of one probe digit flows back through the network, and what the step really did.

With the weights of the chosen snapshot, the digit's output error delta^L (the
formula of the run's own output activation and loss) nudges each output; then
layer by layer the recorded delta flows backward, delta^l = (W^{l+1})^T
delta^{l+1} * f'(z^l) (neurons coloured by its sign and size), and each edge is
recoloured by this digit's share of the gradient, delta^l (a^{l-1})^T. Then
the truth about the step: a probe digit is held out, so its gradient is shown
but never applied; the optimiser was given the training batch's mean gradient
(the edges change to it) and updated the weights with the run's own rule and
numbers (the learning rate in force at that step). Last, the digit's loss now
and at the next snapshot. Every formula comes from explainer.formulas, every
number from explainer.chapters.backprop.

    manim render -ql scenes/backprop.py Backprop
    EXPLAINER_SAMPLE=3 EXPLAINER_STEP=40 manim render -ql scenes/backprop.py Backprop
"""

import numpy as np
from manim import *

from explainer.chapters.backprop import backprop_story
from explainer.scenes.choice import chosen_sample, chosen_step, chosen_trace, default_step
from explainer.scenes.palette import PALETTE
from explainer.scenes.pieces import DigitImage, NetworkDiagram
from explainer.scenes.pieces.network import shown_units_for
from explainer.scenes.slides import LectureScene

MAX_SHOWN = 10  # neurons drawn per layer; wider layers are truncated
TEX, TEXT = 30, 20  # font sizes: legible at 480p (digits at least 12 px high)
COLUMN, WIDTH = 2.0, 4.9  # the text column right of the network: its left edge, its width


def legend(*entries):
    """Coloured lines saying what a colour means: ``("red: W > 0", PALETTE.positive), ...``."""
    key = VGroup(*[Text(text, font_size=TEXT, color=colour) for text, colour in entries])
    return key.arrange(DOWN, aligned_edge=LEFT, buff=0.08).to_edge(DOWN, buff=0.2).align_to(RIGHT * COLUMN, LEFT)


def lines(*texts, colour=PALETTE.text):
    return VGroup(*[Text(t, font_size=TEXT, color=colour) for t in texts]).arrange(DOWN, aligned_edge=LEFT, buff=0.1)


class Backprop(LectureScene):
    def setup(self):
        self.trace = trace = chosen_trace()
        self.sample = chosen_sample(trace)
        self.step = chosen_step(trace, default=default_step("Backprop", trace))
        self.story = backprop_story(trace, self.sample, self.step)
        self.camera.background_color = ManimColor(PALETTE.background)

    def construct(self):
        trace, story = self.trace, self.story
        record, s, L, f = story.record, self.sample, trace.n_layers, story.formulas
        title = Text(f"Backpropagation at step {self.step}", font_size=32, color=PALETTE.text).to_edge(UP, buff=0.2)
        digit = DigitImage(story.x, trace.image_shape, height=1.2).to_corner(UL, buff=0.3).shift(DOWN * 0.45)
        net = NetworkDiagram(trace.sizes, max_shown=MAX_SHOWN, width=5.4, height=5.0,
                             units=shown_units_for(story.x, record, s, MAX_SHOWN)).shift(LEFT * 2.0 + DOWN * 0.45)
        marks = digit.pixel_marks(net.shown[0]) if len(net.shown[0]) < trace.sizes[0] else VGroup()
        net.set_activations(0, story.x)
        for layer in range(L):
            net.edges_from(layer, story.weights[layer][0])
            net.set_activations(layer + 1, story.a[layer + 1])
        for edges in net.edges:
            edges.set_stroke(opacity=0.15)
        labels = net.output_labels()
        key = legend(("edges: W  (red > 0, blue < 0)", PALETTE.muted))
        self.play(FadeIn(title), FadeIn(digit), FadeIn(marks), FadeIn(net), FadeIn(labels), FadeIn(key))
        self.next_slide()  # the forward pass this digit went through

        right = RIGHT * COLUMN
        if story.untruthful:
            note = lines(*_wrap(story.untruthful, 36), colour=PALETTE.wrong).next_to(title, DOWN, buff=0.5)
            self.play(FadeIn(note.align_to(right, LEFT)))
            self.next_slide()
            return

        # the output error, and which way each output should move
        delta_out = story.delta[-1]
        error = VGroup(
            MathTex(f.output_delta, font_size=TEX),
            lines(f"true digit {story.label}:", "y is 1 there, 0 elsewhere", colour=PALETTE.muted),
        ).arrange(DOWN, aligned_edge=LEFT, buff=0.15)
        error[0].set_color(PALETTE.text)
        _fit(error, WIDTH).next_to(title, DOWN, buff=0.35).align_to(right, LEFT)
        arrows = VGroup()
        for circle, unit in zip(net.layers[-1], net.shown[-1]):
            nudge = -float(delta_out[unit])  # the way the output's z should go
            if abs(nudge) > 0.02 or unit == story.label:
                start = circle.get_right() + RIGHT * 0.45
                arrows.add(Arrow(start, start + UP * np.sign(nudge) * (0.15 + 0.5 * min(abs(nudge), 1)), buff=0,
                                 color=PALETTE.correct if nudge > 0 else PALETTE.wrong, stroke_width=4,
                                 max_tip_length_to_length_ratio=0.35))
        neurons_key = legend(("neurons: delta  (red > 0, blue < 0)", PALETTE.muted),
                             ("arrows: where each z should go", PALETTE.muted))
        self.play(Write(error), *[Transform(c, t) for c, t in zip(net.layers[L], net.signed_column(L, delta_out))],
                  *([LaggedStart(*[GrowArrow(a) for a in arrows], lag_ratio=0.1)] if len(arrows) else []),
                  FadeOut(key), FadeIn(neurons_key))
        self.next_slide()  # the output error

        # the error flows backward, layer by layer, and each edge gets this digit's share of the gradient
        rules = VGroup(MathTex(f.backward, font_size=TEX),
                       MathTex(r"\text{this digit's share: }" + f.digit_weight_gradient, font_size=TEX))
        rules.arrange(DOWN, aligned_edge=LEFT, buff=0.25).set_color(PALETTE.text)
        _fit(rules, WIDTH).next_to(error, DOWN, buff=0.45, aligned_edge=LEFT)
        edges_key = legend(("neurons: delta  (red > 0, blue < 0)", PALETTE.muted),
                           ("edges: this digit's share of dW", PALETTE.muted))
        self.play(Write(rules), FadeOut(arrows), FadeOut(neurons_key), FadeIn(edges_key))
        self.next_slide()  # the rules, before they run
        for layer in reversed(range(L)):
            animations = [Transform(net.edges[layer], net.edge_paths(layer, story.digit_dW[layer]))]
            if layer > 0:
                target = net.signed_column(layer, story.delta[layer - 1])
                animations += [Transform(c, t) for c, t in zip(net.layers[layer], target)]
            self.play(*animations, run_time=1.2)
            self.next_slide()  # one layer further back

        # what the optimiser was given: the training batch's mean, not this digit's gradient
        batch = VGroup(
            lines("a probe digit is never trained on:", "its gradient is shown, not applied.",
                  "The step used the mean gradient g", f"of a batch of {f.batch_size} training digits:"),
            gradient_lines(f),
        ).arrange(DOWN, aligned_edge=LEFT, buff=0.2)
        batch.next_to(title, DOWN, buff=0.35).align_to(right, LEFT)
        batch_key = legend(("edges: the batch's g, red > 0", PALETTE.muted), ("and blue < 0", PALETTE.muted))
        self.play(FadeOut(error), FadeOut(rules), FadeIn(batch), FadeOut(edges_key), FadeIn(batch_key),
                  *[Transform(net.edges[layer], net.edge_paths(layer, story.batch_dW[layer])) for layer in range(L)],
                  run_time=1.5)
        self.next_slide()  # the batch's gradient

        # the update: the run's optimiser, with its numbers at this step
        rate = (f.learning_rate,) if trace.run.training.lr_decay != 1 else ()  # how the decay made eta
        update = VGroup(*[_fit(MathTex(line, font_size=TEX), WIDTH) for line in (*f.update, *rate)])
        update.arrange(DOWN, aligned_edge=LEFT, buff=0.16).set_color(PALETTE.text)
        heading = lines(f"the run's update ({f.optimizer_name}),", "g: the batch's mean gradient", colour=PALETTE.muted)
        block = VGroup(heading, update).arrange(DOWN, aligned_edge=LEFT, buff=0.2)
        block.next_to(title, DOWN, buff=0.3).align_to(right, LEFT)
        self.play(FadeOut(batch), Write(block))
        self.next_slide()  # the update, before its effect

        # the loss on this digit now, and at the next snapshot
        if story.after is None:
            verdict = lines("loss on this digit:", f"{story.loss:.3f} at step {self.step}",
                            "(the last snapshot: none later)", colour=PALETTE.muted)
        else:
            when = ("after this step's update" if story.after.updates == 1
                    else f"{story.after.updates} updates later")
            colour = PALETTE.correct if story.after.loss < story.loss else PALETTE.wrong
            verdict = lines("loss on this digit:", f"{story.loss:.3f} at step {self.step},",
                            f"{story.after.loss:.3f} at step {story.after.step}", f"({when})", colour=colour)
        verdict.next_to(block, DOWN, buff=0.3, aligned_edge=LEFT)
        crowded = verdict.get_bottom()[1] < batch_key.get_top()[1] + 0.1  # a long update: the legend makes room
        self.play(FadeIn(verdict), *([FadeOut(batch_key)] if crowded else []))
        self.wait(2)


def gradient_lines(f):
    """g = dL/dW^l as the run computed it: the batch's mean, and the weight penalties' terms on a line of
    their own (on one line the formula would be shrunk below the legible size)."""
    mean = f.weight_gradient.removesuffix(f.penalty_gradient)
    lines_ = [MathTex(r"g = " + mean, font_size=TEX)]
    if f.penalty_gradient:
        lines_.append(MathTex(r"\qquad" + f.penalty_gradient, font_size=TEX))
    return _fit(VGroup(*lines_).arrange(DOWN, aligned_edge=LEFT, buff=0.12).set_color(PALETTE.text), WIDTH)


def _fit(group, width):
    """Scale ``group`` down to ``width`` if it is wider (the legibility tests catch a formula shrunk too far)."""
    if group.width > width:
        group.scale_to_fit_width(width)
    return group


def _wrap(text, width):
    """Words of ``text`` in lines of at most ``width`` characters."""
    out, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return out + [line] if line else out
