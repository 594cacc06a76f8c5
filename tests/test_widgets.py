"""The trace dashboards, driven from Python on a tiny real trace recorded here.

What a student does in the browser (move the slider, pick a digit, draw,
upload) is a traitlet change here; the tests check what the dashboard then
shows against the trace's own numbers and against explainer.Network.
"""

import datetime
import io
import re
import shutil

import numpy as np
import pytest
from matplotlib import colormaps
from matplotlib.colors import to_rgb
from PIL import Image

from explainer import Experiment, colours, filter_range, prepare_image, run
from explainer.filters import FILTER_GAP, GAP_RGB, MARK_RGB
from explainer.trace import Trace, TraceRecorder, default
from explainer.widgets import BackpropExplorer, ForwardExplorer, TrainingDashboard
from explainer.widgets.common import CSS, silent_words

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def trace_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("widgets") / "digits.zarr"
    with TraceRecorder(path, n_probe=20) as recorder:
        run(Experiment.preset("digits", hidden=(16, 12), epochs=2), recorder=recorder, progress=False)
    return path


@pytest.fixture(scope="module")
def trace(trace_path):
    return Trace.open(trace_path)


@pytest.fixture(scope="module")
def training(trace_path):
    return TrainingDashboard(trace_path)


@pytest.fixture(scope="module")
def forward(trace_path):
    return ForwardExplorer(trace_path)


