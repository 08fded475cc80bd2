"""Sweeps of networks past the generated kernels' 64 parameters: the shape-generic lane
kernel (``kernels.sweeplanes``) trains every configuration exactly as ``Network.fit``.

What is checked, and how (the style of tests/test_sweep.py):

* Equality with ``fit``: for every configuration k of each grid, a fresh ``Network``
  trained alone with ``fit(X, y, lr, epochs, batch_size, shuffle, on_divergence="stop")``
  gives the same loss curve, final parameters and checkpoint parameters, as raw float64
  bits. fit runs on the pure-Python reference (the oracle, ``tests/sweep_checks.fit_alone``).
  The grids cover per-sample and mini-batch SGD (with a short last batch), shuffle on and
  off, ReLU, tanh, sigmoid,
  softmax and linear outputs with each loss path of the kernel (squared errors, softmax
  with categorical cross-entropy and sigmoid with binary cross-entropy in lane rows; mean
  absolute error per lane), layers wider at the input and at the output (the two loop
  orders), a network with two hidden layers, no biases, and more configurations than one
  block of lanes (a short last block).
* Divergence in a block of lanes: an overflowing configuration stops as ``fit`` stops and
  leaves the others alone.
* Blocks and threads: ``chunk`` and ``threads`` change no bit.
* Which kernel: networks over 64 parameters train on ``sweeplanes.train``.

Compile cost: one compile of the lane kernel (one signature, shared with tests/test_sweep.py's
bigger networks); every network here is small (20-30 samples, a few epochs), so the
reference fits take seconds.
"""
import importlib

import numpy as np
import pytest

import fastnn
from fastnn import datasets
from fastnn.kernels import sweeplanes, sweepgen

from sweep_checks import assert_matches_fit, assert_others_unchanged, assert_same_sweep

sweep_module = importlib.import_module("fastnn.sweep")
# dead ReLUs in a few configurations, classes in order: not what is tested here
pytestmark = pytest.mark.filterwarnings("ignore::fastnn.errors.TrainingWarning")

QX, QY = datasets.quadratic(20, seed=0)  # batch 6: 6 + 6 + 6 + 2
SX, SY = datasets.spiral(10, 3, seed=0)  # 30 samples, int labels
BX, BY = QX, (QY > np.median(QY)).astype(np.float64)  # binary targets

# 3 learning rates x 6 seeds = 18 configurations per group: a block of 16 lanes and a short
# block of 2 (the kernel repeats its last configuration in the unused lanes).
SEEDS = list(range(6))

# name -> (sizes, X, y, sweep keyword arguments)
GRIDS = {
    # 2-16-1: 65 parameters, the smallest network past the generated kernels
    "relu-squared-error": ([2, 16, 1], QX, QY, dict(
        activation="relu", loss="squared_error", init="he", lr=[1e-4, 1e-3, 4e-3], batch_size=[1, 6],
        checkpoints=[2])),
    "tanh-output-half-squared-error": ([2, 20, 1], QX, QY / 10, dict(
        activation=["relu", "tanh"], loss="half_squared_error", init="xavier", lr=[1e-3, 1e-2, 1e-1],
        batch_size=[1, 7])),
    "sigmoid-bce": ([2, 24, 1], BX, BY, dict(
        activation=["tanh", "sigmoid"], loss="binary_cross_entropy", init="xavier", lr=[1e-2, 1e-1, 1.0],
        batch_size=[1, 6])),
    # 2-24-3: the output layer is narrower than its input (units outer, inputs inner)
    "softmax-cce": ([2, 24, 3], SX, SY, dict(
        activation=["relu", "softmax"], loss="categorical_cross_entropy", init="he", lr=[1e-2, 5e-2, 0.2],
        batch_size=[1, 8], checkpoints=[1, 3])),
    # two hidden layers, the middle one narrower at its output; mse; a gaussian layer
    "two-hidden-mse": ([2, 12, 6, 2], QX, np.c_[QY, -QY] / 10, dict(
        activation=["sigmoid", "gaussian", "linear"], loss="mse", init="xavier", lr=[1e-3, 1e-2, 1e-1],
        batch_size=[1, 5])),
    # mean absolute error (generic's per-lane helpers), no biases
    "mae-no-bias": ([2, 40, 1], QX, QY, dict(
        activation=["relu", "linear"], loss="mean_absolute_error", bias=False, init="he", lr=[1e-3, 1e-2, 1e-1],
        batch_size=[1, 20])),
}
EPOCHS = 3


