"""Each optimiser's first two updates, computed by hand.

One parameter w = [1.0, -2.0] and the gradients g1 = [0.5, -1.0] then
g2 = [0.25, 0.5]; lr = 0.1 throughout. The arithmetic is in the comments.
"""

import numpy as np
import pytest

from explainer import Experiment, TrainConfig, run
from explainer.optimizers import OPTIMIZERS, default_lr, lr_advice, make_optimizer

G1, G2 = np.array([0.5, -1.0]), np.array([0.25, 0.5])


def two_steps(name, **options):
    w = np.array([1.0, -2.0])
    opt = make_optimizer(name, 0.1, **options)
    u1 = opt.update([w], [G1])[0].copy()
    w1 = w.copy()
    u2 = opt.update([w], [G2])[0].copy()
    return w1, w, u1, u2


def test_sgd():
    # w1 = w - 0.1 g1 = [1 - 0.05, -2 + 0.1] = [0.95, -1.9]
    # w2 = w1 - 0.1 g2 = [0.95 - 0.025, -1.9 - 0.05] = [0.925, -1.95]
    w1, w2, u1, u2 = two_steps("sgd")
    np.testing.assert_allclose(w1, [0.95, -1.9])
    np.testing.assert_allclose(w2, [0.925, -1.95])
    np.testing.assert_allclose(u2, w2 - w1)


def test_momentum():
    # v1 = 0.9*0 - 0.1 g1 = [-0.05, 0.1];            w1 = [0.95, -1.9]
    # v2 = 0.9 v1 - 0.1 g2 = [-0.045 - 0.025, 0.09 - 0.05] = [-0.07, 0.04]
    # w2 = w1 + v2 = [0.88, -1.86]
    w1, w2, u1, u2 = two_steps("momentum", beta=0.9)
    np.testing.assert_allclose(w1, [0.95, -1.9])
    np.testing.assert_allclose(w2, [0.88, -1.86])
    np.testing.assert_allclose(u2, [-0.07, 0.04])


def test_rmsprop():
    # s1 = 0.1 g1^2 = [0.025, 0.1]
    # w1 = w - 0.1 g1 / sqrt(s1) = [1 - 0.05/0.158114, -2 + 0.1/0.316228] = [0.683772, -1.683772]
    # s2 = 0.9 s1 + 0.1 g2^2 = [0.0225 + 0.00625, 0.09 + 0.025] = [0.02875, 0.115]
    # w2 = w1 - 0.1 g2 / sqrt(s2) = [0.683772 - 0.025/0.169558, -1.683772 - 0.05/0.339116]
    #    = [0.536330, -1.831214]
    w1, w2, u1, u2 = two_steps("rmsprop", rho=0.9, eps=0.0)
    np.testing.assert_allclose(w1, [0.683772, -1.683772], atol=1e-6)
    np.testing.assert_allclose(w2, [0.536330, -1.831214], atol=1e-6)


def test_adam():
    # t=1: m1 = 0.1 g1 = [0.05, -0.1]; v1 = 0.001 g1^2 = [0.00025, 0.001]
    #      m_hat = m1 / 0.1 = g1; v_hat = v1 / 0.001 = g1^2
    #      w1 = w - 0.1 g1 / |g1| = w - 0.1 sign(g1) = [0.9, -1.9]
    # t=2: m2 = 0.9 m1 + 0.1 g2 = [0.045 + 0.025, -0.09 + 0.05] = [0.07, -0.04]
    #      v2 = 0.999 v1 + 0.001 g2^2 = [0.00024975 + 0.0000625, 0.000999 + 0.00025]
    #         = [0.00031225, 0.001249]
    #      m_hat = m2 / 0.19 = [0.368421, -0.210526]
    #      v_hat = v2 / 0.001999 = [0.156203, 0.624812]; sqrt = [0.395225, 0.790451]
    #      w2 = w1 - 0.1 m_hat / sqrt(v_hat) = [0.9 - 0.093218, -1.9 + 0.026634]
    #         = [0.806782, -1.873366]
    w1, w2, u1, u2 = two_steps("adam", beta1=0.9, beta2=0.999, eps=0.0)
    np.testing.assert_allclose(w1, [0.9, -1.9], atol=1e-6)
    np.testing.assert_allclose(w2, [0.806782, -1.873366], atol=1e-6)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_updates_are_new_minus_old_and_keep_dtype(name):
    w = np.array([1.0, -2.0, 3.0], dtype=np.float32)
    opt = make_optimizer(name, 0.01)
    for g in (np.float32([0.1, 0.2, -0.3]), np.float32([0.3, -0.1, 0.2])):
        before = w.copy()
        (update,) = opt.update([w], [g])
        assert w.dtype == np.float32 and update.dtype == np.float32
        np.testing.assert_allclose(update, w - before, atol=1e-6)  # float32 subtraction rounds


