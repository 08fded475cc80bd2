"""Grids and a bit-for-bit comparison of two sweeps, shared by tests/test_store.py and
tests/test_distributed.py.

The grids reuse the shapes of tests/test_sweep.py and tests/test_sweep_options.py (so that
numba's disk cache is warm): 2-2-1 tanh/linear and the generic 2-40-1 with shuffling,
mini-batches, divergence (lr up to 1e10) and checkpoints; 2-3-1 tanh over an optimizer axis,
L2 and dropout (both the vectorised and the one-at-a-time options kernels).
"""
import importlib

import numpy as np
import pytest

import fastnn
from fastnn import datasets

from strategies import assert_bits_equal

QX, QY = datasets.quadratic(20, seed=0)

# 144 configurations in 4 groups of 36 (tests/test_sweep.py's THREAD_GRID).
PLAIN = dict(sizes=[2, 2, 1], lr=list(np.geomspace(1e-3, 1e10, 6)), seeds=list(range(6)), hidden=[2, 40],
             batch_size=[1, 5], epochs=6, shuffle=True, checkpoints=[2, 5], activation=["tanh", "linear"],
             loss="half_squared_error", init="he")
# 96 configurations in 24 groups of 4 (tests/test_sweep_options.py's GRID, one l2 value fewer).
OPTIONS = dict(sizes=[2, 3, 1], lr=[1e-3, 3e-2], seeds=[0, 1], batch_size=[1, 6], epochs=4, shuffle=True,
               checkpoints=[2], optimizer=["sgd", fastnn.Adam(beta1=0.8), fastnn.SGD(momentum=0.9, nesterov=True)],
               l2=[0.0, 1e-3], dropout=[0.0, 0.25], activation="tanh", loss="half_squared_error")
GRIDS = {"plain": PLAIN, "options": OPTIONS}
# PLAIN watched: validation data, patience and halving (rungs after 2, 4 and 8 epochs).
VX, VY = datasets.quadratic(8, seed=1)
WATCHED = dict(PLAIN, epochs=9, validation_data=(VX, VY), patience=3, halving=fastnn.Halving(eta=2, first_rung=2))


def run(grid, X=QX, Y=QY, **extra):
    """fastnn.sweep of one of GRIDS (progress off)."""
    kwargs = {key: value for key, value in grid.items() if key != "sizes"}
    return fastnn.sweep(grid["sizes"], X, Y, **{"progress": False, **kwargs, **extra})


def assert_same_sweep(a, b, what):
    """Two sweeps of the same grid gave the same numbers, bit for bit (stuck included)."""
    assert a.configs.dtype == b.configs.dtype and np.array_equal(a.configs, b.configs), what
    assert_bits_equal(a.losses, b.losses, f"{what}: losses")
    assert np.array_equal(a.diverged_epoch, b.diverged_epoch), f"{what}: diverged_epoch"
    assert np.array_equal(a.stuck, b.stuck), f"{what}: stuck"
    assert a.checkpoints == b.checkpoints, what
    assert len(a.groups) == len(b.groups), what
    for g, (ga, gb) in enumerate(zip(a.groups, b.groups)):
        assert (ga.hidden, ga.batch_size, ga.spec, ga.options) == (gb.hidden, gb.batch_size, gb.spec, gb.options), \
            f"{what}: group {g}"
        assert np.array_equal(ga.indices, gb.indices), f"{what}: group {g} indices"
        assert_bits_equal(ga.params, gb.params, f"{what}: group {g} params")
        assert_bits_equal(ga.checkpoint_params, gb.checkpoint_params, f"{what}: group {g} checkpoint params")


def assert_same_watch(a, b, what):
    """Two watched sweeps of the same grid gave the same numbers, bit for bit."""
    assert_same_sweep(a, b, what)
    for name in ("val_losses", "val_accuracy", "best_epoch", "stopped_epoch", "pruned_epoch"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None), f"{what}: {name}"
        if x is not None:
            assert_bits_equal(x, y, f"{what}: {name}")


def interrupt_after(monkeypatch, n):
    """Ctrl-C (KeyboardInterrupt) in the caller's thread once n blocks (or tasks) are
    finished: the sweep's progress callback raises it."""
    sweep_module = importlib.import_module("fastnn.sweep")
    real = sweep_module._Progress.advance
    seen = []

    def advance(self, amount, expected_total):
        real(self, amount, expected_total)
        seen.append(amount)
        if len(seen) == n:
            raise KeyboardInterrupt

    monkeypatch.setattr(sweep_module._Progress, "advance", advance)


def fit_alone(sizes, X, y, row, epochs, kwargs, shuffle=None):
    """(params, history) of sweep configuration ``row`` (a row of ``configs``) trained
    alone by fit on the pure-Python reference (the oracle); ``kwargs``: the sweep's network
    and optimizer arguments; ``shuffle``: kwargs' (default False) unless given."""
    net = fastnn.Network(sizes, kwargs["activation"], kwargs["loss"], kwargs.get("bias", True), init=kwargs["init"],
                         seed=int(row["seed"]))
    optimizers = {str(opt): opt for opt in kwargs.get("optimizer", ["sgd"])}
    history = net.fit(X, y, lr=float(row["lr"]), epochs=epochs, batch_size=int(row["batch_size"]),
                      shuffle=kwargs.get("shuffle", False) if shuffle is None else shuffle,
                      optimizer=optimizers.get(str(row["optimizer"]), "sgd"), l1=float(row["l1"]),
                      l2=float(row["l2"]), dropout=float(row["dropout"]), on_divergence="stop",
                      backend="reference")
    return net.params.copy(), np.asarray(history)


