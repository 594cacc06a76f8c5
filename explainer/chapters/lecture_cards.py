"""The lecture's cards: what TitleCard and Recap write, from the trace, without Manim.

``explainer lecture`` builds one lecture from one run; TitleCard opens it (the
title, the run it is told with, the chapters in order) and Recap closes it
(the run's own formulas, in order, and how it ended). Every number here is
read through the trace reader, as ``explainer info`` prints it: the settings
from ``trace.run``, how far the run got from ``trace.n_steps`` and
``trace.n_snapshots``, the result from ``trace.evaluation`` and
``trace.epochs``::

    story = card_story(trace)
    story.rows                 # (("data", "8×8 handwritten digits ..."), ("network", "64 → 128 → 64 → 10 ..."), ...)
    story.chapters             # (("OneNeuron", "one of the first layer's 128 units ..."), ...): lecture order
    story.forward, story.loss  # the Recap's formulas, as LaTeX lines (explainer.formulas at story.step)
    story.backward, story.update
    story.result               # "test accuracy 98.1%: 352 of 359 test digits right"
    story.notes["title"]       # the speaker notes of each phase: plain sentences, Unicode math

The notes go to reveal.js as Markdown, so they hold no ``_``, ``*``,
backticks or LaTeX (:func:`plain` checks).
"""

from dataclasses import dataclass

import numpy as np

from ..formulas import Formulas, formulas_of

__all__ = ["CardStory", "card_story", "CHAPTERS", "TITLE", "dataset_words", "layer_words", "optimizer_words",
           "loss_words", "unicode_number", "plain",
           "first_of_each_class", "activation_tex", "gradient_tex"]

TITLE = "How a neural network learns"
# the lecture's chapters, in order (`explainer lecture` builds them so; explainer.cli.render.SCENES lists them so)
CHAPTERS = ("OneNeuron", "ForwardPass", "GradientDescent", "Backprop", "ChainRule", "MiniBatches",
            "FirstLayerFilters", "TrainingStory")

_DATASETS = {"digits": "handwritten digits from scikit-learn", "mnist": "MNIST handwritten digits"}
_ACTIVATIONS = {"relu": "ReLU", "leaky_relu": "leaky ReLU"}
_LOSSES = {"cross_entropy": "cross-entropy", "mse": "mean squared error"}
_OPTIMIZERS = {"sgd": "plain gradient descent (SGD)", "momentum": "gradient descent with momentum",
               "rmsprop": "RMSprop", "adam": "Adam"}
_SYMBOLS = {"lr": "η", "beta": "β", "rho": "ρ", "beta1": "β₁", "beta2": "β₂", "eps": "ε"}
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


@dataclass(frozen=True)
class CardStory:
    """What TitleCard and Recap show of one run (see the module's docstring)."""

    title: str
    subtitle: str  # under the title: "told with one real training run of 1200 steps: ..."
    rows: tuple  # ((label, value), ...): the run's settings and result, as TitleCard lists them
    chapters: tuple  # ((scene name, what it shows), ...), in lecture order
    probes: tuple  # the first probe digit of each class present: TitleCard shows them
    step: int  # the snapshot whose formulas Recap writes (the last, unless another is chosen)
    formulas: Formulas  # the run's formulas at that step
    forward: tuple  # LaTeX lines: z = W a + b, then a = f(z) with the run's activations
    loss: tuple  # one sample's loss, then the batch's cost (with the weight penalty)
    backward: tuple  # delta^L, the backward rule, dL/dW (its penalty term on a line of its own)
    update: tuple  # the optimiser's rule, its numbers at this step, and the decay's eta if any
    update_heading: str  # what the update lines are: "Adam's update at step 1199 (g = ∂L/∂W)"
    test_accuracy: float  # None if the run did not finish
    n_test: int  # test digits (0 if none)
    n_right: int  # of which the network got right
    train_loss: float  # the last epoch's mean training loss (None before the first epoch ended)
    result: str  # "test accuracy 98.1%: 352 of 359 test digits right", or why there is no test
    result_lines: tuple  # the same in two parts: ("test accuracy 98.1%", "352 of 359 test digits right")
    closing: str  # the lecture's last sentence
    notes: dict  # phase -> speaker notes: title, contents, forward, backward, update, result


