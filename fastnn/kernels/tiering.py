"""Tiered compilation for ``Network.fit``: train at once, end on the fastest kernel.

A network shape's generated (specialised) kernels take seconds to compile: numba's
frontend time grows with the length of the function, and the generated kernels are long.
The shape-generic kernels (``kernels.generic``) are compiled once per machine and load
from numba's cache in a fraction of a second. So when ``fit`` needs a generated kernel
that neither this process nor the disk cache holds, it

1. starts compiling that kernel in a background process (``python -c`` running
   ``_child``): its own interpreter, so it shares neither the GIL nor numba's compiler
   lock with this one, runs on another core (at a lower priority, ``NICE``, on a
   one-core machine), and writes the shared disk cache (``kernels.cache``'s source file,
   numba's machine code beside it; each file is written to a temporary file and renamed
   into place, and an index entry whose data file never came loads as a miss, so a
   compile killed half-way leaves no broken entry: the next fit compiles again);
2. trains on the generic kernel in slices of epochs (``SLICE_SECONDS`` each), carrying
   the run from slice to slice: parameters in place, and everything
   ``fastnn.options.RunState`` holds for ``warm_start`` (optimizer moments, step
   counter, samples seen, shuffling and dropout streams);
3. at the first epoch boundary after the compile finished, if the epochs left would take
   the generic kernel longer than loading the generated one (``LOAD_SECONDS``), loads it
   from the cache and trains the remaining epochs on it.

Every kernel does the reference's arithmetic operation for operation, so which kernel
ran which epochs never changes a number (tests/test_tiering.py switches at every epoch).
A short fit simply finishes on the generic kernel; the compile goes on in the background
and a later fit of the shape, in this process or (once the compile finished) another,
starts on the generated kernel.

When the generic kernel is not in numba's cache either (the first fit on a machine, or
the first after fastnn's kernel sources changed: it compiles in seconds too), both
compile in background processes and the fit trains meanwhile on ``fastnn.reference``,
the pure-Python oracle every kernel equals bit for bit (hundreds of times slower than a
kernel, but a short fit of a small network ends on it in a fraction of a second), then
on whichever kernel is ready first.

Sweeps tier the same way per block of configurations (``lane_kernel``, ``TieredCalls``).
A sweep that would end on the shape-generic kernels before a compile could (most first
sweeps in a notebook) opens ``holding`` for its duration: its compiles are queued and
start when it returns, instead of taking one of its cores (``fastnn.sweep``'s
HOLD_COMPILES_BELOW_S).

The background process ends with this one: it exits when the pipe from this process
closes (this process exited or was killed, however), and an ``atexit`` hook kills it
first; a compile killed that way is lost (the next process starts it again). A lock file
per kernel beside the cache entry (``k_<hash>.<function>.lock``, ``flock``) keeps two
processes from compiling the same kernel at once: the second waits for the first, then
loads its result. In this process a registry keeps one job per kernel, and at most
``MAX_JOBS`` compiles run at a time (one fewer than the cores, at least one); the others
wait, the one a running fit needs first, and start as the running ones end (a watcher
thread per compile starts the next, so the queue empties while the process is idle).

``FASTNN_TIERING=0`` (or ``false``, ``no``, ``off``): compile a missing generated kernel in
the foreground before training, as fastnn did before tiering (what steady-state
benchmarks and tests of the generated kernels want; ``wait()`` is the other way to get
there). Tiering is also off when the disk cache is (``FASTNN_NO_CACHE=1``, or no
writable cache folder): a background compile could not hand its result over.
"""
from __future__ import annotations

import atexit
import contextlib
import functools
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

import numpy as np

from . import cache
from .compiler import has_code

