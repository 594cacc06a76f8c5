"""`explainer export --html`: the page, in Debian's Chromium, cut off from the network.

A digit is drawn on the page with the mouse (and a stroke with touch pointers); the page's own reading
is read back: the pad's grey levels, the input it prepared and the probabilities. Python then prepares
the same grey levels with own_image.py and runs the NumPy network on the page's input: the two
preparations agree, and so do the probabilities (within 1e-5) and the prediction, for dense networks and
for CNNs (the page runs their convolutions, pooling and Flatten in plain JavaScript). A tap (a dot) is
refused with the words prepare_image uses. The screenshot at 390x844 (a phone) is kept in
screenshot_dir.
"""

import numpy as np
import pytest
from jupyter_support import chromium_page, offline, require_chromium, screenshot_dir

from explainer import HIDDEN_ACTIVATIONS, Experiment, Network, prepare_image, run
from explainer.cli import main
from explainer.errors import DataError
from explainer.export.web_page import PAD_SIDE

SEVEN = [(0.28, 0.2), (0.72, 0.2), (0.45, 0.86)]  # where a 7's strokes go, as shares of the pad
FOUR = [(0.62, 0.84), (0.62, 0.14), (0.25, 0.6), (0.8, 0.6)]
LEANING_FOUR = [(x - 0.35 * (y - 0.5), y) for x, y in FOUR]  # written fast, the top 0.35 columns a row forward


@pytest.fixture(scope="module")
def networks(tmp_path_factory):
    """An 8x8 network trained a little, and a 28x28 one with random weights and biases (no MNIST here); tiny
    8x8 CNNs trained one epoch ('valid' and 'same' padding), and MNIST's CNN architecture with random weights."""
    folder = tmp_path_factory.mktemp("html")
    run(Experiment.preset("digits", hidden=(32,), epochs=15), progress=False).net.save(folder / "digits.npz")
    mnist = Network([784, 24, 10], activation="tanh", seed=5)
    cnn_mnist = Network([784, 128, 10], layers=["conv 16 5", "pool 2", "conv 32 5 same", "pool 2"], seed=5)
    for net, name in ((mnist, "mnist"), (cnn_mnist, "cnn-mnist")):
        for layer in net.layers:
            if layer.b is not None:
                layer.b[...] = np.random.default_rng(6).normal(0, 0.3, layer.b.shape)
        net.save(folder / f"{name}.npz")
    for padding in ("valid", "same"):
        assert main(["train", "--conv", "4", "--kernel", "3", "--padding", padding, "--hidden", "12", "--epochs", "1",
                     "--no-progress", "--save", str(folder / f"cnn-{padding}.npz")]) == 0
    return folder


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    return screenshot_dir(tmp_path_factory)


def draw(page, points, steps=12):
    box = page.locator("#pad").bounding_box()
    at = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in points]
    page.mouse.move(*at[0])
    page.mouse.down()
    for x, y in at[1:]:
        page.mouse.move(x, y, steps=steps)
    page.mouse.up()


def reading(page):
    r = page.evaluate("() => window.explainerReading")
    grey = np.asarray(r["grey"], dtype=np.uint8).reshape(r["h"], r["w"])  # the pad's pixels, as Pillow's "L"
    return r, grey


def export_page(networks, tmp_path, name):
    page_path = tmp_path / f"{name}.html"
    assert main(["export", "--html", str(page_path), "--model", str(networks / f"{name}.npz")]) == 0
    return page_path


@pytest.mark.browser
@pytest.mark.parametrize("name, shape, strokes", [("digits", (8, 8), SEVEN), ("mnist", (28, 28), FOUR),
                                                  ("cnn-valid", (8, 8), SEVEN), ("cnn-same", (8, 8), FOUR),
                                                  ("cnn-mnist", (28, 28), SEVEN), ("digits", (8, 8), LEANING_FOUR),
                                                  ("cnn-valid", (8, 8), LEANING_FOUR)])
