"""How long a loss landscape takes on the 8x8 digits and on MNIST, against its targets and a peer.

For each data set, at the step GradientDescent shows by default and the default
resolution (41 x 41), the script times:

- ``landscape(..., cache=False)`` with the PCA directions (what the scene uses), start to end: loading the
  training digits, reading every snapshot, the directions, the 1,681 grid points, the projected snapshots
  and their own losses; its CPU seconds beside the wall clock (the machine is shared);
- the same with filter-normalised random directions (a peer: no trajectory to decompose);
- the peer the library's way is measured against: a naive loop that sets every weight of a Network and runs
  its full forward pass at each point (timed on a sample of points, extrapolated to the grid); the two agree
  to float32 precision, which the script checks on that sample;
- ``lr_slice(..., cache=False)``, and reading the landscape back from its cache file.

Targets (issue 12): at most 20 s on 8x8 and 60 s on MNIST, on the 2-core machine.

Usage::

    .venv/bin/python bench/landscape.py                       # both data sets (about a minute and a half)
    .venv/bin/python bench/landscape.py --data 8x8 --naive-points 100
    .venv/bin/python bench/landscape.py --json runs/bench/landscape.json
"""

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from explainer.chapters.descent import default_step
from explainer.landscape import RESOLUTION, flatten, landscape, landscape_digits, losses_at, lr_slice
from explainer.trace import default_trace, open_trace

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"8x8": 20.0, "28x28": 60.0}  # seconds for a landscape at the default resolution


def timed(function):
    """``(result, wall seconds, CPU seconds)`` of ``function()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def naive_losses(trace, step, x, labels, theta, d1, d2, points):
    """The peer: at each point a Network's every W and b set from the parameter vector, then its full forward
    pass and loss (no use of the first layer's linearity)."""
    net = trace.network(step, exact=True)
    y = net.one_hot(labels)
    out = []
    for alpha, beta in points:
        vector = (theta + alpha * d1 + beta * d2).astype(net.dtype)
        start = 0
        for layer in net.layers:
            for name in ("W", "b"):
                part = getattr(layer, name)
                part[...] = vector[start : start + part.size].reshape(part.shape)
                start += part.size
        out.append(net.loss(net.forward(x), y))
    return np.array(out)


def bench(name, trace, resolution, naive_points):
    step = default_step(trace)
    print(f"\n{name}: {trace.path} ({'-'.join(map(str, trace.sizes))}, {trace.n_snapshots} snapshots), step {step}",
          flush=True)
    row = {"data": name, "trace": str(trace.path), "sizes": trace.sizes, "snapshots": trace.n_snapshots, "step": step,
           "resolution": resolution, "load_before": os.getloadavg()[0]}
    (x, labels, digits), row["digits_s"], _ = timed(lambda: landscape_digits(trace))
    row["digits"] = digits
    land, row["pca_s"], row["pca_cpu_s"] = timed(lambda: landscape(trace, step, resolution=resolution, cache=False))
    print(f"  pca landscape      {row['pca_s']:6.1f} s  ({row['pca_cpu_s']:.1f} s CPU)", flush=True)
    _, row["random_s"], row["random_cpu_s"] = timed(
        lambda: landscape(trace, step, directions="random", resolution=resolution, cache=False))
    print(f"  random landscape   {row['random_s']:6.1f} s  ({row['random_cpu_s']:.1f} s CPU)", flush=True)
    # the grid's own loop, the library's way and the naive way, on the same sample of points, one BLAS thread each
    theta = flatten(trace.weights(step, exact=True)).astype(np.float64)
    grid = np.stack(np.meshgrid(land.alpha, land.beta), axis=-1).reshape(-1, 2)
    sample = grid[np.random.default_rng(0).choice(len(grid), naive_points, replace=False)]
    sample = sample[np.argsort(sample[:, 1], kind="stable")]  # row by row, as the grid is computed
    with threadpool_limits(1, user_api="blas"):
        fast, fast_s, _ = timed(lambda: losses_at(trace.network(step, exact=True), x, labels, theta, land.d1,
                                                  land.d2, sample))
        slow, slow_s, _ = timed(lambda: naive_losses(trace, step, x, labels, theta, land.d1, land.d2, sample))
    row["agree_rel"] = float(np.max(np.abs(fast - slow) / np.abs(slow)))
    row["per_point_ms"], row["naive_per_point_ms"] = 1000 * fast_s / naive_points, 1000 * slow_s / naive_points
    row["naive_grid_s"] = slow_s / naive_points * len(grid)
    print(f"  per point          {row['per_point_ms']:6.2f} ms (naive forward: {row['naive_per_point_ms']:.2f} ms, "
          f"{row['naive_per_point_ms'] / row['per_point_ms']:.1f}x; agree to {row['agree_rel']:.1e})", flush=True)
    _, row["slice_s"], _ = timed(lambda: lr_slice(trace, step, cache=False))
    landscape(trace, step, resolution=resolution)  # into the cache, if it was not there yet
    read, row["cache_read_s"], _ = timed(lambda: landscape(trace, step, resolution=resolution))
    assert read.note.startswith("read from"), read.note
    row["load_after"] = os.getloadavg()[0]
    row["target_s"] = TARGETS[name]
    row["met"] = row["pca_s"] <= TARGETS[name]
    print(f"  lr slice           {row['slice_s']:6.1f} s;  cache read {row['cache_read_s']:.2f} s", flush=True)
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", choices=["8x8", "28x28", "both"], default="both")
    parser.add_argument("--mnist", type=Path, default=ROOT / "runs" / "mnist.zarr",
                        help="the 28x28 trace (default: runs/mnist.zarr, from `explainer train --dataset mnist "
                        "--out runs/mnist.zarr`)")
    parser.add_argument("--resolution", type=int, default=RESOLUTION)
    parser.add_argument("--naive-points", type=int, default=60, help="grid points the naive loop is timed on")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    args = parser.parse_args(argv)
    rows = []
    if args.data in ("8x8", "both"):
        rows.append(bench("8x8", open_trace(default_trace()), args.resolution, args.naive_points))
    if args.data in ("28x28", "both"):
        if not args.mnist.exists():
            print(f"no MNIST trace at {args.mnist}: record one with `explainer train --dataset mnist --out "
                  f"{args.mnist}`", file=sys.stderr)
            return 2
        rows.append(bench("28x28", open_trace(args.mnist), args.resolution, args.naive_points))
    print("\n| data | digits | loading them (s) | landscape, pca (s) | CPU (s) | random (s) | per point (ms) | naive (ms) | naive / ours "
          "| naive grid (s, est.) | slice (s) | cache read (s) | target (s) | met |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(f"| {r['data']} | {r['digits']} | {r['digits_s']:.1f} | {r['pca_s']:.1f} | {r['pca_cpu_s']:.1f} | {r['random_s']:.1f} | "
              f"{r['per_point_ms']:.2f} | {r['naive_per_point_ms']:.2f} | "
              f"{r['naive_per_point_ms'] / r['per_point_ms']:.1f}x | {r['naive_grid_s']:.0f} | {r['slice_s']:.1f} | "
              f"{r['cache_read_s']:.2f} | {r['target_s']:.0f} | {'yes' if r['met'] else 'NO'} |")
    print(f"\nload average {min(r['load_before'] for r in rows):.1f} to {max(r['load_after'] for r in rows):.1f}; "
          f"{os.cpu_count()} cores; {platform.processor() or platform.machine()}; "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=1))
    return 0 if all(r["met"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
