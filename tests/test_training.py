"""Training on the real 8x8 digits: it learns, it repeats to the bit, it stops clearly."""

import numpy as np
import pytest

from explainer import Experiment, Network, TrainConfig, TrainingDivergedError, fit, run
from explainer.data import load_dataset


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", seed=0)


def small(**overrides):
    return Experiment.preset("digits", **{"epochs": 3, **overrides})


def test_a_short_run_learns_the_digits(digits):
    result = run(small(epochs=5), progress=False)
    h = result.history
    assert h.epochs[-1]["train_loss"] < h.epochs[0]["train_loss"]
    assert h.test_accuracy > 0.9  # chance is 0.1
    assert h.confusion.sum() == len(result.data.y_test)
    assert np.trace(h.confusion) == round(h.test_accuracy * len(result.data.y_test))


@pytest.mark.parametrize("optimizer,lr", [("sgd", 0.2), ("momentum", 0.05), ("rmsprop", 1e-3), ("adam", 1e-3)])
def test_every_optimizer_trains(optimizer, lr):
    assert run(small(optimizer=optimizer, lr=lr), progress=False).history.test_accuracy > 0.85


def test_same_seed_gives_bit_identical_weights():
    a = run(small(seed=3), progress=False).net
    b = run(small(seed=3), progress=False).net
    for wa, wb in zip(a.params, b.params):
        assert wa.tobytes() == wb.tobytes()


def test_different_seed_gives_different_weights():
    a = run(small(seed=3, epochs=1), progress=False).net
    b = run(small(seed=4, epochs=1), progress=False).net
    assert not np.array_equal(a.params[0], b.params[0])


def test_float64_run_is_float64_and_agrees_with_float32(digits):
    r64 = run(small(dtype="float64"), progress=False)
    r32 = run(small(), progress=False)
    assert r64.net.params[0].dtype == np.float64
    assert abs(r64.history.test_accuracy - r32.history.test_accuracy) < 0.03


@pytest.mark.parametrize("optimizer,lr", [("sgd", 1e4), ("sgd", 100.0), ("adam", 1e3)])
def test_a_diverging_learning_rate_stops_with_advice(optimizer, lr):
    with pytest.raises(TrainingDivergedError) as info:
        run(small(optimizer=optimizer, lr=lr), progress=False)
    message = str(info.value)
    assert "diverged at step" in message
    assert f"learning rate {lr:g} is too high for {optimizer}" in message
    assert "--lr" in message


def test_nan_divergence_names_the_layer(digits):
    with pytest.raises(TrainingDivergedError, match=r"loss became nan.*first non-finite values are in layer \d's"):
        run(small(optimizer="sgd", lr=1e4), progress=False)


def test_mismatched_network_and_data_are_refused(digits):
    net = Network([784, 10])
    with pytest.raises(ValueError, match="takes 784 inputs .* make its first size 64"):
        fit(net, digits, TrainConfig(epochs=1), progress=False)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"activation": "relu6"}, "activation must be one of 'relu', 'leaky_relu', .*got 'relu6'"),
        ({"loss": "hinge"}, "loss must be one of 'cross_entropy', 'mse'; got 'hinge'"),
        ({"init": "orthogonal"}, "init must be one of 'he', 'xavier', 'normal'; got 'orthogonal'"),
        ({"dtype": "float16"}, "dtype must be one of 'float32', 'float64'; got 'float16'"),
        ({"l2": -1}, "l2 must be a number >= 0"),
        ({"sizes": [64]}, "sizes must list at least the input and output widths"),
    ],
)
def test_bad_network_settings_name_the_parameter(kwargs, match):
    kwargs = {"sizes": [64, 10], **kwargs}
    with pytest.raises(ValueError, match=match):
        Network(**kwargs)


@pytest.mark.parametrize(
    "kwargs,match",
    [({"epochs": 0}, "epochs must be a whole number >= 1"), ({"batch_size": 2.5}, "batch_size"),
     ({"optimizer": "lbfgs"}, "optimizer must be one of"), ({"lr": -1}, "lr")],
)
def test_bad_training_settings_name_the_parameter(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


def test_unknown_dataset_and_setting_are_refused():
    with pytest.raises(ValueError, match="dataset must be one of 'digits', 'mnist'; got 'cifar'"):
        Experiment(dataset="cifar")
    with pytest.raises(TypeError, match="no setting 'learning_rate'"):
        Experiment.preset("digits", learning_rate=0.1)


def test_save_and_load_give_the_same_predictions(tmp_path, digits):
    net = run(small(epochs=1), progress=False).net
    path = tmp_path / "model.npz"
    net.save(path)
    loaded = Network.load(path)
    assert loaded.config() == net.config()
    np.testing.assert_array_equal(loaded.predict_proba(digits.X_test), net.predict_proba(digits.X_test))


def test_loading_something_else_is_a_clear_error(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("not a model")
    with pytest.raises(ValueError, match="not a model saved by explainer"):
        Network.load(path)
    with pytest.raises(FileNotFoundError, match="no model file"):
        Network.load(tmp_path / "missing.npz")


def test_lr_decay_multiplies_the_learning_rate_every_epoch(tmp_path):
    from explainer.trace import Trace, TraceRecorder

    with TraceRecorder(tmp_path / "t.zarr", schedule="epochs") as recorder:
        run(small(lr=0.01, lr_decay=0.5, hidden=(8,)), recorder=recorder, progress=False)
    trace = Trace.open(tmp_path / "t.zarr")
    lr, epoch = trace.scalars["lr"], trace.scalars["epoch"]
    for e in range(3):
        assert np.all(lr[epoch == e] == np.float32(0.01 * 0.5**e))
    with pytest.raises(ValueError, match=r"lr_decay must be a number in \(0, 1\]"):
        TrainConfig(lr_decay=1.5)


def test_training_a_trained_network_further_is_not_divergence(digits):
    # its first batch loss is tiny; an epoch's mean a little above it is healthy
    # (each fit starts a fresh Adam, whose first steps are large: accuracy wobbles)
    net = Network([64, 64, 10], seed=0)
    for seed in range(8):
        history = fit(net, digits, TrainConfig(epochs=1, seed=seed), progress=False)
    assert history.test_accuracy > 0.85