def test_a_drawn_digit_is_read_as_numpy_reads_it(networks, tmp_path, shots, name, shape, strokes):
    require_chromium()
    page_path = export_page(networks, tmp_path, name)
    net = Network.load(networks / f"{name}.npz")
    with chromium_page(tmp_path / "profile", width=390, height=844) as page:
        problems, blocked = offline(page)
        page.goto(page_path.as_uri())
        draw(page, strokes)
        r, grey = reading(page)
        assert r["refused"] is None and grey.shape == (PAD_SIDE, PAD_SIDE)
        x_page = np.asarray(r["x"], dtype=np.float32)
        # the page prepared the drawing as own_image.py does
        np.testing.assert_allclose(x_page, prepare_image(grey, shape), atol=1e-6)
        # and its network is NumPy's network
        p = net.predict_proba(x_page[None])[0]
        np.testing.assert_allclose(r["p"], p, atol=1e-5)
        shown = page.locator("#digit").inner_text()
        assert shown == str(int(p.argmax()))
        assert ("Not sure" in page.locator("#verdict").inner_text()) == (p.max() < 0.6) == r["unsure"]
        widths = page.evaluate("() => [...document.querySelectorAll('#bars .fill')].map(e => parseFloat(e.style.width))")
        np.testing.assert_allclose(widths, 100 * p, atol=0.06)  # one bar per digit, as long as its probability
        if name == "digits" and strokes is SEVEN:
            assert shown == "7"  # a trained network reads the drawn 7
        if name == "digits" and strokes is LEANING_FOUR:
            assert shown == "4"  # and the leaning 4, set upright as the 8x8 digits stand
        if name.startswith("cnn"):  # the page says which network it runs
            conv = f"conv {len(net.layers[0].W)} {net.layers[0].k}×{net.layers[0].k}"
            assert conv in page.locator("header p").inner_text().replace("\u00a0", " ")
        # a phone: everything fits the width, the pad and every bar are on the first screen
        assert page.evaluate("() => document.scrollingElement.scrollWidth") <= 390
        for selector in ("#pad", "#bars li:last-child", "#digit"):
            box = page.locator(selector).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["y"] + box["height"] <= 844, selector
        leaning = "-leaning" if strokes is LEANING_FOUR else ""
        page.screenshot(path=str(shots / f"export-html-{name}{leaning}-390x844.png"))
        assert not problems and not blocked, (problems, blocked)


@pytest.mark.browser
def test_a_tap_is_refused_with_prepare_images_words_and_clear_starts_again(networks, tmp_path):
    require_chromium()
    page_path = export_page(networks, tmp_path, "digits")
    with chromium_page(tmp_path / "profile", width=390, height=844) as page:
        problems, blocked = offline(page)
        page.goto(page_path.as_uri())
        assert page.locator("#digit").inner_text() == "?"
        box = page.locator("#pad").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # a dot
        r, grey = reading(page)
        with pytest.raises(DataError) as refused:
            prepare_image(grey, (8, 8))
        assert r["refused"] == str(refused.value) and "too little ink" in r["refused"]
        assert "too little ink" in page.locator("#verdict").inner_text()
        page.click("#clear")
        assert page.locator("#digit").inner_text() == "?"
        assert page.evaluate("() => document.getElementById('pad').getContext('2d')"
                             ".getImageData(0, 0, 280, 280).data.every(v => v === 255)")
        assert not problems and not blocked, (problems, blocked)


