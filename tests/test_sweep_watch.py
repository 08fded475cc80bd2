"""Sweeps with held-out data, early stopping and successive halving (``fastnn.sweep``'s
validation_data, validation_split, patience, halving; ``fastnn.sweep_monitor``).

* Every configuration equals its own ``Network.fit`` with the same held-out data and
  stopping arguments, bit for bit: training and validation curves, validation accuracy,
  best and stopping epochs, final (restored) parameters and checkpoints; across plain SGD
  (generated kernels), Adam, mini-batches, shuffling, a split, divergence.
* Halving: the validation curves of the full sweep equal the reference's; the rungs and
  pruned sets equal the reference's halving (``reference.halving_survivors``) applied to
  them; survivors' curves equal the full sweep's and pruned ones stop at their rung;
  nothing depends on thread count or block size; stopped configurations cost no more
  kernel work (lanes are counted).
* Bad input: clear errors naming the argument, before any training.

Shapes are those of test_sweep.py ([2, 2, 1] tanh/linear, [2, 4, 3] tanh/softmax), so no new
kernel is compiled for this file.
"""
import importlib

import numpy as np
import pytest

import fastnn
from fastnn import datasets, reference

from strategies import assert_bits_equal

sweep_module = importlib.import_module("fastnn.sweep")

QX, QY = datasets.quadratic(20, seed=0)
VX, VY = datasets.quadratic(9, seed=1)
SX, SY = datasets.spiral(10, 3, seed=0)
SVX, SVY = datasets.spiral(4, 3, seed=1)
TANH = dict(activation=["tanh", "linear"], loss="half_squared_error")
RELU = dict(sizes=[2, 2, 1], X=QX, y=QY, Xv=VX, yv=VY, kw=TANH)
SOFTMAX = dict(sizes=[2, 4, 3], X=SX, y=SY, Xv=SVX, yv=SVY,
               kw=dict(activation=["tanh", "softmax"], loss="categorical_cross_entropy"))
# over 64 parameters: the generic lane validation pass (test_sweep.py's generic network)
GENERIC = dict(sizes=[2, 12, 12, 3], X=SX, y=np.eye(3)[SY], Xv=SVX, yv=np.eye(3)[SVY],
               kw=dict(activation=["sigmoid", "gaussian", "softmax"], loss="mse", bias=False))


def fit_of(case, result, k, epochs, **kwargs):
    """Configuration k of ``result`` trained alone by fit: (History or None, params, diverged epoch)."""
    c = result.configs[k]
    kw = case["kw"]
    net = fastnn.Network(case["sizes"], kw["activation"], kw.get("loss", "squared_error"), kw.get("bias", True),
                         seed=int(c["seed"]))
    try:
        history = net.fit(case["X"], case["y"], lr=float(c["lr"]), epochs=epochs, batch_size=int(c["batch_size"]),
                          **kwargs)
        return history, net.params, -1
    except fastnn.DivergenceError as err:
        return err.history, net.params, err.epoch


def assert_config_equals_fit(case, result, k, epochs, checkpoints=(), **kwargs):
    history, params, diverged = fit_of(case, result, k, epochs, **kwargs)
    what = f"configuration {k} {result.configs[k]}"
    assert result.diverged_epoch[k] == diverged, what
    curve = np.asarray(history)
    assert_bits_equal(result.losses[k, : len(curve)], curve, what + ": loss")
    assert np.isnan(result.losses[k, len(curve):]).all(), what
    assert_bits_equal(result.params_of(k), params, what + ": params")
    if diverged >= 0:
        return
    if result.val_losses is not None:
        assert_bits_equal(result.val_losses[k, : len(curve)], history.val_loss, what + ": val_loss")
        assert np.isnan(result.val_losses[k, len(curve):]).all(), what
    if result.val_accuracy is not None:
        assert_bits_equal(result.val_accuracy[k, : len(curve)], history.val_accuracy, what + ": val_accuracy")
    assert result.best_epoch[k] == (-1 if history.best_epoch is None else history.best_epoch), what
    if result.stopped_epoch is not None:
        assert result.stopped_epoch[k] == (-1 if history.stopped_epoch is None else history.stopped_epoch), what
    for c in checkpoints:  # parameters after epoch c while training, or the final ones after a stop
        expected = params
        if len(curve) >= c and (result.stopped_epoch is None or result.stopped_epoch[k] < 0
                                or result.stopped_epoch[k] >= c - 1):
            expected = fit_of(case, result, k, c, optimizer=kwargs.get("optimizer", "sgd"),
                              shuffle=kwargs.get("shuffle", False))[1]
        assert_bits_equal(result.params_of(k, c), expected, what + f": checkpoint {c}")


