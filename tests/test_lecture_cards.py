"""TitleCard and Recap: the lecture's opening and closing cards. Their numbers are the trace reader's, every
phase is legible at 480p and inside the frame with speaker notes, and Recap writes the run's own formulas
(Adam's for one tiny real run, SGD's and mean squared error's for another)."""

import numpy as np
import pytest
from scene_check import cut_off, phases, small_texts, texts

from explainer import Experiment, run
from explainer.chapters.lecture_cards import CHAPTERS, card_story, plain, unicode_number
from explainer.formulas import formulas_of
from explainer.trace import Trace, TraceRecorder

LECTURE = ["OneNeuron", "ForwardPass", "GradientDescent", "Backprop", "ChainRule", "MiniBatches",
           "FirstLayerFilters", "TrainingStory"]


def record(path, **settings):
    with TraceRecorder(path, schedule="every:10", n_probe=10) as recorder:
        run(Experiment.preset("digits", hidden=(6,), **settings), recorder=recorder, progress=False)
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Adam, cross-entropy, an L2 penalty: the digits preset, one epoch, 6 hidden units."""
    return record(tmp_path_factory.mktemp("cards") / "tiny.zarr", epochs=1)


@pytest.fixture(scope="module")
def plain_sgd(tmp_path_factory):
    """Plain SGD on mean squared error, no penalty, the learning rate halved after the first epoch."""
    return record(tmp_path_factory.mktemp("cards-sgd") / "sgd.zarr", epochs=2, loss="mse", optimizer="sgd", lr=0.5,
                  lr_decay=0.5, l2=0.0)


def scene_shots(scene, trace, tmp_path_factory):
    from explainer.scenes import lecture_cards

    folder = tmp_path_factory.mktemp(f"cards-media-{scene}")
    with pytest.MonkeyPatch.context() as mp:
        return phases(getattr(lecture_cards, scene), mp, folder, EXPLAINER_TRACE=trace)


@pytest.fixture(scope="module")
def title_shots(tiny, tmp_path_factory):
    return scene_shots("TitleCard", tiny, tmp_path_factory)


@pytest.fixture(scope="module")
def recap_shots(tiny, tmp_path_factory):
    return scene_shots("Recap", tiny, tmp_path_factory)


@pytest.fixture(scope="module")
def sgd_recap_shots(plain_sgd, tmp_path_factory):
    return scene_shots("Recap", plain_sgd, tmp_path_factory)


def said(shot):
    return [what for what, _ in texts(shot.mobjects)]


def check_phases(shots, names):
    """Every phase legible at 480p, inside the frame, with notes a teacher can read out."""
    assert [s.name for s in shots] == [*names, "end"]
    for shot in shots:
        assert not small_texts(shot.mobjects), shot.name
        assert not cut_off(shot.mobjects), shot.name
    for shot in shots[:-1]:  # (the end is the last phase held; its notes are that phase's)
        assert len(shot.notes) >= 60, shot.name
        assert "\\" not in shot.notes and "_" not in shot.notes and plain(shot.notes), shot.name


# -- the story: the reader's numbers ---------------------------------------------------------------------


def test_the_title_cards_numbers_are_the_readers(tiny):
    trace = Trace.open(tiny)
    story, summary, run_ = card_story(trace), trace.summary(), trace.run
    rows = dict(story.rows)
    ev = trace.evaluation
    assert story.test_accuracy == summary["test_accuracy"] == ev.test_accuracy
    assert story.n_test == len(ev.labels) and story.n_right == int(np.sum(ev.labels == ev.predicted))
    assert rows["result"] == f"test accuracy {ev.test_accuracy:.1%}: {story.n_right} of {story.n_test} test digits right"
    assert story.train_loss == summary["final_train_loss"]
    assert rows["final loss"].startswith(f"{summary['final_train_loss']:.3f}, ")
    assert rows["data"].startswith("8×8 ") and "64 pixels, 10 classes" in rows["data"]
    assert rows["network"].startswith("64 → 6 → 10  (ReLU, softmax), ")
    assert f"{64 * 6 + 6 + 6 * 10 + 10} parameters" in rows["network"]
    assert rows["loss"] == f"cross-entropy, L2 penalty {run_.l2:g}"
    assert rows["optimiser"] == f"Adam, learning rate {summary['training']['lr']:g}"
    assert rows["training"] == (f"batches of {summary['training']['batch_size']}, 1 epoch: "
                                f"{summary['steps']} steps")
    assert rows["recorded"] == f"{summary['snapshots']} snapshots of every weight, {summary['probe_size']} probe digits"
    assert story.probes == tuple(int(np.flatnonzero(trace.probe_labels == c)[0])
                                 for c in sorted(set(trace.probe_labels.tolist())))
    notes = story.notes["title"]
    assert f"{ev.test_accuracy:.1%}" in notes and f"{trace.n_steps} steps" in notes and "64 → 6 → 10" in notes


def test_the_chapters_are_the_lectures_in_its_order(tiny):
    from explainer.cli.render import SCENES

    story = card_story(Trace.open(tiny))
    assert [name for name, _ in story.chapters] == list(CHAPTERS) == LECTURE
    assert [name for name in SCENES if name in LECTURE] == LECTURE  # `explainer render list` says the same order
    what = dict(story.chapters)
    assert "6 units" in what["OneNeuron"] and "64 pixels" in what["OneNeuron"]
    assert what["MiniBatches"].endswith(f"mean of {Trace.open(tiny).run.training.batch_size}")


def test_the_recaps_formulas_are_the_runs_at_the_last_snapshot(tiny):
    trace = Trace.open(tiny)
    story, last = card_story(trace), int(trace.snapshot_steps[-1])
    f = formulas_of(trace, last)
    assert story.step == last and story.formulas == f
    assert story.forward[0] == f.forward and story.loss == (f.loss, f.cost)
    assert story.backward[:2] == (f.output_delta, f.backward)
    assert story.backward[2] + story.backward[3].removeprefix(r"\qquad {}") == f.weight_gradient  # penalty apart
    assert story.update == f.update  # no decay: no line of how eta was made
    assert rf"t = {last + 1}" in story.update[-1]


def test_unicode_numbers():
    assert [unicode_number(x) for x in (0.001, 1e-8, 3e-5, 0.9)] == ["0.001", "10⁻⁸", "3 × 10⁻⁵", "0.9"]


# -- the scenes ------------------------------------------------------------------------------------------


def test_the_title_card_is_legible_with_the_readers_numbers_on_screen(tiny, title_shots):
    check_phases(title_shots, ["phase 1", "phase 2"])
    story = card_story(Trace.open(tiny))
    run_, chapters = said(title_shots[0]), said(title_shots[1])
    assert story.title in run_
    for label, value in story.rows:
        assert label in run_ and value in run_
    for name, what in story.chapters:
        assert name in chapters and what in chapters
    assert [s.notes for s in title_shots[:2]] == [story.notes["title"], story.notes["contents"]]


def test_the_recap_is_legible_and_writes_the_runs_formulas_in_order(tiny, recap_shots):
    check_phases(recap_shots, ["phase 1", "phase 2", "phase 3", "phase 4"])
    trace = Trace.open(tiny)
    f = formulas_of(trace, int(trace.snapshot_steps[-1]))
    shown = said(recap_shots[-1])
    assert all(line in shown for line in f.update) and f.backward in shown
    order = [f.forward, f.loss, f.cost, f.output_delta, f.backward, *f.update]
    assert [shown.index(line) for line in order] == sorted(shown.index(line) for line in order)
    assert f.update[0] not in said(recap_shots[1])  # the update comes in its own phase
    story = card_story(trace)
    assert all(line in shown for line in story.result_lines)
    assert f"{story.test_accuracy:.1%}" in story.result_lines[0]
    assert f"{story.test_accuracy:.1%}" in recap_shots[3].notes


def test_the_recap_of_an_sgd_run_on_mse_writes_that_runs_formulas_not_adams(plain_sgd, sgd_recap_shots):
    check_phases(sgd_recap_shots, ["phase 1", "phase 2", "phase 3", "phase 4"])
    trace = Trace.open(plain_sgd)
    last = int(trace.snapshot_steps[-1])
    f = formulas_of(trace, last)
    shown = said(sgd_recap_shots[-1])
    assert f.update[0] == r"W \leftarrow W - \eta\, g" and f.update[0] in shown
    assert not any(r"\hat m" in line or r"\beta" in line for line in shown)  # nothing of Adam's
    assert f.loss in shown and "y_k" not in f.loss and f.output_delta in shown  # mean squared error's
    assert f.learning_rate in shown and r"0.5^{1}" in f.learning_rate  # the decay: eta of the second epoch
    assert trace.learning_rate(last) == pytest.approx(0.25)
    story = card_story(trace)
    assert dict(story.rows)["optimiser"] == "plain gradient descent (SGD), learning rate 0.5, × 0.5 after each epoch"
    assert dict(story.rows)["loss"] == "mean squared error"
    assert "η = 0.25" in story.notes["update"] and "Adam" not in story.notes["update"]


def test_a_run_that_stopped_has_no_test_result(tmp_path, monkeypatch):
    class Stopping(TraceRecorder):
        def record_step(self, step, net, scalars, updates):
            super().record_step(step, net, scalars, updates)
            if step == 45:  # past the first epoch (40 steps of 32)
                raise KeyboardInterrupt

    path = tmp_path / "stopped.zarr"
    with pytest.raises(KeyboardInterrupt), Stopping(path, schedule="every:10", n_probe=10) as recorder:
        run(Experiment.preset("digits", hidden=(6,), epochs=2), recorder=recorder, progress=False)
    trace = Trace.open(path)
    assert trace.evaluation is None
    story = card_story(trace)
    assert story.test_accuracy is None and story.result_lines[0] == "no test"
    assert dict(story.rows)["training"].endswith(f"{trace.n_steps} of {trace.run.total_steps} steps (interrupted)")
    assert "no test result" in story.notes["result"]
    from explainer.scenes.lecture_cards import Recap

    shots = phases(Recap, monkeypatch, tmp_path / "media", EXPLAINER_TRACE=path)
    check_phases(shots, ["phase 1", "phase 2", "phase 3", "phase 4"])
    assert story.result_lines[1] in said(shots[-1])
