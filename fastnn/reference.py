"""The oracle: a dense network in pure Python, one neuron at a time.

Lists and floats only: no numpy, no numba, and nothing from ``fastnn.kernels``. It is slow
on purpose and written so that each line can be checked by hand against the chain rule,
as the seed documents do. Every kernel is tested against it, and every benchmark uses it
as the baseline.

Conventions (shared with the kernels through ``fastnn.spec``, nothing else):

* ``params`` is a flat list laid out as ``Spec`` describes; ``W_l[i][j]`` is
  ``params[w_offset + i * n_out + j]``.
* A neuron's net input is ``z_j = (x_0 W[0][j] + x_1 W[1][j] + ...) + b_j``, summed left
  to right, then ``a_j = f(z_j)``.
* The per-sample loss compares the output ``yhat`` with the target row ``y``; a batch loss
  is the mean of per-sample losses, a batch gradient the mean of per-sample gradients.
* ``relu'(0) = 0``, as in the seeds' ``activation_ReLu_partial_derivative``, and an
  inactive ReLU (z <= 0) passes exactly 0 back, whatever arrives from above: ``0.0``, not
  ``inf * 0.0 = nan`` when an error signal overflows (PyTorch's ReLU backward is also a
  select, not a product). Elsewhere the values are those of ``value * relu'(z)``.
"""
from __future__ import annotations

import math

from .spec import CLIP, DROPOUT_SALT, Spec

_MASK64 = (1 << 64) - 1


# ---------------------------------------------------------------- activations


def sigmoid(z):
    # Two branches so that exp never sees a large positive argument (no overflow).
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def activate(name, z):
    """f(z) for one neuron of an element-wise activation."""
    if name == "linear":
        return z
    if name == "relu":
        return z if z > 0.0 else 0.0
    if name == "sigmoid":
        return sigmoid(z)
    if name == "tanh":
        return math.tanh(z)
    if name == "gaussian":
        return math.exp(-(z * z))
    raise ValueError(f"not an element-wise activation: {name!r}")


def derivative(name, z, a):
    """f'(z) for one neuron, given its net input z and its output a = f(z)."""
    if name == "linear":
        return 1.0
    if name == "relu":
        return 1.0 if z > 0.0 else 0.0
    if name == "sigmoid":
        return a * (1.0 - a)
    if name == "tanh":
        return 1.0 - a * a
    if name == "gaussian":
        return -2.0 * z * a
    raise ValueError(f"not an element-wise activation: {name!r}")


def times_derivative(name, value, z, a):
    """dL/dz = dL/da * f'(z); an inactive ReLU passes exactly 0 (see the module notes)."""
    if name == "relu":
        return value if z > 0.0 else 0.0
    return value * derivative(name, z, a)


def softmax(zs):
    biggest = zs[0]
    for z in zs[1:]:
        if z > biggest:
            biggest = z
    exps = [math.exp(z - biggest) for z in zs]
    total = 0.0
    for e in exps:
        total += e
    return [e / total for e in exps]


def sign(value):
    """+1, -1 or 0 (at 0, as numpy's sign; the subgradient nnfs uses)."""
    return 1.0 if value > 0.0 else (-1.0 if value < 0.0 else 0.0)


def _clip(p):
    return min(max(p, CLIP), 1.0 - CLIP)


# ---------------------------------------------------------------- forward


def forward(spec: Spec, params, x, keep=None):
    """Net inputs and outputs of every layer for one sample.

    Returns ``(zs, outs)``: ``zs[l]`` the net inputs of layer l, ``outs[l]`` its outputs;
    ``outs[-1]`` is the network's prediction. The sample itself is the input of layer 0.

    ``keep``: inverted dropout during training, None or one entry per hidden layer: None
    (no dropout there) or a multiplier per unit (0, or 1 / (1 - rate)) by which the
    layer's outputs are multiplied before the next layer sees them, as nnfs's
    ``Layer_Dropout`` does. ``outs`` then holds the dropped outputs; ``forward_dropout``
    also returns the activations before dropout.
    """
    zs, _, outs = forward_dropout(spec, params, x, keep)
    return zs, outs


