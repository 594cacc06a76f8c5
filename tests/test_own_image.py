"""A student's own digit picture, prepared the way MNIST (or the 8x8 digits) were made."""

import io

import numpy as np
import pytest
from matplotlib import colormaps
from PIL import Image, ImageDraw

from explainer.data import prepare_image, read_ink
from explainer.errors import DataError


def stroke_picture(size=(600, 400), ink=0, paper=255, offset=(0, 0), width=30):
    """A '7' drawn off-centre on a large picture: dark on light by default."""
    img = Image.new("L", size, paper)
    draw = ImageDraw.Draw(img)
    dx, dy = offset
    draw.line([(60 + dx, 40 + dy), (220 + dx, 40 + dy), (110 + dx, 330 + dy)], fill=ink, width=width)
    return img


def png(img, **kwargs):
    buffer = io.BytesIO()
    img.save(buffer, format=kwargs.pop("format", "PNG"), **kwargs)
    return buffer.getvalue()


def centre_of_mass(x):
    rows, cols = np.indices(x.shape)
    return (rows * x).sum() / x.sum(), (cols * x).sum() / x.sum()


def test_mnist_style_crops_fits_20x20_and_centres_by_mass():
    x = prepare_image(png(stroke_picture()), (28, 28))
    assert x.shape == (784,) and x.dtype == np.float32
    assert 0 <= x.min() and x.max() <= 1 and x.max() > 0.9  # ink 1, paper 0, like X_train
    image = x.reshape(28, 28)
    cy, cx = centre_of_mass(image)
    assert abs(cy - 14) < 0.6 and abs(cx - 14) < 0.6
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    height, width = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    assert 19 <= height <= 21  # the longer side (the 7 is taller than wide) fills the 20-pixel box
    assert width < height  # the aspect ratio was kept
    assert image[0].sum() == image[-1].sum() == 0  # a margin all round, as in MNIST


def test_where_the_digit_sits_in_the_picture_does_not_matter():
    centred = prepare_image(png(stroke_picture()), (28, 28))
    moved = prepare_image(png(stroke_picture(offset=(250, 40))), (28, 28))
    np.testing.assert_allclose(moved, centred, atol=1e-5)


def test_light_on_dark_is_inverted():
    dark_on_light = prepare_image(png(stroke_picture()), (28, 28))
    light_on_dark = prepare_image(png(stroke_picture(ink=255, paper=0)), (28, 28))
    np.testing.assert_allclose(light_on_dark, dark_on_light, atol=1e-5)
    # grey paper and grey ink: the same digit, however faint
    faint = prepare_image(png(stroke_picture(ink=90, paper=160)), (28, 28))
    np.testing.assert_allclose(faint, dark_on_light, atol=0.05)


def test_transparent_background_takes_the_ink_from_opacity():
    strokes = stroke_picture(ink=255, paper=0)  # the opacity: 255 on the strokes
    rgba = Image.new("RGBA", strokes.size, (30, 60, 200, 0))  # blue strokes on nothing
    rgba.putalpha(strokes)
    np.testing.assert_allclose(prepare_image(png(rgba)), prepare_image(png(stroke_picture())), atol=1e-5)


def test_colour_jpeg_with_noise_still_centres():
    rng = np.random.default_rng(0)
    grey = np.asarray(stroke_picture(), dtype=float) + rng.normal(0, 12, (400, 600))
    rgb = Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8)).convert("RGB")
    x = prepare_image(png(rgb, format="JPEG", quality=40), (28, 28)).reshape(28, 28)
    cy, cx = centre_of_mass(x)
    assert abs(cy - 14) < 1 and abs(cx - 14) < 1
    assert (x > 0).mean() < 0.35  # noise was not taken for ink


