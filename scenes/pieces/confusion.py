"""The test set's confusion matrix as a grid of squares with counts."""

import numpy as np
from manim import DOWN, LEFT, RIGHT, UP, Square, Text, VGroup

from explainer import colours

from ..palette import PALETTE

LABEL = 20  # font size of the labels and, where the cell is wide enough, the counts: legible at 480p

__all__ = ["ConfusionGrid"]


class ConfusionGrid(VGroup):
    """``confusion[i, j]``: test digits of class ``i`` predicted as ``j``. Fill: sqrt(count / max), in the
    colour of right answers on the diagonal and of wrong ones off it, as in the figure."""

    def __init__(self, confusion, cell=0.42, **kwargs):
        super().__init__(**kwargs)
        self.confusion = np.asarray(confusion)
        n = len(self.confusion)
        shade = colours.count_shade(self.confusion)  # (n, n): the figure's rule
        widest = Text(str(int(self.confusion.max())), font_size=LABEL).width
        font = min(LABEL, LABEL * 0.96 * cell / widest)  # the counts fit their cells: 4-digit MNIST ones shrink
        self.cells = VGroup()
        for i in range(n):
            for j in range(n):
                count = int(self.confusion[i, j])
                colour = PALETTE.correct if i == j else PALETTE.wrong
                square = Square(cell, stroke_width=0.5, stroke_color=PALETTE.muted)
                square.set_fill(colour, opacity=float(shade[i, j]))
                square.move_to(RIGHT * j * cell + DOWN * i * cell)
                text = Text(str(count), font_size=font, color=PALETTE.text if count else PALETTE.muted)
                self.cells.add(VGroup(square, text.move_to(square)))
        rows = VGroup(*[Text(str(i), font_size=LABEL, color=PALETTE.muted).next_to(self.cells[i * n], LEFT, 0.1)
                        for i in range(n)])
        cols = VGroup(*[Text(str(j), font_size=LABEL, color=PALETTE.muted).next_to(self.cells[j], UP, 0.1)
                        for j in range(n)])
        self.add(self.cells, rows, cols)
        self.add(Text("true", font_size=LABEL, color=PALETTE.muted).next_to(rows, LEFT, 0.15))
        self.add(Text("predicted", font_size=LABEL, color=PALETTE.muted).next_to(cols, UP, 0.1))