def forward_dropout(spec: Spec, params, x, keep):
    """``(zs, acts, outs)``: as ``forward``, with ``acts[l]`` layer l's activations before
    dropout (what f'(z) is computed from) and ``outs[l]`` after it."""
    zs, acts, outs = [], [], []
    inputs = [float(v) for v in x]
    for l in range(spec.n_layers):
        n_in, n_out = spec.sizes[l], spec.sizes[l + 1]
        w0, b0 = spec.weight_offset(l), spec.bias_offset(l)
        z_layer = []
        for j in range(n_out):
            z = 0.0
            for i in range(n_in):
                z += inputs[i] * params[w0 + i * n_out + j]
            if spec.bias:
                z += params[b0 + j]
            z_layer.append(z)
        name = spec.activations[l]
        if name == "softmax":
            out_layer = softmax(z_layer)
        else:
            out_layer = [activate(name, z) for z in z_layer]
        zs.append(z_layer)
        acts.append(out_layer)
        if keep is not None and l < spec.n_layers - 1 and keep[l] is not None:
            out_layer = [out_layer[j] * keep[l][j] for j in range(n_out)]
        outs.append(out_layer)
        inputs = out_layer
    return zs, acts, outs


def predict(spec: Spec, params, X):
    """Predictions (list of rows) for every sample of X (list of rows)."""
    return [forward(spec, params, x)[1][-1] for x in X]


# ---------------------------------------------------------------- loss


def sample_loss(spec: Spec, yhat, y):
    """Per-sample loss of prediction ``yhat`` against target row ``y``."""
    n_out = len(yhat)
    loss = spec.loss
    total = 0.0
    if loss in ("squared_error", "half_squared_error", "mse"):
        for j in range(n_out):
            diff = yhat[j] - y[j]
            total += diff * diff
        if loss == "half_squared_error":
            return 0.5 * total
        if loss == "mse":
            return total / n_out
        return total
    if loss == "mean_absolute_error":  # nnfs's Loss_MeanAbsoluteError
        for j in range(n_out):
            total += abs(yhat[j] - y[j])
        return total / n_out
    if loss == "binary_cross_entropy":
        for j in range(n_out):
            p = _clip(yhat[j])
            total += -(y[j] * math.log(p) + (1.0 - y[j]) * math.log(1.0 - p))
        return total / n_out
    if loss == "categorical_cross_entropy":
        # nnfs: -log of the (clipped) probability given to the true class.
        for j in range(n_out):
            total += _clip(yhat[j]) * y[j]
        return -math.log(total)
    raise ValueError(f"unknown loss {loss!r}")


def _dloss_dyhat(spec: Spec, yhat, y):
    """dL/dyhat_j for each output j."""
    n_out = len(yhat)
    if spec.loss == "squared_error":  # L = sum (yhat - y)^2
        return [2.0 * (yhat[j] - y[j]) for j in range(n_out)]
    if spec.loss == "half_squared_error":  # L = 1/2 sum (yhat - y)^2
        return [yhat[j] - y[j] for j in range(n_out)]
    if spec.loss == "mse":  # L = 1/n sum (yhat - y)^2
        return [2.0 * (yhat[j] - y[j]) / n_out for j in range(n_out)]
    if spec.loss == "mean_absolute_error":  # L = 1/n sum |yhat - y|: sign(yhat - y) / n, 0 at the kink
        return [sign(yhat[j] - y[j]) / n_out for j in range(n_out)]
    if spec.loss == "binary_cross_entropy":  # nnfs: evaluated at the clipped prediction
        grads = []
        for j in range(n_out):
            p = _clip(yhat[j])
            grads.append((-(y[j] / p) + (1.0 - y[j]) / (1.0 - p)) / n_out)
        return grads
    raise ValueError(f"no separate dL/dyhat for loss {spec.loss!r}")


def output_delta(spec: Spec, z_out, yhat, y):
    """dL/dz for each output neuron (the error signal that backpropagation starts from)."""
    n_out = len(yhat)
    name = spec.activations[-1]
    if spec.loss == "categorical_cross_entropy":
        # softmax + cross-entropy: dL/dz_k = sum_j (-y_j / yhat_j) * yhat_j (delta_jk - yhat_k)
        #                                   = yhat_k * sum_j y_j - y_k = yhat_k - y_k
        return [yhat[k] - y[k] for k in range(n_out)]
    if spec.loss == "binary_cross_entropy" and name == "sigmoid":
        # dL/dyhat * sigmoid' = (yhat - y) / (yhat (1 - yhat)) / n * yhat (1 - yhat)
        return [(yhat[k] - y[k]) / n_out for k in range(n_out)]
    grads = _dloss_dyhat(spec, yhat, y)
    if name == "softmax":
        # Jacobian of softmax: d yhat_j / d z_k = yhat_j (delta_jk - yhat_k)
        weighted = 0.0
        for j in range(n_out):
            weighted += grads[j] * yhat[j]
        return [yhat[k] * (grads[k] - weighted) for k in range(n_out)]
    return [times_derivative(name, grads[k], z_out[k], yhat[k]) for k in range(n_out)]


