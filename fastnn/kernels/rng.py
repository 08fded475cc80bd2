"""SplitMix64 and the per-epoch Fisher-Yates shuffle, as in ``reference.shuffled``.

All arithmetic is on uint64 (numba would turn mixed int64/uint64 arithmetic into float64).
"""
import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)


@njit(cache=True, nogil=True)
def splitmix64(state):
    """Returns (new_state, 64-bit random integer), both uint64."""
    state = state + _GOLDEN
    z = state
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return state, z ^ (z >> _S31)


@njit(cache=True, nogil=True)
def shuffle_order(order, shuffle, state):
    """Fill order (int64, n) with range(n), Fisher-Yates shuffled when shuffle; returns state."""
    n = order.shape[0]
    for i in range(n):
        order[i] = i
    if shuffle:
        for i in range(n - 1, 0, -1):
            state, r = splitmix64(state)
            j = np.int64(r % np.uint64(i + 1))
            order[i], order[j] = order[j], order[i]
    return state
