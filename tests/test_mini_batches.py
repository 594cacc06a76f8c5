"""MiniBatches: each probe digit's gradient is delta a^T from its record, their mean is what the network computes
on the probe set with the snapshot's weights, the batch's is the recorded one, the step drawn is the optimiser's,
and every phase is legible at 480p with nothing cut off."""

import numpy as np
import pytest
from scene_check import cut_off, phases, small_texts, texts

from explainer import Experiment, run
from explainer.chapters.minibatch import (
    cosine,
    default_step,
    digit_gradients,
    flat,
    minibatch_story,
    penalty_tex,
)
from explainer.formulas import formulas_of
from explainer.trace import Trace, TraceRecorder


def record(path, **settings):
    with TraceRecorder(path, schedule="log:12+epochs", n_probe=12) as recorder:
        run(Experiment.preset("digits", hidden=(8, 6), epochs=1, **settings), recorder=recorder, progress=False)
    return path


@pytest.fixture(scope="module")
def adam_trace(tmp_path_factory):  # the preset: Adam, an L2 penalty
    return record(tmp_path_factory.mktemp("minibatch") / "adam.zarr")


@pytest.fixture(scope="module")
def sgd_trace(tmp_path_factory):
    return record(tmp_path_factory.mktemp("minibatch") / "sgd.zarr", optimizer="sgd", lr=0.1, l2=0.0)


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


def test_each_digits_gradient_is_delta_times_a_from_its_record(adam_trace):
    trace = Trace.open(adam_trace)
    step = int(trace.snapshot_steps[3])
    rec, weights = trace.probe_record(step), trace.weights(step)
    grads = digit_gradients(trace, step)
    l2 = trace.run.l2
    assert l2 > 0  # the penalty's term is in every gradient, as in the batch's
    for n in (0, 5):
        for layer, ((dW, db), (W, _)) in enumerate(zip(grads, weights)):
            a_prev = trace.probe_x[n] if layer == 0 else rec.a[layer - 1][n]
            np.testing.assert_allclose(dW[n], np.outer(rec.delta[layer][n], a_prev) + l2 * W, rtol=1e-6, atol=1e-9)
            np.testing.assert_allclose(db[n], rec.delta[layer][n], rtol=1e-6)


def test_their_mean_is_the_networks_gradient_on_the_probe_set(adam_trace):
    trace = Trace.open(adam_trace)
    for step in trace.snapshot_steps[[0, 4, -1]]:
        grads = digit_gradients(trace, int(step))
        again = trace.network(int(step)).inspect(trace.probe_x, trace.probe_labels)  # an independent pass
        for (dW, db), dW_net, db_net in zip(grads, again.dW, again.db):
            np.testing.assert_allclose(dW.mean(axis=0), dW_net, rtol=1e-4, atol=1e-6)
            np.testing.assert_allclose(db.mean(axis=0), db_net, rtol=1e-4, atol=1e-6)


