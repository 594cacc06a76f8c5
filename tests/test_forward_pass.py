"""ForwardPass: the units drawn include silent ones and the pixels of the terms written out, every number is the
trace's, and every phase is legible at 480p with nothing cut off; the network diagram's labels are legible and
clear of the neurons."""

import numpy as np
import pytest
from scene_check import cut_off, digit_px, phases, small_texts, texts

from explainer import Experiment, run
from explainer.chapters.forward_pass import (
    forward_story,
    inked_inputs,
    shown_units,
    unit_forward_tex,
    with_silent,
)
from explainer.formulas import FORWARD
from explainer.trace import Trace, TraceRecorder


@pytest.fixture(scope="module")
def tiny_trace(tmp_path_factory):
    path = tmp_path_factory.mktemp("forward") / "tiny.zarr"
    with TraceRecorder(path, schedule="every:10", n_probe=10) as recorder:
        run(Experiment.preset("digits", hidden=(24, 12), epochs=1), recorder=recorder, progress=False)
    return path


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    """One media folder for the module's scenes: LaTeX compiled once is reused."""
    return tmp_path_factory.mktemp("media")


def test_hidden_layers_show_silent_units_beside_the_most_active():
    z = np.array([3.0, -1.0, 2.0, -0.5, 1.0, -2.0, 0.5, -3.0])
    a = np.maximum(z, 0)
    shown = with_silent(z, a, 5, 2)
    assert list(shown) == [0, 1, 2, 4, 7]  # in index order
    silent = [u for u in shown if a[u] == 0]
    assert len(silent) == 2 and len(shown) == 5
    assert set(shown) - set(silent) == {0, 2, 4}  # the rest: the largest z
    # a layer with fewer silent units than asked: all of them, the rest by z
    assert list(with_silent(z, np.where(z > -2.5, 1.0, 0.0), 3, 2)) == [0, 2, 7]
    # none silent (a sigmoid): the largest z only
    assert list(with_silent(z, np.ones(8), 3, 2)) == [0, 2, 4]


def test_the_inputs_drawn_include_the_pixels_asked_for():
    x = np.zeros(64)
    x[[10, 11, 12, 20, 30, 40, 50]] = 1.0
    x[5] = 0.2  # faint ink, below half the strongest
    chosen = inked_inputs(x, 4, include=[5, 40])
    assert {5, 40} <= set(chosen) and len(chosen) == 4 and np.all(np.diff(chosen) > 0)
    assert np.all(x[np.setdiff1d(chosen, [5])] == 1.0)


def test_the_forward_story_is_the_traces(tiny_trace):
    trace = Trace.open(tiny_trace)
    step = int(trace.snapshot_steps[-1])
    record, (W, b) = trace.probe_record(step), trace.weights(step)[0]
    for sample in range(len(trace.probe_labels)):
        story = forward_story(trace, sample, step)
        z = record.z[0][sample]
        assert story.unit == int(np.argmax(z))  # the most active unit of the whole first layer
        assert story.z == pytest.approx(story.z_recorded, abs=1e-5)  # W_j a^0 + b_j is the recorded z
        assert story.z_recorded == pytest.approx(float(z[story.unit]))
        assert story.a == pytest.approx(float(record.a[0][sample, story.unit]))
        products = W[story.unit] * trace.probe_x[sample]
        assert set(story.terms) == set(np.argsort(-np.abs(products))[:2])  # the two largest terms ...
        assert set(story.terms) <= set(story.units[0])  # ... are pixels drawn
        np.testing.assert_allclose(story.weights * story.inputs, products[story.terms], rtol=1e-6)
        assert story.b == pytest.approx(float(b[story.unit]))
        for layer, (a, width) in enumerate(zip(record.a[:-1], story.widths)):
            assert width == trace.sizes[layer + 1]
            assert story.silent[layer] == int((a[sample] == 0).sum())
            shown = story.units[layer + 1]
            off = [u for u in shown if a[sample, u] == 0]
            assert len(off) >= min(3, story.silent[layer])  # silent units are drawn, when there are some
        assert story.unit in story.units[1]
    assert any(sum(story.silent) for story in (forward_story(trace, s, step) for s in range(10)))


