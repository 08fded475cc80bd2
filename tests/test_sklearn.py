"""fastnn.sklearn: scikit-learn's estimator checks, the parameter mapping, and use inside
scikit-learn's tools.

* ``check_estimator``'s checks (``parametrize_with_checks``) on seven instances: both
  estimators with adam, the classifier with sgd, both with lbfgs, and both with
  ``early_stopping=True`` (where the three checks that call ``partial_fit`` are expected
  to fail: it raises, as scikit-learn's own MLP does; with lbfgs ``partial_fit`` does not
  exist, so the checks skip it). They use ``backend="generic"`` (one
  kernel compiled once for every shape: the checks build many shapes, and ``"numba"``
  would compile kernels for each), ``hidden_layer_sizes=(5,)`` and 100 epochs at
  ``learning_rate_init=0.01``, enough for the checks that want a good training score.
  With the defaults no check is expected to fail (``EXPECTED_FAILED`` is where one would
  be listed, with its reason). ConvergenceWarnings are ignored file-wide (scikit-learn's
  own MLP gives them in the checks too); the tests about them turn them on.
* The mapping: the estimator trains exactly as ``Network.fit`` with the documented
  arguments (bit for bit), and one epoch of plain SGD from the same weights moves them
  as scikit-learn's own MLP does (L2 ``alpha``, the loss gradients, mini-batches).
* ``partial_fit``, ``warm_start``, labels of any type, the fitted attributes, errors.
* Stopping on the training loss (``early_stopping=False``): scikit-learn's rule, epoch for
  epoch (the same epoch counts as scikit-learn's own MLP where the rule decides alone),
  the same run bit for bit as one ``Network.fit``, ``ConvergenceWarning`` at
  ``max_iter``, never under ``partial_fit``, divergence counted from the fit's start.
* ``early_stopping``: the estimator trains exactly as ``Network.fit`` with
  ``validation_split``, ``patience``, ``min_delta`` and ``restore_best`` (bit for bit),
  stops before ``max_iter`` on an overfitting setup, and its attributes.
* ``solver="lbfgs"``: its objective against central differences and against
  scikit-learn's ``loss_``, iris against scikit-learn's lbfgs MLP, ``alpha``, warm start,
  the ConvergenceWarning, divergence, no ``partial_fit``.
* ``Pipeline``, ``GridSearchCV`` (also over the three solvers) and ``cross_val_score``;
  and a loose check that scores on iris and diabetes are in the range of scikit-learn's
  MLP (the measured side-by-side comparison is docs/sklearn.md, from
  scripts/compare_sklearn.py).

About 15 s warm (each check runs in milliseconds once the generic kernels are loaded).
"""
import inspect
import pickle
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

import sklearn  # noqa: E402
from sklearn.compose import TransformedTargetRegressor  # noqa: E402
from sklearn.datasets import load_diabetes, load_iris  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkClassifier  # noqa: E402
from sklearn.neural_network import MLPRegressor as SkRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils import check_random_state  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import fastnn  # noqa: E402
from fastnn.sklearn import MLPClassifier, MLPRegressor, _LbfgsObjective  # noqa: E402

# scikit-learn's own MLP warns in the estimator checks too; the tests about it turn it on
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = dict(hidden_layer_sizes=(5,), backend="generic", max_iter=100, learning_rate_init=0.01)
CHECKED = [MLPClassifier(**FAST), MLPRegressor(**FAST), MLPClassifier(solver="sgd", **FAST),
           MLPClassifier(solver="lbfgs", **FAST), MLPRegressor(solver="lbfgs", **FAST),
           MLPClassifier(early_stopping=True, **FAST), MLPRegressor(early_stopping=True, **FAST)]

# check name -> why it fails, per estimator class; none with the default early_stopping=False.
EXPECTED_FAILED = {"MLPClassifier": {}, "MLPRegressor": {}}
# With early_stopping=True, partial_fit raises ValueError, as scikit-learn's own MLP does
# (>= 1.3), and these checks call partial_fit.
_PARTIAL_FIT = "partial_fit does not support early_stopping=True (scikit-learn's own MLP raises the same)"
EXPECTED_FAILED_EARLY_STOPPING = {name: _PARTIAL_FIT for name in (
    "check_fit_score_takes_y", "check_n_features_in_after_fitting", "check_estimators_partial_fit_n_features")}


