"""`explainer train --arch cnn`: the CNN presets, --conv/--kernel/--padding, saving, and what is refused."""

import json
import subprocess
import sys

import pytest

from explainer.cli import main
from explainer.experiment import CNN_PRESETS, PRESETS, Experiment
from explainer.network import Network


def explainer(*args):
    """Run the real command in a subprocess, as a user would."""
    return subprocess.run([sys.executable, "-m", "explainer", *args], capture_output=True, text=True, timeout=300)


def test_arch_cnn_takes_the_datasets_cnn_preset_and_saves_the_network(capsys, tmp_path):
    model = tmp_path / "cnn.npz"
    assert main(["train", "--arch", "cnn", "--epochs", "1", "--json", "--no-progress", "--save", str(model)]) == 0
    out = capsys.readouterr().out
    assert "8x8 -> conv 32 3 same -> pool 2 -> conv 64 3 same -> pool 2 -> 128 -> 10" in out
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["test_accuracy"] > 0.5  # one epoch of 40 steps already reads most digits
    net = Network.load(model)
    assert net.config()["layers"] == ["conv 32 3 same", "pool 2", "conv 64 3 same", "pool 2"]


def test_conv_and_kernel_set_a_cnn_with_hidden(capsys):
    assert main(["train", "--conv", "4", "--kernel", "5", "--padding", "valid", "--hidden", "12", "--epochs", "1",
                 "--no-progress"]) == 0
    assert "8x8 -> conv 4 5 -> pool 2 -> 12 -> 10  (relu" in capsys.readouterr().out


def test_mlp_stays_the_default():
    assert Experiment.preset("digits") == PRESETS["digits"] and not PRESETS["digits"].conv
    assert Experiment.preset("mnist", "cnn").conv == (16, 32)
    assert "conv" not in PRESETS["digits"].to_dict()  # a dense run is described as before
    assert CNN_PRESETS["mnist"].kernel == 5 and CNN_PRESETS["digits"].kernel == 3


@pytest.mark.parametrize("args,expected", [
    (["--arch", "mlp", "--conv", "16"], "--conv sets a convolution, which --arch mlp has none of: use --arch cnn"),
    (["--conv", "16,x"], "--conv takes widths separated by commas"),
    (["--conv", "none"], "--conv takes the filters of at least one convolution"),
    (["--arch", "cnn", "--kernel", "0"], "--kernel must be a whole number >= 1"),
    (["--arch", "cnn", "--kernel", "4", "--padding", "same"], "'same' padding needs an odd kernel size"),
    (["--conv", "8,8,8,8"], "2x2 pooling needs feature maps of at least 2x2; got 1x1"),
    (["--arch", "cnn", "--kernel", "7", "--padding", "valid"], "a 7x7 kernel does not fit in 1x1 maps"),
])
def test_bad_cnn_options_give_one_line_of_error(args, expected, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train", *args, "--no-progress"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("explainer: error: "), lines
    assert expected in lines[0]
    assert list(tmp_path.iterdir()) == []  # refused before anything was written


def test_the_real_command_records_a_cnn_trace_that_explainer_info_reads(tmp_path):
    # (tests/test_trace_cnn.py checks what the trace holds)
    trace = tmp_path / "cnn.zarr"
    result = explainer("train", "--conv", "4", "--kernel", "3", "--padding", "valid", "--hidden", "12", "--epochs",
                       "1", "--out", str(trace), "--no-progress")
    assert result.returncode == 0, result.stderr
    assert f"trace        {trace}  (40 snapshots" in result.stdout
    info = explainer("info", str(trace))
    assert info.returncode == 0 and "conv 4 3 -> pool 2 -> 12 -> 10" in info.stdout


def test_a_diverging_cnn_says_where_in_one_line(capsys):
    # the fast convolution keeps no full-resolution z: the divergence message must still be made
    assert main(["train", "--arch", "cnn", "--optimizer", "sgd", "--lr", "10000", "--epochs", "1",
                 "--no-progress"]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("explainer: error: training diverged at step") and "layer" in error


def test_help_shows_the_cnn_presets(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "mnist: conv 16,32 with 5x5 kernels (valid), hidden 128, lr 0.002 x0.6 an epoch" in text
    assert "digits: conv 32,64 with 3x3 kernels (same)" in text and "--out is refused" not in text