def card_story(trace, step=None):
    """What the lecture's cards show of ``trace``; Recap's formulas at snapshot ``step`` (default: the last)."""
    run, ev = trace.run, trace.evaluation
    if step is None:
        step = int(trace.snapshot_steps[-1]) if trace.n_snapshots else max(trace.n_steps - 1, 0)
    f = formulas_of(trace, step)
    n_test = len(ev.labels) if ev is not None else 0
    n_right = int(np.trace(ev.confusion)) if ev is not None else 0
    train_loss = float(trace.epochs["train_loss"][-1]) if trace.n_epochs else None
    story = dict(
        title=TITLE, subtitle=_subtitle(trace), rows=_rows(trace, ev, n_test, n_right, train_loss),
        chapters=_chapters(trace), probes=first_of_each_class(trace.probe_labels), step=int(step), formulas=f,
        forward=(f.forward, activation_tex(f.activations)), loss=(f.loss, f.cost),
        backward=(f.output_delta, f.backward, *gradient_tex(f)),
        update=(*f.update, *((f.learning_rate,) if run.training.lr_decay != 1 else ())),
        update_heading=f"{optimizer_words(f.optimizer_name, short=True)}'s update at step {step}  (g = ∂L/∂W)",
        test_accuracy=ev.test_accuracy if ev is not None else None, n_test=n_test, n_right=n_right,
        train_loss=train_loss, result=_result(trace, ev, n_test, n_right),
        result_lines=_result_lines(trace, ev, n_test, n_right),
        closing=(f"These lines, run {trace.n_steps} times on batches of {run.training.batch_size} digits, "
                 "are all the network did to learn to read."),
    )
    story["notes"] = _notes(trace, story)
    return CardStory(**story)


# -- words for the run's settings ------------------------------------------------------------------------


def dataset_words(trace):
    """The data set in words, its image size from the trace: "8×8 handwritten digits from scikit-learn"."""
    h, w = trace.image_shape
    return f"{h}×{w} {_DATASETS.get(trace.dataset, trace.dataset.replace('_', ' ') + ' images')}"


def layer_words(name):
    """An activation's name as a lecture says it: ReLU, leaky ReLU, sigmoid, softmax, ..."""
    return _ACTIVATIONS.get(name, name.replace("_", " "))


def loss_words(name):
    return _LOSSES.get(name, name.replace("_", " "))


def optimizer_words(name, short=False):
    """The optimiser in words; ``short``: its name alone (SGD, Adam, ...)."""
    if short:
        return {"sgd": "SGD", "momentum": "Momentum"}.get(name, _OPTIMIZERS.get(name, name))
    return _OPTIMIZERS.get(name, name)


def unicode_number(x):
    """A number as short as ``:g`` writes it, with a power of ten in Unicode: 0.001, 10⁻⁸, 3 × 10⁻⁵."""
    text = f"{x:g}"
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    power = "10" + str(int(exponent)).translate(_SUPERSCRIPT)
    return power if mantissa == "1" else f"{mantissa} × {power}"


def plain(text):
    """Whether ``text`` is plain for reveal.js's Markdown: no ``_``, ``*``, backticks or backslashes."""
    return not any(c in text for c in "_*`\\")


def first_of_each_class(labels):
    """The first probe index of every class present, in class order."""
    labels = np.asarray(labels)
    return tuple(int(np.flatnonzero(labels == c)[0]) for c in np.unique(labels))


def _count(n, word):
    """"1 epoch", "30 epochs"."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def _arrow(sizes):
    return " → ".join(map(str, sizes))


def _parameters(sizes):
    """Weights and biases of the network: n_out (n_in + 1) per layer."""
    return sum(n_out * (n_in + 1) for n_in, n_out in zip(sizes[:-1], sizes[1:]))


def _activations(run):
    """"ReLU, ReLU, softmax": each layer's activation, as the run has them."""
    return ", ".join(layer_words(a) for a in run.activations)


