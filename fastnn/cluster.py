"""Sweeps on a Dask cluster: ``fastnn.sweep(..., client=client)``.

``client`` is a ``dask.distributed.Client`` (``pip install 'fastnn[dask]'``). The sweep
then runs its blocks of configurations as tasks on the client's workers:

* X and y are sent once to every worker (``client.scatter(..., broadcast=True)``), and
  kept there for later sweeps and segments on the same data (the last ``DATA_KEPT`` data
  sets per client, by content digest);
* each task trains a run of consecutive blocks of one group from plain inputs (the
  group's Spec and TrainOptions, its starting parameters, seeds and learning rates) with
  ``fastnn.sweep._train_range``, the function the in-process sweep uses with a store: the
  worker picks and builds the kernel itself from the network's shape (a pickled numba
  dispatcher carries no machine code), once per worker process, loading it from the
  worker's disk cache when it is there (``fastnn.kernels.cache``);
* tasks are as small as still pays for their overhead (``blocks_per_task``), so that a
  big sweep has many tasks per worker thread for the scheduler to balance; their
  results are written into their slots by group and block index, in whatever order they
  finish, and shown on the progress bar as they arrive;
* tasks are pure (inputs to block results, nothing shared or mutated): when a worker dies,
  Dask runs its unfinished tasks again elsewhere and the result is unchanged.

The result is bit-identical to the in-process sweep whatever the number of workers and
threads, provided every worker runs the same fastnn, numba and numpy: that is checked
first (``client.run``) on each worker process the client has not checked yet, and a
difference is a ValueError naming ``client``. The kernels are prepared likewise only on
worker processes that lack them, so a repeated sweep on the same client pays one round
trip to the scheduler before its tasks.
"""
from __future__ import annotations

import hashlib
import math
import uuid
from collections import OrderedDict

import numpy as np

# The efficiency model of docs/distributed.md, its figures measured on this project's
# 2-core VM (bench/dask_overhead.py): a task costs a worker about TASK_OVERHEAD seconds
# (o: inputs, call, results) and the scheduler and client about SCHEDULER_SECONDS each
# (s, one task at a time). A task of b blocks of t seconds keeps above 90% efficiency
# when b * t >= 9 * o and b * t >= 2 * N * s (N worker threads).
TASK_OVERHEAD = 2.0e-3
SCHEDULER_SECONDS = 1.5e-3
# A configuration-step (one sample's forward and backward pass and its share of the
# update) costs about this many seconds per parameter: the lane kernels of plain SGD
# (0.09-0.15 ns measured, bench/sweep_sizes.py), the vectorised optimizer and dropout
# kernels (0.13-0.62 ns with Adam), and configurations trained one at a time on the
# single-network kernels (sweep_options.GeneralBlocks, the benchmarks' baseline only).
STEP_SECONDS_PER_PARAM = {"plain": 0.15e-9, "vectorised": 0.5e-9, "one at a time": 2e-9}
# Data sets (X and y) whose scattered copies a client keeps on its workers, the newest.
DATA_KEPT = 2


class _Known:
    """What this process knows of one client's workers: the worker processes whose
    versions match (by ``_workers``' identity), the plans each has prepared, the workers
    of the last check, and the futures of the data sets scattered last."""

    def __init__(self):
        self.checked = set()
        self.prepared = {}
        self.workers = {}
        self.threads = 0
        self.data = OrderedDict()


def _known_of(client):
    """``client``'s _Known, kept on the client itself: another client (even one of the same
    scheduler) starts afresh, and the memo goes with its client (held in a module-level
    dict, even a weak-keyed one, the data's futures, which refer to their client, would
    keep every client alive)."""
    known = getattr(client, "_fastnn_known", None)
    if known is None:
        known = client._fastnn_known = _Known()
    return known


