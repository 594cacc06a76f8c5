"""ChainRule: one weight's gradient on one probe digit, factor by factor, with the run's numbers.

For a weight w = W^l_jk of a hidden layer, the path from unit k of layer
l - 1 (a pixel when l = 1) through unit j to the next layer and the loss:
d loss / d w = a^{l-1}_k f'(z^l_j) d loss / d a^l_j; the last factor is a sum
over the next layer's units, one path each, and the biggest is shown with its
share; f'(z) d loss / d a is the recorded delta, and the product is the
digit's dW entry. Then the three levers of z^l_j (its bias, the weight, the
previous activation) as numbers. Every number comes from
:mod:`explainer.chapters.chain_rule`; every formula from the run's own table
entries (:mod:`explainer.formulas`).

    manim render -ql scenes/chain_rule.py ChainRule
    EXPLAINER_LAYER=2 EXPLAINER_UNIT=5 manim render -ql scenes/chain_rule.py ChainRule

``EXPLAINER_LAYER`` (a hidden layer, 1 to L - 1; default 1) and
``EXPLAINER_UNIT`` (a unit of it; default: the one with this digit's biggest
|dW| entry) pick the weight; the step defaults to 2% into training, where
the error is large, as in Backprop.

Each phase ends with its speaker notes (``notes_path`` to ``notes_levers``):
what a teacher says over it, with the numbers on screen as the screen writes
them, in plain Unicode (the deck renders notes as Markdown: no LaTeX, no
underscores).
"""

import os

import numpy as np
from manim import *

from explainer.chapters.chain_rule import cannot_show, chain_story, number_tex, number_text
from explainer.chapters.neuron import check_index
from explainer.scenes.choice import chosen_sample, chosen_step, chosen_trace, default_step, fail
from explainer.scenes.palette import PALETTE
from explainer.scenes.pieces import DigitImage
from explainer.scenes.pieces.light import light
from explainer.scenes.pieces.pixels import pixel_box
from explainer.scenes.slides import LectureScene

FAN = 10  # units of the next layer drawn; a wider layer shows its FAN - 1 biggest terms and an ellipsis
N = number_tex


def P(v):
    """A factor in a product: a negative number in parentheses."""
    return rf"\left({N(v)}\right)" if v < 0 else N(v)


def tex(s, size=32, colour=PALETTE.text):
    return light(MathTex(s, font_size=size, color=colour))


def text(s, size=22, colour=PALETTE.muted):
    return light(Text(s, font_size=size, color=colour))


def said(words, v):
    """``words`` then the number ``v``: plain text, or with a LaTeX power of ten (a text superscript is too small)."""
    if "×" not in number_text(v):
        return text(words + number_text(v), 20)
    return VGroup(text(words, 20), tex(N(v, 4), 30, PALETTE.muted)).arrange(RIGHT, buff=0.12)


def source_name(st):
    """Where the weight starts, in words: a pixel (with its row and column) or a unit of the layer before."""
    k, n = st.source, st.layer
    return (f"pixel {k} (row {k // st.image_shape[1]}, column {k % st.image_shape[1]})" if n == 1
            else f"unit {k} of layer {n - 1}")


def next_layer_name(st):
    """The layer after the weight's: ``the output`` or ``layer 2``, ..."""
    return "the output" if st.layer + 1 == st.n_layers else f"layer {st.layer + 1}"


def chosen_weight(trace):
    """``(layer, unit)`` from ``EXPLAINER_LAYER`` and ``EXPLAINER_UNIT`` (None: the story's defaults)."""
    layer, unit = (os.environ.get(name, "").strip() or None for name in ("EXPLAINER_LAYER", "EXPLAINER_UNIT"))
    try:
        if layer is not None:
            layer = check_index(layer, trace.n_layers, "EXPLAINER_LAYER", "a hidden layer", low=1)
        if unit is not None:
            unit = check_index(unit, trace.sizes[layer or 1], "EXPLAINER_UNIT", f"a unit of layer {layer or 1}")
    except ValueError as e:
        fail(str(e))
    return layer, unit


