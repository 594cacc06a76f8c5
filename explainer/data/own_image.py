"""A student's own digit (a photo, a scan, a drawing) turned into a network input.

The network only knows digits prepared the way its training set was, so a
picture goes through the same steps:

- **28x28 (MNIST)**: LeCun et al. took each digit's ink, fitted it into a
  20x20 box keeping its aspect ratio (anti-aliased, hence grey levels), and
  placed it in a 28x28 field so that its centre of mass sits at the centre.
- **8x8 (scikit-learn digits)**: each digit was scaled to the full height
  and at most the middle 20 columns of a 32x32 black-and-white bitmap, with
  strokes about 3 pixels wide, the bitmap cut into 4x4 blocks, and each
  block's count of inked pixels (0-16) kept; the loader then divides by 16.
  Those digits stand nearly upright, so a slanted drawing is first set
  upright (:func:`deskew`), as MNIST's digits, which were not, are not.

Either way the result is what the data loaders give: ink 1, paper 0, float32
in [0, 1], flattened row by row::

    x = prepare_image("my_seven.png", (28, 28))    # (784,) float32, like a row of X_train
    net.predict(x[None])

The picture may be any size, dark ink on light paper or light on dark (the
paper is whatever colour its border is), a PNG or JPEG (file, bytes, Pillow
image) or an array of grey levels such as a drawn canvas.

A picture that is not a digit is refused, with a :class:`DataError` that
says why, before the network can blow it up to fill the box and read it as
one (a single dot would come out as "4, 96%"). The rules
(:func:`check_digit_like`), each a constant below, checked in this order:

- **size**: 8 to 8000 pixels a side (``MIN_SIDE``, ``MAX_SIDE``);
- **blank**: no pixel differs from the paper by ``MIN_CONTRAST`` of the grey range;
- **too much ink**: more than ``MAX_INK_SHARE`` of the picture (a photo, a pattern);
- **too little ink**: fewer than ``MIN_INK_PIXELS`` inked pixels, or ink spanning less than
  ``MIN_EXTENT`` of the picture's shorter side (a speck);
- **too wide**: the ink is more than ``MAX_WIDTH_RATIO`` times as wide as it is tall (a dash, a
  row of several digits);
- **scattered**: the three largest connected pieces of ink hold less than ``MIN_CONNECTED``
  of it (noise, grain);
- **not plain paper**: the paper around the ink varies like a photo's: its 90th percentile
  is ``MAX_PAPER_TEXTURE`` of the ink's strength or more (a scene, a shadow, a smooth gradient);
- **no strokes**: the ink is one solid blob: fitted in 20x20 like MNIST, its mean thickness
  (twice its area over its outline) is ``MAX_THICKNESS`` of the box or more (a dot, a smudge).

The thresholds were read off the data: MNIST's 10,000 test digits and the 1,797 8x8 digits,
as pictures at their own size and ten times larger, with and without noise, pass every
rule with room to spare (docs/deploy.md gives the numbers). :data:`UNSURE_BELOW` is the
other half: a digit-like picture the network reads with less confidence than that is
reported as "not sure" (:func:`is_unsure`), in ``explainer predict`` and the dashboards.
"""

import io
import os
import warnings

import numpy as np
from PIL import Image, ImageFilter, UnidentifiedImageError
from scipy import ndimage

from ..errors import DataError
from .digits import DIGITS_MAX_VALUE

__all__ = ["prepare_image", "read_ink", "check_digit_like", "is_unsure", "mnist_style", "digits_style", "deskew",
           "MAX_SIDE", "MIN_SIDE", "UNSURE_BELOW"]

