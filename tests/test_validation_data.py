"""Held-out data, accuracy and early stopping (``fit(validation_data=..., validation_split=...,
patience=..., train_metrics=...)``, ``fastnn.History``).

* The kernel (``generic.train_monitored``, whichever backend asks) equals the reference
  bit for bit: the loss, validation loss, accuracies, end-of-epoch training loss, the best
  and stopping epochs and the (restored) parameters, across optimizers, batch sizes,
  shuffling, penalties, dropout and divergence.
* Checks that trust neither: the end-of-epoch training loss against ``net.loss``, the
  accuracies against numpy, early stopping against a hand count.
* validation_split: reproducible, stratified, disjoint; History behaves as the array;
  bad arguments are rejected before any kernel runs, the network untouched.

Networks are tiny (<= 3 layers, widths <= 5, <= 12 samples, <= 6 epochs); every run uses
the one generic kernel ``train_monitored``, compiled once for all shapes.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastnn
from fastnn.history import History

from strategies import assert_bits_equal, net_cases

pytestmark = pytest.mark.filterwarnings("ignore::fastnn.TrainingWarning")

KERNELS = ["numba", "generic"]
CURVES = ("val_loss", "accuracy", "val_accuracy", "train_loss_end")


def fit_run(net, X, y, **kwargs):
    """(History or None, params, DivergenceError epoch or None, history array) of a fit on a copy."""
    copy = net.copy()
    try:
        history = copy.fit(X, y, **kwargs)
        return history, copy.params.copy(), None, np.asarray(history)
    except fastnn.DivergenceError as err:
        return None, copy.params.copy(), err.epoch, err.history


def assert_same_run(a, b, what):
    assert a[2] == b[2], f"{what}: diverged epochs {a[2]} != {b[2]}"
    assert_bits_equal(a[3], b[3], f"{what}: history")
    assert_bits_equal(a[1], b[1], f"{what}: params")
    if a[0] is None:
        assert b[0] is None
        return
    assert isinstance(a[0], History) and isinstance(b[0], History)
    for name in CURVES:
        x, y = getattr(a[0], name), getattr(b[0], name)
        assert (x is None) == (y is None), f"{what}: {name} {x} vs {y}"
        if x is not None:
            assert_bits_equal(x, y, f"{what}: {name}")
    assert a[0].best_epoch == b[0].best_epoch, what
    assert a[0].stopped_epoch == b[0].stopped_epoch, what


def xor_like(n=12, seed=0, classes=None):
    """2 inputs; y: 0/1 (binary) or class labels 0..classes-1."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    if classes is None:
        y = (X[:, 0] * X[:, 1] > 0).astype(float)
    else:
        y = np.arange(n) % classes
    return X, y


@st.composite
def monitored(draw):
    """A case, validation data drawn like its training data, and fit's keyword arguments."""
    case = draw(net_cases(max_layers=3, max_width=5, min_samples=2, max_samples=12))
    other = draw(net_cases(shapes=st.just((case.sizes, case.activations, case.loss, case.bias)), max_samples=6))
    L = len(case.sizes) - 1
    kwargs = dict(
        optimizer=draw(st.sampled_from(["sgd", "adam", "rmsprop", fastnn.SGD(momentum=0.9)])),
        l2=draw(st.sampled_from([0.0, 1e-3])),
        dropout=draw(st.sampled_from([0.0, 0.3])) if L > 1 else 0.0,
        batch_size=case.batch_size, shuffle=case.shuffle, seed=case.seed,
        epochs=draw(st.integers(1, 6)),
        lr=1e200 if draw(st.integers(0, 9)) == 0 else case.lr,
        train_metrics=draw(st.booleans()),
        patience=draw(st.sampled_from([None, 1, 2])),
        min_delta=draw(st.sampled_from([0.0, 1e-3])),
        restore_best=draw(st.booleans()),
    )
    held = draw(st.sampled_from(["data", "split", "none"]))
    if held == "data":
        kwargs["validation_data"] = (other.X, other.y)
    elif held == "split" and case.n >= 2:
        kwargs["validation_split"] = draw(st.sampled_from([0.25, 0.5]))
        if int(round(kwargs["validation_split"] * case.n)) < 1:
            kwargs["validation_split"] = 0.5
        try:  # a stratified split that cannot hold every class on both sides is refused
            fastnn.validation.holdout(fastnn.validation.targets(case.y, case.network().spec, case.n),
                                      kwargs["validation_split"], 0, case.network().spec)
        except ValueError:
            kwargs["validation_data"] = (other.X, other.y)
            del kwargs["validation_split"]
    if held == "none" and kwargs["patience"] is None:
        kwargs["train_metrics"] = True
    return case, kwargs