class ChainRule(LectureScene):
    def setup(self):
        trace = chosen_trace()
        self.why_not = cannot_show(trace)
        self.camera.background_color = ManimColor(PALETTE.background)
        if self.why_not:
            return
        sample, step = chosen_sample(trace), chosen_step(trace, default=default_step("ChainRule", trace))
        layer, unit = chosen_weight(trace)
        self.story = chain_story(trace, sample, step, layer, unit)

    def construct(self):
        if self.why_not:
            self.add(text(self.why_not, 22, PALETTE.text))
            self.wait(2)  # the slide's only animation (at preview pace next_slide holds nothing)
            self.next_slide(notes=notes_cannot_show(self.why_not))
            return
        st = self.story
        n, j, k = st.layer, st.unit, st.source
        self.names = {"w": rf"W^{{{n}}}_{{{j},{k}}}", "a_prev": rf"a^{{{n - 1}}}_{{{k}}}", "z": rf"z^{{{n}}}_{{{j}}}",
                      "a": rf"a^{{{n}}}_{{{j}}}", "delta": rf"\delta^{{{n}}}_{{{j}}}", "b": rf"b^{{{n}}}_{{{j}}}"}
        self.title = title = Text(f"The chain rule for one weight, step {st.step}", font_size=32,
                     color=PALETTE.text).to_edge(UP, buff=0.25)
        self.add(title)
        self.path_diagram()
        self.factors()
        self.sum_over_paths()
        self.recorded_delta()
        self.levers()

    # -- 1: the weight and its path ------------------------------------------------------------
    def path_diagram(self):
        st, nm = self.story, self.names
        n, j, k = st.layer, st.unit, st.source
        y = UP * 1.4
        source = Circle(0.28, color=PALETTE.text, stroke_width=3).move_to(LEFT * 4.0 + y)
        unit = Circle(0.34, color=PALETTE.activation, stroke_width=4).move_to(LEFT * 0.6 + y)
        loss = Circle(0.3, color=PALETTE.loss, stroke_width=3).move_to(RIGHT * 5.6 + y)
        pieces = VGroup(source, unit, loss,
                        tex(r"\ell", 32, PALETTE.loss).move_to(loss),
                        tex(nm["a_prev"], 30).next_to(source, UP, buff=0.12),
                        tex(rf"{nm['z']},\ {nm['a']}", 30).next_to(unit, UP, buff=0.12))
        weight = Line(source.get_right(), unit.get_left(), color=PALETTE.activation, stroke_width=5)
        w_label = tex(rf"w = {nm['w']} = {N(st.w)}", 28).next_to(weight, DOWN, buff=0.15)
        # the next layer: one path per unit, edges coloured by the sign of W delta, widened by its size
        n_next = len(st.terms)
        drawn = np.arange(n_next) if n_next <= FAN else np.sort(np.argsort(-np.abs(st.terms))[: FAN - 1])
        ys = np.linspace(1.2, -1.2, len(drawn) + (n_next > FAN))[: len(drawn)]
        fan = VGroup(*[Circle(0.12, color=PALETTE.muted, stroke_width=2).move_to(RIGHT * 2.6 + y + UP * dy)
                       for dy in ys])
        biggest = float(np.abs(st.terms).max()) or 1.0
        paths = VGroup(*[Line(unit.get_right(), c.get_left(), stroke_width=1 + 5 * abs(st.terms[i]) / biggest,
                              color=PALETTE.positive if st.terms[i] > 0 else PALETTE.negative)
                         for i, c in zip(drawn, fan)])
        onward = VGroup(*[Line(c.get_right(), loss.get_left(), color=PALETTE.muted, stroke_width=1, stroke_opacity=0.5)
                          for c in fan])
        labels = VGroup(*[text(f"{i}", 20).next_to(c, RIGHT, buff=0.1) for i, c in zip(drawn, fan)])
        for label in labels:  # over the onward edges: each number on a patch of the background
            label.add_background_rectangle(color=PALETTE.background, opacity=1.0, buff=0.03)
        extra = VGroup()
        if n_next > FAN:
            extra = VGroup(tex(r"\vdots", 30, PALETTE.muted).move_to(RIGHT * 2.6 + y + DOWN * 1.45),
                           text(f"{FAN - 1} of {n_next} units", 20))
            extra[1].next_to(extra[0], LEFT, buff=0.2)
        else:
            extra = VGroup(text(f"{n_next} units", 20).next_to(fan, DOWN, buff=0.1))
        line = text(f"probe digit {st.sample} (a {st.label}); w joins {source_name(st)} to unit {j} of layer {n}; "
                    f"then {next_layer_name(st)}", 20).next_to(self.title, DOWN, buff=0.15)
        group = [pieces, weight, w_label, fan, paths, onward, labels, extra, line]
        if n == 1:
            digit = DigitImage(st.x, st.image_shape, height=1.7).move_to(LEFT * 6.0 + y)
            box = pixel_box(digit, k, stroke_width=3, min_side=0.1)
            arrow = Arrow(box.get_center(), source.get_left(), buff=0.05, stroke_width=3, color=PALETTE.activation,
                          max_tip_length_to_length_ratio=0.15)
            group = [digit, box, arrow, *group]
        legend = VGroup(*[VGroup(Line(ORIGIN, RIGHT * 0.4, color=colour, stroke_width=5), text(says, 20)).arrange(
            RIGHT, buff=0.15) for colour, says in ((PALETTE.positive, "W δ > 0"), (PALETTE.negative, "W δ < 0"))],
                        text("wider: bigger |W δ|", 20)).arrange(DOWN, aligned_edge=LEFT, buff=0.1)
        legend.next_to(loss, DOWN, buff=0.3).to_edge(RIGHT, buff=0.3)
        self.play(*[FadeIn(m) for m in group], FadeIn(legend))
        self.diagram = {"unit": unit, "fan": fan, "paths": paths, "drawn": drawn, "loss": loss, "onward": onward,
                        "weight": weight, "labels": labels}
        self.next_slide(notes=notes_path(self.story))  # the weight and the paths it feeds

    # -- 2: the chain rule, and two of its factors --------------------------------------------
    def factors(self):
        st, nm = self.story, self.names
        chain = tex(rf"\frac{{\partial \ell}}{{\partial w}} = \frac{{\partial {nm['z']}}}{{\partial w}}\,"
                    rf"\frac{{\partial {nm['a']}}}{{\partial {nm['z']}}}\,\frac{{\partial \ell}}{{\partial {nm['a']}}}"
                    rf"= {nm['a_prev']}\; f'({nm['z']})\; \frac{{\partial \ell}}{{\partial {nm['a']}}}", 34)
        f_prime = tex(rf"f'(z) = {st.f_prime_tex}", 30)
        called = text(f"f: {st.activation}, this run's activation in layer {st.layer}", 20)
        numbers = tex(rf"{nm['a_prev']} = {N(st.a_prev)},\qquad f'({nm['z']}) = f'({N(st.z)}) = {N(st.f_prime)}", 32)
        block = VGroup(chain, VGroup(f_prime, called).arrange(RIGHT, buff=0.4), numbers)
        block.arrange(DOWN, buff=0.3).to_edge(DOWN, buff=0.35)
        self.play(Write(chain))
        self.play(FadeIn(block[1]), Write(numbers))
        self.block = block
        self.next_slide(notes=notes_factors(self.story))  # the chain rule, with two of its factors

    # -- 3: d loss / d a: a sum over the next layer's units, one path each ------------------------
    def sum_over_paths(self):
        st, nm, d = self.story, self.names, self.diagram
        self.remove(*self.block.get_family())
        l1 = st.layer + 1
        total = tex(rf"\frac{{\partial \ell}}{{\partial {nm['a']}}} = \sum_i W^{{{l1}}}_{{i,{st.unit}}}\,"
                    rf"\delta^{{{l1}}}_i = {N(st.dl_da)}", 34)
        i = st.biggest
        rule = tex(st.next_delta_tex, 28, PALETTE.muted)
        source = text("delta of the next layer, as this run computed it:", 20)
        share = tex(rf"\text{{biggest path, through unit }} {i}:\ W^{{{l1}}}_{{{i},{st.unit}}}\,\delta^{{{l1}}}_{{{i}}}"
                    rf"= {P(st.W_next[i])} \times {P(st.delta_next[i])} = {N(st.terms[i])}", 30)
        carries = text(f"it carries {st.share:.0%} of the {len(st.terms)} terms' total size (sum of |terms|)", 20)
        block = VGroup(total, VGroup(source, rule).arrange(RIGHT, buff=0.3), share, carries)
        block.arrange(DOWN, buff=0.22).to_edge(DOWN, buff=0.3)
        if block.width > 13.4:
            block.scale_to_fit_width(13.4)
        self.play(Write(total), FadeIn(block[1]))
        # the biggest path, lit
        drawn = list(d["drawn"])
        lit = VGroup(d["weight"].copy())
        if i in drawn:
            c = d["fan"][drawn.index(i)]
            lit.add(Line(d["unit"].get_right(), c.get_left()), Line(c.get_right(), d["loss"].get_left()))
        lit.set_stroke(PALETTE.activation, width=6)
        self.play(Create(lit), FadeIn(share), FadeIn(carries))
        self.bring_to_front(d["labels"])  # the lit path passes under the units' numbers
        self.block = block
        self.next_slide(notes=notes_paths(self.story))  # the sum over paths, and the biggest path

    # -- 4: f'(z) * d loss / d a is the recorded delta; the product is the digit's dW entry ------------
    def recorded_delta(self):
        st, nm = self.story, self.names
        self.remove(*self.block.get_family())
        delta = tex(rf"f'({nm['z']})\,\frac{{\partial \ell}}{{\partial {nm['a']}}} = {P(st.f_prime)} \times "
                    rf"{P(st.dl_da)} = {N(st.f_prime * st.dl_da)} = {nm['delta']}", 34)
        recorded = said("the recorded delta of this unit for this digit: ", st.delta)
        product = tex(rf"\frac{{\partial \ell}}{{\partial w}} = {nm['a_prev']}\,{nm['delta']} = {P(st.a_prev)} \times "
                      rf"{P(st.delta)} = {N(st.gradient)}", 34)
        entry = tex(rf"= \left({st.digit_gradient_tex}\right)_{{{st.unit},{st.source}}},\ l = {st.layer}", 30)
        dw = VGroup(said("this digit's dW entry, recorded: ", st.dW_entry),
                    text("the batch's dW is the mean of such", 20)).arrange(DOWN, aligned_edge=LEFT, buff=0.1)
        block = VGroup(delta, recorded, product, VGroup(entry, dw).arrange(RIGHT, buff=0.4))
        block.arrange(DOWN, buff=0.18).to_edge(DOWN, buff=0.3)
        self.play(Write(delta), FadeIn(recorded))
        self.play(Write(product), Write(entry), FadeIn(dw))
        self.block = block
        self.next_slide(notes=notes_delta(self.story))  # delta and the gradient, as recorded

    # -- 5: the three levers of z --------------------------------------------------------------------
    def levers(self):
        st, nm = self.story, self.names
        self.remove(*self.block.get_family())
        z = tex(rf"{nm['z']} = \sum_k W^{{{st.layer}}}_{{{st.unit},k}}\, a^{{{st.layer - 1}}}_k + {nm['b']}:"
                r"\ \text{three ways to change it}", 32)
        (_, _, dl_db), (_, dz_dw, dl_dw), (_, dz_da, dl_da) = st.levers
        rows = [
            (rf"\text{{its bias }} {nm['b']}", r"1", rf"{nm['delta']} = {N(dl_db)}"),
            (r"\text{the weight } w", rf"{nm['a_prev']} = {N(dz_dw)}", rf"{nm['delta']}\,{nm['a_prev']} = {N(dl_dw)}"),
            (rf"\text{{the activation }} {nm['a_prev']}", rf"w = {N(dz_da)}", rf"{nm['delta']}\, w = {N(dl_da)}"),
        ]
        muted = rf"\color[HTML]{{{PALETTE.muted.lstrip('#')}}}"
        head = (rf"{muted}\text{{nudge}} & {muted}\partial {nm['z']} / \partial(\cdot) & "
                rf"{muted}\partial \ell / \partial(\cdot) \text{{ through this unit}}")
        template = TexTemplate()
        template.add_to_preamble(r"\usepackage{xcolor}")  # the header's colour
        body = r" \\[2pt] ".join([head] + [" & ".join(row) for row in rows])
        table = light(MathTex(r"\begin{array}{lll}" + body + r"\end{array}", font_size=30, color=PALETTE.text,
                              tex_template=template))  # one LaTeX run for the whole table
        note = text(("a pixel is the input: it cannot be nudged, and its gradient stops here" if st.layer == 1 else
                     f"through a^{st.layer - 1}_{st.source} the gradient flows on, one layer further back"), 20)
        VGroup(z, table, note).arrange(DOWN, buff=0.25).to_edge(DOWN, buff=0.3)
        self.play(Write(z))
        self.play(FadeIn(table), FadeIn(note))
        self.next_slide(notes=notes_levers(self.story))  # the three levers


