"""Sweeps: every combination of learning rate x init seed x hidden widths x batch size,
trained together, each with its whole loss curve.

Configuration k is trained exactly as ``Network(sizes_k, activation, loss, bias, init,
seed=configs[k]["seed"]).fit(X, y, lr=configs[k]["lr"], epochs,
batch_size=configs[k]["batch_size"], shuffle)`` would train it (shuffling seeded by the
configuration's seed, as ``fit`` does by default), bit for bit. Configurations that share
hidden widths and batch size form a group, trained by one kernel call with the parameters
laid out as ``P[param, k]`` (see ``kernels.sweep_generic``).
"""
from __future__ import annotations

import csv
import html
import itertools
import math
import numbers
import os
import queue
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed, wait
from dataclasses import dataclass, field

import numba
import numpy as np

from . import advice, optim, sweep_options
from . import validation as check
from .kernels import sweep_generic, sweepgen
from .kernels import cache as kernel_cache
from .kernels.compiler import compiled
from .network import Network
from .options import TrainOptions
from .spec import INITS, Spec

# Grids beyond either limit need allow_large=True.
MAX_CONFIGS = 100_000
MAX_BYTES = 2 * 2**30
# Configurations per block (blocks run in parallel): one lane block of the generated
# sweep kernels.
CHUNK = sweepgen.LANES
# A sweep expected to take longer than this shows a progress bar (on a terminal or in a notebook only).
PROGRESS_AFTER_S = 1.0

_SIGNATURE = (
    "void(float64[:, ::1], float64[:, ::1], float64[:, ::1], float64[::1], int64, boolean, uint64[::1], "
    "int64, int64, float64[:, ::1], int64[::1], int64[::1], float64[:, :, ::1], int64, int64, int64[::1])"
)


def _kernel(spec, batch_size, shuffle):
    """The sweep kernel for spec's configurations trained with these settings."""
    if sweepgen.supports(spec):
        return kernel_cache.load(sweepgen.cached_source(spec), sweepgen.kernel_name(batch_size, shuffle), _SIGNATURE)
    return compiled(sweep_generic.train, _SIGNATURE)


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
    """

    configs: np.ndarray
    losses: np.ndarray
    diverged_epoch: np.ndarray
    checkpoints: tuple
    groups: list
    seconds: float = 0.0
    compile_seconds: float = 0.0
    stuck: np.ndarray = None

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


def _values(value, name, convert):
    """A non-empty list of unique values from one value or a sequence."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        value = [value]
    items = [convert(v) for v in value]
    if not items:
        raise ValueError(f"{name} must not be empty")
    if len(set(items)) != len(items):
        raise ValueError(f"{name} has duplicate values: {items}")
    return items


def _rate(value, name, below_one=False):
    """A penalty factor (finite, >= 0) or a dropout rate (in [0, 1))."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must hold real numbers, got {type(value).__name__}")
    out = float(value)
    if not (math.isfinite(out) and out >= 0.0 and (out < 1.0 or not below_one)):
        raise ValueError(f"{name} must be finite and {'in [0, 1)' if below_one else '>= 0'}, got {value!r}")
    return out


def _hidden(value, depth):
    """One hidden entry: a width for each of ``depth`` hidden layers, or a tuple of widths."""
    if isinstance(value, (tuple, list)):
        if not value:
            raise ValueError("hidden entries must not be empty tuples")
        return tuple(check.integer(v, "hidden", 1) for v in value)
    return (check.integer(value, "hidden", 1),) * depth


def _axes(ax, size):
    """(figure, axes, whether fastnn made the figure): the given Axes and its Figure, or a
    new Figure (not pyplot's: nothing global is touched) with one Axes."""
    if ax is not None:
        return ax.figure, ax, False
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1), True


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


