"""The notebooks in docs/notebooks/: stored clean, and executed headless the way CI runs them.

Each notebook is run in a fresh kernel (the repository's own Python) by nbclient, with the widget
state kept; the tests then read that state back, as a front end would: every image a dashboard
shows must be a real PNG picture (not the text ``<Figure size ...>`` that a figure becomes under the
wrong matplotlib backend), the dashboard's controls must be there, and no cell may fail.
"""

import base64
import io
import json
import re

import nbformat
import pytest
from jupyter_support import NOTEBOOKS, PNG_SIGNATURE, execute_notebook, png_bytes, widget_models

NOTEBOOK_FILES = sorted(NOTEBOOKS.glob("*.ipynb"))

# What each notebook must put on screen, by the CSS classes the dashboards give their parts
# (widget.add_class): a notebook that silently stopped showing its dashboard fails here.
EXPECTED = {
    "00_one_neuron.ipynb": set(),  # no dashboard: the student computes, the notebook checks
    "01_forward_explorer.ipynb": {"explainer-step-slider", "explainer-prediction", "explainer-upload"},
    "02_backprop_explorer.ipynb": {"explainer-step-slider"},
    "03_training_dashboard.ipynb": {"explainer-step-slider", "explainer-play", "explainer-filters"},
    "04_live_training.ipynb": {"explainer-play", "explainer-pause", "explainer-step-once", "explainer-loss"},
    "05_four_ways.ipynb": set(),  # no dashboard: four libraries' runs, their figures, two exercises
}
# the course's order: a beginner meets one neuron first, the densest dashboard late
COURSE = list(EXPECTED)


def test_every_dashboard_has_its_notebook():
    assert sorted(p.name for p in NOTEBOOK_FILES) == sorted(EXPECTED)


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_stored_without_outputs(path):
    """Notebooks are committed as source: no outputs, no execution counts, no saved widget state."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {i} holds outputs: clear them before committing"
            assert cell.execution_count is None, f"{path.name} cell {i} has an execution count"
    assert "widgets" not in nb.metadata, f"{path.name} holds saved widget state: clear it before committing"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", "the kernel must be the plain python3"
    assert any(c.cell_type == "markdown" for c in nb.cells), f"{path.name} explains nothing"


# ------------------------------------------------------------------ executed headless


def _classes(model):
    return set(model["state"].get("_dom_classes", []))


def _with_class(models, css):
    return [m for m in models.values() if css in _classes(m)]


def _check_png(data, where):
    """``data`` must be a PNG picture of some size with something drawn in it."""
    from PIL import Image

    assert not data.lstrip().startswith(b"<Figure"), f"{where} holds the text {data[:40]!r}, not a picture"
    assert data.startswith(PNG_SIGNATURE), f"{where} is not a PNG: starts with {data[:16]!r}"
    assert 200 < len(data) < 5_000_000, f"{where}: a PNG of {len(data)} bytes"
    image = Image.open(io.BytesIO(data))
    image.load()
    assert min(image.size) >= 16, f"{where}: a {image.size} picture is too small to show anything"
    extrema = image.convert("L").getextrema()
    assert extrema[0] != extrema[1], f"{where} is a blank picture (every pixel {extrema[0]})"


# The dashboards in each notebook whose `step` is checked against the slider on screen
SCRUBBING = {
    "01_forward_explorer.ipynb": {"ForwardExplorer"},
    "02_backprop_explorer.ipynb": {"BackpropExplorer"},
    "03_training_dashboard.ipynb": {"TrainingDashboard"},
    "04_live_training.ipynb": {"LiveTraining", "TrainingDashboard"},
}

REPLAYS = {"TrainingDashboard", "ForwardExplorer", "BackpropExplorer"}

# Appended to the executed copy only: reports, from inside the kernel, every dashboard object the
# notebook made and its `step` traitlet (plain Python traits are not part of the saved widget state)
REPORT_CELL = """
import json as _json, gc as _gc, ipywidgets as _widgets, traitlets as _traitlets
_report = {}
for _obj in _gc.get_objects():
    try:  # a weak proxy whose object is gone raises on any look at it
        _ours = isinstance(_obj, _widgets.Widget) and type(_obj).__module__.startswith("explainer.widgets.")
    except ReferenceError:
        continue
    if _ours:
        _trait = _obj.traits().get("step")
        _report[f"{type(_obj).__name__}@{id(_obj)}"] = {
            "class": type(_obj).__name__,
            "step": int(_obj.step) if _trait is not None else None,
            "int_step": isinstance(_trait, _traitlets.Int),
        }
