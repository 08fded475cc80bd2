"""Tiered compilation (fastnn.kernels.tiering): a fit of a shape whose generated kernel is
not compiled yet starts on the generic kernel and switches at an epoch boundary.

Which kernel ran which epochs never changes a number: runs that switch at every epoch
(a fake "compiled later" condition: the registry of background compiles is replaced, the
generated kernel compiled or loaded in this process) equal, bit for bit, a run on the
generic kernel alone and a run on the generated kernel alone: history, parameters, the
state a warm start continues, divergence. Then the scheduling (slices, when a switch
pays, one job per kernel, at most MAX_JOBS at a time), and one real background compile
of a tiny kernel in a temporary cache: it happens, is used, and dies with its parent.
"""
import importlib
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import fastnn
from fastnn.kernels import cache, evalgen, specialized, sweepgen, sweeplanes, tiering
from fastnn.kernels.compiler import compiled

ROOT = Path(__file__).resolve().parent.parent


def assert_bits_equal(actual, desired, what):
    actual, desired = np.asarray(actual, dtype=np.float64), np.asarray(desired, dtype=np.float64)
    assert actual.shape == desired.shape, (what, actual.shape, desired.shape)
    assert actual.tobytes() == desired.tobytes(), f"{what}: {actual} != {desired}"


def small_net(seed=3):
    """tests/test_optimizers.py's 2-4-3-1 network on 7 samples (batches of 3 leave a last
    batch of 1): the generated kernels are the ones that file compiles."""
    net = fastnn.Network([2, 4, 3, 1], ["tanh", "sigmoid", "linear"], "mse", init="xavier", seed=seed)
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((7, 2)), 0.5 * rng.standard_normal((7, 1))
    return net, X, y


# ------------------------------------------------------------------ a fake compile

class FakeJob:
    """A background compile that "finishes" (or fails) at its poll number ``ready_at`` + 1."""

    def __init__(self, request, ready_at, fails=False):
        self.request, self.ready_at, self.fails, self.polls = request, ready_at, fails, 0

    def state(self):
        if self.polls <= self.ready_at:
            return tiering._RUNNING
        return tiering._FAILED if self.fails else tiering._DONE


class FakeRegistry:
    """Stands in for tiering's registry of background compiles: the generated kernel's
    compile "finishes" before the generic slice number ``ready_at`` (0: before any), the
    generic kernel's (a PackageRequest) at ``package_at``; nothing is started."""

    def __init__(self, ready_at, package_at=0, fails=()):
        self.ready_at, self.package_at, self.fails, self.started = ready_at, package_at, fails, []
        self.polls = 0
        self.holds = 0  # open tiering.holding blocks (the real registry starts nothing while any is)
        self.held = []  # per start: whether a hold was open

    def hold(self):
        self.holds += 1

    def release(self):
        self.holds -= 1

    def start(self, request, now=False):
        package = isinstance(request, tiering.PackageRequest)
        self.started.append(request)
        self.held.append(self.holds > 0)
        return FakeJob(request, self.package_at if package else self.ready_at, ("package" if package else "generated")
                       in self.fails)

    def poll(self, job):
        self.polls += 1
        job.polls += 1
        return job.state()

    def get(self, key):
        return None


@pytest.fixture
def switch_at(monkeypatch):
    """``switch_at(k)``: the next fits of backend "numba" tier, run their generic slices
    one epoch each, and switch to the generated kernel (compiled here, or loaded) at
    epoch k; returns the fake registry."""

    def arrange(k, reference_until=None):
        registry = FakeRegistry(k, package_at=0 if reference_until is None else reference_until)
        monkeypatch.setattr(tiering, "_jobs", registry)
        monkeypatch.setattr(tiering, "kernel", lambda request: None)
        monkeypatch.setattr(tiering, "_slice_epochs", lambda previous, per_epoch, left: 1)
        monkeypatch.setattr(tiering, "LOAD_SECONDS", 0.0)
        monkeypatch.setattr(tiering, "_load_cached", lambda dispatcher, signature: registry.started[0].compile_now())
        # reference_until=j: the generic kernel is not in numba's cache either; the fit
        # starts on the reference and its background compile "finishes" at poll j + 1
        package = {"ready": reference_until is None}
        monkeypatch.setattr(tiering, "package_cached", lambda name: package["ready"])
        poll = registry.poll

        def package_poll(job):
            state = poll(job)
            if isinstance(job.request, tiering.PackageRequest) and state == tiering._DONE:
                package["ready"] = True
            return state

        registry.poll = package_poll
        return registry

    return arrange


