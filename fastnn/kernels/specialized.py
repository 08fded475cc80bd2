"""The training kernels generated for one Spec, and the kernel ``Network.fit`` trains with.

Small networks get ``codegen``'s unrolled scalar kernels; bigger ones up to
``widegen.MAX_WIDTH`` units a layer get ``widegen``'s explicit-SIMD loop kernels. Both
modules define the same functions with the same signature. They are compiled once per
machine and cached on disk (``kernels.cache``); ``fit_trainer`` starts a fit on the
shape-generic kernels while one is still compiling (``kernels.tiering``).
"""
from __future__ import annotations

import functools

import numpy as np

from . import codegen, generic_kernel, tiering, widegen


def kind(spec):
    """Which generated kernels train spec: "unrolled", "wide", or None (the generic ones)."""
    if codegen.supports(spec):
        return "unrolled"
    if widegen.supports(spec):
        return "wide"
    return None


@functools.lru_cache(maxsize=256)
def _source(spec):
    return codegen.source(spec) if kind(spec) == "unrolled" else widegen.source(spec)


@functools.lru_cache(maxsize=256)
def train_request(spec, batched):
    """The generated kernel for plain per-sample SGD or mini-batches (a
    ``tiering.Request``), or None (the generic kernels train spec)."""
    if kind(spec) is None:
        return None
    # Unrolled scalar code: measured 15.6 ns/step without SLP, 18.2 with (2-2-1 network).
    # The wide kernels are vectorised by hand: SLP would only add shuffles.
    return tiering.Request(_source(spec), codegen.BATCH if batched else codegen.SGD, codegen.SIGNATURE, slp=False)


@functools.lru_cache(maxsize=256)
def optim_request(spec, variant, dropout=False, per_sample=False):
    """The generated kernel for an optimizer of this variant (``fastnn.optim``'s
    ``kernel_variant``), L1/L2 and, when ``dropout``, dropout, or None
    (generic.train_general trains it); ``per_sample``: it trains with batch_size 1 only,
    without L1/L2 and dropout (the unrolled kernels have one for that,
    ``codegen.optim_name``)."""
    if kind(spec) is None:
        return None
    unrolled = kind(spec) == "unrolled"
    return tiering.Request(_source(spec), codegen.optim_name(variant, dropout, per_sample and unrolled),
                           codegen.OPTIM_SIGNATURE, slp=unrolled)  # unrolled Adam: 69 -> 35 ns a step with SLP (2-2-1)


def train_kernel(spec, batched):
    """Compiled kernel for per-sample SGD or mini-batches, or None (use the generic ones).

    Signature: ``(params, X, Y, lr, epochs, batch_size, shuffle, seed, history, dims)``:
    the contract of ``generic.train``, with ``dims`` (int64 widths) in place of the layout.
    """
    request = train_request(spec, batched)
    return None if request is None else request.compile_now()


def options_trainer(spec, options, layout, generated=True):
    """``train(params, X, Y, lr, epochs, batch_size, shuffle, history, first, second,
    clock, rng) -> diverged epoch``: training with ``options`` (``fastnn.options``'s
    TrainOptions, whose settings it binds) on the generated kernel for spec when there is
    one and ``generated`` (compiled now if need be), else on ``generic.train_general``
    (``layout``: spec's). Both give the reference's numbers, bit for bit; the sweeps'
    one-at-a-time baseline (``sweep_options.GeneralBlocks``) uses this."""
    request = optim_request(spec, options.optimizer.kernel_variant, options.has_dropout) if generated else None
    if request is None:
        return _bind_general(layout, spec, options)
    return _bind_generated(request.compile_now(), spec, options)


def _bind_generated(kernel, spec, options):
    hyper, rates, penalties = options.hyper(), options.dropout_rates(spec), options.parameter_penalties(spec)

    def train(params, X, Y, lr, epochs, batch_size, shuffle, history, first, second, clock, rng):
        return kernel(params, X, Y, lr, epochs, batch_size, shuffle, history, hyper, penalties, rates, first,
                      second, clock, rng)

    return train


def _bind_general(layout, spec, options):
    general, hyper, rates, penalties = (generic_kernel("train_general"), options.hyper(),
                                        options.dropout_rates(spec), options.penalty_rows())

    def train(params, X, Y, lr, epochs, batch_size, shuffle, history, first, second, clock, rng):
        return general(params, layout, X, Y, lr, epochs, batch_size, shuffle, history, hyper, penalties, rates, first,
                       second, clock, rng)

    return train


