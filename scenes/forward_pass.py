"""ForwardPass: one probe digit flows through the network, with the run's real numbers.

The digit's pixels become the input column (a0 = x; of a wide input, some of
the pixels with ink, marked on the digit); layer by layer the edges
appear coloured by the recorded weights (red positive, blue negative, wider
for larger |W|) and the neurons fill with their recorded activations. For the
most active neuron of the first hidden layer, z = W a + b is written out with
its numbers; at the end the softmax output is a bar chart, prediction against
the true label.

    manim render -ql scenes/forward_pass.py ForwardPass
    EXPLAINER_SAMPLE=3 EXPLAINER_STEP=40 manim render -ql scenes/forward_pass.py ForwardPass
"""

import numpy as np
from manim import *

from explainer.scenes.choice import chosen_sample, chosen_step, chosen_trace
from explainer.scenes.palette import PALETTE
from explainer.scenes.pieces import DigitImage, NetworkDiagram
from explainer.scenes.pieces.network import shown_units_for
from explainer.scenes.slides import LectureScene

MAX_SHOWN = 10  # neurons drawn per layer; wider layers are truncated


def percent(p):
    """A probability as a percentage that never rounds a near-certainty up to 100%: 0.9996 -> '>99.9%'."""
    return f"{p:.1%}" if p < 0.9995 or p == 1 else ">99.9%"


class ForwardPass(LectureScene):
    def setup(self):
        self.trace = trace = chosen_trace()
        self.sample = chosen_sample(trace)
        self.step = chosen_step(trace)
        self.weights = trace.weights(self.step, exact=True)
        self.record = trace.probe_record(self.step, exact=True)
        self.x = trace.probe_x[self.sample]
        self.label = int(trace.probe_labels[self.sample])
        self.camera.background_color = ManimColor(PALETTE.background)

    def construct(self):
        trace, record, s = self.trace, self.record, self.sample
        title = Text(f"Forward pass at step {self.step}", font_size=32, color=PALETTE.text).to_edge(UP, buff=0.25)
        digit = DigitImage(self.x, trace.image_shape, height=2.6).to_edge(LEFT, buff=0.6).shift(UP * 0.6)
        caption = Text(f"a probe digit: a {self.label}", font_size=22, color=PALETTE.muted).next_to(digit, DOWN)
        self.play(FadeIn(title), FadeIn(digit), FadeIn(caption))
        self.wait(0.5)
        self.next_slide()  # the digit

        # a wide input layer is drawn through some of its pixels: ones with ink, marked on the digit
        net = NetworkDiagram(trace.sizes, max_shown=MAX_SHOWN, width=5.6, height=5.2,
                             units=shown_units_for(self.x, record, s, MAX_SHOWN)).shift(LEFT * 1.9 + DOWN * 0.35)
        n_in, shown = trace.sizes[0], net.shown[0]
        marks = digit.pixel_marks(shown) if len(shown) < n_in else VGroup()
        flat = Text(f"{trace.image_shape[0]}x{trace.image_shape[1]} pixels -> {n_in} inputs"
                    + (f"; shown: {len(shown)} pixels with ink (marked), by index" if len(marks) else ""),
                    font_size=20, color=PALETTE.muted).next_to(title, DOWN, buff=0.15)
        if len(marks):
            self.play(Create(marks), FadeIn(flat))
        self.play(FadeOut(caption), Group(digit, marks).animate.scale(0.45).to_corner(UL, buff=0.3).shift(DOWN * 0.5),
                  Create(net.layers), FadeIn(net.extras), *([] if len(marks) else [FadeIn(flat)]))
        # a0 = x: the shown pixels move into the input column, whose neurons glow with their ink
        if len(marks):
            pixels = VGroup(*[m.copy().set_fill(rgb_to_color([float(self.x[i])] * 3), opacity=1)
                              for m, i in zip(marks, shown)])
            self.play(LaggedStart(*[p.animate.set_width(0.8 * c.width).move_to(c) for p, c in zip(pixels, net.layers[0])],
                                  lag_ratio=0.08))
            self.remove(*pixels)
        self.play(*[Transform(c, t) for c, t in zip(net.layers[0], net.activation_column(0, self.x))])
        self.next_slide()  # the input column, a0 = x

        formula = None
        for layer, (W, _) in enumerate(self.weights):
            edges = net.edges_from(layer, W)
            self.play(Create(edges), run_time=1.2)
            target = net.activation_column(layer + 1, record.a[layer][s])
            self.play(*[Transform(c, t) for c, t in zip(net.layers[layer + 1], target)])
            self.next_slide()  # one layer further
            if layer == 0:
                formula = self.explain_one_neuron(net)
        self.play(FadeOut(formula))

        p = record.probabilities[s]
        chart = BarChart(
            values=[float(v) for v in p], bar_names=[str(i) for i in range(len(p))], y_range=[0, 1, 0.25],
            x_length=3.2, y_length=2.6, bar_colors=[PALETTE.muted],
            x_axis_config={"font_size": 20}, y_axis_config={"font_size": 18},
        ).to_edge(RIGHT, buff=0.4).shift(DOWN * 0.6)
        predicted = int(np.argmax(p))
        chart.bars[predicted].set_fill(PALETTE.correct if predicted == self.label else PALETTE.wrong)
        verdict = Text(f"predicted {predicted} ({percent(p[predicted])}), true {self.label}", font_size=22,
                       color=PALETTE.correct if predicted == self.label else PALETTE.wrong).next_to(chart, UP).align_to(chart, RIGHT)
        self.play(FadeIn(net.output_labels()), Create(chart), FadeIn(verdict))
        self.wait(2)

    def explain_one_neuron(self, net):
        """z = W a + b for the most active shown neuron of the first hidden layer, with its numbers."""
        W, b = self.weights[0]
        shown = net.shown[1]
        j = int(shown[np.argmax(self.record.z[0][self.sample][shown])])
        z = float(W[j] @ self.x + b[j])  # the same as the recorded z, which the tests check
        a = float(self.record.a[0][self.sample][j])
        biggest = np.argsort(-np.abs(W[j] * self.x))[:2]
        terms = " + ".join(f"({W[j, i]:.2f})({self.x[i]:.2f})" for i in biggest)
        f = self.trace.run.activations[0].replace("_", r"\_")
        formula = VGroup(
            MathTex(rf"z_{{{j}}} = W_{{{j}}}\,a + b_{{{j}}}", font_size=34),
            MathTex(rf"= {terms} + \dots + ({b[j]:.3f})", font_size=26),
            MathTex(rf"= {z:.3f}", font_size=34),
            MathTex(rf"a_{{{j}}} = \mathrm{{{f}}}(z_{{{j}}}) = {a:.3f}", font_size=34),
        ).arrange(DOWN, aligned_edge=LEFT, buff=0.15).set_color(PALETTE.text)
        formula.to_edge(RIGHT, buff=0.3).shift(DOWN * 0.3)
        neuron = net.neuron(1, j)
        self.play(Indicate(neuron, color=PALETTE.activation, scale_factor=1.6), Write(formula[0]))
        self.play(Write(formula[1]), Write(formula[2]))
        self.play(Write(formula[3]))
        self.wait(1)
        self.next_slide()  # one neuron's z and a
        return formula
