"""JAX comparison: the same SGD (or Adam, through optax) as fastnn, ``jax.jit`` over
``lax.scan`` (samples, epochs).

``prepare`` trains one network; ``prepare_sweep`` trains K configurations (learning rates
and initial parameters) at once, ``jax.jit(jax.vmap(train))``, to compare with
``fastnn.sweep``.

float64 throughout (``jax_enable_x64``, set on import). Weights use fastnn's layout,
``z = a @ W + b`` with W (n_in, n_out). ReLU is written as ``where(z > 0, z, 0)`` so that
its derivative at 0 is 0, as in fastnn and seed 000 (``jnp.maximum`` would give 1/2).
Softmax + categorical cross-entropy is computed from ``log_softmax``, and a sigmoid output
with binary cross-entropy from ``log_sigmoid`` (the same losses as fastnn's clipped ones
unless a probability comes within 1e-7 of 0 or 1; the same gradients).

A mini-batch step takes the mean gradient of its batch; the last, smaller batch of an
epoch is a separate (statically shaped) step, as in fastnn.
"""
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax import lax  # noqa: E402

from . import Prepared  # noqa: E402


def _activate(name, z):
    if name == "relu":
        return jnp.where(z > 0.0, z, 0.0)
    if name == "linear":
        return z
    if name == "sigmoid":
        return jax.nn.sigmoid(z)
    if name == "tanh":
        return jnp.tanh(z)
    if name == "gaussian":
        return jnp.exp(-(z * z))
    raise NotImplementedError(f"jax_impl: activation {name!r}")


def _sample_losses(case):
    """f(layers, X, Y) -> per-sample losses (m,) for a batch X (m, n_in)."""
    acts = case.activations
    if "softmax" in acts and (acts[-1] != "softmax" or case.loss != "categorical_cross_entropy"):
        raise NotImplementedError("jax_impl: softmax only as the output of categorical_cross_entropy")
    if case.loss == "binary_cross_entropy" and acts[-1] != "sigmoid":
        raise NotImplementedError("jax_impl: binary_cross_entropy only with a sigmoid output")

    def losses(layers, X, Y):
        a = X
        for l, ((W, b), name) in enumerate(zip(layers, acts)):
            z = a @ W + b
            if l == len(acts) - 1:
                if name == "softmax":
                    return -jnp.sum(Y * jax.nn.log_softmax(z, axis=-1), axis=-1)
                if case.loss == "binary_cross_entropy":
                    log_p, log_q = jax.nn.log_sigmoid(z), jax.nn.log_sigmoid(-z)
                    return -jnp.mean(Y * log_p + (1.0 - Y) * log_q, axis=-1)
            a = _activate(name, z)
        diff = a - Y
        if case.loss == "squared_error":
            return jnp.sum(diff * diff, axis=-1)
        if case.loss == "half_squared_error":
            return 0.5 * jnp.sum(diff * diff, axis=-1)
        if case.loss == "mse":
            return jnp.mean(diff * diff, axis=-1)
        raise NotImplementedError(f"jax_impl: loss {case.loss!r}")

    return losses


def _layers(case, flat):
    """fastnn's flat params -> [(W, b), ...] as jnp arrays."""
    net = case.network()
    net.params = flat
    return [(jnp.asarray(net.weight(l).copy()), jnp.asarray(net.bias(l).copy())) for l in range(len(case.sizes) - 1)]


def _flat(layers):
    return np.concatenate([np.concatenate([np.asarray(W).ravel(), np.asarray(b)]) for W, b in layers])


def _trainer(case, epochs, X, Y):
    """``train(layers, lr) -> (layers, history)`` running ``epochs`` epochs (not jitted)."""
    losses = _sample_losses(case)
    n, bs = X.shape[0], case.batch_size

    def batch_loss(layers, Xb, Yb):
        per_sample = losses(layers, Xb, Yb)
        return jnp.mean(per_sample), jnp.sum(per_sample)

    grad = jax.value_and_grad(batch_loss, has_aux=True)

    full = n // bs
    Xf, Yf = X[: full * bs].reshape(full, bs, -1), Y[: full * bs].reshape(full, bs, -1)
    Xr, Yr = X[full * bs :], Y[full * bs :]

    optimizer = getattr(case, "optimizer", "sgd")
    if optimizer not in ("sgd", "adam"):
        raise NotImplementedError(f"jax_impl: optimizer {optimizer!r}")

    def train(layers, lr):
        if optimizer == "adam":  # optax's adam: nnfs's formula (eps outside the root), fastnn's defaults
            import optax

            tx = optax.adam(lr, b1=0.9, b2=0.999, eps=1e-7)

            def apply(carry, g):
                layers, state = carry
                updates, state = tx.update(g, state, layers)
                return optax.apply_updates(layers, updates), state

            carry = (layers, tx.init(layers))
        else:

            def apply(carry, g):
                return jax.tree_util.tree_map(lambda p, gp: p - lr * gp, carry, g)

            carry = layers

        def params_of(carry):
            return carry[0] if optimizer == "adam" else carry

        def step(carry, batch):
            (_, total), g = grad(params_of(carry), *batch)
            return apply(carry, g), total

        def epoch(carry, _):
            carry, totals = lax.scan(step, carry, (Xf, Yf))
            total = jnp.sum(totals)
            if Xr.shape[0]:
                carry, rest = step(carry, (Xr, Yr))
                total = total + rest
            return carry, total / n

        carry, history = lax.scan(epoch, carry, None, length=epochs)
        return params_of(carry), history

    return train


