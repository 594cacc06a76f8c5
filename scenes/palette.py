"""One colour scheme for every scene.

Weights and gradients: red for positive, blue for negative, as in the figures
(the ends of matplotlib's ``RdBu_r``; the filters use its every shade, through
:mod:`explainer.filters`). Activations: from the background to a warm yellow.
"""

from dataclasses import dataclass

__all__ = ["Palette", "PALETTE"]


@dataclass(frozen=True)
class Palette:
    background: str = "#111318"
    text: str = "#ECEFF4"
    muted: str = "#8A93A6"
    positive: str = "#D6604D"  # red end of RdBu_r
    negative: str = "#4393C3"  # blue end of RdBu_r
    activation: str = "#F6C85F"
    correct: str = "#59A14F"
    wrong: str = "#E15759"
    loss: str = "#F28E2B"


PALETTE = Palette()

