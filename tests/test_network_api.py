"""The Network API does what its docstrings say, checked against hand computations.

Parameter layout and views, initialisation, the SGD semantics of ``fit`` (per sample,
mini-batch, full batch, what ``history`` holds), divergence handling, numerics at
extreme net inputs, and the data sets.
"""
import math
import warnings

import numpy as np
import pytest

import fastnn
from fastnn import datasets

from strategies import np_activate

BACKENDS = ["numba", "generic", "reference"]
# predict/loss/fit compared with numpy hand computations: numpy sums in its own order
# (matmul) and uses its own exp/tanh, so agreement is to rounding, not to the bit.
RTOL = 1e-12


# ------------------------------------------------------------------ layout and views


def test_flat_layout_offsets():
    """params is [W0 row-major | b0 | W1 | b1]: writing through weight(l)/bias(l) lands
    at hand-computed offsets, and the views share memory with params."""
    net = fastnn.Network([3, 4, 2], "relu", "mse", init="zeros")
    assert net.n_params == net.params.size == 3 * 4 + 4 + 4 * 2 + 2 == 26
    assert net.params.dtype == np.float64 and net.params.flags.c_contiguous
    assert net.weight(0).shape == (3, 4) and net.bias(0).shape == (4,)
    assert net.weight(1).shape == (4, 2) and net.bias(1).shape == (2,)
    writes = [(net.weight(0), (1, 2), 1 * 4 + 2), (net.bias(0), 3, 12 + 3), (net.weight(1), (3, 1), 16 + 3 * 2 + 1), (net.bias(1), 0, 24)]
    for k, (view, index, offset) in enumerate(writes):
        assert np.shares_memory(view, net.params)
        view[index] = 10.0 + k
        assert net.params[offset] == 10.0 + k
    assert np.count_nonzero(net.params) == len(writes)


def test_layout_without_bias():
    """bias=False: params holds only the weights, W1 follows W0 directly."""
    net = fastnn.Network([3, 4, 2], "relu", "mse", bias=False, init="zeros")
    assert net.n_params == 3 * 4 + 4 * 2
    net.weight(1)[0, 1] = 5.0
    assert net.params[12 + 1] == 5.0


def test_views_are_what_the_kernels_use():
    """Values written through weight()/bias() (and through params) are what predict and
    fit use: predict follows the hand-set weights, and fit updates the same buffer the
    views look at. Views taken before ``net.params = ...`` see the new values."""
    net = fastnn.Network([2, 2, 1], "relu", "squared_error", init="zeros")
    w0, b0, w1, b1 = net.weight(0), net.bias(0), net.weight(1), net.bias(1)
    w0[:] = [[1.0, 2.0], [3.0, 4.0]]
    b0[:] = [0.5, -0.5]
    w1[:] = [[2.0], [-1.0]]
    b1[:] = [0.25]
    X = np.array([[1.0, 1.0], [0.5, 2.0], [-1.0, -1.0]])
    # sample 0: hidden = relu([1 + 3 + 0.5, 2 + 4 - 0.5]) = [4.5, 5.5]; out = 9 - 5.5 + 0.25
    # sample 1: hidden = relu([0.5 + 6 + 0.5, 1 + 8 - 0.5]) = [7, 8.5]; out = 14 - 8.5 + 0.25
    # sample 2: hidden = relu([-4 + 0.5, -6 - 0.5]) = [0, 0]; out = 0.25
    for backend in BACKENDS:
        np.testing.assert_array_equal(net.predict(X, backend), [[3.75], [5.75], [0.25]])
    net.params = np.arange(9.0)
    np.testing.assert_array_equal(w0, [[0.0, 1.0], [2.0, 3.0]])
    np.testing.assert_array_equal(b1, [8.0])
    before = w1.copy()
    net.fit(X, np.array([[1.0], [2.0], [3.0]]), lr=1e-3, epochs=1)
    assert not np.array_equal(w1, before)
    np.testing.assert_array_equal(w1.ravel(), net.params[6:8])


