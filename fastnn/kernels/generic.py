"""Generic numba kernels: any depth, widths, activations and loss, over the flat params.

The kernels assume clean input (validated by ``fastnn.network``): C-contiguous float64
``params`` (P,), ``X`` (n, n_in), ``Y`` (n, n_out), and the int64 ``layout`` from
``Spec.layout()``. They never raise and never allocate inside their loops.

Work buffers have one slot per unit of the network (inputs included, ``sum(sizes)``):
``z`` the net inputs, ``a`` the outputs (``a[:n_in]`` holds the sample), ``d`` dL/dz.
Layer l's outputs live at ``layout`` unit offset ``u``; its inputs at ``u - n_in``.
``wt`` (P,) holds every weight matrix transposed, (n_out, n_in) row-major at the matrix's
own offset, so that the backward pass also runs along contiguous rows; it is updated with
the same arithmetic as ``params`` (or re-derived after a batch step).

Matrix loops go through ``kernels.blocks`` (register blocks, SIMD after SLP). The
arithmetic follows ``fastnn.reference`` operation for operation (same summation order,
same formulas), so the two agree to the last bit on ordinary inputs.
"""
import numpy as np
from numba import njit

from ..spec import (
    ACT,
    B_OFF,
    BINARY_CROSS_ENTROPY,
    CATEGORICAL_CROSS_ENTROPY,
    CLIP,
    GAUSSIAN,
    HALF_SQUARED_ERROR,
    HEADER,
    MEAN_ABSOLUTE_ERROR,
    MSE,
    N_IN,
    N_OUT,
    RELU,
    ROW,
    SIGMOID,
    SOFTMAX,
    SQUARED_ERROR,
    TANH,
    UNIT_OFF,
    W_OFF,
)
from .blocks import accumulate, dot, step
from .compiler import HELPER
from .optim import apply, bias_corrections, keep_multiplier, penalized, step_rate
from .rng import shuffle_order

_KW = dict(cache=True, nogil=True, error_model="numpy")
# The per-sample functions are inlined into the kernels (numba IR level), so that no
# array crosses a call boundary in the inner loops (each crossing costs reference counts).
_INLINE = dict(_KW, inline="always")


@njit(**_INLINE)
def sigmoid(z):
    # Two branches so that exp never sees a large positive argument (no overflow).
    if z >= 0.0:
        return 1.0 / (1.0 + np.exp(-z))
    e = np.exp(z)
    return e / (1.0 + e)


@njit(**_INLINE)
def activate(code, z):
    if code == RELU:
        return z if z > 0.0 else 0.0
    if code == SIGMOID:
        return sigmoid(z)
    if code == TANH:
        return np.tanh(z)
    if code == GAUSSIAN:
        return np.exp(-(z * z))
    return z


@njit(**_INLINE)
def activate_layer(code, z, a, u, n):
    """a[u:u+n] = f(z[u:u+n]) for an element-wise activation: one loop per code, so that
    the branch on the code is taken once per layer, not once per neuron."""
    if code == RELU:
        for j in range(u, u + n):
            a[j] = z[j] if z[j] > 0.0 else 0.0
    elif code == SIGMOID:
        for j in range(u, u + n):
            a[j] = sigmoid(z[j])
    elif code == TANH:
        for j in range(u, u + n):
            a[j] = np.tanh(z[j])
    elif code == GAUSSIAN:
        for j in range(u, u + n):
            a[j] = np.exp(-(z[j] * z[j]))
    else:
        for j in range(u, u + n):
            a[j] = z[j]


@njit(**_INLINE)
def derivative(code, z, a):
    if code == RELU:
        return 1.0 if z > 0.0 else 0.0
    if code == SIGMOID:
        return a * (1.0 - a)
    if code == TANH:
        return 1.0 - a * a
    if code == GAUSSIAN:
        return -2.0 * z * a
    return 1.0


@njit(**_INLINE)
def times_derivative(code, value, z, a):
    """value * f'(z); an inactive ReLU passes exactly 0 (a select: 0 * inf would be nan)."""
    if code == RELU:
        return value if z > 0.0 else 0.0
    return value * derivative(code, z, a)


@njit(**_INLINE)
def scale_by_derivative(code, z, a, d, u, n):
    """d[u:u+n] *= f'(z[u:u+n]), one loop per code (see activate_layer and
    times_derivative)."""
    if code == RELU:
        for i in range(u, u + n):
            d[i] = d[i] if z[i] > 0.0 else 0.0
    elif code == SIGMOID:
        for i in range(u, u + n):
            d[i] = d[i] * (a[i] * (1.0 - a[i]))
    elif code == TANH:
        for i in range(u, u + n):
            d[i] = d[i] * (1.0 - a[i] * a[i])
    elif code == GAUSSIAN:
        for i in range(u, u + n):
            d[i] = d[i] * (-2.0 * z[i] * a[i])