def one_kernel(monkeypatch, backend):
    """The next fits run on one kernel: "generated" (compiled first, no tiering) or "generic"."""
    if backend == "generated":
        monkeypatch.setattr(tiering, "kernel", lambda request: request.compile_now())
        return "numba"
    return "generic"


# Settings that exercise everything a switch must carry: the shuffling stream, the step
# counter (decay), per-parameter moments, dropout's stream (numbered by samples seen).
RUNS = {
    "per-sample sgd, shuffled": dict(batch_size=1, shuffle=True),
    "mini-batch sgd, shuffled": dict(batch_size=3, shuffle=True),
    "adam, mini-batches, l2": dict(batch_size=3, shuffle=True, optimizer="adam", l2=1e-3),
    "momentum, decay, dropout, per sample": dict(batch_size=1, shuffle=True, optimizer=fastnn.SGD(momentum=0.9, decay=0.01),
                                                 dropout=[0.3, 0.2]),
}
EPOCHS = 6


def _train(net, X, y, backend, kwargs, epochs=EPOCHS):
    """Two fits (the second a warm start): histories and params after each."""
    first = net.fit(X, y, lr=0.05, epochs=epochs, seed=11, backend=backend, **kwargs)
    after_first = net.params.copy()
    second = net.fit(X, y, lr=0.05, epochs=3, warm_start=True, backend=backend, **kwargs)
    return first, after_first, second, net.params.copy()


@pytest.mark.parametrize("name", list(RUNS))
def test_switching_at_any_epoch_changes_no_number(name, switch_at, monkeypatch):
    """A fit that switches from the generic to the generated kernel at epoch k (k = 0 ..
    EPOCHS, EPOCHS meaning never), then a warm-started fit on the generated kernel alone,
    equal both single-kernel runs and the reference, bit for bit."""
    kwargs = RUNS[name]
    net, X, y = small_net()
    with monkeypatch.context() as patch:
        generic = _train(net.copy(), X, y, one_kernel(patch, "generic"), kwargs)
    with monkeypatch.context() as patch:
        generated = _train(net.copy(), X, y, one_kernel(patch, "generated"), kwargs)
    reference = _train(net.copy(), X, y, "reference", kwargs)
    for k in range(EPOCHS + 1):
        with monkeypatch.context() as patch:
            registry = switch_at(k)
            tiered = net.copy()
            first = tiered.fit(X, y, lr=0.05, epochs=EPOCHS, seed=11, **kwargs)
            info = tiering.last_fit()
            assert info["switched_at"] == (k if k < EPOCHS else None), info
            assert info["generic_epochs"] == min(k, EPOCHS) and info["slices"] == min(k, EPOCHS)
            assert len(registry.started) == 1
            after_first = tiered.params.copy()
            # the warm start continues on the generated kernel
            patch.setattr(tiering, "kernel", lambda request: request.compile_now())
            second = tiered.fit(X, y, lr=0.05, epochs=3, warm_start=True, **kwargs)
        for other, label in ((generic, "generic"), (generated, "generated"), (reference, "reference")):
            what = f"switch at {k} vs {label}"
            assert_bits_equal(first, other[0], f"{what}: history")
            assert_bits_equal(after_first, other[1], f"{what}: params")
            assert_bits_equal(second, other[2], f"{what}: warm-start history")
            assert_bits_equal(tiered.params, other[3], f"{what}: warm-start params")
    # Nothing compiled yet (the first fit on a machine): the reference trains until the
    # generic kernel is ready (epoch j), then the generic kernel until the generated one is
    # (epoch k); or the reference straight to the generated kernel (k <= j).
    for j, k in ((2, 4), (4, 2), (1, EPOCHS), (EPOCHS, EPOCHS)):
        with monkeypatch.context() as patch:
            switch_at(k, reference_until=j)
            tiered = net.copy()
            first = tiered.fit(X, y, lr=0.05, epochs=EPOCHS, seed=11, **kwargs)
            info = tiering.last_fit()
            assert info["reference_epochs"] == min(j, k) and info["generic_epochs"] == max(0, min(k, EPOCHS) - j)
            assert info["switched_at"] == (k if k < EPOCHS else None), info
            after_first = tiered.params.copy()
            second = tiered.fit(X, y, lr=0.05, epochs=3, warm_start=True, **kwargs)
        what = f"reference until {j}, generated from {k}"
        assert_bits_equal(first, reference[0], f"{what}: history")
        assert_bits_equal(after_first, reference[1], f"{what}: params")
        assert_bits_equal(second, reference[2], f"{what}: warm-start history")
        assert_bits_equal(tiered.params, reference[3], f"{what}: warm-start params")


