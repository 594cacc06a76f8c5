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
from explainer.chapters.spoken import spoken, spoken_number, superscript, words
from explainer.scenes.choice import chosen_sample, chosen_step, chosen_trace, default_step
from explainer.scenes.palette import PALETTE
from explainer.scenes.pieces import DigitImage, NetworkDiagram
from explainer.scenes.pieces.layout import fit, wrap
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
        guess = "right" if story.predicted == story.label else f"not {story.label}"
        self.next_slide(notes=(
            "Backpropagation starts where the forward pass ended. Probe digit "
            f"{s}, a {story.label}, went through the network as it stood at step {self.step}: the edges are its "
            f"weights, the neurons this digit's recorded activations. It guessed {story.predicted}, {guess}; now "
            "the question is how each weight should change."))  # the forward pass this digit went through

        right = RIGHT * COLUMN
        if story.untruthful:
            note = lines(*wrap(story.untruthful, 36), colour=PALETTE.wrong).next_to(title, DOWN, buff=0.5)
            self.play(FadeIn(note.align_to(right, LEFT)))
            self.next_slide(notes=(
                "This trace cannot be shown truthfully, and the scene says so instead of drawing: "
                f"{words(story.untruthful)}. A formula drawn over numbers it did not make would teach something "
                "false, so the scene stops here."))  # why the rest is not drawn
            return

        # the output error, and which way each output should move
        delta_out = story.delta[-1]
        error = VGroup(
            MathTex(f.output_delta, font_size=TEX),
            lines(f"true digit {story.label}:", "y is 1 there, 0 elsewhere", colour=PALETTE.muted),
        ).arrange(DOWN, aligned_edge=LEFT, buff=0.15)
        error[0].set_color(PALETTE.text)
        fit(error, WIDTH).next_to(title, DOWN, buff=0.35).align_to(right, LEFT)
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
        self.next_slide(notes=self.output_error_notes())  # the output error

        # the error flows backward, layer by layer, and each edge gets this digit's share of the gradient
        rules = VGroup(MathTex(f.backward, font_size=TEX),
                       MathTex(r"\text{this digit's share: }" + f.digit_weight_gradient, font_size=TEX))
        rules.arrange(DOWN, aligned_edge=LEFT, buff=0.25).set_color(PALETTE.text)
        fit(rules, WIDTH).next_to(error, DOWN, buff=0.45, aligned_edge=LEFT)
        edges_key = legend(("neurons: delta  (red > 0, blue < 0)", PALETTE.muted),
                           ("edges: this digit's share of dW", PALETTE.muted))
        self.play(Write(rules), FadeOut(arrows), FadeOut(neurons_key), FadeIn(edges_key))
        hidden = sorted(set(f.activations[:-1]))
        slopes = f" ({', '.join(words(name) for name in hidden)} here)" if hidden else ""
        self.next_slide(notes=(  # the rules, before they run
            "The error flows backward layer by layer: δˡ = (Wˡ⁺¹)ᵀ δˡ⁺¹ ⊙ f′(zˡ), the next layer's error sent back "
            f"through the same weights, times the slope of this layer's activation{slopes}. Each edge's share of "
            "this digit's gradient is δˡ (aˡ⁻¹)ᵀ: the error at its end times the activation at its start. This "
            f"network is {' → '.join(map(str, trace.sizes))}: {L} layers of weights to go back through."))
        for layer in reversed(range(L)):
            animations = [Transform(net.edges[layer], net.edge_paths(layer, story.digit_dW[layer]))]
            if layer > 0:
                target = net.signed_column(layer, story.delta[layer - 1])
                animations += [Transform(c, t) for c, t in zip(net.layers[layer], target)]
            self.play(*animations, run_time=1.2)
            self.next_slide(notes=self.layer_notes(layer + 1))  # one layer further back

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
        penalty = "".join(f", plus {spoken_number(value)} {term} for the {name} penalty"
                          for name, value, term in (("L2", f.l2, "W"), ("L1", f.l1, "sign(W)")) if value)
        self.next_slide(notes=(  # the batch's gradient
            "Now the honest part. A probe digit is held out and never trained on, so this digit's gradient was "
            "shown, not applied. The optimiser was given g, the mean gradient over a batch of "
            f"{f.batch_size} training digits{penalty}; the edges now show that g, not this digit's share."))

        # the update: the run's optimiser, with its numbers at this step
        rate = (f.learning_rate,) if trace.run.training.lr_decay != 1 else ()  # how the decay made eta
        update = VGroup(*[fit(MathTex(line, font_size=TEX), WIDTH) for line in (*f.update, *rate)])
        update.arrange(DOWN, aligned_edge=LEFT, buff=0.16).set_color(PALETTE.text)
        heading = lines(f"the run's update ({f.optimizer_name}),", "g: the batch's mean gradient", colour=PALETTE.muted)
        block = VGroup(heading, update).arrange(DOWN, aligned_edge=LEFT, buff=0.2)
        block.next_to(title, DOWN, buff=0.3).align_to(right, LEFT)
        self.play(FadeOut(batch), Write(block))
        self.next_slide(notes=self.update_notes())  # the update, before its effect

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
        if story.after is None:
            notes = (f"Did the step help this digit? The loss on it is {story.loss:.3f} at step {self.step}, but this "
                     "is the trace's last snapshot: there is no later one to compare with.")
        else:
            notes = (f"Did the step help this digit? Its loss was {story.loss:.3f} at step {self.step} and is "
                     f"{story.after.loss:.3f} at step {story.after.step}, {when}. ")
            if story.after.loss < story.loss:
                notes += "It went down, though the step was made from training digits only, never from this one."
            elif story.after.loss > story.loss:
                notes += "It went up: a step that serves the training batch need not help every digit."
            else:
                notes += "It did not change: the step was made from training digits, not from this one."
        self.next_slide(notes=notes)  # the loss on this digit, before and after

    def output_error_notes(self):
        """What to say over the output error: the idea, then the true class's output and delta (and the guess's)."""
        story, f = self.story, self.story.formulas
        a, delta = story.a[-1], story.delta[-1]

        def way(k):  # the way output k's z should go: against its delta
            return "up" if delta[k] < 0 else "down" if delta[k] > 0 else "nowhere"

        notes = ("The output error δᴸ is how far the network's output is from the truth, written with this run's own "
                 f"loss, {words(f.loss_name)}, and output activation, {words(f.output)}. The digit is a "
                 f"{story.label}: the network gave that class {a[story.label]:.3f}, so its δ is "
                 f"{delta[story.label]:.3f} and its z should go {way(story.label)}.")
        if story.predicted != story.label:
            k = story.predicted
            notes += f" Its guess {k} got {a[k]:.3f}, δ = {delta[k]:.3f}: that z should go {way(k)}."
        return notes + " The arrows show which way each output's z should go."

    def layer_notes(self, layer):
        """What to say as layer ``layer`` (1 to L) gets this digit's share of the gradient, and the layer before
        it its error."""
        story, f = self.story, self.story.formulas
        n_out, n_in = story.digit_dW[layer - 1].shape
        before = layer - 1
        notes = (f"Layer {layer}'s edges now show this digit's own gradient for its weights, ∂ℓ/∂W{superscript(layer)} = "
                 f"δ{superscript(layer)} (a{superscript(before)})ᵀ: {n_out} × {n_in}, one number per weight.")
        if before:
            name = f.activations[before - 1]
            notes += (f" The neurons of layer {before} take their error from layer {layer}'s: δ{superscript(before)} = "
                      f"(W{superscript(layer)})ᵀ δ{superscript(layer)} ⊙ f′(z{superscript(before)}), with f = {words(name)}.")
            if name == "relu":
                notes += " A unit this digit left silent (z < 0) has f′ = 0: it passes no error back."
        else:
            notes += " Here a⁰ is the digit itself: pixels of blank paper (x = 0) get no share at all."
        return notes

    def update_notes(self):
        """What to say over the update: the run's optimiser in words, its numbers at this step as on screen."""
        f = self.story.formulas
        start = next(i for i, line in enumerate(f.update) if line.startswith(r"\eta = "))
        numbers = ", ".join(spoken(line) for line in f.update[start:])
        rule = OPTIMIZER_WORDS.get(f.optimizer_name, f"{words(f.optimizer_name)}, with the rule on screen")
        notes = (f"Then the run's own optimiser turned g into the step: {rule}. Its numbers at step {self.step}, "
                 f"as on screen: {numbers}.")
        if self.trace.run.training.lr_decay != 1:
            notes += (f" The learning rate decays by ×{spoken_number(self.trace.run.training.lr_decay)} each "
                      f"epoch: η = {spoken_number(f.lr)} is the rate in force at this step.")
        return notes


