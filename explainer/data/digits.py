"""The 8x8 digits that ship with scikit-learn: the embedded default data set.

1,797 handwritten digits, each an 8x8 grid of pen-stroke counts from 0 to 16
(UCI "Optical Recognition of Handwritten Digits"). No download: the file is
inside scikit-learn. Small enough that a network trains on it in seconds,
which is why every scene and notebook starts here.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DIGITS_MAX_VALUE", "load_digits_8x8"]

#: The largest pixel value in the 8x8 digits (a count of 4x4 blocks of ink).
DIGITS_MAX_VALUE = 16


def load_digits_8x8() -> tuple[np.ndarray, np.ndarray]:
    """Load the 8x8 digits as flat float32 images in [0, 1] and int64 labels.

    Returns
    -------
    X : numpy.ndarray, shape (1797, 64), float32
        Each 8x8 image flattened row by row, divided by 16.
    y : numpy.ndarray, shape (1797,), int64
        The digit shown, 0 to 9.

    Examples
    --------
    >>> X, y = load_digits_8x8()
    >>> X.shape, X.dtype, float(X.max()), y[:5].tolist()
    ((1797, 64), dtype('float32'), 1.0, [0, 1, 2, 3, 4])
    """
    from sklearn.datasets import load_digits  # here, not at the top: importing sklearn takes ~1 s

    digits = load_digits()
    X = np.ascontiguousarray(digits.data / DIGITS_MAX_VALUE, dtype=np.float32)  # (1797, 64)
    y = np.ascontiguousarray(digits.target, dtype=np.int64)  # (1797,)
    return X, y
