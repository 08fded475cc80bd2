"""Seed walkthroughs: every number the seed documents print, recomputed by fastnn.

For each seed document (``fastnn.seeds`` holds its networks, weights and name mapping)
this module builds one list of ``Quantity`` rows, grouped in tables. A row holds the
number as the document prints it, how many digits it prints, and how fastnn computes it
(a function of the backend, run once with ``backend="numba"`` and once with
``backend="reference"``). The verdict compares the reference value with the printed one:

* ``match``: equal when rounded to the printed decimals; numbers printed at full
  precision (Python ``repr``) must agree to a relative ``FULL_RTOL`` = 1e-12, which allows
  for the last bits of a different summation order (numpy's ``dot`` in seed 004);
* ``seed error``: the document is wrong; the row carries a one-line reason and
  ``docs/seeds.md`` explains it with a finite-difference check;
* ``not printed``: the document prints no number (loss curves, experiments, training);
* ``not comparable``: the document's number comes from its own unseeded random data.

Rows of "derivation check" tables compare the value of the document's own formula
(transcribed below as ``seedNNN_document_*``) with fastnn's gradient and with central
finite differences (``fastnn.gradcheck``). Where a reference value disagrees with finite
differences the verdict is ``FD MISMATCH``: that would be a fastnn bug, never a seed error.

``run(seeds, plot_dir)`` prints the tables (``fastnn seeds``) and returns the exit status:
0 when every kernel value equals its reference value (to ``AGREE_RTOL``), else 1.
"""
from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Callable, Optional

import numpy as np

from . import datasets
from .gradcheck import numerical_gradient
from .network import Network
from .seeds import (
    SEED000_DATA_SEED,
    SEED000_EPOCHS,
    SEED000_EXPERIMENTS,
    SEED000_INITIAL,
    SEED000_LR,
    SEED000_NAMES,
    SEED000_TRAINED,
    SEED001_LRS,
    SEED001_NAMES,
    SEED001_PRINTED,
    SEED001_X,
    SEED001_Y,
    SEED002_LR,
    SEED002_NAMES,
    SEED002_X,
    SEED002_Y,
    SEED003_ALICE,
    SEED003_EPOCHS,
    SEED003_FEEDFORWARD,
    SEED003_INIT,
    SEED003_INIT_SEED,
    SEED003_LR,
    SEED003_NAMES,
    SEED003_NEURON,
    SEED003_NEURON_NAMES,
    SEED003_NEURON_X,
    SEED004_ITERATIONS,
    SEED004_LR,
    SEED004_NAMES,
    SEED004_WEIGHTS,
    SEED004_X,
    SEED004_Y,
    floats,
    network_from_names,
    seed000_network,
    seed001_network,
    seed002_network,
    seed003_network,
    seed004_network,
)

BACKENDS = ("numba", "reference")
FULL_RTOL = 1e-12  # printed at full precision: relative agreement required for "match"
AGREE_RTOL = 1e-12  # kernel vs reference: relative agreement required for exit status 0
FD_RTOL, FD_ATOL = 1e-6, 1e-7  # reference gradient vs central differences
SEED_IDS = ("000", "001", "002", "003", "004")

# ------------------------------------------------------------------ comparisons


def _norm(text):
    return text[1:] if text.startswith("-") and float(text) == 0.0 else text


def printed_match(value, printed, decimals):
    """Whether ``value`` is the number the document printed as ``printed``.

    ``decimals``: how many decimals the document rounded to; None for a full-precision
    print, which must agree to a relative ``FULL_RTOL`` (exactly, when it is 0).
    """
    doc = float(printed)
    if decimals is None:
        return abs(value - doc) <= FULL_RTOL * abs(doc)
    return _norm(f"{value:.{decimals}f}") == _norm(f"{doc:.{decimals}f}")


def agree(a, b, rtol=AGREE_RTOL):
    """Equal, or within a relative ``rtol`` (kernel vs reference)."""
    return a == b or abs(a - b) <= rtol * max(abs(a), abs(b))


def fd_agree(value, fd):
    return abs(value - fd) <= FD_ATOL + FD_RTOL * abs(value)


def _fmt(value):
    return repr(float(value))


# ------------------------------------------------------------------ data model


@dataclass(eq=False)
class Quantity:
    """One number of a seed document and fastnn's two computations of it."""

    name: str
    doc: Optional[str]  # as printed (or the value of the document's formula); None: not printed
    decimals: Optional[int]  # decimals printed; None: full precision
    compute: Callable[[str], float]  # backend -> value
    reason: str = ""  # why the document is wrong (shown with a seed error) or a note
    fd: Optional[Callable[[], float]] = None  # central finite differences, when meaningful
    comparable: bool = True  # False: the document's number comes from other (random) data
    key: str = ""  # "seed/group/name", set by Seed

    @cached_property
    def kernel(self):
        return float(self.compute("numba"))

    @cached_property
    def reference(self):
        return float(self.compute("reference"))

    @cached_property
    def fd_value(self):
        return None if self.fd is None else float(self.fd())

    @property
    def agrees(self):
        """Kernel value equals reference value (to AGREE_RTOL)."""
        return agree(self.kernel, self.reference)

    @property
    def verdict(self):
        if self.fd is not None and not fd_agree(self.reference, self.fd_value):
            return "FD MISMATCH"
        if self.doc is None:
            return "not printed"
        if not self.comparable:
            return "not comparable"
        return "match" if printed_match(self.reference, self.doc, self.decimals) else "seed error"

    @property
    def note(self):
        verdict = self.verdict
        if verdict == "seed error":
            return self.reason or "UNEXPLAINED: the reference disagrees with the document"
        if verdict == "FD MISMATCH":
            return "fastnn's reference disagrees with finite differences: a fastnn bug"
        if verdict in ("not comparable", "not printed"):
            return self.reason
        return ""


@dataclass(eq=False)
class Group:
    key: str
    title: str
    how: str  # the fastnn calls that compute the rows
    quantities: list

    @property
    def kind(self):
        return "check" if self.key.startswith("check") else "printed"


