"""Reliability: divergence, numerical safety, determinism, threads and compile caches.

* Divergence: a fit whose loss or parameters become non-finite stops in that epoch on
  every backend (the unrolled and the explicit-SIMD kernels through ``backend="numba"``,
  the generic loops through ``"generic"``, the reference), keeps the last finite parameters and raises
  DivergenceError(epoch, history) or returns the history (``on_divergence="stop"``); a
  sweep stops the same configuration in the same epoch with the same parameters.
* Numerical safety: sigmoid, tanh, gaussian, softmax and the cross-entropies at net
  inputs of +-1e6 give finite outputs, losses and gradients, equal to the reference's,
  with no numpy or numba warning, in predict/loss/gradient, fit's unrolled kernels and
  the sweep kernel.
* Determinism: the same seeds give bit-identical fit and sweep results in separate
  processes with NUMBA_NUM_THREADS=1 and 2, and for every sweep chunk size and thread
  count.
* Threads: fit, predict and gradient on different networks from 8 Python threads at
  once equal the same calls made one after the other, as do two sweeps run at once;
  every kernel is compiled nogil and none uses numba's parallel features.
* Compile caches: every numba cache file (.nbi index, .nbc data; package kernels and
  generated kernels) truncated or overwritten with garbage, and a generated kernel
  source replaced by a stale one, in separate processes with NUMBA_CACHE_DIR and
  FASTNN_CACHE_DIR in temporary folders: the next run gives the same results, with no
  traceback and nothing on stderr, and the run after it too.
"""
import glob
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import fastnn
from fastnn.kernels import cache as kernel_cache
from fastnn.kernels import codegen, generic, sweepgen

BACKENDS = ["numba", "generic", "reference"]
RTOL = 1e-12
TRAIN_RTOL = 1e-10
ROOT = pathlib.Path(fastnn.__file__).resolve().parent


def bits(a):
    return np.ascontiguousarray(a, dtype=np.float64).view(np.uint64)


def assert_bits_equal(a, b, what):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (what, a.shape, b.shape)
    assert np.array_equal(bits(a), bits(b)), f"{what}: not bit-identical"


def assert_close(actual, desired, rtol, what):
    actual, desired = np.asarray(actual, dtype=float), np.asarray(desired, dtype=float)
    assert actual.shape == desired.shape, (what, actual.shape, desired.shape)
    scale = np.abs(desired).max(initial=0.0)
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=rtol * scale, err_msg=what)


