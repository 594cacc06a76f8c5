"""Data sets by name, split into train / validation / test the same way every time.

``load_dataset("digits", seed=0)`` gives the 8x8 digits cut ~70/10/20, each
split holding every class in the same proportion (a *stratified* split); the
same seed gives the same split, bit for bit. ``load_dataset("mnist")`` keeps
MNIST's official 10,000 test images as the test split and sets aside 5,000 of
the 60,000 training images, stratified and seeded, for validation.

:data:`DATASETS` is the table the command line and error messages read the
names from. :func:`choose_probe` picks the few dozen samples a trace follows
through training.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable

import numpy as np

from ..tables import lookup
from .digits import load_digits_8x8
from .mnist import load_mnist

__all__ = ["DATASETS", "Dataset", "DatasetInfo", "choose_probe", "load_dataset"]

Arrays = tuple[np.ndarray, np.ndarray, "np.ndarray | None", "np.ndarray | None"]


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What the table knows about a data set before loading it.

    Attributes
    ----------
    name, description : str
    image_shape : tuple of int
        ``(8, 8)`` or ``(28, 28)``.
    n_classes : int
    n_pool : int
        Images in the pool that is split (all 1,797 digits; MNIST's 60,000 training images).
    n_official_test : int or None
        Size of an official test set kept as is, or None if the test split is cut from the pool.
    val_fraction, test_fraction : float or None
        Default shares of the pool; ``test_fraction`` is None with an official test set.
    source : str
        Where the images come from, in words.
    loader : callable
        ``loader(data_dir=, download=, progress=) -> (X_pool, y_pool, X_test, y_test)``;
        the test arrays are None when the test split is cut from the pool.
    """

    name: str
    description: str
    image_shape: tuple[int, int]
    n_classes: int
    n_pool: int
    n_official_test: int | None
    val_fraction: float
    test_fraction: float | None
    source: str
    loader: Callable[..., Arrays] = dataclasses.field(repr=False)

    def split_sizes(self, val_fraction: float | None = None,
                    test_fraction: float | None = None) -> dict[str, int]:
        """Images per split for these fractions (defaults: the table's), without loading."""
        val, test = _check_fractions(self, val_fraction, test_fraction)
        n_val = round(val * self.n_pool)
        n_test = self.n_official_test if test is None else round(test * self.n_pool)
        n_held = n_val if test is None else n_val + n_test
        for split, size in (("validation", n_val), ("test", n_test)):
            if size < self.n_classes:
                raise ValueError(f"the {split} split of {self.name!r} would hold {size} images, "
                                 f"fewer than its {self.n_classes} classes; use a larger fraction")
        return {"train": self.n_pool - n_held, "val": n_val, "test": n_test}


def _check_fractions(info: DatasetInfo, val_fraction: float | None,
                     test_fraction: float | None) -> tuple[float, float | None]:
    """Fill in defaults and validate; returns (val, test) with test None for official test sets."""
    if info.n_official_test is not None and test_fraction is not None:
        raise ValueError(f"test_fraction must be None for {info.name!r}, which uses its official "
                         f"{info.n_official_test:,}-image test set; got {test_fraction!r}")
    val = info.val_fraction if val_fraction is None else val_fraction
    test = info.test_fraction if test_fraction is None else test_fraction
    for label, value in (("val_fraction", val), ("test_fraction", test)):
        if value is not None and not (isinstance(value, (int, float)) and 0 < value < 1):
            raise ValueError(f"{label} must be a number between 0 and 1 (exclusive); got {value!r}")
    if test is not None and val + test >= 1:
        raise ValueError(f"val_fraction + test_fraction must be below 1 to leave training "
                         f"images; got {val!r} + {test!r}")
    return float(val), (None if test is None else float(test))


def _digits_arrays(*, data_dir=None, download=True, progress=True) -> Arrays:
    """The digits ship with scikit-learn: ``data_dir``, ``download``, ``progress`` do not apply."""
    X, y = load_digits_8x8()
    return X, y, None, None


DATASETS: dict[str, DatasetInfo] = {
    "digits": DatasetInfo(
        name="digits",
        description="8x8 handwritten digits from scikit-learn (values 0-16, scaled to [0, 1]); "
                    "ships with scikit-learn, trains in seconds",
        image_shape=(8, 8), n_classes=10, n_pool=1797, n_official_test=None,
        val_fraction=0.1, test_fraction=0.2,
        source="sklearn.datasets.load_digits", loader=_digits_arrays),
    "mnist": DatasetInfo(
        name="mnist",
        description="28x28 MNIST handwritten digits (values 0-255, scaled to [0, 1]); "
                    "60,000 training + 10,000 test images, fetched once into the cache",
        image_shape=(28, 28), n_classes=10, n_pool=60_000, n_official_test=10_000,
        val_fraction=1 / 12, test_fraction=None,
        source="MNIST IDX files (official 60,000/10,000 train/test split)", loader=load_mnist),
}


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """A data set split three ways, ready for training.

    Images are flat rows: ``X_train[i].reshape(image_shape)`` is the i-th
    training image. ``split`` describes how the split was made (JSON-able);
    it goes into a trace's configuration.
    """

    name: str
    image_shape: tuple[int, int]
    n_classes: int
    X_train: np.ndarray  # (n_train, d) float32
    y_train: np.ndarray  # (n_train,) int64
    X_val: np.ndarray  # (n_val, d) float32
    y_val: np.ndarray  # (n_val,) int64
    X_test: np.ndarray  # (n_test, d) float32
    y_test: np.ndarray  # (n_test,) int64
    split: dict

    @property
    def n_features(self) -> int:
        """Pixels per image, e.g. 64 for 8x8."""
        return self.image_shape[0] * self.image_shape[1]

    def sizes(self) -> dict[str, int]:
        """Images per split, e.g. ``{"train": 1258, "val": 180, "test": 359}``."""
        return {"train": len(self.y_train), "val": len(self.y_val), "test": len(self.y_test)}

    def summary(self) -> str:
        """One line, e.g. ``digits 8x8, 10 classes: train 1258, val 180, test 359 (seed 0)``."""
        rows, cols = self.image_shape
        sizes = ", ".join(f"{split} {size}" for split, size in self.sizes().items())
        return (f"{self.name} {rows}x{cols}, {self.n_classes} classes: {sizes} "
                f"(seed {self.split.get('seed')})")

    def __repr__(self) -> str:
        sizes = ", ".join(f"{split}={size}" for split, size in self.sizes().items())
        return (f"Dataset(name={self.name!r}, image_shape={self.image_shape}, {sizes}, "
                f"seed={self.split.get('seed')})")


