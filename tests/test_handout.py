"""The handout: one offline HTML page of a run, its facts the reader's, each chapter's key formula with the
numbers its chapter module computes, the notes escaped, every picture a relative path that exists; printed to
A4 PDF by Debian's Chromium (skipped without it, as the other browser tests). A tiny real trace (8x8 digits,
6 hidden units, 40 steps)."""

import re
import unicodedata
from argparse import Namespace
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest
from PIL import Image, ImageDraw

from explainer import Experiment, run
from explainer.chapters import backprop, chain_rule, descent, minibatch
from explainer.chapters.backprop import backprop_story
from explainer.chapters.chain_rule import chain_story, number_tex
from explainer.chapters.descent import descent_story, nice
from explainer.chapters.forward_pass import forward_story
from explainer.chapters.minibatch import minibatch_story
from explainer.chapters.neuron import neuron_story
from explainer.formulas import formulas_of
from explainer.lecture.handout import Chapter, key_formula, run_facts, write_handout
from explainer.lecture.key_formulas import tex_html
from explainer.optimizers import make_optimizer
from explainer.trace import Trace, TraceRecorder

LECTURE = ("TitleCard", "OneNeuron", "ForwardPass", "GradientDescent", "Backprop", "ChainRule", "MiniBatches",
           "FirstLayerFilters", "TrainingStory", "Recap")
FOLLOW_A_DIGIT = {"OneNeuron", "ForwardPass", "GradientDescent", "Backprop", "ChainRule"}
EARLY = {"GradientDescent": descent, "Backprop": backprop, "ChainRule": chain_rule, "MiniBatches": minibatch}
SAMPLE = 3
NASTY = "watch <script>alert('x')</script> & a < b"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = tmp_path_factory.mktemp("handout") / "tiny.zarr"
    with TraceRecorder(path, schedule="every:10", n_probe=10) as recorder:
        run(Experiment.preset("digits", hidden=(6,), epochs=1), recorder=recorder, progress=False)
    return Trace.open(path)


def chapter_of(trace, name, **fields):
    """A chapter as the lecture makes it: the scene's own default step, probe digit SAMPLE if it follows one."""
    step = EARLY[name].default_step(trace) if name in EARLY else int(trace.snapshot_steps[-1])
    return Chapter(name=name, title=fields.pop("title", name), step=step,
                   sample=SAMPLE if name in FOLLOW_A_DIGIT else None, **fields)


def poster(path, words):
    """A stand-in poster frame: a dark 16:9 picture with the chapter's name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", (854, 480), "#1e1e2e")
    ImageDraw.Draw(image).text((40, 40), words, fill="white")
    image.save(path)
    return path


@pytest.fixture(scope="module")
def lecture(tiny, tmp_path_factory):
    """A lecture folder: posters, a (stand-in) video for some chapters, the run's figures and the handout."""
    from explainer.figures import save_all

    folder = tmp_path_factory.mktemp("lecture")
    figures = save_all(tiny, folder / "figures", formats=("png",), dpi=60)
    chapters = []
    for k, name in enumerate(LECTURE):
        video = None
        if k % 2:  # every other chapter has a video: the page must show its poster in print all the same
            video = folder / "videos" / f"{k + 1:02d}_{name}.mp4"
            video.parent.mkdir(exist_ok=True)
            video.write_bytes(b"not played in these tests")
        notes = [f"{name}: the first slide's notes.", "", f"the second slide: {NASTY}", "a third,\nover two lines"]
        chapters.append(chapter_of(tiny, name, title=f"{name} <i>{k}</i>", notes=notes,
                                   poster=poster(folder / "posters" / f"{name}.png", name), video=video))
    dest = write_handout(tiny, chapters, figures, folder / "handout.html")
    return {"folder": folder, "dest": dest, "page": dest.read_text(encoding="utf-8"), "chapters": chapters,
            "figures": figures}