def assert_matches_fit(result, sizes, X, y, kwargs, epochs, shuffle=None):
    """Every configuration of ``result`` equals its own fit (``fit_alone``), bit for bit:
    its losses, divergence epoch, final parameters and the checkpoints it reached."""
    for k, row in enumerate(result.configs):
        where = f"config {k} {row}"
        params, history = fit_alone(sizes, X, y, row, epochs, kwargs, shuffle)
        done = len(history)
        assert result.diverged_epoch[k] == (done if done < epochs else -1), where
        assert_bits_equal(result.losses[k, :done], history, f"{where}: losses")
        assert np.isnan(result.losses[k, done:]).all(), where
        assert_bits_equal(result.params_of(k), params, f"{where}: final params")
        for c in result.checkpoints:
            if result.diverged_epoch[k] < 0 or result.diverged_epoch[k] >= c:
                params_c, _ = fit_alone(sizes, X, y, row, c, kwargs, shuffle)
                assert_bits_equal(result.params_of(k, checkpoint=c), params_c, f"{where}: checkpoint {c}")


def assert_others_unchanged(result, sane, diverging):
    """The configurations of ``result`` that did not diverge (``diverging``: bool (K,)
    marks those that did) equal the sweep ``sane`` of only them, bit for bit: a lane
    that diverges changes nothing for the others of its block."""
    rows = np.flatnonzero(~diverging)
    assert_bits_equal(result.losses[rows], sane.losses, "losses beside the diverged configurations")
    for i, k in enumerate(rows):
        assert_bits_equal(result.params_of(k), sane.params_of(i), f"config {k}")


# The lane kernels' optimizer and dropout modes share these checks (tests/test_sweeplanes_optim.py,
# tests/test_sweeplanes_dropout.py); ``case`` is one of their GRIDS: (sizes, X, y, kwargs).


def assert_grid_equals_fit(case, blocks_class, epochs):
    """The sweep of ``case`` trains every group on ``blocks_class`` (a sweep_options
    blocks class), nothing diverges, and each configuration equals its own fit."""
    from fastnn import sweep_options

    sizes, X, y, kwargs = case
    result = fastnn.sweep(sizes, X, y, epochs=epochs, progress=False, **kwargs)
    assert not result.diverged.any()
    assert {type(sweep_options.blocks(g.spec, g.options, np.zeros(1, dtype=np.uint64))) for g in result.groups} == {
        blocks_class}
    assert_matches_fit(result, sizes, X, y, kwargs, epochs)


def assert_divergence_in_a_block_of_lanes(epochs, **extra):
    """A 2-30-1 grid (activations, batch sizes, Adam and momentum, checkpoints, plus
    ``extra`` axes) with one diverging lr: exactly those configurations diverge, each
    configuration equals its own fit, and the others equal a sweep without them."""
    sizes = [2, 30, 1]
    grid = dict(activation=["tanh", "linear"], loss="half_squared_error", init="he", seeds=[0, 1, 2],
                batch_size=[1, 5], optimizer=[fastnn.Adam(), fastnn.SGD(momentum=0.9)], checkpoints=[1, 3], **extra)
    result = fastnn.sweep(sizes, QX, QY, lr=[1e-3, 1e200], epochs=4, progress=False, **grid)
    huge = result.configs["lr"] == 1e200
    assert result.diverged[huge].all() and not result.diverged[~huge].any()
    assert_matches_fit(result, sizes, QX, QY, grid, epochs)
    sane = fastnn.sweep(sizes, QX, QY, lr=[1e-3], epochs=4, progress=False, **grid)
    assert_others_unchanged(result, sane, huge)


def assert_chunk_and_threads_change_nothing(case, chunk, threads, reference_chunk=None):
    """3 epochs of ``case`` with ``chunk`` and ``threads`` equal a one-thread sweep (in
    blocks of ``reference_chunk``; None: the default), bit for bit."""
    sizes, X, y, kwargs = case
    grid = dict(kwargs, epochs=3, progress=False)
    reference = fastnn.sweep(sizes, X, y, threads=1, **({} if reference_chunk is None else {"chunk": reference_chunk}),
                             **grid)
    result = fastnn.sweep(sizes, X, y, chunk=chunk, threads=threads, **grid)
    assert_same_sweep(result, reference, f"chunk={chunk}, threads={threads}")


def assert_store_resumes(case, folder, monkeypatch, **extra):
    """A sweep of ``case`` (3 epochs, chunks of 4, 2 threads, plus ``extra``) into the store
    ``folder``, stopped by Ctrl-C after 3 blocks and started again, equals an
    uninterrupted sweep, bit for bit."""
    sizes, X, y, kwargs = case
    grid = dict(kwargs, epochs=3, progress=False, chunk=4, threads=2, **extra)
    reference = fastnn.sweep(sizes, X, y, **dict(grid, chunk=64))
    with monkeypatch.context() as patch:
        interrupt_after(patch, 3)
        with pytest.raises(KeyboardInterrupt):
            fastnn.sweep(sizes, X, y, store=folder, **grid)
    resumed = fastnn.sweep(sizes, X, y, store=folder, **grid)
    assert_same_sweep(resumed, reference, "resumed store")
