"""How far a recorded run got, read from a trace's root attributes and checked.

:mod:`explainer.trace.run` reads what a run was (its settings, fixed when it
started); this module reads what changes as it runs: its status, the rows
committed so far, the checksum of every committed chunk, the ``edges`` (each
array's last committed chunk: how many rows were written into it and their
CRC32C) and, once it has finished, its test loss and accuracy. Each is checked
against the others and against the run's settings; anything that does not
fit is a :class:`~explainer.trace.run.TraceError`.
"""

from dataclasses import dataclass

from .run import STATUSES, TraceError
from .schema import COMMITTED_BY, layout

__all__ = ["Progress", "read_progress"]


@dataclass(frozen=True)
class Progress:
    """A trace's status and committed rows (see :func:`read_progress`)."""

    status: str  # "running" (killed, or still going), "interrupted", "complete"
    committed: dict  # rows on disk and committed: {"steps": ..., "snapshots": ..., "epochs": ...}
    checksums: dict  # array -> the CRC32C each committed chunk ends with, as 8 hex digits
    edges: dict  # array -> [its last committed chunk, rows written in it, their CRC32C]
    evaluation: dict  # test_loss, test_accuracy, n_test; None unless complete

    def rows(self, key, spec):
        """How many rows of the array ``key`` (laid out as ``spec``) are real."""
        for group, keys in COMMITTED_BY.items():
            if key in keys:
                return self.committed[group]
        return spec.shape[0] if spec.shape else 1


def read_progress(attrs, run, path):
    """The :class:`Progress` of a trace of ``run`` whose root attributes are ``attrs``."""

    def damaged(what):
        return TraceError(f"{path} is a damaged trace: {what}; record it again")

    status = attrs.get("status")
    if status not in STATUSES:
        raise damaged(f"its status is {status!r}, not one of {', '.join(STATUSES)}")
    limits = {"steps": run.total_steps, "snapshots": len(run.planned_snapshots), "epochs": run.training.epochs}
    committed = attrs.get("committed")
    if not isinstance(committed, dict) or set(committed) != set(limits):
        raise damaged(f"its committed counts are {committed!r}")
    for name, limit in limits.items():
        n = committed[name]
        if not (isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= limit
                and (status != "complete" or n == limit)):
            raise damaged(f"it claims {n!r} committed {name} of the {limit} planned")
    checksums = attrs.get("checksums")
    if not isinstance(checksums, dict):
        raise damaged(f"its checksums are {checksums!r}")

    evaluation = attrs.get("evaluation")
    if status == "complete":
        ok = (isinstance(evaluation, dict) and set(evaluation) == {"test_loss", "test_accuracy", "n_test"}
              and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in evaluation.values())
              and isinstance(evaluation["n_test"], int) and evaluation["n_test"] >= 0)
        if not ok:
            raise damaged(f"its evaluation is {evaluation!r}")
        evaluation = {"test_loss": float(evaluation["test_loss"]),
                      "test_accuracy": float(evaluation["test_accuracy"]), "n_test": evaluation["n_test"]}
    elif evaluation is not None:
        raise damaged(f"it holds a test evaluation, but its status is {status!r}")

    # each array's last committed chunk holds exactly the rows its count says were written
    edges, specs = attrs.get("edges"), layout(run)
    if not isinstance(edges, dict):
        raise damaged(f"its edges are {edges!r}")
    checked = {}
    for group, keys in COMMITTED_BY.items():
        for key in filter(specs.__contains__, keys):
            rows, per_chunk = committed[group], specs[key].chunks[0]
            if rows == 0:
                continue
            index = (rows - 1) // per_chunk
            edge = edges.get(key)
            if not (isinstance(edge, list) and len(edge) == 3 and edge[:2] == [index, rows - index * per_chunk]
                    and isinstance(edge[2], str)):
                raise damaged(f"the committed rows of '{key}' ({rows}) are not the rows that were written ({edge!r})")
            checked[key] = edge
    return Progress(status=status, committed=dict(committed), checksums=checksums, edges=checked,
                    evaluation=evaluation)
