"""`explainer export --onnx`: the network as Gemm (transB=1) + activation per layer + Softmax, checked with
onnxruntime (an optional test dependency: these tests skip without it, like the torch oracle's). A CNN's
convolutions, pooling and channels-last Flatten too: tiny ones on the 8x8 digits, 'valid' and 'same'
padding, and MNIST's preset architecture with random weights on random pictures."""

import sys

import numpy as np
import pytest

from explainer import HIDDEN_ACTIVATIONS, Experiment, Network, run
from explainer.cli import main
from explainer.data import load_dataset
from explainer.export import check_exportable, onnx_model, to_onnx
from explainer.trace import Trace, TraceRecorder

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def X():
    return load_dataset("digits", seed=0).X_test  # (359, 64) float32, the 8x8 test digits


def onnx_probabilities(model_or_path, x):
    source = model_or_path.SerializeToString() if hasattr(model_or_path, "SerializeToString") else str(model_or_path)
    session = ort.InferenceSession(source, providers=["CPUExecutionProvider"])
    return session.run(["probabilities"], {"x": x})[0]


@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_onnxruntime_agrees_with_numpy_for_every_hidden_activation(activation, X):
    net = Network([64, 24, 16, 10], activation=activation, seed=1)
    rng = np.random.default_rng(2)
    for layer in net.layers:  # biases too, so that a bias in the wrong place would show
        layer.b[...] = rng.normal(0, 0.5, layer.b.shape)
    p = onnx_probabilities(to_onnx(net), X)
    np.testing.assert_allclose(p, net.predict_proba(X), atol=1e-5)
    assert (p.argmax(axis=1) == net.predict(X)).all()


def test_the_graph_is_gemm_with_transB_over_W_as_stored():
    net = Network([64, 8, 10], activation="tanh")
    model = to_onnx(net)
    ops = [node.op_type for node in model.graph.node]
    assert ops == ["Gemm", "Tanh", "Gemm", "Softmax"]
    for node in model.graph.node:
        if node.op_type == "Gemm":
            assert {a.name: a.i for a in node.attribute} == {"transB": 1}
    weights = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    np.testing.assert_array_equal(weights["W1"], net.layers[0].W)  # (8, 64): (n_out, n_in), not transposed
    assert weights["W1"].shape == (8, 64)


def test_export_from_a_trace_at_a_step(tmp_path, X, capsys):
    path = tmp_path / "run.zarr"
    with TraceRecorder(path, n_probe=5) as recorder:
        run(Experiment.preset("digits", hidden=(16,), epochs=2), recorder=recorder, progress=False)
    trace = Trace.open(path)
    step = int(trace.snapshot_steps[2])
    out = tmp_path / "out" / "net.onnx"
    assert main(["export", "--onnx", str(out), "--trace", str(path), "--step", str(step)]) == 0
    assert "wrote" in capsys.readouterr().out
    np.testing.assert_allclose(onnx_probabilities(out, X), trace.network(step).predict_proba(X), atol=1e-5)
    # a second export refuses to overwrite without --force; --force replaces only an ONNX file of ours
    assert main(["export", "--onnx", str(out), "--trace", str(path)]) == 2
    assert "already holds" in capsys.readouterr().err
    assert main(["export", "--onnx", str(out), "--trace", str(path), "--force"]) == 0
    mine = tmp_path / "mine.onnx"
    mine.write_text("my own file")
    assert main(["export", "--onnx", str(mine), "--trace", str(path), "--force"]) == 2
    assert mine.read_text() == "my own file"


