"""Sweep kernel for any network: many configurations of one architecture trained together.

Parameters are stored as ``P[param, k]`` (structure of arrays): every configuration does
the same arithmetic on different numbers, so each operation of the network becomes a loop
over a block of configurations ("lanes") that LLVM vectorises. One call trains the block
k0..k1-1; ``fastnn.sweep`` runs blocks on several threads at once (the kernels release
the GIL). Each configuration's arithmetic is exactly that of ``generic.train`` (same
formulas, same order), so results do not depend on the block size or the thread count,
and equal ``Network.fit`` bit for bit.

Contract shared with the generated kernels (``kernels.sweepgen``)::

    train(P, X, Y, lr, batch_size, shuffle, states, e_start, e_stop,
          losses, diverged, ckpt_epochs, ckpt, k0, k1, layout)

P (n_params, K) float64, in/out; lr (K,); states (K,) uint64 shuffle RNG states, in/out;
epochs e_start..e_stop-1 run in this call (so a long sweep can report progress between
calls); losses (K, E): losses[k, e] is configuration k's mean loss in epoch e; diverged
(K,) int64: -1, or the epoch whose loss or parameters became non-finite; P[:, k] then
holds the parameters from the start of that epoch and k trains no further (losses NaN);
ckpt_epochs (C,) sorted epoch indices after which P is copied into ckpt (C, n_params, K).
Blocks only touch their own columns, so calls on disjoint blocks may run concurrently.

``fastnn.sweep`` trains networks past the generated kernels with ``kernels.sweeplanes``
(the same contract and arithmetic, 3-8x faster); this kernel stays as the plain-loop
statement of it, and its lane forward pass and ``_end_epoch`` serve the other lane
kernels (``lane_metrics``, ``sweepgen``, ``sweeplanes``).
"""
import numpy as np
from numba import njit

from ..spec import ACT, B_OFF, HEADER, N_IN, N_OUT, ROW, SOFTMAX, UNIT_OFF, W_OFF
from .generic import activate, output_delta, sample_loss, times_derivative
from .rng import shuffle_order


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _lane_forward(p, layout, X, order, t, shuffled, z, a, lanes):
    n_in0 = X.shape[1]
    for c in range(lanes):
        s = order[c, t] if shuffled else t
        for i in range(n_in0):
            a[i, c] = X[s, i]
    for l in range(layout[0]):
        r = HEADER + ROW * l
        n_in, n_out, w, b = layout[r + N_IN], layout[r + N_OUT], layout[r + W_OFF], layout[r + B_OFF]
        code, u = layout[r + ACT], layout[r + UNIT_OFF]
        src = u - n_in
        for j in range(n_out):
            for c in range(lanes):
                z[u + j, c] = 0.0
        for i in range(n_in):
            for j in range(n_out):
                q = w + i * n_out + j
                for c in range(lanes):
                    z[u + j, c] += a[src + i, c] * p[q, c]
        if b >= 0:
            for j in range(n_out):
                for c in range(lanes):
                    z[u + j, c] += p[b + j, c]
        if code == SOFTMAX:
            for c in range(lanes):
                biggest = z[u, c]
                for j in range(1, n_out):
                    if z[u + j, c] > biggest:
                        biggest = z[u + j, c]
                total = 0.0
                for j in range(n_out):
                    a[u + j, c] = np.exp(z[u + j, c] - biggest)
                    total += a[u + j, c]
                for j in range(n_out):
                    a[u + j, c] = a[u + j, c] / total
        else:
            for j in range(n_out):
                for c in range(lanes):
                    a[u + j, c] = activate(code, z[u + j, c])


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _lane_backward(p, layout, Y, order, t, shuffled, z, a, d, g, rate, fused, lanes, loss_sum, zc, ac, dc):
    """Loss into loss_sum, then backpropagation: p -= rate * grad (fused) or g += grad."""
    n_layers = layout[0]
    r = HEADER + ROW * (n_layers - 1)
    u_out, n_out_last, code_last = layout[r + UNIT_OFF], layout[r + N_OUT], layout[r + ACT]
    for c in range(lanes):
        s = order[c, t] if shuffled else t
        # the output layer's columns of lane c, contiguous for the shared scalar helpers
        for j in range(n_out_last):
            zc[u_out + j] = z[u_out + j, c]
            ac[u_out + j] = a[u_out + j, c]
        loss_sum[c] += sample_loss(layout[1], ac, u_out, n_out_last, Y, s)
        output_delta(layout[1], code_last, zc, ac, dc, u_out, n_out_last, Y, s)
        for j in range(n_out_last):
            d[u_out + j, c] = dc[u_out + j]
    for l in range(n_layers - 1, -1, -1):
        r = HEADER + ROW * l
        n_in, n_out, w, b = layout[r + N_IN], layout[r + N_OUT], layout[r + W_OFF], layout[r + B_OFF]
        u = layout[r + UNIT_OFF]
        src = u - n_in
        if l > 0:
            below = layout[HEADER + ROW * (l - 1) + ACT]
            for i in range(n_in):
                for c in range(lanes):
                    d[src + i, c] = 0.0
                for j in range(n_out):
                    q = w + i * n_out + j
                    for c in range(lanes):
                        d[src + i, c] += p[q, c] * d[u + j, c]
                for c in range(lanes):
                    d[src + i, c] = times_derivative(below, d[src + i, c], z[src + i, c], a[src + i, c])
        for i in range(n_in):
            for j in range(n_out):
                q = w + i * n_out + j
                if fused:
                    for c in range(lanes):
                        p[q, c] -= rate[c] * (a[src + i, c] * d[u + j, c])
                else:
                    for c in range(lanes):
                        g[q, c] += a[src + i, c] * d[u + j, c]
        if b >= 0:
            for j in range(n_out):
                if fused:
                    for c in range(lanes):
                        p[b + j, c] -= rate[c] * d[u + j, c]
                else:
                    for c in range(lanes):
                        g[b + j, c] += d[u + j, c]


