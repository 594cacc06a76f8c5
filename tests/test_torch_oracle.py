"""Forward outputs and gradients equal torch autograd's on identical weights.

torch is an optional test dependency (``pip install torch==2.13.0``); without
it these tests are skipped.
"""

import numpy as np
import pytest

from explainer.network import Network

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

TORCH_ACTIVATIONS = {
    "relu": torch.relu,
    "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, 0.01),
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "identity": lambda z: z,
    "softmax": lambda z: torch.softmax(z, dim=1),
}
TORCH_LOSSES = {
    "cross_entropy": lambda a, y: -(y * torch.log(a.clamp(min=1e-12))).sum() / len(a),
    "mse": lambda a, y: 0.5 * ((a - y) ** 2).sum() / len(a),
}


def torch_pass(net, x, y):
    """The same network, written with torch tensors; returns output, loss, grads."""
    params = [torch.tensor(p, requires_grad=True) for p in net.params]
    a = torch.tensor(x)
    for i, layer in enumerate(net.layers):
        W, b = params[2 * i], params[2 * i + 1]
        a = TORCH_ACTIVATIONS[layer.activation.name](a @ W.T + b)
    loss = TORCH_LOSSES[net.loss_fn.name](a, torch.tensor(y))
    weights = params[0::2]
    loss = loss + net.l1 * sum(W.abs().sum() for W in weights) + net.l2 / 2 * sum((W**2).sum() for W in weights)
    loss.backward()
    return a.detach().numpy(), float(loss.detach()), [p.grad.numpy() for p in params]


@pytest.mark.parametrize("hidden", ["relu", "leaky_relu", "sigmoid", "tanh", "identity"])
@pytest.mark.parametrize("output,loss", [("softmax", "cross_entropy"), ("softmax", "mse"),
                                         ("sigmoid", "cross_entropy"), ("identity", "mse")])
@pytest.mark.parametrize("dtype,tol", [("float64", 1e-10), ("float32", 1e-5)])
def test_matches_torch_autograd(hidden, output, loss, dtype, tol):
    net = Network([64, 32, 16, 10], activation=hidden, output=output, loss=loss, seed=7, dtype=dtype, l2=1e-3)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, size=(8, 64)).astype(dtype)
    y = net.one_hot(rng.integers(0, 10, size=8))
    a = net.forward(x)
    value = net.loss(a, y)
    net.backward(y)
    a_torch, value_torch, grads_torch = torch_pass(net, x, y)
    np.testing.assert_allclose(a, a_torch, rtol=tol, atol=tol)
    assert value == pytest.approx(value_torch, rel=tol, abs=tol)
    for ours, theirs in zip(net.grads, grads_torch):
        np.testing.assert_allclose(ours, theirs, rtol=tol * 10, atol=tol)
