"""Each chapter's key formula with this run's numbers, as HTML for the handout (Unicode math, no MathJax).

One small function per chapter takes the trace and a
:class:`~explainer.lecture.handout.Chapter` and returns a ``<div class="formula">``.
Every number comes from the chapter's own module (:mod:`explainer.chapters`) and
is written with the same format as its scene writes it (``:.3f``, ``number_tex``,
``nice``, ...); the formulas are the run's own (:mod:`explainer.formulas`), as
LaTeX, turned into HTML by :func:`tex_html`::

    key_formula(trace, Chapter("OneNeuron", "One neuron", step=1200, sample=3))
    # '<div class="formula"><p class="math"><i>z</i><sub>7</sub> = Σ<sub><i>i</i></sub> ... = 1.916</p>...'

Chapters without a formula (TitleCard, Recap, a scene this module does not
know) give ``""``.
"""

import html
import re

import numpy as np

from ..chapters.backprop import backprop_story
from ..chapters.chain_rule import cannot_show, chain_story, number_tex
from ..chapters.descent import digit_tex, nice
from ..chapters.forward_pass import forward_story
from ..chapters.minibatch import minibatch_story
from ..chapters.neuron import neuron_story
from ..formulas import formulas_of
from ..losses import get_loss, one_hot

__all__ = ["key_formula", "tex_html", "KEY_FORMULAS", "one_neuron", "forward_pass", "gradient_descent",
           "backprop", "chain_rule", "mini_batches", "first_layer_filters", "training_story"]

SILENT_LISTED = 16  # silent units named one by one; more are counted


def key_formula(trace, chapter):
    """The key formula of ``chapter`` with the numbers of ``trace``'s run, as HTML; ``""`` if it has none."""
    make = KEY_FORMULAS.get(chapter.name)
    return make(trace, chapter) if make is not None else ""


# -- one function per chapter ------------------------------------------------------------------------------


def one_neuron(trace, chapter):
    """OneNeuron: the unit's weighted sum plus its bias is its z, and a = f(z) (the scene's z line)."""
    st = neuron_story(trace, _sample(trace, chapter), _step(trace, chapter))
    j, sign = st.unit, "+" if st.b >= 0 else "-"
    return _block([rf"z_{{{j}}} = \sum_i W_{{{j},i}}\, x_i + b_{{{j}}} = {st.weighted_sum:.3f} {sign} {abs(st.b):.3f}"
                   rf" = {st.total:.3f}",
                   rf"a_{{{j}}} = f(z_{{{j}}}) = {st.a:.3f}"],
                  [f"unit {j} of layer 1, the one probe digit {st.sample} (a {st.label}) drives hardest; "
                   f"f: {st.activation}; the recorded z: {st.z:.3f}"])


def forward_pass(trace, chapter):
    """ForwardPass: the most active unit's z with its two largest terms, and its a."""
    st = forward_story(trace, _sample(trace, chapter), _step(trace, chapter))
    j, (i1, i2) = st.unit, st.terms[:2]
    (w1, w2), (x1, x2) = st.weights[:2], st.inputs[:2]
    name, _ = st.activation
    return _block([rf"{st.unit_tex} = {_signed(w1)} \cdot {x1:.2f} + {_signed(w2)} \cdot {x2:.2f} + \dots"
                   rf" + {_signed(st.b)} = {st.z:.3f}",
                   rf"a^{{1}}_{{{j}}} = f(z^{{1}}_{{{j}}}) = {st.a:.3f}"],
                  [f"unit {j} of layer 1, the most active for this digit; its two largest terms are pixels {i1} "
                   f"and {i2}; f: {name}"])


def gradient_descent(trace, chapter):
    """GradientDescent: the digit's cost with the run's loss, and the training batch's recorded loss.

    The cost is computed as :func:`explainer.chapters.descent.descent_story` computes it (the run's loss
    function on the recorded output, ``digit_tex`` for the numbers), without its loss landscape."""
    step, sample = _step(trace, chapter), _sample(trace, chapter)
    f = formulas_of(trace, step)
    record = trace.probe_record(step, exact=True)
    labels = np.asarray(trace.probe_labels)
    Y = one_hot(labels, record.probabilities.shape[1], np.float64)
    P = record.probabilities.astype(np.float64)
    cost = get_loss(trace.run.loss).value(P[sample : sample + 1], Y[sample : sample + 1])
    formula, numbers = digit_tex(trace.run.loss, f.loss, P[sample], Y[sample], cost)
    recorded = trace.scalars["loss"]
    batch = float(recorded[step]) if step < len(recorded) else float("nan")
    return _block([f"{formula} {numbers}", rf"L = {nice(batch)}"],
                  [f"the cost of probe digit {sample} (a {int(labels[sample])}); L: the loss of step {step}'s "
                   f"training batch of {f.batch_size} digits, as recorded"])


