"""Optimisers: how the gradients become an update of the parameters.

Every optimiser has one method, ``update(params, grads)``: it changes each
parameter array in place and returns the updates it applied (``new - old``,
one array per parameter), which the trace records as update norms.

With ``g`` the gradient of one parameter ``w`` and ``lr`` the learning rate::

    SGD       w <- w - lr g
    momentum  v <- beta v - lr g;                         w <- w + v
    RMSprop   s <- rho s + (1 - rho) g^2;                 w <- w - lr g / (sqrt(s) + eps)
    Adam      m <- beta1 m + (1 - beta1) g
              v <- beta2 v + (1 - beta2) g^2
              m_hat = m / (1 - beta1^t), v_hat = v / (1 - beta2^t)
              w <- w - lr m_hat / (sqrt(v_hat) + eps)

State (``v``, ``s``, ``m``) is created on the first call, with the shape and
dtype of each parameter.

``tex()`` writes the same update as LaTeX lines with this optimiser's own
numbers (its learning rate, its betas, epsilon, and for Adam the step count
``t``), with ``g`` for the gradient: what the scenes show for a run.

Every ``FLUSH_EVERY`` steps, values smaller than the smallest normal float
(about 1e-38 in float32) are set to 0, in the parameters and in the state.
Without it, Adam's ``m`` for pixels that are almost never lit shrinks by 0.9
each step until it sticks among the subnormal floats, where x86 arithmetic is
up to 100 times slower: late MNIST epochs took twice as long. Changing a value
below 1e-38 to 0 changes nothing a lecture could show.
"""

import numpy as np

from .tables import lookup

__all__ = ["Optimizer", "SGD", "Momentum", "RMSprop", "Adam", "OPTIMIZERS", "make_optimizer", "FLUSH_EVERY",
           "tex_number", "default_lr", "lr_advice"]

FLUSH_EVERY = 100


def tex_number(x):
    r"""A number as LaTeX, as short as ``:g`` writes it: ``0.001``, ``0.9``, ``10^{-8}``, ``3 \times 10^{-5}``.

    >>> tex_number(1e-8), tex_number(0.00003), tex_number(0.05)
    ('10^{-8}', '3 \\times 10^{-5}', '0.05')
    """
    text = f"{x:g}"
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    power = f"10^{{{int(exponent)}}}"
    return power if mantissa == "1" else rf"{mantissa} \times {power}"


class Optimizer:
    """Base class: holds the learning rate and the step count ``t``."""

    name = "base"
    description = ""
    # the learning rate a run takes when none is given, and the range that usually trains (docs/training.md):
    # plain gradient steps need rates about 100 times larger than Adam's or RMSprop's normalised ones
    default_lr = None
    usual_lr = None

    def __init__(self, lr):
        if not (isinstance(lr, (int, float)) and np.isfinite(lr) and lr > 0):
            raise ValueError(f"lr (the learning rate) must be a positive number; got {lr!r}")
        self.lr = float(lr)
        self.t = 0

    def update(self, params, grads):
        """Apply one step in place; return the list of updates (new - old)."""
        self.t += 1
        updates = [self._step(i, w, g) for i, (w, g) in enumerate(zip(params, grads))]
        if self.t % FLUSH_EVERY == 0:
            for array in [*params, *self._slots()]:
                np.copyto(array, 0, where=np.abs(array) < np.finfo(array.dtype).tiny)
        return updates

    def _slots(self):
        """The state arrays (momenta, running averages) of every parameter."""
        return []

    def _step(self, i, w, g):
        raise NotImplementedError

    def state(self):
        """The optimiser's settings as a JSON-able dict (for the trace)."""
        return {"name": self.name, "lr": self.lr}

    def tex(self, t=None):
        """The update as LaTeX lines, then this optimiser's numbers (three to a line); ``t``: the step count of the
        update shown (1 for the first; default: the next update's, ``self.t + 1``)."""
        t = self.t + 1 if t is None else t
        symbols = {"lr": r"\eta", "beta": r"\beta", "rho": r"\rho", "beta1": r"\beta_1", "beta2": r"\beta_2",
                   "eps": r"\epsilon"}
        numbers = [f"{symbols[k]} = {tex_number(v)}" for k, v in self.state().items() if k != "name"]
        numbers += self._tex_step(t)
        lines = [r",\quad ".join(numbers[i : i + 3]) for i in range(0, len(numbers), 3)]  # 3 to a line
        return (*self._tex_rules(t), *lines)

    def _tex_rules(self, t):
        raise NotImplementedError

    def _tex_step(self, t):
        return []

    def __repr__(self):
        args = ", ".join(f"{k}={v}" for k, v in self.state().items() if k != "name")
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    name = "sgd"
    description = "w <- w - lr g"
    default_lr = 0.1
    usual_lr = (0.01, 0.5)

    def _step(self, i, w, g):
        update = g * w.dtype.type(-self.lr)
        w += update
        return update

    def _tex_rules(self, t):
        return (r"W \leftarrow W - \eta\, g",)


