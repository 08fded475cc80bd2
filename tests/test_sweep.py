"""fastnn.sweep: every configuration equals ``Network.fit`` of it alone, to the bit.

What is checked, and how:

* Equality with ``fit``: for every configuration k of several grids, a fresh
  ``Network(sizes_k, ..., init=init, seed=configs[k]["seed"])`` trained with
  ``fit(X, y, lr, epochs, batch_size, shuffle, on_divergence="stop")`` gives the same
  loss curve, final parameters and checkpoint parameters (a fit of c epochs), compared
  as raw float64 bits. The grids use the generated kernel (small networks) and the
  generic one (over 160 parameters, or a layer over 64 weights), per-sample, mini-batch
  with a short last batch and full-batch SGD, shuffle on and off, hidden widths given as
  one width and as tuples of other depths, every activation and loss, integer class
  labels.
* Divergence: a huge lr beside sane ones; the diverged configurations stop in the epoch
  ``fit`` reports, keep the parameters it keeps, their losses are NaN from there, and
  the other configurations are the same as in a sweep without them.
* Thread count, block size (chunk) and progress slicing do not change one bit.
* SweepResult: configs (fields, values, order), groups, best(), to_csv (parsed back),
  plot (a PNG), save/load (bit-exact), network().
* Progress bar (tqdm's when installed, else fastnn's own): on a terminal or in a notebook
  only, only for sweeps expected to exceed PROGRESS_AFTER_S.
* Bad input: a clear ValueError/TypeError naming the argument, before any kernel is
  loaded (``_kernel`` is replaced by one that fails the test).

Compile cost: each small architecture compiles a generated sweep kernel and fit's
generated kernels once (cached on disk); the tests here and in test_cli_sweep.py share
five small architectures ([2, 2, 1] relu, [2, 2, 2, 1] relu, [2, 2, 1] tanh/linear,
[2, 3, 1] gaussian/sigmoid, [2, 4, 3] tanh/softmax); every bigger one uses the generic
kernels, compiled once for all shapes. About 100 s with empty caches, 10 s warm.
"""
import csv
import importlib
import io
import itertools
import math
import sys
import threading
import time
import types

import numpy as np
import pytest

import fastnn
from fastnn import DivergenceError, Network, datasets
from fastnn.kernels import codegen, sweepgen

sweep_module = importlib.import_module("fastnn.sweep")  # fastnn.sweep is the function
REAL_KERNEL = sweep_module._kernel

QX, QY = datasets.quadratic(20, seed=0)  # 20 samples: batch 6 leaves a short last batch of 2
SX, SY = datasets.spiral(10, 3, seed=0)  # 30 samples, int64 class labels 0..2
XX, XY = datasets.xor()  # 4 samples

# The architecture used for divergence (tanh hidden layer, linear output: an lr of 1e10
# overflows, 1e-3 does not) and for the thread/chunk tests.
DIVERGING = dict(activation=["tanh", "linear"], loss="half_squared_error", init="he")


# ------------------------------------------------------------------ helpers


def bits(a):
    return np.ascontiguousarray(a, dtype=np.float64).view(np.uint64)


def assert_bits_equal(actual, expected, what):
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    differ = np.flatnonzero(bits(actual).ravel() != bits(expected).ravel())
    if differ.size:
        i = differ[0]
        raise AssertionError(
            f"{what}: {differ.size} of {actual.size} values differ in their bits; first at flat index {i}: "
            f"{actual.ravel()[i]!r} != {expected.ravel()[i]!r}"
        )


def widths(row):
    return tuple(int(w) for w in str(row["hidden"]).split("-"))


def fit_alone(row, X, y, sizes, activation, loss, bias, init, shuffle, epochs, start=None):
    """Configuration ``row`` trained on its own: (params, history) of fit(on_divergence="stop").

    Networks the sweep trains with its generic kernel are compared with fit's generic
    backend: fit's own kernel for them (kernels.widegen, compiled per shape) gives the same
    bits (tests/test_wide_kernels.py), and would cost a compile per shape here.
    """
    net = Network(
        [sizes[0], *widths(row), sizes[-1]], activation, loss, bias,
        init=init if start is None else start.copy(), seed=int(row["seed"]),
    )
    backend = "numba" if codegen.supports(net.spec) else "generic"
    history = net.fit(X, y, lr=float(row["lr"]), epochs=epochs, batch_size=int(row["batch_size"]),
                      shuffle=shuffle, on_divergence="stop", backend=backend)
    return net.params.copy(), history


def assert_matches_fit(result, X, y, sizes, epochs, activation="relu", loss="squared_error", bias=True,
                       init="xavier", shuffle=False, start=None):
    """Every configuration of ``result`` equals fit of it alone: losses, divergence, final
    and checkpoint parameters, bit for bit."""
    assert result.losses.shape == (len(result.configs), epochs)
    for k, row in enumerate(result.configs):
        where = f"config {k} {row}"
        params, history = fit_alone(row, X, y, sizes, activation, loss, bias, init, shuffle, epochs, start)
        done = len(history)
        assert result.diverged_epoch[k] == (done if done < epochs else -1), where
        assert_bits_equal(result.losses[k, :done], history, f"{where}: losses")
        assert np.isnan(result.losses[k, done:]).all(), f"{where}: losses after divergence must be NaN"
        assert_bits_equal(result.params_of(k), params, f"{where}: final params")
        for c in result.checkpoints:
            params_c, _ = fit_alone(row, X, y, sizes, activation, loss, bias, init, shuffle, c, start)
            assert_bits_equal(result.params_of(k, checkpoint=c), params_c, f"{where}: checkpoint {c}")