# The classifier's held-out part is scikit-learn's own stratified train_test_split, which
# refuses these checks' tiny two-class data (a test_size of 1 sample cannot hold both
# classes): scikit-learn's MLPClassifier(early_stopping=True) fails them the same way.
_SPLIT = ("scikit-learn's train_test_split refuses a stratified test part of 1 sample for 2 classes (its own "
          "MLPClassifier(early_stopping=True) fails this check the same way)")
EXPECTED_FAILED_EARLY_STOPPING_CLASSIFIER = {"check_fit2d_1feature": _SPLIT, "check_estimators_nan_inf": _SPLIT}


def _expected_failed(estimator):
    if estimator.early_stopping:
        if isinstance(estimator, MLPClassifier):
            return {**EXPECTED_FAILED_EARLY_STOPPING, **EXPECTED_FAILED_EARLY_STOPPING_CLASSIFIER}
        return EXPECTED_FAILED_EARLY_STOPPING
    return EXPECTED_FAILED[type(estimator).__name__]


_extra = {}
if "expected_failed_checks" in inspect.signature(parametrize_with_checks).parameters:  # scikit-learn >= 1.6
    _extra["expected_failed_checks"] = _expected_failed
else:  # pragma: no cover - older scikit-learn: nothing is expected to fail with the defaults
    assert not any(EXPECTED_FAILED.values()), "mark these checks with pytest.mark.xfail on this scikit-learn"
    CHECKED = [est for est in CHECKED if not est.early_stopping]


@parametrize_with_checks(CHECKED, **_extra)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# ------------------------------------------------------------------ the mapping


def _data(n=12, d=3, outputs=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    Y = np.column_stack([np.sin(X.sum(axis=1) + k) for k in range(outputs)])
    return X, Y


def _seeds(random_state):
    """The (init, fit) seeds the estimators draw from random_state."""
    return [int(v) for v in check_random_state(random_state).randint(0, np.iinfo(np.int32).max, size=2)]


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_fit_is_network_fit_with_the_documented_arguments(solver):
    X, Y = _data()
    est = MLPRegressor((4, 3), "tanh", solver=solver, alpha=0.3, batch_size=5, learning_rate_init=0.01, max_iter=7,
                       random_state=3, momentum=0.5, beta_1=0.8, beta_2=0.99, epsilon=1e-6, backend="generic")
    est.fit(X, Y)
    init_seed, fit_seed = _seeds(3)
    net = fastnn.Network([3, 4, 3, 2], ["tanh", "tanh", "linear"], "half_squared_error", init="xavier", seed=init_seed)
    optimizer = (fastnn.SGD(momentum=0.5, nesterov=True) if solver == "sgd"
                 else fastnn.Adam(beta1=0.8, beta2=0.99, epsilon=1e-6))
    history = net.fit(X, Y, lr=0.01, epochs=7, batch_size=5, shuffle=True, seed=fit_seed, backend="generic",
                      optimizer=optimizer, l2=0.3 / (2 * 5))
    assert np.array_equal(est.net_.params, net.params)
    assert est.loss_curve_ == history.tolist() and est.loss_ == history[-1] and est.n_iter_ == 7
    assert est.net_.sizes == (3, 4, 3, 2) and est.net_.loss_name == "half_squared_error"


def _sklearn_step(sk, ours, X, y, **partial):
    """One more epoch of scikit-learn's MLP ``sk`` from ``ours``'s weights, with a fresh
    optimizer: returns its weights."""
    sk.partial_fit(X, y, **partial)  # initialises its layers
    sk.coefs_ = [w.copy() for w in ours.coefs_]
    sk.intercepts_ = [b.copy() for b in ours.intercepts_]
    del sk._optimizer  # the next partial_fit makes a new one: plain SGD keeps no state anyway
    sk.partial_fit(X, y)
    return sk.coefs_ + sk.intercepts_


@pytest.mark.parametrize("kind", ["regressor-2-outputs", "classifier-3-classes"])
def test_one_epoch_of_sgd_moves_the_weights_as_sklearn_does(kind):
    """alpha's mapping (l2 = alpha / (2 * batch_size)), half the squared error (its
    gradient summed over outputs) and softmax + cross-entropy: one epoch of three
    mini-batches of plain SGD from the same weights, in order, agrees with scikit-learn's
    own MLP to rounding."""
    X, Y = _data()
    settings = dict(hidden_layer_sizes=(4,), activation="tanh", solver="sgd", momentum=0.0, alpha=0.7, batch_size=4,
                    learning_rate_init=0.05, shuffle=False, random_state=0)
    if kind.startswith("regressor"):
        ours, sk, y, partial = MLPRegressor(backend="generic", **settings), SkRegressor(**settings), Y, {}
    else:
        y = np.array(["a", "b", "c"])[np.argmax(Y @ [[1, 0, -1], [0, 1, 1]], axis=1)]
        partial = dict(classes=np.unique(y))
        ours, sk = MLPClassifier(backend="generic", **settings), SkClassifier(**settings)
    ours.partial_fit(X, y, **partial)
    theirs = _sklearn_step(sk, ours, X, y, **partial)
    ours.partial_fit(X, y)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)