class Momentum(Optimizer):
    name = "momentum"
    description = "v <- beta v - lr g; w <- w + v"
    default_lr = 0.01
    usual_lr = (0.001, 0.1)

    def __init__(self, lr, beta=0.9):
        super().__init__(lr)
        self.beta = beta
        self.v = {}

    def _step(self, i, w, g):
        v = self.v.get(i)
        if v is None:
            v = self.v[i] = np.zeros_like(w)
        v *= self.beta
        v -= self.lr * g
        w += v
        return v.copy()

    def _tex_rules(self, t):
        return (r"v \leftarrow \beta\, v - \eta\, g", r"W \leftarrow W + v")

    def _slots(self):
        return list(self.v.values())

    def state(self):
        return {**super().state(), "beta": self.beta}


class RMSprop(Optimizer):
    name = "rmsprop"
    description = "s <- rho s + (1-rho) g^2; w <- w - lr g / (sqrt(s) + eps)"
    default_lr = 1e-3
    usual_lr = (1e-4, 3e-3)

    def __init__(self, lr, rho=0.9, eps=1e-8):
        super().__init__(lr)
        self.rho, self.eps = rho, eps
        self.s = {}

    def _step(self, i, w, g):
        s = self.s.get(i)
        if s is None:
            s = self.s[i] = np.zeros_like(w)
        s *= self.rho
        s += (1 - self.rho) * g * g
        update = g / (np.sqrt(s) + self.eps)
        update *= -self.lr
        w += update
        return update

    def _tex_rules(self, t):
        return (r"s \leftarrow \rho\, s + (1 - \rho)\, g \odot g",
                r"W \leftarrow W - \eta\, g \oslash \left(\sqrt{s} + \epsilon\right)")

    def _slots(self):
        return list(self.s.values())

    def state(self):
        return {**super().state(), "rho": self.rho, "eps": self.eps}


class Adam(Optimizer):
    name = "adam"
    description = "bias-corrected momentum m over RMS v: w <- w - lr m_hat / (sqrt(v_hat) + eps)"
    default_lr = 1e-3
    usual_lr = (1e-4, 3e-3)

    def __init__(self, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(lr)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m, self.v = {}, {}

    def _step(self, i, w, g):
        if i not in self.m:
            self.m[i], self.v[i] = np.zeros_like(w), np.zeros_like(w)
        m, v = self.m[i], self.v[i]
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * g * g
        # fold both bias corrections into one step size and one epsilon:
        # lr m_hat / (sqrt(v_hat) + eps) = lr_t m / (sqrt(v) + eps_t)
        c1 = 1 - self.beta1**self.t
        c2 = 1 - self.beta2**self.t
        lr_t = self.lr * c2**0.5 / c1
        eps_t = self.eps * c2**0.5
        update = np.sqrt(v)
        update += eps_t
        np.divide(m, update, out=update)
        update *= -lr_t
        w += update
        return update

    def _tex_rules(self, t):
        return (r"m \leftarrow \beta_1 m + (1 - \beta_1)\, g", r"v \leftarrow \beta_2 v + (1 - \beta_2)\, g \odot g",
                r"\hat m = \frac{m}{1 - \beta_1^{\,t}},\quad \hat v = \frac{v}{1 - \beta_2^{\,t}}",
                r"W \leftarrow W - \eta\, \hat m \oslash \left(\sqrt{\hat v} + \epsilon\right)")

    def _tex_step(self, t):
        return [f"t = {t}"]

    def _slots(self):
        return [*self.m.values(), *self.v.values()]

    def state(self):
        return {**super().state(), "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}


OPTIMIZERS = {cls.name: cls for cls in [SGD, Momentum, RMSprop, Adam]}


def default_lr(name):
    """The learning rate ``name`` takes when none is given: 0.1 for SGD, 0.01 for momentum, 0.001 for the others.

    >>> default_lr("sgd"), default_lr("adam")
    (0.1, 0.001)
    """
    return lookup(OPTIMIZERS, name, "optimizer").default_lr


def lr_advice(name, lr):
    """A one-line warning when ``lr`` is outside the range ``name`` usually trains with, else None.

    >>> lr_advice("sgd", 0.001)
    'sgd usually needs a learning rate from 0.01 to 0.5 (its default is 0.1); with 0.001 it may learn very slowly'
    >>> lr_advice("adam", 0.001) is None
    True
    """
    cls = lookup(OPTIMIZERS, name, "optimizer")
    low, high = cls.usual_lr
    if low <= lr <= high:
        return None
    risk = "learn very slowly" if lr < low else "diverge (the loss blows up)"
    return (f"{name} usually needs a learning rate from {low:g} to {high:g} (its default is {cls.default_lr:g}); "
            f"with {lr:g} it may {risk}")


def make_optimizer(name, lr, **options):
    """Build an optimiser by name: ``make_optimizer("adam", lr=1e-3)``."""
    if isinstance(name, Optimizer):
        return name
    return lookup(OPTIMIZERS, name, "optimizer")(lr, **options)
