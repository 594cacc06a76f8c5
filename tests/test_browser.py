"""The dashboards as a student meets them: a notebook opened in JupyterLab, in Debian's Chromium.

A JupyterLab server serves a copy of docs/notebooks/; Playwright drives Chromium (the system's
``/usr/bin/chromium``, never a downloaded browser) to run every cell and then use the dashboard with
the keyboard and the mouse, the way a student would. What is checked is what ends up on screen:
the filters picture changes when the step slider moves, and the predicted digit shown changes to the
right one when a picture of a digit is uploaded.

Screenshots go to ``$EXPLAINER_SCREENSHOTS`` (or a temporary folder, printed at the end).
Without Chromium these tests are skipped, except under ``CI=true``, where that is a failure.
"""

import re

import numpy as np
import pytest
from jupyter_support import (
    NOTEBOOKS,
    chromium_page,
    copy_notebooks,
    jupyter_lab,
    open_and_run_all,
    require_chromium,
    screenshot_dir,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TRAINING = "03_training_dashboard.ipynb"
FORWARD = "01_forward_explorer.ipynb"
COURSE_DASHBOARDS = [FORWARD, "02_backprop_explorer.ipynb", TRAINING, "04_live_training.ipynb"]


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    path = screenshot_dir(tmp_path_factory)
    yield path
    print(f"\nbrowser screenshots: {path}")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    require_chromium()
    from explainer.trace import default_trace

    default_trace(progress=False)  # built here if missing, not by a notebook cell (its progress bar is stderr)
    root = copy_notebooks(COURSE_DASHBOARDS, tmp_path_factory.mktemp("lab-root"))
    with jupyter_lab(root, tmp_path_factory.mktemp("lab-state")) as server:
        yield server


@pytest.fixture(scope="module")
def page(lab, tmp_path_factory):
    # tall enough that a whole dashboard fits on screen: element screenshots show all of it
    with chromium_page(tmp_path_factory.mktemp("chromium-profile"), width=1400, height=2400) as page:
        yield page


def _bring_to_top(page, locator):
    """Scroll the notebook so that ``locator``'s top is at the top of the view (whole-element screenshots)."""
    locator.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(300)  # let it paint


def _readout(slider):
    return slider.locator(".widget-readout").inner_text().strip()


def test_step_slider_changes_the_filters(lab, page, shots):
    from playwright.sync_api import expect

    panel = open_and_run_all(page, *lab, TRAINING)
    slider = panel.locator(".explainer-step-slider").first
    filters = panel.locator("img.explainer-filters, .explainer-filters img").first
    expect(filters).to_be_visible()
    dashboard = panel.locator(".explainer-dashboard").first
    _bring_to_top(page, dashboard)
    step_before, src_before, pixels_before = _readout(slider), filters.get_attribute("src"), filters.screenshot()
    # an ipywidgets Image shows a blob: URL; the clickable TilePicker a data: URL of the PNG
    assert src_before and src_before.startswith(("blob:", "data:image/png")), f"the filters image has no picture: {src_before[:40]!r}"
    dashboard.screenshot(path=str(shots / "training_before.png"))

    slider.locator(".noUi-handle").focus()  # ipywidgets 8 sliders are noUiSlider
    for _ in range(3):
        page.keyboard.press("ArrowRight")

    expect(slider.locator(".widget-readout")).not_to_have_text(step_before)
    step_after = _readout(slider)
    assert int(step_after) > int(step_before), f"the slider went from step {step_before} to {step_after}"
    expect(filters).not_to_have_attribute("src", src_before)  # the kernel sent a new picture
    page.wait_for_timeout(500)
    assert filters.screenshot() != pixels_before, "the filters picture on screen did not change"
    dashboard.screenshot(path=str(shots / "training_after.png"))

    page.keyboard.press("End")  # the trained network's filters, for the record
    expect(slider.locator(".widget-readout")).not_to_have_text(step_after)
    page.wait_for_timeout(500)
    dashboard.screenshot(path=str(shots / "training_end.png"))
    page.screenshot(path=str(shots / "training_page.png"))
    errors = panel.locator(".explainer-error")
    assert all(not e.is_visible() for e in errors.all()), "the dashboard shows an error"

    # the notebook's second dashboard replays a run with weight decay: by its end the noise of the
    # random start has faded, so the filters picture holds far more blank (near-white) pixels
    decayed = panel.locator(".explainer-dashboard").nth(1)
    decayed_filters = decayed.locator("img.explainer-filters, .explainer-filters img").first
    _bring_to_top(page, decayed)
    blank_start = _blank_share(decayed_filters.screenshot())
    decayed.locator(".explainer-step-slider .noUi-handle").focus()
    page.keyboard.press("End")
    expect(decayed.locator(".explainer-step-slider .widget-readout")).not_to_have_text("0")
    page.wait_for_timeout(500)
    blank_end = _blank_share(decayed_filters.screenshot())
    decayed.screenshot(path=str(shots / "training_decay_end.png"))
    print(f"weight-decay run, blank share of the filters: {blank_start:.2f} at step 0, {blank_end:.2f} at the end")
    assert blank_end > blank_start + 0.1, f"blank share of the filters: {blank_start:.2f} at step 0, {blank_end:.2f} at the end"


def _blank_share(png):
    """The share of near-white pixels in a screenshot (a filter weight near 0 is drawn white)."""
    import io

    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)
    return float((rgb.min(axis=2) > 230).mean())


