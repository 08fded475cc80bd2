"""Sweeps over optimizers, L1/L2 and dropout: every configuration equals its own fit, bit
for bit (final parameters, loss curve, checkpoints, divergence), whichever kernel trains
it; the new axes extend the grid innermost; save/load keeps them; bad values are refused
before any work.

Shapes: 2-3-1 tanh (the generic and generated kernels of tests/test_optimizers.py).
"""
import numpy as np
import pytest

import fastnn
from fastnn import datasets, sweep_options

from strategies import assert_bits_equal

QX, QY = datasets.quadratic(20, seed=0)
NET = dict(activation="tanh", loss="half_squared_error")
GRID = dict(lr=[1e-3, 3e-2], seeds=[0, 1], batch_size=[1, 6], epochs=4, shuffle=True, checkpoints=[2],
            optimizer=["sgd", fastnn.Adam(beta1=0.8), fastnn.SGD(momentum=0.9, nesterov=True)],
            l2=[0.0, 1e-3], dropout=[0.0, 0.25])
OPTIMIZERS = {"SGD()": "sgd", "Adam(beta1=0.8)": fastnn.Adam(beta1=0.8),
              "SGD(momentum=0.9, nesterov=True)": fastnn.SGD(momentum=0.9, nesterov=True), "Adam()": "adam"}


@pytest.fixture(scope="module")
def grid():
    return fastnn.sweep([2, 3, 1], QX, QY, progress=False, **NET, **GRID)


def fit_config(row, epochs, X=QX, Y=QY, **extra):
    net = fastnn.Network([2, 3, 1], seed=int(row["seed"]), init="xavier", **NET)
    history = net.fit(X, Y, lr=float(row["lr"]), epochs=epochs, batch_size=int(row["batch_size"]),
                      optimizer=OPTIMIZERS[str(row["optimizer"])], l1=float(row["l1"]), l2=float(row["l2"]),
                      dropout=float(row["dropout"]), **extra)
    return net, history


def assert_configs_equal_fit(r, shuffle):
    """Every configuration of the 4-epoch sweep ``r`` (checkpoint at 2) equals its fit."""
    for k, row in enumerate(r.configs):
        net, history = fit_config(row, 4, shuffle=shuffle)
        assert_bits_equal(r.losses[k], history, f"config {k} curve")
        assert_bits_equal(r.params_of(k), net.params, f"config {k} params")
        short, _ = fit_config(row, 2, shuffle=shuffle)
        assert_bits_equal(r.params_of(k, 2), short.params, f"config {k} checkpoint 2")


def test_every_configuration_equals_its_fit(grid):
    r = grid
    assert len(r.configs) == 2 * 2 * 2 * 3 * 2 * 2 and len(r.groups) == 2 * 3 * 2 * 2
    # the new axes are innermost: configuration 1 differs from 0 by its dropout only
    assert (r.configs["dropout"][:2] == [0.0, 0.25]).all() and r.configs["l2"][2] == 1e-3
    assert r.configs["optimizer"][4] == "Adam(beta1=0.8)"
    assert_configs_equal_fit(r, shuffle=True)
    best = r.best(3)
    assert {"optimizer", "l1", "l2", "dropout"} <= set(best.dtype.names)
    # both paths ran: the generated kernels (no dropout) and the lane kernel's dropout mode
    seeds = np.zeros(1, dtype=np.uint64)
    paths = {type(sweep_options.blocks(g.spec, g.options, seeds)) for g in r.groups if not g.options.is_plain}
    assert paths == {sweep_options.GeneratedBlocks, sweep_options.DropoutLaneBlocks}


