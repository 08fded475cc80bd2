"""Side by side: fastnn.sklearn's MLPs against scikit-learn's own, same parameters.

Run by hand (not part of the test suite): ``.venv/bin/python scripts/compare_sklearn.py``.
Prints the Markdown table that docs/sklearn.md shows: held-out scores (iris: accuracy,
diabetes: R^2; 5-fold cross-validation, inputs standardised in a Pipeline), the epochs run
(scikit-learn stops once its loss improves by less than tol=1e-4 for 10 epochs; fastnn runs
max_iter) and fit times (median over the folds), with scikit-learn's defaults (hidden_layer_sizes=(100,), adam,
learning_rate_init=0.001, max_iter=200, batch_size="auto") except where a row says.
fastnn's first fit of a network shape with backend="numba" compiles kernels; that time is
measured once on its own, before the timed folds.
"""
from __future__ import annotations

import platform
import statistics
import sys
import time
import warnings

import numpy as np
import sklearn
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import fastnn
from fastnn.sklearn import MLPClassifier, MLPRegressor


def _estimator(model):
    """The MLP inside a (TransformedTargetRegressor of a) Pipeline."""
    if isinstance(model, TransformedTargetRegressor):
        model = model.regressor_
    return model.steps[-1][1]


def cross_validate(make, X, y, folds):
    scores, times, epochs = [], [], []
    for train, test in folds.split(X, y):
        model = make()
        start = time.perf_counter()
        model.fit(X[train], y[train])
        times.append(time.perf_counter() - start)
        scores.append(model.score(X[test], y[test]))
        epochs.append(_estimator(model).n_iter_)
    return float(np.mean(scores)), float(np.std(scores)), statistics.median(times), float(np.mean(epochs))


def main():
    warnings.simplefilter("ignore", ConvergenceWarning)
    iris, diabetes = load_iris(), load_diabetes()
    cases = [
        ("iris", "accuracy", iris.data, iris.target, StratifiedKFold(5, shuffle=True, random_state=0), [
            ("scikit-learn MLPClassifier", lambda **kw: SkClassifier(random_state=0, **kw)),
            ("fastnn MLPClassifier (numba)", lambda **kw: MLPClassifier(random_state=0, **kw)),
            ("fastnn MLPClassifier (generic)", lambda **kw: MLPClassifier(random_state=0, backend="generic", **kw)),
        ], {}),
        ("diabetes", "R^2", diabetes.data, diabetes.target, KFold(5, shuffle=True, random_state=0), [
            ("scikit-learn MLPRegressor", lambda **kw: SkRegressor(random_state=0, **kw)),
            ("fastnn MLPRegressor (numba)", lambda **kw: MLPRegressor(random_state=0, **kw)),
            ("fastnn MLPRegressor (generic)", lambda **kw: MLPRegressor(random_state=0, backend="generic", **kw)),
        ], {}),
    ]
    cases.append(("iris, hidden (10,), batch_size 1", "accuracy", iris.data, iris.target,
                  StratifiedKFold(5, shuffle=True, random_state=0), [
                      ("scikit-learn MLPClassifier", lambda **kw: SkClassifier(random_state=0, **kw)),
                      ("fastnn MLPClassifier (numba)", lambda **kw: MLPClassifier(random_state=0, **kw)),
                  ], {"params": dict(hidden_layer_sizes=(10,), batch_size=1)}))
    # diabetes' target (25..346) is far from what 200 epochs at lr 0.001 reach from a
    # zero-mean start: the standard remedy is to standardise it as well.
    scaled_target = ("diabetes, target standardised", "R^2", diabetes.data, diabetes.target,
                     KFold(5, shuffle=True, random_state=0), [
                         ("scikit-learn MLPRegressor", lambda **kw: SkRegressor(random_state=0, **kw)),
                         ("fastnn MLPRegressor (numba)", lambda **kw: MLPRegressor(random_state=0, **kw)),
                     ], {"target": True})
    cases.append(scaled_target)
    cases.append(("diabetes, lr 0.01, max_iter 1000", "R^2", diabetes.data, diabetes.target,
                  KFold(5, shuffle=True, random_state=0), [
                      ("scikit-learn MLPRegressor", lambda **kw: SkRegressor(random_state=0, **kw)),
                      ("fastnn MLPRegressor (numba)", lambda **kw: MLPRegressor(random_state=0, **kw)),
                  ], {"params": dict(learning_rate_init=0.01, max_iter=1000)}))
    print(f"python {platform.python_version()}, scikit-learn {sklearn.__version__}, fastnn {fastnn.__version__}, "
          f"numpy {np.__version__}; {platform.machine()}, {platform.processor() or platform.platform()}",
          file=sys.stderr)
    print("| data | model | score (mean ± sd over 5 folds) | epochs run (mean) | fit time (median) | "
          "first fit (compiles) |")
    print("|---|---|---:|---:|---:|---:|")
    for data, metric, X, y, folds, models, options in cases:
        for label, factory in models:

            def make(factory=factory):
                model = make_pipeline(StandardScaler(), factory(**options.get("params", {})))
                if options.get("target"):
                    model = TransformedTargetRegressor(regressor=model, transformer=StandardScaler())
                return model

            start = time.perf_counter()
            make().fit(X, y)  # compiles (or loads) fastnn's kernels for this shape
            first = time.perf_counter() - start
            mean, sd, fit_time, epochs = cross_validate(make, X, y, folds)
            print(f"| {data} | {label} | {metric} {mean:.3f} ± {sd:.3f} | {epochs:.0f} | {fit_time * 1e3:.0f} ms | "
                  f"{first:.2f} s |", flush=True)


if __name__ == "__main__":
    main()
