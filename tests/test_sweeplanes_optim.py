"""Sweeps with optimizers past the generated kernels' 64 parameters: the lane kernel's
optimizer mode (``kernels.sweeplanes.train_optim`` through ``sweep_options.LaneBlocks``)
trains every configuration exactly as ``Network.fit`` with the same options.

What is checked, and how (the style of tests/test_sweep_sizes.py and
tests/test_sweep_options.py):

* kernels.lanes8's arithmetic operators (which run kernels.optim's scalar rules on
  vectors) give each lane the scalar expression's bits, with vector and scalar (float,
  integer) operands, negation and square roots, zeros of both signs, infinities and NaN.
* Which path: groups of networks over 64 parameters without dropout train on
  ``LaneBlocks`` (one compiled function for every optimizer and shape); 64 parameters and
  fewer keep ``GeneratedBlocks``, dropout takes ``DropoutLaneBlocks``; the lane groups' state
  is ``first``, ``second`` only.
* Equality with ``fit``: for every configuration, a fresh ``Network`` trained alone with
  ``fit(..., optimizer, l1, l2, on_divergence="stop", backend="reference")`` (the
  pure-Python oracle, ``tests/sweep_checks.fit_alone``) gives the same loss curve, final
  and checkpoint parameters as raw float64 bits. Every optimizer rule of kernels.optim: SGD with decay, momentum,
  Nesterov (with decay), AdaGrad, RMSprop (with decay), Adam, and an Adam whose bias
  corrections settle to 1.0 within the run (the H_SETTLED shortcut); with L1 and L2 off
  and on; per sample and in mini-batches with a short last batch; shuffled; one and two
  hidden layers (the two loop orders of the lane kernel); a softmax classifier; more
  configurations than one block of 16 lanes; per-sample Adam without L1/L2 (its steps
  taken in the backward pass) over two hidden layers and both halves of a block's rows.
* Divergence: an overflowing configuration stops as fit stops, the others are unchanged.
* Blocks and threads change no bit.
* Watched sweeps (validation data, patience) on the lane optimizer kernel equal fit; a
  store interrupted by Ctrl-C and resumed equals an uninterrupted sweep.

Compile cost: the optimizer mode once (one function for every shape and optimizer);
networks are small (20-30 samples, a few epochs), so the reference fits take seconds.
"""
import numpy as np
import pytest

from numba import njit

import fastnn
from fastnn import datasets, sweep_options
from fastnn.kernels import sweeplanes, sweepgen
from fastnn.kernels.lanes8 import load8, store8
from fastnn.options import TrainOptions
from fastnn.spec import Spec

from strategies import assert_bits_equal
from sweep_checks import (assert_chunk_and_threads_change_nothing, assert_divergence_in_a_block_of_lanes,
                          assert_grid_equals_fit, assert_store_resumes)

pytestmark = pytest.mark.filterwarnings("ignore::fastnn.errors.TrainingWarning")

QX, QY = datasets.quadratic(20, seed=0)  # batch 6: 6 + 6 + 6 + 2
SX, SY = datasets.spiral(10, 3, seed=0)  # 30 samples, int labels

# Every rule of kernels.optim, by the name fastnn.sweep gives it (str of the object).
# Adam(beta1=0.5, beta2=0.6): both bias corrections reach exactly 1.0 (H_SETTLED1/2, at
# steps 55 and 75) within 4 epochs of 20 samples per sample.
OPTIMIZERS = [fastnn.SGD(decay=0.05), fastnn.SGD(momentum=0.9), fastnn.SGD(momentum=0.8, nesterov=True, decay=0.01),
              fastnn.AdaGrad(), fastnn.RMSprop(decay=0.01), fastnn.Adam(), fastnn.Adam(beta1=0.5, beta2=0.6)]

