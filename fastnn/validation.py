"""Input checks done once, in Python, before any kernel runs.

Every function returns a fresh value the kernels can use as is (C-contiguous float64
arrays, Python ints and floats) or raises ValueError/TypeError naming the argument and
what was expected. The caller's arrays are copied, never modified. Wherever an array is
taken, a pandas DataFrame or Series is too (its columns in order; see ``_from_pandas``).
"""
from __future__ import annotations

import math
import numbers
import operator
import sys

import numpy as np

from .spec import Spec

MAX_SEED = 2**64 - 1
MAX_INT64 = 2**63 - 1
# fastnn is for small networks: more parameters than this (16 GiB per float64 copy, and
# training keeps several copies) is refused up front rather than failing in numpy.
MAX_PARAMS = 2**31


def _show(value, limit=40):
    """A short repr for messages: huge ints (whose repr may even be refused) by size."""
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        value = int(value)
        if value.bit_length() > 128:
            return f"an integer of {value.bit_length()} bits"
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ must not hide the real error
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else f"{text[:limit - 3]}..."


def _numeric_array(value, name):
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be an array of real numbers, got {type(value).__name__}")
    frame = _from_pandas(value, name)
    if frame is not None:
        return frame
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nested lists and the like
        raise ValueError(f"{name} must be a rectangular array of real numbers: {exc}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers (bool, int or float), got dtype {arr.dtype}; {_hint(arr, name)}")
    return arr


def _from_pandas(value, name):
    """A pandas DataFrame or Series as a float64 array (columns in order), or None for
    anything else. pandas is never imported here: a DataFrame can only exist once the
    caller has imported it. Columns that are not numbers (text, categories, dates) raise
    TypeError naming them; missing values (NaN, pd.NA) become NaN, which the finiteness
    check then reports."""
    pd = sys.modules.get("pandas")
    if pd is None or not isinstance(value, (pd.DataFrame, pd.Series)):
        return None
    if isinstance(value, pd.DataFrame):
        columns = list(value.dtypes.items())
        kind = "DataFrame"
    else:
        columns = [(value.name, value.dtype)]
        kind = "Series"
    bad = [(column, dtype) for column, dtype in columns if not _numeric_dtype(pd, dtype)]
    if bad:
        listed = ", ".join(f"{column!r} ({dtype})" for column, dtype in bad[:10])
        more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
        if name == "y" and len(columns) == 1:
            fix = ("class names become integer labels with classes, y = numpy.unique(y, return_inverse=True), "
                   "for a softmax output with loss='categorical_cross_entropy'")
        else:
            fix = ("numbers stored as text convert with .astype(float); categories must be encoded as numbers "
                   "first (pandas.get_dummies gives one-hot columns)")
        what = f"DataFrame's column{'s' if len(bad) > 1 else ''}" if kind == "DataFrame" else "Series"
        raise TypeError(
            f"{name} must hold real numbers (bool, int or float); the pandas {what} {listed}{more} "
            f"{'are' if len(bad) > 1 else 'is'} not numeric: {fix}"
        )
    return value.to_numpy(dtype=np.float64, na_value=np.nan)


def _numeric_dtype(pd, dtype):
    """bool, int and float dtypes, numpy's and pandas's nullable ones; not complex."""
    return bool(pd.api.types.is_bool_dtype(dtype) or (pd.api.types.is_numeric_dtype(dtype)
                                                        and not pd.api.types.is_complex_dtype(dtype)))


def _hint(arr, name):
    """How to turn a non-numeric array into what fastnn takes: class names into labels."""
    text = [v for v in arr.ravel()[:1000].tolist() if isinstance(v, (str, bytes))] if arr.dtype.kind in "USO" else []
    if not text:
        return f"convert it with numpy.asarray({name}, dtype=float)"
    if name == "y":
        return (
            f"it holds text such as {text[0]!r}. Encode class names as integer labels 0..C-1 first: "
            "classes, y = numpy.unique(y, return_inverse=True) (classes[label] gives the name back), "
            "then use a softmax output with loss='categorical_cross_entropy'"
        )
    return (
        f"it holds text such as {text[0]!r}: numbers written as text convert with "
        f"numpy.asarray({name}, dtype=float); categories must be encoded as numbers first (one-hot columns)"
    )


