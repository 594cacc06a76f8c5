"""How long the dashboards take, on the Python side, to open (target: 0.3 s) and to follow one step change
(target: under 50 ms).

On a 28x28 (MNIST) trace, for TrainingDashboard, ForwardExplorer and
BackpropExplorer: the time to open the dashboard, then the time of one
``dashboard.step = s`` (the observers, the pictures redrawn and PNG-encoded,
the widget state serialised) for every snapshot step in a shuffled order,
then again for the same steps (a step seen before). TrainingDashboard is opened
twice: the first time it may read every snapshot (explainer.run_spread, whose
result it then keeps beside a finished trace), the second time it reads that;
the cost of reading every snapshot is timed apart (run_spread without its cache). ForwardExplorer is timed
with a probe digit and with a drawn digit (which runs the forward pass at
every step); a drawing's own cost (picture -> prediction) is timed too. The
browser's share (sending the PNG over the websocket, decoding it) is not in
these numbers.

Usage::

    .venv/bin/python bench/widgets.py                         # records an MNIST trace first (about 30 s)
    .venv/bin/python bench/widgets.py --trace runs/mnist.zarr # or times an existing one
    explainer train --dataset mnist --out runs/mnist-preset.zarr && \
        .venv/bin/python bench/widgets.py --trace runs/mnist-preset.zarr   # the MNIST preset's run (15 epochs)
"""

import argparse
import io
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from explainer import Experiment, run, run_spread
from explainer.trace import Trace, TraceRecorder
from explainer.widgets import BackpropExplorer, ForwardExplorer, TrainingDashboard

TARGET_MS = 50
TARGET_OPEN_S = 0.3


def record_mnist(path, epochs):
    print(f"recording an MNIST trace (784-128-64-10, {epochs} epochs) at {path} ...", flush=True)
    with TraceRecorder(path) as recorder:
        run(Experiment.preset("mnist", hidden=(128, 64), epochs=epochs), recorder=recorder, progress=False)


def drawn_seven():
    img = Image.new("L", (224, 224), 255)
    ImageDraw.Draw(img).line([(60, 50), (170, 50), (95, 190)], fill=0, width=18)
    buffer = io.BytesIO()
    img.save(buffer, format="PNG")
    return buffer.getvalue()


def time_steps(dashboard, steps):
    """Milliseconds of each ``dashboard.step = s``."""
    times = []
    for s in steps:
        start = time.perf_counter()
        dashboard.step = int(s)
        times.append((time.perf_counter() - start) * 1e3)
        assert not dashboard.errors.message, dashboard.errors.message
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trace", type=Path, help="a 28x28 trace (default: record one in a temporary folder)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs of the recorded trace (default 2)")
    args = parser.parse_args()

    tmp = None
    if args.trace is None:
        tmp = Path(tempfile.mkdtemp(prefix="bench-widgets-"))
        args.trace = tmp / "mnist.zarr"
        record_mnist(args.trace, args.epochs)
    try:
        trace = Trace.open(args.trace)
        if tuple(trace.image_shape) != (28, 28):
            raise SystemExit(f"{args.trace} is a {trace.image_shape} trace; this benchmark wants 28x28 (MNIST)")
        steps = np.array(trace.snapshot_steps)
        order = np.random.default_rng(0).permutation(steps)
        rows = []

        def measure(name, make, prepare=None):
            start = time.perf_counter()
            dashboard = make()
            opened = time.perf_counter() - start
            assert not dashboard.errors.message, dashboard.errors.message
            if prepare:
                prepare(dashboard)
            first = time_steps(dashboard, order)
            again = time_steps(dashboard, order)
            rows.append((name, opened, first, again))
            print(f"{name}: opened in {opened:.2f} s; step change median {statistics.median(first):.1f} ms "
                  f"(first visit), {statistics.median(again):.1f} ms (again)", flush=True)
            return dashboard

        start = time.perf_counter()
        spread = run_spread(trace, use_cache=False)
        uncached = time.perf_counter() - start
        print(f"reading every snapshot's spread (run_spread, no cache): {uncached:.2f} s", flush=True)
        measure("TrainingDashboard, first open", lambda: TrainingDashboard(trace))
        measure("TrainingDashboard, opened again (cached spread)", lambda: TrainingDashboard(trace))
        measure("ForwardExplorer, probe digit", lambda: ForwardExplorer(trace))
        png = drawn_seven()

        def draw(explorer):
            explorer.canvas.png = png

        explorer = measure("ForwardExplorer, drawn digit", lambda: ForwardExplorer(trace), draw)
        drawing = []
        for _ in range(20):
            explorer.canvas.clear()
            start = time.perf_counter()
            explorer.canvas.png = png
            drawing.append((time.perf_counter() - start) * 1e3)
        measure("BackpropExplorer", lambda: BackpropExplorer(trace))
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

    print(f"\n{trace.dataset} {'-'.join(map(str, trace.sizes))}, {len(steps)} snapshots; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}; targets: open < {TARGET_OPEN_S} s, < {TARGET_MS} ms per step change; "
          f"run_spread without its cache {uncached:.2f} s ({spread.note or 'computed'})\n")
    print("| dashboard | open (s) | open / target | step change, first visit: median / max (ms) | step change, "
          "again: median / max (ms) | step / target | targets |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, opened, first, again in rows:
        worst = max(statistics.median(first), statistics.median(again))
        met = "met" if worst < TARGET_MS and opened < TARGET_OPEN_S else (
            "step met, open **not met**" if worst < TARGET_MS else "**not met**")
        print(f"| {name} | {opened:.2f} | {opened / TARGET_OPEN_S:.1f} | {statistics.median(first):.1f} / "
              f"{max(first):.1f} | {statistics.median(again):.1f} / {max(again):.1f} | {worst / TARGET_MS:.2f} | "
              f"{met} |")
    print(f"| a drawing -> its prediction (prepare, forward, redraw) | | | {statistics.median(drawing):.1f} / "
          f"{max(drawing):.1f} | | {statistics.median(drawing) / TARGET_MS:.2f} | "
          f"{'met' if statistics.median(drawing) < TARGET_MS else '**not met**'} |")


if __name__ == "__main__":
    main()
