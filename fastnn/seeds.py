"""The seed documents' networks, as fastnn Networks with the documents' own weights.

Every seed names its weights its own way (w1..w9, bias1..bias4, b0...). ``SEEDnnn_NAMES``
maps each name onto a ``Slot``: an entry of ``Network.weight(l)`` (shape (n_in, n_out),
``z = inputs @ W + b``, so ``weight(l)[i, j]`` connects input i to unit j) or of
``Network.bias(l)``. ``network_from_names`` builds a network by writing every named value
through those views, and checks that the names cover every parameter exactly once.

* seed 000 (2-2-1 ReLU, squared error): node 1 = x1 w1 + x2 w3 + bias1, node 2 =
  x1 w2 + x2 w4 + bias2, node 3 = n1 w5 + n2 w6 + bias3, so
  ``weight(0) = [[w1, w2], [w3, w4]]``, ``bias(0) = [bias1, bias2]``,
  ``weight(1) = [[w5], [w6]]``, ``bias(1) = [bias3]``.
* seed 001 (2-3-1 ReLU, squared error): node k = x1 w_k + x2 w_(k+3) + bias_k for
  k = 1, 2, 3; node 4 = n1 w7 + n2 w8 + n3 w9 + bias4, so
  ``weight(0) = [[w1, w2, w3], [w4, w5, w6]]``, ``bias(0) = [bias1, bias2, bias3]``,
  ``weight(1) = [[w7], [w8], [w9]]``, ``bias(1) = [bias4]``.
* seed 002 (2-2-2 sigmoid, no biases, half squared error): net_h1 = w1 i1 + w2 i2,
  net_h2 = w3 i1 + w4 i2, net_o1 = w5 a_h1 + w6 a_h2, net_o2 = w7 a_h1 + w8 a_h2, so
  ``weight(0) = [[w1, w3], [w2, w4]]`` and ``weight(1) = [[w5, w7], [w6, w8]]``.
* seed 003 (Victor Zhou's 2-2-1 sigmoid): h1 = g(x1 w1 + x2 w2 + b1), h2 =
  g(x1 w3 + x2 w4 + b2), o1 = g(h1 w5 + h2 w6 + b3), so
  ``weight(0) = [[w1, w3], [w2, w4]]``, ``bias(0) = [b1, b2]``,
  ``weight(1) = [[w5], [w6]]``, ``bias(1) = [b3]``.
* seed 004 (nnfs single neuron, 3 inputs, ReLU, loss z^2): ``weight(0) = [[w0], [w1],
  [w2]]``, ``bias(0) = [b0]``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import Network


@dataclass(frozen=True)
class Slot:
    """One parameter of a network: ``weight(layer)[i, j]`` or ``bias(layer)[j]``."""

    kind: str  # "weight" or "bias"
    layer: int
    index: tuple

    def __str__(self):
        return f"{self.kind}({self.layer})[{', '.join(str(i) for i in self.index)}]"

    def view(self, net):
        return net.weight(self.layer) if self.kind == "weight" else net.bias(self.layer)

    def get(self, net):
        return float(self.view(net)[self.index])

    def set(self, net, value):
        self.view(net)[self.index] = value

    def offset(self, spec):
        """Index of this parameter in the flat params (the layout ``fastnn.spec`` documents)."""
        if self.kind == "weight":
            i, j = self.index
            return spec.weight_offset(self.layer) + i * spec.sizes[self.layer + 1] + j
        return spec.bias_offset(self.layer) + self.index[0]


def W(layer, i, j):
    return Slot("weight", layer, (i, j))


def B(layer, j):
    return Slot("bias", layer, (j,))


def network_from_names(sizes, activation, loss, names, values, bias=True):
    """A Network whose parameters are set, name by name, through weight()/bias() views.

    ``names`` maps each document name to its Slot; ``values`` maps the same names to
    numbers. Raises ValueError unless the names cover every parameter exactly once.
    """
    net = Network(sizes, activation, loss, bias=bias, init="zeros")
    offsets = sorted(slot.offset(net.spec) for slot in names.values())
    if offsets != list(range(net.n_params)):
        raise ValueError(f"the names {sorted(names)} do not cover the {net.n_params} parameters once each")
    if set(values) != set(names):
        raise ValueError(f"values for {sorted(values)}, names for {sorted(names)}")
    for name, slot in names.items():
        slot.set(net, float(values[name]))
    return net


def floats(printed):
    """A dict of printed numbers (strings) as floats."""
    return {name: float(text) for name, text in printed.items()}


# ------------------------------------------------------------------ seed 000

SEED000_NAMES = {
    "w1": W(0, 0, 0),
    "w2": W(0, 0, 1),
    "w3": W(0, 1, 0),
    "w4": W(0, 1, 1),
    "bias1": B(0, 0),
    "bias2": B(0, 1),
    "w5": W(1, 0, 0),
    "w6": W(1, 1, 0),
    "bias3": B(1, 0),
}
# Seed 000: initial weights and biases, learning rate and epochs as printed.
SEED000_INITIAL = dict(w1=1.0, w2=0.5, w3=1.0, w4=-0.5, w5=1.0, w6=1.0, bias1=0.5, bias2=0.0, bias3=0.5)
SEED000_TRAINED = dict(
    w1=4.267625719636286,
    w2=0.3873420120939794,
    w3=0.6051373231390909,
    w4=-0.5844934909295154,
    w5=1.2964133122970964,
    w6=0.9859177515117474,
    bias1=-10.54437338995653,
    bias2=-0.028164496976505155,
    bias3=7.31565146412916,
)
SEED000_LR = 0.005
SEED000_EPOCHS = 1000
# The document's data is unseeded np.random; fastnn draws the same distribution seeded.
SEED000_DATA_SEED = 0
# The three experiments at the end of the document: (label, lr, epochs). "By changing the
# range ... with 200" is read as the epoch loop's range(200).
SEED000_EXPERIMENTS = (
    ("1: epochs 500", 0.005, 500),
    ("2: range(200) epochs", 0.005, 200),
    ("3: lr 0.001", 0.001, 1000),
)


def seed000_params(w):
    """Flat params of the 2-2-1 network from seed 000's named weights (a dict)."""
    return np.array(
        [w["w1"], w["w2"], w["w3"], w["w4"], w["bias1"], w["bias2"], w["w5"], w["w6"], w["bias3"]],
        dtype=np.float64,
    )


