"""Speaker notes of FirstLayerFilters and TrainingStory: every phase has a few plain sentences (Markdown, no
LaTeX, no underscores) that say its numbers as the screen shows them: the silent units named, the final loss,
the probe digits right, the test accuracy. The numbers are worked out here from the trace, apart from the
scenes. (Their other tests are in tests/test_scenes.py.)"""

import numpy as np
import pytest
from scene_check import phases, texts

from explainer import Experiment, fit, run
from explainer.data import load_dataset
from explainer.figures import smooth
from explainer.trace import Trace, TraceRecorder


def tiny_run(path, recorder_class=TraceRecorder, dead=(), **settings):
    """The 8x8 digits, 6 hidden units, one epoch (and ``settings``); the units ``dead`` get a bias of -100, so
    they never fire."""
    experiment = Experiment.preset("digits", hidden=(6,), epochs=1, **settings)
    with recorder_class(path, schedule="every:10", n_probe=10) as recorder:
        if dead:
            net = experiment.network(64, 10)
            net.layers[0].b[list(dead)] = -100.0  # z < 0 for every digit
            fit(net, load_dataset("digits", seed=experiment.seed), experiment.train_config(), recorder=recorder,
                progress=False)
        else:
            run(experiment, recorder=recorder, progress=False)
    return Trace.open(path)


class Untested(TraceRecorder):
    """A recorder that never writes the test set's evaluation (as a run stopped before its end)."""

    def finish(self, evaluation):
        pass


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return tiny_run(tmp_path_factory.mktemp("notes") / "tiny.zarr")


@pytest.fixture(scope="module")
def sigmoid(tmp_path_factory):  # a sigmoid is never exactly 0: no silent unit
    return tiny_run(tmp_path_factory.mktemp("notes") / "sigmoid.zarr", activation="sigmoid")


@pytest.fixture(scope="module")
def dead(tmp_path_factory):
    return tiny_run(tmp_path_factory.mktemp("notes") / "dead.zarr", dead=(1, 4))


@pytest.fixture(scope="module")
def untested(tmp_path_factory):
    trace = tiny_run(tmp_path_factory.mktemp("notes") / "untested.zarr", Untested)
    assert trace.evaluation is None
    return trace


def check_notes(shots, names):
    """The phases are ``names``, and every one of them has a few plain sentences: Markdown without LaTeX or
    emphasis; the end is no slide."""
    assert [s.name for s in shots] == names + ["end"]
    for shot in shots[:-1]:
        assert len(shot.notes) >= 60, (shot.name, shot.notes)
        assert len(shot.notes) <= 700, (shot.name, len(shot.notes))  # a few sentences, not a page
        assert not any(c in shot.notes for c in "\\_*`"), (shot.name, shot.notes)
        assert not any(line.lstrip().startswith("#") for line in shot.notes.splitlines()), shot.name
    assert shots[-1].notes == ""
    return [s.notes for s in shots[:-1]]