# ------------------------------------------------------------------ Network.fit

def fit_trainer(spec, options, layout, dims, batch_size, generated=True):
    """The kernel ``Network.fit`` trains with, as ``train(params, X, Y, lr, epochs,
    batch_size, shuffle, history, run) -> diverged epoch`` (-1 if none; ``run``: the fit's
    ``fastnn.options.RunState``, continued in place).

    Plain SGD (``options.is_plain``) takes the fused kernels, which keep no optimizer
    state; anything else the optimizer kernels. With ``generated`` (backend "numba") and a
    generated kernel for spec: that kernel when this process or the disk cache has it,
    else a ``tiering.Tiered`` run (the generic kernel at once, the generated one when its
    background compile finished; with FASTNN_TIERING=0 it is compiled first instead).
    Otherwise the generic kernels. Every one gives the reference's numbers, bit for bit.
    """
    batched = batch_size > 1
    if options.is_plain:
        request = train_request(spec, batched) if generated else None
        generic_name = "train_batched" if batched else "train"

        def wrap(kernel):
            return _plain_stage(lambda *a: kernel(*a, dims))

        def generic():
            kernel = generic_kernel(generic_name)
            if batched:
                return _plain_stage(lambda params, X, Y, lr, epochs, bs, shuffle, seed, history:
                                    kernel(params, layout, X, Y, lr, epochs, bs, shuffle, seed, history))
            return _plain_stage(lambda params, X, Y, lr, epochs, bs, shuffle, seed, history:
                                kernel(params, layout, X, Y, lr, epochs, shuffle, seed, history))
    else:
        per_sample = batch_size == 1 and not options.penalties.any and not options.has_dropout
        request = (optim_request(spec, options.optimizer.kernel_variant, options.has_dropout, per_sample)
                   if generated else None)
        generic_name = "train_general"

        def wrap(kernel):
            return _options_stage(_bind_generated(kernel, spec, options))

        def generic():
            return _options_stage(_bind_general(layout, spec, options))

    if request is None:
        return generic()
    kernel = tiering.kernel(request)
    if kernel is not None:
        return wrap(kernel)
    return tiering.Tiered(generic, request, wrap, generic_name, _reference_stage(spec, options))


def _reference_stage(spec, options):
    """A fit trainer on ``fastnn.reference.train`` (tiering's first tier, while no kernel
    is compiled): the run's state goes in as the reference's ``OptimizerState`` and comes
    back, as ``Network.fit(backend="reference")`` does."""
    from .. import reference

    lists = {}

    def train(params, X, Y, lr, epochs, batch_size, shuffle, history, run):
        if lists.get("of") is not X:  # the same arrays every slice: converted once
            lists.update(of=X, X=X.tolist(), Y=Y.tolist())
        state = run.to_reference(reference)
        trained, done, diverged = reference.train(spec, params.tolist(), lists["X"], lists["Y"], lr, epochs,
                                                  batch_size, shuffle, run.shuffle_state, options, state)
        run.take_reference(state)
        params[:] = trained
        history[: len(done)] = done
        history[len(done) :] = np.nan
        return diverged

    # about 0.8 us per parameter per sample measured (2-26-1 with batches of 16, 3-18-2
    # with Adam, 5-14-3 per sample, CPython 3.11 on the EPYC of bench/RESULTS.md)
    train.seconds_per_sample = 1e-6 * spec.n_params
    return train


def _plain_stage(kernel):
    """A fit trainer around a fused SGD kernel ``kernel(params, X, Y, lr, epochs,
    batch_size, shuffle, seed, history)``: the shuffling state goes in as the seed, and
    ``RunState.advance`` replays what the epochs it ran did to the run."""

    def train(params, X, Y, lr, epochs, batch_size, shuffle, history, run):
        diverged = kernel(params, X, Y, lr, epochs, batch_size, shuffle, np.uint64(run.shuffle_state), history)
        run.advance(X.shape[0], batch_size, shuffle, epochs if diverged < 0 else diverged)
        return diverged

    return train


def _options_stage(kernel):
    """A fit trainer around an ``options_trainer``-style kernel: the run's optimizer
    state goes in and comes back through its arrays."""

    def train(params, X, Y, lr, epochs, batch_size, shuffle, history, run):
        clock, rng = run.kernel_arrays()
        diverged = kernel(params, X, Y, lr, epochs, batch_size, shuffle, history, run.first, run.second, clock, rng)
        run.take_kernel_arrays(clock, rng)
        return diverged

    return train
