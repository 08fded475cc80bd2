"""Cost of held-out data and halving in a sweep (issue 13's speed targets), one run.

1. Validation: the demo's sweep (seed 000's 2-2-1 ReLU, 100 samples, 1,024
   configurations, SEED000_EPOCHS epochs) with and without a 100-sample validation set
   (a second draw of seed 000's generator): the overhead, against the cost of the forward
   passes it needs (100 validation forwards per configuration-epoch, priced at a third of
   a training step, a forward and backward and update).
2. Halving: a 1,024-configuration sweep over 810 epochs with and without
   ``Halving(eta=3)`` (validation data as above): both times, their ratio (target <= 1/3),
   and the rank of halving's best configuration in the full sweep (target: top 1%).

Run: .venv/bin/python bench/watch.py  (compilation is kept out of the timed figures:
each sweep runs once untimed first).
"""
import time

import numpy as np

import fastnn
from fastnn import datasets
from fastnn.seeds import SEED000_EPOCHS


def timed(**kwargs):
    fastnn.sweep(**dict(kwargs, epochs=min(kwargs["epochs"], 3)))  # compile and load, untimed
    best = None
    for _ in range(2):
        result = fastnn.sweep(**kwargs)
        best = result if best is None or result.seconds < best.seconds else best
    return best


def main():
    X, y = datasets.quadratic(100, seed=0)
    Xv, yv = datasets.quadratic(100, seed=1)
    base = dict(sizes_or_net=[2, 2, 1], X=X, y=y, lr=np.geomspace(1e-4, 1e-2, 64), seeds=range(16), init="he",
                progress=False)
    plain = timed(**base, epochs=SEED000_EPOCHS)
    val = timed(**base, epochs=SEED000_EPOCHS, validation_data=(Xv, yv))
    steps = 1024 * SEED000_EPOCHS * 100
    print(f"1. demo sweep, 1,024 configurations x {SEED000_EPOCHS} epochs x 100 samples:")
    print(f"   without validation {plain.seconds:.3f} s ({plain.seconds / steps * 1e9:.2f} ns per config-step); "
          f"with a 100-sample validation set {val.seconds:.3f} s")
    overhead = val.seconds - plain.seconds
    print(f"   overhead {overhead:.3f} s = {overhead / steps * 1e9:.2f} ns per validation forward "
          f"(a training step: {plain.seconds / steps * 1e9:.2f} ns; a forward pass ~1/3 of it)")

    epochs = 810
    grid = dict(base, lr=np.geomspace(1e-4, 1e-2, 64), seeds=range(16), epochs=epochs, validation_data=(Xv, yv))
    full = timed(**grid)
    halved = timed(**grid, halving=fastnn.Halving(eta=3))
    winner = int(halved.best(1, by="val_loss")["index"][0]) if "by" in fastnn.SweepResult.best.__code__.co_varnames \
        else int(np.nanargmin(np.where(halved.pruned_epoch < 0, np.nanmin(halved.val_losses, axis=1), np.inf)))
    full_best = np.nanmin(full.val_losses, axis=1)
    rank = int((full_best < full_best[winner]).sum()) + 1
    print(f"2. 1,024 configurations x {epochs} epochs with validation: full {full.seconds:.3f} s, "
          f"Halving(eta=3) {halved.seconds:.3f} s, ratio {halved.seconds / full.seconds:.3f} (target <= 0.333)")
    print(f"   survivors {(halved.pruned_epoch < 0).sum()}; halving's best (index {winner}) ranks {rank} of 1,024 "
          f"in the full sweep by best validation loss (top 1%: rank <= 10)")


if __name__ == "__main__":
    main()
