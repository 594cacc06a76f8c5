"""reveal.js, the slide engine of the HTML deck, as local files: the deck works offline, from file://.

manim-slides 5.7.0's template is written for reveal.js 6.0.1 and loads it from
``{cdn_url}/dist/...``. :func:`reveal_assets` puts the package's ``dist/``
folder (reveal.js, reveal.css, the themes with their fonts inlined, the notes,
markdown and highlight plugins) at ``<dest>/reveal.js/dist/``, so that
``cdn_url="reveal.js"`` points at it from an HTML file in ``dest``.

The package is fetched once with ``npm pack`` (:func:`explainer.npm.npm_pack`)
into explainer's cache (``<cache>/npm/``, see :mod:`explainer.data.cache`), and
its SHA-256 is checked every time it is extracted: a damaged or replaced cache
file is fetched again, never trusted.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from explainer.data.cache import cache_dir
from explainer.errors import DataError, OutputError
from explainer.npm import NPM_TIMEOUT_SECONDS, npm_pack

__all__ = ["REVEAL_VERSION", "REVEAL_SPEC", "REVEAL_SHA256", "REVEAL_FOLDER", "reveal_tarball", "reveal_assets"]

#: The reveal.js that manim-slides 5.7.0's template is written for.
REVEAL_VERSION = "6.0.1"
REVEAL_SPEC = f"reveal.js@{REVEAL_VERSION}"
#: SHA-256 of ``npm pack reveal.js@6.0.1``'s tarball.
REVEAL_SHA256 = "7a3bc5096c435b893fd7488ff444c1c1c232e1e6987b6de68696e706437d0a4f"
#: The folder beside the deck that holds reveal.js's ``dist/`` (the deck's ``cdn_url``).
REVEAL_FOLDER = "reveal.js"

_TARBALL = f"reveal.js-{REVEAL_VERSION}.tgz"  # the name npm pack gives it
_DIST = PurePosixPath("package/dist")  # where the built files are in the tarball


def _verified_bytes(path: Path) -> bytes | None:
    """The bytes of the cached tarball if their SHA-256 is the pinned one, else None (missing or damaged)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    return data if hashlib.sha256(data).hexdigest() == REVEAL_SHA256 else None


def reveal_tarball(timeout: float = NPM_TIMEOUT_SECONDS) -> bytes:
    """The verified bytes of reveal.js's tarball, from the cache, fetched into it first if needed.

    A cached file whose SHA-256 is not the pinned one is deleted and fetched
    again. The bytes returned are the ones that were checked (the file is read
    once), so what is extracted is what was verified.

    Raises
    ------
    explainer.npm.NpmError
        The tarball is not cached and ``npm pack`` cannot fetch it.
    """
    folder = cache_dir() / "npm"
    cached = folder / _TARBALL
    data = _verified_bytes(cached)
    if data is None:
        cached.unlink(missing_ok=True)  # damaged (or never fetched): never used
        data = _verified_bytes(npm_pack(REVEAL_SPEC, REVEAL_SHA256, folder, timeout=timeout))
        if data is None:  # npm_pack checked it; only a concurrent writer could get here
            raise DataError(f"{cached} changed after npm pack {REVEAL_SPEC} checked it; try again")
    return data


def _inside_dist(member: tarfile.TarInfo) -> PurePosixPath | None:
    """The member's path relative to ``package/dist/``, or None if it is elsewhere in the tarball.

    Raises :class:`DataError` on a member of ``dist/`` that could write outside
    the destination (an absolute path, ``..``) or is not a plain file or folder
    (a link, a device): the pinned tarball has none.
    """
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts:
        raise DataError(f"{REVEAL_SPEC}: the tarball holds an unsafe path {member.name!r}; not extracted")
    if path.parts[:2] != _DIST.parts or len(path.parts) == 2:
        return None
    if not (member.isfile() or member.isdir()):
        raise DataError(f"{REVEAL_SPEC}: {member.name} in the tarball is not a plain file; not extracted")
    return path.relative_to(_DIST)


def _extract_dist(data: bytes, target: Path) -> None:
    """Write the files under ``package/dist/`` in the tarball ``data`` into ``target``.

    Member names never become paths unchecked (:func:`_inside_dist`), and the
    bytes are copied through ``extractfile``: nothing lands outside ``target``.
    """
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            relative = _inside_dist(member)
            if relative is None or member.isdir():
                continue
            path = target.joinpath(*relative.parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(member) as source, open(path, "wb") as out:
                shutil.copyfileobj(source, out)


def reveal_assets(dest: Path, timeout: float = NPM_TIMEOUT_SECONDS) -> Path:
    """Put reveal.js 6.0.1's ``dist/`` at ``dest/reveal.js/dist/``, from the cache (fetched once).

    Parameters
    ----------
    dest : pathlib.Path
        The folder of the HTML deck (created if missing).
    timeout : float
        Seconds ``npm pack`` may take, if the tarball has to be fetched.

    Returns
    -------
    pathlib.Path
        ``dest/reveal.js``: the folder the deck's ``cdn_url`` names (relative:
        ``"reveal.js"``). Its ``dist/`` is replaced as a whole, so no file of an
        earlier extraction lingers.

    Raises
    ------
    explainer.npm.NpmError
        The tarball is not cached and cannot be fetched.
    OutputError
        ``dest`` cannot be written.
    """
    data = reveal_tarball(timeout=timeout)
    root = Path(dest) / REVEAL_FOLDER
    try:
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".dist.", suffix=".part", dir=root))
        staging.chmod(0o755)  # mkdtemp makes it private; the deck's files are readable like any other
    except OSError as exc:
        raise OutputError(f"cannot write reveal.js into {root} ({exc}); choose another output folder") from exc
    try:
        _extract_dist(data, staging)
        old = root / "dist"
        if old.exists():
            shutil.rmtree(old)
        os.replace(staging, old)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # only left if something failed
    return root
