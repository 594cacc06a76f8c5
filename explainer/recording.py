"""Where a recorder plugs into training.

:func:`explainer.training.fit` calls a recorder at fixed moments of every run.
The trace recorder (``explainer.trace``) writes what it is given to disk; the
:class:`NullRecorder`, the default, does nothing and costs nothing.

The order within one training step ``s`` is::

    a = net.forward(x_batch); net.backward(y_batch)     # every layer has z, a, delta, dW, db
    if recorder.wants_snapshot(s):
        recorder.record_snapshot(s, net)                # weights *before* step s's update,
                                                        # and step s's gradients
    updates = optimizer.update(net.params, net.grads)
    recorder.record_step(s, net, scalars, updates)      # loss, accuracy, lr, ...

Steps count from 0. ``record_snapshot`` may call ``net.inspect(...)`` on its
probe images: that leaves the training batch's caches and gradients intact.
"""

from typing import Protocol

__all__ = ["Recorder", "NullRecorder"]


class Recorder(Protocol):
    """What ``fit`` needs from a recorder."""

    def start(self, *, config, net, data, total_steps, steps_per_epoch):
        """Called once before the first step. ``config`` is the run's JSON-able
        description; ``data`` the :class:`explainer.data.Dataset`."""

    def wants_snapshot(self, step) -> bool:
        """Whether step ``step`` should be recorded in full."""

    def record_snapshot(self, step, net):
        """Record weights, this step's gradients, and the probe set's pass."""

    def record_step(self, step, net, scalars, updates):
        """Record the step's scalars (a dict: epoch, loss, accuracy, lr) and
        the parameter updates the optimiser applied (aligned with ``net.params``)."""

    def record_epoch(self, epoch, step, metrics):
        """Record one epoch's metrics (train/val loss and accuracy)."""

    def finish(self, evaluation):
        """Record the final evaluation (test accuracy, confusion matrix, predictions)."""

    def close(self):
        """Flush and release; calling it twice is harmless."""


class NullRecorder:
    """Records nothing. ``fit`` uses it when no recorder is given."""

    def start(self, **run):
        pass

    def wants_snapshot(self, step):
        return False

    def record_snapshot(self, step, net):
        pass

    def record_step(self, step, net, scalars, updates):
        pass

    def record_epoch(self, epoch, step, metrics):
        pass

    def finish(self, evaluation):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
