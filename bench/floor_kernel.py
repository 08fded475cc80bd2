"""A one-line cached numba function: ``python -m bench.startup --floor`` times loading it,
the least any package whose kernels are numba's cached functions pays in a new process
(import numpy and numba, then numba's first cache load, which sets up its CPU target)."""
from numba import njit


@njit(cache=True)
def add_one(x):
    return x + 1.0