def make_train(case, epochs, X, Y):
    """A jitted ``train(layers) -> (layers, history)`` running ``epochs`` epochs."""
    train = _trainer(case, epochs, X, Y)
    lr = case.lr
    return jax.jit(lambda layers: train(layers, lr))


def make_sweep_train(case, epochs, X, Y):
    """``jit(vmap(train))``: ``train(layers, lrs) -> (layers, histories)`` for K
    configurations at once, each trained as ``make_train`` trains one (``lax.scan`` over
    epochs of a ``lax.scan`` over batches). ``layers``: [(W (K, n_in, n_out), b (K, n_out)),
    ...]; ``lrs`` (K,); ``histories`` (K, epochs). ``case.lr`` is not used."""
    return jax.jit(jax.vmap(_trainer(case, epochs, X, Y)))


def _batched_layers(spec, flat):
    """fastnn's flat params, one row per configuration (K, n_params) -> [(W, b), ...]
    with W (K, n_in, n_out) and b (K, n_out), as jnp arrays."""
    K = flat.shape[0]
    layers = []
    for l in range(spec.n_layers):
        n_in, n_out = spec.sizes[l], spec.sizes[l + 1]
        w0, b0 = spec.weight_offset(l), spec.bias_offset(l)
        W = flat[:, w0 : w0 + n_in * n_out].reshape(K, n_in, n_out)
        layers.append((jnp.asarray(W.copy()), jnp.asarray(flat[:, b0 : b0 + n_out].copy())))
    return layers


def _batched_flat(layers):
    return np.concatenate(
        [np.concatenate([np.asarray(W).reshape(W.shape[0], -1), np.asarray(b)], axis=1) for W, b in layers], axis=1
    )


def prepare(case, epochs):
    if not case.network().spec.bias:
        raise NotImplementedError("jax_impl: networks without biases")
    X, Y = case.arrays()
    X, Y = jnp.asarray(X), jnp.asarray(Y)
    initial = _layers(case, case.network().params)
    train = make_train(case, epochs, X, Y)
    last = {}

    def run():
        last["out"] = jax.block_until_ready(train(initial))

    started = time.perf_counter()
    run()  # trace and compile outside the timed region
    warmup = time.perf_counter() - started

    def outcome():
        layers, history = last["out"]
        return np.asarray(history), _flat(layers)

    return Prepared(run, epochs, epochs * X.shape[0], outcome, warmup)


def prepare_sweep(case, epochs, lrs, params):
    """K configurations of ``case``'s network trained together, ``jit(vmap(...))``.

    ``lrs`` (K,): each configuration's learning rate; ``params`` (K, n_params): each one's
    initial parameters in fastnn's layout. Like ``prepare``, but ``steps`` counts
    configuration-steps (K * epochs * n_samples) and ``outcome()`` returns
    ``(losses (K, epochs), params (K, n_params))``. The warm-up call (trace and compile)
    runs here, outside the timed region.
    """
    spec = case.network().spec
    if not spec.bias:
        raise NotImplementedError("jax_impl: networks without biases")
    params = np.ascontiguousarray(params, dtype=np.float64)
    lrs = np.ascontiguousarray(lrs, dtype=np.float64)
    if params.ndim != 2 or params.shape[1] != spec.n_params or lrs.shape != (params.shape[0],):
        raise ValueError(f"prepare_sweep: need params (K, {spec.n_params}) and lrs (K,), got {params.shape}, {lrs.shape}")
    X, Y = case.arrays()
    X, Y = jnp.asarray(X), jnp.asarray(Y)
    initial = _batched_layers(spec, params)
    rates = jnp.asarray(lrs)
    train = make_sweep_train(case, epochs, X, Y)
    last = {}

    def run():
        last["out"] = jax.block_until_ready(train(initial, rates))

    started = time.perf_counter()
    run()  # trace and compile outside the timed region
    warmup = time.perf_counter() - started

    def outcome():
        layers, histories = last["out"]
        return np.asarray(histories), _batched_flat(layers)

    return Prepared(run, epochs, len(lrs) * epochs * X.shape[0], outcome, warmup)
