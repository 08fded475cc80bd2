"""Optimizers: small frozen, hashable, validated settings objects (nnfs's names and defaults).

The learning rate is not part of an optimizer: it stays ``fit``'s and ``sweep``'s ``lr``,
since that is what people sweep. A step counter ``t`` counts update steps (batches) from
0, and ``decay`` gives every step the rate ``lr_t = lr * (1 / (1 + decay * t))`` (nnfs's
expression; ``lr / (1 + decay * t)`` in exact arithmetic). With ``g`` a parameter's
gradient (the batch mean, plus any L1/L2 term) and ``p`` the parameter:

* ``SGD``: ``p += -lr_t * g``. With momentum: ``u = momentum * u - lr_t * g; p += u``;
  with ``nesterov=True``: ``u = momentum * u - lr_t * g; p += momentum * u - lr_t * g``
  (the look-ahead form of Sutskever et al. as Keras writes it; PyTorch keeps ``lr``
  outside its buffer, so it agrees only while ``lr_t`` is constant, up to rounding).
* ``AdaGrad``: ``c += g * g; p += -lr_t * g / (sqrt(c) + epsilon)``.
* ``RMSprop``: ``c = rho * c + (1 - rho) * g * g``, then as AdaGrad. (PyTorch's RMSprop
  has ``alpha=0.99`` and ``eps=1e-8`` by default; Keras's ``rho=0.9``.)
* ``Adam``: ``m = beta1 * m + (1 - beta1) * g; v = beta2 * v + (1 - beta2) * g * g;
  m_hat = m * (1 / (1 - beta1 ** (t + 1))); v_hat = v * (1 / (1 - beta2 ** (t + 1)));
  p += -lr_t * m_hat / (sqrt(v_hat) + epsilon)``. nnfs and optax divide m and v by the
  corrections; fastnn multiplies by their reciprocals, computed once a step (each
  m_hat, v_hat within an ulp of the division; two divisions a parameter fewer, which is a
  third of the per-sample Adam step's latency). PyTorch rounds in another order
  (``eps=1e-8`` by default); scikit-learn folds the bias correction into the learning
  rate, which differs where epsilon matters.

Every state (``u``, ``c``, ``m``, ``v``) starts at zero. The kernels receive an optimizer
as ``hyper()``: a float64 array indexed by the ``H_*`` constants below.
"""
from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass, fields

import numpy as np

# Codes (H_CODE) and the layout of hyper(): shared by the reference's dispatch and the kernels.
SGD_CODE, ADAGRAD_CODE, RMSPROP_CODE, ADAM_CODE = range(4)
H_CODE, H_DECAY, H_MOMENTUM, H_NESTEROV, H_EPSILON, H_RHO, H_BETA1, H_BETA2, H_SETTLED1, H_SETTLED2 = range(10)
N_HYPER = 10
# Adam's bias corrections 1 - beta ** (t + 1) round to exactly 1.0 once beta ** (t + 1) <=
# 2**-54 (1 - 2**-54 is the tie between 1 - 2**-53 and 1.0, which rounds to even: 1.0), and
# stay there (beta ** e falls by a factor beta <= ~1 - 1e-16 per step, far more than pow's
# error): from that exponent on the kernels skip the two pow calls a step (27-37 ns on this
# machine) with the same numbers. H_SETTLED1/2 hold it (with a factor 2 of margin).
SETTLED = 2.0 ** -55


def _real(value, name, owner, low=0.0, high=math.inf, high_open=False):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a real number, got {type(value).__name__}")
    out = float(value)
    if not math.isfinite(out) or out < low or out > high or (high_open and out == high):
        bound = f"in [{low:g}, {high:g})" if high_open else (f">= {low:g}" if high == math.inf else
                                                              f"in [{low:g}, {high:g}]")
        raise ValueError(f"{owner}: {name} must be finite and {bound}, got {value!r}")
    return out


class _Optimizer:
    """Shared behaviour: validation in __post_init__, a repr of the non-default settings."""

    name = ""
    code = -1

    def _check(self, **bounds):
        owner = type(self).__name__
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type in (bool, "bool"):
                if not isinstance(value, (bool, np.bool_)):
                    raise TypeError(f"{owner}: {f.name} must be True or False, got {value!r}")
                object.__setattr__(self, f.name, bool(value))
            else:
                object.__setattr__(self, f.name, _real(value, f.name, owner, **bounds.get(f.name, {})))

    def __repr__(self):
        changed = [f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if getattr(self, f.name) != f.default]
        return f"{type(self).__name__}({', '.join(changed)})"

    def hyper(self):
        """The settings for the kernels: float64 array (N_HYPER,), see the H_* indices."""
        out = np.zeros(N_HYPER, dtype=np.float64)
        out[H_CODE] = self.code
        for f in fields(self):
            out[_SLOTS[f.name]] = float(getattr(self, f.name))
        out[H_SETTLED1] = out[H_SETTLED2] = math.inf
        if self.code == ADAM_CODE:
            out[H_SETTLED1], out[H_SETTLED2] = settled_exponent(self.beta1), settled_exponent(self.beta2)
        return out

    @property
    def is_plain_sgd(self):
        """SGD without momentum or decay: the fused fast path of every kernel."""
        return False

    @property
    def kernel_variant(self):
        """Which update rule the generated kernels emit (kernels.optim.CALLS)."""
        return self.name