# tests/test_reliability.py's diverging 1-1 network: lr 1e3 makes the loss overflow in
# epoch 15 with shuffled batches of 3 (later or earlier per sample).
DIVERGING = dict(sizes=[1, 1], activation="linear", loss="mse", init=np.array([0.3, -0.2]), seed=5)


@pytest.mark.parametrize("k", [0, 5, 15, 16])
@pytest.mark.parametrize("batch_size", [1, 3])
def test_divergence_is_the_same_wherever_the_switch_falls(k, batch_size, switch_at, monkeypatch):
    """A run that diverges raises the same DivergenceError (epoch, history) and leaves the
    same parameters and warm-start state, and on_divergence="stop" returns the same
    history, whether the switch came before, at or after the epoch it diverges in."""
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((7, 1)), rng.standard_normal((7, 1))
    kwargs = dict(lr=1e3, epochs=60, batch_size=batch_size, shuffle=True)

    def run(how):
        nets = [fastnn.Network(**DIVERGING), fastnn.Network(**DIVERGING)]
        with monkeypatch.context() as patch:
            if how == "tiered":
                switch_at(k)
                backend = "numba"
            else:
                backend = one_kernel(patch, how)
            with pytest.raises(fastnn.DivergenceError) as caught:
                nets[0].fit(X, y, backend=backend, **kwargs)
            if how == "tiered":
                switch_at(k)
            stopped = nets[1].fit(X, y, backend=backend, on_divergence="stop", **kwargs)
        return caught.value, nets[0], stopped, nets[1]

    expected = run("generated")
    if batch_size == 3:
        assert expected[0].epoch == 15
    assert 0 < expected[0].epoch < 60
    for how in ("generic", "tiered"):
        error, net, stopped, stopped_net = run(how)
        assert error.epoch == expected[0].epoch, how
        assert_bits_equal(error.history, expected[0].history, f"{how}: history")
        assert_bits_equal(net.params, expected[1].params, f"{how}: params")
        assert_bits_equal(stopped, expected[2], f"{how}: stopped history")
        assert_bits_equal(stopped_net.params, expected[3].params, f"{how}: stopped params")
        for a, b in ((net, expected[1]), (stopped_net, expected[3])):
            assert (a._run.t, a._run.samples, a._run.shuffle_state) == (b._run.t, b._run.samples, b._run.shuffle_state)


@pytest.mark.parametrize("first, fails", [("generated", ()), ("generic", ()), ("generic", ("generated",)),
                                          ("generated", ("package",)), ("neither", ("generated", "package"))])
def test_without_a_cached_generic_kernel_the_reference_trains_first(first, fails, switch_at, monkeypatch):
    """The generic kernel not in numba's cache either (the first fit on a machine): both
    compile in the background while the reference trains; the fit goes on with the first
    one ready (the generic one: tiered as usual, the generated one when it is ready);
    a failed compile is skipped; when both fail, the generated kernel is compiled in the
    foreground. The numbers never change."""
    net, X, y = small_net()
    kwargs = RUNS["adam, mini-batches, l2"]
    expected = net.copy().fit(X, y, lr=0.05, epochs=EPOCHS, seed=11, backend="generic", **kwargs)
    registry = switch_at(3 if first != "generated" else 1, reference_until=1 if first == "generic" else 3)
    registry.fails = fails
    compiled_here = []
    original = tiering.Request.compile_now

    def compile_now(self):
        compiled_here.append(self.name)
        return original(self)

    monkeypatch.setattr(tiering.Request, "compile_now", compile_now)
    history = net.fit(X, y, lr=0.05, epochs=EPOCHS, seed=11, **kwargs)
    assert_bits_equal(history, expected, f"{first} first, {fails} failed")
    info = tiering.last_fit()
    assert isinstance(registry.started[1], tiering.PackageRequest)
    assert registry.started[1].name == "train_general"
    if first == "generic":  # reference for 1 epoch, the generic kernel until the generated one at 3
        assert (info["reference_epochs"], info["generic_epochs"]) == (1, 2 if "generated" not in fails else EPOCHS - 1)
        assert info["switched_at"] == (None if "generated" in fails else 3)
    elif first == "generated":  # reference for 1 epoch, then the generated kernel
        assert (info["reference_epochs"], info["generic_epochs"], info["switched_at"]) == (1, 0, 1)
    else:  # both failed at poll 4: the reference trained 3 epochs, the generated kernel compiled here the rest
        assert (info["reference_epochs"], info["generic_epochs"], info["switched_at"]) == (3, 0, 3)
    # the generated kernel is loaded through _load_cached (patched: compile_now) or, when
    # both compiles failed, compiled here
    assert compiled_here.count("train_optim_adam") == (0 if first == "generic" and "generated" in fails else 1)


