"""The TwoRuns scene: two real traces side by side, the numbers on screen the traces' own."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from explainer import Experiment, filter_range, run
from explainer.figures import smooth
from explainer.trace import Trace, TraceRecorder

ROOT = Path(__file__).resolve().parents[1]


def record(path, epochs, activation):
    with TraceRecorder(path, schedule="every:10", n_probe=4) as recorder:
        run(Experiment.preset("digits", hidden=(8,), epochs=epochs, activation=activation, optimizer="sgd", lr=0.3),
            recorder=recorder, progress=False)
    return path


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """A sigmoid run of 2 epochs and a relu run of 1: different lengths, matched by fraction of training."""
    folder = tmp_path_factory.mktemp("two_runs")
    return record(folder / "sigmoid.zarr", 2, "sigmoid"), record(folder / "relu.zarr", 1, "relu")


def test_the_numbers_on_screen_are_the_traces_numbers(pair, monkeypatch, tmp_path):
    from scene_check import cut_off, phases, small_texts, texts

    from explainer.scenes.two_runs import TwoRuns

    shots = phases(TwoRuns, monkeypatch, tmp_path, EXPLAINER_TRACE=pair[0], EXPLAINER_VERSUS=pair[1])
    assert [s.name for s in shots] == ["phase 1", "phase 2", "phase 3", "phase 4", "end"]
    runs = [Trace.open(p) for p in pair]
    on_screen = {what for what, _ in texts(shots[-1].mobjects)}
    for trace in runs:
        loss = np.asarray(trace.scalars["loss"], dtype=float)
        drawn = smooth(loss, max(1, len(loss) // 60), centred=False)[-1]  # the curve's last point
        assert f"batch loss {drawn:.3f} · test acc. {trace.evaluation.test_accuracy:.1%}" in on_screen
    # after the sweep each counter shows its run's last step
    swept = {what for what, _ in texts(shots[2].mobjects)}
    for trace in runs:
        assert f"step {trace.n_steps - 1:,} of {trace.n_steps:,}" in swept
    for shot in shots:
        assert not small_texts(shot.mobjects), (shot.name, small_texts(shot.mobjects))
        assert not cut_off(shot.mobjects), (shot.name, cut_off(shot.mobjects))
    assert "test accuracy" in shots[3].notes and "sigmoid" in shots[0].notes


def test_the_filters_and_curves_are_each_runs_own(pair, monkeypatch, tmp_path):
    from manim import tempconfig

    from explainer.scenes.two_runs import SHOWN, TwoRuns

    for name, value in (("EXPLAINER_TRACE", pair[0]), ("EXPLAINER_VERSUS", pair[1]), ("EXPLAINER_PACE", "preview")):
        monkeypatch.setenv(name, str(value))
    with tempconfig({"dry_run": True, "disable_caching": True, "quality": "low_quality", "media_dir": str(tmp_path)}):
        scene = TwoRuns()
        scene.setup()
        scene.construct()
    runs = [Trace.open(p) for p in pair]
    assert scene.curves.by_fraction  # different lengths: the x axis is the fraction of training
    for i, (trace, grid) in enumerate(zip(runs, scene.grids)):
        last = int(trace.snapshot_steps[-1])
        np.testing.assert_array_equal(grid.filters[-1], trace.first_layer_filters(last)[:SHOWN])
        assert grid.vmax == filter_range(trace)
        np.testing.assert_array_equal(grid.pixel_array, grid.frames[-1])  # the end shows the last snapshot
        np.testing.assert_allclose(scene.curves.smoothed[i][0], trace.scalars["loss"][0])
        assert len(scene.curves.smoothed[i]) == trace.n_steps


def test_it_renders_its_last_frame_in_both_runs_colours(pair, tmp_path):
    from PIL import Image

    from explainer.figures import run_colours

    result = subprocess.run(
        [sys.executable, "-m", "manim", "render", "-ql", "-s", "--media_dir", str(tmp_path), "scenes/two_runs.py",
         "TwoRuns"], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "EXPLAINER_TRACE": str(pair[0]), "EXPLAINER_VERSUS": str(pair[1]),
             "EXPLAINER_PACE": "preview"})
    assert result.returncode == 0, result.stderr[-2000:]
    (png,) = tmp_path.rglob("TwoRuns*.png")
    pixels = np.asarray(Image.open(png).convert("RGB")).astype(int)
    for colour in run_colours(2):
        rgb = np.array([int(colour[k:k + 2], 16) for k in (1, 3, 5)])
        assert (np.abs(pixels - rgb).sum(axis=2) < 30).sum() > 100, colour  # each run's curve and words


@pytest.mark.parametrize("args,message", [
    (["TwoRuns", "--trace", "{a}"], "TwoRuns shows two runs: name the second with --versus TRACE"),
    (["FirstLayerFilters", "--trace", "{a}", "--versus", "{b}"], "FirstLayerFilters shows one run, so it takes no"),
])
def test_explainer_render_asks_for_the_second_run(pair, tmp_path, args, message):
    args = [a.format(a=pair[0], b=pair[1]) for a in args]
    result = subprocess.run([sys.executable, "-m", "explainer", "render", *args, "--media-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_named_run_without_its_partner_stops_the_render_in_one_line(pair, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "EXPLAINER_VERSUS"}
    result = subprocess.run(
        [sys.executable, "-m", "manim", "render", "-ql", "-s", "--media_dir", str(tmp_path), "scenes/two_runs.py",
         "TwoRuns"], cwd=ROOT, capture_output=True, text=True, timeout=300, env={**env, "EXPLAINER_TRACE": str(pair[0])})
    assert result.returncode != 0
    assert "explainer: error: TwoRuns shows two runs: name the second with EXPLAINER_VERSUS" in result.stderr
    assert "Traceback" not in result.stderr
