"""When to take a full snapshot: dense early, where the filters change fastest.

A schedule is written as a short string, so that it fits on a command line and
in a trace's configuration:

``"log:N"``
    N steps spread log-uniformly from the first step to the last (the default,
    ``"log:64"``): steps 0, 1, 2, 3, 5, 8, ... then ever sparser.
``"every:N"``
    every N-th step, and the last.
``"epochs"``
    the first step of every epoch, and the last.
``"log:N+epochs"``
    the union of two schedules (any two, joined by ``+``).

Step 0 (the random initialisation) and the last step are always included.
"""

import numpy as np

__all__ = ["snapshot_steps", "DEFAULT_SCHEDULE"]

DEFAULT_SCHEDULE = "log:48+epochs"


def snapshot_steps(schedule, total_steps, steps_per_epoch):
    """The sorted, unique steps a schedule picks out of ``range(total_steps)``.

    >>> snapshot_steps("every:4", 10, 5).tolist()
    [0, 4, 8, 9]
    """
    if total_steps < 1:
        return np.zeros(0, dtype=np.int64)
    picked = {0, total_steps - 1}
    for part in str(schedule).split("+"):
        kind, _, arg = part.strip().partition(":")
        if kind == "epochs" and not arg:
            picked.update(range(0, total_steps, steps_per_epoch))
            continue
        if kind not in ("log", "every") or not arg.isdigit() or int(arg) < 1:
            raise ValueError(
                f"snapshot schedule must look like 'log:64', 'every:50', 'epochs' or a '+' of "
                f"them; got {schedule!r}"
            )
        n = int(arg)
        if kind == "every":
            picked.update(range(0, total_steps, n))
        else:
            # log-uniform in (step + 1), so that step 0 is representable
            picked.update(np.unique(np.geomspace(1, total_steps, n).round().astype(int) - 1).tolist())
    return np.array(sorted(s for s in picked if 0 <= s < total_steps), dtype=np.int64)
