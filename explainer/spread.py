"""How each layer's weights W and gradients dW are spread at every snapshot, and the filters' colour range.

TrainingDashboard draws a histogram of each layer's W and of log10 |dW| at
the step shown, and colours the filters on the run's one range
(:func:`explainer.filter_range`). Both need every snapshot, and reading every
snapshot of a 15-epoch MNIST run takes seconds; so :func:`run_spread` reads
them once and keeps the result beside a finished trace
(``runs/a.zarr`` -> ``runs/a.zarr.dashboard/``), checked against the trace
before it is trusted (:mod:`explainer.landscape_cache`'s rules: the key, every
array's SHA-256, an atomic write, a warning and no cache where nothing can be
written). A trace still being recorded is read afresh every time.

Gradients of exactly 0 have no logarithm, and the tiniest would pile up in
the first bin as a spike nothing explains: both are counted apart, in
``small``, the share of each layer's gradients left out of its bars. Exact
zeros come from silent units (a = 0, so no gradient reaches their weights)
and from pixels that are never inked (x = 0, so dW = delta x^T is 0).
"""

import time
from dataclasses import dataclass

import numpy as np

from .filters import filter_range
from .landscape_cache import cached

__all__ = ["Spread", "run_spread", "BINS", "DECADES"]

BINS = 50  # histogram bins per layer
DECADES = 8  # the gradient histograms span at most this many powers of ten; smaller gradients are counted apart
_VERSION = 1  # of what is cached: a change of the rules below makes old files stale


@dataclass(frozen=True)
class Spread:
    """Per layer ``i``: ``W_edges[i]`` (BINS + 1,) and ``W_counts[i]`` (n_snap, BINS), the same for
    ``dW`` over log10 |dW|, and ``small[i]`` (n_snap,): the share of its gradients that are 0 or left of
    the first bin. ``vmax``: the first layer's colour range, as :func:`explainer.filter_range` gives it.
    ``note``: computed, or read from where."""

    steps: np.ndarray
    vmax: float
    W_edges: list
    W_counts: list
    dW_edges: list
    dW_counts: list
    small: list
    note: str = ""


def run_spread(trace, use_cache=True):
    """The :class:`Spread` of ``trace``'s snapshots: read from the cache beside a finished trace, or computed
    (reading every snapshot's weights and gradients twice) and cached."""
    steps = np.asarray(trace.snapshot_steps, dtype=np.int64)
    if not len(steps):
        raise ValueError(f"{trace.path} holds no snapshot yet: nothing to scrub through")
    n = trace.n_layers
    entry = cached(trace, int(steps[-1]), "spread", f"{BINS}bins",
                   {"bins": BINS, "decades": DECADES, "rules": _VERSION},
                   use_cache=use_cache and trace.complete, folder=".dashboard")
    fields, note = entry.read(), entry.note
    if fields is None:
        began = time.perf_counter()
        fields = _compute(trace, steps)
        fields["seconds"] = time.perf_counter() - began
        _, note = entry.write(fields)
    return Spread(steps=steps, vmax=float(fields["vmax"]),
                  W_edges=[fields[f"W_edges{i}"] for i in range(n)], W_counts=[fields[f"W_counts{i}"] for i in range(n)],
                  dW_edges=[fields[f"dW_edges{i}"] for i in range(n)],
                  dW_counts=[fields[f"dW_counts{i}"] for i in range(n)],
                  small=[fields[f"small{i}"] for i in range(n)], note=note)


def _compute(trace, steps):
    n = trace.n_layers
    top_W = np.zeros(n)  # per layer: the largest 99.9th percentile of |W| at any snapshot
    lo, hi = np.full(n, np.inf), np.full(n, -np.inf)  # per layer: the range of log10 |dW|
    for s in steps:  # pass 1: the ranges
        weights = trace.weights(int(s), exact=True)
        for i, (W, _) in enumerate(weights):
            top_W[i] = max(top_W[i], float(np.quantile(np.abs(W), 0.999)))  # the bins span (nearly) every weight
        for i, (dW, _) in enumerate(trace.gradients(int(s), exact=True)):
            sizes = _log_sizes(dW)
            if sizes.size:
                lo[i], hi[i] = min(lo[i], float(np.percentile(sizes, 1))), max(hi[i], float(sizes.max()))
    fields = {"vmax": filter_range(trace)}  # the run's one colour range: the filters' own rule (and cache)
    W_edges = [np.linspace(-(t or 1.0), t or 1.0, BINS + 1) for t in top_W]
    dW_edges = []
    for low, high in zip(lo, hi):
        if not np.isfinite(high):  # no gradient at all
            low, high = -8.0, 0.0
        low = max(low, high - DECADES)
        dW_edges.append(np.linspace(low, max(high, low + 1), BINS + 1))
    W_counts, dW_counts, small = ([[] for _ in range(n)] for _ in range(3))
    for s in steps:  # pass 2: the counts
        for i, (W, _) in enumerate(trace.weights(int(s), exact=True)):
            W_counts[i].append(_histogram(W, W_edges[i]))
        for i, (dW, _) in enumerate(trace.gradients(int(s), exact=True)):
            sizes = _log_sizes(dW)  # (n_nonzero,)
            kept = sizes[sizes >= dW_edges[i][0]]
            dW_counts[i].append(_histogram(kept, dW_edges[i]))
            small[i].append(1 - kept.size / max(dW.size, 1))
    for i in range(n):
        fields[f"W_edges{i}"], fields[f"W_counts{i}"] = W_edges[i], np.stack(W_counts[i])
        fields[f"dW_edges{i}"], fields[f"dW_counts{i}"] = dW_edges[i], np.stack(dW_counts[i])
        fields[f"small{i}"] = np.asarray(small[i], dtype=np.float64)
    return fields


def _log_sizes(dW):
    """log10 |dW| of the non-zero gradients (a zero has no logarithm: a unit or pixel that did not learn)."""
    return np.log10(np.abs(dW[dW != 0]))


def _histogram(values, edges):
    """Counts of ``values`` in the evenly spaced ``edges``, values outside counted in the end bins.

    Given as a count and a range, NumPy bins evenly spaced edges without sorting.
    """
    lo, hi = edges[0], edges[-1]
    return np.histogram(np.clip(values, lo, hi), len(edges) - 1, (lo, hi))[0]