def drawn_loss(trace, values="loss"):
    """The curve as the scenes draw it up to the last snapshot: a trailing moving mean over 1/60 of the steps."""
    y = trace.scalars[values][: int(trace.snapshot_steps[-1]) + 1]
    return smooth(y, max(1, len(y) // 60), centred=False)


def silent(trace):
    """The first layer's units that are 0 for every probe digit at the last snapshot."""
    return np.flatnonzero(~trace.probe_record(int(trace.snapshot_steps[-1])).a[0].any(axis=0)).tolist()


# -- FirstLayerFilters --------------------------------------------------------------------------------------


def first_layer_filters(trace, monkeypatch, media):
    from explainer.scenes.first_layer_filters import FirstLayerFilters

    return phases(FirstLayerFilters, monkeypatch, media, EXPLAINER_TRACE=trace.path)


def test_first_layer_filters_notes_say_the_snapshots_and_the_loss(sigmoid, monkeypatch, tmp_path):
    assert silent(sigmoid) == []  # no unit to outline: three phases, the learned filters the last
    notes = check_notes(first_layer_filters(sigmoid, monkeypatch, tmp_path), ["phase 1", "phase 2", "phase 3"])
    steps, loss = sigmoid.snapshot_steps, drawn_loss(sigmoid)
    last = int(steps[-1])
    assert "on the 8x8 pixels, all 6 units" in notes[0] and "random initial weights" in notes[0]
    assert f"starts at {loss[0]:.3f} at step 0 and ends at {loss[-1]:.3f} at step {last}" in notes[1]
    assert f"the {len(steps)} recorded snapshots up to step {last}" in notes[2]
    assert f"At step {last} the drawn loss is {loss[-1]:.3f}." in notes[2]


def test_first_layer_filters_notes_name_the_silent_units(dead, monkeypatch, tmp_path):
    units = silent(dead)
    assert {1, 4} <= set(units) and len(units) < 6
    shots = first_layer_filters(dead, monkeypatch, tmp_path)
    notes = check_notes(shots, ["phase 1", "phase 2", "phase 3", "phase 4"])
    named = f"units {', '.join(map(str, units))}"
    assert f"Outlined: {named}, silent (a = 0) for all 10 probe digits at step {int(dead.snapshot_steps[-1])}" \
        in notes[3]
    assert "held out" in notes[3] and "without proving it" in notes[3]  # silent on probes is no proof for training
    on_screen = " ".join(what.replace(" ", "") for what, _ in texts(shots[3].mobjects))
    assert named.replace(" ", "") in on_screen  # the same units as the outlines' note (Manim drops spaces)
    assert "Outlined" not in " ".join(notes[:3])


# -- TrainingStory --------------------------------------------------------------------------------------------


def training_story(trace, monkeypatch, media):
    from explainer.scenes.training_story import TrainingStory

    return phases(TrainingStory, monkeypatch, media, EXPLAINER_TRACE=trace.path)


def probes_right(trace, step):
    """How many of the first probe digit of each class the network gets right at ``step``."""
    labels = np.asarray(trace.probe_labels)
    samples = [int(np.flatnonzero(labels == c)[0]) for c in range(10) if np.any(labels == c)]
    guesses = trace.probe_record(int(step)).probabilities[samples].argmax(axis=1)
    return int((guesses == labels[samples]).sum()), len(samples)


def test_training_story_notes_say_the_final_loss_and_the_test_accuracy(tiny, monkeypatch, tmp_path):
    shots = training_story(tiny, monkeypatch, tmp_path)
    notes = check_notes(shots, ["phase 1", "phase 2", "phase 3"])
    steps, loss, accuracy = tiny.snapshot_steps, drawn_loss(tiny), drawn_loss(tiny, "accuracy")
    right, n = probes_right(tiny, steps[0])
    assert f"At step 0 it gets {right} of {n} right; the loss curve starts at {loss[0]:.3f}." in notes[0]
    assert "held out and never trained on" in notes[0]
    right, n = probes_right(tiny, steps[-1])
    assert f"Through {len(steps)} snapshots to step {int(steps[-1])}" in notes[1]
    assert f"ends at {loss[-1]:.3f}, the batch accuracy at {accuracy[-1]:.0%}, and {right} of {n}" in notes[1]
    ev = tiny.evaluation
    score = f"{ev.test_accuracy:.1%} right ({int(np.trace(ev.confusion))} of {int(ev.confusion.sum())})"
    assert f"It gets {score}." in notes[2]
    assert f"test set: {score}" in [what for what, _ in texts(shots[2].mobjects)]  # as the caption says
    wrong = ev.confusion - np.diag(np.diag(ev.confusion))
    true, guess = np.unravel_index(np.argmax(wrong), wrong.shape)
    assert f"The most frequent mistake: {wrong.max()} true {true}s guessed as {guess}." in notes[2]


def test_training_story_without_a_test_set_ends_with_the_training(untested, monkeypatch, tmp_path):
    notes = check_notes(training_story(untested, monkeypatch, tmp_path), ["phase 1", "phase 2"])
    assert f"ends at {drawn_loss(untested)[-1]:.3f}" in notes[1] and "test" not in notes[1]


def test_the_most_frequent_mistake_and_none():
    from explainer.scenes.training_story import notes_test

    confusion = np.diag([5, 6, 7])
    assert "It makes no mistake on it." in notes_test(confusion, 1.0)
    confusion[2, 0], confusion[0, 1] = 3, 2
    assert "The most frequent mistake: 3 true 2s guessed as 0." in notes_test(confusion, 18 / 23)
    assert "78.3% right (18 of 23)" in notes_test(confusion, 18 / 23)
