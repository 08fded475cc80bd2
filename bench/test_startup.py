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


def test_first_sweep(benchmark, smoke, tmp_path_factory):
    """``python -m bench.startup --first-sweep``: the first ``fastnn.sweep`` of 5 new widths
    in a fresh process (empty fastnn cache, numba's cache of the package sweep kernels
    warmed by a sweep of other widths), then a warm one after ``tiering.wait()``: the same
    numbers. Smoke mode: the first call only, no warm-up."""
    root = tmp_path_factory.mktemp("first-sweep")
    env = _env(root)
    env.pop("NUMBA_CACHE_DIR")
    if "NUMBA_CACHE_DIR" in os.environ:
        env["NUMBA_CACHE_DIR"] = os.environ["NUMBA_CACHE_DIR"]
    if not smoke:
        _start(dict(env, FASTNN_CACHE_DIR=str(root / "warm-up")), args=["--first-sweep", "--warm-up"])
    counter = iter(range(100))

    def fresh_fastnn_cache():
        return (dict(env, FASTNN_CACHE_DIR=str(root / f"fastnn-{next(counter)}")),), {}

    args = ["--first-sweep"] + (["--no-warm"] if smoke else [])
    figures = benchmark.pedantic(lambda env: _start(env, args=args), setup=fresh_fastnn_cache,
                                 rounds=1 if smoke else 3)
    benchmark.group = "first-result"
    benchmark.extra_info.update(kind="first-sweep", **figures)
    assert figures["configs"] == 5 * 256 and figures["first_s"] > 0
    if not smoke:
        assert figures["same_numbers"] and figures["warm_s"] > 0


# ------------------------------------------------------------------ the report's section

def _fake_first_result(**changes):
    """A first-result JSON as ``bench.startup.first_result`` writes it (made-up figures)."""
    case, adam = "2-26-1 tanh, batches of 16", "3-18-2 relu, batches of 16, Adam"

    def fit(first_s, tiering=True, switched_at=None, digest="d1"):
        return dict(case=case, epochs=20, import_s=0.2, first_s=first_s, tiering=tiering, digest=digest,
                    first_run=dict(epochs=20, generic_epochs=20, switched_at=switched_at, slices=2, generic_s=0.005,
                                   generated_s=0.0) if tiering else None,
                    compile_wait_s=2.0, compile_s=[3.0], warm_s=0.0007, same_numbers=True)

    data = dict(
        kind="first-result", date="2026-12-01 10:00 UTC", rounds=1, epochs=20, samples=100, lr=0.01,
        machine=dict(cpu="AMD EPYC", cores=2, versions=dict(numba="0.68.1"), commit="abc", dirty=False),
        load_before=[1.0, 1, 1], load_after=[1.5, 1, 1], jax_python="/tmp/jaxenv/bin/python",
        command="python -m bench.startup --first-result --rounds 1 --skip-before adam",
        skipped=[f"{adam}: before, FASTNN_TIERING=0 (--skip-before adam)"],
        cases=[dict(case=case, before_run=True,
                    runs=dict(before=[fit(2.8, tiering=False)], after=[fit(0.25)],
                              jax=[dict(first_s=0.44, warm_s=0.0004, jax_version="0.10.2")])),
               dict(case=adam, before_run=False, runs=dict(before=[], after=[fit(0.6)], jax=[]))],
        long=dict(case=case, epochs=100_000,
                  after=dict(fit(5.1, switched_at=57_802), warm_s=2.78),
                  before=dict(fit(6.05, tiering=False), warm_s=2.83)),
        sweep=dict(hidden=[2, 4, 8, 16, 32], lr_range=[1e-4, 1e-2], n_lrs=16, n_seeds=16, epochs=200, samples=100,
                   threads=2, activation="relu",
                   before=[dict(first_s=13.1, warm_s=0.8, background_jobs=0, same_numbers=True, digest="s")],
                   after=[dict(first_s=1.2, warm_s=0.8, first_compile_s=0.4, first_training_s=0.8,
                               background_jobs=3, same_numbers=True, digest="s")]),
        cold=[dict(case=case, after=dict(fit(3.35), first_run=dict(switched_at=None, generic_s=0.01)),
                   before=dict(fit(3.14, tiering=False)))],
        warm=dict(before=[dict(import_s=0.2, first_fit_s=0.05)], after=[dict(import_s=0.2, first_fit_s=0.04)]),
        overhead=dict(before=dict(calls=3000, per_call_s=66e-6), after=dict(calls=3000, per_call_s=64e-6)),
    )
    data["long"]["after"]["first_run"].update(generic_s=3.57, generated_s=1.24)
    data.update(changes)
    return data


