"""GradientDescent: every phase legible at 480p and inside the frame, its numbers the story's, and the
heat map drawn where the landscape's numbers say. A tiny real trace (8x8 digits, 6 hidden units)."""

import re

import numpy as np
import pytest
from scene_check import cut_off, phases, small_texts, texts

from explainer import Experiment, run
from explainer.chapters.descent import descent_story, fixed, nice
from explainer.trace import Trace, TraceRecorder


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = tmp_path_factory.mktemp("descent") / "tiny.zarr"
    with TraceRecorder(path, schedule="every:10", n_probe=10) as recorder:
        run(Experiment.preset("digits", hidden=(6,), epochs=1), recorder=recorder, progress=False)
    return path


@pytest.fixture(scope="module")
def shots(tiny, tmp_path_factory):
    """Every phase of the scene on the tiny trace, at step 20 and probe digit 3."""
    from explainer.scenes.gradient_descent import GradientDescent

    folder = tmp_path_factory.mktemp("descent-media")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EXPLAINER_CACHE", str(folder / "cache"))
        return phases(GradientDescent, mp, folder, EXPLAINER_TRACE=tiny, EXPLAINER_STEP=20, EXPLAINER_SAMPLE=3)


@pytest.fixture(scope="module")
def story(tiny, shots):
    return descent_story(Trace.open(tiny), 3, 20)  # read from the cache the scene filled


def said(shot):
    return [what for what, _ in texts(shot.mobjects)]


def test_every_phase_is_legible_and_inside_the_frame(shots):
    assert [s.name for s in shots] == ["phase 1", "phase 2", "phase 3", "phase 4", "phase 5", "phase 6", "end"]
    for shot in shots:
        assert not small_texts(shot.mobjects), shot.name
        assert not cut_off(shot.mobjects), shot.name


def test_the_numbers_on_screen_are_the_storys(shots, story):
    one, average, land, path, cut, steps = (said(s) for s in shots[:6])
    assert story.digit_tex[0] in one and story.digit_tex[1] in one  # the run's formula, then with the numbers
    table = next(t for t in one if t.startswith("0    "))  # the table: a row per class, "k    a_k    y_k"
    assert table.splitlines()[story.label].split() == [str(story.label), f"{story.probabilities[story.label]:.3f}", "1"]
    assert story.formulas.cost in average
    assert any(f"L = {fixed(story.batch_loss, 3)}" in t or f"L = {story.batch_loss:.3g}" in t for t in average)
    assert "loss" in land and any(story.land.digits in t for t in land)  # the colour bar's title; the digits
    assert any(f"{v:g}" == t for v in story.ticks for t in land)  # the colour bar's numbers
    labels = [t for t in path if re.fullmatch(r"step \d+( = θ<sub>s</sub>)?", t)]  # the path's labels
    assert len(labels) >= 3 and {int(t.split()[1]) for t in labels} <= set(story.land.steps[story.labelled])
    assert f"step {story.step} = θ<sub>s</sub>" in labels
    assert any(f"{story.land.explained.sum():.0%} of the path" in t for t in path)
    rows = [t for t in steps if t.startswith(r"\eta = ")]
    assert len(rows) == len(story.rows)
    for row, k in zip(rows, story.rows):
        assert row.endswith(f"L = {fixed(story.cut.step_loss[k], story.slice_digits)}")
    assert any("past the valley's floor" in t for t in steps) == (story.cut.overshoot is not None)


def test_the_heat_map_is_drawn_where_the_landscape_says(story):
    from manim import DL, UR

    from explainer.scenes.pieces.loss_map import MAP, LossMap

    loss_map = LossMap(story.land, story.levels)
    land = story.land
    np.testing.assert_allclose(loss_map.point(land.alpha[0], land.beta[0]), loss_map.frame.get_corner(DL))
    np.testing.assert_allclose(loss_map.point(land.alpha[-1], land.beta[-1]), loss_map.frame.get_corner(UR))
    assert loss_map.image.height == pytest.approx(MAP)
    # the darkest pixel is where the loss is least, the brightest where it is greatest
    brightness = loss_map.image.pixel_array[..., :3].astype(float).sum(axis=-1)  # (rows, cols), top row first
    n = brightness.shape[0]
    for pick, extreme in ((np.argmin, np.argmin), (np.argmax, np.argmax)):
        j, i = np.unravel_index(pick(land.loss), land.loss.shape)
        r, c = np.unravel_index(extreme(brightness), brightness.shape)
        assert abs(c / (n - 1) - i / (len(land.alpha) - 1)) < 0.06
        assert abs((n - 1 - r) / (n - 1) - j / (len(land.beta) - 1)) < 0.06
    assert len(loss_map.contours) >= len(story.levels) // 2



