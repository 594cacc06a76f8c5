"""The convolutional layer: one small dense layer, slid over every position of the image.

A filter is a k x k x c_in block of weights. At each position ``p`` of the
image it sees the patch ``a_p`` under it (k * k * c_in values) and computes
the dense layer's ``z = W a + b`` there. With the filters as the rows of
``W`` (n_out, k, k, c_in), for a batch of images ``a_prev`` (batch, H, W, c_in)
held channels last::

    cols = patches(a_prev, k)                    # (batch * Ho * Wo, k * k * c_in)
    z = cols @ W.reshape(n_out, -1).T + b        # (batch, Ho, Wo, n_out)  z_p = W a_p + b at each position
    a = f(z)                                     # (batch, Ho, Wo, n_out)  the feature maps

and going backward from ``delta = d loss_n / d z`` (per sample)::

    dW = sum over positions of delta_p a_p^T / N # (n_out, k, k, c_in)  delta^T @ cols, averaged over the batch
    db = sum over positions of delta_p / N       # (n_out,)
    grad_a_prev = W^T delta_p, added back onto each patch's pixels   # (batch, H, W, c_in)

With valid padding (the default) a 28x28 image and a 5x5 kernel give 24x24
maps; with ``padding="same"`` the image is first framed with k // 2 zeros so
the maps keep the image's size (odd k only). Stride 1.

**Speed.** A batch is cut into micro-batches of 16 images, small enough that
one micro-batch's patches and maps stay in the CPU's cache; each is
multiplied on one BLAS thread, and the micro-batches are shared out over
threads of their own (:mod:`explainer.lanes`). Their gradients are summed,
so the optimiser still sees the whole batch. A one-channel image's patches
(25 block copies for a 5x5 kernel) are kept from forward to backward when a
batch's take at most :data:`KEEP_BYTES`; the others are cut again in
backward, which costs less than keeping them. When a max-pooling layer
follows (:class:`ConvPool`) and the activation is ReLU, leaky ReLU or the
identity, the network pools *before* adding the bias and applying ``f``::

    max(f(z)) = f(max(W a) + b)          # exact: f and + b never change which value is largest

which touches four times fewer values. With one input channel, the patches
are cut in pooling order (:func:`~explainer.im2col.window_patches`), so the
pooling compares four contiguous blocks. The values are exactly those of the
textbook order; only where the bias's rounding makes two values equal can the
gradient go to the other of them (both are valid gradients). That fast pass
keeps the pooled maps (on the pooling layer) and the gradients, not the
full-resolution ``z``, ``a`` and ``delta`` of the convolution, which are None
after it; :meth:`explainer.network.Network.inspect` computes every layer's.
"""

import numpy as np

from .activations import get_activation
from .im2col import add_patches, out_size, patches, window_patches
from .initializers import get_initializer
from .lanes import MICRO_BATCH, in_lanes, lanes_for, micro_batches, one_blas_thread
from .pool import max_of_four, max_pool, unpool, unpool_four

__all__ = ["Conv2D", "ConvPool", "MICRO_BATCH", "KEEP_BYTES", "PADDINGS", "POOL_FIRST"]

KEEP_BYTES = 16 * 2**20  # a batch's one-channel patches are kept for backward up to this size (128 MNIST digits: 7 MB)
PADDINGS = ("valid", "same")
# activations for which pooling first, then the bias and f, gives the values of the textbook order
POOL_FIRST = ("relu", "leaky_relu", "identity")


