"""Sphinx configuration of explainer's documentation site (``make docs`` builds it into docs/_build/html).

Everything the built site shows comes from this repository and one run: the
Markdown pages in docs/, the notebooks executed (myst-nb, cached), the gallery
rendered from the default trace (docs/_ext/gallery.py, cached), the API
reference from the docstrings (autodoc + napoleon). The site makes no network
request: the widgets' JavaScript is served from the site (docs/_ext/widget_assets.py)
and the formulas are SVG images made with LaTeX (imgmath), so no MathJax is loaded.
"""

import os
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
sys.path.insert(0, str(here / "_ext"))
build = Path(os.environ.get("EXPLAINER_DOCS_BUILD", here / "_build"))  # caches live beside the site

from widget_assets import WIDGET_JS, widget_assets  # noqa: E402  (docs/_ext is on the path only from here)

import explainer  # noqa: E402

project = "explainer"
author = "explainer developers"
copyright = "explainer developers, MIT licence"
release = version = explainer.__version__

extensions = [
    "myst_nb",  # Markdown pages (MyST) and the notebooks, executed
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",  # the docstrings are numpydoc
    "sphinx.ext.imgmath",  # formulas as SVG, made at build time: no MathJax from the network
    "gallery",
    "api_reference",
]

exclude_patterns = ["_build", "_ext", "**.ipynb_checkpoints", "notebooks/README.md"]
root_doc = "index"
suppress_warnings = []

# MyST: $...$ maths, ::: fences, and slugs for the headings so that [text](page.md#heading) links are checked
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# the notebooks: executed once, then taken from the cache until a notebook (or its code cells) changes;
# a failing cell fails the build
nb_execution_mode = "cache"
nb_execution_cache_path = str(build / ".jupyter_cache")
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_ipywidgets_js = WIDGET_JS  # require.js and html-manager from the site, not from CDNs

# the API reference: numpydoc sections, members in source order, the signature's types in the text
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"show-inheritance": True}
napoleon_google_docstring = False
napoleon_numpy_docstring = True

imgmath_image_format = "svg"
imgmath_font_size = 14
imgmath_use_preview = True  # inline formulas sit on the text's baseline

# the gallery: the default trace's lecture, rendered at -ql into the cache beside the site
explainer_gallery_dir = str(build / "gallery")
explainer_gallery_chapters = os.environ.get("EXPLAINER_DOCS_CHAPTERS", "")

html_theme = "sphinx_book_theme"
html_title = "explainer: how a neural network learns"
# _static, the widgets' JavaScript and the gallery's lecture files: filled at builder-inited, but they must exist
# already (Sphinx drops a missing folder from these lists when the configuration is read)
html_static_path = ["_static", str(build / "widget-static")]
html_extra_path = [str(build / "gallery" / "site")]
for folder in (*html_static_path[1:], *html_extra_path):
    Path(folder).mkdir(parents=True, exist_ok=True)
html_css_files = ["explainer.css"]
html_theme_options = {
    "show_navbar_depth": 1,
    "home_page_in_toc": True,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "search_bar_text": "Search the docs...",
}
html_context = {"default_mode": "light"}  # the theme's starting colour mode (unset, it logs a console error)
html_last_updated_fmt = None
html_show_sourcelink = False


def _widget_assets(app):
    """require.js, html-manager and anywidget's module into a static folder the site serves (_static/widgets/)."""
    widget_assets(build / "widget-static")


def setup(app):
    app.connect("builder-inited", _widget_assets)
