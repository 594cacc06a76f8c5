"""A convolutional network's run, recorded and read back through the same door as a dense one's.

A tiny CNN on the 8x8 digits (conv 4 3, pool 2, one epoch of 40 steps) is
trained with ``explainer train --out``; its trace must give back the kernels,
the feature maps and a working network, equal to a forward pass of the
recorded weights; keep every integrity promise; and every consumer that cannot
show a CNN yet must say so in one line.
"""

import json
import subprocess
import sys

import numpy as np
import pytest
import zarr

from explainer import Experiment, Trainer
from explainer.cli import main
from explainer.data import load_dataset
from explainer.trace import SCHEMA_VERSION, Trace, TraceError, TraceRecorder, open_trace
from explainer.trace.store import seal

CNN = ["--conv", "4", "--kernel", "3", "--padding", "valid", "--hidden", "12", "--epochs", "1"]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    path = tmp_path_factory.mktemp("cnn") / "cnn.zarr"
    assert main(["train", *CNN, "--no-progress", "--out", str(path)]) == 0
    return path


def test_the_trace_holds_the_run_and_its_layers(recorded):
    trace = open_trace(recorded).verify()
    assert trace.complete and trace.is_cnn and trace.schema_version == SCHEMA_VERSION == 6
    assert trace.run.specs == ("conv 4 3", "pool 2")
    assert [kind for kind, _, _ in trace.run.network_layers] == ["conv", "pool", "flatten", "dense", "dense"]
    assert trace.run.shapes == [(4, 3, 3, 1), (12, 36), (10, 12)]  # the weighted layers
    assert trace.n_layers == 3 and trace.scalars["grad_norm"].shape == (40, 3)
    assert np.all(trace.scalars["grad_norm"] > 0) and np.all(trace.scalars["update_norm"] > 0)
    # one probe digit of each class keeps its maps
    assert len(trace.map_probes) == 10 and sorted(trace.probe_labels[trace.map_probes]) == list(range(10))


def test_kernels_maps_and_the_network_are_those_of_a_forward_pass(recorded):
    trace = open_trace(recorded)
    for step in trace.snapshot_steps[[0, 7, -1]]:
        step = int(step)
        net = trace.network(step, exact=True)
        (W, b), *_ = trace.weights(step, exact=True)
        assert W.shape == (4, 3, 3, 1)
        np.testing.assert_array_equal(net.layers[0].W, W)
        np.testing.assert_array_equal(trace.first_layer_filters(step, exact=True), W[..., 0])  # (4, 3, 3)
        record = trace.probe_record(step, exact=True)
        # the network's predictions are the recorded probabilities, for every probe digit
        np.testing.assert_array_equal(net.predict_proba(trace.probe_x), record.probabilities)
        # and the recorded maps are its layers' z, a, delta, for the digits with maps
        again, m = net.inspect(trace.probe_x, trace.probe_labels), trace.map_probes
        assert [a.shape for a in record.a] == [(10, 6, 6, 4), (10, 3, 3, 4), (10, 36), (30, 12), (30, 10)]
        for i, name in ((i, name) for i in range(5) for name in ("z", "a", "delta")):
            expected = getattr(again, name)[i]
            np.testing.assert_array_equal(getattr(record, name)[i], expected[m] if i < 3 else expected,
                                          err_msg=f"{name}[{i}] at step {step}")
        # by hand, one value of the first feature map: the kernel over the top-left 3x3 patch, plus b
        image = trace.probe_x[m[0]].reshape(8, 8)
        assert np.isclose(record.z[0][0, 0, 0, 0], np.sum(W[0, :, :, 0] * image[:3, :3]) + b[0], rtol=1e-5)