@pytest.mark.parametrize("bad", [0, -1e-3, float("nan"), float("inf"), "fast"])
def test_bad_learning_rate_is_refused_with_its_name(bad):
    with pytest.raises(ValueError, match="lr"):
        make_optimizer("sgd", bad)


def test_unknown_optimizer_lists_the_choices():
    with pytest.raises(ValueError, match=r"optimizer must be one of 'sgd', 'momentum', 'rmsprop', 'adam'; got 'adamw'"):
        make_optimizer("adamw", 0.1)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_subnormal_values_are_flushed_to_zero_every_100_steps(name):
    # a subnormal weight and zero gradients: arithmetic on subnormals is slow on x86
    tiny = np.finfo(np.float32).tiny
    w = np.array([tiny / 4, 1.0], dtype=np.float32)
    opt = make_optimizer(name, 1e-3)
    for _ in range(99):
        opt.update([w], [np.zeros(2, np.float32)])
    assert w[0] != 0
    opt.update([w], [np.zeros(2, np.float32)])
    assert w[0] == 0 and w[1] == 1.0
    for state in opt._slots():
        assert not np.any((state != 0) & (np.abs(state) < tiny))


# -- each optimizer's own learning rate ------------------------------------------------


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_each_default_learning_rate_lies_in_its_own_usual_range(name):
    low, high = OPTIMIZERS[name].usual_lr
    assert low <= default_lr(name) <= high
    assert lr_advice(name, default_lr(name)) is None


def test_plain_steps_default_to_a_rate_a_hundred_times_adams():
    assert default_lr("sgd") == 100 * default_lr("adam")
    assert TrainConfig(optimizer="sgd").lr == default_lr("sgd")
    assert Experiment(optimizer="momentum").lr == default_lr("momentum")


def test_choosing_another_optimizer_takes_its_default_rate_not_the_presets():
    # the issue: --optimizer sgd silently kept Adam's 0.001 and a sigmoid network ended at 21.7%
    assert Experiment.preset("digits").lr == default_lr("adam")
    assert Experiment.preset("digits", optimizer="sgd").lr == default_lr("sgd")
    assert Experiment.preset("mnist", optimizer="sgd", lr=0.02).lr == 0.02  # a rate given is kept


def test_sgd_with_its_own_default_trains_a_sigmoid_network():
    # the preset's 30 epochs: with Adam's 0.001 this network ended at 21.7%, with sgd's own 0.1 at 88%
    new = run(Experiment.preset("digits", activation="sigmoid", optimizer="sgd"), progress=False)
    old = run(Experiment.preset("digits", activation="sigmoid", optimizer="sgd", lr=1e-3), progress=False)
    assert new.history.test_accuracy > 0.85 > 0.3 > old.history.test_accuracy


@pytest.mark.parametrize("name,lr,words", [("sgd", 0.001, "learn very slowly"), ("adam", 0.5, "diverge"),
                                          ("momentum", 5.0, "diverge")])
def test_a_rate_far_from_the_usual_one_is_named_with_what_may_happen(name, lr, words):
    low, high = OPTIMIZERS[name].usual_lr
    advice = lr_advice(name, lr)
    assert advice.startswith(f"{name} usually needs a learning rate from {low:g} to {high:g}")
    assert f"with {lr:g} it may {words}" in advice