MIN_SIDE = 8  # pixels: anything smaller cannot hold a digit
MAX_SIDE = 8000  # pixels: anything larger is a mistake (or a decompression bomb)
MIN_CONTRAST = 0.15  # ink must differ from the paper by this share of the grey range
INK_LEVEL = 0.25  # a pixel is ink when it is this far from the paper (noise and JPEG ringing are not)
DIGITS_BOX = (32, 20)  # an 8x8 digit's height and greatest width in its 32x32 bitmap
MAX_SLANT = 0.7  # columns per row (35 degrees) at most are sheared away (MNIST: 98% of digits slant less)
SLANT_STEPS = 64  # the slant is rounded to 1/64 column per row, so the web page shears alike to the bit
MAX_INK_SHARE = 0.6  # a digit covers under 60% of its picture (an 8x8 digit, cropped tight: 56%); a photo more
MIN_INK_PIXELS = 12  # fewer inked pixels is a speck (the 8x8 digits have 16 at least, MNIST's 34)
MIN_EXTENT = 0.1  # the ink spans at least this share of the picture's shorter side (MNIST: 0.5 and more)
MAX_WIDTH_RATIO = 3.0  # the ink's width over its height (MNIST's 70,000 digits: 2.5 at most)
MIN_CONNECTED = 0.8  # the 3 largest pieces of ink hold this share of it (digits: 0.95 at least; noise: < 0.1)
MAX_PAPER_TEXTURE = 0.12  # the paper's 90th percentile, as a share of the ink (noisy digits: 0.06; a photo 0.14)
MAX_THICKNESS = 0.48  # mean stroke thickness over the 20-pixel box (digits: 0.44 at most; a dot 0.52)
UNSURE_BELOW = 0.6  # a top probability below this is "not sure" (MNIST test: 1% of digits, 57% of them right)


def prepare_image(source, image_shape=(28, 28)):
    """A picture of one digit as the network's input: (height * width,) float32 in [0, 1].

    Parameters
    ----------
    source : str, Path, bytes, PIL.Image.Image or numpy.ndarray
        A PNG/JPEG file or its bytes, a Pillow image, or a 2-D array of grey
        levels (0-255, or 0-1 floats), e.g. a drawn canvas.
    image_shape : (28, 28) or (8, 8)
        The input the network was trained on (``trace.image_shape``).

    Raises
    ------
    DataError
        The source is not a readable image, is too small or too large, is
        blank, or is not a digit on plain paper.
    """
    shape = tuple(int(n) for n in image_shape)
    if shape not in _STYLES:
        raise ValueError(f"image_shape must be one of {', '.join(map(str, _STYLES))}; got {image_shape!r}")
    return _STYLES[shape](read_ink(source)).reshape(-1)


