"""The formulas a run used, as LaTeX with its numbers: what the scenes write on screen.

Every formula comes from the table entry the run was built from (its
activations, its loss, the pair of output activation and loss, its
optimiser), so a scene cannot write a formula the run did not use::

    f = formulas_of(trace, step=120)
    f.output_delta      # 'a^{L} - y' for softmax with cross-entropy, the Jacobian form with mse
    f.update            # Adam's three lines, then 'eta = 0.001, beta_1 = 0.9, ..., t = 121'
    f.lr                # the learning rate in force at step 120 (after any decay)
    f.optimizer(step)   # an optimiser with exactly those numbers

One vector convention throughout, as in ``z = W a + b``: a sample's ``z``, ``a``
and ``delta`` are column vectors, so ``delta^l = (W^{l+1})^T delta^{l+1} * f'(z^l)``
and ``dW^l = delta^l (a^{l-1})^T``. (The code keeps a batch's samples as rows,
``z = a_prev @ W.T + b``: the same numbers.) Layers are numbered from 1 on
screen, the output layer being ``L``.
"""

from dataclasses import dataclass

from .activations import get_activation
from .losses import get_loss
from .optimizers import make_optimizer, tex_number

__all__ = ["Formulas", "formulas_of", "formulas_for"]

FORWARD = r"z^{l} = W^{l} a^{l-1} + b^{l}"
BACKWARD = r"\delta^{l} = \left(W^{l+1}\right)^{\mathsf T} \delta^{l+1} \odot f'(z^{l})"


@dataclass(frozen=True)
class Formulas:
    """The formulas of one run at one step, as LaTeX (see the module's docstring)."""

    step: int
    lr: float  # the learning rate in force at this step
    optimizer_name: str
    hyperparameters: dict  # the optimiser's settings at this step: lr, betas, eps...
    batch_size: int
    activations: tuple  # per layer (1 to L): the activation's name
    output: str  # the output activation's name
    loss_name: str
    l1: float
    l2: float
    forward: str  # z^l = W^l a^{l-1} + b^l
    loss: str  # one sample's loss
    cost: str  # the mean over the batch, with the weight penalties if any
    output_delta: str  # delta^L
    backward: str  # delta^l from delta^{l+1}
    weight_gradient: str  # dL/dW^l over the batch (with the penalties' terms)
    penalty_gradient: str  # the penalties' terms of dL/dW^l alone (" + 0.001\\, W^{l}"), or ""
    bias_gradient: str
    digit_weight_gradient: str  # one sample's share: delta^l (a^{l-1})^T
    update: tuple  # the optimiser's rule as lines, then its numbers (three to a line)
    learning_rate: str  # eta at this step, and how the decay made it

    def activation(self, layer):
        """``(name, f(z), f'(z))`` of layer ``layer`` (1 to L, as on screen) as LaTeX."""
        if not 1 <= layer <= len(self.activations):
            raise ValueError(f"layer must be 1 to {len(self.activations)} (layers are numbered from 1 on "
                             f"screen); got {layer!r}")
        entry = get_activation(self.activations[layer - 1])
        return entry.name, entry.tex, entry.derivative_tex

    def optimizer(self):
        """A fresh optimiser with exactly the numbers shown (its step count set for the update shown)."""
        options = {k: v for k, v in self.hyperparameters.items() if k not in ("name", "lr")}
        opt = make_optimizer(self.optimizer_name, self.lr, **options)
        opt.t = self.step  # the update shown is its (step + 1)-th
        return opt


def formulas_of(trace, step):
    """The formulas of ``trace``'s run at training step ``step`` (any step of the run)."""
    return formulas_for(trace.run, step, trace.learning_rate(step))


def formulas_for(run, step, lr):
    """The formulas of the run described by ``run`` (a :class:`~explainer.trace.run.Run`) at ``step``,
    where the learning rate was ``lr``."""
    loss = get_loss(run.loss)
    out = get_activation(run.activations[-1])
    optimizer = make_optimizer(run.training.optimizer, lr)
    penalty_cost, penalty_grad = _penalties(run.l1, run.l2)
    n = run.training.batch_size
    return Formulas(
        step=int(step), lr=float(lr), optimizer_name=optimizer.name, hyperparameters=optimizer.state(),
        batch_size=n, activations=tuple(run.activations), output=out.name, loss_name=loss.name,
        l1=run.l1, l2=run.l2,
        forward=FORWARD,
        loss=rf"\ell = {loss.tex}",
        cost=rf"L = \frac{{1}}{{N}} \sum_{{n=1}}^{{N}} \ell_n{penalty_cost},\quad N = {n}",
        output_delta=rf"\delta^{{L}} = {_output_delta(loss, out)}",
        backward=BACKWARD,
        weight_gradient=(rf"\frac{{\partial L}}{{\partial W^{{l}}}} = \frac{{1}}{{N}} \sum_{{n=1}}^{{N}} "
                         rf"\delta^{{l}}_n \left(a^{{l-1}}_n\right)^{{\mathsf T}}{penalty_grad}"),
        penalty_gradient=penalty_grad,
        bias_gradient=r"\frac{\partial L}{\partial b^{l}} = \frac{1}{N} \sum_{n=1}^{N} \delta^{l}_n",
        digit_weight_gradient=r"\delta^{l} \left(a^{l-1}\right)^{\mathsf T}",
        update=optimizer.tex(t=int(step) + 1),
        learning_rate=_learning_rate(run, step, lr),
    )


def _learning_rate(run, step, lr):
    """eta at ``step``: the run's, or how the decay made it from the first epoch's."""
    if run.training.lr_decay == 1:
        return rf"\eta = {tex_number(lr)}"
    epoch = run.epoch_of(step)
    return (rf"\eta = {tex_number(run.training.lr)} \times {tex_number(run.training.lr_decay)}^{{{epoch}}} "
            rf"= {tex_number(float(f'{lr:.4g}'))}\quad \text{{(epoch {epoch + 1})}}")


def _output_delta(loss, out):
    """delta^L of this output activation with this loss: the worked-out pair, or the chain rule through f."""
    shortcut = loss.output_delta.get(out.name)
    if shortcut is not None:
        return shortcut.tex
    grad = loss.gradient_tex
    g = rf"\left({grad}\right)" if any(op in grad for op in ("+", "-", r"\oslash")) else grad
    delta = out.backward_tex.format(g=g, l="L")
    return delta if "f'" not in delta else rf"{delta},\quad f'(z) = {out.derivative_tex}"


def _penalties(l1, l2):
    """The weight penalties' terms in the cost and in dL/dW, or empty strings."""
    cost, grad = "", ""
    if l2:
        cost += rf" + \frac{{{tex_number(l2)}}}{{2}} \sum_{{l,j,k}} \left(W^{{l}}_{{jk}}\right)^2"
        grad += rf" + {tex_number(l2)}\, W^{{l}}"
    if l1:
        cost += rf" + {tex_number(l1)} \sum_{{l,j,k}} \left|W^{{l}}_{{jk}}\right|"
        grad += rf" + {tex_number(l1)}\, \mathrm{{sign}}(W^{{l}})"
    return cost, grad
