"""What a fresh process pays before its first result: run as ``python -m bench.startup``.

Times ``import fastnn``, building seed 000's network and its first ``fit`` (1 epoch on
``quadratic(100, seed=0)``: JIT compilation, or loading numba's cache), then a second fit
(already compiled), and prints the figures as JSON on stdout. ``--all-cases`` also times
the first fit of every other case in bench/cases.py (each may need its own kernels).
``--floor`` times bench/floor_kernel.py instead: import numpy and numba, call a one-line
cached @njit function twice (the floor of any package built on numba's cache).
``--wait``: before exiting, wait for the background compiles the fits started
(``fastnn.kernels.tiering``), so that the process leaves the caches warm (untimed).

bench/test_startup.py runs this with an empty ``NUMBA_CACHE_DIR`` (compile time) and with
a warm cache (cold start).

First result (issue 14): ``python -m bench.startup --first CASE`` times, in this process,
``Network(...)`` plus a 20-epoch ``fit`` on 100 samples of a shape of FIRST_CASES (what a
person trying shapes in a notebook waits for), then the same again (``warm``: once the
background compile finished and its kernel is loaded), and how the first fit ran
(tiering.last_fit); ``--long CASE EPOCHS`` the same for a long fit, with the epochs each
kernel trained and their speed; ``--jax CASE`` JAX's first call (trace, compile, run) and
second call for the same job (run it with an interpreter that has JAX). ``--no-warm``:
``--first`` without the wait and the warm fit.
``python -m bench.startup --first-result [--rounds N]`` runs all of them, each in a fresh
process with an empty fastnn cache (numba's cache of the package kernels warm: run one
fit first), before tiering (``FASTNN_TIERING=0``) and after, and prints the markdown
table of bench/RESULTS.md's "First result" section. ``FASTNN_BENCH_JAX_PYTHON`` names an
interpreter with JAX (default: /tmp/jaxenv/bin/python when it exists).
"""
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# name -> (sizes, activation, loss, batch_size, optimizer); 100 samples, 20 epochs, lr 0.01
FIRST_CASES = {
    "2-26-1 tanh, batches of 16": ([2, 26, 1], "tanh", "squared_error", 16, "sgd"),
    "3-18-2 relu, batches of 16": ([3, 18, 2], "relu", "squared_error", 16, "sgd"),
    "5-14-3 sigmoid, per sample": ([5, 14, 3], "sigmoid", "squared_error", 1, "sgd"),
    "3-18-2 relu, batches of 16, Adam": ([3, 18, 2], "relu", "squared_error", 16, "adam"),
}
FIRST_EPOCHS, FIRST_SAMPLES, FIRST_LR = 20, 100, 0.01


def floor():
    """The same figures for bench/floor_kernel.py in place of fastnn (``--floor``)."""
    t0 = time.perf_counter()
    importlib.import_module("numpy")
    from bench import floor_kernel

    t1 = time.perf_counter()
    floor_kernel.add_one(1.0)  # numba's first cache load (compiles on an empty cache)
    t2 = time.perf_counter()
    floor_kernel.add_one(2.0)
    t3 = time.perf_counter()
    return dict(import_s=t1 - t0, build_s=0.0, first_fit_s=t2 - t1, second_fit_s=t3 - t2)


def _first_data(case):
    import numpy as np

    sizes = FIRST_CASES[case][0]
    rng = np.random.default_rng(0)
    return rng.standard_normal((FIRST_SAMPLES, sizes[0])), 0.5 * rng.standard_normal((FIRST_SAMPLES, sizes[-1]))


def _fit_case(case, epochs):
    """Network(...) and its fit, timed together; (seconds, history, network)."""
    import fastnn

    sizes, activation, loss, batch_size, optimizer = FIRST_CASES[case]
    X, y = _first_data(case)
    started = time.perf_counter()
    net = fastnn.Network(sizes, activation, loss, seed=0)
    history = net.fit(X, y, FIRST_LR, epochs, batch_size=batch_size, optimizer=optimizer)
    return time.perf_counter() - started, history, net