def _finite_float64(arr, name):
    # A float128 or float16-overflowing value cast to float64 becomes inf (numpy warns
    # "overflow encountered in cast"): silenced here, reported by the check below.
    with np.errstate(over="ignore", invalid="ignore"):
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
        onehot = np.zeros((n_samples, n_out), dtype=np.float64)
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


def params(value, spec: Spec, name="params"):
    """A flat parameter vector as a fresh float64 array of length spec.n_params.

    ``name``: the argument it came from (``init`` for ``Network(init=array)``); the
    message then reads "init (the params) must ...".
    """
    label = name if name == "params" else f"{name} (the params)"
    arr = _numeric_array(value, label)
    if arr.ndim != 1 or arr.shape[0] != spec.n_params:
        raise ValueError(
            f"{label} must be a flat array of {spec.n_params} values for {spec.describe()}, "
            f"got shape {arr.shape}"
        )
    return _finite_float64(arr, label)


def network_size(spec: Spec):
    """Refuse networks too big to allocate (naming sizes) before numpy fails on them."""
    if spec.n_params > MAX_PARAMS:
        raise ValueError(
            f"sizes [{', '.join(_show(w) for w in spec.sizes)}] give {_show(spec.n_params)} parameters; "
            "fastnn trains small networks, "
            f"at most {MAX_PARAMS} parameters"
        )
    return spec


def finite_params(values):
    """The network's own params, which weight()/bias() views can overwrite with NaN/inf."""
    if not np.isfinite(values).all():
        bad = int(values.size - np.count_nonzero(np.isfinite(values)))
        raise ValueError(
            f"the network's params hold {bad} NaN or infinite value(s) (written through params, weight() "
            "or bias()?); set finite params first"
        )


def finite_result(values, what, culprits):
    """A result computed from finite input that overflowed float64 raises ValueError
    naming the arguments that can be too large (``culprits``)."""
    if not np.isfinite(values).all():
        raise ValueError(
            f"{what} overflowed float64 (got NaN or inf): {culprits} hold values too large for this "
            "network; scale them down"
        )
    return values


def history(epochs):
    """The (epochs,) float64 loss history buffer, or ValueError naming epochs if it cannot
    be allocated."""
    try:
        return np.empty(epochs, dtype=np.float64)
    except (MemoryError, ValueError):
        raise ValueError(
            f"epochs={epochs} is too many: the loss history alone needs {8 * epochs} bytes"
        ) from None


def positive_float(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    try:
        out = float(value)
    except OverflowError:  # an int beyond float64's range
        out = math.inf
    if not (math.isfinite(out) and out > 0.0):
        raise ValueError(f"{name} must be positive and finite, got {_show(value)}")
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
        raise ValueError(f"{name} must be {bound}, got {_show(out, 60)}")
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


# ---------------------------------------------------------------- held-out data (fit)


def validation_data(value, spec: Spec):
    """``(X_val, y_val)`` checked like X and y: fresh float64 arrays (n_val, n_inputs),
    (n_val, n_outputs); errors name validation_data."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"validation_data must be a pair (X_val, y_val), got {type(value).__name__}"
                        + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else ""))
    try:
        X = inputs(value[0], spec)
        Y = targets(value[1], spec, X.shape[0])
    except (TypeError, ValueError) as err:
        raise type(err)(f"validation_data: {err}") from None
    return X, Y


def fraction(value, name):
    """A real number strictly between 0 and 1."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number in (0, 1), got {type(value).__name__}")
    out = float(value)
    if not (0.0 < out < 1.0):
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {_show(value)}")
    return out


