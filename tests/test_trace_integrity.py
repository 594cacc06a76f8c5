"""A damaged trace is an error, never data: each way a copy can break, made on a tiny trace.

Every test here damages a private copy of one small recorded run and checks
that reading it gives one clear TraceError (the command line: one line, exit
status 2) instead of values that look real.
"""

import json
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import zarr

from explainer import Experiment, Trainer, run
from explainer.data import load_dataset
from explainer.trace import Trace, TraceError, TraceRecorder, is_trace, open_trace, pack_trace
from explainer.trace.store import seal


def record(path, **overrides):
    with TraceRecorder(path, schedule="every:10", n_probe=12) as recorder:
        return run(Experiment.preset("digits", **{"epochs": 2, "hidden": (8,), **overrides}), recorder=recorder,
                   progress=False)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    path = tmp_path_factory.mktemp("integrity") / "run.zarr"
    record(path)
    return path


@pytest.fixture()
def copy(pristine, tmp_path):
    path = tmp_path / "copy.zarr"
    shutil.copytree(pristine, path)
    return path


def read_everything(path):
    trace = Trace.open(path)
    trace.verify()
    for step in trace.snapshot_steps:
        trace.snapshot(int(step))
    return trace


def edit_attrs(path, change, reseal=False):
    """Change the root attributes in zarr.json by hand (``reseal``: and give them a matching digest,
    as a consistent but wrong writer would)."""
    meta = json.loads((path / "zarr.json").read_text())
    change(meta["attributes"])
    if reseal:
        meta["attributes"] = seal(meta["attributes"])
    (path / "zarr.json").write_text(json.dumps(meta))


def flip(file, offset):
    data = bytearray(file.read_bytes())
    data[offset] ^= 0x40
    file.write_bytes(bytes(data))


# -- what the chunks hold ----------------------------------------------------------


@pytest.mark.parametrize("key", ["snapshots/params", "steps/scalars", "snapshots/step", "epochs/metrics"])
def test_a_flipped_byte_in_a_raw_chunk_is_an_error(copy, key):
    file = next(p for p in sorted((copy / key / "c").rglob("*")) if p.is_file())
    flip(file, 40)  # in the middle of the numbers: a value that decodes fine, but is wrong
    with pytest.raises(TraceError, match="checksum|cannot be read"):
        read_everything(copy)


def test_a_chunk_swapped_between_two_arrays_of_the_same_size_is_an_error(copy):
    params, grads = copy / "snapshots/params/c/0/0", copy / "snapshots/grads/c/0/0"
    a, b = params.read_bytes(), grads.read_bytes()
    params.write_bytes(b), grads.write_bytes(a)  # each chunk's own checksum still holds
    with pytest.raises(TraceError, match="is not the one that was written there"):
        Trace.open(copy).weights(0)


def test_two_chunks_of_one_array_swapped_is_an_error(copy):
    first, second = copy / "snapshots/params/c/0/0", copy / "snapshots/params/c/1/0"
    a, b = first.read_bytes(), second.read_bytes()
    first.write_bytes(b), second.write_bytes(a)
    with pytest.raises(TraceError, match="is not the one that was written there"):
        Trace.open(copy).weights(0)


def stopped_run(path):
    """A run that stops after 70 of its 120 steps, without its evaluation (status "interrupted")."""
    data = load_dataset("digits")
    experiment = Experiment.preset("digits", epochs=3, hidden=(8,))
    recorder = TraceRecorder(path, schedule="every:5", flush_seconds=0)
    trainer = Trainer(experiment.network(64, 10), data, experiment.train_config(), recorder)
    trainer.run(70)
    recorder.flush()
    trainer.close()
    return path


def test_a_killed_run_with_a_committed_chunk_missing_is_an_error(tmp_path):
    path = stopped_run(tmp_path / "killed.zarr")
    trace = Trace.open(path)
    assert trace.status == "interrupted" and trace.n_snapshots == 14
    (path / "snapshots/params/c/1/0").unlink()  # a committed chunk; chunks 2 to 5 were never written
    with pytest.raises(TraceError, match="chunk 1 of 'snapshots/params' .* is missing"):
        Trace.open(path).weights(60)


