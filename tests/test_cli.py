"""The `explainer` command as a user meets it: --help, --json, one-line errors."""

import json
import subprocess
import sys

import pytest

from explainer.cli import main


def explainer(*args):
    """Run the real command in a subprocess, as a user would."""
    return subprocess.run([sys.executable, "-m", "explainer", *args], capture_output=True, text=True, timeout=300)


def test_train_json_summary_is_the_last_line(capsys):
    assert main(["train", "--epochs", "2", "--json", "--no-progress"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    summary = json.loads(last)
    assert summary["epochs"] == 2
    assert 0.5 < summary["test_accuracy"] <= 1
    assert summary["seconds"] > 0
    assert summary["dataset"] == "digits"


def test_train_options_reach_the_network(capsys):
    assert main(["train", "--hidden", "16", "--activation", "tanh", "--optimizer", "sgd", "--lr", "0.3",
                 "--epochs", "1", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "64 -> 16 -> 10  (tanh, sgd, lr 0.3)" in out


def test_train_saves_a_model_that_loads(tmp_path, capsys):
    from explainer import Network

    path = tmp_path / "m.npz"
    assert main(["train", "--epochs", "1", "--hidden", "8", "--save", str(path), "--no-progress"]) == 0
    assert Network.load(path).sizes == [64, 8, 10]


def test_help_explains_each_option():
    result = explainer("train", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())  # argparse wraps lines
    for option in ("--dataset", "--hidden", "--activation", "--optimizer", "--lr", "--batch-size", "--epochs",
                   "--seed", "--json"):
        assert option in text
    assert "relu, leaky_relu, sigmoid, tanh, identity" in text
    assert "sgd, momentum, rmsprop, adam" in text
    assert "default: 128,64 on digits" in text


@pytest.mark.parametrize(
    "args,expected",
    [
        (["train", "--activation", "relu7"], "invalid choice: 'relu7'"),
        (["train", "--optimizer", "adamw"], "invalid choice: 'adamw'"),
        (["train", "--epochs", "many"], "invalid int value: 'many'"),
        (["train", "--hidden", "64,abc"], "--hidden takes widths separated by commas"),
        (["train", "--lr", "-1"], "lr (the learning rate) must be a positive number"),
        (["train", "--epochs", "1", "--optimizer", "sgd", "--lr", "10000"], "training diverged at step"),
    ],
)
def test_bad_options_give_one_line_of_error(args, expected):
    result = explainer(*args, "--no-progress")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_missing_mnist_without_download_is_one_clear_line(tmp_path):
    env_dir = tmp_path / "empty"
    env_dir.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "explainer", "train", "--dataset", "mnist", "--no-download", "--no-progress"],
        capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "EXPLAINER_CACHE": str(tmp_path / "cache"), "HOME": str(tmp_path)},
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "MNIST" in result.stderr and "explainer data fetch mnist" in result.stderr


def test_demo_prints_what_was_learned_and_records_it(tmp_path):
    from explainer.trace import Trace

    result = explainer("demo", "--no-progress", "--no-scenes", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    trace = Trace.open(tmp_path / "trace.zarr")
    assert trace.complete
    for name in ("loss_curves", "filters", "confusion", "probes", "gradient_norms"):
        assert (tmp_path / "figures" / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "test         loss" in result.stdout
    assert "confusion matrix" in result.stdout
    accuracy = float(result.stdout.split("test         loss")[1].split("accuracy")[1].split()[0])
    assert accuracy > 0.95
    assert accuracy == round(trace.evaluation.test_accuracy, 4)


# -- bad input: one line naming what was wrong, exit 2, nothing lost, checked before training -----------


@pytest.fixture(scope="module")
def tiny_trace(tmp_path_factory):
    """A complete trace of a one-epoch run of a tiny network (40 steps, snapshots every 10)."""
    from explainer import Experiment, run
    from explainer.trace import TraceRecorder

    path = tmp_path_factory.mktemp("tiny") / "tiny.zarr"
    with TraceRecorder(path, schedule="every:10") as recorder:
        run(Experiment.preset("digits", epochs=1, hidden=(8,)), recorder=recorder, progress=False)
    return path


@pytest.fixture(scope="module")
def empty_trace(tmp_path_factory):
    """A trace whose run stopped before its first snapshot was written."""
    from explainer import Network, TrainConfig, Trainer
    from explainer.data import load_dataset
    from explainer.trace import TraceRecorder

    path = tmp_path_factory.mktemp("empty") / "empty.zarr"
    Trainer(Network([64, 8, 10]), load_dataset("digits"), TrainConfig(epochs=1), TraceRecorder(path)).close()
    return path


def refused(capsys, *args):
    """Run `explainer ARGS` in this process; it must fail with one line and print nothing else. Return the line."""
    assert main([*args]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("explainer: error: "), captured.err
    assert captured.out == "", "something ran before the refusal"
    return lines[0]


def thesis(folder):
    folder.mkdir()
    (folder / "thesis.tex").write_text("\\documentclass{book}")
    return folder


def test_force_never_deletes_a_folder_that_is_not_a_trace(tmp_path):
    folder = thesis(tmp_path / "thesis")
    result = explainer("train", "--out", str(folder), "--force", "--epochs", "1", "--no-progress")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"explainer: error: --out {folder} already exists and is not a trace: choose another path "
        "(--force replaces only a trace, never other files or folders)"]
    assert (folder / "thesis.tex").read_text() == "\\documentclass{book}"


def test_force_replaces_a_trace(tmp_path, tiny_trace, capsys):
    import shutil

    from explainer.trace import Trace

    path = tmp_path / "run.zarr"
    shutil.copytree(tiny_trace, path)
    line = refused(capsys, "train", "--out", str(path), "--epochs", "1", "--hidden", "8", "--no-progress")
    assert line.endswith(f"--out {path} already holds a trace: choose another path, or add --force to replace it")
    assert main(["train", "--out", str(path), "--force", "--epochs", "1", "--hidden", "4", "--no-progress"]) == 0
    assert Trace.open(path).sizes == [64, 4, 10]


def test_demo_never_replaces_what_is_not_its_trace(tmp_path, capsys):
    thesis(tmp_path / "trace.zarr")
    line = refused(capsys, "demo", "--out", str(tmp_path), "--no-progress", "--no-scenes")
    assert f"--out {tmp_path / 'trace.zarr'} already exists and is not a trace" in line
    assert (tmp_path / "trace.zarr" / "thesis.tex").exists()


@pytest.mark.parametrize("make,args,expected", [
    (lambda p: p.write_text("x"), ["--out", "{p}/run.zarr"], "--out {p}/run.zarr: {p} is a file, not a folder"),
    (lambda p: p.mkdir(), ["--save", "{p}"], "--save {p} is a folder: name a file in it, like {p}/model.npz"),
    (lambda p: p.write_text("x"), ["--save", "{p}", "--force"],
     "--save {p} already exists and is not a saved network: choose another name"),
    (lambda p: None, ["--out", "/proc/explainer-test/run.zarr"], "cannot write in /proc"),
])
def test_every_output_is_checked_before_training(tmp_path, capsys, make, args, expected):
    p = tmp_path / "p"
    make(p)
    line = refused(capsys, "train", "--epochs", "1", "--hidden", "8", "--no-progress",
                   *[a.format(p=p) for a in args])
    assert expected.format(p=p) in line
    assert not p.exists() or p.is_dir() or p.read_text() == "x"


def test_save_replaces_a_saved_network_only_with_force(tmp_path, capsys):
    path = tmp_path / "models" / "m.npz"  # its folder is made
    assert main(["train", "--epochs", "1", "--hidden", "8", "--save", str(path), "--no-progress"]) == 0
    capsys.readouterr()
    line = refused(capsys, "train", "--epochs", "1", "--hidden", "8", "--save", str(path), "--no-progress")
    assert "already holds a saved network: choose another name, or add --force to replace it" in line
    assert main(["train", "--epochs", "1", "--hidden", "8", "--save", str(path), "--force", "--no-progress"]) == 0


@pytest.mark.parametrize("args,expected", [
    (["--epochs", "1000000000000"], "memory (mostly the metrics of 1,000,000,000,000 epochs), more than this "
                                    "machine has"),
    (["--hidden", "100000000"], "choose narrower hidden layers (--hidden)"),
    (["--probe", "100000"], "--probe must be a whole number from 1 to 180 (the validation images of digits"),
    (["--probe", "0", "--out", "{tmp}/run.zarr"], "--probe must be a whole number from 1 to 180"),
    (["--seed", str(2**64)], f"seed must be a whole number from 0 to 4294967295 (2**32 - 1); got {2**64}"),
    (["--seed", "-1"], "seed must be a whole number from 0 to 4294967295 (2**32 - 1); got -1"),
    (["--schedule", "often", "--out", "{tmp}/run.zarr"], "--schedule must look like 'log:64'"),
])
def test_a_run_that_cannot_work_is_refused_with_the_flag_to_change(tmp_path, capsys, args, expected):
    assert expected in refused(capsys, "train", "--no-progress", *[a.format(tmp=tmp_path) for a in args])
    assert not (tmp_path / "run.zarr").exists()


def test_a_log_schedule_longer_than_the_run_records_every_step(tmp_path, capsys):
    from explainer.trace import Trace

    path = tmp_path / "run.zarr"
    assert main(["train", "--epochs", "1", "--hidden", "8", "--schedule", "log:100000000000", "--out", str(path),
                 "--no-progress"]) == 0
    assert Trace.open(path).snapshot_steps.tolist() == list(range(40))


def test_pack_writes_only_a_packed_trace(tiny_trace, tmp_path, capsys):
    folder = thesis(tmp_path / "thesis")
    line = refused(capsys, "pack", str(tiny_trace), "--out", str(folder))
    assert line.endswith(f"--out {folder} is a folder: name a file in it, like {folder}/tiny.zarr.zip")
    other = tmp_path / "notes.zip"
    other.write_text("mine")
    line = refused(capsys, "pack", str(tiny_trace), "--out", str(other), "--force")
    assert "already exists and is not a packed trace" in line and other.read_text() == "mine"

    packed = tmp_path / "new" / "folder" / "tiny.zip"  # its folder is made
    assert main(["pack", str(tiny_trace), "--out", str(packed)]) == 0
    assert str(packed) in capsys.readouterr().out
    assert sorted(p.name for p in packed.parent.iterdir()) == ["tiny.zip"]  # no .partial left behind
    line = refused(capsys, "pack", str(tiny_trace), "--out", str(packed))
    assert "already holds a packed trace: choose another name, or add --force to replace it" in line
    assert main(["pack", str(tiny_trace), "--out", str(packed), "--force"]) == 0


def test_plot_and_render_refuse_a_trace_without_snapshots_before_anything_else(empty_trace, tmp_path, capsys,
                                                                              monkeypatch):
    import explainer.cli.render

    monkeypatch.setattr(explainer.cli.render, "run_passing_through", lambda *a, **k: pytest.fail("Manim started"))
    expected = f"{empty_trace} holds no snapshot yet"
    assert expected in refused(capsys, "plot", str(empty_trace), "--out", str(tmp_path / "figures"))
    assert expected in refused(capsys, "render", "ForwardPass", "--trace", str(empty_trace))
    assert not (tmp_path / "figures").exists()


@pytest.mark.parametrize("step", ["-5", "99999999"])
def test_plot_and_render_take_the_same_steps(tiny_trace, tmp_path, capsys, monkeypatch, step):
    import explainer.cli.render

    monkeypatch.setattr(explainer.cli.render, "run_passing_through", lambda *a, **k: pytest.fail("Manim started"))
    expected = f"--step {step} is outside the run: tiny.zarr has steps 0 to 39"
    assert refused(capsys, "plot", str(tiny_trace), "--out", str(tmp_path), "--step", step).endswith(expected)
    assert refused(capsys, "render", "ForwardPass", "--trace", str(tiny_trace), "--step", step).endswith(expected)


def test_plot_and_render_outputs_must_be_folders(tiny_trace, tmp_path, capsys):
    a_file = tmp_path / "a_file"
    a_file.write_text("mine")
    line = refused(capsys, "plot", str(tiny_trace), "--out", str(a_file))
    assert line.endswith(f"--out {a_file} is a file, not a folder: name a folder (it is made if missing)")
    line = refused(capsys, "render", "ForwardPass", "--trace", str(tiny_trace), "--media-dir", str(a_file))
    assert line.endswith(f"--media-dir {a_file} is a file, not a folder: name a folder (it is made if missing)")
    assert a_file.read_text() == "mine"


def test_data_dir_that_is_a_file(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("mine")
    result = explainer("data", "fetch", "mnist", "--data-dir", str(a_file))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert f"the MNIST folder {a_file} (from --data-dir / data_dir) is a file, not a folder" in result.stderr
