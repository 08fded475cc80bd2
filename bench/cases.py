"""The registry of comparisons: what is trained (cases) and by what (implementations).

One registry serves the benchmarks (``bench/test_training.py``), their smoke checks, and
the report::

    from bench.cases import CASES, IMPLS, pairs
    for case, impl in pairs():
        prepared = impl.setup(case, epochs=10)   # builds, warms up (JIT) -- not timed
        prepared.run()                           # the timed work: prepared.steps steps
        history, params = prepared.outcome()     # of the last run, in fastnn's layout

A *case* is a network, its data and its training settings. An *implementation* is a way
to train it; its ``setup(case, epochs)`` does everything that should not be timed (build
the network, convert the data, compile) and returns a ``Prepared`` whose ``run`` is a
zero-argument callable that trains ``epochs`` epochs from the same initial parameters
every time it is called.

A *step* is one sample's forward pass, backward pass and (its share of the) update, so
``steps = epochs * n_samples`` whatever the batch size; times are reported per step, which
keeps implementations that run different numbers of epochs comparable.

Implementations are imported lazily: JAX and PyTorch are optional (``requires`` names the
modules an implementation needs; the tests skip it when they are missing).

The general implementations (fastnn's backends, JAX, PyTorch) and ``Prepared`` live in
the package, ``fastnn.compare``, so that ``fastnn bench`` (``fastnn.benchmark``: the same
comparison for a user's own network, from an installed package) runs the same code; this
registry adds the fixed cases and the implementations only they need (seed 000's scalar
Python, the hand-written 2-2-1 kernel).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

import numpy as np

import fastnn
from fastnn import datasets, seeds
from fastnn.compare import Prepared, as_arrays

# The implementation every ratio is taken against, and the oracle.
BASELINE = "numba"
REFERENCE = "reference"

# Speed tiers: each case says how many epochs each tier runs in a real benchmark (about
# 10-60 ms a call on a 2-core EPYC), so slow implementations run fewer epochs.
TIERS = ("compiled", "scalar", "reference", "torch")


@dataclass(frozen=True)
class Case:
    name: str
    title: str
    sizes: tuple
    activation: object  # one name, or a tuple with one per layer
    loss: str
    lr: float
    batch_size: int
    make_data: Callable[[], tuple]  # -> (X, y) as fastnn.datasets returns them
    make_network: Callable[[], fastnn.Network]  # a fresh network holding the initial params
    epochs: dict = field(default_factory=dict)  # tier -> epochs in a timed run
    smoke_epochs: int = 2
    optimizer: str = "sgd"  # fit's optimizer (by name, default settings)

    def __repr__(self):
        return f"Case({self.name!r}: {self.title})"

    def network(self):
        """A fresh fastnn.Network with the case's initial parameters."""
        return self.make_network()

    def data(self):
        """(X, y) as fastnn.datasets makes them (y: int labels for classification)."""
        return _data(self.name)

    def arrays(self):
        """(X, Y) as float64 C-contiguous arrays, Y (n, n_outputs), labels one-hot."""
        X, y = self.data()
        return as_arrays(X, y, self.sizes[-1], self.loss)

    @property
    def n_samples(self):
        return len(self.data()[0])

    @property
    def activations(self):
        n_layers = len(self.sizes) - 1
        if isinstance(self.activation, str):
            return (self.activation,) * n_layers
        return tuple(self.activation)

    def describe(self):
        widths = "-".join(str(s) for s in self.sizes)
        step = "SGD" if self.optimizer == "sgd" else {"adam": "Adam"}.get(self.optimizer, self.optimizer)
        batch = f"per-sample {step}" if self.batch_size == 1 else f"mini-batch {self.batch_size}, {step}"
        acts = "/".join(dict.fromkeys(self.activations))
        return f"{widths} {acts}, {self.loss}, {batch}, lr {self.lr:g}, {self.n_samples} samples"


@dataclass(frozen=True)
class Impl:
    name: str
    title: str
    tier: str  # a key of Case.epochs
    setup: Callable[[Case, int], Prepared]
    requires: tuple = ()  # optional modules it imports
    cases: tuple | None = None  # the cases it can train; None: all of them
    rtol: float = 1e-12  # agreement with fastnn.reference that the checks demand (observed: <2e-15)
    optimizers: tuple = ("sgd",)  # the optimizers it implements

    def __repr__(self):
        return f"Impl({self.name!r}: {self.title})"

    def applies(self, case):
        return (self.cases is None or case.name in self.cases) and case.optimizer in self.optimizers


# ---------------------------------------------------------------- cases

_DATA = {}


def _data(name):
    if name not in _DATA:
        _DATA[name] = CASES[name].make_data()
    return _DATA[name]


def _mlp_network():
    # He init, seed 0: every sample reaches the output ReLU alive (seed 1 starts dead:
    # constant loss, zero gradients), and lr 1e-4 trains smoothly for thousands of epochs.
    return fastnn.Network([2, 32, 32, 1], "relu", "squared_error", init="he", seed=0)


def _spiral_network():
    return fastnn.Network(
        [2, 64, 3], ["relu", "softmax"], "categorical_cross_entropy", init="he", seed=0
    )


