"""OneNeuron: the products of one unit's weights and the digit's pixels add up, with the bias, to the
recorded z; the point on the activation's graph is the recorded (z, a); the layer's parameter count is
its own; the formulas are the run's; every phase is legible on an 8x8 and a 28x28 trace."""

import hashlib

import numpy as np
import pytest
from scene_check import cut_off, phases, small_texts, texts

from explainer import Experiment, run
from explainer.activations import ACTIVATIONS
from explainer.chapters.neuron import check_index, neuron_story, number_window
from explainer.data import mnist
from explainer.data.idx import write_idx
from explainer.trace import TraceRecorder, open_trace


def record(path, experiment, **kwargs):
    with TraceRecorder(path, schedule="every:10", n_probe=10) as recorder:
        run(experiment, recorder=recorder, progress=False, **kwargs)
    return open_trace(path)


@pytest.fixture(scope="module")
def relu_trace(tmp_path_factory):
    return record(tmp_path_factory.mktemp("neuron") / "relu.zarr", Experiment.preset("digits", hidden=(6,), epochs=1))


@pytest.fixture(scope="module")
def sigmoid_trace(tmp_path_factory):
    return record(tmp_path_factory.mktemp("neuron") / "sigmoid.zarr",
                  Experiment.preset("digits", hidden=(6,), epochs=1, activation="sigmoid", optimizer="sgd", lr=0.1))


@pytest.fixture(scope="module")
def wide_trace(tmp_path_factory):
    """A 28x28 trace from a few made-up MNIST digits (strokes on blank paper): 784 inputs, as MNIST has."""
    folder = tmp_path_factory.mktemp("mnist")
    images = {}
    for prefix, n in (("train", 120), ("t10k", 20)):
        x = np.zeros((n, 28, 28), np.uint8)
        for i in range(n):  # a vertical and a slanted stroke, anti-aliased at their edges
            c = 8 + i % 12
            x[i, 5:23, c : c + 3] = 255
            x[i, 5:23, c - 1] = x[i, 5:23, c + 3] = 90
            x[i, np.arange(5, 23), np.clip(np.arange(5, 23) - 2 + i % 5, 0, 27)] = 200
        images[f"{prefix}-images-idx3-ubyte"] = x
        images[f"{prefix}-labels-idx1-ubyte"] = (np.arange(n) % 10).astype(np.uint8)
    with pytest.MonkeyPatch.context() as patch:
        for name, array in images.items():
            write_idx(folder / name, array)
            data = (folder / name).read_bytes()
            patch.setitem(mnist.MNIST_FILES, name, (hashlib.sha256(data).hexdigest(), len(data)))
        return record(folder / "wide.zarr", Experiment.preset("mnist", hidden=(12,), epochs=1, batch_size=16),
                      data_dir=folder, download=False)


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return tmp_path_factory.mktemp("media")  # one LaTeX cache for the module's scenes


def last(trace):
    return int(trace.snapshot_steps[-1])


@pytest.mark.parametrize("name", ["relu_trace", "sigmoid_trace", "wide_trace"])
def test_the_products_and_the_bias_add_up_to_the_recorded_z(name, request):
    trace = request.getfixturevalue(name)
    step = last(trace)
    rec, (W, b) = trace.probe_record(step), trace.weights(step)[0]
    for sample in (0, 3, 7):
        for unit in (None, 0, W.shape[0] - 1):
            story = neuron_story(trace, sample, step, unit)
            j = story.unit
            if unit is None:  # by default the unit this digit drives hardest
                assert j == int(np.argmax(rec.z[0][sample]))
            np.testing.assert_array_equal(story.products, W[j].astype(np.float64) * trace.probe_x[sample])
            np.testing.assert_allclose(story.running, np.cumsum(story.products))  # added in reading order
            assert story.b == float(b[j])
            assert story.total == pytest.approx(float(rec.z[0][sample, j]), rel=1e-5, abs=1e-5)
            assert story.z == float(rec.z[0][sample, j])


@pytest.mark.parametrize("name", ["relu_trace", "sigmoid_trace"])
def test_the_point_on_the_graph_is_the_recorded_activation(name, request):
    trace = request.getfixturevalue(name)
    step = last(trace)
    rec = trace.probe_record(step)
    activation = trace.run.activations[0]
    for sample in range(4):
        story = neuron_story(trace, sample, step)
        assert story.a == float(rec.a[0][sample, story.unit])
        assert story.activation == activation
        assert story.f_tex == ACTIVATIONS[activation].tex  # the run's f, not another's
        zs, fs = story.curve
        assert zs[0] <= story.z <= zs[-1]  # the point is on the plotted part
        assert np.interp(story.z, zs, fs) == pytest.approx(story.a, abs=2e-3)  # and on the curve


def test_the_parameter_count_is_the_layers(relu_trace, wide_trace):
    for trace, n_in in ((relu_trace, 64), (wide_trace, 784)):
        story = neuron_story(trace, 0, last(trace))
        W, b = trace.weights(last(trace))[0]
        assert (story.n_out, story.n_in) == W.shape and story.n_in == n_in
        assert story.n_params == W.size + b.size == story.n_out * n_in + story.n_out
        np.testing.assert_array_equal(story.W, W)


def test_the_numbers_written_out_are_the_whole_8x8_image_or_a_7x7_square_of_a_28x28_one():
    assert number_window(np.zeros((8, 8))) == (0, 0, 8)
    image = np.zeros((28, 28))
    image[10:14, 16:20] = 1.0  # a blot: the 7x7 squares that cut through its edge vary the most
    r, c, size = number_window(image)
    assert size == 7 and 10 - 6 <= r <= 13 and 16 - 6 <= c <= 19
    square = image[r : r + 7, c : c + 7]
    assert 0 < square.sum() < 49  # ink and paper both


