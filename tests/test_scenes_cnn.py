"""A convolutional network's scenes: Convolution and FeatureMaps show the trace's own numbers, FirstLayerFilters
shows the kernels forming, and every scene that cannot show a CNN (or needs one) says so in one line.

Scenes run under Manim's dry run (tests/scene_check.py: every phase played, no frame written) on tiny CNN
traces recorded here: 5x5 kernels with valid padding (25 products) and 3x3 kernels with 'same' padding
(the digit framed by zeros), both on the 8x8 digits.
"""

import contextlib
import io
import os
import subprocess
import sys

import numpy as np
import pytest
from scene_check import cut_off, phases, small_texts, texts

from explainer.cli import main
from explainer.filters import filter_rgb
from explainer.trace import TraceError, open_trace

CNNS = {
    "5x5 valid": ["--conv", "3", "--kernel", "5", "--padding", "valid", "--hidden", "8", "--epochs", "1"],
    "3x3 same": ["--conv", "4,6", "--kernel", "3", "--padding", "same", "--hidden", "12", "--epochs", "1"],
}


@pytest.fixture(scope="module", params=list(CNNS))
def cnn(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("cnn") / "cnn.zarr"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["train", *CNNS[request.param], "--no-progress", "--out", str(path)]) == 0
    return open_trace(path)


@pytest.fixture(scope="module")
def dense(tmp_path_factory):
    path = tmp_path_factory.mktemp("dense") / "dense.zarr"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["train", "--hidden", "6", "--epochs", "1", "--no-progress", "--out", str(path)]) == 0
    return path


# -- Convolution ------------------------------------------------------------------------------------


def test_the_convolution_story_is_the_recorded_pass(cnn):
    from explainer.chapters.convolution import convolution_story

    step, sample = int(cnn.snapshot_steps[-1]), cnn.map_probes[1]
    st = convolution_story(cnn, sample, step)
    record, (W, b) = cnn.probe_record(step), cnn.weights(step)[0]
    z_all = record.z[0][1]  # (Ho, Wo, n_kernels): this digit's first maps
    assert st.kernel == int(np.argmax(z_all.reshape(-1, z_all.shape[-1]).max(axis=0)))  # driven hardest
    np.testing.assert_array_equal(st.z, z_all[..., st.kernel])
    assert st.z_here == st.z.max()  # the position written out is where it responds most
    np.testing.assert_array_equal(st.W, W[st.kernel, :, :, 0])
    assert st.b == b[st.kernel]
    x = cnn.probe_x[sample].reshape(8, 8)
    r, c = st.position
    patch = np.pad(x, st.pad)[r : r + st.k, c : c + st.k]
    np.testing.assert_array_equal(st.products, W[st.kernel, :, :, 0].astype(float) * patch)
    assert st.products.size == st.k ** 2
    # the products and the bias make the recorded z, to float32's precision
    assert st.total + st.b == pytest.approx(st.z_here, abs=1e-5)
    np.testing.assert_array_equal(st.a, record.a[0][1][..., st.kernel])
    np.testing.assert_array_equal(st.pooled, record.a[1][1][..., st.kernel])
    assert st.window_values.max() == st.pooled[st.window]  # the window shown keeps its largest