# -- speaker notes: what a teacher says over each phase, with its numbers as the screen writes them ------------
SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def said_tex(v):
    """A number as ``N`` writes it on screen (3 significant digits), in plain text: ``-2.1×10⁻⁵``."""
    return number_text(v, 3)


def said_factor(v):
    """A factor in a product, as ``P`` writes it: a negative number in parentheses."""
    return f"({said_tex(v)})" if v < 0 else said_tex(v)


def spoken(symbol, layer, *indices):
    """``symbol`` with the layer as a superscript and the indices as subscripts: ``W¹₃,₁₂``, ``δ¹₃``."""
    return symbol + str(layer).translate(SUP) + ",".join(str(i).translate(SUB) for i in indices)


def spoken_names(st):
    """The weight's quantities in plain Unicode, as ``ChainRule.names`` writes them in LaTeX."""
    n, j, k = st.layer, st.unit, st.source
    return {"w": spoken("W", n, j, k), "a_prev": spoken("a", n - 1, k), "z": spoken("z", n, j),
            "a": spoken("a", n, j), "delta": spoken("δ", n, j), "b": spoken("b", n, j)}


def notes_cannot_show(why):
    """The one slide of a run ChainRule cannot show."""
    return ("ChainRule follows one hidden weight's gradient back to the loss, factor by factor, through a "
            f"hidden layer whose f′ is one number per unit. {why}")


