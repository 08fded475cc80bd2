"""Sweeps with dropout: the lane kernel's dropout mode (``kernels.sweeplanes.train_dropout``
through ``sweep_options.DropoutLaneBlocks``) trains every configuration, of any network,
exactly as its own ``Network.fit(..., dropout=...)``.

What is checked (the pattern of tests/test_sweeplanes_optim.py):

* Which path: every group with dropout, small (2-3-1) or past 64 parameters, trains on
  ``DropoutLaneBlocks``; its state is ``first``, ``second`` and ``dropout`` (each
  configuration's stream base, ``RunState.dropout_base`` of its seed).
* Equality with ``fit`` on the pure-Python reference (the oracle), loss curves, final and checkpoint parameters
  as raw bits: plain SGD, SGD with momentum and decay, Adam, RMSprop; with and without
  L2; per sample and in mini-batches with a short last batch; shuffled and in order; one
  and two hidden layers; a softmax classifier past 64 parameters; blocks of 16 lanes and
  a short one.
* Per-layer rates (one layer at rate 0, which draws nothing) through the blocks directly,
  the epochs in slices (the draws are numbered by samples seen, e * n + position).
* Divergence: an overflowing configuration stops as fit stops; the others unchanged.
* Blocks and threads change no bit; a watched sweep (one epoch per kernel call, the state
  gathered by sweep_monitor) equals fit.
"""
import numpy as np
import pytest

import fastnn
from fastnn import datasets, sweep_options
from fastnn.kernels import sweeplanes
from fastnn.options import RunState, TrainOptions
from fastnn.spec import DROPOUT_SALT, Spec

from strategies import assert_bits_equal
from sweep_checks import (assert_chunk_and_threads_change_nothing, assert_divergence_in_a_block_of_lanes,
                          assert_grid_equals_fit, assert_store_resumes)

pytestmark = pytest.mark.filterwarnings("ignore::fastnn.errors.TrainingWarning")

QX, QY = datasets.quadratic(20, seed=0)  # batch 6: 6 + 6 + 6 + 2
SX, SY = datasets.spiral(10, 3, seed=0)  # 30 samples, int labels
EPOCHS = 4

GRIDS = {
    # 2-3-1, 13 parameters (a generated kernel's size without dropout)
    "small": ([2, 3, 1], QX, QY, dict(
        activation=["tanh", "linear"], loss="half_squared_error", init="xavier", lr=[2e-2], seeds=[0, 1],
        batch_size=[1, 6], optimizer=["sgd", fastnn.Adam(), fastnn.SGD(momentum=0.9, decay=0.01)], l2=[0.0, 1e-3],
        dropout=[0.3], shuffle=True, checkpoints=[2])),
    # two hidden layers, 18 configurations per group (a block of 16 lanes and a short one), in order
    "two-hidden": ([2, 12, 6, 2], QX, np.c_[QY, -QY] / 10, dict(
        activation=["sigmoid", "gaussian", "linear"], loss="mse", init="xavier", lr=[1e-2, 1e-1],
        seeds=list(range(9)), batch_size=[1, 5], optimizer=[fastnn.Adam(), fastnn.RMSprop()], dropout=[0.2],
        checkpoints=[1, 3])),
    # a softmax classifier past 64 parameters in mini-batches
    "softmax": ([2, 24, 3], SX, SY, dict(
        activation=["relu", "softmax"], loss="categorical_cross_entropy", init="he", lr=[1e-2, 5e-2], seeds=[0, 1, 2],
        batch_size=[8], optimizer=[fastnn.Adam(decay=1e-2), fastnn.SGD(momentum=0.9, nesterov=True)],
        dropout=[0.1, 0.5], shuffle=True, checkpoints=[2])),
}


def test_dropout_groups_train_on_the_lane_kernel():
    seeds = np.array([0, 7, 2**63 + 5], dtype=np.uint64)
    for sizes in ([2, 3, 1], [2, 16, 1]):
        spec = Spec.build(sizes, "tanh", "squared_error", True)
        options = TrainOptions.build(spec, "adam", l2=1e-3, dropout=0.25)
        assert sweep_options.vectorised(spec, options)
        state = sweep_options.initial_state(spec, options, seeds)
        assert set(state) == {"first", "second", "dropout"} and state["first"].shape == (spec.n_params, 3)
        assert state["dropout"].dtype == np.uint64
        assert [int(b) for b in state["dropout"]] == [(int(s) ^ DROPOUT_SALT) & (2**64 - 1) for s in seeds]
        assert [int(b) for b in state["dropout"]] == [RunState(options.optimizer, 0, int(s)).dropout_base
                                                      for s in seeds]
        blocks = sweep_options.blocks_on(spec, options, state)
        assert isinstance(blocks, sweep_options.DropoutLaneBlocks)
        assert blocks.kernel.py_func is sweeplanes.train_dropout.py_func
        assert_bits_equal(blocks.rates, options.dropout_rates(spec), "rates")
    # without dropout nothing changes
    options = TrainOptions.build(spec, "adam")
    assert type(sweep_options.blocks(spec, options, seeds)) is sweep_options.LaneBlocks


