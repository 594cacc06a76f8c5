"""The course's exercises: checked against the run's own numbers, and one weight's loss curve is the network's."""

import numpy as np
import pytest

from explainer import Experiment, run
from explainer.course import OneWeight, check, digit_loss, less_sure_probe
from explainer.trace import Trace, TraceRecorder


@pytest.fixture(scope="module")
def trace(tmp_path_factory):
    path = tmp_path_factory.mktemp("course") / "run.zarr"
    with TraceRecorder(path, n_probe=12) as recorder:
        run(Experiment.preset("digits", hidden=(16,), epochs=3), recorder=recorder, progress=False)
    return Trace.open(path)


def test_check_tells_right_wrong_and_unanswered_without_giving_the_number_away(capsys):
    assert check(1.2345, 1.2346, "z").right is True
    wrong = check(2.5, 1.2346, "z", hint="add the bias")
    assert wrong.right is False and "1.2346" not in wrong.message and "Hint: add the bias" in wrong.message
    assert check(..., 1.0, "z").right is None
    assert check(np.float32(3.0), 3.0, "a").right is True  # a NumPy number is a number
    assert check(np.array([1.0, 2.0]), 1.0, "z").right is False  # an array is not one number
    printed = capsys.readouterr().out.splitlines()
    assert [line[0] for line in printed] == ["✓", "✗", "…", "✓", "✗"]


def test_digit_loss_is_minus_log_of_the_true_digits_recorded_probability(trace):
    step = int(trace.snapshot_steps[-1])
    p = trace.probe_record(step).probabilities  # (n_probe, 10)
    for sample, label in enumerate(trace.probe_labels):
        assert digit_loss(trace, step, sample) == pytest.approx(-np.log(p[sample, int(label)]), rel=1e-6)


def test_the_less_sure_probe_is_read_right_and_not_the_surest(trace):
    step = int(trace.snapshot_steps[-1])
    p = trace.probe_record(step).probabilities
    labels = np.asarray(trace.probe_labels)
    sample = less_sure_probe(trace, step)
    assert p[sample].argmax() == labels[sample]
    right = np.flatnonzero(p.argmax(axis=1) == labels)
    assert p[sample, labels[sample]] < p[right, labels[right]].max()


def test_one_weights_slope_is_the_backward_pass_and_matches_central_differences(trace):
    step = int(trace.snapshot_steps[-1])
    one = OneWeight(trace, step, sample=2)
    net = trace.network(step)
    assert one.layer == 2 and one.row == int(trace.probe_labels[2])
    assert one.trained == float(net.weighted[1].W[one.row, one.col])
    for w in (one.trained, one.trained + 1.5, one.trained - 2.0):
        h = 1e-2  # float32 network: a wide step keeps rounding out of the difference
        central = (one.loss(w + h) - one.loss(w - h)) / (2 * h)
        assert one.gradient(w) == pytest.approx(central, rel=2e-2, abs=1e-4)
    assert one.loss(one.trained) == pytest.approx(
        net.loss(net.forward(np.asarray(trace.probe_x, dtype=np.float32)), net.one_hot(trace.probe_labels)), rel=1e-6)
    # the weight is put back after every evaluation
    assert float(one.net.weighted[1].W[one.row, one.col]) == one.trained


def test_gradient_descent_on_one_weight_goes_downhill_with_a_small_rate(trace):
    one = OneWeight(trace, int(trace.snapshot_steps[-1]))
    path = one.descend(one.trained + 2, lr=0.5, steps=6)
    assert path[1] == pytest.approx(path[0] - 0.5 * one.gradient(path[0]))
    losses = [one.loss(w) for w in path]
    assert all(b <= a + 1e-7 for a, b in zip(losses, losses[1:]))


def test_a_weight_outside_the_layer_is_one_clear_error(trace):
    with pytest.raises(ValueError, match=r"W\^2 has 10 rows and 16 columns; got \(10, 0\)"):
        OneWeight(trace, 0, layer=2, row=10, col=0)
    with pytest.raises(ValueError, match="layer must be 1 to 2"):
        OneWeight(trace, 0, layer=3)


def test_a_verdict_is_shown_once_in_a_notebook(capsys):
    """check() prints the message; a cell ending in check(...) must not show it a second time as its result."""
    from IPython.core.interactiveshell import InteractiveShell

    from explainer.course import check

    shell = InteractiveShell.instance()
    result = shell.run_cell("from explainer.course import check\ncheck(3.0, 2.0, 'z')")
    out = capsys.readouterr().out
    assert out.count("✗ z:") == 1, out
    assert result.result.right is False
    assert check(2.0, 2.0, "z").right
