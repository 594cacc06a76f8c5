"""The base class of every scene: a Manim ``Scene`` that is also a deck of slides.

Each scene calls ``self.next_slide(notes=...)`` at the end of each phase, the
last one included: the notes are what a teacher says over that phase, with
the numbers on screen. The base is
manim-slides' ``Slide`` (part of the install), so every render also cuts the
video into slides at those pauses, with the speaker notes, and writes them to
``slides/`` in Manim's media folder (``EXPLAINER_SLIDES`` names another):
``manim-slides convert`` makes an HTML deck of them, ``manim-slides present``
shows them. Under Manim 0.22 manim-slides 5.7.0 needs a small compatibility
layer (:mod:`scenes.slide_compat`). Without manim-slides the base is a plain
``Scene`` whose ``next_slide()`` only holds the picture.

Pace: a teacher narrates over the video, so every phase ends with a hold of
``HOLD`` seconds (``next_slide()`` waits, then cuts the slide).
``EXPLAINER_PACE=preview`` drops the holds and shortens the slow sweeps, for a
quick look; ``lecture`` (the default) keeps them.

Manim's cache of partial movies is off for every scene (``disable_caching``):
to find a cached animation Manim hashes every mobject on screen before each
``play``, and with a network's edges, images and formulas on screen that
hashing cost more than rendering (OneNeuron, ChainRule and GradientDescent
rendered in about half the time without it), while a changed trace or step
changes every animation anyway.
"""

import os
import warnings

from manim import Scene, config

__all__ = ["LectureScene", "SLIDES", "PACES", "pace", "hold", "sweep"]

# pace name -> (seconds held at the end of each phase, factor on the length of sweeps through snapshots)
PACES = {"lecture": (2.0, 1.0), "preview": (0.0, 0.4)}


def pace():
    """The pace ``EXPLAINER_PACE`` names (``lecture`` by default); a bad name stops the render in one line."""
    from .choice import fail

    name = os.environ.get("EXPLAINER_PACE", "").strip() or "lecture"
    if name not in PACES:
        fail(f"EXPLAINER_PACE must be one of {', '.join(PACES)}; got {name!r}")
    return name


def hold():
    """Seconds to hold the picture at the end of a phase, at this pace."""
    return PACES[pace()][0]


def sweep(seconds):
    """How long a sweep through snapshots that takes ``seconds`` at the lecture's pace takes at this pace."""
    return seconds * PACES[pace()][1]


def _slide_class():
    """manim-slides' ``Slide`` (through the compatibility layer where this Manim needs it), or None if
    manim-slides is not installed."""
    try:
        from manim_slides import Slide
    except ImportError:
        return None, ("manim-slides is not installed: rendering plain scenes, without slides "
                      "(pip install -e . installs it)")
    from .slide_compat import compatible, needs_layer

    return (compatible(Slide) if needs_layer() else Slide), None


_Slide, _why_not = _slide_class()
SLIDES = _Slide is not None  # whether the scenes are manim-slides slides
if _why_not:
    warnings.warn(_why_not, stacklevel=1)



class _Uncached:
    """Turns Manim's partial-movie cache off before the scene is built (see the module's docstring)."""

    def __init__(self, *args, **kwargs):
        config.disable_caching = True
        super().__init__(*args, **kwargs)


if SLIDES:

    class LectureScene(_Uncached, _Slide):
        """A scene that manim-slides cuts into slides at each ``next_slide()``, after a hold."""

        skip_reversing = True  # a reversed copy of each slide serves only going back in the Qt presenter (the
        # deck and PowerPoint never show it); making it decodes and encodes every frame again

        def next_slide(self, notes=None, **kwargs):
            """End the phase on screen: hold it, then cut the slide. ``notes`` are the speaker notes of the
            slide that ends here (what to say over it, with the numbers on screen); manim-slides' own
            ``notes=`` would go to the slide after, so they are set on this one instead."""
            if hold():
                self.wait(hold())
            if notes:
                self._base_slide_config.notes = notes  # the slide being cut (manim-slides 5.7's own field)
            super().next_slide(**kwargs)

else:

    class LectureScene(_Uncached, Scene):
        """A plain scene; ``next_slide()`` marks where a slide would end: it holds the picture."""

        def next_slide(self, notes=None, **kwargs):
            if hold():
                self.wait(hold())