@pytest.mark.parametrize("case, grid, fit_kwargs", [
    (RELU, dict(lr=[0.01, 0.1, 0.6], seeds=[0, 1], batch_size=[1, 6]), dict(patience=3)),
    (RELU, dict(lr=[0.05, 0.3], seeds=[2], batch_size=[4], shuffle=True, optimizer="adam"),
     dict(patience=2, min_delta=1e-4, restore_best=False)),
    (RELU, dict(lr=[0.01, 1e6], seeds=[0], batch_size=[1]), dict()),
    (SOFTMAX, dict(lr=[0.05, 0.5, 2.0], seeds=[0, 3], batch_size=[1, 30]), dict(patience=4)),
    (GENERIC, dict(lr=[0.05, 0.5], seeds=[1], batch_size=[1, 7]), dict(patience=2)),
], ids=["tanh-sgd-patience", "tanh-adam-shuffle-no-restore", "tanh-divergence", "softmax-accuracy",
        "generic-lanes"])
def test_every_configuration_equals_its_fit(case, grid, fit_kwargs):
    epochs = 25
    grid = dict(grid)
    shuffle = grid.pop("shuffle", False)
    optimizer = grid.pop("optimizer", "sgd")
    result = fastnn.sweep(case["sizes"], case["X"], case["y"], epochs=epochs, shuffle=shuffle, optimizer=optimizer,
                          checkpoints=[2, 10], validation_data=(case["Xv"], case["yv"]), chunk=3, threads=2,
                          progress=False, **case["kw"], **grid, **fit_kwargs)
    assert result.val_losses.shape == result.losses.shape
    assert (result.val_accuracy is not None) == (case["kw"]["loss"] == "categorical_cross_entropy")
    if "patience" in fit_kwargs:
        assert (result.stopped_epoch >= 0).any(), "some configuration should stop early here"
    for k in range(len(result.configs)):
        assert_config_equals_fit(case, result, k, epochs, checkpoints=(2, 10), shuffle=shuffle, optimizer=optimizer,
                                 validation_data=(case["Xv"], case["yv"]), **fit_kwargs)


def test_validation_split_and_training_loss_patience_equal_fit():
    """A split drawn with validation_seed equals fit on the same split; patience without
    validation data watches the training loss, as fit's."""
    case = RELU
    result = fastnn.sweep([2, 2, 1], QX, QY, lr=[0.05, 0.4], seeds=[0, 1], epochs=20, validation_split=0.25,
                          validation_seed=7, patience=3, shuffle=True, progress=False, **TANH)
    spec = fastnn.Network([2, 2, 1], TANH["activation"], TANH["loss"]).spec
    train, val = fastnn.validation.holdout(QY.reshape(-1, 1), 0.25, 7, spec)
    split_case = dict(case, X=QX[train], y=QY[train])
    for k in range(4):
        assert_config_equals_fit(split_case, result, k, 20, validation_data=(QX[val], QY[val]), patience=3,
                                 shuffle=True)
    plain = fastnn.sweep([2, 2, 1], QX, QY, lr=[0.01, 0.2], seeds=[0, 1], epochs=30, patience=2, min_delta=1e-3,
                         progress=False, **TANH)
    assert plain.val_losses is None and plain.pruned_epoch is None
    for k in range(4):
        assert_config_equals_fit(case, plain, k, 30, patience=2, min_delta=1e-3)


# ------------------------------------------------------------------ halving

HALVING_GRID = dict(lr=[0.003, 0.01, 0.03, 0.1, 0.3, 0.6], seeds=[0, 1, 2], batch_size=[1, 5], epochs=13)


def halving_sweep(halving, **kwargs):
    grid = dict(HALVING_GRID, **kwargs)
    return fastnn.sweep([2, 2, 1], QX, QY, validation_data=(VX, VY), halving=halving, progress=False, **TANH, **grid)


def test_halving_equals_the_reference_rule_on_the_full_curves():
    full = halving_sweep(None)
    # the full sweep's validation curves are the reference's
    for k in range(0, len(full.configs), 5):
        c = full.configs[k]
        net = fastnn.Network([2, 2, 1], TANH["activation"], TANH["loss"], seed=int(c["seed"]))
        history = net.fit(QX, QY, lr=float(c["lr"]), epochs=13, batch_size=int(c["batch_size"]),
                          validation_data=(VX, VY), backend="reference")
        assert_bits_equal(full.val_losses[k], history.val_loss, f"reference val_loss of {k}")
    halving = fastnn.Halving(eta=2, first_rung=2)
    result = halving_sweep(halving, chunk=4, threads=2)
    rungs = reference.halving_rungs(13, 2, 2)
    assert rungs == [2, 4, 8] == halving.rungs(13)
    alive = [k for k in range(len(full.configs)) if full.diverged_epoch[k] < 0]
    expected_pruned = np.full(len(full.configs), -1)
    for r in rungs:
        scores = [float(v) for v in full.val_losses[:, r - 1]]
        kept = reference.halving_survivors(scores, [k for k in alive if full.diverged_epoch[k] < 0 or
                                                    full.diverged_epoch[k] >= r], 2)
        expected_pruned[[k for k in alive if k not in kept]] = r
        alive = kept
    np.testing.assert_array_equal(result.pruned_epoch, expected_pruned)
    assert result.halving == halving
    for k in range(len(full.configs)):
        r = result.pruned_epoch[k]
        end = 13 if r < 0 else r
        assert_bits_equal(result.losses[k, :end], full.losses[k, :end], f"loss of {k}")
        assert_bits_equal(result.val_losses[k, :end], full.val_losses[k, :end], f"val_loss of {k}")
        assert np.isnan(result.losses[k, end:]).all() and np.isnan(result.val_losses[k, end:]).all()
        if r < 0:
            assert_bits_equal(result.params_of(k), full.params_of(k), f"params of survivor {k}")


