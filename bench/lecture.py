"""How long `explainer lecture` takes: a first build and a second (cached) one, at -ql and -qh, on the 8x8
default trace and on a 28x28 MNIST trace.

Each build runs the command itself (``python -m explainer lecture``) into a fresh folder, then again into
the same folder, which renders nothing (every chapter's key is unchanged) and rebuilds the deck, the PPTX,
the handout and the index. It records the wall clock, the CPU seconds of the command and its Manim
children, the load average before and after, and the ratios: the cached build against the first, and the
first against the 5-minute target at -ql.

Usage::

    .venv/bin/python bench/lecture.py                         # -ql, both data sets (about 10 minutes)
    .venv/bin/python bench/lecture.py --quality l h           # and -qh (about 35 minutes more)
    .venv/bin/python bench/lecture.py --data 8x8 --json runs/bench/lecture.json
"""

import argparse
import json
import os
import platform
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from render import MNIST_TRACE, describe, mnist_trace, timed

from explainer.trace import default_trace

TARGET_LOW_S = 300  # the whole lecture at -ql, on the 2-core machine


def timed_build(trace, out, quality):
    """Run `explainer lecture` once; return (wall s, CPU s, load before, load after, chapters rendered)."""
    command = [sys.executable, "-m", "explainer", "lecture", "--trace", str(trace), "--out", str(out),
               "-q", quality]
    result, *numbers = timed(command, f"the lecture at -q{quality}")
    return (*numbers, sum("done in" in line for line in result.stdout.splitlines()))


def main(argv=None):
    parser = argparse.ArgumentParser(description="Time `explainer lecture`, first and cached, per quality and data.")
    parser.add_argument("--quality", nargs="+", choices=["l", "m", "h"], default=["l"])
    parser.add_argument("--data", nargs="+", choices=["8x8", "28x28"], default=["8x8", "28x28"])
    parser.add_argument("--mnist-trace", type=Path, default=MNIST_TRACE)
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")
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
    with tempfile.TemporaryDirectory(prefix="bench-lecture-") as temporary:
        for quality in args.quality:
            for data, trace in traces.items():
                out = Path(temporary) / f"{data}-{quality}"
                for build in ("first", "cached"):
                    wall, cpu, before, after, rendered = timed_build(trace, out, quality)
                    rows.append({"data": data, "quality": quality, "build": build, "wall_s": round(wall, 1),
                                 "cpu_s": round(cpu, 1), "rendered": rendered, "load_before": before,
                                 "load_after": after})
                    print(f"  {data:6s} -q{quality} {build:7s} {wall:7.1f} s wall {cpu:7.1f} s CPU  "
                          f"{rendered:2d} chapters rendered  load {before:.2f} -> {after:.2f}", flush=True)
    print("\n| data | quality | build | wall s | CPU s | chapters rendered | cached / first | / 300 s target | load |")
    print("|---|---|---|---:|---:|---:|---:|---:|---|")
    firsts = {(r["data"], r["quality"]): r["wall_s"] for r in rows if r["build"] == "first"}
    for r in rows:
        ratio = f"{r['wall_s'] / firsts[(r['data'], r['quality'])]:.2f}" if r["build"] == "cached" else ""
        target = f"{r['wall_s'] / TARGET_LOW_S:.2f}" if r["quality"] == "l" and r["build"] == "first" else ""
        print(f"| {r['data']} | -q{r['quality']} | {r['build']} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | "
              f"{r['rendered']} | {ratio} | {target} | {r['load_before']:.2f} / {r['load_after']:.2f} |")
    slow = [r for r in rows if r["quality"] == "l" and r["build"] == "first" and r["wall_s"] > TARGET_LOW_S]
    print(f"\n-ql target ({TARGET_LOW_S} s a lecture): "
          + ("met" if not slow else "missed on " + ", ".join(r["data"] for r in slow)))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"when": datetime.now(UTC).isoformat(timespec="seconds"), "rows": rows},
                                        indent=1))
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
