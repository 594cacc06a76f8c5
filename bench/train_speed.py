"""Seconds per training epoch on MNIST: explainer's ``fit`` against a NumPy floor and two peers.

One run times, on the same data, network and settings (784-128-10, ReLU,
softmax + cross-entropy, Adam with lr 1e-3, batch 128, float32):

==============  ================================================================
explainer fit   ``explainer.training.fit``, the public training path (no
                progress bar, nothing recorded), one call for all the epochs
numpy floor     the same maths as a bare NumPy loop written below: shuffle,
                forward, ``delta = a - y``, backward, Adam in place; nothing else
scikit-learn    ``MLPClassifier(hidden_layer_sizes=(128,), solver="adam")``,
                one ``partial_fit`` per epoch
torch           ``nn.Sequential(Linear, ReLU, Linear)``, ``CrossEntropyLoss``,
                ``torch.optim.Adam``, hand-sliced batches of a tensor shuffled
                once per epoch (no DataLoader); skipped if torch is missing
==============  ================================================================

Every epoch includes its own shuffle. The implementations take turns epoch by
epoch (the others run inside fit's end-of-epoch hook, their order rotating
every round), so a noisy neighbour on a shared machine slows all of them
alike. Each repeat builds fresh models and spends ``--warmup`` epochs before
the ``--epochs`` timed ones; the table shows the median, minimum and maximum
over all timed epochs, and the test accuracy after the last one (a check that
each really trains). The script also says how much of the CPUs other processes
took during the run: above a few per cent, rerun on an idle machine.

::

    .venv/bin/python bench/train_speed.py                # full MNIST, 1 warm-up + 5 timed
    .venv/bin/python bench/train_speed.py --quick        # 10,000 training images
    .venv/bin/python bench/train_speed.py --json bench/results/train_speed.json
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from explainer import __version__ as explainer_version  # noqa: E402
from explainer.data import Dataset, load_mnist  # noqa: E402
from explainer.network import Network  # noqa: E402
from explainer.recording import NullRecorder  # noqa: E402
from explainer.training import TrainConfig, fit  # noqa: E402

__all__ = ["main"]

SIZES = (784, 128, 10)
BATCH_SIZE = 128
LR = 1e-3
BETA1, BETA2, EPS = 0.9, 0.999, 1e-8
QUICK_TRAIN = 10_000
TARGET_FLOOR_RATIO = 1.1  # explainer fit / numpy floor, from the issue


# -- the implementations -------------------------------------------------------
# Each one has ``accuracy(X, labels) -> float``; explainer has ``train(epochs,
# between)``, the others ``epoch(seed) -> seconds``.


class _BetweenEpochs(NullRecorder):
    """A recorder that records nothing per step (the NullRecorder's methods) and,
    at the end of each of fit's epochs, times that epoch and hands the CPU to
    ``between(epoch, seconds)``, so that the other implementations run between
    fit's epochs. ``seconds`` excludes the time spent in ``between``."""

    def __init__(self, between):
        self.between = between
        self.resumed = None

    def start(self, **run):
        self.resumed = time.perf_counter()  # fit's clock starts right after this

    def record_epoch(self, epoch, step, metrics):
        self.between(epoch, time.perf_counter() - self.resumed)
        self.resumed = time.perf_counter()


class ExplainerFit:
    """``explainer.training.fit`` on its public path: one call for all the epochs.

    fit owns its loop, so it is not called once per epoch (that would restart
    Adam's moments every epoch); instead the other implementations run inside
    its end-of-epoch hook. The per-step calls go to the NullRecorder's no-op
    methods, exactly as with ``recorder=None``.
    """

    name = "explainer fit"

    def __init__(self, X, labels, seed):
        self.net = Network(list(SIZES), activation="relu", output="softmax",
                           loss="cross_entropy", seed=seed, dtype="float32")
        empty = np.empty((0, X.shape[1]), np.float32)
        self.data = Dataset(
            name="mnist", image_shape=(28, 28), n_classes=10,
            X_train=X, y_train=labels,
            X_val=empty, y_val=np.empty(0, np.int64),  # no validation pass: time training only
            X_test=X[:1], y_test=labels[:1],  # fit's final evaluation, kept negligible
            split={"dataset": "mnist", "note": "bench/train_speed.py"},
        )
        self.seed = seed

    def train(self, epochs, between):
        """Run fit for ``epochs`` epochs, calling ``between(epoch, seconds)`` after each."""
        config = TrainConfig(epochs=epochs, batch_size=BATCH_SIZE, optimizer="adam", lr=LR,
                             seed=self.seed)
        fit(self.net, self.data, config, recorder=_BetweenEpochs(between), progress=False)

    def accuracy(self, X, labels):
        return float((self.net.predict(X) == labels).mean())


class NumpyFloor:
    """The least a NumPy implementation of the same step has to do."""

    name = "numpy floor"

    def __init__(self, X, labels, seed):
        self.X = X  # (n, 784)
        self.y = np.eye(SIZES[-1], dtype=np.float32)[labels]  # (n, 10) one-hot
        # explainer's initial weights, so both start from the same point
        net = Network(list(SIZES), seed=seed, dtype="float32")
        self.params = [p.copy() for p in net.params]  # [W1, b1, W2, b2]
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.tmp = [np.empty_like(p) for p in self.params]
        self.t = 0

    def epoch(self, seed):
        start = time.perf_counter()
        W1, b1, W2, b2 = self.params
        X, Y, n = self.X, self.y, len(self.X)
        order = np.random.default_rng([1, seed]).permutation(n)
        for first in range(0, n, BATCH_SIZE):
            batch = order[first : first + BATCH_SIZE]
            x, y = X[batch], Y[batch]  # (N, 784), (N, 10)
            scale = np.float32(1 / len(batch))
            # forward
            z1 = x @ W1.T  # (N, 128)
            z1 += b1
            a1 = np.maximum(z1, 0)  # (N, 128)
            z2 = a1 @ W2.T  # (N, 10)
            z2 += b2
            a2 = np.exp(z2 - z2.max(axis=1, keepdims=True))  # (N, 10)
            a2 /= a2.sum(axis=1, keepdims=True)
            # backward: softmax + cross-entropy give delta = a - y
            delta2 = a2
            delta2 -= y  # (N, 10)
            dW2 = delta2.T @ a1  # (10, 128)
            dW2 *= scale
            db2 = delta2.sum(axis=0)  # (10,)
            db2 *= scale
            delta1 = delta2 @ W2  # (N, 128)
            delta1 *= z1 > 0
            dW1 = delta1.T @ x  # (128, 784)
            dW1 *= scale
            db1 = delta1.sum(axis=0)  # (128,)
            db1 *= scale
            self._adam((dW1, db1, dW2, db2))
        return time.perf_counter() - start

    def _adam(self, grads):
        self.t += 1
        c1, c2 = 1 - BETA1**self.t, 1 - BETA2**self.t
        lr_t = np.float32(LR * c2**0.5 / c1)  # both bias corrections folded into the step
        eps_t = np.float32(EPS * c2**0.5)
        for w, g, m, v, tmp in zip(self.params, grads, self.m, self.v, self.tmp):
            m *= np.float32(BETA1)
            np.multiply(g, np.float32(1 - BETA1), out=tmp)
            m += tmp  # m <- beta1 m + (1 - beta1) g
            v *= np.float32(BETA2)
            np.multiply(g, g, out=tmp)
            tmp *= np.float32(1 - BETA2)
            v += tmp  # v <- beta2 v + (1 - beta2) g^2
            np.sqrt(v, out=tmp)
            tmp += eps_t
            np.divide(m, tmp, out=tmp)
            tmp *= -lr_t
            w += tmp  # w <- w - lr_t m / (sqrt(v) + eps_t)
        if self.t % 100 == 0:  # as explainer does: subnormal floats are slow (see optimizers.py)
            for array in [*self.params, *self.m, *self.v]:
                np.copyto(array, 0, where=np.abs(array) < np.finfo(array.dtype).tiny)

    def accuracy(self, X, labels):
        W1, b1, W2, b2 = self.params
        z2 = np.maximum(X @ W1.T + b1, 0) @ W2.T + b2
        return float((z2.argmax(axis=1) == labels).mean())


class SklearnMLP:
    """scikit-learn's ``MLPClassifier``, one ``partial_fit`` (one epoch) per call."""

    name = "scikit-learn"

    def __init__(self, X, labels, seed):
        from sklearn.neural_network import MLPClassifier

        self.X, self.labels = X, labels
        self.model = MLPClassifier(
            hidden_layer_sizes=(SIZES[1],), activation="relu", solver="adam",
            alpha=0.0,  # no L2 penalty, like the others (sklearn's default is 1e-4)
            batch_size=BATCH_SIZE, learning_rate_init=LR, beta_1=BETA1, beta_2=BETA2,
            epsilon=EPS, shuffle=True, random_state=seed,
        )
        self.classes = np.arange(SIZES[-1])

    def epoch(self, seed):
        from sklearn.exceptions import ConvergenceWarning

        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model.partial_fit(self.X, self.labels, classes=self.classes)
        return time.perf_counter() - start

    def accuracy(self, X, labels):
        return float((self.model.predict(X) == labels).mean())


class TorchCPU:
    """torch on the CPU: ``nn.Sequential`` + ``CrossEntropyLoss`` + ``optim.Adam``."""

    name = "torch"

    def __init__(self, X, labels, seed):
        import torch
        from torch import nn

        self.torch = torch
        torch.manual_seed(seed)
        self.X = torch.from_numpy(X)  # (n, 784) float32, shares memory
        self.labels = torch.from_numpy(labels)  # (n,) int64
        self.model = nn.Sequential(nn.Linear(SIZES[0], SIZES[1]), nn.ReLU(),
                                   nn.Linear(SIZES[1], SIZES[2]))
        self.loss_fn = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=LR, betas=(BETA1, BETA2),
                                          eps=EPS)

    def epoch(self, seed):
        torch = self.torch
        start = time.perf_counter()
        order = torch.randperm(len(self.X), generator=torch.Generator().manual_seed(seed))
        X, labels = self.X[order], self.labels[order]  # shuffled once per epoch
        for first in range(0, len(X), BATCH_SIZE):
            x, y = X[first : first + BATCH_SIZE], labels[first : first + BATCH_SIZE]
            self.optimizer.zero_grad(set_to_none=True)
            loss = self.loss_fn(self.model(x), y)
            loss.backward()
            self.optimizer.step()
        return time.perf_counter() - start

    def accuracy(self, X, labels):
        with self.torch.no_grad():
            z = self.model(self.torch.from_numpy(X))
        return float((z.argmax(dim=1).numpy() == labels).mean())


