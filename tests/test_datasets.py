"""load_dataset's splits, choose_probe's samples, and the `data info` command."""

import hashlib
import json

import numpy as np
import pytest

from explainer.cli import data as data_cli
from explainer.data import DATASETS, choose_probe, load_dataset, load_digits_8x8, mnist
from explainer.data.idx import write_idx


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("EXPLAINER_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("EXPLAINER_MNIST_DIR", raising=False)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", seed=0)


def _sorted_rows(X, y):
    """Rows of [X | y] in lexicographic order: equal multisets give equal arrays."""
    table = np.column_stack([X, y])
    return table[np.lexsort(table.T[::-1])]


def test_unknown_name_lists_the_names_from_the_table():
    with pytest.raises(ValueError, match=r"^dataset must be one of 'digits', 'mnist'; got 'x'$"):
        load_dataset("x")
    assert list(DATASETS) == ["digits", "mnist"]


def test_digits_shapes_dtypes_and_ranges(digits):
    assert digits.sizes() == {"train": 1258, "val": 180, "test": 359}
    assert digits.sizes() == DATASETS["digits"].split_sizes()  # the table predicts it
    assert digits.image_shape == (8, 8) and digits.n_classes == 10 and digits.n_features == 64
    for X, y in ((digits.X_train, digits.y_train), (digits.X_val, digits.y_val),
                 (digits.X_test, digits.y_test)):
        assert X.dtype == np.float32 and y.dtype == np.int64
        assert X.shape == (len(y), 64) and X.flags.c_contiguous and y.flags.c_contiguous
        assert X.min() == 0.0 and X.max() == 1.0
        assert set(np.unique(y)) == set(range(10))


def test_digits_splits_partition_the_data_without_overlap(digits):
    X, y = load_digits_8x8()
    together = _sorted_rows(np.concatenate([digits.X_train, digits.X_val, digits.X_test]),
                            np.concatenate([digits.y_train, digits.y_val, digits.y_test]))
    np.testing.assert_array_equal(together, _sorted_rows(X, y))


def test_digits_split_is_stratified(digits):
    shares = [np.bincount(y, minlength=10) / len(y)
              for y in (digits.y_train, digits.y_val, digits.y_test)]
    overall = np.bincount(load_digits_8x8()[1]) / 1797
    for share in shares:
        # at most one image per class off its exact share (180 images -> 1/180 = 0.0056)
        assert np.abs(share - overall).max() < 0.012


def test_same_seed_same_arrays_different_seed_different_split(digits):
    again = load_dataset("digits", seed=0)
    other = load_dataset("digits", seed=1)
    for field in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(digits, field), getattr(again, field))
    assert not np.array_equal(digits.X_test, other.X_test)
    assert other.sizes() == digits.sizes()


def test_split_description_is_json_and_says_how(digits):
    split = json.loads(json.dumps(digits.split))
    assert split["seed"] == 0 and split["sizes"] == digits.sizes()
    assert split["val_fraction"] == 0.1 and split["test_fraction"] == 0.2
    assert "stratified" in split["method"]
    assert repr(digits) == ("Dataset(name='digits', image_shape=(8, 8), train=1258, val=180, "
                            "test=359, seed=0)")
    assert digits.summary() == "digits 8x8, 10 classes: train 1258, val 180, test 359 (seed 0)"


def test_custom_fractions_and_their_validation():
    data = load_dataset("digits", seed=3, val_fraction=0.25, test_fraction=0.25)
    assert data.sizes() == {"train": 899, "val": 449, "test": 449}  # round(0.25 * 1797)
    with pytest.raises(ValueError, match=r"val_fraction must be a number between 0 and 1.*1\.5"):
        load_dataset("digits", val_fraction=1.5)
    with pytest.raises(ValueError, match=r"must be below 1.*0\.5 \+ 0\.6"):
        load_dataset("digits", val_fraction=0.5, test_fraction=0.6)
    with pytest.raises(ValueError, match="fewer than its 10 classes"):
        load_dataset("digits", val_fraction=0.001)
    with pytest.raises(ValueError, match="test_fraction must be None for 'mnist'.*official"):
        load_dataset("mnist", test_fraction=0.2)
    with pytest.raises(ValueError, match="seed must be a non-negative integer; got -1"):
        load_dataset("digits", seed=-1)