def test_digits_style_8x8_is_in_sixteenths_and_fills_the_height():
    x = prepare_image(png(stroke_picture()), (8, 8))
    assert x.shape == (64,) and x.dtype == np.float32
    np.testing.assert_allclose(x * 16, np.round(x * 16), atol=1e-6)  # counts of 0-16 inked pixels, / 16
    image = x.reshape(8, 8)
    assert image[0].any() and image[-1].any()  # the tall 7 spans the whole height, as the 8x8 digits do
    assert image.max() <= 1 and image.max() >= 0.5


def test_digits_style_fits_the_height_and_width_of_the_8x8_digits():
    # the 8x8 digits span all 8 rows but only about 6 of the 8 columns (a wide 7 is squeezed in)
    from sklearn.datasets import load_digits

    columns = (load_digits().images > 0).any(axis=1).sum(axis=1)  # (n,) inked columns of each digit
    seven = prepare_image(png(stroke_picture()), (8, 8)).reshape(8, 8)
    assert seven.any(axis=1).all()  # all 8 rows
    assert np.percentile(columns, 5) <= seven.any(axis=0).sum() <= np.percentile(columns, 95)


def test_digits_style_thickens_thin_strokes_and_keeps_a_1_upright():
    # a 1 drawn as a thin stroke (half a pixel at 32x32) is thickened to 3 pixels, not lost to
    # the black-and-white threshold, and is not stretched sideways into a block
    one = Image.new("L", (300, 400), 255)
    ImageDraw.Draw(one).line([(150, 30), (150, 370)], fill=0, width=6)
    image = prepare_image(png(one), (8, 8)).reshape(8, 8)
    assert image.any(axis=1).all() and image.any(axis=0).sum() <= 2
    assert image.sum() * 16 >= 32 * 3  # inked pixels of the 32x32 bitmap: 32 rows, 3 wide


def test_array_and_pillow_sources_agree_with_png_bytes():
    img = stroke_picture()
    expected = prepare_image(png(img))
    np.testing.assert_allclose(prepare_image(img), expected, atol=1e-6)
    np.testing.assert_allclose(prepare_image(np.asarray(img)), expected, atol=1e-6)
    np.testing.assert_allclose(prepare_image(np.asarray(img) / 255.0), expected, atol=1e-5)


def test_read_ink_marks_the_strokes_only():
    ink = read_ink(stroke_picture())
    assert ink.shape == (400, 600)
    assert ink.max() == 1 and ink[0, 0] == 0
    assert 0.01 < (ink > 0).mean() < 0.2


@pytest.mark.parametrize("source, words", [
    (b"this is not a picture", "not a picture"),
    (b"", "empty"),
    (np.full((60, 60), 200, dtype=np.uint8), "blank"),
    (np.random.default_rng(1).integers(0, 256, (80, 80)), "does not look like a digit"),
    (np.zeros((4, 4)), "4x4 pixels"),
    (np.array([[0.0, np.nan] * 10] * 20), "NaN"),
    ("/no/such/picture.png", "no picture at"),
])
def test_bad_pictures_say_what_is_wrong(source, words):
    with pytest.raises(DataError, match=words):
        prepare_image(source)


def test_a_huge_picture_is_refused_before_it_is_decoded():
    huge = png(Image.new("1", (12_000, 9_000), 1))  # 108 million pixels, a few kB of PNG
    with pytest.raises(DataError, match="12000x9000 pixels"):
        prepare_image(huge)


def test_a_photo_of_a_scene_is_refused():
    gradient = (colormaps["viridis"](np.linspace(0, 1, 120 * 160).reshape(120, 160))[..., :3] * 255).astype(np.uint8)
    with pytest.raises(DataError, match="does not look like a digit"):
        prepare_image(png(Image.fromarray(gradient)))


def test_unknown_image_shape_names_the_choices():
    with pytest.raises(ValueError, match=r"\(28, 28\), \(8, 8\)"):
        prepare_image(png(stroke_picture()), (16, 16))


# -- the 8x8 digits stand upright: a slanted drawing is deskewed before it is prepared ------------------