def assert_same_result(a, b, what):
    """Two sweeps of the same grid gave the same numbers, bit for bit."""
    assert a.configs.dtype == b.configs.dtype and np.array_equal(a.configs, b.configs), what
    assert_bits_equal(a.losses, b.losses, f"{what}: losses")
    assert np.array_equal(a.diverged_epoch, b.diverged_epoch), f"{what}: diverged_epoch"
    assert a.checkpoints == b.checkpoints, what
    assert len(a.groups) == len(b.groups), what
    for g, (ga, gb) in enumerate(zip(a.groups, b.groups)):
        assert (ga.hidden, ga.batch_size, ga.spec) == (gb.hidden, gb.batch_size, gb.spec), f"{what}: group {g}"
        assert np.array_equal(ga.indices, gb.indices), f"{what}: group {g} indices"
        assert_bits_equal(ga.params, gb.params, f"{what}: group {g} params")
        assert_bits_equal(ga.checkpoint_params, gb.checkpoint_params, f"{what}: group {g} checkpoint params")


def generic_sized(sizes, bias=True):
    return not sweepgen.supports(fastnn.spec.Spec.build(sizes, "linear", "squared_error", bias))


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


class FakePipe(io.StringIO):
    def isatty(self):
        return False


# ------------------------------------------------------------------ equality with fit

# name -> (sizes, X, y, sweep keyword arguments). Together: every activation and loss,
# bias on/off, int labels, batch 1 / k with a short last batch / n, both kernels.
GRIDS = {
    # hidden as a width and as a tuple of another depth; 20 samples, batches 1, 6 (6+6+6+2), 20
    "relu-widths-and-tuples": ([2, 2, 1], QX, QY, dict(
        activation="relu", loss="squared_error", init="he", lr=[1e-3, 4e-3], seeds=[0, 7],
        hidden=[2, (2, 2)], batch_size=[1, 6, 20], epochs=5, checkpoints=[1, 3])),
    "softmax-cce-int-labels": ([2, 4, 3], SX, SY, dict(
        activation=["tanh", "softmax"], loss="categorical_cross_entropy", init="xavier", lr=[0.05, 0.5],
        seeds=[0, 1], batch_size=[1, 7, 30], epochs=4, checkpoints=[2])),
    "sigmoid-linear-mae": ([2, 3, 1], QX, QY, dict(
        activation=["sigmoid", "linear"], loss="mean_absolute_error", init="xavier", lr=[1e-2, 1e-1],
        seeds=[0, 1], batch_size=[1, 6], epochs=3, checkpoints=[2])),
    "gaussian-sigmoid-bce-xor": ([2, 3, 1], XX, XY, dict(
        activation=["gaussian", "sigmoid"], loss="binary_cross_entropy", init="normal", lr=[0.1, 2.0],
        seeds=[0, 1, 2], batch_size=[1, 3, 4], epochs=6, checkpoints=[6])),
    # (12, 12): 205 params; (9, 9): a layer of 81 weights; (4, 30): 193 params -> the
    # generic sweep kernel, in the same sweep as the generated one for hidden 2.
    "generic-and-generated-mixed": ([2, 2, 1], QX, QY, dict(
        activation="relu", loss="squared_error", init="he", lr=[1e-3, 3e-3], seeds=[0, 1],
        hidden=[2, (12, 12), (9, 9), (4, 30)], batch_size=[1, 6, 20], epochs=4, checkpoints=[2])),
    "generic-softmax-mse-no-bias": ([2, 12, 12, 3], SX, np.eye(3)[SY], dict(
        activation=["sigmoid", "gaussian", "softmax"], loss="mse", bias=False, init="xavier", lr=[0.05, 0.5],
        seeds=[0, 3], hidden=[12, (9, 9), (4, 30)], batch_size=[1, 7, 30], epochs=4, checkpoints=[1, 4])),
}


@pytest.mark.parametrize("shuffle", [False, True], ids=["in-order", "shuffled"])
@pytest.mark.parametrize("name", list(GRIDS))
def test_every_configuration_equals_fit(name, shuffle):
    sizes, X, y, kwargs = GRIDS[name]
    result = fastnn.sweep(sizes, X, y, shuffle=shuffle, progress=False, **kwargs)
    K = len(kwargs["lr"]) * len(kwargs["seeds"]) * len(kwargs.get("hidden", [None])) * len(kwargs["batch_size"])
    assert len(result.configs) == K and not result.diverged.any()
    fit_kwargs = {key: kwargs[key] for key in ("activation", "loss", "init", "bias") if key in kwargs}
    assert_matches_fit(result, X, y, sizes, kwargs["epochs"], shuffle=shuffle, **fit_kwargs)


def test_grids_cover_both_kernels_every_activation_and_loss():
    """The grids above exercise what the docstring claims (guards against edits that
    quietly drop a case)."""
    activations, losses, kernels = set(), set(), set()
    for sizes, _, _, kwargs in GRIDS.values():
        act = kwargs["activation"]
        activations.update([act] if isinstance(act, str) else act)
        losses.add(kwargs["loss"])
        for h in kwargs.get("hidden", [tuple(sizes[1:-1])]):
            h = h if isinstance(h, tuple) else (h,) * (len(sizes) - 2)
            kernels.add("generic" if generic_sized([sizes[0], *h, sizes[-1]], kwargs.get("bias", True)) else "generated")
    activations.update(DIVERGING["activation"])
    losses.add(DIVERGING["loss"])
    assert activations == set(fastnn.ACTIVATIONS)
    assert losses == set(fastnn.LOSSES)
    assert kernels == {"generic", "generated"}
    assert not generic_sized([2, 2, 1]) and generic_sized([2, 9, 9, 1]) and generic_sized([2, 40, 1])


# ------------------------------------------------------------------ divergence

DIVERGENCE_GRID = dict(lr=[1e-3, 1.0, 1e10], seeds=[0, 1], batch_size=[1, 5], epochs=6, checkpoints=[1, 3, 4, 6],
                       **DIVERGING)