def test_mnist_keeps_the_official_test_set_and_stratifies_validation(monkeypatch, tmp_path):
    rng = np.random.default_rng(0)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (120, 28, 28), np.uint8),
              "train-labels-idx1-ubyte": (np.arange(120) % 10).astype(np.uint8),
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (20, 28, 28), np.uint8),
              "t10k-labels-idx1-ubyte": (np.arange(20) % 10).astype(np.uint8)}
    for name, array in arrays.items():
        write_idx(tmp_path / name, array)
        data = (tmp_path / name).read_bytes()
        monkeypatch.setitem(mnist.MNIST_FILES, name, (hashlib.sha256(data).hexdigest(), len(data)))
    data = load_dataset("mnist", seed=0, data_dir=tmp_path, progress=False)
    assert data.sizes() == {"train": 110, "val": 10, "test": 20}  # val = 120 / 12
    assert sorted(data.y_val.tolist()) == list(range(10))  # one per class
    np.testing.assert_array_equal(data.y_test, arrays["t10k-labels-idx1-ubyte"])
    image = arrays["t10k-images-idx3-ubyte"][3]
    np.testing.assert_allclose(data.X_test[3].reshape(28, 28), image / 255, rtol=1e-6)
    assert data.image_shape == (28, 28) and data.split["test"] == "official test set"


def test_probe_covers_every_class_evenly_and_is_deterministic(digits):
    X, y = digits.X_train, digits.y_train
    probe = choose_probe(X, y, 30, seed=0)
    assert probe.dtype == np.int64 and len(set(probe.tolist())) == 30
    assert np.bincount(y[probe], minlength=10).tolist() == [3] * 10
    keys = list(zip(y[probe].tolist(), probe.tolist(), strict=True))
    assert keys == sorted(keys)  # by class, then index
    np.testing.assert_array_equal(probe, choose_probe(X, y, 30, seed=0))
    assert not np.array_equal(probe, choose_probe(X, y, 30, seed=1))
    assert sorted(np.bincount(y[choose_probe(X, y, 32)]).tolist()) == [3] * 8 + [4] * 2


def test_probe_fills_in_for_a_class_that_runs_short():
    y = np.array([0] * 10 + [1] * 10 + [2])
    probe = choose_probe(np.zeros((21, 4)), y, 9, seed=5)
    assert np.bincount(y[probe]).tolist() == [4, 4, 1]


def test_probe_validation():
    y = np.arange(10)
    with pytest.raises(ValueError, match="n must be an integer from 1 to 10.*got 11"):
        choose_probe(np.zeros((10, 2)), y, 11)
    with pytest.raises(ValueError, match="same length; got 9 and 10"):
        choose_probe(np.zeros((9, 2)), y, 5)


def test_cli_info_json_describes_every_data_set(capsys):
    assert data_cli.main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert list(info) == ["digits", "mnist"]
    assert info["digits"]["present"] is True and info["digits"]["image_shape"] == [8, 8]
    assert info["digits"]["split_sizes"] == {"train": 1258, "val": 180, "test": 359}
    assert info["mnist"]["image_shape"] == [28, 28]


def test_cli_text_output_and_fetch_digits(capsys):
    assert data_cli.main(["info", "digits"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("digits: ") and "train 1,258, val 180, test 359" in out
    assert "mnist" not in out
    assert data_cli.main(["fetch", "digits"]) == 0
    assert "ships with scikit-learn" in capsys.readouterr().out