FORWARD_NETS = [
    ([3, 5, 2], ["tanh", "linear"], True),
    ([2, 4, 4, 3], ["relu", "sigmoid", "softmax"], True),
    ([4, 3, 1], ["gaussian", "sigmoid"], False),
    ([1, 6, 6, 6, 2], ["sigmoid", "tanh", "gaussian", "relu"], True),
    ([5, 3], ["softmax"], False),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("sizes, acts, bias", FORWARD_NETS, ids=lambda v: str(v))
def test_predict_equals_numpy_forward(sizes, acts, bias, backend):
    """predict(X) equals the numpy forward pass a = f(a @ W + b), layer by layer, using
    the weight(l)/bias(l) views."""
    net = fastnn.Network(sizes, acts, "mse", bias=bias, init="normal", seed=11)
    rng = np.random.default_rng(11)
    net.params = rng.standard_normal(net.n_params)
    X = rng.standard_normal((7, sizes[0]))
    a = X
    for l, name in enumerate(acts):
        a = a @ net.weight(l) + (net.bias(l) if bias else 0.0)
        a = np_activate(name, a)
    np.testing.assert_allclose(net.predict(X, backend), a, rtol=RTOL, atol=RTOL)


def test_softmax_rows_sum_to_one():
    """Softmax outputs are probabilities even for large net inputs (max subtracted)."""
    net = fastnn.Network([2, 4], "softmax", "categorical_cross_entropy", init="normal", seed=0)
    net.weight(0)[:] = 300.0 * np.arange(8.0).reshape(2, 4)
    X = np.array([[1.0, 2.0], [-1.0, 0.5]])
    for backend in BACKENDS:
        p = net.predict(X, backend)
        assert np.isfinite(p).all()
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-15)


@pytest.mark.parametrize("backend", BACKENDS)
def test_extreme_net_inputs_do_not_overflow(backend):
    """sigmoid, tanh, gaussian and softmax at |z| of 1e3..1e300 give their limits with no
    RuntimeWarning (no exp overflow), and the cross-entropies stay finite (clipped)."""
    z = np.array([[-1e300], [-1e3], [-720.0], [720.0], [1e3], [1e300]])
    expect = {
        "sigmoid": [0.0, 0.0, 0.0, 1.0, 1.0, 1.0],
        "tanh": [-1.0, -1.0, -1.0, 1.0, 1.0, 1.0],
        "gaussian": [0.0] * 6,
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name, values in expect.items():
            net = fastnn.Network([1, 1], name, "mse", init=np.array([1.0, 0.0]))
            np.testing.assert_allclose(net.predict(z, backend)[:, 0], values, atol=1e-300)
        bce = fastnn.Network([1, 1], "sigmoid", "binary_cross_entropy", init=np.array([1.0, 0.0]))
        y = np.array([[1.0], [1.0], [1.0], [0.0], [0.0], [0.0]])  # every prediction is maximally wrong
        assert bce.loss(z, y, backend) == pytest.approx(-math.log(1e-7), rel=1e-6)
        cce = fastnn.Network([1, 2], "softmax", "categorical_cross_entropy", init=np.array([1.0, -1.0, 0.0, 0.0]))
        p = cce.predict(z, backend)
        np.testing.assert_allclose(p, [[0, 1], [0, 1], [0, 1], [1, 0], [1, 0], [1, 0]], atol=1e-300)
        assert cce.loss(z, np.array([0, 0, 0, 1, 1, 1]), backend) == pytest.approx(-math.log(1e-7), rel=1e-6)
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]


# ------------------------------------------------------------------ initialisation


def test_init_zeros_and_biases_start_at_zero():
    """init="zeros" gives all zeros; every named init starts the biases at zero."""
    assert not fastnn.Network([3, 4, 2], init="zeros").params.any()
    for init in fastnn.INITS:
        net = fastnn.Network([3, 4, 2], init=init, seed=1)
        assert not net.bias(0).any() and not net.bias(1).any()


@pytest.mark.parametrize("init", ["normal", "xavier", "he"])
def test_init_is_seeded(init):
    """A seed fixes the initial params (also across Network instances); other seeds and
    unseeded networks differ."""
    a = fastnn.Network([4, 8, 3], init=init, seed=42).params
    np.testing.assert_array_equal(fastnn.Network([4, 8, 3], init=init, seed=42).params, a)
    assert not np.array_equal(fastnn.Network([4, 8, 3], init=init, seed=43).params, a)
    assert not np.array_equal(fastnn.Network([4, 8, 3], init=init).params, fastnn.Network([4, 8, 3], init=init).params)


def test_init_scales():
    """normal: N(0, 0.01^2) (nnfs); xavier: uniform within +-sqrt(6 / (n_in + n_out));
    he: N(0, 2 / n_in). Checked on 200x100 and 100x50 weight matrices: sample std
    within 5 % (5 to 10 standard errors; a fan-in/fan-out mix-up is off by 40 %) and,
    for xavier, the bound is respected and nearly reached."""
    sizes = [200, 100, 50]
    for init in ("normal", "xavier", "he"):
        net = fastnn.Network(sizes, init=init, seed=7)
        for l in range(2):
            n_in, n_out = sizes[l], sizes[l + 1]
            w = net.weight(l)
            if init == "normal":
                std = 0.01
            elif init == "he":
                std = math.sqrt(2.0 / n_in)
            else:
                limit = math.sqrt(6.0 / (n_in + n_out))
                assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit
                std = limit / math.sqrt(3.0)
            assert abs(w.std() / std - 1.0) < 0.05, (init, l, w.std(), std)
            assert abs(w.mean()) < 4 * std / math.sqrt(w.size)