@pytest.fixture(scope="module")
def diverging():
    return fastnn.sweep([2, 2, 1], QX, QY, progress=False, **DIVERGENCE_GRID)


def test_divergence_stops_like_fit(diverging):
    """lr 1e10 overflows (per sample in epoch 0, in batches of 5 in epoch 3): each such
    configuration stops in the epoch fit reports, keeps fit(on_divergence="stop")'s
    parameters (those from the start of that epoch), has NaN losses from that epoch on,
    and checkpoints after it hold those same parameters."""
    r = diverging
    kwargs = {key: DIVERGENCE_GRID[key] for key in ("activation", "loss", "init")}
    assert_matches_fit(r, QX, QY, [2, 2, 1], 6, **kwargs)
    huge = r.configs["lr"] == 1e10
    assert r.diverged[huge].all() and not r.diverged[~huge].any()
    assert np.array_equal(r.diverged, r.diverged_epoch >= 0)
    assert set(r.diverged_epoch[huge]) == {0, 3}  # both "nothing trained" and "stopped later"
    for k in np.flatnonzero(huge):
        d = r.diverged_epoch[k]
        assert np.isfinite(r.losses[k, :d]).all() and np.isnan(r.losses[k, d:]).all()
        assert np.isfinite(r.params_of(k)).all()
        net = Network([2, 2, 1], **kwargs, seed=int(r.configs["seed"][k]))
        with pytest.raises(DivergenceError) as err:
            net.fit(QX, QY, lr=1e10, epochs=6, batch_size=int(r.configs["batch_size"][k]))
        assert err.value.epoch == d
        assert_bits_equal(net.params, r.params_of(k), f"config {k}: params after DivergenceError")
        for c in r.checkpoints:
            if c > d:  # checkpoints after the divergence hold the last finite parameters
                assert_bits_equal(r.params_of(k, checkpoint=c), r.params_of(k), f"config {k} checkpoint {c}")
    stopped_late = np.flatnonzero(r.diverged_epoch == 3)[0]
    start = Network([2, 2, 1], **kwargs, seed=int(r.configs["seed"][stopped_late])).params
    assert not np.array_equal(r.params_of(stopped_late), start)  # it did train for 3 epochs


def test_divergence_leaves_the_other_configurations_alone(diverging):
    """The sane configurations of the mixed sweep are bit-identical to a sweep of them alone."""
    sane = fastnn.sweep([2, 2, 1], QX, QY, progress=False, **{**DIVERGENCE_GRID, "lr": [1e-3, 1.0]})
    rows = np.flatnonzero(diverging.configs["lr"] != 1e10)
    assert len(rows) == len(sane.configs)
    assert np.array_equal(diverging.configs[rows][["lr", "seed", "hidden", "batch_size"]],
                          sane.configs[["lr", "seed", "hidden", "batch_size"]])
    assert_bits_equal(diverging.losses[rows], sane.losses, "losses")
    for i, k in enumerate(rows):
        assert_bits_equal(diverging.params_of(k), sane.params_of(i), f"config {k}")
        for c in sane.checkpoints:
            assert_bits_equal(diverging.params_of(k, checkpoint=c), sane.params_of(i, checkpoint=c), f"config {k}")


# ------------------------------------------------------------------ threads, blocks, slices

# 144 configurations in 4 groups of 36: more than one 32-lane block of the generated
# kernel, a generic group ([2, 40, 1]: 161 params), shuffling, divergence and checkpoints.
THREAD_GRID = dict(lr=list(np.geomspace(1e-3, 1e10, 6)), seeds=list(range(6)), hidden=[2, 40], batch_size=[1, 5],
                   epochs=6, shuffle=True, checkpoints=[2, 5], **DIVERGING)


@pytest.fixture(scope="module")
def thread_reference():
    return fastnn.sweep([2, 2, 1], QX, QY, progress=False, chunk=64, threads=1, **THREAD_GRID)


def test_thread_grid_equals_fit(thread_reference):
    r = thread_reference
    assert len(r.groups) == 4 and all(len(g.indices) == 36 for g in r.groups)
    assert r.diverged.any() and not r.diverged.all()
    assert generic_sized([2, 40, 1]) and not generic_sized([2, 2, 1])
    kwargs = {key: THREAD_GRID[key] for key in ("activation", "loss", "init", "shuffle")}
    assert_matches_fit(r, QX, QY, [2, 2, 1], THREAD_GRID["epochs"], **kwargs)


@pytest.mark.parametrize("threads", [1, 2, 5])
@pytest.mark.parametrize("chunk", [1, 3, 64])
def test_threads_and_chunks_change_nothing(thread_reference, chunk, threads):
    result = fastnn.sweep([2, 2, 1], QX, QY, progress=False, chunk=chunk, threads=threads, **THREAD_GRID)
    assert_same_result(result, thread_reference, f"chunk={chunk}, threads={threads}")


def test_sweepgen_refuses_a_value_assigned_in_two_lane_loops(monkeypatch):
    """The generated lane loops pass each crossing value in one row, written by the loop
    that assigns it; a name assigned in two loops would carry the wrong value, so the
    generator refuses it (no network emits one today)."""
    original = codegen._Scalar.sample

    def sample(self, *args, **kwargs):
        split = original(self, *args, **kwargs)
        self.out("z0_0 = 0.0")  # z0_0 is assigned in the first loop too
        return split

    spec = fastnn.spec.Spec.build([2, 2, 1], "relu", "squared_error")
    sweepgen.source(spec)
    monkeypatch.setattr(codegen._Scalar, "sample", sample)
    with pytest.raises(RuntimeError, match="z0_0 is assigned in two lane loops"):
        sweepgen.source(spec)