def _workers(client):
    """({address: identity} of the client's workers now, their threads in all), in one
    round trip to the scheduler.
    The identity is unique to a worker process: the scheduler's ``id`` of a worker is its
    name, which a restarted worker keeps (and, on a fixed port, its address too), but its
    scratch folder (``local_directory``) is created afresh (mkdtemp) by each process."""
    # Not client.scheduler_info(): that returns an attribute the client's periodic refresh
    # overwrites with a summary without workers, and keeps stale when the scheduler does
    # not answer; this asks the scheduler itself, and fails if it cannot.
    try:
        info = client.sync(client.scheduler.identity, n_workers=-1)
    except Exception as exc:
        raise ValueError(f"client: cannot ask the scheduler for its workers: {type(exc).__name__}: {exc}") from None
    return ({address: (address, worker.get("id"), worker.get("local_directory"))
             for address, worker in info["workers"].items()},
            sum(max(1, int(worker.get("nthreads") or 1)) for worker in info["workers"].values()))


def _versions():
    """What decides a worker's numbers: its fastnn (and kernel sources), numba and numpy."""
    import numba
    import numpy

    import fastnn
    from fastnn.kernels.compiler import sources_digest

    return {"fastnn": f"{fastnn.__version__} (kernel sources {sources_digest()})", "numba": numba.__version__,
            "numpy": numpy.__version__}


_worker_versions = _versions  # what client.run asks each new worker for (tests replace it)


def check_client(client):
    """TypeError unless ``client`` is a dask.distributed Client; ValueError naming
    ``client`` when it has no workers or a worker runs other versions than this process.
    Only worker processes the client has not checked yet are asked."""
    try:
        from distributed import Client
    except ImportError:
        raise TypeError("client must be a dask.distributed.Client, and dask.distributed is not installed: "
                        "pip install 'fastnn[dask]'") from None
    if not isinstance(client, Client):
        raise TypeError(f"client must be a dask.distributed.Client, got {type(client).__name__}")
    known = _known_of(client)
    workers, threads = _workers(client)
    if not workers:
        raise ValueError("client: the cluster has no workers")
    alive = set(workers.values())
    known.checked &= alive  # forget departed worker processes: the memo stays as small as the cluster
    known.prepared = {identity: plans for identity, plans in known.prepared.items() if identity in alive}
    new = [address for address, identity in workers.items() if identity not in known.checked]
    if new:
        try:
            reported = client.run(_worker_versions, workers=new)
        except Exception as exc:
            raise ValueError(f"client: cannot ask the cluster's workers for their versions: {type(exc).__name__}: "
                             f"{exc}") from None
        here = _versions()
        different = []
        for address, theirs in sorted(reported.items()):
            diffs = [f"{name} {theirs.get(name) if isinstance(theirs, dict) else None}" for name in here
                     if not isinstance(theirs, dict) or theirs.get(name) != here[name]]
            if diffs:
                different.append(f"{address} runs {', '.join(diffs)}")
        if different:
            mine = ", ".join(f"{name} {value}" for name, value in here.items())
            raise ValueError(f"client: {len(different)} of the cluster's {len(workers)} workers run other versions "
                             f"than this process ({mine}), so the sweep could differ from a local one: "
                             f"{'; '.join(different)}. Install the same fastnn, numba and numpy on every worker")
        known.checked.update(workers[address] for address in reported)
    known.workers, known.threads = workers, threads


def _prepare(plans):
    """On a worker: compile (or load) the kernels of ``plans`` (memoised per process)."""
    from fastnn.sweep import _prepare as prepare

    for plan in plans:
        prepare(plan)
    return True


