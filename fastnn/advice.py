"""Warnings about training that runs without error but probably misleads.

Two cases, each decided here once for ``Network.fit`` and ``fastnn.sweep``:

* class-sorted data trained in order: the samples come in runs of one class (as in
  ``datasets.spiral`` and ``datasets.vertical``) and steps of fewer than all samples
  visit them in that order, so each epoch ends fitted to the last class, and the
  epoch's mean loss (measured before each step) can be far from the loss after it;
* stuck training: no parameter changed at all (a zero gradient for every sample, as a
  ReLU output unit that is dead for the whole data set from the start).
"""
from __future__ import annotations

import warnings

import numpy as np

from .errors import TrainingWarning

# Fewer samples than this make no meaningful "order" to warn about.
MIN_SORTED_SAMPLES = 10


def class_labels(Y):
    """The class label of every row of the (n, n_outputs) float64 targets Y, int64 (n,),
    or None when Y is not class data (one-hot rows, or one column of 0/1 values)."""
    if Y.shape[1] == 1:
        column = Y[:, 0]
        return column.astype(np.int64) if np.all((column == 0.0) | (column == 1.0)) else None
    if np.all((Y == 0.0) | (Y == 1.0)) and np.all(Y.sum(axis=1) == 1.0):
        return Y.argmax(axis=1).astype(np.int64)
    return None


def is_class_sorted(Y):
    """True when Y (validated targets) holds at least two classes, each in one run."""
    if Y.shape[0] < MIN_SORTED_SAMPLES:
        return False
    labels = class_labels(Y)
    if labels is None:
        return False
    changes = int(np.count_nonzero(labels[1:] != labels[:-1]))
    return changes >= 1 and changes == len(np.unique(labels)) - 1


def warn_if_sorted_in_order(Y, shuffle, smallest_batch, stacklevel):
    """Warn (TrainingWarning) when class-sorted targets are trained in order in steps of
    fewer than all samples. ``stacklevel`` as for warnings.warn, counted from the caller."""
    if shuffle or smallest_batch >= Y.shape[0] or not is_class_sorted(Y):
        return
    warnings.warn(
        "the targets are sorted by class (one run of samples per class) and are visited in that order, "
        "so each epoch ends fitted to the last class and the reported epoch loss (the mean of losses "
        "measured before each step) can be far from the loss after the epoch; pass shuffle=True",
        TrainingWarning,
        stacklevel=stacklevel + 1,
    )


def warn_stuck(spec, epochs, lr, stacklevel):
    """Warn (TrainingWarning) that ``epochs`` epochs changed no parameter."""
    why = "the gradient was zero for every sample"
    if "relu" in spec.activations:
        why += " (ReLU units whose net input is <= 0 for every sample pass no gradient: dead ReLUs"
        why += ", here including the output unit)" if spec.activations[-1] == "relu" else ")"
    warnings.warn(
        f"no parameter changed in {epochs} epoch(s): {why}, or lr={lr:g} is too small to move any of them. "
        "Try another init seed or init, a smaller or larger lr, or a linear output",
        TrainingWarning,
        stacklevel=stacklevel + 1,
    )
