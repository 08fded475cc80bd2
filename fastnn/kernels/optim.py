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
    H_SETTLED1,
    H_SETTLED2,
    RMSPROP_CODE,
)
from .rng import splitmix64

_INLINE = dict(cache=True, nogil=True, error_model="numpy", inline="always")
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_S11 = np.uint64(11)


@njit(**_INLINE)
def step_rate(lr, hyper, t):
    """The learning rate of step t (int): lr * (1 / (1 + decay * t)). Without decay that
    is lr * (1 / 1) = lr exactly, returned without the division: per sample it was one
    of the divider's 19 operations a step of a 9-parameter Adam network."""
    decay = hyper[H_DECAY]
    if decay == 0.0:
        return lr
    return lr * (1.0 / (1.0 + decay * t))


@njit(**_INLINE)
def bias_corrections(hyper, t):
    """Adam's (1 / (1 - beta1 ** (t + 1)), 1 / (1 - beta2 ** (t + 1))) for step t (int);
    (1, 1) otherwise. Each is exactly 1.0 from the exponent H_SETTLED1/2 on
    (fastnn.optim.SETTLED): pow is then skipped."""
    if hyper[H_CODE] == ADAM_CODE:
        e = t + 1.0
        unbias1 = 1.0 if e >= hyper[H_SETTLED1] else 1.0 / (1.0 - hyper[H_BETA1] ** e)
        unbias2 = 1.0 if e >= hyper[H_SETTLED2] else 1.0 / (1.0 - hyper[H_BETA2] ** e)
        return unbias1, unbias2
    return 1.0, 1.0


@njit(**_INLINE)
def penalized(g, p, l1, l2):
    """g plus the L1 term l1 * sign(p) (+1 at 0) and the L2 term 2 * l2 * p."""
    if l1 != 0.0:
        g += l1 * (1.0 if p >= 0.0 else -1.0)
    if l2 != 0.0:
        g += 2.0 * l2 * p
    return g


# One function per update rule (nnfs's, see fastnn.optim): the generated kernels call the
# one their optimizer needs (a lane loop without branches vectorises), the generic
# kernels go through ``apply``. Each returns the new parameter and its new states.


@njit(**_INLINE)
def sgd_step(p, g, lr_t):
    return p + -lr_t * g


@njit(**_INLINE)
def momentum_step(p, g, u, lr_t, momentum):
    u = momentum * u - lr_t * g
    return p + u, u


@njit(**_INLINE)
def nesterov_step(p, g, u, lr_t, momentum):
    u = momentum * u - lr_t * g
    return p + (momentum * u - lr_t * g), u


# The rules that square g take g * g as an argument too (``gg``, the *_sq functions): a
# per-sample kernel's gradient is 0.0 + term (the sum over one sample), whose square is
# term * term exactly (signed zeros included), so the chain through the square root need
# not wait for that add.


@njit(**_INLINE)
def adagrad_step_sq(p, g, gg, cache, lr_t, epsilon):
    cache = cache + gg
    return p + -lr_t * g / (np.sqrt(cache) + epsilon), cache


@njit(**_INLINE)
def adagrad_step(p, g, cache, lr_t, epsilon):
    return adagrad_step_sq(p, g, g * g, cache, lr_t, epsilon)


@njit(**_INLINE)
def rmsprop_step_sq(p, g, gg, cache, lr_t, epsilon, rho):
    cache = rho * cache + (1.0 - rho) * gg
    return p + -lr_t * g / (np.sqrt(cache) + epsilon), cache


@njit(**_INLINE)
def rmsprop_step(p, g, cache, lr_t, epsilon, rho):
    return rmsprop_step_sq(p, g, g * g, cache, lr_t, epsilon, rho)


@njit(**_INLINE)
def adam_step_sq(p, g, gg, m, v, lr_t, epsilon, beta1, beta2, unbias1, unbias2):
    m = beta1 * m + (1.0 - beta1) * g
    v = beta2 * v + (1.0 - beta2) * gg
    m_hat = m * unbias1
    v_hat = v * unbias2
    return p + -lr_t * m_hat / (np.sqrt(v_hat) + epsilon), m, v