def run_script(script, env=None, timeout=300):
    """Run python code in a fresh process; returns CompletedProcess (text)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=full_env,
                          timeout=timeout, cwd=str(ROOT.parent))


# ------------------------------------------------------------------ divergence

# (sizes, activation, loss, init, X scale, lr, batch_size, epoch it diverges in). The
# first is unrolled for backend="numba", the second (217 params) runs kernels.widegen's
# explicit-SIMD kernel there (and the generic loops with backend="generic").
DIVERGING = {
    "unrolled 1-1 linear": ([1, 1], "linear", "mse", np.array([0.3, -0.2]), 1e3, 3, 15),
    "wide 3-12-12-1 linear": ([3, 12, 12, 1], "linear", "mse", "he", 0.04, 3, 2),
}


@pytest.mark.parametrize("case", DIVERGING.values(), ids=list(DIVERGING))
def test_divergence_mid_training_on_every_backend(case):
    """Mini-batches, shuffled: lr too large makes the loss overflow in epoch ``at`` on
    every backend. DivergenceError carries that epoch and the finite history before it;
    the network keeps the params of a clean run of exactly ``at`` epochs (the last finite
    ones, to the bit for the same backend); on_divergence="stop" returns that history and
    keeps those params; the backends agree with each other."""
    sizes, activation, loss, init, lr, batch_size, at = case
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((7, sizes[0])), rng.standard_normal((7, sizes[-1]))
    start = fastnn.Network(sizes, activation, loss, init=init, seed=5)
    kwargs = dict(lr=lr, batch_size=batch_size, shuffle=True)
    results = {}
    for backend in BACKENDS:
        clean = start.copy()
        clean_history = clean.fit(X, y, epochs=at, backend=backend, **kwargs)
        assert np.isfinite(clean_history).all() and np.isfinite(clean.params).all()
        net = start.copy()
        with pytest.raises(fastnn.DivergenceError) as info:
            net.fit(X, y, epochs=60, backend=backend, **kwargs)
        err = info.value
        assert isinstance(err, RuntimeError) and err.epoch == at, (backend, err.epoch)
        assert f"epoch (epoch={at})" in str(err)
        assert isinstance(err.history, np.ndarray) and err.history.dtype == np.float64
        assert_bits_equal(err.history, clean_history, f"{backend}: history")
        assert_bits_equal(net.params, clean.params, f"{backend}: last finite params")
        stopped = start.copy()
        history = stopped.fit(X, y, epochs=60, backend=backend, on_divergence="stop", **kwargs)
        assert_bits_equal(history, clean_history, f"{backend}: stop history")
        assert_bits_equal(stopped.params, clean.params, f"{backend}: stop params")
        results[backend] = (history, stopped.params)
    for backend in ("numba", "generic"):
        assert_close(results[backend][0], results["reference"][0], TRAIN_RTOL, f"{backend} history")
        assert_close(results[backend][1], results["reference"][1], TRAIN_RTOL, f"{backend} params")


def test_divergence_error_pickles_with_its_attributes():
    """DivergenceError survives pickling (a fit in a worker process reports it back with
    its epoch and history); its message says which parameters were kept."""
    import pickle

    for epoch, kept, said in ((0, "initial parameters", "the 1st epoch (epoch=0)"),
                              (1, "after 1 completed epoch ", "the 2nd epoch (epoch=1)"),
                              (4, "after 4 completed epochs", "the 5th epoch (epoch=4)"),
                              (11, "after 11 completed epochs", "the 12th epoch (epoch=11)")):
        err = fastnn.DivergenceError(epoch, np.arange(float(epoch)))
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is fastnn.DivergenceError and back.epoch == epoch and str(back) == str(err)
        np.testing.assert_array_equal(back.history, err.history)
        assert kept in str(err) and said in str(err), str(err)


def test_sweep_divergence_equals_fit_on_every_backend():
    """In a sweep, a configuration with lr=1e200 stops in the epoch in which fit raises
    DivergenceError on each backend; its parameters are fit's last finite ones (to the
    bit for the fit kernels, to 1e-10 for the reference); its later losses are NaN; the
    sane configurations of the same sweep are untouched."""
    X = np.random.default_rng(0).standard_normal((7, 2))
    y = 10 * np.random.default_rng(1).uniform(0.0, 1.0, (7, 1))
    result = fastnn.sweep([2, 2, 1], X, y, lr=[0.01, 1e200], seeds=[0, 1], batch_size=[1, 7], epochs=3,
                          progress=False)
    diverged = np.flatnonzero(result.diverged)
    assert len(diverged) >= 2 and not result.diverged[result.configs["lr"] == 0.01].any()
    assert set(result.diverged_epoch[diverged]) == {0, 1}  # nothing trained, and stopped later
    for k in diverged:
        row, epoch = result.configs[k], result.diverged_epoch[k]
        assert np.isfinite(result.losses[k, :epoch]).all() and np.isnan(result.losses[k, epoch:]).all()
        for backend in BACKENDS:
            net = fastnn.Network([2, 2, 1], seed=int(row["seed"]))
            with pytest.raises(fastnn.DivergenceError) as info:
                net.fit(X, y, lr=float(row["lr"]), epochs=3, batch_size=int(row["batch_size"]), backend=backend)
            assert info.value.epoch == epoch, (k, backend)
            if backend == "reference":
                assert_close(result.params_of(k), net.params, TRAIN_RTOL, f"config {k}")
                assert_close(result.losses[k, :epoch], info.value.history, TRAIN_RTOL, f"config {k}")
            else:
                assert_bits_equal(result.params_of(k), net.params, f"config {k}, {backend}")
                assert_bits_equal(result.losses[k, :epoch], info.value.history, f"config {k}, {backend}")


# ------------------------------------------------------------------ numerical safety

BIG = 1e6
# Integer inputs, weights that are integer multiples of BIG and biases of +-BIG / 2: every
# hidden net input is at least BIG / 2 in magnitude (up to 4.5 BIG), and so is every
# output net input of a sigmoid or tanh hidden layer. (hidden, output, loss, targets)
EXTREME = [
    ("sigmoid", "sigmoid", "binary_cross_entropy", "unit"),
    ("tanh", "sigmoid", "binary_cross_entropy", "hard"),
    ("tanh", "tanh", "binary_cross_entropy", "hard"),
    ("gaussian", "softmax", "categorical_cross_entropy", "labels"),
    ("sigmoid", "softmax", "categorical_cross_entropy", "labels"),
    ("tanh", "softmax", "mse", "onehot"),
    ("relu", "sigmoid", "squared_error", "unit"),
    ("sigmoid", "linear", "half_squared_error", "unit"),
]
X_EXTREME = np.array([[1.0, -1.0], [-1.0, 1.0], [3.0, 1.0], [-1.0, -3.0], [0.0, 1.0]])


def extreme_network(hidden, output, loss, n_out):
    net = fastnn.Network([2, 3, n_out], [hidden, output], loss, init="zeros")
    net.weight(0)[:] = BIG * np.array([[1.0, -1.0, 2.0], [-1.0, 1.0, 1.0]])
    net.bias(0)[:] = BIG * np.array([0.5, -0.5, 0.5])
    net.weight(1)[:] = BIG * np.array([[1.0, -2.0, 1.0], [2.0, 1.0, -1.0], [-1.0, 1.0, 3.0]])[:, :n_out]
    net.bias(1)[:] = BIG * np.array([0.5, -1.5, 2.5])[:n_out]
    return net


def extreme_targets(kind, n_out):
    labels = np.arange(len(X_EXTREME)) % n_out
    return {"unit": np.linspace(0.0, 1.0, len(X_EXTREME) * n_out).reshape(-1, n_out),
            "hard": (labels[:, None] == 0).astype(float).repeat(n_out, axis=1),
            "labels": labels, "onehot": np.eye(n_out)[labels]}[kind]


def no_warnings():
    """warnings as errors and numpy floating-point errors raised, for a with block."""
    class Guard:
        def __enter__(self):
            self.w = warnings.catch_warnings()
            self.w.__enter__()
            warnings.simplefilter("error")
            # fastnn's advice (saturated units can leave every parameter unchanged) is no fault
            warnings.simplefilter("ignore", fastnn.TrainingWarning)
            self.e = np.errstate(all="raise")
            self.e.__enter__()

        def __exit__(self, *exc):
            self.e.__exit__(*exc)
            self.w.__exit__(*exc)

    return Guard()


@pytest.mark.parametrize("hidden, output, loss, targets", EXTREME, ids=[f"{h}-{o}-{l}" for h, o, l, _ in EXTREME])
def test_saturated_units_give_finite_values_and_reference_gradients(hidden, output, loss, targets):
    """Every unit's net input at +-1e6 (or more): predict, loss and gradient are finite
    on every backend, equal to the reference's (to 1e-12), and nothing warns; sigmoid,
    tanh and softmax outputs are exactly at their limits."""
    n_out = 1 if output != "softmax" else 3
    net = extreme_network(hidden, output, loss, n_out)
    y = extreme_targets(targets, n_out)
    assert np.abs(X_EXTREME @ net.weight(0) + net.bias(0)).min() >= 0.5 * BIG
    with no_warnings():
        expected = [net.predict(X_EXTREME, "reference"), net.loss(X_EXTREME, y, "reference"),
                    net.gradient(X_EXTREME, y, "reference")]
        for backend in ("numba", "generic"):
            got = [net.predict(X_EXTREME, backend), net.loss(X_EXTREME, y, backend),
                   net.gradient(X_EXTREME, y, backend)]
            for name, a, b in zip(("predict", "loss", "gradient"), got, expected):
                assert np.isfinite(a).all(), (backend, name)
                assert_close(a, b, RTOL, f"{backend} {name}")
    p = expected[0]
    if output in ("sigmoid", "tanh") and hidden in ("sigmoid", "tanh"):
        assert np.isin(p, (-1.0, 1.0) if output == "tanh" else (0.0, 1.0)).all(), p
    if output == "softmax":
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-15)
    if loss.endswith("cross_entropy"):  # clipped: at most -log(1e-7) per sample
        assert expected[1] <= -np.log(1e-7) + 1e-9


# Pool shapes (tests/strategies.py) for fit's unrolled kernels; the sweep kernels of
# these shapes come from tests/test_sweep.py's grids.
EXTREME_FIT = {
    "2-3-1 tanh sigmoid BCE": ([2, 3, 1], ["tanh", "sigmoid"], "binary_cross_entropy", "hard"),
    "1-2-3 gaussian softmax CCE": ([1, 2, 3], ["gaussian", "softmax"], "categorical_cross_entropy", "labels"),
}


@pytest.mark.parametrize("case", EXTREME_FIT.values(), ids=list(EXTREME_FIT))
def test_saturated_units_in_training_kernels(case):
    """Training at net inputs of +-1e6: fit's unrolled kernels (per sample and
    mini-batch) and the generic loops give the reference's finite history and params;
    no warnings."""
    sizes, acts, loss, targets = case
    rng = np.random.default_rng(7)
    net = fastnn.Network(sizes, acts, loss, init="zeros")
    net.params = BIG * rng.choice([-1.0, 1.0], net.n_params)
    X = rng.choice([-1.0, 1.0, 2.0], (6, sizes[0]))
    y = extreme_targets(targets, sizes[-1])[: len(X)] if targets != "labels" else np.arange(6) % sizes[-1]
    if targets == "hard":
        y = (np.arange(6) % 2 == 0).astype(float)
    with no_warnings():
        for batch_size in (1, 4):
            ref = net.copy()
            want = ref.fit(X, y, lr=1e-3, epochs=2, batch_size=batch_size, backend="reference")
            for backend in ("numba", "generic"):
                got = net.copy()
                history = got.fit(X, y, lr=1e-3, epochs=2, batch_size=batch_size, backend=backend)
                assert np.isfinite(history).all() and np.isfinite(got.params).all()
                assert_close(history, want, TRAIN_RTOL, f"{backend} history")
                assert_close(got.params, ref.params, TRAIN_RTOL, f"{backend} params")


def test_saturated_units_in_the_sweep_kernel():
    """The generated sweep kernel at net inputs of +-1e6 (a gaussian/sigmoid network
    with BCE started from huge weights): finite, bit-identical to fit, no warnings."""
    rng = np.random.default_rng(8)
    start = fastnn.Network([2, 3, 1], ["gaussian", "sigmoid"], "binary_cross_entropy",
                           init=BIG * rng.choice([-1.0, 1.0], 13))
    X, y = rng.choice([-1.0, 1.0, 2.0], (4, 2)), np.array([0.0, 1.0, 1.0, 0.0])
    with no_warnings():
        result = fastnn.sweep(start, X, y, lr=[1e-3, 0.5], seeds=[0], batch_size=[1, 4], epochs=2, progress=False)
        assert np.isfinite(result.losses).all() and not result.diverged.any()
        for k, row in enumerate(result.configs):
            net = start.copy()
            history = net.fit(X, y, lr=float(row["lr"]), epochs=2, batch_size=int(row["batch_size"]))
            assert_bits_equal(result.losses[k], history, f"config {k}")
            assert_bits_equal(result.params_of(k), net.params, f"config {k}")


# ------------------------------------------------------------------ determinism

# Run in-process and in fresh processes: every result of fit (unrolled and generic
# kernels, per sample / mini-batch / full batch, shuffled) and of sweeps (default thread
# count, and every chunk x threads combination), into a dict of arrays.
WORKLOAD = '''
import numpy as np
import numba
import fastnn
from numba.np.ufunc import parallel


def workload():
    out = {}
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((9, 2)), rng.uniform(0.0, 1.0, (9, 1))
    shapes = {"relu": ([2, 2, 1], "relu", "squared_error"), "bce": ([2, 3, 1], ["tanh", "sigmoid"], "binary_cross_entropy")}
    for name, (sizes, act, loss) in shapes.items():
        for backend in ("numba", "generic"):
            for batch_size in (1, 4, 9):
                net = fastnn.Network(sizes, act, loss, seed=11)
                out[f"fit {name} {backend} {batch_size} history"] = net.fit(
                    X, y, lr=0.3, epochs=4, batch_size=batch_size, shuffle=True, backend=backend)
                out[f"fit {name} {backend} {batch_size} params"] = net.params.copy()
                out[f"gradient {name} {backend} {batch_size}"] = net.gradient(X, y, backend=backend)
    out["parallel layer launched by fit"] = np.array(parallel._is_initialized)
    grid = dict(lr=[1e-3, 1e-2, 1e200], seeds=list(range(5)), batch_size=[1, 4], epochs=4, shuffle=True,
                checkpoints=[2], progress=False)
    def keep(prefix, result):
        out[prefix + " losses"] = result.losses
        out[prefix + " diverged"] = result.diverged_epoch
        for g, group in enumerate(result.groups):
            out[f"{prefix} params {g}"] = group.params
            out[f"{prefix} checkpoints {g}"] = group.checkpoint_params
    for chunk in (1, 4, 64):
        for threads in (1, 3):
            keep(f"sweep chunk {chunk} threads {threads}", fastnn.sweep([2, 2, 1], X, 10 * y, chunk=chunk,
                                                                         threads=threads, **grid))
    out["parallel layer launched by sweep with threads"] = np.array(parallel._is_initialized)
    keep("sweep default threads", fastnn.sweep([2, 2, 1], X, 10 * y, **grid))
    out["parallel layer launched by sweep"] = np.array(parallel._is_initialized)
    out["numba threads"] = np.array(numba.config.NUMBA_NUM_THREADS)
    return out
'''

LAUNCH_FLAGS = ("parallel layer launched by fit", "parallel layer launched by sweep with threads",
                "parallel layer launched by sweep")


def run_workload_in(tmp_path, threads):
    path = tmp_path / f"threads{threads}.npz"
    script = WORKLOAD + f"\nnp.savez({str(path)!r}, **workload())\n"
    done = run_script(script, env={"NUMBA_NUM_THREADS": str(threads)})
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    with np.load(path) as archive:
        return {name: archive[name] for name in archive.files}


@pytest.fixture(scope="module")
def thread_runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("determinism")
    namespace = {}
    exec(WORKLOAD, namespace)
    return {"in-process": namespace["workload"](), 1: run_workload_in(tmp, 1), 2: run_workload_in(tmp, 2)}


def test_bit_identical_across_processes_thread_counts_and_chunks(thread_runs):
    """fit and sweep results are bit-identical in this process and in fresh processes
    with NUMBA_NUM_THREADS=1 and 2; within each run, every sweep chunk size (1, 4, 64)
    and thread count (1, 3, default) gives the same arrays."""
    assert int(thread_runs[1]["numba threads"]) == 1 and int(thread_runs[2]["numba threads"]) == 2
    reference = thread_runs["in-process"]
    names = [n for n in reference if n not in LAUNCH_FLAGS and n != "numba threads"]
    assert len(names) > 50
    assert reference["sweep default threads diverged"].max() >= 0  # the grid includes divergence
    for run in (1, 2):
        assert sorted(thread_runs[run]) == sorted(reference)
        for name in names:
            assert_bits_equal(thread_runs[run][name], reference[name], f"NUMBA_NUM_THREADS={run}: {name}")
    for name in [n for n in names if n.startswith("sweep chunk")]:
        suffix = name.split(" ", 5)[5]
        assert_bits_equal(reference[name], reference[f"sweep default threads {suffix}"], name)


def test_fit_and_sweep_with_threads_do_not_start_numba_threading_layer(thread_runs):
    """fit, and sweeps with an explicit thread count, never start numba's threading
    layer (in fresh processes): the kernels are not parallel."""
    for run in (thread_runs[1], thread_runs[2]):
        assert not run["parallel layer launched by fit"]
        assert not run["parallel layer launched by sweep with threads"]


def test_sweep_default_threads_do_not_start_numba_threading_layer(thread_runs):
    assert not thread_runs[1]["parallel layer launched by sweep"]


# ------------------------------------------------------------------ threads


def fit_jobs():
    """(name, function) pairs: each trains its own network, shuffled mini-batches, and
    returns its history, final params, predictions and gradient."""
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((9, 2)), rng.uniform(0.0, 1.0, (9, 1))
    X3, y3 = rng.standard_normal((9, 3)), rng.standard_normal((9, 12))
    jobs = []
    for i in range(8):
        if i % 4 == 3:  # kernels.widegen (204 params)
            sizes, acts, loss, data = [3, 12, 12], ["tanh", "softmax"], "half_squared_error", (X3, y3)
        else:
            sizes, acts, loss, data = [2, 3, 1], ["tanh", "sigmoid"], "binary_cross_entropy", (X, y)
        backend = "generic" if i % 2 else "numba"

        def job(sizes=sizes, acts=acts, loss=loss, data=data, backend=backend, seed=i):
            net = fastnn.Network(sizes, acts, loss, seed=seed)
            history = net.fit(*data, lr=0.2, epochs=30, batch_size=1 + seed % 4, shuffle=True, backend=backend)
            return [history, net.params.copy(), net.predict(data[0], backend), net.gradient(*data, backend)]

        jobs.append((f"job {i}: {sizes} {backend}", job))
    return jobs


def test_fit_from_threads_equals_one_after_the_other():
    """8 threads (released together by a barrier, 3 rounds) each training their own
    network give bit for bit what the same calls give one after the other."""
    jobs = fit_jobs()
    sequential = [job() for _, job in jobs]
    barrier = threading.Barrier(len(jobs))

    def together(job):
        barrier.wait()
        return job()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        for _ in range(3):
            concurrent = list(pool.map(together, [job for _, job in jobs]))
            for (name, _), got, want in zip(jobs, concurrent, sequential):
                for part, a, b in zip(("history", "params", "predict", "gradient"), got, want):
                    assert_bits_equal(a, b, f"{name} {part}")


def test_sweeps_from_threads_equal_one_after_the_other():
    """Two sweeps at once (each with its own pool of 2 threads) equal the same sweeps run
    one after the other."""
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((8, 2)), rng.standard_normal((8, 1))
    calls = [dict(lr=[1e-3, 3e-3, 1e-2], seeds=range(4), batch_size=[1, 3], epochs=6, shuffle=True, chunk=3,
                  threads=2, progress=False, init=init) for init in ("he", "xavier")]
    sequential = [fastnn.sweep([2, 2, 1], X, y, **kw) for kw in calls]
    with ThreadPoolExecutor(max_workers=2) as pool:
        concurrent = list(pool.map(lambda kw: fastnn.sweep([2, 2, 1], X, y, **kw), calls))
    for a, b in zip(concurrent, sequential):
        assert_bits_equal(a.losses, b.losses, "losses")
        for ga, gb in zip(a.groups, b.groups):
            assert_bits_equal(ga.params, gb.params, "params")


def test_kernels_are_nogil_and_not_parallel():
    """Every numba kernel of fastnn (package and generated) is compiled with nogil=True
    and without parallel=True; no source of fastnn (nor a generated kernel's text) uses
    parallel=True or prange. Threads come from Python (sweep's own thread pool), never
    from numba's threading layer."""
    from numba.core.registry import CPUDispatcher

    fastnn.Network([2, 3, 1], ["tanh", "sigmoid"], "binary_cross_entropy").fit(np.zeros((2, 2)), [0, 1], 0.1, 1)
    dispatchers = {}
    for name, module in list(sys.modules.items()):
        if name.startswith("fastnn") or name.startswith("fastnn_generated_"):
            for attr, value in vars(module).items():
                if isinstance(value, CPUDispatcher):
                    dispatchers[f"{name}.{attr}"] = value
    assert any(n.startswith("fastnn_generated_") for n in dispatchers) and len(dispatchers) > 15
    for name, dispatcher in dispatchers.items():
        assert dispatcher.targetoptions.get("nogil") is True, name
        assert not dispatcher.targetoptions.get("parallel"), name
    spec = fastnn.Network([2, 3, 1]).spec
    texts = {str(p): p.read_text() for p in ROOT.rglob("*.py")}
    texts["generated fit kernel"] = codegen.source(spec)
    texts["generated sweep kernel"] = sweepgen.source(spec)
    for where, text in texts.items():
        assert not re.search(r"parallel\s*=\s*True|\bprange\b", text), where


# ------------------------------------------------------------------ compile caches

# The workload of the cache tests: fit's unrolled kernels for a network shape of its own
# (a generated source in FASTNN_CACHE_DIR, its machine code in NUMBA_CACHE_DIR), per sample
# and mini-batch, shuffled, which call the package's kernels.rng functions (their machine
# code in NUMBA_CACHE_DIR too). Prints the results as float.hex. (The generic kernels are
# left out: recompiling them takes seconds, and they go through the same compile path.)
CACHE_WORKLOAD = '''
import json
import numpy as np
import fastnn

net = fastnn.Network([1, 1], "sigmoid", "binary_cross_entropy", init=np.array([0.7, -0.2]), seed=4)
X = np.array([[0.5], [-1.0], [2.0], [0.1]])
y = np.array([1.0, 0.0, 1.0, 0.0])
out = {}
for batch_size in (1, 3):
    trained = net.copy()
    out[f"history {batch_size}"] = trained.fit(X, y, lr=0.5, epochs=3, batch_size=batch_size, shuffle=True)
    out[f"params {batch_size}"] = trained.params
print(json.dumps({k: [float(v).hex() for v in np.ravel(a)] for k, a in out.items()}))
'''


def cache_env(root):
    return {"NUMBA_CACHE_DIR": str(root / "numba"), "FASTNN_CACHE_DIR": str(root / "fastnn"),
            "FASTNN_NO_CACHE": ""}


def run_cache_workload(root):
    done = run_script(CACHE_WORKLOAD, env=cache_env(root))
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr  # no traceback, no warning
    return json.loads(done.stdout)


def seed_numba_cache(folder):
    """Copy this checkout's numba cache of the package kernels into NUMBA_CACHE_DIR's
    layout (so that warming it loads instead of compiling; stale entries recompile)."""
    try:
        from numba.core.caching import _CacheLocator

        target = folder / _CacheLocator.get_suitable_cache_subpath(generic.__file__)
    except Exception:  # another numba: warm up by compiling
        return
    target.mkdir(parents=True, exist_ok=True)
    for path in glob.glob(str(ROOT / "kernels" / "__pycache__" / "*.nb[ic]")):
        shutil.copy2(path, target)


@pytest.fixture(scope="module")
def warm_cache(tmp_path_factory):
    """A warmed pair of cache folders and the results computed with them."""
    root = tmp_path_factory.mktemp("warm-cache")
    seed_numba_cache(root / "numba")
    results = run_cache_workload(root)
    return root, results


def cache_files(root):
    numba_files = sorted(glob.glob(str(root / "numba" / "**" / "*.nb[ic]"), recursive=True))
    sources = sorted(glob.glob(str(root / "fastnn" / "k_*.py")))
    return numba_files, sources


def test_cache_workload_matches_this_process(warm_cache):
    """The cache workload in a fresh process with fresh caches gives this process's
    results, bit for bit; both caches were written."""
    root, results = warm_cache
    namespace = {}
    printed = []
    exec(CACHE_WORKLOAD.replace("print(", "printed.append("), dict(namespace, printed=printed))
    assert json.loads(printed[0]) == results
    numba_files, sources = cache_files(root)
    assert len(sources) == 1
    for name in READ:
        assert [p for p in numba_files if os.path.basename(p).startswith(name)], name


# The numba cache entries the workload reads (in this order in the corruption cycle).
READ = ("k_", "rng.shuffle_order", "rng.splitmix64")
DAMAGE = [("index", "empty"), ("data", "truncate"), ("index", "garbage"), ("data", "garbage"),
          ("data", "empty"), ("index", "truncate")]

STALE_SOURCE = '''CACHE = True
import numpy as np
from numba import njit


@njit(cache=CACHE)
def train_sgd(params, X, Y, lr, epochs, batch_size, shuffle, seed, history, dims):
    history[:] = 42.0
    return -1


train_batch = train_sgd
'''


def corrupt(path, how):
    data = pathlib.Path(path).read_bytes()
    if how == "truncate":
        pathlib.Path(path).write_bytes(data[: len(data) // 2])
    elif how == "empty":
        pathlib.Path(path).write_bytes(b"")
    else:
        pathlib.Path(path).write_bytes(np.random.default_rng(len(data)).bytes(max(len(data), 16)))


def test_corrupted_caches_are_rebuilt(warm_cache):
    """Every numba cache file's function damaged, its index or its data file in turn
    (emptied, truncated to half, overwritten with garbage: the entries the run reads get
    each of the six kinds): the next run gives the same results, bit for bit, with
    nothing on stderr (no traceback, no warning). Then the generated kernel source is
    replaced by a stale, wrong one: the run after rewrites it, loads the rebuilt package
    caches and agrees too. (Without the recovery in kernels/compiler.py, numba raises
    EOFError or pickle.UnpicklingError from caching.py's _load_index/_load_data here.)"""
    root = warm_cache[0]  # in place: numba keys a cache folder by the source's folder
    numba_files, sources = cache_files(root)
    indexes = [p for p in numba_files if p.endswith(".nbi")]
    read = [p for p in indexes if os.path.basename(p).startswith(READ)]
    assert len(read) >= 4
    for i, index in enumerate(read + [p for p in indexes if p not in read]):
        part, how = DAMAGE[i % len(DAMAGE)]
        if part == "index":
            corrupt(index, how)
        else:  # the index stays readable, so numba goes on to read the damaged data file
            for data in glob.glob(index[: -len(".nbi")] + ".*.nbc"):
                corrupt(data, how)
    assert run_cache_workload(root) == warm_cache[1]
    good_text = pathlib.Path(sources[0]).read_text()
    pathlib.Path(sources[0]).write_text(STALE_SOURCE)
    assert run_cache_workload(root) == warm_cache[1]
    assert pathlib.Path(sources[0]).read_text() == good_text


def test_generated_source_cache_rewrites_damaged_files(tmp_path):
    """kernels.cache (in this process): a generated source that is missing, truncated,
    garbage or stale is rewritten before it is imported; a matching one is left alone."""
    spec = fastnn.Network([1, 2, 3], ["gaussian", "softmax"], "categorical_cross_entropy").spec
    text = codegen.source(spec)
    key = kernel_cache._digest(text)
    path = tmp_path / f"k_{key}.py"
    expected = "CACHE = True\n" + text
    name = f"fastnn_generated_{key}"
    saved = sys.modules.get(name)
    try:
        for damage in (None, b"", expected.encode()[:100], b"\xff\xfe garbage \x00", STALE_SOURCE.encode()):
            if damage is not None:
                path.write_bytes(damage)
            module = kernel_cache._from_file(text, key, str(tmp_path))
            assert path.read_text() == expected
            assert module.CACHE is True and hasattr(module, codegen.SGD) and hasattr(module, codegen.BATCH)
        stamp = path.stat().st_mtime_ns
        kernel_cache._from_file(text, key, str(tmp_path))
        assert path.stat().st_mtime_ns == stamp  # not rewritten when it matches
    finally:
        if saved is not None:
            sys.modules[name] = saved


def test_a_loaded_kernel_loads_again_without_hashing_or_touching_the_cache_folder(tmp_path, monkeypatch):
    """kernels.cache.load memoises what every fit and sweep call repeats: the source's
    digest (a pass over a wide network's module text) and the marker file's checks. A
    new cache folder is marked again."""
    monkeypatch.setenv("FASTNN_CACHE_DIR", str(tmp_path / "first"))
    spec = fastnn.Network([1, 2, 3], ["gaussian", "softmax"], "categorical_cross_entropy").spec
    text = codegen.source(spec)
    kernel_cache.load(text, codegen.SGD, codegen.SIGNATURE)
    key = kernel_cache._digest(text)
    assert (tmp_path / "first" / f"k_{key}.{codegen.SGD}.compiled").exists()

    def refuse(*args):
        raise AssertionError("hashed or looked for the cache folder again")

    with monkeypatch.context() as patched:
        patched.setattr(kernel_cache.hashlib, "sha256", refuse)
        patched.setattr(kernel_cache, "cache_dir", refuse)
        kernel_cache.load(text, codegen.SGD, codegen.SIGNATURE)
    monkeypatch.setenv("FASTNN_CACHE_DIR", str(tmp_path / "second"))
    kernel_cache.load(text, codegen.SGD, codegen.SIGNATURE)
    assert (tmp_path / "second" / f"k_{key}.{codegen.SGD}.compiled").exists()