# A generic slice of epochs lasts about this long: the delay between a finished compile
# and the switch, against a Python round trip (~20 us) per slice.
SLICE_SECONDS = 0.02
# Loading a compiled generated kernel from numba's disk cache once its module is imported
# (it is, by the time of the switch) and numba is running: 5 ms measured on the 2-core
# EPYC of bench/RESULTS.md; with margin. The remaining epochs must take the generic kernel
# longer than this for the switch to pay.
LOAD_SECONDS = 0.02
# Scheduling priority of the compiling process (os.nice increment) on a one-core machine,
# where the training in the foreground would otherwise share its core; with two cores or
# more it runs at normal priority on another one (the sooner it ends, the sooner a long
# fit switches).
NICE = 10
# The reference trains the first epochs only when one epoch of it (about
# ``specialized._reference_stage``'s seconds_per_sample per sample) takes less than this:
# the switch to a compiled kernel waits for the end of a reference slice.
REFERENCE_EPOCH_SECONDS = 0.1
# The source file header kernels.cache writes before a generated module's text.
_HEADER = "CACHE = True\n"


def enabled():
    """Whether ``fit`` tiers: FASTNN_TIERING is not 0/false/no/off, no ``compiled_first``
    block is running, and the disk cache is on."""
    if _compiling_first or os.environ.get("FASTNN_TIERING", "").strip().lower() in ("0", "false", "no", "off"):
        return False
    return not cache.disabled() and cache.cache_dir() is not None


_compiling_first = 0  # open compiled_first blocks, in any thread


@contextlib.contextmanager
def compiled_first():
    """Within the block, fits and sweeps compile (or load) their kernels before they
    train, as with FASTNN_TIERING=0: for timing the steady-state kernels with the compile
    measured apart (``SweepResult.compile_seconds``), as ``fastnn demo`` does."""
    global _compiling_first
    with _compiling_lock:
        _compiling_first += 1
    try:
        yield
    finally:
        with _compiling_lock:
            _compiling_first -= 1


_compiling_lock = threading.Lock()


def _cores():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


MAX_JOBS = max(1, _cores() - 1)


@dataclass(frozen=True)
class Request:
    """One generated kernel: function ``name`` of module text ``source``, compiled for
    ``signature`` (``slp``: see ``compiler.compiled``)."""

    source: str
    name: str
    signature: str
    slp: bool = False

    @functools.cached_property
    def digest(self):
        """kernels.cache's hash of the module text (its file is ``k_<digest>.py``)."""
        return cache._digest(self.source)

    @property
    def key(self):
        return self.digest, self.name

    def dispatcher(self):
        """The function's numba dispatcher, its module imported (``_module``)."""
        return getattr(_module(self.source, self.digest), self.name)

    def child_args(self):
        """The background process's arguments (the module file written first, not
        imported here)."""
        path = os.path.abspath(cache.write_module(self.source, self.digest, cache.cache_dir()))
        return [path, self.name, self.signature, "1" if self.slp else "0"]

    def compile_now(self):
        """Compiled (or loaded from the cache) in this process, as without tiering."""
        return cache.load(self.source, self.name, self.signature, self.slp)


@dataclass(frozen=True)
class PackageRequest:
    """One of fastnn's own shape-generic kernels (``kernels.generic.<name>``), compiled
    into numba's cache beside the package, as ``kernels.generic_kernel`` compiles it."""

    name: str

    @property
    def key(self):
        return "package", self.name

    def child_args(self):
        return ["--package", self.name]


def package_cached(name):
    """Whether ``kernels.generic.<name>`` is compiled in this process or loads from
    numba's cache now (then it is loaded); False when it would have to be compiled (the
    first fit on a machine, or after fastnn's kernel sources changed)."""
    from . import generic

    return package_kernel(getattr(generic, name), generic.SIGNATURES[name]) is not None


def package_kernel(dispatcher, signature):
    """One of fastnn's own kernels (a dispatcher of ``fastnn.kernels``), compiled in this
    process or loaded from numba's cache now; None when it would have to be compiled."""
    from .compiler import check_package_cache

    check_package_cache()  # stale package caches are reset first, as compiler.compiled does
    return dispatcher if has_code(dispatcher) else _load_cached(dispatcher, signature)


