"""Sweep configurations trained with an optimizer other than plain SGD, L1/L2 or dropout.

``blocks(spec, options, seeds)`` returns a callable with the sweep kernels' calling
contract (``kernels.sweep_generic``) for a group of configurations sharing ``options``:

* ``DropoutLaneBlocks``: groups with dropout, any network, train vectorised on the lane
  kernel's dropout mode (``sweeplanes.train_dropout``: ``train_optim`` with each
  configuration's dropout stream, compiled once per machine); its state adds each
  configuration's dropout stream base (``dropout``) to the optimizer states;
* ``GeneratedBlocks``: small networks (``sweepgen.supports``) without dropout train
  vectorised across configurations, in the generated sweep kernel's OPTIM mode, which
  keeps every lane's optimizer states in (n_params, K) arrays between calls;
* ``LaneBlocks``: bigger networks without dropout, the same way, on the shape-generic
  lane kernel's optimizer mode (``sweeplanes.train_optim``: one function for every
  shape and optimizer, compiled once per machine);
* ``GeneralBlocks``: (used by no group since ``DropoutLaneBlocks``: the benchmarks'
  baseline, routed to by patching ``vectorised``) trains one configuration at a time with the kernel
  ``Network.fit`` runs for them (``specialized.options_trainer``: the unrolled or wide
  kernel of the shape, else ``generic.train_general``; blocks still run on all threads,
  the kernels release the GIL). It carries every configuration's optimizer state from one
  slice of epochs to the next, as a warm start does.

Either way each configuration equals its own ``fit`` bit for bit, and slicing the epochs
(progress, checkpoints) changes nothing.
"""
from __future__ import annotations

import numpy as np

from .kernels import specialized, sweepgen, sweeplanes, tiering
from .kernels.compiler import compiled
from .options import RunState
from .spec import DROPOUT_SALT

# The sweep kernels' arguments (see fastnn.sweep), then hyper, penalties, first, second.
OPTIM_SIGNATURE = (
    "void(float64[:, ::1], float64[:, ::1], float64[:, ::1], float64[::1], int64, boolean, uint64[::1], "
    "int64, int64, float64[:, ::1], int64[::1], int64[::1], float64[:, :, ::1], int64, int64, int64[::1], "
    "float64[::1], float64[:, ::1], float64[:, ::1], float64[:, ::1])"
)
# ... then bases (K,) uint64 and rates (n_layers,) float64: sweeplanes.train_dropout.
DROPOUT_SIGNATURE = OPTIM_SIGNATURE[:-1] + ", uint64[::1], float64[::1])"


def vectorised(spec, options):
    """Whether a vectorised kernel (``GeneratedBlocks``, ``LaneBlocks`` or
    ``DropoutLaneBlocks``) trains these configurations: every group does (the benchmarks
    patch this to time the one-at-a-time ``GeneralBlocks`` beside them)."""
    return True


def load(spec, options, shuffle=True, batch_size=0):
    """Compile (or load) the kernel a group with ``options`` will use, before timing
    (``shuffle``, ``batch_size``: the group's; only a small shape's generated kernel
    depends on them: sweepgen.optim_name's ``in_order`` and ``per_sample``; 0: any size).

    A small shape's generated optimizer kernel that is not compiled yet compiles in the
    background (``kernels.tiering``) while ``GeneratedBlocks`` trains on the lane kernel's
    optimizer mode (``tiering.TieredCalls``), with the same numbers."""
    if not vectorised(spec, options):
        return specialized.options_trainer(spec, options, spec.layout())
    if options.has_dropout:
        return compiled(sweeplanes.train_dropout, DROPOUT_SIGNATURE)
    if sweepgen.supports(spec):
        name = sweepgen.optim_name(options.optimizer.kernel_variant, in_order=not shuffle, per_sample=batch_size == 1)
        request = tiering.Request(sweepgen.cached_source(spec), name, OPTIM_SIGNATURE, slp=True)
        return tiering.lane_kernel(request, sweeplanes.train_optim, OPTIM_SIGNATURE)
    return compiled(sweeplanes.train_optim, OPTIM_SIGNATURE)


