"""Benchmark set-up: machine and version info for the JSON, and the smoke-mode switch.

With ``--benchmark-disable`` (the default in pyproject.toml) every benchmark runs its
callable once, with the cases' small ``smoke_epochs``, and checks the numbers against
``fastnn.reference``; ``--benchmark-enable`` times them (see scripts/bench).
"""
import os
import platform

import pytest


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