class Page(HTMLParser):
    """The page's tags and attributes, the run's facts by key, each chapter's text and formula text."""

    def __init__(self, source):
        super().__init__()
        self.tags, self.facts, self.sections, self.stack = [], {}, {}, []
        self.feed(source)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        self.stack.append((tag, attrs))

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data):
        for tag, attrs in self.stack:
            if "data-fact" in attrs and self.stack[-1][0] == "td":
                self.facts[attrs["data-fact"]] = self.facts.get(attrs["data-fact"], "") + data
            if tag == "section" and "id" in attrs:
                self.sections[attrs["id"]] = self.sections.get(attrs["id"], "") + data


def text(html):
    """The text of an HTML piece, its pieces between tags apart (``a<sup>L</sup>`` is ``a L``), entities read,
    minus signs as '-' and every run of spaces one space."""
    parser = HTMLParser()
    parts = []
    parser.handle_data = parts.append
    parser.feed(html)
    return " ".join(" ".join(parts).replace("−", "-").replace("\u2009", " ").replace("\u2003", " ").split())


def squeeze(s):
    """Without any space, and composed (m + a combining hat is m̂): formulas compare alike however written."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFC", s))


def has(formula, expected):
    """Whether ``formula`` (text) holds ``expected``, spaces aside."""
    return squeeze(expected) in squeeze(formula)


def shown(tex):
    """A number or formula as the handout shows it: the chapter's LaTeX through tex_html, as text."""
    return text(tex_html(tex))


# -- the run -----------------------------------------------------------------------------------------------------


def test_the_run_is_the_readers(tiny, lecture, capsys):
    from explainer.cli.trace import info_command

    facts = Page(lecture["page"]).facts
    r, t = tiny.run, tiny.run.training
    assert facts["dataset"] == f"digits, images of {tiny.image_shape[0]}x{tiny.image_shape[1]}"
    assert facts["network"].split("(")[0].split() == "64 → 6 → 10".split() == " → ".join(map(str, tiny.sizes)).split()
    assert facts["network"].endswith(f"({', '.join(r.activations)})")
    assert facts["loss"].startswith(r.loss) and (f"l2 = {r.l2:g}" in facts["loss"]) == bool(r.l2)
    assert facts["optimizer"] == t.optimizer
    assert facts["lr"] == f"{t.lr:g}, decay: none" and t.lr_decay == 1
    assert facts["batch_size"] == str(t.batch_size)
    assert facts["epochs"] == f"{tiny.n_epochs} of {t.epochs}"
    assert facts["steps"] == f"{tiny.n_steps} of {r.total_steps} (complete)"
    assert facts["snapshots"].startswith(f"{tiny.n_snapshots} (schedule {r.schedule}), {len(tiny.probe_labels)} probe")
    accuracy = tiny.evaluation.test_accuracy
    assert facts["test_accuracy"] == f"{accuracy:.4f} ({accuracy:.1%})"
    # ... and `explainer info` prints the same accuracy
    assert info_command(Namespace(trace=str(tiny.path), probes=False, json=False)) == 0
    printed = re.search(r"^test\s+accuracy (\S+)$", capsys.readouterr().out, re.MULTILINE).group(1)
    assert facts["test_accuracy"].split()[0] == printed


def test_a_decaying_learning_rate_is_said(tiny, tmp_path):
    path = tmp_path / "decay.zarr"
    with TraceRecorder(path, schedule="every:20", n_probe=10) as recorder:
        run(Experiment.preset("digits", hidden=(4,), epochs=2, lr_decay=0.5, optimizer="sgd", lr=0.1),
            recorder=recorder, progress=False)
    trace = Trace.open(path)
    facts = dict((key, value) for key, _, value in run_facts(trace))
    assert facts["lr"] == "0.1, decay: × 0.5 each epoch"
    # Backprop's update at a step of the second epoch: the rate in force, and how the decay made it
    step = int(trace.snapshot_steps[-1])
    assert trace.run.epoch_of(step) == 1
    formula = text(key_formula(trace, Chapter("Backprop", "Backprop", step=step, sample=0)))
    assert has(formula, "W ← W - η g η = 0.05 η = 0.1 × 0.5 1 = 0.05 (epoch 2)")


# -- each chapter's key formula, with the numbers of its chapter's module ------------------------------------------


@pytest.fixture(scope="module")
def formulas(tiny, lecture):
    return {c.name: text(key_formula(tiny, c)) for c in lecture["chapters"]}


