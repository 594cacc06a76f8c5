"""Seconds per 1,000 MNIST training images: explainer's CNN against the same CNN in torch, on 1 and 2 threads.

The network is the MNIST CNN preset (``explainer train --dataset mnist --arch cnn``)::

    conv 5x5 x16 -> 2x2 max-pool -> relu -> conv 5x5 x32 -> 2x2 max-pool -> relu -> dense 128 -> relu -> dense 10

softmax + cross-entropy, Adam (lr 1e-3), batch 128, float32. One training
step is what ``explainer.training.Trainer`` does without a recorder: forward,
loss, backward, the optimiser's update. torch runs the same network as
``nn.Sequential`` (its default layout, channels first, and again with
``channels_last``), ``CrossEntropyLoss`` and ``torch.optim.Adam``.

The implementations take turns, chunk by chunk (``--images`` training
images each, after a warm-up chunk), their order rotating every round, so a
noisy neighbour slows all of them alike: rely on the ratio. Threads are set
with threadpoolctl for NumPy's BLAS and ``torch.set_num_threads`` for torch.
(explainer multiplies each micro-batch on one BLAS thread and shares the
micro-batches out over as many threads as the limit: ``explainer/lanes.py``.)

The roofline: the multiply-adds a training image needs (forward, the weight
gradients, the input gradients of every layer but the first), counted from the
layer shapes, and the GFLOP/s each implementation reaches, next to what one
large single-precision GEMM reaches on one thread here (a practical peak).
The load average is printed before and after: timings taken with other jobs
running are noisy; rerun on a quiet machine for absolute numbers.

::

    .venv/bin/python bench/cnn_speed.py                 # 5 rounds of 2,560 images, 1 and 2 threads
    .venv/bin/python bench/cnn_speed.py --rounds 3 --images 1280 --threads 1
    .venv/bin/python bench/cnn_speed.py --json bench/results/cnn_speed.json
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from explainer.conv import Conv2D  # noqa: E402
from explainer.experiment import CNN_PRESETS  # noqa: E402
from explainer.layers import Dense  # noqa: E402
from explainer.optimizers import make_optimizer  # noqa: E402

__all__ = ["main", "flop_per_image"]

BATCH_SIZE = 128
LR = 1e-3


def flop_per_image(net):
    """Floating-point operations (2 per multiply-add) one training image needs in ``net``'s products.

    Each weighted layer multiplies its weights once forward and once for ``dW``;
    every layer but the first once more for the gradient of its input.
    """
    total = 0
    for i, layer in enumerate(net.weighted):
        if isinstance(layer, Conv2D):
            ho, wo, _ = layer.out_shape
            macs = ho * wo * layer.W.size  # every position: n_out x (k * k * c_in)
        elif isinstance(layer, Dense):
            macs = layer.W.size
        else:
            continue
        total += 2 * macs * (2 if i == 0 else 3)
    return total


def load_images(n):
    """n MNIST training images (flat rows in [0, 1]) and labels, from the cache; random ones if it is empty."""
    try:
        from explainer.data import load_mnist

        X, y, _, _ = load_mnist(download=False, progress=False)
        return np.ascontiguousarray(X[:n], np.float32), np.asarray(y[:n]), "MNIST"
    except Exception as e:  # no cached MNIST: the timing does not depend on the pixels
        rng = np.random.default_rng(0)
        return rng.uniform(0, 1, (n, 784)).astype(np.float32), rng.integers(0, 10, n), f"random ({e})"


class Ours:
    name = "explainer"

    def __init__(self, X, y):
        self.net = CNN_PRESETS["mnist"].network(784, 10)
        self.optimizer = make_optimizer("adam", LR)
        self.X, self.Y = X, self.net.one_hot(y)

    def train(self, start, n):
        net, opt = self.net, self.optimizer
        for s in range(start, start + n, BATCH_SIZE):
            x, y = self.X[s : s + BATCH_SIZE], self.Y[s : s + BATCH_SIZE]
            a = net.forward(x)
            net.loss(a, y)
            net.backward(y)
            opt.update(net.params, net.grads)


class Torch:
    def __init__(self, X, y, channels_last=False):
        import torch
        from torch import nn

        self.torch = torch
        self.name = "torch channels_last" if channels_last else "torch"
        torch.manual_seed(0)
        self.model = nn.Sequential(
            nn.Conv2d(1, 16, 5), nn.MaxPool2d(2), nn.ReLU(), nn.Conv2d(16, 32, 5), nn.MaxPool2d(2), nn.ReLU(),
            nn.Flatten(), nn.Linear(512, 128), nn.ReLU(), nn.Linear(128, 10))
        self.X = torch.tensor(X).reshape(-1, 1, 28, 28)
        if channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
            self.X = self.X.contiguous(memory_format=torch.channels_last)
        self.y = torch.tensor(y, dtype=torch.long)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=LR)
        self.loss = nn.CrossEntropyLoss()

    def train(self, start, n):
        for s in range(start, start + n, BATCH_SIZE):
            self.optimizer.zero_grad()
            self.loss(self.model(self.X[s : s + BATCH_SIZE]), self.y[s : s + BATCH_SIZE]).backward()
            self.optimizer.step()


def gemm_peak(seconds=1.0):
    """GFLOP/s of a 1024^3 float32 GEMM on one thread: the best of the repeats that fit in ``seconds``."""
    a = np.random.default_rng(0).standard_normal((1024, 1024)).astype(np.float32)
    best, end = float("inf"), time.perf_counter() + seconds
    with threadpool_limits(1):
        a @ a
        while time.perf_counter() < end:
            t = time.perf_counter()
            a @ a
            best = min(best, time.perf_counter() - t)
    return 2 * 1024**3 / best / 1e9


def set_threads(n):
    try:
        import torch

        torch.set_num_threads(n)
    except ImportError:
        pass
    return threadpool_limits(n)


def commit():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).parent, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed chunks per implementation and thread count")
    parser.add_argument("--images", type=int, default=2560, help="training images per timed chunk (default 2560)")
    parser.add_argument("--threads", default="1,2", help="thread counts to time, e.g. 1,2")
    parser.add_argument("--no-channels-last", action="store_true", help="skip torch with channels_last")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    threads = [int(t) for t in args.threads.split(",")]
    n = args.images // BATCH_SIZE * BATCH_SIZE
    X, y, source = load_images(n)
    try:
        import torch

        torch_version = torch.__version__
    except ImportError:
        torch_version = None
    load_before = os.getloadavg()
    peak = gemm_peak()
    results, cpu_results = {}, {}
    for t in threads:
        with set_threads(t):
            impls = [Ours(X, y)]
            if torch_version:
                impls.append(Torch(X, y))
                if not args.no_channels_last:
                    impls.append(Torch(X, y, channels_last=True))
            for impl in impls:
                impl.train(0, n)  # warm-up: allocations, BLAS buffers, torch's kernels
            times = {impl.name: [] for impl in impls}
            cpu = {impl.name: [] for impl in impls}
            for r in range(args.rounds):
                for impl in impls[r % len(impls):] + impls[: r % len(impls)]:  # rotate who goes first
                    began, began_cpu = time.perf_counter(), time.process_time()
                    impl.train(0, n)
                    times[impl.name].append((time.perf_counter() - began) / n * 1000)
                    cpu[impl.name].append((time.process_time() - began_cpu) / n * 1000)
            results[t], cpu_results[t] = times, cpu
    load_after = os.getloadavg()
    flop = flop_per_image(Ours(X[:1], y[:1]).net)
    report(results, cpu_results, flop, peak, n, args.rounds, source, load_before, load_after, torch_version)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "commit": commit(), "seconds_per_1000": {str(t): v for t, v in results.items()},
            "cpu_seconds_per_1000": {str(t): v for t, v in cpu_results.items()}, "flop_per_image": flop,
            "gemm_peak_gflops": peak, "load_before": load_before, "load_after": load_after, "images": n,
            "rounds": args.rounds, "data": source, "numpy": np.__version__, "torch": torch_version,
            "machine": platform.processor() or platform.machine(), "cpus": os.cpu_count()}, indent=2))


def report(results, cpu_results, flop, peak, n, rounds, source, load_before, load_after, torch_version):
    print(f"CNN speed at commit {commit()}: {rounds} rounds of {n} {source} training images per implementation, "
          f"batch {BATCH_SIZE}; numpy {np.__version__}, torch {torch_version or 'not installed'}; "
          f"{os.cpu_count()} CPUs")
    print(f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, after "
          f"{load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} (above ~0.5 others were running: trust the "
          "ratios more than the seconds)")
    print(f"roofline: {flop / 1e6:.2f} MFLOP per training image ({flop * 60000 / 1e9:.0f} GFLOP an MNIST epoch); "
          f"one 1024^3 float32 GEMM on one thread: {peak:.0f} GFLOP/s\n")
    head = f"{'threads':>7}  {'implementation':<20} {'s / 1000 images':>15} {'min':>7} {'max':>7} " \
           f"{'vs torch':>8} {'GFLOP/s':>8} {'of GEMM peak':>12} {'CPU s / 1000':>12} {'vs torch':>8}"
    print(head)
    print("-" * len(head))
    for t, times in results.items():
        medians = {name: statistics.median(v) for name, v in times.items()}
        cpu = {name: statistics.median(v) for name, v in cpu_results[t].items()}
        reference = medians.get("torch")
        for name, v in times.items():
            m = medians[name]
            ratio = f"{m / reference:.2f}x" if reference else "-"
            gflops = flop / (m / 1000) / 1e9
            cpu_ratio = f"{cpu[name] / cpu['torch']:.2f}x" if reference else "-"
            print(f"{t:>7}  {name:<20} {m:>15.3f} {min(v):>7.3f} {max(v):>7.3f} {ratio:>8} {gflops:>8.1f} "
                  f"{gflops / peak:>11.0%} {cpu[name]:>12.3f} {cpu_ratio:>8}")
        if reference:  # the ratio within each round: both timed back to back, under the same load
            ours, theirs = times["explainer"], times["torch"]
            per_round = statistics.median(a / b for a, b in zip(ours, theirs))
            print(f"{'':>7}  median of the per-round ratios explainer / torch: {per_round:.2f}x")
    print("\nvs torch: the median time over torch's (default layout) median at the same thread count; "
          "below 1.00x explainer is faster. CPU s: process CPU time (all threads), which a busy machine's "
          "preemptions do not inflate: on one thread, the steadier comparison")


if __name__ == "__main__":
    main()
