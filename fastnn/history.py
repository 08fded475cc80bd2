"""What ``Network.fit`` returns when it watches held-out data or stops early: ``History``.

``History`` is the training-loss curve (``np.asarray(history)``, ``len``, indexing,
iteration and slicing give the float64 array ``fit`` returns otherwise) with the other
per-epoch curves beside it. ``Monitor`` is the validated request that ``fit`` hands the
reference and the kernel (a container only: no kernel code).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

# Accuracy kinds (shared by the reference and the kernel): none, argmax of a softmax
# output against the one-hot target, 0.5 threshold of each output against the target.
NO_ACCURACY, ARGMAX, THRESHOLD = 0, 1, 2


def accuracy_kind(spec):
    """How ``spec``'s loss scores a prediction: ARGMAX, THRESHOLD or NO_ACCURACY."""
    if spec.loss == "categorical_cross_entropy":
        return ARGMAX
    if spec.loss == "binary_cross_entropy":
        return THRESHOLD
    return NO_ACCURACY


@dataclass(frozen=True)
class Monitor:
    """What to compute after every epoch and when to stop (``reference.train``'s
    ``validation``): held-out data ``X_val``/``Y_val`` (rows, or None), ``patience``
    (None: never stop early), ``min_delta``, ``restore_best``, ``train_metrics``."""

    X_val: object = None
    Y_val: object = None
    patience: object = None
    min_delta: float = 0.0
    restore_best: bool = True
    train_metrics: bool = False
    kind: int = NO_ACCURACY  # accuracy_kind of the network (for the kernel)

    @property
    def has_validation(self):
        return self.X_val is not None

    @property
    def train_pass(self):
        """Whether each epoch ends with a pass over the training data (for its accuracy or
        its end-of-epoch loss)."""
        return self.train_metrics or (self.has_validation and self.kind != NO_ACCURACY)

    def for_reference(self):
        """This monitor with the held-out data as lists of rows."""
        if not self.has_validation:
            return self
        return replace(self, X_val=np.asarray(self.X_val).tolist(), Y_val=np.asarray(self.Y_val).tolist())

    def kernel_data(self, n_inputs, n_outputs):
        """(X_val, Y_val) as the kernel takes them: empty (0, width) arrays without."""
        if not self.has_validation:
            return np.empty((0, n_inputs)), np.empty((0, n_outputs))
        return self.X_val, self.Y_val

    def kernel_flags(self):
        """int64 (5,): generic.train_monitored's ``watch``."""
        return np.array([self.has_validation, self.train_pass, self.patience or 0, self.restore_best, self.kind],
                        dtype=np.int64)

    def history(self, history, curves, result, ran):
        """The History of a fit that ran ``ran`` epochs: the loss ``history`` and the
        kernel's ``curves`` (4, epochs) and ``result`` [best epoch, stopped epoch]."""
        classify = self.kind != NO_ACCURACY
        val = self.has_validation

        def take(row, applies):
            return curves[row, :ran].copy() if applies else None

        return History(
            history[:ran].copy(), val_loss=take(0, val), accuracy=take(1, self.train_pass and classify),
            val_accuracy=take(2, val and classify), train_loss_end=take(3, self.train_metrics),
            best_epoch=None if result[0] < 0 else result[0], stopped_epoch=None if result[1] < 0 else result[1],
        )


