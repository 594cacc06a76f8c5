"""Looking a name up in one of the package's tables, with an error that helps.

Activations, losses, initialisers, optimisers and data sets live in tables
keyed by name; the command line's choices and every error message come from
those tables, through :func:`lookup`.
"""

__all__ = ["lookup", "choices"]


def choices(table):
    """``'a', 'b', 'c'``: the names of a table, quoted, for messages."""
    return ", ".join(repr(name) for name in table)


def lookup(table, name, parameter):
    """``table[name]``, or a ValueError naming the parameter, the choices and what was given.

    >>> lookup({"relu": 1}, "relu6", "activation")
    Traceback (most recent call last):
    ...
    ValueError: activation must be one of 'relu'; got 'relu6'
    """
    try:
        return table[name]
    except (KeyError, TypeError):
        raise ValueError(f"{parameter} must be one of {choices(table)}; got {name!r}") from None
