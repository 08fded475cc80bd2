"""Shape-generic lane kernel for sweeps: one function, compiled once per machine, trains
blocks of configurations of any network (``fastnn.sweep`` uses it past the generated
kernels' 64 parameters).

The contract is ``sweep_generic.train``'s (``P[param, k]``, blocks k0..k1, epochs
e_start..e_stop, losses, divergence, checkpoints), and so is the arithmetic: every lane
does generic.train's operations in its order (sums from 0.0 in index order, no fast-math,
no FMA contraction), so results equal ``Network.fit`` and the other sweep kernels bit for
bit, whatever the block or the thread.

Two kernels come from one body (``_train``, inlined into each): ``train``, plain SGD,
and ``train_optim``, the optimizer mode (``sweep_options.LaneBlocks``: any optimizer of
fastnn.optim, decay and L1/L2, without dropout; sweepgen's OPTIM contract). The mode
takes generic.train_general's path: the gradient summed over the batch (per sample too),
then per parameter kernels.optim's penalty and update rule, run on <8 x double> halves
of each row (lanes8's arithmetic operators make the scalar ``*_step`` rules work on
vectors, lane-wise exact); the optimizer is read from ``hyper`` at run time and its
branch taken once per update, outside the parameter and lane loops, so one compiled
function serves every optimizer. Plain ``train`` compiles none of it (its ``hyper`` is
None and numba prunes those branches).

A third, ``train_dropout`` (``sweep_options.DropoutLaneBlocks``: every group with
dropout, whatever its size), is the optimizer mode with generic.train_general's inverted
dropout on the hidden outputs: each lane draws from its own stream (``bases``), the
sample numbered e * n + its position in epoch e (every configuration starts at epoch 0),
so slices of epochs need no counter carried; the draws of a unit go to a lane array
first (a loop LLVM vectorises), then the outputs before dropout and the multipliers are
kept in rows of their own for the backward pass (errors through the multipliers, f'
from the outputs before dropout). ``train_optim`` and ``train`` compile none of it
(``bases`` None). Measured (two threads, 256 configurations of Adam per sample, ns per
configuration-step): 2-8-1 20.0 with dropout 0.2 against 17.6 without (the generated
kernel) and 61.6 one at a time on fit's kernel; 2-32-1 58.6 / 52.9 / 130; 2-64-1 115 /
102 / 4,785 (generic.train_general); drawing a unit's mask lane by lane in ``work``
instead of a separate array cost 91 (2-32-1) and 165 (2-64-1). ``train_optim`` and
``train`` kept their speed (2-64-1 per sample, one thread, same process: Adam 1.015 ns
per parameter against 1.023 before, SGD 0.197 against 0.205). Compile (fresh cache, CPU
seconds, first of the three in the process): ``train_dropout`` 9.1.

It is built the way the generated sweep kernels (``kernels.sweepgen``) are, with the
network's shape read at run time:

* LANES configurations side by side, a literal count: the state of a block is one flat
  ``work`` array of rows of LANES float64 (parameters, gradient sums, rate, loss, per
  unit z, a and d, the sample's targets), row r at ``r * LANES``;
* every operation on parameters is a run-time loop over units around a lane row held in
  two ``<8 x double>`` vectors (``kernels.lanes8``), so values reused along a loop (a
  layer input a_i, the rate, a running sum) stay in registers and LLVM needs no overlap
  checks (rows of one array, indexed at run time, would need them in plain lane loops);
* one loop per layer per activation, the activation's branch taken outside the loops;
* the weight loops run along the wider side of each layer: inputs outer and units inner
  (a_i in registers; per-sample SGD reads each weight once for the error of the layer
  below and writes its step in the same pass), or, for layers narrower at the output
  (64 -> 1), units outer and inputs inner (the unit's sum in registers; the forward
  pass takes two units at a time, four chains: spiral sweep SGD 47.3-47.7 -> 46.6-47.1,
  Adam 52.3 -> 51.0-51.2 ns per configuration-step in alternating runs).

Measured (this 2-core VM, AMD Zen 5 with AVX-512, float64; bench/sweep_sizes.py and
bench/RESULTS.md): 1,024 configurations on both cores cost 0.09-0.15 ns per parameter
per configuration-step from 2-16-1 to 2-64-64-1 and the 2-64-3 spiral classifier in
batches of 32, 2.1-4.1x less than sweep_generic.train's plain loops in the same run.
Rows of 16 lanes beat 32 and 64 (single thread, ns per parameter: 2-64-1 0.17 / 0.27 /
0.32, 2-64-64-1 0.21 / 0.28 / 0.38, spiral 0.28 / 0.30 / 0.60; 2-16-1 about equal): a
block's rows stay in L1 or L2, and two <8 x double> chains per loop already keep the
vector units busy. Plain ``for c in range(LANES)`` loops over a 2-d work array (64
lanes) ran 1.5-3x slower than the vector rows; the loop order by layer shape took 2-64-1
from 0.33 to 0.17 (the 64 -> 1 layer had a one-trip inner loop). Helpers are compiled
functions, not inlined: the same speed, the compile 9 s instead of 15 s. ``work`` starts
on a 64-byte boundary (``compiler._align_arrays_to_cache_lines``): with numba's 32-byte
alignment a <8 x double> row straddled two cache lines or not by the luck of the
allocation (1.5x on 2-64-1 per sample, 1.3x on the spiral when it did). A batch's first sample starts the gradient sums (0.0 +
a_i d_j) instead of a pass zeroing them first. Optimizer mode (one thread, 64
configurations, ns per parameter per configuration-step, 2-64-1 per sample / spiral
2-64-3 in batches of 32): plain SGD 0.14 / 0.23, SGD with decay 0.24 / 0.23, momentum
0.28, Adam 0.72 / 0.25: per sample, Adam's three divisions and square root per parameter
bound it (0.56 ns per parameter and lane per update; a copy of the update with only
Adam's loop ran at the same speed, so one function for every optimizer costs nothing).
Compile (fresh cache, CPU seconds): ``train`` 6.2 (5.4 before the optimizer mode),
``train_optim`` 4.8. Per sample without L1/L2, Adam's steps are taken in the backward
pass, weight by weight as each gradient is formed (``_backward_adam``, ``_bias_adam``),
not in ``_optim_update`` after it: the square roots and divisions of the step then run
beside the pass's multiplies (two threads, 1,024 configurations, ns per
configuration-step, two runs each, alternating: 2-32-1 41.4-41.7 -> 38.5-38.7, 2-64-1
76.4-77.2 -> 70.7-70.9, 2-16-1 unchanged at 26-28; 2-64-64-1 1,885 -> 1,503 in one run
each).

With one hidden layer (per-sample Adam without L1/L2 and dropout, a hidden activation
other than softmax, biases), the whole backward pass runs in one loop over the hidden
units (``_one_hidden_adam``): per unit, the output weights' error sum and steps, the
unit's error, its weights' and bias's steps, then the epoch's next sample's forward pass
through the unit (net input, output, its terms of the output layer's sums). The divider
then works through what was a pass of its own before: the forward pass, the error sums
and the errors. Measured (one thread, 256 configurations, ns per configuration-step):
2-32-1 72.8 -> 63.5, 2-64-1 134 -> 115; the squared-error losses and output errors on
lane vectors (they were lane by lane): 2-32-1 61.9. Two threads, 1,024 configurations
(``bench.sweep_sizes --optimizer adam``, three runs): 2-32-1 39.6-40.4 -> 34.9-38.5,
2-64-1 73.8-75.0 -> 64.6-66.7; with literal loop counts for one or two inputs and one
output, one thread: 2-32-1 66.3 -> 60.8, 2-64-1 121.9 -> 108.6. Compile (fresh cache, CPU
seconds): ``train_optim`` 11.5 -> 14.1 with the sweep's other functions.
"""
import numpy as np
from numba import njit

