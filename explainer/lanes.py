"""Micro-batches: how a convolutional layer cuts a batch, and on how many threads it works through them.

A batch is cut into micro-batches of :data:`MICRO_BATCH` images, small enough
that one micro-batch's patches and maps stay in a core's cache. Their
products are small, so BLAS multiplies each on one thread: with two, on a
busy two-core machine, its threads waited for each other and an 8x8 CNN's
step took 15 times longer. Instead, the micro-batches themselves are shared
out over *lanes*, as many as BLAS was allowed threads when the network's pass
began (``threadpoolctl.threadpool_limits(1)`` or ``OPENBLAS_NUM_THREADS=1``
for one): lane ``t`` takes micro-batches ``t``, ``t + lanes``, ... Each
micro-batch writes only its own rows, and the gradients of the micro-batches
are added up in their order afterwards, so a run gives the same numbers, to
the bit, on any number of lanes.
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from threadpoolctl import ThreadpoolController

__all__ = ["MICRO_BATCH", "MAX_LANES", "micro_batches", "one_blas_thread", "lanes_for", "in_lanes"]

MICRO_BATCH = 16  # images per micro-batch: the patches of 16 MNIST digits take about 1 MB
MAX_LANES = 8

_controller = None
_state = threading.local()  # per thread: how deep in one_blas_thread, and the lanes its outermost call found
_pools = {}


def micro_batches(n):
    """The slices of a batch of ``n`` images, :data:`MICRO_BATCH` at a time."""
    return [slice(s, s + MICRO_BATCH) for s in range(0, n, MICRO_BATCH)]


@contextmanager
def one_blas_thread():
    """NumPy's BLAS on one thread inside; the threads it was allowed become the lanes of :func:`in_lanes`."""
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    depth = getattr(_state, "depth", 0)
    if depth == 0:
        allowed = [lib["num_threads"] for lib in _controller.select(user_api="blas").info()]
        _state.lanes = max(1, min(allowed or [1], default=1))
    _state.depth = depth + 1
    try:
        with _controller.limit(limits=1, user_api="blas"):
            yield
    finally:
        _state.depth = depth


def lanes_for(count):
    """How many lanes :func:`in_lanes` shares ``count`` micro-batches over, on this thread, now."""
    return max(1, min(getattr(_state, "lanes", 1), count, MAX_LANES))


def in_lanes(count, work):
    """Run ``work(i, lane)`` for the micro-batches ``i`` of ``range(count)``: in order here, or over the lanes.

    ``lane`` (from 0 to ``lanes_for(count) - 1``) names the lane, for a buffer of its own.
    """
    lanes = lanes_for(count)
    if lanes == 1:
        for i in range(count):
            work(i, 0)
        return
    pool = _pools.get(lanes)
    if pool is None:
        pool = _pools[lanes] = ThreadPoolExecutor(lanes, thread_name_prefix="explainer-lane")

    def lane(t):
        for i in range(t, count, lanes):
            work(i, t)

    for future in [pool.submit(lane, t) for t in range(lanes)]:
        future.result()  # waits, and raises what a lane raised
