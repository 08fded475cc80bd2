"""Bad input is rejected in Python, up front, with an error that names the argument.

Every rejection is checked with the kernels and the reference replaced by tripwires
(``no_kernels``), so an error raised from inside a kernel, or a kernel run before the
check, fails the test; and the network's parameters must be untouched afterwards.
Good input of other dtypes (ints, float32, lists, strided views) is accepted and gives
float64's results, and the caller's arrays are never modified.
"""
import math
import re
import types

import numpy as np
import pytest

import fastnn
import fastnn.network

BACKENDS = ["numba", "generic", "reference"]


class KernelReached(Exception):
    """Raised by a tripwire: a kernel or the reference was entered."""


class _Tripwire:
    """Stands in for a module or function: calling it, or anything taken from it, raises."""

    def __init__(self, name):
        self._name = name

    def __call__(self, *args, **kwargs):
        raise KernelReached(f"{self._name} was called")

    def __getattr__(self, attr):
        return _Tripwire(f"{self._name}.{attr}")


def _is_backend(value):
    name = getattr(value, "__name__", "") if isinstance(value, types.ModuleType) else getattr(value, "__module__", "")
    return isinstance(name, str) and (name.startswith("fastnn.kernels") or name == "fastnn.reference")


@pytest.fixture
def no_kernels():
    """A context manager: inside it, every kernel module, kernel function and the
    reference module that fastnn.network refers to is replaced by a tripwire."""

    def install():
        mp = pytest.MonkeyPatch()
        for attr, value in list(vars(fastnn.network).items()):
            if _is_backend(value):
                mp.setattr(fastnn.network, attr, _Tripwire(attr))
        return mp

    class Guard:
        def __enter__(self):
            self.mp = install()

        def __exit__(self, *exc):
            self.mp.undo()

    return Guard


def test_tripwire_catches_kernel_calls(no_kernels):
    """Sanity check of the fixture: valid calls do reach a tripwire."""
    net, X, y = _mse_net()
    with no_kernels():
        for call in (
            lambda: net.predict(X),
            lambda: net.loss(X, y, backend="reference"),
            lambda: net.gradient(X, y, backend="generic"),
            lambda: net.fit(X, y, lr=0.1, epochs=1),
        ):
            with pytest.raises(KernelReached):
                call()


def rejects(no_kernels, net, exc, argument, call):
    """``call()`` raises ``exc`` naming ``argument`` without reaching a kernel, and the
    network's params (values and buffer) are unchanged."""
    before, buffer = net.params.copy(), net.params
    with no_kernels(), pytest.raises(exc) as info:
        call()
    assert re.search(rf"(?<![\w]){re.escape(argument)}(?![\w])", str(info.value)), str(info.value)
    assert net.params is buffer
    np.testing.assert_array_equal(net.params, before)
    return str(info.value)


def _mse_net():
    rng = np.random.default_rng(0)
    net = fastnn.Network([3, 4, 2], ["tanh", "sigmoid"], "mse", seed=0)
    return net, rng.standard_normal((5, 3)), rng.standard_normal((5, 2))


def _with(X, index, value):
    X = np.array(X, dtype=float)
    X[index] = value
    return X


# ------------------------------------------------------------------ X and y

X_GOOD = np.random.default_rng(0).standard_normal((5, 3))
BAD_X = {
    "1-D": (np.zeros(3), ValueError),
    "3-D": (np.zeros((5, 3, 1)), ValueError),
    "scalar": (1.0, ValueError),
    "too few columns": (np.zeros((5, 2)), ValueError),
    "too many columns": (np.zeros((5, 4)), ValueError),
    "no rows": (np.zeros((0, 3)), ValueError),
    "NaN": (_with(X_GOOD, (2, 1), np.nan), ValueError),
    "inf": (_with(X_GOOD, (0, 0), np.inf), ValueError),
    "-inf": (_with(X_GOOD, (4, 2), -np.inf), ValueError),
    "ragged": ([[1.0, 2.0, 3.0], [1.0, 2.0]], ValueError),
    "string": ("1 2 3", TypeError),
    "strings": (np.array([["a", "b", "c"]]), TypeError),
    "objects": ([[None, 1.0, 2.0]], TypeError),
    "complex": (X_GOOD.astype(complex), TypeError),
}