@dataclass(eq=False)
class Seed:
    sid: str
    title: str
    network: str  # sizes, activations, loss, learning rate
    names: dict  # document name -> Slot
    units: list  # (document name, where fastnn has it)
    groups: list
    notes: list = field(default_factory=list)

    def __post_init__(self):
        for group in self.groups:
            for q in group.quantities:
                q.key = f"{self.sid}/{group.key}/{q.name}"

    @property
    def quantities(self):
        return [q for g in self.groups for q in g.quantities]

    def counts(self, kind=None):
        """{verdict: number of rows}; kind "printed" (the document's numbers) or "check"
        (derivation checks of its formulas) or None (all)."""
        out = {}
        for g in self.groups:
            if kind is not None and g.kind != kind:
                continue
            for q in g.quantities:
                out[q.verdict] = out.get(q.verdict, 0) + 1
        return out


# ------------------------------------------------------------------ helpers


def _layer_net(net, layer, activation=None):
    """Layer ``layer`` of net alone (its W and b copied through the views): its
    ``predict`` gives that layer's outputs, or its net inputs with ``activation="linear"``."""
    n_in, n_out = net.sizes[layer], net.sizes[layer + 1]
    bias = net.spec.bias
    sub = Network([n_in, n_out], activation or net.activations[layer], "squared_error", bias=bias, init="zeros")
    sub.weight(0)[:] = net.weight(layer)
    if bias:
        sub.bias(0)[:] = net.bias(layer)
    return sub


def _relu(z):
    return z if z > 0 else 0


def _relu_d(z):
    return 1 if z > 0 else 0


def _sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def _named_gradient(net, names, X, y, backend):
    grad = net.gradient(X, y, backend=backend)
    return {name: float(grad[slot.offset(net.spec)]) for name, slot in names.items()}


def _named_fd(net, names, X, y):
    grad = numerical_gradient(net, X, y, backend="reference")
    return {name: float(grad[slot.offset(net.spec)]) for name, slot in names.items()}


def _derivation_check(names, build, X, y, document, reasons):
    """Rows comparing the document's formula for dL/d(name) with fastnn and with FD.

    ``build()`` makes the network, ``document`` is the dict of the document's formula
    values, ``reasons`` maps names whose formula is wrong to a one-line reason.
    """
    grads = lru_cache(None)(lambda backend: _named_gradient(build(), names, X, y, backend))
    fd = lru_cache(None)(lambda: _named_fd(build(), names, X, y))
    return [
        Quantity(
            f"dL/d{name}",
            _fmt(document[name]),
            None,
            (lambda backend, name=name: grads(backend)[name]),
            reasons.get(name, ""),
            fd=(lambda name=name: fd()[name]),
        )
        for name in names
    ]


def _with(values, **changes):
    out = dict(values)
    out.update(changes)
    return out


# ------------------------------------------------------------------ the documents' formulas
# Transcribed from the documents' code, operation for operation (tests/test_seed_errors.py
# checks that they reproduce the documents' printed numbers).


def seed000_document_gradient(w, x1, x2, y):
    """Seed 000's hand-derived deriv_L_* for one row (x1, x2, y)."""
    n1 = _relu(x1 * w["w1"] + x2 * w["w3"] + w["bias1"])
    n2 = _relu(x1 * w["w2"] + x2 * w["w4"] + w["bias2"])
    # The residual uses node 3's net input, not relu(net input); no relu'(node 3) factor.
    r = n1 * w["w5"] + n2 * w["w6"] + w["bias3"] - y
    d = {}
    d["w5"] = 2 * n1 * r
    d["w6"] = 2 * n2 * r
    d["bias3"] = 2 * 1 * r
    d["w1"] = (2 * w["w5"] * r) * (_relu_d(x1 * w["w1"] + x2 * w["w3"] + w["bias1"]) * x1)
    d["w2"] = (2 * w["w6"] * r) * (_relu_d(x1 * w["w2"] + x2 * w["w4"] + w["bias2"]) * x1)
    d["w3"] = (2 * w["w5"] * r) * (_relu_d(x1 * w["w1"] + x2 * w["w3"] + w["bias1"]) * x2)
    d["w4"] = (2 * w["w6"] * r) * (_relu_d(x1 * w["w2"] + x2 * w["w4"] + w["bias2"]) * x2)
    d["bias1"] = (2 * w["w5"] * r) * (_relu_d(x1 * w["w1"] + x2 * w["w3"] + w["bias1"]) * 1)
    d["bias2"] = (2 * w["w6"] * r) * (_relu_d(x1 * w["w2"] + x2 * w["w4"] + w["bias2"]) * 1)
    return d


def seed001_document_forward(w, x1, x2):
    """Seed 001's forward pass as printed: (node_1..node_4 outputs). Node 4 adds bias3."""
    n1 = _relu(x1 * w["w1"] + x2 * w["w4"] + w["bias1"])
    n2 = _relu(x1 * w["w2"] + x2 * w["w5"] + w["bias2"])
    n3 = _relu(x1 * w["w3"] + x2 * w["w6"] + w["bias3"])
    n4 = _relu(n1 * w["w7"] + n2 * w["w8"] + n3 * w["w9"] + w["bias3"])  # sic: bias3
    return n1, n2, n3, n4


def seed001_document_gradient(w, x1, x2, y):
    """Seed 001's hand-derived deriv_L_* for one sample, exactly as its cells compute them."""
    n1, n2, n3, _ = seed001_document_forward(w, x1, x2)
    # The residual uses node 4's net input with bias4 (right), without relu'(node 4).
    r = n1 * w["w7"] + n2 * w["w8"] + n3 * w["w9"] + w["bias4"] - y
    z1 = x1 * w["w1"] + x2 * w["w4"] + w["bias1"]
    z2 = x1 * w["w2"] + x2 * w["w5"] + w["bias2"]
    d = {}
    d["w7"] = 2 * n1 * r
    d["w8"] = 2 * n2 * r
    d["w9"] = 2 * n3 * r
    d["bias4"] = 2 * 1 * r
    d["w1"] = (2 * w["w7"] * r) * (_relu_d(z1) * x1)
    d["w2"] = (2 * w["w8"] * r) * (_relu_d(z2) * x1)
    d["w3"] = (2 * w["w9"] * r) * (_relu_d(x1 * w["w3"] + x2 * w["w6"] + w["bias1"]) * x2)  # sic
    d["w4"] = (2 * w["w7"] * r) * (_relu_d(x1 * w["w1"] + x2 * w["w4"] + w["bias2"]) * x2)  # sic
    d["w5"] = (2 * w["w8"] * r) * (_relu_d(z2) * x2)
    d["w6"] = (2 * w["w9"] * r) * (_relu_d(x1 * w["w3"] + x2 * w["w6"] + w["bias2"]) * x2)  # sic
    d["bias1"] = (2 * w["w7"] * r) * (_relu_d(z1) * 1)
    d["bias2"] = (2 * w["w8"] * r) * (_relu_d(z2) * 1)
    d["bias3"] = (2 * w["w9"] * r) * (_relu_d(x1 * w["w3"] + x2 * w["w6"] + w["bias1"]) * 1)  # sic
    return d


