"""Scenes: the pictures follow the recorded numbers, bad choices fail in one line,
and a scene renders its last frame from a tiny real trace."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from explainer import Experiment, filter_range, run
from explainer.filters import filter_rgb, snapshot_range
from explainer.trace import Trace, TraceRecorder

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny_trace(tmp_path_factory):
    path = tmp_path_factory.mktemp("scenes") / "tiny.zarr"
    with TraceRecorder(path, schedule="every:10", n_probe=10) as recorder:
        run(Experiment.preset("digits", hidden=(6,), epochs=1), recorder=recorder, progress=False)
    return path


def test_diverging_colours_follow_the_sign():
    white, red, blue = filter_rgb(np.array([0.0, 1.0, -1.0]), 1.0).astype(int)
    assert min(white) > 230  # zero is the light middle of the map
    assert red[0] > red[1] + 50 and red[0] > red[2] + 50  # positive: (dark) red
    assert blue[2] > blue[0] + 50 and blue[2] > blue[1] + 30  # negative: (dark) blue
    # beyond the limit colours saturate instead of wrapping
    np.testing.assert_array_equal(filter_rgb(np.array([5.0]), 1.0), filter_rgb(np.array([1.0]), 1.0))
    assert snapshot_range(np.array([0.0, 0.0])) == 1.0  # never a zero range


def test_filter_tiles_are_the_recorded_weights(tiny_trace):
    from explainer.scenes.pieces import FilterGrid

    trace = Trace.open(tiny_trace)
    filters = np.stack([trace.first_layer_filters(int(s)) for s in trace.snapshot_steps])
    vmax = filter_range(trace)
    assert vmax == max(np.percentile(np.abs(f), 99) for f in filters)  # one range: the run's
    grid = FilterGrid(filters, vmax, columns=3)
    for k in (0, len(filters) - 1):
        for j in range(filters.shape[1]):
            np.testing.assert_array_equal(grid.tile(k, j)[..., :3], filter_rgb(filters[k, j], vmax))
            assert (grid.tile(k, j)[..., 3] == 255).all()
    grid.show(len(filters) - 1)
    np.testing.assert_array_equal(grid.pixel_array, grid.frames[-1])
    # what the grid shows at the end is the last snapshot's W, reshaped
    np.testing.assert_array_equal(filters[-1].reshape(6, 64), trace.weights(int(trace.snapshot_steps[-1]))[0][0])


def test_a_loss_curve_drawn_as_training_goes_uses_no_later_loss():
    from explainer.figures import smooth
    from explainer.scenes.pieces import LossCurve

    loss = np.linspace(2.0, 0.1, 120) + np.random.default_rng(1).normal(0, 0.05, 120)
    curve = LossCurve(loss)
    np.testing.assert_allclose(curve.smoothed, smooth(loss, 2, centred=False))  # 120 // 60 steps, trailing
    assert curve.smoothed[0] == loss[0]


def test_a_tile_box_surrounds_its_tile(tiny_trace):
    from manim import DOWN, RIGHT, UL

    from explainer.scenes.pieces import FilterGrid

    trace = Trace.open(tiny_trace)
    filters = np.stack([trace.first_layer_filters(int(s)) for s in trace.snapshot_steps])  # (n, 6, 8, 8)
    grid = FilterGrid(filters, 1.0, columns=3, height=3.0)
    px = 3.0 / grid.frames.shape[1]  # scene units per mosaic pixel
    for j in range(6):
        r, c = divmod(j, 3)
        box = grid.tile_box(j, "#FFFFFF", buff=0)
        centre = grid.get_corner(UL) + (1 + c * 9 + 4) * px * RIGHT + (1 + r * 9 + 4) * px * DOWN  # 1 px apart
        np.testing.assert_allclose(box.get_center(), centre, atol=1e-9)
        assert box.width == pytest.approx(8 * px) and box.height == pytest.approx(8 * px)


def test_first_layer_filters_outlines_the_units_silent_for_every_probe_digit(tmp_path, monkeypatch):
    from manim import tempconfig

    from explainer import fit
    from explainer.data import load_dataset
    from explainer.scenes.first_layer_filters import FirstLayerFilters

    experiment = Experiment.preset("digits", hidden=(6,), epochs=1)
    data = load_dataset("digits", seed=experiment.seed)
    net = experiment.network(64, 10)
    net.layers[0].b[[1, 4]] = -100.0  # z < 0 for every digit: these two never fire
    with TraceRecorder(tmp_path / "dead.zarr", schedule="every:10", n_probe=10) as recorder:
        fit(net, data, experiment.train_config(), recorder=recorder, progress=False)
    trace = Trace.open(tmp_path / "dead.zarr")
    silent = np.flatnonzero(~trace.probe_record(int(trace.snapshot_steps[-1])).a[0].any(axis=0)).tolist()
    assert {1, 4} <= set(silent) and len(silent) < 6

    monkeypatch.setenv("EXPLAINER_TRACE", str(tmp_path / "dead.zarr"))
    with tempconfig({"dry_run": True, "disable_caching": True, "quality": "low_quality",
                     "media_dir": str(tmp_path / "media")}):
        scene = FirstLayerFilters()
        scene.setup()
        scene.construct()
    assert scene.silent == silent and len(scene.outlines) == len(silent)
    grid = next(m for m in scene.mobjects if type(m).__name__ == "FilterGrid")
    for j, box in zip(silent, scene.outlines):
        np.testing.assert_allclose(box.get_center(), grid.tile_box(j, "#FFFFFF").get_center())
    words = scene.note.lines_text.text  # Manim keeps the glyphs' text, without the spaces
    assert f"units {', '.join(map(str, silent))}, silent (a = 0) for all 10 probe digits".replace(" ", "") in words


def choose(monkeypatch, capsys, function, **env):

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exit:
        function()
    err = capsys.readouterr().err.strip().splitlines()
    assert exit.value.code == 2 and len(err) == 1
    return err[0]


def test_bad_choices_stop_with_one_line(tiny_trace, monkeypatch, capsys):
    from explainer.scenes import choice

    trace = Trace.open(tiny_trace)
    assert "has steps 0 to 39" in choose(monkeypatch, capsys, lambda: choice.chosen_step(trace), EXPLAINER_STEP="500")
    assert "must be a whole number" in choose(monkeypatch, capsys, lambda: choice.chosen_step(trace),
                                              EXPLAINER_STEP="late")
    assert "choose 0 to 9" in choose(monkeypatch, capsys, lambda: choice.chosen_sample(trace), EXPLAINER_SAMPLE="10")
    assert "no trace at" in choose(monkeypatch, capsys, choice.chosen_trace, EXPLAINER_TRACE="/nonexistent.zarr")


@pytest.mark.parametrize(("variable", "option", "value"), [
    ("EXPLAINER_STEP", "--step", "500"), ("EXPLAINER_STEP", "--step", "-1"), ("EXPLAINER_STEP", "--step", "2.5"),
    ("EXPLAINER_SAMPLE", "--sample", "10"), ("EXPLAINER_SAMPLE", "--sample", "-3"),
])
def test_a_scene_refuses_a_choice_as_explainer_render_does(tiny_trace, monkeypatch, capsys, variable, option, value):
    from explainer.cli.render import check_choices
    from explainer.scenes import choice
    from explainer.trace import TraceError

    trace = Trace.open(tiny_trace)
    chosen = choice.chosen_step if variable == "EXPLAINER_STEP" else choice.chosen_sample
    scene_says = choose(monkeypatch, capsys, lambda: chosen(trace), **{variable: value})
    number = int(value) if value.lstrip("-").isdigit() else value
    with pytest.raises(TraceError) as cli:
        check_choices("ForwardPass", trace, **{option.strip("-"): number})
    assert scene_says == f"explainer: error: {str(cli.value).replace(option, variable)}"  # one check, one message


def test_a_step_picks_the_nearest_snapshot(tiny_trace, monkeypatch):
    from explainer.scenes import choice

    trace = Trace.open(tiny_trace)
    monkeypatch.setenv("EXPLAINER_STEP", "13")
    assert choice.chosen_step(trace) == 10
    monkeypatch.delenv("EXPLAINER_STEP")
    assert choice.chosen_step(trace) == 39


def render_last_frame(tiny_trace, tmp_path, scene_file, scene, **env):
    return subprocess.run(
        [sys.executable, "-m", "manim", "render", "-ql", "-s", "--media_dir", str(tmp_path), scene_file, scene],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "EXPLAINER_TRACE": str(tiny_trace), **env},
    )


def test_first_layer_filters_renders_its_last_frame(tiny_trace, tmp_path):
    from PIL import Image

    result = render_last_frame(tiny_trace, tmp_path, "scenes/first_layer_filters.py", "FirstLayerFilters")
    assert result.returncode == 0, result.stderr[-2000:]
    (png,) = tmp_path.rglob("FirstLayerFilters*.png")
    pixels = np.asarray(Image.open(png).convert("RGB"))
    assert pixels.shape[:2] == (480, 854)
    # the diverging colours of the filters are on screen, not just the dark background
    reds = (pixels[..., 0] > 150) & (pixels[..., 2] < 120)
    blues = (pixels[..., 2] > 150) & (pixels[..., 0] < 120)
    assert reds.sum() > 200 and blues.sum() > 200


def test_a_bad_choice_under_manim_is_one_line(tiny_trace, tmp_path):
    result = render_last_frame(tiny_trace, tmp_path, "scenes/first_layer_filters.py", "FirstLayerFilters",
                               EXPLAINER_STEP="99999")
    assert result.returncode != 0
    assert "explainer: error: EXPLAINER_STEP 99999 is outside the run" in result.stderr
    assert "Traceback" not in result.stderr and "╭" not in result.stderr


def test_explainer_render_wraps_manim(tiny_trace, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "explainer", "render", "FirstLayerFilters", "--trace", str(tiny_trace),
         "--last-frame", "--media-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,  # from any folder
    )
    assert result.returncode == 0, result.stderr[-2000:]
    written = Path(result.stdout.strip().splitlines()[-1].removeprefix("wrote "))
    assert written.suffix == ".png" and written.is_file() and str(written).startswith(str(tmp_path))
    assert "Rendered FirstLayerFilters" in result.stderr  # Manim's own output passes through, on stderr


def test_manim_output_passes_through_as_it_comes(capfd):
    from explainer.cli.render import run_passing_through

    script = "import sys; print('frame 1\\rframe 2', end='', flush=True); sys.stderr.write('\\nBoom: bad scene\\n')"
    code, output = run_passing_through([sys.executable, "-c", script], env=os.environ, cwd=ROOT, echo=True)
    assert code == 0 and output.splitlines()[-1] == "Boom: bad scene"  # the tail, for the error message
    assert "frame 1\rframe 2" in capfd.readouterr().err  # passed through untouched, carriage returns included
    code, output = run_passing_through([sys.executable, "-c", "import sys; print('x' * 100); sys.exit(3)"],
                                       env=os.environ, cwd=ROOT, echo=False, keep=10)
    assert code == 3 and capfd.readouterr().err == "" and output.strip().endswith("x")


@pytest.mark.parametrize(
    "args,expected",
    [(["--step", "100000"], "--step 100000 is outside the run"), (["--sample", "99"], "--sample 99 is not a probe"),
     (["--trace", "/nonexistent.zarr"], "no trace at"), (["--quality", "x"], "invalid choice: 'x'")],
)
def test_explainer_render_refuses_bad_choices_in_one_line(tiny_trace, args, expected):
    trace = [] if "--trace" in args else ["--trace", str(tiny_trace)]
    result = subprocess.run([sys.executable, "-m", "explainer", "render", "FirstLayerFilters", *trace, *args],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and expected in result.stderr


def test_network_diagram_follows_the_recorded_numbers(tiny_trace):
    from explainer.scenes.pieces.network import WIDTH_BINS, NetworkDiagram, edge_style, neuron_opacity

    trace = Trace.open(tiny_trace)
    step = int(trace.snapshot_steps[-1])
    record, (W, _) = trace.probe_record(step), trace.weights(step)[0]
    net = NetworkDiagram(trace.sizes, max_shown=8)
    # the 64-wide input is truncated to its first and last 4 units, with its width written beside it
    np.testing.assert_array_equal(net.shown[0], [0, 1, 2, 3, 60, 61, 62, 63])
    assert "64" in [t.text for t in net.extras if hasattr(t, "text")]
    # a neuron's fill follows its recorded activation
    a = record.a[0][0]
    net.set_activations(1, a)
    expected = neuron_opacity(a[net.shown[1]])
    np.testing.assert_allclose([c.get_fill_opacity() for c in net.layers[1]], expected)
    assert net.layers[1][int(np.argmax(a))].get_fill_opacity() == 1.0
    # the output layer shows the probabilities themselves
    p = record.probabilities[0]
    net.set_activations(len(trace.sizes) - 1, p)
    np.testing.assert_allclose([c.get_fill_opacity() for c in net.layers[-1]], p[net.shown[-1]], rtol=1e-6)
    # an edge's colour follows its weight's sign; every drawn edge is one segment of one group
    positive, bins = edge_style(W[np.ix_(net.shown[1], net.shown[0])])
    edges = net.edges_from(0, W)
    reds = sum(len(path.get_subpaths()) for path in edges if path.get_stroke_color().to_hex() == "#D6604D")
    blues = sum(len(path.get_subpaths()) for path in edges if path.get_stroke_color().to_hex() == "#4393C3")
    assert reds == positive.sum() and blues == (~positive).sum()
    assert len(edges) <= 2 * WIDTH_BINS
    assert bins.max() == WIDTH_BINS - 1  # the largest |W| gets the widest stroke


def test_wide_hidden_layers_show_the_units_this_digit_drives_hardest(tiny_trace):
    from explainer.scenes.pieces.network import NetworkDiagram, most_active, shown_units_for

    trace = Trace.open(tiny_trace)
    step = int(trace.snapshot_steps[-1])
    record = trace.probe_record(step)
    sample = 3
    units = shown_units_for(trace.probe_x[sample], record, sample, 4)
    net = NetworkDiagram(trace.sizes, max_shown=4, units=units)
    assert trace.sizes[1] > 4
    for layer in range(1, trace.n_layers):  # the hidden layers, wider than 4
        z = record.z[layer - 1][sample]
        shown = net.shown[layer]
        assert len(shown) == 4 and np.all(np.diff(shown) > 0)  # in index order
        assert z[shown].min() >= np.delete(z, shown).max()  # no unit left out has a larger z
        assert [label.text for label in net.unit_labels[layer]] == [str(i) for i in shown]
    assert len(net.shown[-1]) == 4  # the 10 outputs are wider than 4 too, but never chosen: first and last
    np.testing.assert_array_equal(most_active([0.1, -2.0, 3.0, 0.5], 2), [2, 3])


def test_a_wide_input_layer_shows_pixels_with_ink(tiny_trace):
    from explainer.scenes.pieces import DigitImage
    from explainer.scenes.pieces.network import NetworkDiagram, inked_inputs

    trace = Trace.open(tiny_trace)
    for x in trace.probe_x[:5]:  # 8x8 digits: 64 inputs, 10 drawn
        chosen = inked_inputs(x, 10)
        inked = np.flatnonzero(x >= 0.5 * x.max())
        assert len(np.unique(chosen)) == 10 and np.all(np.diff(chosen) > 0)  # distinct, in reading order
        assert np.all(x[chosen] >= 0.5 * x.max())  # every drawn input carries ink
        assert chosen[0] == inked[0] and chosen[-1] == inked[-1]  # spread over the whole stroke
        net = NetworkDiagram(trace.sizes, max_shown=10, units={0: chosen})
        np.testing.assert_array_equal(net.shown[0], chosen)
        assert [label.text for label in net.input_labels] == [str(i) for i in chosen]  # which pixels they are

    # a 28x28 digit: a stroke in the middle, blank borders; the column shows the stroke, the brace 784
    image = np.zeros((28, 28))
    image[6:22, 13:15] = 1.0
    x = image.ravel()
    net = NetworkDiagram([784, 16, 10], max_shown=10, units={0: inked_inputs(x, 10)})
    assert np.all(x[net.shown[0]] == 1.0) and len(net.shown[0]) == 10
    assert [t.text for t in net.extras if hasattr(t, "text")].count("784") == 2  # above the column and at the brace
    # without a choice, the first and last pixels: the blank border
    assert np.all(x[NetworkDiagram([784, 16, 10], max_shown=10).shown[0]] == 0)

    # a faint digit with fewer inked pixels than needed: its most inked ones
    faint = np.zeros(64)
    faint[[5, 9, 20, 30]] = [1.0, 0.8, 0.3, 0.2]
    np.testing.assert_array_equal(inked_inputs(faint, 3), [5, 9, 20])

    # the marks on the digit sit on those pixels: pixel i is at row i // 28, column i % 28
    digit = DigitImage(x, (28, 28), height=2.8).move_to([1.0, -1.0, 0])
    marks = digit.pixel_marks([0, 29, 783])
    np.testing.assert_allclose(marks[0].get_center(), [1.0 - 1.4 + 0.05, -1.0 + 1.4 - 0.05, 0], atol=1e-6)
    np.testing.assert_allclose(marks[1].get_center(), [1.0 - 1.4 + 0.15, -1.0 + 1.4 - 0.15, 0], atol=1e-6)
    np.testing.assert_allclose(marks[2].get_center(), [1.0 + 1.4 - 0.05, -1.0 - 1.4 + 0.05, 0], atol=1e-6)


def test_forward_pass_renders_its_last_frame(tiny_trace, tmp_path):
    result = render_last_frame(tiny_trace, tmp_path, "scenes/forward_pass.py", "ForwardPass", EXPLAINER_SAMPLE="2")
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(list(tmp_path.rglob("ForwardPass*.png"))) == 1


def test_backprop_renders_its_last_frame(tiny_trace, tmp_path):
    result = render_last_frame(tiny_trace, tmp_path, "scenes/backprop.py", "Backprop", EXPLAINER_SAMPLE="1")
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(list(tmp_path.rglob("Backprop*.png"))) == 1


def test_backprop_defaults_to_an_early_step(tiny_trace, monkeypatch):
    from explainer.scenes import choice

    trace = Trace.open(tiny_trace)
    monkeypatch.delenv("EXPLAINER_STEP", raising=False)
    assert choice.chosen_step(trace, default=trace.n_steps // 50) == 0  # 40 steps: 2% is step 0
    monkeypatch.setenv("EXPLAINER_STEP", "last")
    assert choice.chosen_step(trace, default=0) == 39


def test_training_story_renders_its_last_frame(tiny_trace, tmp_path):
    result = render_last_frame(tiny_trace, tmp_path, "scenes/training_story.py", "TrainingStory")
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(list(tmp_path.rglob("TrainingStory*.png"))) == 1


def test_probe_row_guesses_are_the_recorded_argmax(tiny_trace):
    from explainer.scenes.palette import PALETTE
    from explainer.scenes.pieces import ProbeRow

    trace = Trace.open(tiny_trace)
    steps = trace.snapshot_steps
    row = ProbeRow(trace, [0, 1, 2], steps)
    for k, step in enumerate(steps):
        expected = trace.probe_record(int(step)).probabilities[[0, 1, 2]].argmax(axis=1)
        np.testing.assert_array_equal(row.guesses[k], expected)
        assert row.correct(k) == int((expected == trace.probe_labels[[0, 1, 2]]).sum())
    row.show(len(steps) - 1)
    np.testing.assert_array_equal(row.shown, row.guesses[-1])
    right = [c.get_color().to_hex().upper() == PALETTE.correct.upper() for c in row.cells]  # green when right
    assert right == (row.guesses[-1] == trace.probe_labels[[0, 1, 2]]).tolist()


def test_confusion_grid_shows_the_recorded_counts(tiny_trace):
    from explainer.scenes.pieces import ConfusionGrid

    confusion = Trace.open(tiny_trace).evaluation.confusion
    grid = ConfusionGrid(confusion)
    counts = [int(cell[1].text) for cell in grid.cells]
    assert counts == confusion.ravel().tolist()


SCENE_FILES = {"FirstLayerFilters": "first_layer_filters", "ForwardPass": "forward_pass", "Backprop": "backprop",
               "TrainingStory": "training_story"}


def slide_pauses(tiny_trace, monkeypatch, scene_name, media_dir):
    """Run a scene without drawing (Manim's dry run); return how many animations had played at each next_slide(),
    and in all."""
    import importlib

    from manim import tempconfig

    monkeypatch.setenv("EXPLAINER_TRACE", str(tiny_trace))
    monkeypatch.setenv("EXPLAINER_SAMPLE", "1")
    scene_class = getattr(importlib.import_module(f"explainer.scenes.{SCENE_FILES[scene_name]}"), scene_name)
    pauses = []
    monkeypatch.setattr(scene_class, "next_slide", lambda self, *a, **k: pauses.append(self.renderer.num_plays))
    with tempconfig({"dry_run": True, "save_last_frame": True, "disable_caching": True, "quality": "low_quality",
                     "media_dir": str(media_dir)}):
        scene = scene_class()
        scene.setup()
        scene.construct()  # every play, skipped, and no file finished (a Slide would write its slides)
    return pauses, scene.renderer.num_plays


@pytest.mark.parametrize("scene_name", list(SCENE_FILES))
def test_every_scene_pauses_between_its_phases(tiny_trace, monkeypatch, scene_name, tmp_path):
    from manim import Scene

    from explainer.scenes.slides import LectureScene

    pauses, plays = slide_pauses(tiny_trace, monkeypatch, scene_name, tmp_path)
    assert len(pauses) >= 2  # at least two slides (the last phase ends with a pause too)
    assert 0 < pauses[0] and all(a < b for a, b in zip(pauses, pauses[1:])) and pauses[-1] <= plays  # between
    # phases; the last phase may end with its own next_slide (for its notes), after the last play
    assert issubclass(LectureScene, Scene)


def test_the_compatibility_layer_switches_on_by_the_feature_it_needs(monkeypatch):
    """Under a Manim without config["write_to_movie"] (0.22) the scenes' base is the compatible Slide; with it
    (0.21), manim-slides' own; without manim-slides, a plain Scene, and the reason said."""
    from manim._config.utils import ManimConfig
    from manim_slides import Slide

    from explainer.scenes import slide_compat, slides

    monkeypatch.delattr(ManimConfig, "write_to_movie", raising=False)
    base, why = slides._slide_class()
    assert slide_compat.needs_layer() and why is None
    assert issubclass(base, Slide) and base is not Slide and base.__name__ == "CompatibleSlide"
    monkeypatch.setattr(ManimConfig, "write_to_movie", property(lambda self: True), raising=False)
    assert not slide_compat.needs_layer() and slides._slide_class() == (Slide, None)
    monkeypatch.setitem(sys.modules, "manim_slides", None)  # not installed
    base, why = slides._slide_class()
    assert base is None and "manim-slides is not installed" in why


def test_the_scenes_are_slides_in_the_main_install():
    from manim_slides import Slide

    from explainer.scenes.slides import SLIDES, LectureScene

    assert SLIDES and issubclass(LectureScene, Slide)


@pytest.mark.parametrize("command", ["manim", "manim_slides"])
def test_a_render_cuts_the_scene_into_slides_with_their_notes(tiny_trace, tmp_path, monkeypatch, command):
    """`manim render` and `manim-slides render` both write the slides (one per phase, the last included) into
    the media folder, each with its video and the notes the scene gave it, under this Manim."""
    import json

    pauses, _ = slide_pauses(tiny_trace, monkeypatch, "FirstLayerFilters", tmp_path / "dry")
    media = tmp_path / "media"
    result = subprocess.run(
        [sys.executable, "-m", command, "render", "-ql", "--media_dir", str(media),
         str(ROOT / "scenes" / "first_layer_filters.py"), "FirstLayerFilters"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={**os.environ, "EXPLAINER_TRACE": str(tiny_trace), "EXPLAINER_PACE": "preview"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    written = json.loads((media / "slides" / "FirstLayerFilters.json").read_text())
    assert len(written["slides"]) == len(pauses)  # the last phase ends with its own next_slide, for its notes
    assert all(Path(s["file"]).is_file() and Path(s["file"]).stat().st_size > 1000 for s in written["slides"])
    assert written["background_color"].lower() == "#111318"
    assert all(len(s["notes"]) >= 60 for s in written["slides"])  # every slide with the notes the scene gave it
    assert not (tmp_path / "slides").exists()  # nothing outside the media folder


def test_the_drawn_curve_and_the_counter_follow_the_step(tiny_trace):
    from explainer.scenes.pieces import LossCurve, StepCounter

    curve = LossCurve(Trace.open(tiny_trace).scalars["loss"])
    step = {"now": 5}
    line = curve.drawn_upto(lambda: step["now"])
    counter = StepCounter().follow(lambda: step["now"])
    np.testing.assert_allclose(line["line_graph"].points[-1], curve.point_at(5))
    step["now"] = 30
    line.update()
    counter.update()
    np.testing.assert_allclose(line["line_graph"].points[-1], curve.point_at(30))  # drawn up to the new step
    assert counter[1].get_value() == 30


def test_a_near_certain_guess_is_not_rounded_up_to_certain():
    from explainer.scenes.forward_pass import percent

    assert percent(0.9996) == ">99.9%" and percent(1.0) == "100.0%" and percent(0.25) == "25.0%"


@pytest.mark.parametrize("n", [40, 1200, 6450])
def test_the_curves_tick_numbers_are_few_and_legible(n):
    from scene_check import digit_px

    from explainer.scenes.pieces import LossCurve

    loss = np.linspace(2.4, 0.1, n)
    for values in (loss, 1 - loss / 3):  # a loss and an accuracy
        curve = LossCurve(values, width=5.0, height=2.3)
        for axis in (curve.axes.x_axis, curve.axes.y_axis):
            numbers = axis.numbers
            assert 2 <= len(numbers) <= 5
            assert all(digit_px(number.font_size, "tex") >= 12.0 for number in numbers)  # 8.6 px before
            for a, b in zip(numbers, numbers[1:]):  # apart, with room between them
                gap = abs(b.get_center() - a.get_center())[0 if axis is curve.axes.x_axis else 1]
                size = (a.width + b.width) / 2 if axis is curve.axes.x_axis else (a.height + b.height) / 2
                assert gap > size + 0.2


@pytest.mark.parametrize("scene_name", ["FirstLayerFilters", "TrainingStory"])
def test_every_phase_is_legible_and_nothing_is_cut_off(tiny_trace, monkeypatch, tmp_path, scene_name):
    import importlib

    from scene_check import cut_off, phases, small_texts

    scene_class = getattr(importlib.import_module(f"explainer.scenes.{SCENE_FILES[scene_name]}"), scene_name)
    shots = phases(scene_class, monkeypatch, tmp_path, EXPLAINER_TRACE=tiny_trace)
    assert len(shots) >= 3
    for shot in shots:
        assert not small_texts(shot.mobjects), (shot.name, small_texts(shot.mobjects))
        assert not cut_off(shot.mobjects), (shot.name, cut_off(shot.mobjects))


def test_training_storys_confusion_counts_are_legible_with_ten_thousand_test_digits():
    from scene_check import small_texts

    from explainer.scenes.pieces import ConfusionGrid
    from explainer.scenes.training_story import confusion_cell

    confusion = np.full((10, 10), 3) + np.diag(np.full(10, 1125))  # MNIST's test set: 4-digit counts
    grid = ConfusionGrid(confusion, cell=confusion_cell(confusion))
    assert not small_texts([grid])  # 9.3 px with the 0.5 cell it had
    assert confusion_cell(np.full((10, 10), 36)) == 0.5  # 2-digit counts keep the small cell
