"""The formulas a scene writes are the run's own, and its numbers are the trace's.

Each optimiser (with a learning-rate decay) and each pair of output activation
and loss gets a tiny real run, recorded at every step. The update written on
screen, rebuilt from the numbers it shows, must replay the run's weights; the
output error written on screen must give the recorded delta; and what Backprop
draws (this digit's delta and gradient share, the batch's gradient, the loss
before and after) must be the trace's.
"""

import importlib
import sys

import numpy as np
import pytest
from manim import MathTex

from explainer import Experiment, run
from explainer.chapters.backprop import backprop_story, default_step
from explainer.formulas import formulas_of
from explainer.losses import LOSSES, OutputDelta, get_loss
from explainer.trace import Trace, TraceRecorder

OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")
LR = {"sgd": 0.1, "momentum": 0.05, "rmsprop": 0.003, "adam": 0.003}
PAIRS = (("softmax", "cross_entropy"), ("sigmoid", "cross_entropy"), ("softmax", "mse"), ("sigmoid", "mse"),
         ("identity", "mse"))


def record(path, **settings):
    """A tiny real run recorded at every step: 3 epochs of 5 steps on the 8x8 digits."""
    settings = {"hidden": (6,), "epochs": 3, "batch_size": 256, **settings}
    with TraceRecorder(path, schedule="every:1", n_probe=8) as recorder:
        run(Experiment.preset("digits", **settings), recorder=recorder, progress=False)
    return Trace.open(path)


@pytest.fixture(scope="module", params=OPTIMIZERS)
def optimizer_run(request, tmp_path_factory):
    name = request.param
    path = tmp_path_factory.mktemp(name) / "run.zarr"
    return name, record(path, optimizer=name, lr=LR[name], lr_decay=0.5, l2=1e-3)


@pytest.fixture(scope="module", params=PAIRS, ids=lambda p: "-".join(p))
def pair_run(request, tmp_path_factory):
    output, loss = request.param
    path = tmp_path_factory.mktemp(f"{output}-{loss}") / "run.zarr"
    return output, loss, record(path, output=output, loss=loss, optimizer="sgd", lr=0.1, epochs=1)


def test_the_update_on_screen_replays_the_run(optimizer_run):
    """An optimiser built from the numbers written on screen (eta at each step, after the decay; the betas;
    epsilon; t) and fed the recorded batch gradients gives the recorded weights of every next step."""
    name, trace = optimizer_run
    shown = formulas_of(trace, 0).optimizer()
    for step in range(trace.n_steps - 1):
        f = formulas_of(trace, step)
        shown.lr = f.lr
        params = [p.copy() for pair in trace.weights(step, exact=True) for p in pair]
        grads = [g for pair in trace.gradients(step, exact=True) for g in pair]
        if step == 0:
            replayed = params
        else:
            for mine, theirs in zip(replayed, params):  # the replay never drifts from the run
                np.testing.assert_array_equal(mine, theirs)
        shown.update(replayed, grads)
    after = [p for pair in trace.weights(trace.n_steps - 1, exact=True) for p in pair]
    for mine, theirs in zip(replayed, after):
        np.testing.assert_array_equal(mine, theirs)


def test_the_update_on_screen_writes_the_runs_numbers(optimizer_run):
    name, trace = optimizer_run
    late = trace.n_steps - 1  # the third epoch: eta = lr * 0.5 ** 2
    f = formulas_of(trace, late)
    assert f.lr == pytest.approx(LR[name] * 0.25) and f.optimizer_name == name
    numbers = " ".join(f.update)
    assert rf"\eta = {f.lr:g}" in numbers
    assert (r"\hat m" in numbers) == (name == "adam") and (r"\beta_1 = 0.9" in numbers) == (name == "adam")
    assert (rf"t = {late + 1}" in numbers) == (name == "adam")  # Adam's t counts updates from 1
    assert (r"\rho = 0.9" in numbers) == (name == "rmsprop")
    assert (r"\beta = 0.9" in numbers) == (name == "momentum")
    assert (r"W \leftarrow W - \eta\, g" in f.update) == (name == "sgd")  # the plain step only for SGD
    assert r"0.25" not in f.learning_rate and r"0.5}^{2}" not in f.learning_rate  # the decay, written as it is:
    assert rf"{LR[name]:g} \times 0.5^{{2}}" in f.learning_rate and "epoch 3" in f.learning_rate
    assert r"0.001\, W^{l}" in f.weight_gradient and r"\frac{0.001}{2}" in f.cost  # the l2 penalty, as run
    for tex in (*f.update, f.learning_rate, f.weight_gradient, f.cost):
        MathTex(tex)  # every line is LaTeX that compiles


