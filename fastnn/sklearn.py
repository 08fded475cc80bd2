"""scikit-learn estimators that train with fastnn: ``MLPRegressor`` and ``MLPClassifier``.

They take scikit-learn's own parameter names and defaults where the two overlap, so that
``from fastnn.sklearn import MLPClassifier`` can replace ``sklearn.neural_network``'s in a
``Pipeline``, ``GridSearchCV`` or ``cross_val_score``; fitted, ``net_`` is the trained
``fastnn.Network``. Needs scikit-learn (``pip install 'fastnn[sklearn]'``).

How each setting maps onto fastnn (``Network`` and ``Network.fit``):

* ``hidden_layer_sizes`` and ``activation`` (``"relu"``, ``"logistic"`` = sigmoid,
  ``"tanh"``, ``"identity"`` = linear) give the hidden layers; the output layer is a
  softmax with categorical cross-entropy for the classifier (one output per class, two
  for a binary problem, where scikit-learn uses one logistic unit: the same model and
  loss), and linear with ``half_squared_error`` for the regressor. scikit-learn's
  regressor follows the gradient of half the squared error summed over outputs (its
  ``delta = yhat - y``), which is what ``half_squared_error`` is, so the updates are the
  same; its reported loss divides by the number of outputs as well, so for k > 1
  outputs its ``loss_`` is fastnn's divided by k (equal for one output).
* ``init``: Glorot uniform weights (``"xavier"``) and zero biases; scikit-learn also
  draws its biases from the Glorot range (and narrows it for ``"logistic"``), so the two
  start from different points.
* ``solver="adam"``: ``fastnn.Adam(beta1=beta_1, beta2=beta_2, epsilon=epsilon)``;
  scikit-learn folds Adam's bias correction into the step size, which is the same update
  except for where epsilon enters (``fastnn.optim`` has both formulas).
  ``solver="sgd"``: ``fastnn.SGD(momentum=momentum, nesterov=nesterovs_momentum)``
  (``nesterov`` only with a momentum > 0); the update is scikit-learn's, formula for
  formula, at its ``learning_rate="constant"`` (the only schedule offered here).
  ``"lbfgs"`` is not offered.
* ``alpha`` (L2): scikit-learn adds ``alpha * W / b`` to the mean gradient of a batch of
  b samples (its loss gains ``alpha / 2 * ||W||^2 / b``), on weights only; fastnn adds
  ``2 * l2 * W``, so ``l2 = alpha / (2 * batch_size)``, with ``l2_bias = 0``. That is
  scikit-learn's penalty on every full batch; on a shorter last batch of b' samples
  scikit-learn's is larger by batch_size / b'. ``loss_curve_`` is fastnn's history: the
  data loss, without the penalty that scikit-learn's curve includes.
* ``batch_size="auto"`` is ``min(200, n_samples)``; an int outside 1..n_samples is
  clipped with a warning, as scikit-learn does. ``learning_rate_init`` is fit's ``lr``;
  ``max_iter`` is the number of epochs; ``shuffle`` shuffles every epoch, seeded from
  ``random_state`` (None: a new seed each fit, an int: the same run every time).
* ``early_stopping=False`` (default): all ``max_iter`` epochs run. scikit-learn's
  stopping on the *training* loss (``tol`` / ``n_iter_no_change`` without early
  stopping) is not implemented: ``tol`` and ``n_iter_no_change`` are then checked but
  unused, and no ``ConvergenceWarning`` is given.
* ``early_stopping=True``: fit's ``validation_split=validation_fraction``,
  ``patience=n_iter_no_change``, ``min_delta=tol``, ``restore_best=True``. round(fraction
  * n) samples are held out (scikit-learn: ceil), drawn from ``random_state``, stratified
  by class for the classifier; ``batch_size`` ("auto": min(200, n_train)), ``alpha``'s
  ``l2`` and ``t_`` count the training part. After every epoch fastnn computes the loss
  on the held-out part and stops after ``n_iter_no_change`` epochs in a row without
  ``val_loss < best - tol``; the network then holds the parameters of the best epoch
  (scikit-learn also keeps its best parameters). Differences from scikit-learn: it
  watches the validation *score* (accuracy, R^2), where fastnn watches the validation
  *loss* (cross-entropy, half the squared error), so ``tol`` is a loss difference; and it
  stops after ``n_iter_no_change + 1`` epochs without improvement, fastnn after
  ``n_iter_no_change``. Fitted: ``validation_scores_``, one per epoch run (higher is
  better): the classifier's is the held-out accuracy (scikit-learn's score); the
  regressor's is the *negated validation loss* ``-val_loss`` (mean over the held-out
  samples of fastnn's ``half_squared_error``), not R^2, which the kernel does not
  compute. ``best_validation_score_``: ``validation_scores_`` at the epoch whose
  parameters were restored (the best by validation loss, so for the classifier not
  necessarily the highest accuracy). ``loss_curve_``: the training loss of each epoch
  run; ``loss_`` its last; ``n_iter_``: the epochs run; ``best_loss_`` is None, as in
  scikit-learn. ``partial_fit`` raises ValueError, as scikit-learn's does. With
  ``warm_start`` the curves continue the previous fit's, and
  ``best_validation_score_`` is this fit's.
* ``warm_start=True``: ``fit`` starts from the previous fit's weights with a fresh
  optimizer state, as scikit-learn does; ``partial_fit`` runs one epoch and continues
  the optimizer state (moments, step counter) from the previous call.
* ``backend``: fit's backend. ``"numba"`` compiles kernels for each new network shape
  (seconds, then cached on disk); ``"generic"`` uses one kernel compiled once for every
  shape, the better choice when a search tries many shapes; ``"reference"`` is the
  pure-Python oracle (slow).

A fit whose loss becomes NaN/inf raises ``fastnn.DivergenceError`` (try a smaller
``learning_rate_init``); the estimator then keeps what it had before that fit.
"""
from __future__ import annotations

