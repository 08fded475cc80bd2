"""fastnn.audit: hand-written steps checked against the reference (issue 17).

The user steps here are written the way users write them: seed-style scalar code (w1..w6,
bias1..bias3, the seeds' formulas), and, for generated architectures, a numpy backprop
written independently of fastnn.reference, into which one mistake is injected at a time.
"""
import math
import zlib

import numpy as np
import pytest

import fastnn
from fastnn import StepError, audit
from fastnn.audit import POINTS
from fastnn.seeds import seed000, seed001, seed002, seed003, seed004
from fastnn.seeds.layout import floats, mapping
from fastnn.seeds.seed000 import activation_ReLu, activation_ReLu_partial_derivative
from fastnn.testing import assert_backprop_matches
from strategies import break_reference_gradient, np_activate

# ---------------------------------------------------------------- a user's numpy backprop


def act(name, z):
    """f(z) of one sample's net inputs (1-D), as strategies.np_activate computes it."""
    return np_activate(name, np.asarray(z, dtype=float)[None, :])[0]


def act_d(name, z):
    if name == "relu":
        return (z > 0).astype(float)
    if name == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-z))
        return s * (1 - s)
    if name == "tanh":
        return 1 - np.tanh(z) ** 2
    if name == "gaussian":
        return -2 * z * np.exp(-z * z)
    return np.ones_like(z)


class Arch:
    """A network the user means, its names (w1.., bias1..) and fastnn's layout for them."""

    def __init__(self, sizes, activation, loss, bias=True):
        self.sizes, self.loss, self.bias = sizes, loss, bias
        n = len(sizes) - 1
        self.acts = [activation] * n if isinstance(activation, str) else list(activation)
        self.mapping, w, b = {}, 0, 0
        for l in range(n):  # seed-style numbering: unit by unit, its inputs in order
            for j in range(sizes[l + 1]):
                for i in range(sizes[l]):
                    w += 1
                    self.mapping[f"w{w}"] = f"W{l}[{i},{j}]"
            if bias:
                for j in range(sizes[l + 1]):
                    b += 1
                    self.mapping[f"bias{b}"] = f"b{l}[{j}]"
        self.name_of = {v: k for k, v in self.mapping.items()}

    def __repr__(self):
        return f"{self.sizes}-{'-'.join(self.acts)}-{self.loss}{'' if self.bias else '-nobias'}"

    def network(self, seed=0):
        return fastnn.Network(self.sizes, self.acts, self.loss, bias=self.bias, init="xavier", seed=seed)

    def data(self, seed=0, n=3):
        rng = np.random.default_rng(seed)
        X = rng.normal(0, 1, (n, self.sizes[0]))
        k = self.sizes[-1]
        if self.loss == "categorical_cross_entropy":
            return X, rng.integers(0, k, n)
        if self.loss == "binary_cross_entropy":
            return X, rng.uniform(0, 1, (n, k))
        return X, rng.normal(0, 1, (n, k))

    def gradient(self, p, x, y, mistake=None):
        """dL/dname, by matrices; ``mistake``: (kind, fastnn name, argument) or None."""
        n = len(self.sizes) - 1
        W = [np.array([[p[self.name_of[f"W{l}[{i},{j}]"]] for j in range(self.sizes[l + 1])]
                       for i in range(self.sizes[l])]) for l in range(n)]
        B = [np.array([p[self.name_of[f"b{l}[{j}]"]] for j in range(self.sizes[l + 1])]) if self.bias
             else np.zeros(self.sizes[l + 1]) for l in range(n)]
        x, y = np.array(x), np.array(y)
        ins, zs, outs = [], [], []
        a = x
        for l in range(n):
            ins.append(a)
            zs.append(a @ W[l] + B[l])
            a = act(self.acts[l], zs[-1])
            outs.append(a)
        yhat, k = a, len(a)
        if self.loss == "squared_error":
            e = 2 * (yhat - y)
        elif self.loss == "half_squared_error":
            e = yhat - y
        elif self.loss == "mse":
            e = 2 * (yhat - y) / k
        elif self.loss == "binary_cross_entropy":
            q = np.clip(yhat, 1e-7, 1 - 1e-7)
            e = (-(y / q) + (1 - y) / (1 - q)) / k
        else:
            e = None
        if self.loss == "categorical_cross_entropy":
            delta = yhat - y
        elif self.loss == "binary_cross_entropy" and self.acts[-1] == "sigmoid":
            delta = (yhat - y) / k
        elif self.acts[-1] == "softmax":
            delta = yhat * (e - (e * yhat).sum())
        else:
            delta = e * act_d(self.acts[-1], zs[-1])
        es, deltas = [None] * n, [None] * n
        es[-1], deltas[-1] = e, delta
        for l in range(n - 1, 0, -1):
            es[l - 1] = W[l] @ deltas[l]
            deltas[l - 1] = es[l - 1] * act_d(self.acts[l - 1], zs[l - 1])
        g = {}
        for l in range(n):
            for i in range(self.sizes[l]):
                for j in range(self.sizes[l + 1]):
                    g[f"W{l}[{i},{j}]"] = ins[l][i] * deltas[l][j]
            if self.bias:
                for j in range(self.sizes[l + 1]):
                    g[f"b{l}[{j}]"] = deltas[l][j]
        if mistake is not None:
            kind, target, arg = mistake
            l = int(target[1])
            j = int(target.rstrip("]").split(",")[-1].split("[")[-1])
            i = int(target.split("[")[1].split(",")[0]) if target[0] == "W" else None
            own = 1.0 if i is None else ins[l][i]
            if kind == "sign":
                g[target] = -g[target]
            elif kind == "factor2":
                g[target] = 2 * g[target]
            elif kind == "half":
                g[target] = g[target] / 2
            elif kind == "over_n":
                g[target] = g[target] / k
            elif kind == "swapped":
                g[target], g[arg] = g[arg], g[target]
            elif kind == "input":  # its unit's delta times another input
                g[target] = deltas[l][j] * ins[l][arg]
            elif kind == "bias":  # its unit's derivative at z computed with another unit's bias
                z = zs[l][j] - B[l][j] + B[l][arg]
                g[target] = es[l][j] * act_d(self.acts[l], np.array([z]))[0] * own
            elif kind == "derivative":  # its unit's activation derivative left out
                g[target] = es[l][j] * own
        return {name: float(g[slot]) for name, slot in self.mapping.items()}

    def step(self, mistake=None):
        def step(p, x, y, lr):
            g = self.gradient(p, x, y, mistake)
            return {name: p[name] - lr * g[name] for name in p}
        return step