def sweep(
    sizes_or_net,
    X,
    y,
    lr,
    seeds=(0,),
    hidden=None,
    batch_size=(1,),
    epochs=100,
    activation="relu",
    loss="squared_error",
    bias=True,
    init="xavier",
    shuffle=False,
    checkpoints=(),
    progress=True,
    allow_large=False,
    chunk=CHUNK,
    threads=None,
    optimizer="sgd",
    l1=0.0,
    l2=0.0,
    dropout=0.0,
    client=None,
    store=None,
    blocks_per_task=None,
):
    """Train every combination of ``lr`` x ``seeds`` x ``hidden`` x ``batch_size`` x
    ``optimizer`` x ``l1`` x ``l2`` x ``dropout``.

    ``sizes_or_net``: layer widths like ``[2, 2, 1]``, or a Network whose sizes,
    activations, loss and bias are used (and whose parameters are the common start when
    it was built from an explicit array). ``hidden``: list of hidden widths, each a width
    for every hidden layer or a tuple of widths (default: those of ``sizes_or_net``).
    ``batch_size``: entries 1 (per sample), k, or None (the full batch, as in fit).
    ``checkpoints``: epochs (1..epochs) after which parameters are kept too.
    ``optimizer``: a name or optimizer object, or a list of them (``[fastnn.Adam(beta1=b)
    for b in (0.8, 0.9)]`` sweeps beta1); ``l1``, ``l2`` (on every layer's weights, as
    ``fit``'s scalar l1/l2) and ``dropout`` (every hidden layer): a number or a list of
    numbers; each is a grid axis. Configurations with an optimizer other than plain SGD,
    a penalty or dropout are trained one at a time by the kernel ``fit`` uses for them
    (``fastnn.sweep_options``): exact, but not yet vectorised across configurations.
    ``progress``: show a progress bar (tqdm's when tqdm is installed, else a line of
    fastnn's own) once the sweep is expected to take more than PROGRESS_AFTER_S, on a
    terminal or in a notebook only; ``False`` never does.
    ``chunk``: configurations per block; ``threads``: blocks trained at once (default
    NUMBA_NUM_THREADS, i.e. all cores unless that variable says otherwise). Neither changes
    any result.
    ``client``: a ``dask.distributed.Client``; the blocks then train as tasks on its
    workers (``blocks_per_task`` blocks each; default: enough tasks for every worker
    thread to take several), with the same result bit for bit (see ``fastnn.cluster`` and
    docs/distributed.md). ``store``: a folder where every finished block is saved as it
    completes; a sweep started again with the same arguments and data trains only the
    blocks missing there, with the same result as an uninterrupted run (see
    ``fastnn.store``). Returns a SweepResult; see the module docstring for what each
    configuration means.
    """
    start_params = None
    if isinstance(sizes_or_net, Network):
        base = sizes_or_net.spec
        activation, loss, bias = list(base.activations), base.loss, base.bias
        if sizes_or_net.init == "array":
            start_params = sizes_or_net.params.copy()
        else:
            init = sizes_or_net.init
    else:
        base = Spec.build(sizes_or_net, activation, loss, bias)
    depth = base.n_layers - 1
    lrs = _values(lr, "lr", lambda v: check.positive_float(v, "lr"))
    # not check.seed: None (a random seed for Network) cannot name a configuration
    seed_list = _values(seeds, "seeds", lambda v: check.integer(v, "seeds", 0, check.MAX_SEED))
    if hidden is None:
        hidden_list = [tuple(base.sizes[1:-1])]
    else:
        if depth == 0:
            raise ValueError(f"hidden: the network {list(base.sizes)} has no hidden layer")
        hidden_list = _values(hidden, "hidden", lambda v: _hidden(v, depth))
    if start_params is not None and (len(hidden_list) > 1 or hidden_list[0] != tuple(base.sizes[1:-1])):
        raise ValueError("hidden: a network with explicit parameters fixes its widths; pass sizes instead")
    # None: the full batch (as in fit); resolved once the data's length is known
    batch_list = _values(batch_size, "batch_size", lambda v: None if v is None else check.integer(v, "batch_size", 1))
    epochs = check.integer(epochs, "epochs", 1)
    shuffle = check.flag(shuffle, "shuffle")
    progress = check.flag(progress, "progress")
    allow_large = check.flag(allow_large, "allow_large")
    chunk = check.integer(chunk, "chunk", 1)
    if blocks_per_task is not None:
        blocks_per_task = check.integer(blocks_per_task, "blocks_per_task", 1)
    if store is not None:
        try:
            store = os.fsdecode(os.fspath(store))
        except TypeError:
            raise TypeError(f"store must be a folder path (str or os.PathLike), got {type(store).__name__}") from None
    # numba.config, not numba.get_num_threads(): that would launch numba's threading layer
    threads = numba.config.NUMBA_NUM_THREADS if threads is None else check.integer(threads, "threads", 1)
    ckpts = []
    if checkpoints is not None and not (hasattr(checkpoints, "__len__") and len(checkpoints) == 0):
        ckpts = sorted(_values(checkpoints, "checkpoints", lambda v: check.integer(v, "checkpoints", 1, epochs)))
    if not isinstance(init, str):
        raise TypeError(
            f"init must be one of {', '.join(INITS)}, got {type(init).__name__}; to start every "
            "configuration from given parameters, pass a Network built from them as sizes_or_net"
        )
    check.choice(init, "init", INITS)
    optimizers = _values(optimizer, "optimizer", optim.resolve)
    l1_list = _values(l1, "l1", lambda v: _rate(v, "l1"))
    l2_list = _values(l2, "l2", lambda v: _rate(v, "l2"))
    dropout_list = _values(dropout, "dropout", lambda v: _rate(v, "dropout", below_one=True))

    specs = {}
    for widths in hidden_list:
        activations = activation
        if not isinstance(activation, str) and len(activation) != len(widths) + 1:
            raise ValueError(f"activation lists one name per layer; hidden {widths} needs {len(widths) + 1}")
        specs[widths] = Spec.build((base.sizes[0], *widths, base.sizes[-1]), activations, loss, bias)
    # options[(widths, o, i1, i2, d)]: validated per network (dropout needs a hidden layer)
    options = {
        (widths, o, i1, i2, d): TrainOptions.build(specs[widths], opt, l1v, l2v, 0.0, 0.0, rate)
        for widths in hidden_list
        for (o, opt), (i1, l1v), (i2, l2v), (d, rate) in itertools.product(
            enumerate(optimizers), enumerate(l1_list), enumerate(l2_list), enumerate(dropout_list))
    }
    first = specs[hidden_list[0]]
    Xc = check.inputs(X, first)
    Yc = check.targets(y, first, Xc.shape[0])
    n = Xc.shape[0]
    if None in batch_list:
        batch_list = [n if bs is None else bs for bs in batch_list]
        if len(set(batch_list)) != len(batch_list):
            raise ValueError(f"batch_size has duplicate values once None means the full batch ({n}): {batch_list}")
    for bs in batch_list:
        if bs > n:
            raise ValueError(f"batch_size must be between 1 and the number of samples ({n}), got {bs}")
    advice.warn_if_sorted_in_order(Yc, shuffle, min(batch_list), stacklevel=2)

    # The grid is itertools.product(lrs, seed_list, hidden_list, batch_list, optimizers,
    # l1_list, l2_list, dropout_list) in that order: configuration k = (lrs[i], seed_list[j],
    # hidden_list[h], ...) for the indices (i, j, h, ...) of k in an array of that shape
    # (built as arrays: ~3 ms less per call at 1,024 configurations than tuples).
    shape = (len(lrs), len(seed_list), len(hidden_list), len(batch_list), len(optimizers), len(l1_list),
             len(l2_list), len(dropout_list))
    K = math.prod(shape)
    # per configuration: params, checkpoints, optimizer states (two more copies unless
    # plain SGD), its loss curve
    n_bytes = len(lrs) * len(seed_list) * len(batch_list) * sum(
        8 * (specs[key[0]].n_params * (1 + len(ckpts) + (0 if opts.is_plain else 2)) + epochs)
        for key, opts in options.items())
    if not allow_large and (K > MAX_CONFIGS or n_bytes > MAX_BYTES):
        raise ValueError(
            f"the grid has {K} configurations needing {n_bytes / 2**30:.2f} GiB; the limits are "
            f"{MAX_CONFIGS} configurations and {MAX_BYTES / 2**30:.0f} GiB: pass allow_large=True to run it"
        )

    hidden_width = max(len("-".join(map(str, h))) for h in hidden_list)
    depth_max = max(len(h) for h in hidden_list)
    width_fields = [f"hidden_{l}" for l in range(depth_max)]
    opt_names = [repr(o) for o in optimizers]
    configs = np.empty(K, dtype=[("lr", "f8"), ("seed", "u8"), ("hidden", f"U{max(hidden_width, 1)}")]
                       + [(name, "i8") for name in width_fields]
                       + [("batch_size", "i8"), ("optimizer", f"U{max(map(len, opt_names))}"), ("l1", "f8"),
                          ("l2", "f8"), ("dropout", "f8"), ("group", "i8")])
    # groups: the (hidden, batch size, optimizer, l1, l2, dropout) combinations in the
    # order the grid first meets them
    group_keys = list(itertools.product(hidden_list, batch_list, range(len(optimizers)), range(len(l1_list)),
                                        range(len(l2_list)), range(len(dropout_list))))
    i_lr, i_seed, i_hidden, i_batch, i_opt, i_l1, i_l2, i_drop = np.indices(shape).reshape(len(shape), K)
    configs["lr"] = np.asarray(lrs, dtype=np.float64)[i_lr]
    configs["seed"] = np.asarray(seed_list, dtype=np.uint64)[i_seed]
    configs["hidden"] = np.asarray(["-".join(map(str, h)) for h in hidden_list])[i_hidden]
    widths_table = np.zeros((len(hidden_list), depth_max), dtype=np.int64)
    for h, widths in enumerate(hidden_list):
        widths_table[h, : len(widths)] = widths
    for l, name in enumerate(width_fields):
        configs[name] = widths_table[i_hidden, l]
    configs["batch_size"] = np.asarray(batch_list, dtype=np.int64)[i_batch]
    configs["optimizer"] = np.asarray(opt_names)[i_opt]
    configs["l1"] = np.asarray(l1_list, dtype=np.float64)[i_l1]
    configs["l2"] = np.asarray(l2_list, dtype=np.float64)[i_l2]
    configs["dropout"] = np.asarray(dropout_list, dtype=np.float64)[i_drop]
    configs["group"] = np.ravel_multi_index((i_hidden, i_batch, i_opt, i_l1, i_l2, i_drop), shape[2:])

    try:
        losses = np.full((K, epochs), np.nan, dtype=np.float64)
    except (MemoryError, ValueError):
        raise ValueError(f"epochs={epochs}: the loss curves of {K} configurations do not fit in memory") from None
    diverged = np.full(K, -1, dtype=np.int64)
    stuck = np.zeros(K, dtype=bool)
    # the groups holding configurations: their number, rows, and what trains them
    jobs = []
    ckpt_epochs = tuple(c - 1 for c in ckpts)
    for g, (widths, bs, *choice) in enumerate(group_keys):
        idx = np.flatnonzero(configs["group"] == g)
        if len(idx):
            jobs.append((g, idx, _Plan(specs[widths], options[(widths, *choice)], widths, bs, shuffle, epochs,
                                       ckpt_epochs)))

    def inputs_of(plan, idx):
        """The plain inputs of configurations idx: starting parameters (n_params, len(idx)),
        seeds (uint64) and learning rates."""
        seeds, rates = configs["seed"][idx].astype(np.uint64), np.ascontiguousarray(configs["lr"][idx])
        if start_params is not None:
            return np.repeat(start_params[:, None], len(idx), axis=1), seeds, rates
        # one initialisation per distinct seed, then a column per configuration
        distinct, column_of = np.unique(seeds, return_inverse=True)
        table = np.stack([plan.spec.init_params(init, int(seed)) for seed in distinct], axis=1)
        return np.ascontiguousarray(table[:, column_of.ravel()]), seeds, rates

    saved = None
    if store is not None:  # refused (another sweep's store) before any work
        from . import store as store_module

        saved = store_module.open_store(store, store_module.manifest(
            configs, Xc, Yc, epochs=epochs, shuffle=shuffle, init=init, start_params=start_params,
            checkpoints=ckpts, chunk=chunk, specs=[specs[w] for w in hidden_list]))
    if client is not None:
        from . import cluster

        cluster.check_client(client)
    started = time.perf_counter()
    plans = list({plan: None for _, _, plan in jobs})
    if client is None:
        for plan in plans:  # compiled (or loaded) here, not while timed
            _prepare(plan)
    else:
        cluster.prepare(client, plans)
    compile_seconds = time.perf_counter() - started
    started = time.perf_counter()
    bar = _Progress(K * epochs, enabled=progress)
    try:
        if client is None and saved is None:
            groups = _train_in_slices(jobs, inputs_of, Xc, Yc, losses, diverged, stuck, bar, chunk, threads,
                                      len(group_keys))
        else:
            groups = _train_whole_blocks(jobs, inputs_of, Xc, Yc, losses, diverged, stuck, bar, chunk, threads,
                                         client, saved, blocks_per_task)
    finally:
        bar.close()
    return SweepResult(
        configs, losses, diverged, tuple(ckpts), groups, time.perf_counter() - started, compile_seconds, stuck
    )


