"""Convolution's and FeatureMaps' numbers: a kernel slid over a probe digit, and the digit through every layer.

For a probe digit ``x`` (h, w) with recorded maps and kernel ``j`` of the first
convolution (``W[j]`` (k, k), ``b[j]``), the Convolution scene shows, at one
position ``(r, c)`` of the map::

    patch = x_padded[r : r + k, c : c + k]       # (k, k) the pixels under the kernel
    z[r, c] = sum(W[j] * patch) + b[j]           # k * k products, added, plus the bias
    a = f(z)                                     # (Ho, Wo) the feature map, relu: max(0, z)
    pooled[R, C] = max of a's 2x2 window         # (Ho // 2, Wo // 2)

The map ``z``, ``a`` and the pooled map are the trace's, as recorded for the
digit (``trace.probe_record(step)``); the products, added in float64, give
the recorded ``z`` to float32's precision (the tests check it). The kernel is
the one this digit drives hardest (the largest recorded ``z`` anywhere), the
position the one where it does.

FeatureMaps follows the same digit through every convolution and pooling
layer (their recorded ``a``), the dense layers, to the output probabilities::

    story = convolution_story(trace, sample=3, step=2149)
    story.products.sum() + story.b, story.z[story.position]
    maps = feature_maps_story(trace, sample=3, step=2149)
    maps.layers[0].a, maps.probabilities
"""

from dataclasses import dataclass

import numpy as np

from ..architecture import parse_spec
from ..filters import filter_range
from ..trace import TraceError

__all__ = ["ConvolutionStory", "convolution_story", "MapLayer", "MapsStory", "feature_maps_story", "map_row",
           "require_cnn"]


def require_cnn(trace, scene):
    """One line (:class:`TraceError`) unless ``trace`` is a convolutional network's run."""
    if not trace.is_cnn:
        raise TraceError(f"{scene} shows a convolutional network's run, and {trace.path.name} is a dense "
                         "network's: record one with `explainer train --arch cnn --out runs/cnn8.zarr`")


def map_row(trace, sample, name="sample"):
    """The row of probe digit ``sample`` among the recorded feature maps; one line if it has none."""
    if sample not in trace.map_probes:
        raise TraceError(f"{name} {sample}: probe digit {sample} has no recorded feature maps in {trace.path.name}; "
                         f"choose one of {', '.join(map(str, trace.map_probes))}")
    return trace.map_probes.index(sample)


@dataclass(frozen=True)
class ConvolutionStory:
    """What Convolution draws: kernel ``kernel`` of the first convolution on probe digit ``sample`` at ``step``."""

    step: int
    sample: int
    label: int
    spec: str  # "conv 16 5"
    n_kernels: int
    kernel: int  # j: the kernel shown
    k: int  # its size: k x k
    pad: int  # zeros framing the digit (k // 2 for 'same' padding, else 0)
    x: np.ndarray  # (h, w) the digit
    x_padded: np.ndarray  # (h + 2 pad, w + 2 pad)
    W: np.ndarray  # (k, k) W[j], as recorded
    b: float  # b[j]
    weight_range: float  # the run's colour range of the first kernels (explainer.filters.filter_range)
    position: tuple  # (r, c): where the arithmetic is written out
    patch: np.ndarray  # (k, k) the pixels under the kernel there
    products: np.ndarray  # (k, k) W[j] * patch, float64
    z: np.ndarray  # (Ho, Wo) the recorded z of kernel j
    a: np.ndarray  # (Ho, Wo) the recorded a = f(z)
    activation: str  # f's name
    pooled: np.ndarray  # (Ho // 2, Wo // 2) the recorded pooled map; None if no pooling follows
    window: tuple  # (R, C): the pooling window that holds the position

    @property
    def total(self):
        """The sum of the products (float64), before the bias."""
        return float(self.products.sum())

    @property
    def z_here(self):
        """The recorded z at the position: ``total + b`` to float32's precision."""
        return float(self.z[self.position])

    @property
    def z_range(self):
        """The maps' colour range: the largest |z| of this kernel's map (never 0)."""
        return float(np.abs(self.z).max()) or 1.0

    @property
    def window_values(self):
        """(2, 2) the a values of the pooling window that holds the position."""
        R, C = self.window
        return self.a[2 * R : 2 * R + 2, 2 * C : 2 * C + 2]