def notes_path(st):
    """Phase 1: the weight and the paths from it to the loss."""
    nm = spoken_names(st)
    return (f"One weight, one digit: the chain rule follows every path from the weight to the loss. "
            f"Here w = {nm['w']} = {said_tex(st.w)} joins {source_name(st)} to unit {st.unit} of layer {st.layer}, "
            f"on probe digit {st.sample} (a {st.label}, held out from training) at step {st.step}. "
            f"Unit {st.unit} feeds the {len(st.terms)} units of {next_layer_name(st)}, one path each: "
            "an edge's colour is the sign of W δ, its width the size.")


def notes_factors(st):
    """Phase 2: the chain rule's three factors, and the numbers of the first two."""
    nm = spoken_names(st)
    return (f"The chain rule splits ∂ℓ/∂w into three factors: ∂{nm['z']}/∂w = {nm['a_prev']}, the input the "
            f"weight multiplies; ∂{nm['a']}/∂{nm['z']} = f′({nm['z']}), the activation's slope; and "
            f"∂ℓ/∂{nm['a']}, how the loss moves with the unit's output. For this digit {nm['a_prev']} = "
            f"{said_tex(st.a_prev)} and f′({nm['z']}) = f′({said_tex(st.z)}) = {said_tex(st.f_prime)}, "
            f"with f = {st.activation.replace('_', ' ')}, this run's activation in layer {st.layer}.")  # (Markdown)


