"""Compiling kernels: explicit signatures, with LLVM's SLP vectoriser switched on."""
from __future__ import annotations

import sys
from contextlib import contextmanager

from numba.core import config as numba_config
from numba.core.compiler_lock import global_compiler_lock
from numba.core.registry import CPUDispatcher


@contextmanager
def slp_vectorizer(enabled=True):
    """Compile with LLVM's SLP vectoriser on (numba leaves it off by default).

    fastnn's kernels keep blocks of independent scalar accumulators (kernels.blocks, the
    generated scalar kernels); SLP packs them into SIMD registers. It only groups
    identical per-lane operations, so results are unchanged. Holding numba's compiler lock
    keeps other compilations out of the window.
    """
    with global_compiler_lock:
        saved = numba_config.SLP_VECTORIZE
        numba_config.SLP_VECTORIZE = 1 if enabled else 0
        try:
            yield
        finally:
            numba_config.SLP_VECTORIZE = saved


def compiled(dispatcher, signature, slp=True):
    """``dispatcher`` compiled (or loaded from numba's cache) for ``signature`` only, with
    the SLP vectoriser on or off (``slp``; off suits straight-line scalar kernels, where
    packing a few independent operations into vectors costs more shuffles than it saves).

    Later calls with other argument types raise TypeError instead of silently compiling
    a second, unvectorised version: the wrappers always pass exactly these types.

    numba raises when one of its cache files is damaged (a truncated index, garbage in a
    data file); then every fastnn kernel's cache index is reset and the kernel compiled
    afresh, which rewrites the cache. An error that survives the rebuild is re-raised.
    """
    if not dispatcher.signatures:
        with slp_vectorizer(slp):
            if not dispatcher.signatures:
                try:
                    dispatcher.compile(signature)
                except Exception:
                    _reset_caches()
                    dispatcher.compile(signature)
                dispatcher.disable_compile()
    return dispatcher


def _reset_caches():
    """Empty the numba cache index of every kernel in fastnn.kernels and generated modules."""
    for name, module in list(sys.modules.items()):
        if not (name.startswith("fastnn.kernels") or name.startswith("fastnn_generated_")):
            continue
        for value in list(vars(module).values()):
            if isinstance(value, CPUDispatcher):
                try:
                    value._cache.flush()
                except Exception:  # an unwritable cache: compile without it
                    value.disable_compile(False)