@pytest.mark.browser
def test_a_finger_draws_too(networks, tmp_path):
    """Pointer events of type touch (a finger), with the pad refusing to scroll the page under it."""
    require_chromium()
    page_path = export_page(networks, tmp_path, "digits")
    with chromium_page(tmp_path / "profile", width=390, height=844) as page:
        page.goto(page_path.as_uri())
        assert page.evaluate("() => getComputedStyle(document.getElementById('pad')).touchAction") == "none"
        page.evaluate("""([points]) => {
            const pad = document.getElementById('pad'), r = pad.getBoundingClientRect();
            const send = (type, [x, y]) => pad.dispatchEvent(new PointerEvent(type, {
                clientX: r.left + x * r.width, clientY: r.top + y * r.height, pointerId: 7, pointerType: 'touch',
                isPrimary: true, bubbles: true, cancelable: true}));
            send('pointerdown', points[0]);
            for (let i = 1; i <= 30; i++) {
                const t = i / 30, k = t < 0.5 ? 0 : 1, u = t < 0.5 ? t * 2 : t * 2 - 1;
                const [a, b] = [points[k], points[k + 1]];
                send('pointermove', [a[0] + (b[0] - a[0]) * u, a[1] + (b[1] - a[1]) * u]);
            }
            send('pointerup', points[2]);
        }""", [SEVEN])
        r, grey = reading(page)
        assert r["refused"] is None and r["x"] is not None
        np.testing.assert_allclose(np.asarray(r["x"], np.float32), prepare_image(grey, (8, 8)), atol=1e-6)


def test_the_port_prepares_like_own_image_on_many_pictures(tmp_path):
    """PREPARE_JS under Node against prepare_image: drawn strokes of many widths (symmetric ones put the
    centre of mass on a half pixel, where only NumPy's own summation order rounds alike), the same digits
    slanted both ways (the 8x8 preparation shears them upright, one beyond MAX_SLANT), scribbles, and
    each refusal, on both data sets' inputs. Equal to the bit, or refused with the same words."""
    import json
    import shutil
    import subprocess

    from PIL import Image, ImageDraw
    from test_refusals import DRAWN, REFUSED

    from explainer.export.web_page import to_html

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (tools/bootstrap.sh installs it with npm)")
    rng = np.random.default_rng(0)
    pictures = []
    for strokes in DRAWN.values():
        for width in (6, 14, 22, 30):
            img = Image.new("L", (280, 280), 255)
            pen = ImageDraw.Draw(img)
            for kind, points in strokes:
                pen.line(points, fill=0, width=width) if kind == "line" else pen.arc(points, 0, 360, fill=0, width=width)
            pictures += [img, img.resize((28, 28), Image.Resampling.LANCZOS)]
        for slant in (-0.9, -0.3, 0.2):  # leaning far forward (the top to the right), forward, backward
            img = Image.new("L", (420, 280), 255)
            pen = ImageDraw.Draw(img)
            for kind, points in strokes:
                if kind == "line":
                    pen.line([(70 + x + slant * (y - 140), y) for x, y in points], fill=0, width=18)
                else:  # an ellipse's box, sheared: drawn as the polygon through its sheared outline
                    (x0, y0), (x1, y1) = points
                    t = np.linspace(0, 2 * np.pi, 60)
                    x, y = (x0 + x1) / 2 + (x1 - x0) / 2 * np.cos(t), (y0 + y1) / 2 + (y1 - y0) / 2 * np.sin(t)
                    pen.line(list(zip(70 + x + slant * (y - 140), y)), fill=0, width=18)
            pictures += [img, img.resize((28, 28), Image.Resampling.LANCZOS)]
    for _ in range(20):
        img = Image.new("L", (280, 280), 255)
        ImageDraw.Draw(img).line([tuple(rng.integers(20, 260, 2).tolist()) for _ in range(4)], fill=0,
                                 width=int(rng.integers(4, 30)))
        pictures.append(img)
    pictures += [make() for name, (make, _) in REFUSED.items() if name != "a huge picture"]
    greys = [np.asarray(p, dtype=np.uint8) for p in pictures]
    for shape in ((8, 8), (28, 28)):
        page = to_html(Network([shape[0] * shape[1], 10]), image_shape=shape)
        script = page.split("<script>")[1].split("</script>")[0].split('const NET = JSON.parse')[0]
        constants = json.loads(page.split('id="network">')[1].split("</script>")[0])["constants"]
        (tmp_path / "prepare.js").write_text(script + """
const job = JSON.parse(require('fs').readFileSync(0, 'utf8'));
process.stdout.write(JSON.stringify(job.pictures.map(p => {
  try { return Array.from(prepareImage(p.grey, p.h, p.w, job.C)); }
  catch (e) { if (e instanceof Refused) return e.message; throw e; }
})));""")
        job = {"C": constants, "pictures": [{"h": g.shape[0], "w": g.shape[1], "grey": g.ravel().tolist()} for g in greys]}
        out = subprocess.run([node, str(tmp_path / "prepare.js")], input=json.dumps(job), capture_output=True,
                             text=True, check=True, timeout=120).stdout
        for grey, js in zip(greys, json.loads(out)):
            try:
                x = prepare_image(grey, shape)
            except DataError as e:
                assert js == str(e)
                continue
            assert not isinstance(js, str), js
            np.testing.assert_array_equal(np.asarray(js, dtype=np.float32), x)


