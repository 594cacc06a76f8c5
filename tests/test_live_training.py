"""LiveTraining driven headless: it trains, draws, records a trace, pauses, and says what went wrong."""

import io
import re
import time

import numpy as np
import pytest
import traitlets
from PIL import Image

from explainer import Experiment, LiveRun, default_lr, lr_advice, run
from explainer.data import write_idx
from explainer.filters import FILTER_GAP, GAP_RGB, MARK_RGB, filter_layout, filter_range, filter_rgb, tile_origin
from explainer.live import available_datasets
from explainer.trace import Trace, TraceRecorder
from explainer.widgets import LiveTraining
from explainer.widgets.live_training import COLS, TILE

PNG = b"\x89PNG\r\n\x1a\n"


def pixels(png):
    png = bytes(png)  # an Image widget holds a memoryview
    assert png.startswith(PNG), f"not a PNG: {png[:20]!r}"
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def classes(widget):
    """Every CSS class in a widget tree."""
    found = set(getattr(widget, "_dom_classes", ()))
    for child in getattr(widget, "children", ()):
        found |= classes(child)
    return found


def until(condition, seconds=30.0):
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


@pytest.fixture
def live(tmp_path):
    dashboard = LiveTraining(trace_path=tmp_path / "live.zarr", hidden="16", epochs=2, steps_per_second=0)
    yield dashboard
    dashboard.pause()


def test_run_steps_trains_redraws_and_records(live, tmp_path):
    loss_before, filters_before = pixels(live._loss_image.value), pixels(live._filters_image.value)
    assert live.step == 0 and live.errors.message == ""
    assert live.run_steps(25) == 25 and live.step == 25
    loss_after, filters_after = pixels(live._loss_image.value), pixels(live._filters_image.value)
    assert loss_after.shape == loss_before.shape and (loss_after != loss_before).any(axis=2).sum() > 200
    assert filters_after.shape == filters_before.shape and (filters_after != filters_before).any()
    assert "step 25 of 80" in live._status.value
    assert live.trace_path == str(tmp_path / "live.zarr")
    trace = Trace.open(live.trace_path)  # flushed by run_steps
    assert trace.n_steps == 25 and trace.status == "running" and trace.sizes == [64, 16, 10]
    assert trace.snapshot_steps[0] == 0 and np.isfinite(trace.scalars["loss"]).all()
    assert live.step_once() == 1 and Trace.open(live.trace_path).n_steps == 26  # the same run goes on


