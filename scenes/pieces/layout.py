"""Small layout rules the scenes share: words wrapped into lines, a group shrunk to a width, boxes that must
not overlap, a label kept inside a frame."""

import numpy as np

__all__ = ["wrap", "fit", "covers", "overlaps", "keep_inside"]


def wrap(text, width):
    """Words of ``text`` in lines of at most ``width`` characters."""
    out, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return out + [line] if line else out


def fit(group, width):
    """Scale ``group`` down to ``width`` if it is wider (the legibility tests catch one shrunk too far)."""
    if group.width > width:
        group.scale_to_fit_width(width)
    return group


def covers(mobject, point, buff=0.03):
    """Whether ``point`` lies inside ``mobject``'s box."""
    (x0, y0, _), (x1, y1, _) = _box(mobject)
    return x0 - buff <= point[0] <= x1 + buff and y0 - buff <= point[1] <= y1 + buff


def overlaps(a, b, buff=0.05):
    """Whether the boxes of ``a`` and ``b`` overlap (or come within ``buff``)."""
    (a0, a1), (b0, b1) = _box(a), _box(b)
    return not (a1[0] + buff < b0[0] or b1[0] + buff < a0[0] or a1[1] + buff < b0[1] or b1[1] + buff < a0[1])


def keep_inside(mobject, frame=None, margin=0.15):
    """Shift ``mobject`` back inside ``frame`` (default: the screen), ``margin`` from its edges."""
    if frame is None:
        from manim import config

        left, right = -config.frame_width / 2 + margin, config.frame_width / 2 - margin
        bottom, top = -config.frame_height / 2 + margin, config.frame_height / 2 - margin
    else:
        (left, bottom, _), (right, top, _) = _box(frame)
    (x0, y0, _), (x1, y1, _) = _box(mobject)
    mobject.shift(np.array([max(0.0, left - x0) - max(0.0, x1 - right), max(0.0, bottom - y0) - max(0.0, y1 - top), 0.0]))
    return mobject


def _box(mobject):
    """The corners of ``mobject``'s box: (bottom left, top right), each (x, y, z)."""
    return mobject.get_critical_point(np.array([-1.0, -1.0, 0.0])), mobject.get_critical_point(np.array([1.0, 1.0, 0.0]))