def test_init_array_and_copy():
    """init=array uses exactly those values; copy() is independent of the original."""
    values = np.linspace(-1.0, 1.0, 13)
    net = fastnn.Network([2, 3, 1], init=values)
    np.testing.assert_array_equal(net.params, values)
    twin = net.copy()
    twin.weight(0)[0, 0] = 99.0
    assert net.params[0] == values[0]
    assert twin.spec == net.spec


# ------------------------------------------------------------------ SGD semantics

# Seed 000's 2-2-1 ReLU network (squared error) with its printed initial weights.
SEED000_W = dict(W0=[[1.0, 0.5], [1.0, -0.5]], b0=[0.5, 0.0], W1=[[1.0], [1.0]], b1=[0.5])
DATA_X = np.array([[1.0, 3.0], [2.0, 4.0], [0.0, 6.0]])
DATA_Y = np.array([[4.0], [9.0], [7.0]])


def seed000():
    net = fastnn.Network([2, 2, 1], "relu", "squared_error", init="zeros")
    net.weight(0)[:] = SEED000_W["W0"]
    net.bias(0)[:] = SEED000_W["b0"]
    net.weight(1)[:] = SEED000_W["W1"]
    net.bias(1)[:] = SEED000_W["b1"]
    return net


def hand_loss_and_grads(W0, b0, W1, b1, x, y):
    """Per-sample loss and gradients of the 2-2-1 ReLU net, backpropagation by hand."""
    z1 = x @ W0 + b0
    a1 = np.maximum(z1, 0.0)
    yhat = a1 @ W1 + b1
    loss = float(((yhat - y) ** 2).sum())
    dyhat = 2.0 * (yhat - y)  # d/dyhat (yhat - y)^2; the ReLU output is active here
    assert (yhat > 0).all()
    dW1 = np.outer(a1, dyhat)
    db1 = dyhat
    dz1 = (W1 @ dyhat) * (z1 > 0)
    return loss, [np.outer(x, dz1), dz1, dW1, db1]


def hand_sgd(batch_size, lr, epochs=1):
    """SGD by hand: each batch steps by -lr * the mean gradient of its samples; the epoch
    loss is the mean of the per-sample losses, each taken before its batch's update."""
    params = [np.array(SEED000_W[k], dtype=float) for k in ("W0", "b0", "W1", "b1")]
    history = []
    for _ in range(epochs):
        losses = []
        for start in range(0, len(DATA_X), batch_size):
            grads = [np.zeros_like(p) for p in params]
            rows = range(start, min(start + batch_size, len(DATA_X)))
            for i in rows:
                loss, g = hand_loss_and_grads(*params, DATA_X[i], DATA_Y[i])
                losses.append(loss)
                grads = [a + b for a, b in zip(grads, g)]
            params = [p - lr * g / len(rows) for p, g in zip(params, grads)]
        history.append(np.mean(losses))
    return np.array(history), np.concatenate([p.ravel() for p in params])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("batch_size", [1, 2, 3, None])
def test_sgd_matches_hand_computation(backend, batch_size):
    """Per-sample (1), mini-batch (2: batches [0, 1] and [2]) and full batch (3 or None)
    SGD on seed 000's network give the hand-computed history and params over 3 epochs,
    and the three modes give different results (so the test tells them apart)."""
    lr = 0.003
    want_history, want_params = hand_sgd(batch_size or 3, lr, epochs=3)
    net = seed000()
    history = net.fit(DATA_X, DATA_Y, lr=lr, epochs=3, batch_size=batch_size, backend=backend)
    np.testing.assert_allclose(history, want_history, rtol=RTOL)
    np.testing.assert_allclose(net.params, want_params, rtol=RTOL)
    others = [hand_sgd(b, lr, epochs=3)[1] for b in (1, 2, 3) if b != (batch_size or 3)]
    assert all(np.abs(other - want_params).max() > 1e-4 for other in others)


