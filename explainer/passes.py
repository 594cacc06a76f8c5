"""One pass through the network, forward and back, as numbers: the type the network and the trace share.

``Network.inspect(x, labels)`` returns one for any batch; a trace's
``probe_record(step)`` returns the probe digits' one at a snapshot. Layer ``i``
(0 is the first hidden layer) has ``z[i]``, ``a[i]`` and ``delta[i]``, each
(batch, n_out); ``probabilities`` is the output layer's ``a``.
"""

from dataclasses import dataclass

__all__ = ["Pass"]


@dataclass(frozen=True)
class Pass:
    """Every layer's ``z``, ``a`` and ``delta`` for one batch, and the batch's loss.

    ``dW`` and ``db`` are this batch's gradients when the pass was just computed
    (``Network.inspect``); a trace's probe record has none (it keeps the
    training batch's, ``trace.gradients(step)``), and has the ``step`` instead.
    """

    z: list  # z[i]: (batch, n_out) of layer i
    a: list  # a[i] = f(z[i])
    delta: list  # delta[i] = dL/dz[i]
    loss: float
    dW: list = None  # dW[i]: (n_out, n_in)
    db: list = None  # db[i]: (n_out,)
    step: int = None  # the training step of a trace's snapshot

    @property
    def probabilities(self):
        """The output layer's ``a``: (batch, n_classes)."""
        return self.a[-1]