@njit(cache=True, nogil=True, error_model="numpy")
def train(P, X, Y, lr, batch_size, shuffle, states, e_start, e_stop, losses, diverged, ckpt_epochs, ckpt, k0, k1, layout):
    n = X.shape[0]
    n_params = P.shape[0]
    units = layout[3]
    if True:  # one block of lanes (kept indented like the generated kernels)
        lanes = k1 - k0
        p = np.empty((n_params, lanes))
        for q in range(n_params):
            for c in range(lanes):
                p[q, c] = P[q, k0 + c]
        start = np.empty((n_params, lanes))
        # np.full, not np.zeros: nnfs.init() replaces np.zeros, and numba could not type the
        # replacement in a kernel compiled after it (kernels use no numpy function nnfs patches)
        g = np.full((n_params, lanes), 0.0)
        z = np.empty((units, lanes))
        a = np.empty((units, lanes))
        d = np.empty((units, lanes))
        zc, ac, dc = np.empty(units), np.empty(units), np.empty(units)
        rate = lr[k0 : k0 + lanes].copy()
        state = states[k0 : k0 + lanes].copy()
        order = np.empty((lanes, n), dtype=np.int64)
        loss_sum = np.empty(lanes)
        done = np.empty(lanes, dtype=np.bool_)
        for c in range(lanes):
            done[c] = diverged[k0 + c] >= 0
        for e in range(e_start, e_stop):
            if shuffle:
                for c in range(lanes):
                    state[c] = shuffle_order(order[c], True, state[c])
            for q in range(n_params):  # (loops: numba's 2-d slice assignment compiles slowly)
                for c in range(lanes):
                    start[q, c] = p[q, c]
            loss_sum[:] = 0.0
            for first in range(0, n, batch_size):
                stop = min(first + batch_size, n)
                fused = batch_size == 1
                if not fused:
                    for q in range(n_params):
                        for c in range(lanes):
                            g[q, c] = 0.0
                for t in range(first, stop):
                    _lane_forward(p, layout, X, order, t, shuffle, z, a, lanes)
                    _lane_backward(p, layout, Y, order, t, shuffle, z, a, d, g, rate, fused, lanes, loss_sum, zc, ac, dc)
                if not fused:
                    m = stop - first
                    for q in range(n_params):
                        for c in range(lanes):
                            p[q, c] -= rate[c] * (g[q, c] / m)
            _end_epoch(P, p, start, loss_sum, n, e, k0, lanes, done, losses, diverged, ckpt_epochs, ckpt)
        for c in range(lanes):
            states[k0 + c] = state[c]
            if not done[c]:
                for q in range(n_params):
                    P[q, k0 + c] = p[q, c]


@njit(cache=True, nogil=True, error_model="numpy")
def _end_epoch(P, p, start, loss_sum, n, e, k0, lanes, done, losses, diverged, ckpt_epochs, ckpt):
    """Record epoch e for every lane: its loss, divergence, and checkpoint copies."""
    n_params = p.shape[0]
    slot = -1
    for i in range(ckpt_epochs.shape[0]):
        if ckpt_epochs[i] == e:
            slot = i
    for c in range(lanes):
        k = k0 + c
        if done[c]:
            if slot >= 0:
                for q in range(n_params):
                    ckpt[slot, q, k] = P[q, k]
            continue
        mean = loss_sum[c] / n
        finite = np.isfinite(mean)
        for q in range(n_params):
            if not np.isfinite(p[q, c]):
                finite = False
        if finite:
            losses[k, e] = mean
            source = p
        else:
            done[c] = True
            diverged[k] = e
            losses[k, e:] = np.nan
            for q in range(n_params):
                P[q, k] = start[q, c]
            source = start
        if slot >= 0:
            for q in range(n_params):
                ckpt[slot, q, k] = source[q, c]
