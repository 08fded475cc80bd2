"""The seed documents' derivation errors (docs/seeds.md), decided by finite differences.

For each error: the document's formula (transcribed in fastnn.seeds.seedNNN, checked here to
reproduce the document's printed numbers) disagrees with central finite differences of the
loss, and fastnn's gradient (numba kernel and reference) and the corrected formula agree.
``fastnn seeds`` finds the same errors with fastnn.audit (tests/test_seeds.py).
"""
import math

import numpy as np
import pytest

from fastnn import Network
from fastnn.gradcheck import numerical_gradient
from fastnn.seeds import seed000, seed001, seed002, seed003, seed004
from fastnn.seeds.layout import floats

BACKENDS = ("numba", "reference")


def named(net, names, vector):
    return {name: float(vector[slot.offset(net.spec)]) for name, slot in names.items()}


def fd(net, names, X, y):
    """Central finite differences of the (reference) loss, by document name."""
    return named(net, names, numerical_gradient(net, X, y, backend="reference"))


def ours(net, names, X, y, backend):
    return named(net, names, net.gradient(X, y, backend=backend))


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-7)


def assert_ours_agree(net, names, X, y, numeric):
    for backend in BACKENDS:
        grad = ours(net, names, X, y, backend)
        for name in names:
            assert close(grad[name], numeric[name]), (backend, name, grad[name], numeric[name])


def assert_ours_equal(net, names, X, y, right):
    """fastnn's gradient (both backends) is the hand-derived one, to rounding."""
    for backend in BACKENDS:
        assert ours(net, names, X, y, backend) == pytest.approx(right, abs=1e-15), backend


def relu_d(z):
    return 1 if z > 0 else 0


# ---------------------------------------------------------------- seed 000


def test_seed000_formulas_hold_while_the_output_relu_is_on():
    # the document's own first data row [1, 0, 2] at its initial weights: output net input 2.5 > 0
    w = seed000.INITIAL
    net = seed000.network(w)
    numeric = fd(net, seed000.NAMES, [[1, 0]], [[2]])
    document = seed000.gradient(w, [1, 0], [2])
    for name in seed000.NAMES:
        assert close(document[name], numeric[name]), name
    assert_ours_agree(net, seed000.NAMES, [[1, 0]], [[2]], numeric)


def test_seed000_missing_output_relu_derivative():
    # bias3 = -3: output net input 1.5 + 0.5 - 3 = -1, prediction relu(-1) = 0, loss 4 is flat
    w = dict(seed000.INITIAL, bias3=-3.0)
    net = seed000.network(w)
    X, y = [[1, 0]], [[2]]
    assert net.predict(X)[0, 0] == 0.0 and net.loss(X, y) == 4.0
    numeric = fd(net, seed000.NAMES, X, y)
    document = seed000.gradient(w, [1, 0], [2])
    # document: deriv_L_w5 = 2 * node_1_output * (net input - true) = 2 * 1.5 * (-1 - 2)
    assert document["w5"] == -9.0 and document["bias3"] == -6.0 and document["w1"] == -6.0
    assert all(numeric[n] == 0.0 for n in seed000.NAMES)
    wrong = {n for n in seed000.NAMES if not close(document[n], numeric[n])}
    assert wrong == {"w1", "w2", "bias1", "bias2", "w5", "w6", "bias3"}
    # corrected: 2 * (relu(z3) - y) * relu'(z3) * ...; relu'(-1) = 0
    z3 = 1.5 * w["w5"] + 0.5 * w["w6"] + w["bias3"]
    assert 2 * (max(z3, 0) - 2) * relu_d(z3) * 1.5 == 0.0
    assert_ours_agree(net, seed000.NAMES, X, y, numeric)
    assert_ours_equal(net, seed000.NAMES, X, y, dict.fromkeys(seed000.NAMES, 0.0))


# ---------------------------------------------------------------- seed 001


@pytest.mark.parametrize("k", range(4))
def test_seed001_transcription_reproduces_the_printed_steps(k):
    w = floats(seed001.PRINTED[k])
    new = seed001.step(w, [1.0, 0.0], [2.0], seed001.LRS[k])
    printed = floats(seed001.PRINTED[k + 1])
    assert new == printed  # bit for bit, including the wrong w3 = 1.0
    node4 = seed001.forward(w, [1.0, 0.0])[3]
    assert repr(node4) == ("1.75", "1.7875437499999998", "1.9467060935172777", "2.0093915487941922")[k]


