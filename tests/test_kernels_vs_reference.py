"""The compiled backends agree with the pure-Python oracle on generated networks.

"numba" (the fastest kernel available for the network) and "generic" (the generic numba
loops) are both compared with "reference" on predict, loss, gradient and whole training
runs, over every activation, loss, depth, width, bias setting and batching mode.

"generic" gets networks of every shape (1-4 layers, widths 1-16). "numba" compiles one
kernel per network shape, so its shapes come from ``strategies.NUMBA_POOL`` (which still
covers every activation and loss, and both the unrolled and the loop kernels) while
hypothesis varies params, data, batching and shuffling.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastnn

from strategies import LOSSES, NUMBA_POOL, net_cases, pool_structures

# The kernels are written to do the reference's arithmetic operation for operation, so
# any difference comes from libm (exp, tanh, log may differ in the last ulp between
# numba and CPython) and, for a specialised kernel, from a different summation order:
# a few ulps per operation, grown by at most a few hundred operations per value.
# 1e-12 relative leaves ~4 decimal orders of margin over that and is still ~1e9 times
# smaller than any real bug (a wrong sign, index or factor).
RTOL = 1e-12
# Training runs compound rounding differences over EPOCHS epochs of updates (each step's
# error is carried into the next), so trajectories get 100 times more room.
TRAIN_RTOL = 1e-10
# Absolute floor (see assert_close): entries far smaller than the largest one of the same
# array (a cancelling sum, a gradient entry near zero) carry the rounding error of the
# large terms, so each comparison also allows rtol times the array's largest magnitude.

KERNELS = ["numba", "generic"]
EPOCHS = 5


# One pytest case per loss for "generic" and per pool shape for "numba", so that every
# loss and every pool kernel is exercised whatever hypothesis chooses to draw.
TARGETS = [pytest.param("generic", loss, id=f"generic-{loss}") for loss in LOSSES] + [
    pytest.param("numba", k, id=f"numba-{'-'.join(map(str, shape[0]))}-{shape[2]}")
    for k, shape in enumerate(NUMBA_POOL)
]


def cases_for(backend, which, **kwargs):
    """Generated cases: any shape with loss ``which`` for "generic", pool shape number
    ``which`` for "numba"."""
    if backend == "numba":
        return net_cases(shapes=pool_structures(NUMBA_POOL[which : which + 1]), **kwargs)
    return net_cases(losses=(which,), **kwargs)


def assert_close(actual, desired, rtol=RTOL, what=""):
    """|actual - desired| <= rtol * (|desired| + max|desired|), elementwise."""
    actual = np.asarray(actual, dtype=float)
    desired = np.asarray(desired, dtype=float)
    assert actual.shape == desired.shape, (what, actual.shape, desired.shape)
    scale = np.abs(desired).max(initial=0.0)
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=rtol * scale, err_msg=what)


@pytest.mark.parametrize("backend, which", TARGETS)
@settings(max_examples=15)
@given(data=st.data())
def test_predict_loss_gradient_match_reference(backend, which, data):
    """predict, loss and gradient of a kernel equal the reference's within RTOL."""
    case = data.draw(cases_for(backend, which))
    net = case.network()
    ref_pred = net.predict(case.X, backend="reference")
    assert_close(net.predict(case.X, backend=backend), ref_pred, what="predict")
    ref_loss = net.loss(case.X, case.y, backend="reference")
    assert np.isfinite(ref_loss)
    assert_close(net.loss(case.X, case.y, backend=backend), ref_loss, what="loss")
    assert_close(
        net.gradient(case.X, case.y, backend=backend),
        net.gradient(case.X, case.y, backend="reference"),
        what="gradient",
    )
    # None of the calls above may have moved the parameters.
    np.testing.assert_array_equal(net.params, case.params)


@pytest.mark.parametrize("backend, which", TARGETS)
@settings(max_examples=10)
@given(data=st.data())
def test_training_trajectory_matches_reference(backend, which, data):
    """EPOCHS epochs of SGD (per sample, mini-batch or full batch, shuffled or not) give
    the reference's loss history and final parameters within TRAIN_RTOL."""
    case = data.draw(cases_for(backend, which, max_width=8, max_samples=8))
    ref, kern = case.network(), case.network()
    kwargs = dict(lr=case.lr, epochs=EPOCHS, batch_size=case.batch_size, shuffle=case.shuffle, seed=case.seed)
    ref_hist = ref.fit(case.X, case.y, backend="reference", **kwargs)
    hist = kern.fit(case.X, case.y, backend=backend, **kwargs)
    assert hist.shape == (EPOCHS,) and np.isfinite(ref_hist).all()
    assert_close(hist, ref_hist, TRAIN_RTOL, what="history")
    assert_close(kern.params, ref.params, TRAIN_RTOL, what="final params")


def _order_sensitive_case():
    """A 2-3-1 tanh/sigmoid network (a pool shape) on 7 samples where the visiting order
    changes the result."""
    rng = np.random.default_rng(12)
    X = rng.standard_normal((7, 2))
    y = rng.uniform(0.0, 1.0, (7, 1))
    net = fastnn.Network([2, 3, 1], ["tanh", "sigmoid"], "binary_cross_entropy", init="xavier", seed=3)
    return net, X, y


