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

First result (issue 14), one measurement per process, JSON on stdout:

* ``--first CASE``: ``Network(...)`` plus a 20-epoch ``fit`` on 100 samples of a shape of
  FIRST_CASES (what a person trying shapes in a notebook waits for), then the same again
  (``warm``: once the background compile finished and its kernel is loaded), and how the
  first fit ran (tiering.last_fit); ``--no-warm``: without the wait and the warm fit.
* ``--long CASE EPOCHS``: the same for a long fit, with the epochs each kernel trained and
  their speed.
* ``--jax CASE``: JAX's first call (trace, compile, run) and second call for the same job
  (run it with an interpreter that has JAX).
* ``--first-sweep``: ``fastnn.sweep`` over 5 hidden widths (FIRST_SWEEP: 2-h-1 networks, h
  in 2, 4, 8, 16, 32, 16 learning rates x 16 seeds each, 200 epochs on
  ``quadratic(100, seed=0)``, ReLU, per sample, 2 threads): the first call, then
  ``tiering.wait()`` and a second, warm call; ``--warm-up``: a sweep of other widths
  instead (fills numba's cache of the package sweep kernels); ``--no-warm``: the first call only.
* ``--call-overhead``: seconds per call of a 1-epoch ``fit`` of seed 000's network
  (3,000 calls after a warm-up): what every warm ``fit`` call pays.

``python -m bench.startup --first-result [--rounds N] [--json OUT.json]`` runs them all,
each in a fresh process with an empty fastnn cache (numba's cache of the package kernels
warm: a warm-up process runs first), before tiering (``FASTNN_TIERING=0``) and after,
writes the figures to OUT.json and prints the markdown of bench/RESULTS.md's "First
result" section (``bench/report.py``'s ``first_result_section``; ``python -m bench.report
--first-result-json OUT.json`` writes it into RESULTS.md). Parts: the FIRST_CASES rows,
``jax``, ``long`` (``--long-epochs N``, default 100,000), ``sweep``, ``cold`` (each case
with numba's cache empty too: the first fit ever on a machine), ``warm`` (a new process
with warm caches: import fastnn and seed 000's first fit, at least WARM_ROUNDS pairs of
processes, before and after in turn) and ``overhead``
(``--call-overhead``). ``--skip WORD`` (repeatable) leaves out every row whose case name
contains WORD (case-insensitive) and the parts so named; ``--skip-before WORD`` only the
before (``FASTNN_TIERING=0``) measurement of those; ``--no-before`` every before
measurement. The report says what was not run. ``FASTNN_BENCH_JAX_PYTHON`` names an
interpreter with JAX (default: /tmp/jaxenv/bin/python when it exists).
"""
import argparse
import hashlib
import importlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
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

# The sweep case: 2-h-1 ReLU networks over these hidden widths, 16 learning rates x 16 init
# seeds each (256 configurations a width), per sample, on quadratic(100, seed=0).
FIRST_SWEEP = dict(hidden=(2, 4, 8, 16, 32), lr_range=(1e-4, 1e-2), n_lrs=16, n_seeds=16, epochs=200,
                   samples=100, threads=2, activation="relu")
WARM_UP_SWEEP_HIDDEN = (3, 24)  # other widths: the warm-up must leave the timed shapes new
OVERHEAD_CALLS = 3000
# New processes with warm caches, before and after tiering in turn (the ``warm`` part).
WARM_ROUNDS = 12


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


def _digest(*arrays):
    """A short hash of arrays' bytes: the same numbers, bit for bit, across processes."""
    import numpy as np

    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
    return h.hexdigest()[:16]


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
    before = tiering.last_fit()
    first_s, history, net = _fit_case(case, epochs)
    run = tiering.last_fit()
    out = dict(case=case, epochs=epochs, import_s=import_s, first_s=first_s, tiering=tiering.enabled(),
               first_run=run if run is not before else None,
               digest=_digest(np.asarray(history), net.params))
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
    return dict(case=case, import_s=import_s, first_s=times[0], warm_s=times[1], jax_version=jax.__version__,
                finite=bool(np.isfinite(np.asarray(out[1])).all()))