def test_seed001_node4_adds_bias3_instead_of_bias4():
    # step 2: the printed prediction uses bias3 = 0.5025, the network's node 4 has bias4 = 0.505
    w = floats(seed001.PRINTED[1])
    X, y = [[1, 0]], [[2]]
    n1, n2, n3, printed = seed001.forward(w, [1.0, 0.0])
    assert printed == 1.7875437499999998
    right = n1 * w["w7"] + n2 * w["w8"] + n3 * w["w9"] + w["bias4"]
    for backend in BACKENDS:
        net = seed001.network(w)
        assert net.predict(X, backend=backend)[0, 0] == right == 1.7900437499999997
        assert net.loss(X, y, backend=backend) == (right - 2) ** 2 != (printed - 2) ** 2
    # The document's printed deriv_L_b4 = -0.4199125000000006 is the slope of the loss WITH bias4:
    # finite differences of the true loss give it, while the loss of the printed forward pass
    # (bias3) does not depend on bias4 at all.
    net = seed001.network(w)
    numeric = fd(net, seed001.NAMES, X, y)
    assert close(numeric["bias4"], -0.4199125000000006)
    assert seed001.gradient(w, [1.0, 0.0], [2.0])["bias4"] == -0.4199125000000006

    def document_loss(v):
        return (seed001.forward(v, [1.0, 0.0])[3] - 2.0) ** 2

    eps = 1e-6
    slope = (document_loss(dict(w, bias4=w["bias4"] + eps)) - document_loss(dict(w, bias4=w["bias4"] - eps))) / (2 * eps)
    assert slope == 0.0


def test_seed001_w3_multiplied_by_input2():
    # step 1 at the document's own sample (1, 0) -> 2: w3 connects input1 to node 3
    w = floats(seed001.PRINTED[0])
    X, y = [[1, 0]], [[2]]
    net = seed001.network(w)
    numeric = fd(net, seed001.NAMES, X, y)
    document = seed001.gradient(w, [1.0, 0.0], [2.0])
    assert document["w3"] == 0.0  # ... * input2
    assert close(numeric["w3"], -0.25)
    r = 1.5 * w["w7"] + 0.5 * w["w8"] + 1.5 * w["w9"] + w["bias4"] - 2  # -0.25
    corrected = 2 * w["w9"] * r * relu_d(1 * w["w3"] + 0 * w["w6"] + w["bias3"]) * 1  # ... * input1
    assert close(corrected, numeric["w3"])
    assert {n for n in seed001.NAMES if not close(document[n], numeric[n])} == {"w3"}
    assert_ours_agree(net, seed001.NAMES, X, y, numeric)
    assert_ours_equal(net, seed001.NAMES, X, y, dict(
        w1=0.0, w2=-0.5, w3=-0.25, w4=0.0, w5=0.0, w6=0.0, bias1=0.0, bias2=-0.5, bias3=-0.25, w7=-0.75, w8=-0.25,
        w9=-0.75, bias4=-0.5))
    # with it the document's step gives w3 = 1.0; the right step gives 1.0025
    for backend in BACKENDS:
        net = seed001.network(w)
        net.fit(X, y, 0.01, 1, backend=backend)
        assert seed001.NAMES["w3"].get(net) == 1.0025


def test_seed001_wrong_biases_in_relu_derivatives():
    # bias3 > bias1 > bias2 and a sample with input2 != 0: node 1 (net input 0.25) and node 3
    # (1.0) are on, but the document evaluates node 1 with bias2 (-0.75) and node 3 with bias1
    # (-0.5) or bias2 (-2): it sees them off.
    w = dict(floats(seed001.PRINTED[0]), w7=0.5, bias2=-1.0, bias3=2.0)
    x1, x2 = -0.5, -0.5
    X, y = [[x1, x2]], [[2]]
    net = seed001.network(w)
    numeric = fd(net, seed001.NAMES, X, y)
    document = seed001.gradient(w, [x1, x2], [2.0])
    wrong = {n for n in seed001.NAMES if not close(document[n], numeric[n])}
    assert wrong == {"w3", "bias3", "w4", "w6"}
    assert all(document[n] == 0.0 for n in wrong)
    # corrected formulas: each node's own weights and bias inside relu', its own input outside
    n1 = max(x1 * w["w1"] + x2 * w["w4"] + w["bias1"], 0)
    n2 = max(x1 * w["w2"] + x2 * w["w5"] + w["bias2"], 0)
    n3 = max(x1 * w["w3"] + x2 * w["w6"] + w["bias3"], 0)
    r = n1 * w["w7"] + n2 * w["w8"] + n3 * w["w9"] + w["bias4"] - 2
    z1 = x1 * w["w1"] + x2 * w["w4"] + w["bias1"]
    z3 = x1 * w["w3"] + x2 * w["w6"] + w["bias3"]
    corrected = {
        "w3": 2 * w["w9"] * r * relu_d(z3) * x1,
        "bias3": 2 * w["w9"] * r * relu_d(z3),
        "w4": 2 * w["w7"] * r * relu_d(z1) * x2,
        "w6": 2 * w["w9"] * r * relu_d(z3) * x2,
    }
    for name, value in corrected.items():
        assert close(value, numeric[name]) and abs(value) > 0.4, name
    assert_ours_agree(net, seed001.NAMES, X, y, numeric)
    assert_ours_equal(net, seed001.NAMES, X, y, dict(
        w1=0.4375, w2=0.0, w3=0.4375, w4=0.4375, w5=0.0, w6=0.4375, bias1=-0.875, bias2=0.0, bias3=-0.875,
        w7=-0.4375, w8=0.0, w9=-1.75, bias4=-1.75))


