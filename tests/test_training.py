"""Training on the real 8x8 digits: it learns, it repeats to the bit, it stops clearly."""

import numpy as np
import pytest

from explainer import OPTIMIZERS, Experiment, Network, TrainConfig, TrainingDivergedError, fit, run
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


@pytest.mark.parametrize("optimizer,lr", [("sgd", 1e4), ("sgd", 100.0), ("sgd", 3.0), ("adam", 1e3)])
def test_a_diverging_learning_rate_stops_with_advice(optimizer, lr):
    with pytest.raises(TrainingDivergedError) as info:
        run(small(optimizer=optimizer, lr=lr), progress=False)
    message = str(info.value)
    assert "diverged at step" in message
    low, high = OPTIMIZERS[optimizer].usual_lr
    assert f"learning rate {lr:g} is too high for {optimizer}, which usually works with {low:g} to {high:g}" in message
    # the rate it suggests is smaller and inside the range it names (the hint once said "0.01 to 0.5", then "2")
    suggested = float(message.rsplit("such as ", 1)[1].rstrip("."))
    assert suggested < lr and low <= suggested <= high


def test_nan_divergence_names_the_layer(digits):
    with pytest.raises(TrainingDivergedError, match=r"loss became nan.*first non-finite values are in layer \d's"):
        # without L2: the penalty of blown-up weights would make the loss inf before it is nan
        run(small(optimizer="sgd", lr=1e4, l2=0), progress=False)


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


# -- the stepwise loop (Trainer): the same run, taken in pieces ----------------


def _trace_bytes(trace):
    """Every recorded number of a trace except wall-clock times, as bytes per array."""
    from explainer.trace import Trace

    trace = Trace.open(trace)
    arrays = {f"steps/{k}": v for k, v in trace.scalars.items()}
    arrays.update({f"epochs/{k}": v for k, v in trace.epochs.items() if k != "seconds"})
    arrays["snapshots/step"] = trace.snapshot_steps
    for s in trace.snapshot_steps:
        snap = trace.snapshot(int(s), exact=True)
        for i in range(trace.n_layers):
            for name in ("W", "b", "dW", "db"):
                arrays[f"{s}/{name}{i}"] = getattr(snap, name)[i]
            for name in ("z", "a", "delta"):
                arrays[f"{s}/probe_{name}{i}"] = getattr(snap.probe, name)[i]
    arrays["confusion"] = trace.evaluation.confusion
    arrays["confidence"] = trace.evaluation.confidence
    return {k: np.ascontiguousarray(v).tobytes() for k, v in arrays.items()}


def test_a_run_taken_in_pieces_with_pauses_equals_fit_to_the_bit(tmp_path, digits):
    from explainer import Trainer
    from explainer.trace import Trace, TraceRecorder

    experiment = small(hidden=(16,), epochs=3, batch_size=50, seed=5)  # 26 steps per epoch, the last of 8 samples
    config = experiment.train_config()
    with TraceRecorder(tmp_path / "fit.zarr") as recorder:
        net_fit = experiment.network(64, 10)
        history_fit = fit(net_fit, digits, config, recorder=recorder, progress=False)

    net = experiment.network(64, 10)
    recorder = TraceRecorder(tmp_path / "pieces.zarr")
    with Trainer(net, digits, config, recorder=recorder) as trainer:
        assert trainer.total_steps == 78 and trainer.steps_per_epoch == 26
        scalars = trainer.step()
        assert set(scalars) == {"epoch", "loss", "accuracy", "lr"} and trainer.steps == 1
        for _ in range(4):
            trainer.step()
        assert trainer.run(10) == 10 and trainer.steps == 15
        recorder.flush()  # a pause: what the live dashboard does; the trace opens mid-run
        assert Trace.open(tmp_path / "pieces.zarr").n_steps == 15
        assert trainer.optimizer.t == 15  # Adam's step count survived the pause
        metrics = trainer.epoch()  # to the end of epoch 1
        assert trainer.steps == 26 and trainer.at_epoch_start and metrics["epoch"] == 0
        trainer.epoch()  # a whole epoch
        assert trainer.run(10**6) == 26 and trainer.done  # run stops at the end
        history = trainer.finish()

    for a, b in zip(net.params, net_fit.params):
        assert a.tobytes() == b.tobytes()
    assert history.test_accuracy == history_fit.test_accuracy and history.steps == history_fit.steps == 78
    assert [{k: v for k, v in e.items() if k != "seconds"} for e in history.epochs] == \
           [{k: v for k, v in e.items() if k != "seconds"} for e in history_fit.epochs]
    assert _trace_bytes(tmp_path / "pieces.zarr") == _trace_bytes(tmp_path / "fit.zarr")


