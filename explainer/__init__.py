"""explainer: teach how a neural network learns, from the numbers of a real run.

A from-scratch NumPy network (:class:`Network`) trained by :func:`fit` (or step
by step, by a :class:`Trainer`) keeps
every intermediate value (``z``, ``a``, ``delta``, ``dW``, ``db``) for a
recorder to write down; scenes and dashboards replay the recording.
"""

__version__ = "0.1.0"

from .errors import DataError, DataUnavailableError, ExplainerError, TrainingDivergedError
from .experiment import PRESETS, Experiment, run
from .network import Network
from .training import History, TrainConfig, Trainer, fit

__all__ = [
    "__version__",
    "Network",
    "TrainConfig",
    "History",
    "Trainer",
    "fit",
    "Experiment",
    "PRESETS",
    "run",
    "ExplainerError",
    "DataError",
    "DataUnavailableError",
    "TrainingDivergedError",
]
