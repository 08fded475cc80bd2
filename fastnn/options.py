"""What a training run does besides the network: the optimizer, L1/L2 penalties, dropout.

``TrainOptions.build`` validates ``fit``'s and ``sweep``'s arguments once (ValueError /
TypeError naming the argument, before any kernel runs) into frozen, hashable values that
the reference reads directly and the kernels read as arrays (``hyper()``, ``penalty_rows()``,
``dropout_rates()``).
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from . import optim
from .spec import DROPOUT_SALT, Spec


def _rate_list(value, name, count, what, high=math.inf, high_open=False):
    """One number for every layer, or a list of ``count`` numbers (one per ``what``)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        items = list(np.asarray(value, dtype=object).ravel()) if isinstance(value, np.ndarray) else list(value)
        if len(items) != count:
            raise ValueError(f"{name} must be one number or a list of {count} (one per {what}), got {len(items)}")
    else:
        items = [value] * count
    out = []
    for item in items:
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, numbers.Real):
            raise TypeError(f"{name} must hold real numbers, got {type(item).__name__}")
        number = float(item)
        if not math.isfinite(number) or number < 0.0 or number > high or (high_open and number == high):
            bound = f"in [0, {high:g})" if high_open else ">= 0"
            raise ValueError(f"{name} must be finite and {bound}, got {item!r}")
        out.append(number)
    return tuple(out)


@dataclass(frozen=True)
class Penalties:
    """L1/L2 factors per layer (tuples of n_layers floats), weights and biases apart."""

    l1: tuple
    l2: tuple
    l1_bias: tuple
    l2_bias: tuple

    @property
    def any(self):
        return any(v != 0.0 for v in self.l1 + self.l2 + self.l1_bias + self.l2_bias)


@dataclass(frozen=True)
class TrainOptions:
    """An optimizer object, ``Penalties`` and dropout rates (one per hidden layer)."""

    optimizer: object
    penalties: Penalties
    dropout: tuple

    @classmethod
    def build(cls, spec: Spec, optimizer="sgd", l1=0.0, l2=0.0, l1_bias=0.0, l2_bias=0.0, dropout=0.0):
        """Validated options for a network of ``spec`` (raises ValueError/TypeError)."""
        L = spec.n_layers
        penalties = Penalties(
            _rate_list(l1, "l1", L, "layer"), _rate_list(l2, "l2", L, "layer"),
            _rate_list(l1_bias, "l1_bias", L, "layer"), _rate_list(l2_bias, "l2_bias", L, "layer"),
        )
        if not spec.bias and (penalties.l1_bias != (0.0,) * L or penalties.l2_bias != (0.0,) * L):
            raise ValueError("l1_bias/l2_bias: this network was built with bias=False")
        hidden = L - 1
        if hidden == 0:
            if isinstance(dropout, (list, tuple, np.ndarray)) and len(dropout) > 0:
                raise ValueError("dropout: the network has no hidden layer to drop units of")
            rates = _rate_list(dropout, "dropout", 1, "hidden layer", high=1.0, high_open=True)
            if rates[0] != 0.0:
                raise ValueError("dropout: the network has no hidden layer to drop units of")
            rates = ()
        else:
            rates = _rate_list(dropout, "dropout", hidden, "hidden layer", high=1.0, high_open=True)
        return cls(optim.resolve(optimizer), penalties, rates)

    @classmethod
    def plain(cls, spec: Spec):
        """Plain SGD, no penalty, no dropout."""
        return cls.build(spec)

    @property
    def is_plain(self):
        """Plain SGD with nothing else: the fused fast kernels train it."""
        return self.optimizer.is_plain_sgd and not self.penalties.any and not self.has_dropout

    @property
    def has_dropout(self):
        return any(rate != 0.0 for rate in self.dropout)

    # ------------------------------------------------------------ for the kernels

    def hyper(self):
        return self.optimizer.hyper()

    def penalty_rows(self):
        """float64 (n_layers, 4): l1, l2, l1_bias, l2_bias of every layer."""
        p = self.penalties
        return np.ascontiguousarray(np.array([p.l1, p.l2, p.l1_bias, p.l2_bias], dtype=np.float64).T)

    def parameter_penalties(self, spec: Spec):
        """float64 (n_params, 2): the L1 and L2 factor of every parameter (its layer's
        weight or bias factors), laid out like params."""
        out = np.zeros((spec.n_params, 2), dtype=np.float64)
        p = self.penalties
        for l in range(spec.n_layers):
            w = spec.weight_offset(l)
            out[w : w + spec.sizes[l] * spec.sizes[l + 1]] = (p.l1[l], p.l2[l])
            if spec.bias:
                b = spec.bias_offset(l)
                out[b : b + spec.sizes[l + 1]] = (p.l1_bias[l], p.l2_bias[l])
        return out

    def dropout_rates(self, spec: Spec):
        """float64 (n_layers,): each layer's dropout rate on its outputs (0 for the output layer)."""
        out = np.zeros(spec.n_layers, dtype=np.float64)
        out[: len(self.dropout)] = self.dropout
        return out


_GOLDEN = 0x9E3779B97F4A7C15
_MASK64 = (1 << 64) - 1


class RunState:
    """Where a network's training stands, for ``fit(..., warm_start=True)``: the optimizer,
    its per-parameter states ``first`` and ``second`` (float64 (P,), laid out like params),
    the step counter ``t``, the samples seen (numbering dropout's draws), the shuffling
    state and dropout's stream base (uint64 ints)."""

    def __init__(self, optimizer, n_params, seed):
        self.optimizer = optimizer
        self.first = np.zeros(n_params, dtype=np.float64)
        self.second = np.zeros(n_params, dtype=np.float64)
        self.t = 0
        self.samples = 0
        self.shuffle_state = int(seed) & _MASK64
        self.dropout_base = (int(seed) ^ DROPOUT_SALT) & _MASK64

    def copy(self):
        other = RunState(self.optimizer, 0, 0)
        other.first, other.second = self.first.copy(), self.second.copy()
        other.t, other.samples, other.shuffle_state, other.dropout_base = (
            self.t, self.samples, self.shuffle_state, self.dropout_base)
        return other

    def advance(self, n, batch_size, shuffle, epochs):
        """What ``epochs`` epochs of a kernel that keeps no state (plain SGD) did to it:
        ceil(n / batch_size) steps and n samples an epoch, n - 1 shuffling draws."""
        self.t += epochs * -(-n // batch_size)
        self.samples += epochs * n
        if shuffle:
            self.shuffle_state = (self.shuffle_state + _GOLDEN * (n - 1) * epochs) & _MASK64

    def kernel_arrays(self):
        """(clock int64 [t, samples], rng uint64 [shuffle state, dropout base]) for the kernels."""
        return (np.array([self.t, self.samples], dtype=np.int64),
                np.array([self.shuffle_state, self.dropout_base], dtype=np.uint64))

    def take_kernel_arrays(self, clock, rng):
        self.t, self.samples = int(clock[0]), int(clock[1])
        self.shuffle_state, self.dropout_base = int(rng[0]), int(rng[1])

    def to_reference(self, reference):
        state = reference.OptimizerState(0, self.shuffle_state, self.dropout_base)
        state.first, state.second = self.first.tolist(), self.second.tolist()
        state.t, state.samples = self.t, self.samples
        return state

    def take_reference(self, state):
        self.first[:], self.second[:] = state.first, state.second
        self.t, self.samples, self.shuffle_state = state.t, state.samples, state.shuffle_state
