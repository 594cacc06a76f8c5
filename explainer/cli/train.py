"""``explainer train`` and ``explainer demo``: train a network and report what it learned."""

import json
import sys
from pathlib import Path

import numpy as np

from ..activations import HIDDEN_ACTIVATIONS
from ..augment import AUGMENT_SETTINGS, parse_augment
from ..budget import check_run
from ..conv import PADDINGS
from ..experiment import ARCHS, CNN_PRESETS, PRESETS, Experiment, parse_hidden, run
from ..initializers import INITIALIZERS
from ..losses import LOSSES
from ..network import is_saved_network
from ..optimizers import OPTIMIZERS, lr_advice
from ..outputs import check_file_out, check_folder_out, check_trace_out
from ..trace import DEFAULT_SCHEDULE, TraceRecorder

__all__ = ["add_parser", "FLAGS"]

# what the settings that budget messages name are called on this command line
FLAGS = {"hidden": "--hidden", "batch_size": "--batch-size", "epochs": "--epochs", "schedule": "--schedule",
         "n_probe": "--probe"}


def _per_dataset(setting):
    def show(value):
        return ",".join(map(str, value)) if isinstance(value, tuple) else f"{value:g}"

    return ", ".join(f"{show(getattr(p, setting))} on {name}" for name, p in PRESETS.items())


def _cnn_presets():
    def show(p):
        return f"conv {','.join(map(str, p.conv))} with {p.kernel}x{p.kernel} kernels ({p.padding}), hidden " \
               f"{','.join(map(str, p.hidden))}, lr {p.lr:g} x{p.lr_decay:g} an epoch, batch {p.batch_size}, " \
               f"{p.epochs} epochs"

    return "; ".join(f"{name}: {show(p)}" for name, p in CNN_PRESETS.items())


def _choices(table):
    return ", ".join(table)