def seed001_document_step(w, x1, x2, y, lr):
    """One of seed 001's steps: new_* = * - LR * deriv_L_*."""
    d = seed001_document_gradient(w, x1, x2, y)
    return {name: w[name] - lr * d[name] for name in w}


def seed002_document_gradient(w, i1, i2, t1, t2):
    """Seed 002's grad_w1..grad_w8, as its code computes them (grad_w2/grad_w3 swapped)."""
    sd = lambda a: a * (1 - a)  # its sigmoid_derivative takes the activation
    a_h1 = _sigmoid(w["w1"] * i1 + w["w2"] * i2)
    a_h2 = _sigmoid(w["w3"] * i1 + w["w4"] * i2)
    a_o1 = _sigmoid(w["w5"] * a_h1 + w["w6"] * a_h2)
    a_o2 = _sigmoid(w["w7"] * a_h1 + w["w8"] * a_h2)
    delta_o1 = (a_o1 - t1) * sd(a_o1)
    delta_o2 = (a_o2 - t2) * sd(a_o2)
    delta_h1 = (delta_o1 * w["w5"] + delta_o2 * w["w7"]) * sd(a_h1)
    delta_h2 = (delta_o1 * w["w6"] + delta_o2 * w["w8"]) * sd(a_h2)
    return {
        "w1": delta_h1 * i1,
        "w2": delta_h2 * i1,  # sic: w2 connects i2 -> h1
        "w3": delta_h1 * i2,  # sic: w3 connects i1 -> h2
        "w4": delta_h2 * i2,
        "w5": delta_o1 * a_h1,
        "w6": delta_o1 * a_h2,
        "w7": delta_o2 * a_h1,
        "w8": delta_o2 * a_h2,
    }


def seed003_document_dL_dw1(w, x1, x2, y):
    """Seed 003's dL/dw1 = dL/dypred * dypred/dh1 * dh1/dw1, with its intermediates."""
    sum_h1 = w["w1"] * x1 + w["w2"] * x2 + w["b1"]
    sum_h2 = w["w3"] * x1 + w["w4"] * x2 + w["b2"]
    h1, h2 = _sigmoid(sum_h1), _sigmoid(sum_h2)
    sum_o1 = w["w5"] * h1 + w["w6"] * h2 + w["b3"]
    o1 = _sigmoid(sum_o1)
    d_ypred = -2 * (y - o1)
    dypred_dh1 = w["w5"] * (_sigmoid(sum_o1) * (1 - _sigmoid(sum_o1)))
    dh1_dw1 = x1 * (_sigmoid(sum_h1) * (1 - _sigmoid(sum_h1)))
    return dict(h1=h1, h2=h2, sum_o1=sum_o1, o1=o1, dL_dypred=d_ypred, dypred_dh1=dypred_dh1,
                dh1_dw1=dh1_dw1, dL_dw1=d_ypred * dypred_dh1 * dh1_dw1)


def seed004_document_gradient(weights, bias, inputs, target):
    """Seed 004's backward pass (analytic, whatever its text says): dloss/dweights, dloss/dbias."""
    # @, not np.dot (which nnfs.init() replaces by a float32 one); the same bits as np.dot
    linear_output = float(np.asarray(weights, dtype=np.float64) @ np.asarray(inputs, dtype=np.float64)) + bias
    output = max(0.0, linear_output)
    dloss_doutput = 2 * (output - target)
    doutput_dlinear = 1.0 if linear_output > 0 else 0.0
    dloss_dlinear = dloss_doutput * doutput_dlinear
    return [dloss_dlinear * x for x in inputs], dloss_dlinear * 1.0


# ------------------------------------------------------------------ seed 000


SEED000_CHECKPOINTS = (200, 500, 1000)  # the document's epoch counts


@lru_cache(None)
def _seed000_chain(lr, backend):
    # One run from the initial weights, paused at each checkpoint to predict(2, 5): per-sample
    # SGD in order, without shuffling, so fit(200) then fit(300) is fit(500).
    X, y = datasets.quadratic(100, seed=SEED000_DATA_SEED)
    net = seed000_network()
    histories, predictions, done = [], {}, 0
    for stop in SEED000_CHECKPOINTS:
        histories.append(net.fit(X, y, lr, stop - done, backend=backend))
        predictions[stop] = float(net.predict([[2, 5]], backend=backend)[0, 0])
        done = stop
    history = np.concatenate(histories)
    history.setflags(write=False)
    return history, predictions


def seed000_training(lr, epochs, backend):
    """Seed 000's network trained from its initial weights on datasets.quadratic(100, seed=0)
    for ``epochs`` in SEED000_CHECKPOINTS: (per-epoch mean loss history, predict(2, 5))."""
    history, predictions = _seed000_chain(lr, backend)
    return history[:epochs], predictions[epochs]


