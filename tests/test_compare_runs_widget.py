"""The CompareRuns dashboard, driven from Python on two small real traces recorded here."""

import io

import numpy as np
import pytest
from PIL import Image

from explainer import Experiment, filter_range, matched_snapshots, matched_steps, run
from explainer.trace import Trace, TraceRecorder
from explainer.widgets import CompareRuns
from explainer.widgets.common import CSS, filters_png


def record(path, epochs, activation):
    with TraceRecorder(path, n_probe=4, schedule="log:10") as recorder:
        run(Experiment.preset("digits", hidden=(16,), epochs=epochs, activation=activation), recorder=recorder,
            progress=False)
    return path


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compare_runs")
    return [record(folder / "sigmoid.zarr", 2, "sigmoid"), record(folder / "relu.zarr", 2, "relu"),
            record(folder / "short.zarr", 1, "relu")]


def decode(png):
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_each_runs_filters_are_its_own_at_the_matched_snapshot(paths):
    dash = CompareRuns(paths[:2])
    runs = [Trace.open(p) for p in paths[:2]]
    assert dash._by_step and dash._slider.description == "step"  # equally long: matched step for step
    for f in (0.0, 0.37, 1.0):
        dash.fraction = f
        assert dash.fraction in dash._stops  # snapped to a slider position
        assert dash.snapshots == matched_snapshots(runs, dash.fraction)
        for trace, image, snap in zip(runs, dash._filters, dash.snapshots):
            expected = filters_png(trace.first_layer_filters(snap)[:32], filter_range(trace), scale=4, cols=8)
            np.testing.assert_array_equal(decode(image.value), decode(expected))
        for caption, trace, step in zip(dash._captions, runs, matched_steps(runs, dash.fraction)):
            assert f"step {step:,} of {trace.n_steps:,}" in caption.value
            assert f"batch loss {trace.scalars['loss'][step]:.3f}" in dash._status.value


def test_runs_of_different_lengths_share_a_fraction_slider(paths):
    dash = CompareRuns([paths[0], paths[2]])
    long, short = (Trace.open(p) for p in (paths[0], paths[2]))
    assert long.n_steps == 2 * short.n_steps
    assert not dash._by_step and dash._slider.description == "training"
    dash._slider.index = len(dash._stops) // 2  # what the student does: move the slider
    f = dash.fraction
    assert dash.steps == [round(f * (long.n_steps - 1)), round(f * (short.n_steps - 1))]
    cursor = dash._cursors[0].get_xdata()[0]
    assert cursor == f  # the x axis is the fraction of training


def test_only_the_cursor_moves(paths):
    dash = CompareRuns(paths[:2])
    dash.fraction = 0.0
    first = decode(dash._curves.value)
    dash.fraction = 1.0
    last = decode(dash._curves.value)
    changed = np.flatnonzero((first != last).any(axis=(0, 2)))  # columns that differ
    assert len(changed) and changed.max() - changed.min() > 100  # the cursor left one place for another...
    assert len(changed) < 12  # ... and nothing else moved


def test_the_play_button_drives_the_slider_and_the_classes_are_there(paths):
    dash = CompareRuns(paths[:2])
    dash._play.value = len(dash._stops) - 1
    assert dash.fraction == 1.0
    assert CSS["step_slider"] in dash._slider._dom_classes and CSS["filters"] in dash._filters[0]._dom_classes


def test_bad_input_is_a_message_in_the_dashboard(paths, tmp_path):
    dash = CompareRuns([paths[0]])
    assert "two or more traces" in dash.errors.message
    dash = CompareRuns([paths[0], tmp_path / "nope.zarr"])
    assert "nope.zarr" in dash.errors.message
    dash = CompareRuns(paths[:2])
    with pytest.raises(Exception, match="from 0 to 1"):
        dash.fraction = 2.0
