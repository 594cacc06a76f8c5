"""A CNN's outputs and gradients equal torch autograd's on identical weights, ties in max-pooling included.

torch is an optional test dependency; without it these tests are skipped.
"""

import numpy as np
import pytest
from test_gradients import HIDDEN

from explainer.architecture import cnn_layers
from explainer.network import Network

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

F = torch.nn.functional
TORCH_ACTIVATIONS = {
    "relu": torch.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, 0.01),
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "identity": lambda z: z,
    "softmax": lambda z: torch.softmax(z, dim=1),
}


def torch_pass(net, x, y):
    """The same network in torch (channels first, as torch has it); returns output, loss and gradients."""
    params = [torch.tensor(p, requires_grad=True) for p in net.params]
    a = torch.tensor(x).reshape(len(x), *net.image_shape).permute(0, 3, 1, 2)  # (batch, C, H, W)
    weights = iter(zip(params[0::2], params[1::2]))
    for layer in net.layers:
        kind = type(layer).__name__
        if kind == "Conv2D":
            W, b = next(weights)  # ours (n_out, k, k, c_in), torch's (n_out, c_in, k, k)
            a = TORCH_ACTIVATIONS[layer.activation.name](F.conv2d(a, W.permute(0, 3, 1, 2), b, padding=layer.pad))
        elif kind == "MaxPool2D":
            a = F.max_pool2d(a, 2)
        elif kind == "Flatten":
            a = a.permute(0, 2, 3, 1).reshape(len(a), -1)  # ours flattens (h, w, c)
        else:
            W, b = next(weights)
            a = TORCH_ACTIVATIONS[layer.activation.name](a @ W.T + b)
    loss = -(torch.tensor(y) * torch.log(a.clamp(min=1e-12))).sum() / len(a)
    loss = loss + net.l2 / 2 * sum((W**2).sum() for W in params[0::2])
    loss.backward()
    return a.detach().numpy(), float(loss.detach()), [p.grad.numpy() for p in params]


def check(net, x, labels, tol):
    y = net.one_hot(labels)
    a = net.forward(x)
    value = net.loss(a, y)
    net.backward(y)
    a_torch, value_torch, grads_torch = torch_pass(net, x, y)
    np.testing.assert_allclose(a, a_torch, rtol=tol, atol=tol)
    assert value == pytest.approx(value_torch, rel=tol, abs=tol)
    for k, (ours, theirs) in enumerate(zip(net.grads, grads_torch)):
        np.testing.assert_allclose(ours, theirs, rtol=tol * 10, atol=tol, err_msg=f"gradient {k}")


@pytest.mark.parametrize("activation", HIDDEN)
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("dtype,tol", [("float64", 1e-10), ("float32", 1e-5)])
def test_cnn_matches_torch_autograd(activation, padding, fast, dtype, tol):
    net = Network([144, 8, 10], layers=cnn_layers((4, 6), 3, padding), activation=activation, seed=7, dtype=dtype,
                  l2=1e-3)
    net = net if fast else net._detached(fast=False)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, size=(21, 144)).astype(dtype)  # more than one micro-batch
    check(net, x, rng.integers(0, 10, size=21), tol)


@pytest.mark.parametrize("fast", [True, False])
def test_ties_in_max_pooling_match_torch(fast):
    # digits drawn in whole numbers on a blank background: most windows hold two to four equal largest values
    rng = np.random.default_rng(1)
    x = np.zeros((18, 12, 12))
    x[:, 3:9, 3:9] = rng.integers(0, 3, size=(18, 6, 6))
    net = Network([144, 8, 10], layers=["conv 4 3 same", "pool 2", "pool 2"], seed=2, dtype="float64")
    conv = net.layers[0]
    conv.W[...] = np.round(conv.W * 4) / 4  # whole quarters: equal sums are exactly equal
    conv.b[...] = [0.5, 0.25, -0.5, 1.0]  # ties above zero carry a gradient through the ReLU
    net = net if fast else net._detached(fast=False)
    net.forward(x.reshape(18, 144))
    pooled = net.layers[1].a.reshape(18, 6, 6, 4)
    assert (pooled > 0).mean() > 0.5  # the test would be empty if the ties sat where ReLU cuts the gradient
    check(net, x.reshape(18, 144), rng.integers(0, 10, size=18), 1e-10)
