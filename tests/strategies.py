"""Hypothesis strategies for fastnn test cases: a network, its parameters and a data set.

Hypothesis draws the *structure* (depth, widths, activations, loss, bias, sample count,
batch size, shuffle, target form) and one integer seed; the *numbers* (params, X, y)
come from ``numpy.random.default_rng(seed)``. That is much faster than drawing arrays
element by element, shrinks well (to a small structure and seed 0) and keeps the values
moderate: weights and inputs are ``0.5 * N(0, 1)``, so net inputs stay of order 1, far
from sigmoid/exp overflow and (almost always) from the cross-entropy clip; a ReLU net
input lands near its kink only rarely, and tests that care check ``min_relu_margin``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

import fastnn

ELEMENTWISE = ("linear", "relu", "sigmoid", "tanh", "gaussian")
ACTIVATIONS = ELEMENTWISE + ("softmax",)
LOSSES = tuple(fastnn.LOSSES)

# Everything drawn from the numpy generator is this many standard deviations wide.
SCALE = 0.5


@dataclass
class NetCase:
    """One generated network and data set; ``network()`` builds a fresh Network from it."""

    sizes: list
    activations: list
    loss: str
    bias: bool
    params: np.ndarray
    X: np.ndarray
    y: np.ndarray
    batch_size: int
    shuffle: bool
    seed: int
    lr: float = 0.05

    @property
    def n(self):
        return self.X.shape[0]

    def activation_arg(self):
        """The activation argument: one name when every layer agrees, else the list."""
        if len(set(self.activations)) == 1:
            return self.activations[0]
        return list(self.activations)

    def network(self, init=None):
        return fastnn.Network(
            self.sizes,
            self.activation_arg(),
            self.loss,
            bias=self.bias,
            init=self.params.copy() if init is None else init,
            seed=self.seed,
        )

    def __repr__(self):  # hypothesis prints this for a falsifying example
        return (
            f"NetCase(sizes={self.sizes}, activations={self.activations}, loss={self.loss!r}, "
            f"bias={self.bias}, n={self.n}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"seed={self.seed}, lr={self.lr}, y.shape={self.y.shape})"
        )


def n_params(sizes, bias):
    return sum(i * o + (o if bias else 0) for i, o in zip(sizes[:-1], sizes[1:]))


def make_targets(rng, loss, n, n_out, form):
    """Targets of the right shape and range for ``loss``.

    ``form``: ``"rows"`` (n, n_out); ``"flat"`` (n,), used for n_out == 1 and for class
    labels with categorical cross-entropy; ``"hard"`` (BCE only) targets exactly 0 or 1.
    """
    if loss == "categorical_cross_entropy":
        labels = rng.integers(0, n_out, n)
        if form == "flat":
            return labels
        return np.eye(n_out)[labels]
    if loss == "binary_cross_entropy":
        y = rng.uniform(0.0, 1.0, (n, n_out))
        if form == "hard":
            y = np.round(y)
    else:
        y = SCALE * rng.standard_normal((n, n_out))
    if form == "flat" and n_out == 1:
        return y[:, 0]
    return y


@st.composite
def structures(draw, max_layers=4, max_width=16, hidden=ELEMENTWISE, outputs=ACTIVATIONS, losses=LOSSES):
    """(sizes, activations, loss, bias): a valid network shape.

    Softmax only on the output; categorical cross-entropy only with a softmax output.
    ``hidden``/``outputs``/``losses`` narrow the choices (e.g. smooth activations only).
    """
    n_layers = draw(st.integers(1, max_layers))
    sizes = draw(st.lists(st.integers(1, max_width), min_size=n_layers + 1, max_size=n_layers + 1))
    loss = draw(st.sampled_from(losses))
    acts = [draw(st.sampled_from(hidden)) for _ in range(n_layers - 1)]
    if loss == "categorical_cross_entropy":
        acts.append("softmax")
    else:
        acts.append(draw(st.sampled_from(outputs)))
    bias = draw(st.booleans())
    return sizes, acts, loss, bias


# The "numba" backend compiles a kernel specialised to each small network shape (seconds
# per shape, minutes for a few dozen), so tests of it draw the shape from this pool and
# let hypothesis vary everything else (params, data, batching, shuffling, lr). Together
# the shapes cover every activation and loss, bias on and off, softmax with a non-CCE
# loss, depth 1 to 3, width 1, and one network too big to unroll (204 params), which
# takes the "numba" backend's explicit-SIMD kernel (kernels.widegen).
NUMBA_POOL = (
    ([2, 2, 1], ["relu", "relu"], "squared_error", True),  # seed 000
    ([2, 3, 1], ["tanh", "sigmoid"], "binary_cross_entropy", True),
    ([1, 2, 3], ["gaussian", "softmax"], "categorical_cross_entropy", True),
    ([2, 2, 2, 1], ["sigmoid", "relu", "linear"], "mse", False),
    ([3, 12, 12], ["tanh", "softmax"], "half_squared_error", True),  # 204 params
    ([1, 1], ["linear"], "mse", True),  # the smallest network
)


def pool_structures(pool=NUMBA_POOL):
    return st.sampled_from(pool).map(lambda s: (list(s[0]), list(s[1]), s[2], s[3]))


@st.composite
def net_cases(
    draw,
    max_layers=4,
    max_width=16,
    min_samples=1,
    max_samples=12,
    hidden=ELEMENTWISE,
    outputs=ACTIVATIONS,
    losses=LOSSES,
    shapes=None,
):
    """A NetCase: structure, params, X (n, n_in), y shaped for the loss, batching, seed.

    ``shapes``: a strategy of (sizes, activations, loss, bias) to use instead of
    ``structures(max_layers, max_width, hidden, outputs, losses)``, e.g. pool_structures().
    """
    if shapes is None:
        shapes = structures(max_layers, max_width, hidden, outputs, losses)
    sizes, acts, loss, bias = draw(shapes)
    n = draw(st.integers(min_samples, max_samples))
    # Batch size: per sample, full batch, or some k in between.
    batch_size = draw(st.sampled_from(["one", "full", "k"]))
    if batch_size == "one":
        batch_size = 1
    elif batch_size == "full":
        batch_size = n
    else:
        batch_size = draw(st.integers(1, n))
    shuffle = draw(st.booleans())
    lr = draw(st.sampled_from([0.05, 0.01, 0.3]))
    seed = draw(st.integers(0, 2**32 - 1))
    if loss == "categorical_cross_entropy":
        form = draw(st.sampled_from(["rows", "flat"]))
    elif loss == "binary_cross_entropy":
        form = draw(st.sampled_from(["rows", "hard"] + (["flat"] if sizes[-1] == 1 else [])))
    else:
        form = draw(st.sampled_from(["rows"] + (["flat"] if sizes[-1] == 1 else [])))
    rng = np.random.default_rng(seed)
    params = SCALE * rng.standard_normal(n_params(sizes, bias))
    X = SCALE * rng.standard_normal((n, sizes[0]))
    y = make_targets(rng, loss, n, sizes[-1], form)
    return NetCase(sizes, acts, loss, bias, params, X, y, batch_size, shuffle, seed, lr)


# ------------------------------------------------------------------ numpy helpers


def np_activate(name, z):
    """The activations written directly with numpy, for hand computations in the tests."""
    if name == "linear":
        return z
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "gaussian":
        return np.exp(-(z * z))
    if name == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    raise ValueError(name)


def np_forward(case_or_net, X=None):
    """A plain numpy forward pass ``a = f(a @ W + b)`` over X (default: the case's).

    Returns ``(zs, yhat)``: the net inputs of every layer, each (n, n_out), and the output.
    """
    net = case_or_net.network() if isinstance(case_or_net, NetCase) else case_or_net
    a = np.asarray(case_or_net.X if X is None else X, dtype=float)
    zs = []
    for l, name in enumerate(net.activations):
        z = a @ net.weight(l)
        if net.spec.bias:
            z = z + net.bias(l)
        zs.append(z)
        a = np_activate(name, z)
    return zs, a


def min_relu_margin(case):
    """Smallest |z| over the net inputs of every ReLU unit (inf when there is none)."""
    zs, _ = np_forward(case)
    margins = [np.abs(z).min() for z, name in zip(zs, case.activations) if name == "relu"]
    return min(margins, default=np.inf)


def assert_bits_equal(actual, expected, what):
    """The same float64 values to the last bit (NaN where NaN), or an AssertionError
    naming ``what`` and the first difference."""
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    a_bits = np.ascontiguousarray(actual).view(np.uint64).ravel()
    e_bits = np.ascontiguousarray(expected).view(np.uint64).ravel()
    differ = np.flatnonzero(a_bits != e_bits)
    if differ.size:
        i = differ[0]
        raise AssertionError(
            f"{what}: {differ.size} of {actual.size} values differ in their bits; first at flat index {i}: "
            f"{actual.ravel()[i]!r} != {expected.ravel()[i]!r}"
        )


# How far every ReLU's net input and every clipped probability must stay from its kink
# for central differences to measure the analytic gradient.
MARGIN = 1e-4


def differentiable_here(case):
    """True when finite differences measure the analytic gradient at case.params."""
    if min_relu_margin(case) < MARGIN:
        return False
    if case.loss in ("binary_cross_entropy", "categorical_cross_entropy"):
        _, yhat = np_forward(case)
        return bool(np.all((yhat > MARGIN) & (yhat < 1.0 - MARGIN)))
    return True


def break_reference_gradient(monkeypatch, layer=1, factor=3.0):
    """Make fastnn.reference.sample_gradient wrong in one place (the first weight of
    ``layer``, scaled by ``factor``), for tests that a reference/finite-difference
    disagreement is reported as fastnn's fault, never the user's."""
    true = fastnn.reference.sample_gradient

    def broken(spec, params, x, y, keep=None):
        loss, grad = true(spec, params, x, y, keep)
        grad[spec.weight_offset(layer)] *= factor
        return loss, grad

    monkeypatch.setattr(fastnn.reference, "sample_gradient", broken)