def test_a_float64_run_keeps_every_number_in_float64(tmp_path):
    record(tmp_path / "f64.zarr", dtype="float64")
    trace = Trace.open(tmp_path / "f64.zarr")
    assert trace.scalars["loss"].dtype == np.float64 and trace.scalars["grad_norm"].dtype == np.float64
    assert trace.weights(0)[0][0].dtype == np.float64
    record_ = trace.probe_record(10)
    assert isinstance(record_.loss, float)
    assert zarr.open_array(tmp_path / "f64.zarr/snapshots/loss", mode="r").dtype == np.float64
    assert trace.scalars["loss"][0] != np.float32(trace.scalars["loss"][0])  # more digits than float32 holds


# -- metadata --------------------------------------------------------------------------


@pytest.mark.parametrize("change", [
    lambda a: a["committed"].update(steps=-1),
    lambda a: a["committed"].update(snapshots=10**6),
    lambda a: a.update(steps_per_epoch="40"),
    lambda a: a["layers"][0].update(shape=[8, 0]),
    lambda a: a["config"]["training"].update(lr=0.002),
    lambda a: a.pop("config"),
])
def test_altered_root_metadata_is_noticed_by_its_digest(copy, change):
    edit_attrs(copy, change)
    with pytest.raises(TraceError, match="was changed after it was written"):
        Trace.open(copy)


@pytest.mark.parametrize(("change", "message"), [
    (lambda a: a["committed"].update(steps=-1), "claims -1 committed steps"),
    (lambda a: a["committed"].update(snapshots=10**6), "claims 1000000 committed snapshots"),
    (lambda a: a["committed"].update(steps="80"), "claims '80' committed steps"),
    (lambda a: a.update(steps_per_epoch="40"), "'steps_per_epoch' is '40', not a whole number"),
    (lambda a: a["layers"][0].update(shape=[8, 0]), r"'layers\[0\].shape' is \[8, 0\], not \[8, 64\]"),
    (lambda a: a["config"].pop("training"), "lacks 'config.training'"),
    (lambda a: a["config"]["network"].update(dtype="float16"), "'config.network.dtype' is 'float16'"),
    (lambda a: a["config"]["recording"].update(n_probe=15), "'probe/x' has shape"),
    (lambda a: a["evaluation"].pop("test_loss"), "its evaluation is"),
    (lambda a: a.update(status="finished"), "its status is 'finished'"),
])
def test_consistent_but_wrong_metadata_is_checked_field_by_field(copy, change, message):
    edit_attrs(copy, change, reseal=True)
    with pytest.raises(TraceError, match=message):
        Trace.open(copy)


@pytest.mark.parametrize(("change", "message"), [
    (lambda m: m.update(data_type="float64"), "has dtype float64, where the run's settings give float32"),
    (lambda m: m["codecs"][0]["configuration"].update(endian="big"), "has codecs"),
    (lambda m: m.update(shape=[10**6, 8]), "has shape"),
    (lambda m: m["codecs"].pop(), "has codecs"),
])
def test_an_array_whose_metadata_differs_from_the_runs_settings_is_an_error(copy, change, message):
    file = copy / "probe/x/zarr.json"
    meta = json.loads(file.read_text())
    change(meta)
    file.write_text(json.dumps(meta))
    with pytest.raises(TraceError, match=message):
        Trace.open(copy)


@pytest.mark.parametrize("text", [b"{", b"\xff\xfe{}", b'{"zarr_format": 3, "node_type": "array"}', b"[]"])
def test_unreadable_metadata_is_one_trace_error(copy, text):
    (copy / "zarr.json").write_bytes(text)
    with pytest.raises(TraceError):
        Trace.open(copy)


@pytest.mark.parametrize("text", [b"{", b"\xff\xfe{}", b'{"zarr_format": 3, "node_type": "group"}', b"null"])
def test_an_arrays_unreadable_metadata_is_one_trace_error(copy, text):
    (copy / "steps/scalars/zarr.json").write_bytes(text)
    with pytest.raises(TraceError, match="steps/scalars"):
        Trace.open(copy)


