"""Checking a scene's every phase without rendering it: what is on screen, how big its text is, what is cut off.

:func:`phases` runs a scene's ``setup`` and ``construct`` under Manim's
``dry_run`` (every animation is played to its end, no frame is written) and
keeps what is on screen at each ``next_slide()`` and at the end, with the
speaker notes the scene gave that phase. Then:

* :func:`small_texts` lists text whose digits would be under ``min_px`` pixels
  high at 480p (``-ql``). A digit of ``Text`` at ``font_size`` 20 is 12.6 px
  high there, of ``MathTex`` at 28 it is 12.0 px: those are the smallest sizes
  that pass the 12 px rule.
* :func:`cut_off` lists mobjects that reach beyond the frame.

::

    shots = phases(ForwardPass, monkeypatch, tmp_path, EXPLAINER_TRACE=str(trace))
    for shot in shots:
        assert not small_texts(shot.mobjects), shot.name
        assert not cut_off(shot.mobjects), shot.name
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["Shot", "phases", "texts", "small_texts", "cut_off", "digit_px"]

# height of a digit glyph, in pixels at 480p, per unit of font_size: measured on Manim 0.22
# (Text "0" at font_size 20: 12.6 px; MathTex "0" at 28: 12.0 px)
PX_PER_FONT_SIZE = {"text": 12.6 / 20, "tex": 12.0 / 28}


@dataclass
class Shot:
    """What was on screen at the end of one phase: ``name`` is ``"phase 1"``, ... or ``"end"``."""

    name: str
    mobjects: list
    time: float  # seconds into the video
    notes: str = ""  # the speaker notes the scene gave this phase (next_slide(notes=...))


def phases(scene_class, monkeypatch, media_dir, **env):
    """Run ``scene_class`` without rendering, with the environment ``env`` (EXPLAINER_TRACE, ...);
    return its :class:`Shot` at every ``next_slide()`` and at the end."""
    from manim import Paragraph, tempconfig

    for name, value in env.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.setenv("EXPLAINER_PACE", env.get("EXPLAINER_PACE", "preview"))
    original = Paragraph.__init__

    def remember_size(self, *lines, **kwargs):  # a Paragraph does not keep its font size: note it, and its height
        original(self, *lines, **kwargs)
        self._checked_font = (kwargs.get("font_size", 48), self.height)

    monkeypatch.setattr(Paragraph, "__init__", remember_size)
    shots = []

    def shoot(scene, name, notes=""):
        shots.append(Shot(name, [m.copy() for m in scene.mobjects], scene.renderer.time, notes or ""))

    monkeypatch.setattr(scene_class, "next_slide",
                        lambda self, *a, notes=None, **k: shoot(self, f"phase {len(shots) + 1}", notes))
    with tempconfig({"dry_run": True, "disable_caching": True, "quality": "low_quality", "media_dir": str(media_dir)}):
        scene = scene_class()
        scene.setup()
        scene.construct()
        shoot(scene, "end")
    return shots


def texts(mobjects):
    """Every piece of text among ``mobjects`` (and inside them), with its digit height in pixels at 480p:
    ``[(what it says, px), ...]``."""
    from manim import DecimalNumber, MarkupText, MathTex, Paragraph, SingleStringMathTex, Text

    found = []

    def visit(m):
        if isinstance(m, (Text, MarkupText)):
            found.append((m.original_text, m.font_size * PX_PER_FONT_SIZE["text"]))
        elif isinstance(m, Paragraph):
            font, height = m._checked_font
            size = font * (m.height / height if height else 1)
            found.append((" / ".join(t.original_text for t in [m.lines_text]), size * PX_PER_FONT_SIZE["text"]))
        elif isinstance(m, (MathTex, SingleStringMathTex, DecimalNumber)):
            found.append((getattr(m, "tex_string", None) or type(m).__name__, m.font_size * PX_PER_FONT_SIZE["tex"]))
        else:
            for child in m.submobjects:
                visit(child)

    for m in mobjects:
        visit(m)
    return found


def digit_px(font_size, kind="text"):
    """The height of a digit at ``font_size``, in pixels at 480p (``kind``: ``"text"`` or ``"tex"``)."""
    return font_size * PX_PER_FONT_SIZE[kind]


def small_texts(mobjects, min_px=12.0):
    """The texts among ``mobjects`` whose digits are under ``min_px`` pixels high at 480p."""
    return [(what, round(px, 1)) for what, px in texts(mobjects) if px < min_px - 0.05]


def cut_off(mobjects, margin=0.02):
    """Mobjects (with points or pixels) that reach beyond the frame, by more than ``margin`` units.
    A ValueTracker is not drawn (it keeps its value as a point): it is never cut off."""
    from manim import ValueTracker, config

    half_w, half_h = config.frame_width / 2 + margin, config.frame_height / 2 + margin
    out = []
    for m in mobjects:
        if isinstance(m, ValueTracker) or not (m.has_points() or m.submobjects or hasattr(m, "pixel_array")):
            continue
        (x0, y0, _), (x1, y1, _) = m.get_corner(np.array([-1, -1, 0])), m.get_corner(np.array([1, 1, 0]))
        if x0 < -half_w or x1 > half_w or y0 < -half_h or y1 > half_h:
            out.append(m)
    return out