def test_units_that_die_are_framed_and_named_as_they_die(tmp_path):
    live = LiveTraining(trace_path=tmp_path / "live.zarr", hidden="16", lr=0.05, epochs=2, steps_per_second=0)
    try:
        live.run_steps(60)  # lr 0.05 kills about half of these ReLU units within 60 steps
        trace = Trace.open(live.trace_path)
        last = int(trace.snapshot_steps[-1])  # the view shows the latest snapshot
        assert f"step {last}, the latest snapshot" in live._filters_caption.value
        silent = trace.silent_units(last).tolist()
        assert 0 < len(silent) < 16
        listed = re.search(r"Framed in black: units? ([\d, ]+?), silent", live._filters_caption.value)
        assert listed and [int(j) for j in listed[1].split(",")] == silent
        picture = pixels(live._filters_image.value)
        scale, cols = TILE // 8, COLS  # the dashboard's tiles: 8 a row, at most TILE pixels a side
        for j in range(16):
            y0 = FILTER_GAP + (j // cols) * (8 * scale + FILTER_GAP)
            x0 = FILTER_GAP + (j % cols) * (8 * scale + FILTER_GAP)
            assert tuple(picture[y0 - 1, x0]) == (MARK_RGB if j in silent else GAP_RGB), j
    finally:
        live.close()


def test_a_live_run_is_the_same_run_as_explainer_train(live, tmp_path):
    # 2 epochs of 40 steps; asking for more stops at the end, with the test set evaluated
    assert live.run_steps(1000) == 80 and live.step == 80
    assert "finished: test accuracy" in live._status.value
    trace = Trace.open(live.trace_path)
    assert trace.complete and trace.n_steps == 80 and trace.n_epochs == 2
    with TraceRecorder(tmp_path / "fit.zarr") as recorder:
        run(Experiment(hidden=(16,), epochs=2, optimizer="adam", lr=1e-3, batch_size=32), recorder=recorder,
            progress=False)
    fitted = Trace.open(tmp_path / "fit.zarr")
    assert trace.run.training == fitted.run.training
    assert trace.scalars["loss"].tobytes() == fitted.scalars["loss"].tobytes()
    assert trace.weights(79)[0][0].tobytes() == fitted.weights(79)[0][0].tobytes()
    assert trace.evaluation.test_accuracy == fitted.evaluation.test_accuracy
    assert live.run_steps(1) == 1 and live.trace_path.endswith("live-2.zarr")  # a finished run: the next is new


def test_pausing_mid_run_leaves_a_readable_trace(tmp_path):
    live = LiveTraining(trace_path=tmp_path / "paused.zarr", hidden="16", epochs=20, steps_per_second=200)
    began = time.perf_counter()
    live.start()
    assert time.perf_counter() - began < 2.0  # play returns at once: the kernel stays free
    until(lambda: live.step >= 15)
    live.pause()
    assert not live.playing
    paused_at = live.step
    time.sleep(0.2)
    assert live.step == paused_at  # it has stopped
    trace = Trace.open(live.trace_path)
    assert trace.n_steps == paused_at and 15 <= paused_at < 800 and trace.status == "running"
    assert "paused" in live._status.value
    assert live.run_steps(5) == 5 and live.step == paused_at + 5  # resumes the same run
    assert Trace.open(live.trace_path).n_steps == paused_at + 5


def test_play_trains_to_the_end_in_the_background(live):
    live.start()
    assert live.wait(60) and not live.playing
    assert live.step == 80 and Trace.open(live.trace_path).complete
    assert live._buttons["play"].disabled is False and live._controls["lr"].disabled is False


def test_a_diverging_learning_rate_is_shown_and_a_sane_one_trains_after(live):
    live.optimizer, live.lr = "sgd", 50.0
    taken = live.run_steps(80)
    assert 0 < taken < 80  # it stopped
    message = live.errors.message
    assert "training diverged at step" in message and "learning rate 50 is too high for sgd" in message
    assert "explainer-error" in live.errors._dom_classes and live.errors.layout.display != "none"
    assert "diverged" in live._status.value
    diverged = live.trace_path
    assert Trace.open(diverged).status == "interrupted"
    live.lr = 0.1
    assert live.errors.message == ""
    assert live.run_steps(20) == 20 and live.step == 20 and live.trace_path != diverged
    assert np.isfinite(Trace.open(live.trace_path).scalars["loss"]).all()


def test_bad_hidden_sizes_give_a_message_and_no_run(live, tmp_path):
    live.hidden = "abc"
    assert "hidden takes widths separated by commas" in live.errors.message and "'abc'" in live.errors.message
    assert live.run_steps(3) == 0 and live.step == 0
    assert not (tmp_path / "live.zarr").exists()
    live.hidden = "8, 8"
    assert live.errors.message == ""
    assert live.run_steps(2) == 2 and Trace.open(live.trace_path).sizes == [64, 8, 8, 10]


def test_changing_a_setting_ends_the_run_and_keeps_its_trace(live):
    live.run_steps(5)
    first = live.trace_path
    live.batch_size = 64
    assert live.step == 0
    assert Trace.open(first).status == "interrupted" and Trace.open(first).n_steps == 5
    live.run_steps(2)
    assert live.trace_path != first and Trace.open(live.trace_path).run.training.batch_size == 64
    live.new_run()
    assert live.step == 0 and live.run_steps(1) == 1 and Trace.open(live.trace_path).n_steps == 1


def test_bad_choices_are_refused_with_the_choices():
    with pytest.raises(traitlets.TraitError, match="activation must be one of 'relu', .*got 'relu6'"):
        LiveTraining(activation="relu6")
    with pytest.raises(traitlets.TraitError, match="optimizer must be one of 'sgd', .*got 'lbfgs'"):
        LiveTraining(optimizer="lbfgs")
    with pytest.raises(TypeError, match="no setting 'learning_rate'; settings: dataset, arch, conv, hidden"):
        LiveTraining(learning_rate=0.1)
    assert LiveTraining(epochs=0).errors.message.startswith("epochs must be a whole number >= 1")


def test_parts_carry_their_css_classes(live):
    found = classes(live)
    for css in ("explainer-play", "explainer-pause", "explainer-step-once", "explainer-filters", "explainer-loss",
                "explainer-error"):
        assert css in found
    assert live._loss_image.format == "png" and live._filters_image.format == "png"


def test_mnist_is_offered_only_when_its_files_are_on_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLAINER_MNIST_DIR", str(tmp_path))
    assert available_datasets() == ["digits"]
    with pytest.raises(traitlets.TraitError, match="mnist files are not on this machine .*explainer data fetch"):
        LiveTraining(dataset="mnist")
    for name, shape in [("train-images-idx3-ubyte", (20, 28, 28)), ("train-labels-idx1-ubyte", (20,)),
                        ("t10k-images-idx3-ubyte", (10, 28, 28)), ("t10k-labels-idx1-ubyte", (10,))]:
        write_idx(tmp_path / name, np.zeros(shape, dtype=np.uint8))
    assert available_datasets() == ["digits", "mnist"]


def test_buttons_drive_it_and_closing_stops_training(tmp_path):
    live = LiveTraining(trace_path=tmp_path / "buttons.zarr", hidden="8", epochs=50, steps_per_second=100)
    live._buttons["step_once"].click()
    assert live.step == 1
    live._buttons["play"].click()
    assert live.playing and live._buttons["play"].disabled and live._controls["hidden"].disabled
    until(lambda: live.step >= 5)
    live._buttons["pause"].click()
    assert not live.playing and not live._controls["hidden"].disabled
    live.start()
    live.close()  # stops the thread and closes the run: its trace is flushed and marked interrupted
    assert not live.playing
    trace = Trace.open(live.trace_path)
    assert trace.status == "interrupted" and trace.n_steps == live.step


def test_the_training_dashboard_opens_a_paused_live_run(live):
    from explainer.widgets import TrainingDashboard

    live.run_steps(45)  # past the first epoch's end: an epoch row, and snapshots up to step 40
    dashboard = TrainingDashboard(live.trace_path)
    assert dashboard.errors.message == ""
    assert dashboard.trace.n_steps == 45 and dashboard.trace.n_epochs == 1
    assert pixels(dashboard._filters_image.value).size > 0


def test_setting_trace_path_chooses_where_the_next_run_goes(live, tmp_path):
    live.run_steps(3)
    first = live.trace_path
    live.trace_path = str(tmp_path / "mine.zarr")  # ends the run, like any setting
    assert live.step == 0 and Trace.open(first).status == "interrupted"
    assert live.run_steps(0) == 0 and not (tmp_path / "mine.zarr").exists()  # no steps: no run is started
    assert live.run_steps(4) == 4 and live.trace_path == str(tmp_path / "mine.zarr")
    assert Trace.open(tmp_path / "mine.zarr").n_steps == 4
    assert "mine.zarr" in live._where.value


@pytest.mark.parametrize("setting,value,message", [
    ("batch_size", 0, "batch_size must be a whole number >= 1; got 0"),
    ("seed", -1, "seed must be a whole number from 0 to 4294967295 (2**32 - 1); got -1"),
    ("lr", -0.5, "lr (the learning rate) must be a positive number; got -0.5"),
    ("hidden", "64,,3", "hidden takes widths separated by commas, each a whole number >= 1"),
    ("hidden", "99999", "at most 4096 units wide"),
])
def test_bad_numbers_are_named_in_the_dashboard_and_start_nothing(live, tmp_path, setting, value, message):
    setattr(live, setting, value)
    assert message in live.errors.message and "bug" not in live.errors.message
    assert live.run_steps(2) == 0 and "not started" in live._status.value
    assert not (tmp_path / "live.zarr").exists()


def test_the_filters_are_the_trace_s_latest_snapshot_on_the_run_s_range(live):
    live.run_steps(30)
    trace = Trace.open(live.trace_path)  # what the view read back
    last = int(trace.snapshot_steps[-1])
    assert last <= 30 and f"step {last}, the latest snapshot" in live._filters_caption.value
    picture = pixels(live._filters_image.value)
    expected = filter_rgb(trace.first_layer_filters(last), filter_range(trace))  # (16, 8, 8, 3)
    scale, cols = TILE // 8, COLS
    for j in range(16):
        y, x = tile_origin(j, (8, 8), scale, cols, FILTER_GAP)
        np.testing.assert_array_equal(picture[y : y + 8 * scale : scale, x : x + 8 * scale : scale], expected[j])
    assert f"±{filter_range(trace):.3g}, the same at every step" in live._filters_caption.value
    assert "step 30 of 80" in live._status.value and f"batch loss {trace.scalars['loss'][-1]:.3f}" in live._status.value


# -- the live run without a dashboard ------------------------------------------------------------------------


def test_a_live_run_trains_and_is_read_back_through_the_reader(tmp_path):
    live = LiveRun(Experiment(hidden=(8,), epochs=2), tmp_path / "run.zarr")
    assert not live.started and live.path is None and live.run_steps(0) == 0
    assert not (tmp_path / "run.zarr").exists()  # nothing is written before the first step
    assert live.run_steps(10) == 10 and live.step == 10 and live.path == tmp_path / "run.zarr"
    assert live.trace().n_steps == 10  # re-opened: every step taken so far
    assert live.run_steps(5) == 5 and live.trace().n_steps == 15
    seen = []
    live.start(on_step=lambda run: seen.append(run.step), on_stop=lambda run: seen.append("stopped"))
    assert live.wait(60) and not live.playing
    assert seen[0] == 16 and seen[-2:] == [80, "stopped"]
    assert live.over.startswith("finished: test accuracy") and live.trace().complete
    assert live.run_steps(1) == 0  # over: a new run is a new LiveRun
    live.close()
    again = LiveRun(Experiment(hidden=(8,), epochs=2), tmp_path / "run.zarr")
    assert again.run_steps(1) == 1 and again.path == tmp_path / "run-2.zarr"  # never overwritten
    again.close()
    assert Trace.open(tmp_path / "run-2.zarr").status == "interrupted"


def test_a_live_run_that_diverges_or_cannot_start_says_why(tmp_path):
    diverging = LiveRun(Experiment(hidden=(8,), epochs=2, optimizer="sgd", lr=50.0), tmp_path / "d.zarr")
    assert 0 < diverging.run_steps(80) < 80
    assert diverging.over.startswith("training diverged at step") and "too high" in str(diverging.error)
    assert diverging.trace().status == "interrupted"
    with pytest.raises(ValueError, match="at most 4096 units wide"):
        LiveRun.experiment(hidden="5000")
    with pytest.raises(ValueError, match="optimizer must be one of 'sgd'"):
        LiveRun.check("optimizer", "lbfgs")
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    stuck = LiveRun(Experiment(hidden=(8,), epochs=1), blocked / "run.zarr")
    assert stuck.run_steps(3) == 0 and stuck.over.startswith("not started") and stuck.error is not None


def test_pausing_a_live_run_stops_it_between_steps(tmp_path):
    live = LiveRun(Experiment(hidden=(8,), epochs=50), tmp_path / "p.zarr", steps_per_second=200)
    live.start()
    until(lambda: live.step >= 10)
    live.pause()
    stopped = live.step
    time.sleep(0.1)
    assert live.step == stopped and not live.playing and live.trace().n_steps == stopped
    live.close()


def test_another_optimizer_moves_an_unchanged_rate_to_its_own_default_and_a_far_one_is_flagged(live):
    assert live.lr == default_lr("adam")
    live.optimizer = "sgd"
    assert live.lr == default_lr("sgd") and "explainer-warning" not in live._status.value
    live.lr = 0.001  # the rate that left a sigmoid network at 21.7%: kept, since the student chose it, but flagged
    live.optimizer = "momentum"
    assert live.lr == 0.001
    assert "explainer-warning" not in live._status.value  # momentum's range starts at 0.001
    live.optimizer = "sgd"
    assert live.lr == 0.001 and lr_advice("sgd", 0.001) in live._status.value
    assert LiveTraining(optimizer="sgd").lr == default_lr("sgd")


def test_weight_decay_and_the_initialiser_reach_the_run(live):
    assert live._experiment().l2 == 0 and live._experiment().init is None  # the network picks (he for relu)
    live.l2, live.init = 5e-4, "xavier"
    experiment = live._experiment()
    assert experiment.l2 == 5e-4 and experiment.init == "xavier"
    assert live.run_steps(3) == 3 and live.run.experiment == experiment
    with pytest.raises(traitlets.TraitError, match="init must be one of default, "):
        live.init = "orthogonal"
    assert {"l2", "init"} <= set(live._controls)


def test_with_no_hidden_layer_the_output_tiles_stand_in_digit_order_labelled(tmp_path):
    live = LiveTraining(trace_path=tmp_path / "out.zarr", hidden="none", epochs=1, steps_per_second=0)
    live.run_steps(2)
    labels = re.findall(r">(\d)</span>", live._filters_labels.value)
    assert labels == [str(d) for d in range(10)]
    widths = {int(w) for w in re.findall(r"width:(\d+)px", live._filters_labels.value)}
    scale, cols, rows = filter_layout(10, (8, 8), scale=TILE // 8, cols=10)
    assert (cols, rows) == (10, 1) and pixels(live._filters_image.value).shape[1] == FILTER_GAP + 10 * (8 * scale + FILTER_GAP)
    assert widths == {8 * scale + FILTER_GAP}  # one label per tile, each as wide as a tile and its gap
    live.hidden = "16"
    assert live._filters_labels.value == ""
