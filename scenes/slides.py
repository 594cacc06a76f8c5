"""The base class of every scene: a Manim ``Scene`` that can also be shown as slides.

Each scene calls ``self.next_slide()`` between its phases. With manim-slides
installed (``pip install -e ".[slides]"``), the base is ``manim_slides.Slide``,
so ``manim-slides render`` cuts the video at those pauses and ``manim-slides
present`` steps through them. Without it, the base is a plain ``Scene`` whose
``next_slide()`` does nothing, and ``manim render`` makes the usual video.

manim-slides 5.7.0 (the newest) sets ``config["write_to_movie"]``, which Manim
0.22 removed, and ``config["max_files_cached"] = inf``, which 0.22 refuses: a
``Slide`` cannot even be built there. So the slide base is used only with a Manim
that still has ``write_to_movie``: the ``slides`` extra installs Manim 0.21
(tested with manim-slides 5.7.0). With a newer Manim the scenes stay plain
scenes, and say why once.

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
from manim._config.utils import ManimConfig

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
    """``manim_slides.Slide`` if it is installed and works with this Manim, else None (and why)."""
    try:
        from manim_slides import Slide
    except ImportError:
        return None, None
    if not hasattr(ManimConfig, "write_to_movie"):
        import manim
        import manim_slides

        return None, (f"manim-slides {manim_slides.__version__} needs Manim < 0.22 (it sets "
                      f"config['write_to_movie']); this is Manim {manim.__version__}: rendering plain scenes, "
                      "without slides. For slides: pip install -e '.[slides]'")
    return Slide, None


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

        def next_slide(self, *args, **kwargs):
            if hold():
                self.wait(hold())
            super().next_slide(*args, **kwargs)

else:

    class LectureScene(_Uncached, Scene):
        """A plain scene; ``next_slide()`` marks where a slide would end: it holds the picture."""

        def next_slide(self, *args, **kwargs):
            if hold():
                self.wait(hold())
