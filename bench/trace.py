"""What recording a trace costs, and how fast a trace reads back.

On MNIST with 784-128-64-10 (ReLU, Adam, batch 128), in one run:

- seconds per epoch with recording off and on (the default snapshot schedule),
  interleaved so that a busy machine slows both alike;
- the time spent inside the recorder's hooks during the recorded runs, which
  measures the overhead directly (wall-clock runs on a shared 2-core machine
  vary by 10-20% from one to the next, as much as the overhead itself);
- the trace's size on disk;
- the time to open the trace, and to fetch the weights or the probe record at
  random steps (cold: the first read of each array; warm: after it).

The overhead is given four ways: the ratio of the median wall-clock times;
the median of each recorded run over the plain run just before it (a busy
spell slows both runs of a pair alike); the ratio of the median CPU times of
the process (time the process waited for a core does not count); and the time
inside the hooks over the rest of the recorded run. The load average before and after is printed, since
on a shared machine the first two are only as good as the quiet they ran in.

Usage::

    .venv/bin/python bench/trace.py               # 10 epochs, the issue's setting
    .venv/bin/python bench/trace.py --epochs 2    # quicker
    .venv/bin/python bench/trace.py --threads 1   # steadier on a busy machine
"""

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from explainer import Experiment, fit
from explainer.data import load_dataset
from explainer.trace import DEFAULT_SCHEDULE, Trace, TraceRecorder

TARGETS = {"overhead": 0.10, "size_mb": 150, "open_s": 0.2, "fetch_ms": 20}
HOOKS = ("start", "wants_snapshot", "record_snapshot", "record_step", "record_epoch", "finish", "close")