def _learning_rate(training):
    """"0.001" or "0.001, × 0.9 after each epoch"."""
    words = unicode_number(training.lr)
    return words if training.lr_decay == 1 else f"{words}, × {unicode_number(training.lr_decay)} after each epoch"


def _penalty(run):
    """The weight penalty in words: ", L2 penalty 0.0005", or ""."""
    terms = [f"{name} penalty {unicode_number(value)}" for name, value in (("L2", run.l2), ("L1", run.l1)) if value]
    return f", {' and '.join(terms)}" if terms else ""


def _subtitle(trace):
    return f"told with one real training run of {trace.n_steps} steps: every number shown comes from it"


def _rows(trace, ev, n_test, n_right, train_loss):
    """TitleCard's table: the run's settings, how much was recorded, and how it ended."""
    run, training = trace.run, trace.run.training
    steps = (f"{trace.n_steps} steps" if trace.n_steps == run.total_steps
             else f"{trace.n_steps} of {run.total_steps} steps ({trace.status})")
    rows = (
        ("data", f"{dataset_words(trace)}: {trace.sizes[0]} pixels, {run.n_classes} classes"),
        ("network", f"{_arrow(trace.sizes)}  ({_activations(run)}), {_parameters(trace.sizes):,} parameters"),
        ("loss", f"{loss_words(run.loss)}{_penalty(run)}"),
        ("optimiser", f"{optimizer_words(training.optimizer)}, learning rate {_learning_rate(training)}"),
        ("training", f"batches of {training.batch_size}, {_count(training.epochs, 'epoch')}: {steps}"),
        ("recorded", f"{trace.n_snapshots} snapshots of every weight, {len(trace.probe_labels)} probe digits"),
        ("result", _result(trace, ev, n_test, n_right)),
    )
    if train_loss is not None:
        rows += (("final loss", f"{train_loss:.3f}, the mean training loss of the last epoch"),)
    return rows


def _result(trace, ev, n_test, n_right):
    return ": ".join(_result_lines(trace, ev, n_test, n_right))


def _result_lines(trace, ev, n_test, n_right):
    """How the run ended, in two parts: ("test accuracy 98.1%", "352 of 359 test digits right")."""
    if ev is None:
        return ("no test", f"the run stopped at step {trace.n_steps} of {trace.run.total_steps}")
    return (f"test accuracy {ev.test_accuracy:.1%}", f"{n_right:,} of {n_test:,} test digits right")


def _chapters(trace):
    """The chapters in lecture order, each with one line saying what it shows, with the run's numbers."""
    run = trace.run
    n_in, first = trace.sizes[0], trace.sizes[1]
    what = {
        "OneNeuron": f"one of the first layer's {first} units weighs the {n_in} pixels and fires",
        "ForwardPass": "one probe digit through the network: z = W a + b, layer by layer",
        "GradientDescent": "a digit's loss, the batch's mean, the landscape the weights crossed",
        "Backprop": f"the error flows back: δ in every layer, then {optimizer_words(run.training.optimizer, True)}'s"
                    " update",
        "ChainRule": "one weight's gradient, factor by factor, along one path",
        "MiniBatches": f"every digit pulls its own way; a step follows the mean of {run.training.batch_size}",
        "FirstLayerFilters": f"the first layer's {first} weight images, from noise to strokes",
        "TrainingStory": f"loss and accuracy over {trace.n_steps} steps, then the test set",
    }
    return tuple((name, what[name]) for name in CHAPTERS)


# -- the Recap's formulas ----------------------------------------------------------------------------


def activation_tex(activations):
    r"""``a^{l} = f(z^{l})`` with the run's activations: the hidden layers' and the output's."""
    output = rf"a^{{L}} = \mathrm{{{_tex_name(activations[-1])}}}(z^{{L}})"
    if len(activations) == 1:
        return output
    return rf"a^{{l}} = \mathrm{{{_tex_name(activations[0])}}}(z^{{l}})\ \ (l < L),\quad {output}"