def test_the_reference_does_not_train_when_its_epochs_would_hold_up_the_switch(switch_at, monkeypatch):
    """Nothing compiled, but one reference epoch of this data would take longer than
    REFERENCE_EPOCH_SECONDS: the fit waits for the first kernel instead."""
    net, X, y = small_net()
    expected = net.copy().fit(X, y, lr=0.05, epochs=EPOCHS, seed=11, backend="reference")
    switch_at(4, reference_until=2)
    monkeypatch.setattr(tiering, "REFERENCE_EPOCH_SECONDS", 7 * 1e-6 * net.spec.n_params * 0.99)
    history = net.fit(X, y, lr=0.05, epochs=EPOCHS, seed=11)
    info = tiering.last_fit()
    assert info["reference_epochs"] == 0 and info["generic_epochs"] > 0 and info["switched_at"] is not None, info
    assert_bits_equal(history, expected, "waited, then generic and generated")


# ------------------------------------------------------------------ scheduling

def test_slices_start_at_one_epoch_and_grow_to_slice_seconds():
    slice_epochs = tiering._slice_epochs
    assert slice_epochs(1, None, 100) == 1
    assert slice_epochs(1, 1e-6, 10**9) == 8  # at most 8-fold a slice
    assert slice_epochs(4096, 1e-6, 10**9) == int(tiering.SLICE_SECONDS / 1e-6)
    assert slice_epochs(8, 1.0, 100) == 1  # slow epochs: one at a time
    assert slice_epochs(8, 1e-6, 5) == 5  # never past the end
    assert slice_epochs(8, 0.0, 5) == 5


@pytest.mark.parametrize("load_seconds, switches", [(0.0, True), (1e9, False)])
def test_a_finished_compile_is_used_only_when_the_rest_pays(load_seconds, switches, switch_at, monkeypatch):
    """After the first generic slice has timed an epoch, a compile that finished is loaded
    only if the epochs left would take the generic kernel longer than LOAD_SECONDS;
    otherwise the rest of the fit runs on the generic kernel in one call."""
    net, X, y = small_net()
    registry = switch_at(1)
    monkeypatch.setattr(tiering, "LOAD_SECONDS", load_seconds)
    monkeypatch.setattr(tiering, "_slice_epochs", lambda previous, per_epoch, left: 1)
    net.fit(X, y, lr=0.05, epochs=EPOCHS)
    info = tiering.last_fit()
    assert registry.polls == 2
    if switches:
        assert info["switched_at"] == 1 and info["slices"] == 1
    else:
        assert info["switched_at"] is None and info["slices"] == 2 and info["generic_epochs"] == EPOCHS


def test_fit_uses_a_kernel_that_is_already_there_without_tiering(monkeypatch):
    """A generated kernel this process has (or the disk cache holds) trains the whole fit
    in one call; nothing is started in the background."""
    net, X, y = small_net()
    request = specialized.train_request(net.spec, False)
    request.compile_now()
    registry = FakeRegistry(0)
    monkeypatch.setattr(tiering, "_jobs", registry)
    monkeypatch.setattr(tiering, "_last", type(tiering._last)())
    net.fit(X, y, lr=0.05, epochs=3)
    assert registry.started == [] and tiering.last_fit() is None
    assert tiering.kernel(request) is request.dispatcher()


def test_tiering_off_compiles_first(monkeypatch):
    """FASTNN_TIERING=0 (and FASTNN_NO_CACHE=1) turn tiering off: kernel() compiles."""
    net, _, _ = small_net()
    request = specialized.train_request(net.spec, True)
    for name, value in (("FASTNN_TIERING", "0"), ("FASTNN_TIERING", "off"), ("FASTNN_NO_CACHE", "1")):
        with monkeypatch.context() as patch:
            patch.setenv(name, value)
            assert not tiering.enabled()
            patch.setattr(tiering.Request, "compile_now", lambda self: "compiled now")
            assert tiering.kernel(request) == "compiled now"
    monkeypatch.delenv("FASTNN_NO_CACHE", raising=False)
    monkeypatch.setenv("FASTNN_TIERING", "1")
    assert tiering.enabled()
    with tiering.compiled_first():  # (fastnn demo's steady-state timing)
        with tiering.compiled_first():
            assert not tiering.enabled()
        assert not tiering.enabled()
    assert tiering.enabled()