def first_sweep(warm_up=False, no_warm=False):
    """``--first-sweep``: FIRST_SWEEP's first ``fastnn.sweep`` call in this process, then
    (once ``tiering.wait()`` returned: every background compile ended) a second, warm one.
    Only times ``fastnn.sweep`` calls: whichever kernels a sweep of new shapes starts on."""
    t0 = time.perf_counter()
    import numpy as np

    import fastnn
    from fastnn import datasets
    from fastnn.kernels import tiering

    import_s = time.perf_counter() - t0
    s = FIRST_SWEEP
    X, y = datasets.quadratic(s["samples"], seed=0)
    hidden = list(WARM_UP_SWEEP_HIDDEN if warm_up else s["hidden"])
    lrs = np.geomspace(*s["lr_range"], s["n_lrs"])

    def call(epochs):
        started = time.perf_counter()
        result = fastnn.sweep([2, hidden[0], 1], X, y, lrs, seeds=range(s["n_seeds"]), hidden=hidden, epochs=epochs,
                              activation=s["activation"], threads=s["threads"], progress=False)
        return time.perf_counter() - started, result

    if warm_up:
        call(5)
        tiering.wait()
        return dict(warm_up=True, hidden=hidden)
    first_s, result = call(s["epochs"])
    jobs = tiering.jobs()  # the background compiles the first call started (empty: it compiled in the foreground)
    if no_warm:
        return dict(hidden=hidden, configs=int(len(result.losses)), epochs=s["epochs"], import_s=import_s,
                    tiering=tiering.enabled(), first_s=first_s, background_jobs=len(jobs))
    started = time.perf_counter()
    tiering.wait()
    wait_s = time.perf_counter() - started
    warm_s, warm = call(s["epochs"])

    def digest(r):
        return _digest(r.losses, r.diverged_epoch, *(g.params for g in r.groups))

    return dict(hidden=hidden, configs=int(len(result.losses)), epochs=s["epochs"], import_s=import_s,
                tiering=tiering.enabled(), first_s=first_s, first_training_s=result.seconds,
                first_compile_s=result.compile_seconds, background_jobs=len(jobs), compile_wait_s=wait_s,
                warm_s=warm_s, warm_training_s=warm.seconds, warm_compile_s=warm.compile_seconds,
                digest=digest(result), same_numbers=digest(result) == digest(warm))


