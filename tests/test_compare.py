"""`explainer compare`: one network, trained by explainer, scikit-learn, torch and Keras with the same settings."""

import importlib.util
import json

import numpy as np
import pytest
from PIL import Image

from explainer import Experiment, run
from explainer.cli import main
from explainer.compare import LIBRARIES, compare
from explainer.data import load_dataset

SMALL = Experiment.preset("digits", hidden=(16,), epochs=3, lr=0.01, lr_decay=0.8, batch_size=64)
HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_KERAS = HAS_TORCH and importlib.util.find_spec("keras") is not None


@pytest.fixture(scope="module")
def comparison():
    return compare(SMALL, progress=None)


def test_explainers_row_is_the_run_explainer_train_makes(comparison):
    result = run(SMALL, progress=False)
    ours = comparison.runs[0]
    assert ours.name == "explainer"
    assert ours.test_accuracy == result.history.test_accuracy
    assert ours.train_loss == [e["train_loss"] for e in result.history.epochs]
    assert ours.val_accuracy == [e["val_accuracy"] for e in result.history.epochs]
    np.testing.assert_array_equal(ours.predicted, result.net.predict(result.data.X_test))


def test_every_library_learns_the_same_split(comparison):
    data = load_dataset("digits", seed=SMALL.seed, progress=False)
    np.testing.assert_array_equal(comparison.labels, data.y_test)
    for r in comparison.ran:
        assert len(r.train_loss) == len(r.val_accuracy) == len(r.seconds) == SMALL.epochs
        assert r.train_loss[-1] < r.train_loss[0]  # each one really trains
        assert r.test_accuracy > 0.5
        assert r.confusion.sum() == len(data.y_test)
        assert np.trace(r.confusion) == round(r.test_accuracy * len(data.y_test))


def test_the_table_and_the_json_say_what_the_runs_did(comparison):
    table = comparison.table()
    first = comparison.ran[0]
    answers = np.stack([r.predicted for r in comparison.ran])
    disputed = int((answers != answers[0]).any(axis=0).sum())
    assert f"disagree on {disputed:,} of {len(comparison.labels):,}" in table
    for r in comparison.ran:
        assert f"{r.test_accuracy:.4f}" in table
        differs = int((r.predicted != first.predicted).sum())
        assert comparison.disagreements().get((first.name, r.name), 0) == differs
    summary = json.loads(json.dumps(comparison.to_dict()))
    assert summary["disagree"] == disputed
    assert [lib["name"] for lib in summary["libraries"]] == list(LIBRARIES)
    assert "not installed" in comparison.runs[-1].skipped or comparison.runs[-1].ran  # keras
    assert comparison.runs[-1].ran == HAS_KERAS


def test_scikit_learn_gets_explainers_settings():
    from explainer.libraries import _SklearnRunner

    data = load_dataset("digits", progress=False)
    model = _SklearnRunner(SMALL, data).model
    assert model.hidden_layer_sizes == SMALL.hidden
    assert model.batch_size == SMALL.batch_size and model.learning_rate_init == SMALL.lr
    assert model.alpha == pytest.approx(SMALL.l2 * SMALL.batch_size)  # its penalty is divided by the batch size


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
def test_torch_gets_explainers_settings_and_the_decay():
    from explainer.libraries import _TorchRunner

    data = load_dataset("digits", progress=False)
    runner = _TorchRunner(SMALL, data)
    shapes = [tuple(W.shape) for W in runner.weights]
    assert shapes == [(16, 64), (10, 16)]  # W is (n_out, n_in), as explainer's
    decay = [g["weight_decay"] for g in runner.optimizer.param_groups]
    assert decay == [SMALL.l2, 0.0]  # the weights are penalised, the biases not
    runner.epoch()
    runner.epoch()
    assert runner.optimizer.param_groups[0]["lr"] == pytest.approx(SMALL.lr * SMALL.lr_decay)


@pytest.mark.skipif(not HAS_KERAS, reason="keras (or its torch backend) is not installed")
def test_keras_gets_explainers_settings_and_the_decay_and_repeats_itself():
    import keras

    from explainer.libraries import _KerasRunner

    data = load_dataset("digits", progress=False)
    runner = _KerasRunner(SMALL, data)
    assert keras.backend.backend() == "torch"
    dense = [layer for layer in runner.model.layers if isinstance(layer, keras.layers.Dense)]
    assert [tuple(layer.kernel.shape) for layer in dense] == [(64, 16), (16, 10)]  # Keras's W is (n_in, n_out)
    assert [layer.kernel_regularizer.l2 for layer in dense] == pytest.approx([SMALL.l2 / 2] * 2)  # l2/2 |W|^2
    assert all(layer.bias_regularizer is None for layer in dense)
    optimizer = runner.model.optimizer
    assert isinstance(optimizer, keras.optimizers.Adam) and optimizer.epsilon == 1e-8
    losses = [runner.epoch()[0], runner.epoch()[0]]
    assert float(optimizer.learning_rate) == pytest.approx(SMALL.lr * SMALL.lr_decay)
    assert losses[1] < losses[0]
    again = _KerasRunner(SMALL, data)  # the same seed: the same weights and batches, the same run
    assert [again.epoch()[0], again.epoch()[0]] == pytest.approx(losses, rel=1e-6)
    np.testing.assert_array_equal(again.predict(data.X_test), runner.predict(data.X_test))