def test_convolution_shows_the_recorded_numbers_legibly(cnn, monkeypatch, tmp_path):
    from explainer.scenes.convolution import Convolution
    from explainer.scenes.pieces.maps import ValueGrid, short_number

    sample = cnn.map_probes[2]
    shots = phases(Convolution, monkeypatch, tmp_path, EXPLAINER_TRACE=str(cnn.path), EXPLAINER_SAMPLE=sample)
    assert [s.name for s in shots] == ["phase 1", "phase 2", "phase 3", "phase 4", "phase 5", "end"]
    for shot in shots:
        assert not small_texts(shot.mobjects), shot.name
        assert not cut_off(shot.mobjects), shot.name
        assert shot.name == "end" or len(shot.notes) > 80
    from explainer.chapters.convolution import convolution_story

    st = convolution_story(cnn, sample, int(cnn.snapshot_steps[-1]))
    # phase 2: the products written are the story's, the sum and z the recorded ones
    grids = [m for m in shots[1].mobjects if isinstance(m, ValueGrid)]
    written = {tuple(map(tuple, g.written)) for g in grids}
    assert tuple(tuple(short_number(v) for v in line) for line in st.products) in written
    assert tuple(tuple(short_number(v) for v in line) for line in st.W) in written
    said = [what for what, _ in texts(shots[1].mobjects)]
    assert f"sum of the {st.k ** 2} products = {st.total:.3f}" in said
    assert f"= z = {st.z_here:.3f}" in said and f"{st.z_here:.3f}" in shots[1].notes
    # phase 3: the map filled in is the recorded z, all of it; phases 4 and 5: a and the pooled map
    shown = filter_rgb(st.z, st.z_range)  # every value of the map, in its colour: filled in to the end
    assert any(np.array_equal(m.values, st.z) and np.array_equal(m.pixel_array[..., :3], shown)
               for m in shots[2].mobjects if getattr(m, "values", None) is not None and m.values.shape == st.z.shape)
    last = [m for m in shots[-1].mobjects if hasattr(m, "values")]
    assert any(np.array_equal(m.values, st.a) for m in last)
    assert any(m.values.shape == st.pooled.shape and np.array_equal(m.values, st.pooled) for m in last)


# -- FeatureMaps ------------------------------------------------------------------------------------


def test_feature_maps_show_every_layers_recorded_a(cnn, monkeypatch, tmp_path):
    from explainer.scenes.feature_maps import FeatureMaps, percent
    from explainer.scenes.pieces.maps import MapMosaic

    sample = cnn.map_probes[3]
    shots = phases(FeatureMaps, monkeypatch, tmp_path, EXPLAINER_TRACE=str(cnn.path), EXPLAINER_SAMPLE=sample)
    n_layers = len(cnn.run.specs)
    assert len(shots) == 1 + n_layers + 1 + 1 + 1  # the digit, each map layer, the dense layer, the output; end
    for shot in shots:
        assert not small_texts(shot.mobjects), shot.name
        assert not cut_off(shot.mobjects), shot.name
    record = cnn.probe_record(int(cnn.snapshot_steps[-1]))
    row = cnn.map_probes.index(sample)
    mosaics = [m for m in shots[-1].mobjects if isinstance(m, MapMosaic)]
    assert len(mosaics) == n_layers + 1  # and the dense hidden layer's units
    for i, mosaic in enumerate(mosaics[:n_layers]):
        a = record.a[i][row]
        np.testing.assert_array_equal(mosaic.a, a)
        for m in range(a.shape[-1]):
            np.testing.assert_array_equal(mosaic.tile(m), a[..., m])  # each map drawn where it is said to be
    hidden = record.a[n_layers + 1][sample]  # the dense hidden layer, after the Flatten
    np.testing.assert_array_equal(mosaics[-1].a.ravel()[: len(hidden)], hidden)
    p = record.probabilities[sample]
    said = [what for what, _ in texts(shots[-1].mobjects)]
    assert percent(p.max(), 0) in said and f"says {p.argmax()} with {percent(p.max())}" in shots[-2].notes
    assert percent(0.9996) == ">99.9%" and percent(0.996, 0) == ">99%"  # a near-certainty is never written 100%


# -- FirstLayerFilters on a CNN -------------------------------------------------------------------------