def test_partial_fit_twice_equals_fit_of_two_epochs():
    X, Y = _data(n=30)
    y = np.where(Y[:, 0] > 0, "yes", "no")
    fitted = MLPClassifier((6,), max_iter=2, batch_size=8, random_state=1, backend="generic").fit(X, y)
    partial = MLPClassifier((6,), batch_size=8, random_state=1, backend="generic")
    with pytest.raises(ValueError, match="classes must be passed"):
        partial.partial_fit(X, y)
    partial.partial_fit(X, y, classes=["no", "yes"]).partial_fit(X, y)
    assert np.array_equal(partial.net_.params, fitted.net_.params)
    assert partial.loss_curve_ == fitted.loss_curve_ and partial.n_iter_ == 2 and partial.t_ == 60
    with pytest.raises(ValueError, match="not the same"):
        partial.partial_fit(X, y, classes=["no", "yes", "maybe"])
    with pytest.raises(ValueError, match="Expected only labels"):
        partial.partial_fit(X, np.where(Y[:, 0] > 0, "yes", "maybe"))


def test_warm_start_continues_from_the_weights():
    X, Y = _data(n=20)
    est = MLPRegressor((5,), max_iter=3, random_state=0, warm_start=True, backend="generic").fit(X, Y)
    before = est.net_.params.copy()
    est.fit(X, Y)
    assert len(est.loss_curve_) == 6 and est.n_iter_ == 6
    assert not np.array_equal(est.net_.params, before)
    cold = MLPRegressor((5,), max_iter=3, random_state=0, backend="generic").fit(X, Y)
    assert cold.n_iter_ == 3 and np.array_equal(cold.coefs_[0], MLPRegressor((5,), max_iter=3, random_state=0,
                                                                             backend="generic").fit(X, Y).coefs_[0])


