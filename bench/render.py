"""How long each lecture scene takes to render, at low and high quality, on 8x8 and 28x28 traces.

For every scene, data set and quality it runs ``manim render`` once (from the
repository root, as a teacher would) and records:

- the wall clock of the whole render, start of Python to the last frame muxed;
- the CPU seconds Manim and its ffmpeg used (user + system, children only):
  on a shared machine the wall clock grows with the neighbours' load, the CPU
  time much less, so the two together tell a slow scene from a busy machine;
- the 1-minute load average before and after;
- each render's wall clock against the 60 s target at -ql and against
  ForwardPass (the reference scene) on the same data and quality, the peers
  of one run being the other scenes under the same load.

GradientDescent draws a loss landscape that the library computes and caches
beside the trace; ``explainer landscape`` computes it first, timed as its own
row, so the scene's row is its render with the landscape cached (as in a
lecture built a second time, or after ``explainer landscape``).

The 8x8 trace is the default one; the 28x28 trace is ``runs/mnist.zarr``
(784-128-64-10, 3 epochs), recorded first if it is missing or of an older
schema (about 35 s).

Usage::

    .venv/bin/python bench/render.py                    # -ql and -qh, both data sets (about 12 minutes)
    .venv/bin/python bench/render.py --quality l        # -ql only (about 2 minutes)
    .venv/bin/python bench/render.py --quality l --scenes ForwardPass Backprop --data 28x28
    .venv/bin/python bench/render.py --json runs/bench/render.json
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from explainer import Experiment, run
from explainer.cli.render import QUALITY, SCENES, scenes_folder
from explainer.trace import Trace, TraceError, TraceRecorder, default_trace

ROOT = Path(__file__).resolve().parents[1]
TARGET_LOW_S = 60  # -ql, per scene, on the 2-core machine
MNIST_TRACE = ROOT / "runs" / "mnist.zarr"
QUALITY_NAMES = {"l": "480p15", "m": "720p30", "h": "1080p60"}


def mnist_trace(path=MNIST_TRACE):
    """The 28x28 trace, recorded if missing or of an older schema: 784-128-64-10, 3 epochs of MNIST."""
    path = Path(path)
    if path.exists():
        try:
            Trace.open(path)
            return path
        except TraceError as e:  # of an older schema (or damaged): record it again
            print(f"{path}: {e}; recording it again", flush=True)
    print(f"recording the 28x28 trace at {path} (about 35 s) ...", flush=True)
    experiment = Experiment.preset("mnist", hidden=(128, 64), epochs=3)
    with TraceRecorder(path, overwrite=True) as recorder:
        run(experiment, recorder=recorder, progress=False)
    return path


def describe(trace_path):
    trace = Trace.open(trace_path)
    return f"{'-'.join(str(n) for n in trace.sizes)}, {trace.n_snapshots} snapshots"


def timed(command, what, **run_options):
    """Run ``command`` once (from the repository root); return (the finished process, wall s, CPU s of it and
    its children, load before, load after). A failure stops the benchmark with its last line."""
    load_before = os.getloadavg()[0]
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, **run_options)
    wall = time.perf_counter() - start
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        tail = [line for line in result.stderr.splitlines() if line.strip()][-1:] or ["(no message)"]
        raise SystemExit(f"bench: {what} failed: {tail[0].strip()}")
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return result, wall, cpu, load_before, os.getloadavg()[0]


def time_render(scene, trace_path, quality, media_dir):
    """Render ``scene`` once; return (wall s, CPU s, load before, load after)."""
    filename, _ = SCENES[scene]
    command = [sys.executable, "-m", "manim", "render", QUALITY[quality], "--media_dir", str(media_dir),
               str(scenes_folder() / filename), scene]
    _, *numbers = timed(command, f"{scene} at -q{quality}", env={**os.environ, "EXPLAINER_TRACE": str(trace_path)})
    return tuple(numbers)


def time_landscape(trace_path):
    """Compute (or read from the cache) GradientDescent's landscape at its default step; return
    (wall s, CPU s, load before, load after, whether it was computed)."""
    result, *numbers = timed([sys.executable, "-m", "explainer", "landscape", str(trace_path)], "explainer landscape")
    computed = "cache        read from" not in result.stdout  # the landscape's cache line: read, or computed
    return (*numbers, computed)


def with_ratios(rows):
    """Each render's wall clock against the -ql target and against ForwardPass on the same data and quality."""
    reference = {(r["data"], r["quality"]): r["wall_s"] for r in rows if r["scene"] == "ForwardPass"}
    for r in rows:
        base = reference.get((r["data"], r["quality"]))
        r["vs_forward_pass"] = round(r["wall_s"] / base, 2) if base else None
        r["vs_target"] = round(r["wall_s"] / TARGET_LOW_S, 2) if r["quality"] == "l" else None
    return rows


