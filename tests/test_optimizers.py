"""Optimizers, L1/L2 penalties, dropout and warm starts (fastnn.optim, fastnn.options).

* The kernels ("numba", "generic") equal the reference bit for bit on generated runs over
  every optimizer and setting, per-layer or scalar penalties and dropout, every batching
  mode, shuffling, activation and loss (``kernels.optim`` does the reference's arithmetic
  operation for operation, so here, unlike plain SGD in test_kernels_vs_reference, no
  tolerance is needed).
* Checks that trust neither: the regularised gradient (and the step ``fit`` takes) against
  central differences of ``loss + regularization_loss``; the book's chapter 14 model
  (nnfs, Adam with decay and L2) against a numpy implementation written here.
* warm_start, dropout's masks and its absence outside training, divergence, and bad
  arguments (rejected before any kernel runs, parameters untouched).

Networks are tiny (<= 3 layers, widths <= 5, <= 12 samples, <= 4 epochs). Every run
that is not plain SGD uses the one generic kernel ``train_general``, compiled once for all
shapes; runs that are plain SGD on the "numba" backend take the shape-specialised fused
kernels, so those draw their shapes from ``strategies.NUMBA_POOL`` (kernels cached on
disk by the other tests).
"""
import dataclasses
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import fastnn
from fastnn import reference
from fastnn.options import TrainOptions

from strategies import (ACTIVATIONS, LOSSES, NUMBA_POOL, assert_bits_equal, differentiable_here, min_relu_margin,
                        net_cases, np_forward, pool_structures)

pytestmark = pytest.mark.filterwarnings("ignore::fastnn.TrainingWarning")

KERNELS = ["numba", "generic"]

# Pool shapes small enough for this file (widths <= 5): the "numba" backend's fused
# kernels for them are already in numba's disk cache.
SMALL_POOL = tuple(shape for shape in NUMBA_POOL if max(shape[0]) <= 5)

# Sums taken in another order (numpy's pairwise sums against the reference's left to
# right): a few ulps per value, as test_kernels_vs_reference's RTOL.
RTOL = 1e-12
# Central differences with step EPS (fastnn.gradcheck.EPS), as test_gradcheck: truncation
# error ~EPS**2 * f''' ~ 1e-12, rounding ~ (a few ulps of f) / EPS ~ 1e-9 * max(1, |f|);
# GRAD_ATOL is 100 times that and GRAD_RTOL covers the truncation error of large entries.
# A missing or wrong penalty term is off by l1 or 2 * l2 * |w| >= 1e-3 * 0.05 = 5e-5 per
# entry here, far outside both.
EPS = 1e-6
GRAD_RTOL = 1e-5
GRAD_ATOL = 1e-7
# Examples are skipped where finite differences do not measure the analytic gradient
# (strategies.differentiable_here: within strategies.MARGIN of a ReLU kink or the clip).
# L1's |w| has its kink at 0: gradient checks draw every parameter with |w| >= L1_FLOOR,
# so w +- EPS never crosses it.
L1_FLOOR = 0.05
# The chapter 14 comparison (see test_book_chapter_14_adam_l2_matches_numpy): fastnn and
# numpy sum the same terms in different orders (BLAS matmuls; nnfs divides by n before
# summing), and Adam's normalised step m / sqrt(v) amplifies those rounding differences
# where a gradient is nearly 0 (a ReLU unit active on few samples): the loss curves agree
# to ~1e-16 for 50 epochs, then drift apart to ~1e-11. Measured worst differences: loss
# curve 2.4e-11 relative; final params 3.1e-11 relative to their layer's largest entry
# (entrywise up to 2.9e-9, on entries near 0). The tolerances leave a factor 40 and 300.
BOOK_CURVE_RTOL = 1e-9
BOOK_PARAMS_RTOL = 1e-8


# ------------------------------------------------------------------ helpers


def assert_close(actual, desired, rtol, what=""):
    """|actual - desired| <= rtol * (|desired| + max|desired|), elementwise."""
    actual, desired = np.asarray(actual, dtype=float), np.asarray(desired, dtype=float)
    assert actual.shape == desired.shape, (what, actual.shape, desired.shape)
    scale = np.abs(desired).max(initial=0.0)
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=rtol * scale, err_msg=what)


def fit_run(net, X, y, **kwargs):
    """(history, params, DivergenceError epoch or None) of net.fit on a copy of net."""
    copy = net.copy()
    try:
        history = copy.fit(X, y, **kwargs)
        epoch = None
    except fastnn.DivergenceError as err:
        history, epoch = err.history, err.epoch
    return history, copy.params.copy(), epoch


def assert_same_run(a, b, what):
    assert a[2] == b[2], f"{what}: diverged epochs {a[2]} != {b[2]}"
    assert_bits_equal(a[0], b[0], f"{what}: history")
    assert_bits_equal(a[1], b[1], f"{what}: params")


def _data(sizes, loss, n, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, sizes[0]))
    if loss == "categorical_cross_entropy":
        y = rng.integers(0, sizes[-1], n)
    elif loss == "binary_cross_entropy":
        y = rng.uniform(0.0, 1.0, (n, sizes[-1]))
    else:
        y = 0.5 * rng.standard_normal((n, sizes[-1]))
    return X, y


def small_net(seed=3):
    """A 2-4-3-1 tanh/sigmoid/linear network (two hidden layers, so per-layer dropout and
    penalties have something to tell apart) on 7 samples: mini-batches of 3 leave a last
    batch of 1."""
    net = fastnn.Network([2, 4, 3, 1], ["tanh", "sigmoid", "linear"], "mse", init="xavier", seed=seed)
    X, y = _data(net.sizes, "mse", 7, seed)
    return net, X, y


# ------------------------------------------------------------------ strategies

VALUES = {
    "decay": [0.0, 1e-3, 0.5],
    "momentum": [0.5, 0.9, 0.99],
    "epsilon": [1e-7, 1e-3, 0.5],
    "rho": [0.9, 0.5, 0.0],
    "beta1": [0.9, 0.5, 0.0],
    "beta2": [0.999, 0.9, 0.5],
}


OPTIMIZER_KINDS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")


@st.composite
def optimizers(draw, kind):
    """An optimizer of this kind with settings drawn from VALUES, or (sgd, adagrad,
    rmsprop, adam) sometimes its name, which means the default settings."""
    if kind in ("sgd", "adagrad", "rmsprop", "adam") and draw(st.integers(0, 3)) == 0:
        return kind
    pick = {key: draw(st.sampled_from(values)) for key, values in VALUES.items()}
    if kind == "sgd":
        return fastnn.SGD(decay=pick["decay"])
    if kind in ("momentum", "nesterov"):
        return fastnn.SGD(momentum=pick["momentum"], nesterov=kind == "nesterov", decay=pick["decay"])
    if kind == "adagrad":
        return fastnn.AdaGrad(decay=pick["decay"], epsilon=pick["epsilon"])
    if kind == "rmsprop":
        return fastnn.RMSprop(decay=pick["decay"], epsilon=pick["epsilon"], rho=pick["rho"])
    return fastnn.Adam(decay=pick["decay"], epsilon=pick["epsilon"], beta1=pick["beta1"], beta2=pick["beta2"])


