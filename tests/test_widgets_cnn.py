"""The dashboards on a convolutional network's run: a tiny CNN (conv 4 3, pool 2, 12, 10) recorded here.

ForwardExplorer shows every convolution and pooling layer's feature maps: the
trace's own for a probe digit it kept maps for, the network's (of that step)
for any other digit, a drawn one included; TrainingDashboard and LiveTraining
show the first convolution's kernels. Each picture is checked pixel for pixel
against the mosaic of the numbers it stands for.
"""

import io

import numpy as np
import pytest
from PIL import Image

from explainer import filter_mosaic, filter_palette, filter_range, prepare_image
from explainer.cli import main
from explainer.trace import Trace
from explainer.widgets import BackpropExplorer, CompareRuns, ForwardExplorer, LiveTraining, TrainingDashboard
from explainer.widgets.feature_maps import HEIGHT, WIDTH, maps_layout

CNN = ["--conv", "4", "--kernel", "3", "--padding", "valid", "--hidden", "12", "--epochs", "1", "--no-progress"]


@pytest.fixture(scope="module")
def path(tmp_path_factory):
    path = tmp_path_factory.mktemp("cnn") / "cnn.zarr"
    assert main(["train", *CNN, "--out", str(path)]) == 0
    return path


@pytest.fixture(scope="module")
def trace(path):
    return Trace.open(path)


@pytest.fixture(scope="module")
def forward(path):
    return ForwardExplorer(path)


def decode(png):
    return np.asarray(Image.open(io.BytesIO(bytes(png))).convert("RGB"))


def mosaic(tiles, vmax, scale, cols, gap):
    """The RGB picture of ``tiles`` (n, h, w) as every mosaic of filters draws them."""
    return filter_palette()[filter_mosaic(tiles, vmax, scale=scale, cols=cols, gap=gap)]


def assert_maps_drawn(explorer, maps, ranges):
    """Each layer's image is the mosaic of ``maps`` (h, w, c) on ± its range, one tile a channel."""
    view = explorer._maps_view
    for image, values, vmax, (scale, cols) in zip(view._images, maps, ranges, view._layouts):
        expected = mosaic(np.moveaxis(values, -1, 0), vmax, scale, cols, 2)
        np.testing.assert_array_equal(decode(image.value), expected)


def test_a_probe_digit_with_maps_shows_the_recorded_maps(forward, trace):
    record_places = [i for i, _, _ in trace.run.maps]  # the conv and pool layers among the network's
    assert [kind for _, kind, _ in trace.run.maps] == ["conv", "pool"]
    for step, probe in ((int(trace.snapshot_steps[3]), trace.map_probes[2]), (int(trace.snapshot_steps[-1]),
                                                                               trace.map_probes[7])):
        forward.step, forward.probe = step, probe
        record, m = trace.probe_record(step), trace.map_probes.index(probe)
        for quantity in ("a", "z"):
            forward.maps = quantity
            assert not forward.errors.message
            recorded = getattr(record, quantity)
            shown = forward._maps_view.shown
            assert len(shown) == 2 and forward._recorded
            for values, i in zip(shown, record_places):
                np.testing.assert_array_equal(values, recorded[i][m])  # the trace's own numbers
            ranges = [float(np.abs(recorded[i]).max()) for i in record_places]  # the probe digits' range there
            assert_maps_drawn(forward, shown, ranges)
            assert "recorded in the trace" in forward._maps_view._caption.value
        # the dense layer and the output are the recorded ones too
        assert forward.prediction == int(np.argmax(record.probabilities[probe]))
    forward.maps = "a"
    words = forward._maps_view._words[0].value
    assert "conv 1" in words and "4 maps of 6×6" in words and "pool 1" in forward._maps_view._words[1].value


def test_a_probe_digit_without_maps_has_them_computed_by_the_network_of_that_step(forward, trace):
    probe = next(i for i in range(len(trace.probe_labels)) if i not in trace.map_probes)
    step = int(trace.snapshot_steps[-1])
    forward.step, forward.probe = step, probe
    assert not forward.errors.message and not forward._recorded
    again = trace.network(step).inspect(trace.probe_x[probe][None], trace.probe_labels[[probe]])
    for values, (i, _, _) in zip(forward._maps_view.shown, trace.run.maps):
        np.testing.assert_array_equal(values, again.a[i][0])
    assert f"computed by the network of step {step}" in forward._maps_view._caption.value


