"""The JavaScript that shows the notebooks' widgets from their saved state, as local files: the site works offline.

myst-nb writes each executed notebook's widget state into its page and, by
default, loads require.js and ``@jupyter-widgets/html-manager`` from CDNs to
draw it. Here both come from npm instead, fetched once with ``npm pack``
(:func:`explainer.npm.npm_pack`, pinned version and SHA-256) into explainer's
cache (``<cache>/npm/``), and are served from the site's ``_static/widgets/``:

- ``require.js`` (the package ``requirejs``): the AMD loader html-manager needs;
- ``html-manager/embed-amd.js`` and the icon fonts beside it: it finds every
  ``application/vnd.jupyter.widget-state+json`` script and draws the widgets;
- ``anywidget.js``: the AMD module of the drawing canvas's widget library,
  copied from the installed anywidget package (its classic-notebook
  extension), so the canvas is drawn from its saved JavaScript too;
- ``config.js``: tells require.js where ``anywidget`` and html-manager's fonts are.

:data:`WIDGET_JS` is the ``nb_ipywidgets_js`` setting that loads them, in
that order. html-manager falls back to its ``data-jupyter-widgets-cdn``
address for a widget library it cannot find; that address is a folder of the
site, so even a missing library never sends a request outside it.
"""

from __future__ import annotations

import hashlib
import shutil
import tarfile
from pathlib import Path, PurePosixPath

from explainer.data.cache import cache_dir
from explainer.npm import npm_pack

__all__ = ["PACKAGES", "WIDGET_JS", "widget_assets"]

# package -> (version, SHA-256 of `npm pack`'s tarball, {file in the tarball: where it goes under widgets/})
PACKAGES = {
    "requirejs": ("2.3.8", "777158e89275e16bd51aec3ef714fbcb5dc45789e7078659933bc814916d7dec",
                  {"package/require.js": "require.js"}),
    "@jupyter-widgets/html-manager": ("1.0.15", "2b9d65cb7913e1c7d671757a10008b32c9c2448d4429513371e55c07d6107638",
                                      {"package/dist/embed-amd.js": "html-manager/embed-amd.js",
                                       "package/dist/*.woff2": "html-manager/", "package/dist/*.woff": "html-manager/",
                                       "package/dist/*.ttf": "html-manager/", "package/dist/*.eot": "html-manager/",
                                       "package/dist/*.svg": "html-manager/"}),
}

# nb_ipywidgets_js: paths relative to _static (Sphinx makes them relative to each page), loaded in this order
WIDGET_JS = {
    "widgets/require.js": {},
    "widgets/config.js": {},
    "widgets/html-manager/embed-amd.js": {"data-jupyter-widgets-cdn": "_static/widgets/cdn/"},
}

# anywidget: its module beside this file. @jupyter-widgets: html-manager's bundle finds its icon fonts beside the
# module's address (module.uri), which is page-relative without this. waitSeconds 0: no load time-out, since a
# page with a large saved state keeps the browser busy for longer than require.js's default 7 s
CONFIG_JS = """\
// explainer's docs: where require.js finds the widget libraries html-manager does not bundle, and its fonts
(function () {
  var here = document.currentScript.src.replace(/[^/]*$/, "");
  requirejs.config({paths: {anywidget: here + "anywidget", "@jupyter-widgets": here + "html-manager"},
                    waitSeconds: 0});
  window.__jupyter_widgets_assets_path__ = here + "html-manager/";
})();
"""


def _tarball(name: str) -> Path:
    """The cached tarball of ``name`` at its pinned version, fetched with ``npm pack`` when missing or damaged."""
    version, sha256, _ = PACKAGES[name]
    folder = cache_dir() / "npm"
    cached = folder / f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"  # the name npm pack gives it
    if cached.is_file() and hashlib.sha256(cached.read_bytes()).hexdigest() == sha256:
        return cached
    cached.unlink(missing_ok=True)
    return npm_pack(f"{name}@{version}", sha256, folder)


def _extract(tarball: Path, files: dict, dest: Path) -> None:
    """Copy the members of ``tarball`` that ``files`` names (exact paths or ``dir/*.ext``) into ``dest``."""
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar.getmembers():
            path = PurePosixPath(member.name)
            target = next((to for pattern, to in files.items() if path.match(pattern) and
                           path.parent == PurePosixPath(pattern).parent), None)
            if target is None or not member.isfile():
                continue
            out = dest / (target + path.name if target.endswith("/") else target)
            out.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(member) as source, open(out, "wb") as sink:
                shutil.copyfileobj(source, sink)


def widget_assets(dest: Path) -> Path:
    """Put the widgets' JavaScript at ``dest/widgets/`` (see the module) and return that folder.

    A folder already made for the same pinned versions is kept as it is: a
    second build neither fetches nor extracts anything.
    """
    import anywidget

    folder = Path(dest) / "widgets"
    anywidget_js = Path(anywidget.__file__).parent / "nbextension" / "index.js"
    stamp = folder / ".versions"
    wanted = repr((sorted((name, version, sha) for name, (version, sha, _) in PACKAGES.items()),
                   anywidget.__version__, CONFIG_JS))
    if stamp.is_file() and stamp.read_text() == wanted:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, (_, _, files) in PACKAGES.items():
        _extract(_tarball(name), files, folder)
    shutil.copyfile(anywidget_js, folder / "anywidget.js")
    (folder / "config.js").write_text(CONFIG_JS)
    stamp.write_text(wanted)
    return folder
