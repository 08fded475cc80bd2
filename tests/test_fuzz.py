"""Fuzzing the public API: whatever goes in, a correct result or a clear error comes out.

Hypothesis feeds ``Network(...)``, ``predict``, ``loss``, ``gradient``, ``fit``,
``fastnn.sweep`` and the ``fastnn`` command (``fastnn.cli.main``, in-process) arguments in
every form a user can produce: arrays of every dtype (bool, int, float16/32/64,
longdouble, complex, object, str, bytes, datetime), nested lists and tuples, Fortran
order, strided, reversed, broadcast and read-only views, NaN/inf, empty arrays, wrong
shapes and lengths, huge (1e150, 1e300) and tiny (1e-300) values, and wrong argument types
(None, strings, dicts, sets, generators, floats for ints, ints beyond float64's range).

The contract checked on every call (``run``):

* it returns, and then the result is finite and equals the pure-Python reference's
  (``backend="reference"``) on the same values (kernels within 1e-12 relative, the
  reference itself exactly); a training run either finishes like the reference or
  diverges like it (``DivergenceError``, or the shortened history with
  ``on_divergence="stop"``), keeping finite parameters;
* or it raises ValueError or TypeError whose message names the argument at fault
  (when several are bad, one of them);
* nothing else: no other exception, no warning (warnings are errors here, and numpy's
  floating-point errors raise, ``np.errstate(all="raise")``);
* the caller's arrays (values, dtype, writeable flag) and lists are unchanged.

For the command, a clean outcome is exit status 0, or ``SystemExit`` with code 2 (an
argparse usage error, its message on stderr) or with a message text starting with
"fastnn" (printed to stderr, exit status 1); never another exception (a traceback).

Every test counts the cases it ran (``CASES``), asserts a minimum and prints the count
(``pytest -s``); docs/reliability.md records them.

Compile cost: predict/loss/gradient always use the generic kernels, so they get any
shape; ``fit(backend="numba")`` compiles one kernel per shape and gets the shapes of
``strategies.NUMBA_POOL`` only; sweeps and the command use the [2, 2, 1] ReLU network.
"""
import atexit
import collections
import contextlib
import io
import math
import os
import pickle
import re
import shutil
import tempfile
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastnn
from fastnn import cli

from strategies import NUMBA_POOL, n_params, structures

CASES = collections.Counter()
RTOL = 1e-12  # kernels vs reference, as tests/test_kernels_vs_reference.py argues
TRAIN_RTOL = 1e-10
BACKENDS = ("numba", "generic", "reference")


# ------------------------------------------------------------------ the contract


class Outcome:
    def __init__(self, value=None, error=None, diverged=None):
        self.value, self.error, self.diverged = value, error, diverged

    @property
    def ok(self):
        return self.error is None and self.diverged is None


def run(call, divergence=False):
    """call() under the contract: returns an Outcome holding the value, the ValueError/
    TypeError, or (with ``divergence``) the DivergenceError. Any other exception, any
    warning and any numpy floating-point error propagates and fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # fastnn's own advice (stuck training, class-sorted data in order) is a result, not a fault
        warnings.simplefilter("ignore", fastnn.TrainingWarning)
        with np.errstate(all="raise"):
            try:
                return Outcome(value=call())
            except fastnn.DivergenceError as exc:
                if not divergence:
                    raise
                return Outcome(diverged=exc)
            except (ValueError, TypeError) as exc:
                return Outcome(error=exc)


def names_one_of(exc, names):
    """The message names one of ``names`` as a word (X, y, lr, batch_size, ...)."""
    text = str(exc)
    assert any(re.search(rf"(?<![\w]){re.escape(n)}(?![\w])", text) for n in names), (
        f"{type(exc).__name__} should name one of {sorted(names)}: {text}"
    )


def snapshot(values):
    """Deep copies of the caller's arguments, with the writeable flag of arrays."""
    out = []
    for v in values:
        if isinstance(v, np.ndarray):
            out.append(("array", v, v.copy(), v.flags.writeable))
        elif isinstance(v, (list, tuple, dict, set)):
            out.append(("other", v, pickle.dumps(v), None))
    return out


def assert_unchanged(snap):
    for kind, original, saved, writeable in snap:
        if kind == "array":
            assert original.dtype == saved.dtype and original.shape == saved.shape
            assert original.flags.writeable == writeable
            if original.dtype.kind in "fc":
                assert np.array_equal(original, saved, equal_nan=True), "the caller's array was modified"
            else:
                assert np.array_equal(original, saved), "the caller's array was modified"
        else:
            assert pickle.dumps(original) == saved, "the caller's list was modified"


def assert_close(actual, desired, rtol, what):
    actual, desired = np.asarray(actual, dtype=float), np.asarray(desired, dtype=float)
    assert actual.shape == desired.shape, (what, actual.shape, desired.shape)
    scale = np.abs(desired).max(initial=0.0)
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=rtol * scale, err_msg=what)


def fuzz(name, minimum, hypothesis_test):
    """Run a hypothesis test function, then print and check how many cases it ran."""
    for key in [k for k in CASES if k[0] == name]:
        del CASES[key]
    hypothesis_test()
    by_outcome = {o: v for (n, o), v in CASES.items() if n == name}
    total = sum(by_outcome.values())
    print(f"\nfuzz {name}: {total} cases {dict(sorted(by_outcome.items()))}")
    assert total >= minimum, f"only {total} {name} cases ran"
    return total


def tally(name, outcome):
    CASES[name, "ok" if outcome.ok else ("diverged" if outcome.diverged else "error")] += 1