@njit(**_INLINE)
def clip(p):
    return min(max(p, CLIP), 1.0 - CLIP)


@njit(**_INLINE)
def forward(params, layout, X, s, z, a):
    """Sample X[s] through the network; the prediction ends in a[-n_out:]."""
    for i in range(X.shape[1]):
        a[i] = X[s, i]
    for l in range(layout[0]):
        r = HEADER + ROW * l
        n_in, n_out, w, b = layout[r + N_IN], layout[r + N_OUT], layout[r + W_OFF], layout[r + B_OFF]
        code, u = layout[r + ACT], layout[r + UNIT_OFF]
        # z_j = (a_0 W[0, j] + a_1 W[1, j] + ...) + b_j, in blocks of neighbouring j
        dot(params, w, n_out, a, u - n_in, n_in, z, u, n_out)
        if b >= 0:
            for j in range(n_out):
                z[u + j] += params[b + j]
        if code == SOFTMAX:
            biggest = z[u]
            for j in range(1, n_out):
                if z[u + j] > biggest:
                    biggest = z[u + j]
            total = 0.0
            for j in range(n_out):
                a[u + j] = np.exp(z[u + j] - biggest)
                total += a[u + j]
            for j in range(n_out):
                a[u + j] = a[u + j] / total
        else:
            activate_layer(code, z, a, u, n_out)


@njit(**_INLINE)
def sample_loss(loss, a, u, n_out, Y, s):
    """Per-sample loss of the prediction a[u:u+n_out] against target row y."""
    total = 0.0
    if loss == BINARY_CROSS_ENTROPY:
        for j in range(n_out):
            p = clip(a[u + j])
            total += -(Y[s, j] * np.log(p) + (1.0 - Y[s, j]) * np.log(1.0 - p))
        return total / n_out
    if loss == CATEGORICAL_CROSS_ENTROPY:
        for j in range(n_out):
            total += clip(a[u + j]) * Y[s, j]
        return -np.log(total)
    if loss == MEAN_ABSOLUTE_ERROR:
        for j in range(n_out):
            total += abs(a[u + j] - Y[s, j])
        return total / n_out
    for j in range(n_out):
        diff = a[u + j] - Y[s, j]
        total += diff * diff
    if loss == HALF_SQUARED_ERROR:
        return 0.5 * total
    if loss == MSE:
        return total / n_out
    return total


@njit(**_INLINE)
def output_delta(loss, code, z, a, d, u, n_out, Y, s):
    """dL/dz of every output neuron into d[u:u+n_out] (see reference.output_delta)."""
    if loss == CATEGORICAL_CROSS_ENTROPY:
        for k in range(n_out):
            d[u + k] = a[u + k] - Y[s, k]
        return
    if loss == BINARY_CROSS_ENTROPY and code == SIGMOID:
        for k in range(n_out):
            d[u + k] = (a[u + k] - Y[s, k]) / n_out
        return
    for k in range(n_out):  # dL/dyhat first
        if loss == SQUARED_ERROR:
            d[u + k] = 2.0 * (a[u + k] - Y[s, k])
        elif loss == HALF_SQUARED_ERROR:
            d[u + k] = a[u + k] - Y[s, k]
        elif loss == MSE:
            d[u + k] = 2.0 * (a[u + k] - Y[s, k]) / n_out
        elif loss == MEAN_ABSOLUTE_ERROR:
            diff = a[u + k] - Y[s, k]
            d[u + k] = (1.0 if diff > 0.0 else (-1.0 if diff < 0.0 else 0.0)) / n_out
        else:
            p = clip(a[u + k])
            d[u + k] = (-(Y[s, k] / p) + (1.0 - Y[s, k]) / (1.0 - p)) / n_out
    if code == SOFTMAX:
        weighted = 0.0
        for j in range(n_out):
            weighted += d[u + j] * a[u + j]
        for k in range(n_out):
            d[u + k] = a[u + k] * (d[u + k] - weighted)
    else:
        for k in range(n_out):
            d[u + k] = times_derivative(code, d[u + k], z[u + k], a[u + k])