CASES = {
    case.name: case
    for case in (
        Case(
            name="seed000-221",
            title="seed 000's 2-2-1 ReLU network",
            sizes=(2, 2, 1),
            activation="relu",
            loss="squared_error",
            lr=seeds.SEED000_LR,
            batch_size=1,
            make_data=lambda: datasets.quadratic(100, seed=0),
            make_network=seeds.seed000_network,
            epochs=dict(compiled=10_000, scalar=300, reference=30, torch=2),
        ),
        Case(
            name="mlp-2-32-32-1",
            title="2-32-32-1 ReLU network",
            sizes=(2, 32, 32, 1),
            activation="relu",
            loss="squared_error",
            lr=1e-4,
            batch_size=1,
            make_data=lambda: datasets.quadratic(100, seed=0),
            make_network=_mlp_network,
            epochs=dict(compiled=100, reference=2, torch=2),
        ),
        Case(
            name="spiral-2-64-3",
            title="2-64-3 spiral classifier, mini-batch 32",
            sizes=(2, 64, 3),
            activation=("relu", "softmax"),
            loss="categorical_cross_entropy",
            lr=0.05,
            batch_size=32,
            make_data=lambda: datasets.spiral(100, 3, seed=0),
            make_network=_spiral_network,
            epochs=dict(compiled=100, reference=2, torch=10),
        ),
        Case(
            name="seed000-221-adam",
            title="seed 000's 2-2-1 ReLU network, Adam",
            sizes=(2, 2, 1),
            activation="relu",
            loss="squared_error",
            lr=seeds.SEED000_LR,
            batch_size=1,
            make_data=lambda: datasets.quadratic(100, seed=0),
            make_network=seeds.seed000_network,
            epochs=dict(compiled=1_000, reference=10),
            optimizer="adam",
        ),
        Case(
            name="spiral-2-64-3-adam",
            title="2-64-3 spiral classifier, mini-batch 32, Adam",
            sizes=(2, 64, 3),
            activation=("relu", "softmax"),
            loss="categorical_cross_entropy",
            lr=0.005,
            batch_size=32,
            make_data=lambda: datasets.spiral(100, 3, seed=0),
            make_network=_spiral_network,
            epochs=dict(compiled=100, reference=2),
            optimizer="adam",
        ),
    )
}
ALL_OPTIMIZERS = ("sgd", "adam")


# ---------------------------------------------------------------- implementations


def _fastnn(backend):
    """fastnn's public API: Network.fit with the given backend (fastnn.compare.fastnn_impl)."""

    def setup(case, epochs):
        from fastnn.compare import fastnn_impl

        return fastnn_impl.prepare(case, epochs, backend)

    return setup


def _handwritten(case, epochs):
    from .handwritten import train_221

    X, Y = case.arrays()
    initial = case.network().params.copy()
    last = {}

    def run():
        params = initial.copy()
        history = np.empty(epochs)
        train_221(params, X, Y, case.lr, epochs, history)
        last["out"] = history, params

    train_221(initial.copy(), X, Y, case.lr, 1, np.empty(1))  # compile / load cache
    return Prepared(run, epochs, epochs * len(X), lambda: last["out"])


_SEED000_NAMES = ("w1", "w2", "w3", "w4", "bias1", "bias2", "w5", "w6", "bias3")  # fastnn order


def _seed000_scalar(case, epochs):
    from . import seed000_scalar

    X, Y = case.arrays()
    # The document's data: rows [input1, input2, true_value] of Python ints.
    data = [[int(a), int(b), int(c)] for (a, b), (c,) in zip(X.tolist(), Y.tolist())]
    assert np.array_equal(np.array(data, dtype=np.float64), np.column_stack((X, Y)))
    weights = dict(zip(_SEED000_NAMES, case.network().params.tolist()))
    last = {}

    def run():
        last["out"] = seed000_scalar.train(weights, data, case.lr, epochs)

    def outcome():
        new, history = last["out"]
        return np.array(history), seeds.seed000_params(new)

    return Prepared(run, epochs, epochs * len(data), outcome)


def _jax(case, epochs):
    from fastnn.compare.jax_impl import prepare

    return prepare(case, epochs)


def _torch(case, epochs):
    from fastnn.compare.torch_impl import prepare

    return prepare(case, epochs)


_SCALAR_221 = ("seed000-221",)  # cases with seed 000's 2-2-1 ReLU squared-error shape

IMPLS = {
    impl.name: impl
    for impl in (
        Impl("reference", "fastnn reference (pure Python)", "reference", _fastnn("reference"),
             optimizers=ALL_OPTIMIZERS),
        Impl(
            "seed-scalar",
            "seed 000's hand-derived scalar Python",
            "scalar",
            _seed000_scalar,
            cases=_SCALAR_221,
        ),
        Impl("torch", "PyTorch eager, CPU, 1 thread", "torch", _torch, requires=("torch",)),
        Impl("jax", "JAX jit + lax.scan (optax for Adam)", "compiled", _jax, requires=("jax", "optax"),
             optimizers=ALL_OPTIMIZERS),
        Impl("generic", "fastnn numba, generic kernel", "compiled", _fastnn("generic"), optimizers=ALL_OPTIMIZERS),
        Impl("numba", "fastnn numba (backend='numba')", "compiled", _fastnn("numba"), optimizers=ALL_OPTIMIZERS),
        Impl(
            "handwritten",
            "hand-written numba 2-2-1 (the practical limit)",
            "compiled",
            _handwritten,
            cases=_SCALAR_221,
        ),
    )
}


def pairs():
    """Every (case, implementation) the benchmarks run, in report order."""
    for case in CASES.values():
        for impl in IMPLS.values():
            if impl.applies(case):
                yield case, impl


def epochs_for(case, impl, smoke):
    """Epochs of a run: the case's smoke count in smoke mode, else its tier's count."""
    if smoke:
        return case.smoke_epochs
    return case.epochs.get(impl.tier, case.epochs["reference"])


@lru_cache(maxsize=None)
def reference_outcome(case_name, epochs):
    """(history, params) of fastnn's reference training ``epochs`` epochs (cached)."""
    case = CASES[case_name]
    prepared = IMPLS[REFERENCE].setup(case, epochs)
    prepared.run()
    return prepared.outcome()
