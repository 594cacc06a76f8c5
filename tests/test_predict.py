"""`explainer predict`: pictures read as the network reads its training images, refusals, --show, --json."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from test_refusals import DRAWN, dot, drawn, sparse_noise

from explainer import Experiment, Network, prepare_image, run
from explainer.cli import main
from explainer.cli.predict import terminal_picture
from explainer.trace import Trace, TraceRecorder


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """A small 8x8 network that reads digits well, as a saved model and as a trace."""
    folder = tmp_path_factory.mktemp("predict")
    with TraceRecorder(folder / "digits.zarr", n_probe=10) as recorder:
        result = run(Experiment.preset("digits", hidden=(32,), epochs=15), recorder=recorder, progress=False)
    result.net.save(folder / "digits.npz")
    return folder


@pytest.fixture(scope="module")
def mnist_model(tmp_path_factory):
    """A 28x28 network (untrained: what is checked is that its numbers reach the user unchanged)."""
    path = tmp_path_factory.mktemp("mnist") / "mnist.npz"
    Network([784, 16, 10], seed=3).save(path)
    return path


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    """A folder of pictures: drawn digits (PNG and JPEG), a dot and noise, and a text file to ignore."""
    folder = tmp_path_factory.mktemp("pictures")
    for digit, strokes in DRAWN.items():
        drawn(strokes).save(folder / f"drawn_{digit}.png")
    drawn(DRAWN[7]).resize((280, 280)).convert("RGB").save(folder / "seven.jpg", quality=90)
    dot().save(folder / "dot.png")
    Image.fromarray(sparse_noise()).save(folder / "noise.png")
    (folder / "notes.txt").write_text("not a picture")
    return folder


def predict_json(capsys, *args):
    status = main(["predict", *map(str, args), "--json"])
    return status, json.loads(capsys.readouterr().out)


def test_a_folder_is_read_like_numpy_reads_the_prepared_pictures(digits_run, pictures, capsys):
    status, out = predict_json(capsys, pictures, "--model", digits_run / "digits.npz")
    assert status == 1  # the dot and the noise were refused
    read = {r["image"].rsplit("/", 1)[-1]: r for r in out["pictures"]}
    assert sorted(read) == sorted(p.name for p in pictures.iterdir() if p.suffix != ".txt")
    net = Network.load(digits_run / "digits.npz")
    for name in ("drawn_1.png", "drawn_7.png", "drawn_0.png", "seven.jpg"):
        p = net.predict_proba(prepare_image(pictures / name, (8, 8))[None])[0]
        top = read[name]["top"]
        assert [t["digit"] for t in top] == list(np.argsort(p)[::-1][:3])
        np.testing.assert_allclose([t["probability"] for t in top], np.sort(p)[::-1][:3], rtol=1e-6)
    assert read["drawn_1.png"]["digit"] == 1 and read["drawn_0.png"]["digit"] == 0  # clear digits, read right
    assert "too little ink" in read["dot.png"]["refused"] and read["dot.png"]["top"] == []
    assert "scattered" in read["noise.png"]["refused"]


def test_a_28x28_network_reads_28x28_inputs(mnist_model, pictures, capsys):
    status, out = predict_json(capsys, pictures / "drawn_4.png", "--model", mnist_model)
    assert status == 0 and out["image_shape"] == [28, 28]
    p = Network.load(mnist_model).predict_proba(prepare_image(pictures / "drawn_4.png", (28, 28))[None])[0]
    assert out["pictures"][0]["top"][0]["probability"] == pytest.approx(float(p.max()), rel=1e-6)
    assert out["pictures"][0]["unsure"] == (p.max() < out["unsure_below"])


def test_the_terminal_shows_the_prepared_input_and_the_three_likeliest(digits_run, pictures, capsys):
    assert main(["predict", str(pictures / "drawn_7.png"), "--model", str(digits_run / "digits.npz")]) == 0
    out = capsys.readouterr().out
    x = prepare_image(pictures / "drawn_7.png", (8, 8)).reshape(8, 8)
    for row in terminal_picture(x, scale=2):
        assert row.rstrip() in out
    assert out.count("%") >= 3 and "1. 7" in out


def test_terminal_picture_half_blocks_two_rows_a_line():
    image = np.zeros((28, 28))
    image[4:6, 10] = 1  # two pixel rows: one full block
    image[8, 12] = 1  # an upper half
    lines = terminal_picture(image)
    assert len(lines) == 14 + 2 and all(len(line) == 28 for line in lines)
    assert lines[1 + 2][10] == "█" and lines[1 + 4][12] == "▀" and lines[1 + 4][10] == " "
    shaded = terminal_picture(np.eye(8), scale=2)
    assert len(shaded) == 8 + 2 and shaded[1][:4] == "██  "


def test_a_trace_at_a_step_is_the_network_of_that_snapshot(digits_run, pictures, capsys):
    trace = Trace.open(digits_run / "digits.zarr")
    step = int(trace.snapshot_steps[0])  # untrained: not sure of anything
    status, out = predict_json(capsys, pictures / "drawn_7.png", "--trace", digits_run / "digits.zarr",
                               "--step", step)
    assert status == 0 and f"at step {step}" in out["network"]
    p = trace.network(step).predict_proba(prepare_image(pictures / "drawn_7.png", (8, 8))[None])[0]
    assert out["pictures"][0]["unsure"] is True and out["pictures"][0]["digit"] is None
    assert out["pictures"][0]["top"][0]["probability"] == pytest.approx(float(p.max()), rel=1e-6)
    main(["predict", str(pictures / "drawn_7.png"), "--trace", str(digits_run / "digits.zarr"), "--step", str(step)])
    assert "not sure (likeliest" in capsys.readouterr().out


def test_show_saves_the_prepared_inputs_and_replaces_only_its_own(digits_run, pictures, tmp_path, capsys):
    model = str(digits_run / "digits.npz")
    shown = tmp_path / "shown"
    main(["predict", str(pictures / "drawn_1.png"), str(pictures / "drawn_8.png"), "--model", model,
          "--show", str(shown)])
    assert sorted(p.name for p in shown.iterdir()) == ["drawn_1-8x8.png", "drawn_8-8x8.png"]
    saved = np.asarray(Image.open(shown / "drawn_8-8x8.png").convert("L"), dtype=float)  # (224, 224)
    x = prepare_image(pictures / "drawn_8.png", (8, 8)).reshape(8, 8)
    np.testing.assert_allclose(255 - saved[::28, ::28], 255 * x, atol=1)  # dark ink on white, 28x enlarged
    capsys.readouterr()
    # a second run refuses to overwrite, --force replaces what predict saved, never another file
    assert main(["predict", str(pictures / "drawn_1.png"), "--model", model, "--show", str(shown)]) == 2
    assert "already holds" in capsys.readouterr().err
    assert main(["predict", str(pictures / "drawn_1.png"), "--model", model, "--show", str(shown), "--force"]) == 0
    (shown / "drawn_8-8x8.png").write_bytes(b"my own notes")
    assert main(["predict", str(pictures / "drawn_8.png"), "--model", model, "--show", str(shown), "--force"]) == 2
    assert "not a picture saved by explainer predict" in capsys.readouterr().err
    assert (shown / "drawn_8-8x8.png").read_bytes() == b"my own notes"


@pytest.mark.parametrize("args, words", [
    (["{pics}/nothing.png", "--model", "{model}"], "nothing.png: no such file or folder"),
    (["{pics}/drawn_1.png", "--model", "{pics}/missing.npz"], "no such file"),
    (["{pics}/drawn_1.png", "--model", "{pics}/drawn_1.png"], "not a model saved by explainer"),
    (["{pics}/drawn_1.png", "--model", "{model}", "--step", "3"], "--step goes with --trace"),
    (["{pics}/drawn_1.png", "--model", "{odd}"], "takes 10 inputs"),
    (["{pics}/drawn_1.png", "--model", "{model}", "--show", "{pics}/drawn_1.png"], "is a file, not a folder"),
    (["{pics}/drawn_1.png"], "one of the arguments --model --trace is required"),
])
def test_mistakes_are_one_line_and_nothing_is_written(digits_run, pictures, tmp_path, args, words):
    Network([10, 10]).save(tmp_path / "odd.npz")
    filled = [a.format(pics=pictures, model=digits_run / "digits.npz", odd=tmp_path / "odd.npz") for a in args]
    result = subprocess.run([sys.executable, "-m", "explainer", "predict", *filled], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_help_speaks_to_a_student():
    result = subprocess.run([sys.executable, "-m", "explainer", "predict", "--help"], capture_output=True, text=True)
    text = " ".join(result.stdout.split())
    for words in ("prepared the way the training images were", "three likeliest digits", "not sure", "--show",
                  "--model", "--trace", "--step", "folders"):
        assert words in text


def test_a_convolutional_network_reads_pictures_and_is_exported(pictures, tmp_path, capsys):
    cnn = Network([64, 10], layers=["conv 4 3", "pool 2"], seed=1)  # 8x8 images -> Conv2D -> MaxPool2D -> Dense
    cnn.save(tmp_path / "cnn.npz")
    status, out = predict_json(capsys, pictures / "drawn_7.png", "--model", tmp_path / "cnn.npz")
    assert status == 0 and out["image_shape"] == [8, 8]
    p = cnn.predict_proba(prepare_image(pictures / "drawn_7.png", (8, 8))[None])[0]
    assert out["pictures"][0]["top"][0]["probability"] == pytest.approx(float(p.max()), rel=1e-6)
    out_html = tmp_path / "cnn.html"
    assert main(["export", "--html", str(out_html), "--model", str(tmp_path / "cnn.npz")]) == 0  # test_export_html
    assert "wrote" in capsys.readouterr().out and '"kind": "conv"' in out_html.read_text()  # runs it in Chromium