# ------------------------------------------------------------------ a digit of one's own


def _forward(trace, x, step):
    """The network at ``step`` applied to one input ``x`` (n_in,): the output probabilities."""
    from explainer.activations import get_activation

    a = x[None, :].astype(np.float64)  # (1, n_in)
    for (W, b), activation in zip(trace.weights(step), trace.run.activations):
        z = a @ W.T.astype(np.float64) + b  # (1, n_out)
        a = get_activation(activation).forward(z)
    return a[0]


def _shown_digit(text):
    """The predicted digit in the prediction widget's text (the first digit after 'predict...')."""
    found = re.search(r"predict\w*\D*?(\d)", text, flags=re.IGNORECASE) or re.search(r"(\d)", text)
    assert found, f"no digit in the prediction shown: {text!r}"
    return int(found.group(1))


def _digit_picture(trace, avoid, folder):
    """A held-out test digit, drawn dark on light as a 64x64 PNG, that the network at the last
    snapshot reads correctly after the dashboard's own preprocessing, and whose digit is not
    ``avoid`` (the prediction on screen before the upload). Returns (path, digit)."""
    from PIL import Image

    from explainer.data import load_dataset
    from explainer.data.own_image import prepare_image

    data = load_dataset(trace.dataset, seed=trace.run.seed, progress=False)
    last = int(trace.snapshot_steps[-1])
    for x, label in zip(data.X_test, data.y_test):
        if label == avoid:
            continue
        ink = (np.asarray(x).reshape(trace.image_shape) / np.max(x) * 255).astype(np.uint8)
        picture = Image.fromarray(255 - ink).resize((64, 64), Image.Resampling.BILINEAR)
        path = folder / f"digit-{int(label)}.png"
        picture.save(path)
        seen = prepare_image(path, trace.image_shape)  # what the dashboard will feed the network
        probabilities = _forward(trace, seen, last)
        if int(np.argmax(probabilities)) == label and probabilities.max() > 0.9:
            return path, int(label)
    raise AssertionError("no test digit is read correctly after preprocessing: cannot make a fair upload")


def test_uploaded_digit_is_predicted(lab, page, shots, tmp_path):
    from playwright.sync_api import expect

    from explainer.trace import Trace, default_trace

    panel = open_and_run_all(page, *lab, FORWARD)
    prediction = panel.locator(".explainer-prediction").first
    expect(prediction).to_be_visible()
    before = _shown_digit(prediction.inner_text())
    dashboard = panel.locator(".explainer-dashboard").first
    _bring_to_top(page, dashboard)
    dashboard.screenshot(path=str(shots / "forward_before.png"))

    picture, digit = _digit_picture(Trace.open(default_trace(progress=False)), before, tmp_path)
    with page.expect_file_chooser() as chooser:  # click the upload button, as a student would
        panel.locator(".explainer-upload button").first.click()
    chooser.value.set_files(str(picture))

    expect(prediction).to_contain_text(str(digit))
    page.wait_for_timeout(500)
    shown = _shown_digit(prediction.inner_text())
    assert shown == digit != before, f"uploaded a {digit}; the dashboard shows {shown} (before: {before})"
    button = panel.locator(".explainer-upload button").first
    expect(button).to_contain_text(f"shown: {picture.name}")  # FileUpload read "upload a picture (0)" here
    assert "(0)" not in button.inner_text()
    dashboard.screenshot(path=str(shots / "forward_after_upload.png"))
    page.screenshot(path=str(shots / "forward_page.png"))
    errors = panel.locator(".explainer-error")
    assert all(not e.is_visible() for e in errors.all()), "the dashboard shows an error"