def test_the_story_shows_the_recorded_numbers(adam_trace):
    trace = Trace.open(adam_trace)
    step = default_step(trace)
    story = minibatch_story(trace, step, sample=2)
    grads = digit_gradients(trace, step)
    G = flat(grads)
    mean, g = G.mean(axis=0), flat(trace.gradients(step))
    # the batch's gradient shown is the recorded one
    np.testing.assert_array_equal(story.batch_row, trace.gradients(step)[0][0][story.unit])
    assert story.batch_norm == pytest.approx(np.linalg.norm(g))
    assert story.batch_cosine == pytest.approx(cosine(g, mean))
    # the digits drawn: the chosen one first, then others of other classes; their rows are delta_j x + the penalty
    labels = trace.probe_labels
    assert story.samples[0] == 2 and len(set(labels[list(story.samples)])) == len(story.samples)
    W = trace.weights(step)[0][0]
    for k, n in enumerate(story.samples):
        delta = trace.probe_record(step).delta[0][n, story.unit]
        assert story.delta[k] == pytest.approx(delta)
        np.testing.assert_allclose(story.digit_rows[k], delta * trace.probe_x[n] + trace.run.l2 * W[story.unit],
                                   rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(story.mean_row, grads[0][0][:, story.unit].mean(axis=0))
    # the cosines and lengths, against direct computation
    np.testing.assert_allclose(story.digit_cosines, [cosine(row, mean) for row in G], atol=1e-9)
    np.testing.assert_allclose(story.digit_norms, np.linalg.norm(G, axis=1))
    assert story.mean_norm == pytest.approx(np.linalg.norm(mean))
    # the curve: k = 1 is every digit; a mean of all of them would be the probe mean itself (cos 1)
    assert list(story.ks) == list(range(1, len(labels) // 3 + 1))
    np.testing.assert_allclose(story.draws[0], story.digit_cosines)
    np.testing.assert_allclose(story.mean_of_k, [d.mean() for d in story.draws])
    assert all(-1 <= c <= 1 for d in story.draws for c in d)
    again = minibatch_story(trace, step, sample=2)
    np.testing.assert_array_equal(np.concatenate(again.draws), np.concatenate(story.draws))  # a fixed seed


def test_the_mean_of_k_comes_closer_as_k_grows(adam_trace):
    trace = Trace.open(adam_trace)
    story = minibatch_story(trace, int(trace.snapshot_steps[0]))
    assert story.mean_of_k[-1] > story.mean_of_k[0]


def test_the_step_drawn_is_the_optimisers(adam_trace, sgd_trace):
    # sgd: the step taken between consecutive snapshots is -eta g, exactly the recorded batch gradient's
    trace = Trace.open(sgd_trace)
    step = default_step(trace)
    story = minibatch_story(trace, step)
    assert story.taken is not None and story.formulas.optimizer_name == "sgd"
    g = flat(trace.gradients(step))
    np.testing.assert_allclose(story.taken, -trace.learning_rate(step) * g, rtol=1e-4, atol=1e-7)
    assert story.taken_cosine == pytest.approx(1.0, abs=1e-5)
    assert story.taken_norm == pytest.approx(story.sgd_norm, rel=1e-4)
    assert any("W \\leftarrow W - \\eta" in line for line in story.formulas.update)
    # adam: the rule written is Adam's, with its numbers; the step is not -eta g
    trace = Trace.open(adam_trace)
    story = minibatch_story(trace, default_step(trace))
    assert story.formulas.update == formulas_of(trace, story.step).update
    assert any(r"\hat m" in line for line in story.formulas.update)
    assert story.taken_cosine < 0.99 and story.taken_norm != pytest.approx(story.sgd_norm, rel=0.01)
    np.testing.assert_allclose(story.taken, flat(trace.weights(story.step + 1)) - flat(trace.weights(story.step)))


def test_without_a_snapshot_at_the_next_step_no_step_is_drawn(adam_trace):
    trace = Trace.open(adam_trace)
    steps = trace.snapshot_steps
    lonely = next(int(s) for s, t in zip(steps[:-1], steps[1:]) if t != s + 1)
    assert minibatch_story(trace, lonely).taken is None
    assert minibatch_story(trace, int(steps[-1])).taken is None


def test_the_formulas_are_the_runs(adam_trace, sgd_trace):
    trace = Trace.open(adam_trace)
    story = minibatch_story(trace, default_step(trace))
    f = story.formulas
    assert penalty_tex(f) == rf" + {trace.run.l2:g}\, W^{{l}}"
    assert story.penalty == rf" + {trace.run.l2:g}\, W^{{1}}_{{{story.unit}}}"
    assert story.digit_tex.startswith("g_n = ") and story.digit_tex.endswith(penalty_tex(f))
    assert f.batch_size == trace.run.training.batch_size and f"N = {f.batch_size}" in f.cost
    assert penalty_tex(formulas_of(Trace.open(sgd_trace), 0)) == ""


def test_the_default_step_is_early_with_the_next_step_recorded(adam_trace):
    trace = Trace.open(adam_trace)
    step = default_step(trace)
    k = trace.snapshot_index(step, exact=True)
    assert trace.snapshot_steps[k + 1] == step + 1 and step <= max(trace.n_steps - 1, 0) * 0.02 + 1


@pytest.mark.parametrize("fixture", ["adam_trace", "sgd_trace"])
def test_every_phase_is_legible_and_nothing_is_cut_off(fixture, request, monkeypatch, media):
    from explainer.scenes.mini_batches import MiniBatches

    trace = request.getfixturevalue(fixture)
    story = minibatch_story(Trace.open(trace), default_step(Trace.open(trace)))
    shots = phases(MiniBatches, monkeypatch, media, EXPLAINER_TRACE=trace, EXPLAINER_STEP=story.step)
    assert len(shots) == 6  # five phases, each ending with next_slide (the last too), and the end
    for shot in shots:
        assert not small_texts(shot.mobjects), (shot.name, small_texts(shot.mobjects))
        assert not cut_off(shot.mobjects), (shot.name, [type(m).__name__ for m in cut_off(shot.mobjects)])
    words = [what for what, _ in texts(shots[-1].mobjects)]
    assert any(story.formulas.update[0] == w for w in words) or story.formulas.optimizer_name != "sgd"
    assert f"\\cos(\\Delta W, -g) = {story.taken_cosine:.2f}" in words
    shown = [what for what, _ in texts(shots[2].mobjects)]
    for c in story.shown_cosines:
        assert f"\\cos = {c:.2f}" in shown
    assert f"\\lVert g \\rVert = {story.batch_norm:.2f}" in shown


def test_the_last_step_says_the_step_taken_is_not_recorded(adam_trace, monkeypatch, media):
    from explainer.scenes.mini_batches import MiniBatches

    trace = Trace.open(adam_trace)
    shots = phases(MiniBatches, monkeypatch, media, EXPLAINER_TRACE=adam_trace, EXPLAINER_STEP="last")
    words = " ".join(what for what, _ in texts(shots[-1].mobjects))
    assert f"step {int(trace.snapshot_steps[-1]) + 1} has no snapshot" in words
    assert not any(small_texts(s.mobjects) for s in shots)
    check_notes(shots)
    assert f"Step {int(trace.snapshot_steps[-1]) + 1} has no snapshot" in shots[-2].notes  # the notes say so too
    assert "cos(ΔW" not in shots[-2].notes


def check_notes(shots):
    """Every phase's notes: a few plain sentences, Markdown without LaTeX or emphasis; the end is no slide."""
    assert len(shots) == 6 and shots[-1].name == "end" and shots[-1].notes == ""
    for shot in shots[:-1]:
        assert len(shot.notes) >= 60, (shot.name, shot.notes)
        assert len(shot.notes) <= 700, (shot.name, len(shot.notes))  # a few sentences, not a page
        assert not any(c in shot.notes for c in "\\_*`"), (shot.name, shot.notes)
        assert not any(line.lstrip().startswith("#") for line in shot.notes.splitlines()), shot.name


@pytest.mark.parametrize("fixture", ["adam_trace", "sgd_trace"])
def test_every_phase_has_notes_with_its_cosines_as_on_screen(fixture, request, monkeypatch, media):
    """The notes say each phase's numbers as the screen writes them: the digits' and the batch's cosines with
    the probe mean, the curve's, and the step's with -g; that the probe digits are held out and their mean
    only stands in for the full gradient."""
    from explainer.scenes.mini_batches import MiniBatches

    path = request.getfixturevalue(fixture)
    story = minibatch_story(Trace.open(path), default_step(Trace.open(path)))
    shots = phases(MiniBatches, monkeypatch, media, EXPLAINER_TRACE=path, EXPLAINER_STEP=story.step)
    check_notes(shots)
    notes = [shot.notes for shot in shots[:-1]]
    assert f"step {story.step}" in notes[0] and f"batch of {story.batch_size} training digits" in notes[0]
    assert ("penalty" in notes[0]) == (fixture == "adam_trace")  # the sgd run has no weight penalty
    assert f"unit {story.unit} of layer 1" in notes[1] and "held out, never trained on" in notes[1]
    for delta, label in zip(story.delta, story.labels):
        assert f"{delta:.3f} (a {label})" in notes[1]
    said = [what for what, _ in texts(shots[2].mobjects)]
    cosines = [f"{c:.2f}" for c in story.shown_cosines]
    assert all(f"\\cos = {c}" in said for c in cosines)  # each digit's cosine, as under its picture
    assert f"have cos {', '.join(cosines[:-1])} and {cosines[-1]}." in notes[2]
    assert f"within cos {story.batch_cosine:.2f} of that mean" in notes[2]
    assert f"‖g‖ = {story.batch_norm:.2f}" in notes[2] and f"‖ḡ‖ = {story.mean_norm:.2f}" in notes[2]
    assert "stands in for the full gradient" in notes[2] and "the trace does not hold" in notes[2]
    assert f"cos {story.mean_of_k[0]:.2f}" in notes[3] and f"a mean of {story.ks[-1]} at {story.mean_of_k[-1]:.2f}" \
        in notes[3]
    assert f"batch of {story.batch_size} training digits: {story.batch_cosine:.2f}" in notes[3]
    assert f"optimiser, {story.formulas.optimizer_name}" in notes[4]
    assert f"cos(ΔW, −g) = {story.taken_cosine:.2f}" in notes[4]
    assert f"{story.taken_norm:.4f} long" in notes[4] and f"η‖g‖ = {story.sgd_norm:.4f}" in notes[4]