def test_the_output_error_on_screen_gives_the_recorded_delta(pair_run):
    output, loss, trace = pair_run
    f = formulas_of(trace, 0)
    shortcut = get_loss(loss).output_delta.get(output)
    if shortcut:
        assert f.output_delta == rf"\delta^{{L}} = {shortcut.tex}"
    else:  # the chain rule through the output activation, with its own f'
        assert "f'(z^{L})" in f.output_delta or output == "softmax"
    assert (r"\log" in f.loss) == (loss == "cross_entropy") and (r"\lVert" in f.loss) == (loss == "mse")
    assert (f.output_delta == r"\delta^{L} = a^{L} - y") == ((output, loss) == ("softmax", "cross_entropy"))
    story = backprop_story(trace, 2, 0)
    assert story.untruthful == ""  # the formula, applied to the recorded z, a and y, gives the recorded delta
    MathTex(f.output_delta)
    MathTex(f.loss)


def test_a_mse_run_is_not_drawn_with_a_minus_y(tmp_path):
    """The issue's case: with --loss mse, delta^L is not a - y (the recorded delta differs from it)."""
    trace = record(tmp_path / "mse.zarr", loss="mse", optimizer="sgd", lr=0.1, epochs=1)
    story = backprop_story(trace, 0, 0)
    assert not np.allclose(story.delta[-1], story.a[-1] - story.y, atol=1e-3)
    assert r"a^{L} - y" != formulas_of(trace, 0).output_delta.split("= ", 1)[1]
    assert story.loss == pytest.approx(0.5 * np.sum((story.a[-1] - story.y) ** 2), rel=1e-5)


def test_a_formula_that_does_not_fit_the_numbers_is_said_in_one_line(pair_run, monkeypatch):
    output, loss, trace = pair_run
    if (output, loss) != ("softmax", "cross_entropy"):
        pytest.skip("one pair is enough")
    wrong = LOSSES["cross_entropy"]._replace(output_delta={"softmax": OutputDelta(lambda z, a, y: a, "a^{L}")})
    monkeypatch.setitem(LOSSES, "cross_entropy", wrong)  # as if the trace had been recorded with another rule
    story = backprop_story(trace, 1, 0)
    assert "is not softmax with cross_entropy's delta" in story.untruthful and "\n" not in story.untruthful


def test_what_backprop_draws_is_the_trace(optimizer_run):
    name, trace = optimizer_run
    step = 3
    story = backprop_story(trace, 1, step)
    record, net = trace.probe_record(step, exact=True), trace.network(step, exact=True)
    x, label = trace.probe_x[1], int(trace.probe_labels[1])
    np.testing.assert_array_equal(story.x, x)
    for layer in range(trace.n_layers):
        np.testing.assert_array_equal(story.delta[layer], record.delta[layer][1])
        a_prev = x if layer == 0 else record.a[layer - 1][1]
        np.testing.assert_allclose(story.digit_dW[layer], np.outer(record.delta[layer][1], a_prev), rtol=1e-6)
        np.testing.assert_array_equal(story.batch_dW[layer], trace.gradients(step, exact=True)[layer][0])
    # this digit's loss (without the weight penalty), from an independent forward pass with the snapshot's weights
    y = net.one_hot(np.array([label]))
    ce = get_loss(trace.run.loss)
    assert story.loss == pytest.approx(ce.value(net.forward(x[None]), y), rel=1e-5)
    assert story.after.step == step + 1 and story.after.updates == 1
    later = trace.network(step + 1, exact=True)
    assert story.after.loss == pytest.approx(ce.value(later.forward(x[None]), y), rel=1e-5)


def test_backprop_defaults_to_a_step_whose_next_step_has_a_snapshot(optimizer_run):
    _, trace = optimizer_run
    step = default_step(trace)
    assert step + 1 in trace.snapshot_steps.tolist() and step <= max(1, 0.02 * trace.n_steps) + 1


def test_backprop_writes_the_runs_formulas_legibly(optimizer_run, monkeypatch, tmp_path):
    """Every phase of the scene: the run's update lines on screen, no text under 12 px at 480p, nothing cut off."""
    from manim import MathTex as Tex
    from scene_check import cut_off, phases, small_texts

    name, trace = optimizer_run
    if name not in ("momentum", "adam"):
        pytest.skip("the longest updates are enough (each run of the scene takes a minute)")
    sys.path.insert(0, ".")
    scene = importlib.import_module("scenes.backprop").Backprop
    shots = phases(scene, monkeypatch, tmp_path, EXPLAINER_TRACE=trace.path, EXPLAINER_SAMPLE=1, EXPLAINER_STEP=10)
    for shot in shots:
        assert not small_texts(shot.mobjects), shot.name
        assert not cut_off(shot.mobjects), shot.name
    on_screen = {m.tex_string for shot in shots[-2:] for top in shot.mobjects for m in top.get_family()
                 if isinstance(m, Tex)}
    f = formulas_of(trace, 10)
    assert set(f.update) <= on_screen and f.learning_rate in on_screen  # the decay makes eta: written out
    assert f.output_delta in {m.tex_string for top in shots[1].mobjects for m in top.get_family() if isinstance(m, Tex)}
    written = {m.tex_string for shot in shots for top in shot.mobjects for m in top.get_family() if isinstance(m, Tex)}
    mean = f.weight_gradient.removesuffix(f.penalty_gradient)
    assert f.penalty_gradient and {"g = " + mean, "{}" + f.penalty_gradient} <= written  # g, as run
