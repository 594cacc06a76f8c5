"""The web page's JavaScript, part 2: the network's forward pass, dense or convolutional, ported.

:func:`network_layers` writes each layer of the network into the page (its kind, shapes and
activation, its ``W`` and ``b`` as base64 float32); ``NETWORK_JS`` runs them in the order the
network does, on one prepared picture, in double precision (NumPy's float32 sums differ from it by
far less than 1e-5):

- ``dense``: ``z = W a + b``, with ``W`` (n_out, n_in) row by row, then ``a = f(z)``;
- ``conv``: at each position of the maps, ``z = W a_p + b`` over the k x k x c_in patch under the
  filter (0 outside the image with 'same' padding), ``W`` (n_out, k, k, c_in) as stored, then
  ``a = f(z)``; the maps are held channels last, (h, w, c) row-major, as in :mod:`explainer.conv`;
- ``pool``: the largest of each 2x2 window (an odd last row or column left out, as in :mod:`explainer.pool`);
- ``flatten``: nothing to do: (h, w, c) row-major is already the Flatten's order.

The network pools before adding the bias and applying f where that is exact
(:class:`explainer.conv.ConvPool`); the page does it in the textbook order, which gives the same values.
Like ``PREPARE_JS``, this has no DOM in it.
"""

import base64

import numpy as np

from ..conv import Conv2D
from ..flatten import Flatten
from ..pool import MaxPool2D

__all__ = ["NETWORK_JS", "network_layers"]


def network_layers(net):
    """The layers of ``net`` as JSON-able dicts for ``NETWORK_JS``, input first."""
    layers = []
    for layer in net.layers:
        if isinstance(layer, Conv2D):
            layers.append({"kind": "conv", "in_shape": list(layer.in_shape), "out_shape": list(layer.out_shape),
                           "k": layer.k, "pad": layer.pad, "activation": layer.activation.name,
                           "W": _floats(layer.W), "b": _floats(layer.b)})  # W: (n_out, k, k, c_in)
        elif isinstance(layer, MaxPool2D):
            layers.append({"kind": "pool", "in_shape": list(layer.in_shape), "out_shape": list(layer.out_shape)})
        elif isinstance(layer, Flatten):
            layers.append({"kind": "flatten", "n_out": layer.n_out})
        else:
            layers.append({"kind": "dense", "shape": list(layer.W.shape), "activation": layer.activation.name,
                           "W": _floats(layer.W), "b": _floats(layer.b)})  # W: (n_out, n_in)
    return layers


def _floats(array):
    """An array as base64 of its little-endian float32 bytes, row-major (C order)."""
    return base64.b64encode(np.ascontiguousarray(array, dtype="<f4").tobytes()).decode("ascii")


NETWORK_JS = r"""
const ACTIVATIONS = {  // explainer.activations, each a = f(z)
  relu: z => z.map(v => Math.max(v, 0)),
  leaky_relu: z => z.map(v => (v > 0 ? v : v * LEAKY_RELU_SLOPE)),
  sigmoid: z => z.map(v => 0.5 * (Math.tanh(0.5 * v) + 1)),
  tanh: z => z.map(Math.tanh),
  identity: z => z.slice(),
  softmax: z => {
    let top = -Infinity;
    for (const v of z) top = Math.max(top, v);
    const e = z.map(v => Math.exp(v - top)), sum = e.reduce((s, v) => s + v, 0);
    return e.map(v => v / sum);
  },
};
let LEAKY_RELU_SLOPE = 0.01;

const LAYERS = {  // each kind of layer's forward pass: a_prev (a flat Float64Array) -> a
  dense(layer, a) {  // z = W a + b
    const [nOut, nIn] = layer.shape, W = layer.W, z = new Float64Array(nOut);
    for (let j = 0; j < nOut; j++) {
      let s = layer.b[j];
      for (let i = 0; i < nIn; i++) s += W[j * nIn + i] * a[i];
      z[j] = s;
    }
    return ACTIVATIONS[layer.activation](z);
  },
  conv(layer, a) {  // z_p = W a_p + b at each position p, channels last
    const [h, w, cIn] = layer.in_shape, [ho, wo, nOut] = layer.out_shape, k = layer.k, pad = layer.pad;
    const W = layer.W, z = new Float64Array(ho * wo * nOut), row = k * cIn;  // row: one kernel row's weights
    for (let y = 0; y < ho; y++) {
      for (let x = 0; x < wo; x++) {
        const out = (y * wo + x) * nOut;
        for (let j = 0; j < nOut; j++) z[out + j] = layer.b[j];
        for (let dy = 0; dy < k; dy++) {
          const yy = y + dy - pad;
          if (yy < 0 || yy >= h) continue;  // 'same' padding's zeros add nothing
          const dx0 = Math.max(0, pad - x), dx1 = Math.min(k, w + pad - x);  // the kernel columns inside the image
          const start = (yy * w + x + dx0 - pad) * cIn, n = (dx1 - dx0) * cIn;  // the patch row's pixels, contiguous
          for (let j = 0; j < nOut; j++) {
            const offset = j * k * row + dy * row + dx0 * cIn;  // W[j, dy, dx0, 0]
            let s = 0;
            for (let i = 0; i < n; i++) s += W[offset + i] * a[start + i];
            z[out + j] += s;
          }
        }
      }
    }
    return ACTIVATIONS[layer.activation](z);
  },
  pool(layer, a) {  // the largest of each 2x2 window
    const [, w, c] = layer.in_shape, [hp, wp] = layer.out_shape, m = new Float64Array(hp * wp * c);
    for (let y = 0; y < hp; y++) {
      for (let x = 0; x < wp; x++) {
        for (let ch = 0; ch < c; ch++) {
          const at = ((2 * y) * w + 2 * x) * c + ch;
          m[(y * wp + x) * c + ch] = Math.max(a[at], a[at + c], a[at + w * c], a[at + w * c + c]);
        }
      }
    }
    return m;
  },
  flatten(layer, a) { return a; },  // (h, w, c) row-major is already one row
};

function forward(net, x) {  // layer by layer, as the network's list says; returns the probabilities
  let a = Float64Array.from(x);
  for (const layer of net.layers) a = LAYERS[layer.kind](layer, a);
  return a;
}

function decodeFloats(base64) {  // little-endian float32s, written by NumPy
  const bytes = Uint8Array.from(atob(base64), c => c.charCodeAt(0));
  const view = new DataView(bytes.buffer), out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}
"""
