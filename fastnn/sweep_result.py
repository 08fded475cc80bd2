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
        """Loss of every configuration after ``epoch`` epochs (default: all of them)."""
        epochs = self.losses.shape[1]
        epoch = epochs if epoch is None else check.integer(epoch, "epoch", 1, epochs)
        return self.losses[:, epoch - 1]

    def best(self, n=10, epoch=None):
        """The n configurations with the lowest loss at ``epoch`` (default: the last),
        as a structured array with fields index, lr, seed, hidden, hidden_0, ...,
        batch_size, optimizer, l1, l2, dropout, loss, stuck. Diverged configurations
        come last."""
        n = check.integer(n, "n", 1)
        loss = self.final_losses(epoch)
        key = np.where(np.isfinite(loss), loss, np.inf)
        order = np.argsort(key, kind="stable")[:n]
        settings = ["lr", "seed", "hidden", *self._hidden_fields(), "batch_size",
                    *(name for name in ("optimizer", "l1", "l2", "dropout") if name in self.configs.dtype.names)]
        rows = np.empty(len(order), dtype=[("index", "i8")] + [(name, self.configs.dtype[name]) for name in settings]
                        + [("loss", "f8"), ("stuck", "?")])
        for name in settings:
            rows[name] = self.configs[name][order]
        rows["index"] = order
        rows["loss"] = loss[order]
        rows["stuck"] = False if self.stuck is None else self.stuck[order]
        return rows

    def to_csv(self, path, curves=True):
        """One row per configuration: its settings, divergence, whether it is stuck (empty
        when unknown), final loss and (with ``curves``) the loss of every epoch."""
        epochs = self.losses.shape[1]
        widths = self._hidden_fields()
        extra = [name for name in ("optimizer", "l1", "l2", "dropout") if name in self.configs.dtype.names]
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            head = ["index", "lr", "seed", "hidden", *widths, "batch_size", *extra, "diverged_epoch", "stuck",
                    "final_loss"]
            writer.writerow(head + ([f"loss_{e + 1}" for e in range(epochs)] if curves else []))
            for k, row in enumerate(self.configs):
                stuck = "" if self.stuck is None else int(self.stuck[k])
                values = [k, repr(float(row["lr"])), int(row["seed"]), row["hidden"], *(int(row[w]) for w in widths),
                          int(row["batch_size"]),
                          *(row[name] if name == "optimizer" else repr(float(row[name])) for name in extra),
                          int(self.diverged_epoch[k]), stuck, repr(float(self.losses[k, -1]))]
                if curves:
                    values += [repr(float(v)) for v in self.losses[k]]
                writer.writerow(values)

    def to_frame(self):
        """The sweep as a pandas DataFrame (needs pandas: ``pip install fastnn[pandas]``),
        one row per configuration, indexed by configuration number (``index``, as in
        ``best`` and ``network(k)``): its settings (``lr``, ``seed``, ``hidden``,
        ``hidden_0``, ..., ``batch_size``, ``optimizer``, ``l1``, ``l2``, ``dropout``),
        ``final_loss`` (the last epoch's loss, NaN when it diverged), ``best_loss`` and
        ``best_epoch`` (the lowest finite epoch loss and its 0-based epoch; NaN and -1
        when there is none), ``diverged_epoch`` (-1, or the 0-based epoch it diverged in)
        and ``stuck`` (pandas's nullable boolean: NA for files saved before it was kept).
        The loss curves stay in ``losses``."""
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
        finite = np.isfinite(self.losses)
        best_epoch = np.argmin(np.where(finite, self.losses, np.inf), axis=1) if self.losses.shape[1] else \
            np.zeros(len(self.losses), dtype=np.int64)
        has_best = finite.any(axis=1)
        rows = np.arange(len(self.losses))
        data["final_loss"] = self.losses[:, -1]
        data["best_loss"] = np.where(has_best, self.losses[rows, best_epoch], np.nan)
        data["best_epoch"] = np.where(has_best, best_epoch, -1).astype(np.int64)
        data["diverged_epoch"] = self.diverged_epoch.astype(np.int64)
        if self.stuck is None:
            data["stuck"] = pd.array([pd.NA] * len(rows), dtype="boolean")
        else:
            data["stuck"] = pd.array(self.stuck.astype(bool), dtype="boolean")
        return pd.DataFrame(data, index=pd.RangeIndex(len(rows), name="index"))

    def plot(self, path=None, ax=None, highlight=5, title=None):
        """Loss curves of every configuration (grey; stuck ones, whose loss never moved,
        dashed red), the ``highlight`` best in colour. Draws into the matplotlib Axes
        ``ax`` when one is given (a subplot of your figure), else into a new Figure.
        Returns the Figure (a notebook shows it); also writes it to ``path`` when one is
        given."""
        fig, ax, own = _axes(ax, (9, 5.5))
        epochs = np.arange(1, self.losses.shape[1] + 1)
        stuck = np.zeros(len(self.losses), dtype=bool) if self.stuck is None else self.stuck
        moving = np.flatnonzero(~stuck)
        for k in moving[:: max(1, len(moving) // 2000)]:  # at most ~2000 grey curves
            ax.plot(epochs, self.losses[k], color="0.75", linewidth=0.5, alpha=0.5)
        # Stuck curves are flat and many share a value: one line per distinct final loss.
        stuck_levels = np.unique(self.losses[stuck, -1]) if stuck.any() else ()
        for i, level in enumerate(stuck_levels[:: max(1, len(stuck_levels) // 200)]):
            label = f"{int(stuck.sum())} stuck (parameters never changed)" if i == 0 else None
            ax.plot(epochs, np.full(len(epochs), level, dtype=np.float64), color="tab:red", linewidth=1.2, linestyle="--",
                    alpha=0.8, label=label)
        for rank, row in enumerate(self.best(highlight)):
            k = row["index"]
            ax.plot(epochs, self.losses[k], linewidth=1.8,
                    label=f"#{rank + 1}: lr={row['lr']:.4g} seed={row['seed']} hidden={row['hidden']} "
                          f"bs={row['batch_size']} loss={row['loss']:.4g}" + (" (stuck)" if row["stuck"] else ""))
        if _wide_range(self.losses):
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("mean loss")
        ax.set_title(title or f"{len(self.losses)} configurations, best {highlight} highlighted")
        ax.legend(fontsize=7, loc="upper right")
        return _finish(fig, own, path)

    def plot_lr(self, path=None, ax=None, by="hidden", epoch=None, title=None):
        """Loss against learning rate (log scale): the final loss, or the loss after
        ``epoch`` epochs, one line per value of the ``configs`` field ``by`` (``"hidden"``,
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
        loss = self.final_losses(epoch)
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
        ax.set_ylabel("final loss" if epoch is None or epoch == epochs else f"loss after {epoch} epochs")
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
        best = ""
        if len(self.configs):
            top = self.best(1)[0]
            if np.isfinite(top["loss"]):
                best = f", best final loss {top['loss']:.4g} (index {top['index']})"
        return (f"SweepResult({len(self.configs)} configurations in {len(self.groups)} group(s), "
                f"{self.losses.shape[1]} epochs, {n_div} diverged, {stuck}, {self.seconds:.3g} s{best})")

    def _repr_html_(self):
        """What a notebook shows: the sweep's size and outcome, and its best 5
        configurations as a table (the settings that vary; the fixed ones above it)."""
        K, epochs = self.losses.shape
        varying = set(self._varying())
        n_div = int(self.diverged.sum())
        stuck = "stuck unknown" if self.stuck is None else f"{self.n_stuck} stuck"
        head = (f"<b>SweepResult</b>: {K:,} configuration{'s' if K != 1 else ''} in {len(self.groups)} "
                f"group{'s' if len(self.groups) != 1 else ''}, {epochs:,} epoch{'s' if epochs != 1 else ''}; "
                f"{n_div} diverged, {stuck}; trained in {self.seconds:.3g} s "
                f"(+{self.compile_seconds:.3g} s compiling or loading kernels)")
        rows = self.best(5) if K else self.best(1)[:0]
        settings = [name for name in rows.dtype.names if name not in ("index", "loss", "stuck")
                    and not name.startswith("hidden_")]
        shown = [name for name in settings if name in varying or name in ("lr", "seed")]
        fixed = [f"{name}={_show_value(self.configs[name][0])}" for name in settings if name not in shown and K]
        columns = ["rank", "index", *shown, "final loss"] + (["stuck"] if self.n_stuck else [])
        body = []
        for rank, row in enumerate(rows, 1):
            cells = [rank, row["index"], *(_show_value(row[name]) for name in shown), f"{row['loss']:.6g}"]
            if self.n_stuck:
                cells.append("stuck" if row["stuck"] else "")
            body.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
        table = ("<table><thead><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in columns) + "</tr></thead>"
                 f"<tbody>{''.join(body)}</tbody></table>")
        note = f"<br>fixed: {html.escape(', '.join(fixed))}" if fixed else ""
        caption = f"<br>best {len(rows)} by final loss:" if K else ""
        return f"<div>{head}{note}{caption}{table}</div>"


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