# ------------------------------------------------------------------ loading

def _module(source_text, key):
    """The generated module of ``source_text`` (``key``: its digest), imported from the
    disk cache folder (its file written first if need be), without compiling anything:
    kernels.cache.load's first half, sharing its memo."""
    with cache._lock:
        module = cache._memory.get(key)
        if module is None:
            module = cache._from_file(source_text, key, cache.cache_dir())
            cache._memory[key] = module
        return module


def _load_cached(dispatcher, signature):
    """``dispatcher`` with its machine code for ``signature`` loaded from numba's disk
    cache, or None when the cache has none (nothing is compiled). What numba's
    ``Dispatcher.compile`` does on a cache hit; a damaged entry or another numba's
    internals count as a miss (the compile then goes through ``compiler.compiled``, which
    repairs the cache)."""
    from numba.core.compiler_lock import global_compiler_lock

    try:
        with global_compiler_lock:
            if not has_code(dispatcher):
                cres = dispatcher._cache.load_overload(signature, dispatcher.targetctx)
                if cres is None:
                    return None
                if not cres.objectmode:
                    dispatcher.targetctx.insert_user_function(cres.entry_point, cres.fndesc, [cres.library])
                dispatcher.add_overload(cres)
                dispatcher.disable_compile()
    except Exception:  # noqa: BLE001 - a miss: compile instead
        return None
    return dispatcher


def kernel(request):
    """The kernel of ``request`` if this process has it or can load it from the disk cache
    (tiering on), else None: then ``fit`` tiers (``Tiered``). With tiering off, the kernel
    compiled now (``Request.compile_now``). A background compile that failed, or whose
    result cannot be loaded, makes it compile now too (raising what the compile raises)."""
    if not enabled():
        return request.compile_now()
    imported = request.digest in cache._memory
    if imported and has_code(request.dispatcher()):
        return request.dispatcher()
    job = _jobs.get(request.key)
    if job is not None:
        state = job.state()
        if state in (_PENDING, _RUNNING):
            return None
        if state == _FAILED:
            return request.compile_now()
        # _DONE: the compile finished since; load it, or compile if its result is unusable
        return _load_cached(request.dispatcher(), request.signature) or request.compile_now()
    if not imported and not cache.marked(*request.key):
        return None  # never compiled here: tier, without importing the module now
    return _load_cached(request.dispatcher(), request.signature)


# ------------------------------------------------------------------ background jobs

_PENDING, _RUNNING, _DONE, _FAILED = "pending", "running", "done", "failed"


