"""A feed-forward network, written from scratch in NumPy.

The design goal is that every number the lecture talks about exists as a
variable you can look at: after ``forward`` and ``backward`` each layer holds
its ``z``, ``a``, ``delta``, ``dW`` and ``db``. Nothing is hidden in an autograd
tape. The trace recorder reads those values; the gradient tests check them
against central differences and against torch.

If ``sizes`` is ``[64, 32, 10]``, the network takes 64 inputs (an 8x8 image),
has one hidden layer of 32 neurons and 10 outputs (one per digit)::

    a0 = x                                  # (batch, 64)
    z1 = a0 @ W1.T + b1; a1 = f(z1)         # (batch, 32)   per sample: z1 = W1 a0 + b1
    z2 = a1 @ W2.T + b2; a2 = softmax(z2)   # (batch, 10), the class probabilities

With ``layers``, convolution and pooling layers come first (a list of layer
specs, :mod:`explainer.architecture`): the rows of ``x`` are then images
(``image_shape``), and ``sizes[1:]`` are the dense layers after them::

    Network([784, 128, 10], layers=["conv 16 5", "pool 2", "conv 32 5", "pool 2"])
"""

import json
from contextlib import nullcontext

import numpy as np

from .activations import get_activation
from .architecture import build_layers, image_shape_for, plan
from .initializers import default_initializer, get_initializer
from .lanes import one_blas_thread
from .layers import Dense
from .losses import get_loss, one_hot
from .passes import Pass

__all__ = ["Network", "check_seed", "check_settings", "is_saved_network", "MAX_SEED"]

_DTYPES = ("float32", "float64")
MAX_SEED = 2**32 - 1  # the largest seed scikit-learn's split takes (NumPy's generators take any seed >= 0)
_FORMAT = "explainer-model"
_FORMAT_VERSION = 1


