"""Training benchmarks: every (case, implementation) pair of the registry in bench/cases.py.

Timed mode (``--benchmark-enable``): the callable trains ``Case.epochs[tier]`` epochs;
``extra_info["ns_per_step"]`` is the median time per step. Smoke mode (the default): it
trains ``Case.smoke_epochs`` epochs once and the result is compared with
``fastnn.reference`` (loss history and final parameters, to the implementation's
``rtol``). In timed mode the first epochs of the history are still compared: with no
shuffling they do not depend on how many epochs follow.
"""
import importlib

import numpy as np
import pytest

from bench import cases


def _require(module):
    """Skip unless the optional module imports (a broken install counts as missing)."""
    try:
        importlib.import_module(module)
    except ImportError as error:  # ModuleNotFoundError included
        pytest.skip(f"{module} not available: {error}")


PAIRS = [(case.name, impl.name) for case, impl in cases.pairs()]


@pytest.mark.parametrize("case_name, impl_name", PAIRS, ids=[f"{c}-{i}" for c, i in PAIRS])
def test_train(benchmark, smoke, case_name, impl_name):
    case, impl = cases.CASES[case_name], cases.IMPLS[impl_name]
    for module in impl.requires:
        _require(module)
    epochs = cases.epochs_for(case, impl, smoke)
    prepared = impl.setup(case, epochs)  # build, convert, compile: not timed

    benchmark.group = case.name
    benchmark.extra_info.update(
        case=case.name,
        case_title=case.title,
        case_description=case.describe(),
        impl=impl.name,
        impl_title=impl.title,
        epochs=prepared.epochs,
        steps=prepared.steps,
    )
    benchmark(prepared.run)
    if not smoke:
        benchmark.extra_info["ns_per_step"] = benchmark.stats.stats.median / prepared.steps * 1e9

    history, params = prepared.outcome()
    assert history.shape == (epochs,)
    assert np.all(np.isfinite(history)), f"{impl.name} diverged on {case.name}"
    if impl.name == cases.REFERENCE:
        # A case whose loss does not fall measures nothing (a dead ReLU net has no gradient).
        assert history[-1] < history[0], f"{case.name} does not train: {history}"
        return
    k = min(epochs, case.smoke_epochs)
    ref_history, ref_params = cases.reference_outcome(case.name, k)
    np.testing.assert_allclose(history[:k], ref_history, rtol=impl.rtol, atol=0)
    if epochs == k:
        np.testing.assert_allclose(params, ref_params, rtol=impl.rtol, atol=impl.rtol * np.abs(ref_params).max())


def test_registry_is_consistent():
    """Every case has epochs for every tier its implementations use, and a baseline."""
    for case, impl in cases.pairs():
        assert impl.tier in cases.TIERS
        assert impl.tier in case.epochs or impl.tier == "scalar" and "reference" in case.epochs
        net = case.network()
        assert tuple(net.sizes) == case.sizes and net.activations == case.activations
        assert net.loss_name == case.loss
    for case in cases.CASES.values():
        names = [impl.name for c, impl in cases.pairs() if c is case]
        assert cases.BASELINE in names and cases.REFERENCE in names


def test_seed000_scalar_matches_handwritten_and_fastnn_to_the_bit():
    """Seed 000's scalar code (output ReLU derivative added), the hand-written kernel and
    fastnn's numba backend train seed 000's network to the same numbers (1e-12) over
    20 epochs."""
    case = cases.CASES["seed000-221"]
    outcomes = {}
    for name in ("seed-scalar", "handwritten", "numba"):
        prepared = cases.IMPLS[name].setup(case, 20)
        prepared.run()
        outcomes[name] = prepared.outcome()
    for name in ("seed-scalar", "handwritten"):
        np.testing.assert_allclose(outcomes[name][0], outcomes["numba"][0], rtol=1e-12, atol=0)
        np.testing.assert_allclose(outcomes[name][1], outcomes["numba"][1], rtol=1e-12, atol=1e-12)
