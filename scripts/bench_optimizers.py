"""Issue 12's speed targets in one run: optimizers against plain SGD and JAX + optax.

    .venv/bin/python scripts/bench_optimizers.py      # JAX rows need `pip install jax optax`

Prints ns per step (per configuration-step for sweeps), medians of 7 timed calls after a
warm-up call (compilation excluded), for bench/cases.py's SGD and Adam cases and for the
1,024-configuration 2-2-1 sweep (64 learning rates x 16 He seeds, 200 epochs) with SGD and
Adam, fastnn.sweep against jax_impl's jit(vmap(...)); then nnfs chapter 15's dropout model
on the wide kernel against the generic one. Ratios are meaningful within a run.
"""
from __future__ import annotations

import importlib.util
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

# steady-state timings: kernels compiled (or loaded) in the warm-up, not tiered (fastnn.kernels.tiering)
os.environ.setdefault("FASTNN_TIERING", "0")

import numpy as np  # noqa: E402

import fastnn  # noqa: E402
from bench import cases  # noqa: E402
from fastnn.compare import fastnn_impl  # noqa: E402

HAVE_JAX = all(importlib.util.find_spec(m) for m in ("jax", "optax"))
CASES = (("seed000-221", 2000), ("seed000-221-adam", 2000), ("spiral-2-64-3", 50), ("spiral-2-64-3-adam", 50))


def median_ns(prepared, repeats=7):
    """Median ns per step of ``prepared.run`` after one untimed call."""
    prepared.run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        prepared.run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) / prepared.steps * 1e9


def training():
    print(f"{'case':22s} {'implementation':16s} {'ns/step':>10s}")
    for name, epochs in CASES:
        case = cases.CASES[name]
        for impl in ("numba", "generic", "jax"):
            if impl == "jax":
                if not HAVE_JAX:
                    continue
                from fastnn.compare import jax_impl

                # JAX compiles per epoch count: a tenth of the epochs for the long 2-2-1 runs
                prepared = jax_impl.prepare(case, epochs if "spiral" in name else epochs // 10)
            else:
                prepared = fastnn_impl.prepare(case, epochs, impl)
            print(f"{name:22s} {impl:16s} {median_ns(prepared):10.1f}", flush=True)


def sweeps():
    X, y = fastnn.datasets.quadratic(100, seed=0)
    lrs = np.geomspace(1e-4, 1e-2, 64)
    spec = fastnn.Network([2, 2, 1], "relu", "squared_error").spec
    initial = np.stack([spec.init_params("he", seed) for seed in range(16)])
    params = np.repeat(initial[None], 64, axis=0).reshape(1024, -1)  # configuration k: lr k // 16, seed k % 16
    for optimizer in ("sgd", "adam"):
        kwargs = dict(lr=lrs, seeds=range(16), init="he", optimizer=optimizer, progress=False)
        fastnn.sweep([2, 2, 1], X, y, epochs=2, **kwargs)  # compile or load the kernels
        seconds = statistics.median(fastnn.sweep([2, 2, 1], X, y, epochs=200, **kwargs).seconds for _ in range(5))
        ours = seconds / (1024 * 200 * len(X)) * 1e9
        line = f"sweep 1,024 x 2-2-1, {optimizer:4s}: fastnn {ours:6.2f} ns per configuration-step"
        if HAVE_JAX:
            from fastnn.compare import jax_impl

            case = cases.CASES["seed000-221-adam" if optimizer == "adam" else "seed000-221"]
            theirs = median_ns(jax_impl.prepare_sweep(case, 20, np.repeat(lrs, 16), params), 3)
            line += f", JAX jit(vmap) {theirs:6.2f} -> fastnn {theirs / ours:.1f}x faster"
        print(line, flush=True)


def dropout():
    """nnfs chapter 15's model: 2-64-3 ReLU/softmax on spiral(1000, 3), dropout 0.1 on the
    hidden layer, Adam(decay=5e-5), lr 0.05, full batch: ms per epoch on the wide
    kernel's dropout twin (backend "numba") and the generic kernel, and without dropout."""
    X, y = fastnn.datasets.spiral(1000, 3, seed=0)
    print(f"{'2-64-3 full batch, Adam':26s} {'backend':8s} {'dropout':>8s} {'ms/epoch':>9s}")
    for backend in ("numba", "generic"):
        for rate in (0.0, 0.1):
            net = fastnn.Network([2, 64, 3], ["relu", "softmax"], "categorical_cross_entropy", seed=0)
            kwargs = dict(lr=0.05, batch_size=None, optimizer=fastnn.Adam(decay=5e-5), dropout=rate, backend=backend)
            net.fit(X, y, epochs=2, **kwargs)  # compile or load
            times = []
            for _ in range(5):
                started = time.perf_counter()
                net.fit(X, y, epochs=100, **kwargs)
                times.append((time.perf_counter() - started) / 100)
            print(f"{'':26s} {backend:8s} {rate:8.1f} {statistics.median(times) * 1e3:9.3f}", flush=True)


if __name__ == "__main__":
    training()
    sweeps()
    dropout()