def _seed000():
    names = SEED000_NAMES
    init_net = seed000_network(SEED000_INITIAL)

    def read(slot):
        # numba column: the weight()/bias() view; reference column: the flat list at the
        # offset the reference reads (fastnn.spec's layout).
        def compute(backend):
            if backend == "numba":
                return slot.get(init_net)
            return init_net.params.tolist()[slot.offset(init_net.spec)]

        return compute

    printed_initial = dict(w1="1", w2="0.5", w3="1", w4="-0.5", w5="1", w6="1", bias1="0.5", bias2="0", bias3="0.5")
    initial = [Quantity(f"initial {n}", printed_initial[n], None, read(names[n])) for n in names]

    trained = seed000_network(SEED000_TRAINED)
    predict = [
        Quantity("predict(2, 5)", "8.633539428660903", None,
                 lambda backend: trained.predict([[2, 5]], backend=backend)[0, 0]),
    ]

    train = seed000_training
    main = (SEED000_LR, SEED000_EPOCHS)
    curve = [
        Quantity(f"epoch {e} mean loss", None, None, (lambda backend, e=e: train(*main, backend)[0][e - 1]))
        for e in (1, 10, 100, 500)
    ]
    curve.append(
        Quantity("epoch 1000 loss", "0.10165885808272854", None, lambda backend: train(*main, backend)[0][-1],
                 "document: loss of the last row of its own unseeded random data; fastnn: mean over "
                 "the epoch on datasets.quadratic(seed=0)", comparable=False)
    )
    X, y = datasets.quadratic(100, seed=SEED000_DATA_SEED)
    curve.append(
        Quantity("document's trained weights: mean loss", None, None, lambda backend: trained.loss(X, y, backend=backend),
                 "its printed weights on this data: the same regime as fastnn's run")
    )
    curve.append(
        Quantity("predict(2, 5) after training", "8.633539428660903", None,
                 lambda backend: train(*main, backend)[1],
                 "document's weights came from other random data", comparable=False)
    )
    experiments = []
    for label, lr, epochs in SEED000_EXPERIMENTS:
        experiments.append(
            Quantity(f"exp {label}: final loss", None, None,
                     (lambda backend, lr=lr, epochs=epochs: train(lr, epochs, backend)[0][-1]),
                     f"lr {lr}, {epochs} epochs; the document prints no number")
        )
        experiments.append(
            Quantity(f"exp {label}: predict(2, 5)", None, None,
                     (lambda backend, lr=lr, epochs=epochs: train(lr, epochs, backend)[1]))
        )

    def check(key, title, weights, x1, x2, target, reasons):
        build = lambda: seed000_network(weights)
        document = seed000_document_gradient(weights, x1, x2, target)
        rows = _derivation_check(names, build, [[x1, x2]], [[target]], document, reasons)
        return Group(key, title, "gradient() vs central differences (gradcheck, reference loss)", rows)

    off = _with(SEED000_INITIAL, bias3=-3.0)
    no_relu = "the document drops relu'(node 3 net input) and uses the net input -1, not relu = 0, in the residual"
    groups = [
        Group("initial", "initial weights (document's names -> views)",
              "kernel: weight()/bias() views; reference: flat params at fastnn.spec offsets", initial),
        Group("predict", "the printed trained weights", "predict([[2, 5]])", predict),
        Group("train", f"training on datasets.quadratic(100, seed={SEED000_DATA_SEED}), lr {SEED000_LR}, "
              f"{SEED000_EPOCHS} epochs", "fit(X, y, lr, epochs): per-sample SGD, mean loss per epoch", curve),
        Group("experiments", "the document's three experiments (same data)", "fit(...)[-1], predict([[2, 5]])",
              experiments),
        check("check-active", "derivation check on the document's row [1, 0, 2], initial weights "
              "(output ReLU on: the formulas hold)", SEED000_INITIAL, 1.0, 0.0, 2.0, {}),
        check("check-off", "derivation check at initial weights with bias3 = -3, row [1, 0, 2] "
              "(output net input -1: output ReLU off)", off, 1.0, 0.0, 2.0,
              {n: no_relu for n in names}),
    ]
    return Seed(
        "000", "Exercise project X: 2-2-1 ReLU network trained by hand-derived backprop",
        f"{init_net!r}; lr {SEED000_LR}, {SEED000_EPOCHS} epochs of per-sample SGD",
        names,
        [("node_1_output, node_2_output", "layer 0 outputs [0], [1]"),
         ("node_3_output = predicted_value", "predict()[0, 0]"),
         ("loss = (predicted - true)**2", "loss 'squared_error'")],
        groups,
        ["The document's updates leave out the output ReLU's derivative (seed error, see the "
         "check-off table); with its weights the output net input stays positive, so its own "
         "training is not affected.",
         "Its training data is unseeded np.random: the loss curve is shown on "
         f"datasets.quadratic(seed={SEED000_DATA_SEED}), and its printed loss is one row's loss, "
         "fastnn's the epoch mean."],
    )


# ------------------------------------------------------------------ seed 001

_SEED001_FORWARD = (  # node_1..node_4 outputs and loss, as printed in each step
    ("1.5", "0.5", "1.5", "1.75", "0.0625"),
    ("1.5", "0.51", "1.5025", "1.7875437499999998", "0.0451376581640626"),
    ("1.500314934375", "0.5520962281250001", "1.5131552796875", "1.9467060935172777", "0.002840240468189145"),
    ("1.5009459037386574", "0.568491373105509", "1.517516545160251", "2.0093915487941922",
     "8.820118875369371e-05"),
)
_SEED001_DERIVS = (  # deriv_L_w7, _w8, _w9, _b4 as printed in each step
    ("-0.75", "-0.25", "-0.75", "-0.5"),
    ("-0.6298687500000009", "-0.2141553750000003", "-0.6309185312500009", "-0.4199125000000006"),
    ("-0.12138616394467376", "-0.044668517072607224", "-0.12242503933376575", "-0.08090712234044428"),
    ("0.07793313646273173", "0.029517596635402505", "0.07879352860342603", "0.05192268173597103"),
)


