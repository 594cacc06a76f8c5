"""``explainer info`` and ``explainer pack``: look at a trace, and pack one for sharing."""

import json
from pathlib import Path

from ..outputs import check_file_out
from ..trace import is_trace, open_trace, pack_trace

__all__ = ["add_parser"]


def add_parser(subparsers):
    p = subparsers.add_parser("info", help="summarise a recorded trace",
                              description="Summarise a trace: the run's settings, how far it got, how it ended.")
    p.add_argument("trace", metavar="TRACE", help="a trace folder or packed .zip, or 'default'")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
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
    s = trace.summary()
    if args.json:
        print(json.dumps(s))
        return 0
    t = s["training"]
    print(f"trace        {s['path']}  ({s['status']})")
    print(f"data         {s['dataset']}, images of {s['image_shape'][0]}x{s['image_shape'][1]}")
    print(f"network      {' -> '.join(map(str, s['sizes']))}  ({', '.join(s['activations'])})")
    print(f"training     {t['optimizer']}, lr {t['lr']:g}, batch {t['batch_size']}, {t['epochs']} epochs, "
          f"seed {t['seed']}")
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
        words = f"layer {i + 1}: {len(units)} of {s['sizes'][i + 1]}"
        if 0 < len(units) <= listed:
            words += f" ({', '.join(map(str, units))})"
        layers.append(words)
    return (f"{'; '.join(layers)}\n             (a = 0 for all {s['probe_size']} probe digits at step "
            f"{s['last_snapshot']})")


def pack_command(args):
    source = Path(args.trace)
    out = args.out if args.out is not None else source.with_name(source.name + ".zip")
    check_file_out(out, "--out", overwrite=args.force, kind="packed trace", is_kind=is_trace,
                   example=source.name + ".zip")
    out = pack_trace(source, out, overwrite=args.force)
    print(f"packed {args.trace} into {out} ({out.stat().st_size / 1e6:.1f} MB); open it with "
          f"`explainer info {out}`")
    return 0