class _Job:
    """A background compile of one Request (``python -c`` running ``_child``)."""

    def __init__(self, request):
        self.request = request
        self.process = None
        self.log = None
        self.error = None  # why it failed: the child's stderr, or the exception starting it
        self.started = self.ended = None
        self.failed = False

    def state(self):
        if self.failed:
            return _FAILED
        if self.process is None:
            return _PENDING
        if self.ended is None:
            code = self.process.poll()
            if code is None:
                return _RUNNING
            self._finish(code)
        return _FAILED if self.failed else _DONE

    def _finish(self, code):
        self.ended = time.perf_counter()
        self._close_stdin()
        if code != 0:
            self.failed = True
            self.error = f"exit status {code}: {self._read_log()}"
        if self.log is not None:
            self.log.close()
            self.log = None

    def _read_log(self):
        if self.log is None:
            return ""
        try:
            self.log.seek(0)
            return self.log.read().decode(errors="replace")[-4000:]
        except (OSError, ValueError):
            return ""

    def _close_stdin(self):
        if self.process is not None and self.process.stdin is not None:
            try:
                self.process.stdin.close()
            except OSError:
                pass

    def start(self):
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env = dict(os.environ)
        try:
            args = self.request.child_args()
        except Exception as error:  # noqa: BLE001 - no module file: compile in the foreground
            self.failed, self.error = True, repr(error)
            return
        if isinstance(self.request, Request):
            env["FASTNN_CACHE_DIR"] = os.path.dirname(args[0])
        env.pop("FASTNN_NO_CACHE", None)
        try:
            from numba.core import config as numba_config

            if numba_config.CACHE_DIR:  # the folder this process reads numba's cache from
                env["NUMBA_CACHE_DIR"] = numba_config.CACHE_DIR
        except Exception:  # noqa: BLE001 - informative: the child reads the same environment
            pass
        code = f"import sys; sys.path[0:1] = [{root!r}]; from fastnn.kernels import tiering; tiering._main()"
        try:
            self.log = tempfile.TemporaryFile()
            self.process = subprocess.Popen([sys.executable, "-c", code, *args], stdin=subprocess.PIPE,
                                            stdout=subprocess.DEVNULL, stderr=self.log, env=env, cwd=root)
            self.started = time.perf_counter()
        except Exception as error:  # noqa: BLE001 - no interpreter to start: compile in the foreground
            self.failed, self.error = True, repr(error)
            self.process = None

    def kill(self):
        if self.process is not None and self.ended is None:
            self._close_stdin()
            try:
                self.process.kill()
                self.process.wait(timeout=10)
            except Exception:  # noqa: BLE001 - it is gone either way
                pass
            self.ended = time.perf_counter()
            self.failed, self.error = True, "killed"
            if self.log is not None:
                self.log.close()
                self.log = None


class _Registry:
    """This process's background compiles, one per kernel, at most MAX_JOBS at a time."""

    def __init__(self):
        self.lock = threading.Lock()
        self.jobs = {}
        self.queue = []  # pending jobs, first to start first
        self.holds = 0  # open ``holding`` blocks: queued jobs wait for the last to close

    def get(self, key):
        with self.lock:
            self._pump()
            return self.jobs.get(key)

    def start(self, request, now=False):
        """The job compiling ``request``: started now if a slot is free (or ``now``: when
        the caller has nothing to run meanwhile), else queued first."""
        with self.lock:
            job = self.jobs.get(request.key)
            if job is None:
                job = self.jobs[request.key] = _Job(request)
                self.queue.insert(0, job)
            elif job in self.queue:  # a running fit needs it: first in line
                self.queue.remove(job)
                self.queue.insert(0, job)
            if now and job in self.queue:
                self.queue.remove(job)
                self._start(job)
            self._pump()
            return job

    def _pump(self):
        if self.holds:
            return
        running = sum(1 for job in self.jobs.values() if job.process is not None and job.state() == _RUNNING)
        while self.queue and running < MAX_JOBS:
            job = self.queue.pop(0)
            self._start(job)
            running += job.state() == _RUNNING

    def _start(self, job):
        """Start ``job``, and a daemon thread that, when its process ends, starts the next
        queued jobs: the queue moves on by itself, not only when a fit, a sweep or
        ``wait`` polls it (after a short sweep, its compiles run one after another while
        the user looks at the result)."""
        job.start()
        process = job.process
        if process is None:
            return

        def on_exit():
            try:
                process.wait()
            except Exception:  # noqa: BLE001 - killed or reaped elsewhere: poll says which
                pass
            self.poll(job)

        threading.Thread(target=on_exit, name="fastnn-compile-watch", daemon=True).start()

    def poll(self, job):
        with self.lock:
            self._pump()
            return job.state()

    def hold(self):
        with self.lock:
            self.holds += 1

    def release(self):
        """One ``hold`` ended; the last starts the queued jobs (as slots allow)."""
        with self.lock:
            self.holds -= 1
            self._pump()

    def shutdown(self):
        """Kill every running compile and forget every job (atexit; tests)."""
        with self.lock:
            for job in self.jobs.values():
                job.kill()
            self.jobs.clear()
            self.queue.clear()

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self.lock:
                self._pump()
                busy = [job for job in self.jobs.values() if job.state() in (_PENDING, _RUNNING)]
            if not busy:
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.01)