def test_the_chapters_without_a_formula_have_none(tiny, lecture, formulas):
    assert formulas["TitleCard"] == formulas["Recap"] == ""
    assert key_formula(tiny, Chapter("NoSuchScene", "x", step=0)) == ""
    page = Page(lecture["page"])
    assert [tag for tag, attrs in page.tags if attrs.get("class") == "formula"] == ["div"] * 8


def test_one_neuron(tiny, lecture, formulas):
    st = neuron_story(tiny, SAMPLE, lecture["chapters"][1].step)
    j, sign = st.unit, "+" if st.b >= 0 else "-"
    assert has(formulas["OneNeuron"], f"z {j} = Σ i W {j},i x i + b {j} = {st.weighted_sum:.3f} {sign} {abs(st.b):.3f} = "
                                      f"{st.total:.3f}")
    assert has(formulas["OneNeuron"], f"a {j} = f(z {j}) = {st.a:.3f}")
    assert st.total == pytest.approx(st.z, abs=1e-4)  # the sum written out is the recorded z


def test_forward_pass(tiny, lecture, formulas):
    st = forward_story(tiny, SAMPLE, lecture["chapters"][2].step)
    j, (w1, w2), (x1, x2) = st.unit, st.weights, st.inputs

    def signed(v):  # a term of the sum, as ForwardPass writes it
        return f"{v:.3f}" if v >= 0 else f"({v:.3f})"

    assert has(formulas["ForwardPass"], f"z 1 {j} = W 1 {j} a 0 + b 1 {j} = {signed(w1)} · {x1:.2f} + {signed(w2)} · "
                                        f"{x2:.2f} + … + {signed(st.b)} = {st.z:.3f}")
    assert has(formulas["ForwardPass"], f"a 1 {j} = f(z 1 {j}) = {st.a:.3f}")


def test_gradient_descent(tiny, lecture, formulas, tmp_path_factory, monkeypatch):
    monkeypatch.setenv("EXPLAINER_CACHE", str(tmp_path_factory.mktemp("cache")))
    st = descent_story(tiny, SAMPLE, lecture["chapters"][3].step)  # the whole story, landscape and all
    formula, numbers = st.digit_tex  # ell = -sum_k y_k log a_k, then = -log a_3 = -log 0.176 = 1.74
    assert has(formulas["GradientDescent"], f"{shown(formula)} {shown(numbers)}")
    assert squeeze(formulas["GradientDescent"]).startswith(squeeze(f"ℓ = -Σ k y k log a L k = -log a L {st.label} = "
                                                                   f"-log {st.probabilities[st.label]:.3f}"))
    assert has(formulas["GradientDescent"], f"= {descent.number(st.digit_loss)} L = {nice(st.batch_loss)}")


def test_backprop(tiny, lecture, formulas):
    step = lecture["chapters"][4].step
    st = backprop_story(tiny, SAMPLE, step)
    f = formulas_of(tiny, step)
    assert has(formulas["Backprop"], " ".join(shown(line) for line in f.update))  # the run's rule, then its numbers
    assert has(formulas["Backprop"], f"η = {tiny.learning_rate(step):g}, β 1 = 0.9, β 2 = 0.999 ε = 10 -8, t = {step + 1}")
    assert has(formulas["Backprop"], f"loss on this digit: {st.loss:.3f} at step {step}, {st.after.loss:.3f} at step "
                                     f"{st.after.step}")


def test_chain_rule(tiny, lecture, formulas):
    st = chain_story(tiny, SAMPLE, lecture["chapters"][5].step)
    n, j, k = st.layer, st.unit, st.source

    def factor(v):  # a factor of the product, as ChainRule writes it: negative ones in parentheses
        return shown(rf"\left({number_tex(v)}\right)" if v < 0 else number_tex(v))

    assert has(formulas["ChainRule"], f"∂ℓ/∂W {n} {j},{k} = a {n - 1} {k} · f′(z {n} {j}) · ∂ℓ/∂a {n} {j} = "
                                      f"{factor(st.a_prev)} × {factor(st.f_prime)} × {factor(st.dl_da)} = "
                                      f"{shown(number_tex(st.gradient))}")
    assert has(formulas["ChainRule"], f"= δ {n} {j} a {n - 1} {k} = {shown(number_tex(st.dW_entry, 4))}")
    assert st.gradient == pytest.approx(st.dW_entry, rel=1e-4, abs=1e-7)  # the product is the recorded entry


