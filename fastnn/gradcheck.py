"""Central finite differences: the independent check on every analytic gradient."""
from __future__ import annotations

import numpy as np

# Step for central differences: truncation error ~ EPS**2, rounding error ~ 1e-16 / EPS.
EPS = 1e-6
# Gradient entries smaller than this are compared absolutely rather than relatively.
FLOOR = 1e-7


def numerical_gradient(net, X, y, eps=EPS, backend="numba"):
    """Central-difference gradient of ``net.loss(X, y)``: float64 array (n_params,).

    The network's parameters are restored exactly afterwards.
    """
    params = net.params
    saved = params.copy()
    grad = np.empty_like(saved, dtype=np.float64)
    try:
        for p in range(saved.shape[0]):
            params[p] = saved[p] + eps
            up = net.loss(X, y, backend=backend)
            params[p] = saved[p] - eps
            down = net.loss(X, y, backend=backend)
            params[p] = saved[p]
            grad[p] = (up - down) / (2.0 * eps)
    finally:
        params[:] = saved
    return grad


def relative_error(analytic, numeric, floor=FLOOR):
    """Elementwise |a - n| / max(|a|, |n|, floor)."""
    analytic, numeric = np.asarray(analytic, dtype=np.float64), np.asarray(numeric, dtype=np.float64)
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), floor)
    return np.abs(analytic - numeric) / scale


def gradcheck(net, X, y, eps=EPS, backend="numba"):
    """Largest relative error of ``net.gradient(X, y)`` against central differences.

    Values around 1e-7 or below mean the analytic gradient is right; ReLU kinks within
    ``eps`` of a net input can make single entries disagree.
    """
    analytic = net.gradient(X, y, backend=backend)
    numeric = numerical_gradient(net, X, y, eps, backend)
    return float(relative_error(analytic, numeric).max())