@pytest.mark.parametrize("failing_call", [0, 3])
def test_a_failing_block_stops_the_sweep(monkeypatch, failing_call):
    """An error in any thread's kernel call (the caller's or a helper's) reaches the
    caller; blocks not yet started are not trained."""
    calls = []
    lock = threading.Lock()

    def kernel(*args):
        with lock:
            calls.append(args[-3])
            number = len(calls) - 1
        if number == failing_call:
            raise RuntimeError("kernel failed")
        time.sleep(0.01)

    monkeypatch.setattr(sweep_module, "_kernel", lambda spec, batch_size, shuffle: kernel)
    with pytest.raises(RuntimeError, match="kernel failed"):
        fastnn.sweep([2, 2, 1], QX, QY, lr=list(np.geomspace(1e-3, 1e-2, 40)), seeds=[0], epochs=1,
                     chunk=2, threads=3, progress=False)
    assert len(calls) < 20  # 20 blocks; training stopped soon after the failure


def test_training_in_slices_of_epochs_changes_nothing(thread_reference, monkeypatch):
    """With a progress bar the epochs run in several kernel calls (here one epoch per
    call): shuffle states, divergence and checkpoints carry over between calls."""
    monkeypatch.setattr(sweep_module, "_slice", lambda per_epoch, left: 1)
    monkeypatch.setattr(sweep_module, "PROGRESS_AFTER_S", 0.0)
    monkeypatch.setattr(sweep_module, "_tqdm", lambda: None)  # fastnn's own bar: one "\r" per update
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    result = fastnn.sweep([2, 2, 1], QX, QY, progress=True, chunk=5, threads=2, **THREAD_GRID)
    assert_same_result(result, thread_reference, "one epoch per kernel call")
    # one update of the bar per group and epoch
    assert terminal.getvalue().count("\r") == len(result.groups) * THREAD_GRID["epochs"]


# ------------------------------------------------------------------ checkpoints


def test_checkpoints_equal_shorter_fits():
    """params_of(k, checkpoint=c) is the fit of c epochs; network(k, c) holds it; an
    epoch that is not a checkpoint is refused."""
    r = fastnn.sweep([2, 2, 1], QX, QY, lr=[2e-3], seeds=[3, 4], batch_size=[1, 6], epochs=7, init="he",
                     shuffle=True, checkpoints=[7, 2, 5], progress=False)
    assert r.checkpoints == (2, 5, 7)  # sorted
    assert_matches_fit(r, QX, QY, [2, 2, 1], 7, init="he", shuffle=True)
    for k in range(len(r.configs)):
        assert_bits_equal(r.params_of(k, checkpoint=7), r.params_of(k), "the last epoch's checkpoint")
        assert_bits_equal(r.network(k, checkpoint=2).params, r.params_of(k, checkpoint=2), "network(k, 2)")
    for g in r.groups:
        assert g.checkpoint_params.shape == (3, len(g.indices), g.spec.n_params)
    with pytest.raises(ValueError, match="checkpoint"):
        r.params_of(0, checkpoint=3)


# ------------------------------------------------------------------ configs, groups, params


def test_configs_fields_values_and_order():
    """lr outermost, then seed, hidden, batch size; values in the order given (not
    sorted); groups = (hidden, batch size) in order of first appearance."""
    lrs, seeds, hidden, batches = [0.003, 0.001], [5, 2], [40, (2, 2)], [4, 1]
    r = fastnn.sweep([2, 2, 1], QX, QY, lr=lrs, seeds=seeds, hidden=hidden, batch_size=batches, epochs=2,
                     checkpoints=[1], progress=False)
    assert r.configs.dtype.names == ("lr", "seed", "hidden", "hidden_0", "hidden_1", "batch_size", "optimizer",
                                     "l1", "l2", "dropout", "group")
    assert set(r.configs["optimizer"]) == {"SGD()"} and not np.any(r.configs[["l1", "l2", "dropout"]].tolist())
    expected = list(itertools.product(lrs, seeds, ["40", "2-2"], batches))
    assert [(float(c["lr"]), int(c["seed"]), str(c["hidden"]), int(c["batch_size"])) for c in r.configs] == expected
    # per-layer widths compare as numbers (0: no such layer)
    widths = {"40": (40, 0), "2-2": (2, 2)}
    assert [(int(c["hidden_0"]), int(c["hidden_1"])) for c in r.configs] == [widths[h] for _, _, h, _ in expected]
    assert np.count_nonzero(r.configs["hidden_0"] == 40) == len(expected) // 2
    group_keys = [("40", 4), ("40", 1), ("2-2", 4), ("2-2", 1)]
    assert list(r.configs["group"]) == [group_keys.index((h, b)) for _, _, h, b in expected]
    assert [(g.hidden, g.batch_size) for g in r.groups] == [((40,), 4), ((40,), 1), ((2, 2), 4), ((2, 2), 1)]
    assert [g.spec.sizes for g in r.groups] == [(2, 40, 1), (2, 40, 1), (2, 2, 2, 1), (2, 2, 2, 1)]
    for g, group in enumerate(r.groups):
        assert list(group.indices) == [k for k in range(len(expected)) if r.configs["group"][k] == g]
        assert group.params.shape == (4, group.spec.n_params)
    assert set(r.params) == {((40,), 4), ((40,), 1), ((2, 2), 4), ((2, 2), 1)}
    for (h, b), params in r.params.items():
        group = next(g for g in r.groups if (g.hidden, g.batch_size) == (h, b))
        assert params is group.params
        for row, k in enumerate(group.indices):
            assert_bits_equal(params[row], r.params_of(k), f"params[{h}, {b}][{row}]")
    assert_matches_fit(r, QX, QY, [2, 2, 1], 2)
    assert r.losses.shape == (16, 2) and r.diverged_epoch.dtype == np.int64
    assert "16 configurations in 4 group(s)" in repr(r)


