"""Input checks done once, in Python, before any kernel runs.

Every function returns a fresh value the kernels can use as is (C-contiguous float64
arrays, Python ints and floats) or raises ValueError/TypeError naming the argument and
what was expected. The caller's arrays are copied, never modified.
"""
from __future__ import annotations

import math
import numbers
import operator

import numpy as np

from .spec import Spec

MAX_SEED = 2**64 - 1


def _numeric_array(value, name):
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be an array of real numbers, got {type(value).__name__}")
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nested lists and the like
        raise ValueError(f"{name} must be a rectangular array of real numbers: {exc}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must hold real numbers (bool, int or float), got dtype {arr.dtype}; "
            "convert it with numpy.asarray(..., dtype=float)"
        )
    return arr


def _finite_float64(arr, name):
    out = np.array(arr, dtype=np.float64, order="C", copy=True)
    if not np.isfinite(out).all():
        bad = int(np.size(out) - np.count_nonzero(np.isfinite(out)))
        raise ValueError(f"{name} must be finite, found {bad} NaN or infinite value(s)")
    return out


def inputs(X, spec: Spec):
    """X as a fresh (n, n_inputs) float64 array."""
    arr = _numeric_array(X, "X")
    if arr.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, {spec.n_inputs}), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError("X is empty: it needs at least one sample (row)")
    if arr.shape[1] != spec.n_inputs:
        raise ValueError(
            f"X must have {spec.n_inputs} columns (the network's input width), got shape {arr.shape}"
        )
    return _finite_float64(arr, "X")


def targets(y, spec: Spec, n_samples):
    """y as a fresh (n, n_outputs) float64 array; class labels become one-hot rows."""
    arr = _numeric_array(y, "y")
    n_out = spec.n_outputs
    if spec.loss == "categorical_cross_entropy" and arr.ndim == 1:
        labels = _finite_float64(arr, "y")
        _check_length(labels, n_samples)
        if not np.all((labels == np.round(labels)) & (labels >= 0) & (labels < n_out)):
            raise ValueError(f"y class labels must be integers in 0..{n_out - 1}")
        onehot = np.zeros((n_samples, n_out))
        onehot[np.arange(n_samples), labels.astype(np.int64)] = 1.0
        return onehot
    if arr.ndim == 1 and n_out == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2 or arr.shape[1] != n_out:
        expected = f"(n_samples, {n_out})" + (" or (n_samples,)" if n_out == 1 else "")
        if spec.loss == "categorical_cross_entropy":
            expected += " one-hot, or (n_samples,) class labels"
        raise ValueError(f"y must have shape {expected}, got shape {arr.shape}")
    out = _finite_float64(arr, "y")
    _check_length(out, n_samples)
    if spec.loss == "binary_cross_entropy" and not np.all((out >= 0.0) & (out <= 1.0)):
        raise ValueError("y must lie in [0, 1] for binary_cross_entropy")
    if spec.loss == "categorical_cross_entropy":
        if not (np.all((out == 0.0) | (out == 1.0)) and np.all(out.sum(axis=1) == 1.0)):
            raise ValueError("y must be one-hot rows (a single 1 per row) for categorical_cross_entropy")
    return out


def _check_length(arr, n_samples):
    if arr.shape[0] != n_samples:
        raise ValueError(f"y must have one row per sample of X ({n_samples}), got {arr.shape[0]}")


def params(value, spec: Spec):
    """A flat parameter vector as a fresh float64 array of length spec.n_params."""
    arr = _numeric_array(value, "params")
    if arr.ndim != 1 or arr.shape[0] != spec.n_params:
        raise ValueError(
            f"params must be a flat array of {spec.n_params} values for {spec.describe()}, "
            f"got shape {arr.shape}"
        )
    return _finite_float64(arr, "params")


def positive_float(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    out = float(value)
    if not (math.isfinite(out) and out > 0.0):
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    return out


def integer(value, name, low, high=None):
    """An int in [low, high] (high inclusive, None for no upper bound)."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    try:
        out = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}") from None
    if out < low or (high is not None and out > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be {bound}, got {out}")
    return out


def flag(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def seed(value, name="seed"):
    """None or an int in [0, 2**64 - 1]."""
    if value is None:
        return None
    return integer(value, name, 0, MAX_SEED)


def choice(value, name, valid):
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    if value not in valid:
        raise ValueError(f"unknown {name} {value!r}; valid: {', '.join(valid)}")
    return value