def sample_gradient(spec: Spec, params, x, y, keep=None):
    """Loss and gradient (flat list, same layout as params) for one sample; ``keep``:
    dropout multipliers as in ``forward``."""
    zs, acts, outs = forward_dropout(spec, params, x, keep)
    loss = sample_loss(spec, outs[-1], y)
    grad = [0.0] * spec.n_params
    delta = output_delta(spec, zs[-1], outs[-1], y)
    for l in range(spec.n_layers - 1, -1, -1):
        n_in, n_out = spec.sizes[l], spec.sizes[l + 1]
        w0, b0 = spec.weight_offset(l), spec.bias_offset(l)
        inputs = [float(v) for v in x] if l == 0 else outs[l - 1]
        # dL/dW[i][j] = dL/dz_j * dz_j/dW[i][j] = delta_j * input_i;  dL/db_j = delta_j
        for i in range(n_in):
            for j in range(n_out):
                grad[w0 + i * n_out + j] = inputs[i] * delta[j]
        if spec.bias:
            for j in range(n_out):
                grad[b0 + j] = delta[j]
        if l == 0:
            break
        # dL/dz_i of the layer below = f'(z_i) * sum_j dL/dz_j * W[i][j]; with dropout the
        # sum first passes the unit's multiplier (dL/d act = dL/d out * keep)
        below = []
        name = spec.activations[l - 1]
        dropped = keep[l - 1] if keep is not None else None
        for i in range(n_in):
            total = 0.0
            for j in range(n_out):
                total += params[w0 + i * n_out + j] * delta[j]
            if dropped is not None:
                total = total * dropped[i]
            below.append(times_derivative(name, total, zs[l - 1][i], acts[l - 1][i]))
        delta = below
    return loss, grad


def loss(spec: Spec, params, X, Y):
    """Mean per-sample loss over the data set."""
    total = 0.0
    for x, y in zip(X, Y):
        total += sample_loss(spec, forward(spec, params, x)[1][-1], y)
    return total / len(X)


def _argmax(values):
    """Index of the first largest value (as numpy's argmax on finite values)."""
    best = 0
    for j in range(1, len(values)):
        if values[j] > values[best]:
            best = j
    return best


def correct(spec: Spec, yhat, y):
    """How many of the sample's predictions are right: for categorical cross-entropy 1 or
    0 (argmax of yhat is argmax of the one-hot y); for binary cross-entropy the number of
    outputs j with (yhat_j > 0.5) == (y_j > 0.5); None for the other losses."""
    if spec.loss == "categorical_cross_entropy":
        return 1 if _argmax(yhat) == _argmax(y) else 0
    if spec.loss == "binary_cross_entropy":
        count = 0
        for j in range(len(yhat)):
            if (yhat[j] > 0.5) == (y[j] > 0.5):
                count += 1
        return count
    return None


def evaluate(spec: Spec, params, X, Y):
    """``(loss, accuracy)`` of the data set: the mean per-sample loss (the sum over the
    samples in order, / n, as ``loss``) and the fraction of right predictions (the count of
    ``correct``, / (n * n_outputs) for binary cross-entropy, / n for categorical; None for
    the other losses)."""
    total, count = 0.0, 0
    for x, y in zip(X, Y):
        yhat = forward(spec, params, x)[1][-1]
        total += sample_loss(spec, yhat, y)
        right = correct(spec, yhat, y)
        if right is not None:
            count += right
    n = len(X)
    if spec.loss == "categorical_cross_entropy":
        return total / n, count / n
    if spec.loss == "binary_cross_entropy":
        return total / n, count / (n * spec.n_outputs)
    return total / n, None


def gradient(spec: Spec, params, X, Y):
    """Gradient of the mean loss: the sum of per-sample gradients, divided by n."""
    total = [0.0] * spec.n_params
    for x, y in zip(X, Y):
        _, grad = sample_gradient(spec, params, x, y)
        for p in range(spec.n_params):
            total[p] += grad[p]
    return [g / len(X) for g in total]


# ---------------------------------------------------------------- training