def test_unshuffled_groups_take_the_in_order_kernels_and_equal_their_fit(monkeypatch):
    """Samples in order, the generated optimizer kernels load each sample once for every
    lane (sweepgen.optim_name's ``in_order``), not through ``order``, and per sample the
    sample starts the gradient sums (``per_sample``): the same bits as fit, per sample and
    in mini-batches with a short last batch, with and without L1."""
    real, asked = sweep_options.load, []

    def load(spec, options, shuffle=True, batch_size=0):
        kernel = real(spec, options, shuffle, batch_size)
        asked.append(getattr(kernel, "py_func", kernel).__name__)
        return kernel

    monkeypatch.setattr(sweep_options, "load", load)
    grid = dict(GRID, shuffle=False, dropout=[0.0], l1=[0.0, 1e-3], l2=[0.0])
    r = fastnn.sweep([2, 3, 1], QX, QY, progress=False, **NET, **grid)
    assert set(asked) == {f"train_optim_{variant}_in_order{per_sample}" for variant in ("adam", "nesterov", "sgd")
                          for per_sample in ("", "_per_sample")}
    assert_configs_equal_fit(r, shuffle=False)


def test_threads_and_blocks_change_nothing(grid):
    other = fastnn.sweep([2, 3, 1], QX, QY, progress=False, threads=1, chunk=5, **NET, **GRID)
    assert_bits_equal(other.losses, grid.losses, "losses")
    for k in range(len(grid.configs)):
        assert_bits_equal(other.params_of(k), grid.params_of(k), f"config {k}")


def test_save_and_load_keep_the_options(grid, tmp_path):
    grid.save(tmp_path / "g.npz")
    loaded = fastnn.load(tmp_path / "g.npz")
    assert [g.options for g in loaded.groups] == [g.options for g in grid.groups]
    assert np.array_equal(loaded.configs, grid.configs)


def test_divergence_with_an_optimizer_equals_fit():
    r = fastnn.sweep([2, 3, 1], QX, QY, lr=[1e-3, 1e200], seeds=[0], epochs=3, optimizer=["adam", "sgd"],
                     l2=[1e-3], activation=["tanh", "linear"], loss="half_squared_error", progress=False)
    assert list(r.diverged) == [False, False, True, True]  # lr outermost, then the optimizer
    for k, row in enumerate(r.configs):
        net = fastnn.Network([2, 3, 1], ["tanh", "linear"], "half_squared_error", seed=0)
        history = net.fit(QX, QY, lr=float(row["lr"]), epochs=3, optimizer=OPTIMIZERS[str(row["optimizer"])],
                          l2=1e-3, on_divergence="stop")
        assert r.diverged_epoch[k] == (len(history) if len(history) < 3 else -1)
        assert_bits_equal(r.losses[k, : len(history)], history, f"config {k}")
        assert np.isnan(r.losses[k, len(history):]).all()
        assert_bits_equal(r.params_of(k), net.params, f"config {k}")


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(optimizer="adamw"), ValueError, "unknown optimizer 'adamw'; valid: sgd, adagrad, rmsprop, adam"),
    (dict(optimizer=["adam", "adam"]), ValueError, "optimizer has duplicate values"),
    (dict(optimizer=[1.0]), TypeError, "optimizer must be a name"),
    (dict(l1=-1e-3), ValueError, "l1 must be finite and >= 0"),
    (dict(l2=[0.0, float("nan")]), ValueError, "l2 must be finite"),
    (dict(dropout=1.0), ValueError, r"dropout must be finite and in \[0, 1\)"),
    (dict(dropout="0.5"), TypeError, "dropout must hold real numbers"),
])
def test_bad_axes_are_refused_before_any_work(kwargs, error, match, monkeypatch):
    for blocks in ("GeneratedBlocks", "DropoutLaneBlocks", "GeneralBlocks"):
        monkeypatch.setattr(f"fastnn.sweep_options.{blocks}.__call__", lambda *a: pytest.fail("trained"))
    with pytest.raises(error, match=match):
        fastnn.sweep([2, 3, 1], QX, QY, lr=1e-3, epochs=1, progress=False, **NET, **kwargs)


def test_dropout_needs_a_hidden_layer():
    with pytest.raises(ValueError, match="dropout: the network has no hidden layer"):
        fastnn.sweep([2, 1], QX, QY, lr=1e-3, epochs=1, dropout=[0.0, 0.5], progress=False)
