"""Every number of the seed walkthroughs (fastnn.walkthrough): one test per quantity.

Each test checks that the numba kernel and the pure-Python reference give the same value,
and compares it with the document's printed number where the document is right, or with
the corrected number (listed below, derived in docs/seeds.md and tests/test_seed_errors.py)
where it is not. The set of seed errors is pinned: a new mismatch, or a fixed one, fails.
"""
import math
import os

import numpy as np
import pytest

from fastnn import Network, cli, datasets
from fastnn import walkthrough as wt
from fastnn.seeds import (
    SEED000_INITIAL,
    SEED000_NAMES,
    SEED000_TRAINED,
    SEED001_NAMES,
    SEED002_NAMES,
    SEED003_NAMES,
    SEED004_NAMES,
    W,
    network_from_names,
    seed000_network,
    seed000_params,
)

SEEDS = {sid: wt.seed(sid) for sid in wt.SEED_IDS}
QUANTITIES = {q.key: q for s in SEEDS.values() for q in s.quantities}

# The document's printed numbers that are wrong, with the right values:
# (value, decimals the document printed; None = full precision).
CORRECTED = {
    # seed 001: node 4 adds bias3 instead of bias4 (steps 2-4), and the loss with it
    "001/step2/node_4_output": (1.7900437499999997, None),  # printed 1.7875437499999998
    "001/step3/node_4_output": (1.9595464388297779, None),  # printed 1.9467060935172777
    "001/step4/node_4_output": (2.0259613408679855, None),  # printed 2.0093915487941922
    "001/step2/loss": (0.04408162691406262, None),  # (1.79004375 - 2)^2
    "001/step3/loss": (0.0016364906113529045, None),
    "001/step4/loss": (0.000673991219663735, None),
    # seed 001: w3's derivative multiplied by input2 = 0 instead of input1 = 1
    "001/step1/new w3": (1.0025, None),  # 1 - 0.01 * (2 * w9 * r) = 1 - 0.01 * (-0.25)
    "001/step2/new w3": (1.0106552796875, None),
    "001/step3/new w3": (1.004361265472751, None),
    "001/step4/new w3": (0.997137562627864, None),
    # seed 002: grad_w2 and grad_w3 swapped
    "002/gradients/grad w2": (0.00257361, 8),
    "002/gradients/grad w3": (0.00287383, 8),
    "002/updated/new w2": (0.39999743, 8),
    "002/updated/new w3": (0.29999713, 8),
    # seed 003: intermediate numbers computed from already-rounded ones
    "003/alice/o1 net input": (0.0949, 4),  # 2 * g(-3) = 0.0948517
    "003/alice/dL/dypred = -2(1 - ypred)": (-0.953, 3),  # -2 (1 - 0.5236952) = -0.9526097
}

# Derivation checks (the document's formula at a chosen point) where the formula is wrong;
# the right value there is the finite-difference gradient.
CHECK_ERRORS = {
    "000/check-off": {"w1", "w2", "bias1", "bias2", "w5", "w6", "bias3"},
    "001/check-step1": {"w3"},
    "001/check-biases": {"w3", "bias3", "w4", "w6"},
    "001/check-off": {"w2", "bias2", "bias3", "w7", "w8", "w9", "bias4"},
}
CHECK_RIGHT = {  # fastnn's gradient at the check points, derived by hand in docs/seeds.md
    "000/check-off": dict.fromkeys(SEED000_NAMES, 0.0),
    "001/check-off": dict.fromkeys(SEED001_NAMES, 0.0),
    "001/check-step1": dict(w1=0.0, w2=-0.5, w3=-0.25, w4=0.0, w5=0.0, w6=0.0, bias1=0.0, bias2=-0.5,
                            bias3=-0.25, w7=-0.75, w8=-0.25, w9=-0.75, bias4=-0.5),
    "001/check-biases": dict(w1=0.4375, w2=0.0, w3=0.4375, w4=0.4375, w5=0.0, w6=0.4375, bias1=-0.875,
                             bias2=0.0, bias3=-0.875, w7=-0.4375, w8=0.0, w9=-1.75, bias4=-1.75),
    "004/check-gradient": dict(w0=12.0, w1=-24.0, w2=36.0, b0=12.0),
}


def _split(key):
    """"seed/group/name" -> ("seed/group", name); names may contain "/"."""
    sid, group, name = key.split("/", 2)
    return f"{sid}/{group}", name


def _check_name(key):
    return _split(key)[1][len("dL/d"):]


def _close(value, expected, decimals):
    if decimals is None:
        return math.isclose(value, expected, rel_tol=1e-12, abs_tol=0.0)
    return round(value, decimals) == round(expected, decimals)


def test_keys_unique():
    keys = [q.key for s in SEEDS.values() for q in s.quantities]
    assert len(keys) == len(set(keys))
    assert set(CORRECTED) <= set(keys)