ARCHS = [
    Arch([3, 1], "sigmoid", "binary_cross_entropy"),
    Arch([2, 2, 1], "relu", "squared_error"),
    Arch([2, 3, 2], "sigmoid", "half_squared_error", bias=False),
    Arch([2, 3, 1], ["tanh", "sigmoid"], "binary_cross_entropy"),
    Arch([2, 4, 3], ["relu", "softmax"], "categorical_cross_entropy"),
    Arch([2, 2, 2], ["gaussian", "softmax"], "squared_error"),
    Arch([3, 3, 2, 2], ["tanh", "relu", "linear"], "mse"),
    Arch([2, 3, 2, 1], ["relu", "sigmoid", "relu"], "squared_error"),
    Arch([2, 2, 2, 2], ["sigmoid", "tanh", "sigmoid"], "binary_cross_entropy"),
]

# mistake kind -> the diagnosis kinds expected
EXPECTED = {
    "sign": ("sign",),
    "factor2": ("factor",),
    "half": ("factor",),
    "over_n": ("factor",),
    "swapped": ("swapped",),
    "input": ("input",),
    "bias": ("bias",),
    "derivative": ("derivative",),
}


def slots(arch):
    """(fastnn name, layer, i or None, j) of every parameter."""
    out = []
    for slot in arch.mapping.values():
        l = int(slot[1])
        inside = slot[slot.index("[") + 1:-1].split(",")
        out.append((slot, l, int(inside[0]) if slot[0] == "W" else None, int(inside[-1])))
    return out


