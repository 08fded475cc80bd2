"""Seed 002, "Module 11 activity": a 2-2-2 sigmoid network, one forward and backward pass.

net_h1 = w1 i1 + w2 i2, net_h2 = w3 i1 + w4 i2, net_o1 = w5 a_h1 + w6 a_h2, net_o2 =
w7 a_h1 + w8 a_h2, so ``weight(0) = [[w1, w3], [w2, w4]]`` and ``weight(1) = [[w5, w7],
[w6, w8]]``; no biases, E = 1/2 sum (t - a)^2. ``gradient`` is the document's backward
pass, in its words (grad_w2 and grad_w3 swapped, docs/seeds.md).
"""
from __future__ import annotations

import math
from functools import lru_cache

from ..network import Network
from .layout import W, layer_net, named, network_from_names
from .table import Group, Quantity, Seed

NAMES = {"w1": W(0, 0, 0), "w2": W(0, 1, 0), "w3": W(0, 0, 1), "w4": W(0, 1, 1), "w5": W(1, 0, 0),
         "w6": W(1, 1, 0), "w7": W(1, 0, 1), "w8": W(1, 1, 1)}
WEIGHTS = dict(w1=0.8, w2=0.4, w3=0.3, w4=0.2, w5=0.6, w6=0.9, w7=0.8, w8=0.1)
X = ((0.1, 0.5),)  # i1, i2
Y = ((0.05, 0.95),)  # t1, t2
LR = 0.001


def network(weights=WEIGHTS):
    """The 2-2-2 sigmoid network, no biases, E = 1/2 sum (t - a)^2."""
    return network_from_names([2, 2, 2], "sigmoid", "half_squared_error", NAMES, weights, bias=False)


def gradient(p, x, y):
    """The document's grad_w1 .. grad_w8 (its np.exp on a float: math.exp here)."""
    def sigmoid(x):
        return 1 / (1 + math.exp(-x))

    def sigmoid_derivative(x):  # takes the activation
        return x * (1 - x)

    i1, i2 = x
    t1, t2 = y
    a_h1 = sigmoid(p["w1"] * i1 + p["w2"] * i2)
    a_h2 = sigmoid(p["w3"] * i1 + p["w4"] * i2)
    a_o1 = sigmoid(p["w5"] * a_h1 + p["w6"] * a_h2)
    a_o2 = sigmoid(p["w7"] * a_h1 + p["w8"] * a_h2)
    delta_o1 = (a_o1 - t1) * sigmoid_derivative(a_o1)
    delta_o2 = (a_o2 - t2) * sigmoid_derivative(a_o2)
    grad_w5, grad_w6 = delta_o1 * a_h1, delta_o1 * a_h2
    grad_w7, grad_w8 = delta_o2 * a_h1, delta_o2 * a_h2
    delta_h1 = (delta_o1 * p["w5"] + delta_o2 * p["w7"]) * sigmoid_derivative(a_h1)
    delta_h2 = (delta_o1 * p["w6"] + delta_o2 * p["w8"]) * sigmoid_derivative(a_h2)
    grad_w1 = delta_h1 * i1
    grad_w2 = delta_h2 * i1  # sic: w2 connects i2 -> h1
    grad_w3 = delta_h1 * i2  # sic: w3 connects i1 -> h2
    grad_w4 = delta_h2 * i2
    return dict(w1=grad_w1, w2=grad_w2, w3=grad_w3, w4=grad_w4, w5=grad_w5, w6=grad_w6, w7=grad_w7, w8=grad_w8)