class FakeProcess:
    """A Popen stand-in that runs until ``finish``."""

    def __init__(self):
        self.code, self.stdin, self.pid = None, None, 0

    def poll(self):
        return self.code

    def kill(self):
        self.code = -9

    def wait(self, timeout=None):
        return self.code


def test_one_job_per_kernel_and_at_most_max_jobs_at_once(monkeypatch):
    """The registry starts one job per kernel however often it is asked, runs at most
    MAX_JOBS at a time, and starts a queued job (the most recently needed first) when a
    slot frees; a failed job makes kernel() compile in the foreground."""
    started = []

    def start(job):
        job.process = FakeProcess()
        started.append(job.request.name)

    monkeypatch.setattr(tiering._Job, "start", start)
    monkeypatch.setattr(tiering, "MAX_JOBS", 1)
    registry = tiering._Registry()
    monkeypatch.setattr(tiering, "_jobs", registry)
    requests = [tiering.Request("source", name, "sig") for name in ("a", "b", "c")]
    jobs = [registry.start(r) for r in requests]
    assert registry.start(requests[0]) is jobs[0]
    assert started == ["a"]
    assert [j.state() for j in jobs] == ["running", "pending", "pending"]
    registry.start(requests[1])  # needed again: first in line
    jobs[0].process.code = 0
    assert registry.poll(jobs[0]) == "done"
    assert started == ["a", "b"]
    jobs[1].process.code = 1
    assert registry.poll(jobs[2]) == "running" and started == ["a", "b", "c"]
    assert tiering.jobs() == {r.key: s for r, s in zip(requests, ("done", "failed", "running"))}
    monkeypatch.setattr(tiering, "_module", lambda source, key: type("M", (), {"b": type("D", (), {"signatures": []})()}))
    monkeypatch.setattr(tiering, "enabled", lambda: True)
    monkeypatch.setattr(tiering.Request, "compile_now", lambda self: f"compiled {self.name} now")
    assert tiering.kernel(requests[1]) == "compiled b now"
    registry.shutdown()
    assert jobs[2].process.code == -9 and tiering.jobs() == {}


# ------------------------------------------------------------------ a real background compile

# A shape no other test uses (its generated module lives only in this test's cache), whose
# per-sample kernel compiles in a fraction of a second.
TINY = dict(sizes=[1, 1], activation="gaussian", loss="mean_absolute_error")


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FASTNN_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("FASTNN_NO_CACHE", raising=False)
    monkeypatch.delenv("FASTNN_TIERING", raising=False)
    monkeypatch.setattr(tiering, "_jobs", tiering._Registry())
    request = specialized.train_request(fastnn.Network(**TINY).spec, False)
    yield tmp_path, request
    tiering.shutdown()
    cache._memory.pop(request.key[0], None)


def _numba_index(folder, request):
    """numba's cache index files of the request's kernel: beside its module (numba's
    default, what CI has), or under NUMBA_CACHE_DIR when that is set."""
    pattern = f"k_{request.key[0]}.{request.name}-*.nbi"
    custom = os.environ.get("NUMBA_CACHE_DIR")
    return list(Path(custom).rglob(pattern)) if custom else list((folder / "__pycache__").glob(pattern))


def test_a_background_compile_happens_and_is_used(private_cache):
    """The first fit of an uncompiled shape trains on the generic kernel while a
    background process compiles the generated one into the cache (source file, numba's
    machine code, the lock file); a later fit loads it and trains on it alone; the
    numbers are those of the generic kernel, bit for bit."""
    folder, request = private_cache
    X, y = np.linspace(-1.0, 1.0, 9).reshape(-1, 1), np.linspace(0.0, 0.5, 9)
    net = fastnn.Network(**TINY, seed=0)
    plain = net.copy()
    first = net.fit(X, y, lr=0.1, epochs=4, shuffle=True)
    assert tiering.last_fit()["generic_epochs"] == 4
    assert tiering.jobs()[request.key] in ("running", "done")
    assert tiering.wait(timeout=120), "the background compile did not finish"
    assert tiering.jobs()[request.key] == "done"
    assert (folder / f"k_{request.key[0]}.py").exists()
    assert (folder / f"k_{request.key[0]}.{request.name}.lock").exists()
    assert _numba_index(folder, request)
    assert tiering.kernel(request) is not None
    tiered_before = tiering.last_fit()
    second = net.fit(X, y, lr=0.1, epochs=4, shuffle=True, warm_start=True)
    assert tiering.last_fit() is tiered_before  # the second fit did not tier
    expected = [plain.fit(X, y, lr=0.1, epochs=4, shuffle=True, backend="generic")]
    expected.append(plain.fit(X, y, lr=0.1, epochs=4, shuffle=True, warm_start=True, backend="generic"))
    assert_bits_equal(first, expected[0], "first fit")
    assert_bits_equal(second, expected[1], "second fit")
    assert_bits_equal(net.params, plain.params, "params")


