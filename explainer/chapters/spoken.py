r"""The chapters' LaTeX as the speaker notes say it: plain Unicode text.

The notes are Markdown in the deck (reveal.js's markdown plugin) and plain text
in PowerPoint, so they hold no LaTeX and no ``_`` (Markdown's emphasis): a
number or a formula the screen writes in LaTeX is said in Unicode
(``3.2 \times 10^{-5}`` -> ``3.2 × 10⁻⁵``, ``-\log a^{L}_{7}`` -> ``−log aᴸ₇``,
``\epsilon = 10^{-8},\quad t = 10`` -> ``ε = 10⁻⁸, t = 10``), and a name from
the code in words (``cross_entropy`` -> ``cross entropy``).
"""

import re

__all__ = ["spoken", "spoken_number", "superscript", "words"]

SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
SUBSCRIPT = str.maketrans("0123456789k", "₀₁₂₃₄₅₆₇₈₉ₖ")
# LaTeX -> Unicode, in this order (\beta_1 before \beta)
SPOKEN = ((r"\tfrac{1}{2}", "½"), (r"\sum_k", "Σₖ"), (r"\left(", "("), (r"\right)", ")"), (r"\cdot", "·"),
          (r",\quad ", ", "), (r"\times", "×"), (r"-\log", "−log"), (" - ", " − "), (r"\eta", "η"),
          (r"\beta_1", "β₁"), (r"\beta_2", "β₂"), (r"\beta", "β"), (r"\rho", "ρ"), (r"\epsilon", "ε"))


def spoken(tex):
    """A number, a digit's cost or an optimiser's numbers as the chapter writes them in LaTeX, in Unicode."""
    text = re.sub(r"10\^\{(-?\d+)\}", lambda m: "10" + m.group(1).translate(SUPERSCRIPT), tex)
    text = re.sub(r"a\^\{L\}_\{?(\w+)\}?", lambda m: "aᴸ" + m.group(1).translate(SUBSCRIPT), text)
    text = text.replace("y_k", "yₖ").replace(")^2", ")²")
    for latex, plain in SPOKEN:
        text = text.replace(latex, plain)
    return text


def spoken_number(value):
    """A number as the screen writes it (:func:`explainer.optimizers.tex_number`), said in Unicode."""
    from ..optimizers import tex_number

    return spoken(tex_number(value))


def superscript(n):
    """A layer's number as a superscript: 2 -> '²'."""
    return str(n).translate(SUPERSCRIPT)


def words(name):
    """A name from the code (``cross_entropy``) in words."""
    return name.replace("_", " ")