def call_overhead(calls=OVERHEAD_CALLS):
    """``--call-overhead``: seconds per call of a 1-epoch fit of seed 000's network (its
    kernel compiled and loaded by a warm-up call), the median of three stretches."""
    from fastnn import datasets, seeds

    net = seeds.seed000_network()
    X, y = datasets.quadratic(100, seed=0)
    net.fit(X, y, seeds.SEED000_LR, 1)
    stretches = []
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(calls // 3):
            net.fit(X, y, seeds.SEED000_LR, 1)
        stretches.append((time.perf_counter() - started) / (calls // 3))
    return dict(calls=calls, per_call_s=statistics.median(stretches))


def _parser():
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__.splitlines()[0])
    parser.add_argument("--all-cases", action="store_true")
    parser.add_argument("--floor", action="store_true")
    parser.add_argument("--wait", action="store_true")
    parser.add_argument("--first", metavar="CASE")
    parser.add_argument("--no-warm", action="store_true")
    parser.add_argument("--long", nargs=2, metavar=("CASE", "EPOCHS"))
    parser.add_argument("--jax", metavar="CASE")
    parser.add_argument("--first-sweep", action="store_true")
    parser.add_argument("--warm-up", action="store_true", help="--first-sweep: other widths, untimed")
    parser.add_argument("--call-overhead", action="store_true")
    parser.add_argument("--first-result", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="--first-result: fresh processes per cell (median)")
    parser.add_argument("--long-epochs", type=int, default=100_000)
    parser.add_argument("--skip", action="append", default=[], metavar="WORD",
                        help="--first-result: leave out the rows whose case contains WORD, and the parts named WORD "
                             "(jax, long, sweep, cold, warm, overhead)")
    parser.add_argument("--skip-before", action="append", default=[], metavar="WORD",
                        help="--first-result: leave out the FASTNN_TIERING=0 measurement of those rows / parts")
    parser.add_argument("--no-before", action="store_true", help="--first-result: no FASTNN_TIERING=0 measurement")
    parser.add_argument("--json", metavar="PATH", help="--first-result: write the figures here")
    parser.add_argument("--note", help="--first-result: a paragraph for the report (kept in the JSON)")
    return parser


def main(argv=None):
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.floor:
        json.dump(floor(), sys.stdout)
        return 0
    if args.first:
        json.dump(first(args.first, no_warm=args.no_warm), sys.stdout)
        return 0
    if args.long:
        json.dump(first(args.long[0], int(args.long[1])), sys.stdout)
        return 0
    if args.jax:
        json.dump(jax_first(args.jax), sys.stdout)
        return 0
    if args.first_sweep:
        json.dump(first_sweep(warm_up=args.warm_up, no_warm=args.no_warm), sys.stdout)
        return 0
    if args.call_overhead:
        json.dump(call_overhead(), sys.stdout)
        return 0
    if args.first_result:
        if args.rounds < 1:
            raise SystemExit("--rounds: at least 1")
        data = first_result(args.rounds, args.long_epochs, args.skip, args.skip_before, args.no_before,
                            log=lambda line: print(line, file=sys.stderr, flush=True), json_path=args.json)
        given = list(sys.argv[1:] if argv is None else argv)
        if "--note" in given:  # the note is printed on its own
            del given[given.index("--note") : given.index("--note") + 2]
        words = [a if a.startswith("-") or " " not in a else f'"{a}"' for a in given]
        data["command"] = "python -m bench.startup " + " ".join(words)
        if args.note:
            data["note"] = args.note
        if args.json:
            Path(args.json).write_text(json.dumps(data, indent=1) + "\n")
        from bench import report

        print("\n".join(report.first_result_section(data)))
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
    if args.all_cases:
        from bench import cases

        first_by_case = {}
        for case in cases.CASES.values():
            net = case.network()
            X, y = case.data()
            start = time.perf_counter()
            net.fit(X, y, case.lr, 1, batch_size=case.batch_size)
            first_by_case[case.name] = time.perf_counter() - start
        out["first_fit_by_case_s"] = first_by_case
    if args.wait:
        from fastnn.kernels import tiering

        tiering.wait()
    json.dump(out, sys.stdout)
    return 0


# ------------------------------------------------------------------ the first-result run

def _run(args, env, python=None):
    done = subprocess.run([python or sys.executable, "-m", "bench.startup", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"bench.startup {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def _env(fastnn_cache, tiering=True, numba_cache=None):
    env = dict(os.environ, FASTNN_CACHE_DIR=str(fastnn_cache))
    for name in ("FASTNN_NO_CACHE", "FASTNN_TIERING"):
        env.pop(name, None)
    if not tiering:
        env["FASTNN_TIERING"] = "0"
    if numba_cache is not None:
        env["NUMBA_CACHE_DIR"] = str(numba_cache)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # users' processes read the bytecode cache
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))
    return env


def _jax_python():
    path = os.environ.get("FASTNN_BENCH_JAX_PYTHON") or "/tmp/jaxenv/bin/python"
    return path if os.access(path, os.X_OK) else None


PARTS = ("jax", "long", "sweep", "cold", "warm", "overhead")


def _matches(name, words):
    return [w for w in words if w.lower() in name.lower()]


def _machine():
    from fastnn.benchmark import _version  # (the orchestrating process only: nothing timed here)

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    try:
        import llvmlite.binding as llvm

        llvm_cpu = llvm.get_host_cpu_name()
    except Exception:  # noqa: BLE001 - informative only
        llvm_cpu = None
    commit = subprocess.run(["git", "rev-parse", "--short=10", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                           text=True)
    return dict(cpu=cpu, llvm_cpu=llvm_cpu, cores=os.cpu_count(), python=platform.python_version(),
                versions={n: _version(n) for n in ("fastnn", "numpy", "numba", "llvmlite")},
                commit=commit.stdout.strip() or None, dirty=bool(dirty.stdout.strip()))


def first_result(rounds=3, long_epochs=100_000, skip=(), skip_before=(), no_before=False, log=None, json_path=None):
    """Every part of the first-result benchmark (see the module's docstring) in fresh
    processes, each with an empty fastnn cache (numba's cache of the package kernels warmed
    first); each case ``rounds`` times. Returns the figures as a dict (JSON-ready), which
    ``bench/report.py``'s ``first_result_section`` turns into markdown. A process that
    fails is listed in ``failed`` (its last line of error) and the run goes on;
    ``json_path``: the figures so far are written there after every process."""
    log = log or (lambda line: None)
    skipped, failed = [], []

    def wanted(name):
        why = _matches(name, skip)
        if why:
            skipped.append(f"{name} (--skip {why[0]})")
        return not why

    def labels(name):
        """The settings to run ``name`` with: ("before", False) unless skipped, ("after", True)."""
        why = ["--no-before"] if no_before else [f"--skip-before {w}" for w in _matches(name, skip_before)]
        if why:
            skipped.append(f"{name}: before, FASTNN_TIERING=0 ({why[0]})")
            return (("after", True),)
        return (("before", False), ("after", True))

    data = dict(kind="first-result", date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), rounds=rounds,
                epochs=FIRST_EPOCHS, samples=FIRST_SAMPLES, lr=FIRST_LR, machine=_machine(),
                load_before=list(os.getloadavg()), skipped=skipped, failed=failed)

    def save():
        if json_path:
            Path(json_path).write_text(json.dumps(dict(data, load_after=list(os.getloadavg())), indent=1) + "\n")

    def measure(what, args, env, python=None):
        """One process's figures, or None (listed in ``failed``) if it failed."""
        log(what)
        try:
            return _run(args, env, python)
        except (RuntimeError, subprocess.TimeoutExpired, ValueError) as error:
            last = [line for line in str(error).splitlines() if line.strip()]
            failed.append(f"{what}: {last[-1].strip() if last else type(error).__name__}")
            log(f"  failed: {failed[-1]}")
            return None
        finally:
            save()

    def add(runs, result):
        if result is not None:
            runs.append(result)

    jax_python = _jax_python() if wanted("jax") else None
    data["jax_python"] = jax_python
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        counter = iter(range(1_000_000))

        def fresh(label="run"):
            return scratch / f"{label}-{next(counter)}"

        measure("warming numba's cache of the package kernels (untimed)", ["--first", next(iter(FIRST_CASES))],
                _env(fresh("warm-up")))
        rows = []
        data["cases"] = rows
        for case in FIRST_CASES:
            if not wanted(case):
                continue
            runs = {"before": [], "after": [], "jax": []}
            settings = labels(case)
            rows.append(dict(case=case, runs=runs, before_run="before" in dict(settings)))
            for r in range(rounds):
                for label, tiering in settings:
                    add(runs[label], measure(f"{case}: {label}, round {r + 1}", ["--first", case],
                                             _env(fresh(label), tiering)))
                if jax_python:
                    add(runs["jax"], measure(f"{case}: JAX, round {r + 1}", ["--jax", case], _env(fresh("jax")),
                                             python=jax_python))
        if wanted("long"):
            long_case = next(iter(FIRST_CASES))
            data["long"] = dict(case=long_case, epochs=long_epochs)
            for label, tiering in labels("long"):
                result = measure(f"long fit: {label}", ["--long", long_case, str(long_epochs)],
                                 _env(fresh("long"), tiering))
                if result is not None:
                    data["long"][label] = result
        if wanted("sweep"):
            measure("sweep: warming numba's cache of the package sweep kernels (untimed)",
                    ["--first-sweep", "--warm-up"], _env(fresh("sweep-warm-up")))
            sweep = dict(FIRST_SWEEP, before=[], after=[])
            data["sweep"] = sweep
            settings = labels("sweep")
            for r in range(rounds):
                for label, tiering in settings:
                    add(sweep[label], measure(f"sweep: {label}, round {r + 1}", ["--first-sweep"],
                                              _env(fresh("sweep"), tiering)))
        if wanted("cold"):
            cold = []
            data["cold"] = cold
            for case in FIRST_CASES:
                if _matches(case, skip):
                    continue
                entry = dict(case=case)
                cold.append(entry)
                for label, tiering in labels(f"cold: {case}"):
                    root = fresh("cold")
                    result = measure(f"cold: {case}: {label}", ["--first", case, "--no-warm"],
                                     _env(root / "fastnn", tiering, numba_cache=root / "numba"))
                    if result is not None:
                        entry[label] = result
        want_warm, want_overhead = wanted("warm"), wanted("overhead")
        if want_warm or want_overhead:
            root = fresh("warm-caches")
            measure("warm caches: filling them (untimed)", ["--wait"], _env(root))  # seed 000's kernels
        if want_warm:
            warm = dict(before=[], after=[])
            data["warm"] = warm
            # at least WARM_ROUNDS pairs: the two settings differ by milliseconds, and one
            # process's time by up to a tenth of a second on this shared machine
            # (a pair one of whose processes failed is left out whole: the report pairs them)
            for r in range(max(rounds, WARM_ROUNDS)):
                results = {label: measure(f"warm caches: {label}, round {r + 1}", [], _env(root, tiering))
                           for label, tiering in labels("warm")}
                if None not in results.values():
                    for label, result in results.items():
                        add(warm[label], result)
        if want_overhead:
            data["overhead"] = {}
            for label, tiering in labels("overhead"):
                result = measure(f"fit call overhead: {label}", ["--call-overhead"], _env(root, tiering))
                if result is not None:
                    data["overhead"][label] = result
    data["load_after"] = list(os.getloadavg())
    save()
    return data


def first_result_table(rounds=3, long_epochs=100_000, **kwargs):
    """The markdown of the first-result section for a new run (see ``first_result``)."""
    from bench import report

    return "\n".join(report.first_result_section(first_result(rounds, long_epochs, **kwargs)))


if __name__ == "__main__":
    sys.exit(main())