@pytest.mark.parametrize("backend", KERNELS)
@pytest.mark.parametrize("batch_size", [1, 3])
@pytest.mark.parametrize("seed", [99, 2**64 - 1])
def test_shuffle_order_matches_reference(backend, batch_size, seed):
    """With shuffle=True and the same seed (also the largest, where SplitMix64's uint64
    arithmetic wraps), a kernel visits the samples in the reference's order: same
    history and params. The order does matter here (another seed and no shuffle both
    give clearly different histories), so a different shuffle would fail."""
    net, X, y = _order_sensitive_case()
    runs = {}
    for name, b, shuffle, s in [
        ("ref", "reference", True, seed),
        ("kern", backend, True, seed),
        ("other_seed", backend, True, seed - 1),
        ("unshuffled", backend, False, seed),
    ]:
        copy = net.copy()
        runs[name] = (copy.fit(X, y, lr=0.2, epochs=6, batch_size=batch_size, shuffle=shuffle, seed=s, backend=b), copy.params)
    assert_close(runs["kern"][0], runs["ref"][0], TRAIN_RTOL, what="history")
    assert_close(runs["kern"][1], runs["ref"][1], TRAIN_RTOL, what="params")
    for other in ("other_seed", "unshuffled"):
        assert np.abs(runs[other][0] - runs["ref"][0]).max() > 1e-6, other


@pytest.mark.parametrize("backend", KERNELS + ["reference"])
def test_same_seed_is_bit_identical(backend):
    """Two fits from the same start with the same seed give bit-identical history and
    params; the network's own seed is the default shuffle seed."""
    net, X, y = _order_sensitive_case()
    a, b, c = net.copy(), net.copy(), net.copy()
    ha = a.fit(X, y, lr=0.2, epochs=6, shuffle=True, seed=3, backend=backend)
    hb = b.fit(X, y, lr=0.2, epochs=6, shuffle=True, seed=3, backend=backend)
    hc = c.fit(X, y, lr=0.2, epochs=6, shuffle=True, backend=backend)  # network seed is 3
    np.testing.assert_array_equal(ha, hb)
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_array_equal(ha, hc)
    np.testing.assert_array_equal(a.params, c.params)
    assert not np.array_equal(a.params, net.params)  # training did move them


@pytest.mark.parametrize("backend", KERNELS)
def test_repeated_kernel_calls_are_bit_identical(backend):
    """predict/loss/gradient are pure: calling twice gives the same bits (no state left in
    buffers between calls)."""
    net, X, y = _order_sensitive_case()
    for method in ("predict", "loss", "gradient"):
        args = (X,) if method == "predict" else (X, y)
        first = getattr(net, method)(*args, backend=backend)
        np.testing.assert_array_equal(getattr(net, method)(*args, backend=backend), first)


def _overflow_behind_inactive_relu():
    """1-2-1 network whose hidden unit 1 is inactive (z = -1) while the error sent back to
    it overflows: W1[1] * dL/dyhat = 1e300 * ~2e10 = inf. The loss itself is finite
    (unit 1's output is 0, so its huge weight does not reach yhat)."""
    net = fastnn.Network([1, 2, 1], activation=["relu", "linear"], loss="squared_error")
    net.weight(0)[:] = [[1.0, -1.0]]
    net.bias(0)[:] = 0.0
    net.weight(1)[:] = [[0.5], [1e300]]
    net.bias(1)[:] = 0.0
    return net, np.array([[1.0]]), np.array([[-1e10]])


def test_inactive_relu_passes_exactly_zero_even_when_the_error_overflows():
    """dL/dz of an inactive ReLU is exactly 0 (a select, like PyTorch's ReLU backward), not
    inf * 0.0 = nan: the gradient stays finite and every backend agrees bit for bit."""
    net, X, y = _overflow_behind_inactive_relu()
    grads = {backend: net.gradient(X, y, backend=backend) for backend in ("reference", "generic", "numba")}
    w0_unit1, b0_unit1 = 1, 3  # W0[0][1] and b0[1] in the flat layout
    assert grads["reference"][w0_unit1] == 0.0 and grads["reference"][b0_unit1] == 0.0
    assert np.all(np.isfinite(grads["reference"]))
    for backend in ("generic", "numba"):
        assert np.array_equal(grads[backend], grads["reference"]), backend
    runs = {}
    for backend in ("reference", "generic", "numba"):
        trained, X, y = _overflow_behind_inactive_relu()
        history = trained.fit(X, y, lr=1e-30, epochs=2, backend=backend)
        runs[backend] = history, trained.params.copy()
    assert np.all(np.isfinite(runs["reference"][0]))
    for backend in ("generic", "numba"):
        assert np.array_equal(runs[backend][0], runs["reference"][0]), backend
        assert np.array_equal(runs[backend][1], runs["reference"][1]), backend
