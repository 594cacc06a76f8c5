"""Text that is cheap to animate.

Manim copies a mobject for every FadeIn, FadeOut and Transform, and each glyph
of a ``Text`` or ``MathTex`` keeps the parsed SVG path it was drawn from
(``path_obj``), which it needs only once, to make its points. Copying that
path is most of the cost of copying the glyph: a line of 40 letters copies in
about 0.2 s with it and 0.02 s without, and a scene that fades a few dozen lines
in and out spends most of its render time there.
"""

__all__ = ["light"]


def light(mobject):
    """``mobject``, its glyphs' SVG paths dropped (their points stay): copies of it are quick."""
    for m in mobject.get_family():
        if getattr(m, "path_obj", None) is not None:
            m.path_obj = None
    return mobject