def test_an_uncompiled_kernel_tiers_without_importing_its_module(private_cache):
    """Whether a kernel was compiled on this machine is read from its marker file, not by
    importing its generated module (tens to hundreds of milliseconds for a long one):
    before the compile, kernel() says "tier" and imports nothing; after it, the marker is
    there and a process that has not imported the module loads the kernel."""
    folder, request = private_cache
    assert tiering.kernel(request) is None
    assert request.digest not in cache._memory and not (folder / f"k_{request.digest}.py").exists()
    request.compile_now()
    assert (folder / f"k_{request.digest}.{request.name}.compiled").exists()
    cache._memory.pop(request.digest)  # as in a new process
    sys.modules.pop(f"fastnn_generated_{request.digest}", None)
    assert tiering.kernel(request) is not None


def test_a_background_sweep_compile_happens_and_is_used(private_cache):
    """The first sweep of an uncompiled shape trains on the lane kernel while a background
    process compiles the generated sweep kernel; once it is done, the next sweep runs on
    it alone, with the same numbers bit for bit."""
    folder, _ = private_cache
    sweep_module = importlib.import_module("fastnn.sweep")
    compiled(sweeplanes.train, sweep_module._SIGNATURE)  # in numba's cache, as after any sweep past 64 parameters
    X, y = np.linspace(-1.0, 1.0, 9).reshape(-1, 1), np.linspace(0.0, 0.5, 9)
    kwargs = dict(lr=[0.01, 0.1], seeds=range(3), epochs=4, shuffle=True, progress=False, **{
        key: value for key, value in TINY.items() if key != "sizes"})
    before = tiering.tiered_calls()
    first = fastnn.sweep(TINY["sizes"], X, y, **kwargs)
    during = tiering.tiered_calls()
    assert during["fallback"] > before["fallback"] and during["generated"] == before["generated"]
    request = tiering.Request(sweepgen.cached_source(first.groups[0].spec), sweepgen.kernel_name(1, True),
                              sweep_module._SIGNATURE, slp=True)
    assert tiering.jobs()[request.key] in ("pending", "running", "done")
    assert tiering.wait(timeout=120), "the background compile did not finish"
    assert tiering.jobs()[request.key] == "done"
    assert _numba_index(folder, request)
    second = fastnn.sweep(TINY["sizes"], X, y, **kwargs)
    assert tiering.tiered_calls() == during  # no tiered kernel: the generated one ran directly
    assert_bits_equal(second.losses, first.losses, "losses")
    assert_bits_equal(second.groups[0].params, first.groups[0].params, "params")
    cache._memory.pop(request.key[0], None)


# A fit whose generated kernel (Adam on 3-18-2) takes a minute to compile: the compile
# is surely running when its parent ends, a second after starting it.
ORPHAN = '''
import os, signal, sys, time
import numpy as np
import fastnn
from fastnn.kernels import tiering
net = fastnn.Network([3, 18, 2], "relu", "mse", seed=0)
net.fit(np.ones((3, 3)), np.ones((3, 2)), lr=0.1, epochs=2, optimizer="adam")
# (two jobs when the generic kernel is not in numba's cache either: the one running)
job = next(job for job in tiering._jobs.jobs.values() if job.process is not None)
time.sleep(1.0)
print(job.process.pid, job.state(), flush=True)
if sys.argv[1] == "kill":
    os.kill(os.getpid(), signal.SIGKILL)
'''


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by init) counts as gone
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("how", ["exit", "kill"])
def test_the_background_compile_dies_with_its_parent(how, tmp_path):
    """A process that exits (atexit) or is SIGKILLed (the pipe closes) while its
    background compile runs takes the compile with it, within seconds, leaving no partial
    file in the cache (numba writes its entries at the end, each renamed into place)."""
    env = dict(os.environ, FASTNN_CACHE_DIR=str(tmp_path), PYTHONPATH=str(ROOT))
    for name in ("FASTNN_NO_CACHE", "FASTNN_TIERING"):
        env.pop(name, None)
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(ORPHAN), how], capture_output=True, text=True,
                          env=env, cwd=str(ROOT), timeout=120)
    pid, state = done.stdout.split()
    assert state == "running", (done.stdout, done.stderr)
    pid = int(pid)
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid), f"background compile {pid} outlived its parent ({how})"
    assert not [p for p in tmp_path.rglob("*") if ".tmp" in p.name], "a partial file was left behind"