print("DASHBOARDS " + _json.dumps(_report))
"""


def _slider_step(slider, name):
    """The step a step slider shows (a SelectionSlider over the snapshot steps, or an IntSlider)."""
    state = slider["state"]
    if slider["model_name"] == "SelectionSliderModel":
        labels = state["_options_labels"]
        assert len(labels) > 1, f"{name}: the step slider has nothing to scrub ({labels})"
        return int(labels[state["index"]])
    assert slider["model_name"] == "IntSliderModel", f"{name}: step slider is a {slider['model_name']}"
    assert state["max"] > state["min"], f"{name}: the step slider has nothing to scrub ({state})"
    return int(state["value"])


def _dashboards(nb):
    for out in nb.cells[-1].get("outputs", []):
        if out.output_type == "stream" and out.text.startswith("DASHBOARDS "):
            return json.loads(out.text.removeprefix("DASHBOARDS "))
    raise AssertionError(f"the report cell printed nothing: {nb.cells[-1].get('outputs')}")


@pytest.fixture(scope="session")
def mnist_on_disk():
    """MNIST's files, for the notebooks' 28x28 run: fetched once under CI=true, else a skip when missing."""
    import os

    from explainer.live import available_datasets

    if "mnist" not in available_datasets():
        if os.environ.get("CI", "").lower() != "true":
            pytest.skip("MNIST's files are not on this machine (`explainer data fetch mnist`); CI fetches them")
        from explainer.data import load_dataset

        load_dataset("mnist", progress=False)  # fetched once, then cached
    return True


def with_dataset(nb, dataset):
    """The notebook with its `DATASET = "digits"` switch set to ``dataset`` (a failure if it has none)."""
    switch = 'DATASET = "digits"'
    cells = [cell for cell in nb.cells if cell.cell_type == "code" and switch in cell.source]
    assert len(cells) == 1, f"the notebook must have one `{switch}` switch; found {len(cells)}"
    cells[0].source = cells[0].source.replace(switch, f'DATASET = "{dataset}"')
    return nb


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["digits", "mnist"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_runs_headless(name, dataset, tmp_path, request):
    """Run a copy (in a temporary folder: whatever it writes lands there) with a report cell added, on the 8x8
    digits and on MNIST."""
    if not (NOTEBOOKS / name).exists():
        pytest.fail(f"docs/notebooks/{name} is missing")
    if dataset == "mnist":
        request.getfixturevalue("mnist_on_disk")
    copy = with_dataset(nbformat.read(NOTEBOOKS / name, as_version=4), dataset)
    copy.cells.append(nbformat.v4.new_code_cell(REPORT_CELL))
    nbformat.write(copy, tmp_path / name)
    nb = execute_notebook(tmp_path / name, tmp_path / "jupyter", timeout=300)  # a failing cell raises here

    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            assert out.output_type != "error", f"cell {i} raised {out.get('ename')}: {out.get('evalue')}"
            if out.output_type == "stream" and out.name == "stderr":
                assert "Traceback" not in out.text and "Error" not in out.text, f"cell {i} stderr: {out.text}"
            text = out.get("data", {}).get("text/plain", "")
            if text.startswith("<Figure") and "image/png" not in out.get("data", {}):
                pytest.fail(f"cell {i} shows {text!r} instead of a picture (a non-inline matplotlib backend)")

    if not EXPECTED[name]:  # a notebook without a dashboard: its figures are pictures, and that is all
        assert any("image/png" in out.get("data", {}) for cell in nb.cells for out in cell.get("outputs", [])), \
            f"{name} drew no figure"
        return
    models = widget_models(nb)
    assert models, f"{name} displayed no widget"

    # every picture any widget holds is a real PNG
    def hidden(model):  # an image hidden on the page (display: none) is not a picture shown
        layout = models.get(str(model["state"].get("layout", "")).removeprefix("IPY_MODEL_"), {})
        return layout.get("state", {}).get("display") == "none"

    images = {mid: m for mid, m in models.items() if m["model_name"] == "ImageModel" and not hidden(m)}
    assert images, f"{name} shows no image"
    for mid, model in images.items():
        assert model["state"].get("format", "png") == "png", f"image {mid} is {model['state'].get('format')}"
        _check_png(png_bytes(model), f"{name}: image {mid} {sorted(_classes(model))}")

    # figures drawn into Output widgets are pictures too
    for mid, model in models.items():
        if model["model_name"] != "OutputModel":
            continue
        for out in model["state"].get("outputs", []):
            data = out.get("data", {})
            if data.get("text/plain", "").startswith("<Figure"):
                assert "image/png" in data, f"{name}: Output {mid} shows {data['text/plain']!r}, not a picture"
            if out.get("output_type") == "error":
                pytest.fail(f"{name}: Output {mid} caught {out.get('ename')}: {out.get('evalue')}")

    # the dashboard's parts are on screen
    present = set().union(*(_classes(m) for m in models.values()))
    missing = EXPECTED[name] - present
    assert not missing, f"{name} shows no widget with class {sorted(missing)}"

    shown_steps = set()
    for slider in _with_class(models, "explainer-step-slider"):
        shown_steps.add(_slider_step(slider, name))

    # every dashboard that scrubs exposes the step on screen as an int traitlet `step`
    dashboards = _dashboards(nb)
    assert dashboards, f"{name}: no dashboard of explainer.widgets is left in the notebook's namespace"
    for variable, found in dashboards.items():
        if found["step"] is None:
            continue
        assert found["int_step"], f"{name}: {variable}.step is not an Int traitlet: {found}"
        if found["class"] in REPLAYS:  # a replay's step is the one its slider shows
            assert found["step"] in shown_steps, f"{name}: {variable}.step = {found['step']}, sliders: {shown_steps}"
        if found["class"] == "LiveTraining":  # the notebook trains from code: the steps were taken
            assert found["step"] > 0, f"{name}: {variable} took no training step"
    scrubbing = {f["class"] for f in dashboards.values() if f["step"] is not None}
    assert scrubbing >= SCRUBBING.get(name, set()), f"{name}: no `step` traitlet on {SCRUBBING[name] - scrubbing}"

    for image in _with_class(models, "explainer-filters"):  # an Image, or the clickable TilePicker's data URL
        if image["model_name"] == "ImageModel":
            continue
        src = image["state"].get("src", "")
        assert src.startswith("data:image/png;base64,"), f"{name}: explainer-filters shows no PNG: {src[:40]!r}"
        _check_png(base64.b64decode(src.split(",", 1)[1]), f"{name}: the filters")

    for shown in _with_class(models, "explainer-prediction"):
        text = str(shown["state"].get("value", ""))
        assert any(ch.isdigit() for ch in text), f"{name}: the prediction shows no digit: {text!r}"

    for error in _with_class(models, "explainer-error"):  # nothing went wrong on the ordinary path
        state = error["state"]
        assert not str(state.get("value", "")).strip() and not state.get("outputs"), f"{name}: error shown: {state}"


def test_notebook_1s_faded_tiles_are_its_silent_units(tmp_path):
    # Notebook 1 says of its decay run that the tiles that fade out completely are framed: silent units.
    import numpy as np

    from explainer import Experiment, run
    from explainer.trace import Trace, TraceRecorder

    with TraceRecorder(tmp_path / "decay.zarr") as recorder:
        run(Experiment.preset("digits", hidden=(32,), lr=0.01, l2=0.003, epochs=10), recorder=recorder,
            progress=False)
    trace = Trace.open(tmp_path / "decay.zarr")
    s = int(trace.snapshot_steps[-1])
    size = np.linalg.norm(trace.weights(s)[0][0], axis=1)  # (32,) each unit's ||W_j||
    faded = np.flatnonzero(size < 0.1 * np.median(size))
    assert len(faded) and faded.tolist() == trace.silent_units(s).tolist()


# ------------------------------------------------------------------ the course


def test_the_notebooks_are_numbered_in_the_course_order():
    assert [p.name for p in NOTEBOOK_FILES] == COURSE


def test_each_notebook_links_to_the_glossary_and_the_next_one():
    glossary = (NOTEBOOKS.parent / "glossary.md").read_text()
    anchors = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
               for h in re.findall(r"^## (.+)$", glossary, flags=re.M)}
    for i, name in enumerate(COURSE):
        text = "\n".join(c.source for c in nbformat.read(NOTEBOOKS / name, as_version=4).cells
                         if c.cell_type == "markdown")
        links = re.findall(r"\]\(\.\./glossary\.md(#[^)]*)?\)", text)
        assert links, f"{name} never links to the glossary"
        for anchor in filter(None, links):
            assert anchor[1:] in anchors, f"{name} links to glossary{anchor}, which has no such heading"
        if i + 1 < len(COURSE):
            assert f"]({COURSE[i + 1]})" in text, f"{name} does not point to the next notebook, {COURSE[i + 1]}"


@pytest.mark.slow
def test_notebook_00_checks_each_exercise_against_the_run(tmp_path):
    """Filled in with the right computations every check says right; left as `...` each says not answered;
    a wrong answer is told wrong without the run's number."""
    answers = {"my_z = ...": "my_z = w @ x + b", "my_a = ...": "my_a = np.maximum(0, my_z)",
               "my_loss = ...": "my_loss = -np.log(p[story.label])", "my_next = ...": "my_next = start - lr * slope"}

    def run_with(replace):
        nb = nbformat.read(NOTEBOOKS / "00_one_neuron.ipynb", as_version=4)
        for cell in nb.cells:
            for blank, answer in replace.items():
                cell.source = cell.source.replace(blank, answer)
        nbformat.write(nb, tmp_path / "00.ipynb")
        out = execute_notebook(tmp_path / "00.ipynb", tmp_path / "jupyter", timeout=300)
        return [line for cell in out.cells for o in cell.get("outputs", []) if o.get("name") == "stdout"
                for line in o["text"].splitlines() if line[:1] in "✓✗…"]

    assert [line[0] for line in run_with(answers)] == ["✓"] * 4
    assert [line[0] for line in run_with({})] == ["…"] * 4
    wrong = run_with({"my_z = ...": "my_z = w @ x"})  # the bias left out
    assert wrong[0].startswith("✗ z:") and "Hint:" in wrong[0]