# ------------------------------------------------------------------ 1. kernel == reference


@pytest.mark.parametrize("backend", KERNELS)
@settings(max_examples=25, deadline=None)
@given(drawn=monitored())
def test_kernel_equals_reference_bit_for_bit(backend, drawn):
    """Curves, accuracies, end-of-epoch loss, best/stopped epochs and restored params."""
    case, kwargs = drawn
    net = case.network()
    expected = fit_run(net, case.X, case.y, backend="reference", **kwargs)
    assert_same_run(fit_run(net, case.X, case.y, backend=backend, **kwargs), expected, backend)
    np.testing.assert_array_equal(net.params, case.params)


@pytest.mark.parametrize("backend", ["reference", "generic"])
def test_early_stopping_equals_reference_and_restores_best(backend):
    """A run that overfits its few samples: it stops, and ends with the best epoch's params
    (those of a fresh run of best_epoch + 1 epochs)."""
    X, y = xor_like(8, seed=1)
    Xv, yv = xor_like(8, seed=2)
    net = fastnn.Network([2, 4, 1], ["tanh", "sigmoid"], "binary_cross_entropy", seed=5)
    kwargs = dict(lr=0.5, epochs=200, optimizer="adam", validation_data=(Xv, yv), patience=3)
    trained = net.copy()
    history = trained.fit(X, y, **kwargs)
    assert history.stopped_epoch is not None and len(history) == history.stopped_epoch + 1
    assert history.stopped_epoch - history.best_epoch == 3
    assert history.val_loss[history.best_epoch] == history.val_loss.min()
    again = net.copy()
    again.fit(X, y, lr=0.5, epochs=history.best_epoch + 1, optimizer="adam")
    assert_bits_equal(trained.params, again.params, "restored params")
    kept = net.copy()
    kept.fit(X, y, restore_best=False, **kwargs)
    last = net.copy()
    last.fit(X, y, lr=0.5, epochs=history.stopped_epoch + 1, optimizer="adam")
    assert_bits_equal(kept.params, last.params, "params without restore_best")


def test_patience_without_validation_watches_training_loss():
    X, y = xor_like(8, seed=1)
    net = fastnn.Network([2, 3, 1], ["tanh", "sigmoid"], "binary_cross_entropy", seed=5)
    history = net.copy().fit(X, y, lr=50.0, epochs=60, patience=2, min_delta=1e-3)
    loss = np.asarray(history)
    best, wait = np.inf, 0
    for e, value in enumerate(loss):  # Keras' rule, counted by hand
        if value < best - 1e-3:
            best, wait, best_epoch = value, 0, e
        else:
            wait += 1
    assert history.val_loss is None and history.best_epoch == best_epoch
    if history.stopped_epoch is not None:
        assert wait == 2 and len(loss) == history.stopped_epoch + 1
    ref = fit_run(net, X, y, lr=50.0, epochs=60, patience=2, min_delta=1e-3, backend="reference")
    assert_same_run(fit_run(net, X, y, lr=50.0, epochs=60, patience=2, min_delta=1e-3), ref, "numba")


