"""One door: the scenes and dashboards see the library only through its public names, read a run only
through the trace reader, and colour the first layer's filters by one rule.

The import rule is checked on the source (ast): every ``from explainer... import X`` in scenes/ and
widgets/ takes ``X`` from ``explainer``, ``explainer.trace`` or a chapter's module
(``explainer.chapters.backprop``: what a scene shows of a run) and ``X`` is in that module's
``__all__``; a public module taken that way (``figures``, ``colours``) is used only through its own
``__all__``.
"""

import ast
import importlib
import io
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import explainer
import explainer.trace
from explainer import Experiment, filter_range, run
from explainer.filters import FILTER_GAP, filter_rgb, tile_origin
from explainer.trace import Trace, TraceRecorder

ROOT = Path(__file__).resolve().parents[1]
DOORS = {"explainer": explainer, "explainer.trace": explainer.trace}
OWN = ("explainer.scenes", "explainer.widgets")  # a consumer's own package: not a door
CONSUMERS = sorted(p for folder in ("scenes", "widgets") for p in (ROOT / folder).rglob("*.py"))
READERS = sorted(p for folder in ("scenes", "widgets", "explainer/figures") for p in (ROOT / folder).rglob("*.py"))
# A trace's metadata read as JSON, by string key, instead of asked of the reader (trace.run, ...)
JSON_READS = {
    "config[...]": r"\.config\s*\[",
    "config.get(...)": r"\.config\.get\(",
    ".attrs": r"\.attrs\b",
    ".schema_version": r"\.schema_version\b",
    "trace.layers": r"trace\.layers\b",
    '["activation"]-style keys': r"""\[\s*["'](activation|shape|training|network|data|split|recording|steps_per_epoch"""
                                 r"""|total_steps|planned_snapshots|explainer_version|schema_version)["']\s*\]""",
}


def _relative(path):
    return str(path.relative_to(ROOT))