@st.composite
def rates(draw, count, values):
    """One number, or a list of ``count`` (zeros on some entries likely)."""
    if draw(st.booleans()):
        return draw(st.sampled_from(values))
    return [draw(st.sampled_from(values)) for _ in range(count)]


@st.composite
def train_settings(draw, case, kind):
    """fit's keyword arguments: an optimizer of this kind, penalties, dropout, batching,
    epochs (lr, shuffle and seed from the case)."""
    L = len(case.sizes) - 1
    kwargs = dict(optimizer=draw(optimizers(kind)))
    for name in ("l1", "l2") + (("l1_bias", "l2_bias") if case.bias else ()):
        kwargs[name] = draw(rates(L, [0.0, 1e-3, 0.05]))
    kwargs["dropout"] = draw(rates(L - 1, [0.0, 0.1, 0.5])) if L > 1 else 0.0
    batch = draw(st.sampled_from(["one", "k", "full"]))
    kwargs["batch_size"] = 1 if batch == "one" else None if batch == "full" else draw(st.integers(1, case.n))
    kwargs["epochs"] = draw(st.integers(1, 4))
    # now and then an lr that diverges: the stopping epoch and restored params must agree too
    lr = 1e200 if draw(st.integers(0, 7)) == 0 else case.lr
    kwargs.update(lr=lr, shuffle=case.shuffle, seed=case.seed)
    return kwargs


def cases_for(backend):
    """Any small shape for "generic"; the small pool shapes for "numba" (see SMALL_POOL)."""
    if backend == "numba":
        return net_cases(shapes=pool_structures(SMALL_POOL), max_samples=12)
    return net_cases(max_layers=3, max_width=5, max_samples=12)


# ------------------------------------------------------------------ 1. kernels == reference


@pytest.mark.parametrize("kind", OPTIMIZER_KINDS)
@pytest.mark.parametrize("backend", KERNELS)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_kernels_equal_reference_bit_for_bit(backend, kind, data):
    """Every optimizer (one pytest case per kind, its settings drawn), penalties (scalar or
    per layer, zeros included), dropout (scalar or per hidden layer), batch size (1, k,
    full via None), shuffle, activation and loss: a kernel's history, params and
    divergence epoch equal the reference's, bit for bit."""
    case = data.draw(cases_for(backend))
    if data.draw(st.booleans()):  # some parameters exactly 0: L1's sign(0) = +1, ReLU's kink
        case.params[:: data.draw(st.integers(2, 4))] = 0.0
    kwargs = data.draw(train_settings(case, kind))
    net = case.network()
    expected = fit_run(net, case.X, case.y, backend="reference", **kwargs)
    assert_same_run(fit_run(net, case.X, case.y, backend=backend, **kwargs), expected, backend)
    np.testing.assert_array_equal(net.params, case.params)  # fit_run trained copies


@pytest.mark.parametrize("kind", OPTIMIZER_KINDS)
@settings(max_examples=4, deadline=None)
@given(data=st.data())
def test_per_sample_kernels_without_penalties_or_dropout_equal_reference(kind, data):
    """batch_size 1 without L1/L2 and dropout (the optimizer chapter's runs) trains on the
    unrolled kernels' ``_per_sample`` twin, which divides no gradient by m = 1 and adds no
    penalty terms: still the reference's history, params and divergence epoch, bit for
    bit (the general test above draws this combination rarely)."""
    from unittest import mock

    from fastnn.kernels import specialized

    case = data.draw(cases_for("numba"))
    kwargs = data.draw(train_settings(case, kind))
    kwargs.update(batch_size=1, l1=0.0, l2=0.0, dropout=0.0)
    if case.bias:
        kwargs.update(l1_bias=0.0, l2_bias=0.0)
    net = case.network()
    expected = fit_run(net, case.X, case.y, backend="reference", **kwargs)
    with mock.patch.object(specialized, "optim_request", wraps=specialized.optim_request) as request:
        assert_same_run(fit_run(net, case.X, case.y, backend="numba", **kwargs), expected, "numba")
    options = TrainOptions.build(net.spec, optimizer=kwargs["optimizer"])
    if specialized.kind(net.spec) == "unrolled" and not options.is_plain:  # plain SGD: the fused kernels
        variant = options.optimizer.kernel_variant
        assert [call.args[1:] for call in request.call_args_list] == [(variant, False, True)]
        assert specialized.optim_request(net.spec, variant, False, True).name == f"train_optim_{variant}_per_sample"


@pytest.mark.parametrize("backend", KERNELS)
def test_every_optimizer_moves_params_differently(backend):
    """The optimizers (and their settings) are not the same rule under other names: on one
    network, every one of them gives its own params, and each equals the reference's."""
    net, X, y = small_net()
    settings_list = [
        fastnn.SGD(), fastnn.SGD(decay=0.5), fastnn.SGD(momentum=0.9), fastnn.SGD(momentum=0.9, nesterov=True),
        fastnn.AdaGrad(), fastnn.AdaGrad(epsilon=0.5), fastnn.RMSprop(), fastnn.RMSprop(rho=0.5),
        fastnn.Adam(), fastnn.Adam(beta1=0.5), fastnn.Adam(beta2=0.9), fastnn.Adam(decay=0.5),
    ]
    results = []
    for opt in settings_list:
        kwargs = dict(lr=0.05, epochs=3, batch_size=3, shuffle=True, seed=1, optimizer=opt, l2=1e-3, dropout=0.2)
        run = fit_run(net, X, y, backend=backend, **kwargs)
        assert_same_run(run, fit_run(net, X, y, backend="reference", **kwargs), repr(opt))
        results.append(run[1])
    for i in range(len(results)):
        for j in range(i):
            assert not np.array_equal(results[i], results[j]), (settings_list[i], settings_list[j])


# ------------------------------------------------------------------ 2. gradients


@st.composite
def gradcheck_cases(draw):
    """A small network and data set with every |param| >= L1_FLOOR, plus penalties."""
    loss = draw(st.sampled_from(LOSSES))
    # BCE with outputs inside (0, 1) only (see test_gradcheck.gradcheck_cases).
    outputs = ("sigmoid", "softmax", "gaussian") if loss == "binary_cross_entropy" else ACTIVATIONS
    case = draw(net_cases(max_layers=3, max_width=5, max_samples=12, losses=(loss,), outputs=outputs))
    p = case.params
    case.params = np.where(p >= 0.0, 1.0, -1.0) * np.maximum(np.abs(p), L1_FLOOR)
    L = len(case.sizes) - 1
    penalties = {}
    for name in ("l1", "l2") + (("l1_bias", "l2_bias") if case.bias else ()):
        penalties[name] = draw(rates(L, [0.1, 1e-3, 0.0]))  # nonzero first: hypothesis favours it
    return case, penalties


