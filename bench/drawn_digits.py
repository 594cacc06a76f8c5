"""How faithfully a digit drawn or photographed by a student reaches the 8x8 network.

The 8x8 network was trained on scikit-learn's digits; a student's digit goes
through :func:`explainer.data.prepare_image` first. Handwriting that the
network has never seen stands in for the student's: MNIST's test digits
(28x28, other writers), prepared as 8x8 inputs, read by the default 8x8
trace's network. Printed for each way of preparing them: the share read
right, and how the prepared digits compare with the training set (inked
columns, ink per digit; the 8x8 digits span all 8 rows).

The ways compared:

- ``box`` (what ``prepare_image`` does): set upright (``own_image.deskew``:
  the slant, read from the ink's second moments, sheared away), scaled to
  the full 32 rows of a 32x32 bitmap and at most 20 columns, strokes
  thickened by a pixel;
- ``box, slanted``: the same without the deskewing, the digit as written
  (what ``prepare_image`` did before);
- ``box, thin``: upright, without thickening;
- ``whole, thin``: fitted into the whole 32x32 keeping the aspect ratio,
  strokes as drawn, not deskewed (what ``prepare_image`` did first).

``--compare`` answers a different question: how much augmentation during
training (:mod:`explainer.augment`) helps. It trains the 8x8 dense preset
(``explainer train`` defaults) for each of 5 seeds without and with
``--augment`` (``--arch cnn``: the CNN preset) and prints, per seed, the 8x8 test accuracy and the share of the
MNIST test digits read right, prepared as ``box`` (upright) and as ``box, slanted`` (before), then the means.

Usage::

    .venv/bin/python bench/drawn_digits.py            # 10,000 MNIST test digits (7 s); MNIST must be on disk
    .venv/bin/python bench/drawn_digits.py --n 2000
    .venv/bin/python bench/drawn_digits.py --compare                      # 5 seeds, without and with augmentation
    .venv/bin/python bench/drawn_digits.py --compare --augment slant=20 --seeds 3
    .venv/bin/python bench/drawn_digits.py --compare --arch cnn --augment slant=20,stretch=0.15,shift=0.5
"""

import argparse

import numpy as np
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
    return blocks(own_image._digits_bitmap(own_image.deskew(ink)))


def box_slanted(ink):
    """``prepare_image``'s 8x8 way without the deskewing: the digit as written."""
    return own_image._blocks(own_image._digits_bitmap(ink))


WAYS = {"box": own_image.digits_style, "box, slanted": box_slanted, "box, thin": box_thin, "whole, thin": whole_thin}
COMPARED = ("box", "box, slanted")  # --compare: upright (prepare_image) and as before


def statistics(images):
    """Mean inked columns and ink (in sixteenths) per digit, of (n, 8, 8) images in [0, 1]."""
    return (images > 0).any(axis=1).sum(axis=1).mean(), images.sum(axis=(1, 2)).mean()


def compare(ink, labels, augment, seeds, arch="mlp"):
    """Train the 8x8 preset for each seed without and with ``augment``; print a table and the means."""
    images = {way: np.stack([WAYS[way](image) for image in ink]).reshape(len(ink), 64) for way in COMPARED}
    kind = {"mlp": "dense", "cnn": "CNN"}[arch]
    print(f"8x8 {kind} preset (explainer train{' --arch cnn' if arch == 'cnn' else ''} defaults), {len(seeds)} "
          f"seeds; read right: {len(ink)} MNIST test digits prepared as 8x8 inputs, upright ({COMPARED[0]}) "
          f"and as before ({COMPARED[1]})\n")
    print(f"{'':>6}{'no augmentation':^33}{'--augment ' + str(augment):^33}")
    print(f"{'seed':>6}" + f"{'test acc.':>11}{'upright':>11}{'before':>11}" * 2)
    rows = []
    for seed in seeds:
        row = []
        for setting in (None, augment):
            result = run(Experiment.preset("digits", arch, seed=seed, augment=setting), progress=False)
            row += [result.history.test_accuracy]
            row += [(result.net.predict(images[way].astype(np.float32)) == labels).mean() for way in COMPARED]
        rows.append(row)
        print(f"{seed:>6}" + "".join(f"{v:>11.4f}" if i % 3 == 0 else f"{v:>11.3f}" for i, v in enumerate(row)),
              flush=True)
    mean = np.mean(rows, axis=0)
    print(f"{'mean':>6}" + "".join(f"{v:>11.4f}" if i % 3 == 0 else f"{v:>11.3f}" for i, v in enumerate(mean)))


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
    args = parser.parse_args()
    if args.compare:
        mnist = load_dataset("mnist", seed=0)
        compare(mnist.X_test.reshape(-1, 28, 28)[: args.n], mnist.y_test[: args.n], parse_augment(args.augment),
                range(args.seeds), args.arch)
        return
    trace = Trace.open(default_trace())
    net = trace.network(int(trace.snapshot_steps[-1]))  # the trained network
    mnist = load_dataset("mnist", seed=0)
    ink, labels = mnist.X_test.reshape(-1, 28, 28)[: args.n], mnist.y_test[: args.n]
    digits = load_digits()
    columns, amount = statistics(digits.images / 16)
    print(f"default 8x8 trace {trace.path}; {len(ink)} MNIST test digits")
    print(f"{'preparation':<14}{'read right':>12}{'inked columns':>15}{'ink':>8}")
    print(f"{'(training set)':<14}{'':>12}{columns:>15.1f}{amount:>8.1f}")
    for name, way in WAYS.items():
        images = np.stack([way(image) for image in ink])  # (n, 8, 8)
        right = (net.predict(images.reshape(len(images), 64).astype(np.float32)) == labels).mean()
        columns, amount = statistics(images)
        print(f"{name:<14}{right:>12.3f}{columns:>15.1f}{amount:>8.1f}")


if __name__ == "__main__":
    main()
