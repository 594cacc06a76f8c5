"""A convolutional network's figures draw the trace's own numbers: the kernels are the first
convolution's W, the feature maps the recorded a; a figure of the other kind of network is refused
in one line that names the one to draw instead."""

import contextlib
import io

import numpy as np
import pytest

from explainer import colours
from explainer.cli import main
from explainer.figures import feature_maps, figure_names, filters, kernels, save_all
from explainer.filters import filter_range, filter_rgb
from explainer.trace import TraceError, open_trace

# two convolutions with 'same' padding over the 8x8 digits: maps of 8x8, 4x4, 4x4 and 2x2
CNN = ["--conv", "4,6", "--kernel", "3", "--padding", "same", "--hidden", "12", "--epochs", "1"]


@pytest.fixture(scope="module")
def cnn(tmp_path_factory):
    path = tmp_path_factory.mktemp("cnn") / "cnn.zarr"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["train", *CNN, "--no-progress", "--out", str(path)]) == 0
    return open_trace(path)


def test_kernels_are_the_first_convolutions_weights(cnn):
    step = int(cnn.snapshot_steps[3])
    fig = kernels(cnn, step=step)
    W, _ = cnn.weights(step)[0]  # (4, 3, 3, 1)
    vmax = filter_range(cnn)
    shown = [ax for ax in fig.axes if ax.get_visible() and ax.images]
    assert len(shown) == 4
    for j, ax in enumerate(shown):
        np.testing.assert_array_equal(ax.images[0].get_array(), filter_rgb(W[j, :, :, 0], vmax))
        assert ax.get_title().startswith(f"kernel {j}")
    assert f"step {step}" in fig._suptitle.get_text()
    # another step draws other weights: the figure follows the step asked for
    other = kernels(cnn, step=0)
    assert not np.array_equal(other.axes[0].images[0].get_array(), shown[0].images[0].get_array())


def test_feature_maps_are_the_recorded_maps_of_every_layer(cnn):
    step, sample = int(cnn.snapshot_steps[-1]), cnn.map_probes[2]
    fig = feature_maps(cnn, step=step, sample=sample)
    record, row = cnn.probe_record(step), 2
    digit = fig.subfigs[0].axes[0].images[0].get_array()
    np.testing.assert_array_equal(digit, colours.digit_rgb(cnn.probe_x[sample].reshape(8, 8)))
    shapes = [(8, 8, 4), (4, 4, 4), (4, 4, 6), (2, 2, 6)]
    assert len(fig.subfigs) == 1 + len(shapes)
    for i, (sub, shape, spec) in enumerate(zip(fig.subfigs[1:], shapes, cnn.run.specs)):
        a = record.a[i][row]
        assert a.shape == shape
        drawn = [ax for ax in sub.axes if ax.get_visible()]
        assert len(drawn) == shape[2]
        for c, ax in enumerate(drawn):
            np.testing.assert_array_equal(ax.images[0].get_array(), a[..., c])
        assert sub._suptitle.get_text().startswith(f"{spec}: {shape[2]} maps of {shape[0]}×{shape[1]}")
    label, guess = cnn.probe_labels[sample], record.probabilities[sample].argmax()
    assert f"guesses {guess}" in fig._suptitle.get_text() and f"A {label} " in fig._suptitle.get_text()


def test_feature_maps_need_a_digit_with_maps(cnn):
    without = next(i for i in range(len(cnn.probe_labels)) if i not in cnn.map_probes)
    with pytest.raises(TraceError, match=f"probe digit {without} has no recorded feature maps"):
        feature_maps(cnn, sample=without)


def test_a_cnn_gets_its_own_figures_and_filters_is_refused(cnn, tmp_path):
    names = figure_names(cnn)
    assert "kernels" in names and "feature_maps" in names and "filters" not in names
    written = save_all(cnn, tmp_path / "all", formats=("png",), dpi=40)
    assert {p.stem for p in written} == set(names)
    with pytest.raises(TraceError, match="use the kernels figure"):
        filters(cnn)
    with pytest.raises(TraceError, match="which filters cannot show: draw kernels instead"):
        save_all(cnn, tmp_path / "refused", names=["filters", "loss_curves"])
    assert not (tmp_path / "refused").exists()  # refused before anything was drawn


def test_explainer_plot_draws_a_cnns_figures_and_refuses_the_others_in_one_line(cnn, tmp_path, capsys):
    out = tmp_path / "figs"
    assert main(["plot", str(cnn.path), "--out", str(out), "--only", "kernels,feature_maps", "--format", "png",
                 "--dpi", "40", "--sample", str(cnn.map_probes[1])]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["feature_maps.png", "kernels.png"]
    capsys.readouterr()
    assert main(["plot", str(cnn.path), "--out", str(tmp_path / "no"), "--only", "filters"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "draw kernels instead" in err[0]
    dense = tmp_path / "dense.zarr"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["train", "--hidden", "6", "--epochs", "1", "--no-progress", "--out", str(dense)]) == 0
    capsys.readouterr()
    assert main(["plot", str(dense), "--out", str(tmp_path / "no"), "--only", "feature_maps"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "dense network's run, which feature_maps cannot show: draw probes instead" in err[0]