from ..spec import (
    ACT,
    B_OFF,
    BINARY_CROSS_ENTROPY,
    CATEGORICAL_CROSS_ENTROPY,
    GAUSSIAN,
    HALF_SQUARED_ERROR,
    HEADER,
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
from .compiler import HELPER
from .generic import clip, output_delta, sample_loss, sigmoid
from .lanes8 import add8, load8, max8, mul8, relu8, relu_back8, splat8, store8, sub8, zero8
from ..optim import (ADAGRAD_CODE, ADAM_CODE, H_BETA1, H_BETA2, H_CODE, H_EPSILON, H_MOMENTUM, H_NESTEROV, H_RHO,
                     RMSPROP_CODE)
from .optim import (adagrad_step, adam_step, bias_corrections, keep_multiplier, momentum_step, nesterov_step,
                    penalized, rmsprop_step, sgd_step, step_rate)
from .rng import shuffle_order
from .sweep_generic import _end_epoch

# Configurations a block trains side by side: two <8 x double> vectors per row of work.
LANES = 16
_HALF = 8  # the second vector of a row

_KW = dict(cache=True, nogil=True, error_model="numpy")
_INLINE = dict(_KW, inline="always")


@njit(**HELPER)
def _activate_rows(work, code, z, a, n):
    """Rows a..a+n-1 = f(rows z..z+n-1); one loop per activation code."""
    if code == RELU:
        for at in range(0, n * LANES, _HALF):
            store8(work, a * LANES + at, relu8(load8(work, z * LANES + at)))
    elif code == SIGMOID:
        for at in range(n * LANES):
            work[a * LANES + at] = sigmoid(work[z * LANES + at])
    elif code == TANH:
        for at in range(n * LANES):
            work[a * LANES + at] = np.tanh(work[z * LANES + at])
    elif code == GAUSSIAN:
        for at in range(n * LANES):
            v = work[z * LANES + at]
            work[a * LANES + at] = np.exp(-(v * v))
    else:
        for at in range(0, n * LANES, _HALF):
            store8(work, a * LANES + at, load8(work, z * LANES + at))


@njit(**HELPER)
def _softmax_rows(work, z, a, n, big, total):
    """Rows a..a+n-1 = softmax of rows z..z+n-1 (generic.forward's order: the running
    maximum, exp(z - max) summed in order, then each divided by the sum)."""
    store8(work, big * LANES, load8(work, z * LANES))
    store8(work, big * LANES + _HALF, load8(work, z * LANES + _HALF))
    for j in range(1, n):
        for h in range(0, LANES, _HALF):
            store8(work, big * LANES + h, max8(load8(work, big * LANES + h), load8(work, (z + j) * LANES + h)))
    for c in range(LANES):
        work[total * LANES + c] = 0.0
    for j in range(n):
        for c in range(LANES):
            v = np.exp(work[(z + j) * LANES + c] - work[big * LANES + c])
            work[(a + j) * LANES + c] = v
            work[total * LANES + c] += v
    for j in range(n):
        for c in range(LANES):
            work[(a + j) * LANES + c] = work[(a + j) * LANES + c] / work[total * LANES + c]


@njit(**HELPER)
def _times_derivative_rows(work, code, d, z, a, n):
    """Rows d..d+n-1 times f'(z) (generic.times_derivative: an inactive ReLU passes
    exactly 0; linear leaves them)."""
    if code == RELU:
        for at in range(0, n * LANES, _HALF):
            store8(work, d * LANES + at, relu_back8(load8(work, d * LANES + at), load8(work, z * LANES + at)))
    elif code == SIGMOID:
        one = splat8(1.0)
        for at in range(0, n * LANES, _HALF):
            v = load8(work, a * LANES + at)
            store8(work, d * LANES + at, mul8(load8(work, d * LANES + at), mul8(v, sub8(one, v))))
    elif code == TANH:
        one = splat8(1.0)
        for at in range(0, n * LANES, _HALF):
            v = load8(work, a * LANES + at)
            store8(work, d * LANES + at, mul8(load8(work, d * LANES + at), sub8(one, mul8(v, v))))
    elif code == GAUSSIAN:
        minus_two = splat8(-2.0)
        for at in range(0, n * LANES, _HALF):
            factor = mul8(mul8(minus_two, load8(work, z * LANES + at)), load8(work, a * LANES + at))
            store8(work, d * LANES + at, mul8(load8(work, d * LANES + at), factor))


@njit(**HELPER)
def _forward_weights(work, n_in, n_out, w, z, a_in):
    """Rows z..z+n_out-1 = a_0 W[0, j] + a_1 W[1, j] + ..., each sum from 0.0 in order."""
    zero = zero8()
    if n_out >= n_in:
        # inputs outer, units inner: a_i in registers, the sums in their rows
        for i in range(n_in):
            row = (w + i * n_out) * LANES
            x0 = load8(work, (a_in + i) * LANES)
            x1 = load8(work, (a_in + i) * LANES + _HALF)
            if i == 0:
                for j in range(n_out):
                    q = row + j * LANES
                    at = (z + j) * LANES
                    store8(work, at, add8(zero, mul8(x0, load8(work, q))))
                    store8(work, at + _HALF, add8(zero, mul8(x1, load8(work, q + _HALF))))
            else:
                for j in range(n_out):
                    q = row + j * LANES
                    at = (z + j) * LANES
                    store8(work, at, add8(load8(work, at), mul8(x0, load8(work, q))))
                    store8(work, at + _HALF, add8(load8(work, at + _HALF), mul8(x1, load8(work, q + _HALF))))
    else:
        # units outer, inputs inner: the units' sums in registers, two units at a time
        # (four independent chains: one unit's two were bound by the adds' latency)
        for j in range(0, n_out - 1, 2):
            s0 = zero
            s1 = zero
            t0 = zero
            t1 = zero
            for i in range(n_in):
                q = (w + i * n_out + j) * LANES
                at = (a_in + i) * LANES
                x0 = load8(work, at)
                x1 = load8(work, at + _HALF)
                s0 = add8(s0, mul8(x0, load8(work, q)))
                s1 = add8(s1, mul8(x1, load8(work, q + _HALF)))
                t0 = add8(t0, mul8(x0, load8(work, q + LANES)))
                t1 = add8(t1, mul8(x1, load8(work, q + LANES + _HALF)))
            _store_pair(work, (z + j) * LANES, s0, s1)
            _store_pair(work, (z + j + 1) * LANES, t0, t1)
        if n_out % 2 == 1:
            s0, s1 = _weighted_sum(work, n_in, n_out, w, n_out - 1, a_in)
            _store_pair(work, (z + n_out - 1) * LANES, s0, s1)


@njit(**_INLINE)
def _weighted_sum(work, n_in, n_out, w, j, a_in):
    """Unit j's a_0 W[0, j] + a_1 W[1, j] + ..., from 0.0 in order, on the rows' two
    halves (the inputs in rows a_in..)."""
    s0 = zero8()
    s1 = zero8()
    for i in range(n_in):
        q = (w + i * n_out + j) * LANES
        at = (a_in + i) * LANES
        s0 = add8(s0, mul8(load8(work, at), load8(work, q)))
        s1 = add8(s1, mul8(load8(work, at + _HALF), load8(work, q + _HALF)))
    return s0, s1


@njit(**_INLINE)
def _weight_and_error(work, q, e_at, s0, s1):
    """A weight row's two halves (row ``q``), the errors of row ``e_at``, and the error
    sums s0, s1 of the layer's input plus weight times error: what a fused pass over a
    layer's weights (a step per weight and the errors below, in one loop) reads first."""
    p0 = load8(work, q)
    p1 = load8(work, q + _HALF)
    e0 = load8(work, e_at)
    e1 = load8(work, e_at + _HALF)
    return p0, p1, e0, e1, add8(s0, mul8(p0, e0)), add8(s1, mul8(p1, e1))


@njit(**HELPER)
def _backward_weights(work, n_in, n_out, w, d, a_in, below, rate, grad, fused, fresh):
    """The layer's weights take their step (fused: W[i, j] -= rate * (a_i d_j)) or add to
    their gradient sums (rows from ``grad`` on: += a_i d_j; the batch's first sample,
    ``fresh``, starts them: 0.0 + a_i d_j, with no pass zeroing them); when ``below`` >= 0, rows
    below..below+n_in-1 get the error sums of the layer's inputs, W[i, 0] d_0 + W[i, 1] d_1
    + ..., from 0.0 in order, with the weights from before this sample's step."""
    zero = zero8()
    if n_out >= n_in:
        # inputs outer, units inner: a_i, the rate and input i's error sum in registers
        r0 = load8(work, rate * LANES)
        r1 = load8(work, rate * LANES + _HALF)
        for i in range(n_in):
            row = (w + i * n_out) * LANES
            x0 = load8(work, (a_in + i) * LANES)
            x1 = load8(work, (a_in + i) * LANES + _HALF)
            s0 = zero
            s1 = zero
            if not fused:
                g = (grad + w + i * n_out) * LANES
                for j in range(n_out):
                    q = j * LANES
                    e0 = load8(work, (d + j) * LANES)
                    e1 = load8(work, (d + j) * LANES + _HALF)
                    if below >= 0:
                        s0 = add8(s0, mul8(load8(work, row + q), e0))
                        s1 = add8(s1, mul8(load8(work, row + q + _HALF), e1))
                    store8(work, g + q, add8(zero if fresh else load8(work, g + q), mul8(x0, e0)))
                    store8(work, g + q + _HALF, add8(zero if fresh else load8(work, g + q + _HALF), mul8(x1, e1)))
            elif below >= 0:
                for j in range(n_out):
                    q = row + j * LANES
                    p0, p1, e0, e1, s0, s1 = _weight_and_error(work, q, (d + j) * LANES, s0, s1)
                    store8(work, q, sub8(p0, mul8(r0, mul8(x0, e0))))
                    store8(work, q + _HALF, sub8(p1, mul8(r1, mul8(x1, e1))))
            else:
                for j in range(n_out):
                    q = row + j * LANES
                    e0 = load8(work, (d + j) * LANES)
                    e1 = load8(work, (d + j) * LANES + _HALF)
                    store8(work, q, sub8(load8(work, q), mul8(r0, mul8(x0, e0))))
                    store8(work, q + _HALF, sub8(load8(work, q + _HALF), mul8(r1, mul8(x1, e1))))
            if below >= 0:
                store8(work, (below + i) * LANES, s0)
                store8(work, (below + i) * LANES + _HALF, s1)
    else:
        # units outer, inputs inner: d_j and the rate in registers, the error sums in their rows
        r0 = load8(work, rate * LANES)
        r1 = load8(work, rate * LANES + _HALF)
        for j in range(n_out):
            e0 = load8(work, (d + j) * LANES)
            e1 = load8(work, (d + j) * LANES + _HALF)
            for i in range(n_in):
                q = (w + i * n_out + j) * LANES
                at = (a_in + i) * LANES
                p0 = load8(work, q)
                p1 = load8(work, q + _HALF)
                if below >= 0:
                    total = (below + i) * LANES
                    if j == 0:
                        store8(work, total, add8(zero, mul8(p0, e0)))
                        store8(work, total + _HALF, add8(zero, mul8(p1, e1)))
                    else:
                        store8(work, total, add8(load8(work, total), mul8(p0, e0)))
                        store8(work, total + _HALF, add8(load8(work, total + _HALF), mul8(p1, e1)))
                if fused:
                    store8(work, q, sub8(p0, mul8(r0, mul8(load8(work, at), e0))))
                    store8(work, q + _HALF, sub8(p1, mul8(r1, mul8(load8(work, at + _HALF), e1))))
                else:
                    g = grad * LANES + q
                    store8(work, g, add8(zero if fresh else load8(work, g), mul8(load8(work, at), e0)))
                    store8(work, g + _HALF, add8(zero if fresh else load8(work, g + _HALF),
                                                 mul8(load8(work, at + _HALF), e1)))


@njit(**_INLINE)
def _adam_row(work, q, m, v, g0, g1, lr0, lr1, epsilon, beta1, beta2, unbias1, unbias2):
    """Parameter row q takes kernels.optim.adam_step on its two halves, with gradients g0,
    g1 and its states in rows m and v (all three stored back)."""
    p0, m0, v0 = adam_step(load8(work, q), g0, load8(work, m), load8(work, v), lr0, epsilon, beta1, beta2, unbias1,
                           unbias2)
    p1, m1, v1 = adam_step(load8(work, q + _HALF), g1, load8(work, m + _HALF), load8(work, v + _HALF), lr1, epsilon,
                           beta1, beta2, unbias1, unbias2)
    _store_pair(work, q, p0, p1)
    _store_pair(work, m, m0, m1)
    _store_pair(work, v, v0, v1)


@njit(**HELPER)
def _backward_adam(work, n_in, n_out, w, d, a_in, below, M1, M2, lr0, lr1, epsilon, beta1, beta2, unbias1, unbias2):
    """Per sample without L1/L2 (``_train``'s ``adam_fused``): each weight of the layer
    takes Adam's step (kernels.optim.adam_step, its m in row M1 + q, v in row M2 + q) on
    its gradient 0.0 + a_i d_j as soon as it is formed, in the pass that forms (when
    ``below`` >= 0) the error sums of the layer's inputs, W[i, 0] d_0 + W[i, 1] d_1 + ...
    from 0.0 in order, with the weights from before the step: the same operations as the
    gradient sums and ``_optim_update``, so the same numbers. Why: the step's square roots
    and divisions and the pass's multiplies use different units, and in one loop they run
    side by side (apart, each pass left the other's units idle)."""
    zero = zero8()
    for i in range(n_in):
        row = w + i * n_out
        x0 = load8(work, (a_in + i) * LANES)
        x1 = load8(work, (a_in + i) * LANES + _HALF)
        s0 = zero
        s1 = zero
        for j in range(n_out):
            q, m, v = (row + j) * LANES, (M1 + row + j) * LANES, (M2 + row + j) * LANES
            _, _, e0, e1, s0, s1 = _weight_and_error(work, q, (d + j) * LANES, s0, s1)
            _adam_row(work, q, m, v, add8(zero, mul8(x0, e0)), add8(zero, mul8(x1, e1)), lr0, lr1, epsilon, beta1,
                      beta2, unbias1, unbias2)
        if below >= 0:
            _store_pair(work, (below + i) * LANES, s0, s1)


@njit(**HELPER)
def _bias_adam(work, n_out, b, d, M1, M2, lr0, lr1, epsilon, beta1, beta2, unbias1, unbias2):
    """``_backward_adam`` for the layer's biases: gradient 0.0 + d_j."""
    zero = zero8()
    for j in range(n_out):
        q, m, v = (b + j) * LANES, (M1 + b + j) * LANES, (M2 + b + j) * LANES
        e = (d + j) * LANES
        _adam_row(work, q, m, v, add8(zero, load8(work, e)), add8(zero, load8(work, e + _HALF)), lr0, lr1, epsilon,
                  beta1, beta2, unbias1, unbias2)


@njit(**HELPER)
def _one_hidden_adam(work, n_x, n_h, n_o, w0, b0, w1, d0, d_out, x_now, x_next, z0, a0, z_out, code0, M1, M2, lr0,
                     lr1, epsilon, beta1, beta2, unbias1, unbias2, forward):
    """``_one_hidden_units``, with literal counts of inputs and outputs for networks of one
    or two inputs and one output (LLVM unrolls those loops): 2-32-1 66.3 -> 60.8, 2-64-1
    121.9 -> 108.6 ns per configuration-step (one thread, 1,024 configurations). Each
    literal copy costs about 1 s of compile (CPU): 3 and 4 inputs too took 16.2 s."""
    if n_o == 1:
        if n_x == 1:
            return _one_hidden_units(work, 1, n_h, 1, w0, b0, w1, d0, d_out, x_now, x_next, z0, a0, z_out, code0,
                                     M1, M2, lr0, lr1, epsilon, beta1, beta2, unbias1, unbias2, forward)
        if n_x == 2:
            return _one_hidden_units(work, 2, n_h, 1, w0, b0, w1, d0, d_out, x_now, x_next, z0, a0, z_out, code0,
                                     M1, M2, lr0, lr1, epsilon, beta1, beta2, unbias1, unbias2, forward)
    return _one_hidden_units(work, n_x, n_h, n_o, w0, b0, w1, d0, d_out, x_now, x_next, z0, a0, z_out, code0, M1, M2,
                             lr0, lr1, epsilon, beta1, beta2, unbias1, unbias2, forward)


@njit(**_INLINE)
def _one_hidden_units(work, n_x, n_h, n_o, w0, b0, w1, d0, d_out, x_now, x_next, z0, a0, z_out, code0, M1, M2, lr0,
                      lr1, epsilon, beta1, beta2, unbias1, unbias2, forward):
    """(``_one_hidden_adam``'s body.) The backward pass of a network of one hidden layer, per sample with Adam
    (``_train``'s ``pipelined``), in one loop over the hidden units, and with
    ``forward`` the next sample's forward pass in the same loop. For hidden unit j:

    1. the output layer's weights from unit j: the error sum W[j, 0] d_0 + W[j, 1] d_1 +
       ... (from 0.0 in order, the weights from before the step; output errors in rows
       d_out..), then their steps on 0.0 + a_j d_o (``_backward_adam``);
    2. unit j's error, row d0 + j: that sum times f'(z_j) (``_times_derivative_rows``);
    3. the steps of unit j's weights (inputs in rows x_now..) and bias (``_backward_adam``,
       ``_bias_adam``);
    4. with ``forward``, the next sample's pass through unit j (its inputs in rows
       x_next..): net input row z0 + j (from 0.0 over the inputs in order, then the
       bias), output row a0 + j, and its terms of the output layer's sums, rows z_out..
       (from 0.0 in the units' order, with the weights stepped in 1; the caller adds the
       output biases, as after ``_forward_weights``).

    The same operations as the passes apart, so the same numbers (the output layer's
    biases are the caller's). Why: the steps' square roots and divisions keep the divider
    busy while the rest of the pass, and the next sample's forward pass, use the other
    units; pass by pass, the divider waited for every pass without steps."""
    zero = zero8()
    for j in range(n_h):
        h0 = load8(work, (a0 + j) * LANES)
        h1 = load8(work, (a0 + j) * LANES + _HALF)
        s0 = zero
        s1 = zero
        for o in range(n_o):
            q = w1 + j * n_o + o
            _, _, e0, e1, s0, s1 = _weight_and_error(work, q * LANES, (d_out + o) * LANES, s0, s1)
            _adam_row(work, q * LANES, (M1 + q) * LANES, (M2 + q) * LANES, add8(zero, mul8(h0, e0)),
                      add8(zero, mul8(h1, e1)), lr0, lr1, epsilon, beta1, beta2, unbias1, unbias2)
        if code0 == RELU:
            e0 = relu_back8(s0, load8(work, (z0 + j) * LANES))
            e1 = relu_back8(s1, load8(work, (z0 + j) * LANES + _HALF))
        else:
            _store_pair(work, (d0 + j) * LANES, s0, s1)
            _times_derivative_rows(work, code0, d0 + j, z0 + j, a0 + j, 1)
            e0 = load8(work, (d0 + j) * LANES)
            e1 = load8(work, (d0 + j) * LANES + _HALF)
        for i in range(n_x):
            q = w0 + i * n_h + j
            x_at = (x_now + i) * LANES
            _adam_row(work, q * LANES, (M1 + q) * LANES, (M2 + q) * LANES, add8(zero, mul8(load8(work, x_at), e0)),
                      add8(zero, mul8(load8(work, x_at + _HALF), e1)), lr0, lr1, epsilon, beta1, beta2, unbias1,
                      unbias2)
        q = b0 + j
        _adam_row(work, q * LANES, (M1 + q) * LANES, (M2 + q) * LANES, add8(zero, e0), add8(zero, e1), lr0, lr1,
                  epsilon, beta1, beta2, unbias1, unbias2)
        if not forward:
            continue
        s0, s1 = _weighted_sum(work, n_x, n_h, w0, j, x_next)
        s0 = add8(s0, load8(work, (b0 + j) * LANES))
        s1 = add8(s1, load8(work, (b0 + j) * LANES + _HALF))
        _store_pair(work, (z0 + j) * LANES, s0, s1)
        if code0 == RELU:
            h0 = relu8(s0)
            h1 = relu8(s1)
            _store_pair(work, (a0 + j) * LANES, h0, h1)
        else:
            _activate_rows(work, code0, z0 + j, a0 + j, 1)
            h0 = load8(work, (a0 + j) * LANES)
            h1 = load8(work, (a0 + j) * LANES + _HALF)
        for o in range(n_o):
            q = (w1 + j * n_o + o) * LANES
            at = (z_out + o) * LANES
            if j == 0:
                _store_pair(work, at, add8(zero, mul8(h0, load8(work, q))),
                            add8(zero, mul8(h1, load8(work, q + _HALF))))
            else:
                _store_pair(work, at, add8(load8(work, at), mul8(h0, load8(work, q))),
                            add8(load8(work, at + _HALF), mul8(h1, load8(work, q + _HALF))))


@njit(**HELPER)
def _loss_and_output_error(work, loss, code, zo, ao, do, n_out, tgt, s0, lo, Y, order, t, shuffle, u_out, zc, ac,
                           dc):
    """Each lane's sample loss added to row lo, dL/dz of the output layer into rows
    do..do+n_out-1 (generic.sample_loss and output_delta, operation for operation):
    lane rows for squared errors with an element-wise output, softmax with categorical
    cross-entropy and sigmoid with binary cross-entropy; generic's scalar helpers lane by
    lane for the rest. Row s0 is scratch; rows from tgt hold the lanes' targets."""
    if (loss == SQUARED_ERROR or loss == HALF_SQUARED_ERROR or loss == MSE) and code != SOFTMAX:
        # on the rows' halves: the squares summed from 0.0 in order, dL/dyhat from the
        # differences (half squared error: the difference itself)
        for h in range(0, LANES, _HALF):
            total = zero8()
            for j in range(n_out):
                diff = sub8(load8(work, (ao + j) * LANES + h), load8(work, (tgt + j) * LANES + h))
                total = add8(total, mul8(diff, diff))
                if loss == SQUARED_ERROR:
                    diff = mul8(splat8(2.0), diff)
                elif loss == MSE:
                    diff = mul8(splat8(2.0), diff) / splat8(float(n_out))
                store8(work, (do + j) * LANES + h, diff)
            if loss == HALF_SQUARED_ERROR:
                total = mul8(splat8(0.5), total)
            elif loss == MSE:
                total = total / splat8(float(n_out))
            store8(work, lo * LANES + h, add8(load8(work, lo * LANES + h), total))
        _times_derivative_rows(work, code, do, zo, ao, n_out)
    elif loss == CATEGORICAL_CROSS_ENTROPY and code == SOFTMAX:
        for c in range(LANES):
            work[s0 * LANES + c] = 0.0
        for j in range(n_out):
            for c in range(LANES):
                work[s0 * LANES + c] += clip(work[(ao + j) * LANES + c]) * work[(tgt + j) * LANES + c]
                work[(do + j) * LANES + c] = work[(ao + j) * LANES + c] - work[(tgt + j) * LANES + c]
        for c in range(LANES):
            work[lo * LANES + c] += -np.log(work[s0 * LANES + c])
    elif loss == BINARY_CROSS_ENTROPY and code == SIGMOID:
        for c in range(LANES):
            work[s0 * LANES + c] = 0.0
        for j in range(n_out):
            for c in range(LANES):
                p = clip(work[(ao + j) * LANES + c])
                y = work[(tgt + j) * LANES + c]
                work[s0 * LANES + c] += -(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))
                work[(do + j) * LANES + c] = (work[(ao + j) * LANES + c] - y) / n_out
        for c in range(LANES):
            work[lo * LANES + c] += work[s0 * LANES + c] / n_out
    else:
        for c in range(LANES):
            s = order[c, t] if shuffle else t
            for j in range(n_out):
                zc[u_out + j] = work[(zo + j) * LANES + c]
                ac[u_out + j] = work[(ao + j) * LANES + c]
            work[lo * LANES + c] += sample_loss(loss, ac, u_out, n_out, Y, s)
            output_delta(loss, code, zc, ac, dc, u_out, n_out, Y, s)
            for j in range(n_out):
                work[(do + j) * LANES + c] = dc[u_out + j]


