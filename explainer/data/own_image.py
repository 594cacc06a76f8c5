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

Either way the result is what the data loaders give: ink 1, paper 0, float32
in [0, 1], flattened row by row::

    x = prepare_image("my_seven.png", (28, 28))    # (784,) float32, like a row of X_train
    net.predict(x[None])

The picture may be any size, dark ink on light paper or light on dark (the
paper is whatever colour its border is), a PNG or JPEG (file, bytes, Pillow
image) or an array of grey levels such as a drawn canvas. A picture with no
ink, or that is not a digit on plain paper, raises :class:`DataError` saying
so.
"""

import io
import os
import warnings

import numpy as np
from PIL import Image, ImageFilter, UnidentifiedImageError

from ..errors import DataError
from .digits import DIGITS_MAX_VALUE

__all__ = ["prepare_image", "read_ink", "mnist_style", "digits_style", "MAX_SIDE", "MIN_SIDE"]

MIN_SIDE = 8  # pixels: anything smaller cannot hold a digit
MAX_SIDE = 8000  # pixels: anything larger is a mistake (or a decompression bomb)
MIN_CONTRAST = 0.15  # ink must differ from the paper by this share of the grey range
INK_LEVEL = 0.25  # a pixel is ink when it is this far from the paper (noise and JPEG ringing are not)
DIGITS_BOX = (32, 20)  # an 8x8 digit's height and greatest width in its 32x32 bitmap
MAX_INK_SHARE = 0.5  # a digit covers well under half of its picture; more means a photo or a pattern


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
    share = float((ink > 0).mean())
    if share > MAX_INK_SHARE:
        raise DataError(f"this does not look like a digit on plain paper: {share:.0%} of the picture is ink. "
                        "Use a picture of one digit on an even background, with the digit in the middle")
    return ink


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
    """The 8x8 digits' way: scale the ink to the full height of a 32x32 bitmap and at most 20 columns,
    thicken its strokes by a pixel, count ink in 4x4 blocks (0-16), divide by 16.

    The box and the strokes are read off the digits themselves: in scikit-learn's set every digit
    spans all 8 rows but only about 6 of the 8 columns, and holds about 19.5 sixteenths of ink,
    where thin strokes fitted into the whole 32x32 give 15. The width follows the height (keeping
    the aspect ratio) up to 20 columns; a wider digit is squeezed into them. Prepared this way,
    MNIST's 10,000 test digits (handwriting the network never saw, standing in for drawn digits)
    are read right by the default 8x8 network 66% of the time, against 56% when fitted into the
    whole 32x32 with thin strokes (``bench/drawn_digits.py``, ``docs/dashboards.md``).
    """
    on = Image.fromarray(np.where(_digits_bitmap(ink) >= 0.5, 255, 0).astype(np.uint8))  # black and white
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
