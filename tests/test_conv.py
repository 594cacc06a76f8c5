"""Conv2D, MaxPool2D and Flatten: back-propagation against central differences (float64), the fast
order against the textbook one, ties in max-pooling, repeatability, saving and the layer specs."""

import numpy as np
import pytest
from test_gradients import HIDDEN, assert_central_differences, numeric_gradient, relative_error

from explainer.architecture import cnn_layers, parse_spec
from explainer.conv import MICRO_BATCH, POOL_FIRST
from explainer.network import Network
from explainer.pool import max_of_four, max_pool, unpool, unpool_four, winner_index

TOLERANCE = 1e-6
# a 7x7 image (odd: pooling drops a row and a column) -> conv 2 3x3 -> (5, 5, 2) -> pool -> (2, 2, 2)
# -> conv 3 3x3 same -> (2, 2, 3) -> pool -> (1, 1, 3) -> flatten -> dense 4 -> 3 classes
SMALL = ["conv 2 3", "pool 2", "conv 3 3 same", "pool 2"]


def small_net(activation="relu", layers=SMALL, **settings):
    return Network([49, 4, 3], layers=layers, activation=activation, seed=3, dtype="float64", **settings)


def batch(n=5, n_in=49, n_classes=3, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, n_in)), rng.integers(0, n_classes, size=n)


@pytest.mark.parametrize("activation", HIDDEN)
@pytest.mark.parametrize("fast", [True, False])
def test_cnn_gradients_match_central_differences(activation, fast):
    net = small_net(activation, l2=0.01)
    if not fast:
        net = net._detached(fast=False)  # the textbook order, as inspect runs it
    analytic = assert_central_differences(net, *batch(n=MICRO_BATCH + 3))  # two micro-batches, which must add up
    assert len(analytic) == 8  # two convolutions and two dense layers, each W and b


@pytest.mark.parametrize("layers", [
    # a one-channel convolution (patches in pooling order) whose input's gradient reaches the weights below
    ["conv 1 3 same", "pool 2", "conv 3 3", "pool 2"],
    ["conv 2 3 same", "conv 3 3", "pool 2"],  # a convolution without pooling, then one with several channels
])
@pytest.mark.parametrize("keep", [True, False])
def test_other_architectures_match_central_differences(layers, keep, monkeypatch):
    if not keep:  # the one-channel patches cut again in backward, as for a batch too large to keep them
        monkeypatch.setattr("explainer.conv.KEEP_BYTES", 0)
    # identity: fused with the pooling (patches in pooling order), and no kinks for the central differences to cross
    net = Network([196, 5, 3], layers=layers, activation="identity", seed=6, dtype="float64")
    assert_central_differences(net, *batch(n=MICRO_BATCH + 2, n_in=196))


def test_input_gradient_of_a_convolution_matches_central_differences():
    # the first layer never needs its input's gradient in training: check it here, on the second convolution's
    net = Network([36, 3], layers=["conv 2 3", "conv 3 3 same"], activation="tanh", seed=5, dtype="float64")
    x, labels = batch(n=3, n_in=36)
    y = net.one_hot(labels)
    net.forward(x)
    net.backward(y)
    conv1, conv2 = net.layers[0], net.layers[1]
    grad_in = conv2.backward(delta=conv2.delta)  # d loss / d conv1.a, from the cached delta

    def loss_of_a(a):
        rest = net._detached(fast=False)
        out = a
        for layer in rest.layers[1:]:
            out = layer.forward(out)
        return net.loss(out, y)

    a = conv1.a.copy()
    numeric = numeric_gradient(lambda: loss_of_a(a), a)  # of the batch's mean loss
    assert relative_error(numeric * len(x), grad_in) < TOLERANCE  # grad_in is per sample, d loss_n / d a


@pytest.mark.parametrize("activation", POOL_FIRST)
def test_pooling_first_gives_the_textbook_numbers(activation):
    # the fast order (pool, then bias and f) against conv -> f -> pool, with more images than a micro-batch
    net = Network([784, 16, 10], layers=cnn_layers((4, 6), 5), activation=activation, seed=2, dtype="float64")
    x, labels = batch(n=MICRO_BATCH * 2 + 3, n_in=784, n_classes=10)
    slow = net._detached(fast=False)
    assert net.forward(x) == pytest.approx(slow.forward(x), abs=1e-12)
    net.backward(net.one_hot(labels))
    slow.backward(net.one_hot(labels))
    for ours, textbook in zip(net.grads, slow.grads):
        np.testing.assert_allclose(ours, textbook, rtol=1e-10, atol=1e-12)
    # the pooled maps are the textbook ones: max over each window of f(z)
    np.testing.assert_array_equal(net.layers[1].a, slow.layers[1].a)


def test_inspect_gives_every_layers_full_resolution_values():
    net = Network([784, 16, 10], layers=cnn_layers((4,), 5), seed=0)
    x, labels = batch(n=3, n_in=784, n_classes=10)
    p = net.inspect(x.astype(np.float32), labels)
    assert [z.shape for z in p.z] == [(3, 24, 24, 4), (3, 12, 12, 4), (3, 576), (3, 16), (3, 10)]
    assert [d.shape for d in p.delta] == [(3, 24, 24, 4), (3, 12, 12, 4), (3, 576), (3, 16), (3, 10)]
    assert p.dW[1] is None and p.dW[0].shape == (4, 5, 5, 1)
    np.testing.assert_array_equal(p.a[0], np.maximum(p.z[0], 0))


