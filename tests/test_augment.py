"""Augmentation (explainer/augment.py): each change does what it says, runs repeat to the bit, and a run
without it is the run it was before augmentation existed."""

import hashlib
import json

import numpy as np
import pytest

from explainer import Experiment, TrainConfig, run
from explainer.augment import Augment, parse_augment, placement, restroke, transform
from explainer.cli import main
from explainer.data import load_dataset
from explainer.trace import Trace, TraceError
from explainer.trace.store import seal

# The weights after these runs, hashed (sha256 of every W and b in net.params order), recorded by running
# the code of commit f8a677f, before augmentation existed (the float32 products of this machine's BLAS)
BEFORE = {
    "digits_dense_2ep_seed3": ("12043905a53db1095f9834620ce712d99f8a586351fb24df5a77641494ed5062",
                               dict(epochs=2, seed=3)),
    "digits_cnn_1ep_seed1": ("17adf42a4456e20c1bd6a124eef1a90a03949765579317ac70ab8ef73ab46206",
                             dict(arch="cnn", conv=(4,), hidden=(16,), epochs=1, seed=1)),
}


def weights_hash(net):
    digest = hashlib.sha256()
    for p in net.params:
        digest.update(np.ascontiguousarray(p).tobytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", seed=0)


def identity(batch):
    return np.repeat(np.eye(2)[:, :, None], batch, axis=2)  # (2, 2, batch)


def test_a_whole_pixel_shift_moves_the_image_exactly():
    image = np.zeros((1, 12, 10, 1), dtype=np.float32)
    image[0, 4:8, 3:6, 0] = np.arange(12).reshape(4, 3) + 1  # room on every side
    moved = transform(image, identity(1), np.array([[2.0], [-3.0]]))  # 2 rows down, 3 columns left
    expected = np.zeros_like(image)
    expected[0, 6:10, 0:3, 0] = image[0, 4:8, 3:6, 0]
    np.testing.assert_array_equal(moved, expected)


def test_a_shift_stops_at_the_frames_edge_and_keeps_every_bit_of_ink():
    image = np.zeros((1, 8, 8, 1))
    image[0, 2:6, 5, 0] = 1.0  # a bar two columns from the right edge
    moved = transform(image, identity(1), np.array([[0.0], [5.0]]))  # asked to move 5 columns right
    assert moved[0, 2:6, 7, 0].tolist() == [1.0] * 4  # it moved 2: to the edge, not over it
    assert moved.sum() == image.sum()


def test_ink_stays_in_the_frame_however_far_each_change_goes(digits):
    """The largest setting of everything, on real digits (which fill all 8 rows): every inked pixel's
    new place is inside the frame. Asked for as drawn, most of them would leave it."""
    images = digits.X_train[:200].reshape(-1, 8, 8, 1)
    augment = Augment(shift=4, rotate=45, slant=45, scale=0.5, stretch=0.5)
    rng = np.random.default_rng(0)
    angle, slant = np.deg2rad(45) * rng.uniform(-1, 1, 200), np.tan(np.deg2rad(45) * rng.uniform(-1, 1, 200))
    size = 1 + augment.scale * rng.uniform(-1, 1, 200)
    cos, sin, zero, one = np.cos(angle), np.sin(angle), np.zeros(200), np.ones(200)
    A = size * np.einsum("ijb,jkb->ikb", np.array([[cos, sin], [-sin, cos]]), np.array([[one, zero], [-slant, one]]))
    t = 4 * rng.uniform(-1, 1, (2, 200))

    def landing(A, t, centre):  # (2, n) where each inked pixel of each image goes
        b, r, c = np.nonzero(images[..., 0])
        p = np.stack([r, c]) - centre[:, b]
        return np.einsum("ijn,jn->in", A[:, :, b], p) + centre[:, b] + t[:, b]

    placed = landing(*placement(images, A, t))
    assert placed.min() >= -1e-9 and placed[0].max() <= 7 + 1e-9 and placed[1].max() <= 7 + 1e-9
    asked = landing(A, t, placement(images, A, t)[2])
    assert ((asked < -0.5) | (asked > 7.5)).any(axis=0).mean() > 0.25, "the test asks too little to show anything"
    out = augment(digits.X_train[:200], (8, 8), np.random.default_rng(1))
    assert out.shape == (200, 64) and out.dtype == digits.X_train.dtype
    assert (out >= 0).all() and (out.sum(axis=1) > 0).all()  # no digit lost all its ink


def test_a_slant_keeps_the_height_and_leans_the_top_forward():
    image = np.zeros((1, 8, 8, 1))
    image[0, :, 3, 0] = 1.0  # an upright bar over all 8 rows, centred on column 3
    slant = np.tan(np.deg2rad(20))
    A = np.array([[1.0, 0.0], [-slant, 1.0]])[:, :, None]  # (2, 2, 1): rows slide sideways
    leaned = transform(image, A, np.zeros((2, 1)))[0, :, :, 0]
    cols = (leaned * np.arange(8)).sum(axis=1) / leaned.sum(axis=1)  # each row's centre of ink
    assert (leaned.sum(axis=1) > 0.99).all()  # ink in every row: the height stays
    assert cols[0] > 3 > cols[-1]  # the top leans right (forward), the foot left
    np.testing.assert_allclose(cols[0] - cols[-1], 7 * slant, atol=1e-6)


def test_stroke_thickens_and_thins():
    image = np.zeros((1, 7, 7, 1))
    image[0, 3, 1:6, 0] = 1.0  # a one-pixel stroke
    image[0, 2:5, 3, 0] = 1.0
    thick = restroke(image, np.array([1.0]))
    assert thick.sum() > image.sum() and (thick >= image).all()
    assert thick[0, 2, 1, 0] == 1.0  # the row above the stroke is inked
    thin = restroke(image, np.array([-0.5]))
    assert (thin <= image).all() and thin.sum() < image.sum()
    np.testing.assert_array_equal(restroke(image, np.array([0.0])), image)


def test_works_on_28x28_and_channels_and_leaves_the_batch_alone():
    rng = np.random.default_rng(0)
    x = np.zeros((5, 28, 28), dtype=np.float32)
    x[:, 8:20, 12:16] = 1.0
    x = x.reshape(5, -1)
    before = x.copy()
    out = Augment(shift=2, rotate=10, scale=0.1, stroke=0.5)(x, (28, 28), rng)
    assert out.shape == x.shape and out.dtype == np.float32
    np.testing.assert_array_equal(x, before)  # the batch given is not changed in place
    assert not np.array_equal(out, x)
    two = np.stack([x, 0.5 * x], axis=-1).reshape(5, -1)  # (5, 28*28*2): two channels, moved together
    out2 = Augment(shift=2)(two, (28, 28), np.random.default_rng(3))
    out1 = Augment(shift=2)(x, (28, 28), np.random.default_rng(3))
    np.testing.assert_array_equal(out2.reshape(5, 784, 2)[..., 0], out1)
    np.testing.assert_array_equal(out2.reshape(5, 784, 2)[..., 1], 0.5 * out1)


def test_the_same_seed_gives_the_same_augmented_run_to_the_bit():
    setting = Augment(slant=15, stretch=0.1, stroke=0.3)
    a = run(Experiment.preset("digits", epochs=2, seed=5, augment=setting), progress=False)
    b = run(Experiment.preset("digits", epochs=2, seed=5, augment=setting), progress=False)
    plain = run(Experiment.preset("digits", epochs=2, seed=5), progress=False)
    assert weights_hash(a.net) == weights_hash(b.net) != weights_hash(plain.net)
    np.testing.assert_array_equal(a.data.y_train, plain.data.y_train)  # the labels are the data set's
    np.testing.assert_array_equal(a.data.X_train, plain.data.X_train)  # and so are the images: copies change


def test_a_cnn_trains_with_augmentation_too():
    setting = Augment(shift=1, slant=10)
    runs = [run(Experiment.preset("digits", "cnn", conv=(4,), hidden=(16,), epochs=1, seed=1, augment=setting),
                progress=False) for _ in range(2)]
    assert weights_hash(runs[0].net) == weights_hash(runs[1].net) != BEFORE["digits_cnn_1ep_seed1"][0]
    val_loss = [epoch["val_loss"] for epoch in runs[0].history.epochs]
    assert val_loss[0] < np.log(10)  # below a uniform guess's loss after one epoch of changed images


@pytest.mark.parametrize("name", list(BEFORE))
@pytest.mark.parametrize("augment", [None, Augment()])  # all settings 0 is off too
def test_without_augmentation_a_run_is_the_one_it_was_before(name, augment):
    expected, settings = BEFORE[name]
    settings = dict(settings)
    arch = settings.pop("arch", "mlp")
    net = run(Experiment.preset("digits", arch, **settings, augment=augment), progress=False).net
    assert weights_hash(net) == expected


def test_settings_are_checked_and_written_as_the_command_line_takes_them():
    assert str(parse_augment(" stroke=0.3, slant=15 ")) == "slant=15,stroke=0.3"
    assert parse_augment("none") == Augment() and not Augment().on
    assert TrainConfig(augment=Augment()).augment is None and "augment" not in TrainConfig().to_dict()
    assert TrainConfig(augment={"slant": 15}).to_dict()["augment"]["slant"] == 15
    assert "augment" not in Experiment.preset("digits").to_dict()  # the default trace's name stays
    for text, words in [("slant=90", "slant (degrees an image leans"), ("tilt=3", "takes settings from shift"),
                        ("slant", "takes settings from"), ("shift=x", "shift must be a number"),
                        ("shift=nan", "finite")]:
        with pytest.raises(ValueError, match=words.replace("(", r"\(")):
            parse_augment(text)
    with pytest.raises(ValueError, match="augment rotate .* from 0 to 45; got -1"):
        Augment(rotate=-1)
    assert TrainConfig(augment="slant=12,stretch=0.1").augment == Augment(slant=12, stretch=0.1)
    assert Experiment.preset("digits", augment="slant=12").augment == Augment(slant=12)
    with pytest.raises(ValueError, match="augment takes settings from shift"):
        TrainConfig(augment="tilt=15")
    with pytest.raises(TypeError, match="augment must be an explainer.Augment"):
        TrainConfig(augment=15)


def test_the_flag_reaches_the_trace_and_explainer_info(tmp_path, capsys):
    path = tmp_path / "run.zarr"
    assert main(["train", "--epochs", "1", "--hidden", "8", "--augment", "slant=12,stroke=0.25", "--out", str(path),
                 "--no-progress"]) == 0
    assert "augmented    slant=12,stroke=0.25" in capsys.readouterr().out
    assert Trace.open(path).run.training.augment == Augment(slant=12, stroke=0.25)
    assert main(["info", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["training"]["augment"] == Augment(slant=12, stroke=0.25).to_dict()
    assert main(["info", str(path)]) == 0
    assert "augmented    slant=12,stroke=0.25" in capsys.readouterr().out


def test_an_augmented_run_needs_schema_6_and_a_plain_one_opens_as_5(tmp_path, capsys):
    """An explainer of before augmentation reads schema 5 and would show an augmented run as a plain one: an
    augmented trace is of version 6 (which it refuses), and one marked 5 is damaged; a plain run's trace marked
    5 opens as it is."""
    for name, extra in (("augmented", ["--augment", "slant=12"]), ("plain", [])):
        path = tmp_path / f"{name}.zarr"
        assert main(["train", "--epochs", "1", "--hidden", "4", *extra, "--out", str(path), "--no-progress"]) == 0
        assert Trace.open(path).schema_version == 6
        meta = json.loads((path / "zarr.json").read_text())
        meta["attributes"] = seal({**meta["attributes"], "schema_version": 5})
        (path / "zarr.json").write_text(json.dumps(meta))
    with pytest.raises(TraceError, match=r"records augmentation \(slant=12\), which schema version 5 cannot hold"):
        Trace.open(tmp_path / "augmented.zarr")
    assert Trace.open(tmp_path / "plain.zarr").verify().run.training.augment is None


def test_a_trace_without_augmentation_says_none(tmp_path, capsys):
    path = tmp_path / "plain.zarr"
    assert main(["train", "--epochs", "1", "--hidden", "8", "--out", str(path), "--no-progress"]) == 0
    capsys.readouterr()
    assert Trace.open(path).run.training.augment is None
    assert main(["info", str(path)]) == 0
    assert "augmented    none" in capsys.readouterr().out


@pytest.mark.parametrize("augment,words", [({"slant": 12, "bend": 1}, "a setting 'bend' that no augmentation has"),
                                           ({"slant": 90}, "holds settings no run can have"),
                                           ("slant=12", "is 'slant=12', not an object")])
def test_a_trace_whose_augmentation_no_run_can_have_is_damaged(tmp_path, capsys, augment, words):
    """Recorded settings are checked like every other (a consistent but wrong writer: the digest matches)."""
    path = tmp_path / "run.zarr"
    assert main(["train", "--epochs", "1", "--hidden", "4", "--augment", "slant=12", "--out", str(path),
                 "--no-progress"]) == 0
    meta = json.loads((path / "zarr.json").read_text())
    meta["attributes"]["config"]["training"]["augment"] = augment
    meta["attributes"] = seal(meta["attributes"])
    (path / "zarr.json").write_text(json.dumps(meta))
    with pytest.raises(TraceError, match=words):
        Trace.open(path)  # the run is read and checked as the trace opens


@pytest.mark.parametrize("value,words", [("slant=60", "must be a number from 0 to 45; got 60"),
                                         ("bend=1", "--augment takes settings from shift, rotate, slant")])
def test_a_bad_value_is_one_line_and_exit_code_2(capsys, value, words):
    assert main(["train", "--augment", value, "--no-progress"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("explainer: error: ") and words in lines[0], captured.err
    assert captured.out == ""


def test_slanted_leans_every_image_by_exactly_the_angle_and_keeps_its_ink():
    from explainer.augment import slanted

    stroke = np.zeros((2, 8, 8), dtype=np.float32)
    stroke[:, 1:7, 3] = 1  # a vertical stroke, rows 1 to 6, in two images
    np.testing.assert_array_equal(slanted(stroke.reshape(2, 64), (8, 8), 0), stroke.reshape(2, 64))
    leaned = slanted(stroke.reshape(2, 64), (8, 8), 30).reshape(2, 8, 8)
    assert leaned.dtype == np.float32
    rows = leaned[0, 1:7]  # (6, 8)
    np.testing.assert_allclose(rows.sum(axis=1), 1, atol=1e-6)  # each row keeps its ink, slid sideways
    centre = (rows * np.arange(8)).sum(axis=1)  # (6,) where each row's ink lies
    np.testing.assert_allclose(np.diff(centre), -np.tan(np.radians(30)), atol=1e-5)  # the top to the right
    np.testing.assert_array_equal(leaned[0], leaned[1])


def test_notebook_04s_claim_the_augmented_network_reads_leaned_digits_and_upright_ones_as_well():
    """Notebook 04 trains the 8x8 preset with and without --augment slant=12,stretch=0.1 and says: upright, about
    equally well; leaned 20 degrees either way, the augmented one reads far more."""
    from explainer import Experiment, run
    from explainer.augment import slanted

    plain = run(Experiment.preset("digits"), progress=False)
    leaning = run(Experiment.preset("digits", augment="slant=12,stretch=0.1"), progress=False)
    data = plain.data

    def accuracy(result, degrees):
        return np.mean(result.net.predict(slanted(data.X_test, data.image_shape, degrees)) == data.y_test)

    assert abs(accuracy(plain, 0) - accuracy(leaning, 0)) < 0.015
    for degrees in (-20, 20):
        assert accuracy(leaning, degrees) > accuracy(plain, degrees) + 0.08