def table(rows):
    lines = ["| scene | data | quality | wall s | CPU s | x ForwardPass | / 60 s target | load before/after |",
             "|---|---|---|---:|---:|---:|---:|---|"]
    for r in rows:
        mark = " (over 60)" if r["quality"] == "l" and r["wall_s"] > TARGET_LOW_S else ""
        ratio = f"{r['vs_forward_pass']:.2f}" if r.get("vs_forward_pass") else ""
        target = f"{r['vs_target']:.2f}" if r.get("vs_target") else ""
        quality = f"-q{r['quality']} ({QUALITY_NAMES[r['quality']]})" if r["quality"] in QUALITY_NAMES else "-"
        lines.append(f"| {r['scene']} | {r['data']} | {quality} | "
                     f"{r['wall_s']:.1f}{mark} | {r['cpu_s']:.1f} | {ratio} | {target} | "
                     f"{r['load_before']:.2f} / {r['load_after']:.2f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Time `manim render` of every scene at -ql and -qh on 8x8 and 28x28.")
    parser.add_argument("--quality", nargs="+", choices=["l", "m", "h"], default=["l", "h"])
    parser.add_argument("--scenes", nargs="+", choices=list(SCENES), default=list(SCENES))
    parser.add_argument("--data", nargs="+", choices=["8x8", "28x28"], default=["8x8", "28x28"])
    parser.add_argument("--mnist-trace", type=Path, default=MNIST_TRACE,
                        help=f"the 28x28 trace (default: {MNIST_TRACE.relative_to(ROOT)}, recorded if missing)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="render into DIR and keep the videos, to look at them (default: a temporary folder); "
                        "DIR/<data>/ must not hold earlier videos, so that Manim's cache never helps")
    args = parser.parse_args(argv)

    traces = {}
    if "8x8" in args.data:
        traces["8x8"] = default_trace()
    if "28x28" in args.data:
        traces["28x28"] = mnist_trace(args.mnist_trace)
    for name, path in traces.items():
        print(f"{name}: {path} ({describe(path)})")
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
          f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True)

    rows = []
    if "GradientDescent" in args.scenes:
        for data, path in traces.items():
            wall, cpu, before, after, computed = time_landscape(path)
            rows.append({"scene": "landscape (explainer landscape)", "data": data, "quality": "-",
                         "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "load_before": before,
                         "load_after": after, "computed": computed})
            print(f"  {'landscape':18s} {data:6s} {'computed' if computed else 'from the cache'}  {wall:6.1f} s wall  "
                  f"{cpu:6.1f} s CPU", flush=True)
    if args.keep:
        for data in traces:
            if (args.keep / data).exists() and any((args.keep / data).iterdir()):
                parser.error(f"--keep {args.keep}: {args.keep / data} is not empty; name a new folder")
    with tempfile.TemporaryDirectory(prefix="bench-render-") as temporary:
        media = Path(args.keep or temporary)
        for quality in args.quality:
            for data, path in traces.items():
                for scene in args.scenes:
                    wall, cpu, before, after = time_render(scene, path, quality, media / data)
                    rows.append({"scene": scene, "data": data, "quality": quality, "wall_s": round(wall, 2),
                                 "cpu_s": round(cpu, 2), "load_before": before, "load_after": after})
                    print(f"  {scene:18s} {data:6s} -q{quality}  {wall:6.1f} s wall  {cpu:6.1f} s CPU  "
                          f"load {before:.2f} -> {after:.2f}", flush=True)
    print()
    print(table(with_ratios(rows)))
    slow = [r for r in rows if r["quality"] == "l" and r["wall_s"] > TARGET_LOW_S]
    print(f"\n-ql target ({TARGET_LOW_S} s per scene): "
          + ("met by every scene" if not slow else "missed by " + ", ".join(f"{r['scene']} ({r['data']})" for r in slow)))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"when": datetime.now(UTC).isoformat(timespec="seconds"),
                                         "traces": {k: str(v) for k, v in traces.items()}, "rows": rows}, indent=1))
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
