"""What the reader hands back: plain, frozen records of recorded numbers (and :class:`~explainer.passes.Pass`)."""

from dataclasses import dataclass

import numpy as np

from ..passes import Pass

__all__ = ["Snapshot", "Evaluation"]


@dataclass(frozen=True)
class Snapshot:
    """Everything recorded at one snapshot step."""

    step: int
    W: list  # W[i]: (n_out, n_in)
    b: list  # b[i]: (n_out,)
    dW: list
    db: list
    probe: Pass  # the probe set's z, a, delta, loss at this step


@dataclass(frozen=True)
class Evaluation:
    """The final test-set evaluation."""

    test_loss: float
    test_accuracy: float
    confusion: np.ndarray  # (n_classes, n_classes): rows true, columns predicted
    predicted: np.ndarray  # (n_test,)
    confidence: np.ndarray  # (n_test,) probability of the predicted class
    labels: np.ndarray  # (n_test,) true classes