@njit(**_INLINE)
def backward(params, wt, layout, Y, s, z, a, d, grad, lr, fused):
    """Backpropagate sample s, whose forward pass is in z and a.

    ``fused``: per-sample SGD, ``params -= lr * gradient`` (and the same on ``wt``) layer
    by layer, each layer's weights used for the layer below's error before they change.
    Otherwise the sample's gradient is added into ``grad``.
    """
    n_layers = layout[0]
    r = HEADER + ROW * (n_layers - 1)
    output_delta(layout[1], layout[r + ACT], z, a, d, layout[r + UNIT_OFF], layout[r + N_OUT], Y, s)
    for l in range(n_layers - 1, -1, -1):
        r = HEADER + ROW * l
        n_in, n_out, w, b = layout[r + N_IN], layout[r + N_OUT], layout[r + W_OFF], layout[r + B_OFF]
        u = layout[r + UNIT_OFF]
        src = u - n_in
        if l > 0:
            # d_below[i] = f'(z_i) * (W[i, 0] d_0 + W[i, 1] d_1 + ...), from rows of W^T
            dot(wt, w, n_in, d, u, n_out, d, src, n_in)
            scale_by_derivative(layout[HEADER + ROW * (l - 1) + ACT], z, a, d, src, n_in)
        if fused:
            step(params, w, n_out, a, src, n_in, d, u, n_out, lr)
            if l > 0:
                step(wt, w, n_in, d, u, n_out, a, src, n_in, lr)
            if b >= 0:
                for j in range(n_out):
                    params[b + j] -= lr * d[u + j]
        else:
            accumulate(grad, w, n_out, a, src, n_in, d, u, n_out)
            if b >= 0:
                for j in range(n_out):
                    grad[b + j] += d[u + j]


@njit(**HELPER)
def transpose(params, layout, wt, first=1):
    """wt[W_l^T] = params[W_l] for the layers from ``first`` on (by default those that
    pass an error further down)."""
    for l in range(first, layout[0]):
        r = HEADER + ROW * l
        n_in, n_out, w = layout[r + N_IN], layout[r + N_OUT], layout[r + W_OFF]
        for i in range(n_in):
            for j in range(n_out):
                wt[w + j * n_in + i] = params[w + i * n_out + j]


@njit(**_INLINE)
def _buffers(layout):
    units = layout[3]
    return np.empty(units), np.empty(units), np.empty(units)


@njit(**_INLINE)
def _output(layout):
    r = HEADER + ROW * (layout[0] - 1)
    return layout[r + UNIT_OFF], layout[r + N_OUT]


# predict, mean_loss and mean_gradient allocate their buffers, then loop over the samples
# in a helper without NRT: there the per-sample calls (dot, per layer) pass their arrays
# without numba's atomic reference counting (15-30 ns an array a call).


@njit(**_KW)
def predict(params, layout, X, out):
    """Predictions of every row of X into out (n, n_out)."""
    z, a, _ = _buffers(layout)
    _predict_rows(params, layout, X, out, z, a)


@njit(**HELPER)
def _predict_rows(params, layout, X, out, z, a):
    u, n_out = _output(layout)
    for s in range(X.shape[0]):
        forward(params, layout, X, s, z, a)
        for j in range(n_out):
            out[s, j] = a[u + j]


@njit(**_KW)
def mean_loss(params, layout, X, Y):
    """Mean per-sample loss over the data set."""
    z, a, _ = _buffers(layout)
    return _loss_rows(params, layout, X, Y, z, a) / X.shape[0]


@njit(**HELPER)
def _loss_rows(params, layout, X, Y, z, a):
    """The sum of the per-sample losses, in sample order."""
    u, n_out = _output(layout)
    total = 0.0
    for s in range(X.shape[0]):
        forward(params, layout, X, s, z, a)
        total += sample_loss(layout[1], a, u, n_out, Y, s)
    return total


@njit(**_KW)
def mean_gradient(params, layout, X, Y, grad):
    """Gradient of the mean loss into grad (P,); returns the mean loss."""
    z, a, d = _buffers(layout)
    wt = np.empty(params.shape[0])
    transpose(params, layout, wt)
    return _gradient_rows(params, wt, layout, X, Y, grad, z, a, d)


@njit(**HELPER)
def _gradient_rows(params, wt, layout, X, Y, grad, z, a, d):
    u, n_out = _output(layout)
    grad[:] = 0.0
    total = 0.0
    for s in range(X.shape[0]):
        forward(params, layout, X, s, z, a)
        total += sample_loss(layout[1], a, u, n_out, Y, s)
        backward(params, wt, layout, Y, s, z, a, d, grad, 0.0, False)
    n = X.shape[0]
    for p in range(grad.shape[0]):
        grad[p] = grad[p] / n
    return total / n


@njit(**_INLINE)
def diverged(params, start_params, epoch_mean, e, history):
    """End of epoch e: record its mean loss, or, if it or a parameter is not finite,
    restore the parameters from the epoch's start, fill history[e:] with NaN and say so."""
    if np.isfinite(epoch_mean) and all_finite(params):
        history[e] = epoch_mean
        return False
    for q in range(params.shape[0]):  # (loops: numba's slice assignments compile slowly)
        params[q] = start_params[q]
    for rest in range(e, history.shape[0]):
        history[rest] = np.nan
    return True


