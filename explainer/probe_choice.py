"""Choosing a probe digit to show: the first one of a class, and when the network misread each.

The probe digits are a fixed set of validation digits whose pass was recorded
at every snapshot. A teacher picks one for a scene by its class
(``explainer render ForwardPass --digit 3``: :func:`probe_of_class`) or by
its index, after reading which digits the network got wrong, and when
(``explainer info TRACE --probes``: :func:`misreadings`)::

    trace = open_trace("runs/mnist.zarr")
    sample, others = probe_of_class(trace, 3)     # the first probe digit labelled 3, and the other 3s
    rows = misreadings(trace)                     # per probe digit: its label, the snapshots it was misread at
    rows[0]["misread"]                            # "0-40, 200": at every snapshot from step 0 to 40, and at 200

A digit is *misread* at a snapshot when the class with the largest output
``a`` (the network's guess) is not its label. The guesses are read through
the trace's reader, one ``probe_record`` per snapshot.
"""

import numpy as np

__all__ = ["probe_of_class", "probe_guesses", "misreadings", "step_ranges"]


def probe_of_class(trace, digit, name="digit"):
    """The first probe digit labelled ``digit``, and the indices of the others: ``(sample, others)``.

    ``name`` is how the user gave the class (``"--digit"``, ``"EXPLAINER_DIGIT"``)
    for the error: a class no probe digit has raises ValueError naming the
    classes there are.
    """
    if isinstance(digit, bool) or not isinstance(digit, (int, np.integer)):
        raise ValueError(f"{name} must be a whole number, the class of a digit (such as 3); got {digit!r}")
    labels = np.asarray(trace.probe_labels)  # (n_probe,)
    where = np.flatnonzero(labels == digit)
    if not len(where):
        present = ", ".join(map(str, sorted(set(labels.tolist()))))
        raise ValueError(f"{name} {digit}: none of the probe digits of {trace.path.name} is labelled {digit}; "
                         f"their classes are {present} (`explainer info {trace.path} --probes` lists them)")
    return int(where[0]), [int(i) for i in where[1:]]


def probe_guesses(trace):
    """Every snapshot's guess for every probe digit: ``(steps, guesses, confidence)``.

    ``steps`` (n_snap,) are the snapshot steps; ``guesses[k, i]`` (n_snap,
    n_probe) is the class with the largest output ``a`` for probe digit ``i``
    at snapshot ``k``, and ``confidence[k, i]`` that ``a``. A trace without a
    snapshot raises the reader's TraceError.
    """
    steps = np.asarray(trace.snapshot_steps)  # (n_snap,)
    if not len(steps):
        trace.snapshot_index(0)  # the reader's own error: "... holds no snapshot yet ..."
    probabilities = np.stack([trace.probe_record(int(s), exact=True).probabilities
                              for s in steps])  # (n_snap, n_probe, n_classes)
    guesses = probabilities.argmax(axis=2)  # (n_snap, n_probe)
    confidence = np.take_along_axis(probabilities, guesses[..., None], axis=2)[..., 0]  # (n_snap, n_probe)
    return steps, guesses, confidence


def step_ranges(steps, chosen):
    """The snapshot steps where ``chosen`` holds, as ranges of consecutive snapshots: ``[(first, last), ...]``.

    >>> step_ranges([0, 10, 20, 30, 40], [True, True, False, False, True])
    [(0, 10), (40, 40)]
    """
    steps, chosen = np.asarray(steps), np.asarray(chosen, dtype=bool)
    ranges, start = [], None
    for k, (step, on) in enumerate(zip(steps.tolist(), chosen.tolist())):
        if on and start is None:
            start = step
        if start is not None and (not on or k == len(steps) - 1):
            ranges.append((start, step if on else int(steps[k - 1])))
            start = None
    return ranges


def _ranges_text(ranges):
    """``[(0, 40), (200, 200)]`` -> ``"0-40, 200"``."""
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in ranges)


def misreadings(trace):
    """Per probe digit, its label and the snapshots at which the network misread it: a list of dicts.

    Each holds ``index``, ``label``, ``last_guess`` and ``last_confidence``
    (the guess at the last snapshot and its output ``a``), ``misread_steps``
    (every snapshot step with a wrong guess), ``misread`` (the same as ranges
    of consecutive snapshots, ``"0-40, 200"``; ``""`` if never) and
    ``misread_snapshots`` (how many).
    """
    steps, guesses, confidence = probe_guesses(trace)
    rows = []
    for i, label in enumerate(np.asarray(trace.probe_labels).tolist()):
        wrong = guesses[:, i] != label  # (n_snap,)
        rows.append({
            "index": i,
            "label": int(label),
            "last_guess": int(guesses[-1, i]),
            "last_confidence": round(float(confidence[-1, i]), 4),
            "misread_snapshots": int(wrong.sum()),
            "misread": _ranges_text(step_ranges(steps, wrong)),
            "misread_steps": steps[wrong].astype(int).tolist(),
        })
    return rows
