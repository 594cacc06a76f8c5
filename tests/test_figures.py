"""The static figures draw the recorded numbers, exactly: read them back out of the artists.

One small digits run (64 -> 16 -> 10, two epochs) is recorded per module, plus
one whose recorder never writes the test evaluation (a run that stopped early).
"""

import argparse
import contextlib
import io
import re
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from explainer import Experiment, ExplainerError, fit, run
from explainer.cli import Parser
from explainer.cli import plot as plot_cli
from explainer.data import load_dataset
from explainer.figures import (
    CNN_ONLY,
    FIGURES,
    NoEvaluationError,
    confusion,
    dead_units,
    figure_names,
    filters,
    gradient_norms,
    loss_curves,
    probes,
    save_all,
)
from explainer.figures.style import COLORS, smooth
from explainer.filters import filter_rgb
from explainer.trace import Trace, TraceRecorder

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class StopsEarly(TraceRecorder):
    """A recorder that never writes the evaluation, as when a run is killed after its last epoch."""

    def finish(self, evaluation):
        pass


def record(path, recorder_class=TraceRecorder):
    with recorder_class(path) as recorder:
        run(Experiment.preset("digits", epochs=2, hidden=(16,)), recorder=recorder, progress=False)
    return Trace.open(path)


@pytest.fixture(scope="module")
def trace(tmp_path_factory):
    return record(tmp_path_factory.mktemp("figures") / "run.zarr")


@pytest.fixture(scope="module")
def unfinished(tmp_path_factory):
    t = record(tmp_path_factory.mktemp("figures") / "unfinished.zarr", StopsEarly)
    assert t.evaluation is None and t.n_steps > 0
    return t


def test_no_pyplot_global_state():
    import explainer.figures as package

    for module in Path(package.__file__).parent.glob("*.py"):
        assert not re.search(r"matplotlib\.pyplot|import pyplot", module.read_text()), (
            f"{module.name} uses pyplot: figures must not touch global state")


def test_loss_curve_draws_every_recorded_step(trace):
    fig = loss_curves(trace)
    assert isinstance(fig, Figure) and fig.get_layout_engine() is not None  # constrained: nothing cut off
    ax_loss, ax_acc = fig.axes[:2]
    raw = ax_loss.lines[0]
    np.testing.assert_array_equal(raw.get_xdata(), np.arange(trace.n_steps))
    np.testing.assert_array_equal(raw.get_ydata(), trace.scalars["loss"])
    assert ax_loss.get_yscale() == "log"
    # validation: one marker at the step where each epoch ended
    val = next(line for line in ax_loss.lines if line.get_label().startswith("validation"))
    np.testing.assert_array_equal(val.get_xdata(), trace.epochs["step"])
    np.testing.assert_allclose(val.get_ydata(), trace.epochs["val_loss"])
    # the accuracy panel's first line is the smoothed batch accuracy
    window = int(ax_acc.lines[0].get_label().split("mean of ")[1].split()[0])
    np.testing.assert_allclose(ax_acc.lines[0].get_ydata(), smooth(trace.scalars["accuracy"], window))
    assert f"{trace.evaluation.test_accuracy:.1%}" in " ".join(fig.get_suptitle().split())
    # the headline's numbers are where the curves start and end: the raw first step, the mean line's last point
    # (it once said "fell from 1.64", the first window's mean, above a curve that starts at 2.54)
    title = " ".join(fig.get_suptitle().split())
    first, last = float(trace.scalars["loss"][0]), ax_loss.lines[1].get_ydata()[-1]
    assert f"from {first:.2f} (step 0) to {last:.3f} (the mean of the last {window} steps)" in title


def test_the_dead_units_title_names_a_peak_between_the_ends():
    from explainer.figures.curves import _dead_words

    line = np.array([0.01, 0.03, 0.05, 0.04, 0.02])
    assert _dead_words(0, line) == "layer 1: 1% at the start, 2% at the end, 5% at most (step 2)"
    assert _dead_words(1, np.array([0.05, 0.03, 0.02])) == "layer 2: 5% at the start, 2% at the end"