def test_the_unit_formula_is_the_runs_forward_formula():
    assert unit_forward_tex(FORWARD, 1, 7) == r"z^{1}_{7} = W^{1}_{7} a^{0} + b^{1}_{7}"
    assert "{l" not in unit_forward_tex(FORWARD, 2, 3)


def test_shown_units_matches_the_diagrams_choice(tiny_trace):
    from explainer.scenes.pieces.network import shown_units_for

    trace = Trace.open(tiny_trace)
    record = trace.probe_record(0)
    for sample in range(3):
        expected = shown_units(trace.probe_x[sample], record, sample, 6, silent=2, include=[0])
        got = shown_units_for(trace.probe_x[sample], record, sample, 6, silent=2, include=[0])
        assert expected.keys() == got.keys()
        for layer in expected:
            np.testing.assert_array_equal(expected[layer], got[layer])


def overlaps(a, b, margin=0.0):
    """Whether the bounding boxes of mobjects ``a`` and ``b`` come within ``margin`` of each other."""
    (ax0, ay0, _), (ax1, ay1, _) = a.get_corner(np.array([-1, -1, 0])), a.get_corner(np.array([1, 1, 0]))
    (bx0, by0, _), (bx1, by1, _) = b.get_corner(np.array([-1, -1, 0])), b.get_corner(np.array([1, 1, 0]))
    return ax0 < bx1 + margin and bx0 < ax1 + margin and ay0 < by1 + margin and by0 < ay1 + margin


def test_unit_labels_are_legible_and_clear_of_the_neurons(tiny_trace):
    from explainer.scenes.pieces.network import NetworkDiagram

    trace = Trace.open(tiny_trace)
    story = forward_story(trace, 0, int(trace.snapshot_steps[-1]))
    for sizes in (trace.sizes, [784, 512, 10]):
        units = story.units if sizes == trace.sizes else {0: np.arange(0, 700, 70), 1: np.arange(0, 500, 50)}
        net = NetworkDiagram(sizes, max_shown=10, width=5.4, height=4.8, units=units)
        assert net.unit_labels
        circles = [c for column in net.layers for c in column]
        for labels in net.unit_labels.values():
            for label in labels:
                assert digit_px(label.font_size) >= 12.0  # 7 px before
                for circle in circles:  # (a label's box includes its patch of background)
                    assert not overlaps(label, circle, margin=0.03), f"label {label.text} touches a neuron"
            for a, b in zip(labels, labels[1:]):
                assert not overlaps(a, b)
        # the width above each column stays clear of its top label
        widths = [t for t in net.extras if hasattr(t, "text") and t.text == str(sizes[1])]
        assert widths and not any(overlaps(w, label) for w in widths for label in net.unit_labels[1])


def test_silent_units_get_a_bold_outline(tiny_trace):
    from explainer.scenes.pieces.network import NEURON_STROKE, SILENT_STROKE, NetworkDiagram

    trace = Trace.open(tiny_trace)
    step = int(trace.snapshot_steps[-1])
    record = trace.probe_record(step)
    sample = next(s for s in range(10) if (record.a[0][s] == 0).any())
    story = forward_story(trace, sample, step)
    net = NetworkDiagram(trace.sizes, max_shown=10, units=story.units)
    a = record.a[0][sample]
    net.set_activations(1, a)
    expected = [k for k, u in enumerate(net.shown[1]) if a[u] == 0]
    assert expected and net.silent(1) == expected
    assert SILENT_STROKE >= 2 * NEURON_STROKE
    net.set_activations(0, trace.probe_x[sample])  # blank pixels are not silent units
    assert net.silent(0) == []


def assert_every_phase_has_notes(shots):
    """Each phase's speaker notes: a few sentences (at least 60 characters, at most about 600), plain Markdown
    with Unicode math: no LaTeX backslash, no underscore (Markdown's emphasis)."""
    for shot in shots[:-1]:  # the "end" shot is the last phase's picture again
        assert 60 <= len(shot.notes) <= 650, (shot.name, len(shot.notes), shot.notes)
        assert "\\" not in shot.notes and "_" not in shot.notes, (shot.name, shot.notes)