def test_seed001_missing_output_relu_derivative():
    # bias4 = -3: node 4's net input 1.25 - 3 = -1.75, prediction 0
    w = dict(floats(seed001.PRINTED[0]), bias4=-3.0)
    X, y = [[1, 0]], [[2]]
    net = seed001.network(w)
    assert net.predict(X)[0, 0] == 0.0
    numeric = fd(net, seed001.NAMES, X, y)
    document = seed001.gradient(w, [1.0, 0.0], [2.0])
    assert all(numeric[n] == 0.0 for n in seed001.NAMES)
    assert document["w7"] == 2 * 1.5 * (-1.75 - 2) == -11.25
    assert {n for n in seed001.NAMES if not close(document[n], numeric[n])} == {
        "w2", "bias2", "bias3", "w7", "w8", "w9", "bias4"
    }
    assert_ours_agree(net, seed001.NAMES, X, y, numeric)
    assert_ours_equal(net, seed001.NAMES, X, y, dict.fromkeys(seed001.NAMES, 0.0))


# ---------------------------------------------------------------- seed 002


def test_seed002_swapped_w2_w3_gradients():
    w = seed002.WEIGHTS
    X, y = [[0.1, 0.5]], [[0.05, 0.95]]
    document = seed002.gradient(w, [0.1, 0.5], [0.05, 0.95])
    printed = dict(w5="0.07788311", w6="0.07281094", w7="-0.04346529", w8="-0.04063459",
                   w1="0.00051472", w2="0.00287383", w3="0.00257361", w4="0.01436917")
    for name, text in printed.items():  # the transcription reproduces the printout
        assert f"{document[name]:.8f}" == text
    net = seed002.network()
    numeric = fd(net, seed002.NAMES, X, y)
    assert {n for n in seed002.NAMES if not close(document[n], numeric[n])} == {"w2", "w3"}
    assert f"{numeric['w2']:.8f}" == "0.00257361" and f"{numeric['w3']:.8f}" == "0.00287383"
    # corrected: w2 connects i2 -> h1 (delta_h1 * i2), w3 connects i1 -> h2 (delta_h2 * i1)
    sig = lambda z: 1 / (1 + math.exp(-z))
    i1, i2, t1, t2 = 0.1, 0.5, 0.05, 0.95
    a_h1, a_h2 = sig(w["w1"] * i1 + w["w2"] * i2), sig(w["w3"] * i1 + w["w4"] * i2)
    a_o1, a_o2 = sig(w["w5"] * a_h1 + w["w6"] * a_h2), sig(w["w7"] * a_h1 + w["w8"] * a_h2)
    delta_o1, delta_o2 = (a_o1 - t1) * a_o1 * (1 - a_o1), (a_o2 - t2) * a_o2 * (1 - a_o2)
    delta_h1 = (delta_o1 * w["w5"] + delta_o2 * w["w7"]) * a_h1 * (1 - a_h1)
    delta_h2 = (delta_o1 * w["w6"] + delta_o2 * w["w8"]) * a_h2 * (1 - a_h2)
    assert close(delta_h1 * i2, numeric["w2"]) and close(delta_h2 * i1, numeric["w3"])
    assert document["w2"] == delta_h2 * i1 and document["w3"] == delta_h1 * i2  # the swap
    assert_ours_agree(net, seed002.NAMES, X, y, numeric)
    for backend in BACKENDS:
        n = seed002.network()
        n.fit(X, y, 0.001, 1, backend=backend)
        assert f"{seed002.NAMES['w2'].get(n):.8f}" == "0.39999743"  # printed 0.39999713
        assert f"{seed002.NAMES['w3'].get(n):.8f}" == "0.29999713"  # printed 0.29999743