@pytest.mark.parametrize("method", ["predict", "loss", "gradient", "fit"])
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", list(BAD_X))
def test_bad_X(no_kernels, case, backend, method):
    """X that is not a finite, non-empty (n, n_inputs) array of reals is rejected,
    naming X, by every method and backend."""
    net, _, y = _mse_net()
    X, exc = BAD_X[case]
    calls = {
        "predict": lambda: net.predict(X, backend=backend),
        "loss": lambda: net.loss(X, y, backend=backend),
        "gradient": lambda: net.gradient(X, y, backend=backend),
        "fit": lambda: net.fit(X, y, lr=0.1, epochs=1, backend=backend),
    }
    rejects(no_kernels, net, exc, "X", calls[method])


Y_GOOD = np.random.default_rng(1).standard_normal((5, 2))
BAD_Y = {
    # (loss, sizes, output activation, y, exception)
    "too many columns": ("mse", [3, 2], "linear", np.zeros((5, 3)), ValueError),
    "too few columns": ("mse", [3, 2], "linear", np.zeros((5, 1)), ValueError),
    "1-D for 2 outputs": ("mse", [3, 2], "linear", np.zeros(5), ValueError),
    "3-D": ("mse", [3, 2], "linear", np.zeros((5, 2, 1)), ValueError),
    "too few rows": ("mse", [3, 2], "linear", np.zeros((4, 2)), ValueError),
    "too many rows": ("mse", [3, 2], "linear", np.zeros((6, 2)), ValueError),
    "no rows": ("mse", [3, 2], "linear", np.zeros((0, 2)), ValueError),
    "1-D too short": ("squared_error", [3, 1], "linear", np.zeros(4), ValueError),
    "NaN": ("mse", [3, 2], "linear", _with(Y_GOOD, (1, 1), np.nan), ValueError),
    "inf": ("mse", [3, 2], "linear", _with(Y_GOOD, (3, 0), np.inf), ValueError),
    "strings": ("mse", [3, 2], "linear", np.array([["a", "b"]] * 5), TypeError),
    "BCE above 1": ("binary_cross_entropy", [3, 2], "sigmoid", _with(np.full((5, 2), 0.5), (2, 1), 1.5), ValueError),
    "BCE below 0": ("binary_cross_entropy", [3, 2], "sigmoid", _with(np.full((5, 2), 0.5), (0, 0), -1e-9), ValueError),
    "CCE label too big": ("categorical_cross_entropy", [3, 3], "softmax", np.array([0, 1, 2, 3, 0]), ValueError),
    "CCE label negative": ("categorical_cross_entropy", [3, 3], "softmax", np.array([0, 1, -1, 2, 0]), ValueError),
    "CCE label fraction": ("categorical_cross_entropy", [3, 3], "softmax", np.array([0, 1, 1.5, 2, 0]), ValueError),
    "CCE label NaN": ("categorical_cross_entropy", [3, 3], "softmax", np.array([0, 1, np.nan, 2, 0]), ValueError),
    "CCE labels too few": ("categorical_cross_entropy", [3, 3], "softmax", np.array([0, 1, 2, 0]), ValueError),
    "CCE two ones": ("categorical_cross_entropy", [3, 3], "softmax", _with(np.eye(3)[[0, 1, 2, 0, 1]], (0, 1), 1.0), ValueError),
    "CCE zero row": ("categorical_cross_entropy", [3, 3], "softmax", _with(np.eye(3)[[0, 1, 2, 0, 1]], (2, 2), 0.0), ValueError),
    "CCE soft row": ("categorical_cross_entropy", [3, 3], "softmax", np.full((5, 3), 1.0 / 3.0), ValueError),
    "CCE wrong width": ("categorical_cross_entropy", [3, 3], "softmax", np.eye(2)[[0, 1, 0, 1, 0]], ValueError),
    "CCE labels as column": ("categorical_cross_entropy", [3, 3], "softmax", np.array([[0], [1], [2], [0], [1]]), ValueError),
}


@pytest.mark.parametrize("method", ["loss", "gradient", "fit"])
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", list(BAD_Y))
def test_bad_y(no_kernels, case, backend, method):
    """y of the wrong shape, length or values for the loss is rejected, naming y."""
    loss, sizes, output, y, exc = BAD_Y[case]
    net = fastnn.Network(sizes, output, loss, seed=0)
    calls = {
        "loss": lambda: net.loss(X_GOOD, y, backend=backend),
        "gradient": lambda: net.gradient(X_GOOD, y, backend=backend),
        "fit": lambda: net.fit(X_GOOD, y, lr=0.1, epochs=1, backend=backend),
    }
    rejects(no_kernels, net, exc, "y", calls[method])