def test_labels_of_any_type_and_binary_problems():
    X, Y = _data(n=40)
    y = np.where(Y[:, 0] > 0, "up", "down")
    est = MLPClassifier((8,), max_iter=50, learning_rate_init=0.02, random_state=0, backend="generic").fit(X, y)
    assert list(est.classes_) == ["down", "up"] and est.n_outputs_ == 2 and est.out_activation_ == "softmax"
    proba = est.predict_proba(X)
    assert proba.shape == (40, 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert set(est.predict(X)) <= {"down", "up"}
    assert np.array_equal(est.predict(X), est.classes_[proba.argmax(axis=1)])
    assert est.score(X, y) > 0.8
    np.testing.assert_allclose(est.predict_log_proba(X), np.log(proba))


def test_fitted_attributes():
    X, Y = _data(n=25)
    est = MLPRegressor((4, 3), max_iter=4, random_state=0, backend="generic").fit(X, Y)
    assert [w.shape for w in est.coefs_] == [(3, 4), (4, 3), (3, 2)]
    assert [b.shape for b in est.intercepts_] == [(4,), (3,), (2,)]
    assert est.n_features_in_ == 3 and est.n_outputs_ == 2 and est.n_layers_ == 4 and est.n_iter_ == 4
    assert est.loss_ == est.loss_curve_[-1] and est.best_loss_ == min(est.loss_curve_)
    assert est.out_activation_ == "identity" and isinstance(est.net_, fastnn.Network)
    before = est.predict(X)
    est.coefs_[-1][:] = 0.0  # views into net_.params, as scikit-learn's are the model's
    est.intercepts_[-1][:] = 1.5
    assert np.array_equal(est.predict(X), np.full_like(before, 1.5))
    single = MLPRegressor((3,), max_iter=2, random_state=0, backend="generic").fit(X, Y[:, 0])
    assert single.predict(X).shape == (25,)
    clone = pickle.loads(pickle.dumps(single))
    assert np.array_equal(clone.predict(X), single.predict(X))


@pytest.mark.parametrize("params, text", [
    (dict(solver="newton-cg"), "solver"),
    (dict(solver="lbfgs", max_fun=0), "max_fun"),
    (dict(max_fun=1.5), "max_fun"),
    (dict(activation="softmax"), "activation"),
    (dict(hidden_layer_sizes=(4, 0)), "hidden_layer_sizes"),
    (dict(batch_size="big"), "batch_size"),
    (dict(alpha=-1.0), "alpha"),
    (dict(learning_rate_init=0.0), "learning_rate_init"),
    (dict(max_iter=0), "max_iter"),
    (dict(beta_1=1.0), "beta_1"),
    (dict(solver="sgd", momentum=1.5), "momentum"),
    (dict(backend="cuda"), "backend"),
])
def test_bad_parameters_fail_at_fit_naming_them(params, text):
    X, Y = _data()
    est = MLPRegressor(**params)  # never in __init__ or set_params: scikit-learn's rule
    with pytest.raises(ValueError, match=text):
        est.fit(X, Y)
    with pytest.raises(NotFittedError):
        est.predict(X)


def test_divergence_raises_and_leaves_the_estimator_unfitted():
    X, Y = _data()
    est = MLPRegressor((4,), solver="sgd", learning_rate_init=1e6, momentum=0.0, max_iter=50, backend="generic")
    with pytest.raises(fastnn.DivergenceError):
        est.fit(X, 1e3 * Y)
    assert not hasattr(est, "net_")


def test_batch_size_is_clipped_with_a_warning():
    X, Y = _data(n=10)
    with pytest.warns(UserWarning, match="clipped"):
        est = MLPRegressor((3,), batch_size=50, max_iter=2, random_state=0, backend="generic").fit(X, Y)
    full = MLPRegressor((3,), batch_size=10, max_iter=2, random_state=0, backend="generic").fit(X, Y)
    assert np.array_equal(est.net_.params, full.net_.params)


# ------------------------------------------------------------------ stopping on the training loss


def _sklearn_stop(curve, n_iter_no_change, tol):
    """The epoch (0-based) after which scikit-learn's rule on the training loss
    (``_update_no_improvement_count`` without early stopping) ends a fit with this loss
    curve, or None."""
    best, count = np.inf, 0
    for epoch, loss in enumerate(curve):
        count = count + 1 if loss > best - tol else 0
        best = min(best, loss)
        if count > n_iter_no_change:
            return epoch
    return None


@pytest.mark.parametrize("solver, momentum", [("adam", 0.9), ("sgd", 0.9), ("sgd", 0.0)])
def test_stopping_on_the_training_loss_is_sklearns_rule(solver, momentum):
    """Without early_stopping the fit stops on scikit-learn's rule, at the epoch the rule
    names on loss_curve_, long before max_iter, without a ConvergenceWarning; it is the
    same run, bit for bit, as one Network.fit of n_iter_ epochs (the estimator runs it in
    several calls of at most n_iter_no_change + 1 epochs; plain SGD takes fit's fused
    kernel, which keeps no optimizer state)."""
    X, Y = _data(n=40)
    est = MLPRegressor((5,), solver=solver, momentum=momentum, learning_rate_init=0.01, max_iter=2000,
                       n_iter_no_change=5, tol=1e-3, random_state=0, backend="generic")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X, Y)
    assert 6 < est.n_iter_ < 2000 and len(est.loss_curve_) == est.n_iter_ and est.t_ == 40 * est.n_iter_
    assert _sklearn_stop(est.loss_curve_, 5, 1e-3) == est.n_iter_ - 1
    assert est.best_loss_ == min(est.loss_curve_) and est.loss_ == est.loss_curve_[-1]
    assert est.validation_scores_ is None and est.best_validation_score_ is None
    init_seed, fit_seed = _seeds(0)
    net = fastnn.Network([3, 5, 2], ["relu", "linear"], "half_squared_error", init="xavier", seed=init_seed)
    optimizer = (fastnn.SGD(momentum=momentum, nesterov=momentum > 0) if solver == "sgd"
                 else fastnn.Adam(epsilon=1e-8))
    history = net.fit(X, Y, lr=0.01, epochs=est.n_iter_, batch_size=40, shuffle=True, seed=fit_seed,
                      backend="generic", optimizer=optimizer, l2=0.0001 / (2 * 40))
    assert np.array_equal(est.net_.params, net.params) and est.loss_curve_ == history.tolist()


