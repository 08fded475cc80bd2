"""Analytic gradients (kernel and reference) equal central finite differences.

This is the check that does not trust the reference: the reference's gradient is
compared with finite differences of the reference's own loss, and the kernel's gradient
with finite differences of the kernel's loss, over generated networks with every
activation and loss.
"""
import numpy as np
import pytest
from hypothesis import assume, given, settings

import fastnn
from fastnn.gradcheck import relative_error

from strategies import ACTIVATIONS, LOSSES, MARGIN, differentiable_here, min_relu_margin, net_cases, np_forward

# Central differences with step EPS = 1e-6 (fastnn.gradcheck.EPS): the truncation error
# is ~EPS**2 * f''' ~ 1e-12, the rounding error ~ (a few ulps of the loss) / EPS ~
# 1e-9 * max(1, |loss|). GRAD_ATOL is 100 times that; GRAD_RTOL covers the truncation
# error of large entries. A wrong gradient (wrong sign, factor, index or missing term) is
# off by the size of the entry itself, orders of magnitude more.
GRAD_RTOL = 1e-5
GRAD_ATOL = 1e-7
# Examples are skipped where finite differences do not measure the analytic gradient
# (strategies.differentiable_here): a ReLU net input closer to 0 than MARGIN (the kink),
# or a cross-entropy probability closer than that to 0 or 1 (where the CLIP = 1e-7 clip
# of the loss could be reached).


def assert_gradient_matches(analytic, numeric, loss_value):
    scale = max(1.0, abs(loss_value))
    np.testing.assert_allclose(analytic, numeric, rtol=GRAD_RTOL, atol=GRAD_ATOL * scale)


def gradcheck_cases(loss, max_width=16, max_samples=12):
    """Networks with this loss and any activations. BCE is paired with outputs inside
    (0, 1) (sigmoid, softmax, gaussian): with linear/tanh/relu outputs its predictions
    leave [0, 1], where the loss is clipped and, as in nnfs, the gradient deliberately
    ignores the clip."""
    outputs = ("sigmoid", "softmax", "gaussian") if loss == "binary_cross_entropy" else ACTIVATIONS
    return net_cases(max_width=max_width, max_samples=max_samples, losses=(loss,), outputs=outputs)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize(
    "backend, max_width, max_samples, examples",
    [
        ("numba", 16, 12, 15),
        # The reference's loss costs ~0.1 ms per sample-layer: smaller networks.
        ("reference", 6, 6, 10),
    ],
)
def test_gradient_matches_finite_differences(backend, max_width, max_samples, examples, loss):
    """net.gradient equals central differences of net.loss (same backend) within
    GRAD_RTOL/GRAD_ATOL, for every loss and activation, away from ReLU kinks and clips."""

    @settings(max_examples=examples)
    @given(case=gradcheck_cases(loss, max_width, max_samples))
    def check(case):
        assume(differentiable_here(case))
        net = case.network()
        analytic = net.gradient(case.X, case.y, backend=backend)
        numeric = fastnn.numerical_gradient(net, case.X, case.y, backend=backend)
        assert_gradient_matches(analytic, numeric, net.loss(case.X, case.y, backend=backend))

    check()


@pytest.mark.parametrize("activation", [a for a in ACTIVATIONS if a != "softmax"])
def test_each_hidden_activation_on_a_deep_net(activation):
    """Every element-wise activation on both hidden layers of a 3-5-4-2 network (softmax
    output, CCE) passes the check; ReLU inputs are kept away from the kink."""
    rng = np.random.default_rng(7)
    net = fastnn.Network([3, 5, 4, 2], [activation, activation, "softmax"], "categorical_cross_entropy", init="zeros")
    X = rng.standard_normal((6, 3))
    y = rng.integers(0, 2, 6)
    while True:  # redraw params until no ReLU net input is near its kink
        net.params = 0.7 * rng.standard_normal(net.n_params)
        zs, _ = np_forward(net, X)
        if activation != "relu" or min(np.abs(z).min() for z in zs[:2]) > MARGIN:
            break
    analytic = net.gradient(X, y)
    assert np.abs(analytic).max() > 1e-3  # not a trivially zero gradient
    assert_gradient_matches(analytic, fastnn.numerical_gradient(net, X, y), net.loss(X, y))
    assert fastnn.gradcheck(net, X, y) < 1e-5


def _smooth_case():
    rng = np.random.default_rng(3)
    net = fastnn.Network([2, 3, 2], ["tanh", "sigmoid"], "binary_cross_entropy", seed=1)
    X = rng.standard_normal((5, 2))
    y = rng.uniform(0.0, 1.0, (5, 2))
    return net, X, y


def test_gradcheck_detects_a_wrong_gradient(monkeypatch):
    """fastnn.gradcheck is small (< 1e-6) for the true gradient and large for gradients
    with one entry off by 0.1 %, the sign of one entry flipped, or two entries swapped,
    so a broken kernel cannot pass it."""
    net, X, y = _smooth_case()
    assert fastnn.gradcheck(net, X, y) < 1e-6
    true = net.gradient(X, y)
    k = int(np.argmax(np.abs(true)))
    j = int(np.argsort(np.abs(true))[-2])
    assert abs(true[k] - true[j]) > 1e-3 * abs(true[k])
    wrong_scale, wrong_sign, swapped = true.copy(), true.copy(), true.copy()
    wrong_scale[k] *= 1.001
    wrong_sign[k] *= -1.0
    swapped[[k, j]] = swapped[[j, k]]
    numeric = fastnn.numerical_gradient(net, X, y)
    for wrong in (wrong_scale, wrong_sign, swapped):
        assert relative_error(wrong, numeric).max() > 5e-4
        monkeypatch.setattr(net, "gradient", lambda *args, _g=wrong, **kwargs: _g.copy())
        assert fastnn.gradcheck(net, X, y) > 5e-4
        with pytest.raises(AssertionError):
            assert_gradient_matches(wrong, numeric, net.loss(X, y))


def test_numerical_gradient_restores_params_and_is_central():
    """numerical_gradient leaves params bit-identical (also the array object, so
    weight()/bias() views stay valid) and is a central difference: exact to rounding for
    a quadratic loss, where a one-sided difference would be off by eps."""
    net = fastnn.Network([1, 1], "linear", "squared_error", init=np.array([0.3, -0.2]))
    X, y = np.array([[1.5]]), np.array([[0.7]])
    before, buffer = net.params.copy(), net.params
    numeric = fastnn.numerical_gradient(net, X, y, eps=1e-3)
    assert net.params is buffer
    np.testing.assert_array_equal(net.params, before)
    # L = (1.5 w + b - 0.7)^2: dL/dw = 2 r 1.5, dL/db = 2 r with r = 1.5 w + b - 0.7.
    r = 1.5 * 0.3 - 0.2 - 0.7
    np.testing.assert_allclose(numeric, [2 * r * 1.5, 2 * r], rtol=1e-9)
