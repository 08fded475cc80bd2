"""The main job (``fastnn demo``, ``scripts/run``): seed 000's experiments as one sweep.

Seed 000 tuned its 2-2-1 ReLU network by hand ("changing the epochs to 500", "lr 0.001
gave great results"), judging it on the data it trained on. This trains a grid of
learning rates x init seeds on its data set at once, watching every configuration's loss
on held-out data (the generator's next draws) after each epoch, prints the best by
validation loss (every epoch count read off the curves), writes the curves as a plot and
a CSV, and re-trains the best few with the pure-Python reference to show that both give
the same numbers, and how much faster the sweep is.
"""
from __future__ import annotations

import os
import time

import numpy as np

from . import datasets
from .kernels import tiering
from .network import Network
from .seeds import SEED000_EPOCHS, SEED000_LR
from .sweep import sweep

TRAIN_SAMPLES = 100  # seed 000's data set


def run(n_lr=64, n_seeds=16, epochs=SEED000_EPOCHS, out_dir="out", check=3, data_seed=0, init="he", n_val=50):
    # The held-out samples are the generator's next draws: its first 100 rows are the
    # training set seed 000 used (datasets.quadratic(100, seed)), unchanged.
    X_all, y_all = datasets.quadratic(TRAIN_SAMPLES + n_val, seed=data_seed)
    X, y = X_all[:TRAIN_SAMPLES], y_all[:TRAIN_SAMPLES]
    X_val, y_val = X_all[TRAIN_SAMPLES:], y_all[TRAIN_SAMPLES:]
    lrs = np.geomspace(1e-4, 1e-2, n_lr, dtype=np.float64)
    seeds = list(range(n_seeds))
    K = n_lr * n_seeds
    print(f"fastnn demo: seed 000's 2-2-1 ReLU network (squared error, per-sample SGD) on "
          f"datasets.quadratic({TRAIN_SAMPLES}, seed={data_seed}); validation: the generator's next {n_val} draws "
          f"(rows {TRAIN_SAMPLES}..{TRAIN_SAMPLES + n_val - 1} of datasets.quadratic({TRAIN_SAMPLES + n_val}, "
          f"seed={data_seed}))")
    print(f"grid: {n_lr} learning rates in [1e-4, 1e-2] (log-spaced; the seed used {SEED000_LR}) x "
          f"{n_seeds} init seeds ({init}) = {K} configurations, {epochs} epochs each")

    # the kernels compiled (or loaded) first, so that the time is the steady state's and the
    # compile is reported apart (not a first run on the shape-generic kernels: kernels.tiering)
    with tiering.compiled_first():
        result = sweep([2, 2, 1], X, y, lr=lrs, seeds=seeds, epochs=epochs, init=init,
                       checkpoints=sorted({min(100, epochs), min(500, epochs), epochs}),
                       validation_data=(X_val, y_val))
    steps = K * epochs * X.shape[0]
    print(f"sweep: {result.seconds:.3f} s for {steps:,} configuration-steps "
          f"({result.seconds / steps * 1e9:.2f} ns each, with a validation pass after every epoch); compiling or "
          f"loading the kernel before it: {result.compile_seconds:.2f} s; "
          f"{int(result.diverged.sum())} configurations diverged, {result.n_stuck} stuck")
    if result.n_stuck:
        _explain_stuck(result, X, y, init, n_lr)

    marks = [e for e in (100, 200, 500) if e < epochs]
    print(f"\nbest 10 by validation loss, each at its best epoch (0-based; validation loss after "
          f"{', '.join(map(str, marks))} epochs read off the same curves; train: the training loss of the best epoch):")
    head = f"{'rank':>4} {'config':>6} {'lr':>10} {'seed':>4} " + "".join(f"{'val@' + str(e):>10}" for e in marks)
    print(head + f"{'best epoch':>11}{'val loss':>12}{'train':>10}")
    best = result.best(10)
    for rank, row in enumerate(best, 1):
        k = row["index"]
        cells = "".join(f"{result.val_losses[k, e - 1]:>10.4f}" for e in marks)
        print(f"{rank:>4} {k:>6} {row['lr']:>10.3g} {row['seed']:>4} {cells}{row['best_epoch']:>11}"
              f"{row['val_loss']:>12.6f}{row['loss']:>10.4f}")
    by_train = result.best(1, by="loss")[0]
    print(f"(by the training loss at the end, as seed 000 judged it, the best is config {by_train['index']}: lr "
          f"{by_train['lr']:.3g}, seed {by_train['seed']}, final loss {by_train['loss']:.4f}, validation loss "
          f"{by_train['val_loss']:.4f})")
    by_epochs = {e: result.best(1, epoch=e)[0] for e in marks + [epochs]}
    print("\nbest configuration for each epoch budget, by validation loss: " + "; ".join(
        f"{e} epochs: lr {r['lr']:.3g}, seed {r['seed']} (val loss {r['val_loss']:.4f})" for e, r in by_epochs.items()))

    os.makedirs(out_dir, exist_ok=True)
    plot_path = os.path.join(out_dir, "sweep.png")
    csv_path = os.path.join(out_dir, "sweep.csv")
    result.plot(plot_path, title=f"seed 000: {K} configurations, {epochs} epochs; best 5 by validation loss "
                                 f"({n_val} held-out draws, dashed)")
    result.to_csv(csv_path)
    print(f"\nwrote {plot_path} and {csv_path}")

    print(f"\nre-training the best {check} with the pure-Python reference (validation data too), one at a time:")
    worst = 0.0
    ref_seconds = 0.0
    for row in best[:check]:
        k = row["index"]
        net = Network([2, 2, 1], "relu", "squared_error", init=init, seed=int(row["seed"]))
        t0 = time.perf_counter()
        history = net.fit(X, y, float(row["lr"]), epochs, backend="reference", validation_data=(X_val, y_val))
        ref_seconds += time.perf_counter() - t0
        diff = max(np.abs(history.loss - result.losses[k]).max(), np.abs(history.val_loss - result.val_losses[k]).max(),
                   np.abs(net.params - result.params_of(k)).max())
        if history.best_epoch != row["best_epoch"]:
            diff = np.inf
        worst = max(worst, diff)
        print(f"  config {k}: reference best validation loss {history.val_loss[history.best_epoch]:.15g} "
              f"(epoch {history.best_epoch}), sweep {row['val_loss']:.15g} (epoch {row['best_epoch']}); "
              f"largest |difference| (both curves and parameters) {diff:.3g}")
    per_config_ref = ref_seconds / check
    per_config_sweep = result.seconds / K
    print(f"reference: {per_config_ref:.2f} s per configuration; sweep: {per_config_sweep * 1e3:.3f} ms per "
          f"configuration -> {per_config_ref / per_config_sweep:,.0f}x faster")
    return 0 if worst == 0.0 else 1