@pytest.mark.parametrize("n_iter_no_change", [1, 3])
def test_stopping_runs_as_many_epochs_as_sklearns_mlp(n_iter_no_change):
    """With tol=10 no epoch after the first improves enough, so the rule alone decides:
    scikit-learn's own MLP and fastnn's both stop after n_iter_no_change + 2 epochs. With
    warm_start each fit starts the rule afresh (scikit-learn carries its count over)."""
    X, Y = _data(n=40)
    settings = dict(hidden_layer_sizes=(5,), max_iter=50, n_iter_no_change=n_iter_no_change, tol=10.0,
                    random_state=0)
    theirs = SkRegressor(**settings).fit(X, Y)
    ours = MLPRegressor(backend="generic", warm_start=True, **settings).fit(X, Y)
    assert ours.n_iter_ == theirs.n_iter_ == n_iter_no_change + 2 == len(ours.loss_curve_)
    ours.fit(X, Y)
    assert ours.n_iter_ == len(ours.loss_curve_) == 2 * (n_iter_no_change + 2)


def test_convergence_warning_when_max_iter_is_reached():
    X, Y = _data(n=40)
    est = MLPRegressor((5,), max_iter=5, random_state=0, backend="generic")
    with pytest.warns(ConvergenceWarning, match=r"Stochastic Optimizer: Maximum iterations \(5\) reached"):
        est.fit(X, Y)
    assert est.n_iter_ == 5
    with pytest.warns(ConvergenceWarning, match=r"\(1\)"):  # stopping needs n_iter_no_change + 2 epochs
        MLPRegressor((5,), max_iter=1, n_iter_no_change=1, tol=10.0, random_state=0, backend="generic").fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        MLPRegressor((5,), max_iter=3, n_iter_no_change=1, tol=10.0, random_state=0, backend="generic").fit(X, Y)


def test_partial_fit_never_stops():
    """partial_fit runs its epoch whatever the loss did (as scikit-learn's), and warns not."""
    X, Y = _data(n=40)
    est = MLPRegressor((5,), max_iter=2, n_iter_no_change=1, tol=10.0, random_state=0, backend="generic")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        for calls in range(1, 7):
            before = est.net_.params.copy() if calls > 1 else None
            est.partial_fit(X, Y)
            assert est.n_iter_ == len(est.loss_curve_) == calls
            assert before is None or not np.array_equal(est.net_.params, before)
    assert est.best_loss_ == min(est.loss_curve_)


def test_divergence_in_a_later_call_counts_epochs_from_the_fit_start(monkeypatch):
    """The fit runs in calls of Network.fit of at most n_iter_no_change + 1 epochs; a
    DivergenceError in a later call names the epoch counted from the fit's start and the
    history since then (here the third call says its 2nd epoch diverged)."""
    X, Y = _data(n=40)
    fit, calls = fastnn.Network.fit, []

    def third_call_diverges(self, *args, **kwargs):
        calls.append(kwargs["epochs"])
        history = fit(self, *args, **kwargs)
        if len(calls) == 3:
            raise fastnn.DivergenceError(1, history[:1].copy())
        return history

    monkeypatch.setattr(fastnn.Network, "fit", third_call_diverges)
    est = MLPRegressor((5,), max_iter=100, n_iter_no_change=2, tol=0.0, random_state=0, backend="generic")
    with pytest.raises(fastnn.DivergenceError) as caught:
        est.fit(X, Y)
    assert not hasattr(est, "net_")
    assert calls == [3, 3, 3]  # the loss fell every epoch: count 0, so n_iter_no_change + 1 each
    monkeypatch.undo()
    whole = MLPRegressor((5,), max_iter=9, random_state=0, backend="generic").fit(X, Y)
    assert caught.value.epoch == 7 and caught.value.history.tolist() == whole.loss_curve_[:7]


# ------------------------------------------------------------------ early stopping


