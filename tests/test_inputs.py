"""Bad input to the API: a ValueError or TypeError that names the parameter, what is allowed and what was given."""

import numpy as np
import pytest

from explainer import Experiment, Network, TrainConfig
from explainer.activations import ACTIVATIONS


@pytest.mark.parametrize("seed", [-1, 2**32, 2**64, "abc", 1.5, True, None])
def test_a_bad_seed_names_seed(seed):
    for make in (lambda: Network([4, 3], seed=seed), lambda: TrainConfig(seed=seed),
                 lambda: Experiment(seed=seed)):
        with pytest.raises(ValueError, match=r"seed must be a whole number from 0 to 4294967295 .*got"):
            make()


def test_the_seed_range_is_what_numpy_and_scikit_learn_take():
    assert Network([4, 3], seed=2**32 - 1).seed == 2**32 - 1
    assert Network([4, 3], seed=np.int64(7)).config()["seed"] == 7
    assert Experiment(seed=2**32 - 1).seed == 2**32 - 1


def test_an_experiment_checks_every_setting_when_made():
    # before any data is loaded: the run is refused at once, not after loading MNIST
    with pytest.raises(ValueError, match="activation must be one of"):
        Experiment(activation="relu7")
    with pytest.raises(ValueError, match="epochs must be a whole number >= 1; got 0"):
        Experiment(epochs=0)
    with pytest.raises(ValueError, match="dtype must be one of"):
        Experiment(dtype="float16")


@pytest.mark.parametrize("shape,hint", [
    ((63,), None),
    ((64,), r"pass x\[None\] or x.reshape\(1, -1\)"),
    ((5, 63), None),
    ((5, 8, 8), r"x.reshape\(len\(x\), -1\)"),
    ((), None),
])
def test_forward_says_what_shape_it_takes(shape, hint):
    net = Network([64, 16, 10])
    message = rf"x must be a batch of shape \(batch, 64\), one row per image; got shape {re_shape(shape)}"
    with pytest.raises(ValueError, match=message + (".*" + hint if hint else "")):
        net.forward(np.zeros(shape))


def re_shape(shape):
    return str(shape).replace("(", r"\(").replace(")", r"\)")


def test_backward_before_forward_says_to_call_forward_first():
    net = Network([4, 3])
    with pytest.raises(RuntimeError, match=r"call net.forward\(x\) on the batch first"):
        net.backward(np.eye(3)[:2])


def test_backward_checks_the_targets_shape():
    net = Network([4, 3])
    net.forward(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"y must be one-hot targets of shape \(2, 3\).*net.one_hot\(labels\)"):
        net.backward(np.array([0, 1]))
    net.backward(net.one_hot(np.array([0, 1])))  # the right shape still works


def test_parse_hidden_is_the_one_rule():
    from explainer.experiment import parse_hidden

    assert parse_hidden("64,32") == (64, 32)
    assert parse_hidden(" 64 , 32 ") == (64, 32)
    assert parse_hidden("") == parse_hidden("none") == parse_hidden(" None ") == ()
    for bad in ("64,abc", "64,", "0", "-1", "1.5", "64;32", "²"):
        with pytest.raises(ValueError, match=f"--hidden takes widths separated by commas.*got {bad!r}"):
            parse_hidden(bad, name="--hidden")
    with pytest.raises(TypeError, match="hidden must be text"):
        parse_hidden(64)


def test_one_list_of_hidden_activations():
    from explainer.activations import HIDDEN_ACTIVATIONS

    assert HIDDEN_ACTIVATIONS == tuple(name for name in ACTIVATIONS if name != "softmax")
    from explainer.cli import build_parser

    train = build_parser()._subparsers._group_actions[0].choices["train"]
    activation = next(a for a in train._actions if a.dest == "activation")
    assert tuple(activation.choices) == HIDDEN_ACTIVATIONS
