"""The CompareRuns dashboard in JupyterLab, in Debian's Chromium (the machinery of test_browser.py).

Two small runs are recorded here (a sigmoid and a relu network), a one-cell notebook shows them side by
side, and the dashboard must fit a 1366x768 laptop screen with JupyterLab's file browser open and follow
its slider. Screenshots go to ``$EXPLAINER_SCREENSHOTS`` (or a temporary folder, printed at the end).
"""

import json

import pytest
from jupyter_support import chromium_page, jupyter_lab, open_and_run_all, require_chromium, screenshot_dir

from explainer import Experiment, run
from explainer.trace import TraceRecorder

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOK = "compare_runs.ipynb"
CELL = 'from explainer.widgets import CompareRuns\nCompareRuns(["sigmoid.zarr", "relu.zarr"])'


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    require_chromium()
    root = tmp_path_factory.mktemp("compare-root")
    for activation in ("sigmoid", "relu"):
        with TraceRecorder(root / f"{activation}.zarr", n_probe=4) as recorder:
            run(Experiment.preset("digits", hidden=(32,), epochs=3, activation=activation), recorder=recorder,
                progress=False)
    notebook = {"cells": [{"cell_type": "code", "execution_count": None, "id": "compare", "metadata": {},
                           "outputs": [], "source": CELL}],
                "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
                "nbformat": 4, "nbformat_minor": 5}
    (root / NOTEBOOK).write_text(json.dumps(notebook))
    with jupyter_lab(root, tmp_path_factory.mktemp("lab-state")) as server:
        yield server


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    path = screenshot_dir(tmp_path_factory)
    yield path
    print(f"\nbrowser screenshots: {path}")


def test_compare_runs_fits_a_laptop_screen_and_follows_its_slider(lab, tmp_path_factory, shots):
    from playwright.sync_api import expect

    with chromium_page(tmp_path_factory.mktemp("chromium-profile"), width=1366, height=768) as page:
        panel = open_and_run_all(page, *lab, NOTEBOOK, timeout_ms=300_000)
        dashboard = panel.locator(".explainer-dashboard").first
        filters = dashboard.locator("img.explainer-filters").nth(1)  # the relu run's
        expect(filters).to_be_visible(timeout=60_000)
        dashboard.evaluate("e => e.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(500)
        page.screenshot(path=str(shots / "compare_runs_1366x768.png"))
        box = dashboard.bounding_box()
        view = panel.locator(".jp-WindowedPanel-outer, .jp-Notebook").first.bounding_box()
        assert box["x"] >= view["x"] and box["x"] + box["width"] <= view["x"] + view["width"], (box, view)
        assert box["height"] <= view["height"], f"{box['height']:.0f} px tall, the view {view['height']:.0f}"
        widest = dashboard.evaluate("e => Math.max(...[...e.querySelectorAll('img')].map(i => "
                                    "i.getBoundingClientRect().right))")
        assert widest <= box["x"] + box["width"] + 1, f"a picture reaches {widest:.0f}"

        slider = dashboard.locator(".explainer-step-slider")
        readout = slider.locator(".widget-readout")
        before, src = readout.inner_text().strip(), filters.get_attribute("src")
        slider.locator(".noUi-handle").focus()
        page.keyboard.press("End")  # the end of training
        expect(readout).not_to_have_text(before)
        expect(filters).not_to_have_attribute("src", src)  # the kernel sent the relu run's last filters
        page.wait_for_timeout(500)
        page.screenshot(path=str(shots / "compare_runs_end_1366x768.png"))
        assert all(not e.is_visible() for e in dashboard.locator(".explainer-error").all())
