"""Traces: what is recorded is exact, survives a crash, and fails clearly when broken."""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import zarr

from explainer import Experiment, Network, run
from explainer.cli import main
from explainer.trace import (
    SCHEMA_VERSION,
    Trace,
    TraceError,
    TraceRecorder,
    default_trace,
    default_trace_path,
    pack_trace,
    snapshot_steps,
)

SMALL = {"epochs": 3, "hidden": (16, 8)}


def record(path, **overrides):
    with TraceRecorder(path, schedule="every:10") as recorder:
        result = run(Experiment.preset("digits", **{**SMALL, **overrides}), recorder=recorder, progress=False)
    return result


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    path = tmp_path_factory.mktemp("trace") / "run.zarr"
    result = record(path)
    return path, result


@pytest.fixture()
def copy(recorded, tmp_path):
    """A private copy of the recorded trace, to damage."""
    path = tmp_path / "copy.zarr"
    shutil.copytree(recorded[0], path)
    return path


# -- what is recorded -----------------------------------------------------------


def test_the_trace_holds_the_whole_run(recorded):
    path, result = recorded
    trace = Trace.open(path)
    assert trace.complete and trace.dataset == "digits"
    assert trace.sizes == [64, 16, 8, 10] and trace.image_shape == (8, 8)
    assert trace.n_steps == result.history.steps == len(trace.scalars["loss"])
    assert trace.scalars["grad_norm"].shape == (trace.n_steps, 3)
    assert np.all(np.isfinite(trace.scalars["loss"]))
    assert trace.n_epochs == 3
    np.testing.assert_allclose(trace.epochs["val_accuracy"], [e["val_accuracy"] for e in result.history.epochs])
    assert trace.evaluation.test_accuracy == result.history.test_accuracy
    np.testing.assert_array_equal(trace.evaluation.confusion, result.history.confusion)
    expected = snapshot_steps("every:10", trace.n_steps, trace.steps_per_epoch)
    np.testing.assert_array_equal(trace.snapshot_steps, expected)
    assert trace.run.network_config() == result.net.config()
    assert trace.run.training == result.experiment.train_config()


def test_the_probe_set_covers_every_class_from_the_validation_set(recorded):
    path, result = recorded
    trace = Trace.open(path)
    assert set(trace.probe_labels.tolist()) == set(range(10))
    np.testing.assert_array_equal(trace.probe_x, result.data.X_val[trace.probe_index])


def test_the_last_snapshot_holds_the_weights_before_the_last_update(recorded):
    path, result = recorded
    trace = Trace.open(path)
    # step 0 is the initial network, before any update
    fresh = Network(**trace.run.network_config())
    for (W, b), layer in zip(trace.weights(0), fresh.layers):
        np.testing.assert_array_equal(W, layer.W)
        np.testing.assert_array_equal(b, layer.b)
    # the last step's snapshot differs from the trained weights by exactly one update
    W_last = trace.weights(trace.n_steps - 1)[0][0]
    assert not np.array_equal(W_last, result.net.layers[0].W)
    assert np.abs(W_last - result.net.layers[0].W).max() < 0.01


