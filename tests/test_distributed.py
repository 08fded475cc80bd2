"""Sweeps on a Dask cluster (``fastnn.sweep(..., client=client)``, ``fastnn sweep
--workers N``): bit-identical to the in-process sweep whatever the split into tasks, also
when a worker process dies mid-sweep; workers running other versions are refused; a
store works with a client; each worker process is checked and prepared once per client,
and each data set scattered once; two processes compiling the same new kernel into one
fresh shared cache folder both succeed and agree.

One LocalCluster (2 worker processes, 1 thread each) serves the module. The grids are
tests/sweep_checks.py's (the shapes of tests/test_sweep.py and tests/test_sweep_options.py).
"""
import hashlib
import importlib
import os
import subprocess
import sys
import weakref
from collections import Counter

import pytest

import fastnn
from fastnn import cli

from sweep_checks import GRIDS, PLAIN, QX, QY, WATCHED, assert_same_sweep, assert_same_watch, interrupt_after, run

sweep_module = importlib.import_module("fastnn.sweep")
cluster = importlib.import_module("fastnn.cluster")
TESTS = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        with distributed.Client(cluster) as client:
            yield client


@pytest.fixture(scope="module")
def reference():
    return {name: run(grid) for name, grid in GRIDS.items()}


@pytest.mark.parametrize("name", sorted(GRIDS))
@pytest.mark.parametrize("chunk, blocks_per_task", [(32, None), (3, 2)])
def test_cluster_sweep_equals_the_local_sweep(client, reference, name, chunk, blocks_per_task):
    result = run(GRIDS[name], client=client, chunk=chunk, blocks_per_task=blocks_per_task)
    assert_same_sweep(result, reference[name], f"{name} grid on the cluster, chunk={chunk}")
    assert result.diverged.any() or name == "options"


def test_a_worker_killed_mid_sweep_costs_only_its_tasks(client, reference, tmp_path):
    """A worker plugin ends its worker's process (os._exit) when that worker finishes its
    first sweep task, once for the whole cluster (an O_EXCL marker file): Dask runs the
    lost tasks again on the other worker (and on the restarted one), and the result is
    unchanged."""
    from distributed import WorkerPlugin

    marker = str(tmp_path / "killed")

    class KillOnce(WorkerPlugin):
        def transition(self, key, start, finish, **kwargs):
            if finish != "memory" or not str(key).startswith("fastnn-block-"):
                return
            try:
                os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                return
            os._exit(1)

    client.register_plugin(KillOnce(), name="fastnn-kill-once")
    try:
        result = run(PLAIN, client=client, chunk=2, blocks_per_task=1)
    finally:
        client.unregister_worker_plugin("fastnn-kill-once")
    assert os.path.exists(marker)  # a worker did die mid-sweep
    assert_same_sweep(result, reference["plain"], "with a worker killed mid-sweep")
    client.wait_for_workers(2, timeout=60)


def test_workers_with_other_versions_are_refused(client, monkeypatch):
    def other_numba():  # runs on the workers (pickled by value)
        from fastnn import cluster

        versions = cluster._versions()
        versions["numba"] = "0.0.1"
        return versions

    forget_the_workers(monkeypatch, client)  # checked by earlier tests: asked again only as new processes
    monkeypatch.setattr(sweep_module, "_kernel", lambda *args: pytest.fail("a kernel was loaded"))
    monkeypatch.setattr(cluster, "_worker_versions", other_numba)
    with pytest.raises(ValueError, match=r"client: \d of the cluster's \d workers run other versions than this "
                                         r"process \(fastnn 0\.1\.0 .*numba 0\.0\.1.*Install the same"):
        run(PLAIN, client=client)


def forget_the_workers(monkeypatch, client):
    """Start from an empty memo of what the client's workers were checked for, prepared
    and sent (restored at the test's end)."""
    monkeypatch.setattr(client, "_fastnn_known", cluster._Known(), raising=False)


def record_calls(monkeypatch, client):
    """A Counter of the client's round trips to come: ``run <function>``, ``submit
    <function>``, ``map <function>`` (the function cluster._call calls) and ``scatter``,
    and a list of the ``workers`` each ``run`` asked."""
    calls, asked = Counter(), []
    for method in ("run", "submit", "map", "scatter"):
        def recorded(first, *args, _method=method, _real=getattr(client, method), **kwargs):
            named = args[1][0] if _method == "map" else first
            calls[_method if _method == "scatter" else f"{_method} {named.__name__}"] += 1
            if _method == "run":
                asked.append(kwargs.get("workers"))
            return _real(first, *args, **kwargs)

        monkeypatch.setattr(client, method, recorded)
    return calls, asked