OPTIMIZER_WORDS = {  # each optimiser's rule in words (explainer.optimizers)
    "sgd": "plain SGD, W ← W − η g, a step straight against g",
    "momentum": "momentum, v ← βv − η g, then W ← W + v, a velocity that adds up the past steps' gradients",
    "rmsprop": "RMSprop divides each weight's step η g by the root of a running mean of its squared gradients",
    "adam": ("Adam divides a running mean of the gradients by the root of a running mean of their squares, both "
             "corrected for starting at 0, so each weight gets a step size of its own"),
}

def gradient_lines(f):
    """g = dL/dW^l as the run computed it: the batch's mean, and the weight penalties' terms on a line of
    their own (on one line the formula would be shrunk below the legible size)."""
    mean = f.weight_gradient.removesuffix(f.penalty_gradient)
    lines_ = VGroup(MathTex(r"g = " + mean, font_size=TEX))
    if f.penalty_gradient:  # indented by hand: LaTeX drops a \qquad that starts a formula
        lines_.add(MathTex("{}" + f.penalty_gradient, font_size=TEX))  # {}: + as a binary sign
    lines_.arrange(DOWN, aligned_edge=LEFT, buff=0.12).set_color(PALETTE.text)
    if len(lines_) > 1:
        lines_[1].shift(RIGHT * 0.6)
    return fit(lines_, WIDTH)

