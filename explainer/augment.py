"""Data augmentation: every mini-batch's images moved, leaned, resized and re-inked a little, at random.

A network trained only on the 8x8 digits as scikit-learn has them has seen
each digit upright, centred and in one pen: a student's forward-leaning 7,
drawn with another pen, lies outside everything it knows and may come out as
a 3. Augmentation shows it, at every step, slightly different versions of its
training digits, so that what it learns is the digit more than the pen::

    augment = Augment(slant=15, stretch=0.1)
    x = augment(x, (8, 8), rng)        # (batch, 64) -> (batch, 64); the labels stay as they were

With a :class:`~explainer.TrainConfig` (``TrainConfig(augment=augment)``; on
the command line ``explainer train --augment slant=15,stretch=0.1``), the
trainer does this to each batch before the forward pass, with a random
generator of its own seeded by the run's seed: the same seed gives the same
run, to the bit, and with augmentation off nothing is drawn from it. The
training set itself is never changed; only the copies a step sees.

Each image gets its own random change, all of them at once (no loop over the
images), each setting the largest change either way:

- **shift**: moved by up to ``shift`` pixels along each axis (whole-pixel moves are exact,
  others interpolated bilinearly);
- **rotate**: turned by up to ``rotate`` degrees, about its ink's centre;
- **slant**: leaned by up to ``slant`` degrees, its rows slid sideways (a shear): its height stays;
- **scale**: made larger or smaller by up to ``scale`` (0.1: 90% to 110%);
- **stretch**: made wider or narrower by up to ``stretch``: its height stays;
- **stroke**: strokes thickened (a grey dilation) or thinned (a grey erosion) by up to ``stroke``
  of a pixel.

No change pushes ink out of the frame (:func:`placement`): the box around an
image's ink, once mapped, is squeezed along an axis where it would not fit,
and the shift is cut short where it would cross the frame's edge. The 8x8
digits fill all 8 rows, as does every picture :func:`~explainer.prepare_image`
makes for them: a slant or a stretch keeps that, where a turn or a larger
scale makes the digit shorter than any the network will be shown. So on the 8x8
digits ``slant`` and ``stretch`` are the ones that help (docs/training.md,
"Augmentation", gives the numbers); ``rotate`` and ``scale`` suit 28x28 digits,
which MNIST fitted in a 20x20 box with room around.
"""

import math
from dataclasses import asdict, dataclass, fields

import numpy as np
from scipy import ndimage

__all__ = ["Augment", "AUGMENT_SETTINGS", "parse_augment", "slanted", "transform", "placement", "bilinear", "restroke"]

# each setting: (what it is, its largest sensible value); the order is the one the command line writes them in
AUGMENT_SETTINGS = {
    "shift": ("pixels an image moves, at most, along each axis", 4.0),
    "rotate": ("degrees an image turns, at most, either way", 45.0),
    "slant": ("degrees an image leans, at most, either way (its rows slide sideways, its height stays)", 45.0),
    "scale": ("how much larger or smaller an image gets, at most (0.1: 90% to 110%)", 0.5),
    "stretch": ("how much wider or narrower an image gets, at most (its height stays)", 0.5),
    "stroke": ("how much of a pixel the strokes thicken or thin, at most", 1.0),
}


@dataclass(frozen=True)
class Augment:
    """How much each training image may be changed (0: not at all); see the module's docstring."""

    shift: float = 0.0  # pixels, along each axis
    rotate: float = 0.0  # degrees, either way
    slant: float = 0.0  # degrees, either way
    scale: float = 0.0  # share of the size, larger or smaller
    stretch: float = 0.0  # share of the width, wider or narrower
    stroke: float = 0.0  # share of a pixel, thicker or thinner

    def __post_init__(self):
        for name, (what, top) in AUGMENT_SETTINGS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
                    or not 0 <= value <= top:
                raise ValueError(f"augment {name} ({what}) must be a number from 0 to {top:g}; got {value!r}")
            object.__setattr__(self, name, float(value))

    @property
    def on(self):
        """True if any setting changes the images."""
        return any(getattr(self, f.name) for f in fields(self))

    def to_dict(self):
        return asdict(self)

    def __str__(self):
        """``shift=1,rotate=12``: the settings that are on, as ``--augment`` takes them; ``none`` if none is."""
        return ",".join(f"{k}={v:g}" for k, v in self.to_dict().items() if v) or "none"

    def __call__(self, x, image_shape, rng):
        """``x`` (batch, h * w * c), flattened images of ``image_shape`` (h, w), each changed at random.

        Draws seven numbers per image from ``rng`` (a ``numpy.random.Generator``), in a fixed order,
        whichever settings are on; returns a new array of ``x``'s shape and dtype.
        """
        h, w = image_shape[:2]
        batch = len(x)
        images = x.reshape(batch, h, w, -1)  # (batch, h, w, c)
        u = 2 * rng.random((7, batch)) - 1  # (7, batch) uniform in [-1, 1): one row per setting, then the shifts
        angle, slant = np.deg2rad(self.rotate) * u[0], np.tan(np.deg2rad(self.slant) * u[1])  # (batch,) each
        size, width = 1 + self.scale * u[2], 1 + self.stretch * u[3]  # (batch,) each
        cos, sin, zero, one = np.cos(angle), np.sin(angle), np.zeros(batch), np.ones(batch)
        turn = np.array([[cos, sin], [-sin, cos]])  # (2, 2, batch) on (row, column): angle > 0 turns the top right
        lean = np.array([[one, zero], [-slant, width]])  # (2, 2, batch): rows slide sideways (slant > 0: top right),
        #                                                   columns stretch
        A = size * np.einsum("ijb,jkb->ikb", turn, lean)  # (2, 2, batch)
        if self.rotate or self.slant or self.scale or self.stretch or self.shift:
            images = transform(images, A, self.shift * u[4:6])
        if self.stroke:
            images = restroke(images, self.stroke * u[6])
        return images.reshape(x.shape).astype(x.dtype, copy=False)