def test_a_library_that_cannot_run_says_why_and_the_rest_carry_on(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    leaky = Experiment.preset("digits", hidden=(8,), epochs=1, activation="leaky_relu")
    c = compare(leaky, progress=None)
    rows = {r.name: r for r in c.runs}
    assert "not installed" in rows["torch"].skipped
    assert "leaky_relu" in rows["scikit-learn"].skipped
    assert rows["explainer"].ran and [r.name for r in c.ran] == ["explainer"]
    assert "not installed" in c.table() and "leaky_relu" in c.table()


def test_the_command_draws_its_figures_and_replaces_only_its_own(tmp_path, capsys):
    out = tmp_path / "figures"
    args = ["compare", "--hidden", "8", "--epochs", "2", "--libraries", "explainer,scikit-learn", "--out", str(out),
            "--json", "--no-progress"]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert [lib["name"] for lib in summary["libraries"]] == ["explainer", "scikit-learn"]
    assert summary["experiment"]["hidden"] == [8]
    for name in ("compare_curves", "compare_confusion", "compare_disputes"):
        with Image.open(out / f"{name}.png") as image:
            assert image.info["Software"] == "explainer compare"
    assert main(args) == 0  # its own figures are replaced
    capsys.readouterr()
    (out / "compare_curves.png").write_bytes(b"a student's file")
    assert main(args) == 2
    assert "compare_curves.png, which `explainer compare` did not write" in capsys.readouterr().err
    assert (out / "compare_curves.png").read_bytes() == b"a student's file"


@pytest.mark.parametrize("args,message", [
    (["--libraries", "explainer,caffe"], "--libraries takes names from"),
    (["--threads", "0"], "threads must be a whole number >= 1"),
    (["--hidden", "8,x"], "--hidden takes widths"),
])
def test_bad_input_is_one_line(args, message, capsys):
    assert main(["compare", "--epochs", "1", "--no-progress", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_cnn_is_refused():
    with pytest.raises(ValueError, match="dense networks only"):
        compare(Experiment.preset("digits", arch="cnn", epochs=1), progress=None)


def test_every_librarys_weights_run_in_explainers_forward_pass(comparison):
    """Each library's trained weights, turned into the column convention where it keeps them as rows, give
    explainer's network the library's own answers: the four are one function, written four ways."""
    data = load_dataset("digits", seed=SMALL.seed, progress=False)
    layouts = {"explainer": False, "scikit-learn": True, "torch": False, "keras": True}
    for r in comparison.ran:
        assert r.rows == layouts[r.name]
        first = r.parameters[0][0]
        assert first.shape == ((64, 16) if r.rows else (16, 64))
        net = r.as_network(SMALL)
        assert [layer.W.shape for layer in net.weighted] == [(16, 64), (10, 16)]
        same = np.mean(net.predict(data.X_test) == r.predicted)
        assert same >= 0.997, f"{r.name}: its weights in explainer's pass agree on {same:.1%} of the test digits"
    ours = comparison.runs[0]
    np.testing.assert_array_equal(ours.as_network(SMALL).predict(data.X_test), ours.predicted)


def test_the_disputed_digits_are_those_the_libraries_answer_differently(comparison):
    disputed = comparison.disputed()
    answers = np.stack([r.predicted for r in comparison.ran])
    assert len(disputed) == comparison.n_disputed()
    for i in range(len(comparison.labels)):
        assert (i in disputed) == (len(set(answers[:, i])) > 1)


def test_the_disputes_figure_shows_each_disputed_digit_with_every_answer(comparison):
    from explainer.figures.comparison import comparison_disputes

    data = load_dataset("digits", seed=SMALL.seed, progress=False)
    np.testing.assert_array_equal(comparison.images, data.X_test.reshape(-1, 8, 8))
    fig = comparison_disputes(comparison, limit=5)
    shown = comparison.disputed()[:5]
    pictures = [ax.images[0].get_array() for ax in fig.axes]
    assert len(pictures) == len(shown)
    for picture, i in zip(pictures, shown):
        np.testing.assert_array_equal(picture, comparison.images[i])
    answers = [t.get_text() for t in fig.texts if t is not fig._suptitle]
    expected = [f"{r.name}: {int(r.predicted[i])}" for i in shown for r in comparison.ran]
    assert answers == expected
    assert [ax.get_title() for ax in fig.axes] == [f"#{i}: a {int(comparison.labels[i])}" for i in shown]


def test_an_augmented_experiment_is_refused_before_any_training():
    with pytest.raises(ValueError, match="only explainer's trainer augments them"):
        compare(Experiment.preset("digits", epochs=1, augment="slant=12"), progress=None)
