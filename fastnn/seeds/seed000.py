"""Seed 000, "Exercise project X": a 2-2-1 ReLU network trained by hand-derived backprop.

Node 1 = x1 w1 + x2 w3 + bias1, node 2 = x1 w2 + x2 w4 + bias2, node 3 = n1 w5 + n2 w6 +
bias3, so ``weight(0) = [[w1, w2], [w3, w4]]``, ``bias(0) = [bias1, bias2]``,
``weight(1) = [[w5], [w6]]``, ``bias(1) = [bias3]``. ``gradient`` and ``step`` are the
document's hand-derived backpropagation, in its words.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .. import datasets
from ..network import Network
from .layout import B, W
from .table import Group, Quantity, Seed

NAMES = {"w1": W(0, 0, 0), "w2": W(0, 0, 1), "w3": W(0, 1, 0), "w4": W(0, 1, 1), "bias1": B(0, 0),
         "bias2": B(0, 1), "w5": W(1, 0, 0), "w6": W(1, 1, 0), "bias3": B(1, 0)}
# Initial weights and biases, learning rate and epochs as printed.
INITIAL = dict(w1=1.0, w2=0.5, w3=1.0, w4=-0.5, w5=1.0, w6=1.0, bias1=0.5, bias2=0.0, bias3=0.5)
TRAINED = dict(w1=4.267625719636286, w2=0.3873420120939794, w3=0.6051373231390909, w4=-0.5844934909295154,
               w5=1.2964133122970964, w6=0.9859177515117474, bias1=-10.54437338995653,
               bias2=-0.028164496976505155, bias3=7.31565146412916)
LR = 0.005
EPOCHS = 1000
# The three rows the document writes out (before replacing them by unseeded np.random data).
X = ((1.0, 0.0), (2.0, 1.0), (3.0, 3.0))
Y = ((2.0,), (6.0,), (17.0,))
# fastnn draws the same distribution as the document's random data, seeded.
DATA_SEED = 0
# The three experiments at the end of the document: (label, lr, epochs). "By changing the
# range ... with 200" is read as the epoch loop's range(200).
EXPERIMENTS = (("1: epochs 500", 0.005, 500), ("2: range(200) epochs", 0.005, 200), ("3: lr 0.001", 0.001, 1000))
CHECKPOINTS = (200, 500, 1000)  # the document's epoch counts


def params(w):
    """Flat params of the 2-2-1 network from named weights (a dict)."""
    order = ("w1", "w2", "w3", "w4", "bias1", "bias2", "w5", "w6", "bias3")
    return np.array([w[name] for name in order], dtype=np.float64)


def network(weights=INITIAL):
    """The 2-2-1 ReLU network with squared error, holding the given named weights."""
    return Network([2, 2, 1], "relu", "squared_error", init=params(weights))


# ------------------------------------------------------------------ the document's backprop


def activation_ReLu(number):
    if number > 0:
        return number
    else:
        return 0


def activation_ReLu_partial_derivative(number):
    if number > 0:
        return 1
    else:
        return 0


def gradient(p, x, y):
    """The document's deriv_L_* for one row (input1, input2) -> true_value. The bracket is
    node 3's net input minus the target: no relu'(node 3) (its error, docs/seeds.md)."""
    w1, w2, w3, w4, w5, w6 = p["w1"], p["w2"], p["w3"], p["w4"], p["w5"], p["w6"]
    bias1, bias2, bias3 = p["bias1"], p["bias2"], p["bias3"]
    input1, input2 = x
    true_value = y[0]
    node_1_output = activation_ReLu(input1 * w1 + input2 * w3 + bias1)
    node_2_output = activation_ReLu(input1 * w2 + input2 * w4 + bias2)
    deriv_L_w5 = 2 * node_1_output * (node_1_output * w5 + node_2_output * w6 + bias3 - true_value)
    deriv_L_w6 = 2 * node_2_output * (node_1_output * w5 + node_2_output * w6 + bias3 - true_value)
    deriv_L_b3 = 2 * 1 * (node_1_output * w5 + node_2_output * w6 + bias3 - true_value)
    left5 = 2 * w5 * (node_1_output * w5 + node_2_output * w6 + bias3 - true_value)  # deriv_L_w1_left, ...
    left6 = 2 * w6 * (node_1_output * w5 + node_2_output * w6 + bias3 - true_value)  # deriv_L_w2_left, ...
    deriv_L_w1 = left5 * (activation_ReLu_partial_derivative(input1 * w1 + input2 * w3 + bias1) * input1)
    deriv_L_w2 = left6 * (activation_ReLu_partial_derivative(input1 * w2 + input2 * w4 + bias2) * input1)
    deriv_L_w3 = left5 * (activation_ReLu_partial_derivative(input1 * w1 + input2 * w3 + bias1) * input2)
    deriv_L_w4 = left6 * (activation_ReLu_partial_derivative(input1 * w2 + input2 * w4 + bias2) * input2)
    deriv_L_b1 = left5 * (activation_ReLu_partial_derivative(input1 * w1 + input2 * w3 + bias1) * 1)
    deriv_L_b2 = left6 * (activation_ReLu_partial_derivative(input1 * w2 + input2 * w4 + bias2) * 1)
    return dict(w1=deriv_L_w1, w2=deriv_L_w2, w3=deriv_L_w3, w4=deriv_L_w4, bias1=deriv_L_b1, bias2=deriv_L_b2,
                w5=deriv_L_w5, w6=deriv_L_w6, bias3=deriv_L_b3)


def step(p, x, y, LR):
    """One row's update: new_w1 = w1 - LR * deriv_L_w1, ..."""
    d = gradient(p, x, y)
    return {name: p[name] - LR * d[name] for name in p}