class Network:
    """A stack of dense layers trained by back-propagation.

    Parameters
    ----------
    sizes : sequence of int
        Units per layer, input first and output last: ``[64, 32, 10]``.
    activation : str
        Hidden-layer activation, a name from ``ACTIVATIONS`` (default ``"relu"``).
    output : str
        Output activation (default ``"softmax"``).
    loss : str
        ``"cross_entropy"`` (default) or ``"mse"``.
    init : str or None
        Weight initialiser; None picks ``"he"`` for ReLU-like activations and
        ``"xavier"`` otherwise.
    l1, l2 : float
        Penalties ``l1 * sum|W|`` and ``l2 / 2 * sum W^2`` on the weights (not
        the biases), added to the loss.
    seed : int
        Seeds the initial weights: the same seed gives the same network. A
        whole number from 0 to 2**32 - 1.
    dtype : {"float32", "float64"}
        float32 is fast; float64 is for gradient checks.
    layers : list of str, optional
        Convolution and pooling layers before the dense ones, as specs like
        ``"conv 16 5"`` and ``"pool 2"`` (:mod:`explainer.architecture`).
    image_shape : tuple of int, optional
        ``(height, width)`` or ``(height, width, channels)`` of the input
        images, for ``layers``; default: a square one-channel image of ``sizes[0]`` pixels.
    """

    def __init__(
        self,
        sizes,
        activation="relu",
        output="softmax",
        loss="cross_entropy",
        init=None,
        l1=0.0,
        l2=0.0,
        seed=0,
        dtype="float32",
        layers=None,
        image_shape=None,
    ):
        sizes = _check_sizes(sizes)
        hidden, out, self.loss_fn, init, l1, l2, seed, dtype = check_settings(
            activation, output, loss, init, l1, l2, seed, dtype)
        self.sizes, self.seed, self.dtype = sizes, seed, np.dtype(dtype)
        self.l1, self.l2 = l1, l2
        self.activation, self.init = hidden.name, init
        rng = np.random.default_rng(seed)
        self.specs, self.image_shape = None, None
        if layers is None:
            activations = [hidden.name] * (len(sizes) - 2) + [out.name]
            self.layers = [
                Dense(n_in, n_out, act, init, rng, self.dtype)
                for n_in, n_out, act in zip(sizes[:-1], sizes[1:], activations)
            ]
        else:
            if isinstance(layers, str):
                raise ValueError(f"layers must be a list of layer specs like ['conv 16 5', 'pool 2']; got {layers!r}")
            self.specs, self.image_shape = list(layers), image_shape_for(sizes[0], image_shape)
            self.layers = build_layers(self.specs, self.image_shape, sizes, hidden.name, out.name, init, rng,
                                       self.dtype)
        self._steps = plan(self.layers)  # how forward and backward call the layers (fused where exact)

    # -- the two passes ----------------------------------------------------

    def forward(self, x):
        """Feed a batch ``x`` (batch, n_in) through every layer; return the output ``a``."""
        a = np.asarray(x, dtype=self.dtype)
        if a.ndim != 2 or a.shape[1] != self.sizes[0]:
            raise ValueError(_batch_problem(a.shape, self.sizes[0]))
        if self.image_shape is not None:
            a = a.reshape(len(a), *self.image_shape)  # (batch, height, width, channels)
        with self._blas():
            for step in self._steps:
                a = step.forward(a)
        return a  # (batch, n_classes)

    def backward(self, y):
        """Back-propagate from one-hot targets ``y`` (batch, n_classes).

        Uses the output cached by the last ``forward``; leaves ``delta``, ``dW``
        and ``db`` on every layer.
        """
        out = self.layers[-1]
        if out.a is None:
            raise RuntimeError("backward needs the outputs of a forward pass: call net.forward(x) on the batch "
                               "first, then net.backward(y)")
        if np.shape(y) != out.a.shape:
            hint = ": net.one_hot(labels) makes them from integer labels" if np.ndim(y) == 1 else ""
            raise ValueError(f"y must be one-hot targets of shape {out.a.shape}, one row per image of the last "
                             f"forward's batch{hint}; got shape {np.shape(y)}")
        shortcut = self.loss_fn.output_delta.get(out.activation.name)
        if shortcut is not None:
            grad = out.backward(delta=shortcut.delta(out.z, out.a, y))
        else:
            grad = out.backward(self.loss_fn.gradient(out.a, y))
        with self._blas():
            for step in reversed(self._steps[:-1]):
                grad = step.backward(grad, need_grad_input=step is not self._steps[0])
        if self.l1 or self.l2:
            for layer in self.weighted:
                # d/dW [l1 sum|W| + l2/2 sum W^2] = l1 sign(W) + l2 W
                if self.l2:
                    layer.dW += self.dtype.type(self.l2) * layer.W
                if self.l1:
                    layer.dW += self.dtype.type(self.l1) * np.sign(layer.W)

    def loss(self, a, y):
        """Mean loss of outputs ``a`` against one-hot ``y``, plus the weight penalties."""
        value = self.loss_fn.value(a, y)
        if self.l1:
            value += self.l1 * sum(float(np.abs(layer.W).sum()) for layer in self.weighted)
        if self.l2:
            value += self.l2 / 2 * sum(float((layer.W * layer.W).sum()) for layer in self.weighted)
        return value

    def one_hot(self, labels):
        """Integer labels -> one-hot targets in this network's dtype."""
        return one_hot(labels, self.sizes[-1], self.dtype)

    # -- parameters --------------------------------------------------------

    @property
    def weighted(self):
        """The layers with weights: all of a dense network's; a CNN's convolution and dense layers."""
        return [layer for layer in self.layers if layer.W is not None]

    @property
    def params(self):
        """``[W1, b1, W2, b2, ...]``: the arrays the optimiser changes in place."""
        return [p for layer in self.weighted for p in (layer.W, layer.b)]

    @property
    def grads(self):
        """``[dW1, db1, dW2, db2, ...]`` from the last ``backward``, aligned with ``params``."""
        return [g for layer in self.weighted for g in (layer.dW, layer.db)]

    # -- using a trained network ---------------------------------------------

    def predict_proba(self, x, batch_size=2048):
        """Class probabilities (n, n_classes), computed in batches; layer caches untouched."""
        x, net = np.asarray(x), self._detached()
        out = [net.forward(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
        return np.concatenate(out) if out else np.empty((0, self.sizes[-1]), self.dtype)

    def predict(self, x, batch_size=2048):
        """Predicted class of each row of ``x``."""
        return self.predict_proba(x, batch_size).argmax(axis=1)

    def evaluate(self, x, labels, batch_size=2048):
        """``(loss, accuracy)`` on a data set, without touching the layer caches."""
        p = self.predict_proba(x, batch_size)
        loss = self.loss(p, self.one_hot(labels)) if len(p) else float("nan")
        return loss, float((p.argmax(axis=1) == labels).mean()) if len(p) else float("nan")

    def inspect(self, x, labels):
        """One forward and backward pass on ``x``, returned as a :class:`~explainer.passes.Pass`.

        The network's own layer caches (from the last training batch) are left
        as they were, so this is safe to call between ``backward`` and the
        optimiser's update. Every layer is run in the textbook order, so a
        convolution's full-resolution ``z``, ``a`` and ``delta`` are all there
        (pooling and flatten layers have no ``dW``, ``db``: None).
        """
        net = self._detached(fast=False)
        y = self.one_hot(labels)
        p = net.forward(x)
        net.backward(y)
        layers = net.layers
        return Pass(
            z=[layer.z for layer in layers],
            a=[layer.a for layer in layers],
            delta=[layer.delta for layer in layers],
            loss=net.loss(p, y),
            dW=[layer.dW for layer in layers],
            db=[layer.db for layer in layers],
        )

    def _blas(self):
        """A CNN's small products run on one BLAS thread each (see :mod:`explainer.lanes`); a dense network's as set."""
        return nullcontext() if self.specs is None else one_blas_thread()

    def _detached(self, fast=True):
        """A copy that shares ``W`` and ``b`` but has its own caches (``fast``: the fused order where exact)."""
        twin = object.__new__(Network)
        twin.__dict__.update(self.__dict__)
        twin.layers = []
        for layer in self.layers:
            copy = object.__new__(type(layer))
            copy.__dict__.update(layer.__dict__)
            if "_cols" in copy.__dict__:
                copy._cols = copy._kept = None  # its own patch buffers: a copy may run on another thread
            twin.layers.append(copy)
        twin._steps = plan(twin.layers, fast)
        return twin

    # -- description, saving and loading -----------------------------------

    def config(self):
        """The architecture as a JSON-able dict; ``Network(**net.config())`` rebuilds it."""
        cnn = {} if self.specs is None else {"layers": list(self.specs), "image_shape": list(self.image_shape)}
        return {
            "sizes": list(self.sizes),
            "activation": self.activation,
            "output": self.layers[-1].activation.name,
            "loss": self.loss_fn.name,
            "init": self.init,
            "l1": self.l1,
            "l2": self.l2,
            "seed": self.seed,
            "dtype": self.dtype.name,
            **cnn,
        }

    def save(self, path):
        """Save the architecture and weights to one ``.npz`` file (no pickle)."""
        arrays = {}
        for i, layer in enumerate(self.weighted):
            arrays[f"W{i}"], arrays[f"b{i}"] = layer.W, layer.b
        header = {"format": _FORMAT, "version": _FORMAT_VERSION, "config": self.config()}
        with open(path, "wb") as f:  # np.savez would append ".npz" to a name without it
            np.savez(f, header=np.array(json.dumps(header)), **arrays)

    @classmethod
    def load(cls, path):
        """Load a network written by :meth:`save`."""
        try:
            with np.load(path, allow_pickle=False) as f:
                header = json.loads(str(f["header"]))
                arrays = {k: f[k] for k in f.files if k != "header"}
        except FileNotFoundError:
            raise FileNotFoundError(f"no model file at {path}") from None
        except (OSError, ValueError, KeyError) as e:
            raise ValueError(
                f"{path} is not a model saved by explainer ({e}); save one with Network.save"
            ) from None
        if header.get("format") != _FORMAT or header.get("version", 0) > _FORMAT_VERSION:
            raise ValueError(
                f"{path} is a model of format {header.get('format')!r} version "
                f"{header.get('version')!r}; this explainer reads {_FORMAT!r} up to version "
                f"{_FORMAT_VERSION}: upgrade explainer to load it"
            )
        net = cls(**header["config"])
        for i, layer in enumerate(net.weighted):
            W, b = arrays[f"W{i}"], arrays[f"b{i}"]
            if W.shape != layer.W.shape or b.shape != layer.b.shape:
                raise ValueError(f"{path}: layer {i} weights have shape {W.shape}, expected {layer.W.shape}")
            layer.W[...], layer.b[...] = W, b
        return net

    def __repr__(self):
        c = self.config()
        layers = "" if self.specs is None else f"layers={c['layers']}, "
        return (
            f"Network({c['sizes']}, {layers}activation={c['activation']!r}, output={c['output']!r}, "
            f"loss={c['loss']!r}, dtype={c['dtype']!r})"
        )


def check_seed(seed, name="seed"):
    """``seed`` as an int, or a ValueError: a whole number from 0 to 2**32 - 1."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"{name} must be a whole number from 0 to {MAX_SEED} (2**32 - 1); got {seed!r}")
    return int(seed)


def check_settings(activation, output, loss, init, l1, l2, seed, dtype):
    """Check a network's settings, the same for :class:`Network` and :class:`~explainer.Experiment`.

    Returns the hidden and output :class:`~explainer.activations.Activation`,
    the loss, the initialiser's name, ``l1``, ``l2``, the seed and the dtype's name.
    """
    hidden, out, loss_fn = get_activation(activation), get_activation(output), get_loss(loss)
    init = get_initializer(init or default_initializer(hidden.name)).name
    try:
        dtype = np.dtype(dtype).name
    except TypeError:
        pass
    if dtype not in _DTYPES:
        raise ValueError(f"dtype must be one of 'float32', 'float64'; got {dtype!r}")
    for name, value in (("l1", l1), ("l2", l2)):
        if isinstance(value, bool) or not (isinstance(value, (int, float)) and np.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a number >= 0; got {value!r}")
    return hidden, out, loss_fn, init, float(l1), float(l2), check_seed(seed), dtype


def is_saved_network(path):
    """True if ``path`` is a file written by :meth:`Network.save` (read: its header only)."""
    try:
        with np.load(path, allow_pickle=False) as f:
            return json.loads(str(f["header"])).get("format") == _FORMAT
    except Exception:  # not a file, not a .npz, no header, ...: not one of ours
        return False


def _batch_problem(shape, n_in):
    """What is wrong with an input of ``shape`` for a network of ``n_in`` inputs, and how to fix it."""
    problem = f"x must be a batch of shape (batch, {n_in}), one row per image; got shape {shape}"
    if shape == (n_in,):
        return problem + ": for a single image, pass x[None] or x.reshape(1, -1)"
    if len(shape) > 2 and np.prod(shape[1:]) == n_in:
        return problem + ": flatten the images with x.reshape(len(x), -1)"
    return problem


def _check_sizes(sizes):
    try:
        sizes = [int(n) for n in sizes]
    except (TypeError, ValueError):
        raise ValueError(f"sizes must be a list of layer widths like [64, 32, 10]; got {sizes!r}") from None
    if len(sizes) < 2 or any(n < 1 for n in sizes):
        raise ValueError(
            f"sizes must list at least the input and output widths, all >= 1, like [64, 32, 10]; got {sizes!r}"
        )
    return sizes