def test_a_unit_is_checked():
    assert check_index("3", 6, "EXPLAINER_UNIT", "a unit of layer 1") == 3
    for bad in ("6", "-1", "x", "2.5"):
        with pytest.raises(ValueError, match=r"EXPLAINER_UNIT must be a unit of layer 1: a whole number from 0 to 5; "
                                             rf"got '{bad}'"):
            check_index(bad, 6, "EXPLAINER_UNIT", "a unit of layer 1")


def test_a_bad_unit_stops_the_scene_in_one_line(relu_trace, monkeypatch, capsys):
    from explainer.scenes.one_neuron import chosen_unit

    monkeypatch.setenv("EXPLAINER_UNIT", "6")
    with pytest.raises(SystemExit) as stop:
        chosen_unit(relu_trace)
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err == "explainer: error: EXPLAINER_UNIT must be a unit of layer 1: a whole number from 0 to 5; got '6'"
    monkeypatch.setenv("EXPLAINER_UNIT", "4")
    assert chosen_unit(relu_trace) == 4


def tex_strings(shot):
    return [what for what, _ in texts(shot.mobjects)]


def assert_every_phase_has_notes(shots):
    """Each phase's speaker notes: a few sentences (at least 60 characters, at most about 600), plain Markdown
    with Unicode math: no LaTeX backslash, no underscore (Markdown's emphasis)."""
    for shot in shots[:-1]:  # the "end" shot is the last phase's picture again
        assert 60 <= len(shot.notes) <= 650, (shot.name, len(shot.notes), shot.notes)
        assert "\\" not in shot.notes and "_" not in shot.notes, (shot.name, shot.notes)


@pytest.mark.parametrize("name", ["sigmoid_trace", "wide_trace"])
def test_every_phase_is_legible_with_legends_and_the_runs_numbers(name, request, monkeypatch, media):
    from explainer.scenes.one_neuron import OneNeuron

    trace = request.getfixturevalue(name)
    shots = phases(OneNeuron, monkeypatch, media, EXPLAINER_TRACE=trace.path, EXPLAINER_SAMPLE=2, EXPLAINER_UNIT=1)
    story = neuron_story(trace, 2, last(trace), 1)
    assert [s.name for s in shots] == ["phase 1", "phase 2", "phase 3", "phase 4", "phase 5", "phase 6", "end"]
    for shot in shots:
        assert not small_texts(shot.mobjects), shot.name
        assert not cut_off(shot.mobjects), shot.name
    said = [tex_strings(s) for s in shots]
    n = 64 if trace.image_shape == (8, 8) else 784
    assert any(f"{n} numbers" in t for t in said[0])
    if n == 784:  # too many to write: a square of them, and the screen says so
        assert any("too many to write; the 7x7 marked, written out" in t for t in said[0])
    for k in (1, 2, 5):  # the pictures coloured by sign have their legend
        assert any("red +, blue -" in t for t in said[k]), shots[k].name
    assert any(f"= {story.total:.3f}" in t for t in said[3])  # the products' sum plus b ...
    assert any(f"{story.z:.3f}" in t and "recorded" in t for t in said[3])  # ... is the recorded z
    assert any(story.f_tex in t for t in said[4])  # the run's f
    assert any(f"{story.a:.3f}" in t for t in said[4])
    assert any(f"{story.n_params:,}".replace(",", "{,}") in t for t in said[5])
    # the speaker notes say each phase's numbers as the screen writes them
    assert_every_phase_has_notes(shots)
    notes = [s.notes for s in shots]
    assert f"probe digit 2, a {story.label}" in notes[0] and f"{n} numbers" in notes[0]
    assert ("the 7x7 square marked" in notes[0]) == (n == 784)
    assert f"Unit 1 of layer 1 has {n} incoming weights" in notes[1]
    assert f"{story.weight_range:.2g}" in notes[1]  # the colour scale's ends, as its legend writes them
    assert f"{story.n_ink} pixels with ink" in notes[2] and f"= {story.weighted_sum:+.3f}" in notes[2]
    assert all(f"{story.products[i]:.3f}" in notes[2] for i in story.top[:3])  # the three outlined
    assert f"b = {story.b:.3f}" in notes[3] and f"= {story.total:.3f}" in notes[3]
    assert f"recorded when this digit went through the network at step {story.step}, {story.z:.3f}" in notes[3]
    assert f"{story.z:.3f} gives a = {story.a:.3f}" in notes[4] and story.activation in notes[4]
    assert f"W¹ is {story.n_out} × {story.n_in}" in notes[5] and f"{story.n_params:,} parameters" in notes[5]


def test_a_network_without_hidden_layer_shows_no_curve_of_softmax(tmp_path, monkeypatch, media):
    from explainer.scenes.one_neuron import OneNeuron

    trace = record(tmp_path / "flat.zarr", Experiment.preset("digits", hidden=(), epochs=1))
    story = neuron_story(trace, 0, last(trace))
    assert story.curve is None and story.activation == "softmax"
    assert story.total == pytest.approx(story.z, rel=1e-5, abs=1e-5)
    shots = phases(OneNeuron, monkeypatch, media, EXPLAINER_TRACE=trace.path)
    assert any("no curve of z alone" in t for t in tex_strings(shots[4]))
    assert_every_phase_has_notes(shots)
    assert "no curve of z" in shots[4].notes and f"{story.z:.3f} gives a = {story.a:.3f}" in shots[4].notes