IMPLEMENTATIONS = {cls.name: cls for cls in [ExplainerFit, NumpyFloor, SklearnMLP, TorchCPU]}
KEYS = {"explainer": "explainer fit", "numpy": "numpy floor", "sklearn": "scikit-learn",
        "torch": "torch"}


def _torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


# -- the machine -----------------------------------------------------------------


class OtherLoad:
    """How much of the machine other processes used while a block ran (Linux only).

    ``share`` is their CPU time over the CPU time available (cores x wall time):
    0 on an idle machine. On a shared 2-core box it is the first thing to read
    before trusting a timing.
    """

    def __enter__(self):
        self.start = self._snapshot()
        return self

    def __exit__(self, *exc):
        end = self._snapshot()
        self.share = None
        if self.start and end:
            (busy0, total0, own0), (busy1, total1, own1) = self.start, end
            ticks = os.sysconf("SC_CLK_TCK")
            other = (busy1 - busy0) / ticks - (own1 - own0)
            self.share = max(0.0, other / max((total1 - total0) / ticks, 1e-9))

    @staticmethod
    def _snapshot():
        try:
            with open("/proc/stat") as f:
                ticks = [int(v) for v in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        idle = ticks[3] + ticks[4]  # idle + iowait
        own = os.times()
        return sum(ticks) - idle, sum(ticks), own.user + own.system


def machine_facts():
    """Cores, CPU, versions and thread settings, as a JSON-able dict."""
    import sklearn
    from threadpoolctl import threadpool_info

    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    blas = next((i for i in threadpool_info()
                 if i["user_api"] == "blas" and "numpy" in i["filepath"]), None)
    facts = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": np.__version__,
        "numpy_blas": (f"{blas['internal_api']} {blas['version']} ({blas.get('architecture', '?')}, "
                       f"{blas['threading_layer']}, {blas['num_threads']} threads)") if blas else "?",
        "sklearn": sklearn.__version__,
        "explainer": explainer_version,
        "torch": None,
        "torch_threads": None,
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }
    if _torch_available():
        import torch

        facts["torch"] = torch.__version__
        facts["torch_threads"] = torch.get_num_threads()
    return facts


