"""Sweep benchmarks: many configurations of one network, trained together.

The case (the issue's): seed 000's 2-2-1 ReLU network with squared error
(``fastnn.seeds.seed000_network()``'s spec), He-initialised from each configuration's seed,
on ``datasets.quadratic(100, seed=0)``, per-sample SGD without shuffling; the grid is
64 learning rates (``np.geomspace(1e-4, 1e-2, 64)``) x 16 init seeds = 1,024
configurations, configuration k = (LRS[k // 16], seed k % 16) as ``fastnn.sweep`` orders
them. A *configuration-step* is one sample's forward pass, backward pass and update for
one configuration, so a call trains ``configs * epochs * samples`` of them.

Implementations, each timed on the whole grid unless said otherwise:

* ``sweep``: ``fastnn.sweep`` with its default threads (all cores);
* ``sweep-1thread``: the same with ``threads=1``;
* ``fit-loop``: a Python loop of ``Network.fit`` calls (backend numba), one per
  configuration, on a subset of FIT_SUBSET configurations spread over the grid (one per
  learning rate, the seeds cycling); its time per configuration-step scales to the grid.
  The networks are built before timing, and each call resets its network's initial
  parameters, as ``fastnn.compare.fastnn_impl`` does for the training benchmarks;
* ``jax``: ``fastnn.compare.jax_impl.prepare_sweep``, ``jit(vmap(train))`` of a
  ``lax.scan`` over epochs of a ``lax.scan`` over samples, learning rates and initial
  parameters vmapped, float64 (skipped when JAX is not installed).

Compilation (numba's kernels or their cache, JAX's trace and XLA compile) happens before
timing; its seconds go to ``extra_info["compile_s"]``. Timed mode
(``--benchmark-enable``) trains TIMED_EPOCHS epochs per call and records
``extra_info["ns_per_config_step"]`` (the median); ``bench/report.py`` turns them into
RESULTS.md's "Sweeps" section with the issue's targets (<= 1.5 ns per
configuration-step; >= 10x faster than JAX). Smoke mode (the default) runs a small grid
(SMOKE_LRS x 16 seeds, SMOKE_EPOCHS epochs) once and checks the numbers: the sweep's loss
curves and parameters equal ``fit``'s bit for bit, JAX's losses agree to 1e-9 relative.
"""
from __future__ import annotations

import importlib
import time
import tracemalloc
from dataclasses import dataclass
from functools import lru_cache

import numba
import numpy as np
import pytest

import fastnn
from bench import cases
from fastnn import datasets, seeds
from fastnn.sweep import sweep

LRS = np.geomspace(1e-4, 1e-2, 64)
SEEDS = tuple(range(16))
INIT = "he"
TIMED_EPOCHS = 200
SMOKE_LRS = LRS[::8]  # 8 learning rates x 16 seeds = 128 configurations: two blocks of 64
SMOKE_EPOCHS = 2
FIT_SUBSET = 64  # configurations the fit loop times (it scales per configuration-step)
JAX_RTOL = 1e-9
GROUP = "sweep-seed000-221"

BASE = cases.CASES["seed000-221"]  # its network (for the spec) and data; not its lr


