"""Visual pieces the scenes share. Each is drawn from recorded numbers and
exposes how it changes (``follow(tracker)`` for scrubbing through snapshots);
scenes only choreograph."""

from .curves import LossCurve
from .filters import FilterGrid

__all__ = ["FilterGrid", "LossCurve"]
