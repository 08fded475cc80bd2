"""Sweeps that watch every configuration: validation curves, early stopping (``patience``)
and successive halving (``fastnn.Halving``), for ``fastnn.sweep``.

Each configuration trains as in a plain sweep (the same kernels, one epoch per call:
slicing the epochs changes no result) and after every epoch ``kernels.lane_metrics``
evaluates the validation data at the parameters of every lane still training, with the
function ``Network.fit``'s monitored kernel uses. Early stopping follows ``fit``'s rule
(``reference.train``'s ``validation``), so each configuration's curves, best and stopping
epochs and final parameters equal its own ``fit(validation_data=..., patience=...)`` bit
for bit.

A configuration that stops (patience, divergence, a halving rung) leaves its block at
once: the others are gathered into fresh blocks, so stopped configurations cost nothing
further. Halving ranks every surviving configuration at the same epoch, so the sweep
trains in segments between rungs; within a segment blocks are independent and train on
the thread pool. How blocks are cut and which thread trains one change no result.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import halving as halving_rules
from .kernels import cache as kernel_cache
from .kernels import evalgen, sweepgen
from .kernels.compiler import compiled
from .kernels.lane_metrics import PATIENT, SIGNATURE, WATCH_SIGNATURE, evaluate_lanes, watch_lanes


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


class _Group:
    """One group's configurations between segments, by group-local column: parameters
    (n_params, n), shuffling states, optimizer states (in ``kernel``), the best watched
    loss so far, epochs without improvement, the best epoch's parameters (restoring only),
    checkpoints, and which are still training."""

    def __init__(self, plan, idx, P, seeds, rates, kernel, restoring, evaluate):
        n = len(idx)
        self.plan, self.idx, self.kernel, self.evaluate = plan, idx, kernel, evaluate
        self.P, self.start = P, P.copy()
        self.states = seeds.copy()
        self.rates = rates
        self.layout = plan.spec.layout()
        self.best = np.full(n, np.inf)
        self.wait = np.zeros(n, dtype=np.int64)
        self.best_P = P.copy() if restoring else None
        self.ckpt = np.zeros((len(plan.ckpt_epochs), plan.spec.n_params, n), dtype=np.float64)
        self.ckpt_epochs = np.array(plan.ckpt_epochs, dtype=np.int64)
        self.alive = np.ones(n, dtype=bool)

    def finish(self, cols, final):
        """Columns ``cols`` stop training with parameters ``final`` (n_params, len(cols)):
        checkpoints after the epoch they reached hold them, as the kernels do for a
        diverged configuration."""
        self.P[:, cols] = final
        self.alive[cols] = False


def prepare(monitor, spec):
    """The validation pass for spec's configurations, compiled (or loaded): generated for
    networks with generated sweep kernels (``kernels.evalgen``), else the generic lane
    pass; None without validation data. Compiles the stopping rule too."""
    compiled(watch_lanes, WATCH_SIGNATURE)
    if not monitor.has_validation:
        return None
    if sweepgen.supports(spec):
        return kernel_cache.load(evalgen.source(spec), evalgen.NAME, SIGNATURE)
    return compiled(evaluate_lanes, SIGNATURE)


def train(jobs, inputs_of, group_kernel, X, Y, losses, diverged, stuck, bar, chunk, threads, monitor, halving):
    """Train the sweep's groups ``jobs`` [(group number, rows, plan)] watching ``monitor``
    (``fastnn.history.Monitor``) with ``halving`` (None or ``fastnn.Halving``); fills
    ``losses``, ``diverged`` and ``stuck`` in place. Returns (groups' final (P, checkpoints)
    by group number, Outcome)."""
    epochs = losses.shape[1]
    out = Outcome(losses, diverged, monitor, halving)
    restoring = monitor.patience is not None and monitor.restore_best
    groups = []
    for g, idx, plan in jobs:
        P, seeds, rates = inputs_of(plan, idx)
        groups.append((g, _Group(plan, idx, P, seeds, rates, group_kernel(plan, seeds), restoring,
                                 prepare(monitor, plan.spec))))
    rungs = [] if halving is None else halving.rungs(epochs)
    bounds = [0, *rungs, epochs]
    pool = ThreadPoolExecutor(max_workers=threads) if threads > 1 else None
    started = time.perf_counter()
    try:
        for e0, e1 in zip(bounds[:-1], bounds[1:]):
            # The configurations still training, packed into full blocks of ``chunk``, a
            # run of blocks per thread: every task costs Python work each epoch (~20 us a
            # kernel call), and a kernel call trains any number of blocks.
            tasks = []
            for _, group in groups:
                alive = np.flatnonzero(group.alive)
                blocks = -(-len(alive) // chunk)
                per_task = chunk * max(1, -(-blocks // threads))
                tasks += [(group, alive[k0:k0 + per_task]) for k0 in range(0, len(alive), per_task)]
            run = [(_train_block, group, cols, e0, e1, X, Y, monitor, out) for group, cols in tasks]
            if pool is None:
                for task in run:
                    task[0](*task[1:])
            else:
                for future in [pool.submit(*task) for task in run]:
                    future.result()
            lanes = sum(len(cols) for _, cols in tasks)
            done = bar.done + lanes * (e1 - e0)
            bar.advance(lanes * (e1 - e0), expected_total=(time.perf_counter() - started) / max(done, 1)
                        * bar.total)
            if e1 < epochs:  # a rung
                pruned = _halve(groups, out, monitor, halving, e1)
                bar.advance(pruned * (epochs - e1), expected_total=0.0)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    finals = {}
    for g, group in groups:
        cols = np.flatnonzero(group.alive)
        final = group.P[:, cols]
        if restoring:
            rows = group.idx[cols]
            back = out.best_epoch[rows] >= 0
            final[:, back] = group.best_P[:, cols[back]]
        group.finish(cols, final)
        stuck[group.idx] = (group.P == group.start).all(axis=0) & (diverged[group.idx] < 0)
        finals[g] = (group.P, group.ckpt)
    return finals, out


def _halve(groups, out, monitor, halving, rung):
    """Keep the best survivors at the rung (after ``rung`` epochs); returns how many were
    stopped. Ranked by the watched loss of epoch rung - 1 over every group at once."""
    watched = out.val_losses if monitor.has_validation else out.losses
    alive = np.sort(np.concatenate([group.idx[group.alive] for _, group in groups]))
    kept = halving_rules.survivors(watched[:, rung - 1], alive, halving.eta)
    stopped = 0
    for _, group in groups:
        cols = np.flatnonzero(group.alive)
        cut = cols[~np.isin(group.idx[cols], kept)]
        if len(cut):
            out.pruned_epoch[group.idx[cut]] = rung
            group.ckpt[:, :, cut] = np.where((group.ckpt_epochs >= rung)[:, None, None], group.P[None, :, cut],
                                             group.ckpt[:, :, cut])
            group.finish(cut, group.P[:, cut])
            stopped += len(cut)
    return stopped


def _train_block(group, cols, e0, e1, X, Y, monitor, out):
    """Train ``group``'s columns ``cols`` through epochs e0..e1-1, one epoch per kernel
    call, each followed by the validation pass and the stopping rule; a column that stops
    is written back at once and the rest go on packed together. Touches only these
    columns (blocks run concurrently)."""
    plan, layout, evaluate = group.plan, group.layout, group.evaluate
    watch = compiled(watch_lanes, WATCH_SIGNATURE)
    epochs = out.losses.shape[1]
    P = np.ascontiguousarray(group.P[:, cols])
    states = group.states[cols].copy()
    rates = np.ascontiguousarray(group.rates[cols])
    kernel = _take(group.kernel, cols)
    losses = np.full((len(cols), epochs), np.nan)
    diverged = np.full(len(cols), -1, dtype=np.int64)
    ckpt = np.ascontiguousarray(group.ckpt[:, :, cols])
    best, wait = group.best[cols].copy(), group.wait[cols].copy()
    best_epoch = out.best_epoch[group.idx[cols]].copy()
    best_P = None if group.best_P is None else np.ascontiguousarray(group.best_P[:, cols])
    val_loss = np.full((len(cols), epochs), np.nan) if evaluate is not None else None
    val_accuracy = np.full((len(cols), epochs), np.nan) if evaluate is not None else None
    patience, min_delta = monitor.patience, monitor.min_delta

    def write(sel, e_end):
        """Curves e0..e_end-1 and outcomes of the local lanes ``sel`` into the sweep's arrays."""
        rows = group.idx[cols[sel]]
        out.losses[rows, e0:e_end] = losses[sel, e0:e_end]
        out.diverged[rows] = diverged[sel]
        out.best_epoch[rows] = best_epoch[sel]
        if val_loss is not None:
            out.val_losses[rows, e0:e_end] = val_loss[sel, e0:e_end]
            if out.val_accuracy is not None:
                out.val_accuracy[rows, e0:e_end] = val_accuracy[sel, e0:e_end]

    has_val = evaluate is not None
    no_rows = np.empty((0, 0))
    stop_flags = np.empty(len(cols), dtype=np.int64)
    for e in range(e0, e1):
        kernel(P, X, Y, rates, plan.batch_size, plan.shuffle, states, e, e + 1, losses, diverged, group.ckpt_epochs,
               ckpt, 0, len(cols), layout)
        if has_val:
            evaluate(P, layout, monitor.X_val, monitor.Y_val, monitor.kind, len(cols), e, val_loss, val_accuracy)
        n_stop = watch(P, len(cols), e, losses, diverged, val_loss if has_val else no_rows,
                       val_accuracy if has_val else no_rows, has_val, min_delta, patience or 0, best, wait, best_epoch,
                       no_rows if best_P is None else best_P, best_P is not None, stop_flags)
        if not n_stop:
            continue
        stop = stop_flags[: len(cols)] > 0
        if patience is not None:
            out.stopped_epoch[group.idx[cols[stop_flags[: len(cols)] == PATIENT]]] = e
        ok = diverged < 0
        # the stopped lanes: final parameters (the best epoch's when restoring, not after a
        # divergence), later checkpoints hold them; the rest go on packed together
        write(stop, e + 1)
        final = P[:, stop].copy()
        if best_P is not None:
            back = ok[stop] & (best_epoch[stop] >= 0)
            final[:, back] = best_P[:, stop][:, back]
        later = (group.ckpt_epochs > e)[:, None, None]
        ckpt[:, :, stop] = np.where(later, final[None], ckpt[:, :, stop])
        group.ckpt[:, :, cols[stop]] = ckpt[:, :, stop]
        group.finish(cols[stop], final)
        keep = np.flatnonzero(~stop)
        if not len(keep):
            return
        cols = cols[keep]
        P, states, rates = np.ascontiguousarray(P[:, keep]), states[keep], rates[keep]
        kernel = _take(kernel, keep)
        losses, diverged, ckpt = losses[keep], diverged[keep], np.ascontiguousarray(ckpt[:, :, keep])
        best, wait, best_epoch = best[keep], wait[keep], best_epoch[keep]
        if best_P is not None:
            best_P = np.ascontiguousarray(best_P[:, keep])
        if val_loss is not None:
            val_loss, val_accuracy = val_loss[keep], val_accuracy[keep]
    every = np.ones(len(cols), dtype=bool)
    write(every, e1)
    group.P[:, cols] = P
    group.states[cols] = states
    _put(group.kernel, cols, kernel)
    group.ckpt[:, :, cols] = ckpt
    group.best[cols], group.wait[cols] = best, wait
    if best_P is not None:
        group.best_P[:, cols] = best_P


def _take(kernel, cols):
    """The group kernel for columns ``cols`` only (its per-configuration states gathered)."""
    return kernel.take(cols) if hasattr(kernel, "take") else kernel


def _put(kernel, cols, part):
    if hasattr(kernel, "put"):
        kernel.put(cols, part)
