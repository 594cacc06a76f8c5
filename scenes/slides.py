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
"""

import warnings

from manim import Scene
from manim._config.utils import ManimConfig

__all__ = ["LectureScene", "SLIDES"]


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

if SLIDES:

    class LectureScene(_Slide):
        """A scene that manim-slides cuts into slides at each ``next_slide()``."""

else:

    class LectureScene(Scene):
        """A plain scene; ``next_slide()`` marks where a slide would end and does nothing."""

        def next_slide(self, *args, **kwargs):
            pass