@njit(**HELPER)
def all_finite(values):
    for v in values:
        if not np.isfinite(v):
            return False
    return True


@njit(**_KW)
def train(params, layout, X, Y, lr, epochs, shuffle, seed, history):
    """A whole run of per-sample SGD in place on params (``train_batched`` does batches);
    see ``reference.train`` for the semantics.

    Writes the mean loss of epoch e into history[e]. Returns -1, or the index of the
    epoch that produced a non-finite loss or parameter: params are then restored to
    their values at its start and history[e:] is NaN.
    """
    z, a, d = _buffers(layout)
    wt = np.empty(params.shape[0])
    transpose(params, layout, wt)
    return _train_epochs(params, wt, layout, X, Y, lr, epochs, shuffle, seed, history, z, a, d, np.empty(0),
                         np.empty(params.shape[0]), np.empty(X.shape[0], dtype=np.int64))


@njit(**HELPER)
def _train_epochs(params, wt, layout, X, Y, lr, epochs, shuffle, seed, history, z, a, d, unused, start_params, order):
    """``train``'s epochs, on the arrays it allocated: no NRT here, so the calls of every
    sample (blocks' dot and step) cost no reference counting (see compiler.HELPER)."""
    n = X.shape[0]
    u, n_out = _output(layout)
    loss = layout[1]
    state = np.uint64(seed)
    for e in range(epochs):
        state = shuffle_order(order, shuffle, state)
        for q in range(params.shape[0]):
            start_params[q] = params[q]
        epoch_loss = 0.0
        for k in range(n):
            s = order[k]
            forward(params, layout, X, s, z, a)
            epoch_loss += sample_loss(loss, a, u, n_out, Y, s)
            backward(params, wt, layout, Y, s, z, a, d, unused, lr, True)
        if diverged(params, start_params, epoch_loss / n, e, history):
            return e
    return -1


# The batch steps below are inlined into the epoch loops, which are helpers without NRT
# (_batched_epochs, _monitored_epochs): called, each passed its dozen arrays as numba
# array structs (pointer, shape, strides, ...), about 480 ns a step in all for a 2-2-1
# network (per-sample Adam 591 -> 196 ns a step; 7 s more to compile, once per machine).


@njit(**_INLINE)
def _batch_forward(params, wt, layout, l, zu, au, bs, m):
    """Layer l for the m samples of a batch at once (unit-major buffers, row stride bs)."""
    r = HEADER + ROW * l
    n_in, n_out, w, bo = layout[r + N_IN], layout[r + N_OUT], layout[r + W_OFF], layout[r + B_OFF]
    code, u = layout[r + ACT], layout[r + UNIT_OFF]
    src = u - n_in
    for j in range(n_out):
        # z[j, b] = (a[0, b] W[0, j] + a[1, b] W[1, j] + ...) + bias_j, all b at once
        dot(au, src * bs, bs, wt, w + j * n_in, n_in, zu, (u + j) * bs, m)
        if bo >= 0:
            for b in range(m):
                zu[(u + j) * bs + b] += params[bo + j]
    if code == SOFTMAX:
        for b in range(m):
            biggest = zu[u * bs + b]
            for j in range(1, n_out):
                if zu[(u + j) * bs + b] > biggest:
                    biggest = zu[(u + j) * bs + b]
            total = 0.0
            for j in range(n_out):
                au[(u + j) * bs + b] = np.exp(zu[(u + j) * bs + b] - biggest)
                total += au[(u + j) * bs + b]
            for j in range(n_out):
                au[(u + j) * bs + b] = au[(u + j) * bs + b] / total
    else:
        for j in range(n_out):
            activate_layer(code, zu, au, (u + j) * bs, m)


@njit(**_INLINE)
def _batch_dropout(layout, l, au, pu, mk, bs, m, rate, base, first_draw, per_sample):
    """Inverted dropout on hidden layer l's outputs: pu keeps them, mk gets each unit's
    multiplier (kernels.optim.keep_multiplier; draw number first_draw + b * per_sample +
    the unit's hidden index for sample b of the batch), au the dropped values."""
    r = HEADER + ROW * l
    n_out, u = layout[r + N_OUT], layout[r + UNIT_OFF]
    hidden = u - layout[HEADER + N_IN]  # units of the hidden layers below this one
    for j in range(n_out):
        row = (u + j) * bs
        for b in range(m):
            keep = keep_multiplier(base, first_draw + b * per_sample + hidden + j, rate)
            pu[row + b] = au[row + b]
            mk[row + b] = keep
            au[row + b] = au[row + b] * keep