def penalties_of(net, **penalties):
    return TrainOptions.build(net.spec, **penalties).penalties


def penalty_gradient(net, **penalties):
    """reference.penalize applied to a zero gradient: the penalty's gradient alone."""
    grad = [0.0] * net.n_params
    reference.penalize(net.spec, net.params.tolist(), grad, penalties_of(net, **penalties))
    return np.array(grad)


def regularised_numeric_gradient(net, X, y, penalties):
    """Central differences of f = net.loss(X, y) + net.regularization_loss(**penalties)."""
    params = net.params
    saved = params.copy()
    grad = np.empty_like(saved)

    def f():
        return net.loss(X, y) + net.regularization_loss(**penalties)

    try:
        for p in range(saved.shape[0]):
            params[p] = saved[p] + EPS
            up = f()
            params[p] = saved[p] - EPS
            down = f()
            params[p] = saved[p]
            grad[p] = (up - down) / (2.0 * EPS)
    finally:
        params[:] = saved
    return grad


@settings(max_examples=30, deadline=None)
@given(drawn=gradcheck_cases())
def test_regularised_gradient_matches_finite_differences(drawn):
    """net.gradient + the penalty terms of reference.penalize equal central differences of
    loss + regularization_loss; so does the gradient that fit's step applies (one full
    batch step of plain SGD: (params before - params after) / lr)."""
    case, penalties = drawn
    assume(differentiable_here(case))
    net = case.network()
    value = net.loss(case.X, case.y) + net.regularization_loss(**penalties)
    numeric = regularised_numeric_gradient(net, case.X, case.y, penalties)
    np.testing.assert_array_equal(net.params, case.params)
    analytic = net.gradient(case.X, case.y) + penalty_gradient(net, **penalties)
    scale = max(1.0, abs(value))
    np.testing.assert_allclose(analytic, numeric, rtol=GRAD_RTOL, atol=GRAD_ATOL * scale, err_msg="gradient")
    lr = 1e-3
    for backend in ("generic", "reference"):
        stepped = net.copy()
        stepped.fit(case.X, case.y, lr=lr, epochs=1, batch_size=None, backend=backend, **penalties)
        step = (case.params - stepped.params) / lr  # rounding: ~ulp(|p|) / lr ~ 1e-13
        np.testing.assert_allclose(step, numeric, rtol=GRAD_RTOL, atol=GRAD_ATOL * scale, err_msg=f"{backend} step")


def test_penalize_and_regularization_loss_match_numpy():
    """regularization_loss is, per layer, l1 sum|W| + l2 sum W**2 + l1_bias sum|b| +
    l2_bias sum b**2 (numpy here, within RTOL); penalize adds l1 sign(w) (+1 at w = 0) and
    2 l2 w to each entry; a scalar equals the same number for every layer; the penalty
    terms are large enough that a gradient check without them would fail."""
    net = fastnn.Network([3, 4, 2], ["tanh", "sigmoid"], "mse", init="xavier", seed=5)
    net.weight(0)[1, 2] = 0.0  # sign(0) is +1
    net.bias(1)[0] = -0.0
    pen = dict(l1=[0.01, 0.0], l2=[0.0, 0.3], l1_bias=[0.2, 0.05], l2_bias=[0.1, 0.0])
    expected_loss, expected_grad = 0.0, []
    for l in range(2):
        W, b = net.weight(l), net.bias(l)
        expected_loss += pen["l1"][l] * np.abs(W).sum() + pen["l2"][l] * (W * W).sum()
        expected_loss += pen["l1_bias"][l] * np.abs(b).sum() + pen["l2_bias"][l] * (b * b).sum()
        sign_w, sign_b = np.where(W >= 0.0, 1.0, -1.0), np.where(b >= 0.0, 1.0, -1.0)
        expected_grad += [(pen["l1"][l] * sign_w + 2.0 * pen["l2"][l] * W).ravel(),
                          pen["l1_bias"][l] * sign_b + 2.0 * pen["l2_bias"][l] * b]
    assert_close(net.regularization_loss(**pen), expected_loss, RTOL, "regularization_loss")
    assert_close(penalty_gradient(net, **pen), np.concatenate(expected_grad), RTOL, "penalize")
    assert penalty_gradient(net, **pen)[net.spec.weight_offset(0) + 1 * 4 + 2] == 0.01
    assert net.regularization_loss() == 0.0
    assert net.regularization_loss(l2=0.3) == net.regularization_loss(l2=[0.3, 0.3])
    # Away from L1's kinks (xavier's biases are 0), the gradient of the regularised loss
    # is the data gradient plus these terms, and far off without them.
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    net.params = np.where(net.params >= 0.0, 1.0, -1.0) * np.maximum(np.abs(net.params), L1_FLOOR)
    numeric = regularised_numeric_gradient(net, X, y, pen)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(net.gradient(X, y), numeric, rtol=GRAD_RTOL, atol=GRAD_ATOL)
    np.testing.assert_allclose(net.gradient(X, y) + penalty_gradient(net, **pen), numeric, rtol=GRAD_RTOL,
                               atol=GRAD_ATOL)


# ------------------------------------------------------------------ 3. the book, chapter 14


