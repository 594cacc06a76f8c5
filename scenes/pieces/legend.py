"""A colour legend: what each colour and mark on screen means, one entry a line.

    Legend([("edge", PALETTE.positive, "W > 0"), ("edge", PALETTE.negative, "W < 0"),
            ("ramp", PALETTE.activation, "a (fill), up to the layer's largest"), ("silent", None, "a = 0")])

An entry is ``(kind, colour, what it means)``; the kinds are the marks the
network diagram and the pictures use:

``edge``    a short line, as an edge of the diagram (its colour: a sign)
``square``  a filled square, as a pixel of a picture
``fill``    a neuron filled with the colour
``ramp``    three neurons filled from empty to full: a quantity as fill opacity
``silent``  an empty neuron with the bold outline of a unit whose ``a`` is 0
"""

from manim import DOWN, LEFT, RIGHT, Circle, Line, Square, Text, VGroup

from ..palette import PALETTE
from .network import NEURON_STROKE, SILENT_STROKE

__all__ = ["Legend", "swatch", "KINDS"]

SIZE = 0.26  # a swatch's height, in scene units (a digit of Text at 20 is 0.21)


def _edge(colour):
    return Line(LEFT * SIZE, RIGHT * SIZE, stroke_color=colour, stroke_width=4)


def _square(colour):
    return Square(SIZE, stroke_width=0).set_fill(colour, opacity=1)


def _neuron(colour, opacity, stroke=NEURON_STROKE):
    return Circle(radius=SIZE / 2, stroke_color=PALETTE.muted, stroke_width=stroke).set_fill(colour, opacity=opacity)


def _fill(colour):
    return _neuron(colour, 1.0)


def _ramp(colour):
    return VGroup(*[_neuron(colour, o) for o in (0.0, 0.5, 1.0)]).arrange(RIGHT, buff=0.06)


def _silent(colour):
    return _neuron(PALETTE.activation, 0.0, SILENT_STROKE)


KINDS = {"edge": _edge, "square": _square, "fill": _fill, "ramp": _ramp, "silent": _silent}


def swatch(kind, colour=None):
    """The mark of ``kind`` (see the module's docstring) in ``colour``."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    return KINDS[kind](colour)


class Legend(VGroup):
    """Entries ``(kind, colour, text)``, one a line: the swatch, then the text (``font_size`` >= 20, legible
    at 480p). ``self.entries[i]`` is entry i's (swatch, text)."""

    def __init__(self, entries, font_size=20, colour=PALETTE.text, buff=0.14, **kwargs):
        super().__init__(**kwargs)
        self.entries = VGroup()
        for kind, swatch_colour, text in entries:
            mark = swatch(kind, swatch_colour)
            words = Text(text, font_size=font_size, color=colour)
            self.entries.add(VGroup(mark, words).arrange(RIGHT, buff=0.15))
        width = max(entry[0].width for entry in self.entries)  # the texts start in one column
        for entry in self.entries:
            entry[1].shift(RIGHT * (width - entry[0].width))
        self.entries.arrange(DOWN, aligned_edge=LEFT, buff=buff)
        self.add(self.entries)