class Conv2D:
    """A 2-D convolution ``a = f(W * a_prev + b)`` with k x k filters, stride 1.

    Parameters
    ----------
    in_shape : tuple of int
        ``(height, width, channels)`` of the input: ``(28, 28, 1)`` for an MNIST digit.
    n_out : int
        Number of filters (output channels).
    k : int
        Kernel size: the filters are k x k.
    activation, init : str
        Names from ``ACTIVATIONS`` and ``INITIALIZERS``; the initialiser sees
        ``n_in = k * k * c_in`` inputs per filter.
    rng : numpy.random.Generator
    dtype : numpy dtype
    padding : {"valid", "same"}
    """

    def __init__(self, in_shape, n_out, k, activation, init, rng, dtype=np.float32, padding="valid"):
        h, w, c_in = in_shape
        if padding not in PADDINGS:
            raise ValueError(f"padding must be one of 'valid', 'same'; got {padding!r}")
        if padding == "same" and k % 2 == 0:
            raise ValueError(f"'same' padding needs an odd kernel size (3, 5, ...); got {k}")
        self.pad = k // 2 if padding == "same" else 0
        ho, wo = out_size(h + 2 * self.pad, k), out_size(w + 2 * self.pad, k)
        if ho < 1 or wo < 1:
            raise ValueError(f"a {k}x{k} kernel does not fit in {h}x{w} maps with {padding} padding: use a "
                             "smaller kernel, 'same' padding or fewer pooling layers")
        self.in_shape, self.out_shape = (h, w, c_in), (ho, wo, n_out)
        self.k, self.padding = k, padding
        self.activation = get_activation(activation)
        self.init = get_initializer(init)
        self.W = self.init.draw(rng, k * k * c_in, n_out, dtype).reshape(n_out, k, k, c_in)  # (n_out, k, k, c_in)
        self.b = np.zeros(n_out, dtype=dtype)  # (n_out,)
        self.a_prev = self.z = self.a = None  # set by forward
        self.delta = self.dW = self.db = None  # set by backward
        self._cols = None  # a reused buffer for the patches: one micro-batch's, or a batch's when kept
        self._kept = None  # the last forward's patches, one per micro-batch, when kept

    @property
    def shape(self):
        """``(n_out, k, k, c_in)``, the shape of ``W``."""
        return self.W.shape

    # -- the textbook order: z and a at every position ---------------------------

    def forward(self, a_prev):
        self.a_prev = a_prev  # (batch, H, W, c_in)
        n, (ho, wo, n_out) = len(a_prev), self.out_shape
        self.z = np.empty((n, ho, wo, n_out), self.W.dtype)  # (batch, Ho, Wo, n_out)
        with one_blas_thread():
            mbs = self._start(n)

            def work(i, lane):
                self.z[mbs[i]] = self._u(a_prev[mbs[i]], i, lane)

            in_lanes(len(mbs), work)
        self.z += self.b
        self.a = self.activation.forward(self.z)  # (batch, Ho, Wo, n_out)
        return self.a

    def backward(self, grad_a=None, *, delta=None, need_grad_input=True):
        """Back-propagate; returns ``grad_a_prev`` (batch, H, W, c_in), or None without ``need_grad_input``."""
        if delta is None:
            delta = self.activation.backward(self.z, self.a, grad_a)
        self.delta = delta  # (batch, Ho, Wo, n_out)
        self.db = delta.reshape(-1, len(self.b)).sum(axis=0)  # (n_out,)
        self.db *= self.b.dtype.type(1 / len(delta))
        with one_blas_thread():
            return self._backward_u(len(delta), lambda mb: delta[mb], need_grad_input)

    # -- the fast order, with the max-pooling layer that follows -----------------------

    def forward_pooled(self, a_prev, pool):
        """Convolve, pool, then add ``b`` and apply ``f``; fills ``pool``'s ``z`` and ``a``; returns them."""
        self.a_prev = a_prev  # (batch, H, W, c_in)
        n, (hp, wp, n_out) = len(a_prev), pool.out_shape
        zp = np.empty((n, hp, wp, n_out), self.W.dtype)  # (batch, Ho // 2, Wo // 2, n_out)
        a = np.empty_like(zp)  # (batch, Ho // 2, Wo // 2, n_out)
        windows = self.in_shape[2] == 1  # patches in pooling order
        if windows:
            winner = np.empty(zp.shape, np.uint8)  # 0 to 3: which of each window's four values won
        else:
            right = np.empty((n, 2 * hp, wp, n_out), bool)  # which value won, as max_pool says it
            lower = np.empty(zp.shape, bool)
        with one_blas_thread():
            mbs = self._start(n)

            def work(i, lane):  # each micro-batch start to end while it is in the cache
                mb = mbs[i]
                if windows:
                    m, w = max_of_four(self._u(a_prev[mb], i, lane, windows).reshape(4, -1))
                    zp[mb], winner[mb] = m.reshape(zp[mb].shape), w.reshape(zp[mb].shape)
                else:
                    zp[mb], (right[mb], lower[mb]) = max_pool(self._u(a_prev[mb], i, lane))
                zp[mb] += self.b  # the pooled z: max over each window of z = W a + b
                a[mb] = self.activation.forward(zp[mb])

            in_lanes(len(mbs), work)
        pool.winner = winner if windows else (right, lower)
        pool.a_prev, self.z, self.a = None, None, None  # not kept at full resolution
        pool.z = pool.a = a  # max over each window of f(z), which is f(max z)
        self._zp = zp
        return a

    def backward_pooled(self, grad_a, pool, need_grad_input=True):
        """Back-propagate ``grad_a`` = d loss / d ``pool.a`` through f, the pooling and the convolution."""
        pool.delta, self.delta = grad_a, None  # (batch, Ho // 2, Wo // 2, n_out)
        windows = not isinstance(pool.winner, tuple)  # the forward pass cut the patches in pooling order
        db_parts = {}  # micro-batch -> its sum of d loss / d z, added in order at the end

        def delta_of(mb):  # one micro-batch's d loss / d z: at each window's winner, 0 at the other three
            d = self.activation.backward(self._zp[mb], pool.a[mb], grad_a[mb])  # (micro, Ho // 2, Wo // 2, n_out)
            db_parts[mb.start] = d.reshape(-1, d.shape[-1]).sum(axis=0)
            if windows:  # (4, micro * Ho // 2 * Wo // 2 * n_out): the rows of window_patches
                return unpool_four(d.ravel(), pool.winner[mb].ravel()).reshape(-1, d.shape[-1])
            return unpool(d, (pool.winner[0][mb], pool.winner[1][mb]), (len(d), *self.out_shape))

        with one_blas_thread():
            grad_in = self._backward_u(len(grad_a), delta_of, need_grad_input, windows)
        db = np.zeros_like(self.b)  # (n_out,)
        for start in sorted(db_parts):
            db += db_parts[start]
        self.db = db * db.dtype.type(1 / len(grad_a))
        return grad_in

    # -- shared by both orders -------------------------------------------------

    def _start(self, n):
        """The micro-batches of a forward pass over ``n`` images; decides whether their patches are kept."""
        ho, wo, _ = self.out_shape
        keep = self.in_shape[2] == 1 and n * ho * wo * self.W[0].size * self.W.itemsize <= KEEP_BYTES
        mbs = micro_batches(n)
        self._kept = [None] * len(mbs) if keep else None
        self._reserve(len(mbs) if keep else lanes_for(len(mbs)))
        return mbs

    def _u(self, a_prev, i, lane, windows=False):
        """``W a_p`` at every position of micro-batch ``i``: (micro, Ho, Wo, n_out), without the bias; with
        ``windows``, (4 * micro * Ho // 2 * Wo // 2, n_out) in the order of :func:`window_patches`."""
        x = self._padded(a_prev)
        cut = window_patches if windows else patches
        cols = cut(x, self.k, out=self._slot(i if self._kept is not None else lane))  # (micro * Ho * Wo, K)
        if self._kept is not None:
            self._kept[i] = cols
        u = cols @ self.W.reshape(len(self.W), -1).T  # (micro * Ho * Wo, n_out)
        return u if windows else u.reshape(len(a_prev), *self.out_shape)

    def _backward_u(self, n, delta_of, need_grad_input, windows=False):
        """``dW`` and the input gradient, micro-batch by micro-batch; ``delta_of(mb)`` gives one's ``delta``
        (with ``windows``, as rows in the order of :func:`window_patches`)."""
        W, mbs = self.W, micro_batches(n)
        parts = [None] * len(mbs)  # each micro-batch's dW, transposed (see below), added in order at the end
        grad_in = np.empty((n, *self.in_shape), W.dtype) if need_grad_input else None  # (batch, H, W, c_in)
        if not self._kept:
            self._reserve(lanes_for(len(mbs)))

        def work(i, lane):
            mb = mbs[i]
            d = delta_of(mb)  # (micro, Ho, Wo, n_out)
            x = self._padded(self.a_prev[mb])
            cut = window_patches if windows else patches
            cols = self._kept[i] if self._kept else cut(x, self.k, out=self._slot(lane))  # (micro * Ho * Wo, K)
            d2 = d.reshape(-1, len(W))  # (micro * Ho * Wo, n_out)
            parts[i] = cols.T @ d2  # (k * k * c_in, n_out); with one channel cols.T is contiguous: 2x d2.T @ cols
            if need_grad_input:
                self._input_gradient(d, x, windows, grad_in[mb])

        in_lanes(len(mbs), work)
        dW_T = np.zeros((W[0].size, len(W)), W.dtype)  # (k * k * c_in, n_out)
        for part in parts:
            dW_T += part
        self.dW = np.ascontiguousarray(dW_T.T).reshape(W.shape)  # (n_out, k, k, c_in)
        self.dW *= W.dtype.type(1 / n)
        return grad_in

    def _input_gradient(self, d, x, windows, out):
        """One micro-batch's d loss / d a_prev from its ``d`` = d loss / d z, into ``out`` (micro, H, W, c_in)."""
        if windows:  # rows in pooling order -> maps
            d = self._full_maps(d, len(x))
        if not self.pad:
            add_patches(d, self.W, x.shape[1:3], out=out)  # (micro, H, W, c_in)
        else:
            g = add_patches(d, self.W, x.shape[1:3])  # (micro, H + 2 pad, W + 2 pad, c_in)
            p, (h, w, _) = self.pad, self.in_shape
            out[...] = g[:, p : p + h, p : p + w, :]

    def _reserve(self, slots):
        """Make the patch buffer hold ``slots`` micro-batches' patches (before the lanes share it out)."""
        ho, wo, _ = self.out_shape
        size = slots * MICRO_BATCH * ho * wo * self.W[0].size
        if self._cols is None or self._cols.dtype != self.W.dtype or len(self._cols) < size:
            self._cols = np.empty(size, self.W.dtype)

    def _slot(self, k):
        """Slot ``k`` of the patch buffer: a micro-batch's when kept, else a lane's."""
        ho, wo, _ = self.out_shape
        size = MICRO_BATCH * ho * wo * self.W[0].size
        return self._cols[k * size : (k + 1) * size]

    def _full_maps(self, rows, n):
        """Rows in pooling order (4 * n * Hp * Wp, n_out) as maps (n, Ho, Wo, n_out); 0 where no window reads."""
        ho, wo, n_out = self.out_shape
        maps = np.zeros((n, ho, wo, n_out), rows.dtype)
        blocks = rows.reshape(2, 2, n, ho // 2, wo // 2, n_out)
        for dy in (0, 1):
            for dx in (0, 1):
                maps[:, dy : ho // 2 * 2 : 2, dx : wo // 2 * 2 : 2] = blocks[dy, dx]
        return maps

    def _padded(self, x):
        p = self.pad
        return np.pad(x, ((0, 0), (p, p), (p, p), (0, 0))) if p else x

    def __repr__(self):
        n_out, k, _, c_in = self.W.shape
        return (f"Conv2D({self.in_shape} -> {self.out_shape}, {n_out} filters of {k}x{k}x{c_in}, "
                f"padding={self.padding!r}, activation={self.activation.name!r})")


class ConvPool:
    """A :class:`Conv2D` and the 2x2 :class:`~explainer.pool.MaxPool2D` after it, run in the fast order.

    Both layers stay in the network's list, with their own caches; this is
    only how the network calls them when ``conv.activation`` is in :data:`POOL_FIRST`.
    """

    def __init__(self, conv, pool):
        self.conv, self.pool = conv, pool

    def forward(self, a_prev):
        return self.conv.forward_pooled(a_prev, self.pool)

    def backward(self, grad_a, *, need_grad_input=True):
        return self.conv.backward_pooled(grad_a, self.pool, need_grad_input)