def nnfs_chapter_14(W1, b1, W2, b2, X, labels, epochs, lr, decay, l2, beta1=0.9, beta2=0.999, epsilon=1e-7):
    """nnfs's Layer_Dense(2, 64, weight_regularizer_l2=l2, bias_regularizer_l2=l2), ReLU,
    Layer_Dense(64, 3), Activation_Softmax_Loss_CategoricalCrossentropy and
    Optimizer_Adam(learning_rate=lr, decay=decay), full batch, in float64 numpy (no fastnn
    code). Returns (data loss of every epoch before its update, W1, b1, W2, b2)."""
    W1, b1, W2, b2 = (np.array(a, dtype=np.float64) for a in (W1, b1.reshape(1, -1), W2, b2.reshape(1, -1)))
    params = [W1, b1, W2, b2]
    momentums = [np.zeros_like(p) for p in params]
    caches = [np.zeros_like(p) for p in params]
    n = X.shape[0]
    losses = []
    for iterations in range(epochs):
        # forward
        z1 = X @ W1 + b1
        a1 = np.maximum(0.0, z1)
        z2 = a1 @ W2 + b2
        exp = np.exp(z2 - np.max(z2, axis=1, keepdims=True))
        probs = exp / np.sum(exp, axis=1, keepdims=True)
        clipped = np.clip(probs, 1e-7, 1 - 1e-7)
        losses.append(np.mean(-np.log(clipped[range(n), labels])))
        # backward: softmax + CCE combined, then the dense layers and ReLU
        dz2 = probs.copy()
        dz2[range(n), labels] -= 1
        dz2 = dz2 / n
        dW2, db2 = a1.T @ dz2, np.sum(dz2, axis=0, keepdims=True)
        da1 = dz2 @ W2.T
        dz1 = da1.copy()
        dz1[z1 <= 0] = 0
        dW1, db1 = X.T @ dz1, np.sum(dz1, axis=0, keepdims=True)
        dW1 = dW1 + 2 * l2 * W1
        db1 = db1 + 2 * l2 * b1
        # Optimizer_Adam: pre_update_params, update_params per layer, post_update_params
        current_lr = lr * (1.0 / (1.0 + decay * iterations))
        for k, g in enumerate((dW1, db1, dW2, db2)):
            momentums[k] = beta1 * momentums[k] + (1 - beta1) * g
            caches[k] = beta2 * caches[k] + (1 - beta2) * g**2
            m_hat = momentums[k] / (1 - beta1 ** (iterations + 1))
            c_hat = caches[k] / (1 - beta2 ** (iterations + 1))
            params[k] += -current_lr * m_hat / (np.sqrt(c_hat) + epsilon)
    return np.array(losses), W1, b1[0], W2, b2[0]


def test_book_chapter_14_adam_l2_matches_numpy():
    """The nnfs book's chapter 14 model (spiral 100 x 3, 2-64-3 ReLU/softmax, CCE, L2 5e-4
    on layer 0's weights and biases, Adam(decay=5e-7), lr 0.02, full batch) trained for 100
    epochs by fastnn equals the numpy implementation above: loss curve within
    BOOK_CURVE_RTOL, final params within BOOK_PARAMS_RTOL of each layer's largest entry;
    regularization_loss equals nnfs's formula at the final params."""
    X, labels = fastnn.datasets.spiral(100, 3, seed=0)
    net = fastnn.Network([2, 64, 3], ["relu", "softmax"], "categorical_cross_entropy", init="normal", seed=0)
    start = [net.weight(0).copy(), net.bias(0).copy(), net.weight(1).copy(), net.bias(1).copy()]
    curve, W1, b1, W2, b2 = nnfs_chapter_14(*start, X, labels, epochs=100, lr=0.02, decay=5e-7, l2=5e-4)
    history = net.fit(X, labels, lr=0.02, epochs=100, batch_size=None, optimizer=fastnn.Adam(decay=5e-7),
                      l2=[5e-4, 0.0], l2_bias=[5e-4, 0.0])
    assert curve[-1] < 0.9 * curve[0]  # it did learn
    assert_close(history, curve, BOOK_CURVE_RTOL, "loss curve")
    for got, want, what in [(net.weight(0), W1, "W1"), (net.bias(0), b1, "b1"), (net.weight(1), W2, "W2"),
                            (net.bias(1), b2, "b2")]:
        assert_close(got, want, BOOK_PARAMS_RTOL, what)
    nnfs_penalty = 5e-4 * np.sum(W1 * W1) + 5e-4 * np.sum(b1 * b1)
    assert_close(net.regularization_loss(l2=[5e-4, 0.0], l2_bias=[5e-4, 0.0]), nnfs_penalty, BOOK_PARAMS_RTOL,
                 "regularization_loss")


# ------------------------------------------------------------------ 4. warm_start

WARM_OPTIMIZERS = [
    fastnn.SGD(momentum=0.9),
    fastnn.SGD(momentum=0.8, nesterov=True, decay=0.1),
    fastnn.SGD(decay=0.1),
    fastnn.AdaGrad(decay=0.1),
    fastnn.RMSprop(rho=0.8),
    "adam",
    fastnn.Adam(decay=0.1, beta1=0.5),
]


@pytest.mark.parametrize("backend", ["numba", "reference"])
@pytest.mark.parametrize("optimizer", WARM_OPTIMIZERS, ids=repr)
@pytest.mark.parametrize("first, second", [(2, 2), (1, 3)])
def test_warm_start_splits_a_run(backend, optimizer, first, second):
    """fit(first epochs) then fit(second, warm_start=True) equals one fit of first + second
    epochs bit for bit (shuffled mini-batches, per-layer dropout and L2; the second fit's
    own seed is not used); a second fit without warm_start differs."""
    net, X, y = small_net()
    kwargs = dict(lr=0.05, batch_size=3, shuffle=True, optimizer=optimizer, dropout=[0.3, 0.2], l2=[1e-3, 0.0, 0.0],
                  backend=backend)
    whole = net.copy()
    whole_history = whole.fit(X, y, epochs=first + second, seed=11, **kwargs)
    split = net.copy()
    h1 = split.fit(X, y, epochs=first, seed=11, **kwargs)
    h2 = split.fit(X, y, epochs=second, seed=99, warm_start=True, **kwargs)
    assert_bits_equal(np.concatenate([h1, h2]), whole_history, "history")
    assert_bits_equal(split.params, whole.params, "params")
    cold = net.copy()
    cold.fit(X, y, epochs=first, seed=11, **kwargs)
    cold.fit(X, y, epochs=second, seed=11, **kwargs)
    assert not np.array_equal(cold.params, whole.params)


@pytest.mark.parametrize("optimizer", ["adam", fastnn.SGD(momentum=0.9, nesterov=True)], ids=repr)
def test_warm_start_across_kernels_equals_reference(optimizer):
    """A per-sample fit without L1/L2 or dropout (the unrolled kernels' ``_per_sample``
    twin) continued with warm_start in shuffled mini-batches with dropout and L2 (the
    ``_dropout`` kernel), then per sample again: the kernels hand on one optimizer state
    (moments, step counter, samples seen, shuffling and dropout streams), so each fit
    equals the reference's same fit, bit for bit."""
    net, X, y = small_net()
    fits = [dict(epochs=3, batch_size=1), dict(epochs=2, batch_size=3, dropout=0.2, l2=1e-3, warm_start=True),
            dict(epochs=2, batch_size=1, warm_start=True)]
    runs = {}
    for backend in ("reference", "numba"):
        trained = net.copy()
        runs[backend] = [(trained.fit(X, y, lr=0.05, shuffle=True, seed=4, optimizer=optimizer, backend=backend,
                                      **kwargs), trained.params.copy()) for kwargs in fits]
    for i, ((history, params), (expected_history, expected_params)) in enumerate(zip(runs["numba"],
                                                                                    runs["reference"])):
        assert_bits_equal(history, expected_history, f"fit {i}: history")
        assert_bits_equal(params, expected_params, f"fit {i}: params")