import numbers
import warnings

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted
except ImportError as exc:  # pragma: no cover - exercised by the optional-dependency test
    raise ImportError("fastnn.sklearn needs scikit-learn: pip install 'fastnn[sklearn]'") from exc

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # pragma: no cover - older scikit-learn

    def _validate_data(estimator, *args, **kwargs):
        return estimator._validate_data(*args, **kwargs)


from . import optim
from .network import BACKENDS, Network

__all__ = ["MLPClassifier", "MLPRegressor"]

# scikit-learn's activation names -> fastnn's
ACTIVATIONS = {"relu": "relu", "logistic": "sigmoid", "tanh": "tanh", "identity": "linear"}
SOLVERS = ("adam", "sgd")
AUTO_BATCH = 200  # batch_size="auto": min(200, n_samples), as scikit-learn


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


class _BaseMLP(BaseEstimator):
    """Shared by MLPRegressor and MLPClassifier: parameters, validation, training."""

    _output = None  # (activation, loss) of the output layer

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate_init=0.001,
        max_iter=200,
        shuffle=True,
        random_state=None,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        backend="numba",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.backend = backend

    # ------------------------------------------------------------ fitted attributes

    @property
    def coefs_(self):
        """Weight matrices, one per layer, shape (n_in, n_out): views into ``net_.params``."""
        net = self._fitted_net("coefs_")
        return [net.weight(layer) for layer in range(net.spec.n_layers)]

    @property
    def intercepts_(self):
        """Bias vectors, one per layer: views into ``net_.params``."""
        net = self._fitted_net("intercepts_")
        return [net.bias(layer) for layer in range(net.spec.n_layers)]

    def _fitted_net(self, name):
        net = self.__dict__.get("net_")
        if net is None:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r} before it is fitted")
        return net

    # ------------------------------------------------------------ settings

    def _hidden(self):
        sizes = self.hidden_layer_sizes
        if _is_int(sizes):
            sizes = (sizes,)
        try:
            sizes = tuple(sizes)
        except TypeError:
            raise TypeError(f"hidden_layer_sizes must be an int or a sequence of ints, got {sizes!r}") from None
        if not all(_is_int(width) and width >= 1 for width in sizes):
            raise ValueError(f"hidden_layer_sizes must hold positive integers, got {self.hidden_layer_sizes!r}")
        return tuple(int(width) for width in sizes)

    def _check_settings(self):
        """Validate the parameters (ValueError/TypeError naming them), as scikit-learn
        does at fit time, never in __init__ or set_params."""
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(map(repr, ACTIVATIONS))}, got {self.activation!r}")
        if self.solver not in SOLVERS:
            extra = "; fastnn trains with first-order steps only" if self.solver == "lbfgs" else ""
            raise ValueError(f"solver must be 'adam' or 'sgd', got {self.solver!r}{extra}")
        if not _is_real(self.alpha) or not np.isfinite(self.alpha) or self.alpha < 0:
            raise ValueError(f"alpha must be a finite number >= 0, got {self.alpha!r}")
        if not (self.batch_size == "auto" if isinstance(self.batch_size, str) else _is_int(self.batch_size)):
            raise ValueError(f"batch_size must be 'auto' or an int, got {self.batch_size!r}")
        if not _is_real(self.learning_rate_init) or not (0 < self.learning_rate_init < np.inf):
            raise ValueError(f"learning_rate_init must be a positive number, got {self.learning_rate_init!r}")
        if not _is_int(self.max_iter) or self.max_iter < 1:
            raise ValueError(f"max_iter must be an int >= 1, got {self.max_iter!r}")
        for name in ("shuffle", "warm_start", "nesterovs_momentum", "early_stopping"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if not _is_real(self.validation_fraction) or not (0 < self.validation_fraction < 1):
            raise ValueError(f"validation_fraction must be a number strictly between 0 and 1, "
                             f"got {self.validation_fraction!r}")
        if not _is_int(self.n_iter_no_change) or self.n_iter_no_change < 1:
            raise ValueError(f"n_iter_no_change must be an int >= 1, got {self.n_iter_no_change!r}")
        if not _is_real(self.tol) or not np.isfinite(self.tol) or self.tol < 0:
            raise ValueError(f"tol must be a finite number >= 0, got {self.tol!r}")
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))}, got {self.backend!r}")
        self._optimizer()  # momentum, beta_1, beta_2, epsilon: fastnn.optim's checks
        return self._hidden()

    def _optimizer(self):
        """The fastnn optimizer for solver and its settings."""
        try:
            if self.solver == "sgd":
                momentum = float(self.momentum)
                return optim.SGD(momentum=momentum, nesterov=bool(self.nesterovs_momentum) and momentum > 0)
            return optim.Adam(beta1=self.beta_1, beta2=self.beta_2, epsilon=self.epsilon)
        except (TypeError, ValueError) as exc:
            names = {"momentum": "momentum", "beta1": "beta_1", "beta2": "beta_2", "epsilon": "epsilon"}
            text = str(exc)
            for theirs, ours in names.items():
                text = text.replace(f": {theirs} ", f": {ours} ")
            raise ValueError(text) from None

    def _batch(self, n_samples):
        if self.batch_size == "auto":
            return min(AUTO_BATCH, n_samples)
        if not 1 <= self.batch_size <= n_samples:
            warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is going to be clipped",
                          stacklevel=3)
        return int(np.clip(self.batch_size, 1, n_samples))

    # ------------------------------------------------------------ training

    def _train(self, X, Y, first, epochs, incremental):
        """Train on validated X (n, d) and Y (n, outputs): a new network when ``first``,
        else the current one (its optimizer state continued when ``incremental``)."""
        hidden = self._check_settings()
        stopping = bool(self.early_stopping) and not incremental
        n_samples = X.shape[0]
        if stopping:
            n_val = int(round(float(self.validation_fraction) * n_samples))
            if not 1 <= n_val <= n_samples - 1:
                raise ValueError(f"validation_fraction={self.validation_fraction!r} of {n_samples} samples leaves "
                                 f"{'no validation' if n_val < 1 else 'no training'} sample for early_stopping")
            n_samples -= n_val  # the training part: batch_size and t_ count it, as scikit-learn's
        batch = self._batch(n_samples)
        rng = check_random_state(self.random_state)
        init_seed, fit_seed = (int(v) for v in rng.randint(0, np.iinfo(np.int32).max, size=2))
        if first:
            out_activation, loss = self._output
            sizes = [X.shape[1], *hidden, Y.shape[1]]
            net = Network(sizes, [ACTIVATIONS[self.activation]] * len(hidden) + [out_activation], loss,
                          init="xavier", seed=init_seed)
        else:
            net = self.net_.copy()  # a fit that raises leaves the estimator as it was
            net._run = self.net_._run.copy() if (incremental and self.net_._run is not None) else None
        history = net.fit(
            X, Y, lr=float(self.learning_rate_init), epochs=epochs, batch_size=batch, shuffle=bool(self.shuffle),
            seed=fit_seed, backend=self.backend, optimizer=self._optimizer(), l2=float(self.alpha) / (2 * batch),
            warm_start=incremental and not first,
            **(dict(validation_split=float(self.validation_fraction), patience=int(self.n_iter_no_change),
                    min_delta=float(self.tol), restore_best=True) if stopping else {}),
        )
        ran = len(history)  # epochs run: fewer than ``epochs`` when early stopping ended the fit
        previous_scores = None if first else getattr(self, "validation_scores_", None)
        self.net_ = net
        curve = [] if first else list(self.loss_curve_)
        self.loss_curve_ = curve + [float(v) for v in history]
        self.loss_ = self.loss_curve_[-1]
        if stopping:
            scores = [float(v) for v in self._validation_scores(history)]
            self.validation_scores_ = (previous_scores or []) + scores
            self.best_validation_score_ = scores[history.best_epoch]
            self.best_loss_ = None  # as scikit-learn with early_stopping: see best_validation_score_
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = min(self.loss_curve_)
        self.n_iter_ = (0 if first else self.n_iter_) + ran
        self.t_ = (0 if first else self.t_) + ran * n_samples
        self.n_outputs_ = Y.shape[1]
        self.n_layers_ = len(net.sizes)
        return self

    def _validation_scores(self, history):
        """The per-epoch validation scores of an early-stopping fit (higher is better)."""
        raise NotImplementedError

    def _check_incremental(self):
        if self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")

    def _first(self, incremental):
        """Whether this call starts a new network."""
        if not hasattr(self, "net_"):
            return True
        return not (incremental or self.warm_start)

    def _predict_raw(self, X):
        check_is_fitted(self)
        X = _validate_data(self, X, reset=False, dtype=np.float64)
        return self.net_.predict(X, backend=self.backend)