def non_negative_float(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    out = float(value)
    if not (math.isfinite(out) and out >= 0.0):
        raise ValueError(f"{name} must be finite and >= 0, got {_show(value)}")
    return out


def _class_name(Y, classes, c):
    """Class c of a stratified split, as its label: the column of a one-hot row, else its
    target row."""
    row = Y[np.flatnonzero(classes == c)[0]]
    if len(row) > 1 and np.count_nonzero(row) == 1 and row.max() == 1.0:
        return str(int(np.argmax(row)))
    return str(row.tolist() if len(row) > 1 else row[0].item())


def holdout(Y, split, seed, spec: Spec):
    """``(train, val)``: sorted int64 indices of the samples kept for training and held
    out, a ``split`` fraction of them drawn with ``numpy.random.default_rng(seed)``.

    For categorical cross-entropy, and binary cross-entropy with 0/1 targets, the draw is
    stratified: each class (distinct target row) gives floor(split * its count) samples,
    and the rest of round(split * n) goes one each to the classes with the largest
    remainders (ties: class order), then moved one by one so that every class has a
    sample on each side. ValueError (naming validation_split) when either side would be
    empty, or, stratified, could not hold every class (a class of one sample, or fewer
    samples on a side than classes).
    """
    n = Y.shape[0]
    n_val = int(round(split * n))
    if n_val < 1 or n_val > n - 1:
        raise ValueError(f"validation_split={split!r} of {n} samples leaves "
                         f"{'no validation' if n_val < 1 else 'no training'} sample; "
                         "pass a fraction that keeps at least one sample on each side")
    rng = np.random.default_rng(seed)
    stratify = spec.loss == "categorical_cross_entropy" or (
        spec.loss == "binary_cross_entropy" and bool(np.all((Y == 0.0) | (Y == 1.0))))
    if not stratify:
        val = rng.permutation(n)[:n_val]
    else:
        _, classes = np.unique(Y, axis=0, return_inverse=True)
        classes = classes.ravel()
        counts = np.bincount(classes)
        exact = split * counts
        take = np.floor(exact).astype(np.int64)
        rest = n_val - int(take.sum())
        if rest > 0:
            ranked = np.argsort(-(exact - take), kind="stable")
            take[ranked[:rest]] += 1
        elif rest < 0:  # cannot happen with floor, kept for safety
            ranked = np.argsort(exact - take, kind="stable")
            for c in ranked[: -rest]:
                take[c] -= 1
        # Every class on both sides (scikit-learn's train_test_split(stratify=...) refuses
        # the same cases): possible when each class has 2 samples and each side at least
        # one per class; then a class left out gets one sample from the class with the
        # most to spare (ties: class order).
        short = np.flatnonzero(counts < 2)
        if len(short) or min(n_val, n - n_val) < len(counts):
            why = (f"class {_class_name(Y, classes, int(short[0]))} has a single sample" if len(short) else
                   f"{min(n_val, n - n_val)} {'validation' if n_val <= n - n_val else 'training'} samples cannot "
                   f"hold one of each of the {len(counts)} classes")
            raise ValueError(f"validation_split={split!r} of {n} samples, stratified by class: {why}, so a class "
                             "would be missing from one side; pass another fraction, more samples, or validation_data")
        while (take == 0).any():  # a class with no validation sample takes one
            c = np.flatnonzero(take == 0)[0]
            take[np.argmax(take)] -= 1
            take[c] += 1
        while (take == counts).any():  # a class with no training sample gives one back
            c = np.flatnonzero(take == counts)[0]
            take[c] -= 1
            take[np.argmax(counts - take)] += 1
        val = np.concatenate([rng.permutation(np.flatnonzero(classes == c))[: take[c]]
                              for c in range(len(counts))])
    mask = np.zeros(n, dtype=bool)
    mask[val] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)
