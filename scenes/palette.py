"""The scenes' names for the one colour scheme of every picture (:mod:`explainer.colours`).

Right answers bluish green, wrong ones orange; signs red (positive) and blue
(negative), the shades of ``RdBu_r`` that colour the filters; a digit is dark
ink on a sheet of light paper; a neuron lit by its ``a`` goes from the
background to yellow. The values are :mod:`explainer.colours`'s, so a scene,
a figure and a dashboard say the same thing in the same colour.
"""

from dataclasses import dataclass

from explainer import colours

__all__ = ["Palette", "PALETTE"]


@dataclass(frozen=True)
class Palette:
    background: str = colours.BACKGROUND
    text: str = colours.TEXT
    muted: str = colours.MUTED
    positive: str = colours.POSITIVE  # red: a weight, delta or gradient above 0
    negative: str = colours.NEGATIVE  # blue: below 0
    activation: str = colours.ACTIVATION
    correct: str = colours.RIGHT
    wrong: str = colours.WRONG
    loss: str = colours.LOSS
    ink: str = colours.INK  # a digit's ink ...
    paper: str = colours.PAPER  # ... on its paper


PALETTE = Palette()