# ------------------------------------------------------------------ sweeps

@pytest.mark.parametrize("grid", ["plain", "watched"])
@pytest.mark.parametrize("ready_at", [1, 3, 10**9])
def test_a_sweep_switching_kernels_between_calls_changes_no_number(grid, ready_at, monkeypatch):
    """A sweep of a shape whose generated kernels are still compiling runs its blocks (and
    the validation passes of a watched sweep) on the shape-generic lane kernels, and the
    generated ones from the call after the compile "finished" (at the registry's poll
    ready_at + 1; 10**9: never): the same numbers, bit for bit, as a sweep on the
    generated kernels alone (tiering off, as conftest sets it)."""
    import sweep_checks

    spec = sweep_checks.PLAIN if grid == "plain" else sweep_checks.WATCHED
    compare = sweep_checks.assert_same_sweep if grid == "plain" else sweep_checks.assert_same_watch
    desired = sweep_checks.run(spec, threads=1)
    registry = FakeRegistry(ready_at)  # (each TieredCalls polls its own job: one poll a call)
    monkeypatch.setenv("FASTNN_TIERING", "1")
    monkeypatch.setattr(tiering, "_jobs", registry)
    monkeypatch.setattr(tiering, "kernel", lambda request: None)
    monkeypatch.setattr(tiering, "_load_cached", lambda dispatcher, signature: compiled(dispatcher, signature))
    before = tiering.tiered_calls()
    actual = sweep_checks.run(spec, threads=1, chunk=4)  # 9 blocks a group: switches between blocks
    compare(actual, desired, f"{grid}, generated kernels from poll {ready_at}")
    after = tiering.tiered_calls()
    ran = {kind: after[kind] - before[kind] for kind in after}
    assert ran["fallback"] > 0 and (ran["generated"] > 0) == (ready_at < 10**9), ran
    # jobs for the 2-2-1 groups' generated kernels only (2-40-1 has none: sweeplanes is its kernel)
    small = fastnn.spec.Spec.build([2, 2, 1], ["tanh", "linear"], "half_squared_error")
    assert {request.source for request in registry.started} <= {sweepgen.cached_source(small), evalgen.source(small)}
    names = {request.name for request in registry.started}
    kernels = {sweepgen.kernel_name(1, True), sweepgen.kernel_name(5, True)}
    assert names == (kernels if grid == "plain" else kernels | {evalgen.NAME}), names


@pytest.mark.parametrize("ready_at", [2, 10**9])
def test_an_optimizer_sweep_switching_kernels_changes_no_number(ready_at, monkeypatch):
    """Optimizer sweeps of a small shape whose generated optimizer kernels are still
    compiling train on the lane kernel's optimizer mode until the compile "finished" (at
    the job's poll ready_at + 1; 10**9: never), with the numbers of the sweep on the
    generated kernels alone, bit for bit (the dropout groups train on the lane kernel's
    dropout mode either way)."""
    import sweep_checks

    desired = sweep_checks.run(sweep_checks.OPTIONS, threads=1)
    registry = FakeRegistry(ready_at)
    monkeypatch.setenv("FASTNN_TIERING", "1")
    monkeypatch.setattr(tiering, "_jobs", registry)
    monkeypatch.setattr(tiering, "kernel", lambda request: None)
    monkeypatch.setattr(tiering, "_load_cached", lambda dispatcher, signature: compiled(dispatcher, signature))
    before = tiering.tiered_calls()
    actual = sweep_checks.run(sweep_checks.OPTIONS, threads=1, chunk=1)
    sweep_checks.assert_same_sweep(actual, desired, f"options grid, generated kernels from poll {ready_at}")
    after = tiering.tiered_calls()
    assert after["fallback"] > before["fallback"] and (after["generated"] > before["generated"]) == (ready_at < 10**9)
    # (the plain-SGD groups' kernels tier too)
    assert {request.name for request in registry.started} == {
        sweepgen.optim_name(variant, per_sample=per_sample) for variant in ("sgd", "adam", "nesterov")
        for per_sample in (False, True)} | {
        sweepgen.kernel_name(batch_size, True) for batch_size in (1, 6)}