@pytest.mark.parametrize("backend", ["numba", "generic", "reference"])
@pytest.mark.parametrize("batch_size", [1, 3])
def test_warm_start_plain_sgd_fused_path(backend, batch_size):
    """Plain SGD with shuffling (the fused kernels on "numba"/"generic") split in two fits
    equals one fit, bit for bit; then a warm fit that needs the general kernel (dropout,
    L2) continues the shuffling and dropout streams exactly as the reference does."""
    shape = SMALL_POOL[1]  # [2, 3, 1] tanh/sigmoid BCE
    net = fastnn.Network(shape[0], shape[1], shape[2], init="xavier", seed=4)
    X, y = _data(net.sizes, shape[2], 7, 4)
    kwargs = dict(lr=0.2, batch_size=batch_size, shuffle=True, backend=backend)
    whole = net.copy()
    whole_history = whole.fit(X, y, epochs=4, seed=8, **kwargs)
    split = net.copy()
    h = [split.fit(X, y, epochs=1, seed=8, **kwargs), split.fit(X, y, epochs=3, warm_start=True, **kwargs)]
    assert_bits_equal(np.concatenate(h), whole_history, "history")
    assert_bits_equal(split.params, whole.params, "params")
    # then the general kernel, continuing what the fused kernel left (on every backend)
    general = dict(kwargs, backend="reference")
    ref = net.copy()
    ref.fit(X, y, epochs=2, seed=8, **general)
    ref_history = ref.fit(X, y, epochs=2, warm_start=True, dropout=0.4, l2=1e-2, **general)
    mixed = net.copy()
    mixed.fit(X, y, epochs=2, seed=8, **kwargs)
    mixed_history = mixed.fit(X, y, epochs=2, warm_start=True, dropout=0.4, l2=1e-2, **kwargs)
    if backend != "numba":  # the reference and the generic kernel: bit for bit
        assert_bits_equal(mixed_history, ref_history, "history after the plain fit")
        assert_bits_equal(mixed.params, ref.params, "params after the plain fit")
    else:  # the first fit ran a shape-specialised kernel: TRAIN_RTOL (test_kernels_vs_reference)
        assert_close(mixed_history, ref_history, 1e-10, "history after the plain fit")
        assert_close(mixed.params, ref.params, 1e-10, "params after the plain fit")


@pytest.mark.parametrize("backend", ["numba", "reference"])
@pytest.mark.parametrize("optimizer", ["sgd", fastnn.Adam(decay=0.1)], ids=repr)
def test_warm_start_on_a_fresh_network_starts_fresh(backend, optimizer):
    """warm_start=True on a network never fitted equals warm_start=False, bit for bit."""
    net, X, y = small_net()
    kwargs = dict(lr=0.05, epochs=3, batch_size=2, shuffle=True, seed=5, optimizer=optimizer, dropout=0.1,
                  backend=backend)
    a, b = net.copy(), net.copy()
    assert_bits_equal(a.fit(X, y, warm_start=True, **kwargs), b.fit(X, y, warm_start=False, **kwargs), "history")
    assert_bits_equal(a.params, b.params, "params")


@pytest.mark.parametrize("backend", ["numba", "reference"])
def test_warm_start_with_another_optimizer_raises(backend):
    """warm_start with another optimizer (or the same one with other settings) is a
    ValueError naming warm_start; params stay as they were and the state for a later
    warm start with the first optimizer is intact."""
    net, X, y = small_net()
    kwargs = dict(lr=0.05, batch_size=3, shuffle=True, seed=2, dropout=0.2, backend=backend)
    whole = net.copy()
    whole.fit(X, y, epochs=4, optimizer=fastnn.Adam(), **kwargs)
    trained = net.copy()
    trained.fit(X, y, epochs=2, optimizer="adam", **kwargs)
    before = trained.params.copy()
    for other in ("sgd", "rmsprop", fastnn.Adam(beta1=0.8), fastnn.SGD(momentum=0.9)):
        with pytest.raises(ValueError, match="warm_start"):
            trained.fit(X, y, epochs=1, optimizer=other, warm_start=True, **kwargs)
        assert_bits_equal(trained.params, before, f"params after {other!r}")
    trained.fit(X, y, epochs=2, optimizer=fastnn.Adam(), warm_start=True, **kwargs)
    assert_bits_equal(trained.params, whole.params, "params of the continued run")


# ------------------------------------------------------------------ 5. defaults and dropout


@pytest.mark.parametrize("backend", ["numba", "generic", "reference"])
def test_zero_dropout_and_sgd_names_are_the_defaults(backend):
    """dropout=0.0 and dropout=[0.0, 0.0] equal no dropout argument (with Adam);
    optimizer="sgd" and fastnn.SGD() equal the default; bit for bit."""
    net, X, y = small_net()
    kwargs = dict(lr=0.05, epochs=3, batch_size=3, shuffle=True, seed=5, backend=backend)
    adam = fit_run(net, X, y, optimizer="adam", **kwargs)
    for dropout in (0.0, [0.0, 0.0], (0, 0), np.zeros(2)):
        assert_same_run(fit_run(net, X, y, optimizer=fastnn.Adam(), dropout=dropout, **kwargs), adam, repr(dropout))
    default = fit_run(net, X, y, **kwargs)
    for opt in ("sgd", "SGD", fastnn.SGD(), fastnn.SGD(momentum=0.0, nesterov=False, decay=0.0)):
        assert_same_run(fit_run(net, X, y, optimizer=opt, **kwargs), default, repr(opt))
    assert_same_run(fit_run(net, X, y, l1=0.0, l2=[0.0, 0.0, 0.0], l1_bias=0, l2_bias=0.0, **kwargs), default,
                    "zero penalties")


def test_optimizer_names_and_settings_arrays_are_built_once_and_never_shared():
    """optim.resolve gives the one default object of a name (frozen, so shared safely), and
    hyper() a fresh array each call (its settled exponents worked out once): writing into
    one changes no other optimizer's settings."""
    assert fastnn.optim.resolve("adam") is fastnn.optim.resolve("ADAM") == fastnn.Adam()
    first = fastnn.Adam(beta1=0.5).hyper()
    expected = first.copy()
    first[:] = -1.0
    again = fastnn.Adam(beta1=0.5).hyper()
    assert_bits_equal(again, expected, "hyper after a write into an earlier one")
    assert again[fastnn.optim.H_BETA1] == 0.5 and again[fastnn.optim.H_SETTLED1] == 55.0
    assert fastnn.Adam(beta1=0.6).hyper()[fastnn.optim.H_BETA1] == 0.6  # another object, its own values