@njit(**_INLINE)
def _gradient(work, g, p, m, inverse, l1, l2):
    """Row g's gradient sums / m plus row p's L1/L2 terms (kernels.optim's ``penalized``,
    lane by lane, only where a factor is set), as two <8 x double> halves. Per sample
    (m = 1) the division is skipped: x / 1.0 is x exactly (zeros, infinities and NaN
    included), and a division costs as much as the rest of an SGD step. ``inverse``:
    ``_inverse(m)``; when it is not 0.0 the sums are multiplied by it instead."""
    if l1 != 0.0 or l2 != 0.0:
        for c in range(LANES):
            mean = work[g + c] * inverse if inverse != 0.0 else work[g + c] / m
            work[g + c] = penalized(mean, work[p + c], l1, l2)
        return load8(work, g), load8(work, g + _HALF)
    if m == 1:
        return load8(work, g), load8(work, g + _HALF)
    if inverse != 0.0:
        return load8(work, g) * inverse, load8(work, g + _HALF) * inverse
    return load8(work, g) / m, load8(work, g + _HALF) / m


@njit(**_INLINE)
def _inverse(m):
    """1 / m when m (int > 0) is a power of two, else 0.0. Then x * (1 / m) is x / m to
    the last bit for every x (1 / m is exact, so both are the one correctly rounded
    value of x / m), and a multiply costs a fraction of a divide (widegen's batches do
    the same)."""
    return 1.0 / m if m & (m - 1) == 0 else 0.0