@njit(**_INLINE)
def _batch_backward(params, layout, l, zu, au, du, at, dt, grad, bs, m, rates, pu, mk):
    """Layer l's gradient sums over the batch (samples in order) and the error signal of
    the layer below; du holds layer l's dL/dz. A layer below with a dropout rate in
    ``rates`` passes its error through its multipliers mk and takes f' from the outputs
    before dropout, pu (see _batch_dropout)."""
    units = layout[3]
    r = HEADER + ROW * l
    n_in, n_out, w, bo = layout[r + N_IN], layout[r + N_OUT], layout[r + W_OFF], layout[r + B_OFF]
    u = layout[r + UNIT_OFF]
    src = u - n_in
    if l > 0:
        below = layout[HEADER + ROW * (l - 1) + ACT]
        dropped = rates[l - 1] != 0.0
        for i in range(n_in):
            # d[i, b] = f'(z[i, b]) (W[i, 0] d[0, b] + W[i, 1] d[1, b] + ...)
            dot(du, u * bs, bs, params, w + i * n_out, n_out, du, (src + i) * bs, m)
            if dropped:
                row = (src + i) * bs
                for b in range(m):
                    du[row + b] = du[row + b] * mk[row + b]
                scale_by_derivative(below, zu, pu, du, row, m)
            else:
                scale_by_derivative(below, zu, au, du, (src + i) * bs, m)
    # gradient sums over the batch's samples, in order, along the wider side
    if n_out >= n_in:
        for j in range(n_out):
            for b in range(m):
                dt[b * units + u + j] = du[(u + j) * bs + b]
        for i in range(n_in):
            dot(dt, u, units, au, (src + i) * bs, m, grad, w + i * n_out, n_out)
    else:
        for i in range(n_in):
            for b in range(m):
                at[b * units + src + i] = au[(src + i) * bs + b]
        for j in range(n_out):
            # lands transposed: grad[w + j * n_in + i]
            dot(at, src, units, du, (u + j) * bs, m, grad, w + j * n_in, n_in)
    if bo >= 0:
        for j in range(n_out):
            total = 0.0
            for b in range(m):
                total += du[(u + j) * bs + b]
            grad[bo + j] = total


@njit(**HELPER)
def _batch_update(params, layout, grad, lr, m):
    """params -= lr * (gradient sum / m), reading each layer's sums where _batch_backward
    left them (row-major, or transposed when the layer is wider at its input)."""
    for l in range(layout[0]):
        r = HEADER + ROW * l
        n_in, n_out, w, bo = layout[r + N_IN], layout[r + N_OUT], layout[r + W_OFF], layout[r + B_OFF]
        if n_out >= n_in:
            for q in range(w, w + n_in * n_out):
                params[q] -= lr * (grad[q] / m)
        else:
            for i in range(n_in):
                for j in range(n_out):
                    params[w + i * n_out + j] -= lr * (grad[w + j * n_in + i] / m)
        if bo >= 0:
            for j in range(n_out):
                params[bo + j] -= lr * (grad[bo + j] / m)


@njit(**_INLINE)
def _batch_gradient(params, wt, layout, X, Y, order, start, m, bs, zu, au, du, at, dt, zc, ac, dc, grad, rates,
                    pu, mk, dropout_base, first_draw, per_sample, epoch_loss):
    """The m samples order[start:start + m] forward (with dropout where ``rates`` say,
    see _batch_dropout), their losses added to ``epoch_loss`` one at a time in order (the
    sum is returned), and their gradient sums backward into ``grad``."""
    n_layers = layout[0]
    r_out = HEADER + ROW * (n_layers - 1)
    u_out, n_last, code_last = layout[r_out + UNIT_OFF], layout[r_out + N_OUT], layout[r_out + ACT]
    for b in range(m):
        s = order[start + b]
        for i in range(X.shape[1]):
            au[i * bs + b] = X[s, i]
    for l in range(n_layers):
        _batch_forward(params, wt, layout, l, zu, au, bs, m)
        if rates[l] != 0.0:
            _batch_dropout(layout, l, au, pu, mk, bs, m, rates[l], dropout_base, first_draw, per_sample)
    for b in range(m):  # loss and output error, one sample at a time, in order
        s = order[start + b]
        for j in range(n_last):
            zc[u_out + j] = zu[(u_out + j) * bs + b]
            ac[u_out + j] = au[(u_out + j) * bs + b]
        epoch_loss += sample_loss(layout[1], ac, u_out, n_last, Y, s)
        output_delta(layout[1], code_last, zc, ac, dc, u_out, n_last, Y, s)
        for j in range(n_last):
            du[(u_out + j) * bs + b] = dc[u_out + j]
    for l in range(n_layers - 1, -1, -1):
        _batch_backward(params, layout, l, zu, au, du, at, dt, grad, bs, m, rates, pu, mk)
    return epoch_loss