def _seed001():
    names = SEED001_NAMES
    X, Y = [list(SEED001_X[0])], [list(SEED001_Y[0])]

    @lru_cache(None)
    def step(k, backend):
        net = seed001_network(floats(SEED001_PRINTED[k]))
        out = dict(
            hidden=_layer_net(net, 0).predict(X, backend=backend)[0].tolist(),
            pred=float(net.predict(X, backend=backend)[0, 0]),
            loss=net.loss(X, Y, backend=backend),
            grad=_named_gradient(net, names, X, Y, backend),
        )
        net.fit(X, Y, SEED001_LRS[k], 1, backend=backend)
        out["new"] = {name: slot.get(net) for name, slot in names.items()}
        return out

    @lru_cache(None)
    def fd(k):
        return _named_fd(seed001_network(floats(SEED001_PRINTED[k])), names, X, Y)

    groups = []
    for k, lr in enumerate(SEED001_LRS):
        before = floats(SEED001_PRINTED[k])
        printed = _SEED001_FORWARD[k]
        wrong_bias = before["bias3"] != before["bias4"]
        bias_reason = (f"the forward pass adds bias3 = {before['bias3']!r} instead of bias4 = "
                       f"{before['bias4']!r} (diff {before['bias4'] - before['bias3']:.6g})")
        rows = [
            Quantity(f"node_{j + 1}_output", printed[j], None, (lambda b, k=k, j=j: step(k, b)["hidden"][j]))
            for j in range(3)
        ]
        rows.append(Quantity("node_4_output", printed[3], None, lambda b, k=k: step(k, b)["pred"],
                             bias_reason if wrong_bias else ""))
        rows.append(Quantity("loss", printed[4], None, lambda b, k=k: step(k, b)["loss"],
                             "from the wrong node_4_output (bias3 instead of bias4)" if wrong_bias else ""))
        for name, text in zip(("w7", "w8", "w9", "bias4"), _SEED001_DERIVS[k]):
            label = "b4" if name == "bias4" else name
            rows.append(Quantity(f"deriv_L_{label}", text, None, (lambda b, k=k, n=name: step(k, b)["grad"][n]),
                                 fd=(lambda k=k, n=name: fd(k)[n])))
        after = SEED001_PRINTED[k + 1]
        for name in names:
            reason = ""
            if name == "w3":
                reason = "w3's derivative is multiplied by input2 (= 0) instead of input1: w3 connects input1 -> node 3"
            rows.append(Quantity(f"new {name}", after[name], None, (lambda b, k=k, n=name: step(k, b)["new"][n]),
                                 reason))
        groups.append(Group(f"step{k + 1}", f"step {k + 1}: lr {lr}, one SGD step on (1, 0) -> 2 from the "
                            f"{'initial' if k == 0 else 'step ' + str(k)} weights as printed",
                            "layer-0 predict(); predict(); loss(); gradient(); fit(X, y, lr, 1) then the views",
                            rows))

    def check(key, title, weights, x, target, reasons):
        build = lambda: seed001_network(weights)
        document = seed001_document_gradient(weights, x[0], x[1], target)
        rows = _derivation_check(names, build, [list(x)], [[target]], document, reasons)
        return Group(key, title, "gradient() vs central differences (gradcheck, reference loss)", rows)

    start = floats(SEED001_PRINTED[0])
    w3_input = "multiplies by input2 instead of input1 (w3 connects input1 -> node 3)"
    biases = _with(start, w7=0.5, bias2=-1.0, bias3=2.0)
    no_relu = "no relu'(node 4 net input): the output is 0 here (net input -1.75), the true gradient is 0"
    groups += [
        check("check-step1", "derivation check at the document's step-1 point", start, (1.0, 0.0), 2.0,
              {"w3": w3_input}),
        check("check-biases", "derivation check where the wrong biases matter: initial weights with w7 = 0.5, "
              "bias2 = -1, bias3 = 2; sample (-0.5, -0.5) -> 2", biases, (-0.5, -0.5), 2.0,
              {"w3": "relu' of node 3 evaluated with bias1 instead of bias3 (node 3 is on, the document "
                     "sees it off); and input2 instead of input1",
               "bias3": "relu' of node 3 evaluated with bias1 instead of bias3",
               "w4": "relu' of node 1 evaluated with bias2 instead of bias1",
               "w6": "relu' of node 3 evaluated with bias2 instead of bias3"}),
        check("check-off", "derivation check at initial weights with bias4 = -3, sample (1, 0) -> 2 "
              "(output ReLU off)", _with(start, bias4=-3.0), (1.0, 0.0), 2.0,
              {n: no_relu for n in names}),
    ]
    return Seed(
        "001", "Neural network, math experimentation: 2-3-1 ReLU network, four hand-computed steps",
        f"{seed001_network(start)!r}; lr {', '.join(map(str, SEED001_LRS))}: one SGD step each on (1, 0) -> 2",
        names,
        [("node_1_output .. node_3_output", "layer 0 outputs [0] .. [2]"),
         ("node_4_output = predicted_value", "predict()[0, 0]"),
         ("loss = (predicted - true)**2", "loss 'squared_error'")],
        groups,
        ["Every step starts from the weights the document printed after the previous one.",
         "The gradients use bias4 (right), so all printed updates are right except w3; the printed "
         "prediction and loss from step 2 on use bias3 (wrong).",
         "The wrong biases in relu' and the missing output relu' do not show on this sample "
         "(input2 = 0, every net input positive): see the check tables."],
    )


# ------------------------------------------------------------------ seed 002


def _seed002():
    names = SEED002_NAMES
    X, Y = [list(SEED002_X[0])], [list(SEED002_Y[0])]
    net = seed002_network()

    @lru_cache(None)
    def forward(backend):
        z_h = _layer_net(net, 0, "linear").predict(X, backend=backend)
        a_h = _layer_net(net, 0).predict(X, backend=backend)
        z_o = _layer_net(net, 1, "linear").predict(a_h, backend=backend)
        a_o = net.predict(X, backend=backend)
        return dict(net_h1=z_h[0, 0], a_h1=a_h[0, 0], net_h2=z_h[0, 1], a_h2=a_h[0, 1],
                    net_o1=z_o[0, 0], a_o1=a_o[0, 0], net_o2=z_o[0, 1], a_o2=a_o[0, 1])

    def output_error(j):
        # E_j alone: the same network with only output j, loss 1/2 (t_j - a_oj)^2.
        sub = Network([2, 2, 1], "sigmoid", "half_squared_error", bias=False, init="zeros")
        sub.weight(0)[:] = net.weight(0)
        sub.weight(1)[:, 0] = net.weight(1)[:, j]
        return lambda backend: sub.loss(X, [[Y[0][j]]], backend=backend)

    @lru_cache(None)
    def trained(backend):
        n = seed002_network()
        n.fit(X, Y, SEED002_LR, 1, backend=backend)
        return {name: slot.get(n) for name, slot in names.items()}

    fd = lru_cache(None)(lambda: _named_fd(seed002_network(), names, X, Y))
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
               Quantity("E_total", "0.26060897", 8, lambda b: net.loss(X, Y, backend=b))]),
        Group("gradients", "3. gradients (8 decimals)", "gradient(); central differences",
              [Quantity(f"grad {n}", t, 8, (lambda b, n=n: _named_gradient(net, names, X, Y, b)[n]),
                        swapped.get(n, ""), fd=(lambda n=n: fd()[n]))
               for n, t in printed_grad.items()]),
        Group("updated", f"updated weights after one step, lr {SEED002_LR} (8 decimals)",
              "fit(X, y, lr, 1) then the weight() views",
              [Quantity(f"new {n}", t, 8, (lambda b, n=n: trained(b)[n]),
                        ("from the swapped gradient: " + swapped[n].split(";")[0]) if n in swapped else "")
               for n, t in printed_new.items()]),
    ]
    return Seed(
        "002", "Module 11 activity: 2-2-2 sigmoid network, one forward and backward pass",
        f"{net!r}; lr {SEED002_LR}, one step on (0.1, 0.5) -> (0.05, 0.95)",
        names,
        [("net_h1, net_h2 / a_h1, a_h2", "layer 0 net inputs / outputs"),
         ("net_o1, net_o2 / a_o1, a_o2", "layer 1 net inputs / predict()"),
         ("E_total = E1 + E2 = 1/2 sum (t - a)^2", "loss 'half_squared_error'")],
        groups,
        ["The activity asks for 'Mean Squared Error'; the code computes 1/2 sum of squares, which for two "
         "outputs is the same number as the mean over the outputs (fastnn 'mse') and has the same gradient.",
         "Its gaussian is garbled as np.exp(-x^{**2}); it means exp(-x**2), fastnn's 'gaussian' "
         "(see the --plot figure)."],
    )