def parse_augment(text, name="--augment"):
    """``"shift=1,rotate=12"`` -> ``Augment(shift=1, rotate=12)``; ``"none"`` (or ``""``) -> ``Augment()``.

    >>> str(parse_augment(" rotate=12, shift=1 "))
    'shift=1,rotate=12'
    """
    if not isinstance(text, str):
        raise TypeError(f"{name} must be text like 'shift=1,rotate=12'; got {text!r}")
    if text.strip().lower() in ("", "none"):
        return Augment()
    settings = {}
    example = "like slant=12,stretch=0.1 or shift=2,rotate=10,scale=0.1 ('none' for no augmentation)"
    for part in text.split(","):
        key, eq, value = (s.strip() for s in part.partition("="))
        if key not in AUGMENT_SETTINGS or not eq:
            raise ValueError(f"{name} takes settings from {', '.join(AUGMENT_SETTINGS)} as name=value separated "
                             f"by commas, {example}; got {text!r}")
        try:
            settings[key] = float(value)
        except ValueError:
            raise ValueError(f"{name}: {key} must be a number, {example}; got {value!r}") from None
        if not math.isfinite(settings[key]):
            raise ValueError(f"{name}: {key} must be a finite number; got {value!r}")
    try:
        return Augment(**settings)
    except ValueError as e:
        raise ValueError(f"{name}: {e}") from None


def slanted(x, image_shape, degrees):
    """Every image of ``x`` (n, h * w * c) leaned by exactly ``degrees`` (> 0: its top to the right), as a
    ``slant`` setting leans a training image at random: its rows slid sideways, its height kept, its ink
    kept in the frame. For asking a trained network how it reads digits written at a slant.

    >>> import numpy as np
    >>> stroke = np.zeros((1, 8, 8)); stroke[0, 1:7, 3] = 1     # a vertical stroke, 6 pixels tall
    >>> leaned = slanted(stroke.reshape(1, 64), (8, 8), 30).reshape(8, 8)
    >>> bool(leaned[1, 3:].sum() > leaned[1, :4].sum())        # its top now lies to the right
    True
    """
    h, w = image_shape[:2]
    images = np.asarray(x).reshape(len(x), h, w, -1)  # (n, h, w, c)
    n, shear = len(images), math.tan(math.radians(degrees))
    A = np.broadcast_to(np.array([[1.0, 0.0], [-shear, 1.0]])[:, :, None], (2, 2, n))  # (2, 2, n)
    return transform(images, A, np.zeros((2, n))).reshape(np.shape(x)).astype(np.asarray(x).dtype, copy=False)


def transform(images, A, t):
    """Each image's ink mapped by the matrix ``A`` about its centre, then shifted by ``t``.

    Parameters
    ----------
    images : (batch, h, w, c) array
        Ink >= 0 on a paper of 0.
    A : (2, 2, batch) array
        Each image's linear map on (row, column) coordinates: a pixel at ``p`` goes to
        ``A (p - centre) + centre + t``, the centre being that of the box around its ink.
    t : (2, batch) array
        Each image's shift in pixels, down the rows and along the columns.

    The map actually used is :func:`placement`'s, which keeps the ink in the frame. Each output pixel
    is read from where it came from, interpolated bilinearly; a whole-pixel shift moves the image exactly.
    """
    batch, h, w, c = images.shape
    A, t, centre = placement(images, A, t)
    # where each output pixel p' comes from: p = A^-1 (p' - centre - t) + centre
    inverse = np.linalg.inv(A.transpose(2, 0, 1))  # (batch, 2, 2)
    grid = np.indices((h, w), dtype=np.float64).reshape(2, 1, h * w)  # (2, 1, h*w)
    offset = grid - (centre + t)[:, :, None]  # (2, batch, h*w)
    source = np.einsum("bij,jbp->ibp", inverse, offset) + centre[:, :, None]  # (2, batch, h*w)
    source = np.where(np.abs(source - np.round(source)) < 1e-9, np.round(source), source)  # exact where whole
    return bilinear(images, source[0], source[1]).reshape(images.shape)


