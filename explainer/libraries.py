"""The libraries :func:`explainer.compare.compare` trains: explainer, scikit-learn, torch and Keras 3.

Each runner is made with ``(experiment, data)``, trains one epoch per
``epoch()`` call (returning the mean training loss of its batches, and the
validation accuracy if it measured it) and answers ``predict(X) -> (n,)``
digits. ``skip(experiment)`` says why a library cannot run this experiment
("" if it can). How each one's settings are matched to explainer's is in
:mod:`explainer.compare`'s docstring.
"""

import importlib.util
import os
import sys
import warnings
from contextlib import contextmanager

import numpy as np

from .training import Trainer

__all__ = ["LIBRARIES"]




class _ExplainerRunner:
    name = "explainer"

    @staticmethod
    def version():
        from . import __version__

        return __version__

    @staticmethod
    def skip(experiment):
        return ""

    def __init__(self, experiment, data):
        self.net = self.model = experiment.network(data.X_train.shape[1], data.n_classes)
        self.trainer = Trainer(self.net, data, experiment.train_config())

    rows = False  # W is (n_out, n_in): z = W a + b

    def parameters(self):
        return [(layer.W.copy(), layer.b.copy()) for layer in self.net.weighted]

    def epoch(self):
        metrics = self.trainer.epoch()  # the trainer measures the validation accuracy itself
        return metrics["train_loss"], metrics.get("val_accuracy")

    def predict(self, X):
        return self.net.predict(X)


class _SklearnRunner:
    name = "scikit-learn"
    ACTIVATIONS = {"relu": "relu", "sigmoid": "logistic", "tanh": "tanh", "identity": "identity"}
    SOLVERS = {"sgd": ("sgd", 0.0), "momentum": ("sgd", 0.9), "adam": ("adam", 0.0)}  # (solver, momentum)

    @staticmethod
    def version():
        import sklearn

        return sklearn.__version__

    @classmethod
    def skip(cls, experiment):
        if experiment.activation not in cls.ACTIVATIONS:
            return f"MLPClassifier has no {experiment.activation} (it has {', '.join(cls.ACTIVATIONS)})"
        if experiment.optimizer not in cls.SOLVERS:
            return f"MLPClassifier has no {experiment.optimizer} (it has {', '.join(cls.SOLVERS)})"
        if (experiment.output, experiment.loss) != ("softmax", "cross_entropy") or experiment.l1:
            return "MLPClassifier always ends in softmax with cross-entropy, and has no L1 penalty"
        return ""

    def __init__(self, experiment, data):
        from sklearn.neural_network import MLPClassifier

        solver, momentum = self.SOLVERS[experiment.optimizer]
        self.model = MLPClassifier(
            hidden_layer_sizes=experiment.hidden, activation=self.ACTIVATIONS[experiment.activation],
            solver=solver, momentum=momentum, nesterovs_momentum=False, learning_rate_init=experiment.lr,
            alpha=experiment.l2 * experiment.batch_size,  # sklearn's penalty is alpha / 2 |W|^2 / batch size
            batch_size=experiment.batch_size, shuffle=True, random_state=experiment.seed)
        self.experiment, self.data, self.epochs_done = experiment, data, 0
        self.classes = np.arange(data.n_classes)

    def epoch(self):
        from sklearn.exceptions import ConvergenceWarning

        lr = self.experiment.lr * self.experiment.lr_decay ** self.epochs_done
        optimizer = getattr(self.model, "_optimizer", None)
        if optimizer is not None:  # the learning rate's decay: partial_fit reads it from its optimizer
            optimizer.learning_rate_init = optimizer.learning_rate = lr
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model.partial_fit(self.data.X_train, self.data.y_train, classes=self.classes)
        self.epochs_done += 1
        return self.model.loss_curve_[-1], None

    def predict(self, X):
        return self.model.predict(X)

    rows = True  # coefs_[l] is (n_in, n_out): z = a W + b

    def parameters(self):
        return [(W.copy(), b.copy()) for W, b in zip(self.model.coefs_, self.model.intercepts_)]


