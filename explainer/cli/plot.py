"""``explainer plot``: draw a trace's static figures into a folder, as PNG and SVG."""

import sys
from pathlib import Path

from ..figures import DPI, FIGURES, FORMATS, figure_names, save_all
from ..trace import Trace
from .trace import resolve_trace

__all__ = ["add_parser"]


def add_parser(subparsers):
    p = subparsers.add_parser(
        "plot", help="draw a trace's figures (loss curves, filters, confusion, ...) into a folder",
        description="Draw the static figures of a recorded run, one file per figure and format: "
                    f"{', '.join(FIGURES)}. A run that stopped early has no confusion matrix; it is skipped.")
    p.add_argument("trace", metavar="TRACE", help="a trace folder or packed .zip, or 'default'")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="the folder to write into (created)")
    p.add_argument("--step", type=int, metavar="N",
                   help="the training step for filters and probes (nearest snapshot; default: the last)")
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
    trace = Trace.open(resolve_trace(args.trace))
    if names is None:
        names = figure_names(trace)
        if "confusion" not in names:
            print(f"explainer: skipping confusion: {trace.path} has no test evaluation (the run stopped "
                  "before its end)", file=sys.stderr)
    for path in save_all(trace, args.out, formats=formats, step=args.step, names=names, dpi=args.dpi):
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
