"""The loss landscape: its points are the network's loss at those weights, the trajectory is the
snapshots projected onto the plane, the cache is used and never trusted blindly, and the slice along the
batch gradient holds the losses of real plain steps. A tiny real trace (8x8 digits, 6 hidden units)."""

import math
import os
import shutil
import time
import warnings

import numpy as np
import pytest

from explainer import Experiment, Network, run
from explainer.chapters.descent import descent_story, digit_tex
from explainer.formulas import formulas_of
from explainer.landscape import flatten, landscape, landscape_digits, lr_slice
from explainer.trace import Trace, TraceError, TraceRecorder

STEP = 20  # a snapshot in the middle of the tiny run (snapshots 0, 10, 20, 30, 39)


def record(path, **settings):
    with TraceRecorder(path, schedule="every:10", n_probe=10) as recorder:
        run(Experiment.preset("digits", **{"hidden": (6,), "epochs": 1, **settings}), recorder=recorder,
            progress=False)
    return Trace.open(path)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return record(tmp_path_factory.mktemp("landscape") / "tiny.zarr")


@pytest.fixture(scope="module")
def tiny_mse(tmp_path_factory):
    return record(tmp_path_factory.mktemp("landscape-mse") / "mse.zarr", loss="mse", optimizer="sgd", lr=0.5)


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """The fallback cache folder in the test's own folder, never ~/.cache."""
    monkeypatch.setenv("EXPLAINER_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def copy_of(tiny, tmp_path):
    """A copy of the tiny trace in a fresh folder, so that its cache starts empty."""
    shutil.copytree(tiny.path, tmp_path / "copy.zarr")
    return Trace.open(tmp_path / "copy.zarr")


def loss_at(trace, theta, x, labels):
    """The loss of a fresh Network holding the parameter vector ``theta``: forward, then Network.loss."""
    net = Network(**trace.run.network_config())
    start = 0
    for layer in net.layers:
        for name in ("W", "b"):
            part = getattr(layer, name)
            part[...] = theta[start : start + part.size].reshape(part.shape)
            start += part.size
    assert start == len(theta)
    return net.loss(net.forward(x), net.one_hot(labels))


def test_landscape_points_are_the_networks_loss_at_those_weights(tiny):
    land = landscape(tiny, STEP, resolution=7, cache=False)
    x, labels, what = landscape_digits(tiny)
    assert what == "1,258 training digits" and land.digits == what  # the run's whole training set (< 2000)
    theta = flatten(tiny.weights(STEP)).astype(np.float64)
    assert land.loss.shape == (7, 7) and np.all(np.isfinite(land.loss))
    for i, j in [(0, 0), (6, 0), (3, 5), (6, 6), (2, 4)]:  # loss[j, i] at (alpha[i], beta[j])
        point = theta + land.alpha[i] * land.d1 + land.beta[j] * land.d2
        assert land.loss[j, i] == pytest.approx(loss_at(tiny, point, x, labels), rel=2e-5)
    # the plane's origin is the snapshot itself: the network the reader gives, on the same digits
    net = tiny.network(STEP)
    assert land.plane_loss[2] == pytest.approx(net.loss(net.forward(x), net.one_hot(labels)), rel=2e-5)


def test_training_digits_are_the_runs_own(tiny):
    from explainer.data import load_dataset

    x, labels, _ = landscape_digits(tiny)
    data = load_dataset("digits", seed=tiny.run.seed)
    np.testing.assert_array_equal(np.sort(labels), np.sort(data.y_train))  # all 1,258, none of val or test
    assert {row.tobytes() for row in x} <= {row.tobytes() for row in data.X_train.astype(x.dtype)}
    x_probe, labels_probe, what = landscape_digits(tiny, "probe")
    assert what == "10 probe digits" and np.array_equal(x_probe, tiny.probe_x)


def test_pca_directions_are_the_trajectorys_principal_ones(tiny):
    land = landscape(tiny, STEP, resolution=3, cache=False)
    P = np.stack([flatten(tiny.weights(int(s))) for s in tiny.snapshot_steps]).astype(np.float64)
    M = P - P[2]  # the snapshots minus theta_s
    _, s, Vt = np.linalg.svd(M, full_matrices=False)
    assert abs(land.d1 @ Vt[0]) == pytest.approx(1, abs=1e-6) and abs(land.d2 @ Vt[1]) == pytest.approx(1, abs=1e-6)
    assert land.d1 @ land.d2 == pytest.approx(0, abs=1e-9) and np.linalg.norm(land.d1) == pytest.approx(1)
    np.testing.assert_allclose(land.explained, s[:2] ** 2 / (s**2).sum(), rtol=1e-6)
    assert land.coords[0, 0] < 0 and land.coords[0, 1] <= 0  # signed: training starts at negative alpha and beta


def test_random_directions_are_filter_normalised(tiny):
    land = landscape(tiny, STEP, directions="random", resolution=3, cache=False, seed=3)
    start = 0
    for W, b in tiny.weights(STEP):
        for d in (land.d1, land.d2):
            D = d[start : start + W.size].reshape(W.shape)
            np.testing.assert_allclose(np.linalg.norm(D, axis=1), np.linalg.norm(W, axis=1), rtol=1e-5)
            assert not d[start + W.size : start + W.size + b.size].any()  # biases: 0
        start += W.size + b.size
    assert land.alpha[0] <= -1 and land.alpha[-1] >= 1 and np.isnan(land.explained).all()
    again = landscape(tiny, STEP, directions="random", resolution=3, cache=False, seed=3)
    np.testing.assert_array_equal(again.d1, land.d1)  # the seed decides the directions


def test_trajectory_is_the_snapshots_projected_onto_the_plane(tiny):
    land = landscape(tiny, STEP, resolution=3, cache=False)
    x, labels, _ = landscape_digits(tiny)
    theta = flatten(tiny.weights(STEP)).astype(np.float64)
    D = np.stack([land.d1, land.d2])  # orthonormal rows
    np.testing.assert_array_equal(land.steps, tiny.snapshot_steps)
    for k, step in enumerate(tiny.snapshot_steps):
        delta = flatten(tiny.weights(int(step))).astype(np.float64) - theta
        np.testing.assert_allclose(land.coords[k], D @ delta, atol=1e-9)
        assert land.off_plane[k] == pytest.approx(np.linalg.norm(delta - (D @ delta) @ D), abs=1e-9)
        assert land.distance[k] == pytest.approx(np.linalg.norm(delta))
        # the snapshot's own loss, and the loss at its shadow on the plane, on the same digits
        assert land.snapshot_loss[k] == pytest.approx(loss_at(tiny, theta + delta, x, labels), rel=2e-5)
        shadow = theta + land.coords[k] @ D
        assert land.plane_loss[k] == pytest.approx(loss_at(tiny, shadow, x, labels), rel=2e-5)
        # the run's own losses at that step
        assert land.recorded_loss[k] == tiny.scalars["loss"][step]
        assert land.probe_loss[k] == tiny.probe_record(int(step)).loss
    assert land.off_plane[2] == 0 and tuple(land.coords[2]) == (0, 0)
    # the grid holds the whole path
    assert land.alpha[0] < land.coords[:, 0].min() and land.alpha[-1] > land.coords[:, 0].max()
    assert land.beta[0] < land.coords[:, 1].min() and land.beta[-1] > land.coords[:, 1].max()


def test_lr_slice_holds_the_losses_of_real_plain_steps(tiny):
    cut = lr_slice(tiny, STEP, points=5, cache=False)
    x, labels, _ = landscape_digits(tiny)
    theta = flatten(tiny.weights(STEP)).astype(np.float64)
    g = flatten(tiny.gradients(STEP)).astype(np.float64)
    assert cut.lr == tiny.learning_rate(STEP) and cut.grad_norm == pytest.approx(np.linalg.norm(g))
    for eta, value in zip(cut.eta, cut.loss):
        assert value == pytest.approx(loss_at(tiny, theta - eta * g, x, labels), rel=2e-5)
    for m, value in zip(cut.multipliers, cut.step_loss):
        assert value == pytest.approx(loss_at(tiny, theta - cut.lr * m * g, x, labels), rel=2e-5)
    # 1, 2, 5, 10, ... times lr, up to the first step that lands higher than it started
    assert cut.multipliers[0] == 1 and cut.overshoot == len(cut.multipliers) - 1
    assert all(v <= cut.start_loss for v in cut.step_loss[:-1]) and cut.step_loss[-1] > cut.start_loss
    assert cut.eta[0] == 0 and cut.eta[-1] == pytest.approx(1.15 * cut.lr * cut.multipliers[-1])


def test_a_second_call_reads_the_cache(copy_of):
    first = landscape(copy_of, STEP, resolution=5)
    folder = copy_of.path.parent / "copy.zarr.landscapes"
    assert first.note.startswith("computed") and os.path.dirname(first.cache) == str(folder)
    assert [p.name for p in folder.iterdir()] == [os.path.basename(first.cache)]  # no temporary file left
    started = time.perf_counter()
    second = landscape(copy_of, STEP, resolution=5)
    assert second.note == f"read from {first.cache}" and time.perf_counter() - started < 2
    for name in ("loss", "alpha", "beta", "coords", "off_plane", "d1", "snapshot_loss", "probe_loss"):
        np.testing.assert_array_equal(getattr(second, name), getattr(first, name))
    assert second.digits == first.digits and second.step == STEP and second.seconds == first.seconds
    # another resolution, direction or step is another file
    assert landscape(copy_of, STEP, resolution=3).note.startswith("computed")
    assert lr_slice(copy_of, STEP, points=5).note.startswith("computed")
    assert lr_slice(copy_of, STEP, points=5).note.startswith("read from")


@pytest.mark.parametrize("damage", ["flipped", "rewritten", "truncated", "stale", "not npz"])
def test_a_damaged_or_stale_cache_file_is_computed_again(copy_of, damage):
    first = landscape(copy_of, STEP, resolution=5)
    path = first.cache
    if damage == "flipped":  # one byte of the loss array changed
        data = bytearray(open(path, "rb").read())
        with np.load(path) as f:
            offset = bytes(data).find(f["loss"].tobytes())
        data[offset + 3] ^= 0x40
        open(path, "wb").write(bytes(data))
    elif damage == "rewritten":  # a well-formed file, its header kept, one number of the loss changed
        with np.load(path) as f:
            arrays = {name: f[name] for name in f.files}
        arrays["loss"][1, 1] += 0.5
        with open(path, "wb") as f:
            np.savez(f, **arrays)
    elif damage == "truncated":
        data = open(path, "rb").read()
        open(path, "wb").write(data[: len(data) // 2])
    elif damage == "stale":  # the file of another step, under this one's name
        other = landscape(copy_of, 10, resolution=5)
        shutil.copyfile(other.cache, path)
    else:
        open(path, "w").write("not a landscape")
    again = landscape(copy_of, STEP, resolution=5)
    assert "stale or damaged" in again.note and "computed again" in again.note and again.cache == path
    assert again.step == STEP
    np.testing.assert_array_equal(again.loss, first.loss)
    assert landscape(copy_of, STEP, resolution=5).note.startswith("read from")  # replaced by a good one


def test_a_trace_folder_that_cannot_be_written_caches_elsewhere(copy_of, tmp_path, monkeypatch):
    import explainer.landscape_cache as cache

    save = cache._save
    beside = copy_of.path.parent / "copy.zarr.landscapes"

    def refuse_beside(path, key, fields):
        if path.parent == beside:
            raise PermissionError(13, "Permission denied", str(path.parent))
        return save(path, key, fields)

    monkeypatch.setattr(cache, "_save", refuse_beside)
    with pytest.warns(UserWarning, match="cannot be written"):
        land = landscape(copy_of, STEP, resolution=3)
    assert land.cache.startswith(str(tmp_path / "cache" / "landscapes")) and "so cached in" in land.note
    assert landscape(copy_of, STEP, resolution=3).note == f"read from {land.cache}"

    def refuse(path, key, fields):
        raise OSError(28, "No space left on device", str(path.parent))

    monkeypatch.setattr(cache, "_save", refuse)
    with pytest.warns(UserWarning, match="not cached"):
        land = landscape(copy_of, STEP, resolution=5)  # computed, returned, never lost to the failed write
    assert land.cache == "" and land.loss.shape == (5, 5)


def test_the_cache_deletes_nothing_it_did_not_make(copy_of):
    folder = copy_of.path.parent / "copy.zarr.landscapes"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    landscape(copy_of, STEP, resolution=3)
    assert (folder / "notes.txt").read_text() == "mine"
    assert sorted(p.suffix for p in folder.iterdir()) == [".npz", ".txt"]


def test_bad_choices_are_one_clear_error(tiny):
    with pytest.raises(ValueError, match="directions must be one of 'pca', 'random'; got 'pcaa'"):
        landscape(tiny, STEP, directions="pcaa")
    with pytest.raises(ValueError, match="resolution must be a whole number from 3 to 201; got 2"):
        landscape(tiny, STEP, resolution=2)
    with pytest.raises(ValueError, match="digits must be one of 'train', 'probe'"):
        landscape(tiny, STEP, digits="test")
    with pytest.raises(TraceError, match="step 5000 is outside the run"):
        landscape(tiny, 5000)


def test_the_digits_cost_is_minus_log_p_of_its_class(tiny):
    story = descent_story(tiny, 4, STEP, resolution=3)
    record = tiny.probe_record(STEP)
    label = int(tiny.probe_labels[4])
    assert story.digit_loss == pytest.approx(-math.log(record.probabilities[4][label]), rel=1e-6)
    f = formulas_of(tiny, STEP)
    assert story.digit_tex[0] == f.loss == r"\ell = -\sum_k y_k \log a^{L}_k"
    p = record.probabilities[4][label]
    assert story.digit_tex[1].startswith(rf"= -\log a^{{L}}_{{{label}}} = -\log {p:.3g}"[:26])
    # the average: each probe digit's cost, their mean, the penalty: the trace's probe loss
    expected = [-math.log(record.probabilities[n][tiny.probe_labels[n]]) for n in range(10)]
    np.testing.assert_allclose(story.probe_losses, expected, rtol=1e-6)
    W = [W for W, _ in tiny.weights(STEP)]
    assert story.penalty == pytest.approx(tiny.run.l2 / 2 * sum(float((w.astype(float) ** 2).sum()) for w in W))
    assert story.probe_mean + story.penalty == pytest.approx(record.loss, rel=1e-5)
    assert story.batch_loss == tiny.scalars["loss"][STEP] and story.formulas.cost == f.cost
    assert story.land.step == STEP and story.cut.step == STEP


def test_the_digits_cost_with_mse_is_half_the_squared_error(tiny_mse):
    story = descent_story(tiny_mse, 2, STEP, resolution=3)
    record = tiny_mse.probe_record(STEP)
    a, y = record.probabilities[2], np.eye(10)[tiny_mse.probe_labels[2]]
    assert story.digit_loss == pytest.approx(0.5 * ((a - y) ** 2).sum(), rel=1e-6)
    assert story.digit_tex[0] == formulas_of(tiny_mse, STEP).loss == r"\ell = \tfrac{1}{2} \lVert a^{L} - y \rVert^2"
    assert rf"\tfrac{{1}}{{2}} \cdot {((a - y) ** 2).sum():.4g}"[:20] in story.digit_tex[1]
    assert story.probe_mean + story.penalty == pytest.approx(record.loss, rel=1e-5)
    assert story.plain_note == ("a plain step like these", "is this run's own update (SGD)")
    assert story.cut.lr == 0.5


def test_digit_tex_shows_enough_digits_to_give_its_value():
    y = np.eye(3)[0]
    for p in (0.99926, 0.832, 0.5, 0.05):
        a = np.array([p, (1 - p) / 2, (1 - p) / 2])
        value = -math.log(p)
        shown = digit_tex("cross_entropy", "", a, y, value)[1]
        p_shown, value_shown = shown.split(r"-\log ")[2].split(" = ")
        assert f"{-math.log(float(p_shown)):.3g}" == f"{float(value_shown):.3g}"  # -log of what is shown


def test_warns_and_uses_the_probe_digits_when_the_split_is_not_the_runs(tiny, monkeypatch):
    import explainer.data

    real = explainer.data.load_dataset
    monkeypatch.setattr(explainer.data, "load_dataset", lambda name, **kw: real(name, **{**kw, "seed": 1}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        x, labels, what = landscape_digits(tiny)
    assert what == "10 probe digits" and "does not hold its probe digits" in str(caught[0].message)


def test_the_colour_bar_always_has_numbers_inside_its_range():
    from explainer.chapters.descent import colour_ticks, ticks_within

    for low, high in [(2.23, 2.39), (0.09, 2.6), (0.0423, 2.08), (0.3, 0.9), (1e-4, 1e-4 * 1.01)]:
        ticks = colour_ticks(low, high)
        assert 3 <= len(ticks) <= 6 and low <= ticks.min() and ticks.max() <= high, (low, high, ticks)
    np.testing.assert_array_equal(ticks_within(-15.85, 2.64), [-15, -10, -5, 0])


def test_the_command_computes_then_reads_and_refuses_bad_input_in_one_line(copy_of, capsys):
    from explainer.cli import main

    assert main(["landscape", str(copy_of.path), "--step", "20", "--resolution", "5", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "landscape    step 20, 5 x 5 points, pca directions, on 1,258 training digits" in out
    assert "cache        computed in" in out and "copy.zarr.landscapes" in out
    assert main(["landscape", str(copy_of.path), "--step", "20", "--resolution", "5", "--quiet"]) == 0
    assert out.count("computed in") == 2 and capsys.readouterr().out.count("read from") == 2  # landscape, slice
    for bad, message in ((["--directions", "sideways"], "--directions must be one of pca, random"),
                         (["--resolution", "1"], "--resolution must be a whole number from 3 to 201"),
                         (["--step", "99999"], "--step 99999 is outside the run")):
        assert main(["landscape", str(copy_of.path), *bad]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"explainer: error: {message}") and err.count("\n") == 1


@pytest.mark.parametrize(("optimizer", "lr", "decay", "note"), [
    ("momentum", 0.05, 1.0, ("this run's own update was momentum's,", "which adds up the past steps' gradients")),
    ("rmsprop", 0.002, 0.5, ("this run's own update was RMSprop's,", "which scales each weight's step")),
    ("adam", 0.004, 0.5, ("this run's own update was Adam's,", "which scales each weight's step"))])
def test_the_plain_steps_use_the_learning_rate_in_force_and_name_the_runs_optimiser(optimizer, lr, decay, note,
                                                                                   tmp_path):
    """GradientDescent's slice: plain steps of the rate in force at the step (the decay applied, counted here
    from the epoch), and a note that the run's own update was its optimiser's, not a plain step."""
    trace = record(tmp_path / f"{optimizer}.zarr", optimizer=optimizer, lr=lr, lr_decay=decay, epochs=2)
    step = int(trace.snapshot_steps[-2])  # in the second epoch
    epoch = step // trace.run.steps_per_epoch
    assert epoch == 1
    story = descent_story(trace, 0, step, resolution=3)
    assert story.cut.lr == pytest.approx(lr * decay ** epoch, rel=1e-12)
    assert story.formulas.lr == story.cut.lr and story.formulas.optimizer_name == optimizer
    assert story.plain_note == note
    assert story.digit_tex[0] == r"\ell = -\sum_k y_k \log a^{L}_k"  # the run's loss, cross-entropy
