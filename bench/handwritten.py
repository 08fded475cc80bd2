"""A hand-written numba kernel for the 2-2-1 ReLU network: "the practical limit".

Every weight lives in a local scalar, every loop over neurons is unrolled, and nothing is
read from a layout array. It does the same arithmetic as fastnn (``fastnn.reference`` and
the generic kernel), operation for operation and in the same order, so its loss history
and final weights match fastnn's to the last bits; fastnn's own kernels are measured
against it.

Names follow seed 000 (``fastnn.seeds``): node 1 = x1 w1 + x2 w3 + b1, node 2 =
x1 w2 + x2 w4 + b2, node 3 = n1 w5 + n2 w6 + b3, all ReLU; squared error. The flat
parameter vector uses fastnn's layout: [w1, w2, w3, w4, b1, b2, w5, w6, b3].
"""
import numpy as np
from numba import njit


@njit(cache=True, nogil=True, error_model="numpy")
def train_221(params, X, Y, lr, epochs, history):
    """Per-sample SGD for ``epochs`` epochs, in place on params; history[e] = mean loss.

    Returns -1, or the first epoch whose mean loss is not finite (params are then left
    as they were at its start, like ``Network.fit``).
    """
    w1, w2, w3, w4, b1, b2, w5, w6, b3 = (
        params[0], params[1], params[2], params[3], params[4],
        params[5], params[6], params[7], params[8],
    )
    n = X.shape[0]
    diverged = -1
    for e in range(epochs):
        s1, s2, s3, s4, s5, s6, s7, s8, s9 = w1, w2, w3, w4, b1, b2, w5, w6, b3
        total = 0.0
        for s in range(n):
            x1 = X[s, 0]
            x2 = X[s, 1]
            # forward: z = (x1 W[0][j] + x2 W[1][j]) + b_j, then ReLU
            z1 = x1 * w1 + x2 * w3 + b1
            z2 = x1 * w2 + x2 * w4 + b2
            a1 = z1 if z1 > 0.0 else 0.0
            a2 = z2 if z2 > 0.0 else 0.0
            z3 = a1 * w5 + a2 * w6 + b3
            a3 = z3 if z3 > 0.0 else 0.0
            diff = a3 - Y[s, 0]
            total += diff * diff
            # backward: dL/dz3, then the hidden deltas with the old w5, w6
            d3 = 2.0 * diff * (1.0 if z3 > 0.0 else 0.0)
            d1 = (w5 * d3) * (1.0 if z1 > 0.0 else 0.0)
            d2 = (w6 * d3) * (1.0 if z2 > 0.0 else 0.0)
            # update, output layer first (fastnn's order)
            w5 -= lr * (a1 * d3)
            w6 -= lr * (a2 * d3)
            b3 -= lr * d3
            w1 -= lr * (x1 * d1)
            w2 -= lr * (x1 * d2)
            w3 -= lr * (x2 * d1)
            w4 -= lr * (x2 * d2)
            b1 -= lr * d1
            b2 -= lr * d2
        mean = total / n
        if not np.isfinite(mean):
            w1, w2, w3, w4, b1, b2, w5, w6, b3 = s1, s2, s3, s4, s5, s6, s7, s8, s9
            history[e:] = np.nan
            diverged = e
            break
        history[e] = mean
    params[0], params[1], params[2], params[3], params[4] = w1, w2, w3, w4, b1
    params[5], params[6], params[7], params[8] = b2, w5, w6, b3
    return diverged