# ------------------------------------------------------------------ 2. against numpy and net.loss


def test_train_loss_end_is_the_loss_after_the_epoch():
    X, y = xor_like(12, seed=3)
    net = fastnn.Network([2, 3, 1], ["relu", "sigmoid"], "binary_cross_entropy", seed=2)
    for epochs in (1, 4):
        trained = net.copy()
        history = trained.fit(X, y, lr=0.3, epochs=epochs, batch_size=5, shuffle=True, train_metrics=True)
        assert history.train_loss_end[-1] == trained.loss(X, y)
        assert history.val_loss is None and history.accuracy is not None


@pytest.mark.parametrize("backend", ["reference", "generic"])
def test_accuracy_matches_numpy(backend):
    X, labels = xor_like(12, seed=4, classes=3)
    Xv, yv = xor_like(9, seed=5, classes=3)
    net = fastnn.Network([2, 4, 3], ["tanh", "softmax"], "categorical_cross_entropy", seed=1)
    for epochs in (1, 3):
        trained = net.copy()
        h = trained.fit(X, labels, lr=0.2, epochs=epochs, validation_data=(Xv, yv), backend=backend)
        assert h.accuracy[-1] == np.mean(trained.predict(X).argmax(axis=1) == labels)
        assert h.val_accuracy[-1] == np.mean(trained.predict(Xv).argmax(axis=1) == yv)
        assert h.val_loss[-1] == trained.loss(Xv, yv)
        assert h.train_loss_end is None
    # binary, several outputs: the elementwise mean
    rng = np.random.default_rng(0)
    Y2 = (rng.uniform(size=(10, 2)) > 0.5).astype(float)
    X2 = rng.standard_normal((10, 2))
    net2 = fastnn.Network([2, 3, 2], ["tanh", "sigmoid"], "binary_cross_entropy", seed=1)
    h = net2.fit(X2, Y2, lr=0.2, epochs=2, validation_data=(X2[:4], Y2[:4]), backend=backend)
    assert h.accuracy[-1] == np.mean((net2.predict(X2) > 0.5) == (Y2 > 0.5))
    assert h.val_accuracy[-1] == np.mean((net2.predict(X2[:4]) > 0.5) == (Y2[:4] > 0.5))


def test_regression_has_no_accuracy():
    X, y = xor_like(8)
    net = fastnn.Network([2, 3, 1], "tanh", "mse", seed=1)
    h = net.fit(X, y, lr=0.1, epochs=3, validation_data=(X, y))
    assert h.accuracy is None and h.val_accuracy is None and h.train_loss_end is None
    assert h.val_loss.shape == (3,)


# ------------------------------------------------------------------ 3. validation_split


def test_validation_split_is_stratified_reproducible_and_disjoint():
    from fastnn.spec import Spec
    from fastnn import validation as check

    spec = Spec.build([2, 3, 3], ["tanh", "softmax"], "categorical_cross_entropy", True)
    labels = np.repeat([0, 1, 2], [10, 20, 30])
    Y = np.eye(3)[labels]
    train, val = check.holdout(Y, 0.2, 7, spec)
    assert len(val) == 12 and len(train) == 48
    assert not set(train) & set(val) and sorted(set(train) | set(val)) == list(range(60))
    assert np.bincount(labels[val]).tolist() == [2, 4, 6]
    again = check.holdout(Y, 0.2, 7, spec)
    np.testing.assert_array_equal(again[1], val)
    other = check.holdout(Y, 0.2, 8, spec)
    assert not np.array_equal(other[1], val)
    # binary 0/1 targets: stratified too
    bspec = Spec.build([2, 3, 1], ["tanh", "sigmoid"], "binary_cross_entropy", True)
    yb = (np.arange(40) < 10).astype(float).reshape(-1, 1)
    _, vb = check.holdout(yb, 0.5, 1, bspec)
    assert yb[vb].sum() == 5 and len(vb) == 20


