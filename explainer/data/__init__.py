"""Data sets for explainer: the 8x8 digits, MNIST, and how they are split.

Start with :func:`load_dataset`::

    from explainer.data import load_dataset
    data = load_dataset("digits", seed=0)   # Dataset(train=1258, val=180, test=359)

Underneath: :mod:`~explainer.data.idx` reads the IDX format,
:mod:`~explainer.data.mnist` finds, fetches and verifies MNIST,
:mod:`~explainer.data.digits` wraps scikit-learn's 8x8 digits, and
:mod:`~explainer.data.cache` says where downloads are kept.
"""

from .cache import cache_dir
from .datasets import DATASETS, Dataset, DatasetInfo, choose_probe, load_dataset
from .digits import load_digits_8x8
from .idx import read_idx, write_idx
from .mnist import MNIST_FILES, check_mnist_folder, load_mnist, mnist_dir
from .own_image import UNSURE_BELOW, is_unsure, prepare_image, read_ink

__all__ = [
    "DATASETS",
    "MNIST_FILES",
    "UNSURE_BELOW",
    "Dataset",
    "DatasetInfo",
    "cache_dir",
    "check_mnist_folder",
    "choose_probe",
    "is_unsure",
    "load_dataset",
    "load_digits_8x8",
    "load_mnist",
    "mnist_dir",
    "prepare_image",
    "read_ink",
    "read_idx",
    "write_idx",
]