@njit(**_KW)
def train_batched(params, layout, X, Y, lr, epochs, batch_size, shuffle, seed, history):
    """Mini-batch / full-batch SGD with the samples of a batch side by side.

    Same contract and the same arithmetic per sample as ``train`` (every sum in the
    reference's order), but the loops run across the samples of a batch, which are
    independent until the update: net inputs are stored unit-major ``(unit, sample)`` so
    that one block of accumulators covers many samples (narrow layers no longer wait on
    one long chain of additions), and sample-major copies ``(sample, unit)`` feed the
    gradient sums, which run over the samples in order. The per-layer work is in separate
    (not inlined) functions: small functions vectorise reliably, and a call per layer and
    batch costs nothing measurable.
    """
    n = X.shape[0]
    n_layers, units, n_params = layout[0], layout[3], params.shape[0]
    bs = batch_size
    zu, au, du = np.empty(units * bs), np.empty(units * bs), np.empty(units * bs)
    at, dt = np.empty(bs * units), np.empty(bs * units)
    zc, ac, dc = np.empty(units), np.empty(units), np.empty(units)
    wt = np.empty(n_params)
    transpose(params, layout, wt, 0)
    no_dropout = np.full(n_layers, 0.0)  # not np.zeros, which nnfs.init() replaces (see sweep_generic)
    return _batched_epochs(params, wt, layout, X, Y, lr, epochs, bs, shuffle, seed, history, zu, au, du, at, dt, zc,
                           ac, dc, np.empty(n_params), np.empty(n_params), np.empty(n, dtype=np.int64), no_dropout)


@njit(**HELPER)
def _batched_epochs(params, wt, layout, X, Y, lr, epochs, bs, shuffle, seed, history, zu, au, du, at, dt, zc, ac, dc,
                    grad, start_params, order, no_dropout):
    """``train_batched``'s epochs, on the arrays it allocated (no NRT: see ``_train_epochs``)."""
    n = X.shape[0]
    state = np.uint64(seed)
    for e in range(epochs):
        state = shuffle_order(order, shuffle, state)
        for q in range(params.shape[0]):
            start_params[q] = params[q]
        epoch_loss = 0.0
        for start in range(0, n, bs):
            m = min(start + bs, n) - start
            epoch_loss = _batch_gradient(params, wt, layout, X, Y, order, start, m, bs, zu, au, du, at, dt, zc, ac,
                                         dc, grad, no_dropout, au, au, state, 0, 0, epoch_loss)
            _batch_update(params, layout, grad, lr, m)
            transpose(params, layout, wt, 0)
        if diverged(params, start_params, epoch_loss / n, e, history):
            return e
    return -1


@njit(**_INLINE)
def _general_update(params, layout, grad, m, lr_t, hyper, penalties, first, second, unbias1, unbias2):
    """One optimizer step: each parameter's gradient is its batch sum / m (read where
    _batch_backward left it), plus the layer's L1/L2 terms, then kernels.optim.apply."""
    for l in range(layout[0]):
        r = HEADER + ROW * l
        n_in, n_out, w, bo = layout[r + N_IN], layout[r + N_OUT], layout[r + W_OFF], layout[r + B_OFF]
        l1, l2, l1b, l2b = penalties[l, 0], penalties[l, 1], penalties[l, 2], penalties[l, 3]
        wide_in = n_out < n_in  # the sums of this layer lie transposed
        for i in range(n_in):
            for j in range(n_out):
                q = w + i * n_out + j
                g = grad[w + j * n_in + i] if wide_in else grad[q]
                g = penalized(g / m, params[q], l1, l2)
                params[q], first[q], second[q] = apply(hyper, params[q], g, first[q], second[q], lr_t, unbias1, unbias2)
        if bo >= 0:
            for j in range(n_out):
                q = bo + j
                g = penalized(grad[q] / m, params[q], l1b, l2b)
                params[q], first[q], second[q] = apply(hyper, params[q], g, first[q], second[q], lr_t, unbias1, unbias2)


