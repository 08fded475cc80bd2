"""Sweeps that watch every configuration: validation curves, early stopping (``patience``)
and successive halving (``fastnn.Halving``), for ``fastnn.sweep``.

Each configuration trains as in a plain sweep (the same kernels, one epoch per call:
slicing the epochs changes no result) and after every epoch a compiled validation pass
(``kernels.evalgen``, generated for small networks, else ``kernels.lane_metrics``)
evaluates the validation data at the parameters of every lane still training, with the
arithmetic of the function ``Network.fit``'s monitored kernel runs; the stopping rule is
fit's (``reference.train``'s ``validation``), so each configuration's curves, best and
stopping epochs and final parameters equal its own ``fit(validation_data=...,
patience=...)`` bit for bit.

A configuration that stops (patience, divergence, a halving rung) leaves its block at
once: the others go on packed together, so stopped configurations cost nothing further.
Halving ranks every surviving configuration at the same epoch, so the sweep trains in
segments between rungs. Within a segment, runs of configurations ("lanes") train
independently with ``train_segment``, a pure function from arrays to arrays (``Lanes``:
every value that carries a configuration from one epoch to the next, one column per
configuration), so a run may train on a thread, as a Dask task on another machine, or be
read back from a store; how configurations are cut into runs and where they train change
no result.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, as_completed

import numpy as np

from . import halving as halving_rules
from . import sweep_options
from .kernels import evalgen, sweepgen, tiering
from .kernels.compiler import compiled
from .kernels.lane_metrics import PATIENT, SIGNATURE, WATCH_SIGNATURE, evaluate_lanes, watch_lanes

# Lanes: a dict of arrays with one column (last axis) per configuration:
#   P (n_params, n) parameters; states (n,) uint64 shuffling streams; rates (n,) lr;
#   best (n,) the best watched loss so far; wait (n,) int64 epochs since it improved;
#   best_epoch (n,) int64; best_P (n_params, n) the best epoch's parameters (restoring
#   only); ckpt (C, n_params, n) checkpoints; opt_<name>: the optimizer state
#   (sweep_options.initial_state). train_segment's result adds, per configuration of its
#   input: done (n,) bool (it stopped: P then holds its final parameters), diverged (n,),
#   stopped (n,) (-1 or the epoch patience stopped it after), losses, val_loss,
#   val_accuracy (e1 - e0, n) for the segment's epochs.


def prepare(monitor, spec):
    """The validation pass for spec's configurations, compiled (or loaded): generated for
    networks with generated sweep kernels (``kernels.evalgen``), else the generic lane
    pass; None without validation data. Compiles the stopping rule too."""
    compiled(watch_lanes, WATCH_SIGNATURE)
    if not monitor.has_validation:
        return None
    if sweepgen.supports(spec):  # (the generic pass while a new shape's compiles: kernels.tiering)
        return tiering.lane_kernel(tiering.Request(evalgen.source(spec), evalgen.NAME, SIGNATURE, slp=True),
                                   evaluate_lanes, SIGNATURE)
    return compiled(evaluate_lanes, SIGNATURE)


def start_lanes(plan, P, seeds, rates, restoring):
    """The Lanes of configurations before training: parameters P (n_params, n), seeds
    (n,) uint64 (which start the shuffling and optimizer streams), learning rates."""
    n = P.shape[1]
    lanes = {"P": np.array(P, dtype=np.float64, order="C"), "states": np.array(seeds, dtype=np.uint64),
             "rates": np.array(rates, dtype=np.float64), "best": np.full(n, np.inf),
             "wait": np.zeros(n, dtype=np.int64), "best_epoch": np.full(n, -1, dtype=np.int64),
             "ckpt": np.zeros((len(plan.ckpt_epochs), plan.spec.n_params, n), dtype=np.float64)}
    if restoring:
        lanes["best_P"] = lanes["P"].copy()
    if not plan.options.is_plain:
        for name, value in sweep_options.initial_state(plan.spec, plan.options, seeds).items():
            lanes[f"opt_{name}"] = value
    return lanes


def take(lanes, cols):
    """The columns ``cols`` of every array of ``lanes`` (C-contiguous copies)."""
    return {name: np.ascontiguousarray(value[..., cols]) for name, value in lanes.items()}


def _kernel(plan, lanes):
    """The sweep kernel of plan's group, training with the optimizer state of ``lanes``
    in place (plain SGD keeps none)."""
    if plan.options.is_plain:
        from .sweep import _kernel as plain_kernel

        return plain_kernel(plan.spec, plan.batch_size, plan.shuffle)
    state = {name[4:]: value for name, value in lanes.items() if name.startswith("opt_")}
    return sweep_options.blocks_on(plan.spec, plan.options, state)


def train_segment(plan, monitor, X, Y, lanes, e0, e1, epochs):
    """Train ``lanes`` (configurations of plan's group, every one still training) through
    epochs e0..e1-1, one epoch per kernel call, each followed by the validation pass and
    the stopping rule; a configuration that stops leaves and the rest go on packed
    together. Pure: returns new Lanes for the same configurations, with the segment's
    results (see ``Lanes`` above); ``epochs``: the sweep's, for checkpoints."""
    spec, layout = plan.spec, plan.spec.layout()
    evaluate = prepare(monitor, spec)
    watch = compiled(watch_lanes, WATCH_SIGNATURE)
    has_val = evaluate is not None
    n = lanes["P"].shape[1]
    span = e1 - e0
    result = {name: value.copy() for name, value in lanes.items()}
    result.update(done=np.zeros(n, dtype=bool), diverged=np.full(n, -1, dtype=np.int64),
                  stopped=np.full(n, -1, dtype=np.int64), losses=np.full((span, n), np.nan))
    if has_val:
        result["val_loss"] = np.full((span, n), np.nan)
        result["val_accuracy"] = np.full((span, n), np.nan)
    ckpt_epochs = np.array(plan.ckpt_epochs, dtype=np.int64)
    restoring = "best_P" in lanes
    patience, min_delta = monitor.patience, monitor.min_delta
    # the configurations still training: their positions in ``lanes`` and working copies
    pos = np.arange(n)
    work = take(lanes, pos)
    kernel = _kernel(plan, work)
    losses = np.full((n, epochs), np.nan)  # the kernels index curves by epoch
    diverged = np.full(n, -1, dtype=np.int64)
    val_loss = np.full((n, epochs), np.nan) if has_val else None
    val_accuracy = np.full((n, epochs), np.nan) if has_val else None
    no_rows = np.empty((0, 0))
    stop_flags = np.empty(n, dtype=np.int64)

    def record(sel, e_end):
        """Into ``result``: the curves up to e_end and outcomes of the working lanes sel."""
        at = pos[sel]
        result["losses"][: e_end - e0, at] = losses[sel, e0:e_end].T
        result["diverged"][at] = diverged[sel]
        if has_val:
            result["val_loss"][: e_end - e0, at] = val_loss[sel, e0:e_end].T
            result["val_accuracy"][: e_end - e0, at] = val_accuracy[sel, e0:e_end].T
        for name, value in work.items():
            result[name][..., at] = value[..., sel]

    for e in range(e0, e1):
        lanes_now = len(pos)
        kernel(work["P"], X, Y, work["rates"], plan.batch_size, plan.shuffle, work["states"], e, e + 1, losses,
               diverged, ckpt_epochs, work["ckpt"], 0, lanes_now, layout)
        if has_val:
            evaluate(work["P"], layout, monitor.X_val, monitor.Y_val, monitor.kind, lanes_now, e, val_loss,
                     val_accuracy)
        n_stop = watch(work["P"], lanes_now, e, losses, diverged, val_loss if has_val else no_rows,
                       val_accuracy if has_val else no_rows, has_val, min_delta, patience or 0, work["best"],
                       work["wait"], work["best_epoch"], work["best_P"] if restoring else no_rows, restoring,
                       stop_flags)
        if not n_stop:
            continue
        stop = stop_flags[:lanes_now] > 0
        result["stopped"][pos[stop_flags[:lanes_now] == PATIENT]] = e
        # the stopped lanes' final parameters: the best epoch's when restoring (not after
        # a divergence); the checkpoints after this epoch hold them
        final = work["P"][:, stop]
        if restoring:
            back = (diverged[stop] < 0) & (work["best_epoch"][stop] >= 0)
            final[:, back] = work["best_P"][:, stop][:, back]
        work["P"][:, stop] = final
        later = (ckpt_epochs > e)[:, None, None]
        work["ckpt"][:, :, stop] = np.where(later, final[None], work["ckpt"][:, :, stop])
        record(stop, e + 1)
        result["done"][pos[stop]] = True
        keep = np.flatnonzero(~stop)
        pos = pos[keep]
        if not len(pos):
            return result
        work = take(work, keep)
        kernel = _kernel(plan, work)
        losses, diverged = losses[keep], diverged[keep]
        if has_val:
            val_loss, val_accuracy = val_loss[keep], val_accuracy[keep]
    record(np.ones(len(pos), dtype=bool), e1)
    return result


class _Group:
    """One group's configurations between segments: their Lanes, which still train, and
    their rows in the sweep."""

    def __init__(self, plan, idx, lanes):
        self.plan, self.idx, self.lanes = plan, idx, lanes
        self.start = lanes["P"].copy()
        self.alive = np.ones(len(idx), dtype=bool)

    def blocks(self, chunk):
        """The configurations still training in blocks of ``chunk`` (group-local columns),
        block b holding the b-th ``chunk`` of them."""
        alive = np.flatnonzero(self.alive)
        return [alive[k0:k0 + chunk] for k0 in range(0, len(alive), chunk)]


def train(jobs, inputs_of, X, Y, losses, diverged, stuck, bar, chunk, threads, monitor, halving, client=None,
          saved=None, blocks_per_task=None):
    """Train the sweep's groups ``jobs`` [(group number, rows, plan)] watching ``monitor``
    (``fastnn.history.Monitor``) with ``halving`` (None or ``fastnn.Halving``), in this
    process (``threads``), or on a Dask ``client``, and with a store ``saved``
    (``fastnn.store.Store``: each block's result is written as it completes, and read back
    instead of trained when a sweep starts again); fills ``losses``, ``diverged`` and
    ``stuck`` in place. Returns ({group number: (final P (n_params, n), checkpoints (C,
    n_params, n))}, Outcome)."""
    epochs = losses.shape[1]
    out = Outcome(losses, diverged, monitor, halving)
    restoring = monitor.patience is not None and monitor.restore_best
    groups = []
    for g, idx, plan in jobs:
        P, seeds, rates = inputs_of(plan, idx)
        groups.append((g, _Group(plan, idx, start_lanes(plan, P, seeds, rates, restoring))))
    rungs = [] if halving is None else halving.rungs(epochs)
    bounds = [0, *rungs, epochs]
    started = time.perf_counter()
    for segment, (e0, e1) in enumerate(zip(bounds[:-1], bounds[1:])):
        # (group, first block, blocks): with a store or a client, blocks of ``chunk`` (the
        # unit a store keeps); in-process, a run of blocks per thread, since each task
        # costs Python work every epoch (~20 us a kernel call) and a call trains any
        # number of blocks
        units = []
        for gi, (g, group) in enumerate(groups):
            blocks = group.blocks(chunk)
            if saved is None and client is None:
                per = max(1, -(-len(blocks) // threads))
            elif client is not None:
                from . import cluster

                per = blocks_per_task or cluster.blocks_per_task(
                    client, len(blocks), cluster.block_seconds(group.plan, chunk, e1 - e0, X.shape[0]))
            else:
                per = 1
            units += [(gi, b, blocks[b:b + per]) for b in range(0, len(blocks), per)]

        def accept(unit, result):
            gi, b0, blocks = unit
            g, group = groups[gi]
            cols = np.concatenate(blocks)
            _apply(group, cols, result, out, e0, e1)
            if saved is not None and not loaded.get((gi, b0)):
                at = 0
                for b, block in enumerate(blocks):
                    saved.write_arrays(f"w{segment}-g{g}-b{b0 + b}", take(result, np.arange(at, at + len(block))))
                    at += len(block)
            lanes = len(cols) * (e1 - e0)
            bar.advance(lanes, expected_total=(time.perf_counter() - started) / max(bar.done + lanes, 1) * bar.total)

        loaded = {}
        todo = []
        for unit in units:
            gi, b0, blocks = unit
            parts = [saved.read_arrays(f"w{segment}-g{groups[gi][0]}-b{b0 + b}") if saved is not None else None
                     for b in range(len(blocks))]
            if parts and all(part is not None and len(part["done"]) == len(block)
                             for part, block in zip(parts, blocks)):
                loaded[(gi, b0)] = True
                accept(unit, {name: np.concatenate([part[name] for part in parts], axis=-1) for name in parts[0]})
            else:
                todo.append(unit)
        inputs = [(groups[gi][1].plan, take(groups[gi][1].lanes, np.concatenate(blocks))) for gi, _, blocks in todo]
        if client is not None:
            from . import cluster

            cluster.train_segments(client, X, Y, monitor, inputs, e0, e1, epochs,
                                   lambda i, result: accept(todo[i], result))
        elif threads > 1 and len(todo) > 1:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                futures = {pool.submit(train_segment, plan, monitor, X, Y, lanes, e0, e1, epochs): i
                           for i, (plan, lanes) in enumerate(inputs)}
                try:
                    for future in as_completed(futures):
                        accept(todo[futures[future]], future.result())
                finally:
                    for future in futures:
                        future.cancel()
        else:
            for i, (plan, lanes) in enumerate(inputs):
                accept(todo[i], train_segment(plan, monitor, X, Y, lanes, e0, e1, epochs))
        if e1 < epochs:  # a rung
            pruned = _halve(groups, out, monitor, halving, e1)
            bar.advance(pruned * (epochs - e1), expected_total=0.0)
    if saved is not None:
        saved.finish()
    finals = {}
    for g, group in groups:
        cols = np.flatnonzero(group.alive)
        lanes = group.lanes
        if restoring and len(cols):  # survivors end with their best epoch's parameters
            back = cols[lanes["best_epoch"][cols] >= 0]
            lanes["P"][:, back] = lanes["best_P"][:, back]
        stuck[group.idx] = (lanes["P"] == group.start).all(axis=0) & (diverged[group.idx] < 0)
        finals[g] = (lanes["P"], lanes["ckpt"])
    return finals, out


def _apply(group, cols, result, out, e0, e1):
    """A segment's result for the group's columns ``cols``: lanes back into the group,
    curves and outcomes into the sweep's arrays."""
    rows = group.idx[cols]
    for name, value in group.lanes.items():
        value[..., cols] = result[name]  # (stopped configurations: their final values)
    out.losses[rows, e0:e1] = result["losses"].T
    out.diverged[rows] = np.where(result["diverged"] >= 0, result["diverged"], out.diverged[rows])
    out.best_epoch[rows] = result["best_epoch"]
    if out.val_losses is not None:
        out.val_losses[rows, e0:e1] = result["val_loss"].T
        if out.val_accuracy is not None:
            out.val_accuracy[rows, e0:e1] = result["val_accuracy"].T
    if out.stopped_epoch is not None:
        out.stopped_epoch[rows] = np.where(result["stopped"] >= 0, result["stopped"], out.stopped_epoch[rows])
    group.alive[cols] = ~result["done"]


def _halve(groups, out, monitor, halving, rung):
    """Keep the best survivors at the rung (after ``rung`` epochs); returns how many were
    stopped. Ranked by the watched loss of epoch rung - 1 over every group at once. A
    stopped configuration keeps its parameters at the rung (checkpoints after it hold
    them)."""
    watched = out.val_losses if monitor.has_validation else out.losses
    alive = np.sort(np.concatenate([group.idx[group.alive] for _, group in groups]))
    kept = halving_rules.survivors(watched[:, rung - 1], alive, halving.eta)
    stopped = 0
    for _, group in groups:
        cols = np.flatnonzero(group.alive)
        cut = cols[~np.isin(group.idx[cols], kept)]
        if len(cut):
            out.pruned_epoch[group.idx[cut]] = rung
            ckpt, P = group.lanes["ckpt"], group.lanes["P"]
            later = (np.array(group.plan.ckpt_epochs, dtype=np.int64) >= rung)[:, None, None]
            ckpt[:, :, cut] = np.where(later, P[None, :, cut], ckpt[:, :, cut])
            group.alive[cut] = False
            stopped += len(cut)
    return stopped


class Outcome:
    """The sweep-wide arrays a watched sweep fills, one row per configuration (see
    ``SweepResult``); ``losses`` and ``diverged`` are the sweep's own."""

    def __init__(self, losses, diverged, monitor, halving):
        K, epochs = losses.shape
        self.losses, self.diverged = losses, diverged
        has_val = monitor.has_validation
        self.val_losses = np.full((K, epochs), np.nan) if has_val else None
        self.val_accuracy = np.full((K, epochs), np.nan) if has_val and monitor.kind else None
        self.best_epoch = np.full(K, -1, dtype=np.int64)
        self.stopped_epoch = np.full(K, -1, dtype=np.int64) if monitor.patience is not None else None
        self.pruned_epoch = np.full(K, -1, dtype=np.int64) if halving is not None else None
