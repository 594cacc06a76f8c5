"""ForwardPass: one probe digit flows through the network, with the run's real numbers.

The digit's pixels become the input column (a^0 = x; of a wide input, some of
the pixels with ink, marked on the digit); layer by layer the edges appear
coloured by the recorded weights (red positive, blue negative, wider for
larger |W|) and the neurons fill with their recorded activations. A hidden
layer shows the units this digit drives hardest and a few it leaves silent
(a = 0, bold outline), and says how many of the layer are silent. For the
most active neuron of the first hidden layer, the run's z = W a + b is
written out with its two largest terms (pixels drawn in the input column); at
the end the output is a bar chart, prediction against the true label. Every
number is :func:`explainer.chapters.forward_pass.forward_story`'s.

    manim render -ql scenes/forward_pass.py ForwardPass
    EXPLAINER_SAMPLE=3 EXPLAINER_STEP=40 manim render -ql scenes/forward_pass.py ForwardPass
"""

from manim import *

from explainer.chapters.forward_pass import MAX_SHOWN, SILENT_SHOWN, forward_story
from explainer.scenes.choice import chosen_sample, chosen_step, chosen_trace
from explainer.scenes.palette import PALETTE
from explainer.scenes.pieces import DigitImage, NetworkDiagram
from explainer.scenes.pieces.legend import Legend
from explainer.scenes.slides import LectureScene


def percent(p):
    """A probability as a percentage that never rounds a near-certainty up to 100%: 0.9996 -> '>99.9%'."""
    return f"{p:.1%}" if p < 0.9995 or p == 1 else ">99.9%"


def signed(v, digits=3):
    """A number for a sum written out: in parentheses when negative, ``(-0.120)``."""
    return f"{v:.{digits}f}" if v >= 0 else f"({v:.{digits}f})"


def _sup(n):
    """A layer's number as a superscript, for the notes: 12 -> '¹²'."""
    return str(n).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


def tex_name(name):
    """An activation's name as upright LaTeX: leaky_relu -> \\mathrm{leaky\\_relu}."""
    return rf"\mathrm{{{name}}}".replace("_", r"\_")


