"""One colour scheme for every picture: scenes, figures and dashboards.

Three things keep one colour everywhere, so that a student who learns them in
one picture can read every other:

right and wrong
    A right answer is bluish green (:data:`RIGHT`), a wrong one orange
    (:data:`WRONG`): the probe digits' guesses, the predicted and the true
    class's bars, the confusion matrix's diagonal and its mistakes. Both are
    from Okabe & Ito's palette (2008, "Color Universal Design"), which stays
    distinguishable under the common forms of colour blindness, and neither
    is red or blue, which mean signs.

signs
    Positive is red and negative blue, with white for 0: matplotlib's
    diverging ``RdBu_r`` (:data:`SIGNS_CMAP`), which colours the filters in
    every picture (:mod:`explainer.filters`); :data:`POSITIVE` and
    :data:`NEGATIVE` are its shades for one mark (a scene's edges, a legend).

ink and paper
    A digit is dark ink on light paper everywhere (:data:`INK` on
    :data:`PAPER`): as it is written, as a student draws it on the
    dashboards' canvas, in the figures, and in the scenes, where it is a
    sheet of paper on the dark background. Pixel value 0 is paper, 1 (the
    most ink) is ink: :func:`digit_rgb`.

The rest are names for one job each: the scenes' dark background and their
text (:data:`BACKGROUND`, :data:`TEXT`, :data:`MUTED`), a lit neuron
(:data:`ACTIVATION`), the scenes' loss curve (:data:`LOSS`), the figures'
curves (:data:`CURVES`, :data:`LAYER_COLOURS`) and the dashboards' message
box. Code elsewhere names these; no other module writes a colour's hex code
(``tests/test_colours.py`` checks).
"""

import numpy as np

__all__ = ["OKABE_ITO", "RIGHT", "WRONG", "OTHER", "POSITIVE", "NEGATIVE", "SIGNS_CMAP", "INK", "PAPER",
           "ACTIVATION_CMAP", "BACKGROUND", "TEXT", "MUTED", "ACTIVATION", "LOSS", "CURVES", "LAYER_COLOURS",
           "MESSAGE", "FRAME", "PAGE", "page_css", "digit_rgb", "digit_cmap", "count_shade", "rgb", "mix"]

# Okabe & Ito (2008): eight colours told apart under protanopia, deuteranopia and tritanopia
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
}

# -- right and wrong -----------------------------------------------------------------
RIGHT = OKABE_ITO["bluish green"]  # a right guess; the true class
WRONG = OKABE_ITO["orange"]  # a wrong guess (orange, not vermillion: vermillion is too near the red of signs)
OTHER = "#BBBBBB"  # the classes that are neither guessed nor true (a bar chart's other bars)

# -- signs: RdBu_r, red positive, white 0, blue negative ------------------------------
SIGNS_CMAP = "RdBu_r"
POSITIVE = "#D6604D"  # ColorBrewer RdBu's red shade: RdBu_r at 0.8
NEGATIVE = "#4393C3"  # its blue shade: RdBu_r at 0.2

# -- ink and paper -------------------------------------------------------------------------
INK = "#000000"
PAPER = "#FFFFFF"

# -- the scenes: a dark background, light text ---------------------------------------------
BACKGROUND = "#111318"
TEXT = "#ECEFF4"
MUTED = "#8A93A6"  # labels, axes, what is not the point
ACTIVATION = OKABE_ITO["yellow"]  # a neuron lit by its a: from the background (0) to yellow
LOSS = OKABE_ITO["reddish purple"]  # the loss curve: neither right/wrong nor a sign
ACTIVATION_CMAP = "viridis"  # a layer's a on a dashboard: dark 0 to yellow, like the scenes' lit neurons

# -- the figures' and dashboards' curves (Okabe-Ito, on white) -----------------------------
CURVES = {
    "train": OKABE_ITO["blue"],
    "val": OKABE_ITO["vermillion"],
    "test": OKABE_ITO["reddish purple"],
    "raw": OKABE_ITO["sky blue"],  # the noisy per-step values, drawn thin and light
    "epoch": INK,  # per-epoch means, drawn over the blue per-step curves
}
LAYER_COLOURS = tuple(OKABE_ITO[name] for name in ("blue", "orange", "bluish green", "vermillion", "reddish purple",
                                                   "sky blue", "black", "yellow"))

# -- the dashboards' frames and their message box ----------------------------------------------
FRAME = "#BBBBBB"  # a thin border round a picture or the drawing canvas
MESSAGE = {"text": "#A1240A", "background": "#FFF4EF", "border": OKABE_ITO["vermillion"]}

# -- pages: the lecture's handout and index, dark text on white (they print) ---------------------
PAGE = {"ink": "#1B1B1B", "paper": "#FFFFFF", "text": "#444444", "label": "#555555", "rule": "#BBBBBB",
        "frame": "#CCCCCC", "border": "#888888", "print-border": "#999999", "accent": "#8A6D00",
        "accent-paper": "#FAF7EC",
        # the exported drawing page (explainer export --html): the grey page behind its cards, the empty part
        # of a probability bar, a bar's fill, the thin lines round the pad
        "backdrop": "#F3F4F6", "track": "#E3E5E8", "fill": "#9AA0A6", "line": "#C4C7CC"}


def page_css():
    """:data:`PAGE` as CSS custom properties, for a page's style: ``color: var(--ink)``."""
    return ":root { " + " ".join(f"--{name}: {value};" for name, value in PAGE.items()) + " }\n"


def rgb(colour):
    """``"#D6604D"`` -> ``(214, 96, 77)``."""
    colour = colour.lstrip("#")
    return tuple(int(colour[i : i + 2], 16) for i in (0, 2, 4))


def mix(colour, amount, base=PAPER):
    """``amount`` (0 to 1, any shape) of ``colour`` over ``base``, as RGB floats in [0, 1]: (..., 3)."""
    t = np.asarray(amount, dtype=float)[..., None]
    return (np.array(rgb(base)) * (1 - t) + np.array(rgb(colour)) * t) / 255


def count_shade(counts):
    """How deep a confusion matrix's cell is coloured, 0 (paper, or the background) to 1 (full colour).

    On a square-root scale, so a handful of mistakes still shows against a
    diagonal of hundreds, and never under 0.25 for a count above 0, so a
    single mistake reads as orange (the figure and the TrainingStory scene).

    >>> count_shade([[0, 1], [4, 100]]).round(2).tolist()
    [[0.0, 0.32], [0.4, 1.0]]
    """
    counts = np.asarray(counts, dtype=float)
    top = max(float(counts.max()), 1.0) if counts.size else 1.0
    return np.where(counts > 0, 0.25 + 0.75 * np.sqrt(counts / top), 0.0)


def digit_rgb(pixels):
    """Pixel values in [0, 1] (1 = the most ink) as ink on paper: (..., 3) uint8.

    >>> digit_rgb([0.0, 1.0]).tolist()
    [[255, 255, 255], [0, 0, 0]]
    """
    t = np.clip(np.asarray(pixels, dtype=np.float64), 0, 1)[..., None]
    paper, ink = np.array(rgb(PAPER), dtype=float), np.array(rgb(INK), dtype=float)
    return (paper + (ink - paper) * t).round().astype(np.uint8)


def digit_cmap():
    """A matplotlib colour map from paper (low) to ink (high), for ``imshow`` of a digit's raw values."""
    from matplotlib.colors import LinearSegmentedColormap  # here: `import explainer` needs no matplotlib

    return LinearSegmentedColormap.from_list("ink_on_paper", [PAPER, INK])