def add_parser(subparsers):
    p = subparsers.add_parser(
        "train",
        help="train a network, print what it learned",
        description="Train a from-scratch NumPy network on the 8x8 digits or MNIST. Settings left "
        "out take the data set's preset (shown as 'default').",
    )
    p.add_argument("--dataset", choices=list(PRESETS), default="digits",
                   help="digits: 8x8 scikit-learn digits, built in; mnist: 28x28 MNIST, fetched once "
                   "(default: digits)")
    p.add_argument("--arch", choices=list(ARCHS),
                   help="mlp: dense layers only; cnn: convolutions (each followed by 2x2 max-pooling), then dense "
                   f"layers, the data set's CNN preset ({_cnn_presets()}). Default: mlp, or cnn with --conv, --kernel or "
                   "--padding")
    p.add_argument("--conv", type=str, metavar="F1,F2,...",
                   help="filters of each convolution, e.g. 16,32 (with --arch cnn; default: the CNN preset's)")
    p.add_argument("--kernel", type=int, metavar="K",
                   help="the convolutions' kernel size, K x K (default: "
                   f"{', '.join(f'{p.kernel} on {name}' for name, p in CNN_PRESETS.items())})")
    p.add_argument("--padding", choices=PADDINGS,
                   help="the convolutions' padding: valid (maps shrink by K - 1) or same (default: the preset's)")
    p.add_argument("--hidden", type=str, metavar="W1,W2,...",
                   help=f"hidden layer widths, e.g. 64,32; 'none' for no hidden layer "
                   f"(default: {_per_dataset('hidden')})")
    p.add_argument("--activation", choices=HIDDEN_ACTIVATIONS, metavar="NAME",
                   help=f"hidden-layer activation: {_choices(HIDDEN_ACTIVATIONS)} (default: relu)")
    p.add_argument("--loss", choices=list(LOSSES), metavar="NAME",
                   help=f"loss: {_choices(LOSSES)} (default: cross_entropy)")
    p.add_argument("--init", choices=list(INITIALIZERS), metavar="NAME",
                   help=f"weight initialiser: {_choices(INITIALIZERS)} "
                   "(default: he for relu-like activations, xavier otherwise)")
    p.add_argument("--optimizer", choices=list(OPTIMIZERS), metavar="NAME",
                   help=f"optimiser: {_choices(OPTIMIZERS)} (default: adam)")
    p.add_argument("--lr", type=float, metavar="RATE",
                   help="learning rate (default: the optimizer's own: "
                   + ", ".join(f"{name} {cls.default_lr:g}" for name, cls in OPTIMIZERS.items())
                   + "; a rate far outside what that optimizer usually needs gets a warning)")
    p.add_argument("--lr-decay", type=float, metavar="FACTOR",
                   help=f"multiply the learning rate by this after every epoch (default: "
                   f"{_per_dataset('lr_decay')})")
    p.add_argument("--batch-size", type=int, metavar="N",
                   help=f"samples per step (default: {_per_dataset('batch_size')})")
    p.add_argument("--epochs", type=int, metavar="N",
                   help=f"passes over the training set (default: {_per_dataset('epochs')})")
    p.add_argument("--augment", type=str, metavar="NAME=VALUE,...",
                   help="change each batch's images a little at random, so the network learns the digit rather than "
                   "one pen and one slant: " + "; ".join(f"{name}: {what} (up to {top:g})".replace("%", "%%")
                                                          for name, (what, top) in AUGMENT_SETTINGS.items())
                   + ". E.g. slant=15,stroke=0.3; 'none' for none (default: none). Recorded in the trace")
    p.add_argument("--l1", type=float, metavar="LAMBDA", help=f"L1 penalty on the weights (default: {_per_dataset('l1')})")
    p.add_argument("--l2", type=float, metavar="LAMBDA", help=f"L2 penalty on the weights (default: {_per_dataset('l2')})")
    p.add_argument("--seed", type=int, metavar="N",
                   help="seeds the weights, the split and the shuffling: the same seed gives the "
                   "same run, to the bit (default: 0)")
    p.add_argument("--dtype", choices=["float32", "float64"], help="float precision (default: float32)")
    p.add_argument("--data-dir", type=Path, metavar="DIR",
                   help="a folder holding the four MNIST IDX files (also: $EXPLAINER_MNIST_DIR)")
    p.add_argument("--no-download", action="store_true", help="never download a data set")
    p.add_argument("--save", type=Path, metavar="FILE.npz",
                   help="save the trained network to this file (its folder is made if missing)")
    rec = p.add_argument_group("recording a trace")
    rec.add_argument("--out", type=Path, metavar="TRACE",
                     help="record the run as a trace folder (e.g. runs/digits.zarr) for scenes, dashboards "
                     "and `explainer plot`")
    rec.add_argument("--schedule", default=DEFAULT_SCHEDULE, metavar="SPEC",
                     help="when to take full snapshots: 'log:N' (N steps spread log-uniformly, dense early), "
                     "'every:N', 'epochs', or a '+' of them; step 0 and the last step are always in "
                     f"(default: {DEFAULT_SCHEDULE})")
    rec.add_argument("--probe", type=int, default=30, metavar="N",
                     help="how many validation digits to follow through every snapshot (default: 30)")
    rec.add_argument("--maps", type=int, default=10, metavar="N",
                     help="a CNN's run: how many of the probe digits keep their feature maps at every snapshot, one "
                     "of each class first (default: 10; the maps are most of a CNN's trace)")
    rec.add_argument("--force", action="store_true",
                     help="replace an existing trace at --out, and a network saved earlier at --save (only "
                     "those: never other files or folders)")
    p.add_argument("--json", action="store_true",
                   help="end with a one-line JSON summary (test_accuracy, epochs, seconds, ...)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=train_command)

    d = subparsers.add_parser(
        "demo",
        help="the README's main job: train on the 8x8 digits, record, show what was learned",
        description="Train the preset network on the 8x8 digits, record the run as a trace, print what it "
        "learned, draw the figures, and build the lecture from it (the chapters as one slide deck with notes, "
        "videos, a handout; at low quality).",
    )
    d.add_argument("--out", type=Path, default=Path("runs/demo"), metavar="DIR",
                   help="where the trace, figures and lecture go (default: runs/demo)")
    d.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    d.add_argument("--no-scenes", action="store_true", help="skip the lecture (Manim renders)")
    d.set_defaults(func=demo_command)


def experiment_from_args(args):
    """The :class:`Experiment` the command-line options describe."""
    overrides = {
        "hidden": parse_hidden(args.hidden, "--hidden") if args.hidden is not None else None,
        "activation": args.activation,
        "loss": args.loss,
        "init": args.init,
        "optimizer": args.optimizer,
        "lr": args.lr,
        "lr_decay": args.lr_decay,
        "batch_size": args.batch_size,
        "epochs": args.epochs,
        "l1": args.l1,
        "l2": args.l2,
        "seed": args.seed,
        "dtype": args.dtype,
        "augment": parse_augment(args.augment) if args.augment is not None else None,
    }
    cnn_options = {"conv": args.conv, "kernel": args.kernel, "padding": args.padding}
    given = [f"--{name}" for name, value in cnn_options.items() if value is not None]
    arch = args.arch or ("cnn" if given else "mlp")
    if arch == "mlp" and given:
        raise ValueError(f"{given[0]} sets a convolution, which --arch mlp has none of: use --arch cnn "
                         "(or leave --arch out)")
    if args.conv is not None:
        cnn_options["conv"] = parse_hidden(args.conv, "--conv")
        if not cnn_options["conv"]:
            raise ValueError(f"--conv takes the filters of at least one convolution, like 16,32; got {args.conv!r}: "
                             "for no convolution, use --arch mlp")
    if args.kernel is not None and args.kernel < 1:
        raise ValueError(f"--kernel must be a whole number >= 1, like 5; got {args.kernel}")
    overrides.update(cnn_options if arch == "cnn" else {})
    return Experiment.preset(args.dataset, arch, **overrides)


def train_command(args):
    experiment = experiment_from_args(args)
    # every output, and whether the run fits, are checked before anything is loaded or trained
    if isinstance(args.maps, bool) or args.maps < 1:
        raise ValueError(f"--maps must be a whole number >= 1 (probe digits with feature maps); got {args.maps}")
    if args.out:
        check_trace_out(args.out, "--out", overwrite=args.force)
    if args.save:
        check_file_out(args.save, "--save", overwrite=args.force, kind="saved network", is_kind=is_saved_network,
                       example="model.npz")
    check_run(experiment, schedule=args.schedule if args.out else None, n_probe=args.probe, n_maps=args.maps,
              out=args.out,
              names=FLAGS)
    advice = lr_advice(experiment.optimizer, experiment.lr)
    if advice:
        print(f"explainer: warning: {advice}", file=sys.stderr)
    recorder = None
    if args.out:
        recorder = TraceRecorder(args.out, schedule=args.schedule, n_probe=args.probe, n_maps=args.maps,
                                 overwrite=args.force)
    result = run(experiment, recorder=recorder, progress=not args.no_progress, data_dir=args.data_dir,
                 download=not args.no_download)
    report(result)
    if args.out:
        print(f"trace        {args.out}  ({len(recorder.steps)} snapshots; `explainer info {args.out}`)")
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        result.net.save(args.save)
        print(f"saved the trained network to {args.save}")
    if args.json:
        summary = result.summary()
        if args.out:
            summary["trace"] = str(args.out)
        print(json.dumps(_jsonable(summary)))
    return 0


def demo_command(args):
    from ..figures import save_all

    experiment = Experiment.preset("digits")
    trace_path = args.out / "trace.zarr"
    # the demo replaces its own trace of an earlier demo, and nothing else
    check_folder_out(args.out, "--out")
    check_trace_out(trace_path, "--out", overwrite=True)
    for folder in (args.out / "figures", args.out / "media"):
        check_folder_out(folder, "--out")
    lecture = args.out / "lecture"
    if not args.no_scenes:
        from ..lecture.build import check_lecture_out

        check_lecture_out(lecture)
    hidden = ", ".join(map(str, experiment.hidden))
    print(f"Training a network with hidden layers of {hidden} units on the 8x8 digits "
          f"({experiment.epochs} epochs), recording every step to {trace_path} ...")
    recorder = TraceRecorder(trace_path, overwrite=True)
    result = run(experiment, recorder=recorder, progress=not args.no_progress)
    report(result, confusion=True)
    print(f"\ntrace        {trace_path}  ({len(recorder.steps)} snapshots of every weight, gradient and "
          "probe activation)")
    paths = save_all(trace_path, args.out / "figures", formats=("png",))
    print(f"figures      {args.out / 'figures'}/  ({', '.join(p.name for p in paths)})")
    print(f"next         explainer info {trace_path}   |   explainer render list   |   explainer plot {trace_path} "
          "--out DIR")
    if not args.no_scenes:
        from ..lecture.build import build_lecture

        print("lecture      rendering the chapters (Manim, low quality) ...", flush=True)
        built = build_lecture(trace_path, lecture, say=lambda line: print(f"             {line}", flush=True))
        print(f"lecture      {built.index.resolve()}  (open it in a browser: the slides, the handout, the videos)")
    return 0


def report(result, confusion=False, out=None):
    """Print what a run learned: accuracy, and the mistakes it still makes."""
    out = out or sys.stdout
    h, data, net = result.history, result.data, result.net
    last = h.epochs[-1]
    widths = [str(n) for n in net.sizes]
    if net.specs:  # a CNN: the image, its convolution and pooling layers, then the dense layers
        widths[:1] = ["x".join(map(str, net.image_shape[:2])), *net.specs]
    print(f"network      {' -> '.join(widths)}  ({net.activation}, "
          f"{result.experiment.optimizer}, lr {result.experiment.lr:g})", file=out)
    if result.experiment.augment is not None:
        print(f"augmented    {result.experiment.augment}", file=out)
    print(f"data         {data.name}: {len(data.X_train)} train, {len(data.X_val)} validation, "
          f"{len(data.X_test)} test images of {data.image_shape[0]}x{data.image_shape[1]}", file=out)
    print(f"trained      {len(h.epochs)} epochs, {h.steps} steps in {h.seconds:.1f} s", file=out)
    print(f"train        loss {last['train_loss']:.4f}  accuracy {last['train_accuracy']:.4f}", file=out)
    if "val_accuracy" in last:
        print(f"validation   loss {last['val_loss']:.4f}  accuracy {last['val_accuracy']:.4f}", file=out)
    print(f"test         loss {h.test_loss:.4f}  accuracy {h.test_accuracy:.4f}", file=out)
    if confusion:
        c = h.confusion
        print("\nconfusion matrix on the test set (rows: true digit, columns: predicted)", file=out)
        print("      " + "".join(f"{j:>5}" for j in range(len(c))), file=out)
        for i, row in enumerate(c):
            print(f"{i:>5} " + "".join(f"{v:>5}" if v else "    ." for v in row), file=out)
        off = c - np.diag(np.diag(c))
        if off.any():
            i, j = np.unravel_index(off.argmax(), off.shape)
            print(f"\nmost common mistake: {i} read as {j} ({off[i, j]} times)", file=out)


def _jsonable(d):
    return {k: (float(v) if isinstance(v, (np.floating, float)) else v) for k, v in d.items()}