def _tex_name(name):
    return layer_words(name).replace(" ", r"\ ")


def gradient_tex(f):
    """dL/dW as the run computed it: the batch's mean, and the weight penalties' terms on a line of their own
    (as Backprop writes it), so that neither is shrunk below the legible size."""
    if not f.penalty_gradient:
        return (f.weight_gradient,)
    return (f.weight_gradient.removesuffix(f.penalty_gradient), r"\qquad {}" + f.penalty_gradient)  # {}: "+" binary


# -- what the teacher says -----------------------------------------------------------------------------


def _notes(trace, s):
    """The speaker notes of every phase, with the numbers on screen (plain text, Unicode math)."""
    run, f, training = trace.run, s["formulas"], trace.run.training
    h, w = trace.image_shape
    rate = unicode_number(training.lr)
    decay = ("" if training.lr_decay == 1
             else f", multiplied by {unicode_number(training.lr_decay)} after every epoch")
    if s["test_accuracy"] is None:
        ending = f"This run stopped at step {trace.n_steps} of {run.total_steps}, so it has no test result."
    else:
        ending = (f"At the end it read {s['test_accuracy']:.1%} of {s['n_test']:,} test digits right, digits it "
                  "had never seen.")
    numbers = ", ".join(f"{_SYMBOLS.get(k, k)} = {unicode_number(v)}" for k, v in f.hyperparameters.items()
                        if k != "name")
    output = ("δᴸ = aᴸ − y, the predicted probabilities minus the one-hot target"
              if f.output_delta == r"\delta^{L} = a^{L} - y"
              else f"δᴸ, the output error of {layer_words(f.output)} with {loss_words(f.loss_name)}")
    notes = {
        "title": (f"Everything in this lecture comes from one real training run. A network of "
                  f"{_arrow(trace.sizes)} units learned to read {h}×{w} images of handwritten digits, "
                  f"using {loss_words(run.loss)} as its loss and {optimizer_words(training.optimizer)} with "
                  f"learning rate {rate}{decay}. It took {trace.n_steps} steps in batches of "
                  f"{training.batch_size}, and {trace.n_snapshots} snapshots of it were kept. {ending}"),
        "contents": (f"We will follow it in {len(CHAPTERS)} chapters: first one neuron, then a whole forward pass, "
                     "then how the loss tells the weights which way to go. Backpropagation and the chain rule "
                     "compute that direction, mini-batches make it cheap, and the last two chapters watch the "
                     "filters and the accuracy change over the whole run."),
        "forward": ("The forward pass is one rule repeated: z = W a + b, then an activation. "
                    f"{_activation_note(run)} The loss is {loss_words(run.loss)}, averaged over a "
                    f"batch of N = {training.batch_size} digits{_penalty_note(run)}."),
        "backward": (f"Backward, the error starts at the output: {output}. Each layer passes it back through "
                     "the transposed weights, times the slope of its activation. Each weight's gradient is its "
                     f"layer's error times the activation feeding it, averaged over the {training.batch_size} "
                     "digits of the batch."),
        "update": (f"Then {optimizer_words(f.optimizer_name)} moves every weight a little against its gradient. "
                   f"At step {s['step']} its numbers were {numbers}. That is one step: the network took "
                   f"{trace.n_steps} of them."),
        "result": (f"{ending} {s['closing']}"
                   + (f" Its mean training loss in the last epoch was {s['train_loss']:.3f}."
                      if s["train_loss"] is not None else "")),
    }
    return notes


def _activation_note(run):
    out = layer_words(run.activations[-1])
    if run.n_layers == 1:
        return f"This network has no hidden layer: its one layer uses {out}."
    return f"Here the hidden layers use {layer_words(run.activations[0])} and the output uses {out}."


def _penalty_note(run):
    words = _penalty(run)
    return f", plus a small weight penalty ({words.removeprefix(', ')})" if words else ""
