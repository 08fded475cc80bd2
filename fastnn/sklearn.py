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
  loss, though ``alpha`` then falls on two output columns where scikit-learn's falls on
  one), and linear with ``half_squared_error`` for the regressor. scikit-learn's
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
* ``solver="lbfgs"``: ``scipy.optimize.minimize(method="L-BFGS-B", jac=True)`` with
  ``maxiter=max_iter``, ``maxfun=max_fun``, ``gtol=tol``, as scikit-learn runs it (its
  ``iprint=-1`` is scipy's default, and scipy >= 1.15 deprecates passing it), from the
  Glorot start (or, with ``warm_start``, the previous fit's parameters). The objective
  is scikit-learn's: the mean loss over all samples plus ``alpha / (2 * n_samples) *
  sum(W**2)`` over the weights (not the biases), gradient ``mean gradient + alpha /
  n_samples * W``; the loss and its gradient come from one call of fastnn's full-batch
  kernel (``generic.mean_gradient``, compiled once for every shape, so ``"numba"`` and
  ``"generic"`` are the same here; ``"reference"``: the pure-Python oracle). scipy's
  own vector algebra runs with one BLAS thread (threadpoolctl): threads cost it more
  than they give on small problems. Fitted: ``n_iter_`` (scipy's ``nit``, this fit's),
  ``loss_`` (the objective at the end, penalty included, as scikit-learn's), ``t_`` 0;
  there is no ``loss_curve_``, ``best_loss_``, ``validation_scores_`` or
  ``best_validation_score_`` (scikit-learn's lbfgs sets none; a refit removes those of
  an earlier fit with another solver). A ``ConvergenceWarning`` with scikit-learn's
  text whenever scipy stops unconverged (status != 0: ``max_iter``, ``max_fun``, a
  failed line search). Not used, as in scikit-learn: ``batch_size``,
  ``learning_rate_init``, ``shuffle``, ``momentum``, ``beta_*``, ``epsilon``,
  ``n_iter_no_change``, ``early_stopping``, ``validation_fraction``. No
  ``partial_fit``: the method is absent (AttributeError), as on scikit-learn's
  classifier (scikit-learn 1.9's regressor still lists it, its ``available_if`` check
  being uncalled, and runs a whole lbfgs fit). Where the objectives differ: fastnn's
  cross-entropy clips probabilities at 1e-7 (scikit-learn: machine epsilon), so past
  the clip a sample's loss is flat while its gradient ``p - y`` is not (the objective
  bottoms out near 1e-7 per sample); and for k > 1 regression outputs scikit-learn's
  objective divides the data loss by k but not its gradient (the two reach the same
  stationary points; its ``loss_`` is smaller).
* ``alpha`` (L2): scikit-learn adds ``alpha * W / b`` to the mean gradient of a batch of
  b samples (its loss gains ``alpha / 2 * ||W||^2 / b``), on weights only; fastnn adds
  ``2 * l2 * W``, so ``l2 = alpha / (2 * batch_size)``, with ``l2_bias = 0``. That is
  scikit-learn's penalty on every full batch; on a shorter last batch of b' samples
  scikit-learn's is larger by batch_size / b'. ``loss_curve_`` is fastnn's history: the
  data loss, without the penalty that scikit-learn's curve includes.
* ``batch_size="auto"`` is ``min(200, n_samples)``; an int outside 1..n_samples is
  clipped with a warning, as scikit-learn does. ``learning_rate_init`` is fit's ``lr``;
  ``max_iter`` is the most epochs (lbfgs: iterations); ``shuffle`` shuffles every
  epoch, seeded from ``random_state`` (None: a new seed each fit, an int: the same run
  every time).
* ``early_stopping=False`` (default): the fit stops on the *training* loss by
  scikit-learn's rule, exactly (its ``_update_no_improvement_count``): after each epoch
  ``count += 1`` if ``loss > best - tol``, else ``count = 0``; ``best`` is the lowest
  epoch loss so far (it follows every decrease, however small); the fit ends once
  ``count > n_iter_no_change``, that is after ``n_iter_no_change + 1`` epochs in a row
  none of which fell more than ``tol`` below the best before it. The epochs run in
  calls of ``Network.fit`` of at most ``n_iter_no_change + 1 - count`` epochs, each
  continuing the last (``warm_start``), so the rule can only fire at a call's last
  epoch and the run is, bit for bit, one fit of as many epochs; it costs one call
  (about 0.1 ms here) per ``n_iter_no_change + 1`` epochs or fewer. (``Network.fit``'s
  ``patience`` would stop inside one call, but it runs only in the generic
  ``train_monitored`` kernel, 4.5-9x slower than the specialised ones, and with Keras'
  rule, whose ``best`` moves only on improvements of more than ``min_delta``: it stops
  no sooner than scikit-learn's, and later when the loss creeps down by less than
  ``tol`` an epoch.) Differences from scikit-learn: the loss watched is fastnn's epoch
  loss, without the L2 penalty that scikit-learn's includes, and for k > 1 regression
  outputs k times scikit-learn's (so the same ``tol`` is relatively smaller here); with
  ``warm_start`` each fit starts the rule afresh, where scikit-learn carries its count
  and ``best_loss_`` over (after a fit that stopped, its next warm fit runs one epoch).
  Fitted: ``loss_curve_``, ``loss_`` (its last), ``best_loss_ = min(loss_curve_)``,
  ``n_iter_`` the epochs run. When all ``max_iter`` epochs run without the rule ending
  the fit, a ``ConvergenceWarning`` ("Stochastic Optimizer: Maximum iterations (...)
  reached and the optimization hasn't converged yet."), as scikit-learn gives; also
  with ``early_stopping`` when its patience never runs out. ``partial_fit`` runs its
  one epoch whatever the loss did, and never warns (scikit-learn's counts there too,
  which only its later warm fits notice).
* ``early_stopping=True``: the held-out part is scikit-learn's own split
  (``train_test_split(test_size=validation_fraction)``: ceil(fraction * n) samples,
  seeded from ``random_state``, stratified for a binary classifier only, as scikit-learn's
  MLP), then fit's ``validation_data``, ``patience=n_iter_no_change``, ``min_delta=tol``,
  ``restore_best=True``; ``batch_size`` ("auto": min(200, n_train)), ``alpha``'s
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
  scikit-learn; a ``ConvergenceWarning`` when all ``max_iter`` epochs ran (no patience
  ran out). ``partial_fit`` raises ValueError, as scikit-learn's does. With
  ``warm_start`` the curves continue the previous fit's, and
  ``best_validation_score_`` is this fit's.
* ``warm_start=True``: ``fit`` starts from the previous fit's weights with a fresh
  optimizer state, as scikit-learn does; ``partial_fit`` runs one epoch and continues
  the optimizer state (moments, step counter) from the previous call. ``n_iter_`` and
  ``t_`` count every epoch since the network was made (scikit-learn 1.9 restarts
  ``n_iter_`` at each ``fit`` and ``partial_fit`` call); ``loss_curve_`` continues.
* ``backend``: fit's backend. ``"numba"`` compiles kernels for each new network shape
  (seconds, then cached on disk); ``"generic"`` uses one kernel compiled once for every
  shape, the better choice when a search tries many shapes; ``"reference"`` is the
  pure-Python oracle (slow).

A fit whose loss becomes NaN/inf raises ``fastnn.DivergenceError`` (adam, sgd: its
``epoch`` counted from the fit's start, try a smaller ``learning_rate_init``; lbfgs: its
``epoch`` is the iterations completed, scale the data); the estimator then keeps what
it had before that fit.
"""
from __future__ import annotations

import functools
import numbers
import warnings

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.utils import check_random_state
    from sklearn.utils.metaestimators import available_if
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
from . import validation as check
from .errors import DivergenceError, TrainingWarning
from .kernels import generic_kernel
from .network import BACKENDS, Network

__all__ = ["MLPClassifier", "MLPRegressor"]

# scikit-learn's activation names -> fastnn's
ACTIVATIONS = {"relu": "relu", "logistic": "sigmoid", "tanh": "tanh", "identity": "linear"}
SOLVERS = ("adam", "sgd", "lbfgs")
STOCHASTIC_SOLVERS = ("adam", "sgd")  # those that train in epochs (and offer partial_fit)
AUTO_BATCH = 200  # batch_size="auto": min(200, n_samples), as scikit-learn


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _fit_on_training_loss(net, X, Y, epochs, n_iter_no_change, tol, fit):
    """``net.fit(X, Y, **fit)`` for at most ``epochs`` epochs, stopped by scikit-learn's rule
    on the training loss (its ``_update_no_improvement_count`` without early stopping):
    after each epoch, ``count += 1`` if ``loss > best - tol`` else ``count = 0``; ``best =
    min(best, loss)``; stop once ``count > n_iter_no_change``. ``(losses, stopped)``.

    The epochs run in a few calls of ``Network.fit``, each continuing the previous one
    (``warm_start``: bit for bit one fit of as many epochs) and each as long as the rule
    allows: ``count`` grows by at most one an epoch, so a call of ``n_iter_no_change + 1 -
    count`` epochs can stop only at its last. (fit's own ``patience`` would do it in one
    call, but only in the generic ``train_monitored`` kernel, 4.5-9x slower than the
    specialised kernels, and with Keras' rule, whose ``best`` moves only on improvements.)
    """
    losses = []
    best, count = np.inf, 0
    while len(losses) < epochs:
        chunk = min(epochs - len(losses), n_iter_no_change + 1 - count)
        with warnings.catch_warnings():
            if losses:  # the first call gave fit's TrainingWarnings, if any: not once a call
                warnings.simplefilter("ignore", TrainingWarning)
            try:
                history = net.fit(X, Y, epochs=chunk, warm_start=bool(losses), **fit)
            except DivergenceError as exc:  # epochs and history counted from the start of this fit
                raise DivergenceError(len(losses) + exc.epoch, np.concatenate([losses, exc.history])) from None
        for loss in history.tolist():
            losses.append(loss)
            count = count + 1 if loss > best - tol else 0
            best = min(best, loss)
            if count > n_iter_no_change:  # (only at the chunk's last epoch)
                return losses, True
    return losses, False


@functools.lru_cache(maxsize=1)
def _blas_controller():
    from threadpoolctl import ThreadpoolController  # a dependency of scikit-learn

    return ThreadpoolController()  # (finding the BLAS libraries takes ~25 ms: once)


def _one_blas_thread():
    """A context in which BLAS runs one thread: L-BFGS-B's own linear algebra (vectors of
    n_params, 10 pairs of them) loses more to starting threads than it gains, 3-10x the
    time of a small fit on a 2-core machine (measured with scikit-learn's lbfgs MLP too)."""
    return _blas_controller().limit(limits=1, user_api="blas")


class _LbfgsObjective:
    """scikit-learn's lbfgs objective of a network's flat parameter vector ``p``: the mean
    loss over all samples plus ``alpha / (2 * n_samples) * sum(W**2)`` over the weights
    (not the biases); called, it returns ``(value, gradient)`` as
    ``scipy.optimize.minimize(jac=True)`` takes them. The loss and its gradient come from
    one call of fastnn's full-batch kernel (``generic.mean_gradient``; the pure-Python
    reference for ``backend="reference"``). A NaN/inf value or gradient raises
    ``DivergenceError`` (epoch: the iterations completed; history: the objective after
    each)."""

    def __init__(self, net, X, Y, alpha, backend="numba"):
        X = check.inputs(X, net.spec)  # fresh float64 C arrays, as Network.fit trains on
        self.net, self.X, self.Y, self.backend = net, X, check.targets(Y, net.spec, X.shape[0]), backend
        self.penalty = np.zeros(net.n_params)  # alpha / n on every weight, 0 on the biases
        for layer in range(net.spec.n_layers):
            start = net.spec.weight_offset(layer)
            self.penalty[start : start + net.sizes[layer] * net.sizes[layer + 1]] = alpha / X.shape[0]
        self.kernel = None if backend == "reference" else generic_kernel("mean_gradient")
        self.grad = np.empty(net.n_params)
        self.last = np.nan  # the objective at the last point evaluated
        self.values = []  # the objective after each completed iteration

    def data_loss(self, params):
        """(mean loss, its gradient) at params: fastnn's own full-batch loss and gradient."""
        if self.kernel is not None:
            loss = float(self.kernel(params, self.net._layout, self.X, self.Y, self.grad))
            return loss, self.grad.copy()
        self.net.params = params
        try:
            return self.net.loss(self.X, self.Y, backend="reference"), self.net.gradient(self.X, self.Y,
                                                                                          backend="reference")
        except (ValueError, OverflowError):  # NaN/inf (fastnn's check), or Python's float overflow
            return np.nan, self.grad

    def __call__(self, params):
        params = np.ascontiguousarray(params, dtype=np.float64)
        loss, grad = self.data_loss(params)
        weighted = self.penalty * params
        value = loss + 0.5 * float(np.dot(weighted, params))
        grad += weighted
        if not (np.isfinite(value) and np.isfinite(grad).all()):
            error = DivergenceError(len(self.values), np.array(self.values))
            error.args = (f"lbfgs diverged after {len(self.values)} iteration(s): the objective or its gradient "
                          "became NaN/inf; the estimator keeps what it had before this fit. Scale the inputs (and "
                          "the regressor's targets) down, for instance with StandardScaler",)
            raise error
        self.last = value
        return value, grad

    def iteration_done(self, *args):
        """scipy's callback after each iteration: its point was the last one evaluated."""
        self.values.append(self.last)


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
        max_fun=15000,
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
        self.max_fun = max_fun
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
            raise ValueError(f"solver must be one of {', '.join(map(repr, SOLVERS))}, got {self.solver!r}")
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
        if not _is_int(self.max_fun) or self.max_fun < 1:
            raise ValueError(f"max_fun must be an int >= 1, got {self.max_fun!r}")
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
        lbfgs = self.solver == "lbfgs"
        stopping = bool(self.early_stopping) and not incremental and not lbfgs
        n_samples = X.shape[0]
        rng = check_random_state(self.random_state)
        init_seed, fit_seed = (int(v) for v in rng.randint(0, np.iinfo(np.int32).max, size=2))
        if stopping:
            X, Y, held_out = self._held_out(X, Y, rng)
            n_samples = X.shape[0]  # the training part: batch_size and t_ count it, as scikit-learn's
        batch = None if lbfgs else self._batch(n_samples)
        if first:
            out_activation, loss = self._output
            sizes = [X.shape[1], *hidden, Y.shape[1]]
            net = Network(sizes, [ACTIVATIONS[self.activation]] * len(hidden) + [out_activation], loss,
                          init="xavier", seed=init_seed)
        else:
            net = self.net_.copy()  # a fit that raises leaves the estimator as it was
            net._run = self.net_._run.copy() if (incremental and self.net_._run is not None) else None
        if lbfgs:
            return self._train_lbfgs(net, X, Y, first)
        fit = dict(lr=float(self.learning_rate_init), batch_size=batch, shuffle=bool(self.shuffle), seed=fit_seed,
                   backend=self.backend, optimizer=self._optimizer(), l2=float(self.alpha) / (2 * batch))
        if stopping:  # the kernel watches the held-out loss
            history = net.fit(X, Y, epochs=epochs, warm_start=False, validation_data=held_out,
                              patience=int(self.n_iter_no_change), min_delta=float(self.tol), restore_best=True, **fit)
            converged = history.stopped_epoch is not None
        elif incremental:  # one epoch, never stopped (as scikit-learn's partial_fit)
            history = net.fit(X, Y, epochs=epochs, warm_start=not first, **fit)
            converged = True
        else:  # scikit-learn's rule on the training loss
            history, converged = _fit_on_training_loss(net, X, Y, epochs, int(self.n_iter_no_change),
                                                       float(self.tol), fit)
        ran = len(history)  # epochs run: fewer than ``epochs`` when a stopping rule ended the fit
        previous_scores = None if first else getattr(self, "validation_scores_", None)
        self.net_ = net
        curve = [] if first else list(getattr(self, "loss_curve_", []))
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
        if not converged:
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the optimization "
                          "hasn't converged yet.", ConvergenceWarning, stacklevel=4)  # (the caller of fit)
        return self

    def _held_out(self, X, Y, rng):
        """(X_train, Y_train, (X_val, Y_val)) for early_stopping: scikit-learn's own split
        (``train_test_split`` with ``test_size=validation_fraction``, so ceil(fraction * n)
        samples held out, seeded from ``rng``), stratified for a binary classifier only, as
        scikit-learn's MLP does (its multiclass targets are one-hot rows, which it does not
        stratify)."""
        from sklearn.model_selection import train_test_split

        n = X.shape[0]
        n_val = int(np.ceil(float(self.validation_fraction) * n))
        if not 1 <= n_val <= n - 1:
            raise ValueError(f"validation_fraction={self.validation_fraction!r} of {n} samples leaves "
                             f"{'no validation' if n_val < 1 else 'no training'} sample for early_stopping")
        binary = self._output[1] == "categorical_cross_entropy" and Y.shape[1] == 2
        X_train, X_val, Y_train, Y_val = train_test_split(
            X, Y, test_size=float(self.validation_fraction), random_state=int(rng.randint(0, np.iinfo(np.int32).max)),
            stratify=np.argmax(Y, axis=1) if binary else None)
        return (np.ascontiguousarray(X_train), np.ascontiguousarray(Y_train),
                (np.ascontiguousarray(X_val), np.ascontiguousarray(Y_val)))

    def _train_lbfgs(self, net, X, Y, first):
        """solver="lbfgs": scipy's L-BFGS-B on the full-batch objective (see
        ``_LbfgsObjective``), as scikit-learn runs it; ``net`` ends at its result."""
        from scipy.optimize import minimize

        objective = _LbfgsObjective(net, X, Y, float(self.alpha), self.backend)
        with _one_blas_thread():
            result = minimize(objective, net.params.copy(), method="L-BFGS-B", jac=True,
                              callback=objective.iteration_done,
                              # iprint=-1 (silent) is scipy's default; scipy >= 1.15 deprecates passing it
                              options={"maxiter": int(self.max_iter), "maxfun": int(self.max_fun),
                                       "gtol": float(self.tol)})
        net.params = result.x
        n_iter = min(int(result.nit), int(self.max_iter))  # (old scipy could report one more)
        self.net_ = net
        self.n_iter_ = n_iter
        self.loss_ = float(result.fun)
        self.t_ = 0 if first else self.t_
        for name in ("loss_curve_", "best_loss_", "validation_scores_", "best_validation_score_"):
            self.__dict__.pop(name, None)  # scikit-learn's lbfgs has none of them
        self.n_outputs_ = Y.shape[1]
        self.n_layers_ = len(net.sizes)
        if result.status != 0:  # as scikit-learn's _check_optimize_result
            message = result.message.decode("latin1") if isinstance(result.message, bytes) else result.message
            text = f"lbfgs failed to converge after {n_iter} iteration(s) (status={result.status}):\n{message}\n"
            if n_iter == self.max_iter:
                text += f"\nIncrease the number of iterations to improve the convergence (max_iter={self.max_iter})."
            warnings.warn(text, ConvergenceWarning, stacklevel=5)  # (the caller of fit)
        return self

    def _validation_scores(self, history):
        """The per-epoch validation scores of an early-stopping fit (higher is better)."""
        raise NotImplementedError

    def _check_solver(self):
        """partial_fit's availability: only for the stochastic solvers, as scikit-learn's."""
        if self.solver not in STOCHASTIC_SOLVERS:
            raise AttributeError(f"partial_fit is only available for stochastic optimizers. {self.solver} is not "
                                 "stochastic.")
        return True

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
    scikit-learn's R^2: see the module docstring). With ``solver="lbfgs"`` there is no
    ``loss_curve_``, ``best_loss_``, ``validation_scores_`` or
    ``best_validation_score_``, and no ``partial_fit``, as in scikit-learn.
    """

    _output = ("linear", "half_squared_error")

    def _validation_scores(self, history):
        # fastnn's kernel watches the validation loss, not R^2: the score is its negation
        return -history.val_loss

    def fit(self, X, y):
        """Train until the stopping rule (``tol``, ``n_iter_no_change``) or ``max_iter``
        epochs end it (``"lbfgs"``: ``max_iter`` iterations, ``max_fun`` evaluations);
        returns self."""
        return self._fit(X, y, incremental=False)

    @available_if(lambda est: est._check_solver())
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
    accuracy per epoch and at the restored epoch). With ``solver="lbfgs"`` there is no
    ``loss_curve_``, ``best_loss_``, ``validation_scores_`` or
    ``best_validation_score_``, and no ``partial_fit``, as in scikit-learn.
    """

    _output = ("softmax", "categorical_cross_entropy")

    def _validation_scores(self, history):
        return history.val_accuracy

    def fit(self, X, y):
        """Train until the stopping rule (``tol``, ``n_iter_no_change``) or ``max_iter``
        epochs end it (``"lbfgs"``: ``max_iter`` iterations, ``max_fun`` evaluations);
        returns self."""
        return self._fit(X, y, incremental=False)

    @available_if(lambda est: est._check_solver())
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