def monitor_for_fit(spec, X, Y, split_seed, validation_data, validation_split, patience, min_delta, restore_best,
                    train_metrics):
    """``Network.fit``'s held-out data and early-stopping arguments, checked (ValueError /
    TypeError naming the argument, nothing changed): ``(monitor, X, Y)``, monitor None
    when none is asked for, X and Y the training part. ``split_seed()``: the seed of a
    validation_split's draw."""
    from . import validation as check

    train_metrics = check.flag(train_metrics, "train_metrics")
    restore_best = check.flag(restore_best, "restore_best")
    min_delta = check.non_negative_float(min_delta, "min_delta")
    if patience is not None:
        patience = check.integer(patience, "patience", 1, check.MAX_INT64)
    if validation_data is not None and validation_split is not None:
        raise ValueError("pass validation_data or validation_split, not both")
    X_val = Y_val = None
    if validation_data is not None:
        X_val, Y_val = check.validation_data(validation_data, spec)
    elif validation_split is not None:
        split = check.fraction(validation_split, "validation_split")
        train, val = check.holdout(Y, split, split_seed(), spec)
        X, Y, X_val, Y_val = X[train], Y[train], X[val], Y[val]
    if X_val is None and patience is None and not train_metrics:
        return None, X, Y
    return Monitor(X_val, Y_val, patience, min_delta, restore_best, train_metrics, accuracy_kind(spec)), X, Y


