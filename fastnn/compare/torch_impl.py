"""PyTorch comparison: eager mode, CPU, float64, one thread, manual SGD.

Each step runs the forward pass on its sample (or mini-batch), ``loss.backward()``, then
``p -= lr * p.grad`` for every parameter under ``no_grad`` -- what a user writing a plain
PyTorch training loop does, without ``torch.optim`` overhead. Weights use fastnn's layout,
``z = x @ W + b`` with W (n_in, n_out). ``torch.relu``'s derivative at 0 is 0, as in
fastnn. Softmax + categorical cross-entropy comes from ``log_softmax``, a sigmoid output
with binary cross-entropy from ``logsigmoid`` (see jax_impl).

``prepare`` sets PyTorch's intra-op thread count to 1 for the whole process.
"""
import time

import numpy as np
import torch

from . import Prepared

_ACTIVATIONS = {
    "relu": torch.relu,
    "linear": lambda z: z,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "gaussian": lambda z: torch.exp(-(z * z)),
}


def _batch_loss_sum(case):
    """f(params, X, Y) -> sum of the per-sample losses of a batch X (m, n_in)."""
    acts = case.activations
    n_layers = len(acts)
    if "softmax" in acts and (acts[-1] != "softmax" or case.loss != "categorical_cross_entropy"):
        raise NotImplementedError("torch_impl: softmax only as the output of categorical_cross_entropy")
    if case.loss == "categorical_cross_entropy" and acts[-1] != "softmax":
        raise NotImplementedError("torch_impl: categorical_cross_entropy needs softmax")
    if case.loss == "binary_cross_entropy" and acts[-1] != "sigmoid":
        raise NotImplementedError("torch_impl: binary_cross_entropy only with a sigmoid output")
    if case.loss not in ("squared_error", "half_squared_error", "mse", "binary_cross_entropy",
                         "categorical_cross_entropy"):
        raise NotImplementedError(f"torch_impl: loss {case.loss!r}")
    for name in acts:
        if name != "softmax" and name not in _ACTIVATIONS:
            raise NotImplementedError(f"torch_impl: activation {name!r}")

    def loss_sum(params, X, Y):
        a = X
        for l, name in enumerate(acts):
            z = a @ params[2 * l] + params[2 * l + 1]
            if l == n_layers - 1:
                if name == "softmax":
                    return -(Y * torch.log_softmax(z, dim=-1)).sum()
                if case.loss == "binary_cross_entropy":
                    logs = Y * torch.nn.functional.logsigmoid(z) + (1.0 - Y) * torch.nn.functional.logsigmoid(-z)
                    return -logs.mean(dim=-1).sum()
            a = _ACTIVATIONS[name](z)
        diff = a - Y
        if case.loss == "squared_error":
            return (diff * diff).sum()
        if case.loss == "half_squared_error":
            return 0.5 * (diff * diff).sum()
        return (diff * diff).mean(dim=-1).sum()  # mse

    assert n_layers >= 1
    return loss_sum


def prepare(case, epochs):
    if getattr(case, "optimizer", "sgd") != "sgd":
        raise NotImplementedError(f"torch_impl: plain SGD only, not {case.optimizer!r}")
    torch.set_num_threads(1)
    net = case.network()
    if not net.spec.bias:
        raise NotImplementedError("torch_impl: networks without biases")
    loss_sum = _batch_loss_sum(case)
    X, Y = case.arrays()
    n, bs = X.shape[0], case.batch_size
    initial = []
    for l in range(len(case.sizes) - 1):
        initial += [torch.tensor(net.weight(l)), torch.tensor(net.bias(l))]
    params = [p.clone().requires_grad_(True) for p in initial]
    # The batches, sliced once (setup, not timed).
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    batches = [(Xt[s : s + bs], Yt[s : s + bs]) for s in range(0, n, bs)]
    lr = case.lr
    last = {}

    def run():
        with torch.no_grad():
            for p, p0 in zip(params, initial):
                p.copy_(p0)
        history = np.empty(epochs, dtype=np.float64)
        for e in range(epochs):
            total = 0.0
            for Xb, Yb in batches:
                summed = loss_sum(params, Xb, Yb)
                (summed / Xb.shape[0]).backward()
                with torch.no_grad():
                    for p in params:
                        p.sub_(p.grad, alpha=lr)
                        p.grad = None
                total += summed.item()
            history[e] = total / n
        last["history"] = history

    # Warm up (first-call allocations and dispatch caches): one step's gradient, discarded.
    started = time.perf_counter()
    loss_sum(params, *batches[0]).backward()
    for p in params:
        p.grad = None
    warmup = time.perf_counter() - started

    def outcome():
        return last["history"], np.concatenate([p.detach().numpy().ravel() for p in params])

    return Prepared(run, epochs, epochs * n, outcome, warmup)
