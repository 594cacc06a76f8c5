"""What recording a trace costs, and how fast a trace reads back.

On MNIST with 784-128-64-10 (ReLU, Adam, batch 128), in one run:

- seconds per epoch with recording off and on (the default snapshot schedule);
- the time spent inside the recorder's hooks, and in which hook;
- the trace's size on disk;
- the time to open the trace, and to fetch the weights or the probe record at
  random steps (cold: the first read of each array; warm: after it).

How the overhead is measured. On a shared machine whole runs one after the
other differ by 10-20% from one to the next (the machine's speed drifts), as
much as the overhead itself. So each repeat trains three runs side by side in
one process, an epoch of each in turn (the order rotating): two without a
recorder (A and B) and one with (R). All three see the same drift. The
overhead of a repeat is R's time over the mean of A's and B's; B over A is a
control that measures the method's own noise (two identical runs still differ
a little: each has its own memory layout).

The overhead is reported two ways. Per epoch, as the issue asks: the time of
R's epochs (every step, snapshot and flush) over A's and B's. And for the
whole run, which adds what a run does once: making its arrays at the start,
and the last writes and the test results at the end (a fixed cost, so a
smaller share of a longer run). A write that the writer thread has not
finished when R's epoch ends would run into the next run's epoch; the
benchmark waits for it before going on, and reports that time apart
(``writes outlasting``): in a real run it overlaps with training, and adding
it gives an upper bound. R flushes every 5 s of its own training, as a run
alone would: its flush clock stops while A and B train.

Usage::

    .venv/bin/python bench/trace.py                # 10 epochs, the issue's setting
    .venv/bin/python bench/trace.py --repeats 8    # for the record (about 5 minutes)
    .venv/bin/python bench/trace.py --epochs 2     # quicker
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

from explainer import Experiment, Trainer, fit
from explainer.data import load_dataset
from explainer.trace import DEFAULT_SCHEDULE, Trace, TraceRecorder

TARGETS = {"overhead": 0.10, "size_mb": 150, "open_s": 0.2, "fetch_ms": 20}
HOOKS = ("start", "wants_snapshot", "record_snapshot", "record_step", "record_epoch", "finish", "close")
STEP_HOOKS = ("wants_snapshot", "record_snapshot", "record_step", "record_epoch")  # called in the epochs


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

    def wait_for_writer(self):
        """Wait until the writer thread has written what it was given (without handing it more)."""
        self._writer.wait()

    def pause(self):
        """Stop the flush clock while the other runs train."""
        self._paused_at = time.monotonic()

    def resume(self):
        """Restart it: a real run flushes every ``flush_seconds`` of its own training."""
        self._last_flush += time.monotonic() - self._paused_at


def folder_size(path):
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def side_by_side(experiment, data, path, schedule):
    """Train A, R (recorded) and B an epoch at a time in turn.

    Return each run's seconds in its epochs and in all (with making the run and
    finishing it), the seconds of R's writes that outlasted its epochs, R's
    recorder and R's history.
    """
    n_in, n_classes = data.X_train.shape[1], data.n_classes
    names, trainers = ("A", "R", "B"), {}
    epochs, whole = dict.fromkeys(names, 0.0), dict.fromkeys(names, 0.0)
    recorder = TimedRecorder(path, schedule=schedule)
    for name in names:  # making a Trainer starts its run (R: makes the trace's arrays)
        whole[name] += timed(lambda name=name: trainers.__setitem__(name, Trainer(
            experiment.network(n_in, n_classes), data, experiment.train_config(),
            recorder if name == "R" else None)))
    recorder.pause()
    outlasting = 0.0  # seconds of writes still running when R's epoch ended
    for epoch in range(experiment.train_config().epochs):
        for name in names[epoch % 3:] + names[: epoch % 3]:
            if name == "R":
                recorder.resume()
            epochs[name] += timed(trainers[name].epoch)
            if name == "R":
                outlasting += timed(recorder.wait_for_writer)
                recorder.pause()
    recorder.resume()
    for name, trainer in trainers.items():
        whole[name] += timed(trainer.finish)
    whole = {name: whole[name] + epochs[name] for name in names}
    return epochs, whole, outlasting, recorder, trainers["R"].history


def mean_and_spread(values):
    """Mean and the half-width of its 95% interval (normal approximation: 2 standard errors)."""
    mean = statistics.fmean(values)
    spread = 2 * statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else float("nan")
    return mean, spread


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5, help="repeats of the three side-by-side runs")
    parser.add_argument("--schedule", default=DEFAULT_SCHEDULE)
    parser.add_argument("--fetches", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for numpy's BLAS (default 1: with more, a busy machine makes them wait "
                             "for each other and the times say more about the neighbours than the recorder)")
    args = parser.parse_args()
    threadpool_limits(args.threads, user_api="blas")
    load_before = os.getloadavg()

    experiment = Experiment.preset("mnist", hidden=(128, 64), epochs=args.epochs, batch_size=128, lr_decay=1.0)
    data = load_dataset("mnist", seed=experiment.seed)
    n_in, n_classes = data.X_train.shape[1], data.n_classes
    tmp = Path(tempfile.mkdtemp(prefix="bench-trace-"))
    overhead, whole_run, control, upper, per_epoch, in_hooks = [], [], [], [], [], []
    try:
        warmup = Experiment.preset("mnist", hidden=(128, 64), epochs=1, batch_size=128, lr_decay=1.0)
        fit(warmup.network(n_in, n_classes), data, warmup.train_config(), progress=False)  # untimed
        for repeat in range(args.repeats):
            path = tmp / f"run{repeat}.zarr"
            epochs, whole, outlasting, recorder, history = side_by_side(experiment, data, path, args.schedule)
            plain = (epochs["A"] + epochs["B"]) / 2
            overhead.append(epochs["R"] / plain - 1)
            upper.append((epochs["R"] + outlasting) / plain - 1)
            whole_run.append(whole["R"] / ((whole["A"] + whole["B"]) / 2) - 1)
            control.append(epochs["B"] / epochs["A"] - 1)
            per_epoch.append({name: value / args.epochs for name, value in epochs.items()})
            in_hooks.append(recorder.seconds)
            print(f"repeat {repeat}: s/epoch A {per_epoch[-1]['A']:.3f}, R {per_epoch[-1]['R']:.3f}, "
                  f"B {per_epoch[-1]['B']:.3f}; overhead {overhead[-1]:+.1%} in the epochs (with the writes "
                  f"outlasting an epoch {upper[-1]:+.1%}), {whole_run[-1]:+.1%} of the whole run; "
                  f"B/A {control[-1]:+.1%}; test accuracy {history.test_accuracy:.4f}", flush=True)
            if repeat < args.repeats - 1:
                shutil.rmtree(path)

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

    def interval(values):
        mean, spread = mean_and_spread(values)
        return f"{mean:+.1%}", f"+/- {spread:.1%} (95%); median {statistics.median(values):+.1%}"

    plain = statistics.median((e["A"] + e["B"]) / 2 for e in per_epoch)
    recorded = statistics.median(e["R"] for e in per_epoch)
    plain_seconds = plain * args.epochs
    hook_share = statistics.median(sum(h[name] for name in STEP_HOOKS) / plain_seconds for h in in_hooks)
    median_hooks = {name: statistics.median(h[name] for h in in_hooks) for name in HOOKS}
    rows = [
        ("s/epoch, recording off", f"{plain:.3f}", "median over repeats of the mean of A and B"),
        ("s/epoch, recording on", f"{recorded:.3f}", "median over repeats of R"),
        ("overhead per epoch", *interval(overhead)),
        ("  target", "", f"<= {TARGETS['overhead']:.0%}"),
        ("  + writes outlasting", *interval(upper)),
        ("overhead of the whole run", *interval(whole_run)),
        ("control, B / A", *interval(control)),
        ("time in the hooks of steps", f"{hook_share:+.1%}", "of the plain epochs' time (median)"),
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
    print(f"\nMNIST 784-128-64-10, relu, adam, batch 128, {args.epochs} epochs, {args.repeats} repeats of "
          f"A, R, B side by side, {args.threads} BLAS thread(s); load average {load} after")
    print(f"{'measure':<28}{'value':>12}  target / note")
    for name, value, note in rows:
        print(f"{name:<28}{value:>12}  {note}")


if __name__ == "__main__":
    main()