@dataclass(frozen=True)
class Grid:
    """Learning rates x seeds, in fastnn.sweep's order (learning rate major)."""

    lrs: tuple
    seeds: tuple
    epochs: int

    @property
    def K(self):
        return len(self.lrs) * len(self.seeds)

    def lr(self, k):
        return self.lrs[k // len(self.seeds)]

    def seed(self, k):
        return self.seeds[k % len(self.seeds)]

    def checked(self):
        """Configurations compared bit for bit with fit: both ends, both blocks, a few lanes."""
        K = self.K
        return sorted({0, 1, 17, 63 % K, 64 % K, K // 2 + 3, K - 1})

    def fit_subset(self, n):
        """n configurations spread over the grid: learning rates evenly, seeds cycling."""
        n_lr, n_seed = len(self.lrs), len(self.seeds)
        rows = np.unique(np.linspace(0, n_lr - 1, min(n, n_lr)).round().astype(int))
        return [int(r) * n_seed + i % n_seed for i, r in enumerate(rows)]

    def describe(self):
        return (f"{len(self.lrs)} learning rates (geomspace {min(self.lrs):g}..{max(self.lrs):g}) x "
                f"{len(self.seeds)} {INIT} init seeds = {self.K:,} configurations, {self.epochs} epochs")


def grid_for(smoke):
    if smoke:
        return Grid(tuple(SMOKE_LRS.tolist()), SEEDS, SMOKE_EPOCHS)
    return Grid(tuple(LRS.tolist()), SEEDS, TIMED_EPOCHS)


def _spec():
    net = seeds.seed000_network()
    return net.spec


def _data():
    return BASE.data()


def run_sweep(grid, threads=None):
    spec = _spec()
    X, y = _data()
    return sweep(
        list(spec.sizes), X, y, lr=list(grid.lrs), seeds=list(grid.seeds), epochs=grid.epochs,
        activation=list(spec.activations), loss=spec.loss, bias=spec.bias, init=INIT,
        progress=False, threads=threads,
    )


def new_network(grid, k):
    spec = _spec()
    return fastnn.Network(list(spec.sizes), list(spec.activations), spec.loss, spec.bias, init=INIT,
                          seed=grid.seed(k))


@lru_cache(maxsize=None)
def fit_outcome(grid, k):
    """(history, params) of configuration k trained alone by Network.fit."""
    net = new_network(grid, k)
    X, y = _data()
    history = net.fit(X, y, grid.lr(k), grid.epochs, batch_size=1, on_divergence="stop")
    return history, net.params.copy()


@lru_cache(maxsize=None)
def sweep_outcome(grid):
    """(losses (K, E), params (K, P)) of fastnn.sweep (cached, for the JAX check)."""
    result = run_sweep(grid)
    return result.losses, np.stack([result.params_of(k) for k in range(grid.K)])


def initial_params(grid):
    """(K, n_params): configuration k's He initial parameters (its seed's), as sweep draws them."""
    spec = _spec()
    by_seed = {s: spec.init_params(INIT, s) for s in grid.seeds}
    return np.stack([by_seed[grid.seed(k)] for k in range(grid.K)])


def _require(module):
    try:
        importlib.import_module(module)
    except ImportError as error:  # ModuleNotFoundError included
        pytest.skip(f"{module} not available: {error}")


# ---------------------------------------------------------------- implementations


@dataclass
class Prepared:
    run: object  # the timed callable
    configs: int  # configurations one call trains
    compile_s: float
    outcome: object  # -> {k: (history, params)} of the last call, for the configurations it trained
    extra: dict


def _prepare_sweep(grid, threads):
    def call():
        return run_sweep(grid, threads)

    first = call()  # compiles the kernel or loads it from the disk cache: not timed
    compile_s = first.compile_seconds
    # Peak Python-visible memory of one sweep (numpy arrays included; numba's own
    # allocations inside the kernel are not seen by tracemalloc: see test_sweep_memory).
    tracemalloc.start()
    try:
        call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    last, training = {}, []

    def run():
        last["result"] = call()
        training.append(last["result"].seconds)

    def outcome():
        r = last["result"]
        return {k: (r.losses[k], r.params_of(k)) for k in range(grid.K)}

    P = first.groups[0].params.shape[1]
    result_bytes = first.losses.nbytes + sum(g.params.nbytes + g.checkpoint_params.nbytes for g in first.groups)
    extra = dict(
        threads=threads or numba.config.NUMBA_NUM_THREADS,
        n_params=P,
        result_float_bytes=result_bytes,
        kxpe_bytes=8 * grid.K * (P + grid.epochs),
        tracemalloc_peak_bytes=peak,
        training_seconds=training,  # filled in by the timed calls: result.seconds of each
    )
    return Prepared(run, grid.K, compile_s, outcome, extra)


def _prepare_fit_loop(grid, smoke):
    subset = grid.fit_subset(4 if smoke else FIT_SUBSET)
    X, y = _data()
    nets = [new_network(grid, k) for k in subset]
    initial = [net.params.copy() for net in nets]
    rates = [grid.lr(k) for k in subset]
    started = time.perf_counter()
    nets[0].fit(X, y, rates[0], 1, batch_size=1, on_divergence="stop")  # compile / load numba's cache
    compile_s = time.perf_counter() - started
    last = {}

    def run():
        out = []
        for net, start, lr in zip(nets, initial, rates):
            net.params = start  # copies into the network's buffer
            out.append(net.fit(X, y, lr, grid.epochs, batch_size=1, on_divergence="stop"))
        last["histories"] = out

    def outcome():
        return {k: (h, net.params.copy()) for k, h, net in zip(subset, last["histories"], nets)}

    return Prepared(run, len(subset), compile_s, outcome, dict(subset=subset))


def _prepare_jax(grid):
    from fastnn.compare import jax_impl

    lrs = np.array([grid.lr(k) for k in range(grid.K)])
    prepared = jax_impl.prepare_sweep(BASE, grid.epochs, lrs, initial_params(grid))

    def outcome():
        losses, params = prepared.outcome()
        return {k: (losses[k], params[k]) for k in range(grid.K)}

    return Prepared(prepared.run, grid.K, prepared.warmup_seconds, outcome, {})


IMPLS = {
    "sweep": ("fastnn.sweep, default threads (all cores)", ()),
    "sweep-1thread": ("fastnn.sweep, threads=1", ()),
    "fit-loop": ("Python loop of Network.fit (backend numba), one call per configuration", ()),
    "jax": ("JAX jit(vmap(lax.scan)), float64", ("jax",)),
}


def prepare(name, grid, smoke):
    if name == "sweep":
        return _prepare_sweep(grid, None)
    if name == "sweep-1thread":
        return _prepare_sweep(grid, 1)
    if name == "fit-loop":
        return _prepare_fit_loop(grid, smoke)
    if name == "jax":
        return _prepare_jax(grid)
    raise KeyError(name)


# ---------------------------------------------------------------- the benchmark


@pytest.mark.parametrize("impl", list(IMPLS))
def test_sweep(benchmark, smoke, impl):
    title, requires = IMPLS[impl]
    for module in requires:
        _require(module)
    grid = grid_for(smoke)
    X, _ = _data()
    prepared = prepare(impl, grid, smoke)  # build, compile, warm up: not timed
    steps = prepared.configs * grid.epochs * len(X)

    benchmark.group = GROUP
    benchmark.extra_info.update(
        sweep=GROUP,
        sweep_description=f"seed 000's 2-2-1 ReLU network, squared error, per-sample SGD, {len(X)} samples; "
        + grid.describe(),
        impl=impl,
        impl_title=title,
        configs=prepared.configs,
        grid_configs=grid.K,
        epochs=grid.epochs,
        samples=len(X),
        config_steps=steps,
        compile_s=prepared.compile_s,
        **prepared.extra,
    )
    benchmark(prepared.run)
    if not smoke:
        benchmark.extra_info["ns_per_config_step"] = benchmark.stats.stats.median / steps * 1e9
        benchmark.extra_info["ns_per_config_step_min"] = benchmark.stats.stats.min / steps * 1e9
        training = prepared.extra.get("training_seconds")
        if training:
            # fastnn.sweep's own training time (result.seconds: no argument checks, grid
            # building or kernel lookup), for comparison with the whole call's.
            benchmark.extra_info["ns_per_config_step_training"] = float(np.median(training)) / steps * 1e9

    out = prepared.outcome()
    for k, (history, params) in out.items():
        assert history.shape == (grid.epochs,)
        assert np.all(np.isfinite(history)), f"{impl}: configuration {k} diverged"
    if impl.startswith("sweep"):
        # The sweep trains each configuration exactly as fit does: bit for bit.
        for k in grid.checked():
            history, params = fit_outcome(grid, k)
            np.testing.assert_array_equal(out[k][0], history, err_msg=f"losses of configuration {k}")
            np.testing.assert_array_equal(out[k][1], params, err_msg=f"params of configuration {k}")
    elif impl == "jax":
        # JAX: the same float64 arithmetic up to operation order; compare every
        # configuration's first epochs (timed mode: later epochs of chaotic large-lr
        # configurations may drift further).
        losses, params = sweep_outcome(grid)
        e = min(grid.epochs, SMOKE_EPOCHS)
        got = np.stack([out[k][0] for k in range(grid.K)])
        np.testing.assert_allclose(got[:, :e], losses[:, :e], rtol=JAX_RTOL, atol=0)
        if smoke:
            got_params = np.stack([out[k][1] for k in range(grid.K)])
            np.testing.assert_allclose(got_params, params, rtol=JAX_RTOL, atol=JAX_RTOL * np.abs(params).max())
    elif impl == "fit-loop" and smoke:
        for k, (history, params) in out.items():
            np.testing.assert_array_equal(history, fit_outcome(grid, k)[0])


# ---------------------------------------------------------------- smoke checks (not timed)


def test_sweep_case_is_the_issues():
    """The data is datasets.quadratic(100, seed=0), the network seed 000's spec, and
    configuration k is (LRS[k // 16], seed k % 16) in fastnn.sweep's order."""
    X, y = _data()
    X0, y0 = datasets.quadratic(100, seed=0)
    assert np.array_equal(X, X0) and np.array_equal(y, y0)
    spec = _spec()
    assert tuple(spec.sizes) == (2, 2, 1) and set(spec.activations) == {"relu"} and spec.loss == "squared_error"
    grid = grid_for(smoke=True)
    result = run_sweep(grid)
    assert np.array_equal(result.configs["lr"], [grid.lr(k) for k in range(grid.K)])
    assert np.array_equal(result.configs["seed"], [grid.seed(k) for k in range(grid.K)])
    np.testing.assert_array_equal(
        np.stack([result.network(k).params for k in range(grid.K)]),
        np.stack([result.params_of(k) for k in range(grid.K)]),
    )
    # The He starts differ by seed (a sweep over one start would measure nothing).
    assert len({tuple(p) for p in initial_params(grid)}) == len(grid.seeds)
    assert len(grid.fit_subset(FIT_SUBSET)) == min(FIT_SUBSET, len(grid.lrs))


def test_sweep_memory():
    """The issue's memory bound: the result holds K x (P + E) floats (losses K x E,
    parameters K x P; no checkpoints asked for) plus per-configuration settings, and the
    kernels allocate their scratch once per call, before the epoch loop (none per step).

    Measured here for the full grid (1,024 configurations, TIMED_EPOCHS epochs): the
    Python-visible peak during a sweep (tracemalloc: numpy arrays and Python objects;
    numba's allocations inside the kernel are not seen, which is why the kernel source is
    checked instead)."""
    from fastnn.kernels import sweepgen

    grid = grid_for(smoke=False)
    spec = _spec()
    P, E, K = spec.n_params, grid.epochs, grid.K
    run_sweep(grid)  # compile / load outside the measurement
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        result = run_sweep(grid)
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert result.losses.shape == (K, E) and result.losses.dtype == np.float64
    assert len(result.groups) == 1
    group = result.groups[0]
    assert group.params.shape == (K, P) and group.params.dtype == np.float64
    assert group.checkpoint_params.size == 0
    floats = result.losses.size + group.params.size + group.checkpoint_params.size
    assert floats == K * (P + E)
    # Beyond the floats: K settings rows, K divergence epochs and K row indices.
    per_config = result.configs.dtype.itemsize + result.diverged_epoch.itemsize + group.indices.itemsize
    kept = 8 * floats + K * per_config
    assert after - before <= kept + 64 * 1024, (after - before, kept)
    # The peak while it runs: the kernels' own copies of the parameters and loss curves
    # (P (P, K) and a (K, E) block per group) on top of the result, plus Python's
    # bookkeeping of the grid; bounded by a few times the result, not by K x E x n.
    assert peak - before <= 3 * kept + 1024 * 1024, (peak - before, kept)
    print(f"\nsweep memory, K={K}, P={P}, E={E}: result floats {8 * floats:,} B = K x (P + E) x 8; "
          f"kept after the call {after - before:,} B; Python-visible peak {peak - before:,} B")

    # No allocation per step: in each generated kernel for this network every array is
    # allocated before the first loop (once per kernel call, i.e. per block of configurations).
    assert sweepgen.supports(spec)
    functions = sweepgen.source(spec).split("\ndef ")[1:]
    from fastnn.kernels import optim as optim_kernels

    assert [f.split("(")[0] for f in functions] == [sweepgen.SEQUENTIAL, sweepgen.SHUFFLED, sweepgen.BATCHES] + [
        sweepgen.optim_name(variant, in_order, per_sample) for variant in optim_kernels.CALLS
        for in_order in (False, True) for per_sample in (False, True)]
    for function in functions:
        lines = function.splitlines()
        first_loop = next(i for i, line in enumerate(lines) if line.lstrip().startswith("for "))
        allocating = [i for i, line in enumerate(lines) if "np.empty" in line or "np.zeros" in line or "np.full" in line]
        assert allocating and max(allocating) < first_loop, [lines[i] for i in allocating]
