"""Sweeps that survive interruption (``fastnn.sweep(..., store=FOLDER)``, ``fastnn sweep
--store``): stopped by Ctrl-C, by os._exit after a block file, in the middle of a block
file's write, or by kill -9 at random points, then started again with the same arguments,
a sweep trains only the missing blocks and its result equals an uninterrupted run's bit
for bit. A store written by a different sweep (arguments, data, fastnn version) is refused
before any work.

The interrupted runs that end their process run in a subprocess (the test hook
FASTNN_TEST_STORE_FAULT of fastnn.store); the resumed runs run here. Store runs use
chunk=4 (36 blocks for the plain grid) and 2 threads; the references the default chunk
and threads, so equality also covers the block size.
"""
import importlib
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import fastnn
from fastnn import cli

from sweep_checks import GRIDS, PLAIN, QX, QY, WATCHED, assert_same_sweep, assert_same_watch, interrupt_after, run

sweep_module = importlib.import_module("fastnn.sweep")
TESTS = os.path.dirname(os.path.abspath(__file__))
CHUNK = 4
BLOCKS = {"plain": 4 * 9, "options": 24}  # 4 groups of 36 configurations; 24 groups of 4


@pytest.fixture(scope="module")
def reference():
    return {name: run(grid) for name, grid in GRIDS.items()}


def blocks_in(folder):
    return sorted(name for name in os.listdir(folder) if name.endswith(".npz"))


def temporaries_in(folder):
    return sorted(name for name in os.listdir(folder) if name.startswith(".fastnn-") and name.endswith(".tmp"))


def count_training(monkeypatch):
    """A list that gets one entry per block range the sweep trains (not loads)."""
    calls = []
    real = sweep_module._train_range

    def counted(plan, X, Y, P, *args):
        calls.append(P.shape[1])
        return real(plan, X, Y, P, *args)

    monkeypatch.setattr(sweep_module, "_train_range", counted)
    return calls


@pytest.mark.parametrize("name", sorted(GRIDS))
@pytest.mark.parametrize("after", [1, 7])
def test_ctrl_c_then_resume_equals_an_uninterrupted_sweep(reference, name, after, tmp_path, monkeypatch):
    folder = tmp_path / "store"
    with monkeypatch.context() as patch:
        interrupt_after(patch, after)
        with pytest.raises(KeyboardInterrupt):
            run(GRIDS[name], store=folder, chunk=CHUNK, threads=2)
    assert len(blocks_in(folder)) == after  # the blocks finished before Ctrl-C, each written as it finished
    trained = count_training(monkeypatch)
    resumed = run(GRIDS[name], store=folder, chunk=CHUNK, threads=2)
    assert len(trained) == BLOCKS[name] - after  # only the missing blocks
    assert_same_sweep(resumed, reference[name], f"{name} grid, interrupted after {after} blocks")
    assert len(blocks_in(folder)) == BLOCKS[name]
    again = run(GRIDS[name], store=folder, chunk=CHUNK, threads=1)  # complete: loads everything
    assert len(trained) == BLOCKS[name] - after
    assert_same_sweep(again, reference[name], f"{name} grid, loaded from a complete store")


SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from sweep_checks import GRIDS, run

if __name__ == "__main__":
    run(GRIDS["plain"], store=sys.argv[1], chunk={chunk}, threads=2)
    print("complete")
