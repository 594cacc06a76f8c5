"""Back-propagation checked against central differences, in float64.

For a parameter ``w`` the numerical gradient is::

    dL/dw ~ (L(w + h) - L(w - h)) / (2 h)

whose error is O(h^2); with h = 1e-6 in float64 that leaves about 1e-9 of
relative error, far below the 1e-6 we demand.
"""

import itertools

import numpy as np
import pytest

from explainer.activations import ACTIVATIONS
from explainer.losses import LOSSES, one_hot
from explainer.network import Network

H = 1e-6
TOLERANCE = 1e-6
HIDDEN = [name for name in ACTIVATIONS if name != "softmax"]
# every output activation with every loss it can sensibly feed
OUTPUTS = [("softmax", "cross_entropy"), ("softmax", "mse"), ("sigmoid", "cross_entropy"),
           ("sigmoid", "mse"), ("identity", "mse"), ("tanh", "mse")]


def relative_error(numeric, analytic):
    return np.linalg.norm(numeric - analytic) / max(np.linalg.norm(numeric) + np.linalg.norm(analytic), 1e-12)


def assert_central_differences(net, x, labels, tolerance=TOLERANCE):
    """Every parameter's gradient from ``net.backward`` equals central differences of ``net.loss``; returns the
    analytic gradients."""
    y = net.one_hot(labels)
    net.forward(x)
    net.backward(y)
    analytic = [g.copy() for g in net.grads]

    def loss_value():
        return net.loss(net.forward(x), y)

    for k, (w, g) in enumerate(zip(net.params, analytic)):
        err = relative_error(numeric_gradient(loss_value, w), g)
        assert err < tolerance, f"param {k} ({'W' if k % 2 == 0 else 'b'}{k // 2 + 1}): {err:.2e}"
    return analytic


def numeric_gradient(f, w):
    """Central differences of the scalar function f() with respect to array w, in place."""
    grad = np.zeros_like(w)
    for i in np.ndindex(w.shape):
        old = w[i]
        w[i] = old + H
        plus = f()
        w[i] = old - H
        minus = f()
        w[i] = old
        grad[i] = (plus - minus) / (2 * H)
    return grad


def batch(n_in=5, n_classes=3, n=4, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, n_in))
    labels = rng.integers(0, n_classes, size=n)
    return x, labels


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("output,loss", OUTPUTS)
def test_every_layer_gradient_matches_central_differences(hidden, output, loss):
    net = Network([5, 4, 3, 3], activation=hidden, output=output, loss=loss, init="xavier", seed=3,
                  dtype="float64")
    assert_central_differences(net, *batch())


@pytest.mark.parametrize("penalty", [{"l2": 0.1}, {"l1": 0.05}, {"l1": 0.02, "l2": 0.3}])
def test_penalty_gradients_match_central_differences(penalty):
    net = Network([5, 4, 3], activation="tanh", seed=4, dtype="float64", **penalty)
    assert_central_differences(net, *batch())


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_backward_is_the_vector_jacobian_product(name):
    act = ACTIVATIONS[name]
    rng = np.random.default_rng(0)
    z = rng.normal(size=(3, 4))
    z[np.abs(z) < 1e-3] = 0.5  # keep away from relu's kink
    grad_a = rng.normal(size=(3, 4))
    # d/dz of sum(grad_a * f(z)) is exactly grad_a^T J
    numeric = numeric_gradient(lambda: float((grad_a * act.forward(z)).sum()), z)
    analytic = act.backward(z, act.forward(z), grad_a)
    assert relative_error(numeric, analytic) < TOLERANCE


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_gradient_matches_central_differences(name):
    loss = LOSSES[name]
    rng = np.random.default_rng(2)
    a = rng.uniform(0.05, 0.95, size=(4, 3))
    y = one_hot(rng.integers(0, 3, 4), 3, np.float64)
    numeric = numeric_gradient(lambda: loss.value(a, y), a)
    # value is the batch mean, gradient is per sample: multiply by N to compare
    assert relative_error(numeric * len(a), loss.gradient(a, y)) < TOLERANCE


@pytest.mark.parametrize("activation", ["softmax", "sigmoid"])
def test_output_delta_shortcut_equals_the_chain_rule(activation):
    act = ACTIVATIONS[activation]
    rng = np.random.default_rng(5)
    z = rng.normal(size=(4, 3))
    a = act.forward(z)
    y = one_hot([0, 2, 1, 1], 3, np.float64)
    ce = LOSSES["cross_entropy"]
    np.testing.assert_allclose(ce.output_delta[activation].delta(z, a, y), act.backward(z, a, ce.gradient(a, y)),
                               rtol=1e-12, atol=1e-12)