@njit(**_KW)
def train_general(params, layout, X, Y, lr, epochs, batch_size, shuffle, history, hyper, penalties, rates,
                  first, second, clock, rng):
    """Training with any optimizer, L1/L2 penalties and dropout: ``reference.train``.

    The batch path of ``train_batched`` (any batch size, 1 included), with the update
    step of ``fastnn.optim``'s optimizer (``hyper``) in place of plain SGD, the
    ``penalties`` (n_layers, 4: l1, l2, l1_bias, l2_bias) added to each mean gradient,
    and inverted dropout on the hidden outputs at ``rates`` (n_layers,). The state is
    continued and left for a warm start: ``first``/``second`` (P,) per-parameter
    optimizer states, ``clock`` int64 (2,): the step counter t and the samples seen,
    ``rng`` uint64 (2,): the shuffling state and dropout's stream base. On divergence
    every one of them is restored with the parameters to the epoch's start.

    ``train_monitored`` without held-out data, metrics or early stopping.
    """
    empty = np.empty((0, X.shape[1]))
    return train_monitored(params, layout, X, Y, lr, epochs, batch_size, shuffle, history, hyper, penalties, rates,
                           first, second, clock, rng, empty, np.empty((0, Y.shape[1])), np.full(5, 0),
                           0.0, np.empty((4, 0)), np.full(2, -1))


# Accuracy kinds, as fastnn.history: none, argmax (softmax), 0.5 threshold (binary).
_ARGMAX, _THRESHOLD = 1, 2


@njit(**_INLINE)
def sample_correct(kind, a, u, n_out, Y, s):
    """``reference.correct``: how many of sample s's predictions a[u:u+n_out] are right
    (argmax: 0 or 1; threshold: per output; kind 0: 0)."""
    count = 0
    if kind == _ARGMAX:
        guess, truth = 0, 0
        for j in range(1, n_out):
            if a[u + j] > a[u + guess]:
                guess = j
            if Y[s, j] > Y[s, truth]:
                truth = j
        if guess == truth:
            count = 1
    elif kind == _THRESHOLD:
        for j in range(n_out):
            if (a[u + j] > 0.5) == (Y[s, j] > 0.5):
                count += 1
    return count


@njit(**_INLINE)
def accuracy(kind, count, n, n_out):
    """The fraction right of ``count`` over n samples (NaN for kind 0)."""
    if kind == _ARGMAX:
        return count / n
    if kind == _THRESHOLD:
        return count / (n * n_out)
    return np.nan


@njit(**HELPER)
def evaluate(params, layout, X, Y, z, a, kind):
    """``reference.evaluate``: (mean per-sample loss, accuracy) of the data set X, Y at
    ``params`` (NaN accuracy for kind 0); z and a are unit buffers."""
    u, n_out = _output(layout)
    loss = layout[1]
    total = 0.0
    count = 0
    n = X.shape[0]
    for s in range(n):
        forward(params, layout, X, s, z, a)
        total += sample_loss(loss, a, u, n_out, Y, s)
        count += sample_correct(kind, a, u, n_out, Y, s)
    return total / n, accuracy(kind, count, n, n_out)


@njit(**_KW)
def train_monitored(params, layout, X, Y, lr, epochs, batch_size, shuffle, history, hyper, penalties, rates,
                    first, second, clock, rng, Xv, Yv, watch, min_delta, curves, result):
    """``train_general`` with ``reference.train``'s ``validation``: metrics after every
    epoch and early stopping, inside the one call.

    ``watch`` int64 (5,): [has validation data (Xv, Yv), a pass over the training data
    each epoch, patience (0: never stop early), restore_best, accuracy kind (0, 1 argmax,
    2 threshold)]; ``min_delta``: the improvement that counts. After every finite epoch e,
    with its end parameters, ``evaluate`` writes curves[0, e] (validation loss), curves[1,
    e] (training accuracy), curves[2, e] (validation accuracy), curves[3, e] (training
    loss at the end of the epoch), each where its pass runs. ``result`` int64 (2,) gets
    the best epoch (-1 none) and the epoch early stopping ended after (-1 none); with
    restore_best and a patience the params end as those of the best epoch (the optimizer
    state as the last epoch left it). Returns the diverged epoch or -1, as train_general.
    """
    n_layers, units, n_params = layout[0], layout[3], params.shape[0]
    bs = batch_size
    zu, au, du = np.empty(units * bs), np.empty(units * bs), np.empty(units * bs)
    pu, mk = np.empty(units * bs), np.empty(units * bs)
    at, dt = np.empty(bs * units), np.empty(bs * units)
    zc, ac, dc = np.empty(units), np.empty(units), np.empty(units)
    wt = np.empty(n_params)
    transpose(params, layout, wt, 0)
    restoring = watch[2] > 0 and watch[3] != 0
    work = (zu, au, du, pu, mk, at, dt, zc, ac, dc, np.empty(n_params), wt, np.empty(3 * n_params),
            np.empty(X.shape[0], dtype=np.int64), np.empty(n_params if restoring else 0))
    return _monitored_epochs(params, layout, X, Y, lr, epochs, bs, shuffle, history, hyper, penalties, rates, first,
                             second, clock, rng, Xv, Yv, watch, min_delta, curves, result, work)


