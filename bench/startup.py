"""What a fresh process pays before its first result: run as ``python -m bench.startup``.

Times ``import fastnn``, building seed 000's network and its first ``fit`` (1 epoch on
``quadratic(100, seed=0)``: JIT compilation, or loading numba's cache), then a second fit
(already compiled), and prints the figures as JSON on stdout. ``--all-cases`` also times
the first fit of every other case in bench/cases.py (each may need its own kernels).
``--floor`` times bench/floor_kernel.py instead: import numpy and numba, call a one-line
cached @njit function twice (the floor of any package built on numba's cache).

bench/test_startup.py runs this with an empty ``NUMBA_CACHE_DIR`` (compile time) and with
a warm cache (cold start).
"""
import json
import sys
import time


def floor():
    """The same figures for bench/floor_kernel.py in place of fastnn (``--floor``)."""
    t0 = time.perf_counter()
    import numpy  # noqa: F401
    from bench import floor_kernel

    t1 = time.perf_counter()
    floor_kernel.add_one(1.0)  # numba's first cache load (compiles on an empty cache)
    t2 = time.perf_counter()
    floor_kernel.add_one(2.0)
    t3 = time.perf_counter()
    return dict(import_s=t1 - t0, build_s=0.0, first_fit_s=t2 - t1, second_fit_s=t3 - t2)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if "--floor" in argv:
        json.dump(floor(), sys.stdout)
        return 0
    t0 = time.perf_counter()
    import fastnn  # noqa: F401
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

        first = {}
        for case in cases.CASES.values():
            net = case.network()
            X, y = case.data()
            start = time.perf_counter()
            net.fit(X, y, case.lr, 1, batch_size=case.batch_size)
            first[case.name] = time.perf_counter() - start
        out["first_fit_by_case_s"] = first
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