# name -> (sizes, X, y, sweep keyword arguments); each network is over 64 parameters
GRIDS = {
    # 2-16-1: 65 parameters; every optimizer x L1 x L2 x per sample / batches of 6
    "every-optimizer": ([2, 16, 1], QX, QY, dict(
        activation=["tanh", "linear"], loss="half_squared_error", init="xavier", lr=[1e-3, 2e-2], seeds=[0, 1],
        batch_size=[1, 6], optimizer=OPTIMIZERS, l1=[0.0, 1e-3], l2=[0.0, 2e-3], shuffle=True,
        checkpoints=[2])),
    # two hidden layers (the middle one narrower at its output), 18 configurations per
    # group: a block of 16 lanes and a short one
    "two-hidden": ([2, 12, 6, 2], QX, np.c_[QY, -QY] / 10, dict(
        activation=["sigmoid", "gaussian", "linear"], loss="mse", init="xavier", lr=[1e-3, 1e-2, 1e-1],
        seeds=list(range(6)), batch_size=[1, 5], optimizer=[fastnn.Adam(), fastnn.RMSprop(), fastnn.SGD(momentum=0.9)],
        l2=[1e-3], checkpoints=[1, 3])),
    # per-sample Adam without L1/L2, whose steps are taken in the backward pass
    # (sweeplanes._backward_adam): two hidden layers, 18 configurations (both halves of a
    # block's rows)
    "adam-per-sample": ([2, 12, 6, 2], QX, np.c_[QY, -QY] / 10, dict(
        activation=["tanh", "relu", "linear"], loss="mse", init="he", lr=[1e-3, 1e-2, 1e-1], seeds=list(range(6)),
        batch_size=[1], optimizer=[fastnn.Adam(), fastnn.Adam(beta1=0.5, beta2=0.6)], shuffle=True,
        checkpoints=[2])),
    # per-sample Adam without L1/L2 over one hidden layer, whose backward pass and the
    # next sample's forward pass run in one loop (sweeplanes._one_hidden_adam): ReLU (its
    # own branch there) and sigmoid hidden units, two outputs, shuffled, 24
    # configurations (a block and a short one); the last sample of each epoch takes the
    # loop without the forward pass. The same in order (the next sample's row is t + 1),
    # and with one output for two inputs and for one (the loop's literal-count copies).
    "adam-one-hidden": ([2, 20, 2], QX, np.c_[QY, -QY] / 10, dict(
        activation=["relu", "sigmoid"], loss="squared_error", init="he", lr=[1e-3, 1e-2, 1e-1], seeds=[0, 1],
        batch_size=[1], optimizer=[fastnn.Adam(), fastnn.Adam(beta1=0.5, beta2=0.6)], shuffle=True,
        checkpoints=[2])),
    "adam-one-hidden-in-order": ([2, 20, 2], QX, np.c_[QY, -QY] / 10, dict(
        activation="relu", loss="mse", init="he", lr=[1e-3, 1e-1], seeds=[0, 1], batch_size=[1],
        optimizer=[fastnn.Adam()], shuffle=False, checkpoints=[2])),
    "adam-one-hidden-one-output": ([2, 24, 1], QX, QY, dict(
        activation=["relu", "tanh"], loss="squared_error", init="he", lr=[1e-3, 1e-1], seeds=[0, 1], batch_size=[1],
        optimizer=[fastnn.Adam(), fastnn.Adam(beta1=0.5, beta2=0.6)], shuffle=True, checkpoints=[2])),
    "adam-one-hidden-one-input": ([1, 40, 1], QX[:, :1], QY, dict(
        activation="relu", loss="squared_error", init="he", lr=[1e-2], seeds=[0, 1], batch_size=[1],
        optimizer=[fastnn.Adam()], shuffle=False, checkpoints=[2])),
    # a softmax classifier in mini-batches, the output layer narrower than its input
    "softmax": ([2, 24, 3], SX, SY, dict(
        activation=["relu", "softmax"], loss="categorical_cross_entropy", init="he", lr=[1e-2, 5e-2],
        seeds=[0, 1, 2], batch_size=[8], optimizer=[fastnn.Adam(decay=1e-2), fastnn.AdaGrad(),
                                                      fastnn.SGD(momentum=0.9, nesterov=True)],
        l1=[0.0, 1e-3], shuffle=True, checkpoints=[2])),
}
EPOCHS = 4


@njit(error_model="numpy")  # the kernels' model: x / 0.0 is inf or NaN, as in the vectors
def _vector_and_scalar(a, out):
    x, y = load8(a, 0), load8(a, 8)
    store8(out, 0, -x * y + 3 / (np.sqrt(y) + 1e-7) - x / 2)
    store8(out, 8, (x - 0.5) * (2.0 - y) / x)
    for c in range(8):
        s, t = a[c], a[8 + c]
        out[16 + c] = -s * t + 3 / (np.sqrt(t) + 1e-7) - s / 2
        out[24 + c] = (s - 0.5) * (2.0 - t) / s