def test_seed002_half_sse_is_the_mean_over_two_outputs():
    # The activity says "Mean Squared Error" and computes 1/2 sum of squares: for two outputs
    # the same loss and gradient (not an error in its numbers).
    X, y = [[0.1, 0.5]], [[0.05, 0.95]]
    half = seed002.network()
    mse = Network([2, 2, 2], "sigmoid", "mse", bias=False, init=half.params)
    for backend in BACKENDS:
        assert mse.loss(X, y, backend=backend) == half.loss(X, y, backend=backend)
        np.testing.assert_array_equal(mse.gradient(X, y, backend=backend), half.gradient(X, y, backend=backend))


# ---------------------------------------------------------------- seed 003


def test_seed003_dL_dw1_and_its_rounding_slips():
    X, y = [[-2.0, -1.0]], [[1.0]]
    net = seed003.network(seed003.ALICE)
    exact = seed003.dL_dw1(seed003.ALICE, -2.0, -1.0, 1.0)
    numeric = fd(net, seed003.NAMES, X, y)
    # the formula is right: it agrees with finite differences and with fastnn
    assert close(exact["dL_dw1"], numeric["w1"])
    assert_ours_agree(net, seed003.NAMES, X, y, numeric)
    assert f"{exact['dL_dw1']:.4f}" == "0.0215"
    assert f"{exact['dypred_dh1']:.2f}" == "0.25" and f"{exact['dh1_dw1']:.4f}" == "-0.0904"
    assert f"{exact['h1']:.4f}" == "0.0474" and f"{exact['o1']:.3f}" == "0.524"
    # the document's -0.952 is -2(1 - 0.524) with the rounded ypred; exact -0.95261 -> -0.953
    assert f"{-2 * (1 - 0.524):.3f}" == "-0.952"
    assert f"{exact['dL_dypred']:.3f}" == "-0.953"
    ident = Network([1, 1], "linear", "squared_error", init=[1.0, 0.0])  # L as a function of ypred
    slope = numerical_gradient(ident, [[exact["o1"]]], y, backend="reference")[1]
    assert close(slope, exact["dL_dypred"]) and not close(slope, -0.952)
    # its 0.0948 is 0.0474 + 0.0474; exactly 2 g(-3) = 0.0948517 -> 0.0949
    assert f"{0.0474 + 0.0474:.4f}" == "0.0948" and f"{exact['sum_o1']:.4f}" == "0.0949"
    # the product of its rounded factors still rounds to 0.0215
    assert f"{-0.952 * 0.25 * -0.0904:.4f}" == "0.0215"


# ---------------------------------------------------------------- seed 004


def test_seed004_analytic_gradient_agrees_with_numerical():
    # The text says "numerical differentiation"; the code is analytic. Both give the same numbers.
    X, y = [[1.0, -2.0, 3.0]], [[0.0]]
    document = seed004.gradient(seed004.WEIGHTS, X[0], y[0])
    net = seed004.network()
    numeric = fd(net, seed004.NAMES, X, y)
    assert document == dict(w0=12.0, w1=-24.0, w2=36.0, b0=12.0)
    for name in seed004.NAMES:
        assert close(document[name], numeric[name])
    assert_ours_agree(net, seed004.NAMES, X, y, numeric)
    assert_ours_equal(net, seed004.NAMES, X, y, document)
    # one iteration of its loop, in nnfs's words, is fastnn's first SGD step
    new = seed004.step(seed004.WEIGHTS, X[0], y[0], seed004.LR)
    for backend in BACKENDS:
        n = seed004.network()
        n.fit(X, y, seed004.LR, 1, backend=backend)
        assert {name: slot.get(n) for name, slot in seed004.NAMES.items()} == new


# ---------------------------------------------------------------- the printed gradients


@pytest.mark.parametrize("where", ["001 step 1", "001 step 2", "001 step 3", "001 step 4", "002", "003 Alice",
                                   "004 start"])
def test_printed_gradients_are_fastnns_and_agree_with_finite_differences(where):
    # the points where the documents print derivatives (fastnn seeds shows fastnn's next to them)
    if where.startswith("001"):
        k = int(where[-1]) - 1
        module, net, X, y = seed001, seed001.network(floats(seed001.PRINTED[k])), seed001.X, seed001.Y
    elif where == "002":
        module, net, X, y = seed002, seed002.network(), seed002.X, seed002.Y
    elif where == "003 Alice":
        module, net, X, y = seed003, seed003.network(seed003.ALICE), seed003.ALICE_X, seed003.ALICE_Y
    else:
        module, net, X, y = seed004, seed004.network(), seed004.X, seed004.Y
    assert_ours_agree(net, module.NAMES, X, y, fd(net, module.NAMES, X, y))