def backprop(trace, chapter):
    """Backprop: the run's update rule with its numbers at that step (the learning rate in force)."""
    step = _step(trace, chapter)
    st = backprop_story(trace, _sample(trace, chapter), step)
    if st.untruthful:
        return _block([], [st.untruthful])
    f = st.formulas
    rate = [f.learning_rate] if trace.run.training.lr_decay != 1 else []  # how the decay made eta
    said = [f"the run's update ({f.optimizer_name}) at step {step}; g: the mean gradient of a batch of "
            f"{f.batch_size} training digits"]
    if st.after is None:
        said.append(f"loss on this digit: {st.loss:.3f} at step {step} (the last snapshot: none later)")
    else:
        when = "after this step's update" if st.after.updates == 1 else f"{st.after.updates} updates later"
        said.append(f"loss on this digit: {st.loss:.3f} at step {step}, {st.after.loss:.3f} at step "
                    f"{st.after.step} ({when})")
    return _block([*f.update, *rate], said)


def chain_rule(trace, chapter):
    """ChainRule: one weight's gradient as the product of its three factors, and the recorded dW entry."""
    why = cannot_show(trace)
    if why:
        return _block([], [why])
    st = chain_story(trace, _sample(trace, chapter), _step(trace, chapter))
    n, j, k = st.layer, st.unit, st.source
    w, a_prev, z, a = rf"W^{{{n}}}_{{{j},{k}}}", rf"a^{{{n - 1}}}_{{{k}}}", rf"z^{{{n}}}_{{{j}}}", rf"a^{{{n}}}_{{{j}}}"
    delta = rf"\delta^{{{n}}}_{{{j}}}"
    where = f"pixel {k}" if n == 1 else f"unit {k} of layer {n - 1}"
    return _block([rf"\frac{{\partial \ell}}{{\partial {w}}} = {a_prev} \cdot f'({z}) \cdot "
                   rf"\frac{{\partial \ell}}{{\partial {a}}} = {_factor(st.a_prev)} \times {_factor(st.f_prime)} \times "
                   rf"{_factor(st.dl_da)} = {number_tex(st.gradient)}",
                   rf"= {delta}\, {a_prev} = {number_tex(st.dW_entry, 4)}"],
                  [f"w joins {where} to unit {j} of layer {n}, on probe digit {st.sample} (a {st.label}); "
                   f"f: {st.activation}; the last line is this digit's dW entry, as recorded"])


def mini_batches(trace, chapter):
    """MiniBatches: the cosine between the batch's gradient and the probe digits' mean gradient."""
    st = minibatch_story(trace, _step(trace, chapter))  # as the scene makes it: its digits do not change the cosine
    return _block([r"\cos(g, \bar g) = \frac{g \cdot \bar g}{\lVert g \rVert\, \lVert \bar g \rVert} = "
                   rf"{st.batch_cosine:.2f}",
                   rf"\lVert g \rVert = {st.batch_norm:.2f},\quad \lVert \bar g \rVert = {st.mean_norm:.2f}"],
                  [f"g: the recorded gradient of step {st.step}'s batch of {st.batch_size} training digits; "
                   f"ḡ: the mean of the {st.n_probe} probe digits' own gradients, standing in for the full "
                   "gradient (every weight and bias)"])


def first_layer_filters(trace, chapter):
    """FirstLayerFilters: the first layer's units that were silent (a = 0) for every probe digit."""
    step = _step(trace, chapter)
    silent = [int(j) for j in trace.silent_units(step, exact=True)]  # as the scene outlines them
    n, n_probe = trace.sizes[1], len(trace.probe_labels)
    if not silent:
        return _block([r"a^{1}_j > 0 \text{ for some probe digit, for every unit } j"],
                      [f"no silent unit among the {n} of layer 1 at step {step}"])
    listed = ", ".join(map(str, silent[:SILENT_LISTED])) + (r", \dots" if len(silent) > SILENT_LISTED else "")
    return _block([rf"a^{{1}}_j = 0 \text{{ for all {n_probe} probe digits: }} j \in \{{{listed}\}}"],
                  [f"{len(silent)} of the {n} units of layer 1 silent at step {step}: a ReLU that never fires "
                   "gets no gradient, and its weights stop learning"])


