"""One colour scheme for right and wrong, ink and paper, and signs, in the scenes, the figures and the dashboards.

The scheme is defined once, in explainer.colours; these tests check that no
other module writes a colour of its own, that the scheme holds up under colour
blindness, and, in pictures actually drawn (a figure rendered to pixels, a
dashboard's bars and images, a scene's pieces), that right is bluish green,
wrong orange and a digit dark ink on light paper.
"""

import io
import re
import tokenize
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from explainer import Experiment, colours, run
from explainer.trace import Trace, TraceRecorder

ROOT = Path(__file__).resolve().parents[1]
CODE = ("explainer", "scenes", "widgets")  # where the pictures are made
HEX = re.compile(r"(?<![&\w])#(?:[0-9a-fA-F]{8}|[0-9a-fA-F]{6}|[0-9a-fA-F]{3})(?!\w)")
STRINGS = {tokenize.STRING} | ({tokenize.FSTRING_MIDDLE} if hasattr(tokenize, "FSTRING_MIDDLE") else set())


@pytest.fixture(scope="module")
def trace(tmp_path_factory):
    """A tiny run whose early snapshots misread some probe digits and whose last ones read most right."""
    path = tmp_path_factory.mktemp("colours") / "tiny.zarr"
    with TraceRecorder(path, schedule="every:10", n_probe=10) as recorder:
        run(Experiment.preset("digits", hidden=(8,), epochs=1), recorder=recorder, progress=False)
    return Trace.open(path)


def code_files():
    return [f for folder in CODE for f in sorted((ROOT / folder).rglob("*.py")) if f != ROOT / "explainer/colours.py"]


def string_tokens(path):
    for token in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
        if token.type in STRINGS:
            yield token.start[0], token.string
        elif token.type == tokenize.NAME:
            yield token.start[0], (token.string,)  # a name, not a string: told apart by its type


# -- defined once ----------------------------------------------------------------------------------------


def test_no_module_but_the_schemes_writes_a_colours_hex_code():
    found = [f"{f.relative_to(ROOT)}:{line}: {code}" for f in code_files() for line, text in string_tokens(f)
             if isinstance(text, str) for code in HEX.findall(text)]
    assert not found, "colours belong in explainer/colours.py:\n" + "\n".join(found)


def test_no_module_but_the_schemes_names_a_colour_map():
    from matplotlib import colormaps

    maps = set(colormaps)
    found = [f"{f.relative_to(ROOT)}:{line}: {text}" for f in code_files() for line, text in string_tokens(f)
             if isinstance(text, str) and text.strip("'\"") in maps]
    assert not found, "colour maps belong in explainer/colours.py:\n" + "\n".join(found)


def test_scenes_use_the_palette_not_manims_colour_constants():
    from manim.utils.color import manim_colors

    constants = {name for name in dir(manim_colors) if name.isupper()}
    found = [f"{f.relative_to(ROOT)}:{line}: {text[0]}" for f in sorted((ROOT / "scenes").rglob("*.py"))
             for line, text in string_tokens(f) if isinstance(text, tuple) and text[0] in constants]
    assert not found, "scenes take their colours from PALETTE:\n" + "\n".join(found)


def test_the_scan_finds_a_colour_written_elsewhere(tmp_path):
    stray = tmp_path / "stray.py"
    stray.write_text('box = f\'<div style="color:#a1240a">{text}</div>\'\nfill = "#FFF"\nlink = "&#10003;"\n')
    assert [code for _, text in string_tokens(stray) if isinstance(text, str) for code in HEX.findall(text)] \
        == ["#a1240a", "#FFF"]


def test_the_scenes_palette_is_the_scheme():
    from explainer.figures import COLORS
    from explainer.filters import CMAP
    from explainer.scenes.palette import PALETTE

    assert (PALETTE.correct, PALETTE.wrong) == (colours.RIGHT, colours.WRONG) == (COLORS["right"], COLORS["wrong"])
    assert (PALETTE.positive, PALETTE.negative) == (colours.POSITIVE, colours.NEGATIVE)
    assert (PALETTE.ink, PALETTE.paper) == (colours.INK, colours.PAPER) == (COLORS["ink"], COLORS["paper"])
    assert CMAP == colours.SIGNS_CMAP == "RdBu_r"
    # the names every scene uses are still there
    for name in ("background", "text", "muted", "activation", "loss"):
        assert re.fullmatch(r"#[0-9A-F]{6}", getattr(PALETTE, name)), name