@njit(**_INLINE)
def adam_step(p, g, m, v, lr_t, epsilon, beta1, beta2, unbias1, unbias2):
    return adam_step_sq(p, g, g * g, m, v, lr_t, epsilon, beta1, beta2, unbias1, unbias2)


@njit(**_INLINE)
def apply(hyper, p, g, first, second, lr_t, unbias1, unbias2):
    """One optimizer step of one parameter p with gradient g, by ``hyper``'s code;
    returns the new (p, first, second): first is the momentum u or Adam's m, second the
    cache or v."""
    code = hyper[H_CODE]
    if code == ADAM_CODE:
        return adam_step(p, g, first, second, lr_t, hyper[H_EPSILON], hyper[H_BETA1], hyper[H_BETA2], unbias1, unbias2)
    if code == RMSPROP_CODE:
        p, second = rmsprop_step(p, g, second, lr_t, hyper[H_EPSILON], hyper[H_RHO])
        return p, first, second
    if code == ADAGRAD_CODE:
        p, second = adagrad_step(p, g, second, lr_t, hyper[H_EPSILON])
        return p, first, second
    momentum = hyper[H_MOMENTUM]
    if momentum == 0.0:
        return sgd_step(p, g, lr_t), first, second
    if hyper[H_NESTEROV] != 0.0:
        p, first = nesterov_step(p, g, first, lr_t, momentum)
        return p, first, second
    p, first = momentum_step(p, g, first, lr_t, momentum)
    return p, first, second


# How generated code calls the rule of each optimizer variant (fastnn.optim's
# ``kernel_variant``): the expression assigned, from names p (parameter), g (gradient),
# m, v (its states), lr_t, unbias1, unbias2 and the settings loaded from hyper into locals.
SETTINGS = {"momentum": H_MOMENTUM, "epsilon": H_EPSILON, "rho": H_RHO, "beta1": H_BETA1, "beta2": H_BETA2}
CALLS = {
    "sgd": ("{p}", "sgd_step({p}, {g}, lr_t)"),
    "momentum": ("{p}, {m}", "momentum_step({p}, {g}, {m}, lr_t, momentum)"),
    "nesterov": ("{p}, {m}", "nesterov_step({p}, {g}, {m}, lr_t, momentum)"),
    "adagrad": ("{p}, {v}", "adagrad_step({p}, {g}, {v}, lr_t, epsilon)"),
    "rmsprop": ("{p}, {v}", "rmsprop_step({p}, {g}, {v}, lr_t, epsilon, rho)"),
    "adam": ("{p}, {m}, {v}", "adam_step({p}, {g}, {m}, {v}, lr_t, epsilon, beta1, beta2, unbias1, unbias2)"),
}

SQUARING = ("adagrad", "rmsprop", "adam")  # the variants whose rule squares g


def update_line(variant, p, g, m, v, gg=None, settled=False):
    """The generated-code line of one parameter's update for an optimizer variant;
    ``gg``: an expression equal to g * g bit for bit, which the rules that square g
    take instead (their *_sq function); ``settled``: Adam's bias corrections are both
    exactly 1.0 (``bias_corrections``), passed as literals (x * 1.0 is x: no multiply)."""
    targets, call = CALLS[variant]
    if gg is not None and variant in SQUARING:
        call = call.replace("_step({p}, {g},", "_step_sq({p}, {g}, {gg},")
    if settled:
        call = call.replace("unbias1, unbias2", "1.0, 1.0")
    names = dict(p=p, g=g, m=m, v=v, gg=gg)
    return f"{targets.format(**names)} = {call.format(**names)}"


def settings_lines(variant):
    """Generated-code lines loading the settings the variant's rule reads from ``hyper``."""
    call = CALLS[variant][1]
    return [f"{name} = hyper[{slot}]" for name, slot in SETTINGS.items() if name in call]


@njit(**_INLINE)
def keep_multiplier(base, k, rate):
    """Dropout draw number k of the stream at ``base`` (uint64): 1 / (1 - rate) when the
    unit is kept (u >= rate), else 0 (see reference.dropout_keep)."""
    _, r = splitmix64(base + np.uint64(k) * _GOLDEN)
    u = (r >> _S11) * 2.0**-53
    return (1.0 if u >= rate else 0.0) / (1.0 - rate)
