"""explainer: teach how a neural network learns, from the numbers of a real run.

A from-scratch NumPy network (:class:`Network`) trained by :func:`fit` (or step
by step, by a :class:`Trainer`; its images changed a little at every step with
:class:`Augment`, if asked) keeps
every intermediate value (``z``, ``a``, ``delta``, ``dW``, ``db``) for a
recorder to write down; scenes and dashboards replay the recording.

What the scenes and dashboards use is public here, beside the network: the
filters' colours (:mod:`explainer.filters`), a student's own digit made into an
input (:func:`prepare_image`), the hidden widths and activations a user may
choose (:func:`parse_hidden`, :data:`HIDDEN_ACTIVATIONS`, :data:`INITIALIZERS`,
:data:`OPTIMIZERS` with each one's :func:`default_lr` and :func:`lr_advice`), a run trained live and
recorded as it goes (:class:`LiveRun`, headless: the LiveTraining dashboard is a
view of one), and the static
figures (:mod:`explainer.figures`, imported when first asked for: it needs
matplotlib) and the one colour scheme (:mod:`explainer.colours`). Recorded
runs are read through :mod:`explainer.trace`; what each chapter (each scene)
shows of a run is worked out in the modules of :mod:`explainer.chapters`.
"""

__version__ = "0.1.0"

from . import colours
from .activations import HIDDEN_ACTIVATIONS
from .augment import Augment
from .data import UNSURE_BELOW, is_unsure, prepare_image
from .errors import DataError, DataUnavailableError, ExplainerError, OutputError, TrainingDivergedError
from .experiment import CNN_PRESETS, PRESETS, Experiment, parse_hidden, run
from .filters import filter_layout, filter_mosaic, filter_palette, filter_range, filter_rgb, snapshot_range, tile_origin
from .initializers import INITIALIZERS
from .live import LiveRun
from .network import Network
from .optimizers import OPTIMIZERS, default_lr, lr_advice
from .passes import Pass
from .probe_choice import probe_of_class
from .run_pairs import default_versus, matched_snapshots, matched_steps, open_runs, run_label, same_length
from .spread import Spread, run_spread
from .training import History, TrainConfig, Trainer, fit

__all__ = [
    "__version__",
    "Network",
    "Pass",
    "TrainConfig",
    "History",
    "Trainer",
    "fit",
    "Augment",
    "Experiment",
    "PRESETS",
    "CNN_PRESETS",
    "run",
    "ExplainerError",
    "DataError",
    "DataUnavailableError",
    "TrainingDivergedError",
    "OutputError",
    "HIDDEN_ACTIVATIONS",
    "INITIALIZERS",
    "OPTIMIZERS",
    "default_lr",
    "lr_advice",
    "parse_hidden",
    "LiveRun",
    "prepare_image",
    "is_unsure",
    "UNSURE_BELOW",
    "filter_range",
    "snapshot_range",
    "filter_layout",
    "filter_mosaic",
    "filter_palette",
    "filter_rgb",
    "tile_origin",
    "probe_of_class",
    "open_runs",
    "matched_steps",
    "matched_snapshots",
    "run_label",
    "same_length",
    "default_versus",
    "Spread",
    "run_spread",
    "colours",
    "figures",
]
