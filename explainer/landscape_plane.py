"""The plane through a snapshot's weights: its two directions, the snapshots projected onto it, and the
network's loss at points of it (the mathematics of :mod:`explainer.landscape`).

Weights are one vector ``theta`` (every ``W`` and ``b``, flattened end to end
in the trace's order: ``flatten(trace.weights(step))``); a point of the plane
is ``theta + alpha d1 + beta d2``.
"""

import numpy as np

__all__ = ["flatten", "plane_directions", "project", "losses_at", "loss_of"]


def flatten(params):
    """``[(W, b), ...]`` -> one vector ``[W0, b0, W1, b1, ...]``, W row by row (the trace's order)."""
    return np.concatenate([part.ravel() for W, b in params for part in (W, b)])


def plane_directions(trajectory, theta, kind="pca", shapes=None, seed=0):
    """``(d1, d2, explained)``: two directions through ``theta`` (n_params,).

    ``trajectory`` (n_snapshots, n_params) holds the snapshots; ``"pca"``: the first two principal
    directions of ``trajectory - theta`` (unit vectors, orthogonal), signed so that the first snapshot
    lies at negative alpha and beta; ``"random"``: filter-normalised random directions for a network
    whose layers' ``W`` have ``shapes`` [(n_out, n_in), ...]. ``explained``: the share of the trajectory's
    squared displacement from ``theta`` along each (NaN for random directions).
    """
    if kind == "random":
        rng = np.random.default_rng(seed)
        d1, d2 = (_filter_normalised(rng, theta, shapes) for _ in range(2))
        return d1, d2, np.full(2, np.nan)
    M = trajectory - theta  # (n_snapshots, n_params)
    gram = np.zeros((len(M), len(M)))
    for start in range(0, M.shape[1], 1 << 16):  # M M^T, in float64, a slice of columns at a time
        part = M[:, start : start + (1 << 16)].astype(np.float64)
        gram += part @ part.T
    values, vectors = np.linalg.eigh(gram)  # ascending
    order = np.argsort(values)[::-1]
    values, vectors = np.clip(values[order], 0, None), vectors[:, order]
    directions = []
    for k in range(2):
        d = (vectors[:, k] @ M).astype(np.float64) if values[k] > 0 else np.zeros(M.shape[1])
        for other in directions:
            d -= (d @ other) * other
        norm = np.linalg.norm(d)
        if norm == 0:  # a trajectory with fewer than k + 1 dimensions: any unit vector orthogonal to the rest
            d = np.random.default_rng(seed).standard_normal(M.shape[1])
            for other in directions:
                d -= (d @ other) * other
            norm = np.linalg.norm(d)
        d /= norm
        if (M[0] @ d) > 0:
            d = -d
        directions.append(d)
    total = values.sum()
    explained = values[:2] / total if total > 0 else np.zeros(2)
    return directions[0], directions[1], explained


def project(points, theta, d1, d2):
    """``(coords, off_plane, distance)`` of ``points`` (n, n_params) on the plane ``theta + alpha d1 + beta d2``:
    each one's least-squares ``(alpha, beta)``, its distance from the plane and from ``theta``."""
    D = np.stack([d1, d2]).astype(np.float64)  # (2, n_params)
    gram = D @ D.T
    coords, off, distance = np.zeros((len(points), 2)), np.zeros(len(points)), np.zeros(len(points))
    for k, point in enumerate(points):
        delta = point.astype(np.float64) - theta
        coords[k] = np.linalg.solve(gram, D @ delta)
        off[k] = np.linalg.norm(delta - coords[k] @ D)
        distance[k] = np.linalg.norm(delta)
    return coords, off, distance


def losses_at(net, x, labels, theta, d1, d2, points, progress=None):
    """The loss of ``net`` on ``(x, labels)`` at ``theta + alpha d1 + beta d2`` for each ``(alpha, beta)`` in
    ``points`` (m, 2): ``net.loss`` of the network holding those weights, its penalties included.

    The first layer's ``z`` is ``z_theta + alpha z_d1 + beta z_d2`` (it is linear in its weights); the
    layers above run their own ``forward``. ``net``'s weights are left at the last point.
    """
    dtype = net.dtype
    flat = _bind(net)  # (n_params,): the network's W and b are views into it
    y = net.one_hot(labels)
    first = net.layers[0]
    n_w = first.W.size
    theta, d1, d2 = (np.asarray(v, dtype=dtype) for v in (theta, d1, d2))

    def first_z(vector):  # x W^T + b for the first layer's part of a parameter vector
        return x @ vector[:n_w].reshape(first.W.shape).T + vector[n_w : n_w + first.b.size]  # (N, n1)

    x = np.asarray(x, dtype=dtype)
    z_theta, z_1, z_2 = first_z(theta), first_z(d1), first_z(d2)
    out = np.empty(len(points))
    z, row_theta, row_z, row_beta = np.empty_like(z_theta), np.empty_like(flat), np.empty_like(z_theta), None
    for k, (alpha, beta) in enumerate(np.asarray(points, dtype=np.float64)):
        alpha, beta = dtype.type(alpha), dtype.type(beta)
        if beta != row_beta:  # a new row of the grid: theta + beta d2, and its z
            np.multiply(d2, beta, out=row_theta)
            row_theta += theta
            np.multiply(z_2, beta, out=row_z)
            row_z += z_theta
            row_beta = beta
        np.multiply(d1, alpha, out=flat)
        flat += row_theta  # the network now holds theta + alpha d1 + beta d2
        np.multiply(z_1, alpha, out=z)
        z += row_z  # (N, n1): x W^T + b of those weights
        first.z = z
        a = first.a = first.activation.forward(z)
        for layer in net.layers[1:]:
            a = layer.forward(a)
        out[k] = net.loss(a, y)
        if progress is not None:
            progress.update(1)
    return out


def loss_of(net, x, labels, vector):
    """The network's loss on ``(x, labels)`` holding the weights ``vector``: the plain forward pass."""
    flat = _bind(net)
    flat[...] = vector
    return net.loss(net.forward(x), net.one_hot(labels))


def _bind(net):
    """One flat array holding every ``W`` and ``b`` of ``net``, whose layers' ``W`` and ``b`` become views
    into it (made once per network)."""
    flat = getattr(net, "_landscape_flat", None)
    if flat is None:
        flat = flatten([(layer.W, layer.b) for layer in net.layers]).astype(net.dtype)
        start = 0
        for layer in net.layers:
            for name in ("W", "b"):
                part = getattr(layer, name)
                setattr(layer, name, flat[start : start + part.size].reshape(part.shape))
                start += part.size
        net._landscape_flat = flat
    return flat


def _filter_normalised(rng, theta, shapes):
    """A random direction whose every row of each ``W`` has the norm of that row of ``theta``'s ``W``;
    biases 0 (Li et al. 2018, filter normalisation, for dense layers: a filter is one neuron's row)."""
    d = np.zeros_like(theta)
    start = 0
    for n_out, n_in in shapes:
        W = theta[start : start + n_out * n_in].reshape(n_out, n_in)
        r = rng.standard_normal((n_out, n_in))
        norms = np.linalg.norm(r, axis=1, keepdims=True)
        d[start : start + n_out * n_in] = (r * np.linalg.norm(W, axis=1, keepdims=True) / norms).ravel()
        start += n_out * n_in + n_out  # the biases' part stays 0
    return d
