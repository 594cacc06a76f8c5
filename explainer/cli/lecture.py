"""``explainer lecture``: one run becomes a lecture folder (see :mod:`explainer.lecture.build`).

::

    explainer lecture                                  # the default 8x8 trace, -ql, into runs/lecture
    explainer lecture --trace runs/mnist.zarr --out runs/mnist-lecture -q h --digit 7
    explainer lecture --step 200                       # every chapter at the snapshot nearest step 200

Every choice is checked before the first render; each chapter says when it
starts and how long it took; a second run renders only what changed;
Ctrl-C keeps every chapter that finished.
"""

import sys
from pathlib import Path

from .render import QUALITY

__all__ = ["add_parser", "lecture_command"]


def add_parser(subparsers):
    p = subparsers.add_parser(
        "lecture", help="render the chapters of one run as one lecture: slides with notes, videos, a handout",
        description="Render the chapters of one run in lecture order into one folder: one offline slide deck "
                    "with speaker notes (deck/index.html), PowerPoint, the chapter videos, the figures, a handout "
                    "that prints to PDF, and index.html linking them. A second run renders only what changed.")
    p.add_argument("--trace", default="default", metavar="TRACE",
                   help="a trace folder or packed .zip, or 'default' (the 8x8 default run; the default)")
    p.add_argument("--out", type=Path, default=Path("runs/lecture"), metavar="DIR",
                   help="the lecture's folder: new, empty, or an earlier lecture (default: runs/lecture)")
    p.add_argument("-q", "--quality", choices=list(QUALITY), default="l",
                   help="l: 480p15 (default, quick), m: 720p30, h: 1080p60 (for the classroom)")
    p.add_argument("--digit", type=int, metavar="D",
                   help="the chapters that follow one probe digit follow the first one of class D")
    p.add_argument("--sample", type=int, metavar="N", help="... or probe digit N (see explainer info --probes)")
    p.add_argument("--step", type=int, metavar="S",
                   help="show every chapter at the snapshot nearest step S (default: each chapter's own)")
    p.add_argument("--pace", choices=["lecture", "preview"], default="lecture",
                   help="lecture: a 2 s hold after each phase (default); preview: none, for a quick look")
    p.add_argument("--no-pptx", action="store_true", help="skip the PowerPoint file")
    p.add_argument("--progress", action="store_true", help="show Manim's own progress bars")
    p.set_defaults(func=lecture_command)


def lecture_command(args):
    from ..lecture.build import LECTURE, build_lecture, finished_chapters

    if args.digit is not None and args.sample is not None:
        raise ValueError("choose --digit or --sample, not both")
    try:
        result = build_lecture(args.trace, args.out, quality=args.quality, digit=args.digit, sample=args.sample,
                               step=args.step, pace=args.pace, say=lambda line: print(line, flush=True),
                               progress=args.progress, pptx=not args.no_pptx)
    except KeyboardInterrupt:
        done = finished_chapters(args.out)
        print(f"explainer: stopped; {len(done)} of {len(LECTURE)} chapters are finished in {args.out} and kept: "
              "run the same command again to go on", file=sys.stderr)
        return 130
    rendered = sum(1 for state, _ in result.chapters.values() if state == "rendered")
    print(f"\nlecture      {result.index}  ({rendered} chapters rendered, {len(LECTURE) - rendered} unchanged)")
    print(f"slides       {result.deck}  (arrow keys; S: speaker notes; works offline)")
    print(f"handout      {result.handout}  (print it to PDF from the browser)")
    if result.pptx is not None:
        print(f"powerpoint   {result.pptx}")
    return 0