def sheared(img, slant):
    """``img`` with row y slid ``slant * (y - middle)`` columns right: slant < 0 leans the top forward (right)."""
    w, h = img.size
    return img.transform((w, h), Image.Transform.AFFINE, (1, -slant, slant * h / 2, 0, 1, 0),
                         resample=Image.Resampling.BILINEAR, fillcolor=255)


def ring():
    """An upright 0: an ellipse, symmetric, so its slant (mu11 / mu02) is 0."""
    img = Image.new("L", (400, 400), 255)
    ImageDraw.Draw(img).ellipse([130, 40, 270, 360], outline=0, width=26)
    return img


def before_deskew(source):
    """The 8x8 preparation without the deskewing (as it was before): the slanted digit as drawn."""
    from explainer.data import own_image

    return own_image._blocks(own_image._digits_bitmap(read_ink(source))).reshape(-1)


@pytest.mark.parametrize("slant", [-0.35, 0.25])
def test_deskew_removes_a_known_shear(slant):
    from explainer.data.own_image import _slant, deskew

    upright = prepare_image(ring(), (8, 8))
    leaning = sheared(ring(), slant)
    assert _slant(read_ink(leaning)) == pytest.approx(slant, abs=0.02)  # the moments read the shear back
    assert abs(_slant(deskew(read_ink(leaning)))) < 0.02  # and the deskewed ink stands upright
    # prepared, the leaning 0 comes out as the upright one, within a pixel's edge here and there
    assert np.abs(prepare_image(leaning, (8, 8)) - upright).sum() * 16 <= 6
    assert np.abs(before_deskew(leaning) - upright).sum() * 16 > 60  # without the deskewing: far from it


def test_an_upright_stroke_is_left_as_it_is():
    from explainer.data.own_image import _crop, deskew

    one = Image.new("L", (300, 400), 255)
    ImageDraw.Draw(one).line([(150, 30), (150, 370)], fill=0, width=14)
    ink = read_ink(one)
    np.testing.assert_array_equal(deskew(ink), _crop(ink))  # no slant: no shear, to the bit
    np.testing.assert_array_equal(prepare_image(one, (8, 8)), before_deskew(one))
    np.testing.assert_array_equal(prepare_image(ring(), (8, 8)), before_deskew(ring()))


@pytest.mark.parametrize("top, bottom, columns", [((190, 30), (110, 370), 2),  # a 1 leaning 13 degrees
                                                  ((300, 30), (60, 370), 2)])  # and 35 degrees, the limit
def test_a_slanted_1_becomes_a_thin_upright_stroke(top, bottom, columns):
    one = Image.new("L", (400, 400), 255)
    ImageDraw.Draw(one).line([top, bottom], fill=0, width=8)
    image = prepare_image(one, (8, 8)).reshape(8, 8)
    assert image.any(axis=1).all() and image.any(axis=0).sum() <= columns  # all 8 rows, a column or two wide
    assert 32 * 3 <= image.sum() * 16 <= 32 * 5  # a stroke 3 to 5 pixels wide in the 32x32 bitmap, no blot
    assert before_deskew(one).reshape(8, 8).any(axis=0).sum() >= columns + 2  # as drawn: a diagonal


def test_a_1_written_flatter_than_the_limit_is_set_upright_only_that_far():
    one = Image.new("L", (400, 400), 255)
    ImageDraw.Draw(one).line([(380, 30), (20, 370)], fill=0, width=8)  # 47 degrees: a slant of -1.06
    image = prepare_image(one, (8, 8)).reshape(8, 8)
    rows_ink = (image > 0).sum(axis=1)  # (8,) inked blocks per row
    assert image.any(axis=1).all() and rows_ink.max() <= 3  # still one thin stroke in every row...
    left = [np.flatnonzero(row)[0] for row in image]
    assert left[0] > left[-1]  # ...leaning as it was, less (the 0.36 left over)
    assert image.any(axis=0).sum() < before_deskew(one).reshape(8, 8).any(axis=0).sum()
