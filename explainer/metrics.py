"""Accuracy, the confusion matrix and silent units, in NumPy."""

import numpy as np

__all__ = ["accuracy", "confusion_matrix", "silent_units"]


def accuracy(labels, predicted):
    """Share of predictions equal to the labels."""
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    return float((labels == predicted).mean()) if len(labels) else float("nan")


def confusion_matrix(labels, predicted, n_classes):
    """``C[i, j]`` = how many samples of true class ``i`` were predicted as ``j``.

    >>> confusion_matrix([0, 1, 1], [0, 0, 1], 2)
    array([[1, 0],
           [1, 1]])
    """
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    counts = np.bincount(labels * n_classes + predicted, minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes)


def silent_units(a):
    """The units (columns of ``a``, (n_samples, n_units)) that are 0 for every sample, ascending.

    A ReLU unit that is 0 for every input passes no gradient back, so its
    weights stop learning.

    >>> silent_units([[0.0, 1.5, 0.0], [0.0, 0.0, 2.0]])
    array([0])
    """
    return np.flatnonzero(~np.any(a, axis=0))
