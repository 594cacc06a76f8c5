"""A row of probe digits with the network's guess under each, at any snapshot.

The guesses are the argmax of the recorded output probabilities
(``Pass.probabilities``), one row per snapshot, read once; scrubbing
only indexes them. Right guesses are bluish green, wrong ones orange
(:mod:`explainer.colours`).
"""

import numpy as np
from manim import DOWN, RIGHT, Group, Text

from ..palette import PALETTE
from .digit import DigitImage

__all__ = ["ProbeRow", "probe_guesses"]


def probe_guesses(trace, samples, steps):
    """``guesses[k, i]``: the predicted class of probe ``samples[i]`` at snapshot step ``steps[k]``."""
    return np.stack([trace.probe_record(int(s), exact=True).probabilities[samples].argmax(axis=1) for s in steps])


class ProbeRow(Group):
    """Probe digits ``samples`` side by side, each with its guess at the shown snapshot."""

    def __init__(self, trace, samples, steps, height=0.9, gap=0.25, **kwargs):
        super().__init__(**kwargs)
        self.samples = np.asarray(samples)
        self.labels = trace.probe_labels[self.samples]
        self.guesses = probe_guesses(trace, self.samples, steps)
        self.index = -1
        self._texts = {}  # (guess, right?) -> Text, made once each: Text is slow to build
        self.cells = []  # the guess texts under the digits
        self.shown = None  # the guesses they show
        for i, sample in enumerate(self.samples):
            image = DigitImage(trace.probe_x[sample], trace.image_shape, height=height)
            guess = Text("?", font_size=26).next_to(image, DOWN, buff=0.1)
            self.cells.append(guess)
            self.add(Group(image, guess).move_to(RIGHT * i * (height + gap)))
        self.show(0)

    def show(self, k):
        """Write the guesses of snapshot ``k`` under the digits."""
        k = int(np.clip(round(k), 0, len(self.guesses) - 1))
        if k == self.index:
            return self
        before = self.shown if self.shown is not None else np.full(len(self.cells), -1)
        for guess, g, old, label in zip(self.cells, self.guesses[k], before, self.labels):
            if g != old:  # most guesses stay from one snapshot to the next
                # become() redraws in place (swapping submobjects mid-animation leaves the old ones drawn)
                guess.become(self._text(int(g), bool(g == label)), match_center=True)
        self.index, self.shown = k, self.guesses[k]
        return self

    def _text(self, guess, right):
        if (guess, right) not in self._texts:
            self._texts[guess, right] = Text(str(guess), font_size=26, color=PALETTE.correct if right else PALETTE.wrong)
        return self._texts[guess, right]

    def correct(self, k):
        """How many of the row the network gets right at snapshot ``k``."""
        return int((self.guesses[k] == self.labels).sum())

    def follow(self, tracker):
        return self.add_updater(lambda row: row.show(tracker.get_value()))