def door_violations(source):
    """What a consumer's source imports from explainer other than the doors' public names."""
    tree = ast.parse(source)
    found, modules = [], {}  # modules: local name -> a public module taken through a door
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "explainer" and alias.name not in DOORS and not alias.name.startswith(OWN):
                    found.append(f"line {node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module.split(".")[0] == "explainer":
            if node.module.startswith(OWN):
                continue
            door = DOORS.get(node.module) or _chapter(node.module)
            if door is None:
                found.append(f"line {node.lineno}: from {node.module} import ... (not explainer or explainer.trace)")
                continue
            for alias in node.names:
                if alias.name not in door.__all__:
                    found.append(f"line {node.lineno}: {alias.name} is not in {node.module}.__all__")
                elif (module := _submodule(node.module, alias.name)) is not None:
                    modules[alias.asname or alias.name] = module
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules:
            module = modules[node.value.id]
            if node.attr not in module.__all__:
                found.append(f"line {node.lineno}: {node.value.id}.{node.attr} is not in {module.__name__}.__all__")
    return found


def _chapter(module):
    """A chapter's module (``explainer.chapters.backprop``), or None for any other name."""
    package, _, name = module.rpartition(".")
    if package != "explainer.chapters" or name.startswith("_"):
        return None
    return _submodule(package, name)


def _submodule(package, name):
    """The public module ``package.name`` (``explainer.figures``), or None if ``name`` is not a module."""
    try:
        return importlib.import_module(f"{package}.{name}")
    except ModuleNotFoundError:
        return None


def json_reads(source):
    return [f"line {source.count(chr(10), 0, m.start()) + 1}: {what} ({m.group(0)!r})"
            for what, pattern in JSON_READS.items() for m in re.finditer(pattern, source)]


def test_there_are_consumers_to_check():
    names = {_relative(p) for p in CONSUMERS}
    assert {"scenes/choice.py", "scenes/pieces/filters.py", "widgets/common.py", "widgets/live_training.py"} <= names
    assert {"explainer/figures/weights.py", "explainer/figures/style.py"} <= {_relative(p) for p in READERS}


@pytest.mark.parametrize("path", CONSUMERS, ids=_relative)
def test_scenes_and_widgets_import_only_public_names_of_explainer_and_its_trace(path):
    assert door_violations(path.read_text()) == []


@pytest.mark.parametrize("path", READERS, ids=_relative)
def test_no_trace_metadata_is_read_as_json(path):
    assert json_reads(path.read_text()) == []


@pytest.mark.parametrize(("source", "expected"), [
    ("from explainer.data import prepare_image", "from explainer.data import ..."),
    ("from explainer.trace.reader import Trace", "from explainer.trace.reader import ..."),
    ("from explainer import metrics_of_mine", "metrics_of_mine is not in explainer.__all__"),
    ("import explainer.figures.style", "import explainer.figures.style"),
    ("from explainer import figures\nfigures.style.COLORS", "figures.style is not in explainer.figures.__all__"),
    ("from explainer.chapters.backprop import _after", "_after is not in explainer.chapters.backprop.__all__"),
    ("from explainer.chapters import backprop", "from explainer.chapters import ..."),
    ("from explainer.colours import RIGHT", "from explainer.colours import ..."),
])
def test_the_door_check_catches_a_way_round(source, expected):
    assert any(expected in line for line in door_violations(source)), door_violations(source)


def test_the_door_check_lets_public_names_through():
    assert door_violations("from explainer import Network, figures\nfrom explainer.trace import open_trace\n"
                           "figures.COLORS\nfrom explainer.scenes.palette import PALETTE\n"
                           "from explainer.chapters.backprop import backprop_story\n"
                           "from explainer import colours\ncolours.RIGHT\n") == []


@pytest.mark.parametrize("line", ['trace.config["training"]["epochs"]', "trace.attrs.get('steps_per_epoch')",
                                  "trace.layers[0]['activation']", 'n_out, n_in = layer["shape"]',
                                  "trace.schema_version < 4"])
def test_the_json_check_catches_a_key(line):
    assert json_reads(line)


# -- one colouring of the filters ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = tmp_path_factory.mktemp("door") / "tiny.zarr"
    with TraceRecorder(path, schedule="every:10", n_probe=10) as recorder:
        run(Experiment.preset("digits", hidden=(6,), epochs=1), recorder=recorder, progress=False)
    return Trace.open(path)


def _figure_tiles(trace, step):
    from explainer.figures import filters

    fig = filters(trace, step=step)
    return np.stack([ax.images[0].get_array() for ax in fig.axes if ax.images])  # (n, h, w, 3)


def _scene_tiles(trace, step, monkeypatch, tmp_path):
    from manim import tempconfig

    from explainer.scenes.first_layer_filters import FirstLayerFilters

    monkeypatch.setenv("EXPLAINER_TRACE", str(trace.path))
    with tempconfig({"dry_run": True, "disable_caching": True, "quality": "low_quality",
                     "media_dir": str(tmp_path / "media")}):
        scene = FirstLayerFilters()
        scene.setup()
        scene.construct()
    grid = next(m for m in scene.mobjects if type(m).__name__ == "FilterGrid")
    k = list(scene.steps).index(step)
    return np.stack([grid.tile(k, j)[..., :3] for j in range(grid.filters.shape[1])])


def _dashboard_tiles(trace, step):
    from PIL import Image

    from explainer.widgets import TrainingDashboard

    dashboard = TrainingDashboard(trace.path, step=step)
    picture = np.asarray(Image.open(io.BytesIO(bytes(dashboard._filters_image.value))).convert("RGB"))
    n, (h, w) = trace.sizes[1], trace.image_shape
    assert n <= 64, "the test trace fits on the dashboard's first page of tiles"
    scale, cols = dashboard._scale, dashboard._filters_image.cols  # the dashboard's own layout of a page
    tiles = []
    for j in range(n):
        y, x = tile_origin(j, (h, w), scale, cols, FILTER_GAP)
        tiles.append(picture[y : y + h * scale : scale, x : x + w * scale : scale])  # one pixel per weight
    return np.stack(tiles)


def test_the_figure_the_scene_and_the_dashboard_colour_the_same_weights_alike(tiny, monkeypatch, tmp_path):
    vmax = filter_range(tiny)
    for step in (int(tiny.snapshot_steps[0]), int(tiny.snapshot_steps[-1])):  # the start (faint) and the end
        expected = filter_rgb(tiny.first_layer_filters(step), vmax)  # (n, h, w, 3)
        figure = _figure_tiles(tiny, step)
        scene = _scene_tiles(tiny, step, monkeypatch, tmp_path)
        dashboard = _dashboard_tiles(tiny, step)
        np.testing.assert_array_equal(figure, expected)
        np.testing.assert_array_equal(scene, expected)
        np.testing.assert_array_equal(dashboard, expected)


# -- no repeats ------------------------------------------------------------------------------------------------

# what is written once, and where: a second definition in the package, the scenes or the dashboards is a repeat
ONCE = {
    r"def smooth\(": "explainer/figures/style.py",  # centred or trailing, by an argument
    r"def parse_hidden\(": "explainer/experiment.py",
    r"HIDDEN_ACTIVATIONS = ": "explainer/activations.py",
    r"np\.percentile\(np\.abs\(W\)": "explainer/filters.py",  # the filters' colour range
    r"def filter_mosaic\(": "explainer/filters.py",
}
NEVER = {"a nearest-snapshot search of its own (the reader has check_step / snapshot_index)": r"def _nearest\b|argmin\(np\.abs\("}


def test_each_rule_is_written_once():
    sources = {_relative(p): p.read_text() for folder in ("explainer", "scenes", "widgets")
               for p in (ROOT / folder).rglob("*.py")}
    for pattern, home in ONCE.items():
        assert [name for name, text in sources.items() if re.search(pattern, text)] == [home], pattern
    for what, pattern in NEVER.items():
        assert [name for name, text in sources.items() if re.search(pattern, text)] == [], what


# -- installed names: explainer.scenes and explainer.widgets, from the repository's scenes/ and widgets/ -----------

# `from widgets import ...` in a notebook, a doc or a test: a name a student's own widgets.py shadows
TOP_LEVEL = re.compile(r"""(^|["'\s])(from|import) (scenes|widgets)\b""", re.MULTILINE)


def test_nothing_imports_scenes_or_widgets_as_top_level_packages():
    paths = [p for folder in ("scenes", "widgets", "tests", "bench") for p in (ROOT / folder).rglob("*.py")]
    paths += [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "docs" / "notebooks").glob("*.ipynb")]
    found = [f"{_relative(p)}: {m.group(0).strip()!r}" for p in paths if p != Path(__file__)
             for m in TOP_LEVEL.finditer(p.read_text())]
    assert found == []