_jobs = _Registry()
# (the registry of the moment: a forked child's exit must not kill its parent's compiles)
atexit.register(lambda: _jobs.shutdown())
if hasattr(os, "register_at_fork"):
    # A forked child does not own its parent's compiles: it forgets them (without killing).
    os.register_at_fork(after_in_child=lambda: globals().__setitem__("_jobs", _Registry()))


@contextlib.contextmanager
def holding():
    """Within the block, background compiles that fits and sweeps ask for are queued, not
    started (their fits and sweeps train on the kernels already compiled meanwhile, with
    the same numbers); they start when the last open block closes, as slots allow. For
    work that ends before a compile could (``fastnn.sweep``'s short sweeps): started at
    once, a compile would take one of its cores and end after it anyway. A compile
    started with nothing to run meanwhile (the first fit on a machine) is not held."""
    registry = _jobs  # (the one of the moment: tests replace it)
    registry.hold()
    try:
        yield
    finally:
        registry.release()


def wait(timeout=None):
    """Block until every background compile this process started has ended (True), or
    ``timeout`` seconds passed (False): afterwards the next ``fit`` of those shapes runs
    on the generated kernel from its first epoch (benchmarks call this after a warm-up)."""
    return _jobs.wait(timeout)


def shutdown():
    """Kill this process's background compiles (what happens at exit)."""
    _jobs.shutdown()


def jobs():
    """{(source hash, function name): state} of this process's background compiles:
    ``pending``, ``running``, ``done`` or ``failed``."""
    with _jobs.lock:
        return {key: job.state() for key, job in _jobs.jobs.items()}


# ------------------------------------------------------------------ the tiered run

_last = threading.local()


def last_fit():
    """How this thread's last tiered ``fit`` ran: dict with ``epochs``,
    ``reference_epochs`` and ``generic_epochs`` (epochs trained by the reference, while
    no kernel was compiled yet, and by the generic kernel), ``switched_at`` (the epoch the
    generated kernel took over, None if it did not), ``slices`` (reference and generic
    calls), ``reference_s``, ``generic_s`` and ``generated_s`` (seconds in each, the
    switch's loading in the last); None if no fit tiered yet."""
    return getattr(_last, "value", None)


