"""``explainer plot``: draw a trace's static figures into a folder, as PNG and SVG."""

import sys
from pathlib import Path

from ..figures import AT_A_STEP, CNN_ONLY, DPI, FIGURES, FORMATS, figure_names, refuse_other_kind, save_all
from ..figures.kernels import map_sample
from ..outputs import check_folder_out
from ..trace import open_trace

__all__ = ["add_parser"]


def add_parser(subparsers):
    p = subparsers.add_parser(
        "plot", help="draw a trace's figures (loss curves, filters, confusion, ...) into a folder",
        description="Draw the static figures of a recorded run, one file per figure and format: "
                    f"{', '.join(FIGURES)}. A run that stopped early has no confusion matrix; it is skipped. "
                    f"A convolutional network's run draws {' and '.join(CNN_ONLY)} instead of filters.")
    p.add_argument("trace", metavar="TRACE", help="a trace folder or packed .zip, or 'default'")
    p.add_argument("--out", type=Path, required=True, metavar="DIR",
                   help="the folder to write into (made if missing); only the figures' own files "
                   "(NAME.FORMAT) are written there, nothing is deleted")
    p.add_argument("--step", type=int, metavar="N",
                   help="the training step for filters and probes, from 0 to the run's last step; the nearest "
                   "snapshot is drawn (default: the last)")
    p.add_argument("--sample", type=int, metavar="N",
                   help="a CNN's feature_maps: the probe digit, one of those with recorded maps (default: the first; "
                   "`explainer info TRACE` says which)")
    p.add_argument("--format", default="png,svg", metavar="FMT,...",
                   help=f"file formats, separated by commas, from {', '.join(FORMATS)} (default: png,svg)")
    p.add_argument("--dpi", type=int, default=DPI, metavar="N",
                   help=f"pixels per inch of the PNG files (default: {DPI}; 300 for print)")
    p.add_argument("--only", metavar="NAME,...",
                   help=f"draw only these figures, separated by commas, from {', '.join(FIGURES)}")
    p.set_defaults(func=plot_command)


def plot_command(args):
    formats = _split(args.format, "--format", FORMATS)
    names = _split(args.only, "--only", tuple(FIGURES)) if args.only else None
    check_folder_out(args.out, "--out")
    trace = open_trace(args.trace)
    refuse_other_kind(trace, names or [])  # --only filters on a CNN's run: one line, naming kernels
    if args.sample is not None:
        if not trace.is_cnn:
            raise ValueError("--sample chooses the digit of a CNN's feature_maps; this is a dense network's run")
        map_sample(trace, args.sample)
    if args.step is not None or set(AT_A_STEP) & set(names or FIGURES):
        # one rule with `explainer render`: a step of the run (the nearest snapshot is drawn), and a trace
        # that holds a snapshot; checked before anything is drawn or said
        trace.check_step(args.step if args.step is not None else max(trace.n_steps - 1, 0), "--step")
    if names is None:
        names = figure_names(trace)
        if "confusion" not in names:
            print(f"explainer: skipping confusion: {trace.path} has no test evaluation (the run stopped "
                  "before its end)", file=sys.stderr)
    for name in names:
        for fmt in formats:
            if (args.out / f"{name}.{fmt}").is_dir():
                raise IsADirectoryError(f"--out {args.out} holds a folder named {name}.{fmt}, where the {name} "
                                        "figure goes: move it away, or choose another --out")
    for path in save_all(trace, args.out, formats=formats, step=args.step, names=names, dpi=args.dpi,
                         sample=args.sample):
        print(path)
    return 0


def _split(text, flag, allowed):
    """``"png, svg"`` -> ``["png", "svg"]``, each checked against ``allowed``."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [part for part in parts if part not in allowed]
    if unknown or not parts:
        raise ValueError(f"{flag} takes names from {', '.join(allowed)}, separated by commas; "
                         f"got {text!r}" + (f" ({', '.join(map(repr, unknown))} unknown)" if unknown else ""))
    return parts