# -- running and reporting -------------------------------------------------------


def run(names, X_train, y_train, X_test, y_test, *, warmup, epochs, repeats, seed, log=print):
    """Time ``epochs`` epochs of each implementation after ``warmup`` untimed ones.

    Round ``r`` runs epoch ``r`` of every implementation; explainer's fit runs
    its epochs in one call and the others run between them.
    """
    results = {name: {"seconds": [], "warmup_seconds": []} for name in names}
    rounds = warmup + epochs

    def keep(name, round_, seconds, repeat):
        timed = round_ >= warmup
        results[name]["seconds" if timed else "warmup_seconds"].append(seconds)
        log(f"  repeat {repeat + 1}/{repeats}, {'epoch' if timed else 'warm-up'} "
            f"{round_ + 1 - (warmup if timed else 0)}: {name:<14} {seconds:7.3f} s")

    for repeat in range(repeats):
        models = {name: IMPLEMENTATIONS[name](X_train, y_train, seed + repeat) for name in names}
        others = [name for name in names if name != ExplainerFit.name]

        def between(round_, fit_seconds=None, repeat=repeat, models=models, others=others):
            if fit_seconds is not None:
                keep(ExplainerFit.name, round_, fit_seconds, repeat)
            shift = round_ % len(others) if others else 0
            for name in others[shift:] + others[:shift]:  # rotate who goes first
                keep(name, round_, models[name].epoch(seed=1000 * repeat + round_), repeat)

        if ExplainerFit.name in models:
            models[ExplainerFit.name].train(rounds, between)
        else:
            for round_ in range(rounds):
                between(round_)
        for name in names:
            results[name]["test_accuracy"] = models[name].accuracy(X_test, y_test)
    floor = results.get(NumpyFloor.name)
    for r in results.values():
        r["median"] = statistics.median(r["seconds"])
        r["min"] = min(r["seconds"])
        r["max"] = max(r["seconds"])
        r["ratio_to_floor"] = r["median"] / statistics.median(floor["seconds"]) if floor else None
    return results


