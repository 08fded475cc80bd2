"""Seed 001, "Neural network, math experimentation": a 2-3-1 ReLU network, four steps by hand.

Node k = x1 w_k + x2 w_(k+3) + bias_k for k = 1, 2, 3; node 4 = n1 w7 + n2 w8 + n3 w9 +
bias4, so ``weight(0) = [[w1, w2, w3], [w4, w5, w6]]``, ``bias(0) = [bias1, bias2, bias3]``,
``weight(1) = [[w7], [w8], [w9]]``, ``bias(1) = [bias4]``. ``forward``, ``gradient`` and
``step`` are the document's cells, in its words (with its errors, docs/seeds.md).
"""
from __future__ import annotations

from functools import lru_cache

from .layout import B, W, floats, layer_net, named, network_from_names
from .seed000 import activation_ReLu, activation_ReLu_partial_derivative
from .table import Group, Quantity, Seed

NAMES = {"w1": W(0, 0, 0), "w2": W(0, 0, 1), "w3": W(0, 0, 2), "w4": W(0, 1, 0), "w5": W(0, 1, 1),
         "w6": W(0, 1, 2), "bias1": B(0, 0), "bias2": B(0, 1), "bias3": B(0, 2), "w7": W(1, 0, 0),
         "w8": W(1, 1, 0), "w9": W(1, 2, 0), "bias4": B(1, 0)}