def test_first_result_section():
    """bench/report.py's section: the tables, the targets computed from the numbers, what
    was not run said, never a made-up cell."""
    from bench import report

    text = "\n".join(report.first_result_section(_fake_first_result()))
    assert text.startswith(report.FIRST_RESULT_BEGIN) and text.endswith(report.FIRST_RESULT_END)
    assert "| 2-26-1 tanh, batches of 16 | 2.80 s | 0.25 s | generic | 0.7 ms | 0.44 s | 0.4 ms | 0.57x |" in text
    assert "| 3-18-2 relu, batches of 16, Adam | not run | 0.60 s | generic | 0.7 ms | " in text
    assert "Target: first `fit` within 0.5 s of `Network(...)`" in text
    assert "**not met** (worst 0.60 s, 3-18-2 relu, batches of 16, Adam" in text
    assert "| tiered (default) | 5.10 s | 57,802 | 3.57 s | 42,198 | 1.24 s | 29.4 us | 27.8 us |" in text
    assert "| 13.10 s | 0.80 s | 1.20 s | 0.80 s | 1.50x | 3 | 0.40 s / 0.80 s |" in text
    assert "the first call at most 2x the warm call: **met** (1.50x; before: 16.4x)" in text
    assert "first fit ever on a machine <= 3 s: **not met** (3.35 s)" in text
    assert ("tiered minus FASTNN_TIERING=0, pair by pair: median -10.0 ms (from -10 to -10 ms); target (as fast as "
            "before tiering or faster): **met**") in text
    # the verdict is the median of the pairs' differences, not the difference of the medians
    pairs = _fake_first_result(warm=dict(
        before=[dict(import_s=0.2, first_fit_s=f) for f in (0.05, 0.30, 0.06)],
        after=[dict(import_s=0.2, first_fit_s=f) for f in (0.04, 0.29, 0.20)]))  # medians 0.40 s against 0.26
    assert ("median -10.0 ms (from -10 to +140 ms); target (as fast as before tiering or faster): **met**"
            in "\n".join(report.first_result_section(pairs)))
    assert "64.0 us, against 66.0 us with FASTNN_TIERING=0" in text
    assert "Not run in this run (so not in the tables): 3-18-2 relu, batches of 16, Adam: before" in text
    # without the optional parts, nothing about them
    bare_data = _fake_first_result(sweep=None, cold=None, warm=None, overhead=None, long=None, jax_python=None)
    for row in bare_data["cases"]:
        row["runs"]["jax"] = []
    bare = "\n".join(report.first_result_section(bare_data))
    assert "### A sweep of new shapes" not in bare and "**Both**" not in bare and "A long fit" not in bare
    assert "| 2-26-1 tanh, batches of 16 | 2.80 s | 0.25 s | generic | 0.7 ms | not run |  |  |" in bare


def test_report_writes_and_keeps_the_first_result_section(tmp_path):
    """``python -m bench.report --first-result-json F RESULTS.md`` replaces the section (a
    hand-written one too) and leaves the rest; a full rewrite keeps it before '## Machine'."""
    from bench import report

    results = tmp_path / "RESULTS.md"
    results.write_text("# fastnn benchmark results\n\n## Start-up\n\nstart-up text\n\n## First result\n\n"
                       "hand-written\n\n## Machine\n\n- CPU: x\n")
    first = tmp_path / "first.json"
    first.write_text(json.dumps(_fake_first_result()))
    assert report.main(["--first-result-json", str(first), str(results)]) == 0
    text = results.read_text()
    assert "hand-written" not in text and text.count("## First result") == 1
    assert text.index("## Start-up") < text.index(report.FIRST_RESULT_BEGIN) < text.index("## Machine")
    assert "start-up text" in text and "- CPU: x" in text
    assert report.main(["--first-result-json", str(first), str(results)]) == 0  # again: in place
    assert results.read_text() == text
    bench_json = tmp_path / "bench.json"
    bench_json.write_text(json.dumps(dict(benchmarks=[], machine_info={}, commit_info={}, datetime="now")))
    assert report.main([str(bench_json), str(results)]) == 0
    rewritten = results.read_text()
    assert "start-up text" not in rewritten  # the rest is rewritten from the benchmark JSON
    section = text[text.index(report.FIRST_RESULT_BEGIN) : text.index(report.FIRST_RESULT_END)]
    assert section in rewritten and rewritten.index(report.FIRST_RESULT_BEGIN) < rewritten.index("## Machine")