def test_a_second_sweep_asks_the_workers_nothing_again(client, reference, monkeypatch):
    """The version check, the kernel preparation and the data's scatter happen once per
    worker process, plan and data set: a second sweep of the same plans on the same data
    (split otherwise) only submits its tasks, and both equal the local sweep bit for bit."""
    forget_the_workers(monkeypatch, client)
    calls, asked = record_calls(monkeypatch, client)
    first = run(PLAIN, client=client)
    workers = sorted(client.scheduler_info()["workers"])
    assert (calls["run _versions"], calls["submit _prepare"], calls["scatter"]) == (1, len(workers), 1), calls
    assert sorted(asked[0]) == workers
    calls.clear()
    second = run(PLAIN, client=client, chunk=4, blocks_per_task=3)
    assert set(calls) == {"map _task"}, calls
    assert_same_sweep(first, reference["plain"], "first sweep on the client")
    assert_same_sweep(second, reference["plain"], "second sweep on the client")


def test_a_sweep_on_other_data_sends_it(client, reference, monkeypatch):
    """Data is sent per content (bytes, shape, dtype): other data is scattered, the last
    DATA_KEPT data sets are reused and older ones dropped, and data whose futures the
    cluster no longer holds is scattered again."""
    forget_the_workers(monkeypatch, client)
    calls, _ = record_calls(monkeypatch, client)
    X2 = QX.copy()
    X2[0, 0] += 0.5
    scatters = []
    for X in (QX, X2, QX.copy()):  # the copy: the same content, so the first data set's futures
        result = run(PLAIN, X, client=client)
        scatters.append(calls.pop("scatter", 0))
    assert scatters == [1, 1, 0]
    assert_same_sweep(result, reference["plain"], "the first data set again")
    assert_same_sweep(run(PLAIN, X2, client=client, chunk=4), run(PLAIN, X2), "other data on the client")
    data = client._fastnn_known.data
    client.cancel([future for futures in data.values() for future in futures])  # as if lost with the workers
    result = run(PLAIN, client=client)
    assert calls.pop("scatter", 0) == 1
    assert_same_sweep(result, reference["plain"], "after the data's futures were cancelled")
    run(PLAIN, X2[:10], QY[:10], client=client)  # a third data set: X2's, the oldest, is dropped
    run(PLAIN, client=client)
    assert calls.pop("scatter", 0) == 1 and len(data) == cluster.DATA_KEPT
    run(PLAIN, X2, client=client)
    assert calls.pop("scatter", 0) == 1


def test_tasks_cancelled_for_lost_data_run_again_on_data_sent_afresh(client, reference, monkeypatch):
    """Scattered data the cluster loses (the last worker holding it died: Dask's memory
    manager may have kept one copy) cancels the tasks that need it: those run again, once,
    on the data scattered afresh, and the result is unchanged. Here the first data handed
    to the tasks is already cancelled, as if lost after the check; a task's own error is
    raised, not retried."""
    forget_the_workers(monkeypatch, client)
    real, fresh_calls = cluster._scattered, []

    def lost_first(client_, X, Y, fresh=False):
        fresh_calls.append(fresh)
        futures = real(client_, X, Y, fresh=fresh)
        if not fresh:
            client_.cancel(list(futures))
        return futures

    monkeypatch.setattr(cluster, "_scattered", lost_first)
    assert_same_sweep(run(PLAIN, client=client, chunk=4), reference["plain"], "after the data was lost")
    assert fresh_calls == [False, True]

    def failing(*args):
        raise RuntimeError("a task's own error")

    monkeypatch.setattr(cluster, "_scattered", real)
    monkeypatch.setattr(cluster, "_task", failing)
    with pytest.raises(RuntimeError, match="a task's own error"):
        run(PLAIN, client=client)


def test_another_client_checks_again_and_a_closed_one_is_let_go(client, reference):
    """The memo belongs to its client: a second client of the same cluster asks the workers
    for their versions, and once closed and dropped it is collected, data futures and all."""
    import gc

    from distributed import Client

    other = Client(client.scheduler.address)
    calls, asked = record_calls(pytest.MonkeyPatch(), other)  # not the fixture's: it would hold the client
    assert_same_sweep(run(PLAIN, client=other), reference["plain"], "a second client")
    assert calls["run _versions"] == 1 and calls["scatter"] == 1, calls
    gone = weakref.ref(other)
    other.close()
    del other, calls, asked
    gc.collect()
    assert gone() is None


