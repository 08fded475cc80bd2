"""Benchmark set-up: machine and version info for the JSON, and the smoke-mode switch.

With ``--benchmark-disable`` (the default in pyproject.toml) every benchmark runs its
callable once, with the cases' small ``smoke_epochs``, and checks the numbers against
``fastnn.reference``; ``--benchmark-enable`` times them (see scripts/bench).
"""
import os
import platform

import pytest

# Steady-state benchmarks time the kernels a shape ends on: compiled (or loaded) in the
# warm-up, not a first run on the shape-generic ones while they compile in the background
# (fastnn.kernels.tiering). The start-up benchmarks (bench/startup.py) set their own.
os.environ.setdefault("FASTNN_TIERING", "0")


def _version(module):
    from importlib import metadata

    try:
        return metadata.version(module)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _host_cpu_name():
    try:
        import llvmlite.binding as llvm

        return llvm.get_host_cpu_name()
    except Exception:  # noqa: BLE001 - informative only
        return None


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info["fastnn"] = {
        "cpu_model": _cpu_model(),
        "llvm_cpu": _host_cpu_name(),
        "cores": os.cpu_count(),
        "versions": {
            name: _version(name)
            for name in ("fastnn", "numpy", "numba", "llvmlite", "jax", "jaxlib", "torch", "pytest-benchmark")
        },
    }


@pytest.fixture
def smoke(benchmark):
    """True when benchmarks are disabled (a normal test run): run once, small and checked."""
    return benchmark.disabled


def _cpu_ticks():
    """(stolen, busy) jiffies of all CPUs so far from /proc/stat, or None (not Linux).

    stolen: time the virtual CPUs wanted to run but the hypervisor ran other guests; busy:
    user + nice + system + irq + softirq + stolen (guest time is already inside user)."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in fields[1:9])
    except (OSError, ValueError):
        return None
    return steal, user + nice + system + irq + softirq + steal


@pytest.fixture(autouse=True)
def _cpu_stolen(request):
    """extra_info["cpu_stolen"]: the share of busy CPU time the hypervisor gave to other
    guests while this benchmark ran (compilation and checks included). On a shared host it
    explains much of the run-to-run spread: stolen time stretches every timed region."""
    if "benchmark" not in request.fixturenames:
        yield
        return
    benchmark = request.getfixturevalue("benchmark")
    before = _cpu_ticks()
    yield
    after = _cpu_ticks()
    if before and after and after[1] > before[1]:
        benchmark.extra_info["cpu_stolen"] = (after[0] - before[0]) / (after[1] - before[1])
