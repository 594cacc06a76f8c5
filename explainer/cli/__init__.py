"""The ``explainer`` command.

Each subcommand lives in its own module with an ``add_parser(subparsers)``
function that registers it and sets ``func``, the handler, which returns the
exit status. User mistakes surface as one line, ``explainer: error: ...``,
with exit status 2; set ``EXPLAINER_DEBUG=1`` to see the full traceback.
"""

import argparse
import os
import sys

from .. import __version__
from ..errors import ExplainerError

__all__ = ["main", "build_parser"]


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, with a pointer to --help."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser():
    from . import compare, compare_runs, data, export, landscape, lecture, plot, predict, render, trace, train, upgrade

    parser = Parser(
        prog="explainer",
        description="Train a from-scratch NumPy network on digits and record how it learns.",
    )
    parser.add_argument("--version", action="version", version=f"explainer {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=Parser)
    for module in (train, trace, plot, render, lecture, landscape, data, upgrade, predict, export, compare,
                   compare_runs):
        module.add_parser(subparsers)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return args.func(args) or 0
    except KeyboardInterrupt:
        print("explainer: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `explainer info ... | head`: the reader left, which is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (ExplainerError, ValueError, TypeError, OSError, RuntimeError, MemoryError) as e:
        if os.environ.get("EXPLAINER_DEBUG"):
            raise
        print(f"explainer: error: {_one_line(e)}", file=sys.stderr)
        return 2


def _one_line(error):
    """The message of an error the checks did not foresee, on one line, naming the file an OSError is about."""
    if isinstance(error, MemoryError):
        return ("ran out of memory: choose a smaller network (--hidden), fewer epochs (--epochs) or fewer "
                "snapshots (--schedule)")
    if isinstance(error, OSError) and not isinstance(error, ExplainerError) and error.strerror:
        where = f"{error.filename}: " if error.filename is not None else ""
        return f"{where}{error.strerror}"
    return " ".join(str(error).split()) or type(error).__name__


if __name__ == "__main__":
    sys.exit(main())