class TimedRecorder(TraceRecorder):
    """A TraceRecorder that adds up the seconds spent in each of its hooks."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seconds = dict.fromkeys(HOOKS, 0.0)
        for name in HOOKS:
            setattr(self, name, self._timed(name, getattr(self, name)))

    def _timed(self, name, hook):
        def timed_hook(*args, **kwargs):
            start = time.perf_counter()
            try:
                return hook(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start

        return timed_hook


def folder_size(path):
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def cpu_seconds():
    """CPU time of this process so far, all its threads (BLAS, Zarr's I/O) included."""
    times = os.times()
    return times.user + times.system


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=2, help="runs of each kind, interleaved")
    parser.add_argument("--schedule", default=DEFAULT_SCHEDULE)
    parser.add_argument("--fetches", type=int, default=50)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="threads for numpy's BLAS (default: all cores); 1 is steadier on a busy machine")
    args = parser.parse_args()
    threadpool_limits(args.threads, user_api="blas")
    load_before = os.getloadavg()

    experiment = Experiment.preset("mnist", hidden=(128, 64), epochs=args.epochs, batch_size=128, lr_decay=1.0)
    data = load_dataset("mnist", seed=experiment.seed)
    n_in, n_classes = data.X_train.shape[1], data.n_classes
    tmp = Path(tempfile.mkdtemp(prefix="bench-trace-"))
    plain, recorded, in_hooks = [], [], []
    plain_cpu, recorded_cpu = [], []  # CPU seconds per epoch of this process, every thread

    def train(recorder=None):
        """Seconds per epoch of the whole fit: recorder start, every step, last flush, test."""
        net = experiment.network(n_in, n_classes)
        start, cpu = time.perf_counter(), cpu_seconds()
        history = fit(net, data, experiment.train_config(), recorder=recorder, progress=False)
        (plain_cpu if recorder is None else recorded_cpu).append((cpu_seconds() - cpu) / args.epochs)
        return (time.perf_counter() - start) / args.epochs, history

    try:
        warmup = Experiment.preset("mnist", hidden=(128, 64), epochs=1, batch_size=128, lr_decay=1.0)
        fit(warmup.network(n_in, n_classes), data, warmup.train_config(), progress=False)  # untimed
        for repeat in range(args.repeats):
            seconds, _ = train()
            plain.append(seconds)
            path = tmp / f"run{repeat}.zarr"
            recorder = TimedRecorder(path, schedule=args.schedule)
            seconds, history = train(recorder)
            recorded.append(seconds)
            in_hooks.append(recorder.seconds)
            print(f"repeat {repeat}: {plain[-1]:.3f} s/epoch plain, {recorded[-1]:.3f} s/epoch recorded "
                  f"(test accuracy {history.test_accuracy:.4f})", flush=True)

        size = folder_size(path)
        open_times = [timed(lambda: Trace.open(path)) for _ in range(10)]
        trace = Trace.open(path)
        n_snapshots = trace.n_snapshots
        rng = np.random.default_rng(0)
        steps = rng.integers(0, trace.n_steps, size=args.fetches)
        cold_trace = Trace.open(path)
        cold_weights = timed(lambda: cold_trace.weights(int(steps[0])))
        cold_probe = timed(lambda: cold_trace.probe_record(int(steps[0])))
        weights = [timed(lambda s=s: trace.weights(int(s))) for s in steps]
        probe = [timed(lambda s=s: trace.probe_record(int(s))) for s in steps]
        scalars = timed(lambda: Trace.open(path).scalars)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    p, r = statistics.median(plain), statistics.median(recorded)
    overhead = r / p - 1
    paired = statistics.median(b / a - 1 for a, b in zip(plain, recorded))
    hook_share = [sum(h.values()) / (total * args.epochs - sum(h.values())) for h, total in zip(in_hooks, recorded)]
    median_hooks = {name: statistics.median(h[name] for h in in_hooks) for name in HOOKS}
    rows = [
        ("s/epoch, recording off", f"{p:.3f}", f"runs: {', '.join(f'{x:.3f}' for x in plain)}"),
        ("s/epoch, recording on", f"{r:.3f}", f"runs: {', '.join(f'{x:.3f}' for x in recorded)}"),
        ("overhead, wall clock", f"{overhead:+.1%}", f"<= {TARGETS['overhead']:.0%} (noisy: see the runs above)"),
        ("overhead, paired runs", f"{paired:+.1%}", "median of recorded / plain run before it"),
        ("CPU s/epoch, off / on", f"{statistics.median(plain_cpu):.3f} / {statistics.median(recorded_cpu):.3f}",
         "medians; every thread of this process"),
        ("overhead, CPU time", f"{statistics.median(recorded_cpu) / statistics.median(plain_cpu) - 1:+.1%}",
         "not slowed by other processes' use of the cores (with --threads 1: no BLAS threads spinning)"),
        ("overhead, time in hooks", f"{statistics.median(hook_share):+.1%}", f"<= {TARGETS['overhead']:.0%}"),
        *[(f"  in {name}", f"{seconds:.3f} s", "per run") for name, seconds in median_hooks.items() if seconds > 0.001],
        ("snapshots", f"{n_snapshots}", f"schedule {args.schedule}"),
        ("trace size on disk", f"{size / 1e6:.1f} MB", f"<= {TARGETS['size_mb']} MB"),
        ("open (median of 10)", f"{statistics.median(open_times) * 1e3:.1f} ms", f"< {TARGETS['open_s'] * 1e3:.0f} ms"),
        ("weights at a step, cold", f"{cold_weights * 1e3:.1f} ms", f"< {TARGETS['fetch_ms']} ms"),
        ("weights at a step, median", f"{statistics.median(weights) * 1e3:.1f} ms", f"< {TARGETS['fetch_ms']} ms"),
        ("weights at a step, max", f"{max(weights) * 1e3:.1f} ms", ""),
        ("probe record, cold", f"{cold_probe * 1e3:.1f} ms", f"< {TARGETS['fetch_ms']} ms"),
        ("probe record, median", f"{statistics.median(probe) * 1e3:.1f} ms", f"< {TARGETS['fetch_ms']} ms"),
        ("probe record, max", f"{max(probe) * 1e3:.1f} ms", ""),
        ("all per-step scalars", f"{scalars * 1e3:.1f} ms", ""),
    ]
    load = ", ".join(f"{x:.2f}" for x in load_before) + " before; " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nMNIST 784-128-64-10, relu, adam, batch 128, {args.epochs} epochs, {args.repeats} runs of each, "
          f"{args.threads} BLAS thread(s); load average {load} after")
    print(f"{'measure':<28}{'value':>12}  target")
    for name, value, target in rows:
        print(f"{name:<28}{value:>12}  {target}")


if __name__ == "__main__":
    main()
