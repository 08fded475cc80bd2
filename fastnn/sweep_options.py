"""Sweep configurations trained with an optimizer other than plain SGD, L1/L2 or dropout.

The structure-of-arrays sweep kernels train plain SGD only, so far. A group of
configurations with other ``TrainOptions`` is trained one configuration at a time by
``generic.train_general``, the kernel ``Network.fit`` runs for them, so each
configuration still equals its own ``fit`` bit for bit; blocks of configurations still
run on all threads (the kernel releases the GIL). A ``GeneralBlocks`` object has the
sweep kernels' calling contract (``kernels.sweep_generic``) and carries every
configuration's optimizer state from one slice of epochs to the next, as a warm start
does, which is what makes slicing (progress, checkpoints) exact.
"""
from __future__ import annotations

import numpy as np

from .kernels import generic_kernel
from .options import RunState


class GeneralBlocks:
    """Trains configurations of one spec and one ``TrainOptions`` with train_general.

    ``seeds`` (K,) uint64: each configuration's seed, which starts its shuffling and
    dropout streams as ``fit``'s seed does.
    """

    def __init__(self, spec, options, seeds):
        self.spec, self.options = spec, options
        self.hyper = options.hyper()
        self.penalties = options.penalty_rows()
        self.rates = options.dropout_rates(spec)
        self.runs = [RunState(options.optimizer, spec.n_params, int(seed)) for seed in seeds]
        self.kernel = generic_kernel("train_general")

    def __call__(self, P, X, Y, lr, batch_size, shuffle, states, e_start, e_stop, losses, diverged,
                 ckpt_epochs, ckpt, k0, k1, layout):
        for k in range(k0, k1):
            params = np.ascontiguousarray(P[:, k])
            e = e_start
            for slot, after in enumerate(ckpt_epochs):
                if not e_start <= after < e_stop:
                    continue
                e = self._train(k, params, X, Y, lr[k], batch_size, shuffle, e, after + 1, losses, diverged, layout)
                ckpt[slot, :, k] = params
            self._train(k, params, X, Y, lr[k], batch_size, shuffle, e, e_stop, losses, diverged, layout)
            P[:, k] = params

    def _train(self, k, params, X, Y, lr, batch_size, shuffle, e0, e1, losses, diverged, layout):
        """Epochs e0..e1-1 of configuration k unless it diverged before; returns e1."""
        if diverged[k] >= 0 or e1 <= e0:
            return e1
        run = self.runs[k]
        clock, rng = run.kernel_arrays()
        history = losses[k, e0:e1]  # a view: the kernel writes the curve in place
        stopped = self.kernel(params, layout, X, Y, lr, e1 - e0, batch_size, shuffle, history, self.hyper,
                              self.penalties, self.rates, run.first, run.second, clock, rng)
        run.take_kernel_arrays(clock, rng)
        if stopped >= 0:
            diverged[k] = e0 + stopped
            losses[k, e1:] = np.nan
        return e1
