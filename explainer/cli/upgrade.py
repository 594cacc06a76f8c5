"""``explainer upgrade``: copy a trace of an earlier schema into the current layout."""

from pathlib import Path

from ..trace import Trace
from ..trace.upgrade import upgrade_trace

__all__ = ["add_parser"]


def add_parser(subparsers):
    p = subparsers.add_parser(
        "upgrade", help="copy a trace recorded by an earlier explainer into the current layout",
        description="Copy a trace of an earlier schema version (1 to 3) into the current one, with checksums. "
                    "Every recorded number is copied as it is; the old trace is only read, never changed.")
    p.add_argument("trace", metavar="TRACE", help="the old trace (a folder or packed .zip)")
    p.add_argument("--out", type=Path, metavar="NEW", help="where the new trace goes (default: TRACE's name "
                   "with -v4, beside it); it must not exist yet")
    p.set_defaults(func=upgrade_command)


def upgrade_command(args):
    new = upgrade_trace(args.trace, args.out)
    trace = Trace.open(new).verify()
    print(f"upgraded {args.trace} into {new} ({trace.n_steps} steps, {trace.n_snapshots} snapshots, "
          f"{trace.status}); `explainer info {new}`")
    return 0