@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_the_port_runs_every_layer_and_activation_as_numpy_does(activation, tmp_path):
    """NETWORK_JS under Node against predict_proba, on random pictures: a CNN whose maps pooling cuts (7 -> 3),
    'valid' and 'same' padding, several channels (the Flatten's order), every hidden activation; and a dense one."""
    import json
    import shutil
    import subprocess

    from explainer.export.web_page import to_html

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (tools/bootstrap.sh installs it with npm)")
    x = np.random.default_rng(1).random((16, 64), dtype=np.float32)
    for layers in (["conv 4 2", "pool 2", "conv 5 3 same"], None):  # 8x8 -> 7x7x4 -> 3x3x4 -> 3x3x5 -> 45
        net = Network([64, 12, 10], layers=layers, activation=activation, seed=2)
        for layer in net.layers:
            if layer.b is not None:
                layer.b[...] = np.random.default_rng(3).normal(0, 0.3, layer.b.shape)
        page = to_html(net, image_shape=(8, 8))
        script = page.split("<script>")[1].split("</script>")[0].split("const NET = JSON.parse")[0]
        (tmp_path / "network.js").write_text(script + """
const job = JSON.parse(require('fs').readFileSync(0, 'utf8'));
LEAKY_RELU_SLOPE = job.net.constants.LEAKY_RELU_SLOPE;
for (const layer of job.net.layers) if (layer.W) { layer.W = decodeFloats(layer.W); layer.b = decodeFloats(layer.b); }
process.stdout.write(JSON.stringify(job.x.map(row => Array.from(forward(job.net, row)))));""")
        net_json = json.loads(page.split('id="network">')[1].split("</script>")[0].replace("<\\/", "</"))
        out = subprocess.run([node, str(tmp_path / "network.js")], input=json.dumps({"net": net_json, "x": x.tolist()}),
                             capture_output=True, text=True, check=True, timeout=60).stdout
        np.testing.assert_allclose(np.asarray(json.loads(out)), net.predict_proba(x), atol=1e-5)


def test_export_needs_a_format_and_explains_itself(tmp_path, capsys):
    Network([64, 10]).save(tmp_path / "m.npz")
    assert main(["export", "--model", str(tmp_path / "m.npz")]) == 2
    assert "say what to write: --onnx FILE.onnx, --html FILE.html, or both" in capsys.readouterr().err
    (tmp_path / "page.html").write_text("<p>my own page</p>")
    assert main(["export", "--html", str(tmp_path / "page.html"), "--model", str(tmp_path / "m.npz"), "--force"]) == 2
    assert (tmp_path / "page.html").read_text() == "<p>my own page</p>"  # --force replaces only its own pages
    assert main(["export", "--html", str(tmp_path / "new.html"), "--model", str(tmp_path / "m.npz")]) == 0
    assert main(["export", "--html", str(tmp_path / "new.html"), "--model", str(tmp_path / "m.npz"), "--force"]) == 0
    import subprocess
    import sys

    text = " ".join(subprocess.run([sys.executable, "-m", "explainer", "export", "--help"], capture_output=True,
                                   text=True).stdout.split())
    for words in ("--onnx", "--html", "dense or convolutional (CNN)", "Conv", "MaxPool", "needs no internet",
                  "draw a digit with your finger or the mouse", "phone"):
        assert words in text