def mistake_for(arch, kind, rng):
    """A mistake of ``kind`` on a parameter where it can show, or None if there is none."""
    n_out, last = arch.sizes[-1], len(arch.sizes) - 2
    candidates = []
    for slot, l, i, j in slots(arch):
        a = arch.acts[l]
        elementwise = a not in ("linear", "softmax") and not (l == last and arch.loss == "categorical_cross_entropy")
        if kind in ("sign", "factor2", "half"):
            candidates.append((kind, slot, None))
        elif kind == "over_n" and n_out > 1:
            candidates.append((kind, slot, None))
        elif kind == "input" and i is not None and arch.sizes[l] > 1:
            candidates.append((kind, slot, (i + 1) % arch.sizes[l]))
        elif kind == "bias" and arch.bias and elementwise and arch.sizes[l + 1] > 1:
            candidates.append((kind, slot, (j + 1) % arch.sizes[l + 1]))
        elif kind == "derivative" and elementwise:
            candidates.append((kind, slot, None))
        elif kind == "swapped" and i is not None and arch.sizes[l] > 1 and arch.sizes[l + 1] > 1:
            candidates.append((kind, slot, f"W{l}[{(i + 1) % arch.sizes[l]},{(j + 1) % arch.sizes[l + 1]}]"))
    if not candidates:
        return None
    return candidates[rng.integers(len(candidates))]


# ---------------------------------------------------------------- correct steps


@pytest.mark.parametrize("arch", ARCHS, ids=repr)
def test_a_correct_step_is_judged_ok(arch):
    X, y = arch.data()
    report = audit(arch.step(), arch.network(), arch.mapping, X, y, 0.05)
    assert report.ok, str(report)
    assert report.wrong == () and report.mismatches == ()
    assert report.points == len(X) + POINTS
    assert "agrees with fastnn's reference for all" in str(report)


@pytest.mark.parametrize("arch", ARCHS[1:5], ids=repr)
def test_a_correct_gradient_is_judged_ok(arch):
    X, y = arch.data(seed=1)

    def gradient(p, x, y):
        return arch.gradient(p, x, y)

    report = audit(gradient, arch.network(1), arch.mapping, X, y, kind="gradient")
    assert report.ok, str(report)


# ---------------------------------------------------------------- injected mistakes


@pytest.mark.parametrize("kind", sorted(EXPECTED))
@pytest.mark.parametrize("arch", ARCHS, ids=repr)
def test_an_injected_mistake_is_found_and_diagnosed(arch, kind):
    rng = np.random.default_rng(zlib.crc32(f"{arch!r} {kind}".encode()))
    mistake = mistake_for(arch, kind, rng)
    if mistake is None:
        pytest.skip(f"no parameter of {arch} where a {kind} mistake shows")
    X, y = arch.data()
    report = audit(arch.step(mistake), arch.network(), arch.mapping, X, y, 0.05)
    affected = {arch.name_of[mistake[1]]} | ({arch.name_of[mistake[2]]} if kind == "swapped" else set())
    assert set(report.wrong) == affected, str(report)
    assert not report.ok and report.mismatches == ()
    for name in affected:
        diagnosis = report.diagnoses[name]
        assert diagnosis is not None and diagnosis.kinds == EXPECTED[kind], (name, str(report))
        assert diagnosis.points >= 2
    text = str(report)
    for name in affected:
        assert f"{name} " in text and "WRONG" in text


def test_a_missing_learning_rate_is_diagnosed():
    arch = ARCHS[1]

    def step(p, x, y, lr):
        g = arch.gradient(p, x, y)
        return {name: p[name] - g[name] for name in p}  # forgot lr

    X, y = arch.data()
    report = audit(step, arch.network(), arch.mapping, X, y, 0.05)
    assert set(report.wrong) == set(arch.mapping)
    assert all(report.diagnoses[n].kinds == ("lr",) for n in report.wrong)


