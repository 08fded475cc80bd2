"""The ``fastnn`` command (also ``python -m fastnn``)."""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from . import datasets
from .seeds import SEED000_EPOCHS, SEED000_LR, seed000_network


def demo(args):
    """Seed 000's network trained by the reference and by the kernels: same numbers, speed-up."""
    X, y = datasets.quadratic(100, seed=args.data_seed)
    epochs = args.epochs
    print(
        f"seed 000: 2-2-1 ReLU network, squared error, lr {SEED000_LR}, {epochs} epochs of per-sample SGD "
        f"on datasets.quadratic(100, seed={args.data_seed})"
    )
    warm = seed000_network()
    start = time.perf_counter()
    warm.fit(X, y, SEED000_LR, 1)  # compiles, or loads the kernels from the on-disk cache
    first_call = time.perf_counter() - start

    results = {}
    for backend in ("reference", "numba"):
        net = seed000_network()
        start = time.perf_counter()
        history = net.fit(X, y, SEED000_LR, epochs, backend=backend)
        results[backend] = (net, history, time.perf_counter() - start)
    (ref, ref_hist, ref_time), (fast, fast_hist, fast_time) = results["reference"], results["numba"]
    steps = epochs * X.shape[0]
    print(f"{'backend':<10} {'final epoch loss':>20} {'time':>12} {'ns/step':>10}")
    for name, (_, hist, seconds) in results.items():
        print(f"{name:<10} {hist[-1]:>20.15g} {seconds:>11.4f}s {seconds / steps * 1e9:>10.1f}")
    print(f"first kernel call (compile or cache load, timed separately): {first_call:.3f}s")
    print(f"largest |difference|: parameters {np.abs(ref.params - fast.params).max():.3g}, "
          f"loss histories {np.abs(ref_hist - fast_hist).max():.3g}")
    print(f"speed-up of numba over the reference: {ref_time / fast_time:.0f}x")
    print("trained parameters:", np.array2string(fast.params, precision=6))
    return 0


def seeds(args):
    """The seed walkthroughs (fastnn.walkthrough): exit status 0 when kernel = reference."""
    from . import walkthrough

    return walkthrough.run(args.seed, args.plot)


def build_parser():
    parser = argparse.ArgumentParser(prog="fastnn", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="seed 000's network: reference vs numba, same numbers, speed-up")
    p.add_argument("--epochs", type=int, default=SEED000_EPOCHS)
    p.add_argument("--data-seed", type=int, default=0)
    p.set_defaults(func=demo)
    p = sub.add_parser("seeds", help="the seed documents' numbers recomputed: kernel, reference, verdict")
    p.add_argument("seed", nargs="*", help="seed numbers (000 .. 004); default: all")
    p.add_argument("--plot", metavar="DIR", help="also write the seeds' PNG plots into DIR")
    p.set_defaults(func=seeds)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