def _stratified_cut(indices: np.ndarray, y: np.ndarray, n_out: int,
                    seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split ``indices`` into (kept, cut-out of size n_out), same class shares in both; sorted."""
    from sklearn.model_selection import train_test_split  # lazy: importing sklearn takes ~1 s

    kept, out = train_test_split(indices, test_size=n_out, stratify=y[indices],
                                 random_state=seed)
    return np.sort(kept), np.sort(out)


def load_dataset(name: str, *, seed: int = 0, data_dir: str | os.PathLike | None = None,
                 download: bool = True, progress: bool = True,
                 val_fraction: float | None = None,
                 test_fraction: float | None = None) -> Dataset:
    """Load a data set by name and split it into train / validation / test.

    Parameters
    ----------
    name : {"digits", "mnist"}
        A key of :data:`DATASETS`.
    seed : int, default 0
        Seeds the stratified split: same seed, identical arrays.
    data_dir, download, progress
        Passed to :func:`explainer.data.mnist.load_mnist`; ignored for digits.
    val_fraction : float, optional
        Share of the pool held out for validation (digits 0.1, MNIST 1/12 = 5,000).
    test_fraction : float, optional
        Share of the pool held out for testing (digits 0.2); must stay None
        for MNIST, whose official test set is used.

    Returns
    -------
    Dataset
        C-contiguous float32 images in [0, 1] and int64 labels per split.

    Examples
    --------
    >>> load_dataset("digits", seed=0)
    Dataset(name='digits', image_shape=(8, 8), train=1258, val=180, test=359, seed=0)
    """
    info = lookup(DATASETS, name, "dataset")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
    val, test = _check_fractions(info, val_fraction, test_fraction)
    info.split_sizes(val_fraction, test_fraction)  # refuse splits too small to stratify
    X_pool, y_pool, X_test, y_test = info.loader(data_dir=data_dir, download=download,
                                                 progress=progress)
    n_pool = len(y_pool)  # the table's n_pool, except for stand-in files in tests
    n_val = round(val * n_pool)
    indices = np.arange(n_pool)
    if X_test is None:
        indices, test_idx = _stratified_cut(indices, y_pool, round(test * n_pool), seed)
        X_test, y_test = X_pool[test_idx], y_pool[test_idx]
    train_idx, val_idx = _stratified_cut(indices, y_pool, n_val, seed)

    def contiguous(array: np.ndarray, dtype: type) -> np.ndarray:
        return np.ascontiguousarray(array, dtype=dtype)

    split = {
        "dataset": name,
        "seed": int(seed),
        "method": "stratified, seeded (sklearn.model_selection.train_test_split)",
        "source": info.source,
        "val_fraction": val,
        "test_fraction": test,
        "test": "official test set" if test is None else "held out from the pool",
        "sizes": {"train": len(train_idx), "val": len(val_idx), "test": len(y_test)},
    }
    return Dataset(
        name=name, image_shape=info.image_shape, n_classes=info.n_classes,
        X_train=contiguous(X_pool[train_idx], np.float32),
        y_train=contiguous(y_pool[train_idx], np.int64),
        X_val=contiguous(X_pool[val_idx], np.float32),
        y_val=contiguous(y_pool[val_idx], np.int64),
        X_test=contiguous(X_test, np.float32), y_test=contiguous(y_test, np.int64),
        split=split)


def choose_probe(X: np.ndarray, y: np.ndarray, n: int = 30, *, seed: int = 0) -> np.ndarray:
    """Pick ``n`` sample indices covering every class as evenly as possible.

    With 10 classes and ``n=30`` that is 3 per class; with ``n=32`` two
    classes (chosen with the seed) get a fourth. A class with too few samples
    gives all it has and the others make up the difference.

    Parameters
    ----------
    X : numpy.ndarray, shape (n_samples, ...)
        Only its length is used (checked against ``y``).
    y : numpy.ndarray, shape (n_samples,)
        Integer class labels.
    n : int, default 30
    seed : int, default 0

    Returns
    -------
    numpy.ndarray, shape (n,), int64
        Indices into ``X``/``y``, sorted by class, then by index. Same inputs
        and seed, same indices.
    """
    y = np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length; got {len(X)} and {len(y)}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= len(y):
        raise ValueError(f"n must be an integer from 1 to {len(y)} (the number of samples); "
                         f"got {n!r}")
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(y, return_counts=True)
    quota = np.zeros(len(classes), dtype=np.int64)
    order = rng.permutation(len(classes))  # who gets the remainder, and in which order
    while quota.sum() < n:  # deal one per class in turn, skipping classes that ran out
        for k in order:
            if quota.sum() < n and quota[k] < counts[k]:
                quota[k] += 1
    picks = [np.sort(rng.choice(np.flatnonzero(y == c), size=q, replace=False))
             for c, q in zip(classes, quota, strict=True)]
    return np.concatenate(picks).astype(np.int64)