def assert_the_notes_say_the_storys_numbers(notes, story):
    """The notes of digit, input, layer 1, the neuron, layer 2, layer 3 (the output) and the chart."""
    from explainer.scenes.forward_pass import percent, signed

    assert f"This digit is a {story.label}" in notes[0] and f"at step {story.step}" in notes[0]
    assert "become 64 inputs, a⁰ = x" in notes[1]
    for k, layer in ((2, 1), (4, 2)):  # the hidden layers: how many of their units this digit leaves at 0
        width, silent = story.widths[layer - 1], story.silent[layer - 1]
        assert (f"{silent} of the {width} are at a = 0" if silent else f"None of the {width}") in notes[k], k
        assert f"Layer {layer}:" in notes[k] and f"= relu(W{'¹²'[layer - 1]}a" in notes[k]
    assert "= softmax(W³a² + b³)" in notes[5] and f"the network's guess, {story.predicted}" in notes[5]
    (w1, w2), (x1, x2) = story.weights, story.inputs
    assert f"unit {story.unit}:" in notes[3] and f"pixels {story.terms[0]} and {story.terms[1]}" in notes[3]
    assert f"{signed(w1)} × {x1:.2f} + {signed(w2)} × {x2:.2f}" in notes[3] and f"b = {signed(story.b)}" in notes[3]
    assert f"z = {story.z:.3f}" in notes[3] and f"a = {story.a:.3f}" in notes[3]
    p = story.probabilities
    assert f"predicts {story.predicted} with {percent(p[story.predicted])}; the truth is {story.label}" in notes[6]
    assert ("wrong" in notes[6]) == (story.predicted != story.label)


def test_every_phase_is_legible_and_nothing_is_cut_off(tiny_trace, monkeypatch, media):
    from explainer.scenes.forward_pass import ForwardPass

    trace = Trace.open(tiny_trace)
    for sample in (0, 3):
        shots = phases(ForwardPass, monkeypatch, media, EXPLAINER_TRACE=tiny_trace, EXPLAINER_SAMPLE=sample)
        assert len(shots) == 2 + 3 + 1 + 1 + 1  # digit, input, 3 layers, the neuron, the output, the end
        assert_every_phase_has_notes(shots)
        story = forward_story(trace, sample, int(trace.snapshot_steps[-1]))
        assert_the_notes_say_the_storys_numbers([s.notes for s in shots], story)
        for shot in shots:
            assert not small_texts(shot.mobjects), (shot.name, small_texts(shot.mobjects))
            assert not cut_off(shot.mobjects), (shot.name, cut_off(shot.mobjects))
        for shot in shots[1:]:  # the legend, from the input column on
            words = [what for what, _ in texts(shot.mobjects)]
            assert "W > 0" in words and "W < 0" in words and "a = 0: silent" in words, shot.name


def test_the_scene_writes_the_storys_numbers(tiny_trace, monkeypatch, media):
    from manim import tempconfig

    from explainer.scenes.forward_pass import ForwardPass

    monkeypatch.setenv("EXPLAINER_TRACE", str(tiny_trace))
    monkeypatch.setenv("EXPLAINER_SAMPLE", "2")
    monkeypatch.setenv("EXPLAINER_PACE", "preview")
    with tempconfig({"dry_run": True, "disable_caching": True, "quality": "low_quality", "media_dir": str(media)}):
        scene = ForwardPass()
        scene.setup()
        scene.construct()
    story = scene.story
    tex = [m.tex_string for m in scene.formula]
    assert tex[0] == story.unit_tex
    i1, i2 = story.terms
    assert f"a^{{0}}_{{{i1}}}" in tex[1] and f"a^{{0}}_{{{i2}}}" in tex[1]
    assert f"{story.z:.3f}" in tex[3] and f"{story.a:.3f}" in tex[4]
    assert story.activation[1] in tex[5]
    # the formula sits right of the diagram, clear of it
    assert scene.formula.get_left()[0] > scene.net.layers.get_right()[0]
    counts = [t.text for t in scene.silent_counts]
    assert counts == [f"{n}ata=0" for n in story.silent]
