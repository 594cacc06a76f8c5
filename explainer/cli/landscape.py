"""``explainer landscape``: compute a trace's loss landscape at a step, and cache it beside the trace.

GradientDescent draws the landscape through the weights of one snapshot and
the loss along that snapshot's batch gradient (:mod:`explainer.landscape`); the
first render of a step computes them (seconds on 8x8, under a minute on
MNIST). This command computes them ahead, with a progress bar, and says where
they were cached::

    explainer landscape runs/mnist.zarr --step 600
    explainer landscape default --directions random --resolution 31
"""

import sys
import warnings

from ..landscape import DIGITS, DIRECTIONS, N_DIGITS, RESOLUTION, landscape, lr_slice
from ..trace import open_trace

__all__ = ["add_parser"]


def add_parser(subparsers):
    p = subparsers.add_parser(
        "landscape", help="compute a trace's loss landscape at a step (cached beside the trace, for GradientDescent)",
        description="Compute the network's loss over a plane through the weights of one snapshot, the recorded "
                    "snapshots projected onto it, and the loss along that snapshot's batch gradient; cache them "
                    "beside the trace (TRACE.landscapes/), where GradientDescent reads them.")
    p.add_argument("trace", metavar="TRACE", help="a trace folder or packed .zip, or 'default'")
    p.add_argument("--step", type=int, metavar="N",
                   help="a training step; the nearest snapshot is used (default: the one GradientDescent shows "
                   "by default, 10%% of the way through training)")
    p.add_argument("--resolution", type=int, default=RESOLUTION, metavar="N",
                   help=f"grid points along each axis, 3 to 201 (default: {RESOLUTION}, as GradientDescent draws)")
    p.add_argument("--directions", default="pca", metavar="NAME",
                   help="pca: the first two principal directions of the recorded trajectory (default); random: "
                   "filter-normalised random directions")
    p.add_argument("--digits", default="train", metavar="NAME",
                   help=f"train: a fixed subset of up to {N_DIGITS:,} of the run's training digits (default); "
                   "probe: the trace's probe digits")
    p.add_argument("--seed", type=int, default=0, metavar="N",
                   help="chooses the training digits and the random directions (default: 0)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=landscape_command)


def landscape_command(args):
    from ..chapters.descent import default_step

    for name, table in (("--directions", DIRECTIONS), ("--digits", DIGITS)):
        value = getattr(args, name[2:])
        if value not in table:
            raise ValueError(f"{name} must be one of {', '.join(table)}; got {value!r}")
    if not 3 <= args.resolution <= 201:
        raise ValueError(f"--resolution must be a whole number from 3 to 201; got {args.resolution}")
    trace = open_trace(args.trace)
    step = trace.check_step(args.step, "--step") if args.step is not None else default_step(trace)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        land = landscape(trace, step, directions=args.directions, resolution=args.resolution, digits=args.digits,
                         seed=args.seed, progress=not args.quiet)
        cut = lr_slice(trace, step, digits=args.digits, seed=args.seed)
    for warning in caught:  # the probe digits used, or a cache folder that could not be written: one line each
        print(f"explainer: note: {' '.join(str(warning.message).split())}", file=sys.stderr)
    print(f"landscape    step {land.step}, {land.resolution} x {land.resolution} points, {args.directions} "
          f"directions, on {land.digits}")
    if args.directions == "pca":
        print(f"directions   the path's 1st and 2nd principal directions hold {land.explained[0]:.0%} and "
              f"{land.explained[1]:.0%} of it")
    print(f"loss         {land.loss.min():.4g} to {land.loss.max():.4g} over the plane; snapshots at most "
          f"{land.off_plane.max():.3g} off it")
    print(f"cache        {land.note}")
    over = (f"first higher at x{cut.multipliers[cut.overshoot]:g}" if cut.overshoot is not None
            else f"none higher up to x{cut.multipliers[-1]:g}")
    print(f"slice        plain steps of 1, 2, 5, ... x lr {cut.lr:g} along |g| = {cut.grad_norm:.3g}: {over}")
    print(f"cache        {cut.note}")
    return 0
