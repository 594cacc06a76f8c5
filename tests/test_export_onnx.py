"""`explainer export --onnx`: the network as Gemm (transB=1) + activation per layer + Softmax, checked with
onnxruntime (an optional test dependency: these tests skip without it, like the torch oracle's)."""

import sys

import numpy as np
import pytest

from explainer import HIDDEN_ACTIVATIONS, Experiment, Network, run
from explainer.cli import main
from explainer.data import load_dataset
from explainer.export import check_exportable, to_onnx
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
    from explainer.export import onnx_model

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
    net.layers.insert(0, object())  # as a convolution layer would be
    with pytest.raises(ValueError, match="only dense networks can be exported for now, and layer 1 is object"):
        check_exportable(net)


def test_without_the_onnx_package_one_line_says_how_to_install_it(monkeypatch, tmp_path, capsys):
    Network([64, 8, 10]).save(tmp_path / "m.npz")
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` now fails
    assert main(["export", "--onnx", str(tmp_path / "m.onnx"), "--model", str(tmp_path / "m.npz")]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "explainer: error: `explainer export --onnx` needs the onnx package: pip install onnx " \
                          "(or make setup-dev)"