def seed000_network(weights=SEED000_INITIAL):
    """Seed 000's 2-2-1 ReLU network with squared error, holding the given named weights."""
    return Network([2, 2, 1], "relu", "squared_error", init=seed000_params(weights))


# ------------------------------------------------------------------ seed 001

SEED001_NAMES = {
    "w1": W(0, 0, 0),
    "w2": W(0, 0, 1),
    "w3": W(0, 0, 2),
    "w4": W(0, 1, 0),
    "w5": W(0, 1, 1),
    "w6": W(0, 1, 2),
    "bias1": B(0, 0),
    "bias2": B(0, 1),
    "bias3": B(0, 2),
    "w7": W(1, 0, 0),
    "w8": W(1, 1, 0),
    "w9": W(1, 2, 0),
    "bias4": B(1, 0),
}
SEED001_X = ((1.0, 0.0),)  # input1 = 1, input2 = 0
SEED001_Y = ((2.0,),)  # true_value = 2
SEED001_LRS = (0.01, 0.05, 0.1, 0.1)
# The weight tables the document prints: the initial values, then "NEW WEIGHTS AND BIASES"
# after each of the four steps (each step starts from the previous table).
SEED001_PRINTED = (
    dict(w1="1", w2="0.5", w3="1", w4="-0.5", w5="1", w6="1", w7="0", w8="1", w9="0.5",
         bias1="0.5", bias2="0", bias3="0.5", bias4="0.5"),
    dict(w1="1.0", w2="0.505", w3="1.0", w4="-0.5", w5="1.0", w6="1.0", w7="0.0075", w8="1.0025",
         w9="0.5075", bias1="0.5", bias2="0.005", bias3="0.5025", bias4="0.505"),
    dict(w1="1.0001574671875", w2="0.5260481140625001", w3="1.0", w4="-0.5", w5="1.0", w6="1.0",
         w7="0.03899343750000005", w8="1.01320776875", w9="0.5390459265624999",
         bias1="0.5001574671875", bias2="0.02604811406250003", bias3="0.5131552796875",
         bias4="0.5259956250000001"),
    dict(w1="1.0004729518693287", w2="0.5342456865527545", w3="1.0", w4="-0.5", w5="1.0", w6="1.0",
         w7="0.05113205389446743", w8="1.0176746204572609", w9="0.5512884304958765",
         bias1="0.5004729518693287", bias2="0.03424568655275451", bias3="0.517516545160251",
         bias4="0.5340863372340445"),
    dict(w1="1.0002074605332418", w2="0.5289616470098768", w3="1.0", w4="-0.5", w5="1.0", w6="1.0",
         w7="0.04333874024819426", w8="1.0147228607937206", w9="0.5434090776355339",
         bias1="0.5002074605332418", bias2="0.028961647009876766", bias3="0.514654107788115",
         bias4="0.5288940690604474"),
)


