"""How a convolution becomes one matrix multiply: cutting an image into patches, and back.

A 5x5 kernel over a 28x28 image visits 24 x 24 = 576 positions. Cut the
image into those 576 patches, one row each, and the convolution of every
filter at every position is one matrix product with the filters' weights::

    cols = patches(x, 5)          # (batch * 576, 25 * c_in)   one row per position
    u = cols @ W.reshape(n_out, -1).T  # (batch * 576, n_out)  row p: W a_p of patch p

which is the dense layer's ``z = W a`` once per patch. Going backward, each
position's gradient flows back to the pixels of its patch; pixels shared by
neighbouring patches add up (:func:`add_patches`).

Images are held channels last, ``(batch, height, width, channels)``, so that
one position's channels are side by side in memory. Two choices make every
copy contiguous (the prototype of issue 14 measured them):

- with one input channel, the rows of ``cols`` are stored offsets first: the
  25 kernel offsets are 25 block copies of a shifted image; ``cols`` is then
  the transpose of that (25, positions) array, which BLAS reads as it is;
- with several channels, a row holds (offset, channel): a kernel row's k
  pixels are k * C neighbouring values of the image, copied as one run.

The input gradient is one batched product, per offset ``(positions, n_out) @
(n_out, c_in)``, into an (offsets, positions, channels) array, then one
contiguous add per offset (never ``np.add.at``, which is 10-50 times slower).
"""

import numpy as np

__all__ = ["patches", "window_patches", "add_patches", "out_size"]


def out_size(size, k):
    """Positions a kernel of width ``k`` takes along ``size`` pixels (valid padding)."""
    return size - k + 1


def patches(x, k, out=None):
    """Every k x k patch of ``x`` (batch, H, W, C), one row per position: (batch * Ho * Wo, k * k * C).

    A row lists the patch offset by offset (row-major over the kernel), the
    channels of each offset together: the order of ``W.reshape(n_out, -1)``
    for ``W`` of shape (n_out, k, k, C). ``out``, if given, is a flat buffer to
    reuse when it is large enough.
    """
    n, h, w, c = x.shape
    ho, wo = out_size(h, k), out_size(w, k)
    if c == 1:  # offsets first: k*k contiguous copies of a shifted image
        cols = _buffer(out, (k * k, n, ho, wo), x.dtype)
        for i in range(k):
            for j in range(k):
                cols[i * k + j] = x[:, i : i + ho, j : j + wo, 0]  # (batch, Ho, Wo)
        return cols.reshape(k * k, n * ho * wo).T  # (batch * Ho * Wo, k * k), a transposed view
    cols = _buffer(out, (n, ho, wo, k, k * c), x.dtype)
    x = np.ascontiguousarray(x)
    sn, sh, sw, _ = x.strides
    # a kernel row's k pixels of C channels lie side by side in x: one run of k * C values per position
    runs = np.lib.stride_tricks.as_strided(x, (n, h, wo, k * c), (sn, sh, sw, x.itemsize), writeable=False)
    for i in range(k):
        cols[:, :, :, i, :] = runs[:, i : i + ho]  # (batch, Ho, Wo, k * C), kernel row i
    return cols.reshape(n * ho * wo, k * k * c)


def add_patches(grad_u, W, image_shape, out=None):
    """The gradient with respect to the image whose patches were multiplied by ``W``.

    ``grad_u`` (batch, Ho, Wo, n_out) is d loss / d u for ``u = W a_patch`` at
    every position, and ``W`` is (n_out, k, k, C). Each patch pixel gets
    ``W^T grad_u`` of its position, summed over the positions whose patch holds
    it. Returns (batch, H, W, C), written into ``out`` if given.
    """
    n, ho, wo, n_out = grad_u.shape
    _, k, _, c = W.shape
    W_offsets = W.reshape(n_out, k * k, c).transpose(1, 0, 2)  # (k*k, n_out, C)
    per_offset = np.matmul(grad_u.reshape(1, n * ho * wo, n_out), W_offsets)  # (k*k, batch*Ho*Wo, C)
    grad_x = np.zeros((n, *image_shape, c), grad_u.dtype) if out is None else out  # (batch, H, W, C)
    grad_x[...] = 0
    for i in range(k):
        for j in range(k):
            grad_x[:, i : i + ho, j : j + wo, :] += per_offset[i * k + j].reshape(n, ho, wo, c)
    return grad_x


def _buffer(out, shape, dtype):
    """The first values of the flat buffer ``out`` shaped as ``shape``, or a new array if it is too small."""
    size = int(np.prod(shape))
    if out is not None and out.size >= size and out.dtype == dtype:
        return out[:size].reshape(shape)
    return np.empty(shape, dtype)


def window_patches(x, k, out=None):
    """The patches of a one-channel image ``x`` (batch, H, W, 1) in the order that 2x2 max-pooling reads them.

    Returns (4 * batch * Hp * Wp, k * k), Hp x Wp the pooled maps: block ``q``
    (reading order: top left, top right, bottom left, bottom right) holds
    that corner's position of every pooling window, so the pooling compares
    four contiguous blocks. Positions in an odd last row or column, which no
    window holds, are left out. Like :func:`patches`, a transposed view of an
    offsets-first array, made in one strided copy.
    """
    n, h, w, _ = x.shape
    hp, wp = out_size(h, k) // 2, out_size(w, k) // 2
    x = np.ascontiguousarray(x)
    sn, sh, sw, _ = x.strides
    # [i, j, dy, dx, image, py, px] -> x[image, i + dy + 2 py, j + dx + 2 px]
    view = np.lib.stride_tricks.as_strided(x, (k, k, 2, 2, n, hp, wp), (sh, sw, sh, sw, sn, 2 * sh, 2 * sw),
                                           writeable=False)
    cols = _buffer(out, view.shape, x.dtype)
    np.copyto(cols, view)
    return cols.reshape(k * k, 4 * n * hp * wp).T  # (4 * batch * Hp * Wp, k * k), a transposed view
