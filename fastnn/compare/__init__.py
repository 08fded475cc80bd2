"""Other ways to train the same network, for timing fastnn against them and checking it.

Each module here has ``prepare(case, epochs) -> Prepared``: everything that should not be
timed (build the network, convert the data, compile, warm up) happens in ``prepare``;
``Prepared.run()`` then trains ``epochs`` epochs from the same initial parameters every
time it is called. A *step* is one sample's forward pass, backward pass and (its share of
the) update, so ``steps = epochs * n_samples`` whatever the batch size.

* ``fastnn_impl``: fastnn's own ``Network.fit`` with a given backend;
* ``jax_impl``: JAX, ``jit`` over ``lax.scan`` (imports ``jax``);
* ``torch_impl``: PyTorch eager mode, 1 thread (imports ``torch``).

JAX and PyTorch are optional: they are imported by their modules only, which nothing in
fastnn imports at import time (``fastnn.benchmark`` imports them when asked to compare).

A *case* is any object with ``sizes``, ``activations`` (one name per layer), ``loss``,
``lr``, ``batch_size``, ``network()`` (a fresh ``fastnn.Network`` holding the initial
parameters), ``data()`` (``(X, y)`` as ``Network.fit`` takes them) and ``arrays()``
(``(X, Y)`` float64, Y one-hot for class labels: see ``as_arrays``). ``bench/cases.py``
and ``fastnn.benchmark`` both define one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Prepared:
    """What a ``prepare`` returns: the timed callable and how to read its result."""

    run: Callable[[], object]  # trains `epochs` epochs from the initial parameters
    epochs: int
    steps: int  # epochs * n_samples
    outcome: Callable[[], tuple]  # (history (epochs,), params (n_params,)) of the last run
    # Seconds spent in prepare's untimed warm-up call (JIT compilation or loading a
    # compiled kernel from the cache, plus the warm-up's own work); None: no warm-up.
    warmup_seconds: float | None = None

    def __repr__(self):
        return f"Prepared(epochs={self.epochs}, steps={self.steps})"


def as_arrays(X, y, n_outputs, loss):
    """(X, Y) as float64 C-contiguous arrays, Y (n, n_outputs); class labels one-hot."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    y = np.asarray(y)
    if y.ndim == 1 and loss == "categorical_cross_entropy":
        Y = np.zeros((len(y), n_outputs), dtype=np.float64)
        Y[np.arange(len(y)), y.astype(np.int64)] = 1.0
    else:
        Y = np.ascontiguousarray(np.reshape(y, (len(y), n_outputs)), dtype=np.float64)
    return X, Y
