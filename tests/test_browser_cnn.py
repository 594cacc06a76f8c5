"""The dashboards' CNN views in JupyterLab, in Debian's Chromium (the machinery of test_browser.py).

A tiny CNN's run is recorded here (conv 4 3, pool 2, 12, 10 on the 8x8 digits; or the trace named by
``$EXPLAINER_CNN_TRACE``, e.g. runs/cnn.zarr, MNIST's conv 16 5 and conv 32 5, to look at the largest maps),
and three one-cell notebooks show it: ForwardExplorer's feature maps follow the probe digit, the maps' quantity
and a digit drawn with the mouse; TrainingDashboard's kernels follow the slider and a click shows one large;
LiveTraining trains a CNN for a few steps and draws its kernels. Each fits a 1366x768 laptop screen with
JupyterLab's file browser open. Screenshots go to ``$EXPLAINER_SCREENSHOTS`` (or a temporary folder).
"""

import base64
import json
import os
from pathlib import Path

import numpy as np
import pytest
from jupyter_support import chromium_page, jupyter_lab, open_and_run_all, require_chromium, screenshot_dir

from explainer.cli import main
from explainer.trace import Trace

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CNN = ["--conv", "4", "--kernel", "3", "--padding", "valid", "--hidden", "12", "--epochs", "1", "--no-progress"]
CELLS = {
    "forward.ipynb": "from explainer.trace import open_trace\nfrom explainer.widgets import ForwardExplorer\n"
                     "trace = open_trace('cnn.zarr')\nForwardExplorer(trace, probe=trace.map_probes[1])",
    "training.ipynb": "from explainer.widgets import TrainingDashboard\nTrainingDashboard('cnn.zarr')",
    "live.ipynb": "from explainer.widgets import LiveTraining\n"
                  "LiveTraining(trace_path='live.zarr', arch='cnn', conv='8,16', hidden='32', epochs=10)",
}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    require_chromium()
    root = tmp_path_factory.mktemp("cnn-root")
    named = os.environ.get("EXPLAINER_CNN_TRACE")
    if named:
        (root / "cnn.zarr").symlink_to(Path(named).resolve())  # read only: its dashboard cache goes beside the link
    else:
        assert main(["train", *CNN, "--out", str(root / "cnn.zarr")]) == 0
    for name, cell in CELLS.items():
        notebook = {"cells": [{"cell_type": "code", "execution_count": None, "id": "cnn", "metadata": {},
                               "outputs": [], "source": cell}],
                    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
                    "nbformat": 4, "nbformat_minor": 5}
        (root / name).write_text(json.dumps(notebook))
    with jupyter_lab(root, tmp_path_factory.mktemp("lab-state")) as server:
        yield server, root


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    path = screenshot_dir(tmp_path_factory)
    yield path
    print(f"\nbrowser screenshots: {path}")


@pytest.fixture(scope="module")
def page(lab, tmp_path_factory):
    with chromium_page(tmp_path_factory.mktemp("chromium-profile"), width=1366, height=768) as page:
        yield page


def _open(page, lab, name):
    (server, _root) = lab
    panel = open_and_run_all(page, *server, name, timeout_ms=300_000)
    dashboard = panel.locator(".explainer-dashboard").first
    return panel, dashboard


def _fits(panel, dashboard, name, screenshot):
    """The dashboard, scrolled to the top (and photographed), lies inside the notebook's view: nothing cut off,
    nothing below."""
    dashboard.evaluate("e => e.scrollIntoView({block: 'start'})")
    dashboard.page.wait_for_timeout(500)
    dashboard.page.screenshot(path=str(screenshot))
    box = dashboard.bounding_box()
    view = panel.locator(".jp-WindowedPanel-outer, .jp-Notebook").first.bounding_box()
    assert box["x"] >= view["x"] and box["x"] + box["width"] <= view["x"] + view["width"], (name, box, view)
    assert box["height"] <= view["height"], f"{name}: {box['height']:.0f} px tall, the view {view['height']:.0f}"
    widest = dashboard.evaluate("e => Math.max(...[...e.querySelectorAll('img, canvas')].map(i => "
                                "i.getBoundingClientRect().right))")
    assert widest <= box["x"] + box["width"] + 1, f"{name}: a picture reaches {widest:.0f}"
    print(f"{name}: {box['width']:.0f} x {box['height']:.0f} px in a view of {view['width']:.0f} x {view['height']:.0f}")


def _no_error(dashboard):
    assert all(not e.is_visible() for e in dashboard.locator(".explainer-error").all()), "the dashboard shows an error"