def test_a_parameter_never_updated_is_diagnosed():
    arch = ARCHS[1]

    def step(p, x, y, lr):
        g = arch.gradient(p, x, y)
        new = {name: p[name] - lr * g[name] for name in p}
        new["w3"] = p["w3"]
        return new

    X, y = arch.data()
    report = audit(step, arch.network(), arch.mapping, X, y, 0.05)
    assert report.wrong == ("w3",)
    assert report.diagnoses["w3"].kinds == ("unchanged",)


# ---------------------------------------------------------------- seed-style steps (seed 000)
# A user's step written the way seed 000 writes its own (fastnn.seeds.seed000.step), with the
# output ReLU's derivative put back in (fixed=True) and one injectable slip.

SEED000_MAPPING = mapping(seed000.NAMES)
SEED000_DATA = (seed000.X, seed000.Y)  # the document's three rows


def seed000_step(p, x, y, lr, fixed=True, mistake=None):
    """Seed 000's update in its own words; ``fixed``: with the output ReLU's derivative;
    ``mistake``: one slip in one formula."""
    w1, w2, w3, w4, w5, w6 = p["w1"], p["w2"], p["w3"], p["w4"], p["w5"], p["w6"]
    bias1, bias2, bias3 = p["bias1"], p["bias2"], p["bias3"]
    input1, input2 = x
    true_value = y[0]
    node_1_output = activation_ReLu(input1 * w1 + input2 * w3 + bias1)
    node_2_output = activation_ReLu(input1 * w2 + input2 * w4 + bias2)
    node_3_input = node_1_output * w5 + node_2_output * w6 + bias3
    if fixed:
        error = (activation_ReLu(node_3_input) - true_value) * activation_ReLu_partial_derivative(node_3_input)
    else:
        error = node_3_input - true_value
    deriv_L_w5 = 2 * node_1_output * error
    deriv_L_w6 = 2 * node_2_output * error
    deriv_L_b3 = 2 * 1 * error
    deriv_L_w1 = 2 * w5 * error * (activation_ReLu_partial_derivative(input1 * w1 + input2 * w3 + bias1) * input1)
    deriv_L_w2 = 2 * w6 * error * (activation_ReLu_partial_derivative(input1 * w2 + input2 * w4 + bias2) * input1)
    deriv_L_w3 = 2 * w5 * error * (activation_ReLu_partial_derivative(input1 * w1 + input2 * w3 + bias1) * input2)
    deriv_L_w4 = 2 * w6 * error * (activation_ReLu_partial_derivative(input1 * w2 + input2 * w4 + bias2) * input2)
    deriv_L_b1 = 2 * w5 * error * (activation_ReLu_partial_derivative(input1 * w1 + input2 * w3 + bias1) * 1)
    deriv_L_b2 = 2 * w6 * error * (activation_ReLu_partial_derivative(input1 * w2 + input2 * w4 + bias2) * 1)
    if mistake == "w4 uses bias1":  # hidden by the sample (1, 0) -> 2: both net inputs are positive there
        deriv_L_w4 = 2 * w6 * error * (activation_ReLu_partial_derivative(input1 * w2 + input2 * w4 + bias1) * input2)
    if mistake == "w1 uses input2":
        deriv_L_w1 = 2 * w5 * error * (activation_ReLu_partial_derivative(input1 * w1 + input2 * w3 + bias1) * input2)
    if mistake == "w5 without 2":
        deriv_L_w5 = node_1_output * error
    return {
        "w1": w1 - lr * deriv_L_w1, "w2": w2 - lr * deriv_L_w2, "w3": w3 - lr * deriv_L_w3,
        "w4": w4 - lr * deriv_L_w4, "w5": w5 - lr * deriv_L_w5, "w6": w6 - lr * deriv_L_w6,
        "bias1": bias1 - lr * deriv_L_b1, "bias2": bias2 - lr * deriv_L_b2, "bias3": bias3 - lr * deriv_L_b3,
    }


def seed000_network():
    return seed000.network()


