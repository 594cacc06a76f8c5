"""Accuracy and the confusion matrix, in NumPy."""

import numpy as np

__all__ = ["accuracy", "confusion_matrix"]


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