@pytest.mark.slow
def test_notebook_05_checks_its_exercises_and_runs_each_librarys_weights_in_explainer(tmp_path):
    """With the right answers both checks say right, left as `...` not answered; every library that ran gives
    its own answers through explainer's forward pass on nearly every test digit (the notebook's claim)."""
    answers = {"my_W = ...": "my_W = W_rows.T", "my_wrong = ...": "my_wrong = np.sum(r.predicted != comparison.labels)"}

    def run_with(replace):
        nb = nbformat.read(NOTEBOOKS / "05_four_ways.ipynb", as_version=4)
        for cell in nb.cells:
            for blank, answer in replace.items():
                cell.source = cell.source.replace(blank, answer)
        nbformat.write(nb, tmp_path / "05.ipynb")
        out = execute_notebook(tmp_path / "05.ipynb", tmp_path / "jupyter", timeout=300)
        return [line for cell in out.cells for o in cell.get("outputs", []) if o.get("name") == "stdout"
                for line in o["text"].splitlines()]

    lines = run_with(answers)
    assert [line[0] for line in lines if line[:1] and line[0] in "✓✗…"] == ["✓", "✓"]
    same = [float(re.search(r"on ([\d.]+)% of the test digits", line).group(1)) for line in lines
            if "in explainer's forward pass" in line]
    assert len(same) >= 2 and min(same) >= 99.5, lines
    assert [line[0] for line in run_with({}) if line[:1] and line[0] in "✓✗…"] == ["…", "…"]