@pytest.mark.parametrize("backend", BACKENDS)
def test_history_is_mean_of_losses_before_each_update(backend):
    """Epoch 0 of per-sample SGD on 2 samples, by hand: history[0] = (L0 + L1) / 2 with
    L0 the first sample's loss at the initial params and L1 the second sample's loss
    after the first update; not the mean loss at the initial params, nor at the end."""
    X, y, lr = DATA_X[:2], DATA_Y[:2], 0.003
    start = [np.array(SEED000_W[k], dtype=float) for k in ("W0", "b0", "W1", "b1")]
    l0, g0 = hand_loss_and_grads(*start, X[0], y[0])
    after_first = [p - lr * g for p, g in zip(start, g0)]
    l1, _ = hand_loss_and_grads(*after_first, X[1], y[1])
    l1_at_start, _ = hand_loss_and_grads(*start, X[1], y[1])
    net = seed000()
    history = net.fit(X, y, lr=lr, epochs=2, backend=backend)
    assert history[0] == pytest.approx((l0 + l1) / 2, rel=RTOL)
    assert abs(history[0] - (l0 + l1_at_start) / 2) > 1e-3
    assert abs(history[0] - net.loss(X, y, backend)) > 1e-3  # nor the loss after training
    # A full-batch epoch's loss is the mean loss at the params it started from.
    full = seed000()
    assert full.fit(X, y, lr=lr, epochs=1, batch_size=2, backend=backend)[0] == pytest.approx((l0 + l1_at_start) / 2, rel=RTOL)


@pytest.mark.parametrize("backend", BACKENDS)
def test_gradient_is_mean_of_per_sample_gradients(backend):
    """gradient(X, y) is the mean over samples of the hand-computed per-sample gradients,
    and loss(X, y) the mean of the per-sample losses."""
    net = seed000()
    per_sample = [hand_loss_and_grads(*(np.array(SEED000_W[k]) for k in ("W0", "b0", "W1", "b1")), x, t) for x, t in zip(DATA_X, DATA_Y)]
    want = np.mean([np.concatenate([g.ravel() for g in grads]) for _, grads in per_sample], axis=0)
    np.testing.assert_allclose(net.gradient(DATA_X, DATA_Y, backend), want, rtol=RTOL)
    assert net.loss(DATA_X, DATA_Y, backend) == pytest.approx(np.mean([l for l, _ in per_sample]), rel=RTOL)


# ------------------------------------------------------------------ divergence


def _diverging():
    """1-1 linear net with mse: lr = 4 overshoots every step, the loss grows ~1e5-fold
    per epoch and overflows to inf in epoch DIVERGES_AT (0-based; the same for every
    backend)."""
    net = fastnn.Network([1, 1], "linear", "mse", init=np.array([0.3, -0.2]))
    X = np.array([[1.0], [2.0], [-1.0]])
    y = np.array([[0.5], [1.0], [0.0]])
    return net, X, y


DIVERGES_AT = 56


@pytest.mark.parametrize("backend", BACKENDS)
def test_divergence_raises_with_epoch_history_and_last_finite_params(backend):
    """A too-large lr raises DivergenceError carrying the epoch and the history before
    it; the network keeps the params it had at the start of that epoch (those of a
    clean run of exactly that many epochs), all finite. on_divergence="stop" returns
    the same shortened history instead of raising."""
    net, X, y = _diverging()
    clean = net.copy()
    clean_history = clean.fit(X, y, lr=4.0, epochs=DIVERGES_AT, backend=backend)
    assert np.isfinite(clean_history).all() and np.isfinite(clean.params).all()
    with pytest.raises(fastnn.DivergenceError) as info:
        net.fit(X, y, lr=4.0, epochs=100, backend=backend)
    err = info.value
    assert err.epoch == DIVERGES_AT
    assert str(DIVERGES_AT + 1) in str(err)  # the message counts epochs from 1
    np.testing.assert_array_equal(err.history, clean_history)
    np.testing.assert_array_equal(net.params, clean.params)
    assert np.isfinite(net.params).all()
    stopped = _diverging()[0]
    history = stopped.fit(X, y, lr=4.0, epochs=100, backend=backend, on_divergence="stop")
    np.testing.assert_array_equal(history, clean_history)
    np.testing.assert_array_equal(stopped.params, clean.params)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("n", [1, 2])