def test_grids_use_the_lane_kernel():
    """Every grid's network is past the generated kernels, so sweeplanes trains it; 64
    parameters and fewer keep the generated kernels."""
    for name, (sizes, _, _, kwargs) in GRIDS.items():
        spec = fastnn.spec.Spec.build(sizes, kwargs["activation"], kwargs["loss"], kwargs.get("bias", True))
        assert not sweepgen.supports(spec), name
        kernel = sweep_module._kernel(spec, 1, False)
        assert kernel.py_func is sweeplanes.train.py_func, name
    small = fastnn.spec.Spec.build([2, 15, 1], "relu", "squared_error")  # 61 parameters
    assert sweepgen.supports(small)


@pytest.mark.parametrize("shuffle", [False, True], ids=["in-order", "shuffled"])
@pytest.mark.parametrize("name", list(GRIDS))
def test_every_configuration_equals_fit(name, shuffle):
    sizes, X, y, kwargs = GRIDS[name]
    result = fastnn.sweep(sizes, X, y, seeds=SEEDS, epochs=EPOCHS, shuffle=shuffle, progress=False, **kwargs)
    assert len(result.configs) == len(kwargs["lr"]) * len(SEEDS) * len(kwargs["batch_size"])
    assert not result.diverged.any() and result.stuck.mean() < 0.25  # (a dead ReLU start or two)
    assert_matches_fit(result, sizes, X, y, kwargs, EPOCHS, shuffle)


# lr 1e10 overflows in epoch 0 (per sample) or later (batches); 1e-3 trains on.
DIVERGING = dict(activation=["tanh", "linear"], loss="half_squared_error", init="he", lr=[1e-3, 1e10],
                 batch_size=[1, 5], checkpoints=[1, 3])


def test_divergence_in_a_block_of_lanes():
    sizes = [2, 30, 1]
    result = fastnn.sweep(sizes, QX, QY, seeds=SEEDS, epochs=4, progress=False, **DIVERGING)
    huge = result.configs["lr"] == 1e10
    assert result.diverged[huge].all() and not result.diverged[~huge].any()
    assert_matches_fit(result, sizes, QX, QY, DIVERGING, shuffle=False, epochs=4)
    sane = fastnn.sweep(sizes, QX, QY, seeds=SEEDS, epochs=4, progress=False, **{**DIVERGING, "lr": [1e-3]})
    assert_others_unchanged(result, sane, huge)


@pytest.mark.parametrize("chunk, threads", [(5, 2), (16, 3), (40, 1)])
def test_blocks_and_threads_change_nothing(chunk, threads):
    sizes, X, y, kwargs = GRIDS["softmax-cce"]
    grid = dict(kwargs, seeds=SEEDS, epochs=3, shuffle=True, progress=False)
    reference = fastnn.sweep(sizes, X, y, threads=1, **grid)
    result = fastnn.sweep(sizes, X, y, chunk=chunk, threads=threads, **grid)
    assert_same_sweep(result, reference, f"chunk={chunk}, threads={threads}")


def test_arrays_of_compiled_code_start_on_cache_lines():
    """np.empty in compiled code starts on a 64-byte boundary (compiler's
    _align_arrays_to_cache_lines), so a row of 8 doubles never straddles two cache lines
    and the kernels' speed does not depend on where the allocator put their work arrays."""
    import numba

    import fastnn.kernels.compiler  # noqa: F401  (sets the alignment)

    @numba.njit
    def addresses(sizes):
        out = np.empty(len(sizes), dtype=np.int64)
        for i in range(len(sizes)):
            out[i] = np.empty(sizes[i]).ctypes.data
        return out

    assert (addresses(np.arange(1, 40, dtype=np.int64)) % 64 == 0).all()