def convolution_story(trace, sample, step, kernel=None):
    """:class:`ConvolutionStory` of probe digit ``sample`` (one with maps) at the snapshot nearest ``step``;
    ``kernel`` default: the one this digit drives hardest."""
    require_cnn(trace, "Convolution")
    row = map_row(trace, sample)
    s = trace.check_step(step)
    record = trace.probe_record(s, exact=True)
    (W, b), spec = trace.weights(s, exact=True)[0], trace.run.specs[0]
    if W.shape[-1] != 1:
        raise TraceError(f"Convolution slides a kernel over a one-channel digit; {trace.path.name}'s have "
                         f"{W.shape[-1]} channels")
    _, n_kernels, k, padding = parse_spec(spec)
    z_all = record.z[0][row]  # (Ho, Wo, n_kernels)
    j = int(np.argmax(z_all.reshape(-1, n_kernels).max(axis=0))) if kernel is None else int(kernel)
    z = np.ascontiguousarray(z_all[..., j])  # (Ho, Wo)
    r, c = (int(v) for v in np.unravel_index(int(np.argmax(z)), z.shape))
    pad = k // 2 if padding == "same" else 0
    x = trace.probe_x[sample].reshape(trace.image_shape).astype(np.float64)  # (h, w)
    x_padded = np.pad(x, pad)
    w = W[j, :, :, 0]  # (k, k)
    patch = x_padded[r : r + k, c : c + k]
    pooled = None
    if len(trace.run.specs) > 1 and trace.run.specs[1].startswith("pool"):
        pooled = np.ascontiguousarray(record.a[1][row][..., j])  # (Ho // 2, Wo // 2)
    return ConvolutionStory(
        step=s, sample=int(sample), label=int(trace.probe_labels[sample]), spec=spec, n_kernels=n_kernels,
        kernel=j, k=k, pad=pad, x=x, x_padded=x_padded, W=w, b=float(b[j]), weight_range=filter_range(trace),
        position=(r, c), patch=patch, products=w.astype(np.float64) * patch, z=z,
        a=np.ascontiguousarray(record.a[0][row][..., j]), activation=trace.run.activations[0], pooled=pooled,
        window=(min(r // 2, z.shape[0] // 2 - 1), min(c // 2, z.shape[1] // 2 - 1)),
    )


@dataclass(frozen=True)
class MapLayer:
    """One convolution or pooling layer's recorded maps of the digit."""

    spec: str  # "conv 16 5", "pool 2"
    a: np.ndarray  # (h, w, c) as recorded
    activation: str  # a convolution's f; "" for a pooling layer
    first: bool  # the first layer: it sees the digit itself

    @property
    def kind(self):
        return self.spec.split()[0]


@dataclass(frozen=True)
class MapsStory:
    """What FeatureMaps draws: probe digit ``sample`` through every layer at snapshot ``step``."""

    step: int
    sample: int
    label: int
    x: np.ndarray  # (h, w)
    layers: list  # [MapLayer, ...] every convolution and pooling layer, in order
    flat: int  # the Flatten's width
    hidden: list  # [(n_out, a (n_out,), activation), ...] the dense hidden layers' recorded a of this digit
    probabilities: np.ndarray  # (n_classes,) the recorded output

    @property
    def guess(self):
        return int(np.argmax(self.probabilities))


def feature_maps_story(trace, sample, step):
    """:class:`MapsStory` of probe digit ``sample`` (one with maps) at the snapshot nearest ``step``."""
    require_cnn(trace, "FeatureMaps")
    row = map_row(trace, sample)
    s = trace.check_step(step)
    record = trace.probe_record(s, exact=True)
    maps = trace.run.maps  # [(index, kind, shape), ...]: the first entries of the record
    f = iter(trace.run.activations)  # one per weighted layer: the convolutions' first
    layers = [MapLayer(spec, record.a[i][row], next(f) if kind == "conv" else "", i == 0)
              for (i, kind, _), spec in zip(maps, trace.run.specs)]
    dense = [i for i, (kind, _, _) in enumerate(trace.run.network_layers) if kind == "dense"]
    activations = trace.run.activations[-len(dense):]
    hidden = [(len(record.a[i][sample]), record.a[i][sample], f) for i, f in zip(dense[:-1], activations[:-1])]
    return MapsStory(step=s, sample=int(sample), label=int(trace.probe_labels[sample]),
                     x=trace.probe_x[sample].reshape(trace.image_shape), layers=layers,
                     flat=int(record.a[len(maps)].shape[1]), hidden=hidden,
                     probabilities=record.probabilities[sample])