# ------------------------------------------------------------------ training


@lru_cache(None)
def _chain(lr, backend):
    # One run from the initial weights, paused at each checkpoint to predict(2, 5): per-sample
    # SGD in order, without shuffling, so fit(200) then fit(300) is fit(500).
    data_x, data_y = datasets.quadratic(100, seed=DATA_SEED)
    net = network()
    histories, predictions, done = [], {}, 0
    for stop in CHECKPOINTS:
        histories.append(net.fit(data_x, data_y, lr, stop - done, backend=backend))
        predictions[stop] = float(net.predict([[2, 5]], backend=backend)[0, 0])
        done = stop
    history = np.concatenate(histories)
    history.setflags(write=False)
    return history, predictions


def training(lr, epochs, backend):
    """The network trained from its initial weights on datasets.quadratic(100, seed=0) for
    ``epochs`` in CHECKPOINTS: (per-epoch mean loss history, predict(2, 5))."""
    history, predictions = _chain(lr, backend)
    return history[:epochs], predictions[epochs]


# ------------------------------------------------------------------ the walkthrough


def build():
    init_net = network(INITIAL)

    def read(slot):
        # numba column: the weight()/bias() view; reference column: the flat list at the
        # offset the reference reads (fastnn.spec's layout).
        return lambda b: slot.get(init_net) if b == "numba" else init_net.params.tolist()[slot.offset(init_net.spec)]

    printed_initial = dict(w1="1", w2="0.5", w3="1", w4="-0.5", w5="1", w6="1", bias1="0.5", bias2="0", bias3="0.5")
    initial = [Quantity(f"initial {n}", printed_initial[n], None, read(NAMES[n])) for n in NAMES]
    trained = network(TRAINED)
    predict = [Quantity("predict(2, 5)", "8.633539428660903", None,
                        lambda b: trained.predict([[2, 5]], backend=b)[0, 0])]
    main = (LR, EPOCHS)
    curve = [Quantity(f"epoch {e} mean loss", None, None, (lambda b, e=e: training(*main, b)[0][e - 1]))
             for e in (1, 10, 100, 500)]
    data_x, data_y = datasets.quadratic(100, seed=DATA_SEED)
    curve += [
        Quantity("epoch 1000 loss", "0.10165885808272854", None, lambda b: training(*main, b)[0][-1],
                 "document: loss of the last row of its own unseeded random data; fastnn: mean over "
                 "the epoch on datasets.quadratic(seed=0)", comparable=False),
        Quantity("document's trained weights: mean loss", None, None, lambda b: trained.loss(data_x, data_y, backend=b),
                 "its printed weights on this data: the same regime as fastnn's run"),
        Quantity("predict(2, 5) after training", "8.633539428660903", None, lambda b: training(*main, b)[1],
                 "document's weights came from other random data", comparable=False),
    ]
    experiments = []
    for label, lr, epochs in EXPERIMENTS:
        experiments += [
            Quantity(f"exp {label}: final loss", None, None, (lambda b, lr=lr, e=epochs: training(lr, e, b)[0][-1]),
                     f"lr {lr}, {epochs} epochs; the document prints no number"),
            Quantity(f"exp {label}: predict(2, 5)", None, None, (lambda b, lr=lr, e=epochs: training(lr, e, b)[1])),
        ]
    groups = [
        Group("initial", "initial weights (document's names -> views)",
              "kernel: weight()/bias() views; reference: flat params at fastnn.spec offsets", initial),
        Group("predict", "the printed trained weights", "predict([[2, 5]])", predict),
        Group("train", f"training on datasets.quadratic(100, seed={DATA_SEED}), lr {LR}, {EPOCHS} epochs",
              "fit(X, y, lr, epochs): per-sample SGD, mean loss per epoch", curve),
        Group("experiments", "the document's three experiments (same data)", "fit(...)[-1], predict([[2, 5]])",
              experiments),
    ]
    return Seed(
        "000", "Exercise project X: 2-2-1 ReLU network trained by hand-derived backprop",
        f"{init_net!r}; lr {LR}, {EPOCHS} epochs of per-sample SGD", NAMES,
        [("node_1_output, node_2_output", "layer 0 outputs [0], [1]"),
         ("node_3_output = predicted_value", "predict()[0, 0]"),
         ("loss = (predicted - true)**2", "loss 'squared_error'")],
        groups,
        ["The document's updates leave out the output ReLU's derivative (the audit finds it at random "
         "points where node 3's net input is negative); with its weights that net input stays positive, "
         "so its own training is not affected.",
         "Its training data is unseeded np.random: the loss curve is shown on "
         f"datasets.quadratic(seed={DATA_SEED}), and its printed loss is one row's loss, fastnn's the epoch mean."],
        audited=(step, network(INITIAL), X, Y, LR),
    )