def initial_state(spec, options, seeds):
    """Every configuration's optimizer state before training, as arrays with one column
    per configuration (lanes on the last axis, so a sweep can gather, ship and store
    them): ``first``, ``second`` (n_params, K) float64, for ``DropoutLaneBlocks`` also
    ``dropout`` (K,) uint64 (the dropout stream's base, ``RunState.dropout_base``), and for
    ``GeneralBlocks`` ``t``, ``samples`` (K,) int64 and ``shuffle``, ``dropout`` (K,)
    uint64 (``RunState``'s fields). ``seeds`` (K,) uint64."""
    K = len(seeds)
    state = {"first": np.zeros((spec.n_params, K), dtype=np.float64),
             "second": np.zeros((spec.n_params, K), dtype=np.float64)}
    if vectorised(spec, options) and options.has_dropout:
        # RunState's dropout_base, (seed ^ DROPOUT_SALT) & MASK64, for every seed at once
        state["dropout"] = np.asarray(seeds, dtype=np.uint64) ^ np.uint64(DROPOUT_SALT)
    elif not vectorised(spec, options):
        runs = [RunState(options.optimizer, 0, int(seed)) for seed in seeds]
        state["t"] = np.zeros(K, dtype=np.int64)
        state["samples"] = np.zeros(K, dtype=np.int64)
        state["shuffle"] = np.array([run.shuffle_state for run in runs], dtype=np.uint64)
        state["dropout"] = np.array([run.dropout_base for run in runs], dtype=np.uint64)
    return state


def blocks(spec, options, seeds):
    """The sweep-kernel callable for a group of len(seeds) configurations."""
    return blocks_on(spec, options, initial_state(spec, options, seeds))


def blocks_on(spec, options, state):
    """The sweep-kernel callable that trains with (and updates in place) the optimizer
    state arrays ``state`` (``initial_state``'s, or columns gathered from them)."""
    if not vectorised(spec, options):
        return GeneralBlocks(spec, options, state)
    if options.has_dropout:
        return DropoutLaneBlocks(spec, options, state)
    if sweepgen.supports(spec):
        return GeneratedBlocks(spec, options, state)
    return LaneBlocks(spec, options, state)


class LaneBlocks:
    """The lane kernel's optimizer mode (``sweeplanes.train_optim``, see ``load``), with
    each configuration's optimizer states."""

    def __init__(self, spec, options, state):
        self._keep(spec, options, state)
        self.kernel = load(spec, options)

    def _keep(self, spec, options, state):
        """The settings every optimizer kernel takes after the sweep contract's arguments."""
        self.hyper = options.hyper()
        self.penalties = options.parameter_penalties(spec)
        self.first, self.second = state["first"], state["second"]

    def __call__(self, *args):
        self.kernel(*args, self.hyper, self.penalties, self.first, self.second)


class GeneratedBlocks(LaneBlocks):
    """The generated OPTIM sweep kernel, with each configuration's optimizer states: the
    calling contract of ``LaneBlocks``; the kernel for the call's ``batch_size`` and
    ``shuffle`` (its fifth and sixth arguments), loaded at the first call that needs it."""

    def __init__(self, spec, options, state):
        self._keep(spec, options, state)
        self.spec, self.options = spec, options
        self.kernels = {}

    def __call__(self, *args):
        key = bool(args[5]), 1 if args[4] == 1 else 0  # shuffle, batch_size (per sample or any)
        if key not in self.kernels:
            self.kernels[key] = load(self.spec, self.options, *key)
        self.kernels[key](*args, self.hyper, self.penalties, self.first, self.second)


class DropoutLaneBlocks(LaneBlocks):
    """The lane kernel's dropout mode (``sweeplanes.train_dropout``, see ``load``), with
    each configuration's optimizer states and dropout stream base (``state["dropout"]``,
    read only: the draws are numbered by the samples seen, e * n + position, so nothing
    else needs carrying between slices of epochs)."""

    def __init__(self, spec, options, state):
        super().__init__(spec, options, state)
        self.bases = state["dropout"]
        self.rates = options.dropout_rates(spec)

    def __call__(self, *args):
        self.kernel(*args, self.hyper, self.penalties, self.first, self.second, self.bases, self.rates)


class GeneralBlocks:
    """Trains configurations of one spec and one ``TrainOptions`` one at a time, with the
    kernel ``fit`` uses for them (``specialized.options_trainer``), each with its
    ``RunState`` held in the columns of ``state`` (``initial_state``: it starts the
    shuffling and dropout streams from each configuration's seed, as ``fit``'s seed does).
    """

    def __init__(self, spec, options, state):
        self.state = state
        self.train = load(spec, options)

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
        state = self.state
        first, second = np.ascontiguousarray(state["first"][:, k]), np.ascontiguousarray(state["second"][:, k])
        clock = np.array([state["t"][k], state["samples"][k]], dtype=np.int64)
        rng = np.array([state["shuffle"][k], state["dropout"][k]], dtype=np.uint64)
        history = losses[k, e0:e1]  # a view: the kernel writes the curve in place
        stopped = self.train(params, X, Y, lr, e1 - e0, batch_size, shuffle, history, first, second, clock, rng)
        state["first"][:, k], state["second"][:, k] = first, second
        state["t"][k], state["samples"][k] = clock
        state["shuffle"][k], state["dropout"][k] = rng
        if stopped >= 0:
            diverged[k] = e0 + stopped
            losses[k, e1:] = np.nan
        return e1