def test_first_result_run_skips_what_it_is_told(monkeypatch):
    """``first_result`` (processes replaced by a fake): --skip leaves rows and parts out,
    --skip-before the FASTNN_TIERING=0 runs of the matching ones, and both are listed."""
    calls = []

    def fake_run(args, env, python=None):
        calls.append((tuple(args), env.get("FASTNN_TIERING"), python))
        if args and args[0] == "--call-overhead":
            return dict(calls=3000, per_call_s=6e-5)
        if args and args[0] == "--first-sweep":
            return dict(first_s=1.0, warm_s=0.5, background_jobs=0, same_numbers=True, digest="s")
        return dict(first_s=0.3, warm_s=0.001, import_s=0.2, first_fit_s=0.05, tiering=env.get("FASTNN_TIERING") != "0",
                    first_run=None, digest="d", same_numbers=True)

    monkeypatch.setattr(startup, "_run", fake_run)
    monkeypatch.setattr(startup, "_jax_python", lambda: None)
    data = startup.first_result(rounds=2, long_epochs=10, skip=["sigmoid", "long", "cold"], skip_before=["adam"])
    json.dumps(data)  # JSON-ready
    assert [row["case"] for row in data["cases"]] == [c for c in startup.FIRST_CASES if "sigmoid" not in c]
    adam = next(row for row in data["cases"] if "Adam" in row["case"])
    assert adam["runs"]["before"] == [] and len(adam["runs"]["after"]) == 2 and not adam["before_run"]
    assert "long" not in data and "cold" not in data and len(data["sweep"]["before"]) == 2
    assert not any(args[:1] == ("--long",) for args, _, _ in calls)
    assert not any("--no-warm" in args for args, _, _ in calls)  # the cold part
    assert any("--skip sigmoid" in s for s in data["skipped"]) and any("--skip-before adam" in s for s in data["skipped"])
    assert set(data["overhead"]) == {"before", "after"}
    assert len(data["warm"]["after"]) == len(data["warm"]["before"]) == startup.WARM_ROUNDS  # at least that many pairs
    bare = startup.first_result(rounds=1, skip=["tanh", "relu", "sigmoid", "jax", "long", "sweep", "cold", "warm",
                                                "overhead"], no_before=True)
    assert bare["cases"] == [] and not {"sweep", "warm", "overhead"} & set(bare)


def test_first_result_run_goes_on_past_a_failed_process(monkeypatch, tmp_path):
    """A process that fails is listed (its last line of error), the run goes on, the JSON
    is written as it goes, and the report says "failed" where its figure would be."""
    from bench import report

    def fake_run(args, env, python=None):
        if args[:1] == ["--first"] and "Adam" in args[1] and env.get("FASTNN_TIERING") != "0":
            raise RuntimeError("bench.startup --first ... failed:\nTraceback\nTypeError: broken")
        return dict(first_s=0.3, warm_s=0.001, tiering=env.get("FASTNN_TIERING") != "0", first_run=None,
                    digest="d", same_numbers=True)

    monkeypatch.setattr(startup, "_run", fake_run)
    monkeypatch.setattr(startup, "_jax_python", lambda: None)
    path = tmp_path / "first.json"
    data = startup.first_result(rounds=1, skip=["tanh", "relu, batches of 16 |", "sigmoid", "long", "sweep", "cold",
                                                "warm", "overhead"], json_path=str(path))
    assert data["failed"] == ["3-18-2 relu, batches of 16, Adam: after, round 1: TypeError: broken"]
    assert json.loads(path.read_text())["failed"] == data["failed"]
    text = "\n".join(report.first_result_section(data))
    assert "| 3-18-2 relu, batches of 16, Adam | 0.30 s | failed |" in text
    assert "Failed in this run (no figures): 3-18-2 relu, batches of 16, Adam: after, round 1: TypeError: broken." in text