def test_dropout_only_while_training():
    """After a fit with dropout, predict/loss/gradient use every unit: numba and reference
    agree and both equal a plain numpy forward pass; calls repeat exactly. The dropout did
    act during training (another history than without it)."""
    net, X, y = small_net()
    kwargs = dict(lr=0.1, epochs=3, batch_size=2, shuffle=True, seed=5, optimizer="adam")
    plain = net.copy()
    plain_history = plain.fit(X, y, **kwargs)
    history = net.fit(X, y, dropout=[0.5, 0.3], **kwargs)
    assert np.abs(history - plain_history).max() > 1e-6
    for method, args in (("predict", (X,)), ("loss", (X, y)), ("gradient", (X, y))):
        ref = getattr(net, method)(*args, backend="reference")
        for backend in KERNELS:
            got = getattr(net, method)(*args, backend=backend)
            assert_close(got, ref, RTOL, f"{method} {backend}")
            assert_bits_equal(getattr(net, method)(*args, backend=backend), got, f"{method} {backend} repeated")
    _, yhat = np_forward(net, X)
    assert_close(net.predict(X), yhat, RTOL, "predict vs numpy")
    assert_close(net.loss(X, y), np.mean(np.sum((yhat - y) ** 2, axis=1) / y.shape[1]), RTOL, "loss vs numpy")


@pytest.mark.parametrize("backend", ["numba", "reference"])
def test_dropout_masks_follow_the_seed(backend):
    """With dropout (no shuffling, so the seed acts only on the masks): the same seed gives
    the same result bit for bit, another seed another one; with dropout 0 the seed does
    not matter."""
    net, X, y = small_net()
    kwargs = dict(lr=0.1, epochs=2, batch_size=2, optimizer="adam", backend=backend)
    a = fit_run(net, X, y, seed=1, dropout=0.3, **kwargs)
    assert_same_run(fit_run(net, X, y, seed=1, dropout=0.3, **kwargs), a, "same seed")
    b = fit_run(net, X, y, seed=2, dropout=0.3, **kwargs)
    assert np.abs(a[0] - b[0]).max() > 1e-6 and not np.array_equal(a[1], b[1])
    assert_same_run(fit_run(net, X, y, seed=1, **kwargs), fit_run(net, X, y, seed=2, **kwargs), "no dropout")


def test_dropout_keep_rate_and_scale():
    """reference.dropout_keep: each multiplier is 0 or 1 / (1 - rate); over many draws the
    dropped fraction is the rate (binomial, 10000 draws: within 4 standard deviations);
    a rate-0 layer has no mask; the masks depend on the sample number and the base."""
    net = fastnn.Network([2, 5, 5, 1], "tanh", "mse", seed=0)
    rate = 0.3
    dropped, total = 0, 0
    for sample in range(1000):
        keep = reference.dropout_keep(net.spec, (rate, 0.0), 12345, sample)
        assert keep[1] is None
        for value in keep[0]:
            assert value in (0.0, 1.0 / (1.0 - rate))
            dropped += value == 0.0
            total += 1
    assert abs(dropped / total - rate) < 4 * math.sqrt(rate * (1 - rate) / total)
    first = reference.dropout_keep(net.spec, (0.5, 0.5), 12345, 0)
    assert first != reference.dropout_keep(net.spec, (0.5, 0.5), 12345, 1)
    assert first != reference.dropout_keep(net.spec, (0.5, 0.5), 54321, 0)


# ------------------------------------------------------------------ 6. divergence


DIVERGING = [
    # [1, 1] linear: epoch 0 ends with params ~ +-1e200 (finite), epoch 1's loss overflows.
    pytest.param([1, 1], ["linear"], None, 1, id="1-1-full"),
    pytest.param([2, 3, 1], ["tanh", "linear"], 1, None, id="2-3-1-per-sample"),
]


@pytest.mark.parametrize("sizes, activations, batch_size, expected_epoch", DIVERGING)
@pytest.mark.parametrize("optimizer", [fastnn.Adam(), fastnn.SGD(momentum=0.9), fastnn.RMSprop(decay=0.1)], ids=repr)
def test_divergence_stops_cleanly(sizes, activations, batch_size, expected_epoch, optimizer):
    """A huge lr (1e200) diverges: DivergenceError with the same epoch and history on every
    backend, params restored to that epoch's start, equal between backends and equal to a
    clean fit of that many epochs; on_divergence="stop" returns the same history."""
    net = fastnn.Network(sizes, activations, "mse", init="xavier", seed=1)
    X, y = _data(sizes, "mse", 4, 1)
    kwargs = dict(lr=1e200, epochs=4, batch_size=batch_size, shuffle=True, seed=3, optimizer=optimizer,
                  l2=1e-3, dropout=0.2 if len(sizes) > 2 else 0.0)
    runs = {b: fit_run(net, X, y, backend=b, **kwargs) for b in ("reference", "numba", "generic")}
    epoch = runs["reference"][2]
    assert epoch is not None and (expected_epoch is None or epoch == expected_epoch)
    for b in KERNELS:
        assert_same_run(runs[b], runs["reference"], b)
    assert np.all(np.isfinite(runs["reference"][1]))
    if epoch > 0:
        clean = fit_run(net, X, y, backend="numba", **dict(kwargs, epochs=epoch))
        assert clean[2] is None
        assert_bits_equal(runs["numba"][1], clean[1], "params: those of a clean fit of `epoch` epochs")
        assert_bits_equal(runs["numba"][0], clean[0], "history")
    else:
        assert_bits_equal(runs["numba"][1], net.params, "params: the initial ones")
    stopped = net.copy()
    history = stopped.fit(X, y, backend="generic", on_divergence="stop", **kwargs)
    assert_bits_equal(history, runs["reference"][0], "stop history")
    assert_bits_equal(stopped.params, runs["reference"][1], "stop params")


@pytest.mark.parametrize("backend", ["numba", "generic", "reference"])
def test_divergence_leaves_the_warm_start_state_of_the_epoch_start(backend):
    """A fit that diverges in its first epoch leaves the network as it found it, warm
    start state included: warm-starting from there (shuffled) equals warm-starting
    without the diverged attempt, bit for bit, on every backend."""
    net, X, y = small_net()
    kwargs = dict(batch_size=2, shuffle=True, optimizer="adam", dropout=0.2, backend=backend)
    clean, tried = net.copy(), net.copy()
    for copy in (clean, tried):
        copy.fit(X, y, lr=0.01, epochs=2, seed=7, **kwargs)
    with pytest.raises(fastnn.DivergenceError) as info:
        tried.fit(X, y, lr=1e200, epochs=2, warm_start=True, **kwargs)
    assert info.value.epoch == 0
    assert_bits_equal(tried.params, clean.params, "params after the diverged fit")
    expected = clean.fit(X, y, lr=0.01, epochs=2, warm_start=True, **kwargs)
    assert_bits_equal(tried.fit(X, y, lr=0.01, epochs=2, warm_start=True, **kwargs), expected, "history")
    assert_bits_equal(tried.params, clean.params, "params")