def test_seed_style_correct_step_passes_assert_backprop_matches():
    report = assert_backprop_matches(seed000_step, seed000_network(), SEED000_MAPPING, *SEED000_DATA, lr=0.005)
    assert report.ok and report.points == 3 + POINTS


def test_assert_backprop_matches_fails_with_the_table():
    def step(p, x, y, lr):
        return seed000_step(p, x, y, lr, mistake="w1 uses input2")

    with pytest.raises(AssertionError) as info:
        assert_backprop_matches(step, seed000_network(), SEED000_MAPPING, *SEED000_DATA, lr=0.005)
    text = str(info.value)
    assert "WRONG for 1 of 9 parameters: w1" in text
    assert "finite diff." in text and "W0[0,0]" in text
    assert "w1: multiplies by input x[1] instead of its own input x[0]" in text


@pytest.mark.parametrize("mistake, wrong, kinds", [
    ("w4 uses bias1", "w4", ("bias",)),
    ("w1 uses input2", "w1", ("input",)),
    ("w5 without 2", "w5", ("factor",)),
])
def test_seed_style_single_mistakes(mistake, wrong, kinds):
    def step(p, x, y, lr):
        return seed000_step(p, x, y, lr, mistake=mistake)

    report = audit(step, seed000_network(), SEED000_MAPPING, [[1, 0]], [2], 0.005)
    assert report.wrong == (wrong,)
    assert report.diagnoses[wrong].kinds == kinds


def test_a_mistake_the_given_sample_hides_is_found():
    # seed 000's own first row (1, 0) -> 2: node 1 and node 2 are both on, so relu'(z2) with
    # bias1 instead of bias2 changes nothing there; random points with node 2 off show it
    def step(p, x, y, lr):
        return seed000_step(p, x, y, lr, mistake="w4 uses bias1")

    report = audit(step, seed000_network(), SEED000_MAPPING, [[1, 0]], [2], 0.005)
    assert report.wrong == ("w4",) and report.hidden == ("w4",)
    assert report.first_wrong["w4"] >= 1 and report.first_point.origin == "random"
    text = str(report)
    assert "your sample hides w4" in text
    assert "relu'(z) of its unit uses bias1 (b0[0]), another unit's bias, instead of bias2 (b0[1])" in text


def test_the_table_lists_every_parameter_at_the_first_wrong_point():
    def step(p, x, y, lr):
        return seed000_step(p, x, y, lr, mistake="w1 uses input2")

    report = audit(step, seed000_network(), SEED000_MAPPING, [[1, 0]], [2], 0.005)
    assert report.first_point.index == 0 and report.first_point.x == [1.0, 0.0]
    assert [r[0] for r in report.rows] == list(SEED000_MAPPING)
    rows = {r[0]: r for r in report.rows}
    name, slot, yours, ref, fd, verdict = rows["w1"]
    assert (slot, verdict) == ("W0[0,0]", "WRONG")
    assert yours == 0.0 and ref == 2 * 1 * (1.5 + 0.5 + 0.5 - 2) * 1  # 2 w5 (z3 - y) x1
    assert math.isclose(fd, ref, rel_tol=1e-6)
    assert all(r[5] == "ok" for r in report.rows if r[0] != "w1")


def test_reports_are_reproducible_and_follow_the_seed():
    def step(p, x, y, lr):
        return seed000_step(p, x, y, lr, mistake="w4 uses bias1")

    net = seed000_network()
    a = audit(step, net, SEED000_MAPPING, [[1, 0]], [2], 0.005, seed=3)
    b = audit(step, net, SEED000_MAPPING, [[1, 0]], [2], 0.005, seed=3)
    c = audit(step, net, SEED000_MAPPING, [[1, 0]], [2], 0.005, seed=4)
    assert str(a) == str(b) and "seed=3" in str(a)
    assert c.wrong == a.wrong and str(c) != str(a)


# ---------------------------------------------------------------- the seed documents' own steps
# Transcribed from shared/seeds/*.txt in fastnn.seeds.seedNNN, operation for operation (the
# transcriptions reproduce the documents' printed numbers: tests/test_seed_errors.py).


