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