@njit(**_INLINE)
def _store_pair(work, at, low, high):
    """Row ``at`` = the two halves low, high."""
    store8(work, at, low)
    store8(work, at + _HALF, high)


@njit(**HELPER)
def _optim_update(work, n_params, G, RATE, M1, M2, hyper, penalties, m, step):
    """Every lane's optimizer step after a batch of m samples, step number ``step``, as
    generic._general_update does it: per parameter row q the gradient (``_gradient``),
    then the rule of ``hyper``'s optimizer from kernels.optim (its ``*_step`` function,
    chosen as kernels.optim.apply chooses, once per update: one loop per rule, never a
    branch per lane) on the two <8 x double> halves of the row (lanes8's operators run
    the scalar rules lane-wise, exactly); the states in rows M1 + q (momentum u, Adam's
    m) and M2 + q (the cache, Adam's v), each loaded only by the rules that use it."""
    unbias1, unbias2 = bias_corrections(hyper, step)
    inverse = _inverse(m)
    lr0 = step_rate(load8(work, RATE * LANES), hyper, step)
    lr1 = step_rate(load8(work, RATE * LANES + _HALF), hyper, step)
    code, momentum, epsilon = hyper[H_CODE], hyper[H_MOMENTUM], hyper[H_EPSILON]
    if code == ADAM_CODE:
        beta1, beta2 = hyper[H_BETA1], hyper[H_BETA2]
        for q in range(n_params):
            p, u, v = q * LANES, (M1 + q) * LANES, (M2 + q) * LANES
            g0, g1 = _gradient(work, (G + q) * LANES, p, m, inverse, penalties[q, 0], penalties[q, 1])
            _adam_row(work, p, u, v, g0, g1, lr0, lr1, epsilon, beta1, beta2, unbias1, unbias2)
    elif code == RMSPROP_CODE or code == ADAGRAD_CODE:
        rho = hyper[H_RHO]
        for q in range(n_params):
            p, v = q * LANES, (M2 + q) * LANES
            g0, g1 = _gradient(work, (G + q) * LANES, p, m, inverse, penalties[q, 0], penalties[q, 1])
            if code == RMSPROP_CODE:
                p0, v0 = rmsprop_step(load8(work, p), g0, load8(work, v), lr0, epsilon, rho)
                p1, v1 = rmsprop_step(load8(work, p + _HALF), g1, load8(work, v + _HALF), lr1, epsilon, rho)
            else:
                p0, v0 = adagrad_step(load8(work, p), g0, load8(work, v), lr0, epsilon)
                p1, v1 = adagrad_step(load8(work, p + _HALF), g1, load8(work, v + _HALF), lr1, epsilon)
            _store_pair(work, p, p0, p1)
            _store_pair(work, v, v0, v1)
    elif momentum == 0.0:
        for q in range(n_params):
            p = q * LANES
            g0, g1 = _gradient(work, (G + q) * LANES, p, m, inverse, penalties[q, 0], penalties[q, 1])
            _store_pair(work, p, sgd_step(load8(work, p), g0, lr0), sgd_step(load8(work, p + _HALF), g1, lr1))
    else:
        nesterov = hyper[H_NESTEROV] != 0.0
        for q in range(n_params):
            p, u = q * LANES, (M1 + q) * LANES
            g0, g1 = _gradient(work, (G + q) * LANES, p, m, inverse, penalties[q, 0], penalties[q, 1])
            if nesterov:
                p0, u0 = nesterov_step(load8(work, p), g0, load8(work, u), lr0, momentum)
                p1, u1 = nesterov_step(load8(work, p + _HALF), g1, load8(work, u + _HALF), lr1, momentum)
            else:
                p0, u0 = momentum_step(load8(work, p), g0, load8(work, u), lr0, momentum)
                p1, u1 = momentum_step(load8(work, p + _HALF), g1, load8(work, u + _HALF), lr1, momentum)
            _store_pair(work, p, p0, p1)
            _store_pair(work, u, u0, u1)