def first(case, epochs=FIRST_EPOCHS, no_warm=False):
    """``--first CASE`` / ``--long CASE EPOCHS``: the first fit of a new shape, then the
    same fit once its generated kernel is compiled and loaded."""
    t0 = time.perf_counter()
    import numpy as np

    from fastnn.kernels import tiering

    import_s = time.perf_counter() - t0
    first_s, history, net = _fit_case(case, epochs)
    out = dict(case=case, epochs=epochs, import_s=import_s, first_s=first_s, tiering=tiering.enabled(),
               first_run=tiering.last_fit())
    if no_warm:
        return out
    started = time.perf_counter()
    tiering.wait()
    out["compile_wait_s"] = time.perf_counter() - started  # what was left of the background compile
    out["compile_s"] = [job.ended - job.started for job in tiering._jobs.jobs.values() if job.ended and job.started]
    _fit_case(case, epochs)  # loads the generated kernel
    warm_s, warm_history, warm_net = _fit_case(case, epochs)
    out["warm_s"] = warm_s
    out["same_numbers"] = bool(np.array_equal(history, warm_history) and np.array_equal(net.params, warm_net.params))
    return out


def jax_first(case, epochs=FIRST_EPOCHS):
    """``--jax CASE``: JAX's first call (trace, compile and run) of the same job, timed
    from building its parameters, and its second call."""
    t0 = time.perf_counter()
    import jax
    import numpy as np

    import fastnn
    from fastnn.compare import jax_impl

    import_s = time.perf_counter() - t0
    sizes, activation, loss, batch_size, optimizer = FIRST_CASES[case]
    X, y = _first_data(case)

    class Job:  # the attributes jax_impl reads from a bench case
        pass

    job = Job()
    job.sizes, job.activations, job.loss, job.batch_size, job.optimizer, job.lr = (
        sizes, (activation,) * (len(sizes) - 1), loss, batch_size, optimizer, FIRST_LR)
    job.network = lambda: fastnn.Network(sizes, activation, loss, seed=0)
    started = time.perf_counter()
    layers = jax_impl._layers(job, job.network().params)
    train = jax_impl.make_train(job, epochs, jax.numpy.asarray(X), jax.numpy.asarray(y))
    jax.block_until_ready(train(layers))
    times = [time.perf_counter() - started]
    started = time.perf_counter()
    out = jax.block_until_ready(train(layers))  # the same jitted function, compiled
    times.append(time.perf_counter() - started)
    return dict(case=case, import_s=import_s, first_s=times[0], warm_s=times[1],
                finite=bool(np.isfinite(np.asarray(out[1])).all()))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if "--floor" in argv:
        json.dump(floor(), sys.stdout)
        return 0
    if "--first" in argv:
        json.dump(first(argv[argv.index("--first") + 1], no_warm="--no-warm" in argv), sys.stdout)
        return 0
    if "--long" in argv:
        at = argv.index("--long")
        json.dump(first(argv[at + 1], int(argv[at + 2])), sys.stdout)
        return 0
    if "--jax" in argv:
        json.dump(jax_first(argv[argv.index("--jax") + 1]), sys.stdout)
        return 0
    if "--first-result" in argv:
        rounds = int(argv[argv.index("--rounds") + 1]) if "--rounds" in argv else 3
        long_epochs = int(argv[argv.index("--long-epochs") + 1]) if "--long-epochs" in argv else 100_000
        print(first_result_table(rounds, long_epochs))
        return 0
    t0 = time.perf_counter()
    importlib.import_module("fastnn")
    from fastnn import datasets, seeds

    t1 = time.perf_counter()
    net = seeds.seed000_network()
    X, y = datasets.quadratic(100, seed=0)
    t2 = time.perf_counter()
    net.fit(X, y, seeds.SEED000_LR, 1)
    t3 = time.perf_counter()
    net.fit(X, y, seeds.SEED000_LR, 1)
    t4 = time.perf_counter()
    out = dict(import_s=t1 - t0, build_s=t2 - t1, first_fit_s=t3 - t2, second_fit_s=t4 - t3)
    if "--all-cases" in argv:
        from bench import cases

        first_by_case = {}
        for case in cases.CASES.values():
            net = case.network()
            X, y = case.data()
            start = time.perf_counter()
            net.fit(X, y, case.lr, 1, batch_size=case.batch_size)
            first_by_case[case.name] = time.perf_counter() - start
        out["first_fit_by_case_s"] = first_by_case
    if "--wait" in argv:
        from fastnn.kernels import tiering

        tiering.wait()
    json.dump(out, sys.stdout)
    return 0


# ------------------------------------------------------------------ the first-result table

def _run(args, env, python=None):
    done = subprocess.run([python or sys.executable, "-m", "bench.startup", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"bench.startup {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def _env(fastnn_cache, tiering=True):
    env = dict(os.environ, FASTNN_CACHE_DIR=str(fastnn_cache))
    for name in ("FASTNN_NO_CACHE", "FASTNN_TIERING"):
        env.pop(name, None)
    if not tiering:
        env["FASTNN_TIERING"] = "0"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))
    return env


