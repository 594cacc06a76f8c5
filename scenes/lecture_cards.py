"""TitleCard and Recap: the cards that open and close the lecture built from one run.

TitleCard: the lecture's title and the run it is told with (the data set and
its image size, the network's layers and activations, the loss, the optimiser
and its learning rate, batch size, epochs, steps, snapshots, probe digits, and
the result), with one probe digit of each class; then the eight chapters in
order, one line each saying what it shows.

Recap: the run's own formulas in order (forward, loss, backward, the update
with its numbers at the last snapshot), one line each as Backprop writes
them; then the result again and one closing sentence.

Every number and every line comes from :func:`explainer.chapters.lecture_cards.card_story`.

    manim render -ql scenes/lecture_cards.py TitleCard
    EXPLAINER_TRACE=runs/mnist.zarr manim render -ql scenes/lecture_cards.py Recap
"""

from manim import *

from explainer.chapters.lecture_cards import card_story
from explainer.scenes.choice import chosen_step, chosen_trace
from explainer.scenes.palette import PALETTE
from explainer.scenes.pieces import DigitImage
from explainer.scenes.pieces.layout import fit, wrap
from explainer.scenes.pieces.light import light
from explainer.scenes.slides import LectureScene

TEX, TEXT, TABLE = 28, 22, 24  # font sizes: legible at 480p (MathTex 28 and Text 20 are the smallest that are)
SMALL = 20  # headings and the chapters' lines
LEFT_EDGE, MIDDLE = -6.7, 0.35  # the Recap's two columns: the left one's edge, the right one's
COLUMN = 6.55  # the widest a column's line may be
INDENT = 0.9  # a formula's continued line (one that starts with \qquad, whose space TeX's picture drops)
SITTING = set("dfhiklmnrxzABDEFHIKLMNPRTXZ1247")  # glyphs with a flat foot on the line (a round one dips below)


def words(text, font_size=TEXT, colour=PALETTE.text):
    """A line of text; one glyph per character (no ligatures), so that :func:`baseline` can read its letters."""
    return light(Text(text, font_size=font_size, color=colour, disable_ligatures=True))


def baseline(mobject):
    """The y of the line a text (or a row of texts) sits on: the lowest foot of its flat-footed letters and
    digits (a text's own bottom is lower when it has a g or a p, so texts aligned by it would not line up)."""
    glyphs = [g for text in mobject.get_family() if isinstance(text, Text)
              for c, g in zip(_characters(text), text.submobjects) if c in SITTING]
    return min(g.get_bottom()[1] for g in glyphs) if glyphs else mobject.get_bottom()[1]


def _characters(text):
    """The characters of ``text``, one per glyph (its spaces have a glyph without ligatures, none with); ""
    if they cannot be matched (a ligature joined two)."""
    for chars in (text.original_text, text.text):
        if len(chars) == len(text.submobjects):
            return chars
    return ""


def on_line(text, other):
    """``text`` moved up or down to sit on ``other``'s baseline."""
    return text.shift(UP * (baseline(other) - baseline(text)))


def formula(tex):
    return light(MathTex(tex, font_size=TEX, color=PALETTE.text))


def block(heading, lines, buff=0.14):
    """A muted heading over formulas, left-aligned: one MathTex a line; a continued line indented."""
    group = VGroup(words(heading, SMALL, PALETTE.muted), *[formula(line) for line in lines])
    group.arrange(DOWN, aligned_edge=LEFT, buff=buff)
    for line, tex in zip(group[1:], lines):
        if tex.startswith(r"\qquad"):
            line.shift(RIGHT * INDENT)
    return fit(group, COLUMN)


class TitleCard(LectureScene):
    """The lecture's title, the run it is told with, and its chapters in order."""

    def setup(self):
        self.trace = chosen_trace()
        self.story = card_story(self.trace)
        self.camera.background_color = ManimColor(PALETTE.background)

    def construct(self):
        story, trace = self.story, self.trace
        title = words(story.title, 44).to_edge(UP, buff=0.45)
        subtitle = words(story.subtitle, TEXT, PALETTE.muted).next_to(title, DOWN, buff=0.25)
        table = run_table(story.rows).next_to(subtitle, DOWN, buff=0.4)
        probes = Group(*[DigitImage(trace.probe_x[i], trace.image_shape, height=0.62) for i in story.probes])
        probes.arrange(RIGHT, buff=0.18)
        caption = words("probe digits, one of each class: the chapters follow them through training", SMALL, PALETTE.muted)
        shelf = Group(probes, caption).arrange(DOWN, buff=0.15).to_edge(DOWN, buff=0.3)
        self.play(FadeIn(title), FadeIn(subtitle))
        self.play(LaggedStart(*[FadeIn(row, shift=RIGHT * 0.2) for row in table], lag_ratio=0.12),
                  FadeIn(shelf), run_time=2)
        self.next_slide(notes=story.notes["title"])

        heading = words(f"the lecture, in {len(story.chapters)} chapters", TEXT, PALETTE.muted)
        contents = chapter_table(story.chapters)
        page = VGroup(heading, contents).arrange(DOWN, aligned_edge=LEFT, buff=0.35)
        below = title.get_bottom()[1] - 0.45, -config.frame_height / 2 + 0.3  # the room under the title
        page.set_y(min(sum(below) / 2, below[0] - page.height / 2))  # centred in it, never up into the title
        self.play(FadeOut(subtitle), FadeOut(table), FadeOut(shelf))
        self.play(FadeIn(heading), LaggedStart(*[FadeIn(row, shift=UP * 0.15) for row in contents], lag_ratio=0.15),
                  run_time=2.5)
        self.next_slide(notes=story.notes["contents"])