def test_the_seed_style_fixture_is_the_documents_step():
    rng = np.random.default_rng(5)
    for _ in range(20):
        p = dict(zip(SEED000_MAPPING, rng.normal(0, 1, 9).tolist()))
        x, y = rng.normal(0, 1, 2).tolist(), [rng.normal(0, 1)]
        assert seed000_step(p, x, y, 0.005, fixed=False) == seed000.step(p, x, y, 0.005)


def test_seed000_document_step():
    # docs/seeds.md: the output ReLU's derivative is missing (all nine updates); harmless on
    # the document's own data, where node 3's net input stays positive
    report = audit(seed000.step, seed000.network(), SEED000_MAPPING, seed000.X, seed000.Y, seed000.LR)
    assert set(report.wrong) == set(SEED000_MAPPING)
    assert set(report.hidden) == set(SEED000_MAPPING)  # the document's three rows hide it
    for name in SEED000_MAPPING:
        assert report.diagnoses[name].kinds == ("derivative",)
        assert "as if the output were linear" in report.diagnoses[name].text


def test_seed001_document_step():
    # docs/seeds.md: (b) w3 uses input2; (c) relu' of w3, bias3 (bias1), w4, w6 (bias2) with
    # another unit's bias; (d) no output ReLU derivative anywhere. (a), node 4's printed
    # forward pass with bias3, is not part of the step: its derivatives use bias4.
    names = mapping(seed001.NAMES)
    net = seed001.network(floats(seed001.PRINTED[0]))
    report = audit(seed001.step, net, names, seed001.X, seed001.Y, seed001.LRS[0])
    assert set(report.wrong) == set(names)
    kinds = {name: report.diagnoses[name].kinds for name in report.wrong}
    assert kinds.pop("w3") == ("input", "bias", "derivative")
    for name in ("w4", "w6", "bias3"):
        assert kinds.pop(name) == ("bias", "derivative")
    assert set(kinds.values()) == {("derivative",)}
    text = str(report)
    assert "w3: multiplies by input x[1] instead of its own input x[0]; relu'(z) of its unit uses bias1 (b0[0])" in text
    assert "w4: relu'(z) of its unit uses bias2 (b0[1]), another unit's bias, instead of bias1 (b0[0])" in text
    assert "w6, bias3" not in text  # different biases: w6 uses bias2, bias3 uses bias1
    # on the document's sample only w3 shows (it prints w3 = 1.0 four times)
    assert set(report.hidden) == set(names) - {"w3"}
    assert report.first_point.index == 0 and dict((r[0], r[5]) for r in report.rows)["w3"] == "WRONG"


def test_seed002_document_gradient():
    # docs/seeds.md: grad_w2 and grad_w3 are swapped
    report = audit(seed002.gradient, seed002.network(), mapping(seed002.NAMES), seed002.X, seed002.Y,
                   kind="gradient")
    assert report.wrong == ("w2", "w3") and report.hidden == ()
    assert report.diagnoses["w2"].kinds == report.diagnoses["w3"].kinds == ("swapped",)
    assert "w2: swapped with w3" in str(report)


def test_seed003_and_seed004_steps_are_right():
    report = audit(seed003.step, seed003.network(seed003.ALICE), mapping(seed003.NAMES), seed003.ALICE_X,
                   seed003.ALICE_Y, seed003.LR)
    assert report.ok, str(report)
    report = audit(seed004.step, seed004.network(), mapping(seed004.NAMES), seed004.X, seed004.Y, seed004.LR)
    assert report.ok, str(report)
    assert mapping(seed004.NAMES) == {"w0": "W0[0,0]", "w1": "W0[1,0]", "w2": "W0[2,0]", "b0": "b0[0]"}


# ---------------------------------------------------------------- errors


def good_args():
    return [seed000_step, seed000_network(), dict(SEED000_MAPPING), *SEED000_DATA, 0.005]