def _jax_python():
    path = os.environ.get("FASTNN_BENCH_JAX_PYTHON") or "/tmp/jaxenv/bin/python"
    return path if os.access(path, os.X_OK) else None


def _s(value):
    return "" if value is None else (f"{value:.2f} s" if value >= 0.1 else f"{value * 1000:.1f} ms")


def first_result_table(rounds=3, long_epochs=100_000):
    """Every FIRST_CASES case in fresh processes, each with an empty fastnn cache (numba's
    cache of the package kernels warmed first): medians of ``rounds``. Returns markdown."""
    with tempfile.TemporaryDirectory() as scratch:
        _run(["--first", next(iter(FIRST_CASES))], _env(Path(scratch) / "warm-up"))  # numba's package cache
        jax_python = _jax_python()
        rows = []
        for case in FIRST_CASES:
            runs = {"before": [], "after": [], "jax": []}
            for r in range(rounds):
                for label, tiering in (("before", False), ("after", True)):
                    runs[label].append(_run(["--first", case], _env(Path(scratch) / f"{label}-{case}-{r}", tiering)))
                if jax_python:
                    runs["jax"].append(_run(["--jax", case], _env(Path(scratch) / "jax"), python=jax_python))
            rows.append((case, runs))
        long_case = next(iter(FIRST_CASES))
        long_runs = {label: _run(["--long", long_case, str(long_epochs)], _env(Path(scratch) / f"long-{label}", tiering))
                     for label, tiering in (("before", False), ("after", True))}
    return _table(rows, long_case, long_epochs, long_runs, rounds, jax_python)


def _median(runs, key):
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def _table(rows, long_case, long_epochs, long_runs, rounds, jax_python):
    out = [
        f"Each cell: the median of {rounds} fresh processes, each with an empty fastnn cache "
        "(`FASTNN_CACHE_DIR`) and numba's cache of fastnn's own kernels warm; the time from "
        f"`Network(...)` to the end of a {FIRST_EPOCHS}-epoch `fit` on {FIRST_SAMPLES} samples "
        "(`python -m bench.startup --first-result`). *warm*: the same again in that process "
        "once the generated kernel is compiled and loaded. *before*: `FASTNN_TIERING=0`, which "
        "compiles the generated kernel before training (fastnn before issue 14).",
        "",
        "| case | fastnn first fit, before | fastnn first fit | kernel that ran it | fastnn warm | "
        "JAX first call (compile + run) | JAX warm | fastnn first / JAX first |",
        "|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    for case, runs in rows:
        before, after = _median(runs["before"], "first_s"), _median(runs["after"], "first_s")
        kernels = {"generic" if (r["first_run"] or {}).get("switched_at") is None else "generic, then generated"
                   for r in runs["after"] if r["first_run"]} or {"generated (cached)"}
        jax_first_s, jax_warm_s = _median(runs["jax"], "first_s"), _median(runs["jax"], "warm_s")
        ratio = f"{after / jax_first_s:.2f}x" if jax_first_s else ""
        out.append(f"| {case} | {_s(before)} | {_s(after)} | {', '.join(sorted(kernels))} | "
                   f"{_s(_median(runs['after'], 'warm_s'))} | {_s(jax_first_s)} | {_s(jax_warm_s)} | {ratio} |")
    if not jax_python:
        out += ["", "JAX: not measured (no interpreter with JAX: set FASTNN_BENCH_JAX_PYTHON)."]
    after, before = long_runs["after"], long_runs["before"]
    run = after["first_run"] or {}
    switched = run.get("switched_at")
    out += ["", f"A long fit: {long_case}, {long_epochs:,} epochs, fresh process, empty fastnn cache:", "",
            "| | whole fit | epochs on the generic kernel | their time | epochs on the generated kernel | "
            "their time | per epoch, generated part | per epoch, warm fit |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    if switched is not None:
        rest = long_epochs - switched
        out.append(f"| tiered (default) | {_s(after['first_s'])} | {switched:,} | {_s(run['generic_s'])} | "
                   f"{rest:,} | {_s(run['generated_s'])} | {run['generated_s'] / rest * 1e6:.1f} us | "
                   f"{after['warm_s'] / long_epochs * 1e6:.1f} us |")
    else:
        out.append(f"| tiered (default) | {_s(after['first_s'])} | {long_epochs:,} | {_s(run.get('generic_s'))} | "
                   f"0 (the compile had not finished) | | | {after['warm_s'] / long_epochs * 1e6:.1f} us |")
    out.append(f"| FASTNN_TIERING=0 (compile, then train) | {_s(before['first_s'])} | 0 | | {long_epochs:,} | | | "
               f"{before['warm_s'] / long_epochs * 1e6:.1f} us |")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