def test_replaying_a_snapshot_reproduces_the_recorded_pass(recorded):
    trace = Trace.open(recorded[0])
    for step in trace.snapshot_steps[[0, len(trace.snapshot_steps) // 2, -1]]:
        net = trace.network(int(step), exact=True)
        replay = net.inspect(trace.probe_x, trace.probe_labels)
        record = trace.probe_record(step, exact=True)
        for i in range(trace.n_layers):
            np.testing.assert_array_equal(replay.z[i], record.z[i])
            np.testing.assert_array_equal(replay.a[i], record.a[i])
            np.testing.assert_array_equal(replay.delta[i], record.delta[i])
        np.testing.assert_array_equal(replay.probabilities, record.probabilities)
        assert replay.loss == pytest.approx(record.loss, rel=1e-6)


def test_nearest_snapshot_and_exact_lookup(recorded):
    trace = Trace.open(recorded[0])
    steps = trace.snapshot_steps
    assert trace.probe_record(int(steps[1]) + 3).step == steps[1]  # 13 is nearer 10 than 20
    with pytest.raises(TraceError, match=r"step 13 has no snapshot; the nearest is 10"):
        trace.weights(13, exact=True)
    filters = trace.first_layer_filters(int(steps[-1]))
    assert filters.shape == (16, 8, 8)
    np.testing.assert_array_equal(filters.reshape(16, 64), trace.weights(int(steps[-1]))[0][0])


def test_per_step_norms_match_the_snapshots(recorded):
    trace = Trace.open(recorded[0])
    for step in trace.snapshot_steps[:3]:
        (W, _), (dW, _) = trace.weights(step)[0], trace.gradients(step)[0]
        assert trace.scalars["weight_norm"][step, 0] == pytest.approx(np.linalg.norm(W), rel=1e-5)
        assert trace.scalars["grad_norm"][step, 0] == pytest.approx(np.linalg.norm(dW), rel=1e-5)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_the_dead_share_counts_units_zero_for_the_whole_batch(tmp_path, activation):
    expected = []

    class Checking(TraceRecorder):
        def record_step(self, step, net, scalars, updates):
            expected.append([1 - np.count_nonzero(layer.a.any(axis=0)) / layer.a.shape[1] for layer in net.layers[:-1]])
            super().record_step(step, net, scalars, updates)

    with Checking(tmp_path / "run.zarr", schedule="epochs") as recorder:
        experiment = Experiment.preset("digits", epochs=2, hidden=(16, 8), activation=activation, lr=0.05)
        run(experiment, recorder=recorder, progress=False)
    dead = Trace.open(tmp_path / "run.zarr").scalars["dead_share"]  # (n_steps, n_layers)
    np.testing.assert_allclose(dead[:, :-1], expected, rtol=1e-6)
    assert np.all(dead[:, -1] == 0)  # softmax units never die
    if activation == "relu":
        assert dead.max() > 0  # a large learning rate kills some ReLU units


def test_silent_units_are_those_the_snapshot_weights_leave_at_zero_for_every_probe_digit(tmp_path, capsys):
    with TraceRecorder(tmp_path / "run.zarr", schedule="epochs") as recorder:  # a large lr kills some ReLU units
        run(Experiment.preset("digits", epochs=2, hidden=(16, 8), lr=0.05), recorder=recorder, progress=False)
    trace = Trace.open(tmp_path / "run.zarr")
    net = Network(**trace.run.network_config())
    found = 0
    for step in trace.snapshot_steps:
        for layer, (W, b) in zip(net.layers, trace.weights(step, exact=True)):
            layer.W[...], layer.b[...] = W, b
        net.forward(trace.probe_x)
        for i in range(trace.n_layers - 1):
            expected = [j for j in range(net.layers[i].a.shape[1]) if not net.layers[i].a[:, j].any()]
            nearby = min(int(step) + 1, trace.n_steps - 1)  # its nearest snapshot is `step`
            assert trace.silent_units(nearby, layer=i).tolist() == expected
            found += len(expected)
    assert found, "no unit of this run went silent: the test checks nothing"
    # `explainer info` reports them at the last snapshot, layer by layer
    last = int(trace.snapshot_steps[-1])
    silent = [trace.silent_units(last, layer=i).tolist() for i in range(trace.n_layers - 1)]
    summary = trace.summary()
    assert summary["silent_units"] == silent and summary["last_snapshot"] == last
    assert main(["info", str(tmp_path / "run.zarr")]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("silent units"))
    assert line.startswith(f"silent units layer 1: {len(silent[0])} of 16")
    assert f"layer 2: {len(silent[1])} of 8" in line


def test_same_seed_records_identical_arrays(recorded, tmp_path):
    record(tmp_path / "again.zarr")
    a, b = zarr.open_group(recorded[0], mode="r"), zarr.open_group(tmp_path / "again.zarr", mode="r")
    names = sorted(name for name, _ in a.arrays()) + sorted(
        f"{g}/{name}" for g, group in a.groups() for name, _ in _all_arrays(group))
    expected = {"probe/x", "steps/scalars", "steps/layers", "snapshots/params", "snapshots/grads",
                "snapshots/probe", "epochs/metrics", "evaluation/confidence"}
    assert expected <= set(names) and len(names) == 15  # every array of the trace is compared
    for name in names:
        x, y = a[name][...], b[name][...]
        if name == "epochs/metrics":  # its column `seconds` is wall-clock time: the one thing that differs
            keep = [j for j, column in enumerate(a[name].attrs["columns"]) if column != "seconds"]
            x, y = x[:, keep], y[:, keep]
        np.testing.assert_array_equal(x, y, err_msg=name)


def _all_arrays(group, prefix=""):
    for name, array in group.arrays():
        yield prefix + name, array
    for name, sub in group.groups():
        yield from _all_arrays(sub, f"{prefix}{name}/")


# -- packing and the default trace ------------------------------------------------


def test_a_packed_trace_opens_read_only_with_the_same_numbers(recorded, tmp_path):
    packed = pack_trace(recorded[0], tmp_path / "run.zarr.zip")
    a, b = Trace.open(recorded[0]), Trace.open(packed)
    assert b.summary()["test_accuracy"] == a.summary()["test_accuracy"]
    np.testing.assert_array_equal(b.scalars["loss"], a.scalars["loss"])
    step = int(a.snapshot_steps[-2])
    np.testing.assert_array_equal(b.probe_record(step).delta[0], a.probe_record(step).delta[0])


def test_the_default_trace_is_built_once_and_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLAINER_CACHE", str(tmp_path))
    path = default_trace(progress=False)
    assert path == default_trace_path() and str(path).startswith(str(tmp_path))
    assert Trace.open(path).complete
    stamp = (path / "zarr.json").stat().st_mtime_ns
    assert default_trace(progress=False) == path
    assert (path / "zarr.json").stat().st_mtime_ns == stamp  # not rebuilt
    shutil.rmtree(path / "snapshots" / "params")  # broken: rebuilt on the next call
    assert Trace.open(default_trace(progress=False)).weights(0)[0][0].shape == (128, 64)


def test_recording_refuses_to_overwrite_unless_asked(recorded):
    with pytest.raises(FileExistsError, match="already holds a trace: choose another path, or add --force"):
        TraceRecorder(recorded[0])


@pytest.mark.parametrize("schedule", ["log:0", "often", "every:x", "log:5+weekly"])
def test_bad_schedules_are_refused(schedule):
    with pytest.raises(ValueError, match="snapshot schedule must look like"):
        snapshot_steps(schedule, 100, 10)


def test_schedules():
    assert snapshot_steps("every:4", 10, 5).tolist() == [0, 4, 8, 9]
    assert snapshot_steps("epochs", 10, 5).tolist() == [0, 5, 9]
    log = snapshot_steps("log:20", 1000, 100)
    assert log[0] == 0 and log[-1] == 999 and len(log) <= 20
    gaps = np.diff(log)
    assert gaps[0] <= gaps[-1] / 10  # dense early, sparse late


# -- broken traces: one clear error each --------------------------------------------


def test_a_missing_trace(tmp_path):
    with pytest.raises(TraceError, match="no trace at"):
        Trace.open(tmp_path / "nothing.zarr")


def test_a_foreign_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(TraceError, match="is not a trace"):
        Trace.open(tmp_path)


def test_a_foreign_zarr_store(tmp_path):
    group = zarr.open_group(tmp_path / "other.zarr", mode="w")
    group.create_array("x", shape=(3,), dtype="f4")
    with pytest.raises(TraceError, match="not an explainer trace"):
        Trace.open(tmp_path / "other.zarr")


def test_a_newer_schema(copy):
    group = zarr.open_group(copy, mode="r+")
    group.attrs["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(TraceError, match=f"schema version {SCHEMA_VERSION + 1}, newer .* upgrade explainer"):
        Trace.open(copy)


def test_mangled_metadata(copy):
    (copy / "zarr.json").write_text('{"zarr_format": 3, "node_type": "gro')
    with pytest.raises(TraceError, match="cannot be read as a trace"):
        Trace.open(copy)


def test_a_missing_array(copy):
    shutil.rmtree(copy / "snapshots" / "probe")
    with pytest.raises(TraceError, match="'snapshots/probe' is missing"):
        Trace.open(copy)  # every array's metadata is checked when the trace opens


def test_a_truncated_copy_missing_chunk_files(copy):
    chunk = sorted((copy / "snapshots" / "params" / "c").iterdir())[-1]
    shutil.rmtree(chunk)
    with pytest.raises(TraceError, match=r"truncated or damaged trace: chunk 1 of 'snapshots/params' .* is missing"):
        Trace.open(copy).weights(0)


def test_a_damaged_chunk(copy):
    chunk = next(p for p in (copy / "steps" / "scalars").rglob("*") if p.is_file() and p.name != "zarr.json")
    chunk.write_bytes(b"\x00garbage" * 10)
    with pytest.raises(TraceError, match="chunk 0 of 'steps/scalars' .* is not the one that was written there"):
        _ = Trace.open(copy).scalars


def test_a_truncated_packed_file(recorded, tmp_path):
    packed = pack_trace(recorded[0], tmp_path / "run.zarr.zip")
    data = packed.read_bytes()
    packed.write_bytes(data[: len(data) // 2])
    with pytest.raises(TraceError, match="cannot be read as a packed trace"):
        Trace.open(packed)


def test_errors_reach_the_command_line_as_one_line(copy):
    (copy / "zarr.json").write_text("{")
    result = subprocess.run([sys.executable, "-m", "explainer", "info", str(copy)], capture_output=True, text=True)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


# -- a crash at any moment ------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import sys
    from explainer import Experiment, run
    from explainer.trace import TraceRecorder
    from explainer.trace.writer import TraceWriter

    commit = TraceWriter._commit

    def announcing(self, counts):  # on the writer thread, once the rows are on disk
        commit(self, counts)
        print("committed", counts["steps"], counts["snapshots"], flush=True)

    TraceWriter._commit = announcing
    recorder = TraceRecorder(sys.argv[1], schedule="every:25", flush_seconds=0.05)
    run(Experiment.preset("digits", epochs=200, hidden=(64, 32)), recorder=recorder, progress=False)
    """
)


@pytest.mark.parametrize("attempt", range(4))
def test_a_run_killed_at_a_random_moment_keeps_what_it_flushed(tmp_path, attempt):
    path = tmp_path / "killed.zarr"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True)
    rng = np.random.default_rng(attempt)
    # wait for training to start (the first flush of steps), then kill at a random moment
    announced = (0, 0)
    while announced[0] == 0:
        line = child.stdout.readline()
        assert line.startswith("committed"), line
        announced = tuple(int(x) for x in line.split()[1:])
    deadline = time.monotonic() + rng.uniform(0, 2)
    os.set_blocking(child.stdout.fileno(), False)
    while time.monotonic() < deadline:
        line = child.stdout.readline()
        if line.startswith("committed"):
            announced = tuple(int(x) for x in line.split()[1:])
        time.sleep(0.005)
    child.send_signal(signal.SIGKILL)
    child.wait()
    for line in child.stdout.read().splitlines():  # flushes announced before the kill landed
        if line.startswith("committed"):
            announced = tuple(int(x) for x in line.split()[1:])
    assert child.returncode == -signal.SIGKILL
    trace = Trace.open(path)
    assert trace.status == "running" and not trace.complete and trace.evaluation is None
    assert (trace.n_steps, trace.n_snapshots) >= announced
    assert trace.n_steps > 0 and np.all(np.isfinite(trace.scalars["loss"]))
    assert trace.scalars["loss"][0] > 1.5  # the first step's loss is real (about ln 10), not a zero fill
    if trace.n_snapshots:
        last = int(trace.snapshot_steps[-1])
        assert trace.weights(last)[0][0].std() > 0
        assert trace.probe_record(last).probabilities.sum(axis=1) == pytest.approx(1, abs=1e-5)
    json.dumps(trace.summary())


def test_a_write_that_fails_on_the_writer_thread_stops_the_run_and_commits_nothing_after_it(
        tmp_path, monkeypatch):
    # the disk fills up on the third write: training hears of it at its next flush
    # (not silently), and the trace keeps what was committed before that write
    import explainer.trace.writer as writer_module

    real_write, calls = writer_module.write_rows, []

    def failing_write(arrays, writes):
        calls.append(len(writes))
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real_write(arrays, writes)

    monkeypatch.setattr(writer_module, "write_rows", failing_write)
    path = tmp_path / "full.zarr"
    recorder = TraceRecorder(path, schedule="every:5", flush_seconds=0)  # a flush every step
    with pytest.raises(OSError, match="No space left"):
        run(Experiment.preset("digits", **SMALL), recorder=recorder, progress=False)
    assert len(calls) >= 3
    committed = dict(recorder.committed)
    trace = Trace.open(path)
    assert trace.status == "interrupted" and trace.evaluation is None
    assert (trace.n_steps, trace.n_snapshots) == (committed["steps"], committed["snapshots"])
    assert 0 < trace.n_steps < 100
    assert np.all(trace.scalars["loss"] > 1e-3)  # every committed row was written (no zero fill)


def test_a_run_killed_before_its_first_flush_opens_or_says_why(tmp_path):
    path = tmp_path / "early.zarr"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True)
    while not (path / "steps").exists():  # killed while the arrays are being made
        time.sleep(0.001)
        assert child.poll() is None
    child.send_signal(signal.SIGKILL)
    child.wait()
    try:
        trace = Trace.open(path)
        assert trace.n_steps == 0 or np.all(np.isfinite(trace.scalars["loss"]))
    except TraceError as e:
        assert "record it again" in str(e)


@pytest.mark.parametrize("version", [1, 2, 3])
def test_traces_of_earlier_versions_are_upgraded_with_every_number_kept(copy, recorded, tmp_path, version):
    # version 3 kept this layout without checksums, its test results in the evaluation group's
    # attributes; versions 1 and 2 kept one array per step and epoch column (steps/loss, ...);
    # version 1 also one per layer and snapshot name (snapshots/layer<i>/W, ..., delta)
    group = zarr.open_group(copy, mode="r+")
    new = Trace.open(recorded[0])
    if version < 3:
        for kind, columns in (("steps", {**new.scalars}), ("epochs", new.epochs)):
            for name, values in columns.items():
                group.create_array(f"{kind}/{name}", data=values, config={"write_empty_chunks": True})
        for name in ("steps/scalars", "steps/layers", "epochs/metrics"):
            del group[name]
    if version == 1:
        for i in range(new.n_layers):
            for name in ("W", "b", "dW", "db", "z", "a", "delta"):
                rows = [getattr(new.snapshot(int(s)), name)[i] if name in ("W", "b", "dW", "db")
                        else getattr(new.probe_record(int(s)), name)[i] for s in new.snapshot_steps]
                group.create_array(f"snapshots/layer{i}/{name}", data=np.stack(rows), chunks=(8, *rows[0].shape),
                                   config={"write_empty_chunks": True})
        for name in ("params", "grads", "probe"):
            del group[f"snapshots/{name}"]
    attrs = group.attrs.asdict()
    group["evaluation"].attrs.update({k: attrs["evaluation"][k] for k in ("test_loss", "test_accuracy")})
    for key in ("digest", "checksums", "evaluation"):
        attrs.pop(key)
    group.attrs.put({**attrs, "schema_version": version})
    with pytest.raises(TraceError, match=f"schema version {version}, older .* `explainer upgrade {copy}`"):
        Trace.open(copy)

    assert main(["upgrade", str(copy), "--out", str(tmp_path / "new.zarr")]) == 0
    old = Trace.open(tmp_path / "new.zarr").verify()
    assert old.n_snapshots == new.n_snapshots and old.complete
    for kind in ("scalars", "epochs"):
        for name, values in getattr(new, kind).items():
            np.testing.assert_array_equal(getattr(old, kind)[name], values, err_msg=name)
            assert getattr(old, kind)[name].dtype == values.dtype
    for step in new.snapshot_steps[[0, -1]]:
        a, b = old.snapshot(int(step)), new.snapshot(int(step))
        for name in ("W", "b", "dW", "db"):
            for x, y in zip(getattr(a, name), getattr(b, name)):
                np.testing.assert_array_equal(x, y)
        for name in ("z", "a", "delta"):
            for x, y in zip(getattr(a.probe, name), getattr(b.probe, name)):
                np.testing.assert_array_equal(x, y)
        assert a.probe.loss == b.probe.loss
    assert old.evaluation.test_accuracy == new.evaluation.test_accuracy
    np.testing.assert_array_equal(old.evaluation.confusion, new.evaluation.confusion)
    # the old trace was only read; a second upgrade never writes over the first
    assert main(["upgrade", str(copy), "--out", str(tmp_path / "new.zarr")]) == 2