def _output_dead(net, X):
    """True when the 2-2-1 ReLU network's output unit has net input <= 0 on every row of X."""
    z_out = np.maximum(X @ net.weight(0) + net.bias(0), 0.0) @ net.weight(1) + net.bias(1)
    return bool((z_out <= 0.0).all())


def _explain_stuck(result, X, y, init, n_lr):
    """Say which configurations never moved, or stopped on the way, and why: an output
    ReLU dead (net input <= 0) on every sample passes no gradient to any weight."""
    stuck_seeds = sorted({int(s) for s in result.configs["seed"][result.stuck]})
    dead_at_start = [_output_dead(Network([2, 2, 1], "relu", init=init, seed=seed), X) for seed in stuck_seeds]
    print(f"stuck: {result.n_stuck} configurations never changed a parameter (their loss curves are flat, "
          f"dashed red in the plot): init seeds {', '.join(map(str, stuck_seeds))}"
          + (f" at every learning rate ({n_lr})" if result.n_stuck == len(stuck_seeds) * n_lr else "") + ".")
    if all(dead_at_start):
        print("  why: in each of these initial networks the output ReLU's net input is <= 0 for every sample, "
              "so the ReLU outputs 0 with slope 0 and no gradient reaches any weight (a dead ReLU; seed 000's "
              "ReLU output allows it). No learning rate revives it: use another init seed, or a linear output.")
    else:
        print("  why: their gradient was zero (or too small to move a parameter at that lr) on every sample.")
    died = [k for k in np.flatnonzero(~result.stuck & ~result.diverged) if _output_dead(result.network(k), X)]
    if died:
        lrs = result.configs["lr"][died]
        print(f"died: {len(died)} more configurations trained for a while, then their output ReLU died (net input "
              f"<= 0 on every sample at the end, so they output 0 and learn nothing more); their lr is "
              f"{lrs.min():.3g} to {lrs.max():.3g}: a large step pushed the output unit below zero everywhere.")