def test_a_restarted_worker_is_checked_and_prepared(client, reference, monkeypatch):
    """A worker process that replaced another (same worker name, new process) is asked for
    its versions and prepares the kernels; the other worker is not asked again. Reporting
    another numba, it alone is refused."""

    def other_numba():  # runs on the workers (pickled by value)
        from fastnn import cluster

        return {**cluster._versions(), "numba": "0.0.1"}

    forget_the_workers(monkeypatch, client)
    run(PLAIN, client=client)
    before = cluster._workers(client)[0]
    restarted = sorted(before)[0]
    client.restart_workers([restarted])
    after = cluster._workers(client)[0]
    new = sorted(set(after) - set(before)) or [restarted]  # its address, new unless on a fixed port
    assert len(after) == len(before) and after[new[0]][1] == before[restarted][1]  # the same name
    calls, asked = record_calls(monkeypatch, client)
    with monkeypatch.context() as patch:
        patch.setattr(cluster, "_worker_versions", other_numba)
        with pytest.raises(ValueError, match=rf"client: 1 of the cluster's 2 workers run other versions .*"
                                             rf"{new[0]} runs numba 0\.0\.1\. Install the same"):
            run(PLAIN, client=client)
    assert asked == [new]
    asked.clear()
    calls.clear()
    result = run(PLAIN, client=client)
    assert asked == [new] and (calls["run _versions"], calls["submit _prepare"], calls["scatter"]) == (1, 1, 0), calls
    assert_same_sweep(result, reference["plain"], "with a restarted worker")


def test_a_client_must_be_a_dask_client():
    with pytest.raises(TypeError, match="client must be a dask.distributed.Client"):
        run(PLAIN, client="tcp://127.0.0.1:8786")


def test_store_with_a_client(client, reference, tmp_path, monkeypatch):
    """A store filled partly in-process is finished on the cluster, and one filled partly
    on the cluster (Ctrl-C after 2 tasks) is finished in-process: both equal the reference."""
    for first, then in ((None, client), (client, None)):
        folder = tmp_path / f"store-{first is None}"
        with monkeypatch.context() as patch:
            interrupt_after(patch, 2)
            with pytest.raises(KeyboardInterrupt):
                run(PLAIN, client=first, store=folder, chunk=4, blocks_per_task=3)
        saved = len([name for name in os.listdir(folder) if name.endswith(".npz")])
        assert 2 <= saved < 36
        result = run(PLAIN, client=then, store=folder, chunk=4)
        assert_same_sweep(result, reference["plain"], f"store begun with client={first}, finished with {then}")


def test_command_workers_and_scheduler(client, capsys):
    args = ["sweep", "--sizes", "2,2,1", "--lr", "0.01,0.1", "--seeds", "0:3", "--batch-size", "1,2", "--epochs", "3"]
    cli.main(args)
    local = capsys.readouterr().out
    cli.main(args + ["--workers", "2"])
    out = capsys.readouterr().out
    assert "dask: a local cluster of 2 worker processes" in out
    assert out[out.index("rank config"):] == local[local.index("rank config"):]
    address = client.scheduler.address
    cli.main(args + ["--scheduler", address])
    out = capsys.readouterr().out
    assert f"workers at {address}" in out
    assert out[out.index("rank config"):] == local[local.index("rank config"):]
    with pytest.raises(SystemExit, match="--workers must be at least 1"):
        cli.main(args + ["--workers", "0"])
    with pytest.raises(SystemExit):  # one or the other
        cli.main(args + ["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"])


# ------------------------------------------------------------------ a shared cache folder

COMPILE = """
import hashlib, os, sys, time
import fastnn
from fastnn import datasets
from fastnn.kernels import cache, sweepgen
sweep_module = sys.modules["fastnn.sweep"]

ready, other = sys.argv[1], sys.argv[2]
open(ready, "w").close()
deadline = time.monotonic() + 60
while not os.path.exists(other) and time.monotonic() < deadline:  # start compiling together
    time.sleep(0.001)
X, y = datasets.quadratic(20, seed=0)
r = fastnn.sweep([2, 1, 1], X, y, lr=[1e-3, 1e-2], seeds=[0, 1], epochs=3, progress=False)
spec = r.groups[0].spec
kernel = cache.load(sweepgen.cached_source(spec), sweepgen.kernel_name(1, False), sweep_module._SIGNATURE)
digest = hashlib.sha256(r.losses.tobytes() + r.groups[0].params.tobytes()).hexdigest()
print(digest, sum(kernel.stats.cache_hits.values()), sum(kernel.stats.cache_misses.values()))
"""


