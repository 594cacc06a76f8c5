"""One colour scheme for every scene, and the mapping from numbers to colours.

Weights and gradients use a diverging map centred on zero: blue for negative,
white for zero, red for positive, the same convention as the figures
(matplotlib's ``RdBu_r``). Activations use a sequential map from the
background to a warm yellow.
"""

from dataclasses import dataclass

import numpy as np
from matplotlib import colormaps

__all__ = ["Palette", "PALETTE", "diverging_rgba", "symmetric_limit"]


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
    diverging: str = "RdBu_r"


PALETTE = Palette()


def symmetric_limit(values, percentile=99.0):
    """A colour range +-v for ``values``: the given percentile of |values|, so one outlier
    does not wash out the rest; never zero."""
    v = float(np.percentile(np.abs(values), percentile)) if np.size(values) else 0.0
    return v if v > 0 else 1.0


def diverging_rgba(values, limit, cmap=PALETTE.diverging):
    """Map values in [-limit, limit] to RGBA bytes (..., 4) on the diverging map; 0 is the middle."""
    unit = np.clip((np.asarray(values, dtype=np.float64) / limit + 1) / 2, 0, 1)
    return (colormaps[cmap](unit) * 255).round().astype(np.uint8)