def _overfitting(n=60, seed=0):
    """Few noisy samples, a wide network and a large step: the validation loss turns up
    after a few epochs."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 5))
    y = X[:, 0] + 0.5 * rng.standard_normal(n)
    labels = np.where(X[:, 0] + rng.standard_normal(n) > 0, "a", "b")
    return X, y, labels


@pytest.mark.parametrize("kind", ["regressor", "classifier"])
def test_early_stopping_is_network_fit_with_the_documented_arguments(kind):
    """Stops before max_iter and keeps the best epoch's parameters: bit for bit what
    Network.fit gives on scikit-learn's train_test_split, patience=n_iter_no_change,
    min_delta=tol, restore_best=True (batch_size and alpha's l2 from the training part)."""
    X, y, labels = _overfitting()
    settings = dict(hidden_layer_sizes=(64,), learning_rate_init=0.05, max_iter=500, alpha=0.01, random_state=2,
                    early_stopping=True, validation_fraction=0.2, n_iter_no_change=5, tol=1e-3, backend="generic")
    if kind == "regressor":
        est, target = MLPRegressor(**settings).fit(X, y), y.reshape(-1, 1)
        out, loss = "linear", "half_squared_error"
    else:
        est, target = MLPClassifier(**settings).fit(X, labels), np.eye(2)[(labels == "b").astype(int)]
        out, loss = "softmax", "categorical_cross_entropy"
    rng = check_random_state(2)
    init_seed, fit_seed, split_seed = (int(v) for v in [*rng.randint(0, np.iinfo(np.int32).max, size=2),
                                                         rng.randint(0, np.iinfo(np.int32).max)])
    # scikit-learn's own split, stratified for the binary classifier as its MLP's
    X_train, X_val, Y_train, Y_val = train_test_split(
        X, target, test_size=0.2, random_state=split_seed,
        stratify=np.argmax(target, axis=1) if kind == "classifier" else None)
    net = fastnn.Network([5, 64, target.shape[1]], ["relu", out], loss, init="xavier", seed=init_seed)
    n_train = 60 - 12
    history = net.fit(X_train, Y_train, lr=0.05, epochs=500, batch_size=n_train, shuffle=True, seed=fit_seed,
                      backend="generic", optimizer=fastnn.Adam(beta1=0.9, beta2=0.999, epsilon=1e-8),
                      l2=0.01 / (2 * n_train), validation_data=(X_val, Y_val), patience=5, min_delta=1e-3,
                      restore_best=True)
    assert history.stopped_epoch is not None and len(history) < 500
    assert np.array_equal(est.net_.params, net.params)
    assert est.n_iter_ == len(history) == history.stopped_epoch + 1 < 500
    assert est.t_ == est.n_iter_ * n_train
    assert est.loss_curve_ == history.tolist() and est.loss_ == history[-1] and est.best_loss_ is None
    scores = -history.val_loss if kind == "regressor" else history.val_accuracy
    assert est.validation_scores_ == scores.tolist() and len(est.validation_scores_) == est.n_iter_
    assert est.best_validation_score_ == scores[history.best_epoch]
    assert history.best_epoch < est.n_iter_ - 1  # the restored parameters are not the last epoch's
    if kind == "regressor":  # the negated validation loss: half the squared error on the held-out part
        assert all(score <= 0 for score in est.validation_scores_)
    else:
        assert all(0 <= score <= 1 for score in est.validation_scores_)


def test_early_stopping_with_warm_start_and_partial_fit():
    X, y, _ = _overfitting()
    est = MLPRegressor((16,), max_iter=5, random_state=0, early_stopping=True, warm_start=True, backend="generic")
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(5\) reached"):  # 5 epochs, patience 10
        est.fit(X, y)
    first = est.n_iter_
    est.fit(X, y)
    assert len(est.validation_scores_) == len(est.loss_curve_) == est.n_iter_ > first
    with pytest.raises(ValueError, match="early_stopping"):
        est.partial_fit(X, y)
    with pytest.raises(ValueError, match="validation_fraction"):  # ceil(0.99 * 20): no training sample
        MLPRegressor(early_stopping=True, validation_fraction=0.99, backend="generic").fit(X[:20], y[:20])


@pytest.mark.parametrize("params, text", [
    (dict(early_stopping="yes"), "early_stopping"),
    (dict(validation_fraction=0.0), "validation_fraction"),
    (dict(validation_fraction=1.0), "validation_fraction"),
    (dict(validation_fraction="0.1"), "validation_fraction"),
    (dict(n_iter_no_change=0), "n_iter_no_change"),
    (dict(n_iter_no_change=2.5), "n_iter_no_change"),
    (dict(tol=-1e-4), "tol"),
    (dict(tol=float("nan")), "tol"),
])
@pytest.mark.parametrize("cls", [MLPRegressor, MLPClassifier])
def test_bad_early_stopping_parameters_fail_at_fit_naming_them(cls, params, text):
    X, Y = _data(n=20)
    y = Y[:, 0] if cls is MLPRegressor else np.where(Y[:, 0] > 0, 1, 0)
    est = cls(backend="generic", **params)
    with pytest.raises(ValueError, match=text):
        est.fit(X, y)
    assert not hasattr(est, "net_")


# ------------------------------------------------------------------ solver="lbfgs"

FD_STEP = 1e-6  # central differences: (f(p + h) - f(p - h)) / 2h
FD_ATOL = 1e-7  # their error: h^2 / 6 times the third derivative, plus rounding ~ 1e-16 / h: far below


def _objective_net(kind, seed=0):
    """A tanh network (smooth, for finite differences) and data: the regressor's 3-5-2 or
    the classifier's 3-5-3 with one-hot targets, at random parameters."""
    X, Y = _data(n=20)
    if kind == "regressor":
        net = fastnn.Network([3, 5, 2], ["tanh", "linear"], "half_squared_error", init="xavier", seed=seed)
    else:
        Y = np.eye(3)[np.argmax(Y @ [[1, 0, -1], [0, 1, 1]], axis=1)]
        net = fastnn.Network([3, 5, 3], ["tanh", "softmax"], "categorical_cross_entropy", init="xavier", seed=seed)
    net.params = np.random.default_rng(seed).normal(0.0, 0.7, net.n_params)
    return net, X, Y


@pytest.mark.parametrize("kind", ["regressor", "classifier"])
def test_lbfgs_objective_and_its_gradient(kind):
    """The objective is the mean loss plus alpha / (2 n) * sum(W**2) over the weights only;
    its gradient agrees with central differences at a random point, and the reference
    backend gives the same objective."""
    net, X, Y = _objective_net(kind)
    alpha, n = 0.7, X.shape[0]
    objective = _LbfgsObjective(net, X, Y, alpha)
    params = net.params.copy()
    value, grad = objective(params)
    weights = sum(float(np.sum(net.weight(layer) ** 2)) for layer in range(net.spec.n_layers))
    assert value == pytest.approx(net.loss(X, Y) + alpha / (2 * n) * weights, rel=1e-12)
    numeric = np.empty_like(params)
    for p in range(params.size):
        step = np.zeros_like(params)
        step[p] = FD_STEP
        numeric[p] = (objective(params + step)[0] - objective(params - step)[0]) / (2 * FD_STEP)
    np.testing.assert_allclose(grad, numeric, rtol=0, atol=FD_ATOL)
    bias = net.spec.bias_offset(0)
    assert grad[bias] == pytest.approx(net.gradient(X, Y)[bias], rel=1e-12)  # no penalty on biases
    reference_value, reference_grad = _LbfgsObjective(net.copy(), X, Y, alpha, backend="reference")(params)
    assert reference_value == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(reference_grad, grad, rtol=1e-10, atol=1e-14)


def test_lbfgs_objective_is_sklearns_loss():
    """At the weights scikit-learn's own lbfgs MLP ends with (one output), the objective
    is its loss_: the same data loss and the same L2 term."""
    X, Y = _data(n=20)
    theirs = SkRegressor(hidden_layer_sizes=(5,), solver="lbfgs", alpha=0.3, max_iter=30, random_state=0)
    theirs.fit(X, Y[:, 0])
    net = fastnn.Network([3, 5, 1], ["relu", "linear"], "half_squared_error")
    for layer in range(2):
        net.weight(layer)[:] = theirs.coefs_[layer]
        net.bias(layer)[:] = theirs.intercepts_[layer]
    value, _ = _LbfgsObjective(net, X, Y[:, :1], 0.3)(net.params.copy())
    assert value == pytest.approx(theirs.loss_, rel=1e-12)


def test_lbfgs_on_iris_as_sklearns_lbfgs():
    X, y = load_iris(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    settings = dict(hidden_layer_sizes=(20,), solver="lbfgs", max_iter=200, random_state=0)
    reference = SkClassifier(**settings).fit(X_train, y_train).score(X_test, y_test)
    est = MLPClassifier(backend="generic", **settings)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # it converges well before 200 iterations
        est.fit(X_train, y_train)
    score = est.score(X_test, y_test)
    assert score > 0.9 and score > reference - 0.05, (score, reference, sklearn.__version__)
    assert 0 < est.n_iter_ < 200 and est.t_ == 0
    assert est.loss_ == pytest.approx(_LbfgsObjective(est.net_, X_train, np.eye(3)[y_train], 1e-4)(est.net_.params)[0])
    for name in ("loss_curve_", "best_loss_", "validation_scores_", "best_validation_score_"):
        assert not hasattr(est, name), name  # as scikit-learn's lbfgs
    assert not hasattr(est, "partial_fit") and not hasattr(MLPRegressor(solver="lbfgs"), "partial_fit")
    with pytest.raises(AttributeError, match="partial_fit"):
        est.partial_fit(X_train, y_train)


def test_lbfgs_alpha_warm_start_and_max_iter():
    X, Y = _data(n=30)
    fits = {alpha: MLPRegressor((5,), solver="lbfgs", alpha=alpha, max_iter=500, random_state=0, warm_start=True,
                                backend="generic").fit(X, Y) for alpha in (0.0, 3.0)}
    norms = {alpha: sum(float(np.sum(w ** 2)) for w in est.coefs_) for alpha, est in fits.items()}
    assert norms[3.0] < 0.5 * norms[0.0]
    for alpha, est in fits.items():  # loss_: the objective at the end, penalty included
        assert est.loss_ == pytest.approx(est.net_.loss(X, Y) + alpha / (2 * 30) * norms[alpha], rel=1e-12)
    cold = fits[3.0].n_iter_
    fits[3.0].fit(X, Y)  # warm start: from the converged weights
    assert fits[3.0].n_iter_ < cold
    with pytest.warns(ConvergenceWarning, match=r"lbfgs failed to converge after 2 iteration\(s\) \(status=1\)"):
        est = MLPRegressor((5,), solver="lbfgs", max_iter=2, random_state=0, backend="generic").fit(X, Y)
    assert est.n_iter_ == 2


def test_lbfgs_divergence_raises_and_leaves_the_estimator_as_it_was():
    X, Y = _data()
    est = MLPRegressor((5,), solver="lbfgs", max_iter=20, random_state=0, warm_start=True, backend="generic")
    with pytest.raises(fastnn.DivergenceError, match="lbfgs diverged") as caught:
        est.fit(1e200 * X, Y)  # ReLU outputs near 1e200: the squared error overflows
    assert caught.value.epoch == 0 and not hasattr(est, "net_")
    est.fit(X, Y)
    before = est.net_.params.copy()
    with pytest.raises(fastnn.DivergenceError):
        est.fit(1e200 * X, Y)
    assert np.array_equal(est.net_.params, before)


# ------------------------------------------------------------------ inside scikit-learn's tools


def test_pipeline_grid_search_and_cross_val_score():
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), MLPClassifier(max_iter=60, learning_rate_init=0.02, random_state=0,
                                                         backend="generic"))
    search = GridSearchCV(pipe, {"mlpclassifier__hidden_layer_sizes": [(4,), (8,)],
                                 "mlpclassifier__alpha": [1e-4, 1e-1]}, cv=3)
    search.fit(X, y)
    assert search.best_score_ > 0.85 and len(search.cv_results_["params"]) == 4
    assert search.predict(X).shape == (150,)
    Xd, yd = load_diabetes(return_X_y=True)
    model = TransformedTargetRegressor(make_pipeline(StandardScaler(), MLPRegressor(
        (10,), max_iter=100, learning_rate_init=0.01, random_state=0, backend="generic")), transformer=StandardScaler())
    scores = cross_val_score(model, Xd, yd, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.3


def test_grid_search_over_the_solvers():
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), MLPClassifier((8,), max_iter=100, learning_rate_init=0.02,
                                                         random_state=0, backend="generic"))
    search = GridSearchCV(pipe, {"mlpclassifier__solver": ["adam", "sgd", "lbfgs"]}, cv=3).fit(X, y)
    assert [p["mlpclassifier__solver"] for p in search.cv_results_["params"]] == ["adam", "sgd", "lbfgs"]
    assert all(score > 0.7 for score in search.cv_results_["mean_test_score"]) and search.best_score_ > 0.9


@pytest.mark.parametrize("kind", ["iris-accuracy", "diabetes-r2"])
def test_scores_in_the_range_of_sklearns_mlp(kind):
    """A loose sanity check; the measured comparison is docs/sklearn.md."""
    settings = dict(hidden_layer_sizes=(20,), learning_rate_init=0.01, max_iter=200, random_state=0)
    if kind.startswith("iris"):
        X, y = load_iris(return_X_y=True)
        ours, theirs = MLPClassifier(backend="generic", **settings), SkClassifier(**settings)
        floor, slack = 0.85, 0.1
    else:
        X, y = load_diabetes(return_X_y=True)
        y = (y - y.mean()) / y.std()
        ours, theirs = MLPRegressor(backend="generic", **settings), SkRegressor(**settings)
        floor, slack = 0.2, 0.15
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = theirs.fit(X_train, y_train).score(X_test, y_test)
    score = ours.fit(X_train, y_train).score(X_test, y_test)
    assert score > floor and score > reference - slack, (score, reference, sklearn.__version__)