"""


def start(folder, fault):
    env = {**os.environ, "FASTNN_TEST_STORE_FAULT": fault}
    code = SCRIPT.format(tests=TESTS, chunk=CHUNK)
    return subprocess.Popen([sys.executable, "-c", code, str(folder)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def resume_and_check(folder, reference, what):
    result = run(PLAIN, store=folder, chunk=CHUNK, threads=2)
    assert_same_sweep(result, reference["plain"], what)
    assert len(blocks_in(folder)) == BLOCKS["plain"]
    assert temporaries_in(folder) == []  # what an interrupted write left is cleaned up at the end


@pytest.mark.parametrize("fault, blocks", [("exit-after:9", 9), ("half-write:5", 4)])
def test_process_ended_after_or_during_a_block_write_then_resumed(reference, tmp_path, fault, blocks):
    folder = tmp_path / "store"
    process = start(folder, fault)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 75, err
    assert "complete" not in out
    assert len(blocks_in(folder)) == blocks
    if fault.startswith("half-write"):  # the half-written temporary file is there, and ignored
        (partial,) = temporaries_in(folder)
        assert 0 < os.path.getsize(folder / partial)
    resume_and_check(folder, reference, f"resumed after {fault}")


@pytest.mark.parametrize("seed", [1, 2])
def test_kill_9_at_a_random_point_then_resumed(reference, tmp_path, seed):
    """kill -9 once a random number of blocks is written, plus a random delay (0.02 s
    between block files: the helper thread keeps training while the caller waits)."""
    rng = random.Random(seed)
    wanted, extra = rng.randint(1, BLOCKS["plain"] - 4), rng.uniform(0.0, 0.03)
    folder = tmp_path / "store"
    process = start(folder, "delay:0.02")
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if folder.exists() and len(blocks_in(folder)) >= wanted:
            break
        time.sleep(0.002)
    time.sleep(extra)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert wanted <= len(blocks_in(folder)) < BLOCKS["plain"]
    resume_and_check(folder, reference, f"resumed after kill -9 at {len(blocks_in(folder))} blocks")


# ------------------------------------------------------------------ refusals


@pytest.fixture(scope="module")
def complete_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stores") / "plain"
    run(PLAIN, store=folder, chunk=CHUNK)
    return folder


def _no_kernel(*args):
    raise AssertionError("the sweep loaded a kernel before refusing the store")


@pytest.mark.parametrize("change, match", [
    (dict(Y=QY + 1.0), "the targets y differ"),
    (dict(X=QX[::-1].copy()), "the inputs X differ"),
    (dict(epochs=5), "epochs: stored 6, now 5"),
    (dict(lr=PLAIN["lr"][:-1]), r"the configurations \(lr, seeds"),
    (dict(shuffle=False), "shuffle: stored true, now false"),
    (dict(init="xavier"), 'init: stored "he", now "xavier"'),
    (dict(checkpoints=[2]), r"checkpoints: stored \[2, 5\], now \[2\]"),
    (dict(chunk=8), "chunk: stored 4, now 8"),
    (dict(loss="squared_error"), "networks: stored"),
])
def test_a_store_of_another_sweep_is_refused_before_any_work(complete_store, monkeypatch, change, match):
    monkeypatch.setattr(sweep_module, "_kernel", _no_kernel)
    kwargs = {"chunk": CHUNK, **change}
    X, Y = kwargs.pop("X", QX), kwargs.pop("Y", QY)
    with pytest.raises(ValueError, match=r"store: .* holds the blocks of a different sweep .*" + match):
        run(PLAIN, X=X, Y=Y, store=complete_store, **kwargs)


def test_a_store_of_another_fastnn_version_is_refused(complete_store, monkeypatch):
    monkeypatch.setattr(fastnn, "__version__", "99.0.0")
    with pytest.raises(ValueError, match=r"store: .* fastnn: stored \"0\.1\.0 .*, now \"99\.0\.0"):
        run(PLAIN, store=complete_store, chunk=CHUNK)


def test_folders_that_are_no_store_are_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="store: .* holds files \\(notes.txt\\) but no fastnn sweep manifest"):
        run(PLAIN, store=tmp_path, chunk=CHUNK)
    with pytest.raises(ValueError, match="store: .* is a file"):
        run(PLAIN, store=tmp_path / "notes.txt", chunk=CHUNK)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "manifest.json").write_text("{not json")
    with pytest.raises(ValueError, match="store: .*manifest.json' is damaged"):
        run(PLAIN, store=tmp_path / "bad", chunk=CHUNK)
    with pytest.raises(TypeError, match="store must be a folder path"):
        run(PLAIN, store=3)


def test_a_damaged_block_file_is_trained_again(reference, tmp_path, monkeypatch):
    folder = tmp_path / "store"
    run(PLAIN, store=folder, chunk=CHUNK)
    name = blocks_in(folder)[3]
    data = (folder / name).read_bytes()
    (folder / name).write_bytes(data[: len(data) // 3])
    trained = count_training(monkeypatch)
    with pytest.warns(UserWarning, match=f"store: {name} cannot be read back"):
        result = run(PLAIN, store=folder, chunk=CHUNK)
    assert trained == [CHUNK]
    assert_same_sweep(result, reference["plain"], "a damaged block trained again")
    assert (folder / name).read_bytes() != data[: len(data) // 3]


def test_saved_blocks_hold_plain_arrays_without_pickle(tmp_path):
    folder = tmp_path / "store"
    run(PLAIN, store=folder, chunk=CHUNK)
    with np.load(folder / blocks_in(folder)[0], allow_pickle=False) as archive:
        assert set(archive.files) == {"header", "losses", "diverged_epoch", "params", "checkpoints", "stuck"}
        assert archive["losses"].shape == (CHUNK, PLAIN["epochs"]) and archive["params"].shape[1] == CHUNK


# ------------------------------------------------------------------ the command


def test_command_store_resumes_and_refuses_another_sweep(tmp_path, capsys):
    folder = str(tmp_path / "store")
    args = ["sweep", "--sizes", "2,2,1", "--lr", "0.01,0.1", "--seeds", "0:3", "--batch-size", "1,2", "--epochs", "3"]
    cli.main(args)
    plain = capsys.readouterr().out
    cli.main(args + ["--store", folder])
    first = capsys.readouterr().out
    assert f"store: {folder} holds every block of this sweep" in first
    cli.main(args + ["--store", folder])  # everything loaded
    second = capsys.readouterr().out

    def table(out):
        return out[out.index("rank config"):]

    assert table(first) == table(second) == table(plain)
    with pytest.raises(SystemExit, match="fastnn sweep: store: .* holds the blocks of a different sweep .*epochs"):
        cli.main(args[:-1] + ["4", "--store", folder])


@pytest.mark.parametrize("after", [3, 40])
def test_a_watched_sweep_resumes_from_its_store(tmp_path, monkeypatch, after):
    """Validation, patience and halving: interrupted in the first segment (3 blocks done)
    or past a rung, then started again, the sweep reads back every finished block (a
    segment's results carry each configuration's whole state) and equals an uninterrupted
    run bit for bit; a store of the unwatched sweep is refused (its manifest differs)."""
    reference = run(WATCHED)
    folder = tmp_path / "store"
    with monkeypatch.context() as patch:
        interrupt_after(patch, after)
        with pytest.raises(KeyboardInterrupt):
            run(WATCHED, store=folder, chunk=CHUNK, threads=2)
    written = blocks_in(folder)
    assert len(written) >= after - 3
    resumed = run(WATCHED, store=folder, chunk=CHUNK, threads=2)
    assert_same_watch(resumed, reference, f"watched sweep interrupted after {after} progress steps")
    assert (resumed.pruned_epoch > 0).any() and (resumed.stopped_epoch >= 0).any()
    with pytest.raises(ValueError, match="store.*validation data, patience"):
        run(WATCHED, store=folder, chunk=CHUNK, patience=4)