def prepare(client, plans):
    """Have every worker (those of the last ``check_client``) compile or load the sweep's
    kernels before the timed part: only the plans it has not prepared yet (each worker
    process keeps its kernels), so a sweep of known plans makes no round trip."""
    known = _known_of(client)
    workers = known.workers or _workers(client)[0]
    missing = {address: [plan for plan in plans if plan not in known.prepared.get(identity, ())]
               for address, identity in workers.items()}
    missing = {address: todo for address, todo in missing.items() if todo}
    if not missing:
        return
    token = uuid.uuid4().hex[:12]
    futures = [client.submit(_prepare, todo, workers=[address], allow_other_workers=True, pure=False,
                             key=f"fastnn-prepare-{token}-{i}")
               for i, (address, todo) in enumerate(missing.items())]
    try:
        client.gather(futures)
    finally:
        client.cancel(futures)
    for address, todo in missing.items():
        known.prepared.setdefault(workers[address], set()).update(todo)


def blocks_per_task(client, n_blocks, block_seconds):
    """Default blocks per task for ``n_blocks`` blocks of about ``block_seconds`` each:
    as few as make a task pay for itself by the efficiency model (``TASK_OVERHEAD``,
    ``SCHEDULER_SECONDS``), so that a sweep has as many tasks as it can afford (the
    scheduler evens out slow or lost workers with them), but never so many that a worker
    thread gets no task."""
    # the threads of the last check_client (no round trip of its own), else asked now
    threads = _known_of(client).threads or max(1, sum(client.nthreads().values()))
    task_seconds = max(9 * TASK_OVERHEAD, 2 * threads * SCHEDULER_SECONDS)
    paying = math.ceil(task_seconds / max(block_seconds, 1e-12))
    return max(1, min(paying, math.ceil(n_blocks / threads)))


def block_seconds(plan, configs, epochs, n_samples):
    """About how long ``configs`` configurations of ``plan``'s group train for ``epochs``
    epochs on ``n_samples`` samples on one thread (``STEP_SECONDS_PER_PARAM``)."""
    from fastnn import sweep_options

    if plan.options.is_plain:
        kind = "plain"
    else:
        kind = "vectorised" if sweep_options.vectorised(plan.spec, plan.options) else "one at a time"
    return configs * epochs * n_samples * plan.spec.n_params * STEP_SECONDS_PER_PARAM[kind]


def _task(plan, X, Y, P, seeds, rates, chunk):
    """One task: the configurations (columns of P) of one group, trained to the end."""
    from fastnn.sweep import _train_range

    # Arrays that arrive over the network can be read-only; the kernels take writable ones.
    X = np.require(X, np.float64, ["C", "W"])
    Y = np.require(Y, np.float64, ["C", "W"])
    return _train_range(plan, X, Y, P, seeds, rates, chunk)


def train(client, X, Y, units, chunk, finished):
    """Train ``units`` ((plan, P, seeds, rates) each) as tasks on ``client``'s workers;
    ``finished(i, result)`` receives unit i's result as its task completes. Tasks not yet
    done when an error (or Ctrl-C) stops the loop are cancelled."""
    _run(client, X, Y, "block", _task, [(plan, (np.ascontiguousarray(P), seeds, rates, chunk))
                                         for plan, P, seeds, rates in units], finished)


def _segment_task(plan, X, Y, monitor, lanes, e0, e1, epochs):
    """One task of a watched sweep (validation, patience, halving): ``lanes`` trained
    through epochs e0..e1-1 by ``fastnn.sweep_monitor.train_segment`` (pure)."""
    from fastnn.sweep_monitor import train_segment

    X = np.require(X, np.float64, ["C", "W"])
    Y = np.require(Y, np.float64, ["C", "W"])
    lanes = {name: np.require(value, None, ["C", "W"]) for name, value in lanes.items()}
    return train_segment(plan, monitor, X, Y, lanes, e0, e1, epochs)


def train_segments(client, X, Y, monitor, inputs, e0, e1, epochs, finished):
    """A watched sweep's segment (epochs e0..e1-1) on ``client``'s workers: ``inputs``
    [(plan, lanes)] as tasks; ``finished(i, result)`` receives input i's result as its
    task completes. Tasks not done when an error (or Ctrl-C) stops the loop are cancelled."""
    _run(client, X, Y, "segment", _segment_task, [(plan, (monitor, lanes, e0, e1, epochs)) for plan, lanes in inputs],
         finished)


