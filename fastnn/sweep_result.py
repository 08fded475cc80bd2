"""What a sweep produced: ``SweepResult`` (configurations, loss curves, parameters,
rankings, CSV, pandas, plots, display) and its ``Group``s. ``fastnn.sweep`` makes them,
``fastnn.io`` saves and loads them.
"""
from __future__ import annotations

import csv
import functools
import html
import io
from dataclasses import dataclass, field

import numpy as np

from . import validation as check
from .network import Network
from .options import TrainOptions
from .spec import Spec


@dataclass
class Group:
    """Configurations sharing one architecture and batch size.

    ``indices``: their rows in ``SweepResult.configs``; ``params`` (len(indices),
    n_params): final parameters; ``checkpoint_params`` (n_checkpoints, len(indices),
    n_params): parameters after each checkpoint epoch.
    """

    hidden: tuple
    batch_size: int
    spec: Spec
    indices: np.ndarray
    params: np.ndarray = field(repr=False)
    checkpoint_params: np.ndarray = field(repr=False)
    options: TrainOptions = None  # None: plain SGD (files from before options)


@dataclass
class SweepResult:
    """What a sweep produced.

    ``configs``: structured array (K,), fields ``lr``, ``seed``, ``hidden`` (widths as a
    label such as ``"32-32"``), ``hidden_0``, ``hidden_1``, ... (int64: the width of hidden
    layer l, 0 where a configuration has fewer hidden layers; these compare as numbers:
    ``configs["hidden_0"] == 16``), ``batch_size``, ``optimizer`` (its repr, such as
    ``"Adam(beta1=0.8)"``), ``l1``, ``l2``, ``dropout``, ``group``; ``losses`` (K, epochs):
    loss curves (``losses[k, e]`` as ``fit``'s history); ``diverged_epoch`` (K,): -1, or
    the 0-based epoch in which configuration k's loss or parameters became non-finite (it
    stopped there, keeping its last finite parameters; later losses are NaN); ``stuck``
    (K,) bool: configurations that did not diverge but whose parameters never changed (a
    zero gradient throughout: typically a ReLU output unit dead for every sample from the
    start; ``None`` for files saved before stuck was recorded); ``checkpoints``: the
    epochs (1-based) whose parameters were kept; ``groups``; ``seconds``: training time;
    ``compile_seconds``: compiling (or loading from the disk cache) the kernels before it.

    Held-out data and stopping (``fastnn.sweep``'s validation_data / validation_split,
    patience, halving; None where the sweep had none): ``val_losses`` (K, epochs): the
    loss on the validation data with the parameters at the end of each epoch (NaN where
    the configuration did not run that epoch); ``val_accuracy`` (K, epochs): the fraction
    of right validation predictions (classification losses only); ``best_epoch`` (K,)
    int64: the 0-based epoch whose watched loss (validation loss, else training loss) was
    best (improvements not above ``min_delta`` do not count; -1: none); ``stopped_epoch``
    (K,) int64: -1, or the last epoch run when ``patience`` stopped it; ``pruned_epoch``
    (K,) int64: -1 (survived every rung), or the rung (epochs trained) at which halving
    stopped it; ``halving`` (a ``fastnn.Halving``), ``patience`` and ``min_delta``: the
    settings. With ``restore_best`` (and patience) the final parameters are those of the
    best epoch.
    """

    configs: np.ndarray
    losses: np.ndarray
    diverged_epoch: np.ndarray
    checkpoints: tuple
    groups: list
    seconds: float = 0.0
    compile_seconds: float = 0.0
    stuck: np.ndarray = None
    val_losses: np.ndarray = None
    val_accuracy: np.ndarray = None
    best_epoch: np.ndarray = None
    stopped_epoch: np.ndarray = None
    pruned_epoch: np.ndarray = None
    halving: object = None
    patience: int = None
    min_delta: float = 0.0

    @property
    def diverged(self):
        return self.diverged_epoch >= 0

    @property
    def n_stuck(self):
        """How many configurations are stuck (0 when unknown)."""
        return 0 if self.stuck is None else int(self.stuck.sum())

    def _hidden_fields(self):
        return [name for name in self.configs.dtype.names if name.startswith("hidden_")]

    @property
    def params(self):
        """Final parameters per group: {hidden widths: array (n_configs_in_group, n_params)}."""
        return {(g.hidden, g.batch_size): g.params for g in self.groups}

    def params_of(self, k, checkpoint=None):
        """Final parameters of configuration k, or those after checkpoint epoch ``checkpoint``."""
        group = self.groups[self.configs["group"][k]]
        row = int(np.searchsorted(group.indices, k))
        if checkpoint is None:
            return group.params[row].copy()
        if checkpoint not in self.checkpoints:
            raise ValueError(f"checkpoint must be one of {list(self.checkpoints)}, got {checkpoint!r}")
        return group.checkpoint_params[self.checkpoints.index(checkpoint), row].copy()

    def network(self, k, checkpoint=None):
        """Configuration k as a Network holding its trained parameters."""
        group = self.groups[self.configs["group"][k]]
        spec = group.spec
        return Network(
            spec.sizes, list(spec.activations), spec.loss, spec.bias,
            init=self.params_of(k, checkpoint), seed=int(self.configs["seed"][k]),
        )

    def final_losses(self, epoch=None):
        """Loss of every configuration after ``epoch`` epochs (default: the last epoch it
        ran: the sweep's last, or the one where patience stopped it or halving pruned it)."""
        if epoch is None:
            return self._at(self.losses, self._last_epochs())
        epoch = check.integer(epoch, "epoch", 1, self.losses.shape[1])
        return self.losses[:, epoch - 1]

    # ------------------------------------------------------------ held-out data and stopping

    @property
    def n_stopped(self):
        """How many configurations patience stopped early (0 without patience)."""
        return 0 if self.stopped_epoch is None else int((self.stopped_epoch >= 0).sum())

    @property
    def n_pruned(self):
        """How many configurations halving stopped at a rung (0 without halving)."""
        return 0 if self.pruned_epoch is None else int((self.pruned_epoch >= 0).sum())

    def _last_epochs(self):
        """(K,) int64: the 0-based last epoch each configuration ran."""
        K, epochs = self.losses.shape
        last = np.full(K, epochs - 1, dtype=np.int64)
        if self.stopped_epoch is not None:
            last = np.where(self.stopped_epoch >= 0, self.stopped_epoch, last)
        if self.pruned_epoch is not None:
            last = np.where(self.pruned_epoch >= 0, self.pruned_epoch - 1, last)
        return last.astype(np.int64)

    def _best_epochs(self):
        """(K,) int64: the stored best_epoch, or (a result without one) the epoch of the
        lowest finite watched loss (validation loss, else training loss); -1: none."""
        if self.best_epoch is not None:
            return np.asarray(self.best_epoch, dtype=np.int64)
        watched = self.losses if self.val_losses is None else self.val_losses
        finite = np.isfinite(watched)
        if not watched.shape[1]:
            return np.full(len(watched), -1, dtype=np.int64)
        best = np.argmin(np.where(finite, watched, np.inf), axis=1)
        return np.where(finite.any(axis=1), best, -1).astype(np.int64)

    @staticmethod
    def _at(values, at):
        """values[k, at[k]] for every row k (NaN where at[k] < 0)."""
        rows = np.arange(len(values))
        return np.where(at >= 0, values[rows, np.maximum(at, 0)], np.nan)

    def _ranking(self, by, epoch, name="by"):
        """(by, at): the loss to rank by ("loss" or "val_loss") and the 0-based epoch
        (K,) int64 read for each configuration (-1: none): ``epoch`` - 1 when given; else
        the best epoch when ranking by the watched loss (the validation loss, or the
        training loss of a sweep that stops without validation data), else the last
        epoch each configuration ran."""
        if by is None:
            by = "val_loss" if self.val_losses is not None else "loss"
        if not isinstance(by, str) or by not in ("loss", "val_loss"):
            raise ValueError(f"{name} must be 'loss' (training loss) or 'val_loss' (validation loss), got {by!r}")
        if by == "val_loss" and self.val_losses is None:
            raise ValueError(f"{name}='val_loss' needs validation data, and this sweep had none: pass "
                             f"validation_data or validation_split to fastnn.sweep, or use {name}='loss'")
        K, epochs = self.losses.shape
        if epoch is not None:
            epoch = check.integer(epoch, "epoch", 1, epochs)
            return by, np.full(K, epoch - 1, dtype=np.int64)
        if by == "val_loss" or (self.val_losses is None and self.best_epoch is not None):
            return by, self._best_epochs()
        return by, self._last_epochs()

    def _monitor_columns(self):
        """{name: (K,) array}: best_epoch, val_loss and val_accuracy (at best_epoch),
        stopped_epoch and pruned_epoch; only those the sweep recorded."""
        out = {}
        if self.best_epoch is None and self.val_losses is None:
            return out
        best = self._best_epochs()
        out["best_epoch"] = best
        if self.val_losses is not None:
            out["val_loss"] = self._at(self.val_losses, best)
        if self.val_accuracy is not None:
            out["val_accuracy"] = self._at(self.val_accuracy, best)
        if self.stopped_epoch is not None:
            out["stopped_epoch"] = np.asarray(self.stopped_epoch, dtype=np.int64)
        if self.pruned_epoch is not None:
            out["pruned_epoch"] = np.asarray(self.pruned_epoch, dtype=np.int64)
        return out

    def _settings_summary(self):
        """Phrases for repr and the notebook view: stopped and pruned counts, with settings."""
        parts = []
        if self.patience is not None or self.stopped_epoch is not None:
            setting = "" if self.patience is None else f" (patience {self.patience}" + (
                f", min_delta {self.min_delta:g})" if self.min_delta else ")")
            parts.append(f"{self.n_stopped} stopped early{setting}")
        if self.halving is not None or self.pruned_epoch is not None:
            setting = "" if self.halving is None else \
                f" (halving eta={self.halving.eta}, first_rung={self.halving.first_rung})"
            parts.append(f"{self.n_pruned} pruned{setting}")
        return parts

    def best(self, n=10, epoch=None, by=None):
        """The n best configurations as a structured array with fields index, lr, seed,
        hidden, hidden_0, ..., batch_size, optimizer, l1, l2, dropout, loss, stuck; then,
        where the sweep recorded them, val_loss, val_accuracy, best_epoch, stopped_epoch
        and pruned_epoch.

        ``by``: ``"loss"`` ranks by the training loss, ``"val_loss"`` by the validation
        loss (default: ``"val_loss"`` when the sweep had validation data, else ``"loss"``).
        The epoch read: after ``epoch`` epochs when given; else, by ``"val_loss"``, each
        configuration's ``best_epoch``; by ``"loss"``, each configuration's ``best_epoch``
        in a sweep that stopped on the training loss (patience or halving without
        validation data), else the last epoch it ran. ``loss``, ``val_loss`` and
        ``val_accuracy`` are those of that epoch. Lowest first; NaN and infinite losses
        (diverged configurations) come last; ties keep the configuration order.
        ValueError for another ``by``, or ``"val_loss"`` without validation data."""
        n = check.integer(n, "n", 1)
        by, at = self._ranking(by, epoch)
        loss = self._at(self.losses, at)
        ranked = loss if by == "loss" else self._at(self.val_losses, at)
        key = np.where(np.isfinite(ranked), ranked, np.inf)
        order = np.argsort(key, kind="stable")[:n]
        settings = ["lr", "seed", "hidden", *self._hidden_fields(), "batch_size",
                    *(name for name in ("optimizer", "l1", "l2", "dropout") if name in self.configs.dtype.names)]
        monitor = {}
        if self.val_losses is not None:
            monitor["val_loss"] = self._at(self.val_losses, at)
        if self.val_accuracy is not None:
            monitor["val_accuracy"] = self._at(self.val_accuracy, at)
        for name in ("best_epoch", "stopped_epoch", "pruned_epoch"):
            if getattr(self, name) is not None:
                monitor[name] = np.asarray(getattr(self, name), dtype=np.int64)
        rows = np.empty(len(order), dtype=[("index", "i8")] + [(name, self.configs.dtype[name]) for name in settings]
                        + [("loss", "f8"), ("stuck", "?")] + [(name, values.dtype) for name, values in monitor.items()])
        for name in settings:
            rows[name] = self.configs[name][order]
        rows["index"] = order
        rows["loss"] = loss[order]
        rows["stuck"] = False if self.stuck is None else self.stuck[order]
        for name, values in monitor.items():
            rows[name] = values[order]
        return rows

    def to_csv(self, path, curves=True):
        """One row per configuration: its settings, divergence, whether it is stuck (empty
        when unknown), final loss (of the last epoch it ran) and (with ``curves``) the loss
        of every epoch. A sweep with validation data or stopping adds, after final_loss,
        best_epoch, val_loss and val_accuracy (at best_epoch), stopped_epoch and
        pruned_epoch (those it recorded), and after the loss curve, the validation loss
        curve (``val_loss_1`` ...). NaN where a configuration did not run an epoch."""
        epochs = self.losses.shape[1]
        widths = self._hidden_fields()
        extra = [name for name in ("optimizer", "l1", "l2", "dropout") if name in self.configs.dtype.names]
        monitor = self._monitor_columns()
        final = self.final_losses()
        val_curves = curves and self.val_losses is not None
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            head = ["index", "lr", "seed", "hidden", *widths, "batch_size", *extra, "diverged_epoch", "stuck",
                    "final_loss", *monitor]
            writer.writerow(head + ([f"loss_{e + 1}" for e in range(epochs)] if curves else [])
                            + ([f"val_loss_{e + 1}" for e in range(epochs)] if val_curves else []))
            for k, row in enumerate(self.configs):
                stuck = "" if self.stuck is None else int(self.stuck[k])
                values = [k, repr(float(row["lr"])), int(row["seed"]), row["hidden"], *(int(row[w]) for w in widths),
                          int(row["batch_size"]),
                          *(row[name] if name == "optimizer" else repr(float(row[name])) for name in extra),
                          int(self.diverged_epoch[k]), stuck, repr(float(final[k]))]
                values += [int(v[k]) if v.dtype.kind in "iu" else repr(float(v[k])) for v in monitor.values()]
                if curves:
                    values += [repr(float(v)) for v in self.losses[k]]
                if val_curves:
                    values += [repr(float(v)) for v in self.val_losses[k]]
                writer.writerow(values)

    def to_frame(self):
        """The sweep as a pandas DataFrame (needs pandas: ``pip install fastnn[pandas]``),
        one row per configuration, indexed by configuration number (``index``, as in
        ``best`` and ``network(k)``): its settings (``lr``, ``seed``, ``hidden``,
        ``hidden_0``, ..., ``batch_size``, ``optimizer``, ``l1``, ``l2``, ``dropout``),
        ``final_loss`` (the loss of the last epoch it ran, NaN when it diverged),
        ``best_loss`` and ``best_epoch`` (the lowest finite epoch loss and its 0-based
        epoch; NaN and -1 when there is none), ``diverged_epoch`` (-1, or the 0-based
        epoch it diverged in) and ``stuck`` (pandas's nullable boolean: NA for files saved
        before it was kept).

        A sweep with validation data or stopping: ``best_epoch`` is the sweep's (the
        epoch of the best watched loss: the validation loss when there is one) and
        ``best_loss`` the training loss of that epoch, followed by ``val_loss`` and
        ``val_accuracy`` (at best_epoch; where recorded); ``stopped_epoch`` and
        ``pruned_epoch`` (where recorded) come last. The curves stay in ``losses`` and
        ``val_losses``."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("SweepResult.to_frame needs pandas: pip install 'fastnn[pandas]' "
                              "(or pandas); to_csv writes the same table without it") from None
        names = self.configs.dtype.names
        settings = ["lr", "seed", "hidden", *self._hidden_fields(), "batch_size",
                    *(name for name in ("optimizer", "l1", "l2", "dropout") if name in names)]
        data = {name: self.configs[name] for name in settings}
        data["hidden"] = self.configs["hidden"].astype(object)
        if "optimizer" in data:
            data["optimizer"] = self.configs["optimizer"].astype(object)
        monitor = self._monitor_columns()
        rows = np.arange(len(self.losses))
        data["final_loss"] = self.final_losses()
        if monitor:
            best_epoch = monitor.pop("best_epoch")
            data["best_loss"] = self._at(self.losses, best_epoch)
            data["best_epoch"] = best_epoch
        else:
            finite = np.isfinite(self.losses)
            best_epoch = np.argmin(np.where(finite, self.losses, np.inf), axis=1) if self.losses.shape[1] else \
                np.zeros(len(self.losses), dtype=np.int64)
            has_best = finite.any(axis=1)
            data["best_loss"] = np.where(has_best, self.losses[rows, best_epoch], np.nan)
            data["best_epoch"] = np.where(has_best, best_epoch, -1).astype(np.int64)
        for name in ("val_loss", "val_accuracy"):
            if name in monitor:
                data[name] = monitor.pop(name)
        data["diverged_epoch"] = self.diverged_epoch.astype(np.int64)
        if self.stuck is None:
            data["stuck"] = pd.array([pd.NA] * len(rows), dtype="boolean")
        else:
            data["stuck"] = pd.array(self.stuck.astype(bool), dtype="boolean")
        data.update(monitor)  # stopped_epoch, pruned_epoch
        return pd.DataFrame(data, index=pd.RangeIndex(len(rows), name="index"))

    def plot(self, path=None, ax=None, highlight=5, title=None):
        """Loss curves of every configuration (grey; stuck ones, whose loss never moved,
        dashed red), the ``highlight`` best (``best``'s ranking) in colour; with validation
        data, each of those also with its validation loss curve (same colour, dashed; a
        dot at its best epoch). Curves of configurations stopped early or pruned end where
        they stopped. Draws into the matplotlib Axes ``ax`` when one is given (a subplot of
        your figure), else into a new Figure. Returns the Figure (a notebook shows it);
        also writes it to ``path`` when one is given."""
        fig, ax, own = _axes(ax, (9, 5.5))
        epochs = np.arange(1, self.losses.shape[1] + 1)
        stuck = np.zeros(len(self.losses), dtype=bool) if self.stuck is None else self.stuck
        moving = np.flatnonzero(~stuck)
        for k in moving[:: max(1, len(moving) // 2000)]:  # at most ~2000 grey curves
            ax.plot(epochs, self.losses[k], color="0.75", linewidth=0.5, alpha=0.5)
        # Stuck curves are flat and many share a value: one line per distinct final loss
        # (and last epoch, where configurations stopped early).
        last = self._last_epochs()
        stuck_levels = np.unique(np.column_stack([self.final_losses(), last])[stuck], axis=0) if stuck.any() else ()
        for i, (level, end) in enumerate(stuck_levels[:: max(1, len(stuck_levels) // 200)]):
            label = f"{int(stuck.sum())} stuck (parameters never changed)" if i == 0 else None
            ax.plot(epochs[: int(end) + 1], np.full(int(end) + 1, level, dtype=np.float64), color="tab:red",
                    linewidth=1.2, linestyle="--", alpha=0.8, label=label)
        val = self.val_losses
        top = self.best(highlight)
        for rank, row in enumerate(top):
            k = row["index"]
            label = f"#{rank + 1}: lr={row['lr']:.4g} seed={row['seed']} hidden={row['hidden']} bs={row['batch_size']} "
            if val is not None:
                label += f"val loss={row['val_loss']:.4g} (best after {_epochs(row['best_epoch'] + 1)})"
            else:
                label += f"loss={row['loss']:.4g}"
            label += (" (stuck)" if row["stuck"] else "") + _stop_note(row)
            (line,) = ax.plot(epochs, self.losses[k], linewidth=1.8, label=label)
            if val is not None:
                ax.plot(epochs, val[k], color=line.get_color(), linewidth=1.4, linestyle="--")
                if row["best_epoch"] >= 0:
                    ax.plot([row["best_epoch"] + 1], [val[k, row["best_epoch"]]], color=line.get_color(), marker="o",
                            markersize=4, linestyle="none")
        if val is not None and len(top):
            ax.plot([], [], color="0.3", linestyle="--", label="dashed: validation loss (dot: best epoch)")
        if _wide_range(self.losses if val is None else np.concatenate([self.losses, val[top["index"]]])):
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("mean loss")
        if title is None:
            title = f"{len(self.losses)} configurations, best {highlight} highlighted"
            if val is not None:
                title = (f"{len(self.losses)} configurations, best {highlight} by validation loss highlighted "
                         "(dashed: validation loss)")
        ax.set_title(title)
        ax.legend(fontsize=7, loc="upper right")
        return _finish(fig, own, path)

    def plot_lr(self, path=None, ax=None, by="hidden", epoch=None, title=None, metric=None):
        """Loss against learning rate (log scale), as ``best`` reads it: ``metric``
        ``"loss"`` (training loss) or ``"val_loss"`` (validation loss; the default when the
        sweep had validation data) at each configuration's best epoch or last epoch (see
        ``best``), or after ``epoch`` epochs; the y label says which. One line per value of
        the ``configs`` field ``by`` (``"hidden"``,
        ``"optimizer"``, ``"batch_size"``, ``"l2"``, ...; a tuple of fields gives one line per
        combination). Each point is the median over the configurations with that
        learning rate and value (the seeds, and any other setting the grid varies), with
        their min..max as a band; diverged configurations are left out of it and counted
        in the legend. Draws into ``ax`` when given; returns the Figure, also written to
        ``path`` when one is given."""
        fields = [by] if isinstance(by, str) else list(by)
        valid = [name for name in self.configs.dtype.names if name not in ("lr", "group")]
        if not fields:
            raise ValueError(f"by must name a field: one of {', '.join(valid)}")
        for name in fields:
            if not isinstance(name, str):
                raise TypeError(f"by must be a field name or a tuple of them, got {type(name).__name__}")
            if name not in valid:
                raise ValueError(f"unknown by {name!r}; valid: {', '.join(valid)}")
        metric, at = self._ranking(metric, epoch, "metric")
        loss = self._at(self.losses if metric == "loss" else self.val_losses, at)
        fig, ax, own = _axes(ax, (8, 5))
        lr = self.configs["lr"]
        rates = np.unique(lr)
        keys = {}
        for k, key in enumerate(zip(*(self.configs[name].tolist() for name in fields))):
            keys.setdefault(key, []).append(k)
        for key, members in keys.items():
            members = np.asarray(members)
            median = np.full(len(rates), np.nan)
            low, high = median.copy(), median.copy()
            diverged = 0
            for i, rate in enumerate(rates):
                values = loss[members[lr[members] == rate]]
                finite = values[np.isfinite(values)]
                diverged += len(values) - len(finite)
                if len(finite):
                    median[i], low[i], high[i] = np.median(finite), finite.min(), finite.max()
            label = ", ".join(f"{name}={_show_value(value)}" for name, value in zip(fields, key))
            if diverged:
                label += f" ({diverged} diverged)"
            (line,) = ax.plot(rates, median, marker="o", markersize=3, linewidth=1.5, label=label)
            ax.fill_between(rates, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
        ax.set_xscale("log")
        if _wide_range(loss):
            ax.set_yscale("log")
        ax.set_xlabel("learning rate")
        epochs = self.losses.shape[1]
        at_best = epoch is None and (metric == "val_loss" or self.best_epoch is not None and self.val_losses is None)
        name = "validation loss" if metric == "val_loss" else "loss"
        if at_best:
            ax.set_ylabel(f"best {name} (at each configuration's best epoch)")
        elif epoch is None or epoch == epochs:
            ax.set_ylabel(f"final {name}")
        else:
            ax.set_ylabel(f"{name} after {epoch} epochs")
        over = ([] if "seed" in fields else ["seeds"]) + [
            name for name in self._varying() if name not in ("lr", "seed", *fields)
            and not (name.startswith("hidden") and any(f.startswith("hidden") for f in fields))]
        summary = f"median over {', '.join(over)} (band: min..max)" if over else "one configuration per point"
        ax.set_title(title or f"{len(self.configs)} configurations: {summary}")
        ax.legend(fontsize=7, loc="best")
        return _finish(fig, own, path)

    def _varying(self):
        """The configs fields (settings) whose value is not the same for every configuration."""
        return [name for name in self.configs.dtype.names
                if name != "group" and len(np.unique(self.configs[name])) > 1]

    def save(self, path):
        """Write the whole result to ``path`` (.npz, no pickle; see fastnn.io); atomic."""
        from . import io

        io.save_sweep(self, path)

    def __repr__(self):
        n_div = int(self.diverged.sum())
        stuck = "stuck unknown" if self.stuck is None else f"{self.n_stuck} stuck"
        monitor = "".join(f", {part}" for part in self._settings_summary())
        best = ""
        if len(self.configs):
            top = self.best(1)[0]
            if self.val_losses is not None:
                if np.isfinite(top["val_loss"]):
                    best = f", best val loss {top['val_loss']:.4g} (index {top['index']}, epoch {top['best_epoch']})"
            elif np.isfinite(top["loss"]):
                what = "final loss" if self.best_epoch is None else "loss"
                best = f", best {what} {top['loss']:.4g} (index {top['index']})"
        return (f"SweepResult({len(self.configs)} configurations in {len(self.groups)} group(s), "
                f"{self.losses.shape[1]} epochs, {n_div} diverged, {stuck}{monitor}, {self.seconds:.3g} s{best})")

    def _repr_html_(self):
        """What a notebook shows: the sweep's size and outcome, and its best 5
        configurations (``best``'s ranking) as a table (the settings that vary; the fixed
        ones above it), with their validation loss and accuracy, best epoch and stopping
        where the sweep recorded them."""
        K, epochs = self.losses.shape
        varying = set(self._varying())
        n_div = int(self.diverged.sum())
        stuck = "stuck unknown" if self.stuck is None else f"{self.n_stuck} stuck"
        monitor = "".join(f", {part}" for part in self._settings_summary())
        head = (f"<b>SweepResult</b>: {K:,} configuration{'s' if K != 1 else ''} in {len(self.groups)} "
                f"group{'s' if len(self.groups) != 1 else ''}, {epochs:,} epoch{'s' if epochs != 1 else ''}; "
                f"{n_div} diverged, {stuck}{html.escape(monitor)}; trained in {self.seconds:.3g} s "
                f"(+{self.compile_seconds:.3g} s compiling or loading kernels)")
        rows = self.best(5) if K else self.best(1)[:0]
        names = rows.dtype.names
        monitored = ("val_loss", "val_accuracy", "best_epoch", "stopped_epoch", "pruned_epoch")
        settings = [name for name in names if name not in ("index", "loss", "stuck", *monitored)
                    and not name.startswith("hidden_")]
        shown = [name for name in settings if name in varying or name in ("lr", "seed")]
        fixed = [f"{name}={_show_value(self.configs[name][0])}" for name in settings if name not in shown and K]
        validation = "val_loss" in names
        at_best = "best_epoch" in names
        stops = self.n_stopped or self.n_pruned
        columns = ["rank", "index", *shown, "train loss" if validation else "loss" if at_best else "final loss"]
        columns += ["val loss"] if validation else []
        columns += ["val accuracy"] if "val_accuracy" in names else []
        columns += ["best epoch"] if at_best else []
        columns += ["stuck"] if self.n_stuck else []
        columns += ["stopped"] if stops else []
        body = []
        for rank, row in enumerate(rows, 1):
            cells = [rank, row["index"], *(_show_value(row[name]) for name in shown), f"{row['loss']:.6g}"]
            if validation:
                cells.append(f"{row['val_loss']:.6g}")
            if "val_accuracy" in names:
                cells.append(f"{row['val_accuracy']:.4g}")
            if at_best:
                cells.append(row["best_epoch"])
            if self.n_stuck:
                cells.append("stuck" if row["stuck"] else "")
            if stops:
                cells.append(_stop_note(row).strip())
            body.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
        table = ("<table><thead><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in columns) + "</tr></thead>"
                 f"<tbody>{''.join(body)}</tbody></table>")
        note = f"<br>fixed: {html.escape(', '.join(fixed))}" if fixed else ""
        if not K:
            caption = ""
        elif validation:
            caption = f"<br>best {len(rows)} by validation loss (at each configuration's best epoch):"
        elif at_best:
            caption = f"<br>best {len(rows)} by loss (at each configuration's best epoch):"
        else:
            caption = f"<br>best {len(rows)} by final loss:"
        return f"<div>{head}{note}{caption}{table}</div>"


def _stop_note(row):
    """" stopped after n epochs" (patience) / " pruned after r epochs" (halving) for a
    ``best`` row; "" if neither."""
    names = row.dtype.names
    if "pruned_epoch" in names and row["pruned_epoch"] >= 0:
        return f" pruned after {_epochs(row['pruned_epoch'])}"
    if "stopped_epoch" in names and row["stopped_epoch"] >= 0:
        return f" stopped after {_epochs(row['stopped_epoch'] + 1)}"
    return ""


def _epochs(n):
    """"1 epoch", "2 epochs"."""
    return f"{n} epoch{'s' if n != 1 else ''}"


def _axes(ax, size):
    """(figure, axes, whether fastnn made the figure): the given Axes and its Figure, or a
    new Figure (not pyplot's: nothing global is touched) with one Axes."""
    if ax is not None:
        return ax.figure, ax, False
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = _figure_class()(figsize=size)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1), True


@functools.lru_cache(maxsize=1)
def _figure_class():
    """matplotlib's Figure with a PNG representation: Jupyter shows a returned figure
    even where pyplot (whose inline backend registers one) was never imported."""
    from matplotlib.figure import Figure

    class ShownFigure(Figure):
        def _repr_png_(self):
            buffer = io.BytesIO()
            self.savefig(buffer, format="png", dpi=110)
            return buffer.getvalue()

    return ShownFigure


def _finish(fig, own, path):
    if own:
        fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig


def _wide_range(losses):
    """True when the positive finite losses span more than a factor 100 (log scale)."""
    positive = losses[np.isfinite(losses) & (losses > 0)]
    return positive.size > 0 and positive.max() / positive.min() > 100


def _show_value(value):
    """A configs value for a label: floats as %g, the rest as text."""
    if isinstance(value, (float, np.floating)):
        return f"{float(value):g}"
    if isinstance(value, np.generic):
        return str(value.item())
    return str(value)