def training_story(trace, chapter):
    """TrainingStory: the test accuracy (the scene's caption under the confusion matrix)."""
    ev = trace.evaluation
    if ev is None:
        return _block([], ["the run stopped before its end: it has no test evaluation"])
    right, total = int(np.trace(ev.confusion)), int(ev.confusion.sum())
    return _block([rf"\text{{test accuracy}} = \frac{{{right}}}{{{total}}} = {ev.test_accuracy:.1%}".replace("%", r"\%")],
                  [f"{right} of {total} test digits read right after {trace.n_steps} training steps"])


KEY_FORMULAS = {"OneNeuron": one_neuron, "ForwardPass": forward_pass, "GradientDescent": gradient_descent,
                "Backprop": backprop, "ChainRule": chain_rule, "MiniBatches": mini_batches,
                "FirstLayerFilters": first_layer_filters, "TrainingStory": training_story}


def _step(trace, chapter):
    """The chapter's snapshot step: the nearest to ``chapter.step`` (the rule the scenes choose by)."""
    return trace.check_step(chapter.step)


def _sample(trace, chapter):
    """The chapter's probe digit, checked; 0 when it names none (the scenes' default)."""
    return trace.check_sample(0 if chapter.sample is None else chapter.sample)


def _signed(v, digits=3):
    """A term of a sum written out, as ForwardPass writes it: in parentheses when negative, ``(-0.120)``."""
    return f"{v:.{digits}f}" if v >= 0 else f"({v:.{digits}f})"


def _factor(v):
    """A factor of a product, as ChainRule writes it: ``number_tex``, in parentheses when negative."""
    return rf"\left({number_tex(v)}\right)" if v < 0 else number_tex(v)


def _block(lines, said):
    """The formula's HTML: each LaTeX line of ``lines`` as math, then each plain sentence of ``said``."""
    math = "".join(f'<p class="math">{tex_html(line)}</p>' for line in lines)
    words = "".join(f'<p class="says">{html.escape(s)}</p>' for s in said)
    return f'<div class="formula">{math}{words}</div>'


# -- LaTeX as HTML --------------------------------------------------------------------------------------------

_TOKENS = re.compile(r"\\[A-Za-z]+|\\.|[A-Za-z]+|\s+|.", re.DOTALL)
SYMBOLS = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eta": "η", "theta": "θ",
           "lambda": "λ", "mu": "μ", "rho": "ρ", "sigma": "σ", "ell": "ℓ", "partial": "∂", "nabla": "∇",
           "sum": "Σ", "leftarrow": "←", "rightarrow": "→", "to": "→", "times": "×", "cdot": "·", "odot": "⊙",
           "oslash": "⊘", "le": "≤", "ge": "≥", "ne": "≠", "approx": "≈", "in": "∈", "dots": "…", "ldots": "…",
           "cdots": "⋯", "vdots": "⋮", "infty": "∞", "lVert": "‖", "rVert": "‖", "mid": "|", "prime": "′",
           "{": "{", "}": "}", "%": "%", "_": "_", "&": "&", "#": "#", "|": "‖",
           ",": "\u2009", ";": "\u2005", ":": "\u2005", " ": " ", "!": "", "quad": "\u2003", "qquad": "\u2003\u2003",
           "\\": "; "}
WORDS = {"log", "exp", "max", "min", "tanh", "cos", "sin", "sign"}  # upright, as LaTeX sets them
IGNORED = {"left", "right", "textstyle", "displaystyle", "big", "Big"}  # sizes: the delimiter that follows shows
UPRIGHT = {"text", "mathrm", "mathsf", "mathbf", "operatorname", "mathbb", "mathit"}  # an argument set as text
ACCENTS = {"hat": "\u0302", "bar": "\u0304", "tilde": "\u0303", "vec": "\u20d7"}  # combining marks
TIGHT_AFTER = {"partial", "lVert", "sqrt"}  # no space after: ∂ℓ, ‖g
TIGHT_BEFORE = {"rVert"}  # no space before: g‖
OPERATORS = re.compile(r"[\s+\-−=×·⊙⊘←]")