@pytest.mark.parametrize("key", list(QUANTITIES))
def test_quantity(key):
    q = QUANTITIES[key]
    assert wt.agree(q.kernel, q.reference), f"kernel {q.kernel!r} != reference {q.reference!r}"
    if q.fd is not None:
        assert wt.fd_agree(q.reference, q.fd_value), (q.reference, q.fd_value)
    group = _split(key)[0]
    if group.split("/")[1].startswith("check"):
        right = CHECK_RIGHT.get(group)
        if right is not None:
            assert q.reference == pytest.approx(right[_check_name(key)], abs=1e-15)
        wrong = _check_name(key) in CHECK_ERRORS.get(group, ())
        assert q.verdict == ("seed error" if wrong else "match")
        if wrong:
            assert abs(float(q.doc) - q.fd_value) > 1e-3  # the document's formula vs finite differences
        else:
            assert wt.fd_agree(float(q.doc), q.fd_value)
        return
    if key in CORRECTED:
        value, decimals = CORRECTED[key]
        assert q.verdict == "seed error"
        assert q.reason and not q.reason.startswith("UNEXPLAINED")
        assert _close(q.reference, value, decimals), (q.reference, value)
        assert not wt.printed_match(q.reference, q.doc, q.decimals)
    elif q.doc is not None and q.comparable:
        assert q.verdict == "match", f"document {q.doc}, fastnn {q.reference!r}: {q.note}"
        assert wt.printed_match(q.kernel, q.doc, q.decimals)
    else:
        assert q.verdict in ("not printed", "not comparable")
        assert math.isfinite(q.reference)


# ---------------------------------------------------------------- values the documents don't print


def test_seed000_training_curve():
    hist, pred = wt.seed000_training(0.005, 1000, "numba")
    ref_hist, ref_pred = wt.seed000_training(0.005, 1000, "reference")
    np.testing.assert_array_equal(hist, ref_hist)
    assert pred == ref_pred
    assert hist.shape == (1000,) and np.isfinite(hist).all()
    assert hist[-1] < hist[0] / 5  # 53.7 -> 9.9
    # the walkthrough pauses one run at 200 and 500 epochs for the experiments: the same as
    # separate runs of 200 / 500 epochs (per-sample SGD in order, no shuffling)
    X, y = datasets.quadratic(100, seed=0)
    for epochs in (200, 500):
        net = seed000_network()
        np.testing.assert_array_equal(net.fit(X, y, 0.005, epochs), hist[:epochs])
        assert net.predict([[2, 5]])[0, 0] == wt.seed000_training(0.005, epochs, "reference")[1]
    slow = wt.seed000_training(0.001, 1000, "numba")[0]
    assert slow[-1] < hist[-1]  # lr 0.001 ends lower on this data (2.76 vs 9.94)


def test_seed000_document_weights_same_regime():
    X, y = datasets.quadratic(100, seed=0)
    doc_loss = seed000_network(SEED000_TRAINED).loss(X, y)
    assert 5.0 < doc_loss < 12.0  # 7.52: comparable with fastnn's 9.94


def test_seed003_training_classifies():
    q = {k.split("/")[-1]: v for k, v in QUANTITIES.items() if k.startswith("003/train/")}
    for person, target in zip(datasets.GENDER_NAMES, datasets.gender()[1][:, 0]):
        pred = q[f"predict {person}"].reference
        assert abs(pred - target) < 0.1, (person, pred)
    assert q["epoch 1000 mean loss"].reference < q["epoch 1 mean loss"].reference / 50


def test_seed004_loss_decreases_geometrically():
    hist = wt.seed004_loop("numba")[0]
    np.testing.assert_array_equal(hist, wt.seed004_loop("reference")[0])
    ratios = hist[1:] / hist[:-1]
    assert np.all(ratios < 1.0) and np.all(ratios > 0.9)


# ---------------------------------------------------------------- the name mappings


@pytest.mark.parametrize(
    "names, sizes, bias",
    [
        (SEED000_NAMES, [2, 2, 1], True),
        (SEED001_NAMES, [2, 3, 1], True),
        (SEED002_NAMES, [2, 2, 2], False),
        (SEED003_NAMES, [2, 2, 1], True),
        (SEED004_NAMES, [3, 1], True),
    ],
)
def test_names_cover_every_parameter_once(names, sizes, bias):
    values = {name: float(k + 1) for k, name in enumerate(names)}
    net = network_from_names(sizes, "relu", "squared_error", names, values, bias=bias)
    assert sorted(net.params.tolist()) == sorted(values.values())
    for name, slot in names.items():
        assert slot.get(net) == values[name]
        assert net.params[slot.offset(net.spec)] == values[name]


def test_names_rejects_a_bad_mapping():
    names = dict(SEED000_NAMES, w2=W(0, 0, 0))  # w1 and w2 on the same weight
    with pytest.raises(ValueError, match="cover"):
        network_from_names([2, 2, 1], "relu", "squared_error", names, SEED000_INITIAL)


def test_seed000_params_agree_with_names():
    net = network_from_names([2, 2, 1], "relu", "squared_error", SEED000_NAMES, SEED000_TRAINED)
    np.testing.assert_array_equal(net.params, seed000_params(SEED000_TRAINED))