class _TorchRunner:
    name = "torch"

    @staticmethod
    def version():
        import torch

        return torch.__version__.split("+")[0]

    @staticmethod
    def skip(experiment):
        if importlib.util.find_spec("torch") is None:
            return "not installed (optional: pip install torch)"
        if (experiment.output, experiment.loss) != ("softmax", "cross_entropy") or experiment.l1:
            return "compared only with softmax and cross-entropy, without an L1 penalty"
        return ""

    def __init__(self, experiment, data):
        import torch
        from torch import nn

        self.torch, self.experiment, self.data, self.epochs_done = torch, experiment, data, 0
        torch.manual_seed(experiment.seed)
        activation = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.01), "sigmoid": nn.Sigmoid,
                      "tanh": nn.Tanh, "identity": nn.Identity}[experiment.activation]
        sizes = [data.X_train.shape[1], *experiment.hidden, data.n_classes]
        layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(n_in, n_out), activation()]
        self.model = nn.Sequential(*layers[:-1])  # logits out: cross_entropy applies the softmax
        self.weights = [p for name, p in self.model.named_parameters() if name.endswith("weight")]
        biases = [p for name, p in self.model.named_parameters() if name.endswith("bias")]
        groups = [{"params": self.weights, "weight_decay": experiment.l2}, {"params": biases, "weight_decay": 0.0}]
        lr = experiment.lr
        self.optimizer = {
            "sgd": lambda: torch.optim.SGD(groups, lr=lr),
            "momentum": lambda: torch.optim.SGD(groups, lr=lr, momentum=0.9),
            "rmsprop": lambda: torch.optim.RMSprop(groups, lr=lr, alpha=0.9, eps=1e-8),
            "adam": lambda: torch.optim.Adam(groups, lr=lr, betas=(0.9, 0.999), eps=1e-8),
        }[experiment.optimizer]()
        self.X = torch.from_numpy(data.X_train)  # (n, d) float32, shares memory
        self.y = torch.from_numpy(data.y_train)  # (n,) int64
        self.generator = torch.Generator().manual_seed(experiment.seed)

    def epoch(self):
        torch, e = self.torch, self.experiment
        for group in self.optimizer.param_groups:
            group["lr"] = e.lr * e.lr_decay ** self.epochs_done
        order = torch.randperm(len(self.X), generator=self.generator)
        total = 0.0
        for first in range(0, len(order), e.batch_size):
            batch = order[first:first + e.batch_size]
            loss = torch.nn.functional.cross_entropy(self.model(self.X[batch]), self.y[batch])
            self.optimizer.zero_grad()
            loss.backward()
            if e.l2:  # reported like explainer's and scikit-learn's loss: with the penalty weight decay stands for
                with torch.no_grad():
                    loss = loss + e.l2 / 2 * sum((W * W).sum() for W in self.weights)
            self.optimizer.step()
            total += loss.item() * len(batch)
        self.epochs_done += 1
        return total / len(order), None

    def predict(self, X):
        with self.torch.no_grad():
            return self.model(self.torch.from_numpy(X)).argmax(dim=1).numpy()

    rows = False  # Linear.weight is (n_out, n_in), as explainer's W

    def parameters(self):
        linear = [m for m in self.model if isinstance(m, self.torch.nn.Linear)]
        return [(m.weight.detach().numpy().copy(), m.bias.detach().numpy().copy()) for m in linear]