@pytest.mark.parametrize("short", [True, False])
def test_a_short_sweep_holds_its_compiles_until_it_returns(short, monkeypatch):
    """A sweep whose small-shape groups would end on the lane kernel before a compile
    could (sweep.HOLD_COMPILES_BELOW_S, estimated) asks for their compiles inside
    ``tiering.holding``, and closes it when it returns; a longer one (the threshold set to
    0 here) asks outside it. The numbers are the same either way (the switching tests)."""
    import sweep_checks

    sweep_module = importlib.import_module("fastnn.sweep")
    if not short:
        monkeypatch.setattr(sweep_module, "HOLD_COMPILES_BELOW_S", 0.0)
    registry = FakeRegistry(10**9)
    monkeypatch.setenv("FASTNN_TIERING", "1")
    monkeypatch.setattr(tiering, "_jobs", registry)
    monkeypatch.setattr(tiering, "kernel", lambda request: None)
    sweep_checks.run(sweep_checks.PLAIN, threads=1)
    assert registry.started and registry.held == [short] * len(registry.started), registry.held
    assert registry.holds == 0


def test_the_registry_starts_nothing_while_held(monkeypatch):
    """tiering's registry queues the jobs asked for inside ``holding`` (their state
    "pending"; a job asked ``now``, with nothing to run meanwhile, starts anyway) and
    starts them, as slots allow, when the last open block closes."""
    started = []

    class Running:
        stdin = None

        def poll(self):
            return None

    def start(job):
        started.append(job.request.key)
        job.process = Running()

    monkeypatch.setattr(tiering._Job, "start", start)
    monkeypatch.setattr(tiering, "MAX_JOBS", 2)
    registry = tiering._Registry()
    monkeypatch.setattr(tiering, "_jobs", registry)
    first, second, urgent = (tiering.PackageRequest(name) for name in ("first", "second", "urgent"))
    with tiering.holding():
        with tiering.holding():
            jobs = [registry.start(first), registry.start(second)]
        assert started == [] and [registry.poll(job) for job in jobs] == ["pending", "pending"]
        registry.start(urgent, now=True)
        assert started == [urgent.key]
    assert started == [urgent.key, second.key]  # first in line: the one asked for last
    assert registry.poll(jobs[0]) == "pending"  # no slot free (MAX_JOBS 2, both running)


def test_the_queue_moves_on_when_a_compile_ends(monkeypatch):
    """When a background compile's process ends, the registry starts the next queued job
    by itself (a watcher thread per job), with nobody polling it; shutdown kills what
    runs and starts nothing more."""
    started = []

    def start(job):
        started.append(job.request.key)
        job.process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.3)"], stdin=subprocess.PIPE)

    monkeypatch.setattr(tiering._Job, "start", start)
    monkeypatch.setattr(tiering, "MAX_JOBS", 1)
    registry = tiering._Registry()
    first, second, third = (tiering.PackageRequest(name) for name in ("first", "second", "third"))
    jobs = [registry.start(request) for request in (first, second, third)]
    assert started == [first.key]
    deadline = time.monotonic() + 30
    while len(started) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)  # (no registry call: only the watcher can start the next one)
    assert started == [first.key, third.key]  # the last asked for is first in line
    registry.shutdown()
    time.sleep(0.5)
    assert started == [first.key, third.key] and jobs[0].state() == "done"


def test_a_sweep_uses_generated_kernels_it_has_and_compiles_without_the_lane_kernel(monkeypatch):
    """A generated sweep kernel already there runs directly (nothing started); without the
    shape-generic lane kernel in numba's cache either (the first sweep on a machine) the
    generated one is compiled now, as without tiering."""
    import sweep_checks

    sweep_checks.run(sweep_checks.PLAIN, threads=1)  # compiled or loaded, tiering off
    registry = FakeRegistry(0)
    monkeypatch.setenv("FASTNN_TIERING", "1")
    monkeypatch.setattr(tiering, "_jobs", registry)
    sweep_checks.run(sweep_checks.PLAIN, threads=1)
    assert registry.started == []
    compiled_now = []
    monkeypatch.setattr(tiering, "kernel", lambda request: None)
    monkeypatch.setattr(tiering, "package_kernel", lambda dispatcher, signature: None)
    monkeypatch.setattr(tiering.Request, "compile_now", lambda self: compiled_now.append(self.name) or
                        cache.load(self.source, self.name, self.signature, self.slp))
    sweep_checks.run(sweep_checks.PLAIN, threads=1)
    assert compiled_now and registry.started == []
