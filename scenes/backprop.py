"""Backprop: the error of one probe digit flows back through the network.

With the weights of the chosen snapshot, the digit's output error
delta = a - y (softmax and cross-entropy) nudges each output; then layer by
layer the recorded delta flows backward (neurons coloured by its sign and
size) and each edge is recoloured by this digit's gradient dW = delta a^T.
The chain rule and the update are written with the code's symbols, and the
digit's loss is compared with the next snapshot's.

    manim render -ql scenes/backprop.py Backprop
    EXPLAINER_SAMPLE=3 EXPLAINER_STEP=40 manim render -ql scenes/backprop.py Backprop
"""

import numpy as np
from manim import *

from explainer.scenes.choice import chosen_sample, chosen_step, chosen_trace
from explainer.scenes.palette import PALETTE
from explainer.scenes.pieces import DigitImage, NetworkDiagram
from explainer.scenes.pieces.network import shown_units_for
from explainer.scenes.slides import LectureScene

MAX_SHOWN = 10  # neurons drawn per layer; wider layers are truncated


def digit_loss(probabilities, label):
    """Cross-entropy of one digit: -log p[label]."""
    return float(-np.log(max(float(probabilities[label]), 1e-12)))


class Backprop(LectureScene):
    def setup(self):
        self.trace = trace = chosen_trace()
        self.sample = chosen_sample(trace)
        # by default early in training (2% of the steps), where the error is large and learning shows
        self.step = chosen_step(trace, default=trace.n_steps // 50)
        self.weights = trace.weights(self.step, exact=True)
        self.record = trace.probe_record(self.step, exact=True)
        self.x = trace.probe_x[self.sample]
        self.label = int(trace.probe_labels[self.sample])
        k = trace.snapshot_index(self.step)
        self.next = trace.probe_record(int(trace.snapshot_steps[min(k + 1, trace.n_snapshots - 1)]))
        self.lr = trace.learning_rate(self.step)  # the rate in force at this step (after any decay)
        self.camera.background_color = ManimColor(PALETTE.background)

    def construct(self):
        trace, record, s = self.trace, self.record, self.sample
        L = trace.n_layers
        title = Text(f"Backpropagation at step {self.step}", font_size=32, color=PALETTE.text).to_edge(UP, buff=0.25)
        digit = DigitImage(self.x, trace.image_shape, height=1.2).to_corner(UL, buff=0.3).shift(DOWN * 0.5)
        # a wide input is drawn through pixels with ink (marked on the digit): blank ones have dW = 0
        net = NetworkDiagram(trace.sizes, max_shown=MAX_SHOWN, width=5.6, height=5.2,
                             units=shown_units_for(self.x, record, s, MAX_SHOWN)).shift(LEFT * 1.9 + DOWN * 0.35)
        marks = digit.pixel_marks(net.shown[0]) if len(net.shown[0]) < trace.sizes[0] else VGroup()
        net.set_activations(0, self.x)
        for layer in range(L):
            net.edges_from(layer, self.weights[layer][0])
            net.set_activations(layer + 1, record.a[layer][s])
        for edges in net.edges:
            edges.set_stroke(opacity=0.15)
        labels = net.output_labels()
        self.play(FadeIn(title), FadeIn(digit), FadeIn(marks), FadeIn(net), FadeIn(labels))
        self.next_slide()  # the forward pass this digit went through

        # the output error, and which way each output should move
        p, delta_out = record.probabilities[s], record.delta[L - 1][s]
        error = VGroup(
            MathTex(rf"\delta^{{{L}}} = a^{{{L}}} - y", font_size=34),
            Text(f"true digit {self.label}: y is 1 there, 0 elsewhere", font_size=18, color=PALETTE.muted),
        ).arrange(DOWN, aligned_edge=LEFT, buff=0.15).set_color(PALETTE.text).to_edge(RIGHT, buff=0.4).shift(UP * 1.6)
        error[1].set_color(PALETTE.muted)
        arrows = VGroup()
        for circle, unit in zip(net.layers[-1], net.shown[-1]):
            nudge = -float(delta_out[unit])  # the way the output should go
            if abs(nudge) > 0.02 or unit == self.label:
                start = circle.get_right() + RIGHT * 0.45
                arrows.add(Arrow(start, start + UP * np.sign(nudge) * (0.15 + 0.5 * abs(nudge)), buff=0,
                                 color=PALETTE.correct if nudge > 0 else PALETTE.wrong, stroke_width=4,
                                 max_tip_length_to_length_ratio=0.35))
        self.play(Write(error), *[Transform(c, t) for c, t in zip(net.layers[L], net.signed_column(L, delta_out))],
                  *([LaggedStart(*[GrowArrow(a) for a in arrows], lag_ratio=0.1)] if len(arrows) else []))
        self.wait(0.5)
        self.next_slide()  # the output error

        # the error flows backward, layer by layer
        chain = MathTex(r"\delta^{l} = \left(\delta^{l+1} W^{l+1}\right) \odot f'(z^{l})", font_size=32)
        grad = MathTex(r"dW^{l} = \delta^{l}\, (a^{l-1})^{T}", font_size=32)
        rules = VGroup(chain, grad).arrange(DOWN, aligned_edge=LEFT, buff=0.25).set_color(PALETTE.text)
        rules.next_to(error, DOWN, buff=0.5, aligned_edge=LEFT)
        self.play(Write(rules))
        self.next_slide()  # the rules, before they run
        for layer in reversed(range(L)):
            a_prev = self.x if layer == 0 else record.a[layer - 1][s]
            dW = np.outer(record.delta[layer][s], a_prev)  # this digit's gradient: (n_out, n_in)
            new_edges = net.edge_paths(layer, dW)
            animations = [Transform(net.edges[layer], new_edges)]
            if layer > 0:
                target = net.signed_column(layer, record.delta[layer - 1][s])
                animations += [Transform(c, t) for c, t in zip(net.layers[layer], target)]
            self.play(*animations, run_time=1.2)
            self.next_slide()  # one layer further back

        # the update, and the loss on this digit before and after
        update = MathTex(rf"W \leftarrow W - \eta\, dW, \quad \eta = {self.lr:g}", font_size=32)
        update.set_color(PALETTE.text)
        before, after = digit_loss(p, self.label), digit_loss(self.next.probabilities[s], self.label)
        if self.next.step == self.step:
            lines, colour = [f"loss on this digit: {before:.3f}", "(the last snapshot: none later to compare)"], \
                PALETTE.muted
        else:
            lines = [f"loss on this digit: {before:.3f} (step {self.step})",
                     f"at the next snapshot: {after:.3f} (step {self.next.step})"]
            colour = PALETTE.correct if after < before else PALETTE.wrong
        verdict = Paragraph(*lines, font_size=17, color=colour, alignment="left")
        VGroup(update, verdict).arrange(DOWN, aligned_edge=LEFT, buff=0.25).next_to(rules, DOWN, buff=0.5,
                                                                                      aligned_edge=LEFT)
        self.play(Write(update))
        self.next_slide()  # the update, before its effect
        self.play(FadeIn(verdict))
        self.wait(2)