def test_single_values_and_default_hidden():
    """Scalars stand for one-element ranges; hidden defaults to the network's widths."""
    r = fastnn.sweep([2, 2, 2, 1], QX, QY, lr=0.002, seeds=4, batch_size=6, epochs=3, checkpoints=2, progress=False)
    assert len(r.configs) == 1 and r.configs[0]["hidden"] == "2-2" and r.checkpoints == (2,)
    assert_matches_fit(r, QX, QY, [2, 2, 2, 1], 3)


def test_network_holds_the_trained_configuration():
    r = fastnn.sweep([2, 2, 1], QX, QY, lr=[1e-3, 3e-3], seeds=[1], hidden=[2, 40], epochs=3, progress=False)
    for k, row in enumerate(r.configs):
        net = r.network(k)
        assert isinstance(net, Network) and net.sizes == (2, *widths(row), 1) and net.seed == int(row["seed"])
        trained = Network(net.sizes, seed=int(row["seed"]))
        trained.fit(QX, QY, lr=float(row["lr"]), epochs=3, backend="numba" if codegen.supports(trained.spec) else "generic")
        assert_bits_equal(net.predict(QX), trained.predict(QX), f"config {k} predictions")
        net.params[:] = 0.0  # a copy: the result is not changed through it
        assert np.any(r.params_of(k) != 0.0)


# ------------------------------------------------------------------ a Network as the first argument


def test_network_supplies_activations_loss_and_init():
    """Its activations, loss, bias and init name are used; the seeds come from ``seeds``."""
    net = Network([2, 2, 1], ["tanh", "linear"], "half_squared_error", init="he", seed=123)
    r = fastnn.sweep(net, QX, QY, lr=[1e-3, 0.03], seeds=[0, 4], batch_size=[1, 5], epochs=4, shuffle=True,
                     checkpoints=[2], progress=False)
    assert all(g.spec == net.spec for g in r.groups)
    assert_matches_fit(r, QX, QY, [2, 2, 1], 4, shuffle=True, **DIVERGING)


def test_network_without_bias_on_the_generic_kernel():
    net = Network([2, 12, 12, 1], "sigmoid", "mse", bias=False, init="normal", seed=1)
    assert generic_sized([2, 12, 12, 1], bias=False)
    r = fastnn.sweep(net, QX, QY / 10, lr=[0.01, 0.1], seeds=[2, 3], hidden=[12, (9, 9)], batch_size=[1, 20],
                     epochs=3, progress=False)
    assert all(not g.spec.bias and g.spec.activations == ("sigmoid",) * 3 for g in r.groups)
    assert_matches_fit(r, QX, QY / 10, [2, 12, 12, 1], 3, activation="sigmoid", loss="mse", bias=False,
                       init="normal")


def test_network_with_explicit_params_is_every_configuration_start():
    """A network built from an array: every configuration starts from that array (the
    seed then only drives the shuffling); the network itself is not changed."""
    start = 0.3 * np.random.default_rng(5).standard_normal(9)
    net = Network([2, 2, 1], DIVERGING["activation"], DIVERGING["loss"], init=start, seed=77)
    r = fastnn.sweep(net, QX, QY, lr=[1e-3, 0.03], seeds=[0, 5], batch_size=[1, 5], epochs=4, shuffle=True,
                     checkpoints=[1], progress=False)
    assert_matches_fit(r, QX, QY, [2, 2, 1], 4, activation=DIVERGING["activation"], loss=DIVERGING["loss"],
                       shuffle=True, start=start)
    # seeds 0 and 5 start alike but shuffle differently
    assert not np.array_equal(r.losses[0], r.losses[2])
    assert_bits_equal(net.params, start, "the network passed in")
    same = fastnn.sweep(net, QX, QY, lr=1e-3, hidden=[2], epochs=1, progress=False)  # its own widths: fine
    assert len(same.configs) == 1
    with pytest.raises(ValueError, match="hidden"):
        fastnn.sweep(net, QX, QY, lr=1e-3, hidden=[3], epochs=1, progress=False)


# ------------------------------------------------------------------ best


def synthetic_result(final_losses):
    """A SweepResult with given last-epoch losses (epoch 1: the reverse order)."""
    K = len(final_losses)
    configs = np.zeros(K, dtype=[("lr", "f8"), ("seed", "u8"), ("hidden", "U3"), ("batch_size", "i8"),
                                 ("group", "i8")])
    configs["lr"] = np.arange(1, K + 1) / 100
    configs["seed"] = np.arange(K)
    configs["hidden"] = "2"
    configs["batch_size"] = 1
    final = np.array(final_losses, dtype=float)
    losses = np.column_stack([-np.arange(K, dtype=float), final])
    diverged = np.where(np.isnan(final), 1, -1)
    return sweep_module.SweepResult(configs, losses, diverged, (), [])


def test_best_orders_by_loss_ties_by_index_diverged_last():
    r = synthetic_result([3.0, np.nan, 1.0, 2.0, 1.0, np.nan, 0.5])
    best = r.best(10)
    assert list(best["index"]) == [6, 2, 4, 3, 0, 1, 5]
    assert best.dtype.names == ("index", "lr", "seed", "hidden", "batch_size", "loss", "stuck")
    assert not best["stuck"].any()  # unknown (None) counts as not stuck
    assert_bits_equal(best["loss"], r.losses[best["index"], -1], "loss column")
    assert np.array_equal(best["lr"], r.configs["lr"][best["index"]])
    assert np.array_equal(best["seed"], r.configs["seed"][best["index"]])
    assert list(r.best(2)["index"]) == [6, 2]
    assert list(r.best(3, epoch=1)["index"]) == [6, 5, 4]  # epoch 1's losses are 0, -1, ..., -6
    for bad in (dict(n=0), dict(n=2.5), dict(n=2, epoch=0), dict(n=2, epoch=3)):
        name = "epoch" if "epoch" in bad else "n"
        with pytest.raises((ValueError, TypeError), match=name):
            r.best(**bad)