class Tiered:
    """``train(params, X, Y, lr, epochs, batch_size, shuffle, history, run)`` (the
    contract of ``specialized.fit_trainer``'s trainers) on ``generic()``'s trainer (built
    on ``kernels.generic.<generic_name>``) while ``request`` compiles in the background,
    then on ``wrap(kernel)`` once it is compiled and the rest of the run pays for loading
    it.

    When the generic kernel is not in numba's cache either (the first fit on a machine,
    or after fastnn's kernel sources changed), both compile in background processes and
    the fit trains on ``reference`` (``fastnn.reference.train`` behind the same contract:
    the oracle every kernel equals, bit for bit; a 20-epoch fit of a small network on 100
    samples takes it about 0.05 s) until either is ready; if both fail, the generated
    kernel is compiled here, as without tiering."""

    def __init__(self, generic, request, wrap, generic_name, reference):
        self.generic, self.request, self.wrap, self.generic_name = generic, request, wrap, generic_name
        self.reference = reference

    def __call__(self, params, X, Y, lr, epochs, batch_size, shuffle, history, run):
        record = dict(epochs=epochs, reference_epochs=0, generic_epochs=0, switched_at=None, slices=0,
                      reference_s=0.0, generic_s=0.0, generated_s=0.0)
        _last.value = record
        job = _jobs.start(self.request)
        package = None
        if package_cached(self.generic_name):
            kind, trainer = "generic", self.generic()  # loaded from numba's cache while the child starts
        else:
            kind, trainer = "reference", self.reference
            package = _jobs.start(PackageRequest(self.generic_name), now=True)
            if X.shape[0] * self.reference.seconds_per_sample > REFERENCE_EPOCH_SECONDS:
                trainer = None  # an epoch would hold up the switch too long: wait instead
        done, count, per_epoch = 0, 1, None
        while done < epochs:
            state = _jobs.poll(job)
            # the generated kernel once compiled, if the rest pays for loading it (always
            # from the reference, which is far slower than either kernel)
            if state == _DONE and (kind == "reference" or per_epoch is None
                                   or (epochs - done) * per_epoch > LOAD_SECONDS):
                started = time.perf_counter()
                loaded = _load_cached(self.request.dispatcher(), self.request.signature)
                if loaded is not None:
                    return self._finish(record, loaded, done, params, X, Y, lr, epochs, batch_size, shuffle,
                                        history, run, started)
                state = _FAILED  # compiled, but not loadable here: the rest on the generic kernel
            if package is not None and _jobs.poll(package) in (_DONE, _FAILED):
                if package.state() == _DONE and package_cached(self.generic_name):
                    kind, trainer, count, per_epoch = "generic", self.generic(), 1, None
                package = None
            if kind == "reference" and package is None and state == _FAILED:
                # neither compiled: as without tiering (raises what the compile raises)
                return self._finish(record, self.request.compile_now(), done, params, X, Y, lr, epochs, batch_size,
                                    shuffle, history, run, time.perf_counter())
            if trainer is None:
                time.sleep(0.005)
                continue
            if kind == "generic" and state in (_DONE, _FAILED):
                count = epochs - done  # nothing more to wait for
            else:
                count = _slice_epochs(count, per_epoch, epochs - done)
            started = time.perf_counter()
            diverged = trainer(params, X, Y, lr, count, batch_size, shuffle, history[done : done + count], run)
            elapsed = time.perf_counter() - started
            record["slices"] += 1
            record[f"{kind}_s"] += elapsed
            if diverged >= 0:
                record[f"{kind}_epochs"] += diverged
                history[done + count :] = np.nan
                return done + diverged
            done += count
            record[f"{kind}_epochs"] += count
            per_epoch = elapsed / count
        return -1

    def _finish(self, record, kernel_now, done, params, X, Y, lr, epochs, batch_size, shuffle, history, run, started):
        """The epochs from ``done`` on the generated kernel ``kernel_now``."""
        record["switched_at"] = done
        diverged = self.wrap(kernel_now)(params, X, Y, lr, epochs - done, batch_size, shuffle, history[done:], run)
        record["generated_s"] = time.perf_counter() - started
        return diverged if diverged < 0 else done + diverged


# ------------------------------------------------------------------ tiered sweep kernels

def lane_kernel(request, fallback, fallback_signature):
    """The kernel of ``request`` (a generated sweep kernel, or a generated validation
    pass: kernels called once per block of configurations and slice of epochs, each call
    independent of which kernel ran the one before) if this process or the disk cache has
    it; else, tiering on and the shape-generic ``fallback`` (``kernels.sweeplanes.train``,
    ``lane_metrics.evaluate_lanes``: same arguments) compiled or in numba's cache, a
    ``TieredCalls`` that runs ``fallback`` until the background compile finishes; else
    ``request`` compiled now (tiering off, or the first sweep on a machine: the generated
    kernel compiles faster than the shape-generic one)."""
    kernel_now = kernel(request)
    if kernel_now is not None:
        return kernel_now
    generic = package_kernel(fallback, fallback_signature)
    if generic is None:
        return request.compile_now()
    return TieredCalls(request, generic)


_calls = {"fallback": 0, "generated": 0}
_calls_lock = threading.Lock()


def tiered_calls():
    """{"fallback": n, "generated": n}: the calls ``TieredCalls`` kernels of this process
    made on each kind of kernel (for benchmarks and tests)."""
    with _calls_lock:
        return dict(_calls)