@dataclass(frozen=True)
class _Plan:
    """How one group trains: plain values, so that a Dask worker can receive them and build
    the kernel itself. ``ckpt_epochs``: the checkpoint epochs, 0-based."""

    spec: Spec
    options: TrainOptions
    hidden: tuple
    batch_size: int
    shuffle: bool
    epochs: int
    ckpt_epochs: tuple


def _prepare(plan):
    """Compile (or load from the disk cache) the kernel that trains plan's group."""
    if plan.options.is_plain:
        _kernel(plan.spec, plan.batch_size, plan.shuffle)
    else:
        sweep_options.load(plan.spec, plan.options)


def _group_kernel(plan, seeds):
    """The callable training a group's configurations (whose seeds are ``seeds``), with the
    sweep kernels' calling contract (``kernels.sweep_generic``): the generated or generic
    plain-SGD kernel, or ``sweep_options.blocks`` for the other options. Every path (the
    thread pool, a store, a Dask task) picks it here."""
    if plan.options.is_plain:
        return _kernel(plan.spec, plan.batch_size, plan.shuffle)
    return sweep_options.blocks(plan.spec, plan.options, seeds)


def _train_range(plan, X, Y, P, seeds, rates, chunk):
    """Train configurations of one group from their plain inputs, every epoch, in blocks of
    ``chunk`` columns: ``P`` (n_params, n) their starting parameters, ``seeds`` (n,) uint64,
    ``rates`` (n,) float64. Pure (the inputs are not modified, nothing is shared), so a Dask
    task may run it anywhere, twice if need be.

    Returns (losses (n, epochs), diverged (n,), params (n_params, n), checkpoints
    (n_checkpoints, n_params, n), stuck (n,)). Each configuration's numbers depend on its own
    inputs only: which range or block it trains in changes nothing.
    """
    P = np.array(P, dtype=np.float64, order="C")
    start = P.copy()
    n = P.shape[1]
    seeds = np.ascontiguousarray(seeds, dtype=np.uint64)
    states = seeds.copy()  # the kernels advance each configuration's shuffling stream in place
    rates = np.ascontiguousarray(rates, dtype=np.float64)
    losses = np.full((n, plan.epochs), np.nan, dtype=np.float64)
    diverged = np.full(n, -1, dtype=np.int64)
    ckpt_epochs = np.array(plan.ckpt_epochs, dtype=np.int64)
    ckpt = np.zeros((len(ckpt_epochs), plan.spec.n_params, n), dtype=np.float64)
    kernel = _group_kernel(plan, seeds)
    layout = plan.spec.layout()
    args = (P, X, Y, rates, plan.batch_size, plan.shuffle, states, 0, plan.epochs, losses, diverged, ckpt_epochs,
            ckpt)
    for k0 in range(0, n, chunk):
        kernel(*args, k0, min(k0 + chunk, n), layout)
    stuck = (P == start).all(axis=0) & (diverged < 0)
    return losses, diverged, P, ckpt, stuck


