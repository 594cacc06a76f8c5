"""Where explainer keeps the files it downloads.

One folder, chosen the way command-line tools usually choose it:

1. ``$EXPLAINER_CACHE`` if it is set (handy for tests and shared machines);
2. ``$XDG_CACHE_HOME/explainer`` if ``XDG_CACHE_HOME`` is set;
3. ``~/.cache/explainer`` otherwise.

Each data set gets a sub-folder (MNIST lives in ``<cache>/mnist/``). Deleting
the cache is always safe: whatever is missing is fetched again.
"""

from __future__ import annotations

import os
import pathlib

__all__ = ["CACHE_ENV", "cache_dir"]

#: Environment variable that overrides the cache folder.
CACHE_ENV = "EXPLAINER_CACHE"


def cache_dir(*, create: bool = True) -> pathlib.Path:
    """Return the folder where explainer caches downloaded data.

    Parameters
    ----------
    create : bool, default True
        Create the folder (and its parents) if it does not exist yet. Pass
        ``False`` to only ask where it *would* be, e.g. to report status.

    Returns
    -------
    pathlib.Path
        ``$EXPLAINER_CACHE``, else ``$XDG_CACHE_HOME/explainer``, else
        ``~/.cache/explainer``. Empty variables count as unset.
    """
    explicit = os.environ.get(CACHE_ENV)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if explicit:
        folder = pathlib.Path(explicit).expanduser()
    elif xdg:
        folder = pathlib.Path(xdg).expanduser() / "explainer"
    else:
        folder = pathlib.Path.home() / ".cache" / "explainer"
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return folder
