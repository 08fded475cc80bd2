"""The optimizer, penalty and dropout rules for the kernels, written once.

Scalar ``@njit(inline="always")`` helpers that every kernel family calls (the generic
kernels per parameter, a structure-of-arrays sweep kernel per lane): each does
``fastnn.reference``'s arithmetic operation for operation (``reference.update``,
``reference.penalize``, ``reference.dropout_keep``), so that kernels and reference agree
bit for bit. The settings arrive as ``fastnn.optim``'s ``hyper`` array.
"""
import numpy as np
from numba import njit

from ..optim import (
    ADAGRAD_CODE,
    ADAM_CODE,
    H_BETA1,
    H_BETA2,
    H_CODE,
    H_DECAY,
    H_EPSILON,
    H_MOMENTUM,
    H_NESTEROV,
    H_RHO,
    RMSPROP_CODE,
)
from .rng import splitmix64

_INLINE = dict(cache=True, nogil=True, error_model="numpy", inline="always")
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_S11 = np.uint64(11)


@njit(**_INLINE)
def step_rate(lr, hyper, t):
    """The learning rate of step t (int): lr * (1 / (1 + decay * t))."""
    return lr * (1.0 / (1.0 + hyper[H_DECAY] * t))


@njit(**_INLINE)
def bias_corrections(hyper, t):
    """Adam's (1 - beta1 ** (t + 1), 1 - beta2 ** (t + 1)) for step t; (1, 1) otherwise."""
    if hyper[H_CODE] == ADAM_CODE:
        return 1.0 - hyper[H_BETA1] ** (t + 1.0), 1.0 - hyper[H_BETA2] ** (t + 1.0)
    return 1.0, 1.0


@njit(**_INLINE)
def penalized(g, p, l1, l2):
    """g plus the L1 term l1 * sign(p) (+1 at 0) and the L2 term 2 * l2 * p."""
    if l1 != 0.0:
        g += l1 * (1.0 if p >= 0.0 else -1.0)
    if l2 != 0.0:
        g += 2.0 * l2 * p
    return g


@njit(**_INLINE)
def apply(hyper, p, g, first, second, lr_t, fix1, fix2):
    """One optimizer step of one parameter p with gradient g; returns the new
    (p, first, second): first is the momentum u or Adam's m, second the cache or v."""
    code = hyper[H_CODE]
    if code == ADAM_CODE:
        first = hyper[H_BETA1] * first + (1.0 - hyper[H_BETA1]) * g
        second = hyper[H_BETA2] * second + (1.0 - hyper[H_BETA2]) * (g * g)
        m_hat = first / fix1
        v_hat = second / fix2
        return p + -lr_t * m_hat / (np.sqrt(v_hat) + hyper[H_EPSILON]), first, second
    if code == RMSPROP_CODE:
        second = hyper[H_RHO] * second + (1.0 - hyper[H_RHO]) * (g * g)
        return p + -lr_t * g / (np.sqrt(second) + hyper[H_EPSILON]), first, second
    if code == ADAGRAD_CODE:
        second = second + g * g
        return p + -lr_t * g / (np.sqrt(second) + hyper[H_EPSILON]), first, second
    momentum = hyper[H_MOMENTUM]
    if momentum == 0.0:
        return p + -lr_t * g, first, second
    first = momentum * first - lr_t * g
    if hyper[H_NESTEROV] != 0.0:
        return p + (momentum * first - lr_t * g), first, second
    return p + first, first, second


@njit(**_INLINE)
def keep_multiplier(base, k, rate):
    """Dropout draw number k of the stream at ``base`` (uint64): 1 / (1 - rate) when the
    unit is kept (u >= rate), else 0 (see reference.dropout_keep)."""
    _, r = splitmix64(base + np.uint64(k) * _GOLDEN)
    u = (r >> _S11) * 2.0**-53
    return (1.0 if u >= rate else 0.0) / (1.0 - rate)