def _train_in_slices(jobs, inputs_of, Xc, Yc, losses, diverged, stuck, bar, chunk, threads, n_groups):
    """The in-process sweep: each group's blocks on the thread pool, a slice of epochs at a
    time (so that progress shows between kernel calls); returns the groups."""
    K = len(losses)
    epochs = losses.shape[1]
    groups = []
    # The calling thread trains blocks too, so a sweep needs threads - 1 helpers: waking
    # a thread on an idle core of this shared VM takes 0.4-1.9 ms in the median and up to
    # 9 ms (measured), and the caller is awake already (5% faster in the median of 30
    # interleaved 2-thread sweeps).
    pool = ThreadPoolExecutor(max_workers=threads - 1) if threads > 1 else None
    try:
        for g, idx, plan in jobs:
            spec = plan.spec
            P, seeds, rates = inputs_of(plan, idx)
            P_start = P.copy()  # to find the configurations whose parameters never change
            states = seeds.copy()
            if len(idx) == K:  # one group: the kernels write the result's arrays directly
                g_losses, g_div = losses, diverged
            else:
                g_losses = np.full((len(idx), epochs), np.nan, dtype=np.float64)
                g_div = np.full(len(idx), -1, dtype=np.int64)
            ckpt_epochs = np.array(plan.ckpt_epochs, dtype=np.int64)
            ckpt = np.zeros((len(ckpt_epochs), spec.n_params, len(idx)), dtype=np.float64)
            kernel = _group_kernel(plan, seeds)
            layout = spec.layout()
            e = 0
            per_epoch = None
            while e < epochs:
                # Run in slices of epochs so that progress can be shown between calls.
                todo = epochs - e if per_epoch is None and not bar.enabled else _slice(per_epoch, epochs - e)
                t0 = time.perf_counter()
                args = (P, Xc, Yc, rates, plan.batch_size, plan.shuffle, states, e, e + todo, g_losses, g_div,
                        ckpt_epochs, ckpt)
                # Every thread (the caller and its helpers) takes the next untrained block
                # until none is left: a pool hand-off per block cost ~0.1 ms (measured), and
                # a fixed share per thread waits for the slowest thread (on a shared host a
                # core can lose a fifth of its time to other guests). Blocks are
                # independent: which thread trains one changes no result.
                todo_blocks = queue.SimpleQueue()
                for k0 in range(0, len(idx), chunk):
                    todo_blocks.put((k0, min(k0 + chunk, len(idx))))
                tasks = [] if pool is None else [
                    pool.submit(_train_blocks, kernel, args, todo_blocks, layout) for _ in range(threads - 1)
                ]
                try:
                    _train_blocks(kernel, args, todo_blocks, layout)
                finally:
                    wait(tasks)
                for future in tasks:
                    future.result()
                took = time.perf_counter() - t0
                per_epoch = took / todo
                e += todo
                bar.advance(len(idx) * todo, expected_total=per_epoch * epochs * n_groups)
            if g_losses is not losses:
                losses[idx] = g_losses
                diverged[idx] = g_div
            stuck[idx] = (P == P_start).all(axis=0) & (g_div < 0)
            groups.append(Group(plan.hidden, plan.batch_size, spec, idx, np.ascontiguousarray(P.T),
                                np.ascontiguousarray(ckpt.transpose(0, 2, 1)), plan.options))
    finally:
        if pool is not None:
            pool.shutdown()
    return groups


