"""The training kernels generated for one Spec: compiled and memoised once.

Small networks get ``codegen``'s unrolled scalar kernels; bigger ones up to
``widegen.MAX_WIDTH`` units a layer get ``widegen``'s explicit-SIMD loop kernels. Both
modules define the same functions with the same signature.
"""
from __future__ import annotations

import functools

from . import cache, codegen, generic_kernel, widegen


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


def train_kernel(spec, batched):
    """Compiled kernel for per-sample SGD or mini-batches, or None (use the generic ones).

    Signature: ``(params, X, Y, lr, epochs, batch_size, shuffle, seed, history, dims)``:
    the contract of ``generic.train``, with ``dims`` (int64 widths) in place of the layout.
    """
    if kind(spec) is None:
        return None
    name = codegen.BATCH if batched else codegen.SGD
    # Unrolled scalar code: measured 15.6 ns/step without SLP, 18.2 with (2-2-1 network).
    # The wide kernels are vectorised by hand: SLP would only add shuffles.
    return cache.load(_source(spec), name, codegen.SIGNATURE, slp=False)


def options_trainer(spec, options, layout, generated=True):
    """``train(params, X, Y, lr, epochs, batch_size, shuffle, history, first, second,
    clock, rng) -> diverged epoch``: training with ``options`` (``fastnn.options``'s
    TrainOptions, whose settings it binds) on the generated kernel for spec when there is
    one and ``generated``, else on ``generic.train_general`` (``layout``: spec's). Both
    give the reference's numbers, bit for bit; ``Network.fit`` and sweeps use this."""
    kernel = optim_kernel(spec, options.optimizer.kernel_variant, options.has_dropout) if generated else None
    hyper, rates = options.hyper(), options.dropout_rates(spec)
    if kernel is not None:
        penalties = options.parameter_penalties(spec)

        def train(params, X, Y, lr, epochs, batch_size, shuffle, history, first, second, clock, rng):
            return kernel(params, X, Y, lr, epochs, batch_size, shuffle, history, hyper, penalties, rates, first,
                          second, clock, rng)

        return train
    general, penalties = generic_kernel("train_general"), options.penalty_rows()

    def train(params, X, Y, lr, epochs, batch_size, shuffle, history, first, second, clock, rng):
        return general(params, layout, X, Y, lr, epochs, batch_size, shuffle, history, hyper, penalties, rates, first,
                       second, clock, rng)

    return train


def optim_kernel(spec, variant, dropout=False):
    """Compiled generated kernel for training with an optimizer of this variant
    (``fastnn.optim``'s ``kernel_variant``), L1/L2 and, when ``dropout``, dropout (the
    unrolled kernels only), or None (use generic.train_general). Signature:
    ``codegen.OPTIM_SIGNATURE``."""
    if kind(spec) is None or (dropout and kind(spec) != "unrolled"):
        return None
    return cache.load(_source(spec), codegen.optim_name(variant), codegen.OPTIM_SIGNATURE, slp=False)