def test_lanes8_operators_equal_the_scalar_expression():
    rng = np.random.default_rng(0)
    a = np.concatenate([rng.normal(size=8), np.abs(rng.normal(size=8))])
    a[[0, 1, 2, 3]] = [0.0, -0.0, np.inf, np.nan]
    a[[8, 9]] = [0.0, np.inf]
    out = np.zeros(32)
    with np.errstate(all="ignore"):
        _vector_and_scalar(a, out)
    assert_bits_equal(out[:16], out[16:], "vector against scalar")


def _options(optimizer="adam", dropout=0.0, sizes=(2, 16, 1)):
    spec = Spec.build(list(sizes), "tanh", "squared_error", True)
    return spec, TrainOptions.build(spec, optimizer, l2=1e-3, dropout=dropout)


def test_groups_past_64_parameters_train_on_the_lane_kernel():
    seeds = np.arange(3, dtype=np.uint64)
    spec, options = _options()
    assert not sweepgen.supports(spec) and sweep_options.vectorised(spec, options)
    state = sweep_options.initial_state(spec, options, seeds)
    assert set(state) == {"first", "second"} and state["first"].shape == (spec.n_params, 3)
    blocks = sweep_options.blocks_on(spec, options, state)
    assert isinstance(blocks, sweep_options.LaneBlocks)
    assert blocks.kernel.py_func is sweeplanes.train_optim.py_func
    # one compiled function for every optimizer
    assert sweep_options.load(spec, TrainOptions.build(spec, fastnn.RMSprop())) is blocks.kernel
    small, options = _options(sizes=(2, 15, 1))  # 61 parameters: the generated kernel
    assert type(sweep_options.blocks(small, options, seeds)) is sweep_options.GeneratedBlocks
    spec, options = _options(dropout=0.25)  # dropout: the lane kernel's dropout mode
    assert sweep_options.vectorised(spec, options)
    assert isinstance(sweep_options.blocks(spec, options, seeds), sweep_options.DropoutLaneBlocks)


@pytest.mark.parametrize("name", list(GRIDS))
def test_every_configuration_equals_fit(name):
    assert_grid_equals_fit(GRIDS[name], sweep_options.LaneBlocks, EPOCHS)


def test_divergence_in_a_block_of_lanes():
    assert_divergence_in_a_block_of_lanes(EPOCHS, l2=[1e-3])


@pytest.mark.parametrize("chunk, threads", [(5, 2), (16, 3), (40, 1)])
def test_blocks_and_threads_change_nothing(chunk, threads):
    assert_chunk_and_threads_change_nothing(GRIDS["softmax"], chunk, threads)


def test_watched_sweep_equals_fit():
    """Validation data and patience: the watched path trains one epoch per kernel call with
    the lanes' optimizer state gathered and carried (sweep_monitor), as fit does."""
    from test_sweep_watch import GENERIC, assert_config_equals_fit

    case, epochs = GENERIC, 12
    result = fastnn.sweep(case["sizes"], case["X"], case["y"], lr=[0.05, 0.5], seeds=[1, 2], batch_size=[1, 7],
                          epochs=epochs, optimizer="adam", l2=1e-3, validation_data=(case["Xv"], case["yv"]),
                          patience=2, chunk=3, threads=2, progress=False, **case["kw"])
    assert isinstance(sweep_options.blocks(result.groups[0].spec, result.groups[0].options, np.zeros(1, np.uint64)),
                      sweep_options.LaneBlocks)
    assert (result.stopped_epoch >= 0).any(), "some configuration should stop early here"
    for k in range(len(result.configs)):
        assert_config_equals_fit(case, result, k, epochs, optimizer="adam", l2=1e-3, patience=2,
                                 validation_data=(case["Xv"], case["yv"]), backend="reference")


def test_store_interrupted_and_resumed(tmp_path, monkeypatch):
    assert_store_resumes(GRIDS["softmax"], tmp_path / "store", monkeypatch)