def test_two_processes_compiling_one_new_kernel_into_a_shared_cache(tmp_path):
    """Two worker-like processes compile the same new kernel at once into fresh, shared
    FASTNN_CACHE_DIR and NUMBA_CACHE_DIR: both succeed with the same numbers, and a third
    process then loads that kernel from the cache (numba writes its index and data files
    through a temporary file and a rename, fastnn its generated sources likewise; see
    numba issue #4807 for the races of older numba versions)."""
    env = {**os.environ, "FASTNN_CACHE_DIR": str(tmp_path / "fastnn"), "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    env.pop("FASTNN_NO_CACHE", None)
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    runs = [subprocess.Popen([sys.executable, "-c", COMPILE, mine, theirs], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for mine, theirs in ((a, b), (b, a))]
    outputs = []
    for process in runs:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        outputs.append(out.split())
    assert outputs[0][0] == outputs[1][0]  # the same numbers
    assert any(int(misses) == 1 for _, _, misses in outputs)  # it was compiled, not found
    out = subprocess.run([sys.executable, "-c", COMPILE, a, b], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    digest, hits, misses = out.stdout.split()
    assert digest == outputs[0][0] and (int(hits), int(misses)) == (1, 0)  # loaded from the shared cache
    local = fastnn.sweep([2, 1, 1], *fastnn.datasets.quadratic(20, seed=0), lr=[1e-3, 1e-2], seeds=[0, 1], epochs=3,
                         progress=False)
    assert hashlib.sha256(local.losses.tobytes() + local.groups[0].params.tobytes()).hexdigest() == digest


def test_without_dask_a_client_is_refused_clearly(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if dask.distributed were not installed
    with pytest.raises(TypeError, match=r"dask.distributed is not installed: pip install 'fastnn\[dask\]'"):
        run(PLAIN, client=object())
    with pytest.raises(SystemExit, match=r"--workers needs dask.distributed: pip install 'fastnn\[dask\]'"):
        cli.main(["sweep", "--sizes", "2,2,1", "--epochs", "1", "--workers", "2"])


def test_a_watched_sweep_on_the_cluster_equals_the_local_one(client):
    """Validation, patience and halving: each segment's runs of configurations train as
    tasks (their whole state shipped both ways), with the local result bit for bit."""
    local = run(WATCHED)
    remote = run(WATCHED, client=client, chunk=5, blocks_per_task=2)
    assert_same_watch(remote, local, "watched sweep on the cluster")


def test_a_watched_sweep_scatters_its_data_once(client, monkeypatch):
    """A watched sweep runs a round of tasks per segment (between halving's rungs), all on
    the data scattered for the first."""
    forget_the_workers(monkeypatch, client)
    calls, _ = record_calls(monkeypatch, client)
    segments = []
    real = cluster._scattered
    monkeypatch.setattr(cluster, "_scattered", lambda *args, **kwargs: segments.append(1) or real(*args, **kwargs))
    run(WATCHED, client=client, chunk=5, blocks_per_task=2)
    assert len(segments) >= 3 and calls["scatter"] == 1, (len(segments), calls)


def _kernel_loads():
    """On a worker: {generated module digest: (signatures, cache hits + misses)} of every
    generated kernel this process compiled or loaded (numba counts both per signature)."""
    from numba.core.registry import CPUDispatcher

    from fastnn.kernels import cache

    out = {}
    for digest, module in list(cache._memory.items()):
        for name, value in vars(module).items():
            if isinstance(value, CPUDispatcher) and value.signatures:
                stats = value.stats
                out[f"{digest}.{name}"] = (len(value.signatures),
                                           sum(stats.cache_hits.values()) + sum(stats.cache_misses.values()))
    return out


def test_each_worker_compiles_or_loads_a_shape_once(client):
    """Two cluster sweeps of the same grid: each worker process builds each generated
    kernel once (one signature, one compile or cache load), the second sweep reuses it."""
    run(PLAIN, client=client)
    first = client.run(_kernel_loads)
    run(PLAIN, client=client, chunk=4)
    second = client.run(_kernel_loads)
    assert first == second and all(first.values()), (first, second)
    for worker, kernels in second.items():
        assert kernels and all(loads == (1, 1) for loads in kernels.values()), (worker, kernels)


class _Threads:
    """A client stand-in for blocks_per_task: ``n`` worker threads."""

    def __init__(self, n):
        self.n = n

    def nthreads(self):
        return {f"worker-{i}": 1 for i in range(self.n)}


def test_tasks_are_sized_by_the_efficiency_model():
    """Default blocks per task (docs/distributed.md's model): tasks of at least
    9 x TASK_OVERHEAD and 2 x N x SCHEDULER_SECONDS of work, but never fewer tasks than
    threads; costly blocks one per task."""
    from fastnn import cluster

    two = _Threads(2)
    assert cluster.blocks_per_task(two, 32, 0.42e-3) == 16  # tiny blocks: one task per thread
    assert cluster.blocks_per_task(two, 80, 1.0) == 1  # costly blocks: a task each
    assert cluster.blocks_per_task(two, 100_000, 1e-3) == 18  # ceil(9 x 2.0 ms / 1 ms)
    assert cluster.blocks_per_task(_Threads(100), 10**6, 1e-3) == 300  # the scheduler: 2 x 100 x 1.5 ms
    assert cluster.blocks_per_task(two, 1, 1e-9) == 1