def tex_html(tex):
    r"""The LaTeX of the run's formulas as HTML with Unicode math, ``<sub>``, ``<sup>`` and ``<i>``.

    It reads the subset :mod:`explainer.formulas`, the optimisers, the losses and the
    chapters write: Greek letters and operators, ``^`` and ``_``, ``\frac``,
    ``\sqrt``, accents, ``\text``; every piece of text is escaped. A command it does not
    know is written as its name.

    >>> tex_html(r"\hat m = \frac{m}{1 - \beta_1^{\,t}}")
    '<i>m\u0302</i> = <i>m</i>/(1 − β<sub>1</sub><sup>\u2009<i>t</i></sup>)'
    """
    return _Reader(tex).group()


class _Reader:
    """Reads one LaTeX string, token by token, into HTML."""

    def __init__(self, tex):
        self.tokens, self.i = _TOKENS.findall(tex), 0

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self):
        self.i += 1
        return self.tokens[self.i - 1]

    def skip_space(self):
        while self.peek() is not None and self.peek().isspace():
            self.i += 1

    def group(self, closing=None):
        """HTML up to ``closing`` (consumed) or the end."""
        out = []
        while (token := self.peek()) is not None and token != closing:
            if token in ("^", "_"):
                out.append(self.scripts())
            else:
                out.append(self.atom(out))
        if token is not None:
            self.take()
        return "".join(out)

    def argument(self):
        """The HTML of the next argument: a ``{...}`` group or one token."""
        self.skip_space()
        token = self.peek()
        if token is None:
            return ""
        if token == "{":
            self.take()
            return self.group("}")
        return self.atom([])

    def raw(self):
        """The next argument as plain text, escaped (for ``\\text`` and its kin)."""
        self.skip_space()
        if self.peek() != "{":
            return html.escape(self.take()) if self.peek() is not None else ""
        self.take()
        depth, out = 1, []
        while (token := self.peek()) is not None:
            self.take()
            depth += {"{": 1, "}": -1}.get(token, 0)
            if depth == 0:
                break
            out.append(SYMBOLS.get(token[1:], token[1:]) if token.startswith("\\") else token)
        return html.escape("".join(out))

    def scripts(self):
        """A superscript and/or a subscript; both at once are stacked (``a^{L}_k``)."""
        parts = {}
        while self.peek() in ("^", "_") and self.peek() not in parts:
            which = self.take()  # (before the argument: `parts[self.take()] = ...` would read the argument first)
            parts[which] = self.argument()
        sup = f"<sup>{parts['^']}</sup>" if "^" in parts else ""
        sub = f"<sub>{parts['_']}</sub>" if "_" in parts else ""
        return f'<span class="ss">{sup}{sub}</span>' if sup and sub else sup + sub

    def atom(self, out):
        """The HTML of the next token (and of the arguments a command takes)."""
        token = self.take()
        if token.isspace():
            return " "
        if token == "{":
            return self.group("}")
        if not token.startswith("\\"):
            if token.isalpha():
                return f"<i>{html.escape(token)}</i>"
            return html.escape({"-": "−", "'": "′"}.get(token, token))
        name = token[1:]
        if name in TIGHT_AFTER:
            self.skip_space()
        if name in TIGHT_BEFORE and out and out[-1] == " ":
            out.pop()
        if name in ("frac", "tfrac", "dfrac"):
            top, bottom = self.argument(), self.argument()
            return f"{_operand(top)}/{_operand(bottom)}"
        if name == "sqrt":
            return f'√<span class="root">{self.argument()}</span>'
        if name in ACCENTS:
            inner = self.argument()
            return inner[:-4] + ACCENTS[name] + "</i>" if inner.endswith("</i>") else inner + ACCENTS[name]
        if name == "mathbb":
            text = self.raw()
            return "𝟙" if text == "1" else text
        if name in UPRIGHT:
            return self.raw()
        if name in ("begin", "end", "color"):
            self.raw()  # the environment's or colour's name
            return ""
        if name in IGNORED:
            return ""
        if name in WORDS:
            return name
        return html.escape(SYMBOLS.get(name, name))


def _operand(part):
    """A fraction's numerator or denominator, in parentheses when it is more than one term (``(1 − β)``)."""
    plain = re.sub(r"<[^>]+>", "", part).strip()
    return f"({part.strip()})" if OPERATORS.search(plain) and not plain.startswith("(") else part.strip()
