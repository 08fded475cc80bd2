"""Network: the thin public API over the kernels (or the reference, on request)."""
from __future__ import annotations

import html

import numpy as np

from . import advice, reference
from . import validation as check
from .errors import DivergenceError
from .history import History, monitor_for_fit
from .kernels import generic_kernel, specialized
from .options import RunState, TrainOptions
from .spec import INITS, Spec

# "numba": the fastest kernel for the network (specialised when available, else generic);
# "generic": the generic numba loops only; "reference": the pure-Python oracle.
BACKENDS = ("numba", "generic", "reference")
ON_DIVERGENCE = ("raise", "stop")


class Network:
    """A dense network whose weights and biases live in one flat float64 vector.

    Parameters
    ----------
    sizes : list of int
        Layer widths, input first: ``[2, 2, 1]`` is 2 inputs, 2 hidden units, 1 output.
    activation : str or list of str
        One name for every layer, or one per layer (hidden and output): ``relu``,
        ``sigmoid``, ``tanh``, ``gaussian`` (exp(-z^2)), ``linear``, ``softmax`` (output only).
    loss : str
        Per-sample loss: ``squared_error`` (sum_j (yhat_j - y_j)^2), ``half_squared_error``,
        ``mse`` (mean over outputs), ``binary_cross_entropy``, ``categorical_cross_entropy``
        (needs a softmax output), ``mean_absolute_error`` (mean over outputs of |yhat - y|). Batch and epoch losses are means over samples.
    bias : bool
        Whether every layer has biases.
    init : str or array
        ``zeros``, ``normal`` (0.01 * N(0, 1), as nnfs), ``xavier``, ``he``, or an explicit
        flat array of ``n_params`` values (copied).
    seed : int or None
        Seeds the initialisation and, unless ``fit`` gets its own, the shuffling.

    ``params`` is laid out as ``fastnn.spec`` documents: for each layer, W (n_in, n_out)
    row-major, then b. ``weight(l)`` and ``bias(l)`` are writable views into it.
    """

    def __init__(self, sizes, activation="relu", loss="squared_error", bias=True, init="xavier", seed=None):
        self.spec = check.network_size(Spec.build(sizes, activation, loss, bias))
        self.seed = check.seed(seed)
        if isinstance(init, str):
            self.init = init
            self._params = self.spec.init_params(init, self.seed)
        elif init is None:
            raise TypeError(f"init must be one of {', '.join(INITS)} or a flat array, got None")
        else:
            self.init = "array"
            self._params = check.params(init, self.spec, "init")
        self._layout = self.spec.layout()
        self._dims = np.array(self.spec.sizes, dtype=np.int64)
        self._run = None  # the RunState the last fit left (warm_start)

    # ------------------------------------------------------------ parameters

    @property
    def params(self):
        """The flat float64 parameter vector (n_params,), shared with weight() and bias()."""
        return self._params

    @params.setter
    def params(self, value):
        # Copy into the existing buffer so that views from weight()/bias() stay valid.
        self._params[:] = check.params(value, self.spec)

    def weight(self, layer):
        """Writable view of layer's weights, shape (n_in, n_out): out = inputs @ W + b."""
        layer = self._layer(layer)
        n_in, n_out = self.spec.sizes[layer], self.spec.sizes[layer + 1]
        start = self.spec.weight_offset(layer)
        return self._params[start : start + n_in * n_out].reshape(n_in, n_out)

    def bias(self, layer):
        """Writable view of layer's biases, shape (n_out,)."""
        layer = self._layer(layer)
        if not self.spec.bias:
            raise ValueError("this network was built with bias=False: it has no biases")
        start = self.spec.bias_offset(layer)
        return self._params[start : start + self.spec.sizes[layer + 1]]

    def _layer(self, layer):
        return check.integer(layer, "layer", -self.spec.n_layers, self.spec.n_layers - 1) % self.spec.n_layers

    @property
    def sizes(self):
        return self.spec.sizes

    @property
    def activations(self):
        return self.spec.activations

    @property
    def loss_name(self):
        return self.spec.loss

    @property
    def n_params(self):
        return self.spec.n_params

    def save(self, path):
        """Write the network to ``path`` (.npz, no pickle; see fastnn.io); atomic."""
        from . import io

        io.save_network(self, path)

    def copy(self):
        """An independent network with the same spec, seed and parameters."""
        return Network(
            self.spec.sizes, list(self.spec.activations), self.spec.loss, self.spec.bias, self._params, self.seed
        )

    def __setstate__(self, state):
        # Unpickled arrays can be read-only (joblib memory-maps them, as scikit-learn's
        # parallel searches do); training writes params and the optimizer state in place.
        for key in ("_params", "_layout", "_dims"):
            if key in state and not state[key].flags.writeable:
                state[key] = np.array(state[key])
        run = state.get("_run")
        if run is not None and not (run.first.flags.writeable and run.second.flags.writeable):
            run.first, run.second = np.array(run.first), np.array(run.second)
        self.__dict__.update(state)

    def __repr__(self):
        acts = self.spec.activations
        act = acts[0] if len(set(acts)) == 1 else list(acts)
        return (
            f"Network(sizes={list(self.spec.sizes)}, activation={act!r}, loss={self.spec.loss!r}, "
            f"bias={self.spec.bias}, init={self.init!r}, seed={self.seed}, n_params={self.spec.n_params})"
        )

    def _repr_html_(self):
        """What a notebook shows: the loss, the parameter count and how it was
        initialised, then one row per layer (widths, activation, parameters)."""
        sizes = self.spec.sizes
        rows = []
        for layer in range(self.spec.n_layers):
            n_in, n_out = sizes[layer], sizes[layer + 1]
            count = n_in * n_out + (n_out if self.spec.bias else 0)
            kind = "output" if layer == self.spec.n_layers - 1 else f"hidden {layer}"
            cells = [layer, kind, f"{n_in} \u2192 {n_out}", self.spec.activations[layer], f"{count:,}"]
            rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
        head = "".join(f"<th>{c}</th>" for c in ("layer", "", "inputs \u2192 outputs", "activation", "parameters"))
        seed = "none (random)" if self.seed is None else self.seed
        summary = (f"<b>Network</b> {html.escape('-'.join(map(str, sizes)))}: loss {html.escape(self.spec.loss)}, "
                   f"{self.spec.n_params:,} parameters{'' if self.spec.bias else ' (no biases)'}, "
                   f"init {html.escape(str(self.init))}, seed {html.escape(str(seed))}")
        return (f"<div>{summary}<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody>"
                "</table></div>")

    # ------------------------------------------------------------ evaluation

    def predict(self, X, backend="numba"):
        """Outputs for every row of X: float64 array (n, n_outputs)."""
        check.finite_params(self._params)
        X = check.inputs(X, self.spec)
        if check.choice(backend, "backend", BACKENDS) == "reference":
            out = np.array(reference.predict(self.spec, self._params.tolist(), X.tolist()), dtype=np.float64)
        else:
            out = np.empty((X.shape[0], self.spec.n_outputs), dtype=np.float64)
            generic_kernel("predict")(self._params, self._layout, X, out)
        return check.finite_result(out, "predict", "X or the params")

    def loss(self, X, y, backend="numba"):
        """Mean per-sample loss over the data set (float)."""
        X, Y = self._data(X, y)
        if check.choice(backend, "backend", BACKENDS) == "reference":
            value = reference.loss(self.spec, self._params.tolist(), X.tolist(), Y.tolist())
        else:
            value = float(generic_kernel("mean_loss")(self._params, self._layout, X, Y))
        return check.finite_result(value, "loss", "X, y or the params")

    def gradient(self, X, y, backend="numba"):
        """Gradient of the mean loss: float64 array (n_params,), laid out like params."""
        X, Y = self._data(X, y)
        if check.choice(backend, "backend", BACKENDS) == "reference":
            grad = np.array(reference.gradient(self.spec, self._params.tolist(), X.tolist(), Y.tolist()), dtype=np.float64)
        else:
            grad = np.empty(self.spec.n_params, dtype=np.float64)
            generic_kernel("mean_gradient")(self._params, self._layout, X, Y, grad)
        return check.finite_result(grad, "gradient", "X, y or the params")

    def _data(self, X, y):
        check.finite_params(self._params)
        X = check.inputs(X, self.spec)
        return X, check.targets(y, self.spec, X.shape[0])

    # ------------------------------------------------------------ training

    def fit(
        self,
        X,
        y,
        lr,
        epochs,
        batch_size=1,
        shuffle=False,
        seed=None,
        backend="numba",
        on_divergence="raise",
        optimizer="sgd",
        l1=0.0,
        l2=0.0,
        l1_bias=0.0,
        l2_bias=0.0,
        dropout=0.0,
        warm_start=False,
        validation_data=None,
        validation_split=None,
        patience=None,
        min_delta=0.0,
        restore_best=True,
        train_metrics=False,
    ):
        """Train in place; returns a ``fastnn.History``: the training-loss curve, which
        behaves as the float64 array (epochs,) fit used to return (``np.asarray``,
        ``len``, indexing, arithmetic, ``.min()``, ``.argmin()``, ...), with the curves of
        held-out data, early stopping and ``train_metrics`` (below) where they apply.

        ``history[e]`` is the mean of the per-sample data losses computed during epoch e,
        each before its own update (without the L1/L2 penalty: see
        ``regularization_loss``). ``batch_size``: 1 (per sample), k (mini-batches, the
        last one may be smaller) or ``None``/``len(X)`` (full batch); each step takes the
        mean gradient of its batch. ``shuffle``: visit the samples in a new order each
        epoch, drawn from ``seed`` (default: the network's seed).

        ``optimizer``: ``"sgd"`` (each step subtracts ``lr`` times the gradient),
        ``"adagrad"``, ``"rmsprop"``, ``"adam"`` or an object such as
        ``fastnn.Adam(beta1=0.8)`` or ``fastnn.SGD(momentum=0.9, decay=1e-3)``; the
        formulas are in ``fastnn.optim``. ``l1``, ``l2`` (weights), ``l1_bias``, ``l2_bias``:
        one factor for every layer or a list with one per layer; as nnfs, each step's
        gradient gains ``l1 * sign(w)`` (+1 at 0) and ``2 * l2 * w``. ``dropout``: one rate
        for every hidden layer or one per hidden layer, in [0, 1): inverted dropout on the
        hidden outputs while training (never in predict, loss or gradient), masks drawn
        from the fit's seed. ``warm_start=True`` continues the optimizer state (moments,
        caches, step counter, shuffling and dropout streams) of this network's previous
        fit: two fits of n epochs equal one of 2n, bit for bit (``seed`` is then not used).

        If the loss or a parameter becomes NaN/inf, training stops at that epoch and the
        network keeps the parameters it had at the start of it. With
        ``on_divergence="raise"`` (default) a ``DivergenceError`` carrying the epoch and
        the history so far is raised; with ``"stop"`` the shortened history is returned.

        A ``fastnn.TrainingWarning`` says when training changed no parameter at all (a
        zero gradient throughout, such as a dead ReLU output), and when class-sorted
        targets (one run of samples per class) are visited in order with steps of fewer
        than all samples: pass ``shuffle=True`` then.

        Held-out data and early stopping: ``validation_data=(X_val, y_val)`` (checked as X
        and y), or ``validation_split=f`` in (0, 1): round(f * n) samples held out, drawn
        from ``seed`` (default: the network's seed), stratified by class for the
        classification losses (categorical cross-entropy, 0/1 binary targets); not both.
        (``batch_size`` is then at most the training part.) After every epoch, with the
        parameters at its end, the kernel computes the validation loss and, for
        categorical / binary cross-entropy, the accuracy on the training and validation
        data (argmax of the softmax output; each sigmoid output > 0.5 against target >
        0.5, the mean over outputs); ``train_metrics=True`` adds the training loss at the
        end of each epoch. ``patience=k`` stops after k epochs in a row in which the
        validation loss (without validation data: the training loss) did not improve,
        improving meaning ``loss < best - min_delta`` (Keras' EarlyStopping); with
        ``restore_best`` the network ends with the parameters of the best epoch (the
        optimizer state, for ``warm_start``, stays where the last epoch left it). The
        History then holds ``val_loss``, ``accuracy``, ``val_accuracy``,
        ``train_loss_end``, ``best_epoch`` and ``stopped_epoch``. They run in the generic
        kernel ``train_monitored`` (the generated, shape-specialised kernels do not
        support them yet), still one kernel call per fit; ``backend="reference"`` does the
        same in pure Python.

        Kernels: ``backend="numba"`` trains on the kernel generated for the network's shape
        (compiled once per machine, cached on disk). A shape's first fit does not wait
        for that compile (seconds): it starts at once on the shape-generic kernel while a
        background process compiles the generated one, and switches to it at an epoch
        boundary once it is ready and the epochs left pay for loading it (a short fit
        finishes on the generic kernel; later fits start on the generated one;
        ``fastnn.kernels.tiering``); the numbers are the same, bit for bit, whichever
        kernel ran which epochs. ``FASTNN_TIERING=0`` compiles it first instead.
        ``backend="generic"`` uses the generic kernels only.
        """
        X, Y = self._data(X, y)
        n = X.shape[0]
        lr = check.positive_float(lr, "lr")
        epochs = check.integer(epochs, "epochs", 1, check.MAX_INT64)
        batch_size = n if batch_size is None else check.integer(batch_size, "batch_size", 1, n)
        shuffle = check.flag(shuffle, "shuffle")
        seed = check.seed(seed)
        backend = check.choice(backend, "backend", BACKENDS)
        on_divergence = check.choice(on_divergence, "on_divergence", ON_DIVERGENCE)
        options = TrainOptions.build(self.spec, optimizer, l1, l2, l1_bias, l2_bias, dropout)
        monitor, X, Y = monitor_for_fit(self.spec, X, Y, lambda: self._shuffle_seed(seed), validation_data,
                                        validation_split, patience, min_delta, restore_best, train_metrics)
        if monitor is not None:
            n = X.shape[0]
            batch_size = min(batch_size, n)
        run = self._run_state(check.flag(warm_start, "warm_start"), options, seed)
        history = check.history(epochs)
        if monitor is not None:
            curves = np.full((4, epochs), np.nan)
            result = np.full(2, -1, dtype=np.int64)
        advice.warn_if_sorted_in_order(Y, shuffle, batch_size, stacklevel=2)
        start = self._params.copy()  # to tell a run that changed no parameter
        if backend == "reference":
            state = run.to_reference(reference)
            out = reference.train(
                self.spec, self._params.tolist(), X.tolist(), Y.tolist(), lr, epochs, batch_size, shuffle,
                run.shuffle_state, options, state, *(() if monitor is None else (monitor.for_reference(),)),
            )
            params, done, diverged = out[:3]
            run.take_reference(state)
            self._params[:] = params
            history[: len(done)] = done
            history[len(done) :] = np.nan
            if monitor is not None:
                metrics = out[3]
                for row, name in enumerate(("val_loss", "accuracy", "val_accuracy", "train_loss_end")):
                    if metrics[name] is not None:
                        curves[row, : len(metrics[name])] = [np.nan if v is None else v for v in metrics[name]]
                result[:] = metrics["best_epoch"], metrics["stopped_epoch"]
        elif monitor is not None:  # held-out data, metrics, early stopping: the generic kernel only
            clock, rng = run.kernel_arrays()
            X_val, Y_val = monitor.kernel_data(X.shape[1], Y.shape[1])
            diverged = generic_kernel("train_monitored")(
                self._params, self._layout, X, Y, lr, epochs, batch_size, shuffle, history, options.hyper(),
                options.penalty_rows(), options.dropout_rates(self.spec), run.first, run.second, clock, rng,
                X_val, Y_val, monitor.kernel_flags(), monitor.min_delta, curves, result,
            )
            run.take_kernel_arrays(clock, rng)
        else:  # the generated kernel for the shape, or the generic one (kernels.specialized)
            train = specialized.fit_trainer(self.spec, options, self._layout, self._dims, batch_size,
                                            generated=backend == "numba")
            diverged = train(self._params, X, Y, lr, epochs, batch_size, shuffle, history, run)
        self._run = run
        if diverged >= 0:
            if on_divergence == "raise":
                raise DivergenceError(diverged, history[:diverged].copy())
            if monitor is not None:
                return monitor.history(history, curves, result, diverged)
            return History.of_loss(history[:diverged].copy())
        if np.array_equal(start, self._params):
            advice.warn_stuck(self.spec, epochs, lr, stacklevel=2)
        if monitor is not None:
            ran = epochs if result[1] < 0 else int(result[1]) + 1
            return monitor.history(history, curves, result, ran)
        return History.of_loss(history)

    def _run_state(self, warm_start, options, seed):
        """The RunState a fit starts from: a copy of the previous fit's (warm start, same
        optimizer), or a fresh one seeded as the shuffling is."""
        previous = self._run
        if warm_start and previous is not None:
            if previous.optimizer != options.optimizer:
                raise ValueError(
                    f"warm_start: the previous fit used {previous.optimizer!r}, this one {options.optimizer!r}; "
                    "continue with the same optimizer, or pass warm_start=False to start afresh"
                )
            return previous.copy()
        return RunState(options.optimizer, self.spec.n_params, self._shuffle_seed(seed))

    def regularization_loss(self, l1=0.0, l2=0.0, l1_bias=0.0, l2_bias=0.0):
        """The L1/L2 penalty of the current params (float): per layer ``l1 * sum |w| +
        l2 * sum w**2``, plus the biases' own terms; what ``fit``'s gradient terms derive
        from (the history ``fit`` returns is the data loss alone)."""
        check.finite_params(self._params)
        options = TrainOptions.build(self.spec, "sgd", l1, l2, l1_bias, l2_bias)
        return reference.penalty(self.spec, self._params.tolist(), options.penalties)

    def _shuffle_seed(self, seed):
        if seed is not None:
            return seed
        if self.seed is not None:
            return self.seed
        return int(np.random.SeedSequence().generate_state(1, np.uint64)[0])