def build():
    x, y = [list(X[0])], [list(Y[0])]
    net = network()

    @lru_cache(None)
    def forward(backend):
        z_h = layer_net(net, 0, "linear").predict(x, backend=backend)
        a_h = layer_net(net, 0).predict(x, backend=backend)
        z_o = layer_net(net, 1, "linear").predict(a_h, backend=backend)
        a_o = net.predict(x, backend=backend)
        return dict(net_h1=z_h[0, 0], a_h1=a_h[0, 0], net_h2=z_h[0, 1], a_h2=a_h[0, 1],
                    net_o1=z_o[0, 0], a_o1=a_o[0, 0], net_o2=z_o[0, 1], a_o2=a_o[0, 1])

    def output_error(j):
        # E_j alone: the same network with only output j, loss 1/2 (t_j - a_oj)^2.
        sub = Network([2, 2, 1], "sigmoid", "half_squared_error", bias=False, init="zeros")
        sub.weight(0)[:] = net.weight(0)
        sub.weight(1)[:, 0] = net.weight(1)[:, j]
        return lambda backend: sub.loss(x, [[y[0][j]]], backend=backend)

    @lru_cache(None)
    def grad(backend):
        return named(net, NAMES, net.gradient(x, y, backend=backend))

    @lru_cache(None)
    def trained(backend):
        n = network()
        n.fit(x, y, LR, 1, backend=backend)
        return named(n, NAMES)

    printed_forward = dict(net_h1="0.2800", a_h1="0.5695", net_h2="0.1300", a_h2="0.5325", net_o1="0.8209",
                           a_o1="0.6944", net_o2="0.5089", a_o2="0.6245")
    printed_grad = dict(w5="0.07788311", w6="0.07281094", w7="-0.04346529", w8="-0.04063459",
                        w1="0.00051472", w2="0.00287383", w3="0.00257361", w4="0.01436917")
    printed_new = dict(w1="0.79999949", w2="0.39999713", w3="0.29999743", w4="0.19998563", w5="0.59992212",
                       w6="0.89992719", w7="0.80004347", w8="0.10004063")
    swapped = {
        "w2": "grad_w2 = delta_h2 * i1 is w3's gradient; w2 connects i2 -> h1: delta_h1 * i2",
        "w3": "grad_w3 = delta_h1 * i2 is w2's gradient; w3 connects i1 -> h2: delta_h2 * i1",
    }
    groups = [
        Group("forward", "1. forward pass (printed to 4 decimals)",
              "layer-0 predict() with 'linear' (net) and sigmoid (a); layer 1 likewise; predict()",
              [Quantity(n, t, 4, (lambda b, n=n: forward(b)[n])) for n, t in printed_forward.items()]),
        Group("errors", "2. error calculation (8 decimals)",
              "loss 'half_squared_error' of the o1-only / o2-only network; loss() for E_total",
              [Quantity("E1", "0.20764831", 8, output_error(0)),
               Quantity("E2", "0.05296066", 8, output_error(1)),
               Quantity("E_total", "0.26060897", 8, lambda b: net.loss(x, y, backend=b))]),
        Group("gradients", "3. gradients (8 decimals)", "gradient()",
              [Quantity(f"grad {n}", t, 8, (lambda b, n=n: grad(b)[n]), swapped.get(n, ""))
               for n, t in printed_grad.items()]),
        Group("updated", f"updated weights after one step, lr {LR} (8 decimals)",
              "fit(X, y, lr, 1) then the weight() views",
              [Quantity(f"new {n}", t, 8, (lambda b, n=n: trained(b)[n]),
                        ("from the swapped gradient: " + swapped[n].split(";")[0]) if n in swapped else "")
               for n, t in printed_new.items()]),
    ]
    return Seed(
        "002", "Module 11 activity: 2-2-2 sigmoid network, one forward and backward pass",
        f"{net!r}; lr {LR}, one step on (0.1, 0.5) -> (0.05, 0.95)", NAMES,
        [("net_h1, net_h2 / a_h1, a_h2", "layer 0 net inputs / outputs"),
         ("net_o1, net_o2 / a_o1, a_o2", "layer 1 net inputs / predict()"),
         ("E_total = E1 + E2 = 1/2 sum (t - a)^2", "loss 'half_squared_error'")],
        groups,
        ["The activity asks for 'Mean Squared Error'; the code computes 1/2 sum of squares, which for two "
         "outputs is the same number as the mean over the outputs (fastnn 'mse') and has the same gradient.",
         "Its gaussian is garbled as np.exp(-x^{**2}); it means exp(-x**2), fastnn's 'gaussian' "
         "(see the --plot figure)."],
        audited=(gradient, network(), X, Y, None),
    )