@njit(**HELPER)
def _monitored_epochs(params, layout, X, Y, lr, epochs, bs, shuffle, history, hyper, penalties, rates, first, second,
                      clock, rng, Xv, Yv, watch, min_delta, curves, result, work):
    """``train_monitored``'s epochs, on the arrays it allocated (``work``; no NRT: see
    ``_train_epochs``)."""
    zu, au, du, pu, mk, at, dt, zc, ac, dc, grad, wt, saved, order, best_params = work
    n = X.shape[0]
    n_layers, units, n_params = layout[0], layout[3], params.shape[0]
    n_last = layout[HEADER + ROW * (n_layers - 1) + N_OUT]
    per_sample = units - layout[HEADER + N_IN] - n_last  # hidden units: dropout draws per sample
    has_val, train_pass, patience, kind = watch[0] != 0, watch[1] != 0, watch[2], watch[4]
    restoring = patience > 0 and watch[3] != 0
    best, wait = np.inf, 0
    result[0], result[1] = -1, -1
    for e in range(epochs):
        for q in range(n_params):
            saved[q], saved[n_params + q], saved[2 * n_params + q] = params[q], first[q], second[q]
        t0, seen0, state0 = clock[0], clock[1], rng[0]
        rng[0] = shuffle_order(order, shuffle, rng[0])
        epoch_loss = 0.0
        for start in range(0, n, bs):
            m = min(start + bs, n) - start
            epoch_loss = _batch_gradient(params, wt, layout, X, Y, order, start, m, bs, zu, au, du, at, dt, zc, ac,
                                         dc, grad, rates, pu, mk, rng[1], clock[1] * per_sample, per_sample,
                                         epoch_loss)
            unbias1, unbias2 = bias_corrections(hyper, clock[0])
            _general_update(params, layout, grad, m, step_rate(lr, hyper, clock[0]), hyper, penalties, first, second,
                            unbias1, unbias2)
            transpose(params, layout, wt, 0)
            clock[0] += 1
            clock[1] += m
        if not (np.isfinite(epoch_loss / n) and all_finite(params)):
            for q in range(n_params):
                params[q], first[q], second[q] = saved[q], saved[n_params + q], saved[2 * n_params + q]
            clock[0], clock[1], rng[0] = t0, seen0, state0
            for rest in range(e, history.shape[0]):
                history[rest] = np.nan
            return e
        history[e] = epoch_loss / n
        if curves.shape[1] == 0:
            continue
        if train_pass:
            loss_end, accuracy = evaluate(params, layout, X, Y, zc, ac, kind)
            curves[3, e], curves[1, e] = loss_end, accuracy
        watched = history[e]
        if has_val:
            val_loss, val_accuracy = evaluate(params, layout, Xv, Yv, zc, ac, kind)
            curves[0, e], curves[2, e] = val_loss, val_accuracy
            watched = val_loss
        if watched < best - min_delta:
            best, wait, result[0] = watched, 0, e
            if restoring:
                for q in range(n_params):
                    best_params[q] = params[q]
        else:
            wait += 1
            if patience > 0 and wait >= patience:
                result[1] = e
                for rest in range(e + 1, history.shape[0]):
                    history[rest] = np.nan
                break
    if restoring and result[0] >= 0:
        for q in range(n_params):
            params[q] = best_params[q]
    return -1


# Argument types the wrappers pass (see kernels.compiler.compiled).
_P, _L, _M = "float64[::1]", "int64[::1]", "float64[:, ::1]"
SIGNATURES = {
    "predict": f"void({_P}, {_L}, {_M}, {_M})",
    "mean_loss": f"float64({_P}, {_L}, {_M}, {_M})",
    "mean_gradient": f"float64({_P}, {_L}, {_M}, {_M}, {_P})",
    "train": f"int64({_P}, {_L}, {_M}, {_M}, float64, int64, boolean, uint64, {_P})",
    "train_batched": f"int64({_P}, {_L}, {_M}, {_M}, float64, int64, int64, boolean, uint64, {_P})",
    "train_general": f"int64({_P}, {_L}, {_M}, {_M}, float64, int64, int64, boolean, {_P}, {_P}, {_M}, {_P}, {_P}, "
                     f"{_P}, int64[::1], uint64[::1])",
    "train_monitored": f"int64({_P}, {_L}, {_M}, {_M}, float64, int64, int64, boolean, {_P}, {_P}, {_M}, {_P}, {_P}, "
                       f"{_P}, int64[::1], uint64[::1], {_M}, {_M}, int64[::1], float64, {_M}, int64[::1])",
}
