"""Seed 004, nnfs: backpropagation of a single ReLU neuron (3 inputs, loss z^2).

``weight(0) = [[w0], [w1], [w2]]``, ``bias(0) = [b0]``; loss ``squared_error`` against
target 0. ``gradient`` and ``step`` are one iteration of the document's loop, in its words.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .layout import B, W, named, network_from_names
from .table import Group, Quantity, Seed

NAMES = {"w0": W(0, 0, 0), "w1": W(0, 1, 0), "w2": W(0, 2, 0), "b0": B(0, 0)}
WEIGHTS = dict(w0=-3.0, w1=-1.0, w2=2.0, b0=1.0)
X = ((1.0, -2.0, 3.0),)
Y = ((0.0,),)  # loss = z^2 = (relu(...) - 0)^2
LR = 0.001
ITERATIONS = 200


def network(weights=WEIGHTS):
    """The single ReLU neuron with 3 inputs and loss (output - 0)^2."""
    return network_from_names([3, 1], "relu", "squared_error", NAMES, weights)


def gradient(p, x, y):
    """The backward pass: dloss_dweights, dloss_dbias (analytic, whatever its text says)."""
    weights, bias = np.array([p["w0"], p["w1"], p["w2"]]), p["b0"]
    inputs, target_output = np.array(x, dtype=np.float64), y[0]
    linear_output = weights @ inputs + bias  # np.dot in the document: the same bits, immune to nnfs.init()
    output = np.maximum(0, linear_output)  # relu
    dloss_doutput = 2 * (output - target_output)
    doutput_dlinear = np.where(linear_output > 0, 1.0, 0.0)  # relu_derivative
    dlinear_dweights = inputs
    dlinear_dbias = 1.0
    dloss_dlinear = dloss_doutput * doutput_dlinear
    dloss_dweights = dloss_dlinear * dlinear_dweights
    dloss_dbias = dloss_dlinear * dlinear_dbias
    return dict(zip(("w0", "w1", "w2"), dloss_dweights.tolist()), b0=float(dloss_dbias))


def step(p, x, y, learning_rate):
    """weights -= learning_rate * dloss_dweights; bias -= learning_rate * dloss_dbias."""
    d = gradient(p, x, y)
    return {name: p[name] - learning_rate * d[name] for name in p}


@lru_cache(None)
def loop(backend):
    """The 200 iterations: (loss history, final named parameters). Cached."""
    net = network()
    history = net.fit([list(X[0])], [list(Y[0])], LR, ITERATIONS, backend=backend)
    history.setflags(write=False)
    return history, named(net, NAMES)


def build():
    printed = {1: "36.0", 2: "33.872399999999985", 3: "31.870541159999995", 4: "29.98699217744401",
               197: "0.00023486717989213552", 198: "0.00022098652956051033", 199: "0.0002079262256634926",
               200: "0.00019563778572677975"}
    loss_rows = [Quantity(f"iteration {i} loss", printed.get(i), None, (lambda b, i=i: loop(b)[0][i - 1]))
                 for i in sorted(set(printed) | {50, 100, 150})]
    final = [
        Quantity("final w0", "-3.3990955", 8, lambda b: loop(b)[1]["w0"]),
        Quantity("final w1", "-0.20180899", 8, lambda b: loop(b)[1]["w1"]),
        Quantity("final w2", "0.80271349", 8, lambda b: loop(b)[1]["w2"]),
        Quantity("final bias", "0.6009044964039992", None, lambda b: loop(b)[1]["b0"]),
    ]
    groups = [
        Group("loss", f"the loop: lr {LR}, {ITERATIONS} iterations (full precision prints)",
              "fit(X, y, lr, 200): history[i - 1] is iteration i's loss, before its update", loss_rows),
        Group("final", "final parameters (numpy prints 8 decimals; the bias at full precision)",
              "the weight()/bias() views after fit()", final),
    ]
    return Seed(
        "004", "nnfs: backpropagation of a single ReLU neuron, loss z^2",
        f"{network()!r}; lr {LR}, {ITERATIONS} iterations on x = [1, -2, 3], target 0", NAMES,
        [("linear_output", "layer 0 net input"), ("output = relu(linear_output)", "predict()[0, 0]"),
         ("loss = (output - 0)**2", "loss 'squared_error'")],
        groups,
        ["The text says 'we then use numerical differentiation to approximate the gradient'; the code uses "
         "the analytic gradient. The audit finds it right, so the numbers are right either way.",
         "Full-precision losses agree to ~3e-14 (relative), not bit for bit: numpy's dot sums in another "
         "order; the final bias is bit-identical."],
        audited=(step, network(), X, Y, LR),
    )
