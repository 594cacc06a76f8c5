"""The documentation site: built once per session with warnings as errors, its links checked, every public name
found in the API reference, and the pages opened in Chromium with the network off.

The build is the one ``make docs`` runs (docs/conf.py), into a temporary folder with its own caches, and with
a shorter gallery (TitleCard and Recap, the two quickest chapters: the gallery's code is the same for ten
chapters as for two, and the ten take minutes to render). The notebooks are executed, as on the site.
"""

import hashlib
import importlib
import os
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from jupyter_support import chromium_page, offline, require_chromium, screenshot_dir

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

from api_reference import scene_names  # noqa: E402  (docs/_ext is not a package)

# the modules whose __all__ is the public API the reference must cover (the scenes' classes come on top)
PUBLIC_MODULES = {  # module -> its page in the built site
    "explainer": "api/explainer.html",
    "explainer.trace": "api/trace.html",
    "explainer.widgets": "api/widgets.html",
    "explainer.scenes.pieces": "api/scenes.html",
    "explainer.scenes.slides": "api/scenes.html",
    "explainer.scenes.choice": "api/scenes.html",
    "explainer.scenes.palette": "api/scenes.html",
}
GALLERY_CHAPTERS = "TitleCard,Recap"
BUILT = {}  # what the session's build was made from


def build_site(out, chapters=GALLERY_CHAPTERS, timeout=1200):
    """Build the site into ``out/html`` as CI does (-W --keep-going); return (returncode, output, seconds)."""
    env = {**os.environ, "EXPLAINER_DOCS_BUILD": str(out), "EXPLAINER_DOCS_CHAPTERS": chapters}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going",
                           "-d", str(out / "doctrees"), str(DOCS), str(out / "html")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    return done.returncode, done.stdout + done.stderr, time.perf_counter() - started


def code_digest():
    """A digest of the code a gallery chapter is made from (explainer/ and scenes/): when it changes between two
    builds, the second renders the chapters again, by design (a chapter's key covers it)."""
    digest = hashlib.sha256()
    for path in sorted([*(ROOT / "explainer").rglob("*.py"), *(ROOT / "scenes").rglob("*.py")]):
        digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("docs")
    BUILT["code"] = code_digest()
    code, output, seconds = build_site(out)
    assert code == 0, f"the docs build failed (warnings are errors):\n{output[-6000:]}"
    print(f"docs built in {seconds:.0f} s")
    return out / "html"


class _Refs(HTMLParser):
    """Every address a page refers to (``href``, ``src``, ``poster``, ``data``), and every ``id``/``name``."""

    ATTRS = {"href", "src", "poster", "data"}

    def __init__(self):
        super().__init__()
        self.refs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in self.ATTRS and value:
                self.refs.append((tag, name, value))
            if name in ("id", "name") and value:
                self.ids.add(value)


def _parse(path):
    parser = _Refs()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def broken_links(site):
    """Every local link of the site's HTML pages that leads nowhere (a missing file, or a missing #anchor in a
    page of the site), and every resource a page would load from the network; as readable lines."""
    site = Path(site)
    pages = sorted(p for p in site.rglob("*.html") if "_static" not in p.parts)
    ids = {}
    problems = []
    for page in pages:
        parsed = _parse(page)
        ids[page] = parsed.ids
        for tag, attr, value in parsed.refs:
            parts = urlsplit(value)
            if parts.scheme in ("http", "https") or value.startswith("//"):
                if not (tag == "a" and attr == "href"):  # a link to follow is fine; a resource to load is not
                    problems.append(f"{page.relative_to(site)}: <{tag} {attr}> loads {value} from the network")
                continue
            if parts.scheme or not (parts.path or parts.fragment):  # mailto:, data:, javascript:, ...
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                problems.append(f"{page.relative_to(site)}: <{tag} {attr}={value!r}> leads to a missing file")
            elif parts.fragment and target.suffix == ".html" and site in target.parents:
                if target not in ids:
                    ids[target] = _parse(target).ids
                if unquote(parts.fragment) not in ids[target]:
                    problems.append(f"{page.relative_to(site)}: <{tag} {attr}={value!r}> names a missing anchor")
    return problems


def test_link_checker_finds_a_broken_link_and_a_network_load(tmp_path):
    """The checker itself, on a three-page site: a good link, a link to a missing page and to a missing anchor,
    a script from the network (a link *to* the network is fine)."""
    (tmp_path / "a.html").write_text('<h1 id="top">A</h1><a href="b.html#top">b</a><a href="a.html#top">me</a>'
                                     '<a href="https://example.org/">out</a>')
    (tmp_path / "b.html").write_text('<p id="top">B</p><a href="missing.html">x</a><a href="a.html#nowhere">y</a>'
                                     '<script src="https://cdn.example.org/x.js"></script>')
    problems = broken_links(tmp_path)
    assert len(problems) == 3, problems
    assert any("missing.html" in p and "missing file" in p for p in problems)
    assert any("#nowhere" in p and "missing anchor" in p for p in problems)
    assert any("cdn.example.org" in p and "network" in p for p in problems)


@pytest.mark.slow
def test_site_has_its_pages_and_no_broken_links(site):
    notebooks = [f"notebooks/{path.stem}.html" for path in sorted((DOCS / "notebooks").glob("*.ipynb"))]
    assert len(notebooks) >= 4
    for page in ["index.html", "start.html", "lecture.html", "gallery.html", "traces.html", "notation.html",
                 "benchmarks.html", "api/index.html", *notebooks]:
        assert (site / page).is_file(), f"{page} was not built"
    assert broken_links(site) == []