# ------------------------------------------------------------------ seed 003


def _seed003():
    names = SEED003_NAMES
    neuron = network_from_names([2, 1], "sigmoid", "mse", SEED003_NEURON_NAMES, SEED003_NEURON)
    ff = seed003_network(SEED003_FEEDFORWARD)
    X2 = [list(SEED003_NEURON_X[0])]
    Xg, yg = datasets.gender()
    alice_x, alice_y = Xg[:1], yg[:1]
    alice = seed003_network(SEED003_ALICE)

    single = [
        Quantity("(w . x) + b", "7", None, lambda b: _layer_net(neuron, 0, "linear").predict(X2, backend=b)[0, 0]),
        Quantity("y = g(7) (text)", "0.999", 3, lambda b: neuron.predict(X2, backend=b)[0, 0]),
        Quantity("feed_forward([2, 3])", "0.9990889488055994", None, lambda b: neuron.predict(X2, backend=b)[0, 0]),
    ]
    feed = [
        Quantity("h1 = h2 net input", "3", None, lambda b: _layer_net(ff, 0, "linear").predict(X2, backend=b)[0, 0]),
        Quantity("h1 = h2 = g(3)", "0.9526", 4, lambda b: _layer_net(ff, 0).predict(X2, backend=b)[0, 1]),
        Quantity("o1 net input", "0.9526", 4,
                 lambda b: _layer_net(ff, 1, "linear").predict(_layer_net(ff, 0).predict(X2, backend=b), backend=b)[0, 0]),
        Quantity("o1 = g(0.9526) (text)", "0.7216", 4, lambda b: ff.predict(X2, backend=b)[0, 0]),
        Quantity("ann.feed_forward([2, 3])", "0.7216325609518421", None, lambda b: ff.predict(X2, backend=b)[0, 0]),
    ]
    zero = Network([2, 1], "linear", "mse", init="zeros")  # predicts 0 for everyone
    mse = [Quantity("MSE of always-0 predictions", "0.5", None, lambda b: zero.loss(Xg, yg, backend=b))]

    @lru_cache(None)
    def parts(backend):
        h = _layer_net(alice, 0).predict(alice_x, backend=backend)
        s = _layer_net(alice, 1, "linear").predict(h, backend=backend)[0, 0]
        o1 = float(alice.predict(alice_x, backend=backend)[0, 0])
        h1 = float(h[0, 0])
        w5 = SEED003_ALICE["w5"]
        return dict(
            h1=h1, h2=float(h[0, 1]), sum_o1=float(s), o1=o1,
            # the chain-rule factors, from this backend's activations
            dL_dypred=-2.0 * (alice_y[0, 0] - o1),
            dypred_dh1=w5 * (o1 * (1.0 - o1)),
            dh1_dw1=alice_x[0, 0] * (h1 * (1.0 - h1)),
            dL_dw1=_named_gradient(alice, names, alice_x, alice_y, backend)["w1"],
        )

    def fd_dL_dypred():
        # the loss as a function of ypred alone: a 1-1 linear network with W = 1, b = 0;
        # dL/db = dL/dypred.
        ident = Network([1, 1], "linear", "squared_error", init=[1.0, 0.0])
        return numerical_gradient(ident, [[parts("reference")["o1"]]], alice_y, backend="reference")[1]

    def fd_dypred_dh1(eps=1e-6):
        out = _layer_net(alice, 1)
        h = _layer_net(alice, 0).predict(alice_x, backend="reference")
        up, down = h.copy(), h.copy()
        up[0, 0] += eps
        down[0, 0] -= eps
        return (out.predict(up, backend="reference")[0, 0] - out.predict(down, backend="reference")[0, 0]) / (2 * eps)

    def fd_dh1_dw1(eps=1e-6):
        layer = _layer_net(alice, 0)
        w = layer.weight(0)
        base = w[0, 0]
        w[0, 0] = base + eps
        up = layer.predict(alice_x, backend="reference")[0, 0]
        w[0, 0] = base - eps
        down = layer.predict(alice_x, backend="reference")[0, 0]
        w[0, 0] = base
        return (up - down) / (2 * eps)

    fd_w1 = lambda: _named_fd(alice, names, alice_x, alice_y)["w1"]
    rows = [
        ("h1 = g(-3)", "0.0474", 4, "h1", "", None),
        ("h2 = g(-3)", "0.0474", 4, "h2", "", None),
        ("o1 net input", "0.0948", 4, "sum_o1",
         "rounding slip: adds the rounded h1 = h2 = 0.0474; 2 * 0.0474259 = 0.0948517 rounds to 0.0949 "
         "(harmless: o1 still 0.524)", None),
        ("o1 = ypred", "0.524", 3, "o1", "", None),
        ("dL/dypred = -2(1 - ypred)", "-0.952", 3, "dL_dypred",
         "rounding slip: -2(1 - 0.524) uses the rounded ypred; ypred = 0.5236952 gives -0.9526096 -> -0.953 "
         "(harmless: dL/dw1 still 0.0215)", fd_dL_dypred),
        ("dypred/dh1 = w5 g'(0.0948)", "0.25", 2, "dypred_dh1", "", fd_dypred_dh1),
        ("dh1/dw1 = x1 g'(-3)", "-0.0904", 4, "dh1_dw1", "", fd_dh1_dw1),
        ("dL/dw1", "0.0215", 4, "dL_dw1", "", fd_w1),
    ]
    alice_rows = [Quantity(name, text, dec, (lambda b, k=k: parts(b)[k]), reason, fd=fdf)
                  for name, text, dec, k, reason, fdf in rows]

    @lru_cache(None)
    def train(backend):
        net = Network([2, 2, 1], "sigmoid", "squared_error", init=SEED003_INIT, seed=SEED003_INIT_SEED)
        history = net.fit(Xg, yg, SEED003_LR, SEED003_EPOCHS, backend=backend)
        return history, net.predict(Xg, backend=backend)[:, 0]

    training = [
        Quantity("epoch 1 mean loss", None, None, lambda b: train(b)[0][0]),
        Quantity(f"epoch {SEED003_EPOCHS} mean loss", None, None, lambda b: train(b)[0][-1]),
    ]
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
              "layer predict()s; chain factors from each backend's activations; gradient(); central differences",
              alice_rows),
        Group("train", f"training on the four people: lr {SEED003_LR}, {SEED003_EPOCHS} epochs, per-sample SGD in "
              f"order, init {SEED003_INIT!r} seed {SEED003_INIT_SEED} (the document prints no result)",
              "fit(); predict()", training),
    ]
    return Seed(
        "003", "Neural network from scratch (after Victor Zhou): neuron, 2-2-1 sigmoid network, dL/dw1",
        f"{alice!r}; per-sample loss (y - ypred)^2; lr {SEED003_LR}, {SEED003_EPOCHS} epochs",
        names,
        [("h1, h2", "layer 0 outputs [0], [1]"), ("o1 = y_pred", "predict()[0, 0]"),
         ("L = (1 - ypred)^2 (Alice only)", "loss 'squared_error' ('mse' is the same for one output)")],
        groups,
        ["All formulas are right; two intermediate numbers are computed from already-rounded values and so "
         "miss their printed last digit (the final 0.0215 is right)."],
    )