_SLOTS = {"decay": H_DECAY, "momentum": H_MOMENTUM, "nesterov": H_NESTEROV, "epsilon": H_EPSILON,
          "rho": H_RHO, "beta1": H_BETA1, "beta2": H_BETA2}


@dataclass(frozen=True, repr=False)
class SGD(_Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum and decay."""

    momentum: float = 0.0
    nesterov: bool = False
    decay: float = 0.0
    name = "sgd"
    code = SGD_CODE

    def __post_init__(self):
        self._check(momentum={"high": 1.0, "high_open": True})
        if self.nesterov and self.momentum == 0.0:
            raise ValueError("SGD: nesterov=True needs a momentum > 0")

    @property
    def is_plain_sgd(self):
        return self.momentum == 0.0 and self.decay == 0.0

    @property
    def kernel_variant(self):
        if self.momentum == 0.0:
            return "sgd"
        return "nesterov" if self.nesterov else "momentum"


@dataclass(frozen=True, repr=False)
class AdaGrad(_Optimizer):
    """AdaGrad: steps scaled by the root of each parameter's summed squared gradients."""

    decay: float = 0.0
    epsilon: float = 1e-7
    name = "adagrad"
    code = ADAGRAD_CODE

    def __post_init__(self):
        self._check(epsilon={"low": 0.0})
        _positive_epsilon(self)


@dataclass(frozen=True, repr=False)
class RMSprop(_Optimizer):
    """RMSprop: steps scaled by the root of a moving mean of squared gradients."""

    decay: float = 0.0
    epsilon: float = 1e-7
    rho: float = 0.9
    name = "rmsprop"
    code = RMSPROP_CODE

    def __post_init__(self):
        self._check(rho={"high": 1.0, "high_open": True})
        _positive_epsilon(self)


@dataclass(frozen=True, repr=False)
class Adam(_Optimizer):
    """Adam: bias-corrected moving means of the gradient and its square."""

    decay: float = 0.0
    epsilon: float = 1e-7
    beta1: float = 0.9
    beta2: float = 0.999
    name = "adam"
    code = ADAM_CODE

    def __post_init__(self):
        self._check(beta1={"high": 1.0, "high_open": True}, beta2={"high": 1.0, "high_open": True})
        _positive_epsilon(self)


@functools.lru_cache(maxsize=256)
def settled_exponent(beta):
    """The least whole exponent e >= 1 from which on beta ** e <= SETTLED (beta in [0, 1)),
    as a float: from there 1 - beta ** e is exactly 1.0. (Memoised: its logarithm and pow
    loops took 2 us of every fit with Adam; 0.0 and -0.0, equal keys, give the same e.)"""
    if beta == 0.0:
        return 1.0
    e = max(1.0, math.floor(math.log(SETTLED) / math.log(beta)) - 2.0)
    while beta ** e > SETTLED:
        e += 1.0
    while e > 1.0 and beta ** (e - 1.0) <= SETTLED:
        e -= 1.0
    return e


def _positive_epsilon(opt):
    if opt.epsilon <= 0.0:  # sqrt(0) + 0 would divide by zero on a zero gradient
        raise ValueError(f"{type(opt).__name__}: epsilon must be > 0, got {opt.epsilon!r}")


OPTIMIZERS = {"sgd": SGD, "adagrad": AdaGrad, "rmsprop": RMSprop, "adam": Adam}


@functools.lru_cache(maxsize=None)
def _default(key):
    """The optimizer named ``key`` with default settings, built once (frozen: shared safely;
    building and validating one took 6 us of every fit given a name)."""
    return OPTIMIZERS[key]()


def resolve(optimizer, name="optimizer"):
    """An optimizer object from an object or a name (default settings)."""
    if isinstance(optimizer, _Optimizer):
        return optimizer
    if isinstance(optimizer, str):
        key = optimizer.lower()
        if key not in OPTIMIZERS:
            raise ValueError(f"unknown {name} {optimizer!r}; valid: {', '.join(OPTIMIZERS)} or an object "
                             "such as fastnn.Adam(beta1=0.8)")
        return _default(key)
    raise TypeError(f"{name} must be a name ({', '.join(OPTIMIZERS)}) or an optimizer object such as "
                    f"fastnn.Adam(), got {type(optimizer).__name__}")
