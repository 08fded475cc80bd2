"""The training kernels generated for one Spec: compiled and memoised once.

Small networks get ``codegen``'s unrolled scalar kernels; bigger ones up to
``widegen.MAX_WIDTH`` units a layer get ``widegen``'s explicit-SIMD loop kernels. Both
modules define the same functions with the same signature.
"""
from __future__ import annotations

import functools

from . import cache, codegen, widegen


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


def optim_kernel(spec, variant, dropout=False):
    """Compiled generated kernel for training with an optimizer of this variant
    (``fastnn.optim``'s ``kernel_variant``), L1/L2 and, when ``dropout``, dropout (the
    unrolled kernels only), or None (use generic.train_general). Signature:
    ``codegen.OPTIM_SIGNATURE``."""
    if kind(spec) is None or (dropout and kind(spec) != "unrolled"):
        return None
    return cache.load(_source(spec), codegen.optim_name(variant), codegen.OPTIM_SIGNATURE, slp=False)