@njit(**_INLINE)
def _dropout_rows(work, drop, keeps, rate, seen, per_sample, hidden, a, pre, kp, n):
    """Inverted dropout on rows a..a+n-1 (a hidden layer's outputs, its units numbered
    from ``hidden`` among the hidden units): generic._batch_dropout lane by lane, unit j of
    lane c kept with kernels.optim.keep_multiplier(drop[c], seen * per_sample + hidden +
    j, rate); rows from ``pre`` keep the outputs before dropout (for f'), rows from ``kp``
    the multipliers (for the errors), rows from ``a`` become the dropped outputs. The
    draws go to ``keeps`` (LANES,) first: a loop apart from ``work``, which LLVM vectorises."""
    first_draw = seen * per_sample + hidden
    for j in range(n):
        k = first_draw + j
        for c in range(LANES):
            keeps[c] = keep_multiplier(drop[c], k, rate)
        for h in range(0, LANES, _HALF):
            v = load8(work, (a + j) * LANES + h)
            keep = load8(keeps, h)
            store8(work, (pre + j) * LANES + h, v)
            store8(work, (kp + j) * LANES + h, keep)
            store8(work, (a + j) * LANES + h, mul8(v, keep))


@njit(**_INLINE)
def _train(P, X, Y, lr, batch_size, shuffle, states, e_start, e_stop, losses, diverged, ckpt_epochs, ckpt, k0, k1,
           layout, hyper, penalties, first, second, bases, rates):
    """``train`` (``hyper`` etc. None), ``train_optim`` (``bases``, ``rates`` None) and
    ``train_dropout``: see those. Inlined into each (numba IR), where the ``is not None``
    branches of the arguments that are None are pruned: plain sweeps compile none of the
    optimizer code, and sweeps without dropout none of dropout's."""
    n = X.shape[0]
    n_x = X.shape[1]
    n_params = P.shape[0]
    n_layers, loss, units = layout[0], layout[1], layout[3]
    r_last = HEADER + ROW * (n_layers - 1)
    u_out, n_out_last, code_last = layout[r_last + UNIT_OFF], layout[r_last + N_OUT], layout[r_last + ACT]
    fused = batch_size == 1 and hyper is None
    # Adam per sample without L1/L2: each parameter steps in the backward pass
    # (_backward_adam, _bias_adam) instead of in _optim_update after it.
    adam_fused = False
    epsilon = beta1 = beta2 = unbias1 = unbias2 = 0.0
    lr0 = lr1 = zero8()
    if hyper is not None:
        adam_fused = batch_size == 1 and hyper[H_CODE] == ADAM_CODE
        for q in range(n_params):
            if penalties[q, 0] != 0.0 or penalties[q, 1] != 0.0:
                adam_fused = False
        epsilon, beta1, beta2 = hyper[H_EPSILON], hyper[H_BETA1], hyper[H_BETA2]
    # ... and with one hidden layer (not softmax, with biases) and no dropout, the whole
    # backward pass and the next sample's forward pass run in one loop (_one_hidden_adam)
    pipelined = (adam_fused and n_layers == 2 and bases is None and layout[HEADER + ACT] != SOFTMAX
                 and layout[HEADER + B_OFF] >= 0 and layout[HEADER + ROW + B_OFF] >= 0)
    ahead = False  # (pipelined) the sample's forward pass ran in the previous sample's loop
    n_batches = (n + batch_size - 1) // batch_size
    # rows of work: parameters, gradient sums (unless fused), rate, loss sum, two scratch
    # rows, then per unit its net input z, output a and error d, then the sample's
    # targets, then (the optimizer mode) the optimizer states first and second of every
    # parameter, then (dropout) per unit its output before dropout and its multiplier
    G = n_params
    RATE = n_params if fused else 2 * n_params
    LOSS = RATE + 1
    S0 = LOSS + 1
    Z = S0 + 2
    A = Z + units
    D = A + units
    T = D + units
    M1 = T + n_out_last
    M2 = M1 + n_params
    PRE = M2 + n_params
    KP = PRE + units
    XN = PRE  # (pipelined) the next sample's inputs
    rows = M1
    if hyper is not None:
        rows = PRE + n_x
    if bases is not None:
        rows = KP + units
    work = np.empty(rows * LANES)  # on a 64-byte boundary (compiler._align_arrays_to_cache_lines)
    params = work[: n_params * LANES].reshape((n_params, LANES))  # a view: _end_epoch's (param, lane) array
    start_rows = np.empty(n_params * LANES)
    start = start_rows.reshape((n_params, LANES))
    order = np.empty((LANES, n), dtype=np.int64)
    state = np.empty(LANES, dtype=np.uint64)
    done = np.empty(LANES, dtype=np.bool_)
    zc, ac, dc = np.empty(units), np.empty(units), np.empty(units)
    drop = np.empty(LANES, dtype=np.uint64)
    keeps = np.empty(LANES)
    per_sample = units - n_x - n_out_last  # hidden units: dropout's draws per sample
    for b0 in range(k0, k1, LANES):
        lanes = min(LANES, k1 - b0)
        for c in range(LANES):
            k = b0 + min(c, lanes - 1)  # a short block repeats its last configuration
            for q in range(n_params):
                work[q * LANES + c] = P[q, k]
            work[RATE * LANES + c] = lr[k]
            state[c] = states[k]
            if bases is not None:
                drop[c] = bases[k]
            done[c] = diverged[k] >= 0
            for t in range(n):
                order[c, t] = t
        if hyper is not None:
            for q in range(n_params):
                for c in range(LANES):
                    k = b0 + min(c, lanes - 1)
                    work[(M1 + q) * LANES + c] = first[q, k]
                    work[(M2 + q) * LANES + c] = second[q, k]
        for e in range(e_start, e_stop):
            if shuffle:
                for c in range(LANES):
                    state[c] = shuffle_order(order[c], True, state[c])
            for at in range(n_params * LANES):  # (flat loops: numba's slice assignment compiles slowly)
                start_rows[at] = work[at]
            for c in range(LANES):
                work[LOSS * LANES + c] = 0.0
            for start_row in range(0, n, batch_size):
                stop = min(start_row + batch_size, n)
                for t in range(start_row, stop):
                    fresh = t == start_row  # the batch's first sample starts its gradient sums
                    # the sample's inputs and targets, per lane
                    if shuffle:
                        for c in range(LANES):
                            s = order[c, t]
                            for i in range(n_x):
                                work[(A + i) * LANES + c] = X[s, i]
                            for j in range(n_out_last):
                                work[(T + j) * LANES + c] = Y[s, j]
                    else:
                        for i in range(n_x):
                            x = X[t, i]
                            for c in range(LANES):
                                work[(A + i) * LANES + c] = x
                        for j in range(n_out_last):
                            y = Y[t, j]
                            for c in range(LANES):
                                work[(T + j) * LANES + c] = y
                    for l in range(n_layers):
                        r = HEADER + ROW * l
                        n_in, n_out, w, b = layout[r + N_IN], layout[r + N_OUT], layout[r + W_OFF], layout[r + B_OFF]
                        code, u = layout[r + ACT], layout[r + UNIT_OFF]
                        if ahead and l == 0:  # the previous sample's _one_hidden_adam ran it
                            continue
                        if not ahead:  # (ahead: the output layer's weighted sums are in its rows too)
                            _forward_weights(work, n_in, n_out, w, Z + u, A + u - n_in)
                        if b >= 0:
                            for at in range(0, n_out * LANES, _HALF):
                                z_at = (Z + u) * LANES + at
                                store8(work, z_at, add8(load8(work, z_at), load8(work, b * LANES + at)))
                        if code == SOFTMAX:
                            _softmax_rows(work, Z + u, A + u, n_out, S0, S0 + 1)
                        else:
                            _activate_rows(work, code, Z + u, A + u, n_out)
                        if bases is not None:
                            if rates[l] != 0.0:  # samples seen before: e * n + t (every lane starts at epoch 0)
                                _dropout_rows(work, drop, keeps, rates[l], e * n + t, per_sample, u - n_x, A + u,
                                              PRE + u, KP + u, n_out)
                    ahead = False
                    _loss_and_output_error(work, loss, code_last, Z + u_out, A + u_out, D + u_out, n_out_last, T, S0,
                                           LOSS, Y, order, t, shuffle, u_out, zc, ac, dc)
                    if hyper is not None and adam_fused:  # this sample's step: _optim_update's settings
                        step = e * n_batches + start_row
                        unbias1, unbias2 = bias_corrections(hyper, step)
                        lr0 = step_rate(load8(work, RATE * LANES), hyper, step)
                        lr1 = step_rate(load8(work, RATE * LANES + _HALF), hyper, step)
                    if pipelined:  # one loop: the backward pass, and the epoch's next sample's forward pass
                        ahead = t + 1 < n
                        if ahead:
                            for c in range(LANES):
                                s = order[c, t + 1] if shuffle else t + 1
                                for i in range(n_x):
                                    work[(XN + i) * LANES + c] = X[s, i]
                        u0 = layout[HEADER + UNIT_OFF]
                        _one_hidden_adam(work, n_x, layout[HEADER + N_OUT], n_out_last, layout[HEADER + W_OFF],
                                         layout[HEADER + B_OFF], layout[HEADER + ROW + W_OFF], D + u0, D + u_out,
                                         A + u0 - n_x, XN, Z + u0, A + u0, Z + u_out, layout[HEADER + ACT], M1, M2, lr0,
                                         lr1, epsilon, beta1, beta2, unbias1, unbias2, ahead)
                        _bias_adam(work, n_out_last, layout[HEADER + ROW + B_OFF], D + u_out, M1, M2, lr0, lr1, epsilon,
                                   beta1, beta2, unbias1, unbias2)
                        continue
                    for l in range(n_layers - 1, -1, -1):
                        r = HEADER + ROW * l
                        n_in, n_out, w, b = layout[r + N_IN], layout[r + N_OUT], layout[r + W_OFF], layout[r + B_OFF]
                        u = layout[r + UNIT_OFF]
                        src = u - n_in
                        if hyper is not None and adam_fused:
                            _backward_adam(work, n_in, n_out, w, D + u, A + src, D + src if l > 0 else -1, M1, M2, lr0,
                                           lr1, epsilon, beta1, beta2, unbias1, unbias2)
                        else:
                            _backward_weights(work, n_in, n_out, w, D + u, A + src, D + src if l > 0 else -1, RATE, G,
                                              fused, fresh)
                        if l > 0:
                            a_src = A + src
                            if bases is not None:
                                if rates[l - 1] != 0.0:  # the errors through the multipliers, f' before dropout
                                    for at in range(0, n_in * LANES, _HALF):
                                        d_at, k_at = (D + src) * LANES + at, (KP + src) * LANES + at
                                        store8(work, d_at, mul8(load8(work, d_at), load8(work, k_at)))
                                    a_src = PRE + src
                            _times_derivative_rows(work, layout[HEADER + ROW * (l - 1) + ACT], D + src, Z + src,
                                                   a_src, n_in)
                        if hyper is not None and adam_fused and b >= 0:
                            _bias_adam(work, n_out, b, D + u, M1, M2, lr0, lr1, epsilon, beta1, beta2, unbias1,
                                       unbias2)
                        elif b >= 0:
                            if fused:
                                r0 = load8(work, RATE * LANES)
                                r1 = load8(work, RATE * LANES + _HALF)
                                for j in range(n_out):
                                    at, d_at = (b + j) * LANES, (D + u + j) * LANES
                                    store8(work, at, sub8(load8(work, at), mul8(r0, load8(work, d_at))))
                                    store8(work, at + _HALF, sub8(load8(work, at + _HALF), mul8(r1, load8(work, d_at + _HALF))))
                            else:
                                for at in range(0, n_out * LANES, _HALF):
                                    g_at = (G + b) * LANES + at
                                    g_sum = zero8() if fresh else load8(work, g_at)
                                    store8(work, g_at, add8(g_sum, load8(work, (D + u) * LANES + at)))
                m = stop - start_row
                if hyper is not None:
                    if not adam_fused:
                        step = e * n_batches + start_row // batch_size
                        _optim_update(work, n_params, G, RATE, M1, M2, hyper, penalties, m, step)
                elif not fused:  # p -= rate * (g / m)
                    r0 = load8(work, RATE * LANES)
                    r1 = load8(work, RATE * LANES + _HALF)
                    inverse = _inverse(m)
                    for q in range(n_params):
                        p = q * LANES
                        g0, g1 = _gradient(work, (G + q) * LANES, p, m, inverse, 0.0, 0.0)
                        _store_pair(work, p, load8(work, p) - r0 * g0, load8(work, p + _HALF) - r1 * g1)
            # The end of the epoch, as in sweepgen's kernels: one vectorised pass checks every
            # lane (x * 0.0 is 0 for finite x, NaN for inf and NaN); _end_epoch only when a
            # lane diverged or a checkpoint is due.
            usual = True
            for i in range(ckpt_epochs.shape[0]):
                if ckpt_epochs[i] == e:
                    usual = False
            for c in range(LANES):
                work[S0 * LANES + c] = (work[LOSS * LANES + c] / n) * 0.0
            for q in range(n_params):
                for c in range(LANES):
                    work[S0 * LANES + c] += work[q * LANES + c] * 0.0
            for c in range(lanes):
                if done[c] or work[S0 * LANES + c] != 0.0:
                    usual = False
            if usual:
                for c in range(lanes):
                    losses[b0 + c, e] = work[LOSS * LANES + c] / n
            else:
                _end_epoch(P, params, start, work[LOSS * LANES : (LOSS + 1) * LANES], n, e, b0, lanes, done, losses,
                           diverged, ckpt_epochs, ckpt)
        for c in range(lanes):
            states[b0 + c] = state[c]
            if not done[c]:
                for q in range(n_params):
                    P[q, b0 + c] = work[q * LANES + c]
            if hyper is not None:
                for q in range(n_params):
                    first[q, b0 + c] = work[(M1 + q) * LANES + c]
                    second[q, b0 + c] = work[(M2 + q) * LANES + c]


