"""Seed 003: Victor Zhou's network dissected (a sigmoid neuron, a 2-2-1 sigmoid network, dL/dw1).

h1 = g(x1 w1 + x2 w2 + b1), h2 = g(x1 w3 + x2 w4 + b2), o1 = g(h1 w5 + h2 w6 + b3), so
``weight(0) = [[w1, w3], [w2, w4]]``, ``bias(0) = [b1, b2]``, ``weight(1) = [[w5], [w6]]``,
``bias(1) = [b3]``. ``step`` is the training step the document dissects and ``dL_dw1`` its
worked derivative, in its words.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .. import datasets
from ..network import Network
from .layout import B, W, layer_net, named, network_from_names
from .table import Group, Quantity, Seed

NAMES = {"w1": W(0, 0, 0), "w2": W(0, 1, 0), "w3": W(0, 0, 1), "w4": W(0, 1, 1), "b1": B(0, 0), "b2": B(0, 1),
         "w5": W(1, 0, 0), "w6": W(1, 1, 0), "b3": B(1, 0)}
NEURON_NAMES = {"w1": W(0, 0, 0), "w2": W(0, 1, 0), "b": B(0, 0)}
NEURON = dict(w1=0.0, w2=1.0, b=4.0)  # w = [0, 1], b = 4
NEURON_X = ((2.0, 3.0),)
# "For simplicity, each neuron will have the same weights and bias": w = [0, 1], b = 0.
FEEDFORWARD = dict(w1=0.0, w2=1.0, w3=0.0, w4=1.0, b1=0.0, b2=0.0, w5=0.0, w6=1.0, b3=0.0)
# Alice's example: "all the weights will be initialized to 1, and all the biases to 0".
ALICE = dict(w1=1.0, w2=1.0, w3=1.0, w4=1.0, b1=0.0, b2=0.0, w5=1.0, w6=1.0, b3=0.0)
ALICE_X, ALICE_Y = ((-2.0, -1.0),), ((1.0,),)
# Training on the four people as in Victor Zhou's original: per-sample SGD in order,
# lr 0.1, 1000 epochs. fastnn's "he" init draws N(0, 2/n_in) = N(0, 1) for these 2-input
# layers, as the original's np.random.normal (biases start at 0 here, random there).
LR = 0.1
EPOCHS = 1000
INIT = "he"
INIT_SEED = 0


def network(weights, loss="squared_error"):
    """The 2-2-1 sigmoid network from named weights; per-sample loss (1 - y)^2."""
    return network_from_names([2, 2, 1], "sigmoid", loss, NAMES, weights)


def step(p, inputs, y, learning_rate):
    """The training step (loss (y_true - y_pred)^2), ``self.w1`` as ``s["w1"]``."""
    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    def sigmoid_derivative(x):
        fx = sigmoid(x=x)
        return fx * (1 - fx)

    s = dict(p)
    y_true = y[0]
    sum_h1 = s["w1"] * inputs[0] + s["w2"] * inputs[1] + s["b1"]
    h1 = sigmoid(x=sum_h1)
    sum_h2 = s["w3"] * inputs[0] + s["w4"] * inputs[1] + s["b2"]
    h2 = sigmoid(x=sum_h2)
    sum_o1 = s["w5"] * h1 + s["w6"] * h2 + s["b3"]
    o1 = sigmoid(x=sum_o1)
    y_pred = o1
    dL_dypred = -2 * (y_true - y_pred)
    dypred_dw5 = h1 * sigmoid_derivative(x=sum_o1)
    dypred_dw6 = h2 * sigmoid_derivative(x=sum_o1)
    dypred_db3 = 1 * sigmoid_derivative(x=sum_o1)
    dypred_dh1 = s["w5"] * sigmoid_derivative(x=sum_o1)
    dypred_dh2 = s["w6"] * sigmoid_derivative(x=sum_o1)
    dh1_dw1 = inputs[0] * sigmoid_derivative(x=sum_h1)
    dh1_dw2 = inputs[1] * sigmoid_derivative(x=sum_h1)
    dh1_db1 = 1 * sigmoid_derivative(x=sum_h1)
    dh2_dw3 = inputs[0] * sigmoid_derivative(x=sum_h2)
    dh2_dw4 = inputs[1] * sigmoid_derivative(x=sum_h2)
    dh2_db2 = 1 * sigmoid_derivative(x=sum_h2)
    s["w1"] -= learning_rate * dL_dypred * dypred_dh1 * dh1_dw1
    s["w2"] -= learning_rate * dL_dypred * dypred_dh1 * dh1_dw2
    s["b1"] -= learning_rate * dL_dypred * dypred_dh1 * dh1_db1
    s["w3"] -= learning_rate * dL_dypred * dypred_dh2 * dh2_dw3
    s["w4"] -= learning_rate * dL_dypred * dypred_dh2 * dh2_dw4
    s["b2"] -= learning_rate * dL_dypred * dypred_dh2 * dh2_db2
    s["w5"] -= learning_rate * dL_dypred * dypred_dw5
    s["w6"] -= learning_rate * dL_dypred * dypred_dw6
    s["b3"] -= learning_rate * dL_dypred * dypred_db3
    return s


def dL_dw1(w, x1, x2, y):
    """dL/dw1 = dL/dypred * dypred/dh1 * dh1/dw1, with its intermediates, unrounded."""
    g = lambda v: 1.0 / (1.0 + math.exp(-v))
    sum_h1 = w["w1"] * x1 + w["w2"] * x2 + w["b1"]
    sum_h2 = w["w3"] * x1 + w["w4"] * x2 + w["b2"]
    h1, h2 = g(sum_h1), g(sum_h2)
    sum_o1 = w["w5"] * h1 + w["w6"] * h2 + w["b3"]
    o1 = g(sum_o1)
    d_ypred = -2 * (y - o1)
    dypred_dh1 = w["w5"] * (g(sum_o1) * (1 - g(sum_o1)))
    dh1_dw1 = x1 * (g(sum_h1) * (1 - g(sum_h1)))
    return dict(h1=h1, h2=h2, sum_o1=sum_o1, o1=o1, dL_dypred=d_ypred, dypred_dh1=dypred_dh1,
                dh1_dw1=dh1_dw1, dL_dw1=d_ypred * dypred_dh1 * dh1_dw1)


def build():
    neuron = network_from_names([2, 1], "sigmoid", "mse", NEURON_NAMES, NEURON)
    ff = network(FEEDFORWARD)
    x2 = [list(NEURON_X[0])]
    xg, yg = datasets.gender()
    alice_x, alice_y = [list(ALICE_X[0])], [list(ALICE_Y[0])]
    alice = network(ALICE)
    single = [
        Quantity("(w . x) + b", "7", None, lambda b: layer_net(neuron, 0, "linear").predict(x2, backend=b)[0, 0]),
        Quantity("y = g(7) (text)", "0.999", 3, lambda b: neuron.predict(x2, backend=b)[0, 0]),
        Quantity("feed_forward([2, 3])", "0.9990889488055994", None, lambda b: neuron.predict(x2, backend=b)[0, 0]),
    ]
    hidden = lambda b: layer_net(ff, 0).predict(x2, backend=b)
    feed = [
        Quantity("h1 = h2 net input", "3", None, lambda b: layer_net(ff, 0, "linear").predict(x2, backend=b)[0, 0]),
        Quantity("h1 = h2 = g(3)", "0.9526", 4, lambda b: hidden(b)[0, 1]),
        Quantity("o1 net input", "0.9526", 4, lambda b: layer_net(ff, 1, "linear").predict(hidden(b), backend=b)[0, 0]),
        Quantity("o1 = g(0.9526) (text)", "0.7216", 4, lambda b: ff.predict(x2, backend=b)[0, 0]),
        Quantity("ann.feed_forward([2, 3])", "0.7216325609518421", None, lambda b: ff.predict(x2, backend=b)[0, 0]),
    ]
    zero = Network([2, 1], "linear", "mse", init="zeros")  # predicts 0 for everyone
    mse = [Quantity("MSE of always-0 predictions", "0.5", None, lambda b: zero.loss(xg, yg, backend=b))]

    @lru_cache(None)
    def parts(backend):
        h = layer_net(alice, 0).predict(alice_x, backend=backend)
        o1 = float(alice.predict(alice_x, backend=backend)[0, 0])
        h1 = float(h[0, 0])
        return dict(
            h1=h1, h2=float(h[0, 1]), sum_o1=float(layer_net(alice, 1, "linear").predict(h, backend=backend)[0, 0]),
            o1=o1,
            # the chain-rule factors, from this backend's activations
            dL_dypred=-2.0 * (alice_y[0][0] - o1), dypred_dh1=ALICE["w5"] * (o1 * (1.0 - o1)),
            dh1_dw1=alice_x[0][0] * (h1 * (1.0 - h1)),
            dL_dw1=named(alice, NAMES, alice.gradient(alice_x, alice_y, backend=backend))["w1"],
        )

    rows = [
        ("h1 = g(-3)", "0.0474", 4, "h1", ""),
        ("h2 = g(-3)", "0.0474", 4, "h2", ""),
        ("o1 net input", "0.0948", 4, "sum_o1",
         "rounding slip: adds the rounded h1 = h2 = 0.0474; 2 * 0.0474259 = 0.0948517 rounds to 0.0949 "
         "(harmless: o1 still 0.524)"),
        ("o1 = ypred", "0.524", 3, "o1", ""),
        ("dL/dypred = -2(1 - ypred)", "-0.952", 3, "dL_dypred",
         "rounding slip: -2(1 - 0.524) uses the rounded ypred; ypred = 0.5236952 gives -0.9526096 -> -0.953 "
         "(harmless: dL/dw1 still 0.0215)"),
        ("dypred/dh1 = w5 g'(0.0948)", "0.25", 2, "dypred_dh1", ""),
        ("dh1/dw1 = x1 g'(-3)", "-0.0904", 4, "dh1_dw1", ""),
        ("dL/dw1", "0.0215", 4, "dL_dw1", ""),
    ]
    alice_rows = [Quantity(name, text, dec, (lambda b, k=k: parts(b)[k]), reason) for name, text, dec, k, reason in rows]

    @lru_cache(None)
    def train(backend):
        net = Network([2, 2, 1], "sigmoid", "squared_error", init=INIT, seed=INIT_SEED)
        history = net.fit(xg, yg, LR, EPOCHS, backend=backend)
        return history, net.predict(xg, backend=backend)[:, 0]

    training = [Quantity("epoch 1 mean loss", None, None, lambda b: train(b)[0][0]),
                Quantity(f"epoch {EPOCHS} mean loss", None, None, lambda b: train(b)[0][-1])]
    for i, person in enumerate(datasets.GENDER_NAMES):
        target = "F (1)" if yg[i, 0] == 1.0 else "M (0)"
        training.append(Quantity(f"predict {person}", None, None, (lambda b, i=i: train(b)[1][i]), f"true: {target}"))
    groups = [
        Group("neuron", "a neuron: w = [0, 1], b = 4, x = [2, 3], sigmoid",
              "1-layer network: predict() with 'linear' and with sigmoid", single),
        Group("feedforward", "the 2-2-1 network, every neuron w = [0, 1], b = 0, x = [2, 3]",
              "layer-0 / layer-1 predict(); predict()", feed),
        Group("mse", "MSE on the gender data set when the network always outputs 0",
              "loss 'mse' of an all-zero linear network on datasets.gender()", mse),
        Group("alice", "dL/dw1 for Alice (-2, -1) -> 1, all weights 1, biases 0",
              "layer predict()s; chain factors from each backend's activations; gradient()", alice_rows),
        Group("train", f"training on the four people: lr {LR}, {EPOCHS} epochs, per-sample SGD in "
              f"order, init {INIT!r} seed {INIT_SEED} (the document prints no result)", "fit(); predict()", training),
    ]
    return Seed(
        "003", "Neural network from scratch (after Victor Zhou): neuron, 2-2-1 sigmoid network, dL/dw1",
        f"{alice!r}; per-sample loss (y - ypred)^2; lr {LR}, {EPOCHS} epochs", NAMES,
        [("h1, h2", "layer 0 outputs [0], [1]"), ("o1 = y_pred", "predict()[0, 0]"),
         ("L = (1 - ypred)^2 (Alice only)", "loss 'squared_error' ('mse' is the same for one output)")],
        groups,
        ["All formulas are right; two intermediate numbers are computed from already-rounded values and so "
         "miss their printed last digit (the final 0.0215 is right)."],
        audited=(step, alice, ALICE_X, ALICE_Y, LR),
    )