def test_training_dashboard_names_the_units_silent_for_every_probe_digit(trace_path, trace):
    dashboard = TrainingDashboard(trace_path)
    seen_silent = False
    for s in trace.snapshot_steps:
        dashboard.step = int(s)
        caption = dashboard._filters_caption.value
        silent = np.flatnonzero(~trace.probe_record(int(s)).a[0].any(axis=0))
        # in the picture, the silent units' tiles are framed in black, the others in grey
        picture = decode(dashboard._filters_image.value)
        scale, cols = dashboard._scale, dashboard._filters_image.cols  # one page: 8 columns of at most 64 tiles
        h, w = trace.image_shape
        for j in range(trace.sizes[1]):
            y0 = FILTER_GAP + (j // cols) * (h * scale + FILTER_GAP)
            x0 = FILTER_GAP + (j % cols) * (w * scale + FILTER_GAP)
            above = picture[y0 - 1, x0]  # the gap's pixel just above the tile's top-left corner
            assert tuple(above) == (MARK_RGB if j in silent else GAP_RGB), (s, j)
        if len(silent):
            seen_silent = True
            listed = re.search(r"Framed in black: units? ([\d, ]+?), silent", caption)
            assert listed and [int(j) for j in listed[1].split(",")] == silent.tolist(), (s, caption)
            assert f"silent (a = 0) for all {len(trace.probe_labels)} probe digits" in caption
        else:
            assert "Silent" not in caption, (s, caption)
    assert seen_silent, "no snapshot of the test run has a silent unit: the test checks nothing"


@pytest.mark.parametrize(("silent", "expected"), [
    ([], ""),
    ([5], " Framed in black: unit 5, silent (a = 0) for all 30 probe digits;"),
    ([3, 70, 80], " Framed in black: unit 3 (2 more among the units not shown), silent"),
    ([70], " 1 unit not shown here is silent (a = 0) for all 30 probe digits;"),
    (list(range(0, 40, 2)), " Framed in black: units 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22 and 8 more, silent"),
])
def test_silent_words_name_what_is_framed_and_count_the_rest(silent, expected):
    words = silent_words(silent, n_shown=64, n_probe=30)
    assert words.startswith(expected)
    assert (words == "") == (silent == [])


def decode(png):
    png = bytes(png)  # an Image widget holds its value as a memoryview
    assert png.startswith(PNG_SIGNATURE)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def network_at(trace, step):
    """An explainer.Network holding the recorded weights of ``step``: the oracle for own digits."""
    return trace.network(step)


def digit_png(trace, i, scale=20):
    """Probe digit ``i`` drawn large, dark ink on light paper: what a student might upload."""
    image = trace.probe_x[i].reshape(trace.image_shape)
    big = np.kron(255 - image * 255, np.ones((scale, scale)))
    big = np.pad(big, scale, constant_values=255).astype(np.uint8)  # paper all round
    buffer = io.BytesIO()
    Image.fromarray(big).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(explorer, content, name="digit.png"):
    explorer.upload.value = ({"name": name, "type": "image/png", "size": len(content), "content": memoryview(content),
                              "last_modified": datetime.datetime.now(datetime.UTC)},)


# -- TrainingDashboard -----------------------------------------------------------------


def test_filters_image_is_the_recorded_weights_at_the_step(training, trace):
    steps = [int(s) for s in trace.snapshot_steps]
    training.step = steps[0]
    first = training._filters_image.value
    training.step = steps[-1]
    last = training._filters_image.value
    assert first != last

    # decode the PNG and read each tile's colours back: they are RdBu_r of the recorded W at that step, on
    # the run's range: the largest 99th percentile of |W| at any snapshot
    picture = decode(last)
    W = trace.weights(steps[-1])[0][0]  # (n_hidden, n_in)
    h, w = trace.image_shape
    vmax = max(np.percentile(np.abs(trace.weights(s)[0][0]), 99) for s in steps)
    assert training._vmax == pytest.approx(vmax) == filter_range(trace)
    scale, cols = training._scale, training._filters_image.cols
    expected_rgb = colormaps["RdBu_r"](np.clip((W / vmax + 1) / 2, 0, 1))[..., :3] * 255  # (n_hidden, n_in, 3)
    for j in (0, len(W) // 2, len(W) - 1):
        y0 = FILTER_GAP + (j // cols) * (h * scale + FILTER_GAP)
        x0 = FILTER_GAP + (j % cols) * (w * scale + FILTER_GAP)
        tile = picture[y0 : y0 + h * scale : scale, x0 : x0 + w * scale : scale]  # one screen pixel per weight
        np.testing.assert_allclose(tile.reshape(-1, 3), expected_rgb[j], atol=6)
    hottest = np.unravel_index(np.argmax(W), W.shape)  # the largest weight is drawn red
    r, c = divmod(int(hottest[1]), w)
    j = int(hottest[0])
    red = picture[FILTER_GAP + (j // cols) * (h * scale + FILTER_GAP) + r * scale,
                  FILTER_GAP + (j % cols) * (w * scale + FILTER_GAP) + c * scale]
    assert red[0] > red[2] + 50


def test_step_snaps_to_the_nearest_snapshot_and_moves_the_slider(training, trace):
    steps = np.asarray(trace.snapshot_steps)
    between = int(steps[-1] + steps[-2]) // 2 + 1
    training.step = between
    assert isinstance(training.step, int)
    assert training.step == int(steps[np.argmin(np.abs(steps - between))])
    assert training._slider.value == training.step
    assert training._slider.options[training._slider.index][1] == training.step


def test_play_button_and_slider_drive_the_step(training, trace):
    training._play.value = 3
    assert training.step == int(trace.snapshot_steps[3])
    training._slider.value = int(trace.snapshot_steps[5])
    assert training.step == int(trace.snapshot_steps[5])


def test_the_dead_units_panel_draws_the_recorded_dead_share(training, trace):
    from explainer.figures import default_window, smooth

    fig = training._curves_plot.fig
    ax = fig.axes[3]  # loss, accuracy, gradient size, dead units
    assert ax.get_ylabel() == "dead units"
    lines = [line for line in ax.get_lines() if len(line.get_xdata()) == trace.n_steps]
    dead = trace.scalars["dead_share"]  # (n_steps, n_layers)
    assert len(lines) == trace.n_layers - 1  # the hidden layers; softmax units never die
    for i, line in enumerate(lines):
        np.testing.assert_allclose(line.get_ydata(), smooth(dead[:, i], default_window(trace.n_steps)))
    assert len(training._cursors) == 4


def test_only_the_cursor_moves_on_the_curves(training, trace):
    steps = [int(s) for s in trace.snapshot_steps]
    training.step = steps[2]
    before = decode(training._curves.value)
    training.step = steps[-1]
    after = decode(training._curves.value)
    changed = np.flatnonzero((before != after).any(axis=(0, 2)))  # columns that differ
    assert changed.size > 0
    assert changed.size < 0.1 * before.shape[1]  # two thin cursor lines, not a redrawn figure


def test_histograms_are_drawn_when_their_tab_opens_and_follow_the_step(trace_path, trace):
    training = TrainingDashboard(trace_path)
    assert training._hist_plot is None  # not drawn at opening: it costs time; a hint says when it will be
    hint = bytes(training._hists.value)
    training._tabs.selected_index = 1  # the student opens the histograms' tab
    assert training._hist_plot is not None and bytes(training._hists.value).startswith(PNG_SIGNATURE)
    assert bytes(training._hists.value) != hint
    training.step = int(trace.snapshot_steps[0])
    start = training._hists.value
    training.step = int(trace.snapshot_steps[-1])
    assert training._hists.value != start
    edges, counts = training._hist.W[0]
    k = len(trace.snapshot_steps) - 1
    W = np.clip(trace.weights(training.step)[0][0], edges[0], edges[-1])
    np.testing.assert_array_equal(counts[k], np.histogram(W, edges)[0])


def test_gradients_of_zero_or_below_the_first_bin_are_counted_apart_and_named(trace_path, trace):
    training = TrainingDashboard(trace_path)
    training._tabs.selected_index = 1
    # they once piled up in the first bin as a spike at -8 that nothing explained
    k = len(trace.snapshot_steps) - 1
    for i, (dW, _) in enumerate(trace.gradients(int(trace.snapshot_steps[k]))):
        edges, counts = training._hist.dW[i]
        with np.errstate(divide="ignore"):
            sizes = np.log10(np.abs(dW))  # 0 -> -inf
        drawn = sizes >= edges[0]
        assert counts[k].sum() == drawn.sum()
        np.testing.assert_array_equal(counts[k], np.histogram(np.clip(sizes[drawn], edges[0], edges[-1]), edges)[0])
        assert training._hist.small[i][k] == pytest.approx(1 - drawn.mean())
    assert training._hist.small[0][k] > 0, "nothing was left out of layer 1's bars: the test checks too little"
    training.step = int(trace.snapshot_steps[k])
    notes = [text.get_text() for text in training._hist._notes]
    assert notes[0] == f"not drawn: {training._hist.small[0][k]:.0%} (0 or tiny)"
    assert "exactly 0 (silent units, never-inked pixels)" in training._hist_plot.fig.get_supxlabel()


def test_every_picture_is_a_real_png(training, forward):
    training._tabs.selected_index = 1  # the histograms are drawn when their tab is opened
    for image in (training._curves, training._hists, training._filters_image, forward._figure_image,
                  forward._units_image, forward._input_image):
        assert image.format == "png"
        Image.open(io.BytesIO(bytes(image.value))).verify()  # raises if it is not a complete PNG


def test_css_classes_for_the_browser_tests(training, forward):
    assert CSS["step_slider"] in training._slider._dom_classes
    assert CSS["play"] in training._play._dom_classes
    assert CSS["filters"] in training._filters_image._dom_classes
    assert CSS["error"] in training.errors._dom_classes
    assert CSS["prediction"] in forward._prediction._dom_classes
    assert CSS["upload"] in forward.upload._dom_classes
    assert CSS["canvas"] in forward.canvas._dom_classes
    assert CSS["input"] in forward._input_image._dom_classes
    assert CSS["step_slider"] in forward._slider._dom_classes


def test_default_trace_is_used_when_none_is_given(trace_path, monkeypatch):
    asked = []
    monkeypatch.setattr(default, "default_trace", lambda progress=True: asked.append(progress) or trace_path)
    dashboard = TrainingDashboard()
    assert asked and dashboard.trace.path == trace_path
    assert not dashboard.errors.message


def test_a_trace_argument_of_the_wrong_type_is_a_message():
    dashboard = TrainingDashboard(trace=42)
    assert "a trace is named by its path" in dashboard.errors.message


# -- damaged traces ---------------------------------------------------------------------


@pytest.fixture
def damaged_path(trace_path, tmp_path):
    path = tmp_path / "damaged.zarr"
    shutil.copytree(trace_path, path)
    snapshots = path / "snapshots"
    chunks = [f for f in snapshots.rglob("*") if f.is_file() and f.name != "zarr.json"]
    assert chunks, f"no chunk files under {snapshots}: has the trace layout changed?"
    for f in chunks:  # every recorded snapshot is gone, its metadata left: as after an incomplete copy
        f.unlink()
    return path


@pytest.mark.parametrize("dashboard", [TrainingDashboard, ForwardExplorer, BackpropExplorer])
def test_damaged_trace_is_a_message_in_the_dashboard(dashboard, damaged_path):
    shown = dashboard(damaged_path)  # does not raise
    assert "damaged" in shown.errors.message and "'snapshots/" in shown.errors.message
    assert shown.errors in shown.children and shown.errors.layout.display != "none"


@pytest.mark.parametrize("dashboard", [TrainingDashboard, ForwardExplorer, BackpropExplorer])
def test_not_a_trace_is_a_message_in_the_dashboard(dashboard, tmp_path):
    shown = dashboard(tmp_path / "nothing-here.zarr")
    assert "no trace at" in shown.errors.message


# -- ForwardExplorer ------------------------------------------------------------------------


def test_probe_prediction_is_the_recorded_argmax(forward, trace):
    for step in (int(trace.snapshot_steps[0]), int(trace.snapshot_steps[-1])):
        forward.step = step
        recorded = trace.probe_record(step).probabilities.argmax(axis=1)  # (n_probe,)
        for i in range(0, len(recorded), 3):
            forward.probe = i
            assert forward.source == "probe"
            assert forward.prediction == recorded[i]
            assert str(recorded[i]) in forward._prediction.value


def test_uploaded_digit_is_predicted_as_network_does(forward, trace):
    step = int(trace.snapshot_steps[-1])
    forward.step = step
    content = digit_png(trace, 7)
    upload(forward, content)
    assert forward.source == "upload" and not forward.errors.message
    # emptied, so that the same file chosen again is a change too; the button names the picture shown
    assert forward.upload.value == () and forward.upload.shown == "digit.png"
    x = prepare_image(content, trace.image_shape)
    expected = int(network_at(trace, step).predict(x[None])[0])
    assert forward.prediction == expected
    assert str(expected) in forward._prediction.value
    # an earlier step: the same upload, the earlier weights
    early = int(trace.snapshot_steps[1])
    forward.step = early
    assert forward.prediction == int(network_at(trace, early).predict(x[None])[0])


def test_drawn_digit_is_predicted_as_network_does(forward, trace):
    step = int(trace.snapshot_steps[-1])
    forward.step = step
    content = digit_png(trace, 13, scale=25)
    forward.canvas.png = content  # what the canvas sends when the pen is lifted
    assert forward.source == "drawing" and not forward.errors.message
    x = prepare_image(content, trace.image_shape)
    z, a = forward.forward(x[None])
    net = network_at(trace, step)
    np.testing.assert_allclose(a[-1], net.predict_proba(x[None]), rtol=1e-5, atol=1e-6)
    assert forward.prediction == int(net.predict(x[None])[0])
    assert decode(forward._input_image.value).min() < 50  # the prepared digit is shown, in dark ink


def test_not_a_digit_upload_is_a_message_and_the_dashboard_keeps_working(forward, trace):
    forward.probe = 2
    forward.source = "probe"
    before = forward.prediction
    upload(forward, b"GIF89a, or rather not a picture at all", name="notes.txt")
    assert "not a picture" in forward.errors.message
    assert forward.prediction == before  # what was shown stays
    assert forward.upload.value == ()  # emptied: the same file chosen again is a new change
    forward.errors.clear()
    upload(forward, b"GIF89a, or rather not a picture at all", name="notes.txt")
    assert "not a picture" in forward.errors.message
    noise = np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, format="PNG")
    upload(forward, buffer.getvalue())
    assert "does not look like a digit" in forward.errors.message
    forward.probe = 4  # still usable: the next choice works and clears the message
    assert forward.errors.message == ""
    assert forward.prediction == trace.probe_record(forward.step).probabilities[4].argmax()


def test_drawing_source_without_a_drawing_says_what_to_do(trace_path):
    explorer = ForwardExplorer(trace_path)
    explorer.source = "drawing"
    assert "draw a digit" in explorer.errors.message
    explorer.source = "probe"
    assert explorer.errors.message == ""


def test_top_units_are_the_largest_z(forward, trace):
    forward.source = "probe"
    forward.probe = 5
    z1 = trace.probe_record(forward.step).z[0][5]  # (n_hidden,)
    top = np.argsort(z1)[::-1][:3]
    caption = forward._units_caption.value
    for unit in top:
        assert f"unit {unit}<br>z = {z1[unit]:.2f}" in caption


# -- BackpropExplorer -------------------------------------------------------------------


def test_digit_gradients_match_a_backward_pass_of_network(trace_path, trace):
    explorer = BackpropExplorer(trace_path)
    step, i = int(trace.snapshot_steps[4]), 6
    explorer.step, explorer.probe = step, i
    delta, dW = explorer.digit_gradients()
    net = network_at(trace, step)
    oracle = net.inspect(trace.probe_x[i : i + 1], trace.probe_labels[i : i + 1])
    assert net.l2 > 0  # the preset's weight penalty: its gradient l2 W is in the network's dW, not the digit's
    for layer in range(trace.n_layers):
        digit_part = oracle.dW[layer] - net.l2 * net.layers[layer].W  # one digit: N = 1
        np.testing.assert_allclose(delta[layer], oracle.delta[layer][0], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(dW[layer], digit_part, rtol=1e-4, atol=1e-6)
    table = explorer._table.value
    assert f"{np.linalg.norm(oracle.dW[0] - net.l2 * net.layers[0].W):.3g}" in table
    assert f"{net.l2:g} W is added to every digit's dW" in explorer.children[0].value


def test_backprop_picture_changes_with_step_and_probe(trace_path, trace):
    explorer = BackpropExplorer(trace_path)
    explorer.step = int(trace.snapshot_steps[0])
    first = bytes(explorer._figure_image.value)
    explorer.step = int(trace.snapshot_steps[-1])
    later = bytes(explorer._figure_image.value)
    explorer.probe = 3
    other = bytes(explorer._figure_image.value)
    assert len({first, later, other}) == 3
    with pytest.raises(Exception, match="probe 20 is not a probe digit .*choose 0 to 19"):
        explorer.probe = 20
    assert explorer.probe == 3


# -- the drawing canvas's own JavaScript, in Chromium with a stand-in widget model -------------


CANVAS_PAGE = """<!doctype html><html><body><div id="el"></div><script type="module">
const state = {drawing: "", size: 224, brush: 18};
const handlers = {};
window.state = state;
const model = {
  get: (key) => state[key],
  set: (key, value) => { state[key] = value; (handlers["change:" + key] || []).forEach((f) => f()); },
  save_changes: () => { window.saved = (window.saved || 0) + 1; },
  on: (event, f) => { (handlers[event] = handlers[event] || []).push(f); },
};
const module = await import("data:text/javascript;base64,ESM");
module.default.render({ model, el: document.getElementById("el") });
window.ready = true;
</script></body></html>"""


@pytest.mark.slow
def test_canvas_javascript_draws_and_sends_a_png(tmp_path, trace):
    """Draw a 7 with the mouse: the canvas sends a PNG that prepares into a centred digit; clear empties it."""
    import base64
    import os

    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    if not os.path.exists("/usr/bin/chromium"):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from explainer.widgets.canvas import _ESM

    page_file = tmp_path / "canvas.html"
    page_file.write_text(CANVAS_PAGE.replace("ESM", base64.b64encode(_ESM.encode()).decode()))
    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path="/usr/bin/chromium", headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_page()
            page.goto(page_file.as_uri())
            page.wait_for_function("window.ready === true", timeout=15_000)
            box = page.locator("canvas").bounding_box()
            x0, y0 = box["x"], box["y"]
            page.mouse.move(x0 + 60, y0 + 50)
            page.mouse.down()
            for t in np.linspace(0, 1, 12):
                page.mouse.move(x0 + 60 + 110 * t, y0 + 50)
            for t in np.linspace(0, 1, 12):
                page.mouse.move(x0 + 170 - 75 * t, y0 + 50 + 140 * t)
            assert page.evaluate("window.state.drawing") == ""  # nothing is sent while the pen is down
            page.mouse.up()
            url = page.evaluate("window.state.drawing")
            assert page.evaluate("window.saved") == 1
            page.locator("button", has_text="clear").click()
            assert page.evaluate("window.state.drawing") == ""
        finally:
            browser.close()
    assert url.startswith("data:image/png;base64,")
    x = prepare_image(base64.b64decode(url.split(",", 1)[1]), (28, 28)).reshape(28, 28)
    rows, cols = np.indices(x.shape)
    assert abs((rows * x).sum() / x.sum() - 14) < 0.6 and abs((cols * x).sum() / x.sum() - 14) < 0.6
    assert x[:14].sum() > x[14:].sum() * 0.5 and 0.05 < (x > 0).mean() < 0.4  # a 7's bar on top, a stroke


def test_blitting_draws_what_a_full_redraw_draws():
    from explainer.figures.style import new_figure
    from explainer.widgets.blit import BlitFigure

    fig = new_figure(4, 3)
    ax = fig.subplots()
    ax.plot(np.arange(10), np.arange(10) ** 0.5, lw=2)
    ax.set_xlim(0, 9)
    cursor = ax.axvline(2, color="black")
    plot = BlitFigure(fig, [cursor])
    cursor.set_xdata([6, 6])
    blitted = plot.render().copy()  # the cursor moved from 2 to 6 over the saved background
    cursor.set_animated(False)
    fig.canvas.draw()  # everything drawn afresh, cursor included
    full = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    assert blitted.shape == full.shape
    assert (blitted != full).any(axis=2).mean() < 0.002  # at most where the cursor crosses the curve
    column = int(round(ax.transData.transform((2, 0))[0]))
    rows = slice(int(fig.bbox.height - ax.bbox.y1) + 5, int(fig.bbox.height - ax.bbox.y0) - 5)
    assert (blitted[rows, column] > 200).all(axis=1).mean() > 0.9  # no trace of the old cursor at x = 2


def test_histograms_count_like_numpy_with_explicit_edges():
    # run_spread bins by count and range (no sort): the counts must be those of its edges,
    # values on an edge included, values outside counted in the end bins
    from explainer.spread import BINS, _histogram

    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(10_000).astype(np.float32) * scale for scale in (0.01, 0.1, 1.0)]
    top = max(float(np.percentile(np.abs(a), 99.9)) for a in arrays)
    edges = np.linspace(-top, top, BINS + 1)
    arrays.append(np.concatenate([edges.astype(np.float32), [-50.0, 50.0]]))  # every edge, and beyond both ends
    counts = np.stack([_histogram(a, edges) for a in arrays])
    expected = np.stack([np.histogram(np.clip(a, edges[0], edges[-1]), edges)[0] for a in arrays])
    assert counts.shape == (len(arrays), BINS) and np.array_equal(counts, expected)
    assert counts[-1, 0] >= 2 and counts[-1, -1] >= 2  # -50 and +50 went to the end bins


# -- TrainingDashboard on a laptop: pages of tiles, a unit large, the cursor to the end -----


def test_a_clicked_tile_shows_its_unit_large_in_the_runs_colours(trace_path, trace):
    from explainer import filter_rgb

    dashboard = TrainingDashboard(trace_path)
    last = int(trace.snapshot_steps[-1])
    dashboard.step = last
    dashboard._filters_image.picked = 5  # what a click on the sixth tile sends from the browser
    assert dashboard.unit == 5 and dashboard.errors.message == ""
    view = dashboard._unit_view
    picture = decode(view._picture.value)
    h, w = trace.image_shape
    scale = (picture.shape[1] - 2 * FILTER_GAP) // w
    assert scale * w >= 150  # large: an 8x8 row at 24 screen pixels a weight
    W = trace.weights(last)[0][0][5].reshape(1, h, w)
    weights = picture[FILTER_GAP : FILTER_GAP + h * scale : scale, FILTER_GAP : FILTER_GAP + w * scale : scale]
    np.testing.assert_allclose(weights, filter_rgb(W, dashboard._vmax)[0], atol=1)
    a = trace.probe_record(last).a[0][:, 5]  # (n_probe,)
    assert f"<b>Unit 5</b> of layer 1, step {last}" in view._title.value
    assert f"mean a = {a.mean():.3g}, a &gt; 0 for {np.mean(a > 0):.0%}" in view._title.value
    curve = view._plot.fig.axes[0].lines[0]
    expected = [trace.probe_record(int(s)).a[0][:, 5].mean() for s in trace.snapshot_steps]
    np.testing.assert_allclose(curve.get_ydata(), expected, rtol=1e-6)


def test_a_wide_layer_shows_64_tiles_a_page_and_a_click_names_the_unit_of_its_page(tmp_path):
    from explainer.widgets.tile_picker import tile_at

    with TraceRecorder(tmp_path / "wide.zarr", schedule="every:20", n_probe=5) as recorder:
        run(Experiment.preset("digits", hidden=(70,), epochs=1), recorder=recorder, progress=False)
    dashboard = TrainingDashboard(tmp_path / "wide.zarr")
    picker = dashboard._filters_image
    assert (picker.count, picker.first, picker.cols) == (64, 0, 8)
    assert dashboard._page_words.value == "units 0 to 63 of 70" and dashboard._pager.layout.display != "none"
    dashboard.page = 1
    assert (picker.count, picker.first) == (6, 64) and dashboard._page_words.value == "units 64 to 69 of 70"
    tall, wide = decode(picker.value).shape[:2]
    assert wide == FILTER_GAP + 8 * (picker.tile_width + FILTER_GAP) and tall == FILTER_GAP + picker.tile_height + FILTER_GAP
    # the browser's rule: a click in the third tile of page 1 is unit 66
    x = FILTER_GAP + 2 * (picker.tile_width + FILTER_GAP) + picker.tile_width // 2
    j = tile_at(x, FILTER_GAP + 3, picker.gap, picker.tile_width, picker.tile_height, picker.cols, picker.count)
    picker.picked = picker.first + j
    assert dashboard.unit == 66 and "<b>Unit 66</b>" in dashboard._unit_view._title.value
    assert tile_at(x, FILTER_GAP + picker.tile_height + 10, picker.gap, picker.tile_width, picker.tile_height,
                   picker.cols, picker.count) is None  # below the six tiles: nothing
    with pytest.raises(Exception, match="page must be 0 to 1"):
        dashboard.page = 2


def test_the_cursor_stays_on_the_curves_at_the_last_snapshot(training, trace):
    training.step = int(trace.snapshot_steps[-1])  # the weights after the final update: step n_steps
    for ax, cursor in zip(training._curves_plot.fig.axes, training._cursors):
        x = ax.transData.transform((cursor.get_xdata()[0], 0))[0]  # in pixels
        assert ax.bbox.x0 < x < ax.bbox.x1 - 3, "at the last step the cursor hides under the axes' right edge"


def test_backprop_draws_a_chosen_units_dw_row_on_the_inputs_pixels(trace_path, trace):

    explorer = BackpropExplorer(trace_path, probe=2)
    explorer.step = int(trace.snapshot_steps[3])
    explorer.unit = 7
    delta, dW = explorer.digit_gradients()
    h, w = trace.image_shape
    picture = decode(explorer._row_image.value)
    scale = picture.shape[0] // h
    assert picture.shape[:2] == (h * scale, w * scale) and scale * h >= 150  # large, one block per weight
    row = dW[0][7].reshape(h, w)
    np.testing.assert_allclose(row, delta[0][7] * trace.probe_x[2].reshape(h, w), rtol=1e-6)  # delta times the digit
    top = np.abs(row).max()
    expected = colormaps[colours.SIGNS_CMAP](np.clip(row / top, -1, 1) / 2 + 0.5)[..., :3] * 255
    np.testing.assert_allclose(picture[::scale, ::scale], expected, atol=1)
    assert f"δ = {delta[0][7]:.3g}" in explorer._row_words.value
    assert ("raises these weights" if delta[0][7] < 0 else "lowers these weights") in explorer._row_words.value
    with pytest.raises(Exception, match="unit must be 0 to 15, a unit of layer 1"):
        explorer.unit = 16
    # 8x8 heatmaps are drawn a block per weight, not blurred
    assert all(image.get_interpolation() == "nearest" for image in explorer._dW_images)


def test_the_true_digit_is_marked_even_where_its_bar_is_too_low_to_see(trace_path, trace):
    explorer = ForwardExplorer(trace_path, step=int(trace.snapshot_steps[0]))  # the random start: mostly wrong
    for i, label in enumerate(trace.probe_labels):
        explorer.probe = i
        assert list(explorer._true_mark.get_xdata()) == [int(label)]
        assert explorer._bars[int(label)].get_facecolor()[:3] == pytest.approx(to_rgb(colours.RIGHT))
    explorer.canvas.png = digit_png(trace, 3, scale=25)  # a drawing has no true digit: no mark
    assert explorer.source == "drawing" and len(explorer._true_mark.get_xdata()) == 0


def test_activation_grids_have_no_frame_so_spare_cells_are_page_not_units(forward, trace):
    fig = forward._plot.fig
    hidden = [ax for ax in fig.axes if ax.images]
    assert len(hidden) == trace.n_layers - 1
    assert not any(spine.get_visible() for ax in hidden for spine in ax.spines.values())
    for image, shape, _ in forward._layer_images:
        spare = shape[0] * shape[1] - len(image.get_array().compressed())
        assert spare >= 0 and np.isnan(np.asarray(image.get_array().filled(np.nan)).ravel()[-spare:] if spare else []).all()


def test_backprop_shows_the_unit_the_digit_pulls_on_hardest_by_default(trace_path, trace):
    explorer = BackpropExplorer(trace_path, probe=4)
    k = trace.snapshot_index(explorer.step)
    delta = trace.probe_record(explorer.step).delta[0][4]  # (n_units,) layer 1's delta of this digit
    assert explorer.unit == int(np.argmax(np.abs(delta))) and explorer._unit_box.value == explorer.unit
    picture = decode(explorer._row_image.value)
    assert picture.min() < 200, "the default unit's row is blank"  # (an all-zero row draws all near-white)
    assert k == 0


def test_no_unit_is_read_until_a_tile_is_clicked(trace_path):
    dashboard = TrainingDashboard(trace_path)
    assert dashboard.unit == -1 and dashboard._unit_view._a is None  # every snapshot's probe record: not yet
    assert "Click a tile" in dashboard._unit_view._title.value
    dashboard._filters_image.picked = 3
    assert dashboard.unit == 3 and dashboard._unit_view._a is not None
    with pytest.raises(Exception, match="unit must be 0 to 15"):
        dashboard.unit = 16