def splitmix64(state):
    """One step of SplitMix64: returns (new_state, 64-bit random integer)."""
    state = (state + 0x9E3779B97F4A7C15) & _MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return state, z ^ (z >> 31)


def shuffled(n, state):
    """Fisher-Yates permutation of range(n) driven by SplitMix64; returns (order, state)."""
    order = list(range(n))
    for i in range(n - 1, 0, -1):
        state, r = splitmix64(state)
        j = r % (i + 1)
        order[i], order[j] = order[j], order[i]
    return order, state


# ---------------------------------------------------------------- regularisation


def penalize(spec: Spec, params, grad, penalties):
    """Add the L1/L2 terms to a batch's mean gradient ``grad`` in place, as nnfs does:
    ``g += l1 * sign(w)`` (sign +1 at w = 0), then ``g += 2 * l2 * w``, per layer, weights
    and biases with their own factors. ``penalties``: ``fastnn.options.Penalties``."""
    for l in range(spec.n_layers):
        w0, b0 = spec.weight_offset(l), spec.bias_offset(l)
        n_w = spec.sizes[l] * spec.sizes[l + 1]
        blocks = [(w0, n_w, penalties.l1[l], penalties.l2[l])]
        if spec.bias:
            blocks.append((b0, spec.sizes[l + 1], penalties.l1_bias[l], penalties.l2_bias[l]))
        for start, count, l1, l2 in blocks:
            for p in range(start, start + count):
                if l1 != 0.0:
                    grad[p] += l1 * (1.0 if params[p] >= 0.0 else -1.0)
                if l2 != 0.0:
                    grad[p] += 2.0 * l2 * params[p]


def penalty(spec: Spec, params, penalties):
    """The regularisation loss: per layer l1 * sum |w| + l2 * sum w * w (and the biases'
    own terms), summed over the layers; what the gradient terms of ``penalize`` derive from."""
    total = 0.0
    for l in range(spec.n_layers):
        w0, b0 = spec.weight_offset(l), spec.bias_offset(l)
        blocks = [(w0, spec.sizes[l] * spec.sizes[l + 1], penalties.l1[l], penalties.l2[l])]
        if spec.bias:
            blocks.append((b0, spec.sizes[l + 1], penalties.l1_bias[l], penalties.l2_bias[l]))
        for start, count, l1, l2 in blocks:
            absolute, squares = 0.0, 0.0
            for p in range(start, start + count):
                absolute += abs(params[p])
                squares += params[p] * params[p]
            total += l1 * absolute + l2 * squares
    return total


# ---------------------------------------------------------------- dropout


def dropout_keep(spec: Spec, rates, base, sample_number):
    """The dropout multipliers of one sample (see ``forward``): per hidden layer None
    (rate 0) or, per unit, 1 / (1 - rate) if kept and 0 if dropped.

    Unit j of hidden layer l in the ``sample_number``-th sample of training is kept when
    u >= rate, u = (SplitMix64 output number k from state ``base``) / 2**64 to 53 bits,
    k = sample_number * (hidden units) + (hidden units before layer l) + j. The draws are
    numbered, so any order of computing them gives the same masks.
    """
    hidden = spec.sizes[1:-1]
    per_sample = sum(hidden)
    keep, unit = [], 0
    for l, width in enumerate(hidden):
        rate = rates[l]
        if rate == 0.0:
            keep.append(None)
        else:
            row = []
            for j in range(width):
                k = sample_number * per_sample + unit + j
                _, r = splitmix64((base + k * 0x9E3779B97F4A7C15) & _MASK64)
                u = (r >> 11) * 2.0**-53
                row.append((1.0 if u >= rate else 0.0) / (1.0 - rate))
            keep.append(row)
        unit += width
    return keep


# ---------------------------------------------------------------- optimizers


class OptimizerState:
    """What a run leaves for the next one (``warm_start``): the step counter ``t``, the
    per-parameter ``first`` (momentum u, Adam's m) and ``second`` (cache c, Adam's v)
    states, the shuffling state and the number of samples seen (for dropout's draws)."""

    def __init__(self, n_params, shuffle_state, dropout_base):
        self.t = 0
        self.first = [0.0] * n_params
        self.second = [0.0] * n_params
        self.shuffle_state = shuffle_state & _MASK64
        self.dropout_base = dropout_base & _MASK64
        self.samples = 0

    def copy(self):
        other = OptimizerState(0, self.shuffle_state, self.dropout_base)
        other.t, other.first, other.second, other.samples = self.t, self.first[:], self.second[:], self.samples
        return other


