"""GradientDescent: one digit's cost, the batch's average, the loss over a plane through the weights with
the path training took across it, and what a learning rate that is too high does.

1. A probe digit's output a^L beside its target y, and its cost with the run's loss function
   (-log a_y for cross-entropy, 1/2 |a - y|^2 for mse), with its numbers.
2. Every probe digit's cost and their mean; with the weight penalty, the trace's probe loss; the
   training batch's loss at this step, as recorded.
3. The real loss landscape: the network's loss on real training digits over the plane
   theta_s + alpha d1 + beta d2 through this step's weights (d1, d2: the first two principal directions of
   the recorded trajectory), as a heat map with contour lines and a colour bar.
4. The recorded snapshots, projected onto the plane, drawn one after another, a few labelled with their step.
5. The loss along this step's batch gradient, L(theta_s - eta g), and plain steps of 1, 2, 5, 10, ...
   times the run's learning rate: longer steps go further down, until one lands past the valley's floor,
   higher than it started.

A heat map, not a 3-D surface: every point of the plane and of the path stays visible (a surface hides
what lies behind its hills), the colour bar gives the numbers, and one image renders in no time.
Every number comes from :mod:`explainer.chapters.descent` (the landscape is computed by
:mod:`explainer.landscape` and cached beside the trace: the first render of a step computes it).

    manim render -ql scenes/gradient_descent.py GradientDescent
    EXPLAINER_TRACE=runs/mnist.zarr EXPLAINER_STEP=600 manim render -ql scenes/gradient_descent.py GradientDescent
"""


import numpy as np
from manim import *

from explainer.chapters.descent import descent_story, fixed, nice
from explainer.chapters.spoken import spoken, words
from explainer.scenes.choice import chosen_sample, chosen_step, chosen_trace, default_step
from explainer.scenes.palette import PALETTE
from explainer.scenes.pieces import DigitImage, StepCounter
from explainer.scenes.pieces.layout import covers, keep_inside, overlaps
from explainer.scenes.pieces.loss_map import ColourBar, LossMap
from explainer.scenes.slides import LectureScene, sweep


def tex(s, size=32, colour=PALETTE.text):
    return MathTex(s, font_size=size, color=colour)


def text(s, size=22, colour=PALETTE.muted):
    return Text(s, font_size=size, color=colour)


def markup(s, size=22, colour=PALETTE.muted):
    """Text with Pango markup, for subscripts: ``markup("θ<sub>s</sub>")``."""
    return MarkupText(s, font_size=size, color=colour)


