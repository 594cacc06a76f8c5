"""``explainer compare``: the same network trained by explainer, scikit-learn, torch and Keras, side by side.

::

    $ explainer compare --epochs 10 --out figures/compare
    digits: 128-64 hidden, relu, adam lr 0.001, l2 0.0005, batch 32, 10 epochs, seed 0; 359 test digits

    library        version    test accuracy  s/epoch   differs from explainer
    explainer      ...

The library part is :mod:`explainer.compare`; the figures are
:mod:`explainer.figures.comparison`.
"""

import json
import sys
from pathlib import Path

from ..activations import HIDDEN_ACTIVATIONS
from ..compare import LIBRARIES, compare
from ..experiment import PRESETS, Experiment, parse_hidden
from ..figures.comparison import check_pngs_out, comparison_confusions, comparison_curves, comparison_disputes, save_png
from ..optimizers import OPTIMIZERS

__all__ = ["add_parser"]

MADE_BY = "explainer compare"  # in the PNGs' metadata: a rerun replaces its own figures, never other files
FIGURES = {"compare_curves": comparison_curves, "compare_confusion": comparison_confusions,
           "compare_disputes": comparison_disputes}


def add_parser(subparsers):
    p = subparsers.add_parser(
        "compare", help="the same network trained by explainer, scikit-learn, torch (and Keras): a table",
        description="Train one network, on the same split and with the same architecture, activation, optimizer, "
        "learning rate, L2 penalty, batch size and epochs, with explainer, scikit-learn's MLPClassifier, torch "
        "(when installed) and Keras 3 (when installed); print their test accuracy, seconds per epoch and on how "
        "many test digits they disagree. Each library keeps its own initial weights and batch order. "
        "The settings not given are the data set's preset (explainer train's defaults).")
    p.add_argument("--dataset", choices=list(PRESETS), default="digits",
                   help="digits: 8x8 scikit-learn digits, built in; mnist: 28x28 MNIST (default: digits)")
    p.add_argument("--hidden", type=str, metavar="W1,W2,...",
                   help="hidden layer widths, e.g. 64,32 (default: the preset's: "
                   + "; ".join(f"{name} {','.join(map(str, e.hidden))}" for name, e in PRESETS.items()) + ")")
    p.add_argument("--activation", choices=HIDDEN_ACTIVATIONS, metavar="NAME",
                   help=f"hidden-layer activation: {', '.join(HIDDEN_ACTIVATIONS)} (default: relu; scikit-learn "
                   "has no leaky_relu)")
    p.add_argument("--optimizer", choices=list(OPTIMIZERS), metavar="NAME",
                   help=f"optimiser: {', '.join(OPTIMIZERS)} (default: adam; scikit-learn has no rmsprop)")
    p.add_argument("--lr", type=float, metavar="RATE", help="learning rate (default: the optimizer's own)")
    p.add_argument("--batch-size", type=int, metavar="N", help="samples per step (default: the preset's)")
    p.add_argument("--epochs", type=int, metavar="N", help="passes over the training set (default: the preset's: "
                   + "; ".join(f"{name} {e.epochs}" for name, e in PRESETS.items()) + ")")
    p.add_argument("--seed", type=int, metavar="N", help="the split, and each library's seed (default: 0)")
    p.add_argument("--libraries", default=",".join(LIBRARIES), metavar="NAME,...",
                   help=f"which libraries, in the table's order, the first the one the others are measured "
                   f"against (default: {','.join(LIBRARIES)})")
    p.add_argument("--threads", type=int, default=1, metavar="N",
                   help="threads every library may use, the same for all (default: 1; more than the free cores "
                   "makes the times meaningless)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="also draw the curves and the confusion matrices side by side into this folder (made if "
                   f"missing): {', '.join(f'{name}.png' for name in FIGURES)}; only those files, and only "
                   "replacing ones an earlier `explainer compare` wrote")
    p.add_argument("--data-dir", type=Path, metavar="DIR",
                   help="a folder holding the four MNIST IDX files (also: $EXPLAINER_MNIST_DIR)")
    p.add_argument("--json", action="store_true",
                   help="print the comparison as one JSON object instead of the table (per-epoch curves included)")
    p.add_argument("--no-progress", action="store_true", help="say nothing while training")
    p.set_defaults(func=compare_command)


def compare_command(args):
    libraries = [name.strip() for name in args.libraries.split(",") if name.strip()]
    unknown = [name for name in libraries if name not in LIBRARIES]
    if unknown or not libraries:
        raise ValueError(f"--libraries takes names from {', '.join(LIBRARIES)}, separated by commas; "
                         f"got {args.libraries!r}")
    hidden = parse_hidden(args.hidden, "--hidden") if args.hidden is not None else None
    experiment = Experiment.preset(args.dataset, hidden=hidden, activation=args.activation,
                                   optimizer=args.optimizer, lr=args.lr, batch_size=args.batch_size,
                                   epochs=args.epochs, seed=args.seed)
    paths = check_pngs_out(args.out, FIGURES, MADE_BY) if args.out is not None else []  # before any training
    progress = None if args.no_progress else (lambda line: print(line, file=sys.stderr, flush=True))
    comparison = compare(experiment, libraries=libraries, threads=args.threads, data_dir=args.data_dir,
                         progress=progress)
    if args.json:
        print(json.dumps(comparison.to_dict()))
    else:
        print(comparison.table())
    for path, draw in zip(paths, FIGURES.values()):
        save_png(draw(comparison), path, MADE_BY)
        print(path, file=sys.stderr if args.json else sys.stdout)
    return 0