def test_what_onnx_cannot_express_is_refused_in_one_line(monkeypatch, tmp_path, capsys):
    net = Network([64, 8, 10], activation="sigmoid")
    monkeypatch.delitem(onnx_model.ONNX_OPS, "sigmoid")  # as a new activation without an ONNX operator would be
    with pytest.raises(ValueError, match="activation 'sigmoid' has no ONNX operator here; exportable: relu"):
        check_exportable(net)
    net.save(tmp_path / "m.npz")
    assert main(["export", "--onnx", str(tmp_path / "m.onnx"), "--model", str(tmp_path / "m.npz")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "sigmoid" in err
    assert not (tmp_path / "m.onnx").exists()
    monkeypatch.undo()
    net.layers.insert(0, object())  # as a layer the graph has no form for would be
    with pytest.raises(ValueError, match="layer 1 is object, which has no ONNX form here; exportable: Dense, Conv2D"):
        check_exportable(net)


def random_biases(net, seed=3):
    """Every bias away from 0, so that a bias added in the wrong place (or not at all) would show."""
    rng = np.random.default_rng(seed)
    for layer in net.layers:
        if layer.b is not None:
            layer.b[...] = rng.normal(0, 0.3, layer.b.shape)
    return net


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_a_trained_cnn_exports_and_onnxruntime_agrees(padding, tmp_path, X, capsys):
    """A tiny CNN trained one epoch by `explainer train --conv 4 --kernel 3`, exported by `explainer export`."""
    model, out = tmp_path / "cnn.npz", tmp_path / "cnn.onnx"
    assert main(["train", "--conv", "4", "--kernel", "3", "--padding", padding, "--hidden", "12", "--epochs", "1",
                 "--no-progress", "--save", str(model)]) == 0
    assert main(["export", "--onnx", str(out), "--model", str(model)]) == 0
    assert "wrote" in capsys.readouterr().out
    net = Network.load(model)
    p, q = onnx_probabilities(out, X), net.predict_proba(X)
    np.testing.assert_allclose(p, q, atol=1e-5)
    assert (p.argmax(axis=1) == q.argmax(axis=1)).all()
    graph = onnx.load(str(out)).graph
    conv = next(node for node in graph.node if node.op_type == "Conv")
    assert {a.name: list(a.ints) for a in conv.attribute}["pads"] == [1 if padding == "same" else 0] * 4
    props = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert props["layers"] == f"conv 4 3{' same' if padding == 'same' else ''},pool 2"


def test_a_cnn_from_its_trace_at_a_step(tmp_path, X):
    """`trace.network(step)` of a recorded CNN, exported from the trace as it was at a middle snapshot."""
    path = tmp_path / "cnn.zarr"
    assert main(["train", "--conv", "4", "--kernel", "3", "--padding", "valid", "--hidden", "12", "--epochs", "1",
                 "--no-progress", "--out", str(path)]) == 0
    trace = Trace.open(path)
    step = int(trace.snapshot_steps[len(trace.snapshot_steps) // 2])
    out = tmp_path / "cnn.onnx"
    assert main(["export", "--onnx", str(out), "--trace", str(path), "--step", str(step)]) == 0
    p, q = onnx_probabilities(out, X), trace.network(step).predict_proba(X)
    np.testing.assert_allclose(p, q, atol=1e-5)
    assert np.abs(q - trace.network(trace.n_steps - 1).predict_proba(X)).max() > 1e-3  # that step, not the last


# two convolutions of several channels (the Flatten's order shows only with more than one), an odd map that
# pooling cuts (7 -> 3), 'valid' and 'same' in one network, a convolution with no pooling after it
LAYERS = ["conv 4 2", "pool 2", "conv 5 3 same"]  # 8x8 -> 7x7x4 -> 3x3x4 -> 3x3x5 -> 45


@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_every_activation_in_a_cnn_and_the_graph_it_makes(activation, X):
    net = random_biases(Network([64, 12, 10], layers=LAYERS, activation=activation, seed=4))
    model = to_onnx(net)
    np.testing.assert_allclose(onnx_probabilities(model, X), net.predict_proba(X), atol=1e-5)
    ops = [node.op_type for node in model.graph.node]
    f = onnx_model.ONNX_OPS[activation][0]
    assert ops == ["Reshape", "Transpose", "Conv", f, "MaxPool", "Conv", f, "Transpose", "Reshape",
                   "Gemm", f, "Gemm", "Softmax"]
    weights = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    assert weights["W1"].shape == (4, 1, 2, 2) and weights["W3"].shape == (5, 4, 3, 3)  # (n_out, c_in, k, k)
    np.testing.assert_array_equal(weights["W3"][2, 1], net.layers[2].W[2, :, :, 1])  # filter 2, input channel 1


def test_mnists_cnn_architecture_on_28x28_pictures():
    """The MNIST preset's layers (conv 16 5, pool, conv 32 5, pool, 128, 10) with random weights and biases,
    on random pictures: 4x4x32 maps flattened in (h, w, c) order into 512 values."""
    net = random_biases(Network([784, 128, 10], layers=["conv 16 5", "pool 2", "conv 32 5", "pool 2"], seed=7))
    x = np.random.default_rng(8).random((64, 784), dtype=np.float32)
    p, q = onnx_probabilities(to_onnx(net), x), net.predict_proba(x)
    np.testing.assert_allclose(p, q, atol=1e-5)
    assert q.max(axis=1).min() < 0.99  # not every row saturated, which would hide a wrong order


def test_without_the_onnx_package_one_line_says_how_to_install_it(monkeypatch, tmp_path, capsys):
    Network([64, 8, 10]).save(tmp_path / "m.npz")
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` now fails
    assert main(["export", "--onnx", str(tmp_path / "m.onnx"), "--model", str(tmp_path / "m.npz")]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "explainer: error: `explainer export --onnx` needs the onnx package: pip install onnx " \
                          "(or make setup-dev)"
