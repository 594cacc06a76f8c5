"""Print a SHA-256 of every array a trace holds (its committed rows), one line each.

    python tools/trace_hashes.py runs/demo/trace.zarr

Two recordings of the same seed must print the same lines (the epoch table's
``seconds`` column, wall-clock time, is left out). Reads the store with plain
Zarr, so it also reads traces of older schema versions; with ``--as DTYPE``
floating arrays are cast first (to compare a float64 run with an older trace
that kept its per-step numbers as float32).
"""

import argparse
import hashlib

import numpy as np
import zarr

COUNTED = {"steps": "steps", "snapshots": "snapshots", "epochs": "epochs"}


def arrays(group, prefix=""):
    for name, array in sorted(group.arrays()):
        yield prefix + name, array
    for name, sub in sorted(group.groups()):
        yield from arrays(sub, f"{prefix}{name}/")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trace")
    parser.add_argument("--as", dest="cast", metavar="DTYPE", help="cast floating arrays to DTYPE first")
    args = parser.parse_args()
    root = zarr.open_group(args.trace, mode="r")
    committed = root.attrs["committed"]
    for key, array in arrays(root):
        values = array[...]
        group = key.split("/")[0]
        if group in COUNTED and array.ndim:
            values = values[: committed[COUNTED[group]]]
        if key == "epochs/metrics":
            values = np.delete(values, list(array.attrs["columns"]).index("seconds"), axis=1)
        if args.cast and values.dtype.kind == "f":
            values = values.astype(args.cast)
        digest = hashlib.sha256(np.ascontiguousarray(values).tobytes()).hexdigest()[:16]
        print(f"{key:24s} {str(values.dtype):8s} {str(values.shape):22s} {digest}")


if __name__ == "__main__":
    main()