def test_validation_split_fit_equals_explicit_validation_data():
    X, labels = xor_like(12, seed=6, classes=3)
    net = fastnn.Network([2, 4, 3], ["tanh", "softmax"], "categorical_cross_entropy", seed=9)
    from fastnn import validation as check

    Y = np.eye(3)[labels]
    train, val = check.holdout(Y, 0.25, 9, net.spec)  # the network's seed
    a, b = net.copy(), net.copy()
    ha = a.fit(X, labels, lr=0.1, epochs=3, validation_split=0.25)
    hb = b.fit(X[train], labels[train], lr=0.1, epochs=3, validation_data=(X[val], labels[val]))
    assert_bits_equal(ha.val_loss, hb.val_loss, "val_loss")
    assert_bits_equal(a.params, b.params, "params")
    hc = net.copy().fit(X, labels, lr=0.1, epochs=3, validation_split=0.25, seed=9)
    assert_bits_equal(hc.val_loss, ha.val_loss, "seed=9 as the network's")


# ------------------------------------------------------------------ 4. History as the array


def test_history_behaves_as_the_loss_array():
    X, y = xor_like(8)
    net = fastnn.Network([2, 3, 1], ["tanh", "sigmoid"], "binary_cross_entropy", seed=1)
    fitted = net.copy().fit(X, y, lr=0.1, epochs=5)
    assert isinstance(fitted, History) and fitted.val_loss is None and fitted.accuracy is None
    assert fitted.best_epoch == int(np.argmin(np.asarray(fitted))) and fitted.stopped_epoch is None
    # ndarray's methods act on the loss array, as on the array fit used to return
    assert fitted.min() == np.asarray(fitted).min() and fitted.argmin() == fitted.best_epoch
    assert fitted.mean() == np.asarray(fitted).mean() and fitted.round(3).shape == (5,)
    with pytest.raises(AttributeError):
        fitted.no_such_attribute
    plain = np.asarray(fitted)
    assert type(plain) is np.ndarray
    h = net.copy().fit(X, y, lr=0.1, epochs=5, train_metrics=True)
    assert isinstance(h, fastnn.History)
    np.testing.assert_array_equal(h, plain)
    assert_bits_equal(h, plain, "history")
    assert len(h) == 5 and h.shape == (5,) and h[-1] == plain[-1]
    np.testing.assert_array_equal(h[1:3], plain[1:3])
    assert list(h) == list(plain) and h.tolist() == plain.tolist()
    assert np.all(h == plain) and np.asarray(h, dtype=np.float64).dtype == np.float64
    c = h.copy()
    assert isinstance(c, History) and c.loss is not h.loss
    np.testing.assert_array_equal(c.train_loss_end, h.train_loss_end)
    assert h.best_epoch is not None and h.stopped_epoch is None
    assert "History(epochs=5" in repr(h)


