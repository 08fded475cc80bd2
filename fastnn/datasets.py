"""Data sets from the seeds and nnfs-style toy problems; seeded and deterministic.

Each returns ``(X, y)``: ``X`` float64 (n, n_inputs); ``y`` float64 (n, n_outputs) for
regression/binary targets, or int64 (n,) class labels for the classification sets.
``sklearn_set`` gives scikit-learn's bundled data sets (iris, wine, breast_cancer, digits,
diabetes) the same way, inputs standardised; it needs scikit-learn.
"""
from __future__ import annotations

import numpy as np

from . import validation as check


def quadratic(n=100, seed=None):
    """Seed 000's generator: x1 in 0..4, x2 in 3..6, y = x1**2 + x2 + noise in 0..4.

    The seed draws with ``np.random.randint`` from the global state; this draws the same
    distribution from ``numpy.random.default_rng(seed)``, per sample in the order x1, x2,
    noise.
    """
    n = check.integer(n, "n", 1)
    rng = np.random.default_rng(check.seed(seed))
    draws = np.empty((n, 3), dtype=np.int64)
    for row in range(n):
        draws[row] = rng.integers(0, 5), rng.integers(3, 7), rng.integers(0, 5)
    X = draws[:, :2].astype(np.float64)
    y = (draws[:, 0] ** 2 + draws[:, 1] + draws[:, 2]).astype(np.float64).reshape(-1, 1)
    return X, y


# Seed 003's table, weight - 135 lb and height - 66 in; 1 = female, 0 = male.
GENDER_NAMES = ("Alice", "Bob", "Charlie", "Diana")


def gender():
    """Seed 003's four people: X (4, 2) shifted weight and height, y (4, 1) 1 = female."""
    X = np.array([[-2.0, -1.0], [25.0, 6.0], [17.0, 4.0], [-15.0, -6.0]], dtype=np.float64)
    y = np.array([[1.0], [0.0], [0.0], [1.0]], dtype=np.float64)
    return X, y


def xor():
    """The four XOR points: X (4, 2), y (4, 1)."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=np.float64)
    y = np.array([[0.0], [1.0], [1.0], [0.0]], dtype=np.float64)
    return X, y


def spiral(samples=100, classes=3, seed=None):
    """nnfs-style spiral: ``classes`` arms of ``samples`` points; y int64 labels (n,)."""
    samples = check.integer(samples, "samples", 1)
    classes = check.integer(classes, "classes", 1)
    rng = np.random.default_rng(check.seed(seed))
    X = np.empty((samples * classes, 2), dtype=np.float64)
    y = np.empty(samples * classes, dtype=np.int64)
    for c in range(classes):
        rows = slice(samples * c, samples * (c + 1))
        radius = np.linspace(0.0, 1.0, samples, dtype=np.float64)
        theta = np.linspace(c * 4.0, (c + 1) * 4.0, samples, dtype=np.float64) + rng.standard_normal(samples) * 0.2
        X[rows] = np.column_stack((radius * np.sin(theta * 2.5), radius * np.cos(theta * 2.5)))
        y[rows] = c
    return X, y


def vertical(samples=100, classes=3, seed=None):
    """nnfs-style vertical clusters around x = c / 3, y = 0.5; y int64 labels (n,)."""
    samples = check.integer(samples, "samples", 1)
    classes = check.integer(classes, "classes", 1)
    rng = np.random.default_rng(check.seed(seed))
    X = np.empty((samples * classes, 2), dtype=np.float64)
    y = np.empty(samples * classes, dtype=np.int64)
    for c in range(classes):
        rows = slice(samples * c, samples * (c + 1))
        X[rows] = np.column_stack(
            (rng.standard_normal(samples) * 0.1 + c / 3.0, rng.standard_normal(samples) * 0.1 + 0.5)
        )
        y[rows] = c
    return X, y


# scikit-learn's bundled data sets (shipped with it, no download): name -> (loader,
# inputs, classes or None for a numeric target)
SKLEARN_SETS = {
    "iris": ("load_iris", 4, 3),
    "wine": ("load_wine", 13, 3),
    "breast_cancer": ("load_breast_cancer", 30, 2),
    "digits": ("load_digits", 64, 10),
    "diabetes": ("load_diabetes", 10, None),
}


def sklearn_set(name, names=False):
    """One of scikit-learn's bundled data sets: ``iris``, ``wine``, ``breast_cancer``,
    ``digits`` (y: int64 class labels (n,), in the data set's order) or ``diabetes`` (y:
    float64 (n, 1), the disease progression score, 25..346, as given). X: float64 (n,
    inputs), every column standardised to mean 0 and standard deviation 1 (constant
    columns, such as digits' always-blank pixels, become 0). With ``names=True``, also the
    class names (a list of str; None for diabetes). Needs scikit-learn (ImportError saying
    so otherwise)."""
    if name not in SKLEARN_SETS:
        raise ValueError(f"unknown scikit-learn data set {name!r}; valid: {', '.join(SKLEARN_SETS)}")
    loader, _, classes = SKLEARN_SETS[name]
    try:
        from sklearn import datasets as sk_datasets
    except ImportError:
        raise ImportError(f"the {name} data set comes with scikit-learn, which is not installed: "
                          "pip install 'fastnn[sklearn]' (or scikit-learn)") from None
    bunch = getattr(sk_datasets, loader)()
    X = np.asarray(bunch.data, dtype=np.float64)
    std = X.std(axis=0)
    X = (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)
    if classes is None:
        y = np.asarray(bunch.target, dtype=np.float64).reshape(-1, 1)
        labels = None
    else:
        y = np.asarray(bunch.target, dtype=np.int64)
        labels = [str(v) for v in bunch.target_names]
    return (X, y, labels) if names else (X, y)
