"""``explainer compare-runs A B [C ...] --out DIR``: recorded runs overlaid, their filters side by side.

::

    explainer train --activation sigmoid --optimizer sgd --lr 0.5 --out runs/sigmoid.zarr
    explainer train --activation relu --optimizer sgd --lr 0.5 --out runs/relu.zarr
    explainer compare-runs runs/sigmoid.zarr runs/relu.zarr --out figures/sigmoid-relu

Runs are matched by their fraction of training (:mod:`explainer.run_pairs`):
step for step when they are equally long.
"""

import sys
from pathlib import Path

from ..figures.comparison import check_pngs_out, save_png
from ..figures.runs import RUN_FIGURES
from ..run_pairs import FILTER_FRACTIONS, open_runs

__all__ = ["add_parser"]

MADE_BY = "explainer compare-runs"


def add_parser(subparsers):
    p = subparsers.add_parser(
        "compare-runs", help="two or more recorded runs overlaid: loss, gradient norms, dead units, filters",
        description="Draw recorded runs together, one colour each: their loss and accuracy, each layer's "
        "gradient norm (where a sigmoid network's vanishing gradients show against a ReLU one's), the share of "
        "dead units, and the first layer's filters side by side at "
        f"{', '.join(f'{f:.0%}' for f in FILTER_FRACTIONS)} of training. Runs are matched by their fraction of "
        "training: step for step when they are equally long, otherwise at the same share of each run.")
    p.add_argument("traces", nargs="+", metavar="TRACE",
                   help="two or more trace folders or packed .zip files ('default': the default 8x8 run)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR",
                   help="the folder to write into (made if missing): "
                   f"{', '.join(f'{name}.png' for name in RUN_FIGURES)}; only those files, and only replacing "
                   "ones an earlier `explainer compare-runs` wrote")
    p.set_defaults(func=compare_runs_command)


def compare_runs_command(args):
    runs = open_runs(args.traces, "compare-runs")
    names = [name for name in RUN_FIGURES if name != "runs_dead_units" or max(t.n_layers for t in runs) > 1]
    paths = check_pngs_out(args.out, names, MADE_BY)
    if len(names) < len(RUN_FIGURES):
        print("explainer: skipping runs_dead_units: no run has a hidden layer", file=sys.stderr)
    for name, path in zip(names, paths):
        save_png(RUN_FIGURES[name](runs), path, MADE_BY)
        print(path)
    return 0
