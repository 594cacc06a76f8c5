"""Backprop's speaker notes: every phase has them, in plain Markdown (Unicode math, no LaTeX, no underscores), and
they say that phase's numbers as the story gives them and the screen writes them: the digit's output and delta,
the layers' shapes, the batch the optimiser was given, the learning rate in force (after the decay) with the
optimiser's numbers, and the digit's loss before and after the step. Tiny real runs, recorded at every step."""

import pytest
from scene_check import phases

from explainer import Experiment, run
from explainer.chapters.backprop import backprop_story
from explainer.losses import LOSSES, OutputDelta
from explainer.optimizers import tex_number
from explainer.trace import Trace, TraceRecorder


def record(path, **settings):
    """3 epochs of 5 steps on the 8x8 digits, 6 hidden units, every step a snapshot."""
    settings = {"hidden": (6,), "epochs": 3, "batch_size": 256, **settings}
    with TraceRecorder(path, schedule="every:1", n_probe=8) as recorder:
        run(Experiment.preset("digits", **settings), recorder=recorder, progress=False)
    return Trace.open(path)


@pytest.fixture(scope="module")
def decayed(tmp_path_factory):
    """Momentum with a learning rate halved every epoch and an L2 penalty: eta in force differs from the run's."""
    return record(tmp_path_factory.mktemp("decayed") / "run.zarr", optimizer="momentum", lr=0.05, lr_decay=0.5,
                  l2=1e-3)


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return tmp_path_factory.mktemp("media")  # one LaTeX cache for the module's scenes


def scene_notes(trace, monkeypatch, media, sample, step):
    from explainer.scenes.backprop import Backprop

    shots = phases(Backprop, monkeypatch, media, EXPLAINER_TRACE=trace.path, EXPLAINER_SAMPLE=sample,
                   EXPLAINER_STEP=step)
    return shots, [s.notes for s in shots]


def assert_every_phase_has_notes(shots):
    """At least 60 characters, at most about 600; no LaTeX backslash, no underscore (Markdown's emphasis)."""
    for shot in shots[:-1]:  # the "end" shot is the last phase's picture again
        assert 60 <= len(shot.notes) <= 650, (shot.name, len(shot.notes), shot.notes)
        assert "\\" not in shot.notes and "_" not in shot.notes, (shot.name, shot.notes)


def test_every_phase_says_its_numbers(decayed, monkeypatch, media):
    from explainer.chapters.spoken import spoken

    step, sample = 10, 1
    story = backprop_story(decayed, sample, step)
    f = story.formulas
    assert f.lr == pytest.approx(0.05 * 0.5**2)  # epoch 3: the rate in force is not the run's first
    shots, notes = scene_notes(decayed, monkeypatch, media, sample, step)
    # the forward pass, the output error, the rules, layers 2 and 1, the batch, the update, the loss before/after
    assert [s.name for s in shots] == [f"phase {k}" for k in range(1, 9)] + ["end"]
    assert_every_phase_has_notes(shots)
    forward, error, rules, layer2, layer1, batch, update, verdict = notes[:8]
    assert f"Probe digit {sample}, a {story.label}" in forward and f"at step {step}:" in forward
    assert f"It guessed {story.predicted}" in forward
    label, a, delta = story.label, story.a[-1], story.delta[-1]
    assert f"gave that class {a[label]:.3f}, so its δ is {delta[label]:.3f}" in error
    assert "cross entropy" in error and "softmax" in error  # the run's own loss and output activation
    assert "its z should go up" in error  # softmax with cross-entropy: the true class's delta is a - 1 < 0
    assert "64 → 6 → 10: 2 layers" in rules and "relu here" in rules
    assert "∂ℓ/∂W² = δ² (a¹)ᵀ: 10 × 6" in layer2 and "δ¹ = (W²)ᵀ δ² ⊙ f′(z¹)" in layer2
    assert "∂ℓ/∂W¹ = δ¹ (a⁰)ᵀ: 6 × 64" in layer1 and "blank paper" in layer1
    assert "never trained on" in batch and f"a batch of {f.batch_size} training digits" in batch
    assert f"plus {tex_number(f.l2)} W for the L2 penalty" in batch
    assert "momentum" in update and "adds up the past steps' gradients" in update
    eta = spoken(tex_number(f.lr))
    assert f"η = {eta}, β = 0.9" in update  # the optimiser's numbers, as on screen
    assert f"decays by ×0.5 each epoch: η = {eta} is the rate in force" in update
    assert f"Its loss was {story.loss:.3f} at step {step} and is {story.after.loss:.3f} at step {step + 1}" in verdict
    assert ("went down" in verdict) == (story.after.loss < story.loss)


def test_at_the_last_snapshot_the_notes_say_there_is_none_later(tmp_path, monkeypatch, media):
    trace = record(tmp_path / "sgd.zarr", optimizer="sgd", lr=0.1, epochs=1, l2=0.0)
    last = int(trace.snapshot_steps[-1])
    story = backprop_story(trace, 0, last)
    assert story.after is None
    shots, notes = scene_notes(trace, monkeypatch, media, 0, last)
    assert_every_phase_has_notes(shots)
    assert "plain SGD, W ← W − η g" in notes[-3] and "η = 0.1." in notes[-3] and "decays" not in notes[-3]
    assert "penalty" not in notes[-4] and trace.run.l2 == 0  # no weight penalty, none said
    assert f"{story.loss:.3f} at step {last}" in notes[-2] and "no later one" in notes[-2]


def test_a_run_that_cannot_be_drawn_truthfully_says_why_in_its_notes(decayed, monkeypatch, media):
    wrong = LOSSES["cross_entropy"]._replace(output_delta={"softmax": OutputDelta(lambda z, a, y: a, "a^{L}")})
    monkeypatch.setitem(LOSSES, "cross_entropy", wrong)  # as if the trace had been recorded with another rule
    assert backprop_story(decayed, 1, 10).untruthful
    shots, notes = scene_notes(decayed, monkeypatch, media, 1, 10)
    assert [s.name for s in shots] == ["phase 1", "phase 2", "end"]
    assert_every_phase_has_notes(shots)
    assert "cannot be shown truthfully" in notes[1] and "is not softmax with cross entropy's delta" in notes[1]


def test_the_optimisers_numbers_are_said_in_unicode():
    from explainer.chapters.spoken import spoken

    assert spoken(r"\eta = 0.003,\quad \beta_1 = 0.9,\quad \beta_2 = 0.999") == "η = 0.003, β₁ = 0.9, β₂ = 0.999"
    assert spoken(r"\epsilon = 10^{-8},\quad t = 11") == "ε = 10⁻⁸, t = 11"
    assert spoken(r"\eta = 7.5 \times 10^{-5},\quad \rho = 0.9") == "η = 7.5 × 10⁻⁵, ρ = 0.9"