def _run(client, X, Y, kind, function, calls, finished):
    """Submit ``function(plan, X, Y, *rest)`` for each (plan, rest) of ``calls`` as tasks,
    X and Y on every worker (``_scattered``), and hand each result to ``finished(i,
    result)`` as it arrives; cancel what is left after an error.

    Scattered data has no task to recompute it: Dask's active memory manager may keep a
    single copy of it once no task waits, and when the worker holding the last copy dies,
    the tasks that need it are cancelled. Those are submitted again, once, on data
    scattered afresh (the tasks are pure: the numbers do not change); any other failure
    is raised."""
    if not calls:
        return
    pending = dict(enumerate(calls))
    for attempt in range(2):
        lost = _submit_and_collect(client, _scattered(client, X, Y, fresh=attempt > 0), kind, function, pending,
                                   finished, retry=attempt == 0)
        if not lost:
            return


def _call(call, function, X, Y):
    """``function(plan, X, Y, *rest)`` for ``call`` = (plan, rest): one task of ``_run``."""
    plan, rest = call
    return function(plan, X, Y, *rest)


def _submit_and_collect(client, data, kind, function, pending, finished, retry):
    """One round of ``_run``: submit the calls ``pending`` {i: (plan, rest)} on ``data``
    (the futures of X and Y), hand each result on and remove its call from ``pending``;
    returns whether some were cancelled (only while ``retry``: else that is raised)."""
    from distributed import as_completed

    token = uuid.uuid4().hex[:12]
    order = list(pending)
    # one client.map, not a submit per task: the client batches its messages to the
    # scheduler every 10 ms, so the second of two submits reached the workers up to 10 ms
    # after the first (measured: the second task of the 1,024-configuration sweep started
    # 8-19 ms after submission, the first 4 ms); one map is one message
    mapped = client.map(_call, [pending[i] for i in order], [function] * len(order), [data[0]] * len(order),
                        [data[1]] * len(order), key=[f"fastnn-{kind}-{token}-{i}" for i in order], pure=False)
    futures = dict(zip(mapped, order))
    left, lost = set(futures), False
    try:
        # batches(): the results that are ready, fetched together (one round trip for many);
        # loop: as_completed otherwise waits on the default client's event loop, that of
        # another client when this one is not the newest or an enclosing `with`'s, and can
        # hang there with every task finished
        for batch in as_completed(futures, loop=client.loop, with_results=True).batches():
            for future, result in batch:
                left.discard(future)
                if future.status == "finished":
                    finished(futures[future], result)
                    del pending[futures[future]]
                elif future.status == "cancelled" and retry:
                    lost = True
                else:
                    future.result()  # raises the task's error (or the cancellation)
    finally:
        if left:
            client.cancel(list(left))
    return lost


def _scattered(client, X, Y, fresh=False):
    """Futures of X and Y on ``client``'s workers: those scattered for an earlier call on
    the same data (same bytes, shape and dtype) while the cluster still holds them and
    not ``fresh``, else scattered now to every worker (one that joins later fetches them
    from another). A client keeps the last ``DATA_KEPT`` data sets; dropping the futures
    of older ones releases them on the workers."""
    digest = hashlib.blake2b(digest_size=16)
    for array in (X, Y):
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape};".encode())
        digest.update(array.data)
    key, data = digest.digest(), _known_of(client).data
    futures = data.pop(key, None)
    if fresh or futures is None or any(future.status != "finished" for future in futures):  # lost with its workers
        # hash=False: keys of their own (under its content hash, data scattered again would
        # share keys with another holder's futures and be released when those go); the
        # memo's futures keep it on the workers
        futures = tuple(client.scatter([X, Y], broadcast=True, hash=False))
    data[key] = futures
    while len(data) > DATA_KEPT:
        data.popitem(last=False)
    return futures