def test_divergence_in_the_params_alone_is_caught(backend, n):
    """An update that overflows a parameter to -inf while every loss of the epoch was
    finite (one per-sample step, or one full-batch step) still counts as divergence in
    that epoch (epoch 0 here): the params stay the initial ones and the history is
    empty, not [finite loss]."""
    net = fastnn.Network([1, 1], "linear", "mse", init=np.array([1.0, 0.0]))
    X, y, batch_size = np.ones((n, 1)), np.zeros((n, 1)), n
    # Loss 1 per sample; dL/dw = 2, so w <- 1 - 1e308 * 2 = -inf at the first update.
    history = net.fit(X, y, lr=1e308, epochs=3, batch_size=batch_size, backend=backend, on_divergence="stop")
    assert history.shape == (0,)
    np.testing.assert_array_equal(net.params, [1.0, 0.0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_divergence_in_first_epoch_raises_with_empty_history(backend):
    """Overflow in epoch 0 raises with epoch 0, an empty history and the initial params."""
    net = fastnn.Network([1, 1], "linear", "mse", init=np.array([1.0, 0.0]))
    with pytest.raises(fastnn.DivergenceError) as info:
        net.fit(np.array([[1e200]]), np.array([[0.0]]), lr=1.0, epochs=5, backend=backend)
    assert info.value.epoch == 0 and info.value.history.shape == (0,)
    np.testing.assert_array_equal(net.params, [1.0, 0.0])


# ------------------------------------------------------------------ data sets


def test_quadratic():
    """Seed 000's data: x1 in 0..4, x2 in 3..6 (integers), y = x1^2 + x2 + noise with
    integer noise in 0..4; seeded; n rows."""
    X, y = datasets.quadratic(200, seed=5)
    assert X.shape == (200, 2) and y.shape == (200, 1)
    assert X.dtype == y.dtype == np.float64
    assert set(np.unique(X[:, 0])) == {0, 1, 2, 3, 4}
    assert set(np.unique(X[:, 1])) == {3, 4, 5, 6}
    noise = y[:, 0] - X[:, 0] ** 2 - X[:, 1]
    assert set(np.unique(noise)) == {0, 1, 2, 3, 4}
    X2, y2 = datasets.quadratic(200, seed=5)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(datasets.quadratic(200, seed=6)[0], X)
    assert datasets.quadratic()[0].shape == (100, 2)


def test_gender():
    """Seed 003's table: (weight - 135, height - 66) of Alice, Bob, Charlie, Diana, and
    1 = female."""
    X, y = datasets.gender()
    np.testing.assert_array_equal(X, [[-2, -1], [25, 6], [17, 4], [-15, -6]])
    np.testing.assert_array_equal(y, [[1], [0], [0], [1]])
    assert datasets.GENDER_NAMES == ("Alice", "Bob", "Charlie", "Diana")
    assert X.dtype == y.dtype == np.float64


def test_xor():
    """The four XOR points and their labels."""
    X, y = datasets.xor()
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y[:, 0], np.logical_xor(X[:, 0], X[:, 1]))
    assert y.shape == (4, 1)


@pytest.mark.parametrize("make", [datasets.spiral, datasets.vertical])
def test_class_datasets_shapes_labels_determinism(make):
    """spiral/vertical: X (samples * classes, 2) float64, y int64 labels in blocks of
    samples (class c in rows c*samples..), same seed -> same data, other seed -> other."""
    X, y = make(samples=40, classes=4, seed=9)
    assert X.shape == (160, 2) and X.dtype == np.float64 and np.isfinite(X).all()
    assert y.shape == (160,) and y.dtype == np.int64
    np.testing.assert_array_equal(y, np.repeat(np.arange(4), 40))
    X2, y2 = make(samples=40, classes=4, seed=9)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(make(samples=40, classes=4, seed=10)[0], X)
    assert make()[0].shape == (300, 2)


def test_spiral_geometry():
    """Spiral arms: the radius of each arm's points runs linearly from 0 to 1."""
    X, _ = datasets.spiral(samples=50, classes=3, seed=1)
    radius = np.hypot(X[:, 0], X[:, 1]).reshape(3, 50)
    np.testing.assert_allclose(radius, np.tile(np.linspace(0.0, 1.0, 50), (3, 1)), atol=1e-12)


def test_vertical_geometry():
    """Vertical clusters: class c is centred at (c / 3, 0.5) with spread ~0.1."""
    X, _ = datasets.vertical(samples=400, classes=3, seed=2)
    for c in range(3):
        block = X[400 * c : 400 * (c + 1)]
        np.testing.assert_allclose(block.mean(axis=0), [c / 3.0, 0.5], atol=0.02)
        np.testing.assert_allclose(block.std(axis=0), [0.1, 0.1], rtol=0.15)


def test_datasets_train_a_classifier():
    """The data sets feed straight into a network: spiral labels work with CCE."""
    X, y = datasets.vertical(samples=20, classes=3, seed=0)
    net = fastnn.Network([2, 3], "softmax", "categorical_cross_entropy", seed=0)
    history = net.fit(X, y, lr=0.5, epochs=30, backend="generic")
    assert history[-1] < 0.5 * history[0]