# ------------------------------------------------------------------ seed 004


@lru_cache(None)
def seed004_loop(backend):
    """Seed 004's 200 iterations: (loss history, final named parameters). Cached."""
    X, Y = [list(SEED004_X[0])], [list(SEED004_Y[0])]
    net = seed004_network()
    history = net.fit(X, Y, SEED004_LR, SEED004_ITERATIONS, backend=backend)
    history.setflags(write=False)
    return history, {name: slot.get(net) for name, slot in SEED004_NAMES.items()}


def _seed004():
    names = SEED004_NAMES
    X, Y = [list(SEED004_X[0])], [list(SEED004_Y[0])]
    run = seed004_loop

    printed = {1: "36.0", 2: "33.872399999999985", 3: "31.870541159999995", 4: "29.98699217744401",
               197: "0.00023486717989213552", 198: "0.00022098652956051033", 199: "0.0002079262256634926",
               200: "0.00019563778572677975"}
    iterations = sorted(set(printed) | {50, 100, 150})
    loss_rows = [Quantity(f"iteration {i} loss", printed.get(i), None, (lambda b, i=i: run(b)[0][i - 1]))
                 for i in iterations]
    final = [
        Quantity("final w0", "-3.3990955", 8, lambda b: run(b)[1]["w0"]),
        Quantity("final w1", "-0.20180899", 8, lambda b: run(b)[1]["w1"]),
        Quantity("final w2", "0.80271349", 8, lambda b: run(b)[1]["w2"]),
        Quantity("final bias", "0.6009044964039992", None, lambda b: run(b)[1]["b0"]),
    ]
    w = SEED004_WEIGHTS
    dw, db = seed004_document_gradient(np.array([w["w0"], w["w1"], w["w2"]], dtype=np.float64), w["b0"],
                                       list(SEED004_X[0]), 0.0)
    document = dict(w0=dw[0], w1=dw[1], w2=dw[2], b0=db)
    first = _derivation_check(names, seed004_network, X, Y, document, {})
    groups = [
        Group("loss", f"the loop: lr {SEED004_LR}, {SEED004_ITERATIONS} iterations (full precision prints)",
              "fit(X, y, lr, 200): history[i - 1] is iteration i's loss, before its update", loss_rows),
        Group("final", "final parameters (numpy prints 8 decimals; the bias at full precision)",
              "the weight()/bias() views after fit()", final),
        Group("check-gradient", "derivation check: the code's analytic gradient at the start (the text says "
              "numerical differentiation)", "gradient() vs central differences", first),
    ]
    return Seed(
        "004", "nnfs: backpropagation of a single ReLU neuron, loss z^2",
        f"{seed004_network()!r}; lr {SEED004_LR}, {SEED004_ITERATIONS} iterations on x = [1, -2, 3], target 0",
        names,
        [("linear_output", "layer 0 net input"), ("output = relu(linear_output)", "predict()[0, 0]"),
         ("loss = (output - 0)**2", "loss 'squared_error'")],
        groups,
        ["The text says 'we then use numerical differentiation to approximate the gradient'; the code uses "
         "the analytic gradient. It agrees with finite differences, so the numbers are right either way.",
         "Full-precision losses agree to ~3e-14 (relative), not bit for bit: numpy's dot sums in another "
         "order; the final bias is bit-identical."],
    )


_BUILDERS = {"000": _seed000, "001": _seed001, "002": _seed002, "003": _seed003, "004": _seed004}


@lru_cache(None)
def seed(sid):
    """The walkthrough of one seed ("000" .. "004"); values are computed when first read."""
    return _BUILDERS[normalize(sid)]()


def normalize(sid):
    text = str(sid).strip()
    if not text.isdigit() or int(text) > 4:
        raise ValueError(f"unknown seed {sid!r}; the seeds are {', '.join(SEED_IDS)}")
    return f"{int(text):03d}"


# ------------------------------------------------------------------ printing


def _mark(q):
    if q.kernel == q.reference:
        return "="
    return "~" if q.agrees else "DIFF"