def test_best_of_a_real_sweep(thread_reference):
    r = thread_reference
    K, E = r.losses.shape
    for epoch in (None, 1, 3):
        column = r.losses[:, (E if epoch is None else epoch) - 1]
        oracle = sorted(range(K), key=lambda k: (not math.isfinite(column[k]), column[k] if math.isfinite(column[k]) else 0, k))
        best = r.best(K + 10, epoch=epoch)
        assert list(best["index"]) == oracle
        assert list(r.best(5, epoch=epoch)["index"]) == oracle[:5]
        for row in best[:5]:
            config = r.configs[row["index"]]
            assert (row["lr"], row["seed"], row["hidden"], row["batch_size"]) == (
                config["lr"], config["seed"], config["hidden"], config["batch_size"])
    assert np.isnan(r.best(K)["loss"][-1])  # diverged ones come last
    assert_bits_equal(r.final_losses(), r.losses[:, -1], "final_losses()")
    assert_bits_equal(r.final_losses(2), r.losses[:, 1], "final_losses(2)")


# ------------------------------------------------------------------ CSV, plot, save/load


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def test_to_csv_round_trip(thread_reference, tmp_path):
    """Every configuration's settings, divergence and losses parse back to the same
    numbers (floats written with repr: exact)."""
    r = thread_reference
    K, E = r.losses.shape
    path = tmp_path / "sweep.csv"
    r.to_csv(path)
    head, *rows = read_csv(path)
    assert head == ["index", "lr", "seed", "hidden", "hidden_0", "batch_size", "optimizer", "l1", "l2", "dropout",
                    "diverged_epoch", "stuck", "final_loss"] + [f"loss_{e}" for e in range(1, E + 1)]
    assert len(rows) == K
    for k, row in enumerate(rows):
        config = r.configs[k]
        assert int(row[0]) == k
        assert float(row[1]) == config["lr"] and int(row[2]) == config["seed"]
        assert row[3] == config["hidden"] and int(row[4]) == config["hidden_0"] and int(row[5]) == config["batch_size"]
        assert row[6] == config["optimizer"] and [float(v) for v in row[7:10]] == [config["l1"], config["l2"],
                                                                                   config["dropout"]]
        assert int(row[10]) == r.diverged_epoch[k] and int(row[11]) == r.stuck[k]
        assert_bits_equal([float(v) for v in row[12:]], np.r_[r.losses[k, -1], r.losses[k]], f"csv row {k}")
    assert any(row[12] == "nan" for row in rows) and any(row[10] != "-1" for row in rows)
    r.to_csv(tmp_path / "short.csv", curves=False)
    head, *rows = read_csv(tmp_path / "short.csv")
    assert head[-1] == "final_loss" and len(rows) == K and all(len(row) == 13 for row in rows)


def test_plot_writes_a_png(diverging, tmp_path):
    pytest.importorskip("matplotlib")
    from matplotlib import image

    path = tmp_path / "curves.png"
    diverging.plot(path, highlight=3, title="divergence grid")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = image.imread(path)
    assert pixels.shape[0] > 300 and pixels.shape[1] > 500
    assert pixels[..., :3].std() > 0.05  # not a blank canvas


def test_save_load_round_trip(thread_reference, tmp_path):
    r = thread_reference
    path = tmp_path / "result.npz"
    r.save(path)
    loaded = fastnn.load(path)
    assert isinstance(loaded, fastnn.SweepResult)
    assert_same_result(loaded, r, "loaded")
    assert (loaded.seconds, loaded.compile_seconds) == (r.seconds, r.compile_seconds)
    for k in (0, 37, len(r.configs) - 1):
        for c in (None, *r.checkpoints):
            assert_bits_equal(loaded.params_of(k, c), r.params_of(k, c), f"params_of({k}, {c})")
        a, b = loaded.network(k), r.network(k)
        assert a.spec == b.spec and a.seed == b.seed
        assert_bits_equal(a.params, b.params, f"network({k})")
    assert np.array_equal(loaded.best(20), r.best(20))
    assert repr(loaded) == repr(r)
    fastnn.load(str(path))  # a str path works too


# ------------------------------------------------------------------ progress bar

TINY = dict(lr=[1e-3, 2e-3], seeds=[0], epochs=4)
# tqdm's bar where tqdm is installed (the test extra installs it), fastnn's own without it
BARS = ["tqdm", "own"]
BAR_START = {"tqdm": "\rsweep:   0%|", "own": "\rsweep ["}
BAR_END = {"tqdm": "100%|", "own": "100.0%"}


def use_bar(monkeypatch, bar):
    if bar == "tqdm":
        pytest.importorskip("tqdm")
    else:
        monkeypatch.setattr(sweep_module, "_tqdm", lambda: None)  # as if tqdm were not installed


@pytest.mark.parametrize("bar", BARS)
def test_progress_bar_on_a_terminal(monkeypatch, bar):
    use_bar(monkeypatch, bar)
    monkeypatch.setattr(sweep_module, "PROGRESS_AFTER_S", 0.0)
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    shown = fastnn.sweep([2, 2, 1], QX, QY, **TINY)
    text = terminal.getvalue()
    assert text.startswith(BAR_START[bar]) and BAR_END[bar] in text and text.endswith("\n")
    assert_same_result(shown, fastnn.sweep([2, 2, 1], QX, QY, progress=False, **TINY), "with a progress bar")


def test_progress_bar_in_a_notebook(monkeypatch):
    """Where tqdm.auto picks its notebook widget (a Jupyter kernel), the bar is shown
    although stderr is not a terminal."""
    tqdm_std = pytest.importorskip("tqdm.std")
    bars = []

    class NotebookBar(tqdm_std.tqdm):  # what tqdm.auto gives in a notebook, minus the widget
        __module__ = "tqdm.notebook"

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            bars.append(self)

    monkeypatch.setitem(sys.modules, "IPython", sys.modules.get("IPython") or types.ModuleType("IPython"))
    monkeypatch.setattr(sweep_module, "_tqdm", lambda: NotebookBar)
    monkeypatch.setattr(sweep_module, "PROGRESS_AFTER_S", 0.0)
    monkeypatch.setattr(sys, "stderr", FakePipe())
    fastnn.sweep([2, 2, 1], QX, QY, **TINY)
    assert len(bars) == 1 and bars[0].n == bars[0].total == 8 and "100%" in sys.stderr.getvalue()