def test_first_layer_filters_shows_the_kernels_forming(cnn, monkeypatch, tmp_path):
    from explainer.scenes.first_layer_filters import FirstLayerFilters
    from explainer.scenes.pieces import FilterGrid

    shots = phases(FirstLayerFilters, monkeypatch, tmp_path, EXPLAINER_TRACE=str(cnn.path))
    for shot in shots:
        assert not small_texts(shot.mobjects), shot.name
    grid = next(m for m in shots[-1].mobjects if isinstance(m, FilterGrid))
    n_kernels, k = cnn.run.shapes[0][:2]
    kernels = np.stack([cnn.first_layer_filters(int(s)) for s in cnn.snapshot_steps])  # (n_snapshots, n, k, k)
    assert kernels.shape[1:] == (n_kernels, k, k)
    assert grid.frames.shape[0] == len(cnn.snapshot_steps)
    assert "kernel" in shots[0].notes and cnn.run.specs[0] in shots[0].notes
    said = " ".join(what for what, _ in texts(shots[0].mobjects))
    assert f"{k}x{k}" in said.replace(" ", "") or f"{k}x{k}" in said


# -- the refusals and the render command's checks ------------------------------------------------------


def one_line(capsys, *argv):
    assert main(list(argv)) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_scenes_refuse_the_other_kind_of_network_in_one_line(cnn, dense, capsys):
    line = one_line(capsys, "render", "ForwardPass", "--trace", str(cnn.path))
    assert "explainer render ForwardPass cannot show a convolutional network's run" in line and "Convolution" in line
    line = one_line(capsys, "render", "Backprop", "--trace", str(cnn.path))
    assert "explainer render Backprop cannot show a convolutional network's run" in line
    for scene in ("Convolution", "FeatureMaps"):
        line = one_line(capsys, "render", scene, "--trace", str(dense))
        assert f"{scene} shows a convolutional network's run" in line and "--arch cnn" in line
    without = next(i for i in range(len(cnn.probe_labels)) if i not in cnn.map_probes)
    line = one_line(capsys, "render", "Convolution", "--trace", str(cnn.path), "--sample", str(without))
    assert f"probe digit {without} has no recorded feature maps" in line


@pytest.mark.parametrize("scene", ["Convolution", "FeatureMaps"])
def test_a_cnn_scene_under_manim_refuses_a_dense_trace_in_one_line(dense, scene):
    script = f"from explainer.scenes.choice import chosen_trace; chosen_trace({scene!r})"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "EXPLAINER_TRACE": str(dense)})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and f"{scene} shows a convolutional network's run" in result.stderr


def test_render_plans_a_cnn_scenes_digit_among_those_with_maps(cnn, monkeypatch):
    from explainer.cli.render import plan_choices
    from explainer.scenes import choice

    sample, step = plan_choices("Convolution", str(cnn.path))
    assert sample == cnn.map_probes[0] and step == int(cnn.snapshot_steps[-1])
    monkeypatch.delenv("EXPLAINER_SAMPLE", raising=False)
    monkeypatch.delenv("EXPLAINER_DIGIT", raising=False)
    assert choice.chosen_sample(cnn, default=cnn.map_probes[0]) == sample  # the scene takes the same one
    with pytest.raises(TraceError, match="has no recorded feature maps"):
        plan_choices("FeatureMaps", str(cnn.path), sample=next(i for i in range(30) if i not in cnn.map_probes))


def test_with_no_trace_named_a_cnn_scene_takes_the_default_cnn_trace(cnn, monkeypatch):
    import explainer.trace
    from explainer.cli.render import check_choices
    from explainer.scenes import choice

    built = []  # the scenes reach it through the one door, explainer.trace (the real one: 30 epochs)
    monkeypatch.setattr(explainer.trace, "default_cnn_trace", lambda: built.append(1) or cnn.path)
    monkeypatch.delenv("EXPLAINER_TRACE", raising=False)
    assert choice.chosen_trace("Convolution").path == cnn.path
    assert check_choices("FeatureMaps", "default").path == cnn.path
    assert choice.scene_source("ForwardPass", "default") == "default"  # a dense scene keeps the default 8x8 trace
    assert choice.scene_source("Convolution", str(cnn.path)) == str(cnn.path)  # a trace named is the one shown
    assert len(built) == 2