def test_halving_does_not_depend_on_threads_or_blocks_and_frees_the_work(monkeypatch):
    trained = []  # (lanes, epochs) per kernel call
    real = sweep_module._kernel

    def counting(spec, batch_size, shuffle):
        kernel = real(spec, batch_size, shuffle)

        def call(P, X, Y, lr, batch_size, shuffle, states, e0, e1, losses, diverged, ce, ck, k0, k1, layout):
            trained.append((k1 - k0) * (e1 - e0))
            return kernel(P, X, Y, lr, batch_size, shuffle, states, e0, e1, losses, diverged, ce, ck, k0, k1, layout)

        return call

    monkeypatch.setattr(sweep_module, "_kernel", counting)
    halving = fastnn.Halving(eta=3, first_rung=1)
    one = halving_sweep(halving, threads=1, chunk=64, patience=4)
    work = sum(trained)
    many = halving_sweep(halving, threads=2, chunk=5, patience=4)
    for name in ("losses", "val_losses", "best_epoch", "stopped_epoch", "pruned_epoch", "diverged_epoch"):
        assert_bits_equal(getattr(one, name), getattr(many, name), name)
    for k in range(len(one.configs)):
        assert_bits_equal(one.params_of(k), many.params_of(k), f"params of {k}")
    # every configuration's epochs run exactly once: no lane trains after it stopped
    ran = np.isfinite(one.losses).sum() + (one.diverged_epoch >= 0).sum()
    assert work == ran
    assert work < 0.5 * len(one.configs) * 13
    assert (one.pruned_epoch > 0).sum() > 0


def test_halving_without_validation_ranks_training_loss():
    result = fastnn.sweep([2, 2, 1], QX, QY, lr=[0.01, 0.03, 0.1, 0.3], seeds=[0, 1], epochs=9, halving=2,
                          progress=False, **TANH)
    assert result.halving == fastnn.Halving(eta=2, first_rung=1) and result.val_losses is None
    full = fastnn.sweep([2, 2, 1], QX, QY, lr=[0.01, 0.03, 0.1, 0.3], seeds=[0, 1], epochs=9, progress=False, **TANH)
    alive = list(range(8))
    for r in reference.halving_rungs(9, 2, 1):
        kept = reference.halving_survivors([float(v) for v in full.losses[:, r - 1]], alive, 2)
        assert all(result.pruned_epoch[k] == r for k in alive if k not in kept)
        alive = kept
    assert sorted(np.flatnonzero(result.pruned_epoch < 0)) == alive


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("kwargs, error, name", [
    (dict(validation_data=(np.zeros((3, 3)), np.zeros(3))), ValueError, "validation_data"),
    (dict(validation_data=(np.full((3, 2), np.nan), np.zeros(3))), ValueError, "validation_data"),
    (dict(validation_data=np.zeros((3, 2))), TypeError, "validation_data"),
    (dict(validation_split=0.01), ValueError, "validation_split"),
    (dict(validation_split=1.0), ValueError, "validation_split"),
    (dict(validation_split=0.2, validation_data=(VX, VY)), ValueError, "validation"),
    (dict(patience=0), ValueError, "patience"),
    (dict(patience=1.5), TypeError, "patience"),
    (dict(min_delta=-1.0), ValueError, "min_delta"),
    (dict(halving=1), ValueError, "eta"),
    (dict(halving="3"), TypeError, "halving"),
    (dict(halving=fastnn.Halving(3, first_rung=50)), ValueError, "first_rung"),
    (dict(validation_seed=-1), ValueError, "validation_seed"),
])
def test_bad_arguments_raise_before_training(kwargs, error, name, monkeypatch):
    def fail(*args, **kw):
        raise AssertionError("trained before checking its arguments")

    monkeypatch.setattr(sweep_module, "_group_kernel", fail)
    monkeypatch.setattr(sweep_module, "_prepare", fail)
    with pytest.raises(error, match=name):
        fastnn.sweep([2, 2, 1], QX, QY, lr=0.1, epochs=10, progress=False, **TANH, **kwargs)


def test_halving_validates_its_settings():
    with pytest.raises(ValueError, match="eta"):
        fastnn.Halving(eta=1)
    with pytest.raises(ValueError, match="first_rung"):
        fastnn.Halving(first_rung=0)
    with pytest.raises(TypeError, match="eta"):
        fastnn.Halving(eta=2.5)