def format_seed(s):
    """The walkthrough of one seed as text."""
    lines = [f"== seed {s.sid}: {s.title}", f"network: {s.network}", "names -> fastnn:"]
    items = [f"{name} = {slot}" for name, slot in s.names.items()]
    for i in range(0, len(items), 4):
        lines.append("  " + "   ".join(f"{item:<22}" for item in items[i : i + 4]).rstrip())
    for doc_name, where in s.units:
        lines.append(f"  {doc_name} = {where}")
    for g in s.groups:
        lines.append("")
        lines.append(f"-- {g.title}")
        lines.append(f"   [{g.how}]")
        has_fd = any(q.fd is not None for q in g.quantities)
        width = max([len("quantity")] + [len(q.name) for q in g.quantities])
        head = f"   {'quantity':<{width}}  {'document':<22} {'kernel':<22} {'reference':<22} k=r "
        if has_fd:
            head += f"{'finite diff':<22} "
        lines.append(head + "verdict")
        for q in g.quantities:
            doc = q.doc if q.doc is not None else "-"
            row = f"   {q.name:<{width}}  {doc:<22} {_fmt(q.kernel):<22} {_fmt(q.reference):<22} {_mark(q):<3} "
            if has_fd:
                row += f"{(_fmt(q.fd_value) if q.fd is not None else '-'):<22} "
            row += q.verdict
            if q.note:
                row += f": {q.note}"
            lines.append(row)
    lines.append("")
    for note in s.notes:
        lines.append(f"note: {note}")
    qs = s.quantities
    same = sum(q.kernel == q.reference for q in qs)
    ok = sum(q.agrees for q in qs)
    parts = []
    for kind, label in (("printed", "printed numbers"), ("check", "derivation checks")):
        counts = s.counts(kind)
        if counts:
            parts.append(f"{label}: " + ", ".join(f"{n} {v}" for v, n in sorted(counts.items())))
    lines.append(f"seed {s.sid}: " + "; ".join(parts) + f"; kernel = reference: {ok}/{len(qs)} ({same} bit-identical)")
    return "\n".join(lines)


def run(seeds=None, plot_dir=None, out=print):
    """Print the walkthroughs of ``seeds`` (default: all); write plots; return the exit status:
    0 when every kernel value equals its reference value, 1 when one does not, 2 for an
    unknown seed."""
    try:
        ids = [normalize(s) for s in seeds] if seeds else list(SEED_IDS)
    except ValueError as exc:
        print(f"fastnn seeds: {exc}", file=sys.stderr)
        return 2
    status = 0
    totals = {}
    for sid in ids:
        s = seed(sid)
        out(format_seed(s))
        out("")
        if not all(q.agrees for q in s.quantities):
            status = 1
        for kind in ("printed", "check"):
            for verdict, n in s.counts(kind).items():
                totals[kind, verdict] = totals.get((kind, verdict), 0) + n
    if plot_dir is not None:
        for path in plot(ids, plot_dir):
            out(f"wrote {path}")
    summary = []
    for kind, label in (("printed", "printed numbers"), ("check", "derivation checks")):
        items = [f"{n} {v}" for (k, v), n in sorted(totals.items()) if k == kind]
        if items:
            summary.append(f"{label}: " + ", ".join(items))
    out("all seeds: " + "; ".join(summary)
        + f"; kernel = reference everywhere: {'yes' if status == 0 else 'NO'} (see docs/seeds.md)")
    return status


# ------------------------------------------------------------------ plots


def _figure(width, height):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)  # the Agg backend, without pyplot's global state
    return fig


def activation_curves(x, backend="numba"):
    """f(x) for sigmoid, tanh, relu, gaussian, through 1-1 networks with W = 1, b = 0."""
    X = np.asarray(x, dtype=np.float64).reshape(-1, 1)
    return {
        name: Network([1, 1], name, init=[1.0, 0.0]).predict(X, backend=backend)[:, 0]
        for name in ("sigmoid", "tanh", "relu", "gaussian")
    }


def plot(ids, directory):
    """Write the seeds' PNGs into ``directory``; returns the paths written."""
    os.makedirs(directory, exist_ok=True)
    paths = []
    if "000" in ids:
        fig = _figure(7, 4.5)
        ax = fig.add_subplot()
        for lr, epochs, style in ((SEED000_LR, SEED000_EPOCHS, "-"), (0.001, SEED000_EPOCHS, "--")):
            history = seed000_training(lr, epochs, "numba")[0]
            ax.plot(np.arange(1, epochs + 1), history, style, label=f"lr {lr} (numba)")
        ref = seed000_training(SEED000_LR, SEED000_EPOCHS, "reference")[0]
        ax.plot(np.arange(1, SEED000_EPOCHS + 1)[::25], ref[::25], "k.", ms=3, label=f"lr {SEED000_LR} (reference)")
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("mean squared error over the epoch")
        ax.set_title(f"seed 000: 2-2-1 ReLU on datasets.quadratic(100, seed={SEED000_DATA_SEED})")
        ax.legend()
        ax.grid(alpha=0.3)
        paths.append(_save(fig, directory, "seed000_loss.png"))
    if "002" in ids:
        x = np.linspace(-5, 5, 400, dtype=np.float64)
        curves = activation_curves(x)
        fig = _figure(12, 8)
        colors = dict(sigmoid="green", tanh="blue", relu="orange", gaussian="red")
        labels = dict(sigmoid="Sigmoid", tanh="Tanh", relu="ReLU", gaussian="Gaussian")
        for k, name in enumerate(curves):
            ax = fig.add_subplot(2, 2, k + 1)
            ax.plot(x, curves[name], color=colors[name], label=labels[name])
            ax.set_title(f"Activation Function {labels[name]}")
            ax.legend()
            ax.grid(alpha=0.3)
        fig.suptitle("seed 002: activation functions, computed by fastnn 1-1 networks (W = 1, b = 0)")
        fig.tight_layout()
        paths.append(_save(fig, directory, "seed002_activations.png"))
    if "004" in ids:
        history = seed004_loop("numba")[0]
        fig = _figure(7, 4.5)
        ax = fig.add_subplot()
        ax.plot(np.arange(1, SEED004_ITERATIONS + 1), history, label="numba")
        ax.set_yscale("log")
        ax.set_xlabel("iteration")
        ax.set_ylabel("loss = relu(w . x + b)^2")
        ax.set_title(f"seed 004: single ReLU neuron, lr {SEED004_LR}")
        ax.grid(alpha=0.3)
        ax.legend()
        paths.append(_save(fig, directory, "seed004_loss.png"))
    return paths


def _save(fig, directory, name):
    path = os.path.join(directory, name)
    fig.savefig(path, dpi=100)
    return path