# ------------------------------------------------------------------ fit arguments

BAD_FIT = [
    ("lr", 0, ValueError),
    ("lr", 0.0, ValueError),
    ("lr", -1, ValueError),
    ("lr", -1e-3, ValueError),
    ("lr", math.nan, ValueError),
    ("lr", math.inf, ValueError),
    ("lr", np.float64(np.nan), ValueError),
    ("lr", "0.1", TypeError),
    ("lr", True, TypeError),
    ("lr", None, TypeError),
    ("lr", np.array([0.1]), TypeError),
    ("lr", 0.1 + 0j, TypeError),
    ("epochs", 0, ValueError),
    ("epochs", -2, ValueError),
    ("epochs", 1.5, TypeError),
    ("epochs", 2.0, TypeError),
    ("epochs", "3", TypeError),
    ("epochs", True, TypeError),
    ("epochs", None, TypeError),
    ("batch_size", 0, ValueError),
    ("batch_size", -1, ValueError),
    ("batch_size", 6, ValueError),  # more than the 5 samples
    ("batch_size", 1.0, TypeError),
    ("batch_size", "2", TypeError),
    ("batch_size", True, TypeError),
    ("shuffle", "yes", TypeError),
    ("shuffle", 1, TypeError),
    ("seed", -1, ValueError),
    ("seed", 2**64, ValueError),
    ("seed", 1.5, TypeError),
    ("backend", "cuda", ValueError),
    ("backend", None, TypeError),
    ("on_divergence", "ignore", ValueError),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("argument, value, exc", BAD_FIT, ids=[f"{a}={v!r}" for a, v, _ in BAD_FIT])
def test_bad_fit_arguments(no_kernels, argument, value, exc, backend):
    """fit rejects bad lr / epochs / batch_size / shuffle / seed / backend /
    on_divergence before training, naming the argument."""
    net, X, y = _mse_net()
    kwargs = dict(lr=0.1, epochs=3, batch_size=1, backend=backend)
    kwargs[argument] = value
    rejects(no_kernels, net, exc, argument, lambda: net.fit(X, y, **kwargs))


def test_choice_messages_list_valid_values(no_kernels):
    """Unknown backend / on_divergence names: the message lists the valid ones."""
    net, X, y = _mse_net()
    message = rejects(no_kernels, net, ValueError, "backend", lambda: net.predict(X, backend="gpu"))
    assert all(name in message for name in BACKENDS)
    message = rejects(no_kernels, net, ValueError, "on_divergence", lambda: net.fit(X, y, 0.1, 1, on_divergence="warn"))
    assert "raise" in message and "stop" in message


# ------------------------------------------------------------------ the constructor

BAD_NETWORK = [
    # (kwargs, exception, argument named in the message)
    (dict(sizes=[2, 3, 1], activation="swish"), ValueError, "activation"),
    (dict(sizes=[2, 3, 1], activation=["relu", "Sigmoid"]), ValueError, "activation"),
    (dict(sizes=[2, 3, 1], activation=["relu"]), ValueError, "activation"),
    (dict(sizes=[2, 3, 1], activation=["relu", "relu", "relu"]), ValueError, "activation"),
    (dict(sizes=[2, 3, 1], activation=3), TypeError, "activation"),
    (dict(sizes=[2, 3, 1], activation=["relu", None]), TypeError, "activation"),
    (dict(sizes=[2, 3, 1], activation=["softmax", "sigmoid"]), ValueError, "softmax"),
    (dict(sizes=[2, 3, 3, 1], activation=["relu", "softmax", "softmax"]), ValueError, "softmax"),
    (dict(sizes=[2, 3, 1], loss="hinge"), ValueError, "loss"),
    (dict(sizes=[2, 3, 1], loss=None), TypeError, "loss"),
    (dict(sizes=[2, 3], activation="sigmoid", loss="categorical_cross_entropy"), ValueError, "categorical_cross_entropy"),
    (dict(sizes=[2, 3, 3], activation=["softmax", "relu"], loss="categorical_cross_entropy"), ValueError, "softmax"),
    (dict(sizes=[2, 3, 1], init="glorot"), ValueError, "init"),
    (dict(sizes=[2, 3, 1], init=None), TypeError, "init"),
    (dict(sizes=[2, 3, 1], init=np.zeros(12)), ValueError, "params"),
    (dict(sizes=[2, 3, 1], init=np.zeros(14)), ValueError, "params"),
    (dict(sizes=[2, 3, 1], init=np.zeros((13, 1))), ValueError, "params"),
    (dict(sizes=[2, 3, 1], bias=False, init=np.zeros(13)), ValueError, "params"),
    (dict(sizes=[2, 3, 1], init=_with(np.zeros(13), 4, np.nan)), ValueError, "params"),
    (dict(sizes=[2, 3, 1], init=["a"] * 13), TypeError, "params"),
    (dict(sizes=[2, 3, 1], bias="yes"), TypeError, "bias"),
    (dict(sizes=[2, 3, 1], seed=-1), ValueError, "seed"),
    (dict(sizes=[2]), ValueError, "sizes"),
    (dict(sizes=[2, 0, 1]), ValueError, "sizes"),
    (dict(sizes=[2, 1.5]), TypeError, "sizes"),
    (dict(sizes=[2, True]), TypeError, "sizes"),
    (dict(sizes="21"), TypeError, "sizes"),
    (dict(sizes=3), TypeError, "sizes"),
]


@pytest.mark.parametrize("kwargs, exc, argument", BAD_NETWORK, ids=[repr(k)[:60] for k, _, _ in BAD_NETWORK])
def test_bad_network(no_kernels, kwargs, exc, argument):
    """Network(...) rejects unknown names, misplaced softmax, CCE without softmax, bad
    sizes and init arrays of the wrong length, naming the argument."""
    kwargs = dict(dict(activation="relu", loss="squared_error"), **kwargs)
    with no_kernels(), pytest.raises(exc) as info:
        fastnn.Network(**kwargs)
    assert argument in str(info.value), str(info.value)


@pytest.mark.parametrize(
    "kwargs, valid",
    [
        (dict(activation="swish"), fastnn.ACTIVATIONS),
        (dict(loss="hinge"), fastnn.LOSSES),
        (dict(init="glorot"), fastnn.INITS),
    ],
)
def test_unknown_name_lists_valid_names(kwargs, valid):
    """An unknown activation, loss or init name: the message lists every valid name."""
    kwargs = dict(dict(sizes=[2, 3, 1], activation="relu", loss="squared_error"), **kwargs)
    with pytest.raises(ValueError) as info:
        fastnn.Network(**kwargs)
    assert all(name in str(info.value) for name in valid), str(info.value)


def test_params_setter_rejects_wrong_length(no_kernels):
    """Setting params of the wrong length, shape or with NaN raises, naming params, and
    leaves the old params in place."""
    net, _, _ = _mse_net()
    for value in (np.zeros(net.n_params - 1), np.zeros((net.n_params, 1)), np.full(net.n_params, np.nan)):
        rejects(no_kernels, net, ValueError, "params", lambda: setattr(net, "params", value))


def test_layer_index_and_missing_bias(no_kernels):
    """weight(l)/bias(l) reject layers out of range; bias() on a bias-free net raises."""
    net, _, _ = _mse_net()
    for layer in (2, -3):
        rejects(no_kernels, net, ValueError, "layer", lambda: net.weight(layer))
    rejects(no_kernels, net, TypeError, "layer", lambda: net.bias(1.0))
    no_bias = fastnn.Network([3, 2], "linear", "mse", bias=False)
    rejects(no_kernels, no_bias, ValueError, "bias", lambda: no_bias.bias(0))
    assert net.weight(-1).shape == (4, 2)  # negative indices count from the end


# ------------------------------------------------------------------ accepted input

# Pool shapes (tests/strategies.py) so the "numba" backend compiles no extra kernel.
def _bce_net():
    return fastnn.Network([2, 3, 1], ["tanh", "sigmoid"], "binary_cross_entropy", seed=4)


def _cce_net():
    return fastnn.Network([1, 2, 3], ["gaussian", "softmax"], "categorical_cross_entropy", seed=5)


def _all_results(net, X, y, backend):
    """predict, loss, gradient and a 3-epoch mini-batch fit (history, params)."""
    copy = net.copy()
    history = copy.fit(X, y, lr=0.3, epochs=3, batch_size=2, shuffle=True, seed=1, backend=backend)
    return [net.predict(X, backend), net.loss(X, y, backend), net.gradient(X, y, backend), history, copy.params]


def _assert_same(results, expected):
    for got, want in zip(results, expected):
        np.testing.assert_array_equal(got, want)
        assert np.asarray(got).dtype == np.float64


@pytest.mark.parametrize("backend", BACKENDS)
def test_ints_float32_lists_and_views_give_float64_results(backend):
    """Integer, float32, bool, nested-list, Fortran-ordered and strided inputs give
    bit-for-bit the results of the same values as C-contiguous float64."""
    net = _bce_net()
    X_int = np.array([[0, 1], [2, -1], [1, 1], [-2, 0], [3, 2]])
    y01 = np.array([[1], [0], [0], [1], [1]])
    expected = _all_results(net, X_int.astype(np.float64), y01.astype(np.float64), backend)
    X32 = (0.3 * X_int).astype(np.float32)
    wide = np.zeros((5, 4))
    wide[:, ::2] = X_int
    variants = [
        (X_int, y01, expected),
        (X_int.astype(np.int32), y01.astype(bool), expected),
        (X_int.tolist(), y01.ravel().tolist(), expected),
        (np.asfortranarray(X_int.astype(float)), y01[:, 0], expected),
        (wide[:, ::2], y01.astype(np.float32), expected),  # non-contiguous view
        (X32, y01, _all_results(net, X32.astype(np.float64), y01.astype(np.float64), backend)),
    ]
    for X, y, want in variants:
        _assert_same(_all_results(net, X, y, backend), want)


@pytest.mark.parametrize("backend", BACKENDS)
def test_cce_labels_and_one_hot_agree(backend):
    """For categorical cross-entropy, integer labels (any int or integral float dtype)
    and the equivalent one-hot rows give identical loss, gradient and training."""
    net = _cce_net()
    X = np.array([[0.5], [-1.0], [0.2], [1.5], [-0.3], [0.0]])
    labels = np.array([0, 2, 1, 1, 0, 2])
    expected = _all_results(net, X, np.eye(3)[labels], backend)
    for y in (labels, labels.astype(np.int8), labels.astype(np.float32), labels.tolist(), np.eye(3, dtype=int)[labels]):
        _assert_same(_all_results(net, X, y, backend), expected)


@pytest.mark.parametrize("backend", BACKENDS)
def test_caller_arrays_are_never_modified(backend):
    """fit, predict, loss, gradient, Network(init=array) and the params setter copy
    their inputs: the caller's arrays keep their values, and training the network does
    not write into the array it was initialised from."""
    net = _bce_net()
    rng = np.random.default_rng(2)
    X = rng.standard_normal((6, 2))
    y = rng.uniform(0.0, 1.0, (6, 1))
    init = net.params.copy()
    arrays = {"X": X, "y": y, "init": init}
    copies = {k: v.copy() for k, v in arrays.items()}
    trained = fastnn.Network([2, 3, 1], ["tanh", "sigmoid"], "binary_cross_entropy", init=init)
    trained.predict(X, backend)
    trained.loss(X, y, backend)
    trained.gradient(X, y, backend)
    trained.fit(X, y, lr=0.5, epochs=3, backend=backend)
    trained.fit(X, y, lr=0.5, epochs=3, batch_size=6, backend=backend)
    assert not np.array_equal(trained.params, init)  # training did change the network
    setter = init.copy()
    arrays["setter"], copies["setter"] = setter, setter.copy()
    trained.params = setter
    trained.fit(X, y, lr=0.5, epochs=2, backend=backend)
    for name, array in arrays.items():
        np.testing.assert_array_equal(array, copies[name], err_msg=name)
    assert not np.shares_memory(trained.params, init)


def test_failed_fit_leaves_params_after_valid_fit():
    """A failing call after a successful fit leaves the trained params, not the initial
    ones or a partial update."""
    net = _bce_net()
    X, y = np.array([[0.1, 0.2], [0.3, -0.4]]), np.array([[1.0], [0.0]])
    net.fit(X, y, lr=0.1, epochs=2)
    trained = net.params.copy()
    for kwargs in (dict(lr=-1.0, epochs=2), dict(lr=0.1, epochs=0), dict(lr=0.1, epochs=2, batch_size=3)):
        with pytest.raises(ValueError):
            net.fit(X, y, **kwargs)
        np.testing.assert_array_equal(net.params, trained)