@pytest.mark.slow
def test_notebooks_are_executed_with_their_widget_state(site):
    """Every notebook's page has its code cells' outputs; one that shows a dashboard has its saved widget state
    and loads the widgets' JavaScript from the site."""
    with_widgets = 0
    for notebook in sorted((DOCS / "notebooks").glob("*.ipynb")):
        text = (site / "notebooks" / f"{notebook.stem}.html").read_text()
        assert 'class="cell_output' in text, f"{notebook.name}: its page shows no output (not executed?)"
        if "application/vnd.jupyter.widget-view+json" in text:
            with_widgets += 1
            assert 'type="application/vnd.jupyter.widget-state+json"' in text, f"{notebook.name}: no widget state"
            assert "_static/widgets/require.js" in text and "_static/widgets/html-manager/embed-amd.js" in text
        assert "cdn.jsdelivr" not in text and "cdnjs" not in text, f"{notebook.name} loads code from a CDN"
    assert with_widgets >= 3


@pytest.mark.slow
def test_gallery_has_each_chapter_video_with_its_poster_and_the_figures(site):
    text = (site / "gallery.html").read_text()
    for number, scene in enumerate(GALLERY_CHAPTERS.split(","), 1):
        video = f"lecture/videos/{number:02d}_{scene}.mp4"
        assert f'src="{video}"' in text and f'poster="lecture/posters/{scene}.png"' in text
        assert (site / video).stat().st_size > 10_000
    assert 'src="lecture/figures/loss_curves.png"' in text
    assert not (site / "lecture" / "build").exists(), "Manim's media folder was copied into the site"


@pytest.mark.slow
def test_every_public_name_is_in_the_api_reference(site):
    """Each name of each public module's __all__, and each scene class, has its entry (an anchor
    ``module.name``, as autodoc writes it) on its reference page."""
    missing = []
    for module_name, page in PUBLIC_MODULES.items():
        ids = _parse(site / page).ids
        module = importlib.import_module(module_name)
        missing += [f"{module_name}.{name} (on {page})" for name in module.__all__ if f"{module_name}.{name}" not in ids]
    ids = _parse(site / "api/scenes.html").ids
    scenes = scene_names()
    assert len(scenes) >= 10, scenes
    missing += [f"{module}.{name} (on api/scenes.html)" for name, module in scenes.items()
                if f"{module}.{name}" not in ids]
    assert missing == [], "not in the API reference: " + ", ".join(missing)


@pytest.mark.slow
def test_a_second_build_reuses_the_caches(site):
    """The same build again into the same folders: no notebook executed, no chapter rendered, and quick."""
    out = site.parent
    code, output, seconds = build_site(out)
    assert code == 0, output[-4000:]
    assert "Executing notebook" not in output, output[-4000:]
    if code_digest() == BUILT["code"]:  # in a work tree that others edit meanwhile, the chapters may be stale
        assert "rendering (-ql)" not in output and "unchanged, kept" in output, output[-4000:]
    assert seconds < 120, f"a cached build took {seconds:.0f} s"


def _notebook_page(site, name):
    """The page of the notebook whose file name ends with ``name`` (``01_forward_explorer.ipynb``)."""
    (page,) = [p for p in (site / "notebooks").glob("*.html") if p.stem.split("_", 1)[-1] == name]
    return page


@pytest.mark.slow
@pytest.mark.browser
def test_site_offline_in_chromium(site, tmp_path_factory):
    """Each kind of page in Chromium with the network cut: no console error and no request leaves the
    machine; the dashboards are drawn from their saved state; a gallery video plays."""
    require_chromium()
    shots = screenshot_dir(tmp_path_factory)
    with chromium_page(tempfile.mkdtemp(prefix="explainer-docs-chromium-"), width=1366, height=768) as page:
        problems, blocked = offline(page)
        page.goto((site / "index.html").as_uri())
        page.screenshot(path=str(shots / "docs-index.png"))

        page.goto(_notebook_page(site, "training_dashboard").as_uri())
        dashboard = page.locator(".explainer-dashboard").first
        dashboard.wait_for(state="visible", timeout=60_000)
        page.locator(".explainer-filters").first.wait_for(state="visible")
        pictures = page.locator(".explainer-dashboard img")
        pictures.first.wait_for(state="visible")
        drawn = pictures.evaluate_all("imgs => imgs.filter(i => i.complete && i.naturalWidth > 0).length")
        assert drawn >= 2, f"only {drawn} of the dashboard's pictures are drawn from the saved state"
        dashboard.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "docs-training-dashboard.png"))

        page.goto(_notebook_page(site, "forward_explorer").as_uri())
        page.locator(".explainer-canvas").first.wait_for(state="attached", timeout=60_000)
        page.locator(".explainer-prediction").first.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "docs-forward-explorer.png"))

        page.goto((site / "gallery.html").as_uri())
        video = page.locator("video").first
        video.scroll_into_view_if_needed()
        page.wait_for_function("v => v.poster && v.readyState >= 0", arg=video.element_handle())
        page.screenshot(path=str(shots / "docs-gallery.png"))
        played = video.evaluate("""v => new Promise((ok, fail) => {
            v.muted = true;
            v.addEventListener('timeupdate', () => { if (v.currentTime > 0.2) ok(v.currentTime); });
            v.play().catch(fail);
        })""")
        assert played > 0.2

        page.goto((site / "api/explainer.html").as_uri())
        page.screenshot(path=str(shots / "docs-api.png"))
    assert problems == [], problems
    assert blocked == [], f"requests that would have left the machine: {blocked}"