@pytest.mark.parametrize("mapping, error, words", [
    ([("w1", "W0[0,0]")], TypeError, "mapping must be a dict"),
    ({**SEED000_MAPPING, "w1": 3}, TypeError, "mapping['w1'] must be a string"),
    ({**SEED000_MAPPING, 1: "W0[0,0]"}, TypeError, "mapping keys"),
    ({**SEED000_MAPPING, "w1": "w[0][0]"}, ValueError, "mapping['w1'] = 'w[0][0]' is not a parameter"),
    ({**SEED000_MAPPING, "w1": "W2[0,0]"}, ValueError, "layers 0..1"),
    ({**SEED000_MAPPING, "w1": "W0[2,0]"}, ValueError, "W0 has shape (2, 2)"),
    ({**SEED000_MAPPING, "bias3": "b1[1]"}, ValueError, "b1 has 1 entries"),
    ({**SEED000_MAPPING, "w1": "W0[0,1]"}, ValueError, "mapping names W0[0,1] twice: 'w1' and 'w2'"),
    ({k: v for k, v in SEED000_MAPPING.items() if k != "bias2"}, ValueError,
     "mapping misses 1 of the network's 9 parameters: b0[1]"),
])
def test_bad_mappings(mapping, error, words):
    args = good_args()
    args[2] = mapping
    with pytest.raises(error, match="mapping") as info:
        audit(*args)
    assert words in str(info.value)


def test_other_spellings_of_the_layout_are_accepted():
    args = good_args()
    args[2] = {**SEED000_MAPPING, "w3": "weight(0)[1, 0]", "bias3": "bias(1)[0]", "w6": " W1[1, 0] "}
    assert audit(*args, points=5).ok


def test_a_mapping_onto_a_network_without_biases():
    net = fastnn.Network([2, 1], "linear", "squared_error", bias=False)
    with pytest.raises(ValueError, match=r"mapping\['b'\] = 'b0\[0\]': the network has no biases"):
        audit(lambda p, x, y, lr: p, net, {"a": "W0[0,0]", "c": "W0[1,0]", "b": "b0[0]"}, [[1, 2]], [1], 0.1)


def test_bad_arguments():
    args = good_args()
    with pytest.raises(TypeError, match="step must be a function"):
        audit(None, *args[1:])
    with pytest.raises(TypeError, match="net must be a fastnn.Network"):
        audit(args[0], "net", *args[2:])
    with pytest.raises(ValueError, match="kind"):
        audit(*args, kind="update")
    with pytest.raises(TypeError, match="lr is required"):
        audit(*args[:5])
    with pytest.raises(ValueError, match="lr must be positive"):
        audit(*args[:5], -0.1)
    with pytest.raises(ValueError, match="X must have 2 columns"):
        audit(args[0], args[1], args[2], [[1, 2, 3]], [1], 0.1)
    with pytest.raises(ValueError, match="points"):
        audit(*args, points=-1)
    with pytest.raises(TypeError, match="seed"):
        audit(*args, seed="a")


def test_a_step_that_raises_names_the_point_and_chains_the_exception():
    def step(p, x, y, lr):
        if p["w1"] < 0.5:
            return 1 / 0
        return seed000_step(p, x, y, lr)

    with pytest.raises(StepError) as info:
        audit(step, *good_args()[1:])
    error = info.value
    assert isinstance(error, ValueError) and isinstance(error.__cause__, ZeroDivisionError)
    assert error.point.origin == "random" and error.point.params["w1"] < 0.5
    text = str(error)
    assert text.startswith("step raised ZeroDivisionError: division by zero")
    assert f"'w1': {error.point.params['w1']!r}" in text and f"x = {error.point.x!r}" in text
    assert "lr = 0.005" in text


def test_a_gradient_with_the_wrong_signature_says_how_it_is_called():
    with pytest.raises(StepError, match=r"audit called step\(p, x, y\)") as info:
        audit(seed000_step, seed000_network(), SEED000_MAPPING, *SEED000_DATA, kind="gradient")
    assert isinstance(info.value.__cause__, TypeError)
    assert info.value.point.index == 0 and "your sample X[0]" in str(info.value)


