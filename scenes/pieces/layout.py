"""Small layout rules the scenes share: words wrapped into lines, a group shrunk to a width."""

__all__ = ["wrap", "fit"]


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