@pytest.mark.parametrize("bar", BARS)
@pytest.mark.parametrize("case", ["progress=False", "not a terminal", "short sweep"])
def test_no_progress_bar(monkeypatch, case, bar):
    use_bar(monkeypatch, bar)
    monkeypatch.setattr(sweep_module, "PROGRESS_AFTER_S", 1e9 if case == "short sweep" else 0.0)
    stream = FakePipe() if case == "not a terminal" else FakeTerminal()
    monkeypatch.setattr(sys, "stderr", stream)
    fastnn.sweep([2, 2, 1], QX, QY, progress=case != "progress=False", **TINY)
    assert stream.getvalue() == ""


@pytest.mark.parametrize("bar", BARS)
def test_progress_bar_after_about_a_second(monkeypatch, bar):
    """With the real threshold: a fast sweep shows nothing; a sweep slowed down to about
    1.2 s (a kernel that takes 0.15 s per call, one epoch per call) shows the bar."""
    use_bar(monkeypatch, bar)
    assert 0.5 <= sweep_module.PROGRESS_AFTER_S <= 2.0
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    fastnn.sweep([2, 2, 1], QX, QY, **TINY)
    assert terminal.getvalue() == ""
    real = sweep_module._kernel

    def slow_kernel(spec, batch_size, shuffle):
        kernel = real(spec, batch_size, shuffle)

        def slow(*args):
            time.sleep(0.15)
            return kernel(*args)

        return slow

    monkeypatch.setattr(sweep_module, "_kernel", slow_kernel)
    fastnn.sweep([2, 2, 1], QX, QY, **{**TINY, "epochs": 8})
    assert BAR_START[bar] in terminal.getvalue() and terminal.getvalue().endswith("\n")


# ------------------------------------------------------------------ bad input


def _no_kernel(spec, batch_size, shuffle):
    raise AssertionError("the sweep loaded a kernel before rejecting its arguments")


GOOD = dict(lr=[0.01], seeds=[0], batch_size=[1], epochs=3)

# (case id, sizes, keyword arguments replacing GOOD's, exception, text the message must hold)
BAD = [
    ("lr-empty", [2, 2, 1], dict(lr=[]), ValueError, "lr must not be empty"),
    ("lr-zero", [2, 2, 1], dict(lr=[0.1, 0.0]), ValueError, "lr"),
    ("lr-negative", [2, 2, 1], dict(lr=-0.1), ValueError, "lr"),
    ("lr-nan", [2, 2, 1], dict(lr=np.array([0.1, np.nan])), ValueError, "lr"),
    ("lr-inf", [2, 2, 1], dict(lr=[math.inf]), ValueError, "lr"),
    ("lr-text", [2, 2, 1], dict(lr="0.1"), TypeError, "lr"),
    ("lr-duplicate", [2, 2, 1], dict(lr=[0.1, 0.2, 0.1]), ValueError, "lr has duplicate"),
    ("seeds-empty", [2, 2, 1], dict(seeds=[]), ValueError, "seeds must not be empty"),
    ("seeds-duplicate", [2, 2, 1], dict(seeds=[1, 2, 1]), ValueError, "seeds has duplicate"),
    ("seeds-negative", [2, 2, 1], dict(seeds=[-1]), ValueError, "seeds"),
    ("seeds-too-big", [2, 2, 1], dict(seeds=[2**64]), ValueError, "seeds"),
    ("seeds-float", [2, 2, 1], dict(seeds=[1.5]), TypeError, "seeds"),
    ("seeds-none", [2, 2, 1], dict(seeds=[None]), TypeError, "seeds"),
    ("hidden-empty", [2, 2, 1], dict(hidden=[]), ValueError, "hidden must not be empty"),
    ("hidden-zero", [2, 2, 1], dict(hidden=[2, 0]), ValueError, "hidden"),
    ("hidden-empty-tuple", [2, 2, 1], dict(hidden=[()]), ValueError, "hidden"),
    ("hidden-zero-in-tuple", [2, 2, 1], dict(hidden=[(2, 0)]), ValueError, "hidden"),
    ("hidden-duplicate", [2, 2, 1], dict(hidden=[2, (2,)]), ValueError, "hidden has duplicate"),
    ("hidden-without-hidden-layer", [2, 1], dict(hidden=[2]), ValueError, "hidden"),
    ("batch-empty", [2, 2, 1], dict(batch_size=[]), ValueError, "batch_size must not be empty"),
    ("batch-zero", [2, 2, 1], dict(batch_size=[0]), ValueError, "batch_size"),
    ("batch-over-n", [2, 2, 1], dict(batch_size=[1, 21]), ValueError, "batch_size"),
    ("batch-duplicate", [2, 2, 1], dict(batch_size=[4, 4]), ValueError, "batch_size has duplicate"),
    ("batch-float", [2, 2, 1], dict(batch_size=[2.5]), TypeError, "batch_size"),
    ("epochs-zero", [2, 2, 1], dict(epochs=0), ValueError, "epochs"),
    ("epochs-float", [2, 2, 1], dict(epochs=3.0), TypeError, "epochs"),
    ("checkpoint-zero", [2, 2, 1], dict(checkpoints=[0]), ValueError, "checkpoints"),
    ("checkpoint-after-last-epoch", [2, 2, 1], dict(checkpoints=[1, 4]), ValueError, "checkpoints"),
    ("checkpoint-negative", [2, 2, 1], dict(checkpoints=[-1]), ValueError, "checkpoints"),
    ("checkpoint-duplicate", [2, 2, 1], dict(checkpoints=[2, 2]), ValueError, "checkpoints has duplicate"),
    ("checkpoint-float", [2, 2, 1], dict(checkpoints=[1.5]), TypeError, "checkpoints"),
    ("activation-unknown", [2, 2, 1], dict(activation="swish"), ValueError, "activation"),
    ("activation-count", [2, 2, 1], dict(activation=["relu", "relu"], hidden=[(2, 2)]), ValueError, "activation"),
    ("softmax-hidden", [2, 2, 1], dict(activation=["softmax", "linear"]), ValueError, "softmax"),
    ("loss-unknown", [2, 2, 1], dict(loss="hinge"), ValueError, "loss"),
    ("cce-without-softmax", [2, 2, 1], dict(loss="categorical_cross_entropy"), ValueError, "softmax"),
    ("init-unknown", [2, 2, 1], dict(init="uniform"), ValueError, "init"),
    ("init-none", [2, 2, 1], dict(init=None), TypeError, "init"),
    ("init-array", [2, 2, 1], dict(init=np.zeros(9)), TypeError, "init"),
    ("sizes-text", "2,2,1", {}, TypeError, "sizes"),
    ("sizes-vs-X", [3, 2, 1], {}, ValueError, "X"),
    ("bias-text", [2, 2, 1], dict(bias="yes"), TypeError, "bias"),
    ("shuffle-int", [2, 2, 1], dict(shuffle=1), TypeError, "shuffle"),
    ("progress-text", [2, 2, 1], dict(progress="no"), TypeError, "progress"),
    ("allow-large-int", [2, 2, 1], dict(allow_large=1), TypeError, "allow_large"),
    ("chunk-zero", [2, 2, 1], dict(chunk=0), ValueError, "chunk"),
    ("threads-zero", [2, 2, 1], dict(threads=0), ValueError, "threads"),
]