@njit(**_KW)
def train(P, X, Y, lr, batch_size, shuffle, states, e_start, e_stop, losses, diverged, ckpt_epochs, ckpt, k0, k1, layout):
    """``sweep_generic.train``'s contract, LANES configurations at a time: plain SGD,
    fused per sample (fastnn.sweep's kernel past 64 parameters)."""
    _train(P, X, Y, lr, batch_size, shuffle, states, e_start, e_stop, losses, diverged, ckpt_epochs, ckpt, k0, k1,
           layout, None, None, None, None, None, None)


@njit(**_KW)
def train_optim(P, X, Y, lr, batch_size, shuffle, states, e_start, e_stop, losses, diverged, ckpt_epochs, ckpt, k0, k1,
                layout, hyper, penalties, first, second):
    """The optimizer mode, for every optimizer (sweep_options.LaneBlocks): the contract
    of sweepgen's OPTIM kernels (sweep_options.OPTIM_SIGNATURE): ``sweep_generic.train``'s,
    and every lane steps with the optimizer ``hyper`` (fastnn.optim), the L1/L2 factors
    of each parameter ``penalties`` (n_params, 2), and its optimizer states in ``first``
    and ``second`` (n_params, K), in/out like P. Step t of epoch e is e * (batches per
    epoch) + the batch's index (every configuration starts at epoch 0). The gradient is
    always summed over the batch (per sample too) before ``_optim_update``, as
    generic.train_general does."""
    _train(P, X, Y, lr, batch_size, shuffle, states, e_start, e_stop, losses, diverged, ckpt_epochs, ckpt, k0, k1,
           layout, hyper, penalties, first, second, None, None)