def test_explainer_info_describes_the_cnn(recorded, capsys):
    assert main(["info", str(recorded)]) == 0
    out = capsys.readouterr().out
    assert "network      8x8 -> conv 4 3 -> pool 2 -> 12 -> 10  (relu, relu, softmax)" in out
    assert "feature maps of 10 of the 30 probe digits" in out
    assert "silent units layer 1: " in out and " of 4" in out.split("layer 2")[0]  # 4 channels
    assert main(["info", str(recorded), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["layers"] == ["conv 4 3", "pool 2"] and summary["units"] == [4, 12, 10]


def test_a_damaged_map_chunk_is_one_clear_error(recorded, tmp_path):
    import shutil

    copy = tmp_path / "damaged.zarr"
    shutil.copytree(recorded, copy)
    chunk = copy / "snapshots" / "maps" / "c" / "3" / "0" / "0" / "0"
    data = bytearray(chunk.read_bytes())
    data[len(data) // 2] ^= 0xFF
    chunk.write_bytes(bytes(data))
    trace = Trace.open(copy)
    step = int(trace.snapshot_steps[3])
    trace.probe_record(int(trace.snapshot_steps[2]), exact=True)  # another snapshot's maps read fine
    with pytest.raises(TraceError, match="damaged trace"):
        trace.probe_record(step, exact=True)
    chunk.unlink()  # a missing map chunk is noticed when the trace opens
    with pytest.raises(TraceError, match="snapshots/maps"):
        Trace.open(copy)


def test_the_recorded_settings_are_checked_against_the_maps(recorded, tmp_path):
    import shutil

    for edit, expected in ((lambda a: a["config"]["recording"].update(map_probes=[0, 1, 99]), "map_probes"),
                           (lambda a: a["config"]["network"].update(layers=["conv 4 9"]), "do not fit"),
                           (lambda a: a["config"]["recording"].update(map_probes=[0, 1, 2]), "snapshots/maps")):
        copy = tmp_path / f"edited{expected.replace('/', '')}.zarr"
        shutil.copytree(recorded, copy)
        group = zarr.open_group(copy, mode="r+")
        attrs = group.attrs.asdict()
        edit(attrs)
        group.attrs.put(seal(attrs))  # resealed: only the field checks and the layout check stand in the way
        with pytest.raises(TraceError, match=expected):
            Trace.open(copy)


def test_a_killed_cnn_run_keeps_every_flushed_snapshot_and_its_maps(tmp_path):
    experiment = Experiment.preset("digits", conv=(4,), kernel=3, padding="valid", hidden=(12,), epochs=2)
    data = load_dataset("digits", seed=experiment.seed, progress=False)
    net = experiment.network(data.X_train.shape[1], data.n_classes)
    recorder = TraceRecorder(tmp_path / "killed.zarr", schedule="every:5", n_probe=12, n_maps=3)
    trainer = Trainer(net, data, experiment.train_config(), recorder)
    trainer.run(52)
    recorder.flush()  # what a kill after the last flush leaves: status "running"
    trace = Trace.open(tmp_path / "killed.zarr").verify()
    assert trace.status == "running" and trace.n_steps == 52 and trace.n_snapshots == 11
    assert len(trace.map_probes) == 3 and len(set(trace.probe_labels[trace.map_probes])) == 3  # 3 classes
    record = trace.probe_record(50, exact=True)
    assert record.z[0].shape == (3, 6, 6, 4) and np.any(record.z[0] != 0)
    trainer.close()


def test_a_dense_trace_of_schema_4_opens_as_it_is(tmp_path):
    path = tmp_path / "dense.zarr"
    assert main(["train", "--hidden", "8", "--epochs", "1", "--no-progress", "--out", str(path)]) == 0
    group = zarr.open_group(path, mode="r+")
    attrs = group.attrs.asdict()
    assert "map_probes" not in attrs["config"]["recording"] and "layers" not in attrs["config"]["network"]
    group.attrs.put(seal({**attrs, "schema_version": 4}))
    trace = Trace.open(path).verify()
    assert trace.schema_version == 4 and not trace.is_cnn and trace.map_probes == []
    assert "specs" not in trace.run.to_dict()  # a dense run is described as before
    trace.refuse_cnn("anything")  # a dense run is never refused
    assert main(["upgrade", str(path), "--out", str(tmp_path / "new.zarr")]) == 2  # nothing to upgrade


def test_a_cnn_trace_marked_schema_4_is_refused(recorded, tmp_path):
    import shutil

    copy = tmp_path / "old.zarr"
    shutil.copytree(recorded, copy)
    group = zarr.open_group(copy, mode="r+")
    group.attrs.put(seal({**group.attrs.asdict(), "schema_version": 4}))
    with pytest.raises(TraceError, match="convolutional network, which schema version 4 cannot hold"):
        Trace.open(copy)


# -- consumers that cannot show a CNN yet say so in one line ---------------------------------


def _one_line(capsys, *args):
    assert main(list(args)) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "cannot show a convolutional network's run yet" in lines[0], lines
    return lines[0]


def test_render_of_a_dense_scene_and_lecture_refuse_a_cnn_in_one_line(recorded, tmp_path, capsys):
    # (explainer plot draws a CNN's kernels and feature maps: tests/test_figures_cnn.py)
    assert "explainer render ForwardPass" in _one_line(capsys, "render", "ForwardPass", "--trace", str(recorded))
    assert "explainer lecture" in _one_line(capsys, "lecture", "--trace", str(recorded), "--out",
                                            str(tmp_path / "lecture"))


def test_a_scene_refuses_a_cnn_in_one_line(recorded):
    script = "from explainer.scenes.choice import chosen_trace; chosen_trace()"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            env={**__import__("os").environ, "EXPLAINER_TRACE": str(recorded)})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "the scenes cannot show a convolutional network" in result.stderr


def test_a_dashboard_shows_the_refusal_in_its_error_area(recorded):
    # (ForwardExplorer, TrainingDashboard and LiveTraining show a CNN: tests/test_widgets_cnn.py)
    from explainer.widgets import BackpropExplorer

    dashboard = BackpropExplorer(str(recorded))
    assert "BackpropExplorer cannot show a convolutional network's run yet" in dashboard.errors.message
    assert "\n" not in dashboard.errors.message


def test_maps_sets_how_many_probe_digits_keep_their_maps(tmp_path, capsys):
    path = tmp_path / "two.zarr"
    assert main(["train", *CNN, "--no-progress", "--out", str(path), "--maps", "2", "--schedule", "every:20"]) == 0
    trace = open_trace(path)
    assert len(trace.map_probes) == 2 and trace.probe_record(20, exact=True).a[0].shape == (2, 6, 6, 4)
    assert main(["train", *CNN, "--no-progress", "--out", str(tmp_path / "none.zarr"), "--maps", "0"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "--maps must be a whole number >= 1" in lines[0]
    assert not (tmp_path / "none.zarr").exists()


@pytest.mark.slow
def test_the_damage_sweep_finds_no_cnn_trace_read_wrong(tmp_path, monkeypatch):
    # bench/trace_damage.py's sweep (see tests/test_trace_damage.py), its traces recorded from a tiny CNN
    import importlib.util
    from pathlib import Path

    damage = sys.modules.get("trace_damage")
    if damage is None:
        bench = Path(__file__).resolve().parents[1] / "bench" / "trace_damage.py"
        spec = importlib.util.spec_from_file_location("trace_damage", bench)
        damage = sys.modules["trace_damage"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(damage)
    monkeypatch.setattr(damage, "EXPERIMENT", {"conv": (3,), "kernel": 3, "padding": "valid", "hidden": (8,),
                                               "epochs": 2})
    copies = damage.sweep(tmp_path, 40, seed=1, cli=set(), schedule="every:10")
    assert open_trace(tmp_path / "sources" / "float32.zarr").is_cnn
    assert any("snapshots/maps" in copy.damage.what for copy in copies)
    bad = [copy for copy in copies if copy.outcome.outcome in damage.FAILURES]
    assert not bad, "\n".join(copy.line() for copy in bad)


def test_the_figures_api_refuses_a_dense_figure_for_a_cnn(recorded, tmp_path):
    from explainer.figures import save_all

    with pytest.raises(TraceError, match="which filters cannot show: draw kernels instead"):
        save_all(recorded, tmp_path / "figures", names=["filters"])
    assert not (tmp_path / "figures").exists()
