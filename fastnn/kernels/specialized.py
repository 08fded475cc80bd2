"""The unrolled training kernels of a small Spec: generated, compiled and memoised once."""
from __future__ import annotations

import functools

from . import cache, codegen


@functools.lru_cache(maxsize=256)
def _source(spec):
    return codegen.source(spec)


def train_kernel(spec, batched):
    """Compiled unrolled kernel for per-sample SGD or mini-batches, or None if spec is big.

    Signature: ``(params, X, Y, lr, epochs, batch_size, shuffle, seed, history, dims)``:
    the contract of ``generic.train``, with ``dims`` (int64 widths) in place of the layout.
    """
    if not codegen.supports(spec):
        return None
    name = codegen.BATCH if batched else codegen.SGD
    # Unrolled scalar code: measured 15.6 ns/step without SLP, 18.2 with (2-2-1 network).
    return cache.load(_source(spec), name, codegen.SIGNATURE, slp=False)