def run_table(rows):
    """The run's settings as two columns, muted labels beside their values; the result stands out."""
    colour = {"result": PALETTE.correct}
    table = VGroup(*[columns(words(label, TABLE, PALETTE.muted), words(value, TABLE, colour.get(label, PALETTE.text)))
                     for label, value in rows])
    return fit(line_up(stack(table, 0.5)), config.frame_width - 1.0).set_x(0)


def chapter_table(chapters):
    """The chapters in order: number, name, what it shows; one row each."""
    rows = VGroup(*[columns(words(f"{k}", TEXT, PALETTE.muted), words(name, TEXT), words(what, SMALL, PALETTE.muted))
                    for k, (name, what) in enumerate(chapters, start=1)])
    return fit(line_up(stack(rows, 0.58)), config.frame_width - 1.0).set_x(0)


def columns(*cells, gap=0.4):
    """One row of a table: its cells side by side on the first one's baseline (:func:`line_up` then puts
    each column at one x)."""
    row = VGroup(*cells).arrange(RIGHT, buff=gap)
    for cell in cells[1:]:
        on_line(cell, cells[0])
    return row


def stack(rows, pitch):
    """``rows`` one under another, their baselines ``pitch`` apart (spacing by their boxes would be uneven: a
    row with a g or a p reaches lower)."""
    for k, row in enumerate(rows):
        row.shift(UP * (-k * pitch - baseline(row)))
    return rows


def line_up(rows, gap=0.4):
    """Each column of ``rows`` (made by :func:`columns`) starts at one x: the widest cell before it decides."""
    widths = [max(row[k].width for row in rows) for k in range(len(rows[0]))]
    for row in rows:
        for k, cell in enumerate(row):
            cell.set_x(sum(widths[:k]) + k * gap + cell.width / 2)
    return rows


class Recap(LectureScene):
    """The run's formulas in order, at the last snapshot, then how it ended."""

    def setup(self):
        self.trace = trace = chosen_trace()
        self.story = card_story(trace, chosen_step(trace))
        self.camera.background_color = ManimColor(PALETTE.background)

    def construct(self):
        story = self.story
        title = words("Recap: the formulas this run used", 32).to_edge(UP, buff=0.2)
        forward = block("forward, layer by layer", story.forward)
        loss = block("the loss of one digit, and of a batch", story.loss)
        backward = block("backward: the error, then the gradient", story.backward)
        left = VGroup(forward, loss, backward).arrange(DOWN, aligned_edge=LEFT, buff=0.32)
        left.next_to(title, DOWN, buff=0.3).align_to(RIGHT * LEFT_EDGE, LEFT)
        self.play(FadeIn(title), FadeIn(forward), FadeIn(loss))
        self.next_slide(notes=story.notes["forward"])

        self.play(FadeIn(backward, shift=DOWN * 0.2))
        self.next_slide(notes=story.notes["backward"])

        update = block(story.update_heading, story.update)
        update.next_to(title, DOWN, buff=0.3).align_to(RIGHT * MIDDLE, LEFT)
        self.play(FadeIn(update, shift=LEFT * 0.2))
        self.next_slide(notes=story.notes["update"])

        colour = PALETTE.correct if story.test_accuracy is not None else PALETTE.wrong
        headline, detail = story.result_lines
        result = VGroup(words(headline, 30, colour), words(detail, TEXT, colour))
        result.arrange(DOWN, aligned_edge=LEFT, buff=0.1)
        closing = VGroup(*[words(line, TEXT) for line in wrap(story.closing, 40)])
        closing.arrange(DOWN, aligned_edge=LEFT, buff=0.1)
        end = fit(VGroup(result, closing).arrange(DOWN, aligned_edge=LEFT, buff=0.3), COLUMN)
        end.next_to(update, DOWN, buff=0.55).align_to(RIGHT * MIDDLE, LEFT)
        self.play(FadeIn(result))
        self.play(FadeIn(closing))
        self.next_slide(notes=story.notes["result"])