class TieredCalls:
    """A kernel made of independent calls (a sweep kernel: one block's slice of epochs,
    parameters and shuffling states carried in its arrays) that runs the shape-generic
    ``fallback`` while ``request`` compiles in the background, and the generated kernel
    from the first call after the compile finished. Both give the same numbers bit for
    bit, so where the switch falls changes nothing. Safe to call from several threads."""

    def __init__(self, request, fallback):
        self.request, self.fallback = request, fallback
        self.job = _jobs.start(request)
        self.generated = None
        self._lock = threading.Lock()

    def current(self):
        """The kernel the next call runs."""
        if self.generated is None and self.job is not None and _jobs.poll(self.job) in (_DONE, _FAILED):
            with self._lock:
                if self.generated is None and self.job is not None:
                    if self.job.state() == _DONE:
                        self.generated = _load_cached(self.request.dispatcher(), self.request.signature)
                    self.job = None  # failed, or not loadable here: the rest on the fallback
        return self.generated if self.generated is not None else self.fallback

    def __call__(self, *args):
        kernel_now = self.current()
        with _calls_lock:
            _calls["fallback" if kernel_now is self.fallback else "generated"] += 1
        return kernel_now(*args)


def _slice_epochs(previous, per_epoch, left):
    """The next generic slice: about SLICE_SECONDS of epochs (one at first, to measure),
    growing at most 8-fold a slice, never past the run's end."""
    if per_epoch is None:
        return min(1, left)
    target = int(SLICE_SECONDS / per_epoch) if per_epoch > 0 else left
    return max(1, min(target, 8 * previous, left))


# ------------------------------------------------------------------ the child

def _exit_with_parent():
    """Child side: block on the pipe from the parent; when it closes, exit at once."""
    try:
        while os.read(0, 65536):
            pass
    except OSError:  # a broken pipe is a closed one
        pass
    os._exit(3)


def _main():
    """The background process's entry point: ``_child(sys.argv[1:])``, then exit at once
    (``os._exit``: its caches are written; numba's teardown would only cost time)."""
    try:
        code = _child(sys.argv[1:])
    except BaseException:  # noqa: BLE001 - reported on stderr, which the parent keeps
        import traceback

        traceback.print_exc()
        code = 1
    sys.stderr.flush()
    os._exit(code)


def _child(argv):
    """The background process: compile function ``name`` of the generated module at
    ``path`` for ``signature`` into the disk caches (kernels.cache.load), holding the
    kernel's lock file; or (``--package name``) ``kernels.generic_kernel(name)``. Exit
    status 0 when its machine code is in numba's cache."""
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    if _cores() < 2:
        try:
            os.nice(NICE)
        except (AttributeError, OSError):
            pass
    if argv[0] == "--package":  # one of fastnn's generic kernels, into numba's cache
        from . import generic_kernel

        generic_kernel(argv[1])
        return 0
    path, name, signature, slp = argv
    with open(path) as handle:
        text = handle.read()
    if not text.startswith(_HEADER):
        print(f"fastnn tiering: {path} is not a generated kernel module", file=sys.stderr)
        return 2
    source = text[len(_HEADER):]
    if os.path.basename(path) != f"k_{cache._digest(source)}.py":
        print(f"fastnn tiering: {path} does not match its hash", file=sys.stderr)
        return 2
    with _file_lock(f"{path[:-3]}.{name}.lock"):
        cache.load(source, name, signature, slp == "1")
    return 0


class _file_lock:
    """An exclusive flock on ``path`` (created if need be) for the with-block; released by
    the OS if the process dies. No-op where fcntl is missing (Windows)."""

    def __init__(self, path):
        self.path, self.fd = path, None

    def __enter__(self):
        try:
            import fcntl
        except ImportError:
            return self
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        if self.fd is not None:
            os.close(self.fd)
        return False
