"""`explainer compare-runs`: recorded runs overlaid and matched by their fraction of training."""

import numpy as np
import pytest
from PIL import Image

from explainer import Experiment, filter_mosaic, filter_palette, filter_range, run
from explainer.cli import main
from explainer.figures.runs import runs_filters, runs_gradient_norms, runs_loss
from explainer.figures.style import default_window, smooth
from explainer.run_pairs import matched_snapshots, matched_steps, open_runs
from explainer.trace import TraceRecorder


def record(path, epochs, activation):
    with TraceRecorder(path, n_probe=4, schedule="log:12") as recorder:
        run(Experiment.preset("digits", hidden=(12,), epochs=epochs, activation=activation, optimizer="sgd", lr=0.3),
            recorder=recorder, progress=False)
    return path


@pytest.fixture(scope="module")
def traces(tmp_path_factory):
    """Two small runs of different lengths: a sigmoid one of 2 epochs and a relu one of 3."""
    folder = tmp_path_factory.mktemp("runs")
    return record(folder / "sigmoid.zarr", 2, "sigmoid"), record(folder / "relu.zarr", 3, "relu")


def test_runs_are_matched_by_their_fraction_of_training(traces):
    a, b = open_runs(traces)
    assert a.n_steps != b.n_steps
    assert matched_steps([a, b], 0) == [0, 0]
    assert matched_steps([a, b], 1) == [a.n_steps - 1, b.n_steps - 1]
    assert matched_steps([a, b], 0.5) == [round((a.n_steps - 1) / 2), round((b.n_steps - 1) / 2)]
    for f in (0, 0.3, 1):
        for trace, snap, step in zip((a, b), matched_snapshots([a, b], f), matched_steps([a, b], f)):
            nearest = np.abs(trace.snapshot_steps - step).min()
            assert snap in trace.snapshot_steps and abs(snap - step) == nearest
    with pytest.raises(ValueError, match="from 0 to 1"):
        matched_steps([a, b], 1.5)


def test_the_curves_are_the_traces_numbers_on_a_fraction_axis(traces):
    runs = open_runs(traces)
    fig = runs_loss(runs)
    lines = fig.axes[0].get_lines()
    for trace, line in zip(runs, lines):
        np.testing.assert_allclose(line.get_ydata(), smooth(trace.scalars["loss"], default_window(trace.n_steps)))
        x = line.get_xdata()
        assert x[0] == 0 and x[-1] == 1 and len(x) == trace.n_steps  # different lengths: fraction of training
    fig = runs_gradient_norms(runs)
    first_layer = fig.axes[0].get_lines()
    for trace, line in zip(runs, first_layer):
        g = np.asarray(trace.scalars["grad_norm"], dtype=float)[:, 0]
        expected = np.exp(smooth(np.log(g), default_window(trace.n_steps)))
        np.testing.assert_allclose(line.get_ydata(), expected, rtol=1e-12)
    # the lesson the figure is for: a sigmoid network's first layer gets a far smaller gradient than a relu one's
    sigmoid, relu = (np.median(line.get_ydata()) for line in first_layer)
    assert sigmoid < relu / 3


def test_the_filters_are_each_runs_own_at_matched_snapshots(traces):
    runs = open_runs(traces)
    fractions = (0.0, 0.5, 1.0)
    fig = runs_filters(runs, fractions=fractions, n=6)
    images = [ax.get_images()[0].get_array() for ax in fig.axes]
    for row, trace in enumerate(runs):
        for col, f in enumerate(fractions):
            step = matched_snapshots(runs, f)[row]
            expected = filter_palette()[filter_mosaic(trace.first_layer_filters(step)[:6], filter_range(trace), cols=4)]
            np.testing.assert_array_equal(images[row * len(fractions) + col], expected)
            assert fig.axes[row * len(fractions) + col].get_title().endswith(f"step {step:,}")


def test_the_command_writes_its_figures_and_nothing_else(traces, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["compare-runs", *map(str, traces), "--out", str(out)]) == 0
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(["runs_loss.png", "runs_gradient_norms.png", "runs_dead_units.png", "runs_filters.png"])
    with Image.open(out / "runs_filters.png") as image:
        assert image.info["Software"] == "explainer compare-runs"
    assert main(["compare-runs", *map(str, traces), "--out", str(out)]) == 0  # its own files: replaced
    (out / "runs_loss.png").write_text("mine")
    capsys.readouterr()
    assert main(["compare-runs", *map(str, traces), "--out", str(out)]) == 2
    assert "runs_loss.png, which `explainer compare-runs` did not write" in capsys.readouterr().err
    assert (out / "runs_loss.png").read_text() == "mine"


@pytest.mark.parametrize("which,message", [("one", "name two or more traces"), ("missing", "nope.zarr")])
def test_bad_input_is_one_line(traces, tmp_path, capsys, which, message):
    names = [str(traces[0])] if which == "one" else [str(traces[0]), str(tmp_path / "nope.zarr")]
    assert main(["compare-runs", *names, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
