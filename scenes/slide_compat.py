"""manim-slides' ``Slide`` under the Manim this package runs on (0.22).

manim-slides 5.7.0 (the newest) was written for Manim up to 0.21. Under 0.22 its
``Slide`` cannot even be built:

* ``Slide.__init__`` sets ``config["write_to_movie"]``, a key 0.22 removed
  (``--format`` replaced it);
* ``Slide.render`` sets ``config["max_files_cached"] = float("inf")`` so that
  Manim keeps every partial movie for the slides to be cut from; 0.22 accepts
  only an integer of at least -1, and reads it when the scene is built, so
  setting it in ``render`` would be too late anyway;
* ``Slide.render`` reads ``config["flush_cache"]``, also removed.

:func:`compatible` returns a subclass that does what those lines were for, the
0.22 way: ``max_files_cached = -1`` (keep every partial movie) before the
scene is built, no ``write_to_movie``, no ``flush_cache``, and the slides
saved after Manim's own ``Scene.render``. Everything else is manim-slides'
own code: ``next_slide`` (with its ``notes``), ``_save_slides`` and the JSON
that ``manim-slides convert`` and ``present`` read.

It uses manim-slides' private pieces (``BaseSlide.__init__``,
``_save_slides``), so the version is pinned exactly (pyproject.toml), and the
layer switches on by testing for the feature (:func:`needs_layer`), not for
version numbers: with a Manim that still has ``write_to_movie``, manim-slides'
``Slide`` is used as it is.
"""

from pathlib import Path

from manim import Scene, config
from manim._config.utils import ManimConfig

__all__ = ["needs_layer", "compatible", "slides_folder"]


def needs_layer():
    """Whether this Manim lacks the config keys manim-slides sets (Manim 0.22 and later)."""
    return not hasattr(ManimConfig, "write_to_movie")


def slides_folder():
    """Where a scene's slides go: ``EXPLAINER_SLIDES`` if set, else ``slides/`` in Manim's media folder
    (beside the videos, so that a plain ``manim render`` writes nothing outside ``media/``)."""
    import os

    chosen = os.environ.get("EXPLAINER_SLIDES", "").strip()
    return (Path(chosen) if chosen else Path(config.media_dir) / "slides").absolute()  # the JSON holds paths: absolute


def compatible(Slide):
    """A subclass of manim-slides' ``Slide`` that builds and renders under Manim 0.22 (see the module)."""
    from manim_slides.slide.base import BaseSlide

    class CompatibleSlide(Slide):
        def __init__(self, *args, **kwargs):
            config.max_files_cached = -1  # keep every partial movie: the slides are cut from them
            kwargs.setdefault("output_folder", slides_folder())
            BaseSlide.__init__(self, *args, **kwargs)  # not Slide.__init__: it sets the removed write_to_movie

        def render(self, *args, **kwargs):
            Scene.render(self, *args, **kwargs)
            if self._partial_movie_files:  # none with -s (the last frame only): no video, so no slides
                self._save_slides(use_cache=False, flush_cache=self.flush_cache, skip_reversing=self.skip_reversing)

    CompatibleSlide.__name__ = CompatibleSlide.__qualname__ = "CompatibleSlide"
    return CompatibleSlide