class History(NDArrayOperatorsMixin):
    """Per-epoch curves of one ``fit`` (index e: epoch e, counted from 0).

    ``loss``: the training loss of each epoch (mean of the per-sample losses, each before
    its own update; what ``fit`` returns without validation). ``val_loss``: the loss on
    the validation data with the parameters at the end of the epoch. ``accuracy`` /
    ``val_accuracy``: the fraction of correct predictions on the training / validation
    data at the end of the epoch (classification losses only). ``train_loss_end``: the
    training loss at the end of the epoch (``train_metrics=True``). Curves that do not
    apply are None. ``best_epoch``: the epoch whose watched loss (``val_loss``, else
    ``loss``) was best (improvements smaller than ``min_delta`` do not count);
    ``stopped_epoch``: the last epoch run when early stopping ended the fit, else None.

    It behaves like the training-loss array: ``np.asarray(h)``, ``len(h)``, ``h[-1]``,
    ``h[1:]``, iteration, ``h.shape``, arithmetic and comparisons (numpy's, on the array).
    """

    __hash__ = None

    def __init__(self, loss, val_loss=None, accuracy=None, val_accuracy=None, train_loss_end=None,
                 best_epoch=None, stopped_epoch=None):
        self.loss = np.asarray(loss, dtype=np.float64)
        self.val_loss = None if val_loss is None else np.asarray(val_loss, dtype=np.float64)
        self.accuracy = None if accuracy is None else np.asarray(accuracy, dtype=np.float64)
        self.val_accuracy = None if val_accuracy is None else np.asarray(val_accuracy, dtype=np.float64)
        self.train_loss_end = None if train_loss_end is None else np.asarray(train_loss_end, dtype=np.float64)
        self.best_epoch = None if best_epoch is None else int(best_epoch)
        self.stopped_epoch = None if stopped_epoch is None else int(stopped_epoch)

    CURVES = ("loss", "val_loss", "accuracy", "val_accuracy", "train_loss_end")

    @classmethod
    def of_loss(cls, loss):
        """The History of a fit without held-out data: its training-loss curve, the best
        epoch that of the lowest loss (the first, as the improvement rule picks it)."""
        loss = np.asarray(loss, dtype=np.float64)
        finite = np.isfinite(loss)
        best = int(np.argmin(np.where(finite, loss, np.inf))) if finite.any() else None
        return cls(loss, best_epoch=best)

    def curves(self):
        """{name: array} of the curves that apply, in CURVES order."""
        return {name: getattr(self, name) for name in self.CURVES if getattr(self, name) is not None}

    # ------------------------------------------------------------ the array it stands for

    def __array__(self, dtype=None, copy=None):
        if copy:
            return np.array(self.loss, dtype=dtype, copy=True)
        return self.loss if dtype is None else self.loss.astype(dtype, copy=False)

    def __len__(self):
        return len(self.loss)

    def __getitem__(self, index):
        return self.loss[index]

    def __iter__(self):
        return iter(self.loss)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        # arithmetic and comparisons (NDArrayOperatorsMixin) act on the loss array
        inputs = tuple(x.loss if isinstance(x, History) else x for x in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(x.loss if isinstance(x, History) else x for x in kwargs["out"])
        return getattr(ufunc, method)(*inputs, **kwargs)

    @property
    def shape(self):
        return self.loss.shape

    @property
    def dtype(self):
        return self.loss.dtype

    @property
    def ndim(self):
        return 1

    @property
    def size(self):
        return self.loss.size

    def tolist(self):
        return self.loss.tolist()

    def __getattr__(self, name):
        # the rest of ndarray's interface (min, max, argmin, mean, sum, round, ...) acts on
        # the training-loss array, so code written when fit returned that array still runs
        if name.startswith("_") or name in ("loss",):
            raise AttributeError(name)
        return getattr(self.loss, name)

    def copy(self):
        """An independent History (every curve copied)."""
        curves = {name: value.copy() for name, value in self.curves().items()}
        return History(best_epoch=self.best_epoch, stopped_epoch=self.stopped_epoch, **curves)

    def __repr__(self):
        names = ", ".join(self.curves())
        extra = "" if self.stopped_epoch is None else f", stopped_epoch={self.stopped_epoch}"
        return f"History(epochs={len(self)}, curves=[{names}], best_epoch={self.best_epoch}{extra})"

    # ------------------------------------------------------------ views

    def to_frame(self):
        """A pandas DataFrame, one row per epoch (index ``epoch``), one column per curve."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("History.to_frame needs pandas: pip install pandas "
                              "(or read the curves as arrays: history.loss, history.val_loss, ...)") from None
        frame = pd.DataFrame(self.curves())
        frame.index.name = "epoch"
        return frame

    def plot(self, path=None, ax=None):
        """Plot the loss curves (and the accuracies on a second axis, where they apply);
        returns the matplotlib Figure (drawn into ``ax`` when given; else a new one, not
        pyplot's), also saved to ``path`` when given."""
        from .sweep_result import _axes, _finish  # (sweep_result imports network, which imports this)

        fig, ax, own = _axes(ax, (6, 4))
        epochs = np.arange(len(self))
        for name in ("loss", "train_loss_end", "val_loss"):
            values = getattr(self, name)
            if values is not None:
                ax.plot(epochs, values, label=name)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        handles, labels = ax.get_legend_handles_labels()
        if self.accuracy is not None or self.val_accuracy is not None:
            twin = ax.twinx()
            for name, style in (("accuracy", ":"), ("val_accuracy", "--")):
                values = getattr(self, name)
                if values is not None:
                    twin.plot(epochs, values, style, label=name)
            twin.set_ylabel("accuracy")
            more = twin.get_legend_handles_labels()
            handles, labels = handles + more[0], labels + more[1]
        if self.best_epoch is not None:
            ax.axvline(self.best_epoch, color="grey", linewidth=0.8)
        ax.legend(handles, labels)
        return _finish(fig, own, path)

    def _repr_html_(self):
        """What a notebook shows: the run's length, best and stopping epochs, and every
        curve at the first, the best and the last epoch."""
        import html

        curves = self.curves()
        n = len(self)
        head = f"<b>History</b>: {n:,} epoch{'s' if n != 1 else ''}"
        if self.best_epoch is not None:
            head += f", best epoch {self.best_epoch}"
        if self.stopped_epoch is not None:
            head += f", stopped early after epoch {self.stopped_epoch}"
        shown = sorted({e for e in (0, self.best_epoch, n - 1) if e is not None and 0 <= e < n})
        cells = "".join(f"<th>{html.escape(name)}</th>" for name in curves)
        body = "".join(
            f"<tr><td>{e}{' (best)' if e == self.best_epoch else ''}</td>"
            + "".join(f"<td>{values[e]:.6g}</td>" for values in curves.values()) + "</tr>"
            for e in shown
        )
        return f"<div>{head}<table><thead><tr><th>epoch</th>{cells}</tr></thead><tbody>{body}</tbody></table></div>"