def notes_paths(st):
    """Phase 3: dl/da as a sum over the next layer's units, and the biggest path."""
    nm, i, after = spoken_names(st), st.biggest, st.layer + 1
    term = spoken("W", after, i, st.unit) + " " + spoken("δ", after, i)
    return (f"The unit's output reaches the loss through every unit of {next_layer_name(st)}, so "
            f"∂ℓ/∂{nm['a']} = Σᵢ {spoken('W', after)}ᵢ,{str(st.unit).translate(SUB)} {spoken('δ', after)}ᵢ, "
            f"one term per path; here it is {said_tex(st.dl_da)}. The biggest path, through unit {i}: "
            f"{term} = {said_factor(st.W_next[i])} × {said_factor(st.delta_next[i])} = {said_tex(st.terms[i])}, "
            f"{st.share:.0%} of the {len(st.terms)} terms' total size.")


def notes_delta(st):
    """Phase 4: f' times dl/da is the recorded delta; a_prev times delta is the digit's dW entry."""
    nm = spoken_names(st)
    return (f"f′(z) times ∂ℓ/∂a is the unit's δ, which the backward pass recorded: "
            f"{said_factor(st.f_prime)} × {said_factor(st.dl_da)} = {said_tex(st.f_prime * st.dl_da)} = "
            f"{nm['delta']}, recorded as {number_text(st.delta)}. Times the input: ∂ℓ/∂w = {nm['a_prev']} "
            f"{nm['delta']} = {said_factor(st.a_prev)} × {said_factor(st.delta)} = {said_tex(st.gradient)}, "
            f"this digit's dW entry, recorded as {number_text(st.dW_entry)}. "
            "A batch's dW is the mean of such entries over its digits.")


def notes_levers(st):
    """Phase 5: the three levers of z, each times delta for the loss."""
    nm = spoken_names(st)
    (_, _, dl_db), (_, dz_dw, dl_dw), (_, dz_da, dl_da) = st.levers
    onward = ("A pixel is the input: it cannot be nudged, and the gradient stops here." if st.layer == 1 else
              f"Through {nm['a_prev']} the gradient flows on, one layer further back.")
    return (f"{nm['z']} = Σₖ {spoken('W', st.layer)}{str(st.unit).translate(SUB)},ₖ "
            f"{spoken('a', st.layer - 1)}ₖ + {nm['b']} has three levers; each one's gradient through "
            f"this unit is {nm['delta']} times how far it moves z. Its bias: ∂z/∂b = 1, ∂ℓ/∂b = {said_tex(dl_db)}. "
            f"The weight: ∂z/∂w = {said_tex(dz_dw)}, ∂ℓ/∂w = {said_tex(dl_dw)}. The activation {nm['a_prev']}: "
            f"∂z/∂a = w = {said_tex(dz_da)}, ∂ℓ/∂a = {said_tex(dl_da)}. {onward}")
