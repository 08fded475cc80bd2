"""Start-up benchmarks, each in a fresh process (``python -m bench.startup``).

* compile time: empty ``NUMBA_CACHE_DIR`` and ``FASTNN_CACHE_DIR`` (new temporary
  directories every round), so the process imports fastnn and JIT-compiles everything
  its first fit needs (generic kernels and fastnn's generated ones alike);
* cold start: the same with both caches warm, what a user pays in every new ``python``
  after the first;
* numba floor: a process that imports numpy and numba and calls one cached one-line
  @njit function (bench/floor_kernel.py), cache warm: what any numba-based package pays
  before its first result, fastnn's share of the cold start being the rest.

Cold start and floor are timed twice: with this interpreter (the bench venv, where JAX
brought scipy, which numba imports when its CPU target starts) and with a venv holding
only fastnn and its dependencies (``core``: scripts/bench makes it; skipped without it).

The timed figure is the wall time of the whole process (interpreter start included); the
process's own breakdown (import, first fit, second fit) goes to ``extra_info``. The
timed rounds fit seed 000's network only; in timed mode one more (untimed) process per
benchmark fits every case of bench/cases.py and records each first fit, since each
architecture may compile its own kernels. Smoke mode runs each benchmark once.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import startup

ROOT = Path(__file__).resolve().parent.parent


# The interpreters a start-up is timed in: "bench", this one (its venv has the compare
# extra: JAX brings scipy, which numba imports while setting up its CPU target, a few
# tenths of a second); "core", a venv with fastnn and its own dependencies only, what
# ``pip install fastnn`` gives (scripts/bench makes .venv-core and names its python in
# FASTNN_BENCH_CORE_PYTHON; without it those rows are skipped).
CORE_PYTHON_VAR = "FASTNN_BENCH_CORE_PYTHON"


def _python(venv):
    if venv == "bench":
        return sys.executable
    path = os.environ.get(CORE_PYTHON_VAR)
    if not path or not os.access(path, os.X_OK):
        pytest.skip(f"{CORE_PYTHON_VAR} names no python (scripts/bench sets it)")
    return path


def _env(root):
    """The environment with numba's and fastnn's caches under ``root``."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(root / "numba"), FASTNN_CACHE_DIR=str(root / "fastnn"))
    env.pop("FASTNN_NO_CACHE", None)
    env.pop("FASTNN_TIERING", None)  # fastnn's default: tiered compilation (fastnn.kernels.tiering)
    # A developer shell's PYTHONDONTWRITEBYTECODE would make every process compile fastnn's
    # sources again (~50 ms); users' processes read the bytecode cache.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))
    return env


def _start(env, all_cases=False, floor=False, python=None, wait=False, args=()):
    """One ``python -m bench.startup`` process; ``wait``: it waits for its background
    compiles before exiting (fastnn.kernels.tiering), leaving the caches warm."""
    command = [python or sys.executable, "-m", "bench.startup"] + (["--all-cases"] if all_cases else [])
    command += (["--floor"] if floor else []) + (["--wait"] if wait else []) + list(args)
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _record(benchmark, figures, kind):
    benchmark.group = "startup"
    benchmark.extra_info.update(kind=kind, **figures)
    assert figures["import_s"] > 0 and figures["first_fit_s"] > 0
    # The second fit reuses what the first compiled or loaded.
    assert figures["second_fit_s"] < max(0.5, figures["first_fit_s"])


# Cache roots that a finished run has filled: "seed000" (seed 000's kernels) and "all"
# (every case's). The cold-start benchmark reuses them instead of compiling again.
_WARM = {}


def test_compile_time(benchmark, smoke, tmp_path_factory):
    """import fastnn + first fit of seed 000's network, nothing cached (the generic
    kernels compile; the generated one compiles in the background, tiering)."""
    roots = []

    def fresh_caches():
        roots.append(tmp_path_factory.mktemp("caches-empty"))
        return (_env(roots[-1]),), {}

    figures = benchmark.pedantic(_start, setup=fresh_caches, rounds=1 if smoke else 3)
    _WARM["seed000"] = roots[-1]
    if not smoke:
        root = tmp_path_factory.mktemp("caches-empty")
        figures["first_fit_by_case_s"] = _start(_env(root), all_cases=True)["first_fit_by_case_s"]
        _WARM["all"] = root
    _record(benchmark, figures, "compile")


@pytest.mark.parametrize("venv", ["bench", "core"])
def test_cold_start(benchmark, smoke, tmp_path_factory, venv):
    """import fastnn + first fit of seed 000's network, numba's and fastnn's caches warm."""
    python = _python(venv)
    need = "seed000" if smoke else "all"
    env = _env(_WARM[need] if need in _WARM else tmp_path_factory.mktemp("caches-warm"))
    # fill the caches (not timed), the background compiles of the generated kernels too
    _start(env, all_cases=not smoke, wait=True)
    if venv != "bench":
        _start(env, python=python)  # its numba may file its own cache entries (not timed)
    figures = benchmark.pedantic(
        _start, args=(env,), kwargs=dict(python=python), rounds=1 if smoke else 5, warmup_rounds=0 if smoke else 1
    )
    if not smoke and venv == "bench":
        figures["first_fit_by_case_s"] = _start(env, all_cases=True)["first_fit_by_case_s"]
    _record(benchmark, figures, "cold" if venv == "bench" else "cold-core")


@pytest.mark.parametrize("venv", ["bench", "core"])
def test_numba_floor(benchmark, smoke, tmp_path_factory, venv):
    """import numpy + numba and one call of a cached one-line @njit function, cache warm."""
    python = _python(venv)
    env = _env(tmp_path_factory.mktemp("caches-floor"))
    _start(env, floor=True, python=python)  # fill numba's cache (not timed)
    figures = benchmark.pedantic(
        _start, args=(env,), kwargs=dict(floor=True, python=python), rounds=1 if smoke else 5,
        warmup_rounds=0 if smoke else 1,
    )
    _record(benchmark, figures, "floor" if venv == "bench" else "floor-core")


@pytest.mark.parametrize("case", list(startup.FIRST_CASES))
def test_first_result(benchmark, smoke, tmp_path_factory, case):
    """Network(...) + a 20-epoch fit of a shape new to the fastnn cache (numba's cache of
    the package kernels warm), then the same once the generated kernel is compiled and
    loaded: the numbers are the same, bit for bit (``python -m bench.startup --first``).
    Smoke mode runs the first case once and does not wait for its background compile."""
    if smoke and case != next(iter(startup.FIRST_CASES)):
        pytest.skip("smoke mode: the first case only")
    root = tmp_path_factory.mktemp("first-result")
    env = _env(root)
    env.pop("NUMBA_CACHE_DIR")  # numba's own cache of the package kernels: this checkout's
    if "NUMBA_CACHE_DIR" in os.environ:
        env["NUMBA_CACHE_DIR"] = os.environ["NUMBA_CACHE_DIR"]
    _start(env)  # ... warm (not timed)
    counter = iter(range(100))

    def fresh_fastnn_cache():
        return (dict(env, FASTNN_CACHE_DIR=str(root / f"fastnn-{next(counter)}")),), {}

    args = ["--first", case] + (["--no-warm"] if smoke else [])
    figures = benchmark.pedantic(lambda env: _start(env, args=args), setup=fresh_fastnn_cache,
                                 rounds=1 if smoke else 3)
    benchmark.group = "first-result"
    benchmark.extra_info.update(kind="first-result", **figures)
    assert figures["first_run"] is not None, "the first fit did not tier"
    if not smoke:
        assert figures["same_numbers"]
