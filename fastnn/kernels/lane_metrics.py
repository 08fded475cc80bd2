"""Held-out metrics of many configurations at once: the sweep's validation pass.

``evaluate_lanes`` runs ``generic.evaluate`` (the function ``Network.fit``'s monitored
kernel calls after every epoch) on each column of ``P[param, lane]``, so a sweep's
validation curves equal ``fit``'s bit for bit.
"""
import numpy as np
from numba import njit

from .generic import evaluate

SIGNATURE = "void(float64[:, ::1], int64[::1], float64[:, ::1], float64[:, ::1], int64, int64, int64, " \
            "float64[:, ::1], float64[:, ::1])"


@njit(cache=True, nogil=True, error_model="numpy")
def evaluate_lanes(P, layout, X, Y, kind, lanes, e, val_loss, val_accuracy):
    """For every lane c < ``lanes``: (loss, accuracy) of the data set X (n, n_in), Y (n,
    n_out) at the parameters P[:, c] into val_loss[c, e] and val_accuracy[c, e] (NaN
    accuracy for kind 0, see ``generic.evaluate``)."""
    n_params = P.shape[0]
    units = layout[3]
    params, z, a = np.empty(n_params), np.empty(units), np.empty(units)
    for c in range(lanes):
        for q in range(n_params):
            params[q] = P[q, c]
        val_loss[c, e], val_accuracy[c, e] = evaluate(params, layout, X, Y, z, a, kind)