def test_max_pooling_ties_go_to_the_first_in_reading_order():
    windows = {  # 2x2 window, read row by row -> the winner's index
        (1, 1, 1, 1): 0, (0, 2, 2, 0): 1, (0, 1, 2, 2): 2, (3, 1, 2, 3): 0, (0, 0, 0, 1): 3, (0, 5, 0, 5): 1,
    }
    x = np.array(list(windows), np.float32).reshape(len(windows), 2, 2, 1)  # (6 images, 2, 2, 1 channel)
    m, winner = max_pool(x)
    assert winner_index(winner).ravel().tolist() == list(windows.values())
    grad = unpool(np.ones_like(m), winner, x.shape)
    assert grad.reshape(len(windows), 4).sum(axis=1).tolist() == [1] * len(windows)  # each gradient counted once
    assert grad.reshape(len(windows), 4).argmax(axis=1).tolist() == list(windows.values())
    # the same windows as four contiguous blocks (a one-channel convolution's patches in pooling order)
    m4, winner4 = max_of_four(x.reshape(len(windows), 4).T.copy())
    assert winner4.tolist() == list(windows.values()) and m4.tolist() == m.ravel().tolist()
    assert unpool_four(m4, winner4).T.argmax(axis=1).tolist() == list(windows.values())


def test_flat_background_gives_each_window_gradient_once():
    # MNIST's background is flat: all four values equal in most windows
    net = Network([64, 10], layers=["conv 3 3 same", "pool 2"], seed=1, dtype="float64")
    net.layers[0].b[:] = 0.5  # z = 0.5 on the blank image: every window a four-way tie, all alive under ReLU
    x = np.zeros((2, 64))
    net.forward(x)
    net.backward(net.one_hot([1, 2]))
    textbook = net._detached(fast=False)
    textbook.forward(x)
    textbook.backward(net.one_hot([1, 2]))
    delta = textbook.layers[0].delta  # (2, 8, 8, 3)
    assert np.count_nonzero(delta) == np.count_nonzero(textbook.layers[1].delta)  # one place per window
    np.testing.assert_allclose(net.layers[0].db, textbook.layers[0].db, rtol=1e-12)


def test_same_seed_same_weights_to_the_bit():
    from dataclasses import replace

    from explainer.data import load_dataset
    from explainer.training import TrainConfig, fit

    digits = load_dataset("digits", seed=0)
    data = replace(digits, X_train=digits.X_train[:96], y_train=digits.y_train[:96])  # 8x8 digits, 6 steps

    def trained(seed):
        net = Network([64, 16, 10], layers=cnn_layers((4, 8), 3, "same"), seed=seed)
        fit(net, data, TrainConfig(epochs=2, batch_size=32, seed=seed), progress=False)
        return net.params

    first, again, other = trained(4), trained(4), trained(5)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


def test_a_cnn_saves_and_loads(tmp_path):
    net = Network([784, 32, 10], layers=cnn_layers((4, 8), 5), activation="leaky_relu", seed=9)
    x, _ = batch(n=4, n_in=784, n_classes=10)
    net.save(tmp_path / "cnn.npz")
    loaded = Network.load(tmp_path / "cnn.npz")
    assert loaded.config() == net.config()
    assert loaded.config()["layers"] == ["conv 4 5", "pool 2", "conv 8 5", "pool 2"]
    np.testing.assert_array_equal(loaded.predict_proba(x), net.predict_proba(x))


def test_a_dense_networks_config_is_unchanged():
    assert "layers" not in Network([64, 10]).config()


@pytest.mark.parametrize("spec,message", [
    ("conv 16", "a layer spec is 'conv FILTERS KERNEL' or 'pool 2'"),
    ("conv 16 5 full", "got 'conv 16 5 full'"),
    ("pool 3", "got 'pool 3'"),
    ("dense 10", "got 'dense 10'"),
])
def test_bad_layer_specs_say_what_is_allowed(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_spec(spec)


@pytest.mark.parametrize("settings,message", [
    ({"layers": ["conv 4 9"]}, "a 9x9 kernel does not fit in 8x8 maps"),
    ({"layers": ["conv 4 4 same"]}, "'same' padding needs an odd kernel size"),
    ({"layers": ["pool 2", "pool 2", "pool 2", "pool 2"]}, "2x2 pooling needs feature maps of at least 2x2"),
    ({"layers": ["conv 4 3"], "image_shape": (4, 4)}, "image_shape must be .* with 64 values"),
    ({"layers": "conv 4 3"}, "layers must be a list of layer specs"),
])
def test_bad_architectures_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        Network([64, 10], **settings)


def test_one_lane_or_two_give_the_same_weights_to_the_bit():
    from threadpoolctl import threadpool_limits

    from explainer.lanes import lanes_for, one_blas_thread

    x, labels = batch(n=4 * MICRO_BATCH + 5, n_in=784, n_classes=10)
    weights = {}
    for threads in (1, 2):
        with threadpool_limits(threads):
            with one_blas_thread():
                assert lanes_for(5) == threads  # the BLAS limit outside is the number of lanes inside
            net = Network([784, 16, 10], layers=cnn_layers((4, 8), 5), seed=1)
            for _ in range(2):  # two steps of plain gradient descent
                net.forward(x.astype(np.float32))
                net.backward(net.one_hot(labels))
                for w, g in zip(net.params, net.grads):
                    w -= 0.1 * g
            weights[threads] = net.params
    assert all(np.array_equal(a, b) for a, b in zip(weights[1], weights[2]))