def read_ink(source):
    """The ink of a picture: (height, width) float32, 0 on the paper, 1 at the darkest stroke.

    The paper's colour is the median of the picture's border; ink is how far
    a pixel is from it, so light-on-dark pictures come out the same as
    dark-on-light ones. A picture with a transparent background takes its
    ink from the opacity.
    """
    grey = _grey_levels(source)  # (h, w) float32 in [0, 1]
    _check_size(grey.shape[1], grey.shape[0])
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    paper = float(np.median(border))
    ink = np.abs(grey - paper)  # (h, w): distance from the paper's colour
    strongest = float(ink.max())
    if strongest < MIN_CONTRAST:
        raise DataError("the picture is blank: no stroke stands out from the paper. Draw or photograph a digit "
                        "in dark ink on light paper (or light on dark)")
    ink /= strongest
    ink[ink < INK_LEVEL] = 0  # paper texture, noise and JPEG ringing are not ink
    near = ndimage.maximum_filter(ink > 0, size=2 * max(1, min(ink.shape) // 32) + 1)  # (h, w) the strokes, widened
    background = np.abs(grey - paper)[~near] / strongest  # (n,) the paper away from the strokes' blurred edges
    check_digit_like(ink, background)
    return ink


def check_digit_like(ink, background=None):
    """Raise :class:`DataError` saying why, if ``ink`` (from :func:`read_ink`) is not a digit-like picture.

    ``background`` is the ink level (before the cut at ``INK_LEVEL``) of the pixels away from the ink: on a
    drawing or a scan they are all near 0, on a photo they vary. The rules and their numbers are
    in this module's docstring.
    """
    not_a_digit = "this does not look like a digit: "
    share = float((ink > 0).mean())
    if share > MAX_INK_SHARE:
        raise DataError(f"{not_a_digit}{share:.0%} of the picture is ink. Use a picture of one digit on an "
                        "even background, with the digit in the middle")
    n_ink = int((ink > 0).sum())
    extent = max(_crop(ink).shape) / min(ink.shape)
    if n_ink < MIN_INK_PIXELS or extent < MIN_EXTENT:
        raise DataError(f"{not_a_digit}too little ink ({n_ink} pixels spanning {extent:.0%} of the picture), "
                        "a speck rather than a digit. Draw the digit larger, or crop the picture around it")
    height, width = _crop(ink).shape
    if width > MAX_WIDTH_RATIO * height:
        raise DataError(f"{not_a_digit}the ink is {width / height:.1f} times as wide as it is tall, a dash or a row "
                        "of several digits. Give one digit per picture")
    pieces, n = ndimage.label(ink > 0, structure=np.ones((3, 3)))  # 8-connected pieces of ink
    mass = np.sort(ndimage.sum(ink, pieces, np.arange(1, n + 1)))[::-1]  # (n,) ink per piece, largest first
    connected = float(mass[:3].sum() / mass.sum())
    if connected < MIN_CONNECTED:
        raise DataError(f"{not_a_digit}the ink is scattered over {n} specks, like noise or grain, not drawn in "
                        "strokes. Use a clean picture of one digit")
    texture = float(np.percentile(background, 90)) if background is not None and len(background) else 0.0
    if texture >= MAX_PAPER_TEXTURE:
        raise DataError(f"{not_a_digit}the background is not plain paper: it varies like a photo or a shaded "
                        "gradient. Use a picture of one digit on plain paper in even light, cropped close")
    thickness = _thickness(_fit(_crop(ink), 20) > INK_LEVEL)
    if thickness >= MAX_THICKNESS:
        raise DataError(f"{not_a_digit}the ink is one solid blob (a dot or a smudge), not strokes. Draw the "
                        "digit with lines, larger than the pen is wide")


def is_unsure(p):
    """True if the probabilities ``p`` (n_classes,) give no digit at least :data:`UNSURE_BELOW`."""
    return float(np.max(p)) < UNSURE_BELOW


def _thickness(mask):
    """A shape's mean thickness as a share of its box: twice its area over its outline (a stroke of width w: w)."""
    padded = np.pad(mask, 1)
    inside = (padded[1:-1, 1:-1] & padded[:-2, 1:-1] & padded[2:, 1:-1]  # pixels whose 4 neighbours are ink too
              & padded[1:-1, :-2] & padded[1:-1, 2:])
    outline = int((mask & ~inside).sum())
    return 2 * int(mask.sum()) / max(outline, 1) / max(mask.shape)


def mnist_style(ink):
    """MNIST's way: crop to the ink, fit in 20x20 keeping the aspect, centre of mass at (14, 14) in 28x28."""
    box = _fit(_crop(ink), 20)  # (<= 20, <= 20)
    rows, cols = np.indices(box.shape)
    total = box.sum()
    cy, cx = (rows * box).sum() / total, (cols * box).sum() / total  # centre of mass in the box
    field = np.zeros((28 + 2 * 20, 28 + 2 * 20), dtype=np.float32)  # room to shift a lopsided digit
    y, x = 20 + int(round(14 - cy)), 20 + int(round(14 - cx))
    field[y : y + box.shape[0], x : x + box.shape[1]] = box
    return np.ascontiguousarray(field[20:48, 20:48])  # (28, 28)


def digits_style(ink):
    """The 8x8 digits' way: set the ink upright (:func:`deskew`), scale it to the full height of a 32x32
    bitmap and at most 20 columns, thicken its strokes by a pixel, count ink in 4x4 blocks (0-16),
    divide by 16.

    The box and the strokes are read off the digits themselves: in scikit-learn's set every digit
    spans all 8 rows but only about 6 of the 8 columns, and holds about 19.5 sixteenths of ink,
    where thin strokes fitted into the whole 32x32 give 15; and it stands nearly upright (its
    slant, as :func:`deskew` reads it, is 0.04 columns per row at the median, where MNIST's
    ranges from -0.53 to 0.32 for 90% of its digits). The width follows the height (keeping the aspect ratio) up to 20
    columns; a wider digit is squeezed into them. Prepared this way, MNIST's 10,000 test digits
    (handwriting the network never saw, standing in for drawn digits) are read right by the
    default 8x8 network 79% of the time, against 66% without the deskewing and 56% when fitted
    into the whole 32x32 with thin strokes (``bench/drawn_digits.py``, ``docs/benchmarks.md``).
    """
    return _blocks(_digits_bitmap(deskew(ink)))


def deskew(ink):
    """``ink`` (h, w) with its slant sheared away: each row slid sideways so that the ink stands upright.

    The slant is the classic one of handwriting recognition, read off the ink's second moments: how
    many columns the ink moves per row down, ``mu11 / mu02`` (0 for an upright 1, -0.3 for a 7
    leaning forward). It is limited to ``MAX_SLANT`` (a digit written flatter than 35 degrees is
    set upright only that far) and rounded to ``1 / SLANT_STEPS``, so every shift is an exact
    binary fraction that the web page's JavaScript computes alike. Row ``r`` moves by ``-slant * r``
    columns, interpolated linearly between two neighbouring pixels; below ``INK_LEVEL`` is paper,
    as in :func:`read_ink`. Returns the sheared ink, cropped (an upright digit: just cropped).
    """
    ink = _crop(ink)  # (h, w)
    k = int(round(float(np.clip(_slant(ink), -MAX_SLANT, MAX_SLANT)) * SLANT_STEPS))  # slant in 64ths
    if k == 0:
        return ink
    h, w = ink.shape
    n = max(0, k * (h - 1)) - k * np.arange(h)[:, None]  # (h, 1) each row's shift in 64ths of a column, >= 0
    whole, part = n // SLANT_STEPS, (n % SLANT_STEPS / SLANT_STEPS).astype(np.float32)  # (h, 1) each
    out = np.zeros((h, w + abs(k) * (h - 1) // SLANT_STEPS + 2), dtype=np.float32)  # (h, w + the shifts)
    rows, cols = np.arange(h)[:, None], np.arange(w)[None, :] + whole  # (h, 1), (h, w) where each pixel lands
    out[rows, cols] = (1 - part) * ink  # (h, w): each pixel's share in the column it lands on...
    out[rows, cols + 1] += part * ink  # ...and the rest in the next one (the JavaScript adds in this order)
    out[out < INK_LEVEL] = 0  # the interpolation's faint fringe is not ink
    return _crop(out)


def _slant(ink):
    """The ink's slant, columns per row down: its second moment ``mu11`` over ``mu02`` (float64 sums)."""
    rows, cols = np.indices(ink.shape)  # (h, w) each
    a = ink.astype(np.float64)  # (h, w)
    mass = a.sum()
    cy, cx = (a * rows).sum() / mass, (a * cols).sum() / mass  # centre of mass
    spread = (a * (rows - cy) ** 2).sum()  # mu02: 0 if the ink is one row
    return (a * (rows - cy) * (cols - cx)).sum() / spread if spread > 0 else 0.0


def _blocks(bitmap):
    """A 32x32 bitmap made black and white at 0.5, its strokes a pixel wider, counted in 4x4 blocks, / 16."""
    on = Image.fromarray(np.where(bitmap >= 0.5, 255, 0).astype(np.uint8))  # black and white
    on = np.asarray(on.filter(ImageFilter.MaxFilter(3))) > 0  # strokes one pixel wider all round
    counts = on.reshape(8, 4, 8, 4).sum(axis=(1, 3))  # (8, 8) ink pixels per block, 0-16
    return (counts / DIGITS_MAX_VALUE).astype(np.float32)  # the loader's scaling


def _digits_bitmap(ink):
    """The ink cropped and scaled into the digit box, centred in a 32x32 bitmap; grey levels in [0, 1]."""
    height, max_width = DIGITS_BOX
    crop = _crop(ink)
    width = max(1, min(max_width, round(crop.shape[1] * height / crop.shape[0])))
    left = (32 - width) // 2  # centred, as the bitmaps were
    bitmap = np.zeros((32, 32), dtype=np.float32)
    bitmap[:, left : left + width] = _resize(crop, width, height)
    return bitmap


_STYLES = {(28, 28): mnist_style, (8, 8): digits_style}


def _crop(ink):
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _fit(ink, side):
    """Scale so the longer side is ``side`` pixels, keeping the aspect ratio, anti-aliased; values in [0, 1]."""
    h, w = ink.shape
    factor = side / max(h, w)
    return _resize(ink, max(1, round(w * factor)), max(1, round(h * factor)))


def _resize(ink, width, height):
    """``ink`` scaled to ``width`` x ``height`` pixels, anti-aliased; values in [0, 1]."""
    scaled = Image.fromarray(ink.astype(np.float32), mode="F").resize((width, height), Image.Resampling.LANCZOS)
    return np.clip(np.asarray(scaled, dtype=np.float32), 0, 1)


def _grey_levels(source):
    """Any accepted source as (h, w) float32 grey levels in [0, 1] (0 black, 1 white)."""
    if isinstance(source, np.ndarray):
        return _array_grey(source)
    if isinstance(source, Image.Image):
        return _image_grey(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        if not len(source):
            raise DataError("the file is empty (0 bytes): choose a PNG or JPEG picture of a digit")
        return _image_grey(_open(io.BytesIO(bytes(source)), "the uploaded file"))
    if isinstance(source, (str, os.PathLike)):
        if not os.path.isfile(source):
            raise DataError(f"no picture at {source}: give the path of a PNG or JPEG file")
        return _image_grey(_open(source, str(source)))
    raise TypeError(f"source must be a file path, PNG/JPEG bytes, a PIL image or a 2-D array; "
                    f"got {type(source).__name__}")


def _open(file, name):
    try:
        with warnings.catch_warnings():  # Pillow's warning about big pictures: _check_size says it better
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(file)  # reads the header only
        _check_size(*image.size)  # before decoding: a huge picture would cost its size in memory
        image.load()
    except UnidentifiedImageError:
        raise DataError(f"{name} is not a picture Pillow can read: use a PNG or JPEG of a digit") from None
    except Image.DecompressionBombError:
        raise DataError(f"{name} is far too large a picture: resize it to at most {MAX_SIDE} pixels a side") from None
    except (OSError, SyntaxError) as e:
        raise DataError(f"{name} is a damaged or truncated picture ({e}): save it again as PNG or JPEG") from None
    return image


def _check_size(w, h):
    if min(w, h) < MIN_SIDE or max(w, h) > MAX_SIDE:
        raise DataError(f"the picture is {w}x{h} pixels; a digit picture must be {MIN_SIDE} to {MAX_SIDE} pixels "
                        "on each side: crop or resize it")


def _image_grey(image):
    _check_size(*image.size)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        alpha = np.asarray(image.convert("RGBA"), dtype=np.float32)[..., 3] / 255  # (h, w)
        if (alpha < 0.5).mean() > 0.01:  # a transparent background: the strokes are the opaque part
            return 1 - alpha  # opaque = ink = dark
    return np.asarray(image.convert("L"), dtype=np.float32) / 255


def _array_grey(array):
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[2] in (3, 4):
        return _image_grey(Image.fromarray(array.astype(np.uint8)))
    if array.ndim != 2:
        raise DataError(f"a digit array must be 2-D grey levels (height, width); got shape {array.shape}")
    array = array.astype(np.float32)
    if not np.isfinite(array).all():
        raise DataError("the digit array holds NaN or infinite values: give grey levels from 0 to 255 (or 0 to 1)")
    top = 1.0 if array.max() <= 1 and array.min() >= 0 else 255.0
    return np.clip(array / top, 0, 1)