class GradientDescent(LectureScene):
    def setup(self):
        trace = chosen_trace()
        sample, step = chosen_sample(trace), chosen_step(trace, default=default_step("GradientDescent", trace))
        self.story = descent_story(trace, sample, step)
        self.x, self.image_shape = trace.probe_x[sample], trace.image_shape
        self.camera.background_color = ManimColor(PALETTE.background)
        # Manim's cache hashes every mobject on screen before each animation (to reuse partial movies on a
        # second render): with the map's contours and the path's dots that was a third of the render time

    def construct(self):
        st = self.story
        self.title = Text(f"Gradient descent at step {st.step}", font_size=32, color=PALETTE.text)
        self.title.to_edge(UP, buff=0.25)
        self.add(self.title)
        self.one_digit()
        self.the_average()
        self.the_landscape()
        self.the_path()
        self.too_high()

    def clear_below_title(self):
        """Fade what is below the title into the background: a curtain of the background's colour fades in
        over it (fading each piece out would copy every one of them, a third of the render time)."""
        gone = [m for m in self.mobjects if m is not self.title]
        top = self.title.get_bottom()[1] - 0.05
        curtain = Rectangle(width=config.frame_width, height=top + config.frame_height / 2, stroke_width=0,
                            fill_color=PALETTE.background, fill_opacity=1).move_to([0, (top - config.frame_height / 2) / 2, 0])
        self.play(FadeIn(curtain), run_time=0.6)
        self.remove(*gone, curtain)

    # -- 1: one digit's cost -----------------------------------------------------------------------
    def one_digit(self):
        st = self.story
        digit = DigitImage(self.x, self.image_shape, height=2.6).move_to(LEFT * 5.2 + UP * 0.6)
        caption = text(f"probe digit {st.sample}: a {st.label}").next_to(digit, DOWN, buff=0.2)
        # one Paragraph, a row per class (digits are all as wide, so the columns line up): quick to make
        table = Paragraph(*[f"{k}    {a:.3f}    {y:g}" for k, (a, y) in enumerate(zip(st.probabilities, st.y))],
                          font_size=22, line_spacing=0.7, color=PALETTE.text).move_to(LEFT * 1.6 + DOWN * 0.35)
        row = table.submobjects[st.label]  # its glyphs: k's, then a's, then y's
        n_k, n_a = len(str(st.label)), len(f"{st.probabilities[st.label]:.3f}")
        columns = (("k", row[:n_k]), ("a^{L}_k", row[n_k : n_k + n_a]), ("y_k", row[n_k + n_a :]))
        head = VGroup(*[tex(name, 30, PALETTE.muted).move_to([VGroup(*glyphs).get_x(), table.get_top()[1] + 0.35, 0])
                        for name, glyphs in columns])
        mark = SurroundingRectangle(row, buff=0.08, stroke_color=PALETTE.correct, stroke_width=2.5)
        table = VGroup(head, table)
        formula, numbers = st.digit_tex
        cost = VGroup(text("the cost of one digit, with the run's loss:"), tex(formula, 34), tex(numbers, 34))
        cost.arrange(DOWN, aligned_edge=LEFT, buff=0.3).move_to(RIGHT * 3.9 + UP * 0.6)
        note = text("its output a beside what it should be: y is 1 for its class, 0 elsewhere")
        note.next_to(table, DOWN, buff=0.25).set_x(-1.0)
        self.play(FadeIn(digit), FadeIn(caption))
        self.play(FadeIn(table), FadeIn(note), Create(mark))
        self.play(FadeIn(cost[0]), Write(cost[1]))
        self.play(Write(cost[2]))
        loss = LOSS_WORDS.get(st.formulas.loss_name, words(st.formulas.loss_name))
        self.next_slide(notes=(
            "A digit's cost says how far the network's output aᴸ is from what it should be, y: 1 for the true "
            f"class, 0 elsewhere. This run's loss is {loss}. "
            f"Probe digit {st.sample} is a {st.label}; the table is the network's output for each class, and "
            f"the digit's cost is ℓ {spoken(numbers)}."))  # one digit's cost

    # -- 2: the average over the digits --------------------------------------------------------------
    def the_average(self):
        st = self.story
        self.clear_below_title()
        n = len(st.probe_losses)
        top = max(float(st.probe_losses.max()), 1e-9)
        y_step = st.cost_ticks[1] - st.cost_ticks[0] if len(st.cost_ticks) > 1 else top
        axes = Axes(x_range=[0, n, 5], y_range=[0, top * 1.05, y_step], x_length=9.5, y_length=2.8, tips=False,
                    axis_config={"color": PALETTE.muted}, x_axis_config={"include_ticks": False})
        axes.move_to(UP * 1.1 + LEFT * 0.3)
        axes.add(_numbers(axes.y_axis, st.cost_ticks, LEFT))
        width = axes.x_length / n * 0.7
        bars = VGroup()
        for k, value in enumerate(st.probe_losses):
            bottom, peak = axes.c2p(k + 0.5, 0), axes.c2p(k + 0.5, value)
            colour = PALETTE.activation if k == st.sample else PALETTE.loss
            bars.add(Rectangle(width=width, height=max(peak[1] - bottom[1], 0.01), fill_color=colour, fill_opacity=0.9,
                               stroke_width=0).move_to((bottom + peak) / 2))
        pointer = Triangle(fill_color=PALETTE.activation, fill_opacity=1, stroke_width=0).scale(0.09)
        pointer.next_to(axes.c2p(st.sample + 0.5, 0), DOWN, buff=0.05)  # this digit's bar, however short
        bars.add(pointer)
        mean = DashedLine(axes.c2p(0, st.probe_mean), axes.c2p(n, st.probe_mean), stroke_color=PALETTE.text,
                          stroke_width=2)
        mean_label = tex(rf"\tfrac{{1}}{{{n}}}\textstyle\sum \ell_n = {nice(st.probe_mean)}", 30).next_to(mean, RIGHT,
                                                                                                        buff=0.15)
        what = text(f"the cost of each of the {n} probe digits (digit {st.sample} in yellow), and their mean")
        what.next_to(axes, DOWN, buff=0.3)
        lines = [tex(st.formulas.cost, 30)]
        total = rf"{n} \text{{ probe digits: }} {nice(st.probe_mean)}"
        if st.penalty:
            total += rf" + {nice(st.penalty)}\ (\text{{penalty}})"
        lines.append(tex(rf"{total} = {nice(st.probe_loss)}\ \text{{(the trace's probe loss)}}", 30))
        lines.append(tex(rf"\text{{the training batch of step {st.step}: }} L = {nice(st.batch_loss)}"
                         r"\ \text{(recorded)}", 30))
        block = VGroup(*lines).arrange(DOWN, aligned_edge=LEFT, buff=0.25).next_to(what, DOWN, buff=0.4)
        block.set_x(0)
        self.play(Create(axes), LaggedStart(*[GrowFromEdge(b, DOWN) for b in bars], lag_ratio=0.03), FadeIn(what))
        self.play(Create(mean), Write(mean_label))
        self.play(Write(lines[0]))
        self.play(FadeIn(lines[1]), FadeIn(lines[2]))
        notes = ("Training lowers not one digit's cost but their mean over a batch, L = (1/N) Σ ℓₙ with "
                 f"N = {st.formulas.batch_size}{', plus a weight penalty' if st.penalty else ''}. The bars are the "
                 f"costs of the {n} probe digits, held out of training, digit {st.sample} in yellow; their mean is "
                 f"{spoken(nice(st.probe_mean))}")
        notes += (f", and with the weight penalty, {spoken(nice(st.penalty))}, the trace's probe loss is "
                  f"{spoken(nice(st.probe_loss))}." if st.penalty else ", the trace's probe loss.")
        notes += (f" The step itself learned from its training batch, whose recorded loss at step {st.step} is "
                  f"L = {spoken(nice(st.batch_loss))}.")
        self.next_slide(notes=notes)  # the batch's average

    # -- 3: the landscape ----------------------------------------------------------------------------
    def the_landscape(self):
        st, land = self.story, self.story.land
        self.clear_below_title()
        self.map = loss_map = LossMap(land, st.levels).move_to(LEFT * 4.0 + DOWN * 0.3)
        ticks = loss_map.axes_ticks(st.alpha_ticks, st.beta_ticks)
        bar = ColourBar(loss_map, st.ticks).next_to(loss_map.frame, RIGHT, buff=0.3)
        keep_inside(Group(loss_map, ticks, bar))  # the ticks' numbers, however long, on screen
        alpha_name = text(st.axis_names[0] + "  →", 20).next_to(loss_map.frame, DOWN, buff=0.5)
        alpha_name.align_to(loss_map.frame, LEFT)
        beta_name = text("↑  " + st.axis_names[1], 20).next_to(loss_map.frame, UP, buff=0.15)
        beta_name.align_to(loss_map.frame, LEFT)
        plane = tex(r"\theta(\alpha, \beta) = \theta_s + \alpha\, d_1 + \beta\, d_2", 32)
        words = VGroup(
            markup(f"θ<sub>s</sub>: every weight and bias at step {st.step}"),
            text("colour: the network's loss on"),
            text(f"{land.digits}, at {land.resolution} x {land.resolution} points"),
        ).arrange(DOWN, aligned_edge=LEFT, buff=0.12)
        self.side = side = VGroup(plane, words).arrange(DOWN, aligned_edge=LEFT, buff=0.25)
        side.next_to(bar, RIGHT, buff=0.45).align_to(loss_map.frame, UP)
        keep_inside(side)
        self.play(FadeIn(loss_map.image), Create(loss_map.frame), FadeIn(ticks), FadeIn(bar))
        self.play(Create(loss_map.contours), FadeIn(alpha_name), FadeIn(beta_name), Write(plane), FadeIn(words))
        if land.directions == "pca":
            first, second = land.explained
            directions = (f"d₁ and d₂ are the two directions along which training moved the most ({first:.0%} and "
                          f"{second:.0%} of its path)")
        else:
            directions = "d₁ and d₂ are random directions, filter-normalised"
        self.next_slide(notes=(
            "The loss depends on every weight at once, far too many dimensions to draw, so we cut a plane through "
            f"this step's weights θₛ: θ(α, β) = θₛ + α d₁ + β d₂. {directions}. The colour is the network's real "
            f"loss on {land.digits}, at {land.resolution} × {land.resolution} points of the plane: dark is low, "
            "bright is high, and the colour bar gives the numbers."))  # the landscape

    # -- 4: the path the run took, projected onto the plane --------------------------------------------
    def the_path(self):
        st, land, loss_map = self.story, self.story.land, self.map
        points = [loss_map.point(a, b) for a, b in land.coords]
        dots = VGroup(*[Dot(p, radius=0.045, color=PALETTE.text, fill_opacity=0) for p in points])
        here = Circle(radius=0.14, stroke_color=PALETTE.activation, stroke_width=3).move_to(points[st.snapshot])
        labels = self._labels(points)
        order = [int(k) for k in st.labelled if any(k == j for j in labels.keys())]
        labels = [labels[k] for k in order]
        shown = ValueTracker(0)

        def path():
            k = shown.get_value()
            upto = int(np.floor(k))
            corners = points[: upto + 1]
            if upto < len(points) - 1 and k > upto:
                corners = corners + [points[upto] + (points[upto + 1] - points[upto]) * (k - upto)]
            line = VMobject(stroke_color=PALETTE.text, stroke_width=2.5)
            return line.set_points_as_corners(corners if len(corners) > 1 else corners * 2)

        reached = VGroup()  # the labels of the snapshots drawn so far

        def appear(group):
            k = shown.get_value()
            for i, dot in enumerate(dots):
                dot.set_fill(opacity=1.0 if i <= k else 0.0)
            for i, label in zip(order, labels):
                if i <= k and label not in reached:
                    reached.add(label)

        trail = always_redraw(path)
        counter = StepCounter(label_size=22, number_size=32).follow(
            lambda: land.steps[min(int(shown.get_value()), len(points) - 1)])
        counter.next_to(self.side, DOWN, buff=0.4).align_to(self.side, LEFT)
        holder = VGroup(dots, reached).add_updater(appear)
        self.add(trail, holder)
        self.play(FadeIn(counter))
        self.play(shown.animate.set_value(len(points) - 1), run_time=sweep(8), rate_func=linear)
        for mobject in (holder, trail, counter[1]):
            mobject.clear_updaters()
        appear(holder)
        self.remove(shown)
        far, g = int(np.argmax(land.off_plane)), st.gap
        held = (f"the plane holds {land.explained.sum():.0%} of the path" if land.directions == "pca"
                else "random directions hold little of the path")
        what = VGroup(
            text(f"the {len(points)} snapshots, each drawn where"),
            text("its shadow falls on the plane;"),
            text(held + ":"),
            markup(f"step {land.steps[far]} lies {land.off_plane[far]:.3g} off it, {land.distance[far]:.3g} from θ<sub>s</sub>"),
            text(f"step {land.steps[g]}: loss {land.snapshot_loss[g]:.3g} itself,"),
            text(f"{land.plane_loss[g]:.3g} at its shadow"),
        ).arrange(DOWN, aligned_edge=LEFT, buff=0.12).next_to(counter, DOWN, buff=0.3).align_to(counter, LEFT)
        keep_inside(what)
        self.play(Create(here), FadeIn(what))
        self.next_slide(notes=(
            f"The dots are the {len(points)} recorded snapshots, from step {land.steps[0]} to step {land.steps[-1]}, "
            f"each drawn where its shadow falls on the plane; θₛ, step {st.step}, is circled. {held[0].upper()}"
            f"{held[1:]}: step {land.steps[far]} lies {land.off_plane[far]:.3g} off it, {land.distance[far]:.3g} "
            f"from θₛ. So the map is a shadow, not the whole truth: step {land.steps[g]} has loss "
            f"{land.snapshot_loss[g]:.3g} itself, {land.plane_loss[g]:.3g} at its shadow."))  # the path

    def _labels(self, points):
        """``{snapshot: label}``: the story's labelled snapshots' steps beside their dots, inside the map, none
        over another or over a dot of the path (this step's first, then the first and last snapshots, then the
        others; this step's is always shown, over as few dots as it can)."""
        st = self.story
        placed = {}
        for k in dict.fromkeys([st.snapshot, 0, len(points) - 1] + [int(k) for k in st.labelled]):
            tries = []
            for way, direction in enumerate(self._sides(k, points)):
                label = self._label(k, points, direction)
                if not any(overlaps(label, other) for other in placed.values()):
                    covered = sum(covers(label, p) for i, p in enumerate(points) if i != k)
                    tries.append((covered, way, label))
            if tries and (min(tries)[0] == 0 or k == st.snapshot):
                placed[k] = min(tries, key=lambda t: t[:2])[2]
        for label in placed.values():
            label.add_background_rectangle(color=PALETTE.background, opacity=0.6, buff=0.04)
        return placed

    @staticmethod
    def _sides(k, points):
        """Directions to try for snapshot ``k``'s label: across the path (right side first), then around."""
        before, after = points[max(k - 1, 0)], points[min(k + 1, len(points) - 1)]
        along = after - before
        normal = np.array([-along[1], along[0], 0.0])
        normal = normal / np.linalg.norm(normal) if np.linalg.norm(normal) > 1e-9 else RIGHT
        if normal[0] < 0:
            normal = -normal
        return [normal, -normal, UP, DOWN, UR, DR, UL, DL, RIGHT, LEFT]

    def _label(self, k, points, direction):
        """Snapshot ``k``'s step beside its dot, towards ``direction``, inside the map."""
        st = self.story
        words = f"step {st.land.steps[k]}" + (" = θ<sub>s</sub>" if k == st.snapshot else "")
        label = markup(words, 20, PALETTE.activation if k == st.snapshot else PALETTE.text)
        label.next_to(points[k], direction, buff=0.22 if k == st.snapshot else 0.12)
        return keep_inside(label, self.map.frame)

    # -- 5: a learning rate that is too high ------------------------------------------------------------
    def too_high(self):
        st, cut = self.story, self.story.cut
        self.clear_below_title()
        x_step = st.eta_ticks[1] - st.eta_ticks[0] if len(st.eta_ticks) > 1 else cut.eta[-1]
        y_step = st.slice_ticks[1] - st.slice_ticks[0] if len(st.slice_ticks) > 1 else 1.0
        low = np.floor(cut.loss.min() / y_step) * y_step
        high = np.ceil(cut.loss.max() / y_step) * y_step
        axes = Axes(x_range=[0, cut.eta[-1], x_step], y_range=[low, high, y_step], x_length=5.4, y_length=4.4,
                    tips=False, axis_config={"color": PALETTE.muted})
        axes.add(_numbers(axes.x_axis, st.eta_ticks, DOWN), _numbers(axes.y_axis, np.arange(low, high + y_step / 2, y_step),
                                                                    LEFT))
        axes.to_edge(LEFT, buff=0.35).set_y(-0.3)
        x_name = text("learning rate η of one plain step", 22).next_to(axes.x_axis, DOWN, buff=0.55)
        y_name = tex(r"L(\theta_s - \eta\, g)", 30).next_to(axes.y_axis, UP, buff=0.2).shift(RIGHT * 0.6)
        curve = axes.plot_line_graph(cut.eta, cut.loss, add_vertex_dots=False, line_color=PALETTE.loss, stroke_width=4)
        start = axes.c2p(0, cut.start_loss)
        before = DashedLine(start, axes.c2p(cut.eta[-1], cut.start_loss), stroke_color=PALETTE.muted, stroke_width=2)
        digits = st.slice_digits
        rule = tex(r"\theta \leftarrow \theta - \eta\, g", 34)
        about = VGroup(text(f"g: step {st.step}'s batch gradient, |g| = {cut.grad_norm:.3g}"),
                       text(f"the loss on {cut.digits}:"),
                       tex(rf"L(\theta_s) = {fixed(cut.start_loss, digits)}\ \text{{before the step}}", 30, PALETTE.muted)
                       ).arrange(DOWN, aligned_edge=LEFT, buff=0.12)
        head = VGroup(rule, about).arrange(DOWN, aligned_edge=LEFT, buff=0.2).move_to(RIGHT * 1.2 + UP * 2.3,
                                                                                       aligned_edge=UL)
        keep_inside(head)
        self.play(Create(axes), FadeIn(x_name), FadeIn(y_name), Write(rule), FadeIn(about))
        self.play(Create(curve), Create(before), run_time=1.5)
        self.next_slide(notes=(
            "Training moves the weights a step against the gradient: θ ← θ − η g. Here g is the gradient of step "
            f"{st.step}'s training batch, |g| = {cut.grad_norm:.3g}, and the curve is the loss on {cut.digits} "
            "along that line, L(θₛ − η g), for step sizes η from 0 up. Before any step it is "
            f"L(θₛ) = {fixed(cut.start_loss, digits)}, the dashed line."))  # the slice
        rows, hops = VGroup(), VGroup()
        landed = {}  # multiplier -> the loss written for its step, for the notes
        for k in st.rows:
            m, value = cut.multipliers[k], cut.step_loss[k]
            landed[m] = fixed(value, digits)
            eta = cut.lr * m
            colour = PALETTE.correct if value < cut.start_loss else PALETTE.wrong
            name = r"\ \text{(the run's)}" if m == 1 else rf"\ (\times {m:g})"
            rows.add(tex(rf"\eta = {nice(eta)}{name}:\ L = {fixed(value, digits)}", 30, colour))
            end = axes.c2p(eta, value)
            hops.add(Dot(end, radius=0.07, color=colour))
            if eta >= 0.05 * cut.eta[-1]:
                hops.add(ArcBetweenPoints(start, end, angle=-PI / 4, stroke_color=colour, stroke_width=2.5))
        rows.arrange(DOWN, aligned_edge=LEFT, buff=0.16).next_to(head, DOWN, buff=0.35).align_to(head, LEFT)
        if cut.overshoot is not None:
            m = cut.multipliers[cut.overshoot]
            lines = [text(f"x{m:g}: past the valley's floor,", 22, PALETTE.wrong),
                     text("higher than before the step", 22, PALETTE.wrong)]
        else:
            lines = [text(f"no step up to x{cut.multipliers[-1]:g} lands higher than it started", 22)]
        lines += [text(line, 20) for line in st.plain_note]
        notes = VGroup(*lines).arrange(DOWN, aligned_edge=LEFT, buff=0.1).next_to(rows, DOWN, buff=0.3)
        notes.align_to(head, LEFT)
        for group in (rows, notes):
            keep_inside(group)
        self.play(FadeIn(Dot(start, radius=0.07, color=PALETTE.text)))
        self.play(LaggedStart(*[Create(h) if isinstance(h, ArcBetweenPoints) else FadeIn(h) for h in hops],
                              lag_ratio=0.3), LaggedStart(*[FadeIn(r) for r in rows], lag_ratio=0.3), run_time=3)
        self.play(FadeIn(notes))
        said = (f"Plain steps of 1, 2, 5, 10, … times the run's learning rate η = {spoken(nice(cut.lr))}, its own in "
                f"force at step {st.step}: from L = {fixed(cut.start_loss, digits)}, η itself lands at "
                f"L = {landed[1.0]}. Longer steps travel further along g, ")
        if cut.overshoot is not None:
            m = cut.multipliers[cut.overshoot]
            said += f"until ×{m:g} lands past the valley's floor, at L = {landed[m]}, higher than before the step."
        else:
            said += f"and none up to ×{cut.multipliers[-1]:g} lands higher than it started."
        note = " ".join(st.plain_note)
        said += f" {note[0].upper()}{note[1:]}" + ("." if st.formulas.optimizer_name == "sgd"
                                                   else ": a plain step along g is not the step it took.")
        self.next_slide(notes=said)  # the steps, and the one too long


LOSS_WORDS = {"cross_entropy": "cross-entropy", "mse": "the mean squared error"}

def _numbers(axis, values, side):
    """Tick numbers beside ``axis`` (a NumberLine), as Text: quicker to make than Manim's DecimalNumbers."""
    step = np.min(np.diff(values)) if len(values) > 1 else abs(values[0]) or 1.0
    places = _places(step)
    return VGroup(*[text(f"{v:.{places}f}", 20).next_to(axis.n2p(v), side, buff=0.2) for v in values])


def _places(step):
    """Decimal places that write ticks ``step`` apart."""
    return max(0, int(-np.floor(np.log10(step) + 1e-9)))