class ForwardPass(LectureScene):
    def setup(self):
        self.trace = trace = chosen_trace()
        self.story = forward_story(trace, chosen_sample(trace), chosen_step(trace))
        self.weights = trace.weights(self.story.step, exact=True)
        self.record = trace.probe_record(self.story.step, exact=True)
        self.camera.background_color = ManimColor(PALETTE.background)

    def construct(self):
        trace, record, story = self.trace, self.record, self.story
        s, x = story.sample, story.x
        title = Text(f"Forward pass at step {story.step}", font_size=32, color=PALETTE.text).to_edge(UP, buff=0.25)
        digit = DigitImage(x, trace.image_shape, height=2.6).to_edge(LEFT, buff=0.6).shift(UP * 0.6)
        caption = Text(f"a probe digit: a {story.label}", font_size=22, color=PALETTE.muted).next_to(digit, DOWN)
        self.play(FadeIn(title), FadeIn(digit), FadeIn(caption))
        self.wait(0.5)
        self.next_slide(notes=(
            "A forward pass is how the network answers: the digit's pixels go in, each layer computes from the "
            f"one before, and out comes a guess. This digit is a {story.label}, one of the probe digits held out "
            f"of training, so the network has never learned from it; we follow it through the network as it "
            f"stood at step {story.step}."))  # the digit

        # a wide input layer is drawn through some of its pixels: ones with ink, marked on the digit
        silent_note = f"hidden layers: the units with the largest z, and {SILENT_SHOWN} silent ones"
        net = NetworkDiagram(trace.sizes, max_shown=MAX_SHOWN, width=5.4, height=4.8, units=story.units,
                             note=silent_note, note_gap=0.5).shift(LEFT * 2.0 + DOWN * 0.45)
        self.net = net  # (for checking)
        n_in, shown = trace.sizes[0], net.shown[0]
        marks = digit.pixel_marks(shown) if len(shown) < n_in else VGroup()
        flat = Text(f"{trace.image_shape[0]}x{trace.image_shape[1]} pixels -> {n_in} inputs"
                    + (f"; shown: {len(shown)} pixels with ink (marked), by index" if len(marks) else ""),
                    font_size=20, color=PALETTE.muted).next_to(title, DOWN, buff=0.15)
        legend = Legend([("edge", PALETTE.positive, "W > 0"), ("edge", PALETTE.negative, "W < 0"),
                         ("ramp", PALETTE.activation, "a: fill, to the layer's largest"),
                         ("silent", None, "a = 0: silent")])
        legend.next_to(flat, DOWN, buff=0.25).to_edge(RIGHT, buff=0.3)
        if len(marks):
            self.play(Create(marks), FadeIn(flat))
        self.play(FadeOut(caption), Group(digit, marks).animate.scale(0.45).to_corner(UL, buff=0.3).shift(DOWN * 0.5),
                  Create(net.layers), FadeIn(net.extras), FadeIn(legend), *([] if len(marks) else [FadeIn(flat)]))
        # a0 = x: the shown pixels move into the input column, whose neurons glow with their ink
        if len(marks):
            pixels = VGroup(*[m.copy().set_fill(rgb_to_color([float(x[i])] * 3), opacity=1)
                              for m, i in zip(marks, shown)])
            self.play(LaggedStart(*[p.animate.set_width(0.8 * c.width).move_to(c) for p, c in zip(pixels, net.layers[0])],
                                  lag_ratio=0.08))
            self.remove(*pixels)
        self.play(*[Transform(c, t) for c, t in zip(net.layers[0], net.activation_column(0, x))])
        notes = (f"The input layer is the digit itself: its {trace.image_shape[0]}x{trace.image_shape[1]} pixels "
                 f"become {n_in} inputs, a⁰ = x, each neuron of the input column lit by its pixel's ink.")
        if len(marks):
            notes += (f" {n_in} neurons are too many to draw: the column shows {len(shown)} of them, pixels with "
                      "ink, marked on the digit.")
        self.next_slide(notes=notes)  # the input column, a0 = x

        formula = None
        for layer, (W, _) in enumerate(self.weights):
            edges = net.edges_from(layer, W)
            self.play(Create(edges), run_time=1.2)
            target = net.activation_column(layer + 1, record.a[layer][s])
            counts = []
            if layer + 1 < len(trace.sizes) - 1:  # a hidden layer: how many of it this digit leaves at 0
                column = net.layers[layer + 1]
                counts = [Text(f"{story.silent[layer]} at a = 0", font_size=20,
                               color=PALETTE.text).next_to(column, DOWN, buff=0.12)]
                self.silent_counts = getattr(self, "silent_counts", []) + counts  # (for checking)
            self.play(*[Transform(c, t) for c, t in zip(net.layers[layer + 1], target)], *map(FadeIn, counts))
            self.next_slide(notes=self.layer_notes(layer + 1))  # one layer further
            if layer == 0:
                formula = self.explain_one_neuron(net, legend)
        self.play(FadeOut(formula))

        p = story.probabilities
        chart = BarChart(
            values=[float(v) for v in p], bar_names=[str(i) for i in range(len(p))], y_range=[0, 1, 0.5],
            x_length=3.4, y_length=2.4, bar_colors=[PALETTE.muted],
            x_axis_config={"font_size": 28}, y_axis_config={"font_size": 28},
        ).to_edge(RIGHT, buff=0.4).shift(DOWN * 1.2)
        predicted = story.predicted
        chart.bars[predicted].set_fill(PALETTE.correct if predicted == story.label else PALETTE.wrong)
        verdict = Text(f"predicted {predicted} ({percent(p[predicted])}), true {story.label}", font_size=22,
                       color=PALETTE.correct if predicted == story.label else PALETTE.wrong)
        verdict.next_to(chart, UP, buff=0.3).align_to(chart, RIGHT)
        self.play(FadeIn(net.output_labels()), Create(chart), FadeIn(verdict))
        notes = (f"The output layer gives a probability for each of the {len(p)} classes, and the guess is the "
                 f"biggest. Here the network predicts {predicted} with {percent(p[predicted])}; the truth is "
                 f"{story.label}")
        if predicted == story.label:
            notes += ": right, on a digit it never trained on."
        else:
            notes += f": wrong. It gave the true class only {percent(p[story.label])}."
        self.next_slide(notes=notes)  # the output, against the truth

    def layer_notes(self, layer):
        """What to say over layer ``layer`` (1 to L) as it fills: its edges, its activations, for a hidden layer
        how many units this digit leaves at 0."""
        story = self.story
        name = story.formulas.activations[layer - 1].replace("_", " ")  # Markdown reads _ as emphasis
        notes = (f"Layer {layer}: each edge is a recorded weight of W{_sup(layer)} (red positive, blue negative, "
                 f"wider for bigger ones), and each neuron fills with its recorded activation, "
                 f"a{_sup(layer)} = {name}(W{_sup(layer)}a{_sup(layer - 1)} + b{_sup(layer)}).")
        if layer <= len(story.widths):  # a hidden layer
            width, silent = story.widths[layer - 1], story.silent[layer - 1]
            if width > MAX_SHOWN:
                notes += f" Of its {width} units, drawn are the ones this digit drives hardest and a few silent ones."
            notes += (f" {silent} of the {width} are at a = 0 for this digit: silent, they pass nothing on." if silent
                      else f" None of the {width} is at a = 0 for this digit.")
        else:
            notes += f" This is the output: the brightest neuron is the network's guess, {story.predicted}."
        return notes

    def explain_one_neuron(self, net, legend):
        """The run's z = W a + b for the most active neuron of the first hidden layer, with its numbers: the two
        largest terms are pixels drawn in the input column."""
        story = self.story
        j, (i1, i2) = story.unit, story.terms
        (w1, w2), (x1, x2) = story.weights, story.inputs
        name, f_tex = story.activation
        formula = VGroup(
            MathTex(story.unit_tex, font_size=34),
            MathTex(rf"= W^{{1}}_{{{j},{i1}}}\, a^{{0}}_{{{i1}}} + W^{{1}}_{{{j},{i2}}}\, a^{{0}}_{{{i2}}}"
                    rf" + \dots + b^{{1}}_{{{j}}}", font_size=28),
            MathTex(rf"= {signed(w1)} \cdot {x1:.2f} + {signed(w2)} \cdot {x2:.2f} + \dots + {signed(story.b)}",
                    font_size=28),
            MathTex(rf"= {story.z:.3f}", font_size=34),
            MathTex(rf"a^{{1}}_{{{j}}} = f(z^{{1}}_{{{j}}}) = {story.a:.3f}", font_size=34),
            MathTex(rf"f(z) = {f_tex}\quad ({tex_name(name)})", font_size=28),
        ).arrange(DOWN, aligned_edge=LEFT, buff=0.15).set_color(PALETTE.text)
        formula.next_to(net.layers, RIGHT, buff=0.4)
        formula.shift(UP * (legend.get_bottom()[1] - 0.4 - formula.get_top()[1]))  # under the legend
        neuron = net.neuron(1, j)
        inputs = [net.neuron(0, i) for i in (i1, i2)]
        paths = VGroup(*[Line(c.get_right(), neuron.get_left(), color=PALETTE.activation, stroke_width=5)
                         for c in inputs])
        self.play(Indicate(neuron, color=PALETTE.activation, scale_factor=1.6), Write(formula[0]))
        self.play(Create(paths), *[Indicate(c, color=PALETTE.activation, scale_factor=1.6) for c in inputs],
                  Write(formula[1]))
        self.play(Write(formula[2]), Write(formula[3]))
        self.play(Write(formula[4]), Write(formula[5]))
        self.wait(1)
        self.next_slide(notes=(
            f"Zoom in on one neuron, the unit of layer 1 this digit drives hardest, unit {j}: z is every input "
            f"times its weight, plus a bias. Its two biggest terms are pixels {i1} and {i2}: {signed(w1)} × "
            f"{x1:.2f} + {signed(w2)} × {x2:.2f}; with all the others and b = {signed(story.b)}, z = {story.z:.3f}. "
            f"Through {name.replace('_', ' ')}, a = {story.a:.3f}."))  # one neuron's z and a
        self.play(FadeOut(paths))
        self.formula = formula  # (for checking)
        return formula
