"""Held-out metrics of many configurations at once: the sweep's validation pass.

``evaluate_lanes`` is ``generic.evaluate`` (what ``Network.fit``'s monitored kernel runs
after every epoch) for every column of ``P[param, lane]``, vectorised across lanes as the
sweep kernels are: the forward pass is the sweep kernel's own (``sweep_generic``'s lane
forward, bit-identical to ``generic.forward``), the per-sample loss and the accuracy are
``generic``'s scalar functions on each lane's outputs, summed in sample order. So a
sweep's validation curves equal ``fit``'s bit for bit.
"""
import numpy as np
from numba import njit

from ..spec import HEADER, N_OUT, ROW, UNIT_OFF
from .generic import accuracy, sample_correct, sample_loss
from .sweep_generic import _lane_forward

SIGNATURE = "void(float64[:, ::1], int64[::1], float64[:, ::1], float64[:, ::1], int64, int64, int64, " \
            "float64[:, ::1], float64[:, ::1])"
BLOCK = 64  # lanes evaluated together (the sweep kernels' block)


@njit(cache=True, nogil=True, error_model="numpy")
def evaluate_lanes(P, layout, X, Y, kind, lanes, e, val_loss, val_accuracy):
    """For every lane c < ``lanes``: the mean per-sample loss and the accuracy (NaN for
    kind 0) of the data set X (n, n_in), Y (n, n_out) at the parameters P[:, c], into
    val_loss[c, e] and val_accuracy[c, e]."""
    n_params, n = P.shape[0], X.shape[0]
    units, loss = layout[3], layout[1]
    r = HEADER + ROW * (layout[0] - 1)
    u, n_out = layout[r + UNIT_OFF], layout[r + N_OUT]
    p = np.empty((n_params, BLOCK))
    z, a = np.empty((units, BLOCK)), np.empty((units, BLOCK))
    out = np.empty(units)
    order = np.empty((BLOCK, 0), dtype=np.int64)  # unused: samples in order
    total = np.empty(BLOCK)
    count = np.empty(BLOCK, dtype=np.int64)
    for b0 in range(0, lanes, BLOCK):
        nb = min(BLOCK, lanes - b0)
        for q in range(n_params):
            for c in range(nb):
                p[q, c] = P[q, b0 + c]
        for c in range(nb):
            total[c], count[c] = 0.0, 0
        for s in range(n):
            _lane_forward(p, layout, X, order, s, False, z, a, nb)
            for c in range(nb):
                for j in range(n_out):
                    out[u + j] = a[u + j, c]
                total[c] += sample_loss(loss, out, u, n_out, Y, s)
                count[c] += sample_correct(kind, out, u, n_out, Y, s)
        for c in range(nb):
            val_loss[b0 + c, e] = total[c] / n
            val_accuracy[b0 + c, e] = accuracy(kind, count[c], n, n_out)


WATCH_SIGNATURE = "int64(float64[:, ::1], int64, int64, float64[:, ::1], int64[::1], float64[:, ::1], " \
                  "float64[:, ::1], boolean, float64, int64, float64[::1], int64[::1], int64[::1], float64[:, ::1], " \
                  "boolean, int64[::1])"
DIVERGED, PATIENT = 1, 2  # why a lane stops (``watch_lanes``' ``stop``)


@njit(cache=True, nogil=True, error_model="numpy")
def watch_lanes(P, lanes, e, losses, diverged, val_loss, val_accuracy, has_val, min_delta, patience, best, wait,
                best_epoch, best_P, restoring, stop):
    """The stopping rule of ``reference.train``'s ``validation`` after epoch e, for every
    lane c < ``lanes`` (each still training when the epoch began): a lane that diverged
    in it gets NaN validation metrics (fit stops before its validation pass) and
    stop[c] = DIVERGED; else its watched loss (val_loss[c, e] when ``has_val``, else
    losses[c, e]) improves when < best[c] - min_delta (then best, wait = 0, best_epoch
    and, when ``restoring``, best_P[:, c] = P[:, c]), or wait[c] grows and reaching
    ``patience`` (> 0) sets stop[c] = PATIENT. Returns how many lanes stop."""
    n_stop = 0
    for c in range(lanes):
        stop[c] = 0
        if diverged[c] >= 0:
            if has_val:
                val_loss[c, e], val_accuracy[c, e] = np.nan, np.nan
            stop[c] = DIVERGED
            n_stop += 1
            continue
        watched = val_loss[c, e] if has_val else losses[c, e]
        if watched < best[c] - min_delta:
            best[c], wait[c], best_epoch[c] = watched, 0, e
            if restoring:
                for q in range(P.shape[0]):
                    best_P[q, c] = P[q, c]
        else:
            wait[c] += 1
            if patience > 0 and wait[c] >= patience:
                stop[c] = PATIENT
                n_stop += 1
    return n_stop