def ratios(results):
    """The ratios the issue asks for (None where an implementation did not run)."""
    def ratio(a, b):
        if a in results and b in results:
            return results[a]["median"] / results[b]["median"]
        return None

    def paired(a, b):
        # epoch r of a over epoch r of b, which ran next to it: steadier on a busy machine
        if a in results and b in results:
            return statistics.median(x / y for x, y in zip(results[a]["seconds"],
                                                           results[b]["seconds"]))
        return None

    return {
        "explainer_over_floor": ratio(ExplainerFit.name, NumpyFloor.name),
        "explainer_over_floor_paired": paired(ExplainerFit.name, NumpyFloor.name),
        "sklearn_over_explainer": ratio(SklearnMLP.name, ExplainerFit.name),
        "torch_over_explainer": ratio(TorchCPU.name, ExplainerFit.name),
    }


def table(results):
    rows = [("implementation", "s/epoch (median)", "min", "max", "x floor", "test acc")]
    for name, r in results.items():
        rows.append((name, f"{r['median']:.3f}", f"{r['min']:.3f}", f"{r['max']:.3f}",
                     f"{r['ratio_to_floor']:.2f}" if r["ratio_to_floor"] else "-",
                     f"{r['test_accuracy']:.4f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for k, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        lines.append("| " + " | ".join(cells) + " |")
        if k == 0:
            lines.append("|" + "|".join("-" * (w + 1) + (":" if i else "-")
                                        for i, w in enumerate(widths)) + "|")
    return "\n".join(lines)


def verdicts(r):
    lines = []
    if r["explainer_over_floor"] is not None:
        ok = r["explainer_over_floor"] <= TARGET_FLOOR_RATIO
        lines.append(f"explainer fit / numpy floor = {r['explainer_over_floor']:.3f} "
                     f"(target <= {TARGET_FLOOR_RATIO}): {'met' if ok else 'NOT met'}; "
                     f"epoch by epoch: median {r['explainer_over_floor_paired']:.3f}")
    for key, peer in (("sklearn_over_explainer", "scikit-learn"), ("torch_over_explainer", "torch")):
        if r[key] is not None:
            verdict = "faster" if r[key] > 1 else "NOT faster"
            lines.append(f"{peer} / explainer fit = {r[key]:.2f}: explainer is {verdict} than "
                         f"{peer} (target: faster)")
    return lines


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=5, help="timed epochs per repeat (default 5)")
    p.add_argument("--warmup", type=int, default=1, help="untimed epochs first (default 1)")
    p.add_argument("--repeats", type=int, default=1,
                   help="fresh models and another warm-up + timed epochs (default 1)")
    p.add_argument("--quick", action="store_true",
                   help=f"train on the first {QUICK_TRAIN:,} training images only")
    p.add_argument("--only", default=",".join(KEYS),
                   help=f"comma-separated subset of {','.join(KEYS)} (default: all)")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                   help="threads for numpy's BLAS and for torch (default: all cores, "
                   f"{os.cpu_count()} here); 1 is steadier on a busy machine")
    p.add_argument("--seed", type=int, default=0, help="seeds weights and shuffling (default 0)")
    p.add_argument("--json", type=Path, metavar="PATH", help="also write the results to PATH")
    args = p.parse_args(argv)
    for name in ("epochs", "repeats", "threads"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be >= 1; got {getattr(args, name)}")
    if args.warmup < 0:
        p.error(f"--warmup must be >= 0; got {args.warmup}")
    wanted = [w.strip() for w in args.only.split(",") if w.strip()]
    unknown = [w for w in wanted if w not in KEYS]
    if unknown or not wanted:
        p.error(f"--only takes names from {', '.join(KEYS)}; got {args.only!r}")
    args.names = [KEYS[w] for w in KEYS if w in wanted]
    return args


def main(argv=None):
    args = parse_args(argv)
    if TorchCPU.name in args.names:
        if _torch_available():
            import torch

            torch.set_num_threads(args.threads)  # as many as numpy's BLAS gets
        else:
            print("torch is not installed: skipping it (tools/optional-torch.sh installs it)")
            args.names.remove(TorchCPU.name)

    threadpool_limits(args.threads, user_api="blas")  # numpy's (and scipy's) BLAS
    X_train, y_train, X_test, y_test = load_mnist(progress=False)
    if args.quick:
        X_train, y_train = X_train[:QUICK_TRAIN], y_train[:QUICK_TRAIN]
    X_train, X_test = np.ascontiguousarray(X_train, np.float32), np.ascontiguousarray(X_test, np.float32)

    facts = machine_facts()
    print(f"machine: {facts['cpu']}, {facts['cores']} cores ({facts['cores_usable']} usable), "
          f"load average {', '.join(f'{x:.2f}' for x in facts['load_average'] or ())}")
    print(f"numpy {facts['numpy']} with {facts['numpy_blas']}; scikit-learn {facts['sklearn']}; "
          + (f"torch {facts['torch']} ({facts['torch_threads']} threads); " if facts["torch"] else "")
          + f"Python {facts['python']}; explainer {facts['explainer']}")
    print(f"MNIST {len(X_train):,} training / {len(X_test):,} test images; "
          f"{'-'.join(map(str, SIZES))} ReLU, softmax + cross-entropy, Adam lr {LR:g}, "
          f"batch {BATCH_SIZE}, float32; {args.repeats} x ({args.warmup} warm-up + "
          f"{args.epochs} timed) epochs each, interleaved")

    started = datetime.now(UTC)
    with OtherLoad() as other:
        results = run(args.names, X_train, y_train, X_test, y_test, warmup=args.warmup,
                      epochs=args.epochs, repeats=args.repeats, seed=args.seed)
    facts["load_average_after"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    facts["other_processes_cpu_share"] = other.share
    r = ratios(results)

    print()
    print(table(results))
    print()
    for line in verdicts(r):
        print(line)
    if other.share is not None:
        print(f"other processes used {other.share:.0%} of the CPUs during the run"
              + (": the machine was busy, so read the minimum column and rerun when it is idle"
                 if other.share > 0.05 else ""))

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "benchmark": "train_speed",
            "date": started.isoformat(timespec="seconds"),
            "command": " ".join(["bench/train_speed.py"] + (argv if argv is not None else sys.argv[1:])),
            "settings": {"sizes": SIZES, "batch_size": BATCH_SIZE, "lr": LR, "threads": args.threads,
                         "n_train": len(X_train), "n_test": len(X_test), "warmup": args.warmup,
                         "epochs": args.epochs, "repeats": args.repeats, "seed": args.seed},
            "machine": facts,
            "results": results,
            "ratios": r,
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
