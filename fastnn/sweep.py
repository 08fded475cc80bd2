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

import contextlib
import itertools
import math
import numbers
import os
import queue
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed, wait
from dataclasses import dataclass

import numba
import numpy as np

from . import advice, optim, sweep_monitor, sweep_options
from . import validation as check
from .kernels import sweepgen, sweeplanes, tiering
from .kernels.compiler import compiled
from .halving import Halving
from .history import Monitor, accuracy_kind, monitor_for_fit
from .network import Network
from .options import TrainOptions
from .spec import INITS, Spec
from .sweep_result import Group, SweepResult

# Grids beyond either limit need allow_large=True.
MAX_CONFIGS = 100_000
MAX_BYTES = 2 * 2**30
# Configurations per block (blocks run in parallel): one lane block of the generated
# sweep kernels.
CHUNK = sweepgen.LANES
# A sweep expected to take longer than this shows a progress bar (on a terminal or in a notebook only).
PROGRESS_AFTER_S = 1.0
# A sweep whose groups of generated-kernel shapes would all train on the shape-generic
# lane kernel in less than this holds their background compiles until it returns
# (tiering.holding): a generated sweep kernel compiles in 3-7 s, so started at once it
# would end after the sweep and meanwhile take one of its cores (first sweep of
# bench.startup's 5 widths, 2 cores: training 0.27 s with the compiles running, 0.15 s
# without). The estimate is cluster.block_seconds's at the lane kernel's speed on tiny
# networks, FALLBACK_SLOWDOWN times slower per parameter (2-2-1, measured).
HOLD_COMPILES_BELOW_S = 2.0
FALLBACK_SLOWDOWN = 5.0

_SIGNATURE = (
    "void(float64[:, ::1], float64[:, ::1], float64[:, ::1], float64[::1], int64, boolean, uint64[::1], "
    "int64, int64, float64[:, ::1], int64[::1], int64[::1], float64[:, :, ::1], int64, int64, int64[::1])"
)


def _kernel(spec, batch_size, shuffle):
    """The sweep kernel for spec's configurations trained with these settings: a generated
    one for small networks (sweepgen, compiled per shape), else the shape-generic lane
    kernel (sweeplanes, compiled once per machine for every shape). A generated kernel
    that neither this process nor the disk cache holds yet compiles in the background
    while the blocks train on the lane kernel (``tiering.lane_kernel``): the numbers are
    the same either way."""
    if sweepgen.supports(spec):
        request = tiering.Request(sweepgen.cached_source(spec), sweepgen.kernel_name(batch_size, shuffle), _SIGNATURE,
                                  slp=True)
        return tiering.lane_kernel(request, sweeplanes.train, _SIGNATURE)
    return compiled(sweeplanes.train, _SIGNATURE)


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
    validation_data=None,
    validation_split=None,
    validation_seed=0,
    patience=None,
    min_delta=0.0,
    restore_best=True,
    halving=None,
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
    numbers; each is a grid axis. Configurations with an optimizer, decay, a penalty or
    dropout train vectorised across configurations as plain SGD does (the generated
    sweep kernels' optimizer mode, the lane kernel's optimizer or dropout mode;
    ``fastnn.sweep_options``), each equal to its own ``fit``, bit for bit.
    ``progress``: show a progress bar (tqdm's when tqdm is installed, else a line of
    fastnn's own) once the sweep is expected to take more than PROGRESS_AFTER_S, on a
    terminal or in a notebook only; ``False`` never does.
    ``chunk``: configurations per block; ``threads``: blocks trained at once (default
    NUMBA_NUM_THREADS, i.e. all cores unless that variable says otherwise). Neither changes
    any result.
    ``client``: a ``dask.distributed.Client``; the blocks then train as tasks on its
    workers (``blocks_per_task`` blocks each; default: tasks as small as still pay for
    their overhead by docs/distributed.md's model, at least one per worker thread), with
    the same result bit for bit (see ``fastnn.cluster`` and
    docs/distributed.md). ``store``: a folder where every finished block is saved as it
    completes; a sweep started again with the same arguments and data trains only the
    blocks missing there, with the same result as an uninterrupted run (see
    ``fastnn.store``).

    Held-out data and stopping, as ``fit``'s (``fastnn.sweep_monitor``):
    ``validation_data=(X_val, y_val)``, or ``validation_split=f``: round(f * n) samples
    held out for every configuration, drawn with ``validation_seed`` (stratified by class
    for the classification losses); after every epoch each configuration's validation
    loss (and accuracy) is recorded. ``patience``: a configuration stops once its watched
    loss (the validation loss, else its training loss) has not improved by more than
    ``min_delta`` for that many epochs; with ``restore_best`` it ends with the parameters
    of its best epoch. ``halving``: a ``fastnn.Halving`` (or an int: its eta): at each
    rung only the best 1/eta of the configurations still training go on (see
    ``fastnn.halving``). Stopped configurations free their lanes for the others. Each
    configuration still equals its own ``fit`` with the same arguments, bit for bit, up
    to where it stopped. These run in this process only (not with ``client`` or
    ``store``).

    Returns a SweepResult; see the module docstring for what each configuration means.
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
    validation_seed = check.integer(validation_seed, "validation_seed", 0, check.MAX_SEED)
    monitor, Xc, Yc = monitor_for_fit(first, Xc, Yc, lambda: validation_seed, validation_data, validation_split,
                                      patience, min_delta, restore_best, False)
    if halving is not None:
        if isinstance(halving, numbers.Integral) and not isinstance(halving, (bool, np.bool_)):
            halving = Halving(eta=int(halving))
        elif not isinstance(halving, Halving):
            raise TypeError(f"halving must be a fastnn.Halving or an int (its eta), got {type(halving).__name__}")
        halving.rungs(epochs)  # first_rung within 1..epochs
        if monitor is None:
            monitor = Monitor(kind=accuracy_kind(first), min_delta=check.non_negative_float(min_delta, "min_delta"))
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
            checkpoints=ckpts, chunk=chunk, specs=[specs[w] for w in hidden_list], monitor=monitor, halving=halving))
    if client is not None:
        from . import cluster

        cluster.check_client(client)
    short = client is None and _short_on_the_lane_kernel(jobs, epochs, Xc.shape[0], threads)
    with tiering.holding() if short else contextlib.nullcontext():
        result, outcome = _prepare_and_train(jobs, inputs_of, Xc, Yc, configs, losses, diverged, stuck, ckpts, chunk,
                                             threads, client, saved, blocks_per_task, monitor, halving, progress,
                                             len(group_keys))
    if outcome is not None:
        result.val_losses, result.val_accuracy = outcome.val_losses, outcome.val_accuracy
        result.best_epoch, result.stopped_epoch = outcome.best_epoch, outcome.stopped_epoch
        result.pruned_epoch, result.halving = outcome.pruned_epoch, halving
        result.patience, result.min_delta = monitor.patience, monitor.min_delta
    return result