class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor trained by fastnn (scikit-learn's parameters).

    Hidden layers as ``hidden_layer_sizes`` and ``activation`` say, a linear output per
    target, trained on half the squared error (scikit-learn's gradient). See the module
    docstring for how every parameter maps onto fastnn; fitted attributes: ``net_``
    (the ``fastnn.Network``), ``coefs_``, ``intercepts_``, ``loss_curve_``, ``loss_``,
    ``best_loss_``, ``n_iter_``, ``t_``, ``n_features_in_`` (and ``feature_names_in_``
    for a DataFrame), ``n_outputs_``, ``n_layers_``, ``out_activation_``,
    ``validation_scores_`` and ``best_validation_score_`` (None without
    ``early_stopping``; with it, the *negated validation loss* per epoch, not
    scikit-learn's R^2: see the module docstring).
    """

    _output = ("linear", "half_squared_error")

    def _validation_scores(self, history):
        # fastnn's kernel watches the validation loss, not R^2: the score is its negation
        return -history.val_loss

    def fit(self, X, y):
        """Train for ``max_iter`` epochs (fewer with ``early_stopping``); returns self."""
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X, y):
        """Train for one epoch, continuing from the previous call; returns self."""
        return self._fit(X, y, incremental=True)

    def _fit(self, X, y, incremental):
        first = self._first(incremental)
        self._check_settings()
        if incremental:
            self._check_incremental()
        X, y = _validate_data(self, X, y, reset=first, dtype=np.float64, multi_output=True, y_numeric=True)
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if not first and Y.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {Y.shape[1]} target(s), but the fitted network has {self.n_outputs_}")
        self._train(X, Y, first, 1 if incremental else self.max_iter, incremental)
        self.out_activation_ = "identity"
        return self

    def predict(self, X):
        """Predictions: (n_samples,) for one target, else (n_samples, n_outputs)."""
        out = self._predict_raw(X)
        return out.ravel() if out.shape[1] == 1 else out

    def _more_tags(self):  # scikit-learn < 1.6
        return {"multioutput": True}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier trained by fastnn (scikit-learn's parameters).

    Hidden layers as ``hidden_layer_sizes`` and ``activation`` say, a softmax output
    with one unit per class (two for a binary problem) and categorical cross-entropy.
    Labels may be of any sortable type (``classes_`` holds them, sorted). See the module
    docstring for how every parameter maps onto fastnn; fitted attributes: ``net_``,
    ``classes_``, ``coefs_``, ``intercepts_``, ``loss_curve_``, ``loss_``, ``best_loss_``,
    ``n_iter_``, ``t_``, ``n_features_in_`` (and ``feature_names_in_``), ``n_outputs_``,
    ``n_layers_``, ``out_activation_``, ``validation_scores_`` and
    ``best_validation_score_`` (None without ``early_stopping``; with it, the held-out
    accuracy per epoch and at the restored epoch).
    """

    _output = ("softmax", "categorical_cross_entropy")

    def _validation_scores(self, history):
        return history.val_accuracy

    def fit(self, X, y):
        """Train for ``max_iter`` epochs (fewer with ``early_stopping``); returns self."""
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X, y, classes=None):
        """Train for one epoch, continuing from the previous call; returns self.
        ``classes`` (every label there can be) is needed on the first call."""
        return self._fit(X, y, incremental=True, classes=classes)

    def _fit(self, X, y, incremental, classes=None):
        first = self._first(incremental)
        self._check_settings()
        if incremental:
            self._check_incremental()
        X, y = _validate_data(self, X, y, reset=first, dtype=np.float64)
        check_classification_targets(y)
        if incremental:
            if first and classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            if classes is not None:
                given = np.unique(np.asarray(classes))
                if not first and not np.array_equal(given, self.classes_):
                    raise ValueError(f"`classes={given!r}` is not the same as on the first call to partial_fit, "
                                     f"was: {self.classes_!r}")
                known = given
            else:
                known = self.classes_
        elif first:
            known = np.unique(y)
        else:  # warm_start
            known = self.classes_
            if not np.array_equal(np.unique(y), known):
                raise ValueError("warm_start can only be used where `y` has the same classes as in the previous "
                                 f"call to fit. Previously got {self.classes_}, `y` has {np.unique(y)}")
        labels = np.searchsorted(known, y)
        labels[labels == len(known)] = 0
        unknown = known[labels] != y
        if unknown.any():
            raise ValueError(f"Expected only labels in classes_ = {known}, but got {np.unique(y[unknown])}")
        Y = np.zeros((len(y), len(known)), dtype=np.float64)
        Y[np.arange(len(y)), labels] = 1.0
        with warnings.catch_warnings():
            if len(known) == 1:  # one class: nothing to learn, and fastnn would say no parameter moved
                warnings.simplefilter("ignore")
            self._train(X, Y, first, 1 if incremental else self.max_iter, incremental)
        self.classes_ = known
        self.out_activation_ = "softmax"
        return self

    def predict_proba(self, X):
        """Class probabilities (n_samples, n_classes), columns in the order of classes_."""
        return self._predict_raw(X)

    def predict_log_proba(self, X):
        """Natural logarithm of predict_proba."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """The most probable class of every sample, as a label from classes_."""
        proba = self.predict_proba(X)  # first: it raises NotFittedError before fit
        return self.classes_[np.argmax(proba, axis=1)]
