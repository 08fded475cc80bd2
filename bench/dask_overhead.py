"""The figures of docs/distributed.md: a sweep's per-block training time, Dask's per-task
overhead, and the 1,024-configuration sweep on a 2-worker LocalCluster against the
in-process thread pool.

Run: ``python bench/dask_overhead.py`` (needs fastnn[dask]). The grid is seed 000's
(bench/test_sweep.py): 2-2-1 ReLU, squared error, per-sample SGD, He init; 64 learning
rates (geomspace(1e-4, 1e-2)) x 16 seeds = 1,024 configurations = 32 blocks of 32, on
datasets.quadratic(100, seed=0), 200 epochs. Each figure is printed with how it was
measured; the ratios come from pairs of timed runs (in-process, then on the cluster; 7
pairs at 200 epochs, 3 at 2,000), after untimed runs that warm the kernels (in this process
and in the workers) and, on the cluster, fastnn.cluster's memo of the client: the timed
sweeps ask the workers for neither versions nor kernels and scatter no data.
"""
from __future__ import annotations

import operator
import os
import statistics
import sys
import time

# steady-state timings: kernels compiled (or loaded) in the warm-up, not tiered (fastnn.kernels.tiering)
os.environ.setdefault("FASTNN_TIERING", "0")

import numpy as np  # noqa: E402

import fastnn  # noqa: E402
from fastnn import datasets  # noqa: E402
from fastnn.kernels import tiering  # noqa: E402

sweep_module = sys.modules["fastnn.sweep"]

X, Y = datasets.quadratic(100, seed=0)
GRID = dict(lr=np.geomspace(1e-4, 1e-2, 64), seeds=list(range(16)), epochs=200, init="he", progress=False)


def block_seconds(repeats=7):
    """Seconds per block of this sweep: the in-process sweep on one thread (median of
    ``repeats`` runs) over its 32 blocks."""
    fastnn.sweep([2, 2, 1], X, Y, threads=1, **GRID)  # warm
    tiering.wait()  # a kernel compiling in the background (kernels.tiering) is in use from here on
    return statistics.median(fastnn.sweep([2, 2, 1], X, Y, threads=1, **GRID).seconds for _ in range(repeats)) / 32


def main():
    from distributed import Client, LocalCluster

    t_block = block_seconds()
    print(f"one block (32 configurations x 200 epochs x 100 samples): {t_block * 1e3:.3f} ms (one-thread sweep, "
          f"median of 7, / 32 blocks)")

    fastnn.sweep([2, 2, 1], X, Y, **GRID)  # warm
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        fastnn.sweep([2, 2, 1], X, Y, client=client, **GRID)  # warm the workers' kernels
        client.run(tiering.wait)
        per_task = fastnn.cluster.blocks_per_task(client, 32, t_block)
        print(f"default blocks per task on this cluster: {per_task}")
        for epochs, pairs in ((200, 7), (2000, 3)):
            grid = dict(GRID, epochs=epochs)
            fastnn.sweep([2, 2, 1], X, Y, client=client, **grid)  # the workers prepare this plan (its epochs) once
            ratios = []
            for _ in range(pairs):  # local and cluster alternate, so both see the same load
                t0 = time.perf_counter()
                local = fastnn.sweep([2, 2, 1], X, Y, **grid)
                local_wall = time.perf_counter() - t0
                t0 = time.perf_counter()
                remote = fastnn.sweep([2, 2, 1], X, Y, client=client, **grid)
                remote_wall = time.perf_counter() - t0
                same = np.array_equal(remote.losses.view(np.uint64), local.losses.view(np.uint64))
                ratios.append(remote_wall / local_wall)
                print(f"{epochs} epochs: in-process thread pool {local_wall * 1e3:.1f} ms wall; 2-worker LocalCluster, "
                      f"warm {remote_wall * 1e3:.1f} ms wall (set-up before the tasks "
                      f"{(remote_wall - remote.seconds) * 1e3:.1f} ms); ratio {ratios[-1]:.2f}x; bit-identical: {same}")
            print(f"{epochs} epochs: ratio (cluster wall / thread-pool wall) median {statistics.median(ratios):.2f}x, "
                  f"within 1.5x in {sum(r <= 1.5 for r in ratios)} of {pairs} pairs")

        # fastnn's cost per task: the same sweep split into 2 to 128 tasks (median of 3 runs
        # each); seconds - compute / 2 fitted as fixed + per_task * tasks.
        rows = []
        for chunk, per_task in ((32, 16), (32, 4), (32, 1), (8, 1)):
            blocks = -(-1024 // chunk)
            tasks = -(-blocks // per_task)
            seconds = statistics.median(
                fastnn.sweep([2, 2, 1], X, Y, client=client, chunk=chunk, blocks_per_task=per_task, **GRID).seconds
                for _ in range(3))
            rows.append((tasks, seconds))
            print(f"chunk {chunk}, {per_task} block(s) per task = {tasks} tasks: {seconds:.4f} s (median of 3)")
        tasks, seconds = np.array(rows).T
        per_task, fixed = np.polyfit(tasks, seconds - 32 * t_block / 2, 1)
        print(f"fit: seconds = compute / 2 workers + {fixed * 1e3:.1f} ms + {per_task * 1e3:.2f} ms x tasks")

        # Dask's own cost per task: trivial tasks, pipelined (throughput) and one at a time (latency).
        n = 2000
        t0 = time.perf_counter()
        client.gather(client.map(operator.neg, range(n), pure=False))
        pipelined = (time.perf_counter() - t0) / n
        latencies = []
        for i in range(50):
            t0 = time.perf_counter()
            client.submit(operator.neg, i, pure=False).result()
            latencies.append(time.perf_counter() - t0)
        print(f"trivial tasks: {pipelined * 1e3:.3f} ms each pipelined ({n} tasks, 2 workers), "
              f"{statistics.median(latencies) * 1e3:.2f} ms round trip one at a time (median of 50)")

if __name__ == "__main__":
    main()