def test_mini_batches(tiny, lecture, formulas):
    st = minibatch_story(tiny, lecture["chapters"][6].step)
    assert has(formulas["MiniBatches"], f"cos(g, ḡ) = (g · ḡ)/(‖g‖ ‖ḡ‖) = {st.batch_cosine:.2f}")
    assert has(formulas["MiniBatches"], f"‖g‖ = {st.batch_norm:.2f}, ‖ḡ‖ = {st.mean_norm:.2f}")
    assert has(formulas["MiniBatches"], f"step {st.step}'s batch of {st.batch_size} training digits")


def test_first_layer_filters(tiny, lecture, formulas):
    step = lecture["chapters"][7].step
    silent = tiny.silent_units(step, exact=True)
    assert len(silent), "the tiny run has a silent unit to name"
    assert has(formulas["FirstLayerFilters"], f"a 1 j = 0 for all {len(tiny.probe_labels)} probe digits: "
                                              f"j ∈ {{{', '.join(map(str, silent))}}}")
    assert has(formulas["FirstLayerFilters"], f"{len(silent)} of the {tiny.sizes[1]} units of layer 1 silent at "
                                              f"step {step}")


def test_training_story(tiny, formulas):
    ev = tiny.evaluation
    right, total = int(np.trace(ev.confusion)), int(ev.confusion.sum())
    assert has(formulas["TrainingStory"], f"test accuracy = {right}/{total} = {ev.test_accuracy:.1%}")


# -- the page ------------------------------------------------------------------------------------------------------


def test_the_chapters_come_in_order_with_their_notes_escaped(lecture):
    page, source = Page(lecture["page"]), lecture["page"]
    ids = [attrs["id"] for tag, attrs in page.tags if tag == "section" and "id" in attrs]
    assert ids == list(LECTURE)
    assert "<script" not in source.lower()  # the note's script is text, not a script
    assert "watch &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; a &lt; b" in source
    assert "<i>1</i>" not in source and "OneNeuron &lt;i&gt;1&lt;/i&gt;" in source  # a title is text too
    for name in LECTURE:
        said = page.sections[name]
        assert said.index(f"{name}: the first slide's notes.") < said.index(NASTY) < said.index("a third,\nover two")
    assert source.count('<ol class="notes">') == len(LECTURE)
    assert source.count("<li>") == 3 * len(LECTURE) + len(LECTURE)  # the blank note left out; the contents' items


def test_every_picture_is_a_relative_path_that_exists_and_nothing_is_fetched(lecture):
    page, folder = Page(lecture["page"]), lecture["folder"]
    links = [(tag, name, value) for tag, attrs in page.tags for name, value in attrs.items()
             if name in ("src", "href", "poster")]
    assert {tag for tag, _, _ in links} == {"img", "video", "a"}
    for _, name, value in links:
        if name == "href":
            assert value.startswith("#"), value  # the contents: anchors in the page
            continue
        assert not re.match(r"[a-z]+:|/", value), value  # no scheme, not absolute
        assert (folder / unquote(value)).is_file(), value
    pictures = [Path(unquote(attrs["src"])) for tag, attrs in page.tags if tag == "img"]
    assert pictures == [*(Path("posters") / f"{n}.png" for n in LECTURE),
                        *(f.relative_to(folder) for f in lecture["figures"])]
    assert not re.search(r"https?:|//[a-z]|@import|url\(", lecture["page"], re.IGNORECASE)
    assert "<link" not in lecture["page"] and "<script" not in lecture["page"]


def test_each_figure_has_a_caption(lecture):
    source = lecture["page"]
    captions = re.findall(r'<figure class="figure"><img [^>]*><figcaption>([^<]+)</figcaption>', source)
    assert len(captions) == len(lecture["figures"]) >= 5
    assert "The test set&#x27;s confusion matrix: a row per true digit, a column per predicted digit." in captions