@pytest.mark.parametrize("name", list(GRIDS))
def test_every_configuration_equals_fit(name):
    assert_grid_equals_fit(GRIDS[name], sweep_options.DropoutLaneBlocks, EPOCHS)


def _train_blocks(spec, options, X, Y, P, seeds, lrs, batch_size, shuffle, slices, ckpt_epochs, chunk):
    """The blocks' sweep-kernel contract called directly, epochs in ``slices``."""
    K = P.shape[1]
    state = sweep_options.initial_state(spec, options, seeds)
    blocks = sweep_options.blocks_on(spec, options, state)
    states = seeds.copy()
    losses = np.full((K, slices[-1][1]), np.nan)
    diverged = np.full(K, -1, dtype=np.int64)
    ckpt_epochs = np.array(ckpt_epochs, dtype=np.int64)
    ckpt = np.zeros((len(ckpt_epochs), spec.n_params, K))
    for e0, e1 in slices:
        for k0 in range(0, K, chunk):
            blocks(P, X, Y, lrs, batch_size, shuffle, states, e0, e1, losses, diverged, ckpt_epochs, ckpt, k0,
                   min(k0 + chunk, K), spec.layout())
    return P, losses, diverged, ckpt


@pytest.mark.parametrize("rates", [[0.0, 0.4], [0.3, 0.0], [0.2, 0.6]])
def test_per_layer_rates_in_slices_of_epochs(rates):
    sizes, activation = [2, 5, 4, 1], ["relu", "tanh", "linear"]
    spec = Spec.build(sizes, activation, "squared_error", True)
    X, Y = np.ascontiguousarray(QX, dtype=np.float64), np.ascontiguousarray(QY.reshape(-1, 1), dtype=np.float64)
    for optimizer, batch_size in (("sgd", 1), (fastnn.Adam(), 6)):
        options = TrainOptions.build(spec, optimizer, dropout=rates)
        seeds = np.arange(5, dtype=np.uint64)
        lrs = np.array([1e-3, 5e-3, 1e-2, 2e-2, 5e-3])
        P0 = np.stack([fastnn.Network(sizes, activation, "squared_error", seed=int(s)).params for s in seeds], axis=1)
        whole = _train_blocks(spec, options, X, Y, P0.copy(), seeds, lrs, batch_size, True, [(0, 4)], [1], 16)
        sliced = _train_blocks(spec, options, X, Y, P0.copy(), seeds, lrs, batch_size, True, [(0, 1), (1, 3), (3, 4)],
                               [1], 2)
        for a, b in zip(whole, sliced):
            assert_bits_equal(a, b, "whole against sliced")
        P, losses, diverged, ckpt = whole
        assert (diverged == -1).all()
        for k, seed in enumerate(seeds):
            for epochs, params in ((4, P[:, k]), (2, ckpt[0, :, k])):
                net = fastnn.Network(sizes, activation, "squared_error", seed=int(seed))
                history = net.fit(X, Y, lr=float(lrs[k]), epochs=epochs, batch_size=batch_size, shuffle=True,
                                  optimizer=optimizer, dropout=rates, backend="reference")
                assert_bits_equal(params, net.params, f"{optimizer} config {k} after {epochs} epochs")
                assert_bits_equal(losses[k, :epochs], np.asarray(history), f"{optimizer} config {k} losses")


def test_divergence_in_a_block_of_lanes():
    assert_divergence_in_a_block_of_lanes(EPOCHS, dropout=[0.25])


@pytest.mark.parametrize("chunk, threads", [(5, 2), (40, 1)])
def test_blocks_and_threads_change_nothing(chunk, threads):
    assert_chunk_and_threads_change_nothing(GRIDS["two-hidden"], chunk, threads, reference_chunk=64)


def test_watched_sweep_equals_fit():
    """Validation data and patience: one epoch per kernel call, the lanes' state gathered
    and carried by sweep_monitor, as fit does."""
    from test_sweep_watch import GENERIC, assert_config_equals_fit

    case, epochs = GENERIC, 8
    result = fastnn.sweep(case["sizes"], case["X"], case["y"], lr=[0.05, 0.5], seeds=[1, 2], batch_size=[1, 7],
                          epochs=epochs, optimizer="adam", dropout=0.2, validation_data=(case["Xv"], case["yv"]),
                          patience=2, chunk=3, threads=2, progress=False, **case["kw"])
    assert isinstance(sweep_options.blocks(result.groups[0].spec, result.groups[0].options, np.zeros(1, np.uint64)),
                      sweep_options.DropoutLaneBlocks)
    for k in range(len(result.configs)):
        assert_config_equals_fit(case, result, k, epochs, optimizer="adam", dropout=0.2, patience=2,
                                 validation_data=(case["Xv"], case["yv"]), backend="reference")


@pytest.mark.parametrize("watched", [False, True])
def test_store_interrupted_and_resumed(tmp_path, monkeypatch, watched):
    """A store interrupted by Ctrl-C and resumed equals an uninterrupted sweep (watched:
    the lanes' state, dropout bases included, saved and loaded between epochs)."""
    from sweep_checks import VX, VY

    extra = dict(validation_data=(VX, VY), patience=2) if watched else {}
    assert_store_resumes(GRIDS["small"], tmp_path / "store", monkeypatch, **extra)
