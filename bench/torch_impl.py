"""PyTorch comparison: eager mode, CPU, float64, one thread, manual SGD.

Each step runs the forward pass on its sample (or mini-batch), ``loss.backward()``, then
``p -= lr * p.grad`` for every parameter under ``no_grad`` -- what a user writing a plain
PyTorch training loop does, without ``torch.optim`` overhead. Weights use fastnn's layout,
``z = x @ W + b`` with W (n_in, n_out). ``torch.relu``'s derivative at 0 is 0, as in
fastnn. Softmax + categorical cross-entropy comes from ``log_softmax`` (see jax_impl).
"""
import numpy as np
import torch

from .cases import Prepared

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

    def loss_sum(params, X, Y):
        a = X
        for l, name in enumerate(acts):
            z = a @ params[2 * l] + params[2 * l + 1]
            if name == "softmax":
                return -(Y * torch.log_softmax(z, dim=-1)).sum()
            a = _ACTIVATIONS[name](z)
        diff = a - Y
        if case.loss == "squared_error":
            return (diff * diff).sum()
        if case.loss == "half_squared_error":
            return 0.5 * (diff * diff).sum()
        raise NotImplementedError(f"torch_impl: loss {case.loss!r}")

    if case.loss == "categorical_cross_entropy" and acts[-1] != "softmax":
        raise NotImplementedError("torch_impl: categorical_cross_entropy needs softmax")
    assert n_layers >= 1
    return loss_sum


def prepare(case, epochs):
    torch.set_num_threads(1)
    X, Y = case.arrays()
    n, bs = X.shape[0], case.batch_size
    net = case.network()
    initial = []
    for l in range(len(case.sizes) - 1):
        initial += [torch.tensor(net.weight(l)), torch.tensor(net.bias(l))]
    params = [p.clone().requires_grad_(True) for p in initial]
    # The batches, sliced once (setup, not timed).
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    batches = [(Xt[s : s + bs], Yt[s : s + bs]) for s in range(0, n, bs)]
    loss_sum = _batch_loss_sum(case)
    lr = case.lr
    last = {}

    def run():
        with torch.no_grad():
            for p, p0 in zip(params, initial):
                p.copy_(p0)
        history = np.empty(epochs)
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
    loss_sum(params, *batches[0]).backward()
    for p in params:
        p.grad = None

    def outcome():
        return last["history"], np.concatenate([p.detach().numpy().ravel() for p in params])

    return Prepared(run, epochs, epochs * n, outcome)