def test_seed001_mapping_reads_the_documents_forward_pass():
    # node_k = x1 w_k + x2 w_(k+3) + bias_k: with x = (0, 1) layer 0's net inputs are
    # w4 + bias1, w5 + bias2, w6 + bias3; with x = (1, 0) they are w1 + bias1, ...
    w = {name: float(k + 1) for k, name in enumerate(SEED001_NAMES)}
    net = network_from_names([2, 3, 1], "linear", "squared_error", SEED001_NAMES, w)
    layer0 = Network([2, 3], "linear", init=np.concatenate([net.weight(0).ravel(), net.bias(0)]))
    z = layer0.predict([[0.0, 1.0], [1.0, 0.0]])
    np.testing.assert_array_equal(z[0], [w["w4"] + w["bias1"], w["w5"] + w["bias2"], w["w6"] + w["bias3"]])
    np.testing.assert_array_equal(z[1], [w["w1"] + w["bias1"], w["w2"] + w["bias2"], w["w3"] + w["bias3"]])
    # node 4 = n1 w7 + n2 w8 + n3 w9 + bias4
    hidden = z[0]
    expected = hidden[0] * w["w7"] + hidden[1] * w["w8"] + hidden[2] * w["w9"] + w["bias4"]
    assert net.predict([[0.0, 1.0]])[0, 0] == expected


# ---------------------------------------------------------------- verdict logic


def test_printed_match_rules():
    assert wt.printed_match(0.5695462, "0.5695", 4)
    assert not wt.printed_match(0.56955, "0.5695", 4)  # rounds to 0.5696 (0.56955 is just above)
    assert wt.printed_match(-0.00001, "0.0000", 4)  # -0.0000 == 0.0000
    assert wt.printed_match(-3.3990955035960044, "-3.3990955", 8)
    assert wt.printed_match(0.00023486717989212869, "0.00023486717989213552", None)  # 3e-14 relative
    assert not wt.printed_match(1.7900437499999997, "1.7875437499999998", None)
    assert wt.printed_match(0.0, "0", None) and not wt.printed_match(1e-300, "0", None)


def test_verdicts():
    def q(doc, decimals, value, **kw):
        return wt.Quantity("x", doc, decimals, lambda backend: value, **kw)

    assert q("0.25", 2, 0.2494).verdict == "match"
    wrong = q("0.26", 2, 0.2494)
    assert wrong.verdict == "seed error" and wrong.note.startswith("UNEXPLAINED")
    assert q("0.26", 2, 0.2494, reason="why").note == "why"
    assert q(None, None, 1.0).verdict == "not printed"
    assert q("1.0", None, 2.0, comparable=False).verdict == "not comparable"
    assert q("1.0", None, 1.0, fd=lambda: 5.0).verdict == "FD MISMATCH"


def test_exit_status_fails_when_kernel_differs(monkeypatch):
    bad = wt.Quantity("x", "1", None, lambda backend: 1.0 if backend == "numba" else 1.0 + 1e-9)
    fake = wt.Seed("000", "fake", "net", {}, [], [wt.Group("g", "g", "how", [bad])])
    monkeypatch.setattr(wt, "seed", lambda sid: fake)
    lines = []
    assert wt.run(["000"], out=lines.append) == 1
    assert "DIFF" in "\n".join(lines)


def test_seed_ids(capsys):
    assert wt.normalize("2") == wt.normalize("002") == "002"
    with pytest.raises(ValueError, match="unknown seed"):
        wt.normalize("5")
    assert cli.main(["seeds", "7"]) == 2
    assert "unknown seed '7'" in capsys.readouterr().err


# ---------------------------------------------------------------- the command


def test_cli_seeds_one(capsys):
    assert cli.main(["seeds", "002"]) == 0
    text = capsys.readouterr().out
    assert "== seed 002" in text and "== seed 001" not in text
    assert "w2 = weight(0)[1, 0]" in text
    assert "seed error: grad_w2 = delta_h2 * i1" in text
    assert "kernel = reference everywhere: yes" in text


def test_cli_seeds_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert cli.main(["seeds", "000", "002", "004", "--plot", str(tmp_path)]) == 0
    names = sorted(os.listdir(tmp_path))
    assert names == ["seed000_loss.png", "seed002_activations.png", "seed004_loss.png"]
    for name in names:
        data = (tmp_path / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000


def test_activation_curves_match_reference():
    x = np.linspace(-5, 5, 41)
    fast, ref = wt.activation_curves(x), wt.activation_curves(x, backend="reference")
    for name in fast:
        np.testing.assert_array_equal(fast[name], ref[name])
    np.testing.assert_allclose(fast["gaussian"], np.exp(-x**2), rtol=1e-15)
    np.testing.assert_allclose(fast["sigmoid"], 1 / (1 + np.exp(-x)), rtol=1e-15)
    np.testing.assert_array_equal(fast["relu"], np.maximum(0, x))