def test_a_drawn_digit_goes_through_the_cnn(forward, trace):
    step = int(trace.snapshot_steps[-1])
    forward.step, forward.probe = step, trace.map_probes[0]
    before = [m.copy() for m in forward._maps_view.shown]
    image = trace.probe_x[trace.map_probes[3]].reshape(8, 8)  # a 3, drawn large in dark ink on paper
    big = np.pad(np.kron(255 - image * 255, np.ones((25, 25))), 25, constant_values=255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(big).save(buffer, format="PNG")
    forward.canvas.png = buffer.getvalue()  # what the canvas sends when the pen is lifted
    assert forward.source == "drawing" and not forward.errors.message and not forward._recorded
    x = prepare_image(buffer.getvalue(), trace.image_shape)
    net = trace.network(step)
    again = net.inspect(x[None].astype(net.dtype), net.predict(x[None].astype(net.dtype)))
    shown = forward._maps_view.shown
    for values, (i, _, _) in zip(shown, trace.run.maps):
        np.testing.assert_array_equal(values, again.a[i][0])
    assert not np.array_equal(shown[0], before[0])  # not the probe digit's maps left on screen
    assert forward.prediction == int(net.predict(x[None])[0])
    record = trace.probe_record(step)
    assert_maps_drawn(forward, shown, [float(np.abs(record.a[i]).max()) for i, _, _ in trace.run.maps])
    z, a = forward.forward(x[None])  # the public pass: full-size maps, the same numbers
    np.testing.assert_array_equal(a[0][0], shown[0])
    forward.source = "probe"


def test_forward_explorer_keeps_its_dense_part_for_a_cnn(forward, trace):
    assert len(forward._layer_images) == 1  # the one hidden dense layer (12 units); the output is the bars
    assert forward._layer_images[0][1] == (3, 4)  # its 12 units' grid
    assert "conv 4 3 → pool 2 → 12→10" in forward.children[0].value


@pytest.mark.parametrize("shapes, smallest", [
    ([(24, 24, 16), (12, 12, 16), (8, 8, 32), (4, 4, 32)], 24),  # MNIST's preset: conv 16 5, pool 2, conv 32 5, pool 2
    ([(8, 8, 32), (4, 4, 32), (4, 4, 64), (2, 2, 64)], 20),  # 8x8's: conv 32 3 same, pool 2, conv 64 3 same, pool 2
])
def test_the_maps_of_the_presets_fit_the_notebook_and_shrink_along_the_network(shapes, smallest):
    heights, sides = [], []
    for (h, w, n), (scale, cols) in zip(shapes, maps_layout(shapes)):
        rows = -(-n // cols)
        assert 2 + cols * (w * scale + 2) <= WIDTH and cols * rows >= n
        heights.append(2 + rows * (h * scale + 2))
        sides.append(h * scale)
    assert sum(heights) <= HEIGHT
    assert sides == sorted(sides, reverse=True) and min(sides) >= smallest, sides  # never a 2x2 map drawn larger


def test_training_dashboard_shows_the_kernels(path, trace):
    dashboard = TrainingDashboard(path)
    assert not dashboard.errors.message
    vmax = filter_range(trace)
    for step in (int(trace.snapshot_steps[0]), int(trace.snapshot_steps[-1])):
        dashboard.step = step
        kernels = trace.first_layer_filters(step)  # (4, 3, 3)
        picker = dashboard._filters_image
        assert (picker.count, picker.tile_height, picker.tile_width) == (4, 3 * dashboard._scale, 3 * dashboard._scale)
        assert picker.cols == 4  # as many columns as kernels, up to 8
        np.testing.assert_array_equal(decode(picker.value), mosaic(kernels, vmax, dashboard._scale, 4, 2))
        assert not dashboard.errors.message
    assert "First-layer kernels" in dashboard.children[3].children[1].children[0].value
    assert "kernels 0 to 3 of 4" in dashboard._page_words.value
    dashboard.unit = 2  # a click on the third kernel: its map's mean a over training, on the probe digits with maps
    assert not dashboard.errors.message
    step = int(trace.snapshot_steps[-1])
    a = trace.probe_record(step).a[0][..., 2]  # (n_maps, 6, 6)
    assert f"mean a over the map = {a.mean():.3g}" in dashboard._unit_view._title.value
    assert "Kernel 2" in dashboard._unit_view._title.value
    dashboard._tabs.selected_index = 1  # the histograms of W and dW per layer, the kernels' among them
    assert not dashboard.errors.message and dashboard._hists.value


def test_the_dashboards_that_cannot_show_a_cnn_say_so_in_one_line(path, tmp_path):
    for dashboard in (BackpropExplorer(path), CompareRuns([path, path])):
        message = dashboard.errors.message
        assert "cannot show a convolutional network's run yet" in message and "\n" not in message


def test_live_training_trains_a_cnn_and_shows_its_kernels(tmp_path):
    live = LiveTraining(trace_path=tmp_path / "live.zarr", arch="cnn", conv="4,8", hidden="16", epochs=1,
                        steps_per_second=0)
    try:
        assert not live._controls["conv"].disabled and "3×3 kernel" in live._filters_caption.value
        assert live.run_steps(12) == 12 and not live.errors.message
        trace = Trace.open(live.trace_path)
        assert trace.is_cnn and trace.run.specs == ("conv 4 3 same", "pool 2", "conv 8 3 same", "pool 2")
        last = int(trace.snapshot_steps[-1])
        kernels = trace.first_layer_filters(last)  # (4, 3, 3)
        np.testing.assert_array_equal(decode(live._filters_image.value),
                                      mosaic(kernels, filter_range(trace, {}), 13, 4, 2))
        assert f"step {last}, the latest snapshot: all 4 3×3 kernels" in live._filters_caption.value
        live.conv = "4,x"
        assert live.errors.message.startswith("conv takes each convolution's filters") and live.run is None
        live.conv = "4,4,4,4"  # four poolings do not fit 8x8
        assert "do not fit the digits images" in live.errors.message and "\n" not in live.errors.message
        live.arch = "mlp"
        assert not live.errors.message and live._controls["conv"].disabled
        assert "First-layer filters" in live._filters_caption.value
    finally:
        live.close()


def test_live_training_s_cnn_follows_the_data_set_s_preset(tmp_path):
    live = LiveTraining(trace_path=tmp_path / "live.zarr", arch="cnn")
    try:
        assert live.conv == "32,64"  # the 8x8 CNN preset's
        live.dataset = "mnist" if "mnist" in live._controls["dataset"].options else live.dataset
        if live.dataset == "mnist":
            assert live.conv == "16,32"
        live.conv = "8"
        live.dataset = "digits"
        assert live.conv == "8"  # a changed one stays
    finally:
        live.close()