def test_float32_network_stays_float32():
    net = Network([5, 4, 3])
    x, labels = batch()
    net.forward(x)
    net.backward(net.one_hot(labels))
    for layer in net.layers:
        for array in (layer.z, layer.a, layer.delta, layer.dW, layer.db):
            assert array.dtype == np.float32


def test_hand_worked_example():
    """A 2-2-2 network on one sample, worked out with pencil and paper.

    x = [1, 2], target class 0 (y = [1, 0]).
    Layer 1 (relu): W1 = [[0.1, 0.2], [-0.3, 0.4]], b1 = [0.0, 0.1]
        z1 = W1 x + b1 = [0.1*1 + 0.2*2 + 0, -0.3*1 + 0.4*2 + 0.1] = [0.5, 0.6]
        a1 = relu(z1) = [0.5, 0.6]
    Layer 2 (softmax): W2 = [[1, -1], [0.5, 0.5]], b2 = [0, 0]
        z2 = [0.5 - 0.6, 0.25 + 0.3] = [-0.1, 0.55]
        a2 = softmax(z2) = [e^-0.1, e^0.55] / (e^-0.1 + e^0.55)
           = [0.904837, 1.733253] / 2.638090 = [0.342990, 0.657010]
    Loss = -log a2[0] = -log 0.342990 = 1.070055
    Backward:
        delta2 = a2 - y = [-0.657010, 0.657010]
        dW2 = delta2 a1^T = [[-0.328505, -0.394206], [0.328505, 0.394206]]
        db2 = delta2
        grad_a1 = W2^T delta2 = [1*-0.657010 + 0.5*0.657010, -1*-0.657010 + 0.5*0.657010]
                = [-0.328505, 0.985516]
        delta1 = grad_a1 * (z1 > 0) = [-0.328505, 0.985516]
        dW1 = delta1 x^T = [[-0.328505, -0.657010], [0.985516, 1.971031]]
    """
    net = Network([2, 2, 2], activation="relu", dtype="float64")
    net.layers[0].W[...] = [[0.1, 0.2], [-0.3, 0.4]]
    net.layers[0].b[...] = [0.0, 0.1]
    net.layers[1].W[...] = [[1, -1], [0.5, 0.5]]
    net.layers[1].b[...] = [0, 0]
    x, y = np.array([[1.0, 2.0]]), np.array([[1.0, 0.0]])
    a2 = net.forward(x)
    np.testing.assert_allclose(net.layers[0].z, [[0.5, 0.6]], atol=1e-12)
    np.testing.assert_allclose(a2, [[0.342990, 0.657010]], atol=1e-6)
    assert net.loss(a2, y) == pytest.approx(1.070055, abs=1e-6)
    net.backward(y)
    np.testing.assert_allclose(net.layers[1].delta, [[-0.657010, 0.657010]], atol=1e-6)
    np.testing.assert_allclose(net.layers[1].dW, [[-0.328505, -0.394206], [0.328505, 0.394206]], atol=1e-6)
    np.testing.assert_allclose(net.layers[0].delta, [[-0.328505, 0.985516]], atol=1e-6)
    np.testing.assert_allclose(net.layers[0].dW, [[-0.328505, -0.657010], [0.985516, 1.971031]], atol=1e-6)
    np.testing.assert_allclose(net.layers[0].db, [-0.328505, 0.985516], atol=1e-6)


def test_inspect_leaves_the_training_caches_alone():
    net = Network([5, 4, 3], dtype="float64", seed=1)
    x, labels = batch()
    net.forward(x)
    net.backward(net.one_hot(labels))
    before = [g.copy() for g in net.grads] + [layer.z.copy() for layer in net.layers]
    probe_x, probe_labels = batch(seed=9, n=2)
    inspection = net.inspect(probe_x, probe_labels)
    after = net.grads + [layer.z for layer in net.layers]
    for b, a in zip(before, after):
        np.testing.assert_array_equal(a, b)
    assert inspection.z[0].shape == (2, 4) and inspection.probabilities.shape == (2, 3)
    # and it computed the probe's own pass, not a copy of the batch's
    np.testing.assert_allclose(inspection.probabilities, net.predict_proba(probe_x))


def test_all_combinations_are_covered():
    # a guard that the parametrisation above keeps up with the tables
    covered_losses = {loss for _, loss in OUTPUTS}
    assert covered_losses == set(LOSSES)
    assert set(HIDDEN) | {o for o, _ in OUTPUTS} == set(ACTIVATIONS)
    assert len(list(itertools.product(HIDDEN, OUTPUTS))) == len(HIDDEN) * len(OUTPUTS)