class _CallLog:
    """A recorder that writes down which of its methods were called, in order."""

    def __init__(self):
        self.calls = []

    def start(self, *, config, net, data, total_steps, steps_per_epoch):
        self.calls.append(("start", total_steps, steps_per_epoch))

    def wants_snapshot(self, step):
        return step % 7 == 0

    def record_snapshot(self, step, net):
        self.calls.append(("snapshot", step))

    def record_step(self, step, net, scalars, updates):
        self.calls.append(("step", step, scalars["epoch"]))

    def record_epoch(self, epoch, step, metrics):
        self.calls.append(("epoch", epoch, step))

    def finish(self, evaluation):
        self.calls.append(("finish",))

    def close(self):
        self.calls.append(("close",))


def test_the_recorder_is_called_in_the_documented_order_by_fit_and_by_trainer(digits):
    from explainer import Trainer

    config = TrainConfig(epochs=2, batch_size=300)  # 5 steps per epoch
    by_fit = _CallLog()
    fit(Network([64, 8, 10], seed=0), digits, config, recorder=by_fit, progress=False)
    by_trainer = _CallLog()
    trainer = Trainer(Network([64, 8, 10], seed=0), digits, config, recorder=by_trainer)
    trainer.step()
    trainer.run(6)
    trainer.run()
    trainer.finish()
    trainer.close()  # a second close after finish's is harmless
    expected = [("start", 10, 5)]
    for s in range(10):
        expected += [("snapshot", s)] * (s % 7 == 0) + [("step", s, s // 5)]
        if s % 5 == 4:
            expected.append(("epoch", s // 5, s + 1))
    expected += [("finish",), ("close",)]
    assert by_fit.calls == expected
    assert by_trainer.calls == expected  # the recorder is closed once


def test_a_trainer_refuses_what_does_not_make_sense(digits):
    from explainer import Trainer

    trainer = Trainer(Network([64, 8, 10], seed=0), digits, TrainConfig(epochs=1, batch_size=400))
    trainer.step()
    with pytest.raises(RuntimeError, match="3 of the run's 4 steps are still to take"):
        trainer.finish()
    with pytest.raises(ValueError, match="n_steps must be a whole number >= 0; got -1"):
        trainer.run(-1)
    assert trainer.run() == 3 and trainer.remaining == 0
    with pytest.raises(RuntimeError, match="all 4 steps of this run have been taken: call finish()"):
        trainer.step()
    history = trainer.finish()
    assert trainer.finish() is history and history.confusion.sum() == len(digits.y_test)


def test_a_diverged_trainer_says_why_and_stops(digits):
    from explainer import Trainer

    experiment = small(optimizer="sgd", lr=1e4)
    with pytest.raises(TrainingDivergedError) as by_fit:
        fit(experiment.network(64, 10), digits, experiment.train_config(), progress=False)
    trainer = Trainer(experiment.network(64, 10), digits, experiment.train_config())
    with pytest.raises(TrainingDivergedError) as by_trainer:
        trainer.run()
    assert str(by_trainer.value) == str(by_fit.value)  # the same step, the same advice
    assert trainer.stopped == f"training diverged at step {trainer.steps}"
    with pytest.raises(RuntimeError, match="cannot go on: training diverged at step .* Start a new run"):
        trainer.step()
    with pytest.raises(RuntimeError, match="cannot be finished"):
        trainer.finish()