def _train_whole_blocks(jobs, inputs_of, Xc, Yc, losses, diverged, stuck, bar, chunk, threads, client, saved,
                        blocks_per_task):
    """Each block trained to its last epoch in one go (``_train_range``), on the thread pool
    or as Dask tasks on ``client``'s workers, and written to the store ``saved`` (if any) as
    it completes; blocks found in the store are loaded instead. Results land in their slots
    by group and block index, whatever order they finish in. Returns the groups."""
    epochs = losses.shape[1]
    plans = {g: plan for g, _, plan in jobs}
    rows = {g: idx for g, idx, _ in jobs}
    inputs = {g: inputs_of(plan, idx) for g, idx, plan in jobs}
    finals = {g: np.empty_like(inputs[g][0]) for g in plans}
    kept = {g: np.zeros((len(plan.ckpt_epochs), plan.spec.n_params, len(rows[g])), dtype=np.float64)
            for g, plan in plans.items()}

    def accept(g, k0, result):
        block_losses, block_div, block_params, block_ckpt, block_stuck = result
        k1 = k0 + len(block_div)
        where = rows[g][k0:k1]
        losses[where] = block_losses
        diverged[where] = block_div
        stuck[where] = block_stuck
        finals[g][:, k0:k1] = block_params
        kept[g][:, :, k0:k1] = block_ckpt

    shapes = {g: (len(rows[g]), plan.spec.n_params, len(plan.ckpt_epochs)) for g, plan in plans.items()}
    done = {} if saved is None else saved.load(shapes, epochs, chunk)
    for (g, b), result in sorted(done.items()):
        accept(g, b * chunk, result)
        bar.advance(len(result[1]) * epochs, expected_total=0.0)
    missing = [(g, b) for g, idx, _ in jobs for b in range(-(-len(idx) // chunk)) if (g, b) not in done]
    if client is None:
        per_task = 1
    else:
        from . import cluster

        per_task = blocks_per_task or cluster.blocks_per_task(client, len(missing))
    units = []  # (group, first block, block after the last): consecutive missing blocks of a group
    for g, b in missing:
        if units and units[-1][0] == g and units[-1][2] == b and units[-1][2] - units[-1][1] < per_task:
            units[-1][2] = b + 1
        else:
            units.append([g, b, b + 1])
    to_train = sum(min(b1 * chunk, len(rows[g])) - b0 * chunk for g, b0, b1 in units) * epochs
    trained = 0
    started = time.perf_counter()

    def unit_inputs(unit):
        g, b0, b1 = unit
        k0, k1 = b0 * chunk, min(b1 * chunk, len(rows[g]))
        P, seeds, rates = inputs[g]
        return plans[g], P[:, k0:k1], seeds[k0:k1], rates[k0:k1]

    def finished(i, result):
        """Unit i's results: into the store block by block, then into their slots."""
        nonlocal trained
        g, b0, b1 = units[i]
        for b in range(b0, b1):
            lo, hi = (b - b0) * chunk, min((b - b0 + 1) * chunk, len(result[1]))
            block = (result[0][lo:hi], result[1][lo:hi], result[2][:, lo:hi], result[3][:, :, lo:hi],
                     result[4][lo:hi])
            if saved is not None:
                saved.write(g, b, block)
            accept(g, b * chunk, block)
        trained += len(result[1]) * epochs
        elapsed = time.perf_counter() - started
        bar.advance(len(result[1]) * epochs, expected_total=elapsed * to_train / trained)

    if client is not None:
        cluster.train(client, Xc, Yc, [unit_inputs(u) for u in units], chunk, finished)
    elif units:
        pool = ThreadPoolExecutor(max_workers=min(threads, len(units)))
        try:
            futures = {}
            for i, unit in enumerate(units):
                plan, P, seeds, rates = unit_inputs(unit)
                futures[pool.submit(_train_range, plan, Xc, Yc, P, seeds, rates, chunk)] = i
            for future in as_completed(futures):
                finished(futures[future], future.result())
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    if saved is not None:
        saved.finish()
    return [Group(plan.hidden, plan.batch_size, plan.spec, idx, np.ascontiguousarray(finals[g].T),
                  np.ascontiguousarray(kept[g].transpose(0, 2, 1)), plan.options) for g, idx, plan in jobs]


def _train_blocks(kernel, args, blocks, layout):
    """Train the configurations of the (k0, k1) blocks taken one at a time from the queue
    ``blocks`` (shared by the threads) until it is empty, one kernel call per block. After
    an error the queue is emptied, so that the other threads stop after their block."""
    while True:
        try:
            k0, k1 = blocks.get_nowait()
        except queue.Empty:
            return
        try:
            kernel(*args, k0, k1, layout)
        except BaseException:
            _drain(blocks)
            raise


def _drain(blocks):
    """Empty the queue ``blocks``."""
    while True:
        try:
            blocks.get_nowait()
        except queue.Empty:
            return


def _slice(per_epoch, left):
    """Epochs per kernel call: about 0.25 s of work, at least 1."""
    if per_epoch is None:
        return 1
    return max(1, min(left, int(0.25 / max(per_epoch, 1e-9))))


def _tqdm():
    """tqdm.auto's bar class (a widget in a notebook, text elsewhere), or None when tqdm
    is not installed."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm


def _in_notebook(bar_class):
    """Whether tqdm.auto picked its notebook bar (a Jupyter kernel with ipywidgets)."""
    return any(cls.__module__ == "tqdm.notebook" for cls in bar_class.__mro__)


class _Progress:
    """A progress bar, shown only where someone watches (stderr is a terminal, or tqdm
    finds a notebook) and only once the sweep is expected to take more than
    PROGRESS_AFTER_S: tqdm's (``tqdm.auto``) when tqdm is installed, else a one-line bar
    of its own on stderr."""

    def __init__(self, total, enabled):
        self.total, self.done = total, 0
        # tqdm is imported only where a bar can be shown: a terminal, or IPython running
        # (where tqdm.auto tells a notebook from a console)
        self.bar_class = None
        interactive = False
        if enabled:
            interactive = sys.stderr.isatty()
            if interactive or "IPython" in sys.modules:
                self.bar_class = _tqdm()
                interactive = interactive or (self.bar_class is not None and _in_notebook(self.bar_class))
        self.enabled = interactive
        self.shown = False
        self.bar = None
        self.start = time.perf_counter()

    def advance(self, amount, expected_total):
        self.done += amount
        if not self.enabled or (not self.shown and expected_total < PROGRESS_AFTER_S):
            return
        self.shown = True
        if self.bar_class is not None:
            if self.bar is None:
                self.bar = self.bar_class(total=self.total, desc="sweep", unit=" config-epochs",
                                          unit_scale=self.total >= 1000,
                                          file=sys.stderr, dynamic_ncols=True)
            self.bar.update(self.done - self.bar.n)
            return
        frac = self.done / self.total
        width = 30
        elapsed = time.perf_counter() - self.start
        eta = elapsed / frac - elapsed if frac > 0 else math.nan
        sys.stderr.write(f"\rsweep [{'#' * int(frac * width):<{width}}] {frac:6.1%}  {elapsed:5.1f}s, ~{eta:4.1f}s left")
        sys.stderr.flush()

    def close(self):
        if self.bar is not None:
            self.bar.close()
        elif self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()