def bilinear(images, rows, cols):
    """``images`` (batch, h, w, c) read at the places ``rows``, ``cols`` (batch, n): (batch, n, c).

    A place between pixels gets the four pixels around it, each weighted by how near it is (bilinear
    interpolation); a place on a pixel gets that pixel exactly; outside the frame is paper (0).
    """
    batch, h, w, c = images.shape
    top, left = np.floor(rows), np.floor(cols)  # (batch, n) the pixel above and to the left
    down, right = rows - top, cols - left  # (batch, n) how far past it, in [0, 1)
    b = np.arange(batch)[:, None]  # (batch, 1)
    out = np.zeros((batch, rows.shape[1], c), dtype=images.dtype)
    for dr, weight_r in ((0, 1 - down), (1, down)):
        for dc, weight_c in ((0, 1 - right), (1, right)):
            r, k = top.astype(np.intp) + dr, left.astype(np.intp) + dc  # (batch, n)
            inside = (r >= 0) & (r < h) & (k >= 0) & (k < w)
            value = images[b, np.clip(r, 0, h - 1), np.clip(k, 0, w - 1)]  # (batch, n, c)
            out += (weight_r * weight_c * inside)[:, :, None].astype(images.dtype) * value
    return out


def placement(images, A, t):
    """The map :func:`transform` uses: ``(A, t, centre)``, ``A`` (2, 2, batch) and ``t``, ``centre`` (2, batch),
    changed only as much as it takes to keep every image's ink in the frame.

    The box around an image's ink, mapped by ``A``, reaches ``reach`` pixels either side of its centre
    along each axis; an axis along which it would not fit is squeezed until it does (the 8x8 digits fill
    all 8 rows: turned, they get a little shorter), and the shift is cut short where the box would cross
    the frame's edge.
    """
    batch, h, w, _ = images.shape
    ink = images.max(axis=3) > 0  # (batch, h, w)
    rows, cols = ink.any(axis=2), ink.any(axis=1)  # (batch, h), (batch, w)
    top, bottom = rows.argmax(axis=1), h - 1 - rows[:, ::-1].argmax(axis=1)  # (batch,) the ink's box
    left, right = cols.argmax(axis=1), w - 1 - cols[:, ::-1].argmax(axis=1)
    centre = np.stack([(top + bottom) / 2, (left + right) / 2])  # (2, batch) rows, columns
    half = np.stack([(bottom - top) / 2, (right - left) / 2])  # (2, batch)
    reach = np.abs(A[:, 0]) * half[0] + np.abs(A[:, 1]) * half[1]  # (2, batch) half-size of the mapped box
    frame = np.array([[h - 1], [w - 1]]) / 2  # (2, 1)
    fit = np.minimum(1, frame / np.maximum(reach, 1e-12))  # (2, batch) squeeze an axis whose ink overflows
    A, reach = A * fit[:, None], reach * fit
    low, high = reach - centre, 2 * frame - reach - centre  # (2, batch) the shifts that keep the ink in
    return A, np.clip(t, low, high), centre


def restroke(images, t):
    """Strokes made thicker (``t`` > 0) or thinner (``t`` < 0) by ``|t|`` of a pixel: images (batch, h, w, c),
    ``t`` (batch,) in [-1, 1]. A blend of each image with its grey dilation (erosion) by a plus-shaped 3x3 pen."""
    pen = np.zeros((1, 3, 3, 1), dtype=bool)
    pen[0, 1, :, 0] = pen[0, :, 1, 0] = True  # a plus: the pixel and its four neighbours
    t = np.asarray(t, dtype=np.float64)[:, None, None, None]  # (batch, 1, 1, 1)
    thick = ndimage.grey_dilation(images, footprint=pen, mode="constant", cval=0.0)  # (batch, h, w, c)
    thin = ndimage.grey_erosion(images, footprint=pen, mode="constant", cval=0.0)
    return np.where(t >= 0, images + t * (thick - images), images + t * (images - thin))