def test_every_phase_has_speaker_notes_with_its_numbers(shots, story):
    """Each phase's notes: a few plain sentences (60 to about 600 characters, Unicode math: no LaTeX backslash, no
    underscore, which Markdown reads as emphasis) with that phase's numbers, written as the screen writes them."""
    from explainer.chapters.spoken import spoken

    for shot in shots[:-1]:  # the "end" shot is the last phase's picture again
        assert 60 <= len(shot.notes) <= 650, (shot.name, len(shot.notes), shot.notes)
        assert "\\" not in shot.notes and "_" not in shot.notes, (shot.name, shot.notes)
    one, average, land, path, cut, steps = (s.notes for s in shots[:6])
    assert f"Probe digit 3 is a {story.label}" in one
    assert f"ℓ {spoken(story.digit_tex[1])}" in one and one.endswith(f" = {spoken(nice(story.digit_loss))}.")
    if story.formulas.loss_name == "cross_entropy":  # the digit's own output for its class, as the screen has it
        assert f"−log aᴸ{'₀₁₂₃₄₅₆₇₈₉'[story.label]} = −log 0." in one
    assert f"N = {story.formulas.batch_size}" in average and f"the {len(story.probe_losses)} probe digits" in average
    assert f"their mean is {spoken(nice(story.probe_mean))}" in average
    assert f"probe loss is {spoken(nice(story.probe_loss))}" in average or not story.penalty
    assert f"recorded loss at step {story.step} is L = {spoken(nice(story.batch_loss))}." in average
    assert story.land.digits in land and f"{story.land.resolution} × {story.land.resolution} points" in land
    assert f"({story.land.explained[0]:.0%} and {story.land.explained[1]:.0%} of its path)" in land
    far, g = int(np.argmax(story.land.off_plane)), story.gap
    assert f"the {len(story.land.steps)} recorded snapshots" in path
    assert f"step {story.land.steps[far]} lies {story.land.off_plane[far]:.3g} off it" in path
    assert f"loss {story.land.snapshot_loss[g]:.3g} itself, {story.land.plane_loss[g]:.3g} at its shadow" in path
    slice_, digits = story.cut, story.slice_digits
    assert f"|g| = {slice_.grad_norm:.3g}" in cut and f"L(θₛ) = {fixed(slice_.start_loss, digits)}" in cut
    assert f"learning rate η = {spoken(nice(slice_.lr))}" in steps  # the rate in force at this step
    own = fixed(slice_.step_loss[list(slice_.multipliers).index(1.0)], digits)
    assert f"η itself lands at L = {own}" in steps
    if slice_.overshoot is not None:
        m, value = slice_.multipliers[slice_.overshoot], slice_.step_loss[slice_.overshoot]
        assert f"×{m:g} lands past the valley's floor, at L = {fixed(value, digits)}" in steps
    assert " ".join(story.plain_note)[1:] in steps  # SGD's own update, or not the step it took
    assert ("not the step it took" in steps) == (story.formulas.optimizer_name != "sgd")


def test_the_notes_say_the_latex_numbers_in_unicode():
    from explainer.chapters.spoken import spoken

    assert spoken(r"3.2 \times 10^{-5}") == "3.2 × 10⁻⁵" and spoken("10^{-8}") == "10⁻⁸" and spoken("0.184") == "0.184"
    assert spoken(r"= -\log a^{L}_{7} = -\log 0.832 = 0.184") == "= −log aᴸ₇ = −log 0.832 = 0.184"
    mse = r"= \tfrac{1}{2} \sum_k \left(a^{L}_k - y_k\right)^2 = \tfrac{1}{2} \cdot 0.7160 = 0.358"
    assert spoken(mse) == "= ½ Σₖ (aᴸₖ − yₖ)² = ½ · 0.7160 = 0.358"