def test_a_student_s_own_widgets_py_does_not_shadow_the_dashboards(tmp_path):
    for name in ("widgets.py", "scenes.py"):
        (tmp_path / name).write_text("raise ImportError('a student\\'s own file')\n")
    code = ("import importlib.util as u, explainer.scenes.choice, explainer.widgets\n"
            "from explainer.widgets import TrainingDashboard\n"
            "print(explainer.scenes.__file__, explainer.widgets.__file__, u.find_spec('scenes').origin)")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    scenes, widgets, top = result.stdout.split()
    # the folders of this checkout (an editable install), or the installed package; never the student's files
    assert Path(scenes).parent.name == "scenes" and Path(widgets).parent.name == "widgets"
    assert Path(top) == tmp_path / "scenes.py"  # `scenes` is the student's own: the package never claims it


@pytest.mark.slow
def test_the_wheel_installs_explainer_scenes_and_widgets_and_no_top_level_package(tmp_path):
    source = tmp_path / "source"
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        source.mkdir(exist_ok=True)
        shutil.copy(ROOT / name, source / name)
    for folder in ("explainer", "scenes", "widgets"):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "-q",
                             "-w", str(tmp_path / "dist")], cwd=source, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert {"explainer/scenes/forward_pass.py", "explainer/scenes/pieces/filters.py", "explainer/widgets/__init__.py",
            "explainer/widgets/live_training.py", "explainer/live.py", "explainer/filters.py"} <= set(names)
    assert tops == {"explainer", next(t for t in tops if t.endswith(".dist-info"))}  # no scenes/, no widgets/
    info = next(t for t in tops if t.endswith(".dist-info"))
    metadata = zipfile.ZipFile(wheel).read(f"{info}/METADATA").decode()
    assert "\nName: explainer-nn\n" in metadata and "License-Expression: MIT" in metadata
    assert f"{info}/licenses/LICENSE" in names
