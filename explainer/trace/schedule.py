"""When to take a full snapshot: dense early, where the filters change fastest.

A schedule is written as a short string, so that it fits on a command line and
in a trace's configuration:

``"log:N"``
    N steps spread log-uniformly from the first step to the last (the default,
    ``"log:64"``): steps 0, 1, 2, 3, 5, 8, ... then ever sparser. With N at
    least the run's number of steps, every step.
``"every:N"``
    every N-th step, and the last.
``"epochs"``
    the first step of every epoch, and the last.
``"log:N+epochs"``
    the union of two schedules (any two, joined by ``+``).

Step 0 (the random initialisation) and the last step are always included.
:func:`count_snapshots` says how many steps a schedule picks at most without
listing them, so that a run too large to record is refused before it starts
(see :mod:`explainer.budget`).
"""

import math

import numpy as np

__all__ = ["snapshot_steps", "count_snapshots", "check_count", "DEFAULT_SCHEDULE", "MAX_SNAPSHOTS"]

DEFAULT_SCHEDULE = "log:48+epochs"

# More snapshots than this is never a useful trace (each one holds every weight and
# gradient), and listing them alone would take hundreds of megabytes.
MAX_SNAPSHOTS = 10_000_000


def snapshot_steps(schedule, total_steps, steps_per_epoch, name="snapshot schedule"):
    """The sorted, unique steps a schedule picks out of ``range(total_steps)``.

    ``name`` is what the schedule is called in error messages (``"--schedule"``
    on the command line).

    >>> snapshot_steps("every:4", 10, 5).tolist()
    [0, 4, 8, 9]
    """
    check_count(schedule, total_steps, steps_per_epoch, name)
    if total_steps < 1:
        return np.zeros(0, dtype=np.int64)
    picked = [np.array([0, total_steps - 1], dtype=np.int64)]
    for kind, arg in _parts(schedule, name):
        if kind == "epochs":
            picked.append(np.arange(0, total_steps, steps_per_epoch, dtype=np.int64))
        elif kind == "every":
            picked.append(np.arange(0, total_steps, arg, dtype=np.int64))
        elif arg >= total_steps:  # log:N with N >= the run's steps: every step
            picked.append(np.arange(total_steps, dtype=np.int64))
        else:  # log-uniform in (step + 1), so that step 0 is representable
            picked.append(np.geomspace(1, total_steps, arg).round().astype(np.int64) - 1)
    steps = np.unique(np.concatenate(picked))
    return steps[(steps >= 0) & (steps < total_steps)]


def count_snapshots(schedule, total_steps, steps_per_epoch, name="snapshot schedule"):
    """At most how many steps ``schedule`` picks (each part counted alone), without listing them.

    >>> count_snapshots("log:48+epochs", 1200, 40)   # 2 + 48 + 30; the parts share a few steps
    80
    """
    parts = _parts(schedule, name)
    if total_steps < 1:
        return 0
    n = 2  # step 0 and the last
    for kind, arg in parts:
        if kind == "epochs":
            n += math.ceil(total_steps / steps_per_epoch)
        elif kind == "every":
            n += math.ceil(total_steps / arg)
        else:
            n += min(arg, total_steps)
    return min(n, total_steps)


def check_count(schedule, total_steps, steps_per_epoch, name="snapshot schedule"):
    """:func:`count_snapshots`, or a ValueError if that is more than :data:`MAX_SNAPSHOTS`."""
    n = count_snapshots(schedule, total_steps, steps_per_epoch, name)
    if n > MAX_SNAPSHOTS:
        raise ValueError(f"{name} {schedule!r} would take up to {n:,} snapshots of this run of "
                         f"{total_steps:,} steps, more than a trace holds ({MAX_SNAPSHOTS:,}): choose a "
                         "sparser one, like log:64")
    return n


def _parts(schedule, name):
    """``"log:48+epochs"`` -> ``[("log", 48), ("epochs", None)]``, or a ValueError saying how to write one."""
    parts = []
    for part in str(schedule).split("+"):
        kind, _, arg = part.strip().partition(":")
        if kind == "epochs" and not arg:
            parts.append((kind, None))
        elif kind in ("log", "every") and arg.isascii() and arg.isdigit() and int(arg) >= 1:
            parts.append((kind, int(arg)))
        else:
            raise ValueError(f"{name} must look like 'log:64', 'every:50', 'epochs' or a '+' of them; "
                             f"got {schedule!r}")
    return parts