def test_divergence_in_a_wide_kernel_leaves_the_warm_start_state_of_the_epoch_start():
    """The same for the wide (explicit-SIMD) kernels' optimizer path (without dropout;
    tests/test_wide_kernels.py tests their dropout twins): a 3-12-12 network of
    tests/strategies.py's pool."""
    from fastnn.kernels import specialized

    rng = np.random.default_rng(5)
    net = fastnn.Network([3, 12, 12], ["tanh", "softmax"], "half_squared_error", seed=2)
    assert specialized.kind(net.spec) == "wide"
    X, y = rng.standard_normal((9, 3)), rng.standard_normal((9, 12))
    kwargs = dict(batch_size=4, shuffle=True, optimizer=fastnn.SGD(momentum=0.5), l2=1e-3)
    clean, tried, ref = net.copy(), net.copy(), net.copy()
    for copy in (clean, tried):
        copy.fit(X, y, lr=0.01, epochs=2, seed=7, **kwargs)
    ref.fit(X, y, lr=0.01, epochs=2, seed=7, backend="reference", **kwargs)
    with pytest.raises(fastnn.DivergenceError):
        tried.fit(X, y, lr=1e200, epochs=2, warm_start=True, **kwargs)
    expected = ref.fit(X, y, lr=0.01, epochs=2, warm_start=True, backend="reference", **kwargs)
    assert_bits_equal(clean.fit(X, y, lr=0.01, epochs=2, warm_start=True, **kwargs), expected, "clean history")
    assert_bits_equal(tried.fit(X, y, lr=0.01, epochs=2, warm_start=True, **kwargs), expected, "history")
    assert_bits_equal(tried.params, ref.params, "params")


# ------------------------------------------------------------------ 7. bad input


@pytest.fixture
def no_training(monkeypatch):
    """Makes every training path fail loudly: a rejected argument must be caught first."""

    def refuse(*args, **kwargs):
        raise AssertionError("fit reached a kernel or the reference before rejecting its arguments")

    monkeypatch.setattr(fastnn.network, "generic_kernel", refuse)
    monkeypatch.setattr(fastnn.network.specialized, "train_kernel", refuse)
    # fit gets its trainer (generated, generic or tiered) here since tiering (issue 14)
    monkeypatch.setattr(fastnn.network.specialized, "fit_trainer", refuse)
    monkeypatch.setattr(fastnn.network.reference, "train", refuse)


BAD_FIT = [
    (dict(optimizer="adamw"), ValueError, r"optimizer.*sgd, adagrad, rmsprop, adam"),
    (dict(optimizer=""), ValueError, "optimizer"),
    (dict(optimizer=3), TypeError, "optimizer"),
    (dict(optimizer=None), TypeError, "optimizer"),
    (dict(optimizer=fastnn.Adam), TypeError, "optimizer"),  # the class, not an object
    (dict(dropout=1.0), ValueError, "dropout"),
    (dict(dropout=-0.1), ValueError, "dropout"),
    (dict(dropout=float("nan")), ValueError, "dropout"),
    (dict(dropout=[0.1]), ValueError, "dropout"),
    (dict(dropout=[0.1, 0.1, 0.1]), ValueError, "dropout"),
    (dict(dropout=[0.1, 1.5]), ValueError, "dropout"),
    (dict(dropout="0.1"), TypeError, "dropout"),
    (dict(l1=[0.1, 0.1]), ValueError, "l1"),
    (dict(l2=-1e-3), ValueError, "l2"),
    (dict(l2=[0.0, -1e-3, 0.0]), ValueError, "l2"),
    (dict(l2=float("inf")), ValueError, "l2"),
    (dict(l1_bias=[0.0] * 4), ValueError, "l1_bias"),
    (dict(l2_bias=float("nan")), ValueError, "l2_bias"),
    (dict(l1=True), TypeError, "l1"),
    (dict(l2="0.1"), TypeError, "l2"),
    (dict(warm_start="yes"), TypeError, "warm_start"),
    (dict(warm_start=1), TypeError, "warm_start"),
]


@pytest.mark.parametrize("backend", ["numba", "reference"])
@pytest.mark.parametrize("bad, error, match", BAD_FIT, ids=lambda v: repr(v) if isinstance(v, dict) else None)
def test_bad_fit_arguments_are_rejected_before_training(bad, error, match, backend, no_training):
    """Each bad argument is a ValueError/TypeError naming it, raised before any kernel (or
    the reference) runs; params unchanged."""
    net, X, y = small_net()
    before = net.params.copy()
    with pytest.raises(error, match=match):
        net.fit(X, y, lr=0.1, epochs=1, backend=backend, **bad)
    assert_bits_equal(net.params, before, "params")


def test_bias_penalty_and_dropout_need_the_layers(no_training):
    """l1_bias/l2_bias on a bias=False network and dropout on a network without hidden
    layers are ValueErrors naming the argument; zeros are accepted there."""
    nobias = fastnn.Network([2, 3, 1], "tanh", "mse", bias=False, seed=0)
    X, y = _data(nobias.sizes, "mse", 4, 0)
    before = nobias.params.copy()
    for bad in (dict(l1_bias=0.1), dict(l2_bias=[0.0, 1e-3])):
        with pytest.raises(ValueError, match="bias"):
            nobias.fit(X, y, lr=0.1, epochs=1, **bad)
        assert_bits_equal(nobias.params, before, "params")
    assert TrainOptions.build(nobias.spec, l1_bias=0.0, l2_bias=[0.0, 0.0]).penalties.l1_bias == (0.0, 0.0)
    with pytest.raises(ValueError, match="bias"):
        nobias.regularization_loss(l2_bias=0.1)
    single = fastnn.Network([2, 1], "linear", "mse", seed=0)
    with pytest.raises(ValueError, match="dropout"):
        single.fit(X, y, lr=0.1, epochs=1, dropout=0.5)
    assert TrainOptions.build(single.spec, dropout=0.0).dropout == ()


def test_regularization_loss_rejects_bad_factors():
    """regularization_loss validates its factors as fit does (errors name the argument)."""
    net, _, _ = small_net()
    cases = [(dict(l1=-1.0), ValueError, "l1"), (dict(l2=[0.1]), ValueError, "l2"),
             (dict(l1_bias="x"), TypeError, "l1_bias"), (dict(l2_bias=math.inf), ValueError, "l2_bias")]
    for bad, error, name in cases:
        with pytest.raises(error, match=name):
            net.regularization_loss(**bad)