def seed001_network(weights):
    """Seed 001's 2-3-1 ReLU network with squared error, from named weights (numbers)."""
    return network_from_names([2, 3, 1], "relu", "squared_error", SEED001_NAMES, weights)


# ------------------------------------------------------------------ seed 002

SEED002_NAMES = {
    "w1": W(0, 0, 0),
    "w2": W(0, 1, 0),
    "w3": W(0, 0, 1),
    "w4": W(0, 1, 1),
    "w5": W(1, 0, 0),
    "w6": W(1, 1, 0),
    "w7": W(1, 0, 1),
    "w8": W(1, 1, 1),
}
SEED002_WEIGHTS = dict(w1=0.8, w2=0.4, w3=0.3, w4=0.2, w5=0.6, w6=0.9, w7=0.8, w8=0.1)
SEED002_X = ((0.1, 0.5),)  # i1, i2
SEED002_Y = ((0.05, 0.95),)  # t1, t2
SEED002_LR = 0.001


def seed002_network(weights=SEED002_WEIGHTS):
    """Seed 002's 2-2-2 sigmoid network, no biases, E = 1/2 sum (t - a)^2."""
    return network_from_names([2, 2, 2], "sigmoid", "half_squared_error", SEED002_NAMES, weights, bias=False)


# ------------------------------------------------------------------ seed 003

SEED003_NAMES = {
    "w1": W(0, 0, 0),
    "w2": W(0, 1, 0),
    "w3": W(0, 0, 1),
    "w4": W(0, 1, 1),
    "b1": B(0, 0),
    "b2": B(0, 1),
    "w5": W(1, 0, 0),
    "w6": W(1, 1, 0),
    "b3": B(1, 0),
}
SEED003_NEURON_NAMES = {"w1": W(0, 0, 0), "w2": W(0, 1, 0), "b": B(0, 0)}
SEED003_NEURON = dict(w1=0.0, w2=1.0, b=4.0)  # w = [0, 1], b = 4
SEED003_NEURON_X = ((2.0, 3.0),)
# "For simplicity, each neuron will have the same weights and bias": w = [0, 1], b = 0.
SEED003_FEEDFORWARD = dict(w1=0.0, w2=1.0, w3=0.0, w4=1.0, b1=0.0, b2=0.0, w5=0.0, w6=1.0, b3=0.0)
# Alice's example: "all the weights will be initialized to 1, and all the biases to 0".
SEED003_ALICE = dict(w1=1.0, w2=1.0, w3=1.0, w4=1.0, b1=0.0, b2=0.0, w5=1.0, w6=1.0, b3=0.0)
# Training on the four people as in Victor Zhou's original: per-sample SGD in order,
# lr 0.1, 1000 epochs. fastnn's "he" init draws N(0, 2/n_in) = N(0, 1) for these 2-input
# layers, as the original's np.random.normal (biases start at 0 here, random there).
SEED003_LR = 0.1
SEED003_EPOCHS = 1000
SEED003_INIT = "he"
SEED003_INIT_SEED = 0


def seed003_network(weights, loss="squared_error"):
    """Seed 003's 2-2-1 sigmoid network from named weights; per-sample loss (1 - y)^2."""
    return network_from_names([2, 2, 1], "sigmoid", loss, SEED003_NAMES, weights)


# ------------------------------------------------------------------ seed 004

SEED004_NAMES = {"w0": W(0, 0, 0), "w1": W(0, 1, 0), "w2": W(0, 2, 0), "b0": B(0, 0)}
SEED004_WEIGHTS = dict(w0=-3.0, w1=-1.0, w2=2.0, b0=1.0)
SEED004_X = ((1.0, -2.0, 3.0),)
SEED004_Y = ((0.0,),)  # loss = z^2 = (relu(...) - 0)^2
SEED004_LR = 0.001
SEED004_ITERATIONS = 200


def seed004_network(weights=SEED004_WEIGHTS):
    """Seed 004's single ReLU neuron with 3 inputs and loss (output - 0)^2."""
    return network_from_names([3, 1], "relu", "squared_error", SEED004_NAMES, weights)