# ------------------------------------------------------------------ array forms

# Each form turns a clean float64 array into what a user might pass. The form says what
# the call must do with it: "good" (must work, on the values in `canonical`), "edge"
# (huge values: must work or raise a ValueError naming the argument) or "bad" (must raise).
GOOD = ("float64", "float32", "longdouble", "fortran", "strided", "reversed", "readonly", "broadcast",
        "list", "tuple", "int", "bool")
EDGE = ("huge", "huger", "tiny")
BAD = ("nan", "inf", "-inf", "empty", "extra column", "3-D", "0-D", "complex", "object", "str", "bytes",
       "datetime", "None", "text", "dict", "set", "generator", "ragged", "longdouble overflow",
       "out of range")


def make_form(form, base, kind, n_out=1):
    """(value, canonical float64 array or None, status) of ``form`` applied to ``base``.

    ``kind``: "X" or "y_real" (any reals), "y_unit" (in [0, 1]), "onehot" (rows), "labels"
    (1-D class labels).
    """
    base = np.asarray(base, dtype=np.float64)
    flat = base.ndim == 1

    def good(value, canonical=None):
        return value, np.array(base if canonical is None else canonical, dtype=np.float64), "good"

    if form == "float64":
        return good(base.copy())
    if form == "float32":
        v = base.astype(np.float32)
        return good(v, v)
    if form == "longdouble":
        return good(base.astype(np.longdouble))
    if form == "fortran":
        return good(np.asfortranarray(base))
    if form == "strided":
        wide = np.zeros(base.shape[:-1] + (2 * base.shape[-1],))
        wide[..., ::2] = base
        return good(wide[..., ::2])
    if form == "reversed":
        return good(base[::-1].copy()[::-1])
    if form == "readonly":
        v = base.copy()
        v.flags.writeable = False
        return good(v)
    if form == "broadcast":
        v = np.broadcast_to(base[:1], base.shape)
        return good(v, v)
    if form == "list":
        return good(base.tolist())
    if form == "tuple":
        return good(tuple(map(tuple, base.tolist())) if not flat else tuple(base.tolist()))
    if form == "int":
        if kind in ("X", "y_real"):
            v = np.round(2.0 * base).astype(np.int64)
        elif kind == "y_unit":
            v = np.round(base).astype(np.int8)
        else:
            v = base.astype(np.uint8 if kind == "labels" else np.int32)
        return good(v, v)
    if form == "bool":
        # onehot rows stay one-hot; labels become 0/1 (valid: a softmax has >= 1 outputs,
        # and with one output every label is 0 already)
        v = base.astype(bool) if kind in ("onehot", "labels") else base > (0.5 if kind == "y_unit" else 0.0)
        return good(v, v)
    if form in EDGE:
        scale = {"huge": 1e150, "huger": 1e300, "tiny": 1e-300}[form]
        v = base * scale
        if kind in ("X", "y_real"):
            return v, v, "edge"
        if kind == "y_unit":
            return (good(v, v) if ((v >= 0.0) & (v <= 1.0)).all() else (v, None, "bad"))
        return good(v) if np.array_equal(v, base) else (v, None, "bad")
    # --------------------------------------------------------------- bad forms
    if form in ("nan", "inf", "-inf"):
        v = base.copy()
        v.flat[v.size // 2] = float(form)
        return v, None, "bad"
    if form == "empty":
        return base[:0].copy(), None, "bad"
    if form == "extra column":
        return (np.column_stack([base, base]) if flat else np.concatenate([base, base[:, :1]], axis=1)), None, "bad"
    if form == "3-D":
        return base[..., None, None] if flat else base[..., None], None, "bad"
    if form == "0-D":
        return np.float64(base.flat[0]), None, "bad"
    if form == "complex":
        return base.astype(np.complex128), None, "bad"
    if form == "object":
        return base.astype(object), None, "bad"
    if form == "str":
        return base.astype(str), None, "bad"
    if form == "bytes":
        return base.astype(bytes), None, "bad"
    if form == "datetime":
        return np.zeros(base.shape, dtype="datetime64[s]"), None, "bad"
    if form == "None":
        return None, None, "bad"
    if form == "text":
        return " ".join(map(str, base.ravel())), None, "bad"
    if form == "dict":
        return {"values": base}, None, "bad"
    if form == "set":
        return set(base.ravel().tolist()), None, "bad"
    if form == "generator":
        return (row for row in base), None, "bad"
    if form == "ragged":
        rows = base.tolist() if not flat else [[v] for v in base.tolist()]
        return rows + [rows[0] + [1.0]], None, "bad"
    if form == "longdouble overflow":
        v = base.astype(np.longdouble)
        v.flat[0] = np.longdouble("1e4000") if np.finfo(np.longdouble).max > 1e4000 else np.inf
        return v, None, "bad"
    if form == "out of range":
        v = base.copy()
        if kind in ("X", "y_real"):  # nothing is out of range for reals: one row too many
            v = np.concatenate([v, v[:1]])
            return v, v, "rows"
        v.flat[0] = {"y_unit": 1.5, "onehot": 2.0, "labels": float(n_out)}[kind]
        return v, None, "bad"
    raise AssertionError(form)


def forms(statuses=("good", "edge", "bad"), weights=(6, 1, 3)):
    """A form name: good ones most often, then bad, then edge."""
    pools = {"good": GOOD, "edge": EDGE, "bad": BAD}
    return st.sampled_from([s for s, w in zip(statuses, weights) for _ in range(w)]).flatmap(
        lambda status: st.sampled_from(pools[status])
    )


def data_status(x_status, y_status, uses_y=True):
    """The bad argument names for X and y forms ("rows": one row more than the other)."""
    bad = set()
    if x_status not in ("good", "edge", "rows"):
        bad.add("X")
    if uses_y and y_status not in ("good", "edge", "rows"):
        bad.add("y")
    if uses_y and (x_status == "rows") != (y_status == "rows"):
        bad |= {"X", "y"}
    return bad


def target_kind(loss, n_out, flat):
    if loss == "categorical_cross_entropy":
        return "labels" if flat else "onehot"
    if loss == "binary_cross_entropy":
        return "y_unit"
    return "y_real"


def clean_targets(rng, loss, n, n_out, flat):
    if loss == "categorical_cross_entropy":
        labels = rng.integers(0, n_out, n)
        return labels.astype(float) if flat else np.eye(n_out)[labels]
    if loss == "binary_cross_entropy":
        y = rng.uniform(0.0, 1.0, (n, n_out))
    else:
        y = rng.standard_normal((n, n_out))
    return y[:, 0] if flat else y


def good_variants(draw, good_values, bad_values, name, one_in=4):
    """(value, status, names): a good value of an argument, or (one time in ``one_in``) a bad one."""
    if draw(st.integers(1, one_in)) == 1:
        return draw(st.sampled_from(bad_values)), "bad", {name}
    return draw(st.sampled_from(good_values)), "good", set()


BAD_BACKENDS = ["cuda", "", "Numba", None, 1, b"numba", ["numba"]]


# ------------------------------------------------------------------ Network(...)

GOOD_SEEDS = [None, 0, 1, 2**32, 2**64 - 1, np.uint64(2**64 - 1), np.int8(3)]
BAD_SEEDS = [-1, 2**64, 1.5, "1", True, np.float64(2.0), [1], 10**400]


@st.composite
def constructor_args(draw):
    """kwargs for Network and the set of argument names that are bad (empty: valid)."""
    sizes, acts, loss, bias = draw(structures(max_layers=3, max_width=5))
    bad = set()
    sizes_form = draw(st.sampled_from(["list", "list", "tuple", "array", "np ints", "list", "tuple", "bad"]))
    if sizes_form == "tuple":
        sizes_arg = tuple(sizes)
    elif sizes_form == "array":
        sizes_arg = np.array(sizes)
    elif sizes_form == "np ints":
        sizes_arg = [np.int16(w) for w in sizes]
    elif sizes_form == "list":
        sizes_arg = list(sizes)
    else:
        sizes_arg = draw(st.sampled_from([
            [], [3], [2, 0, 1], [2, -1], [2, 1.5], [2, True], [2, "3"], "21", 3, None, [2, None],
            [2, 2**40, 2**40], [1, 10**30], [2, np.float64(3.0)], [2, 10**5000],
        ]))
        bad.add("sizes")
    n_layers = len(sizes) - 1
    act_form = draw(st.sampled_from(["one", "list", "tuple", "one", "list", "tuple", "one", "bad"]))
    if act_form == "one" and len(set(acts)) == 1:
        activation = acts[0]
    elif act_form == "tuple":
        activation = tuple(acts)
    elif act_form == "bad":
        activation = draw(st.sampled_from([
            "swish", "ReLU", 3, None, acts[:-1] or ["relu", "relu"], acts + ["relu"], [None] * n_layers,
            ["softmax"] * (n_layers + 1) if n_layers == 1 else ["softmax"] * n_layers,
        ]))
        bad.add("activation")
    else:
        activation = list(acts)
    if draw(st.integers(0, 9)) == 0:
        loss = draw(st.sampled_from(["hinge", None, "MSE", 0]))
        bad.add("loss")
    if draw(st.integers(0, 9)) == 0:
        bias = draw(st.sampled_from(["yes", 1, None, 0.0]))
        bad.add("bias")
    seed, _, seed_names = good_variants(draw, GOOD_SEEDS, BAD_SEEDS, "seed", one_in=8)
    bad |= seed_names
    init_form = draw(st.sampled_from(["name", "array", "name", "array", "name", "array", "bad name", "bad array"]))
    if init_form == "name":
        init = draw(st.sampled_from(list(fastnn.INITS)))
    elif init_form == "bad name":
        init = draw(st.sampled_from(["glorot", "", None, 3]))
        bad.add("init")
    else:
        count = n_params(sizes, bias if isinstance(bias, bool) else True)
        values = np.random.default_rng(draw(st.integers(0, 2**16))).standard_normal(count)
        form = draw(forms(("good", "edge", "bad"), (3, 1, 2) if init_form == "array" else (0, 0, 1)))
        init, _, status = make_form(form, values, "X")
        if status not in ("good", "edge"):
            bad.add("init")
    if bad & {"sizes", "activation", "loss", "bias"}:
        bad.discard("init")  # checked after the structure, whose length it depended on
    kwargs = dict(sizes=sizes_arg, activation=activation, loss=loss, bias=bias, init=init, seed=seed)
    return kwargs, bad


@settings(max_examples=500)
@given(case=constructor_args())
def _fuzz_network(case):
    kwargs, bad = case
    snap = snapshot(kwargs.values())
    out = run(lambda: fastnn.Network(**kwargs))
    tally("Network", out)
    assert_unchanged(snap)
    if bad:
        assert out.error is not None, f"accepted bad {sorted(bad)}: {kwargs}"
        # with bad sizes, an activation list made for the drawn sizes may not fit them
        names_one_of(out.error, bad | ({"activation"} if "sizes" in bad else set()))
        return
    assert out.error is None, f"refused valid arguments {kwargs}: {out.error!r}"
    net = out.value
    assert net.params.shape == (net.n_params,) and net.params.dtype == np.float64
    assert np.isfinite(net.params).all() and net.params.flags.c_contiguous and net.params.flags.writeable
    init = kwargs["init"]
    if not isinstance(init, str):
        np.testing.assert_array_equal(net.params, np.asarray(init, dtype=np.float64))
        assert not isinstance(init, np.ndarray) or not np.shares_memory(net.params, init)


def test_fuzz_network_constructor():
    """Network(sizes, activation, loss, bias, init, seed) with any of them in a wrong
    form: a network with finite, writable params of the right length (exactly the init
    array's values, copied), or a ValueError/TypeError naming a bad argument; the init
    array untouched."""
    fuzz("Network", 400, _fuzz_network)


@st.composite
def params_cases(draw):
    sizes, acts, loss, bias = draw(structures(max_layers=3, max_width=5))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    net = fastnn.Network(sizes, acts, loss, bias, init=rng.standard_normal(n_params(sizes, bias)))
    form = draw(forms())
    layer = draw(st.sampled_from([0, -1, len(sizes) - 2, len(sizes) - 1, -len(sizes), np.int64(0), True, 0.0,
                                  "0", None, 10**30, -(10**30)]))
    return net, rng.standard_normal(net.n_params), form, layer


@settings(max_examples=300)
@given(case=params_cases())
def _fuzz_params(case):
    net, values, form, layer = case
    value, canonical, status = make_form(form, values, "X")
    before, buffer = net.params.copy(), net.params
    view = net.weight(0)
    snap = snapshot([value])
    out = run(lambda: setattr(net, "params", value))
    tally("params/weight/bias", out)
    assert_unchanged(snap)
    assert net.params is buffer  # views taken before stay valid
    if status in ("good", "edge"):
        assert out.ok, out.error
        np.testing.assert_array_equal(net.params, canonical)
        assert np.shares_memory(view, net.params)
    else:
        assert out.error is not None
        names_one_of(out.error, {"params"})
        np.testing.assert_array_equal(net.params, before)
    n_layers = len(net.sizes) - 1
    valid_layer = not isinstance(layer, (bool, float, str, type(None))) and -n_layers <= layer < n_layers
    for method in ("weight", "bias"):
        out = run(lambda: getattr(net, method)(layer))
        tally("params/weight/bias", out)
        if valid_layer and (method == "weight" or net.spec.bias):
            assert out.ok, out.error
            assert np.shares_memory(out.value, net.params) and out.value.flags.writeable
        else:
            assert out.error is not None
            names_one_of(out.error, {"layer", "bias"})


def test_fuzz_params_setter_weight_and_bias():
    """net.params = value in any array form (good: copied into the same buffer, views stay
    valid; bad: ValueError/TypeError naming params, old params kept), and weight(l) /
    bias(l) with any layer argument (an in-range int: a writable view; else an error
    naming layer, or bias on a network without biases)."""
    fuzz("params/weight/bias", 750, _fuzz_params)


# ------------------------------------------------------------------ predict, loss, gradient


@st.composite
def evaluation_cases(draw):
    sizes, acts, loss, bias = draw(structures(max_layers=3, max_width=5))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n = draw(st.integers(1, 6))
    net = fastnn.Network(sizes, acts, loss, bias, init=rng.standard_normal(n_params(sizes, bias)))
    X = rng.standard_normal((n, sizes[0]))
    flat = draw(st.booleans()) and (sizes[-1] == 1 or loss == "categorical_cross_entropy")
    y = clean_targets(rng, loss, n, sizes[-1], flat)
    x_form = draw(forms())
    y_form = draw(forms())
    method = draw(st.sampled_from(["predict", "loss", "gradient"]))
    backend, b_status, _ = good_variants(draw, list(BACKENDS) + [np.str_("generic")], BAD_BACKENDS, "backend")
    return net, X, y, x_form, y_form, method, backend, b_status, target_kind(loss, sizes[-1], flat)


def test_fuzz_predict_loss_gradient():
    """predict / loss / gradient on any shape, any backend, X and y in any form: the
    reference's finite answer (the kernels to 1e-12), or a ValueError/TypeError naming
    X, y or backend (huge values: the kernel and the reference both overflow, ValueError
    naming X/y); params and the caller's arrays unchanged."""
    fuzz("predict/loss/gradient", 500, _fuzz_evaluation)


@settings(max_examples=600)
@given(case=evaluation_cases())
def _fuzz_evaluation(case):
    net, X0, y0, x_form, y_form, method, backend, b_status, kind = case
    X, X_clean, x_status = make_form(x_form, X0, "X")
    y, y_clean, y_status = make_form(y_form, y0, kind, net.sizes[-1])
    uses_y = method != "predict"
    bad = data_status(x_status, y_status, uses_y)
    if b_status == "bad":
        bad.add("backend")
    args = (X, y) if uses_y else (X,)
    params = net.params.copy()
    snap = snapshot([X, y])
    call = getattr(net, method)
    out = run(lambda: call(*args, backend=backend))
    tally("predict/loss/gradient", out)
    assert_unchanged(snap)
    np.testing.assert_array_equal(net.params, params)
    if bad:
        assert out.error is not None, f"{method} accepted bad {sorted(bad)}"
        names_one_of(out.error, bad)
        return
    edge = x_status == "edge" or (uses_y and y_status == "edge")
    clean_args = (X_clean, y_clean) if uses_y else (X_clean,)
    expected = run(lambda: call(*clean_args, backend="reference"))
    if out.error is not None:
        assert edge, f"{method} refused valid input: {out.error!r}"
        CASES["predict/loss/gradient", "error"] -= 1
        CASES["predict/loss/gradient", "overflow"] += 1
        assert isinstance(out.error, ValueError)
        names_one_of(out.error, {"X", "y"} if uses_y else {"X"})
        assert expected.error is not None, "the kernel overflowed where the reference did not"
        return
    assert expected.ok, f"the reference overflowed where {backend} did not: {expected.error!r}"
    value = out.value
    assert np.isfinite(value).all()
    if method == "loss":
        assert isinstance(value, float)
    else:
        assert isinstance(value, np.ndarray) and value.dtype == np.float64
    if backend == "reference":
        np.testing.assert_array_equal(value, expected.value)
    else:
        assert_close(value, expected.value, RTOL, method)


@pytest.mark.parametrize("backend", BACKENDS)
def test_overflow_is_a_value_error_not_inf(backend):
    """Finite input whose result overflows float64 (a linear network fed 1e308): predict,
    loss and gradient raise ValueError naming X (and y), never return inf/NaN; the same
    input through a saturating sigmoid is fine. fit reports it as divergence in epoch 0."""
    linear = fastnn.Network([2, 1], "linear", "mse", init=np.array([1.0, 1.0, 0.0]))
    X, y = np.array([[1e308, 1e308], [1.0, 2.0]]), np.array([0.0, 1.0])
    for call, names in ((lambda: linear.predict(X, backend), {"X"}), (lambda: linear.loss(X, y, backend), {"X", "y"}),
                        (lambda: linear.gradient(X, y, backend), {"X", "y"})):
        out = run(call)
        assert isinstance(out.error, ValueError), out.value
        names_one_of(out.error, names)
        assert "overflow" in str(out.error)
    out = run(lambda: linear.fit(X, y, lr=0.1, epochs=3, backend=backend), divergence=True)
    assert out.diverged is not None and out.diverged.epoch == 0
    np.testing.assert_array_equal(linear.params, [1.0, 1.0, 0.0])
    squashed = fastnn.Network([2, 1], "sigmoid", "binary_cross_entropy", init=np.array([1.0, 1.0, 0.0]))
    for call in (lambda: squashed.predict(X, backend), lambda: squashed.loss(X, y, backend),
                 lambda: squashed.gradient(X, y, backend)):
        assert np.isfinite(run(call).value).all()


def test_params_made_non_finite_through_a_view_are_refused():
    """NaN/inf written through weight()/bias() (the only unchecked way in): predict,
    loss, gradient and fit raise ValueError naming params before any kernel runs."""
    net = fastnn.Network([2, 1], "linear", "mse", init=np.array([1.0, 1.0, 0.0]))
    net.weight(0)[1, 0] = np.inf
    X, y = np.ones((2, 2)), np.zeros(2)
    for call in (lambda: net.predict(X), lambda: net.loss(X, y), lambda: net.gradient(X, y),
                 lambda: net.fit(X, y, lr=0.1, epochs=1)):
        out = run(call, divergence=True)
        assert isinstance(out.error, ValueError)
        names_one_of(out.error, {"params"})


# ------------------------------------------------------------------ fit

GOOD_LR = [0.01, 0.3, 1, np.float32(0.05), 1e-300]
BAD_LR = [0, -0.1, math.nan, math.inf, "0.1", None, True, 10**400, [0.1], 0.1 + 0j]
GOOD_EPOCHS = [1, 2, 3, np.int64(2)]
BAD_EPOCHS = [0, -1, 2.0, "3", None, True, 2**63, 10**30]
GOOD_SHUFFLE = [False, True, np.bool_(True)]
BAD_SHUFFLE = [1, "yes", None]
BAD_ON_DIVERGENCE = ["ignore", None, 0]


@st.composite
def fit_cases(draw):
    backend_choice = draw(st.sampled_from(BACKENDS))
    if backend_choice == "numba":
        sizes, acts, loss, bias = draw(st.sampled_from(NUMBA_POOL))
        sizes, acts = list(sizes), list(acts)
    else:
        sizes, acts, loss, bias = draw(structures(max_layers=3, max_width=4))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n = draw(st.integers(1, 5))
    net = fastnn.Network(sizes, acts, loss, bias, init=0.5 * rng.standard_normal(n_params(sizes, bias)), seed=seed)
    X = rng.standard_normal((n, sizes[0]))
    flat = draw(st.booleans()) and (sizes[-1] == 1 or loss == "categorical_cross_entropy")
    y = clean_targets(rng, loss, n, sizes[-1], flat)
    x_form = draw(forms(weights=(14, 3, 2)))
    y_form = draw(forms(weights=(14, 1, 2)))
    bad = set()
    kwargs = {}
    for name, good_values, bad_values in (
        ("lr", GOOD_LR + [1e300], BAD_LR),
        ("epochs", GOOD_EPOCHS, BAD_EPOCHS),
        ("batch_size", [1, n, None, np.int32(1)] + ([2] if n >= 2 else []), [0, -1, n + 1, 1.0, "2", True]),
        ("shuffle", GOOD_SHUFFLE, BAD_SHUFFLE),
        ("seed", [None, 0, 7, 2**64 - 1], [-1, 2**64, 1.5, "0"]),
        ("on_divergence", ["raise", "stop"], BAD_ON_DIVERGENCE),
    ):
        if draw(st.integers(0, 19)) == 0:
            kwargs[name] = draw(st.sampled_from(bad_values))
            bad.add(name)
        else:
            kwargs[name] = draw(st.sampled_from(good_values))
    if draw(st.integers(0, 19)) == 0:
        kwargs["backend"] = draw(st.sampled_from(BAD_BACKENDS))
        bad.add("backend")
    else:
        kwargs["backend"] = backend_choice
    return net, X, y, x_form, y_form, kwargs, bad, target_kind(loss, sizes[-1], flat)


def test_fuzz_fit():
    """fit with any data form and any argument in a wrong form, on every backend: the
    reference's history and params (kernels to 1e-10), the reference's divergence (same
    epoch, history and last finite params; raised or returned per on_divergence), or a
    ValueError/TypeError naming a bad argument with the params untouched."""
    fuzz("fit", 300, _fuzz_fit)


@settings(max_examples=400)
@given(case=fit_cases())
def _fuzz_fit(case):
    net, X0, y0, x_form, y_form, kwargs, bad, kind = case
    X, X_clean, x_status = make_form(x_form, X0, "X")
    y, y_clean, y_status = make_form(y_form, y0, kind, net.sizes[-1])
    bad |= data_status(x_status, y_status)
    if x_status == y_status == "rows" and kwargs["batch_size"] == X0.shape[0] + 1:
        bad.discard("batch_size")  # one sample more makes it valid
    start = net.params.copy()
    snap = snapshot([X, y])
    out = run(lambda: net.fit(X, y, **kwargs), divergence=True)
    tally("fit", out)
    assert_unchanged(snap)
    if bad:
        assert out.error is not None, f"fit accepted bad {sorted(bad)}: {kwargs}"
        # the rows of X decide which batch sizes are valid: with bad data, batch_size may be named
        names_one_of(out.error, bad | ({"batch_size"} if {"X", "y"} & bad else set()))
        np.testing.assert_array_equal(net.params, start)
        return
    reference = fastnn.Network(net.sizes, list(net.activations), net.loss_name, net.spec.bias, init=start,
                               seed=net.seed)
    ref_kwargs = dict(kwargs, backend="reference", on_divergence="stop")
    expected = run(lambda: reference.fit(X_clean, y_clean, **ref_kwargs))
    assert expected.error is None, f"the reference refused valid input: {expected.error!r}"
    epochs = int(kwargs["epochs"])
    assert np.isfinite(net.params).all()
    exact = kwargs["backend"] == "reference"
    if out.error is not None:
        raise AssertionError(f"fit refused valid input: {out.error!r}")
    if out.diverged is not None:
        assert kwargs["on_divergence"] == "raise"
        history, epoch = out.diverged.history, out.diverged.epoch
        assert history.shape == (epoch,)
    else:
        history = out.value
        epoch = len(history) if len(history) < epochs else None
        if kwargs["on_divergence"] == "raise":
            assert len(history) == epochs
    assert np.isfinite(history).all() and history.dtype == np.float64
    if out.ok and len(history) < epochs:  # stopped by on_divergence="stop"
        CASES["fit", "ok"] -= 1
        CASES["fit", "diverged"] += 1
    assert len(history) == len(expected.value), (
        f"{kwargs['backend']} trained {len(history)} epochs, the reference {len(expected.value)}"
    )
    if exact:
        np.testing.assert_array_equal(history, expected.value)
        np.testing.assert_array_equal(net.params, reference.params)
    else:
        assert_close(history, expected.value, TRAIN_RTOL, "history")
        assert_close(net.params, reference.params, TRAIN_RTOL, "params")


# ------------------------------------------------------------------ sweep

SWEEP_X = np.random.default_rng(5).standard_normal((6, 2))
SWEEP_Y = np.random.default_rng(6).standard_normal((6, 1))


@st.composite
def sweep_cases(draw):
    """kwargs for fastnn.sweep on the [2, 2, 1] ReLU network (one kernel, compiled once)."""
    bad = set()
    choices = {
        "sizes_or_net": ([[2, 2, 1], (2, 2, 1), np.array([2, 2, 1]), "net"], [[2], [2, 0, 1], "221", None, [2, 2, 2]]),
        "lr": ([0.01, [0.01, 0.3], np.array([0.05, 1e300]), (0.1,), 2], BAD_LR[:-2] + [[], [0.1, 0.1], [[0.1]]]),
        "seeds": ([0, [0, 3], range(2), np.arange(2, dtype=np.uint64), (2**64 - 1,)],
                  [-1, 2**64, 1.5, [], [1, 1], "0", None, [None]]),
        "hidden": ([None, 2, [2], [(2,)]], [0, [-1], "2", [()], [2, 2], 2.5]),
        "batch_size": ([1, [1, 6], (3,), np.int64(2)], [0, 7, 1.5, [], "1"]),
        "epochs": ([1, 2, 3], BAD_EPOCHS),
        "shuffle": (GOOD_SHUFFLE, BAD_SHUFFLE),
        "checkpoints": ([(), None, [1]], [[0], [99], ["1"], [1, 1], 1.5]),
        "chunk": ([1, 3, 64], [0, -2, 1.5, None]),
        "threads": ([None, 1, 2], [0, "2", 1.5]),
        "init": (["he", "xavier", "zeros", "normal"], ["glorot", None, np.zeros(9)]),
        "activation": (["relu"], ["swish", None]),
        "loss": (["squared_error"], ["hinge", None]),
        "bias": ([True], ["yes"]),
        "progress": ([False], [None, "no"]),
        "allow_large": ([False, True], [None]),
    }
    kwargs = {}
    for name, (good, bad_values) in choices.items():
        if draw(st.integers(0, 29)) == 0:
            kwargs[name] = draw(st.sampled_from(bad_values))
            bad.add(name)
        else:
            kwargs[name] = draw(st.sampled_from(good))
    if isinstance(kwargs["sizes_or_net"], str) and kwargs["sizes_or_net"] == "net":
        kwargs["sizes_or_net"] = fastnn.Network([2, 2, 1], "relu", "squared_error", seed=1)
        for name in ("activation", "loss", "bias"):  # taken from the network
            bad.discard(name)
            kwargs[name] = choices[name][0][0]
        if kwargs["init"] is None or not isinstance(kwargs["init"], str):
            kwargs["init"] = "he"
            bad.discard("init")
    x_form = draw(forms(("good", "bad"), (8, 1)))
    y_form = draw(forms(("good", "bad"), (8, 1)))
    return kwargs, bad, x_form, y_form


# The names sweep's messages use for its arguments.
SWEEP_NAMES = {"sizes_or_net": {"sizes", "y"}, "epochs": {"epochs", "allow_large"}}


def test_fuzz_sweep():
    """fastnn.sweep with any argument in a wrong form: a result whose last configuration
    equals fit of it alone, bit for bit, or a ValueError/TypeError naming a bad argument;
    the caller's arrays unchanged."""
    fuzz("sweep", 80, _fuzz_sweep)


@settings(max_examples=100)
@given(case=sweep_cases())
def _fuzz_sweep(case):
    kwargs, bad, x_form, y_form = case
    X, X_clean, x_status = make_form(x_form, SWEEP_X, "X")
    y, y_clean, y_status = make_form(y_form, SWEEP_Y, "y_real")
    bad |= data_status(x_status, y_status)
    if x_status == y_status == "rows" and kwargs["batch_size"] == len(SWEEP_X) + 1:
        bad.discard("batch_size")  # one sample more makes it valid
    snap = snapshot([X, y, *kwargs.values()])
    out = run(lambda: fastnn.sweep(X=X, y=y, **kwargs))
    tally("sweep", out)
    assert_unchanged(snap)
    if bad:
        assert out.error is not None, f"sweep accepted bad {sorted(bad)}: {kwargs}"
        names = set().union(*(SWEEP_NAMES.get(b, {b}) for b in bad))
        # the rows of X decide which batch sizes are valid: with bad data, batch_size may be named
        names_one_of(out.error, names | ({"batch_size"} if {"X", "y"} & bad else set()))
        return
    assert out.error is None, f"sweep refused valid arguments: {out.error!r}"
    result = out.value
    epochs = kwargs["epochs"]
    k = len(result.configs) - 1
    row = result.configs[k]
    base = kwargs["sizes_or_net"]
    init = base.init if isinstance(base, fastnn.Network) else kwargs["init"]
    net = fastnn.Network([2, 2, 1], "relu", "squared_error", init=init, seed=int(row["seed"]))
    history = net.fit(X_clean, y_clean, lr=float(row["lr"]), epochs=epochs, batch_size=int(row["batch_size"]),
                      shuffle=bool(kwargs["shuffle"]), on_divergence="stop")
    done = len(history)
    assert result.diverged_epoch[k] == (done if done < epochs else -1)
    assert np.array_equal(result.losses[k, :done].view(np.uint64), history.view(np.uint64))
    assert np.array_equal(result.params_of(k).view(np.uint64), net.params.view(np.uint64))
    for g in result.groups:
        assert np.isfinite(g.params).all()


# ------------------------------------------------------------------ the fastnn command

_DIR = tempfile.mkdtemp(prefix="fastnn-fuzz-")
atexit.register(shutil.rmtree, _DIR, True)
GOOD_CSV = os.path.join(_DIR, "good.csv")
with open(GOOD_CSV, "w") as _f:
    _f.write("a,b,target\n" + "".join(f"{i % 3},{i % 2},{i * 0.1:.1f}\n" for i in range(8)))
BAD_FILES = {}
for _name, _text in {"empty.csv": "", "header.csv": "a,b,c\n", "words.csv": "a,b,c\nx,y,z\n",
                     "nan.csv": "a,b,c\n1,nan,2\n", "short.csv": "a,b,c\n1,2\n", "one.csv": "a\n1\n2\n",
                     "dup.csv": "a,a,c\n1,2,3\n"}.items():
    BAD_FILES[_name] = os.path.join(_DIR, _name)
    with open(BAD_FILES[_name], "w") as _f:
        _f.write(_text)
BINARY = os.path.join(_DIR, "binary.csv")
with open(BINARY, "wb") as _f:
    _f.write(bytes(range(256)) * 4)
FOLDER = os.path.join(_DIR, "folder")
os.mkdir(FOLDER)

# Values the command once answered with a traceback (fixed in fastnn/cli.py); each is run
# alone in test_cli_former_bugs as well as being part of the fuzzed values.
FORMER_CLI_BUGS = {
    ("--data", FOLDER): "IsADirectoryError from open() in cli._data",
    ("--data", BINARY): "UnicodeDecodeError from the csv reader in cli._data",
    ("--csv", FOLDER): "IsADirectoryError from SweepResult.to_csv, after the whole sweep ran",
    ("--plot", os.path.join(_DIR, "curves.csv")): "ValueError from matplotlib (format 'csv' is not supported), "
                                                   "after the whole sweep ran",
}

OPTIONS = {
    # option: (good values, bad values)
    "--sizes": (["2,2,1"], ["2,0,1", "a,b", "", "2", "2,,1", "-1,2"]),
    "--activation": (["relu"], ["swish", "relu,", ","]),
    "--loss": (["squared_error"], ["hinge", ""]),
    "--init": (["he", "xavier"], ["glorot"]),
    "--data": (["quadratic", "xor", "gender", "spiral", "vertical", GOOD_CSV],
               [os.path.join(_DIR, "missing.csv"), *BAD_FILES.values(), FOLDER, BINARY]),
    "--samples": (["5", "12"], ["x", "1.5", "0", "-3"]),
    "--classes": (["2", "3"], ["x"]),
    "--lr": (["0.01", "1e-3:1e-1:3", "0.1,0.2"], ["abc", "0", "-1", "nan", "inf", "1:2:-1", "0:1:3", "", ",",
                                                  "1e400", "1:2"]),
    "--seeds": (["0", "0:2", "1,2"], ["x", "-1", "0,0", "", "5:2", "1.5"]),
    "--hidden": (["2"], ["0", "4x", "x", "-1", "2x0"]),
    "--batch-size": (["1", "2"], ["0", "1000", "x", "-1"]),
    "--epochs": (["1", "2"], ["0", "-1", "x"]),
    "--checkpoints": (["1"], ["0", "99", "q"]),
    "--top": (["1", "3"], ["0", "-2", "x"]),
    "--csv": ([os.path.join(_DIR, "out.csv")], [os.path.join(_DIR, "no", "dir", "x.csv"), FOLDER]),
    "--plot": ([], [os.path.join(_DIR, "no", "dir", "x.png"), os.path.join(_DIR, "curves.csv")]),
    "--data-seed": (["0", "3"], ["x"]),
}
# Small runs: added unless the case sets them.
DEFAULTS = {"--epochs": "2", "--samples": "8", "--lr": "0.01,0.02", "--seeds": "0"}
OTHER_COMMANDS = [[], ["bogus"], ["sweep", "--help"], ["--version"], ["seeds", "abc"], ["seeds", "999"],
                  ["demo", "--n-lr", "x"], ["bench", "--sizes", "x"], ["bench", "--epochs", "0"]]


def with_defaults(argv):
    return argv + [item for option, value in DEFAULTS.items() if option not in argv for item in (option, value)]


@st.composite
def cli_argvs(draw):
    """A ``fastnn sweep`` command line with good values, and one bad value half the time."""
    if draw(st.integers(0, 11)) == 0:
        return draw(st.sampled_from(OTHER_COMMANDS))
    argv = ["sweep"]
    bad_option = draw(st.sampled_from([None] * len(OPTIONS) + list(OPTIONS)))
    for option, (good, bad_values) in OPTIONS.items():
        if option == bad_option:
            argv += [option, draw(st.sampled_from(bad_values))]
        elif good and draw(st.integers(0, 2)) == 0:
            argv += [option, draw(st.sampled_from(good))]
    for flag in ("--shuffle", "--allow-large"):
        if draw(st.booleans()):
            argv.append(flag)
    argv = with_defaults(argv)
    extra = draw(st.sampled_from([None] * 8 + ["--bogus", "junk", "-x"]))
    if extra:
        argv.insert(draw(st.integers(1, len(argv))), extra)
    return argv


def run_cli(argv):
    """(status, stdout, stderr): status is 0, 2 or the SystemExit message; any other
    exception propagates (a traceback for the user)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            warnings.simplefilter("ignore", fastnn.TrainingWarning)
            try:
                status = cli.main(argv)
            except SystemExit as exc:
                status = exc.code
    return status, out.getvalue(), err.getvalue()


def assert_clean_exit(argv, status, stdout, stderr):
    assert "Traceback" not in stderr + stdout, stderr
    if status in (0, None):
        return
    if status == 2 or (isinstance(status, int) and status == 1):
        return  # argparse's usage error (message on stderr), or a command's own verdict
    assert isinstance(status, str) and status.startswith("fastnn") and len(status) > 10, (argv, status)


def test_fuzz_command():
    """``fastnn sweep`` (and a few other subcommands) with good and bad option values,
    unknown options and stray words: exit status 0 with the results table, or a clean
    SystemExit (argparse's code 2, or a message starting with "fastnn"); never a traceback."""
    fuzz("command", 100, _fuzz_command)


@settings(max_examples=120)
@given(argv=cli_argvs())
def _fuzz_command(argv):
    status, stdout, stderr = run_cli(argv)
    CASES["command", "ok" if status in (0, None) else "clean exit"] += 1
    assert_clean_exit(argv, status, stdout, stderr)
    if status in (0, None) and argv[:1] == ["sweep"] and "--help" not in argv:
        assert "configurations" in stdout and "final loss" in stdout


@pytest.mark.parametrize(
    "option, value", sorted(FORMER_CLI_BUGS), ids=[o + "=" + os.path.basename(v) for o, v in sorted(FORMER_CLI_BUGS)]
)
def test_cli_former_bugs(option, value):
    """Each value the command once answered with a traceback, alone: now a clean exit."""
    argv = with_defaults(["sweep", option, value])
    status, stdout, stderr = run_cli(argv)
    assert_clean_exit(argv, status, stdout, stderr)


# ------------------------------------------------------------------ known bugs elsewhere


@pytest.mark.parametrize("epochs", [2**62, 10**30])
def test_sweep_epochs_too_large_to_allocate_name_epochs(epochs):
    out = run(lambda: fastnn.sweep([2, 2, 1], SWEEP_X, SWEEP_Y, lr=[0.1], epochs=epochs, allow_large=True,
                                   progress=False))
    assert out.error is not None
    names_one_of(out.error, {"epochs"})


def test_sizes_as_a_set_is_refused():
    out = run(lambda: fastnn.Network({2, 1}))
    assert out.error is not None
    names_one_of(out.error, {"sizes"})