def _short_on_the_lane_kernel(jobs, epochs, n_samples, threads):
    """Whether the groups whose shapes get generated sweep kernels would all train on
    the shape-generic lane kernel in less than HOLD_COMPILES_BELOW_S (estimated; False
    when there are none): then their compiles wait for the sweep's end."""
    from .cluster import block_seconds

    small = [(idx, plan) for _, idx, plan in jobs if sweepgen.supports(plan.spec)]
    if not small or not tiering.enabled():
        return False
    seconds = sum(block_seconds(plan, len(idx), epochs, n_samples) for idx, plan in small)
    return seconds * FALLBACK_SLOWDOWN / threads < HOLD_COMPILES_BELOW_S


def _prepare_and_train(jobs, inputs_of, Xc, Yc, configs, losses, diverged, stuck, ckpts, chunk, threads, client, saved,
                       blocks_per_task, monitor, halving, progress, n_groups):
    """Every group's kernel compiled or loaded (timed apart: ``compile_seconds``), then
    the training, in this process's threads, on ``client``'s workers or into the store
    ``saved``; returns (SweepResult, the watched sweep's outcome or None)."""
    K, epochs = losses.shape
    started = time.perf_counter()
    plans = list({plan: None for _, _, plan in jobs})
    if client is None:
        for plan in plans:  # compiled (or loaded) here, not while timed
            _prepare(plan)
            if monitor is not None:
                sweep_monitor.prepare(monitor, plan.spec)
    else:
        from . import cluster

        cluster.prepare(client, plans)
    compile_seconds = time.perf_counter() - started
    started = time.perf_counter()
    bar = _Progress(K * epochs, enabled=progress)
    outcome = None
    try:
        if monitor is not None:
            finals, outcome = sweep_monitor.train(jobs, inputs_of, Xc, Yc, losses, diverged, stuck, bar, chunk, threads,
                                                  monitor, halving, client, saved, blocks_per_task)
            groups = [Group(plan.hidden, plan.batch_size, plan.spec, idx, np.ascontiguousarray(finals[g][0].T),
                            np.ascontiguousarray(finals[g][1].transpose(0, 2, 1)), plan.options)
                      for g, idx, plan in jobs]
        elif client is None and saved is None:
            groups = _train_in_slices(jobs, inputs_of, Xc, Yc, losses, diverged, stuck, bar, chunk, threads,
                                      n_groups)
        else:
            groups = _train_whole_blocks(jobs, inputs_of, Xc, Yc, losses, diverged, stuck, bar, chunk, threads,
                                         client, saved, blocks_per_task)
    finally:
        bar.close()
    result = SweepResult(
        configs, losses, diverged, tuple(ckpts), groups, time.perf_counter() - started, compile_seconds, stuck
    )
    return result, outcome


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
        sweep_options.load(plan.spec, plan.options, plan.shuffle, plan.batch_size)


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

        per_task = blocks_per_task or cluster.blocks_per_task(client, len(missing), np.mean(
            [cluster.block_seconds(plans[g], chunk, epochs, Xc.shape[0]) for g, _ in missing] or [0.0]))
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