class _KerasRunner:
    """Keras 3 on its torch backend: ``Dense`` layers ending in logits, ``SparseCategoricalCrossentropy``
    from the logits, the L2 penalty as each kernel's ``L2(l2 / 2)`` regulariser (explainer's ``l2 / 2 |W|^2``;
    Keras's loss adds it, as the others' do), one ``fit`` of one epoch per call on batches in an order drawn
    from the seed, and the learning rate set before each epoch."""

    name = "keras"
    ACTIVATIONS = ("relu", "leaky_relu", "sigmoid", "tanh", "identity")

    @staticmethod
    def version():
        import keras

        return keras.__version__

    @staticmethod
    def skip(experiment):
        if importlib.util.find_spec("keras") is None:
            return "not installed (optional: pip install -e '.[keras]', Keras 3 on its torch backend)"
        if importlib.util.find_spec("torch") is None:
            return "its torch backend is not installed (optional: pip install torch)"
        backend = _keras_backend()
        if backend != "torch":
            return f"Keras was imported on its {backend} backend; it is compared on torch (KERAS_BACKEND=torch)"
        if (experiment.output, experiment.loss) != ("softmax", "cross_entropy") or experiment.l1:
            return "compared only with softmax and cross-entropy, without an L1 penalty"
        return ""

    def __init__(self, experiment, data):
        import keras

        self.experiment, self.data, self.epochs_done = experiment, data, 0
        e, layers = experiment, keras.layers
        seeds = iter(range(e.seed * 1000, e.seed * 1000 + 1000))  # each layer's initial weights: its own seed
        stack = [keras.Input((data.X_train.shape[1],))]
        for width in [*e.hidden, data.n_classes]:
            stack.append(layers.Dense(width, kernel_initializer=keras.initializers.GlorotUniform(seed=next(seeds)),
                                      kernel_regularizer=keras.regularizers.L2(e.l2 / 2) if e.l2 else None))
            stack.append({"relu": layers.ReLU, "leaky_relu": lambda: layers.LeakyReLU(negative_slope=0.01),
                          "sigmoid": lambda: layers.Activation("sigmoid"), "tanh": lambda: layers.Activation("tanh"),
                          "identity": lambda: layers.Activation("linear")}[e.activation]())
        self.model = keras.Sequential(stack[:-1])  # logits out: the loss applies the softmax
        optimizer = {
            "sgd": lambda: keras.optimizers.SGD(learning_rate=e.lr),
            "momentum": lambda: keras.optimizers.SGD(learning_rate=e.lr, momentum=0.9),
            "rmsprop": lambda: keras.optimizers.RMSprop(learning_rate=e.lr, rho=0.9, epsilon=1e-8),
            "adam": lambda: keras.optimizers.Adam(learning_rate=e.lr, beta_1=0.9, beta_2=0.999, epsilon=1e-8),
        }[e.optimizer]()
        self.model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        self.rng = np.random.default_rng(e.seed)

    def epoch(self):
        e = self.experiment
        self.model.optimizer.learning_rate.assign(e.lr * e.lr_decay ** self.epochs_done)
        order = self.rng.permutation(len(self.data.X_train))  # the batches' order, from the seed
        with _quiet():
            history = self.model.fit(self.data.X_train[order], self.data.y_train[order], batch_size=e.batch_size,
                                     epochs=1, shuffle=False, verbose=0)
        self.epochs_done += 1
        return history.history["loss"][-1], None

    def predict(self, X):
        with _quiet():
            return self.model.predict(X, batch_size=1024, verbose=0).argmax(axis=1)

    rows = True  # a Dense layer's kernel is (n_in, n_out): z = a W + b

    def parameters(self):
        import keras

        return [tuple(np.asarray(w) for w in layer.get_weights()) for layer in self.model.layers
                if isinstance(layer, keras.layers.Dense)]


@contextmanager
def _quiet():
    """Keras 3.15's torch backend warns about NumPy 2's ``copy`` keyword on every batch: not the student's concern."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def _keras_backend():
    """The backend Keras runs on: torch, set before its first import; whatever it already has after."""
    if "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = "torch"  # read once, when keras is first imported
    import keras

    return keras.backend.backend()


LIBRARIES = {runner.name: runner for runner in (_ExplainerRunner, _SklearnRunner, _TorchRunner, _KerasRunner)}
