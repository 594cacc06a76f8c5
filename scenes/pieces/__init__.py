"""Visual pieces the scenes share. Each is drawn from recorded numbers and
exposes how it changes (``follow(tracker)`` for scrubbing through snapshots);
scenes only choreograph."""

from .confusion import ConfusionGrid
from .curves import LossCurve, StepCounter
from .digit import DigitImage
from .filters import FilterGrid
from .network import NetworkDiagram
from .probes import ProbeRow

__all__ = ["ConfusionGrid", "DigitImage", "FilterGrid", "LossCurve", "NetworkDiagram", "ProbeRow", "StepCounter"]
