"""Where generated kernels live, and how they are loaded.

A generated module is written to ``<cache dir>/k_<hash>.py`` (the hash covers the whole
source text) and imported from there; numba then caches its machine code in the
``__pycache__`` folder beside it, so a network shape compiles once per machine.

* ``FASTNN_CACHE_DIR``: the cache folder (default: ``$XDG_CACHE_HOME/fastnn`` or
  ``~/.cache/fastnn``; if that is not writable, a per-user folder in the temp dir).
* ``FASTNN_NO_CACHE=1``: keep generated kernels in memory only (compiled in every process).

Two processes may generate the same kernel at once: each writes its own temporary file
and renames it into place, so readers only ever see complete files, and the contents are
identical anyway. A source file whose text does not match its hash (truncated or edited)
is rewritten before use.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import sys
import tempfile
import threading

from ..atomic import write_atomically
from .compiler import compiled

_memory = {}
_marked = set()  # (key, name, cache folder settings) whose marker this process saw or wrote
_lock = threading.Lock()


def disabled():
    return os.environ.get("FASTNN_NO_CACHE", "").strip() not in ("", "0", "false", "False", "no")


def cache_dir():
    """The writable cache folder, created if needed, or None if none can be had."""
    candidates = []
    if os.environ.get("FASTNN_CACHE_DIR"):
        candidates.append(os.environ["FASTNN_CACHE_DIR"])
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        candidates.append(os.path.join(base, "fastnn"))
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    candidates.append(os.path.join(tempfile.gettempdir(), f"fastnn-cache-{uid}"))
    for path in candidates:
        try:
            os.makedirs(path, exist_ok=True)
            if os.access(path, os.W_OK | os.X_OK):
                return path
        except OSError:
            continue
    return None


@functools.lru_cache(maxsize=256)
def _digest(text):
    # memoised: every fit and sweep call loads its kernel through here, and hashing a wide
    # network's module (hundreds of KB) took about 100 us a call; the str caches its own
    # hash, so a repeated lookup costs no pass over the text
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return None


def load(source_text, name, signature, slp=True):
    """Function ``name`` of generated module text, compiled for ``signature`` (memoised;
    ``slp``: see ``compiler.compiled``).

    Loads the machine code from numba's cache when it is there, else compiles it.
    """
    key = _digest(source_text)
    with _lock:
        module = _memory.get(key)
        if module is None:
            folder = None if disabled() else cache_dir()
            module = _from_memory(source_text, key) if folder is None else _from_file(source_text, key, folder)
            _memory[key] = module
        dispatcher = compiled(getattr(module, name), signature, slp)
    if module.CACHE:
        _mark_compiled(key, name)
    return dispatcher


def marker(key, name):
    """The file that says function ``name`` of module ``k_<key>.py`` was compiled into
    numba's cache on this machine (or None without a cache folder). ``kernels.tiering``
    reads it to know, without importing the module (tens to hundreds of milliseconds for
    a long one), that a kernel is not compiled yet. A marker whose machine code is gone
    (numba's cache emptied, another CPU) only costs that import: the load then misses."""
    folder = None if disabled() else cache_dir()
    return None if folder is None else os.path.join(folder, f"k_{key}.{name}.compiled")


def marked(key, name):
    path = marker(key, name)
    return path is not None and os.path.exists(path)


def _mark_compiled(key, name):
    # once a process per cache folder: the folder and file checks cost tens of us a call
    seen = key, name, os.environ.get("FASTNN_CACHE_DIR"), os.environ.get("XDG_CACHE_HOME")
    if seen in _marked:
        return
    path = marker(key, name)
    if path is not None and not os.path.exists(path):
        try:
            write_atomically(path, lambda handle: handle.write(b""))
        except OSError:  # an unwritable folder: tiering then imports the module to check
            return
    _marked.add(seen)


def _from_memory(source_text, key):
    module = type(sys)(f"fastnn_generated_{key}")
    module.CACHE = False
    exec(compile(source_text, f"<fastnn generated {key}>", "exec"), module.__dict__)
    return module


def write_module(source_text, key, folder):
    """The path of ``k_<key>.py`` in ``folder``, written (atomically) unless its text is
    there already."""
    text = "CACHE = True\n" + source_text
    path = os.path.join(folder, f"k_{key}.py")
    if _read(path) != text:
        write_atomically(path, lambda handle: handle.write(text.encode()))
    return path


def _from_file(source_text, key, folder):
    path = write_module(source_text, key, folder)
    module_name = f"fastnn_generated_{key}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        del sys.modules[module_name]
        raise
    return module
