"""Cost of held-out data and halving in a sweep (issue 13's speed targets), one run.

1. Validation: the demo's sweep (seed 000's 2-2-1 ReLU, 100 samples, 1,024
   configurations, SEED000_EPOCHS epochs) with and without a 100-sample validation set
   (a second draw of seed 000's generator): the overhead, against the cost of the forward
   passes it needs (100 validation forwards per configuration-epoch, priced at a third of
   a training step, a forward and backward and update).
2. Halving: a 1,024-configuration sweep over 810 epochs with and without
   ``Halving(eta=3, first_rung=r)`` for r = 10 and 30 (validation data as above): both
   times, their ratio (target <= 1/3), and the rank in the full sweep (by best validation
   loss) of the best survivor (target: top 1%).

Run: .venv/bin/python bench/watch.py  (compilation is kept out of the timed figures:
each sweep runs once untimed first).
"""
import os

# steady-state timings: kernels compiled (or loaded) in the warm-up, not tiered (fastnn.kernels.tiering)
os.environ.setdefault("FASTNN_TIERING", "0")

import numpy as np  # noqa: E402

import fastnn  # noqa: E402
from fastnn import datasets  # noqa: E402
from fastnn.seeds import SEED000_EPOCHS  # noqa: E402


def timed(**kwargs):
    fastnn.sweep(**dict(kwargs, epochs=3, halving=None))  # compile and load, untimed
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
    full_best = np.nanmin(full.val_losses, axis=1)
    ranked = np.sort(full_best[np.isfinite(full_best)])
    print(f"2. 1,024 configurations x {epochs} epochs with validation: full sweep {full.seconds:.3f} s; best "
          f"validation loss {ranked[0]:.6g}, 10th {ranked[9]:.6g} (top 1%: rank <= 10)")
    for first_rung in (10, 30):
        halving = fastnn.Halving(eta=3, first_rung=first_rung)
        halved = timed(**grid, halving=halving)
        survivors = np.flatnonzero(halved.pruned_epoch < 0)
        winner = survivors[np.nanargmin(np.nanmin(halved.val_losses[survivors], axis=1))]
        rank = int((full_best < full_best[winner]).sum()) + 1
        print(f"   {halving}: {halved.seconds:.3f} s, ratio {halved.seconds / full.seconds:.3f} (target <= 0.333); "
              f"{len(survivors)} survivors, the best of them (index {winner}, {full_best[winner]:.6g}) ranks {rank} "
              f"in the full sweep")

if __name__ == "__main__":
    main()