def test_a_missing_picture_is_refused(tiny, tmp_path):
    gone = Chapter("OneNeuron", "One neuron", step=0, sample=0, poster=tmp_path / "nowhere.png")
    with pytest.raises(FileNotFoundError, match="nowhere.png"):
        write_handout(tiny, [gone], [], tmp_path / "handout.html")
    assert not (tmp_path / "handout.html").exists()


def test_a_handout_in_another_folder_points_back_up(tiny, lecture, tmp_path):
    dest = write_handout(tiny, lecture["chapters"][:2], lecture["figures"][:1], tmp_path / "deep" / "down" / "h.html")
    sources = [attrs["src"] for tag, attrs in Page(dest.read_text()).tags if tag == "img"]
    assert all((dest.parent / unquote(s)).resolve().is_file() for s in sources) and sources[0].startswith("../")


# -- LaTeX as HTML ---------------------------------------------------------------------------------------------------


def test_tex_html_writes_scripts_fractions_and_accents():
    assert tex_html(r"a^{L}_k") == '<i>a</i><span class="ss"><sup><i>L</i></sup><sub><i>k</i></sub></span>'
    assert tex_html(r"\frac{1}{N}") == "1/<i>N</i>"
    assert squeeze(text(tex_html(r"\hat m = \frac{m}{1 - \beta_1^{\,t}}"))) == "m̂=m/(1-βt1)"
    assert tex_html(r"\epsilon = 10^{-8}") == "ε = 10<sup>−8</sup>"
    assert tex_html(r"x < y \text{ & <b>}") == "<i>x</i> &lt; <i>y</i>  &amp; &lt;b&gt;"


@pytest.mark.parametrize("name", ["sgd", "momentum", "rmsprop", "adam"])
def test_every_optimisers_update_becomes_html_without_latex(name):
    for line in make_optimizer(name, 0.01).tex(t=5):
        out = tex_html(line)
        assert "\\" not in out and "{" not in out and "}" not in out, (line, out)


# -- in the browser ----------------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.slow
def test_the_handout_prints_to_a4_pdf_in_chromium(lecture, tmp_path_factory):
    from jupyter_support import chromium_page, require_chromium, screenshot_dir

    require_chromium()
    shots = screenshot_dir(tmp_path_factory)
    asked = []
    with chromium_page(tmp_path_factory.mktemp("chromium-profile"), width=1366, height=768) as page:
        page.on("request", lambda request: asked.append(request.url))
        page.goto(lecture["dest"].resolve().as_uri())
        page.wait_for_load_state("load")
        assert page.evaluate("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
        videos, frames = page.locator("video"), page.locator("img.frame")
        with_video = sum(c.video is not None for c in lecture["chapters"])
        assert videos.count() == with_video > 0 and frames.count() == len(LECTURE)
        assert all(v.is_visible() for v in videos.all())  # on screen a video shows its poster and plays
        assert sum(f.is_visible() for f in frames.all()) == len(LECTURE) - with_video
        page.screenshot(path=str(shots / "handout_screen.png"))
        pdf = page.pdf(format="A4")
        page.emulate_media(media="print")
        assert not any(v.is_visible() for v in videos.all())  # in print: no video, every poster
        assert all(f.is_visible() for f in frames.all())
        overflow = page.evaluate("Array.from(document.images).filter(i => i.getBoundingClientRect().right > "
                                 "document.body.getBoundingClientRect().right + 0.5).map(i => i.src)")
        assert overflow == []  # every picture within the page's width
        assert page.evaluate("getComputedStyle(document.body).color") == "rgb(27, 27, 27)"  # dark on light
        page.screenshot(path=str(shots / "handout_print.png"), full_page=True)
    (shots / "handout.pdf").write_bytes(pdf)
    print(f"\nhandout screenshots and PDF: {shots}")
    assert pdf.startswith(b"%PDF")
    assert re.search(rb"/MediaBox\s*\[0 0 59[45](\.\d+)? 84[12](\.\d+)?\]", pdf), "not A4"
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) > 1
    assert asked and all(url.startswith("file://") for url in asked), [u for u in asked if not u.startswith("file:")]