X = ((1.0, 0.0),)  # input1 = 1, input2 = 0
Y = ((2.0,),)  # true_value = 2
LRS = (0.01, 0.05, 0.1, 0.1)
# The weight tables the document prints: the initial values, then "NEW WEIGHTS AND BIASES"
# after each of the four steps (each step starts from the previous table).
PRINTED = (
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
FORWARD = (  # node_1..node_4 outputs and loss, as printed in each step
    ("1.5", "0.5", "1.5", "1.75", "0.0625"),
    ("1.5", "0.51", "1.5025", "1.7875437499999998", "0.0451376581640626"),
    ("1.500314934375", "0.5520962281250001", "1.5131552796875", "1.9467060935172777", "0.002840240468189145"),
    ("1.5009459037386574", "0.568491373105509", "1.517516545160251", "2.0093915487941922",
     "8.820118875369371e-05"),
)
DERIVS = (  # deriv_L_w7, _w8, _w9, _b4 as printed in each step
    ("-0.75", "-0.25", "-0.75", "-0.5"),
    ("-0.6298687500000009", "-0.2141553750000003", "-0.6309185312500009", "-0.4199125000000006"),
    ("-0.12138616394467376", "-0.044668517072607224", "-0.12242503933376575", "-0.08090712234044428"),
    ("0.07793313646273173", "0.029517596635402505", "0.07879352860342603", "0.05192268173597103"),
)


def network(weights):
    """The 2-3-1 ReLU network with squared error, from named weights (numbers)."""
    return network_from_names([2, 3, 1], "relu", "squared_error", NAMES, weights)


# ------------------------------------------------------------------ the document's cells


def forward(p, x):
    """node_1_output .. node_4_output as printed: node 4 adds bias3 (sic)."""
    w1, w2, w3, w4, w5, w6, w7, w8, w9 = (p[f"w{k}"] for k in range(1, 10))
    bias1, bias2, bias3 = p["bias1"], p["bias2"], p["bias3"]
    input1, input2 = x
    node_1_output = activation_ReLu(input1 * w1 + input2 * w4 + bias1)
    node_2_output = activation_ReLu(input1 * w2 + input2 * w5 + bias2)
    node_3_output = activation_ReLu(input1 * w3 + input2 * w6 + bias3)
    node_4_output = activation_ReLu(node_1_output * w7 + node_2_output * w8 + node_3_output * w9 + bias3)  # sic
    return node_1_output, node_2_output, node_3_output, node_4_output


def gradient(p, x, y):
    """deriv_L_* for one sample: the bracket has bias4 (right) and no relu'(node 4); w3's
    right factor multiplies by input2 and uses bias1, bias3's uses bias1, w4's and w6's bias2."""
    w1, w2, w3, w4, w5, w6, w7, w8, w9 = (p[f"w{k}"] for k in range(1, 10))
    bias1, bias2, bias3, bias4 = p["bias1"], p["bias2"], p["bias3"], p["bias4"]
    input1, input2 = x
    true_value = y[0]
    node_1_output, node_2_output, node_3_output, _ = forward(p, x)
    bracket = node_1_output * w7 + node_2_output * w8 + node_3_output * w9 + bias4 - true_value
    d = activation_ReLu_partial_derivative
    return dict(
        w1=(2 * w7 * bracket) * (d(input1 * w1 + input2 * w4 + bias1) * input1),
        w2=(2 * w8 * bracket) * (d(input1 * w2 + input2 * w5 + bias2) * input1),
        w3=(2 * w9 * bracket) * (d(input1 * w3 + input2 * w6 + bias1) * input2),  # sic: bias1, input2
        w4=(2 * w7 * bracket) * (d(input1 * w1 + input2 * w4 + bias2) * input2),  # sic: bias2
        w5=(2 * w8 * bracket) * (d(input1 * w2 + input2 * w5 + bias2) * input2),
        w6=(2 * w9 * bracket) * (d(input1 * w3 + input2 * w6 + bias2) * input2),  # sic: bias2
        bias1=(2 * w7 * bracket) * (d(input1 * w1 + input2 * w4 + bias1) * 1),
        bias2=(2 * w8 * bracket) * (d(input1 * w2 + input2 * w5 + bias2) * 1),
        bias3=(2 * w9 * bracket) * (d(input1 * w3 + input2 * w6 + bias1) * 1),  # sic: bias1
        w7=2 * node_1_output * bracket, w8=2 * node_2_output * bracket, w9=2 * node_3_output * bracket,
        bias4=2 * 1 * bracket,
    )


def step(p, x, y, LR):
    """One of the document's steps: new_w1 = w1 - LR * deriv_L_w1, ..."""
    d = gradient(p, x, y)
    return {name: p[name] - LR * d[name] for name in p}


# ------------------------------------------------------------------ the walkthrough


def build():
    x, y = [list(X[0])], [list(Y[0])]

    @lru_cache(None)
    def run(k, backend):
        net = network(floats(PRINTED[k]))
        out = dict(hidden=layer_net(net, 0).predict(x, backend=backend)[0].tolist(),
                   pred=float(net.predict(x, backend=backend)[0, 0]), loss=net.loss(x, y, backend=backend),
                   grad=named(net, NAMES, net.gradient(x, y, backend=backend)))
        net.fit(x, y, LRS[k], 1, backend=backend)
        out["new"] = named(net, NAMES)
        return out

    groups = []
    for k, lr in enumerate(LRS):
        before, printed = floats(PRINTED[k]), FORWARD[k]
        wrong_bias = before["bias3"] != before["bias4"]
        bias_reason = (f"the forward pass adds bias3 = {before['bias3']!r} instead of bias4 = "
                       f"{before['bias4']!r} (diff {before['bias4'] - before['bias3']:.6g})")
        rows = [Quantity(f"node_{j + 1}_output", printed[j], None, (lambda b, k=k, j=j: run(k, b)["hidden"][j]))
                for j in range(3)]
        rows.append(Quantity("node_4_output", printed[3], None, lambda b, k=k: run(k, b)["pred"],
                             bias_reason if wrong_bias else ""))
        rows.append(Quantity("loss", printed[4], None, lambda b, k=k: run(k, b)["loss"],
                             "from the wrong node_4_output (bias3 instead of bias4)" if wrong_bias else ""))
        for name, text in zip(("w7", "w8", "w9", "bias4"), DERIVS[k]):
            rows.append(Quantity(f"deriv_L_{'b4' if name == 'bias4' else name}", text, None,
                                 (lambda b, k=k, n=name: run(k, b)["grad"][n])))
        for name in NAMES:
            reason = "w3's derivative is multiplied by input2 (= 0) instead of input1: w3 connects input1 -> node 3"
            rows.append(Quantity(f"new {name}", PRINTED[k + 1][name], None,
                                 (lambda b, k=k, n=name: run(k, b)["new"][n]), reason if name == "w3" else ""))
        groups.append(Group(f"step{k + 1}", f"step {k + 1}: lr {lr}, one SGD step on (1, 0) -> 2 from the "
                            f"{'initial' if k == 0 else 'step ' + str(k)} weights as printed",
                            "layer-0 predict(); predict(); loss(); gradient(); fit(X, y, lr, 1) then the views", rows))
    start = floats(PRINTED[0])
    return Seed(
        "001", "Neural network, math experimentation: 2-3-1 ReLU network, four hand-computed steps",
        f"{network(start)!r}; lr {', '.join(map(str, LRS))}: one SGD step each on (1, 0) -> 2", NAMES,
        [("node_1_output .. node_3_output", "layer 0 outputs [0] .. [2]"),
         ("node_4_output = predicted_value", "predict()[0, 0]"),
         ("loss = (predicted - true)**2", "loss 'squared_error'")],
        groups,
        ["Every step starts from the weights the document printed after the previous one.",
         "The gradients use bias4 (right), so all printed updates are right except w3; the printed "
         "prediction and loss from step 2 on use bias3 (wrong).",
         "The wrong biases in relu' and the missing output relu' do not show on this sample "
         "(input2 = 0, every net input positive): the audit finds them at random points."],
        audited=(step, network(start), X, Y, LRS[0]),
    )