def test_history_to_frame_and_plot(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    X, labels = xor_like(12, seed=4, classes=3)
    net = fastnn.Network([2, 4, 3], ["tanh", "softmax"], "categorical_cross_entropy", seed=1)
    h = net.fit(X, labels, lr=0.2, epochs=4, validation_split=0.25, train_metrics=True)
    frame = h.to_frame()
    assert isinstance(frame, pd.DataFrame) and list(frame.columns) == ["loss", *CURVES]
    assert len(frame) == 4
    fig = h.plot(path=tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 0
    from matplotlib.figure import Figure

    assert isinstance(fig, Figure) and fig._repr_png_()[:4] == b"\x89PNG"  # a notebook shows it
    html = h._repr_html_()
    assert "History</b>: 4 epochs" in html and f"{h.best_epoch} (best)" in html
    assert all(f"<th>{name}</th>" in html for name in h.curves())


# ------------------------------------------------------------------ 5. divergence, bad input


def test_divergence_keeps_todays_semantics():
    X, y = xor_like(8)
    net = fastnn.Network([2, 3, 1], "linear", "mse", seed=1)
    with pytest.raises(fastnn.DivergenceError) as err:
        net.copy().fit(X, y, lr=1e200, epochs=4, validation_data=(X, y))
    assert err.value.epoch == 0 and len(err.value.history) == 0
    h = net.copy().fit(X, y, lr=1e200, epochs=4, validation_data=(X, y), on_divergence="stop")
    assert isinstance(h, History) and len(h) == 0 and len(h.val_loss) == 0


BAD = [
    (dict(validation_data=(np.zeros((3, 3)), np.zeros(3))), ValueError, "validation_data"),
    (dict(validation_data=(np.zeros((3, 2)), np.zeros(4))), ValueError, "validation_data"),
    (dict(validation_data=np.zeros((3, 2))), TypeError, "validation_data"),
    (dict(validation_data=(np.zeros((3, 2)), np.zeros(3)), validation_split=0.2), ValueError, "not both"),
    (dict(validation_split=0.0), ValueError, "validation_split"),
    (dict(validation_split=1.0), ValueError, "validation_split"),
    (dict(validation_split=0.01), ValueError, "validation_split"),
    (dict(validation_split=0.99), ValueError, "validation_split"),
    (dict(validation_split="half"), TypeError, "validation_split"),
    (dict(patience=0), ValueError, "patience"),
    (dict(patience=1.5), TypeError, "patience"),
    (dict(patience=2, min_delta=-1e-3), ValueError, "min_delta"),
    (dict(restore_best=1), TypeError, "restore_best"),
    (dict(train_metrics="yes"), TypeError, "train_metrics"),
]


@pytest.mark.parametrize("kwargs, error, name", BAD)
def test_bad_arguments_raise_before_training(kwargs, error, name):
    X, y = xor_like(8)
    net = fastnn.Network([2, 3, 1], ["tanh", "sigmoid"], "binary_cross_entropy", seed=1)
    before = net.params.copy()
    with pytest.raises(error, match=name):
        net.fit(X, y, lr=0.1, epochs=2, **kwargs)
    np.testing.assert_array_equal(net.params, before)
    assert net._run is None


@pytest.mark.parametrize("labels, split, why", [
    ([0, 0, 0, 0, 0, 0, 1, 1, 1, 2], 0.2, "class 2 has a single sample"),
    ([0, 0, 0, 0, 1, 1, 1, 1, 2, 2], 0.2, "2 validation samples cannot hold one of each of the 3 classes"),
    ([0, 0, 0, 1, 1, 1, 2, 2, 2, 2], 0.8, "2 training samples cannot hold one of each of the 3 classes"),
])
def test_a_stratified_split_that_would_miss_a_class_is_refused(labels, split, why):
    X = xor_like(len(labels))[0]
    net = fastnn.Network([2, 3, 3], ["tanh", "softmax"], "categorical_cross_entropy", seed=1)
    before = net.params.copy()
    with pytest.raises(ValueError, match=f"validation_split={split}.*{why}"):
        net.fit(X, np.array(labels), lr=0.1, epochs=2, validation_split=split)
    np.testing.assert_array_equal(net.params, before)


def test_a_stratified_split_holds_every_class_on_both_sides():
    """Rounding alone would leave a class out (0.3 of 3 samples rounds down to none): one
    sample moves to it from the class with the most to spare."""
    y = np.array([0] * 12 + [1] * 3 + [2] * 3)
    spec = fastnn.Network([2, 3, 3], ["tanh", "softmax"], "categorical_cross_entropy").spec
    Y = np.eye(3)[y]
    for seed in range(5):
        train, val = fastnn.validation.holdout(Y, 0.2, seed, spec)
        assert len(val) == round(0.2 * 18) and set(y[val]) == set(y[train]) == {0, 1, 2}
