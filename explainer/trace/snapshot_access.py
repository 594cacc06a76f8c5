"""The part of :class:`~explainer.trace.Trace` that reads its snapshots: weights, gradients, the probe set's pass.

A snapshot is the whole network at one step: every layer's ``W`` and ``b``,
the training batch's ``dW`` and ``db``, and the probe digits' ``z``, ``a``,
``delta`` and probabilities (a CNN's feature maps for :attr:`map_probes`). Any
step may be asked for; the nearest snapshot answers (ties go earlier), or,
with ``exact=True``, only a snapshot at that very step.
"""

import bisect
from functools import cached_property

import numpy as np

from ..metrics import silent_units
from ..passes import Pass
from .records import Snapshot
from .run import TraceError
from .schema import SNAPSHOT_PROBE, map_slices, parameter_slices, unit_slices

__all__ = ["SnapshotAccess"]


class SnapshotAccess:
    """Mixed into :class:`~explainer.trace.Trace`, whose ``_read``, ``_row``, ``_whole`` and ``_damaged`` it uses."""

    @cached_property
    def snapshot_steps(self):
        """The steps that have a full snapshot, ascending."""
        steps = self._read("snapshots/step")
        if steps.tolist() != list(self.run.planned_snapshots[: self.n_snapshots]):
            raise self._damaged("'snapshots/step' differs from the steps its schedule planned")
        return steps

    def snapshot_index(self, step, exact=False):
        """Index of the snapshot at ``step`` or, unless ``exact``, the nearest one (ties go earlier).

        ``step`` is a whole number from 0 to the last recorded step.
        """
        return self._snapshot_index(step, exact, "step")

    def check_step(self, step, name="step"):
        """The snapshot step a user's choice ``step`` stands for (the nearest); :class:`TraceError`
        naming ``name`` (``"--step"``, ``"EXPLAINER_STEP"``) if the choice is not a step of the run."""
        return int(self.snapshot_steps[self._snapshot_index(step, False, name)])

    def check_sample(self, sample, name="sample"):
        """A probe digit's index, checked: a whole number from 0 to n_probe - 1."""
        sample = self._whole(sample, name)
        n = len(self.probe_labels)
        if not 0 <= sample < n:
            raise TraceError(f"{name} {sample} is not a probe digit of {self.path.name}: choose 0 to {n - 1}")
        return sample

    def weights(self, step, exact=False):
        """``[(W, b), ...]`` per layer at the snapshot nearest to ``step``."""
        return self._parameters("snapshots/params", self.snapshot_index(step, exact))

    def gradients(self, step, exact=False):
        """``[(dW, db), ...]`` per layer: the training batch's gradients at that snapshot."""
        return self._parameters("snapshots/grads", self.snapshot_index(step, exact))

    def network(self, step, exact=False):
        """A :class:`~explainer.Network` holding the weights of the snapshot nearest to ``step`` (a CNN's too)."""
        from ..network import Network

        net = Network(**self.run.network_config())
        for layer, (W, b) in zip(net.weighted, self.weights(step, exact)):
            layer.W[...], layer.b[...] = W, b
        return net

    def probe_record(self, step, exact=False):
        """The probe set's pass (``z``, ``a``, ``delta``, probabilities, loss) at the snapshot nearest to ``step``.

        One entry per layer of the network. A CNN's convolution and pooling layers have their maps,
        ``(n_maps, h, w, c)``, and its Flatten ``(n_maps, h * w * c)``, for the probe digits
        :attr:`map_probes` only (its dense layers' are ``(n_probe, n_out)`` as a dense run's).
        """
        k = self.snapshot_index(step, exact)
        row = self._row("snapshots/probe", k)  # (3, n_probe, n_units)
        dense = [np.ascontiguousarray(row[j, :, units]) for j in range(len(SNAPSHOT_PROBE))
                 for units in unit_slices(self.run.dense_shapes)]
        n = len(self.run.dense_shapes)
        arrays = {name: dense[j * n : (j + 1) * n] for j, name in enumerate(SNAPSHOT_PROBE)}
        if self.is_cnn:
            maps, parts = self._row("snapshots/maps", k), self.run.maps  # (3, n_maps, n_map_values)
            for j, name in enumerate(SNAPSHOT_PROBE):
                layers = [np.ascontiguousarray(maps[j, :, part]).reshape(len(maps[j]), *shape)
                          for (_, _, shape), part in zip(parts, map_slices([s for _, _, s in parts]))]
                flat = layers[-1].reshape(len(layers[-1]), -1)  # the Flatten's z, a and delta: the last maps'
                arrays[name] = [*layers, flat, *arrays[name]]
        return Pass(step=int(self.snapshot_steps[k]), loss=float(self._row("snapshots/loss", k)), **arrays)

    def snapshot(self, step, exact=False):
        """Everything at the snapshot nearest to ``step``."""
        k = self.snapshot_index(step, exact)
        s = int(self.snapshot_steps[k])
        (W, b), (dW, db) = zip(*self.weights(s, exact=True)), zip(*self.gradients(s, exact=True))
        return Snapshot(step=s, W=list(W), b=list(b), dW=list(dW), db=list(db), probe=self.probe_record(s, exact=True))

    def first_layer_filters(self, step, exact=False):
        """The first layer's weights as images: (n_hidden, height, width); a CNN's first kernels, (n_out, k, k)."""
        W, _ = self.weights(step, exact)[0]
        if self.is_cnn:
            return W[..., 0] if W.shape[-1] == 1 else W  # (n_out, k, k), or (n_out, k, k, c_in)
        return W.reshape(len(W), *self.image_shape)

    def silent_units(self, step, layer=0, exact=False):
        """The units of ``layer`` whose ``a`` was 0 for every probe digit, at the snapshot nearest to ``step``.

        A ReLU unit that is 0 for every input passes no gradient back, so its
        weights stop learning. Returns their indices (rows of that layer's
        ``W``), ascending; empty when every unit fired for some probe digit.
        """
        layer = self._whole(layer, "layer")
        if not 0 <= layer < self.n_layers:
            raise TraceError(f"layer {layer} is not a layer of {self.path.name}: choose 0 to {self.n_layers - 1}")
        a = self.probe_record(step, exact).a[self._layer_index(layer)]  # (n_probe, n_out); a CNN's maps: (n, h, w, c)
        return silent_units(a.reshape(-1, a.shape[-1]))

    def _layer_index(self, layer):
        """Where weighted layer ``layer`` sits among the network's layers (a probe record's entries)."""
        return [i for i, (_, _, w) in enumerate(self.run.network_layers) if w is not None][layer]

    def _parameters(self, key, k):
        """Row ``k`` of ``snapshots/params`` or ``grads``, cut into ``[(W, b), ...]`` per layer."""
        row, shapes = self._row(key, k), self.run.shapes  # (n_params,)
        return [(row[w].reshape(shape), row[b]) for shape, (w, b) in zip(shapes, parameter_slices(shapes))]

    def _snapshot_index(self, step, exact, name):
        steps = self.snapshot_steps
        if not len(steps):
            raise TraceError(f"{self.path} holds no snapshot yet (its run stopped before the first was "
                             "written): record the run again")
        step = self._whole(step, name)
        last = max(self.n_steps - 1, int(steps[-1]))
        if not 0 <= step <= last:
            raise TraceError(f"{name} {step} is outside the run: {self.path.name} has steps 0 to {last}")
        i = bisect.bisect_left(steps.tolist(), step)
        k = i if i == 0 or (i < len(steps) and steps[i] - step < step - steps[i - 1]) else i - 1
        if exact and steps[k] != step:
            raise TraceError(f"step {step} has no snapshot; the nearest is {int(steps[k])} "
                             f"(snapshots: {_describe_steps(steps)})")
        return k

    @staticmethod
    def _whole(value, name):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TraceError(f"{name} must be a whole number; got {value!r}")
        return int(value)


def _describe_steps(steps):
    shown = ", ".join(str(int(s)) for s in steps[:8])
    return shown + (f", ... {int(steps[-1])}" if len(steps) > 8 else "")