# -- packed traces -------------------------------------------------------------------------


def repack(packed, out, drop=(), rename=None):
    with zipfile.ZipFile(packed) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            if info.filename in drop:
                continue
            name = rename.get(info.filename, info.filename) if rename else info.filename
            dst.writestr(name, src.read(info))
    return out


def test_a_packed_trace_with_a_member_missing_is_an_error(pristine, tmp_path):
    packed = pack_trace(pristine, tmp_path / "run.zarr.zip")
    damaged = repack(packed, tmp_path / "missing.zip", drop={"snapshots/params/c/1/0"})
    with pytest.raises(TraceError, match="chunk 1 of 'snapshots/params' .* is missing"):
        Trace.open(damaged).verify()
    cli = subprocess.run([sys.executable, "-m", "explainer", "info", str(damaged)], capture_output=True, text=True)
    assert cli.returncode == 2 and "Traceback" not in cli.stderr, cli.stderr


def test_a_packed_trace_with_a_members_name_damaged_in_the_zip_directory_is_an_error(pristine, tmp_path):
    packed = pack_trace(pristine, tmp_path / "run.zarr.zip")
    data = bytearray(packed.read_bytes())
    name = b"steps/scalars/c/0/0"
    at = data.rindex(name)  # its entry in the central directory, at the end of the file
    data[at + len(name) - 1] = ord("7")
    packed.write_bytes(bytes(data))
    with pytest.raises(TraceError, match="chunk 0 of 'steps/scalars' .* is missing"):
        _ = Trace.open(packed).scalars


def test_a_flipped_byte_inside_a_packed_chunk_is_an_error(pristine, tmp_path):
    packed = pack_trace(pristine, tmp_path / "run.zarr.zip")
    data = bytearray(packed.read_bytes())
    with zipfile.ZipFile(packed) as zf:
        info = zf.getinfo("snapshots/params/c/0/0")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 100] ^= 0x01
    packed.write_bytes(bytes(data))
    with pytest.raises(TraceError):
        Trace.open(packed).weights(0)


# -- what may be replaced ----------------------------------------------------------------------


def test_recording_with_overwrite_never_deletes_a_folder_that_is_not_a_trace(tmp_path):
    thesis = tmp_path / "thesis"
    thesis.mkdir()
    (thesis / "thesis.tex").write_text("\\documentclass{book}")
    assert not is_trace(thesis)
    with pytest.raises(FileExistsError, match="path .*thesis already exists and is not a trace"):
        TraceRecorder(thesis, overwrite=True)
    assert (thesis / "thesis.tex").read_text() == "\\documentclass{book}"


def test_recording_with_overwrite_replaces_a_trace(pristine, tmp_path):
    old = tmp_path / "old.zarr"
    shutil.copytree(pristine, old)
    assert is_trace(old) and is_trace(pack_trace(old, tmp_path / "old.zip"))
    record_path = old
    with TraceRecorder(record_path, schedule="epochs", n_probe=5, overwrite=True) as recorder:
        run(Experiment.preset("digits", epochs=1, hidden=(4,)), recorder=recorder, progress=False)
    assert Trace.open(old).sizes == [64, 4, 10]


# -- the API's answers to bad questions --------------------------------------------------------


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda t: Trace.open(None), TypeError, "a trace is named by its path"),
    (lambda t: Trace.open(123), TypeError, "a trace is named by its path"),
    (lambda t: t.probe_record(10**30), TraceError, "step 1000000000000000000000000000000 is outside the run"),
    (lambda t: t.weights(-5), TraceError, "step -5 is outside the run"),
    (lambda t: t.silent_units(0, layer=99), TraceError, "layer 99 is not a layer"),
    (lambda t: t.snapshot(True), TraceError, "step must be a whole number; got True"),
    (lambda t: t.weights(2.5), TraceError, "step must be a whole number; got 2.5"),
    (lambda t: t.check_step(10**9, name="--step"), TraceError, "--step 1000000000 is outside the run"),
    (lambda t: t.check_sample(12, name="--sample"), TraceError, "--sample 12 is not a probe digit .* 0 to 11"),
    (lambda t: t.learning_rate(-1), TraceError, "step -1 is outside the run"),
])
def test_bad_questions_get_one_clear_error(pristine, call, error, message):
    with pytest.raises(error, match=message):
        call(Trace.open(pristine))


