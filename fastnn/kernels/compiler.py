"""Compiling kernels: explicit signatures, with LLVM's SLP vectoriser switched on."""
from __future__ import annotations

import functools
import hashlib
import os
import sys
import threading
from contextlib import contextmanager

from numba.core import config as numba_config
from numba.core.caching import NullCache
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


# njit options of the helper kernels that allocate nothing (the generic kernels' blocks and
# batch steps, the lane kernel's row loops): no NRT, numba's reference counting, whose
# atomic increments and decrements of every array argument cost 15-30 ns a call (2-2-1's
# generic forward pass: 129 ns a sample with it, 26 ns without). Such a function must not
# create, keep or return arrays; its callers (with NRT) own them.
HELPER = dict(cache=True, nogil=True, error_model="numpy", _nrt=False)


def _align_arrays_to_cache_lines():
    """Make numba allocate arrays (``np.empty`` in compiled code) on 64-byte boundaries.

    numba aligns them to 32 bytes ("AVX prefers 32-byte alignment", its
    ``BaseContext.get_preferred_array_alignment``). With 64-byte vectors (AVX-512) a row
    of 8 doubles then lies in one cache line or straddles two, by the luck of the
    allocation: the sweep kernels' speed changed from process to process (2-8-1: 1.5 or
    2.4 ns per configuration-step; the lane kernel up to 1.5x). With 64 it is the same in
    every process (2-8-1: 1.50-1.72 ns in 4 processes). Only the alignment changes, never a
    number; numba versions without the hook keep their default."""
    try:
        from numba.core.cpu import CPUContext

        if hasattr(CPUContext, "get_preferred_array_alignment"):
            CPUContext.get_preferred_array_alignment = lambda context, ty: 64
    except ImportError:  # another numba layout: its default alignment
        pass


_align_arrays_to_cache_lines()

_SOURCES = ("spec.py", "optim.py", "kernels/blocks.py", "kernels/codegen.py", "kernels/compiler.py",
            "kernels/generic.py", "kernels/lane_metrics.py", "kernels/lanes8.py", "kernels/optim.py", "kernels/rng.py",
            "kernels/simd.py", "kernels/sweep_generic.py", "kernels/sweepgen.py", "kernels/sweeplanes.py",
            "kernels/widegen.py")
_STAMP = "fastnn-kernel-sources.digest"
_checked = threading.Event()


@functools.lru_cache(maxsize=1)
def sources_digest():
    """Digest of every source file the compiled kernels depend on.

    numba re-validates a cached function only against its own file, not against the
    functions it calls from other files; generated kernels carry this digest in their text
    (so a changed fastnn gets new files), and ``check_package_cache`` compares it with the
    one stored beside the package kernels' numba cache.
    """
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    digest = hashlib.sha256()
    for name in _SOURCES:
        with open(os.path.join(root, name), "rb") as handle:
            digest.update(name.encode() + b"\0" + handle.read())
    return digest.hexdigest()[:24]


def check_package_cache():
    """Once per process: if the kernel sources changed since the package kernels were
    cached, reset their numba cache indexes (they would otherwise load stale code)."""
    if _checked.is_set():
        return
    from . import blocks, generic, rng, sweep_generic  # noqa: F401  (all of them get reset)

    cache = getattr(generic.train, "_cache", None)
    folder = getattr(cache, "cache_path", None)
    if folder is not None:
        stamp = os.path.join(folder, _STAMP)
        try:
            with open(stamp) as handle:
                current = handle.read().strip() == sources_digest()
        except OSError:
            current = False
        if not current:
            _reset_caches()
            try:
                os.makedirs(folder, exist_ok=True)
                with open(stamp, "w") as handle:
                    handle.write(sources_digest())
            except OSError:  # a read-only cache folder: numba will not write there either
                pass
    _checked.set()


def has_code(dispatcher):
    """Whether numba's ``dispatcher`` holds machine code (compiled or loaded from its cache):
    its ``overloads`` mapping is not empty. numba's ``signatures`` says the same but builds
    a list of type tuples, hashing every type, each time: 6 us, and every ``fit`` asked."""
    return bool(dispatcher.overloads)


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
    if not has_code(dispatcher):
        check_package_cache()
        with slp_vectorizer(slp):
            if not has_code(dispatcher):
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
                    value._cache = NullCache()
