"""The explicit-SIMD kernels (kernels.widegen) for networks too big to unroll.

``backend="numba"`` trains these networks with ``widegen``'s generated kernels; they must
give exactly the bits of the generic loops (which do the reference's arithmetic operation
for operation) and match the reference within the usual tolerance. The shapes (one
compile per shape) cover widths that are not multiples of 4 (padding lanes), width 1,
depth 1 to 3, every activation and loss, bias on and off;
hypothesis varies the numbers, the sample count, batch size, shuffling and lr.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastnn
from fastnn.kernels import specialized, widegen
from fastnn.spec import Spec

from strategies import net_cases, pool_structures
from test_kernels_vs_reference import TRAIN_RTOL, assert_close
from test_optimizers import assert_same_run, fit_run, rates, train_settings

WIDE_POOL = (
    ([2, 32, 32, 1], ["relu", "relu", "relu"], "squared_error", True),  # the mlp benchmark
    ([2, 64, 3], ["relu", "softmax"], "categorical_cross_entropy", True),  # the spiral benchmark
    ([3, 13, 7, 2], ["sigmoid", "tanh", "linear"], "mse", False),
    ([5, 17, 1, 9], ["gaussian", "relu", "sigmoid"], "binary_cross_entropy", True),
    ([12, 6], ["softmax"], "half_squared_error", True),  # one layer of 72 weights, stored transposed
)
# One compile per shape and kind of kernel (3-13 s each here): shapes are few and each
# covers several features.


def test_pool_routes_to_wide_kernels():
    for sizes, acts, loss, bias in WIDE_POOL:
        assert specialized.kind(Spec.build(sizes, acts, loss, bias)) == "wide", sizes


def _fit(case, backend, epochs=4):
    net = case.network()
    kwargs = dict(lr=case.lr, epochs=epochs, batch_size=case.batch_size, shuffle=case.shuffle, seed=case.seed)
    history = net.fit(case.X, case.y, backend=backend, on_divergence="stop", **kwargs)
    return history, net.params


@pytest.mark.parametrize("which", range(len(WIDE_POOL)), ids=lambda k: "-".join(map(str, WIDE_POOL[k][0])))
@settings(max_examples=8)
@given(data=st.data())
def test_wide_training_equals_generic_bit_for_bit(which, data):
    """Per-sample, mini-batch and full-batch runs (shuffled or not; batches that are not
    multiples of the kernel's lanes) give the generic kernels' history and params exactly,
    and the reference's within TRAIN_RTOL."""
    case = data.draw(net_cases(shapes=pool_structures(WIDE_POOL[which : which + 1]), max_samples=40))
    hist, params = _fit(case, "numba")
    ghist, gparams = _fit(case, "generic")
    np.testing.assert_array_equal(hist, ghist)
    np.testing.assert_array_equal(params, gparams)
    if case.n <= 12:  # the reference is slow at these widths: fewer samples and epochs
        rhist, rparams = _fit(case, "reference", epochs=2)
        hist, params = _fit(case, "numba", epochs=2)
        assert_close(hist, rhist, TRAIN_RTOL, what="history")
        assert_close(params, rparams, TRAIN_RTOL, what="params")


@pytest.mark.parametrize("batch_size", [1, 5])
def test_wide_divergence_matches_generic(batch_size):
    """A run that blows up stops in the same epoch with the same params and history (the
    pool's 3-13-7-2 shape, whose kernels are already compiled: its linear output diverges
    at lr 1 where the ReLU networks' units die instead)."""
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((30, 3)), 10.0 * rng.standard_normal((30, 2))
    sizes, acts, loss, bias = WIDE_POOL[2]
    results = {}
    for backend in ("numba", "generic"):
        net = fastnn.Network(sizes, acts, loss, bias, init="he", seed=0)
        history = net.fit(X, y, lr=1.0, epochs=50, batch_size=batch_size, backend=backend, on_divergence="stop")
        results[backend] = history, net.params.copy()
    assert len(results["numba"][0]) < 50  # it did diverge
    np.testing.assert_array_equal(results["numba"][0], results["generic"][0])
    np.testing.assert_array_equal(results["numba"][1], results["generic"][1])


def test_too_wide_falls_back_to_generic():
    """Layers wider than widegen.MAX_WIDTH train with the generic kernels."""
    spec = Spec.build([2, widegen.MAX_WIDTH + 1, 1], "relu", "squared_error")
    assert specialized.kind(spec) is None and specialized.train_kernel(spec, False) is None
    net = fastnn.Network([2, widegen.MAX_WIDTH + 1, 1], "relu", "squared_error", seed=0)
    X, y = np.ones((3, 2)), np.zeros(3)
    other = net.copy()
    np.testing.assert_array_equal(net.fit(X, y, 1e-3, 2), other.fit(X, y, 1e-3, 2, backend="generic"))
    np.testing.assert_array_equal(net.params, other.params)


@pytest.mark.parametrize("batch_size", [4, 5, 8, 16, 30])
@pytest.mark.parametrize("case", ["ties", "partial-ties", "overflow"])
def test_wide_softmax_edge_cases_match_generic(case, batch_size):
    """The mini-batch kernel's softmax takes exp(0.0) = 1.0 for the largest net input
    without calling exp, and its update multiplies by 1/m when the batch size m is a power
    of two: both must keep the generic kernels' bits. Cases: every net input equal (all
    output weights 0), two of three equal (a repeated output column), and a largest net input
    that overflows to +inf (exp(inf - inf) is NaN, not 1.0: the run diverges at once, in
    the same epoch with the same params). Batch sizes: powers of two, and not (30 samples leave a short
    last batch)."""
    sizes, acts, loss, bias = WIDE_POOL[1]
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((30, 2)), rng.integers(0, 3, 30)
    results = {}
    for backend in ("numba", "generic"):
        net = fastnn.Network(sizes, acts, loss, bias, init="he", seed=0)
        out = net.weight(1)
        if case == "ties":
            out[:] = 0.0
        elif case == "partial-ties":
            out[:, 2] = out[:, 0]
        else:  # unit 0's net input overflows to +inf, the others stay finite
            net.weight(0)[:] *= 1e10
            out[:, 0], out[:, 1:] = 1e300, 0.0
        history = net.fit(X, y, lr=0.1, epochs=3, batch_size=batch_size, backend=backend, on_divergence="stop")
        results[backend] = history, net.params.copy()
    if case == "overflow":
        assert len(results["numba"][0]) < 3  # it did diverge
    np.testing.assert_array_equal(results["numba"][0], results["generic"][0])
    np.testing.assert_array_equal(results["numba"][1], results["generic"][1])


# Optimizer paths with dropout (issue 12): the pool's shapes with hidden layers; the
# second has two, so its second layer's draw numbers count the first layer's units.
WIDE_DROPOUT = [(WIDE_POOL[1], "adam"), (WIDE_POOL[2], "adam"), (WIDE_POOL[2], "nesterov")]


@pytest.mark.parametrize("shape, kind", WIDE_DROPOUT, ids=lambda v: v if isinstance(v, str) else "-".join(map(str, v[0])))
@settings(max_examples=6, deadline=None)
@given(data=st.data())
def test_wide_optimizer_kernels_with_dropout_equal_reference_bit_for_bit(shape, kind, data):
    """The wide kernels' optimizer path with dropout (a rate per hidden layer or one for
    all, zeros included), the optimizer's settings, L1/L2, per-sample, mini- and
    full-batch, shuffled or not, now and then a diverging lr: history, params and the
    diverged epoch equal the reference's, bit for bit, and the fit trained on the wide
    kernel's dropout twin (specialized.optim_request)."""
    case = data.draw(net_cases(shapes=pool_structures((shape,)), max_samples=12))
    kwargs = data.draw(train_settings(case, kind))
    kwargs["dropout"] = data.draw(rates(len(case.sizes) - 2, [0.5, 0.1, 0.0]))  # nonzero first: favoured
    net = case.network()
    assert specialized.kind(net.spec) == "wide"
    if np.any(kwargs["dropout"]):
        variant = fastnn.optim.resolve(kwargs["optimizer"]).kernel_variant
        assert specialized.optim_request(net.spec, variant, True).name.endswith("_dropout")
    expected = fit_run(net, case.X, case.y, backend="reference", **kwargs)
    assert_same_run(fit_run(net, case.X, case.y, backend="numba", **kwargs), expected, "numba")
