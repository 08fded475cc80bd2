"""JAX comparison: the same SGD as fastnn, ``jax.jit`` over ``lax.scan`` (samples, epochs).

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


def make_train(case, epochs, X, Y):
    """A jitted ``train(layers) -> (layers, history)`` running ``epochs`` epochs."""
    losses = _sample_losses(case)
    lr, n, bs = case.lr, X.shape[0], case.batch_size

    def batch_loss(layers, Xb, Yb):
        per_sample = losses(layers, Xb, Yb)
        return jnp.mean(per_sample), jnp.sum(per_sample)

    grad = jax.value_and_grad(batch_loss, has_aux=True)

    def step(layers, batch):
        (_, total), g = grad(layers, *batch)
        return jax.tree_util.tree_map(lambda p, gp: p - lr * gp, layers, g), total

    full = n // bs
    Xf, Yf = X[: full * bs].reshape(full, bs, -1), Y[: full * bs].reshape(full, bs, -1)
    Xr, Yr = X[full * bs :], Y[full * bs :]

    def epoch(layers, _):
        layers, totals = lax.scan(step, layers, (Xf, Yf))
        total = jnp.sum(totals)
        if Xr.shape[0]:
            layers, rest = step(layers, (Xr, Yr))
            total = total + rest
        return layers, total / n

    @jax.jit
    def train(layers):
        return lax.scan(epoch, layers, None, length=epochs)

    return train


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
