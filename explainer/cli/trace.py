"""``explainer info`` and ``explainer pack``: look at a trace, and pack one for sharing.

``explainer info TRACE --probes`` lists the probe digits: each one's label,
the snapshots at which the network misread it (as ranges of consecutive
snapshots) and its guess at the last one, so that a teacher can choose one
for a scene without Python (:mod:`explainer.probe_choice`).
"""

import json
from pathlib import Path

from ..augment import Augment
from ..outputs import check_file_out
from ..probe_choice import misreadings
from ..trace import is_trace, open_trace, pack_trace

__all__ = ["add_parser"]


def add_parser(subparsers):
    p = subparsers.add_parser("info", help="summarise a recorded trace",
                              description="Summarise a trace: the run's settings, how far it got, how it ended.")
    p.add_argument("trace", metavar="TRACE", help="a trace folder or packed .zip, or 'default'")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.add_argument("--probes", action="store_true",
                   help="list the probe digits instead: each one's label, the snapshots at which the network "
                   "misread it, and its guess at the last one (to choose one for `explainer render --sample N`)")
    p.set_defaults(func=info_command)

    k = subparsers.add_parser("pack", help="pack a trace folder into one .zip file for sharing",
                              description="Pack a trace folder into one file, which opens read-only as it is.")
    k.add_argument("trace", metavar="TRACE", help="a trace folder")
    k.add_argument("--out", type=Path, metavar="FILE",
                   help="the packed file (default: TRACE.zip); its folder is made if missing")
    k.add_argument("--force", action="store_true",
                   help="replace an existing packed trace at --out (only a packed trace, never another file)")
    k.set_defaults(func=pack_command)


def info_command(args):
    trace = open_trace(args.trace)
    if args.probes:
        return probes_command(trace, args.json)
    s = trace.summary()
    if args.json:
        print(json.dumps(s))
        return 0
    t = s["training"]
    print(f"trace        {s['path']}  ({s['status']})")
    print(f"data         {s['dataset']}, images of {s['image_shape'][0]}x{s['image_shape'][1]}")
    if s.get("layers"):  # a CNN: its convolutions and pooling, then the dense widths
        shape = "x".join(map(str, s["image_shape"]))
        print(f"network      {' -> '.join([shape, *s['layers'], *map(str, s['sizes'][1:])])}  "
              f"({', '.join(s['activations'])})")
        print(f"feature maps of {s['feature_map_probes']} of the {s['probe_size']} probe digits (trace.map_probes)")
    else:
        print(f"network      {' -> '.join(map(str, s['sizes']))}  ({', '.join(s['activations'])})")
    print(f"training     {t['optimizer']}, lr {t['lr']:g}, batch {t['batch_size']}, {t['epochs']} epochs, "
          f"seed {t['seed']}")
    print(f"augmented    {Augment(**t['augment']) if t.get('augment') else 'none'}")
    print(f"recorded     {s['steps']} of {s['planned_steps']} steps, {s['epochs']} epochs, "
          f"{s['snapshots']} snapshots, {s['probe_size']} probe digits")
    if s["final_val_accuracy"] is not None:
        print(f"last epoch   train loss {s['final_train_loss']:.4f}, validation accuracy "
              f"{s['final_val_accuracy']:.4f}")
    if s["silent_units"]:
        print(f"silent units {_silent(s)}")
    if s["test_accuracy"] is not None:
        print(f"test         accuracy {s['test_accuracy']:.4f}")
    elif not trace.complete:
        print("test         none: the run stopped before its end")
    return 0


def _silent(s, listed=8):
    """The hidden units that were 0 for every probe digit at the last snapshot, layer by layer."""
    layers = []
    for i, units in enumerate(s["silent_units"]):
        words = f"layer {i + 1}: {len(units)} of {s['units'][i]}"
        if 0 < len(units) <= listed:
            words += f" ({', '.join(map(str, units))})"
        layers.append(words)
    maps = f"; a convolution's channels: for the {s['feature_map_probes']} with maps" if s.get("layers") else ""
    return (f"{'; '.join(layers)}\n             (a = 0 for all {s['probe_size']} probe digits{maps} at step "
            f"{s['last_snapshot']})")


def probes_command(trace, as_json=False):
    """``explainer info TRACE --probes``: a table of the probe digits, or one JSON object."""
    rows = misreadings(trace)
    steps = trace.snapshot_steps
    last = int(steps[-1])
    if as_json:
        print(json.dumps({"path": str(trace.path), "snapshots": len(steps), "snapshot_steps": steps.tolist(),
                          "last_snapshot": last, "probes": rows}))
        return 0
    print(f"probe digits of {trace.path}: {len(rows)}, their guesses at {len(steps)} snapshots (steps 0 to {last})")
    print("misread: the snapshot steps at which the guess was not the label; 0-40 is every snapshot from step 0 to 40")
    print()
    print(f"{'probe':>5}  {'label':>5}  {f'guess at step {last}':<22}  misread")
    for r in rows:
        verdict = "" if r["last_guess"] == r["label"] else ", wrong"
        guess = f"{r['last_guess']} ({r['last_confidence']:.0%}{verdict})"
        where = "step" if r["misread"].isdigit() else "steps"  # one snapshot, or more
        misread = (f"at {where} {r['misread']} ({r['misread_snapshots']} of {len(steps)} snapshots)"
                   if r["misread_snapshots"] else "never")
        print(f"{r['index']:>5}  {r['label']:>5}  {guess:<22}  {misread}")
    wrong = [str(r["index"]) for r in rows if r["last_guess"] != r["label"]]
    print()
    print(f"misread at the last snapshot: {', '.join(wrong) if wrong else 'none'}")
    print(f"show one: explainer render ForwardPass --trace {trace.path} --sample N  (or --digit D: the first "
          "probe digit of class D)")
    return 0


def pack_command(args):
    source = Path(args.trace)
    out = args.out if args.out is not None else source.with_name(source.name + ".zip")
    check_file_out(out, "--out", overwrite=args.force, kind="packed trace", is_kind=is_trace,
                   example=source.name + ".zip")
    out = pack_trace(source, out, overwrite=args.force)
    print(f"packed {args.trace} into {out} ({out.stat().st_size / 1e6:.1f} MB); open it with "
          f"`explainer info {out}`")
    return 0