@pytest.mark.parametrize("sizes, kwargs, error, text", [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_arguments_are_refused_before_any_work(monkeypatch, sizes, kwargs, error, text):
    monkeypatch.setattr(sweep_module, "_kernel", _no_kernel)
    with pytest.raises(error, match=text):
        fastnn.sweep(sizes, QX, QY, **{**GOOD, **kwargs})


@pytest.mark.parametrize("case", ["X-shape", "X-nan", "y-rows", "labels-out-of-range"])
def test_bad_data_is_refused_before_any_work(monkeypatch, case):
    monkeypatch.setattr(sweep_module, "_kernel", _no_kernel)
    if case == "X-shape":
        args, name = ([2, 2, 1], QX[:, :1], QY), "X"
    elif case == "X-nan":
        X = QX.copy()
        X[3, 1] = np.nan
        args, name = ([2, 2, 1], X, QY), "X"
    elif case == "y-rows":
        args, name = ([2, 2, 1], QX, QY[:-1]), "y"
    else:
        args, name = ([2, 4, 3], SX, SY + 1), "y"
    kwargs = dict(activation=["tanh", "softmax"], loss="categorical_cross_entropy") if case.startswith("labels") else {}
    with pytest.raises(ValueError, match=name):
        fastnn.sweep(*args, **GOOD, **kwargs)


def test_explicit_params_network_refuses_other_widths_before_any_work(monkeypatch):
    monkeypatch.setattr(sweep_module, "_kernel", _no_kernel)
    net = Network([2, 2, 1], init=np.zeros(9))
    with pytest.raises(ValueError, match="hidden"):
        fastnn.sweep(net, QX, QY, **GOOD, hidden=[2, 3])


def test_grid_size_limits(monkeypatch):
    """Beyond MAX_CONFIGS configurations or MAX_BYTES of results: a ValueError that says
    how big the grid is and names allow_large, before any work; allow_large=True runs it."""
    monkeypatch.setattr(sweep_module, "_kernel", _no_kernel)
    # the stated limits themselves: 101,000 configurations; 40,000 of 8001 parameters (2.4 GiB)
    assert sweep_module.MAX_CONFIGS == 100_000 and sweep_module.MAX_BYTES == 2 * 2**30
    with pytest.raises(ValueError, match=r"101000 configurations.*allow_large"):
        fastnn.sweep([2, 2, 1], QX, QY, lr=np.geomspace(1e-4, 1.0, 1000), seeds=range(101), epochs=3)
    with pytest.raises(ValueError, match=r"40000 configurations needing 2\.\d\d GiB.*allow_large"):
        fastnn.sweep([2, 2, 1], QX, QY, lr=np.geomspace(1e-4, 1.0, 200), seeds=range(200), hidden=[2000],
                     epochs=3)
    # lowered limits, so that allow_large=True can be run for real
    monkeypatch.setattr(sweep_module, "MAX_CONFIGS", 3)
    with pytest.raises(ValueError, match="allow_large"):
        fastnn.sweep([2, 2, 1], QX, QY, lr=[1e-3, 2e-3], seeds=[0, 1], epochs=3)
    monkeypatch.setattr(sweep_module, "MAX_CONFIGS", 100)
    monkeypatch.setattr(sweep_module, "MAX_BYTES", 8 * (9 + 3) * 3)  # 3 configurations of [2, 2, 1], 3 epochs
    with pytest.raises(ValueError, match="allow_large"):
        fastnn.sweep([2, 2, 1], QX, QY, lr=[1e-3, 2e-3], seeds=[0, 1], epochs=3)
    monkeypatch.setattr(sweep_module, "_kernel", REAL_KERNEL)
    r = fastnn.sweep([2, 2, 1], QX, QY, lr=[1e-3, 2e-3], seeds=[0, 1], epochs=3, allow_large=True, progress=False)
    assert len(r.configs) == 4
    assert_matches_fit(r, QX, QY, [2, 2, 1], 3)