def update(opt, params, grad, state, lr):
    """One optimizer step on every parameter (the nnfs book's rules, fastnn.optim's
    docstring); ``grad`` is the step's gradient. Advances ``state.t``."""
    lr_t = lr * (1.0 / (1.0 + opt.decay * state.t))
    if opt.name == "adam":  # bias corrections, the same for every parameter: one division a step
        unbias1 = 1.0 / (1.0 - opt.beta1 ** (state.t + 1.0))
        unbias2 = 1.0 / (1.0 - opt.beta2 ** (state.t + 1.0))
    for p in range(len(params)):
        g = grad[p]
        if opt.name == "sgd":
            if opt.momentum == 0.0:
                params[p] += -lr_t * g
            else:
                u = opt.momentum * state.first[p] - lr_t * g
                state.first[p] = u
                params[p] += opt.momentum * u - lr_t * g if opt.nesterov else u
        elif opt.name == "adagrad":
            state.second[p] += g * g
            params[p] += -lr_t * g / (math.sqrt(state.second[p]) + opt.epsilon)
        elif opt.name == "rmsprop":
            state.second[p] = opt.rho * state.second[p] + (1.0 - opt.rho) * (g * g)
            params[p] += -lr_t * g / (math.sqrt(state.second[p]) + opt.epsilon)
        else:  # adam
            state.first[p] = opt.beta1 * state.first[p] + (1.0 - opt.beta1) * g
            state.second[p] = opt.beta2 * state.second[p] + (1.0 - opt.beta2) * (g * g)
            m_hat = state.first[p] * unbias1
            v_hat = state.second[p] * unbias2
            params[p] += -lr_t * m_hat / (math.sqrt(v_hat) + opt.epsilon)
    state.t += 1


# ---------------------------------------------------------------- training


def train(spec: Spec, params, X, Y, lr, epochs, batch_size=1, shuffle=False, seed=0, options=None, state=None,
          validation=None):
    """Training: per sample (batch_size=1), mini-batch, or full batch (batch_size=len(X)).

    Each step takes the mean gradient of its batch (the last batch of an epoch may be
    smaller), adds the L1/L2 terms and lets the optimizer move the parameters
    (``options``: ``fastnn.options.TrainOptions``; None is plain SGD,
    ``p += -lr * g``). With ``shuffle`` each epoch visits the samples in a fresh
    Fisher-Yates order from SplitMix64 seeded with ``seed``; dropout draws its masks from
    a second stream (``dropout_keep``). ``state``: an ``OptimizerState`` to continue
    (warm start), else a fresh one; it is updated in place.

    Returns ``(params, history, diverged_epoch)``: ``history[e]`` is the mean of the
    per-sample data losses of epoch e (without the L1/L2 penalty), each computed before
    its own update. If an epoch ends with a non-finite loss or parameter, training stops:
    ``params`` (and ``state``) are those at the start of that epoch (the last finite
    ones), ``history`` stops before it, and ``diverged_epoch`` is its index (-1 when
    training finished).

    ``validation``: None, or a ``fastnn.history.Monitor`` (read by attribute): after
    every finite epoch, with the parameters at its end, ``evaluate`` the validation data
    (``X_val``/``Y_val``, when given) and, if ``Monitor.train_pass``, the training data;
    then early stopping: the watched loss (the validation loss, else the epoch's training
    loss ``history[e]``) improves when it is < best - min_delta (best starts at inf); after
    ``patience`` epochs in a row without improvement training stops, and with
    ``restore_best`` the parameters become those at the end of the best epoch (the
    optimizer state stays where the last epoch left it). A diverging epoch ends training
    as without ``validation``. Returns ``(params, history, diverged_epoch, metrics)``,
    metrics a dict of ``val_loss``, ``accuracy``, ``val_accuracy``, ``train_loss_end``
    (lists over the epochs run, or None where they do not apply), ``best_epoch`` (-1 if
    none) and ``stopped_epoch`` (-1 unless early stopping ended the run).
    """
    from .options import TrainOptions  # the settings' container only; no kernel code

    options = options or TrainOptions.plain(spec)
    params = [float(p) for p in params]
    n = len(X)
    history = []
    if state is None:
        state = OptimizerState(spec.n_params, seed, seed ^ DROPOUT_SALT)
    dropout = any(rate != 0.0 for rate in options.dropout)
    watch = None if validation is None else _Watch(spec, X, Y, validation)
    for epoch in range(epochs):
        start_params, start_state = params[:], state.copy()  # before the shuffle draws
        if shuffle:
            order, state.shuffle_state = shuffled(n, state.shuffle_state)
        else:
            order = list(range(n))
        epoch_loss = 0.0
        for start in range(0, n, batch_size):
            batch = order[start : start + batch_size]
            grad_sum = [0.0] * spec.n_params
            for i in batch:
                keep = dropout_keep(spec, options.dropout, state.dropout_base, state.samples) if dropout else None
                state.samples += 1
                sample_l, grad = sample_gradient(spec, params, X[i], Y[i], keep)
                epoch_loss += sample_l
                for p in range(spec.n_params):
                    grad_sum[p] += grad[p]
            grad = [grad_sum[p] / len(batch) for p in range(spec.n_params)]
            penalize(spec, params, grad, options.penalties)
            update(options.optimizer, params, grad, state, lr)
        mean_loss = epoch_loss / n
        if not math.isfinite(mean_loss) or not all(math.isfinite(p) for p in params):
            state.__dict__.update(start_state.__dict__)
            if watch is not None:
                return start_params, history, epoch, watch.metrics()
            return start_params, history, epoch
        history.append(mean_loss)
        if watch is not None and watch.end_epoch(params, epoch, mean_loss):
            return watch.final(params), history, -1, watch.metrics()
    if watch is not None:
        return watch.final(params), history, -1, watch.metrics()
    return params, history, -1