def test_drawn_digit_is_predicted(lab, page, shots):
    """Draw a 7 with the mouse; the prediction shown must be what the network makes of that drawing."""
    import base64

    from playwright.sync_api import expect

    from explainer.data.own_image import prepare_image
    from explainer.trace import Trace, default_trace

    if page.locator(".explainer-prediction").count() == 0:  # run on its own: open the notebook first
        open_and_run_all(page, *lab, FORWARD)
    panel = page.locator(".jp-NotebookPanel").first
    dashboard = panel.locator(".explainer-dashboard").first
    prediction = panel.locator(".explainer-prediction").first
    seen = panel.locator(".explainer-input").first  # what the network sees
    canvas = panel.locator(".explainer-canvas canvas").first
    _bring_to_top(page, dashboard)
    src_before = seen.get_attribute("src")

    box = canvas.bounding_box()
    assert box and box["width"] > 50, f"the drawing canvas is not on screen: {box}"
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
    stroke = [(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]  # a 7: the bar, then the slanted leg
    page.mouse.move(x0 + stroke[0][0] * w, y0 + stroke[0][1] * h)
    page.mouse.down()
    for (ax, ay), (bx, by) in zip(stroke, stroke[1:]):
        for t in np.linspace(0, 1, 12)[1:]:
            page.mouse.move(x0 + (ax + t * (bx - ax)) * w, y0 + (ay + t * (by - ay)) * h)
    page.mouse.up()

    expect(seen).not_to_have_attribute("src", src_before)  # the kernel prepared and showed the drawing
    # what the network at the step on screen makes of exactly these pixels
    url = canvas.evaluate("c => c.toDataURL('image/png')")
    trace = Trace.open(default_trace(progress=False))
    step = int(_readout(panel.locator(".explainer-step-slider").first))
    x = prepare_image(base64.b64decode(url.split(",", 1)[1]), trace.image_shape)
    expected = int(np.argmax(_forward(trace, x, step)))
    expect(prediction).to_contain_text(str(expected))
    page.wait_for_timeout(300)
    assert _shown_digit(prediction.inner_text()) == expected
    dashboard.screenshot(path=str(shots / "forward_after_drawing.png"))
    errors = panel.locator(".explainer-error")
    assert all(not e.is_visible() for e in errors.all()), "the dashboard shows an error"


def test_notebooks_under_test_exist():
    for name in (TRAINING, FORWARD):
        assert (NOTEBOOKS / name).exists(), f"docs/notebooks/{name} is missing"


def test_training_dashboard_on_a_laptop_screen(lab, page, shots):
    """At 1366x768, a common laptop screen, the whole training dashboard fits, and a click on a tile shows its unit."""
    from playwright.sync_api import expect

    size = page.viewport_size
    page.set_viewport_size({"width": 1366, "height": 768})
    try:
        panel = open_and_run_all(page, *lab, TRAINING)
        dashboard = panel.locator(".explainer-dashboard").first
        filters = dashboard.locator(".explainer-filters img").first
        expect(filters).to_be_visible()
        _bring_to_top(page, dashboard)
        page.screenshot(path=str(shots / "training_1366x768.png"))
        box = dashboard.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 1366, f"the dashboard is cut off: {box}"
        notebook = panel.locator(".jp-WindowedPanel-outer, .jp-Notebook").first.bounding_box()
        assert box["height"] <= notebook["height"], f"taller than the notebook's view ({notebook}): {box}"
        # the slider, the filters and the unit panel are all on screen at once
        slider = dashboard.locator(".explainer-step-slider").first
        for part in (slider, filters):
            part_box = part.bounding_box()
            assert part_box["y"] + part_box["height"] <= 768, f"off screen: {part_box}"
        tile = filters.bounding_box()
        # the tenth tile: second row, second column of an 8-column page
        pitch = tile["width"] / 8
        page.mouse.click(tile["x"] + 1.5 * pitch, tile["y"] + 1.5 * pitch)
        expect(dashboard.get_by_text("Unit 9 of layer 1")).to_be_visible(timeout=15_000)
        page.screenshot(path=str(shots / "training_unit_1366x768.png"))
    finally:
        page.set_viewport_size(size)


# ------------------------------------------------------------------ a class served the notebooks as pages


def test_voila_serves_a_notebook_as_a_page_without_code(tmp_path_factory, page, shots):
    """What a teacher serves a class: the forward explorer's notebook as a web page (Voila), no code cells,
    the dashboard working: a probe digit chosen in the page changes the prediction shown."""
    from jupyter_support import voila_server
    from playwright.sync_api import expect

    from explainer.trace import default_trace

    require_chromium()
    default_trace(progress=False)
    root = copy_notebooks([FORWARD], tmp_path_factory.mktemp("voila-root"))
    size = page.viewport_size
    page.set_viewport_size({"width": 1366, "height": 768})
    with voila_server(root / FORWARD, tmp_path_factory.mktemp("voila-state")) as url:
        page.goto(url, timeout=120_000)
        prediction = page.locator(".explainer-prediction").first
        expect(prediction).to_contain_text("predicted", timeout=120_000)
        page.wait_for_timeout(1000)
        page.screenshot(path=str(shots / "voila_forward_1366x768.png"))
        assert "ForwardExplorer(trace)" not in page.content(), "the page shows the notebook's code"
        assert page.locator(".jp-InputArea-editor, .CodeMirror, .cm-editor").count() == 0
        menu = page.locator(".explainer-dashboard select").first  # the probe digit menu
        options = [" ".join(text.split()) for text in menu.locator("option").all_inner_texts()]  # (no-break spaces)
        before = prediction.inner_text()
        shown = _shown_digit(before)
        target = next(i for i, text in enumerate(options) if not text.endswith(f"a {shown}"))  # another digit
        menu.select_option(index=target)
        expect(prediction).not_to_have_text(before, timeout=30_000)
        page.screenshot(path=str(shots / "voila_forward_other_digit.png"))
    page.set_viewport_size(size)


@pytest.mark.parametrize("name", COURSE_DASHBOARDS)
def test_each_notebooks_dashboard_fits_a_laptop_screen(lab, page, shots, name):
    """At 1366x768 with JupyterLab's file browser open, each notebook's first dashboard fits the notebook's view:
    nothing cut off at the sides, nothing below the fold once it is scrolled to the top."""
    size = page.viewport_size
    page.set_viewport_size({"width": 1366, "height": 768})
    try:
        panel = open_and_run_all(page, *lab, name, timeout_ms=300_000)
        dashboard = panel.locator(".explainer-dashboard").first
        _bring_to_top(page, dashboard)
        page.screenshot(path=str(shots / f"fits_{name[:2]}_1366x768.png"))
        box = dashboard.bounding_box()
        view = panel.locator(".jp-WindowedPanel-outer, .jp-Notebook").first.bounding_box()
        assert box["x"] >= view["x"] and box["x"] + box["width"] <= view["x"] + view["width"], (box, view)
        assert box["height"] <= view["height"], f"{name}: {box['height']:.0f} px tall, the view {view['height']:.0f}"
        # and no part of it is wider than the dashboard (a picture cut off at its right edge)
        widest = dashboard.evaluate("e => Math.max(...[...e.querySelectorAll('img, canvas')].map(i => "
                                    "i.getBoundingClientRect().right))")
        assert widest <= box["x"] + box["width"] + 1, f"{name}: a picture reaches {widest:.0f}, the dashboard ends at "\
                                                      f"{box['x'] + box['width']:.0f}"
    finally:
        page.set_viewport_size(size)
