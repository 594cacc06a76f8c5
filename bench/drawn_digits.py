"""How faithfully a digit drawn or photographed by a student reaches the 8x8 network.

The 8x8 network was trained on scikit-learn's digits; a student's digit goes
through :func:`explainer.data.prepare_image` first. Handwriting that the
network has never seen stands in for the student's: MNIST's test digits
(28x28, other writers), prepared as 8x8 inputs, read by the default 8x8
trace's network. Printed for each way of preparing them: the share read
right, and how the prepared digits compare with the training set (inked
columns, ink per digit; the 8x8 digits span all 8 rows).

The ways compared:

- ``box`` (what ``prepare_image`` does): scaled to the full 32 rows of a
  32x32 bitmap and at most 20 columns, strokes thickened by a pixel;
- ``box, thin``: the same without thickening;
- ``whole, thin``: fitted into the whole 32x32 keeping the aspect ratio,
  strokes as drawn (what ``prepare_image`` did before).

A fourth way, ``box, upright``, deskews each digit first (its slant, read
from its second moments, sheared away) and then prepares it as ``box``: not
what ``prepare_image`` does, measured here to show what the slant costs.

``--compare`` answers a different question: how much augmentation during
training (:mod:`explainer.augment`) helps. It trains the 8x8 dense preset
(``explainer train`` defaults) for each of 5 seeds without and with
``--augment`` (``--arch cnn``: the CNN preset) and prints, per seed, the 8x8 test accuracy and the share of the
MNIST test digits (prepared as ``box``) read right, then the means.

Usage::

    .venv/bin/python bench/drawn_digits.py            # 10,000 MNIST test digits (7 s); MNIST must be on disk
    .venv/bin/python bench/drawn_digits.py --n 2000
    .venv/bin/python bench/drawn_digits.py --compare                      # 5 seeds, without and with augmentation
    .venv/bin/python bench/drawn_digits.py --compare --augment slant=20 --seeds 3
    .venv/bin/python bench/drawn_digits.py --compare --arch cnn --augment slant=20,stretch=0.15,shift=0.5
    .venv/bin/python bench/drawn_digits.py --compare --way "box, upright"  # the digits deskewed first
"""

import argparse

import numpy as np
from scipy import ndimage
from sklearn.datasets import load_digits

from explainer import Experiment, run
from explainer.augment import parse_augment
from explainer.data import load_dataset, own_image
from explainer.trace import Trace, default_trace

RECOMMENDED = "slant=12,stretch=0.1"  # the setting docs/training.md recommends for the 8x8 digits


def blocks(bitmap):
    """A 32x32 bitmap made black and white and counted in 4x4 blocks: (8, 8) in [0, 1]."""
    return (bitmap >= 0.5).reshape(8, 4, 8, 4).sum(axis=(1, 3)) / 16


def whole_thin(ink):
    box = own_image._fit(own_image._crop(ink), 32)
    bitmap = np.zeros((32, 32), dtype=np.float32)
    top, left = (32 - box.shape[0]) // 2, (32 - box.shape[1]) // 2
    bitmap[top : top + box.shape[0], left : left + box.shape[1]] = box
    return blocks(bitmap)


def box_thin(ink):
    return blocks(own_image._digits_bitmap(ink))