@njit(**_KW)
def train_dropout(P, X, Y, lr, batch_size, shuffle, states, e_start, e_stop, losses, diverged, ckpt_epochs, ckpt, k0,
                  k1, layout, hyper, penalties, first, second, bases, rates):
    """``train_optim`` with inverted dropout on the hidden outputs
    (sweep_options.DropoutLaneBlocks, sweep_options.DROPOUT_SIGNATURE): ``rates``
    (n_layers,) float64 each layer's rate on its outputs (TrainOptions.dropout_rates, 0 for
    the output layer), ``bases`` (K,) uint64 each configuration's dropout stream
    (RunState.dropout_base: (seed ^ DROPOUT_SALT) & MASK64). As generic.train_general
    does it: the sample numbered ``seen`` from the run's start (e * n + its position in
    epoch e's order: every configuration starts at epoch 0 with nothing seen) keeps unit j
    of hidden layer l with kernels.optim.keep_multiplier(base, seen * (hidden units) +
    (hidden units below l) + j, rate), multiplying its output forward and its error
    backward, f' taken from the output before dropout; at rate 0 nothing is drawn."""
    _train(P, X, Y, lr, batch_size, shuffle, states, e_start, e_stop, losses, diverged, ckpt_epochs, ckpt, k0, k1,
           layout, hyper, penalties, first, second, bases, rates)