@pytest.mark.parametrize("change, error, words", [
    (lambda out: [out], TypeError, "step must return a dict {name: new value}, got list"),
    (lambda out: {k: v for k, v in out.items() if k != "w2"}, ValueError, "step returned no new value for w2"),
    (lambda out: {**out, "w7": 1.0}, ValueError, "step returned 'w7', which mapping does not name"),
    (lambda out: {**out, "w2": "0.5"}, TypeError, "step must return a float for each name, got str for 'w2'"),
    (lambda out: {**out, "w2": np.array([0.5])}, TypeError, "got ndarray of shape (1,) for 'w2'"),
    (lambda out: {**out, "w2": None}, TypeError, "got NoneType for 'w2'"),
    (lambda out: {**out, "w2": True}, TypeError, "got bool for 'w2'"),
])
def test_steps_that_return_the_wrong_things(change, error, words):
    def step(p, x, y, lr):
        return change(seed000_step(p, x, y, lr))

    with pytest.raises(error, match="step") as info:
        audit(step, *good_args()[1:])
    assert words in str(info.value) and "at point 0" in str(info.value)


def test_numpy_scalars_are_floats():
    def step(p, x, y, lr):
        return {k: np.float32(v) if k == "w1" else np.array(v) for k, v in seed000_step(p, x, y, lr).items()}

    report = audit(step, *good_args()[1:], points=20)
    assert report.wrong == ("w1",)  # float32 rounding of w1 is far beyond the tolerance
    assert report.diagnoses["w1"].kinds == ("float32",)

    def step64(p, x, y, lr):
        return {k: np.float64(v) if k == "w1" else np.array(v) for k, v in seed000_step(p, x, y, lr).items()}

    assert audit(step64, *good_args()[1:], points=20).ok


def test_a_reference_that_disagrees_with_finite_differences_is_not_blamed_on_the_user(monkeypatch):
    break_reference_gradient(monkeypatch)  # w5's gradient tripled
    report = audit(seed000_step, seed000_network(), SEED000_MAPPING, *SEED000_DATA, 0.005)
    assert report.wrong == () and report.mismatches == ("w5",) and not report.ok
    assert "FD MISMATCH" in str(report) and "a fastnn bug" in str(report)


def test_undecided_points_at_a_relu_kink():
    # relu'(0) = 1 (the other convention) at the kink z1 = 0 of the given sample: finite
    # differences cannot decide there, so it is not called wrong
    def step(p, x, y, lr):
        new = seed000_step(p, x, y, lr)
        z1 = x[0] * p["w1"] + x[1] * p["w3"] + p["bias1"]
        if z1 == 0:
            n2 = activation_ReLu(x[0] * p["w2"] + x[1] * p["w4"] + p["bias2"])
            z3 = activation_ReLu(z1) * p["w5"] + n2 * p["w6"] + p["bias3"]
            error = 2 * (activation_ReLu(z3) - y[0]) * activation_ReLu_partial_derivative(z3)
            new["bias1"] = p["bias1"] - lr * error * p["w5"] * 1  # relu'(0) taken as 1
        return new

    net = seed000_network()
    net.bias(0)[0] = -1.0  # z1 = 1 * 1 + 0 * 1 - 1 = 0 on the sample (1, 0)
    report = audit(step, net, SEED000_MAPPING, [[1, 0]], [2], 0.005)
    assert report.ok and report.undecided == 1
    assert "undecided" in str(report)


# ---------------------------------------------------------------- the docs


def test_the_docs_example_prints_what_docs_audit_md_shows(capsys):
    import pathlib
    import re

    text = (pathlib.Path(__file__).parent.parent / "docs" / "audit.md").read_text()
    example = text[text.index("## A worked example"):]
    code, printed = re.findall(r"```(?:python)?\n(.*?)```", example, re.S)[:2]
    exec(compile(code, "docs/audit.md", "exec"), {"__name__": "docs_example"})
    assert capsys.readouterr().out == printed