def upright(ink):
    """``ink`` (h, w) with its slant sheared away: the rows slid sideways until the ink's second moment
    mu11 is 0 (the classic deskewing of handwritten digits), then prepared as ``box``."""
    ink = np.pad(ink, ink.shape[0] // 2)  # room for the rows to slide
    rows, cols = np.indices(ink.shape)
    mass = ink.sum()
    cy, cx = (ink * rows).sum() / mass, (ink * cols).sum() / mass
    slant = (ink * (rows - cy) * (cols - cx)).sum() / (ink * (rows - cy) ** 2).sum()  # columns per row
    # the output at (r, c) is read from (r, c + slant (r - cy))
    out = ndimage.affine_transform(ink, np.array([[1, 0], [slant, 1]]), offset=[0, -slant * cy], order=1)
    out[out < 0.05] = 0  # the interpolation's faint fringe is not ink
    return own_image.digits_style(out)


WAYS = {"box": own_image.digits_style, "box, thin": box_thin, "whole, thin": whole_thin, "box, upright": upright}


def statistics(images):
    """Mean inked columns and ink (in sixteenths) per digit, of (n, 8, 8) images in [0, 1]."""
    return (images > 0).any(axis=1).sum(axis=1).mean(), images.sum(axis=(1, 2)).mean()


def compare(ink, labels, augment, seeds, arch="mlp", way="box"):
    """Train the 8x8 preset for each seed without and with ``augment``; print a table and the means."""
    images = np.stack([WAYS[way](image) for image in ink]).reshape(len(ink), 64)  # (n, 64)
    kind = {"mlp": "dense", "cnn": "CNN"}[arch]
    print(f"8x8 {kind} preset (explainer train{' --arch cnn' if arch == 'cnn' else ''} defaults), {len(seeds)} "
          f"seeds; read right: {len(ink)} MNIST test digits prepared as 8x8 inputs ({way})\n")
    print(f"{'':>6}{'no augmentation':^24}{'--augment ' + str(augment):^30}")
    print(f"{'seed':>6}{'test acc.':>12}{'read right':>12}{'test acc.':>15}{'read right':>15}")
    rows = []
    for seed in seeds:
        row = []
        for setting in (None, augment):
            result = run(Experiment.preset("digits", arch, seed=seed, augment=setting), progress=False)
            row += [result.history.test_accuracy, (result.net.predict(images.astype(np.float32)) == labels).mean()]
        rows.append(row)
        print(f"{seed:>6}{row[0]:>12.4f}{row[1]:>12.3f}{row[2]:>15.4f}{row[3]:>15.3f}", flush=True)
    mean = np.mean(rows, axis=0)
    print(f"{'mean':>6}{mean[0]:>12.4f}{mean[1]:>12.3f}{mean[2]:>15.4f}{mean[3]:>15.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10000, help="MNIST test digits to prepare")
    parser.add_argument("--compare", action="store_true",
                        help="train the 8x8 preset without and with augmentation, for each seed, and compare")
    parser.add_argument("--augment", default=RECOMMENDED, help=f"with --compare: the augmentation (default: "
                        f"{RECOMMENDED})")
    parser.add_argument("--seeds", type=int, default=5, help="with --compare: seeds 0 to N - 1 (default: 5)")
    parser.add_argument("--arch", choices=["mlp", "cnn"], default="mlp",
                        help="with --compare: the dense preset (default) or the CNN preset")
    parser.add_argument("--way", choices=list(WAYS), default="box",
                        help="with --compare: how the MNIST digits are prepared (default: box, as prepare_image does)")
    args = parser.parse_args()
    if args.compare:
        mnist = load_dataset("mnist", seed=0)
        compare(mnist.X_test.reshape(-1, 28, 28)[: args.n], mnist.y_test[: args.n], parse_augment(args.augment),
                range(args.seeds), args.arch, args.way)
        return
    trace = Trace.open(default_trace())
    net = trace.network(int(trace.snapshot_steps[-1]))  # the trained network
    mnist = load_dataset("mnist", seed=0)
    ink, labels = mnist.X_test.reshape(-1, 28, 28)[: args.n], mnist.y_test[: args.n]
    digits = load_digits()
    columns, amount = statistics(digits.images / 16)
    print(f"default 8x8 trace {trace.path}; {len(ink)} MNIST test digits")
    print(f"{'preparation':<12}{'read right':>12}{'inked columns':>15}{'ink':>8}")
    print(f"{'(training set)':<12}{'':>12}{columns:>15.1f}{amount:>8.1f}")
    for name, way in WAYS.items():
        images = np.stack([way(image) for image in ink])  # (n, 8, 8)
        right = (net.predict(images.reshape(len(images), 64).astype(np.float32)) == labels).mean()
        columns, amount = statistics(images)
        print(f"{name:<12}{right:>12.3f}{columns:>15.1f}{amount:>8.1f}")


if __name__ == "__main__":
    main()