def test_the_typed_answers_are_the_runs(pristine):
    trace = open_trace(str(pristine))
    assert open_trace(trace) is trace
    assert trace.run.activations == ("relu", "softmax") and trace.run.hidden == (8,)
    assert trace.steps_per_epoch == 40 and trace.run.total_steps == 80
    assert trace.learning_rate(79) == 1e-3
    assert trace.check_step(13) == 10 and trace.check_step(16) == 20
    net = trace.network(30)
    np.testing.assert_array_equal(net.layers[0].W, trace.weights(30)[0][0])
    np.testing.assert_array_equal(net.predict_proba(trace.probe_x), trace.probe_record(30).probabilities)


def test_the_learning_rate_follows_the_decay(tmp_path):
    with TraceRecorder(tmp_path / "decay.zarr", schedule="epochs", n_probe=5) as recorder:
        run(Experiment.preset("digits", epochs=3, hidden=(4,), lr=0.01, lr_decay=0.5), recorder=recorder,
            progress=False)
    trace = Trace.open(tmp_path / "decay.zarr")
    assert [trace.learning_rate(s) for s in (0, 39, 40, 80, 119)] == [0.01, 0.01, 0.005, 0.0025, 0.0025]
    np.testing.assert_allclose(trace.scalars["lr"], [trace.learning_rate(s) for s in range(120)], rtol=1e-7)


# -- a killed run's last chunk, and counts that say more than was written -------------------


@pytest.fixture()
def killed(tmp_path):
    """A run stopped at step 70 of 120 whose status says "running", as after a SIGKILL."""
    path = stopped_run(tmp_path / "killed.zarr")
    edit_attrs(path, lambda a: a.update(status="running"), reseal=True)
    return path


def test_a_killed_runs_last_chunk_rewritten_after_its_last_commit_still_reads(killed):
    before = Trace.open(killed).scalars["loss"].copy()
    array = zarr.open_array(killed / "steps/scalars", mode="r+")
    array[70:75] = 9.0  # rows written, then the run was killed before it committed them
    trace = Trace.open(killed)
    assert trace.n_steps == 70
    np.testing.assert_array_equal(trace.scalars["loss"], before)


def test_a_killed_runs_last_chunk_taken_from_another_run_is_an_error(killed, tmp_path):
    other = tmp_path / "other.zarr"
    record(other, epochs=3, seed=1)
    shutil.copyfile(other / "steps/scalars/c/0/0", killed / "steps/scalars/c/0/0")  # same size, its own CRC
    with pytest.raises(TraceError, match="chunk 0 of 'steps/scalars' does not hold the rows that were committed"):
        Trace.open(killed)


@pytest.mark.parametrize("name", ["steps", "snapshots", "epochs"])
def test_a_committed_count_raised_by_hand_is_an_error(killed, name):
    edit_attrs(killed, lambda a: a["committed"].update({name: a["committed"][name] + 1}), reseal=True)
    with pytest.raises(TraceError, match="are not the rows that were written"):
        Trace.open(killed)


@pytest.mark.parametrize(("change", "message"), [
    (lambda a: a.update(image_shape=[4, 16]), r"'image_shape' \[4, 16\] and 10 classes are not those of 'digits'"),
    (lambda a: a["config"]["data"].update(name="mnist"), "are not those of 'mnist'"),
    (lambda a: a.update(status="interrupted"), "it holds a test evaluation, but its status is 'interrupted'"),
    (lambda a: a["evaluation"].update(test_accuracy=1.5), "test accuracy and confusion matrix are not those"),
])
def test_metadata_that_contradicts_the_data_is_an_error(copy, change, message):
    edit_attrs(copy, change, reseal=True)
    with pytest.raises(TraceError, match=message):
        Trace.open(copy).verify()