def test_forward_explorer_shows_the_feature_maps_and_a_drawn_digit_goes_through_the_cnn(page, lab, shots):
    from playwright.sync_api import expect

    from explainer.data.own_image import prepare_image

    panel, dashboard = _open(page, lab, "forward.ipynb")
    trace = Trace.open(lab[1] / "cnn.zarr")
    maps = dashboard.locator("img.explainer-feature-maps")
    expect(maps.first).to_be_visible(timeout=60_000)
    assert maps.count() == len(trace.run.maps)  # one picture per convolution and pooling layer
    for k in range(maps.count()):
        assert maps.nth(k).bounding_box()["width"] > 40
    _fits(panel, dashboard, "ForwardExplorer on a CNN", shots / "cnn_forward_1366x768.png")
    expect(dashboard.get_by_text("recorded in the trace", exact=False)).to_be_visible()

    first = maps.first.get_attribute("src")
    dashboard.get_by_role("button", name="z", exact=True).click()  # the maps before the activation
    expect(maps.first).not_to_have_attribute("src", first)
    _fits(panel, dashboard, "ForwardExplorer on a CNN, z", shots / "cnn_forward_z_1366x768.png")
    dashboard.get_by_role("button", name="a = f(z)").click()

    prediction = dashboard.locator(".explainer-prediction").first
    canvas = dashboard.locator(".explainer-canvas canvas").first
    src = maps.first.get_attribute("src")
    box = canvas.bounding_box()
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
    stroke = [(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]  # a 7: the bar, then the slanted leg
    page.mouse.move(x0 + stroke[0][0] * w, y0 + stroke[0][1] * h)
    page.mouse.down()
    for (ax, ay), (bx, by) in zip(stroke, stroke[1:]):
        for t in np.linspace(0, 1, 12)[1:]:
            page.mouse.move(x0 + (ax + t * (bx - ax)) * w, y0 + (ay + t * (by - ay)) * h)
    page.mouse.up()
    expect(maps.first).not_to_have_attribute("src", src)  # the drawing's maps, computed by the kernel
    expect(dashboard.get_by_text("computed by the network of step", exact=False)).to_be_visible()
    url = canvas.evaluate("c => c.toDataURL('image/png')")
    step = int(dashboard.locator(".explainer-step-slider .widget-readout").first.inner_text().strip())
    x = prepare_image(base64.b64decode(url.split(",", 1)[1]), trace.image_shape)
    expected = int(trace.network(step).predict(x[None])[0])
    expect(prediction).to_contain_text(f"predicted: {expected}")
    _fits(panel, dashboard, "ForwardExplorer on a CNN, a drawn digit", shots / "cnn_forward_drawn_1366x768.png")
    _no_error(dashboard)


def test_training_dashboard_shows_the_kernels_forming(page, lab, shots):
    from playwright.sync_api import expect

    panel, dashboard = _open(page, lab, "training.ipynb")
    kernels = dashboard.locator(".explainer-filters img").first
    expect(kernels).to_be_visible(timeout=60_000)
    expect(dashboard.get_by_text("First-layer kernels", exact=False)).to_be_visible()
    _fits(panel, dashboard, "TrainingDashboard on a CNN", shots / "cnn_training_1366x768.png")

    slider = dashboard.locator(".explainer-step-slider")
    readout = slider.locator(".widget-readout")
    before, src = readout.inner_text().strip(), kernels.get_attribute("src")
    slider.locator(".noUi-handle").focus()
    page.keyboard.press("End")  # the trained network's kernels
    expect(readout).not_to_have_text(before)
    expect(kernels).not_to_have_attribute("src", src)
    tile = kernels.bounding_box()
    n = Trace.open(lab[1] / "cnn.zarr").run.shapes[0][0]
    pitch = tile["width"] / min(8, n)  # as many columns as kernels, up to 8
    page.mouse.click(tile["x"] + 1.5 * pitch, tile["y"] + 0.5 * pitch)  # the second kernel
    expect(dashboard.get_by_text("Kernel 1 of layer 1", exact=False)).to_be_visible(timeout=15_000)
    page.wait_for_timeout(300)
    page.screenshot(path=str(shots / "cnn_training_end_1366x768.png"))
    histograms = dashboard.locator(".widget-tab img").nth(1)  # the tab's second picture: a hint until opened
    hint = histograms.get_attribute("src")
    dashboard.get_by_role("tab", name="histograms").click()  # W and dW per layer, the convolutions' too
    expect(histograms).to_be_visible()
    expect(histograms).not_to_have_attribute("src", hint)  # drawn by the kernel when the tab opened
    _fits(panel, dashboard, "TrainingDashboard on a CNN, histograms", shots / "cnn_training_histograms_1366x768.png")
    _no_error(dashboard)


def test_live_training_trains_a_cnn_and_draws_its_kernels(page, lab, shots):
    from playwright.sync_api import expect

    panel, dashboard = _open(page, lab, "live.ipynb")
    kernels = dashboard.locator("img.explainer-filters").first
    expect(kernels).to_be_visible(timeout=60_000)
    _fits(panel, dashboard, "LiveTraining with a CNN", shots / "cnn_live_start_1366x768.png")
    blank = kernels.get_attribute("src")
    step = dashboard.locator(".explainer-step-once").first
    for _ in range(3):
        step.click()
        page.wait_for_timeout(300)
    status = dashboard.get_by_text("step 3 of", exact=False)
    expect(status).to_be_visible(timeout=60_000)
    expect(kernels).not_to_have_attribute("src", blank)  # the run's kernels, read back from its trace
    expect(dashboard.get_by_text("3×3 kernels of layer 1", exact=False)).to_be_visible()
    dashboard.locator(".explainer-play").first.click()  # and play: it trains in the background (50 steps/s)
    pause = dashboard.locator(".explainer-pause").first
    expect(pause).to_be_enabled()
    page.wait_for_timeout(1000)
    pause.click()
    expect(dashboard.locator(".explainer-play").first).to_be_enabled(timeout=30_000)
    expect(dashboard.get_by_text("paused", exact=False)).to_be_visible()
    page.wait_for_timeout(500)
    page.screenshot(path=str(shots / "cnn_live_1366x768.png"))
    _no_error(dashboard)
