"""The `explainer` command as a user meets it: --help, --json, one-line errors."""

import json
import re
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


def test_an_optimizer_without_a_rate_takes_its_own_and_a_far_rate_is_warned_about(capsys):
    assert main(["train", "--optimizer", "sgd", "--epochs", "1", "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "(relu, sgd, lr 0.1)" in captured.out and "warning" not in captured.err
    assert main(["train", "--optimizer", "sgd", "--lr", "0.001", "--epochs", "1", "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert captured.err.strip() == ("explainer: warning: sgd usually needs a learning rate from 0.01 to 0.5 (its "
                                    "default is 0.1); with 0.001 it may learn very slowly")
    assert "(relu, sgd, lr 0.001)" in captured.out  # the student's rate is kept


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
                   "--seed", "--json", "--augment"):
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
    # one error line; a warning given before the run (a learning rate far from the usual) may precede it
    lines = [line for line in result.stderr.strip().splitlines() if not line.startswith("explainer: warning: ")]
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


# -- choosing a probe digit without Python: info --probes, render --digit, EXPLAINER_DIGIT (issue 12) ----------


@pytest.fixture(scope="module")
def three_probes(tmp_path_factory):
    """A trace that follows only 3 probe digits, so that most classes have none."""
    from explainer import Experiment, run
    from explainer.trace import TraceRecorder

    path = tmp_path_factory.mktemp("three") / "three.zarr"
    with TraceRecorder(path, schedule="every:10", n_probe=3) as recorder:
        run(Experiment.preset("digits", epochs=1, hidden=(8,)), recorder=recorder, progress=False)
    return path


def expand(ranges, steps):
    """``"0-20, 39"`` -> every snapshot step from 0 to 20, and 39."""
    out = []
    for part in filter(None, ranges.split(", ")):
        first, _, last = part.partition("-")
        out += [s for s in steps if int(first) <= s <= int(last or first)]
    return out


def test_info_probes_says_when_each_probe_digit_was_misread(tiny_trace, capsys):
    import numpy as np

    from explainer.trace import Trace

    trace = Trace.open(tiny_trace)
    steps = trace.snapshot_steps.tolist()
    by_hand = np.stack([trace.probe_record(s).probabilities.argmax(axis=1) for s in steps])  # (n_snap, n_probe)
    assert main(["info", str(tiny_trace), "--probes", "--json"]) == 0
    told = json.loads(capsys.readouterr().out)
    assert told["snapshot_steps"] == steps and len(told["probes"]) == len(trace.probe_labels)
    for row in told["probes"]:
        i, label = row["index"], int(trace.probe_labels[row["index"]])
        assert row["label"] == label and row["last_guess"] == by_hand[-1, i]
        assert row["misread_steps"] == [s for k, s in enumerate(steps) if by_hand[k, i] != label]
        assert expand(row["misread"], steps) == row["misread_steps"]  # the ranges say the same, compressed
    assert any(row["misread_steps"] for row in told["probes"])  # early on, the network misreads some

    assert main(["info", str(tiny_trace), "--probes"]) == 0
    lines = capsys.readouterr().out.splitlines()
    table = {int(line.split()[0]): line for line in lines if re.match(r"\s+\d+\s+\d+\s+\d \(", line)}
    assert sorted(table) == list(range(len(trace.probe_labels)))
    for row in told["probes"]:
        line = table[row["index"]]
        assert line.split()[1] == str(row["label"]) and line.split()[2] == str(row["last_guess"])
        where = "step" if len(row["misread_steps"]) == 1 else "steps"
        assert line.endswith(f"at {where} {row['misread']} ({row['misread_snapshots']} of {len(steps)} snapshots)"
                             if row["misread_steps"] else "never")


def test_step_ranges_join_consecutive_snapshots():
    from explainer.probe_choice import step_ranges

    steps = [0, 1, 3, 10, 40, 200]
    assert step_ranges(steps, [1, 1, 1, 0, 0, 1]) == [(0, 3), (200, 200)]
    assert step_ranges(steps, [0, 1, 0, 1, 1, 0]) == [(1, 1), (10, 40)]
    assert step_ranges(steps, [1] * 6) == [(0, 200)] and step_ranges(steps, [0] * 6) == []


def test_info_probes_of_a_trace_without_snapshots_is_one_line(empty_trace, capsys):
    assert "holds no snapshot yet" in refused(capsys, "info", str(empty_trace), "--probes")


def test_reading_every_snapshots_guesses_goes_through_the_reader(tiny_trace, monkeypatch):
    from explainer.probe_choice import misreadings
    from explainer.trace import Trace

    trace = Trace.open(tiny_trace)
    read = []
    original = Trace.probe_record
    monkeypatch.setattr(Trace, "probe_record", lambda self, step, exact=False: read.append(step) or
                        original(self, step, exact))
    misreadings(trace)
    assert read == trace.snapshot_steps.tolist()  # one probe_record per snapshot, nothing read behind it


def fake_manim(calls):
    """Stands in for Manim: notes the command and environment, writes the file it was named, as Manim does."""
    from pathlib import Path

    def render(command, *, env, cwd, echo):
        name = command[command.index("--output_file") + 1]
        media, module = Path(command[command.index("--media_dir") + 1]), Path(command[-2]).stem
        folder = media / "images" / module if "-s" in command else media / "videos" / module / "480p15"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.{'png' if '-s' in command else 'mp4'}").write_text("rendered")
        calls.append((command, env))
        return 0, ""

    return render


def test_render_digit_takes_the_first_probe_digit_of_that_class_and_says_which(tiny_trace, tmp_path, capsys,
                                                                               monkeypatch):
    import explainer.cli.render
    from explainer.trace import Trace

    calls = []
    monkeypatch.setattr(explainer.cli.render, "run_passing_through", fake_manim(calls))
    monkeypatch.setenv("EXPLAINER_DIGIT", "5")  # the shell's choices do not reach the scene: the command's do
    monkeypatch.setenv("EXPLAINER_STEP", "3")
    labels = Trace.open(tiny_trace).probe_labels.tolist()
    threes = [i for i, y in enumerate(labels) if y == 3]
    assert main(["render", "ForwardPass", "--trace", str(tiny_trace), "--digit", "3", "--media-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"--digit 3: probe digit {threes[0]}, the first labelled 3 (the others: " \
           f"{', '.join(map(str, threes[1:]))}; choose one with --sample N)" in out
    _, env = calls[-1]
    assert env["EXPLAINER_SAMPLE"] == str(threes[0]) and env["EXPLAINER_STEP"] == "39"
    assert "EXPLAINER_DIGIT" not in env
    written = out.strip().splitlines()[-1].removeprefix("wrote ")
    assert written.endswith(f"ForwardPass_sample{threes[0]}_step39.mp4")


def test_render_names_the_file_by_sample_and_step_so_a_second_render_keeps_the_first(tiny_trace, tmp_path, capsys,
                                                                                      monkeypatch):
    from pathlib import Path

    import explainer.cli.render

    calls = []
    monkeypatch.setattr(explainer.cli.render, "run_passing_through", fake_manim(calls))
    media = ["--trace", str(tiny_trace), "--media-dir", str(tmp_path)]
    written = []
    for args in (["ForwardPass", "--sample", "4", "--step", "12"], ["ForwardPass", "--sample", "5", "--step", "12"],
                 ["ForwardPass", "--step", "12"], ["Backprop", "--sample", "4"], ["TrainingStory", "--last-frame"]):
        assert main(["render", *args, *media]) == 0
        written.append(Path(capsys.readouterr().out.strip().splitlines()[-1].removeprefix("wrote ")))
    assert [p.name for p in written] == [
        "ForwardPass_sample4_step10.mp4",  # step 12's nearest snapshot
        "ForwardPass_sample5_step10.mp4",
        "ForwardPass_sample0_step10.mp4",  # the default sample, 0
        "Backprop_sample4_step0.mp4",  # Backprop's own default: 2% into training
        "TrainingStory_step39.png",  # no single digit: the step alone
    ]
    assert all(p.is_file() for p in written)  # none replaced another
    assert [command[command.index("--output_file") + 1] for command, _ in calls] == [p.stem for p in written]


def test_digit_and_sample_together_is_one_error(tiny_trace, capsys):
    line = refused(capsys, "render", "ForwardPass", "--trace", str(tiny_trace), "--digit", "3", "--sample", "2")
    assert line.endswith("--sample 2 and --digit 3 both choose the probe digit: give one of them")


def absent_class(trace_path):
    from explainer.trace import Trace

    labels = sorted(set(Trace.open(trace_path).probe_labels.tolist()))
    return next(c for c in range(10) if c not in labels), labels


def test_a_class_without_a_probe_digit_is_one_error_naming_the_classes(three_probes, capsys):
    absent, labels = absent_class(three_probes)
    line = refused(capsys, "render", "ForwardPass", "--trace", str(three_probes), "--digit", str(absent))
    assert line.endswith(f"--digit {absent}: none of the probe digits of three.zarr is labelled {absent}; their "
                         f"classes are {', '.join(map(str, labels))} (`explainer info {three_probes} --probes` lists "
                         "them)")


def test_a_scene_that_follows_no_digit_takes_no_digit(tiny_trace, capsys):
    line = refused(capsys, "render", "TrainingStory", "--trace", str(tiny_trace), "--digit", "3")
    assert "TrainingStory follows no single probe digit, so it takes no --digit" in line


def test_explainer_digit_chooses_as_digit_does(three_probes, monkeypatch, capsys):
    from explainer.scenes import choice
    from explainer.trace import Trace

    trace = Trace.open(three_probes)
    labels = trace.probe_labels.tolist()
    last = labels[-1]  # the class of the last probe digit: its first one is the one chosen
    monkeypatch.setenv("EXPLAINER_DIGIT", str(last))
    assert choice.chosen_sample(trace) == labels.index(last)
    assert f"EXPLAINER_DIGIT={last}: probe digit {labels.index(last)}, the first labelled {last}" \
        in capsys.readouterr().err

    def stops(**env):
        for name in ("EXPLAINER_DIGIT", "EXPLAINER_SAMPLE"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        with pytest.raises(SystemExit) as stop:
            choice.chosen_sample(trace)
        lines = capsys.readouterr().err.strip().splitlines()
        assert stop.value.code == 2 and len(lines) == 1
        return lines[0]

    absent, _ = absent_class(three_probes)
    cli = refused(capsys, "render", "ForwardPass", "--trace", str(three_probes), "--digit", str(absent))
    assert stops(EXPLAINER_DIGIT=str(absent)) == cli.replace("--digit", "EXPLAINER_DIGIT")  # one check, one message
    assert "both choose the probe digit" in stops(EXPLAINER_DIGIT="1", EXPLAINER_SAMPLE="0")
    assert "EXPLAINER_DIGIT must be a whole number" in stops(EXPLAINER_DIGIT="three")


def test_a_scene_not_in_this_install_is_listed_and_one_error_at_render_time(tiny_trace, capsys, monkeypatch):
    import explainer.cli.render

    monkeypatch.setitem(explainer.cli.render.SCENES, "Nowhere", ("nowhere.py", "a scene still being written"))
    monkeypatch.setattr(explainer.cli.render, "run_passing_through", lambda *a, **k: pytest.fail("Manim started"))
    assert main(["render", "list"]) == 0
    listed = capsys.readouterr().out
    assert "Nowhere" in listed and "(not in this install yet: nowhere.py)" in listed
    assert "ForwardPass" in listed and "ForwardPass          one probe digit" in listed
    line = refused(capsys, "render", "Nowhere", "--trace", str(tiny_trace))
    assert "Nowhere's file" in line and "nowhere.py is not there" in line and "the scenes it has: " in line
    assert "Nowhere" not in explainer.cli.render.available_scenes()


def test_the_render_commands_tables_agree_with_the_scene_files(tiny_trace, monkeypatch, tmp_path):
    """SAMPLE_SCENES lists the scenes that call chosen_sample, and each scene's own default step is the one
    `explainer render` names its file by (choice.DEFAULT_STEPS)."""
    import importlib

    from manim import tempconfig

    from explainer.cli.render import (
        SAMPLE_SCENES,
        SCENES,
        WHOLE_RUN_SCENES,
        available_scenes,
        output_name,
        plan_choices,
        scene_file,
    )

    class Chosen(Exception):
        pass

    assert {"ForwardPass", "Backprop", "TrainingStory", "FirstLayerFilters"} <= set(available_scenes())
    monkeypatch.setenv("EXPLAINER_TRACE", str(tiny_trace))
    for name in ("EXPLAINER_SAMPLE", "EXPLAINER_DIGIT", "EXPLAINER_STEP"):
        monkeypatch.delenv(name, raising=False)
    from explainer.scenes.choice import CNN_SCENES

    for scene in available_scenes():
        source = scene_file(scene).read_text()
        assert ("chosen_sample(" in source) == (scene in SAMPLE_SCENES), scene
        if CNN_SCENES.get(scene) == "cnn":  # a CNN's trace only: tests/test_scenes_cnn.py checks them the same way
            continue
        if scene in WHOLE_RUN_SCENES:  # shows the whole run: no step chosen, none in its video's name
            assert output_name(scene, None, 7) == scene
            continue
        module = importlib.import_module(f"explainer.scenes.{SCENES[scene][0].removesuffix('.py')}")
        chosen = []
        original = module.chosen_step

        def note(trace, *args, _original=original, _chosen=chosen, **kwargs):
            _chosen.append(_original(trace, *args, **kwargs))
            raise Chosen  # the step is all this test wants: stop the scene's setup here

        monkeypatch.setattr(module, "chosen_step", note)
        with tempconfig({"dry_run": True, "disable_caching": True, "media_dir": str(tmp_path)}):
            with pytest.raises(Chosen):
                getattr(module, scene)().setup()
        assert chosen[0] == plan_choices(scene, str(tiny_trace))[1], scene


def test_manim_writes_the_file_explainer_render_names(tiny_trace, tmp_path):
    """The real Manim, once: --output_file puts the sample and step in the last frame's name, and the path
    printed is the file written."""
    from pathlib import Path

    from explainer.trace import Trace

    labels = Trace.open(tiny_trace).probe_labels.tolist()
    result = explainer("render", "ForwardPass", "--trace", str(tiny_trace), "--digit", "7", "--step", "25",
                       "--last-frame", "--quiet", "--media-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    written = Path(result.stdout.strip().splitlines()[-1].removeprefix("wrote "))
    assert written.name == f"ForwardPass_sample{labels.index(7)}_step20.png"  # step 25's nearest snapshot
    assert written.is_file() and written.stat().st_size > 1000
    assert [p.name for p in tmp_path.rglob("*.png")] == [written.name]