BAD_OPTIMIZERS = [
    (lambda: fastnn.Adam(beta1=1.0), ValueError, "beta1"),
    (lambda: fastnn.Adam(beta1=-0.1), ValueError, "beta1"),
    (lambda: fastnn.Adam(beta2=-0.1), ValueError, "beta2"),
    (lambda: fastnn.Adam(beta2=1.5), ValueError, "beta2"),
    (lambda: fastnn.Adam(epsilon=0), ValueError, "epsilon"),
    (lambda: fastnn.Adam(epsilon=-1e-8), ValueError, "epsilon"),
    (lambda: fastnn.Adam(epsilon=float("nan")), ValueError, "epsilon"),
    (lambda: fastnn.Adam(decay=float("inf")), ValueError, "decay"),
    (lambda: fastnn.Adam(decay=-1), ValueError, "decay"),
    (lambda: fastnn.Adam(beta1="0.9"), TypeError, "beta1"),
    (lambda: fastnn.Adam(beta1=True), TypeError, "beta1"),
    (lambda: fastnn.SGD(momentum=1.0), ValueError, "momentum"),
    (lambda: fastnn.SGD(momentum=-0.5), ValueError, "momentum"),
    (lambda: fastnn.SGD(momentum=float("nan")), ValueError, "momentum"),
    (lambda: fastnn.SGD(nesterov=True), ValueError, "nesterov"),
    (lambda: fastnn.SGD(momentum=0.9, nesterov=1), TypeError, "nesterov"),
    (lambda: fastnn.SGD(decay=-1), ValueError, "decay"),
    (lambda: fastnn.SGD(decay=None), TypeError, "decay"),
    (lambda: fastnn.RMSprop(rho=1), ValueError, "rho"),
    (lambda: fastnn.RMSprop(rho=-0.1), ValueError, "rho"),
    (lambda: fastnn.RMSprop(epsilon=0.0), ValueError, "epsilon"),
    (lambda: fastnn.AdaGrad(epsilon=0), ValueError, "epsilon"),
    (lambda: fastnn.AdaGrad(decay=float("-inf")), ValueError, "decay"),
]


@pytest.mark.parametrize("make, error, name", BAD_OPTIMIZERS, ids=[b[2] + str(i) for i, b in enumerate(BAD_OPTIMIZERS)])
def test_bad_optimizer_settings_are_rejected(make, error, name):
    with pytest.raises(error, match=name):
        make()


def test_optimizer_objects_are_values():
    """Hashable, equal by value (ints and numpy floats normalised), frozen, readable repr
    of the non-default settings; names resolve to default objects."""
    assert fastnn.Adam(beta1=0.8) == fastnn.Adam(beta1=np.float64(0.8))
    assert fastnn.SGD(momentum=0.5, decay=1) == fastnn.SGD(0.5, False, 1.0)
    assert hash(fastnn.Adam(beta1=0.8)) == hash(fastnn.Adam(beta1=0.8))
    assert len({fastnn.Adam(), fastnn.Adam(), fastnn.Adam(beta2=0.9), fastnn.RMSprop(), fastnn.SGD()}) == 4
    assert fastnn.Adam() != fastnn.Adam(beta1=0.8)
    assert fastnn.AdaGrad() != fastnn.RMSprop()
    assert isinstance(fastnn.Adam(decay=1).decay, float)
    opt = fastnn.Adam(beta1=0.8)
    with pytest.raises(dataclasses.FrozenInstanceError):
        opt.beta1 = 0.5
    assert opt.beta1 == 0.8
    assert repr(fastnn.Adam(beta1=0.8)) == "Adam(beta1=0.8)"
    assert repr(fastnn.Adam()) == "Adam()"
    assert repr(fastnn.SGD(momentum=0.9, nesterov=True)) == "SGD(momentum=0.9, nesterov=True)"
    assert repr(fastnn.RMSprop(rho=0.5, epsilon=1e-8)) == "RMSprop(epsilon=1e-08, rho=0.5)"
    assert repr(fastnn.AdaGrad(decay=0.01)) == "AdaGrad(decay=0.01)"
    for name, cls in [("sgd", fastnn.SGD), ("adagrad", fastnn.AdaGrad), ("rmsprop", fastnn.RMSprop),
                      ("adam", fastnn.Adam), ("Adam", fastnn.Adam)]:
        assert fastnn.optim.resolve(name) == cls()
    assert fastnn.optim.resolve(opt) is opt
    assert fastnn.optim is not None and fastnn.SGD is fastnn.optim.SGD


def test_mean_absolute_error_is_nnfs_loss_with_the_true_gradient():
    """mean_absolute_error (nnfs chapter 9): the loss is mean_j |yhat_j - y_j| on every
    backend; its gradient is sign(yhat - y) / n_outputs (0 at the kink), which finite
    differences confirm (nnfs's printed backward, np.sign(y_true - y_pred) / outputs,
    has the opposite sign)."""
    rng = np.random.default_rng(4)
    net = fastnn.Network([2, 3, 2], ["tanh", "linear"], "mean_absolute_error", seed=2)
    X, y = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    yhat = np.tanh(X @ net.weight(0) + net.bias(0)) @ net.weight(1) + net.bias(1)
    for backend in ("numba", "generic", "reference"):
        assert net.loss(X, y, backend=backend) == pytest.approx(np.abs(yhat - y).mean(), rel=1e-14)
    grad = net.gradient(X, y, backend="reference")
    numeric = fastnn.numerical_gradient(net, X, y)
    np.testing.assert_allclose(grad, numeric, rtol=GRAD_RTOL, atol=GRAD_ATOL)
    assert_bits_equal(net.gradient(X, y), grad, "generic gradient")
    # at the kink (yhat == y) the subgradient is 0, as numpy's sign
    at_kink = net.predict(X[:1])
    assert not net.gradient(X[:1], at_kink, backend="reference").any()


@pytest.mark.parametrize("backend", ["numba", "generic"])
def test_adam_past_its_settled_bias_corrections_equals_reference(backend):
    """From the exponent fastnn.optim.settled_exponent gives, the kernels take Adam's bias
    corrections as exactly 1.0 without calling pow; the reference always computes
    1 - beta ** (t + 1). A run of 400 steps crosses beta1 = 0.9's point (step 362) and
    beta2 = 0.5's (55): the two stay equal bit for bit, before and after."""
    net, X, y = small_net()
    optimizer = fastnn.Adam(beta2=0.5)
    assert optimizer.hyper()[fastnn.optim.H_SETTLED1] == 362.0 and optimizer.hyper()[fastnn.optim.H_SETTLED2] == 55.0
    kwargs = dict(lr=0.01, epochs=400 // 7 + 1, batch_size=1, optimizer=optimizer)
    assert_same_run(fit_run(net, X, y, backend=backend, **kwargs), fit_run(net, X, y, backend="reference", **kwargs),
                    backend)
