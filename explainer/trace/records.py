"""What the reader hands back: plain, frozen records of recorded numbers."""

from dataclasses import dataclass

import numpy as np

__all__ = ["ProbeRecord", "Snapshot", "Evaluation"]


@dataclass(frozen=True)
class ProbeRecord:
    """The probe set's forward and backward pass at one snapshot.

    ``z[i]``, ``a[i]``, ``delta[i]`` are layer ``i``'s arrays, each (n_probe, n_out).
    """

    step: int
    z: list
    a: list
    delta: list
    loss: float

    @property
    def probabilities(self):
        """The output layer's ``a``: (n_probe, n_classes)."""
        return self.a[-1]


@dataclass(frozen=True)
class Snapshot:
    """Everything recorded at one snapshot step."""

    step: int
    W: list  # W[i]: (n_out, n_in)
    b: list  # b[i]: (n_out,)
    dW: list
    db: list
    probe: ProbeRecord


@dataclass(frozen=True)
class Evaluation:
    """The final test-set evaluation."""

    test_loss: float
    test_accuracy: float
    confusion: np.ndarray  # (n_classes, n_classes): rows true, columns predicted
    predicted: np.ndarray  # (n_test,)
    confidence: np.ndarray  # (n_test,) probability of the predicted class
    labels: np.ndarray  # (n_test,) true classes
