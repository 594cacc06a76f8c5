"""The errors explainer raises on purpose.

Each one carries a message written for the person at the keyboard: what was
wrong, and how to fix it. The command line prints that message on one line and
exits with status 2; library users can catch :class:`ExplainerError` (or the
standard ``ValueError`` that most of them also are).
"""

__all__ = [
    "ExplainerError",
    "DataError",
    "DataUnavailableError",
    "TrainingDivergedError",
    "OutputError",
]


class ExplainerError(Exception):
    """Base class of every error explainer raises deliberately."""


class DataError(ExplainerError, ValueError):
    """A data file is malformed, truncated or fails its checksum."""


class DataUnavailableError(ExplainerError, FileNotFoundError):
    """A data set is not on disk and could not be fetched."""


class TrainingDivergedError(ExplainerError, FloatingPointError):
    """The loss became non-finite during training."""


class OutputError(ExplainerError, OSError):
    """An output cannot be written where it was asked for (its folder is a file, or not writable)."""
