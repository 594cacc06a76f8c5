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

Usage::

    .venv/bin/python bench/drawn_digits.py            # 10,000 MNIST test digits (7 s); MNIST must be on disk
    .venv/bin/python bench/drawn_digits.py --n 2000
"""

import argparse

import numpy as np
from sklearn.datasets import load_digits

from explainer.data import load_dataset, own_image
from explainer.trace import Trace, default_trace


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


WAYS = {"box": own_image.digits_style, "box, thin": box_thin, "whole, thin": whole_thin}


def statistics(images):
    """Mean inked columns and ink (in sixteenths) per digit, of (n, 8, 8) images in [0, 1]."""
    return (images > 0).any(axis=1).sum(axis=1).mean(), images.sum(axis=(1, 2)).mean()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10000, help="MNIST test digits to prepare")
    args = parser.parse_args()
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