class _Watch:
    """``train``'s bookkeeping for a ``validation`` Monitor: the curves, the best watched
    loss, its epoch and parameters, the epochs without improvement."""

    def __init__(self, spec, X, Y, monitor):
        self.spec, self.X, self.Y, self.monitor = spec, X, Y, monitor
        self.classify = spec.loss in ("categorical_cross_entropy", "binary_cross_entropy")
        self.has_val = monitor.X_val is not None
        self.train_pass = monitor.train_metrics or (self.has_val and self.classify)
        self.val_loss, self.accuracy, self.val_accuracy, self.train_loss_end = [], [], [], []
        self.best, self.best_epoch, self.best_params, self.wait, self.stopped = math.inf, -1, None, 0, -1

    def end_epoch(self, params, epoch, mean_loss):
        """Record epoch ``epoch``; True when early stopping ends training after it."""
        monitor = self.monitor
        if self.train_pass:
            loss_end, acc = evaluate(self.spec, params, self.X, self.Y)
            self.train_loss_end.append(loss_end)
            self.accuracy.append(acc)
        watched = mean_loss
        if self.has_val:
            watched, acc = evaluate(self.spec, params, monitor.X_val, monitor.Y_val)
            self.val_loss.append(watched)
            self.val_accuracy.append(acc)
        if watched < self.best - monitor.min_delta:
            self.best, self.best_epoch, self.wait = watched, epoch, 0
            if monitor.patience is not None and monitor.restore_best:
                self.best_params = params[:]
        else:
            self.wait += 1
            if monitor.patience is not None and self.wait >= monitor.patience:
                self.stopped = epoch
                return True
        return False

    def final(self, params):
        if self.best_params is not None:
            return self.best_params
        return params

    def metrics(self):
        train = self.train_pass
        return {
            "val_loss": self.val_loss if self.has_val else None,
            "accuracy": self.accuracy if train and self.classify else None,
            "val_accuracy": self.val_accuracy if self.has_val and self.classify else None,
            "train_loss_end": self.train_loss_end if self.monitor.train_metrics else None,
            "best_epoch": self.best_epoch,
            "stopped_epoch": self.stopped,
        }


# ---------------------------------------------------------------- successive halving


def halving_rungs(epochs, eta, first_rung):
    """The epoch counts after which a halving sweep ranks its survivors: first_rung,
    first_rung * eta, ... while below ``epochs``."""
    rungs = []
    r = first_rung
    while r < epochs:
        rungs.append(r)
        r *= eta
    return rungs


def halving_survivors(scores, alive, eta):
    """The configurations going on past a rung: of the indices ``alive``, the
    ceil(len(alive) / eta) with the lowest ``scores[k]`` (the watched loss of the rung's
    last epoch; NaN ranks last; ties go to the lower index), in increasing order."""
    def rank(k):
        value = scores[k]
        return (math.isnan(value), 0.0 if math.isnan(value) else value, k)

    ranked = sorted(alive, key=rank)
    keep = -(-len(ranked) // eta)
    return sorted(ranked[:keep])