def test_the_sign_colours_are_shades_of_the_filters_map():
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    signs = colormaps[colours.SIGNS_CMAP]
    assert to_hex(signs(0.8)).upper() == colours.POSITIVE  # red: positive
    assert to_hex(signs(0.2)).upper() == colours.NEGATIVE  # blue: negative
    assert to_hex(signs(0.5)).upper() in ("#F7F6F6", "#F7F7F7")  # 0: white, the paper


# -- colour-blind safe: distances in CIELAB under simulated colour blindness ------------------------------

# Machado, Oliveira & Fernandes (2009), severity 1, on linear RGB
MACHADO = {
    "normal": np.eye(3),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}


def lab(colour, vision):
    """CIELAB (D65) of a hex colour as seen with ``vision``."""
    c = np.array(colours.rgb(colour)) / 255
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    linear = np.clip(MACHADO[vision] @ linear, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear
    xyz = xyz / [0.95047, 1.0, 1.08883]
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def distance(a, b, vision):
    return float(np.linalg.norm(lab(a, vision) - lab(b, vision)))


@pytest.mark.parametrize("vision", list(MACHADO))
def test_right_and_wrong_stay_apart_under_colour_blindness(vision):
    assert distance(colours.RIGHT, colours.WRONG, vision) > 40  # ΔE76; 2.3 is a just-noticeable difference
    assert distance(colours.POSITIVE, colours.NEGATIVE, vision) > 40
    assert distance(colours.WRONG, colours.POSITIVE, vision) > 20  # wrong is not the red of a positive sign


def test_the_old_green_and_red_were_one_colour_to_a_deuteranope():
    # why the scheme changed: the scenes' former right (#59A14F) and wrong (#E15759)
    assert distance("#59A14F", "#E15759", "deuteranopia") < 3


# -- in pictures drawn ---------------------------------------------------------------------------------------


def rendered(fig):
    """The figure's pixels, (height, width, 3) uint8, and a function from data to pixel coordinates."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())[..., :3]
    height = pixels.shape[0]

    def at(ax, x, y):
        """The pixel at data (x, y)."""
        px, py = ax.transData.transform((x, y))
        return pixels[int(round(height - py)), int(round(px))]

    return pixels, at


def close_to(pixel, colour, tolerance=3):
    return np.abs(np.asarray(pixel, dtype=int) - colours.rgb(colour)).max() <= tolerance


def test_the_confusion_figure_is_right_on_the_diagonal_and_wrong_off_it(trace):
    from explainer.figures import confusion

    counts = np.asarray(trace.evaluation.confusion)
    fig = confusion(trace)
    ax = fig.axes[0]
    _, at = rendered(fig)
    true, pred = np.unravel_index(counts.argmax(), counts.shape)  # the fullest cell: full colour
    assert close_to(at(ax, pred + 0.35, true + 0.35), colours.RIGHT if true == pred else colours.WRONG)  # off its count
    right = np.argwhere((counts > 0) & np.eye(len(counts), dtype=bool))
    mistakes = np.argwhere((counts > 0) & ~np.eye(len(counts), dtype=bool))
    assert len(mistakes) and len(right), "the tiny run should read some test digits right and some wrong"
    for cells, colour in ((right, colours.RIGHT), (mistakes, colours.WRONG)):
        for true, pred in cells[:5]:
            expected = colours.mix(colour, colours.count_shade(counts)[true, pred]) * 255  # the colour over paper
            assert np.abs(at(ax, pred + 0.35, true + 0.35) - expected).max() <= 3
    empty = np.argwhere(counts == 0)
    if len(empty):
        assert close_to(at(ax, empty[0][1] + 0.35, empty[0][0] + 0.35), colours.PAPER)


def test_the_probes_figure_marks_right_green_and_wrong_orange_in_ink_on_paper(trace):
    from matplotlib.colors import to_hex

    from explainer.figures import probes

    s = int(trace.snapshot_steps[1])  # early: some answers are wrong
    p = trace.probe_record(s).probabilities  # (n_probe, 10)
    fig = probes(trace, step=s, n=10)
    image_axes = [ax for ax in fig.axes if ax.images]
    bar_axes = [ax for ax in fig.axes if ax.patches and not ax.images]
    pixels, at = rendered(fig)
    seen = set()
    for ax_img, ax_bar in zip(image_axes, bar_axes):
        heights = np.array([bar.get_height() for bar in ax_bar.patches])
        i = int(np.flatnonzero(np.all(np.isclose(p, heights), axis=1))[0])
        label, guess = int(trace.probe_labels[i]), int(p[i].argmax())
        faces = [to_hex(bar.get_facecolor()).upper() for bar in ax_bar.patches]
        assert faces[label] == colours.RIGHT  # the true class is where the right answer was
        if guess != label:
            assert faces[guess] == colours.WRONG
        assert close_to(at(ax_bar, guess, p[i, guess] / 2), colours.RIGHT if guess == label else colours.WRONG)
        seen.add(guess == label)
        # the digit: its blankest pixel is paper, its inkiest ink
        image = trace.probe_x[i].reshape(trace.image_shape)
        (r0, c0), (r1, c1) = np.unravel_index(image.argmin(), image.shape), np.unravel_index(image.argmax(), image.shape)
        assert close_to(at(ax_img, c0, r0), colours.PAPER, 8)
        if image.max() == trace.probe_x.max():
            assert close_to(at(ax_img, c1, r1), colours.INK, 8)
    assert seen == {True, False}, "the early snapshot should show right and wrong guesses"


def test_the_forward_explorers_bars_and_digit_use_the_scheme(trace):
    from matplotlib.colors import to_hex

    from explainer.widgets import ForwardExplorer

    explorer = ForwardExplorer(trace)
    s = int(trace.snapshot_steps[1])
    explorer.step = s
    guesses = trace.probe_record(s).probabilities.argmax(axis=1)
    wrong = np.flatnonzero(guesses != trace.probe_labels)
    right = np.flatnonzero(guesses == trace.probe_labels)
    assert len(wrong) and len(right)
    for i in (wrong[0], right[0]):
        explorer.probe = int(i)
        faces = [to_hex(bar.get_facecolor()).upper() for bar in explorer._bars]
        label, guess = int(trace.probe_labels[i]), int(guesses[i])
        assert faces[label] == colours.RIGHT
        assert faces[guess] == (colours.RIGHT if guess == label else colours.WRONG)
        assert set(faces) - {colours.RIGHT, colours.WRONG} <= {colours.OTHER}
        assert (colours.WRONG in explorer._confidence.value) == (guess != label)
    # the digit the network sees: ink on paper
    shown = np.asarray(Image.open(io.BytesIO(bytes(explorer._input_image.value))).convert("RGB"))
    assert tuple(shown[0, 0]) == colours.rgb(colours.PAPER)  # a corner: no ink
    # a digit of unknown label (drawn, uploaded): its guess in ink, no verdict
    x = trace.probe_x[0]
    explorer._own["drawing"] = x
    explorer._switch_to("drawing")
    faces = [to_hex(bar.get_facecolor()).upper() for bar in explorer._bars]
    assert faces.count(colours.INK) == 1 and set(faces) <= {colours.INK, colours.OTHER}


def test_the_canvas_is_paper_and_the_pen_ink():
    from explainer.widgets.canvas import DrawingCanvas

    esm = DrawingCanvas._esm
    assert f'strokeStyle: "{colours.INK}"' in esm and f'fillStyle = "{colours.PAPER}"' in esm
    assert "__" not in esm


def test_a_scenes_digit_is_ink_on_paper_and_its_confusion_grid_right_and_wrong(trace):
    from explainer.scenes.palette import PALETTE
    from explainer.scenes.pieces import ConfusionGrid, DigitImage

    x = trace.probe_x[0]
    digit = DigitImage(x, trace.image_shape)
    rgba = digit.pixel_array  # (h, w, 4)
    image = np.clip(x.reshape(trace.image_shape), 0, 1)
    assert tuple(rgba[image == 0][0][:3]) == colours.rgb(PALETTE.paper)  # no ink: paper
    darkest = rgba[np.unravel_index(image.argmax(), image.shape)][:3]  # the most ink: darkest
    assert darkest.max() <= 255 * (1 - image.max()) + 1 and image.max() > 0.5

    counts = np.array([[25, 1], [0, 9]])
    grid = ConfusionGrid(counts)
    fills = [cell[0].get_fill_color().to_hex().upper() for cell in grid.cells]
    assert fills == [PALETTE.correct, PALETTE.wrong, PALETTE.wrong, PALETTE.correct]
    opacity = [cell[0].get_fill_opacity() for cell in grid.cells]
    assert opacity == pytest.approx([1.0, 0.25 + 0.75 / 5, 0.0, 0.25 + 0.75 * 3 / 5])  # the figure's shades