def test_smooth_is_a_centred_mean_that_shrinks_at_the_ends():
    np.testing.assert_allclose(smooth([0.0, 3.0, 0.0, 3.0], 3), [1.5, 1.0, 2.0, 1.5])
    np.testing.assert_array_equal(smooth([1.0, 2.0], 1), [1.0, 2.0])


def test_smooth_can_trail_so_that_no_step_sees_the_steps_after_it():
    y = np.random.default_rng(0).normal(size=50)
    trailing = smooth(y, 7, centred=False)
    for k in range(50):
        assert trailing[k] == pytest.approx(y[max(0, k - 6) : k + 1].mean())
    changed = y.copy()
    changed[30:] += 100.0  # the future changes: nothing before step 30 moves
    np.testing.assert_array_equal(smooth(changed, 7, centred=False)[:30], trailing[:30])


def test_filter_images_are_the_first_layer_weights(trace):
    wanted = int(trace.snapshot_steps[len(trace.snapshot_steps) // 2]) + 1  # between two snapshots
    fig = filters(trace, step=wanted)
    s = int(trace.snapshot_steps[trace.snapshot_index(wanted)])
    W, _ = trace.weights(s)[0]  # (16, 64)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == len(W) == 16
    # one range for the whole run: the largest 99th percentile of |W| at any snapshot
    vmax = max(np.percentile(np.abs(trace.weights(int(t))[0][0]), 99) for t in trace.snapshot_steps)
    for j, im in enumerate(images):  # each tile: W[j] on the image, in the filters' colours on ±vmax
        np.testing.assert_array_equal(im.get_array(), filter_rgb(W[j].reshape(trace.image_shape), vmax))
    colorbar = next(ax for ax in fig.axes if ax.get_label() == "<colorbar>")
    assert colorbar.get_ylim() == pytest.approx((-vmax, vmax))  # the colour bar says which range
    title = " ".join(fig.get_suptitle().split())  # as one line, however it was wrapped
    assert f"at step {s} " in title and f"nearest to step {wanted}" in title


def test_filters_mark_the_units_silent_for_every_probe_digit(tmp_path):
    experiment = Experiment.preset("digits", epochs=1, hidden=(16,))
    data = load_dataset("digits", seed=experiment.seed)
    net = experiment.network(data.X_train.shape[1], data.n_classes)
    net.layers[0].b[[3, 11]] = -100.0  # z < 0 for every digit: a = 0, so no gradient ever revives them
    with TraceRecorder(tmp_path / "dead.zarr") as recorder:
        fit(net, data, experiment.train_config(), recorder=recorder, progress=False)
    trace = Trace.open(tmp_path / "dead.zarr")
    s = int(trace.snapshot_steps[-1])
    silent = ~trace.probe_record(s).a[0].any(axis=0)
    assert silent[[3, 11]].all() and silent.sum() < 16  # the two forced ones, and the others work
    fig = filters(trace)
    titles = [ax.get_title() for ax in fig.axes if ax.images]
    assert titles == [f"unit {j}: silent" if silent[j] else f"unit {j}" for j in range(16)]
    caption = " ".join(fig._supxlabel.get_text().split())
    assert f"a = 0 for all {len(trace.probe_labels)} probe digits at this step" in caption


def test_filters_without_a_silent_unit_say_nothing_of_it(tmp_path):
    with TraceRecorder(tmp_path / "sigmoid.zarr") as recorder:  # a sigmoid is never exactly 0
        run(Experiment.preset("digits", epochs=1, hidden=(16,), activation="sigmoid"), recorder=recorder,
            progress=False)
    trace = Trace.open(tmp_path / "sigmoid.zarr")
    assert trace.probe_record(int(trace.snapshot_steps[-1])).a[0].any(axis=0).all()
    fig = filters(trace)
    assert not any("silent" in ax.get_title() for ax in fig.axes)
    assert "Silent" not in fig._supxlabel.get_text()


def test_filters_shows_the_first_n_and_says_so(trace):
    fig = filters(trace, n=5)
    assert sum(1 for ax in fig.axes if ax.images) == 5
    assert "first 5 of 16" in " ".join(fig.get_suptitle().split())
    with pytest.raises(ValueError, match="n must be a whole number from 1 to 16; got 17"):
        filters(trace, n=17)


def test_confusion_cells_show_the_recorded_counts(trace):
    fig = confusion(trace)
    ax = fig.axes[0]
    counts = np.array([int(t.get_text()) for t in ax.texts]).reshape(10, 10)
    np.testing.assert_array_equal(counts, trace.evaluation.confusion)
    assert ax.get_xlabel() == "predicted digit" and ax.get_ylabel() == "true digit"
    assert f"{trace.evaluation.test_accuracy:.1%}" in ax.get_title()


def test_confusion_of_an_unfinished_run_is_a_clear_error(unfinished):
    with pytest.raises(NoEvaluationError, match="no test evaluation .* stopped before its end") as info:
        confusion(unfinished)
    assert isinstance(info.value, ValueError) and isinstance(info.value, ExplainerError)


def test_probes_say_true_and_predicted_and_mark_the_wrong_ones(trace):
    s = int(trace.snapshot_steps[1])  # early in training, so some answers are wrong
    fig = probes(trace, step=s, n=10)
    p = trace.probe_record(s).probabilities  # (n_probe, 10)
    labels = trace.probe_labels
    image_axes = [ax for ax in fig.axes if ax.images]
    bar_axes = [ax for ax in fig.axes if ax.patches and not ax.images]
    assert len(image_axes) == len(bar_axes) == 10
    shown = set()
    for ax_img, ax_bar in zip(image_axes, bar_axes):
        heights = np.array([bar.get_height() for bar in ax_bar.patches])
        i = int(np.flatnonzero(np.all(np.isclose(p, heights), axis=1))[0])  # which probe these bars are
        np.testing.assert_array_equal(ax_img.images[0].get_array(), trace.probe_x[i].reshape(trace.image_shape))
        title = ax_img.title
        assert title.get_text() == f"true {labels[i]} / predicted {p[i].argmax()}"
        assert (title.get_color() == COLORS["wrong"]) == (labels[i] != p[i].argmax())
        shown.add(int(labels[i]))
    assert shown == set(range(10))  # one of each digit


def test_gradient_norms_one_line_per_layer(trace):
    fig = gradient_norms(trace)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert [line.get_label() for line in ax.lines] == ["layer 1 (64→16, relu)", "layer 2 (16→10, softmax)"]
    assert all(len(line.get_ydata()) == trace.n_steps for line in ax.lines)


def test_dead_units_draws_the_recorded_dead_share_of_each_hidden_layer(trace):
    from explainer.figures.style import default_window

    fig = dead_units(trace)
    lines = [line for line in fig.axes[0].get_lines() if len(line.get_xdata()) == trace.n_steps]
    dead = trace.scalars["dead_share"]  # (n_steps, n_layers): the last, softmax, never dies
    assert len(lines) == trace.n_layers - 1
    expected = smooth(dead[:, 0], default_window(trace.n_steps))
    np.testing.assert_allclose(lines[0].get_ydata(), expected)
    assert f"layer 1: {expected[0]:.0%} at the start, {expected[-1]:.0%} at the end" in fig.get_suptitle()


def test_a_network_with_no_hidden_layer_has_no_dead_units_figure(tmp_path):
    with TraceRecorder(tmp_path / "flat.zarr") as recorder:
        run(Experiment.preset("digits", epochs=1, hidden=()), recorder=recorder, progress=False)
    flat = Trace.open(tmp_path / "flat.zarr")
    assert "dead_units" not in figure_names(flat) and "gradient_norms" in figure_names(flat)
    with pytest.raises(ValueError, match="no hidden layer, so no unit that can die"):
        dead_units(flat)


def plot(*argv):
    """``explainer plot ...`` through a parser built here (as explainer.cli.build_parser does)."""
    parser = Parser(prog="explainer")
    plot_cli.add_parser(parser.add_subparsers(parser_class=Parser))
    args = parser.parse_args(["plot", *argv])
    return args.func(args)


@pytest.fixture(scope="module")
def plotted(trace, tmp_path_factory):
    """``explainer plot TRACE --out DIR``: every figure, as PNG and SVG. Returns (DIR, printed lines)."""
    out = tmp_path_factory.mktemp("plotted")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert plot(str(trace.path), "--out", str(out), "--step", "3", "--dpi", "60") == 0  # low dpi: quick
    return out, printed.getvalue().split()


def test_plot_command_writes_every_figure_and_prints_its_path(plotted):
    out, printed = plotted
    dense = [name for name in FIGURES if name not in CNN_ONLY]  # a dense run's: all but a CNN's kernels and maps
    expected = sorted(str(out / f"{name}.{fmt}") for name in dense for fmt in ("png", "svg"))
    assert sorted(printed) == expected
    assert sorted(str(p) for p in out.iterdir()) == expected


def test_saved_files_are_valid_png_and_svg(plotted):
    for path in plotted[0].iterdir():
        data = path.read_bytes()
        if path.suffix == ".png":
            assert data[:8] == PNG_SIGNATURE
            width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
            assert 300 <= width <= 1000 and 250 <= height <= 1000, (path.name, width, height)  # 5-12 in at 60 dpi
        else:
            root = ET.fromstring(data)
            assert root.tag.endswith("svg") and len(data) > 10_000, path.name


def test_save_all_skips_confusion_for_an_unfinished_run(unfinished, tmp_path):
    assert figure_names(unfinished) == [name for name in FIGURES if name != "confusion" and name not in CNN_ONLY]
    assert [p.name for p in save_all(unfinished, tmp_path, formats=("png",), names=["gradient_norms"])] == [
        "gradient_norms.png"]
    with pytest.raises(NoEvaluationError):
        save_all(unfinished, tmp_path / "asked", names=["gradient_norms", "confusion"])
    assert not (tmp_path / "asked" / "gradient_norms.png").exists()  # failed before drawing anything


@pytest.mark.parametrize("kwargs,message", [
    ({"formats": ("png", "gif")}, "formats must be chosen from png, svg, pdf; got 'png', 'gif'"),
    ({"names": ["filters", "weights"]}, "names must be chosen from loss_curves, filters, confusion"),
])
def test_save_all_names_what_is_allowed(trace, tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        save_all(trace, tmp_path, **kwargs)


def test_plot_command_only_some(trace, tmp_path, capsys):
    assert plot(str(trace.path), "--out", str(tmp_path), "--only", "gradient_norms", "--format", "pdf") == 0
    assert capsys.readouterr().out.split() == [str(tmp_path / "gradient_norms.pdf")]
    assert (tmp_path / "gradient_norms.pdf").read_bytes()[:5] == b"%PDF-"
    with pytest.raises(ValueError, match="--only takes names from loss_curves, filters, .* got 'filter,probes' "
                                         r"\('filter' unknown\)"):
        plot(str(trace.path), "--out", str(tmp_path), "--only", "filter,probes")


def test_plot_command_skips_confusion_of_an_unfinished_run_and_says_so(unfinished, tmp_path, capsys, monkeypatch):
    drawn = []
    monkeypatch.setattr(plot_cli, "save_all", lambda trace, out, names, **kw: drawn.extend(names) or [])
    assert plot(str(unfinished.path), "--out", str(tmp_path)) == 0
    assert drawn == ["loss_curves", "filters", "probes", "gradient_norms", "dead_units"]
    assert "skipping confusion" in capsys.readouterr().err


def _plot_registered():
    from explainer.cli import build_parser

    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return "plot" in commands.choices


@pytest.mark.skipif(not _plot_registered(), reason="`plot` is not registered in explainer.cli yet")
def test_plot_through_main_reports_errors_on_one_line(unfinished, tmp_path, capsys):
    from explainer.cli import main

    assert main(["plot", str(unfinished.path), "--out", str(tmp_path), "--only", "confusion"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("explainer: error: ") and "no test evaluation" in err and "\n" not in err
