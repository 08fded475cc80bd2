"""Saving and loading never loses a trained network: exact round trips, clear errors for
damaged files, atomic writes.

* Round trip: ``net.save(path)`` / ``fastnn.load(path)`` gives back the same sizes,
  activations, loss, bias, seed and params to the bit, a network that predicts and
  trains (shuffled, seeded by its own seed) exactly like the original; the same for a
  sweep result (SweepResult.save; its full round trip is also in tests/test_sweep.py).
* Damage: the file truncated at every length, every byte flipped (two bit patterns),
  garbage over the middle, not a zip at all, a bare .npy, a pickle (never executed), a
  header of the wrong format or a newer version: ``load`` raises ValueError naming the
  file, or (a flip in zip metadata that no one reads) loads the identical object. Never
  another exception, never a different network.
* Atomic writes: a crash inside ``numpy.savez`` or ``os.replace`` (an exception, a
  KeyboardInterrupt, or the process killed in the middle of writing) leaves the previous
  file byte-for-byte intact; after an exception no temporary file is left behind.
"""
import dataclasses
import os
import pickle
import stat
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

import fastnn
from fastnn import atomic
from fastnn import io as fio

# Pool shapes (tests/strategies.py): their kernels are compiled already.
X = np.random.default_rng(0).standard_normal((7, 2))
Y = np.random.default_rng(1).uniform(0.0, 1.0, (7, 1))


def bits(a):
    return np.ascontiguousarray(a, dtype=np.float64).view(np.uint64)


def trained_network():
    net = fastnn.Network([2, 3, 1], ["tanh", "sigmoid"], "binary_cross_entropy", seed=2**64 - 1)
    net.fit(X, Y, lr=0.5, epochs=3, batch_size=2, shuffle=True)
    return net


def same_network(a, b):
    return (
        isinstance(a, fastnn.Network)
        and a.spec == b.spec
        and a.seed == b.seed
        and np.array_equal(bits(a.params), bits(b.params))
    )


NETWORKS = {
    "trained, shuffled, seed 2**64-1": trained_network,
    "no bias, seed None": lambda: fastnn.Network([2, 2, 2, 1], ["sigmoid", "relu", "linear"], "mse", bias=False),
    "softmax + CCE, seed 0": lambda: fastnn.Network([1, 2, 3], ["gaussian", "softmax"], "categorical_cross_entropy",
                                                   seed=0),
    "extreme values": lambda: fastnn.Network([1, 1], "linear", "mse",
                                             init=np.array([np.nextafter(0.0, 1.0), -1.7976931348623157e308])),
}


@pytest.mark.parametrize("make", NETWORKS.values(), ids=list(NETWORKS))
@pytest.mark.parametrize("name", ["net.npz", "no-extension", "dots.in.name.bin"])
def test_network_round_trip_is_bit_exact(tmp_path, make, name):
    """sizes, activations, loss, bias, seed and params come back exactly (params as raw
    bits: subnormals and float64's extremes too), whatever the file name."""
    net = make()
    path = tmp_path / name
    net.save(path)
    assert sorted(os.listdir(tmp_path)) == [name]  # exactly the file asked for, no temp file
    loaded = fastnn.load(path)
    assert same_network(loaded, net)
    assert loaded.sizes == net.sizes and loaded.activations == net.activations
    assert loaded.loss_name == net.loss_name and loaded.spec.bias == net.spec.bias
    assert loaded.seed == net.seed and type(loaded.seed) is type(net.seed)
    assert loaded.params.flags.c_contiguous and loaded.params.flags.writeable
    assert same_network(fastnn.load(str(path)), net)  # str, bytes and PathLike
    net.save(os.fsencode(str(path)))
    assert same_network(fastnn.load(os.fsencode(str(path))), net)


def test_loaded_network_predicts_and_trains_like_the_original(tmp_path):
    """The loaded network is the same network: same predictions, and further training
    (shuffled, so using the saved seed) gives the same history and params to the bit."""
    net = trained_network()
    net.save(tmp_path / "net.npz")
    loaded = fastnn.load(tmp_path / "net.npz")
    assert np.array_equal(bits(loaded.predict(X)), bits(net.predict(X)))
    for backend in ("numba", "generic"):
        a, b = net.copy(), fastnn.load(tmp_path / "net.npz")
        ha = a.fit(X, Y, lr=0.3, epochs=2, batch_size=3, shuffle=True, backend=backend)
        hb = b.fit(X, Y, lr=0.3, epochs=2, batch_size=3, shuffle=True, backend=backend)
        assert np.array_equal(bits(ha), bits(hb)) and np.array_equal(bits(a.params), bits(b.params))


@pytest.fixture(scope="module")
def sweep_result():
    """A small sweep with diverged configurations and checkpoints (the [2, 2, 1] ReLU
    network: its kernel is shared with test_fuzz and the command)."""
    return fastnn.sweep([2, 2, 1], X, 10 * Y, lr=[0.01, 1e200], seeds=[0, 1], batch_size=[1, 7], epochs=3,
                        checkpoints=[1, 3], progress=False)


def same_sweep(a, b):
    if not isinstance(a, fastnn.SweepResult):
        return False
    ok = a.configs.dtype == b.configs.dtype and np.array_equal(a.configs, b.configs)
    ok &= np.array_equal(bits(a.losses), bits(b.losses)) and np.array_equal(a.diverged_epoch, b.diverged_epoch)
    ok &= a.checkpoints == b.checkpoints and len(a.groups) == len(b.groups)
    for ga, gb in zip(a.groups, b.groups):
        ok &= (ga.hidden, ga.batch_size, ga.spec) == (gb.hidden, gb.batch_size, gb.spec)
        ok &= np.array_equal(ga.indices, gb.indices) and np.array_equal(bits(ga.params), bits(gb.params))
        ok &= np.array_equal(bits(ga.checkpoint_params), bits(gb.checkpoint_params))
    return bool(ok)


def test_sweep_round_trip_is_bit_exact(tmp_path, sweep_result):
    """SweepResult.save / fastnn.load: configs, loss curves (NaN after divergence),
    divergence epochs, final and checkpoint params of every group, to the bit."""
    assert sweep_result.diverged.any()
    sweep_result.save(tmp_path / "sweep.npz")
    loaded = fastnn.load(tmp_path / "sweep.npz")
    assert same_sweep(loaded, sweep_result)
    assert same_network(loaded.network(3), sweep_result.network(3))


MONITOR_ARRAYS = ("val_losses", "val_accuracy", "best_epoch", "stopped_epoch", "pruned_epoch")


def same_monitor(a, b):
    """The held-out data and stopping fields agree: arrays to the bit (or both None), settings equal."""
    for name in MONITOR_ARRAYS:
        x, y = getattr(a, name), getattr(b, name)
        if (x is None) != (y is None):
            return False
        if x is not None and not (x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()):
            return False
    return (a.halving, a.patience, a.min_delta) == (b.halving, b.patience, b.min_delta)


@pytest.fixture(scope="module")
def monitored_sweep():
    """A sweep with validation data (a classification loss: val_accuracy too), patience and
    halving; the [2, 4, 3] tanh/softmax network of test_sweep and test_validation_data."""
    Xv = np.random.default_rng(2).standard_normal((5, 2))
    labels, val_labels = np.arange(7) % 3, np.arange(5) % 3
    return fastnn.sweep([2, 4, 3], X, labels, lr=[0.05, 0.2, 1e200], seeds=[0, 1], epochs=6, progress=False,
                        activation=["tanh", "softmax"], loss="categorical_cross_entropy",
                        validation_data=(Xv, val_labels), patience=2, min_delta=1e-3,
                        halving=fastnn.Halving(eta=2, first_rung=2))


def test_sweep_with_held_out_data_round_trip(tmp_path, monitored_sweep, sweep_result):
    """Validation curves, best/stopped/pruned epochs and the halving, patience and
    min_delta settings come back exactly; a sweep without them loads with None."""
    r = monitored_sweep
    assert r.val_accuracy is not None and r.halving == fastnn.Halving(2, 2) and r.patience == 2
    r.save(tmp_path / "m.npz")
    loaded = fastnn.load(tmp_path / "m.npz")
    assert same_sweep(loaded, r) and same_monitor(loaded, r)
    assert loaded.best(6).tobytes() == r.best(6).tobytes() and repr(loaded) == repr(r)
    sweep_result.save(tmp_path / "plain.npz")
    plain = fastnn.load(tmp_path / "plain.npz")
    assert all(getattr(plain, name) is None for name in (*MONITOR_ARRAYS, "halving", "patience"))
    assert plain.min_delta == 0.0
    # halving without patience or validation data: only the epochs are recorded
    pruned = dataclasses.replace(sweep_result, val_losses=None, best_epoch=np.zeros(8, dtype=np.int64),
                                 pruned_epoch=np.full(8, -1, dtype=np.int64), halving=fastnn.Halving(3, 1))
    pruned.save(tmp_path / "pruned.npz")
    assert same_monitor(fastnn.load(tmp_path / "pruned.npz"), pruned)


def test_sweep_file_from_before_held_out_data_loads(tmp_path, sweep_result):
    """A file written before the fields existed (no arrays, no header keys) loads with
    them None; damaged ones are refused naming what is wrong."""
    import json

    sweep_result.save(tmp_path / "new.npz")
    with np.load(tmp_path / "new.npz") as archive:
        arrays = {name: archive[name] for name in archive.files}
    header = json.loads(str(arrays["header"]))

    def write(name, header, **changes):
        path = tmp_path / name
        np.savez(path, **{**arrays, "header": np.array(json.dumps(header)), **changes})
        return path

    old = {key: value for key, value in header.items() if key not in ("patience", "min_delta", "halving")}
    loaded = fastnn.load(write("old.npz", old))
    assert same_sweep(loaded, sweep_result) and same_monitor(loaded, sweep_result)
    bad = {
        "val_losses of the wrong shape": (header, dict(val_losses=np.zeros((8, 2))), "val_losses has shape"),
        "best_epoch of floats": (header, dict(best_epoch=np.zeros(8)), "best_epoch is float64"),
        "halving eta 1": ({**header, "halving": {"eta": 1, "first_rung": 1}}, {}, "eta must be >= 2"),
        "halving without first_rung": ({**header, "halving": {"eta": 3}}, {}, "missing 'first_rung'"),
        "patience 0": ({**header, "patience": 0}, {}, "patience is 0"),
        "negative min_delta": ({**header, "min_delta": -1.0}, {}, "min_delta is -1.0"),
    }
    for i, (what, (head, changes, words)) in enumerate(bad.items()):
        path = write(f"bad{i}.npz", head, **changes)
        with pytest.raises(ValueError) as info:
            fastnn.load(path)
        assert str(path) in str(info.value) and words in str(info.value), (what, str(info.value))


# ------------------------------------------------------------------ damaged files

DAMAGE_CASES = {"network": 0, "sweep": 0}


def load_damaged(path, blob, original, same):
    """Write blob, load it: a ValueError naming the file, or the identical object."""
    path.write_bytes(blob)
    try:
        loaded = fastnn.load(path)
    except ValueError as exc:
        assert str(path) in str(exc), str(exc)
        return "error"
    assert same(loaded, original), "a damaged file loaded as a different object"
    return "same"


def test_network_file_truncated_or_flipped_anywhere(tmp_path):
    """The network file cut at every length, each of its bytes flipped with 0xFF, and
    every other byte flipped with 0x01: ValueError, or (metadata no reader checks, e.g.
    a zip timestamp) the identical network. Prints the counts."""
    net = trained_network()
    net.save(tmp_path / "net.npz")
    data = (tmp_path / "net.npz").read_bytes()
    bad = tmp_path / "bad.npz"
    outcomes = {"error": 0, "same": 0}
    for n in range(len(data)):
        outcomes[load_damaged(bad, data[:n], net, same_network)] += 1
    assert outcomes["same"] == 0  # every truncation is detected
    for i in range(len(data)):
        for mask in (0xFF, 0x01) if i % 2 == 0 else (0xFF,):
            blob = bytearray(data)
            blob[i] ^= mask
            outcomes[load_damaged(bad, bytes(blob), net, same_network)] += 1
    total = sum(outcomes.values())
    DAMAGE_CASES["network"] = total
    print(f"\nnetwork file of {len(data)} bytes: {total} damaged versions loaded: {outcomes}")
    assert outcomes["error"] > 0.8 * total


def test_sweep_file_truncated_or_flipped(tmp_path, sweep_result):
    """The same for a sweep file (sampled: cut at every 17th length, every 7th byte
    flipped with 0xFF)."""
    sweep_result.save(tmp_path / "sweep.npz")
    data = (tmp_path / "sweep.npz").read_bytes()
    bad = tmp_path / "bad.npz"
    outcomes = {"error": 0, "same": 0}
    for n in range(0, len(data), 17):
        outcomes[load_damaged(bad, data[:n], sweep_result, same_sweep)] += 1
    for i in range(0, len(data), 7):
        blob = bytearray(data)
        blob[i] ^= 0xFF
        outcomes[load_damaged(bad, bytes(blob), sweep_result, same_sweep)] += 1
    DAMAGE_CASES["sweep"] = sum(outcomes.values())
    print(f"\nsweep file of {len(data)} bytes: {DAMAGE_CASES['sweep']} damaged versions loaded: {outcomes}")
    assert outcomes["error"] > 0.8 * DAMAGE_CASES["sweep"]


def test_garbage_in_the_middle(tmp_path):
    """16 bytes of garbage over the middle of the file: ValueError."""
    trained_network().save(tmp_path / "net.npz")
    data = bytearray((tmp_path / "net.npz").read_bytes())
    middle = len(data) // 2
    data[middle : middle + 16] = bytes(range(0xA0, 0xB0))
    (tmp_path / "net.npz").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="not a readable fastnn file"):
        fastnn.load(tmp_path / "net.npz")


class Boom:
    """Unpickling this runs code: a file carrying it must never be unpickled."""

    def __reduce__(self):
        return (open, (os.environ["FASTNN_TEST_PWNED"], "w"))


def _writer(function, *args, **kwargs):
    def write(path):
        with open(path, "wb") as handle:
            function(handle, *args, **kwargs)

    return write


def _zip_of_other_files(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")


NOT_FASTNN = {
    "empty file": lambda path: path.write_bytes(b""),
    "text": lambda path: path.write_text("sizes: [2, 2, 1]\n"),
    "random bytes": lambda path: path.write_bytes(np.random.default_rng(0).bytes(4096)),
    "bare .npy array": _writer(np.save, np.zeros(13)),
    "pickle": lambda path: path.write_bytes(pickle.dumps(Boom())),
    ".npy of pickled objects": _writer(np.save, np.array([Boom()], dtype=object), allow_pickle=True),
    ".npz with pickled objects": _writer(np.savez, header=np.array([Boom()], dtype=object)),
    "zip of other files": _zip_of_other_files,
    "npz without header": _writer(np.savez, params=np.zeros(13)),
}


@pytest.mark.parametrize("make", NOT_FASTNN.values(), ids=list(NOT_FASTNN))
def test_not_a_fastnn_file(tmp_path, monkeypatch, make):
    """Files that are not fastnn files at all: ValueError naming the file; a pickle
    inside is never executed (allow_pickle=False)."""
    pwned = tmp_path / "pwned"
    monkeypatch.setenv("FASTNN_TEST_PWNED", str(pwned))
    path = tmp_path / "file.npz"
    make(path)
    with pytest.raises(ValueError) as info:
        fastnn.load(path)
    assert str(path) in str(info.value)
    assert not pwned.exists()


GOOD_HEADER = {"format": "fastnn.network", "version": 1, "sizes": [1, 1], "activations": ["linear"],
               "loss": "mse", "bias": True, "seed": None, "init": "array"}
BAD_HEADERS = {
    # name: (header text or dict, params, words the message must contain)
    "another format": (dict(GOOD_HEADER, format="keras.model"), np.zeros(2), "not a fastnn file"),
    "no format": ({k: v for k, v in GOOD_HEADER.items() if k != "format"}, np.zeros(2), "not a fastnn file"),
    "future version": (dict(GOOD_HEADER, version=2), np.zeros(2), "upgrade fastnn"),
    "far future version": (dict(GOOD_HEADER, version=10**30), np.zeros(2), "upgrade fastnn"),
    "version 0": (dict(GOOD_HEADER, version=0), np.zeros(2), "version"),
    "version text": (dict(GOOD_HEADER, version="1"), np.zeros(2), "version"),
    "version true": (dict(GOOD_HEADER, version=True), np.zeros(2), "version"),
    "version Infinity": ('{"format": "fastnn.network", "version": Infinity}', np.zeros(2), "version"),
    "version 1.5": (dict(GOOD_HEADER, version=1.5), np.zeros(2), "version"),
    "not JSON": ("{format: fastnn.network", np.zeros(2), "header"),
    "JSON list": ("[1, 2]", np.zeros(2), "header"),
    "header not text": (np.zeros(3), np.zeros(2), "header"),
    "missing params": (GOOD_HEADER, None, "params"),
    "missing sizes": ({k: v for k, v in GOOD_HEADER.items() if k != "sizes"}, np.zeros(2), "sizes"),
    "params float32": (GOOD_HEADER, np.zeros(2, dtype=np.float32), "params"),
    "params 2-D": (GOOD_HEADER, np.zeros((1, 2)), "params"),
    "params too long": (GOOD_HEADER, np.zeros(3), "params"),
    "params NaN": (GOOD_HEADER, np.array([np.nan, 0.0]), "params"),
    "params text": (GOOD_HEADER, np.array(["a", "b"]), "params"),
    "sizes text": (dict(GOOD_HEADER, sizes="11"), np.zeros(2), "sizes"),
    "sizes enormous": (dict(GOOD_HEADER, sizes=[1, 10**30]), np.zeros(2), "sizes"),
    "bad activation": (dict(GOOD_HEADER, activations=["swish"]), np.zeros(2), "activation"),
    "bad seed": (dict(GOOD_HEADER, seed=-1), np.zeros(2), "seed"),
    "seed float": (dict(GOOD_HEADER, seed=1.5), np.zeros(2), "seed"),
    "bias text": (dict(GOOD_HEADER, bias="yes"), np.zeros(2), "bias"),
    "sweep: groups not a list": ({"format": "fastnn.sweep", "version": 1, "groups": 5, "checkpoints": []}, None,
                                 "fastnn.sweep"),
    "sweep: missing arrays": ({"format": "fastnn.sweep", "version": 1, "checkpoints": [],
                               "groups": [{"hidden": [], "batch_size": 1, "sizes": [1, 1], "activations": ["linear"],
                                           "loss": "mse", "bias": True}]}, None, "fastnn.sweep"),
}


@pytest.mark.parametrize("header, params, words", BAD_HEADERS.values(), ids=list(BAD_HEADERS))
def test_wrong_format_or_version(tmp_path, header, params, words):
    """A well-formed archive with a header of another format, a newer or nonsensical
    version, or contents that do not make a network: ValueError naming the file and
    what is wrong."""
    import json

    text = header if isinstance(header, (str, np.ndarray)) else json.dumps(header)
    arrays = {"header": np.array(text) if isinstance(text, str) else text}
    if params is not None:
        arrays["params"] = params
    path = tmp_path / "file.npz"
    np.savez(path, **arrays)
    with pytest.raises(ValueError) as info:
        fastnn.load(path)
    message = str(info.value)
    assert str(path) in message and words in message, message


def test_unopenable_paths(tmp_path):
    """A missing file, a folder, a path of the wrong type: the usual OSError / TypeError."""
    with pytest.raises(FileNotFoundError):
        fastnn.load(tmp_path / "missing.npz")
    with pytest.raises(IsADirectoryError):
        fastnn.load(tmp_path)
    with pytest.raises(TypeError, match="path"):
        fastnn.load(3)
    with pytest.raises(TypeError, match="path"):
        fastnn.Network([1, 1]).save(None)


# ------------------------------------------------------------------ atomic writes


def leftovers(folder, keep):
    return sorted(set(os.listdir(folder)) - set(keep))


def partial_savez(exc):
    """A numpy.savez that writes half an archive, then raises exc (a crash mid-write)."""

    def savez(handle, **arrays):
        handle.write(b"PK\x03\x04 half an archive")
        raise exc

    return savez


CRASHES = {
    "savez raises OSError (disk full)": ("numpy", partial_savez(OSError(28, "No space left on device")), OSError),
    "savez interrupted (Ctrl-C)": ("numpy", partial_savez(KeyboardInterrupt()), KeyboardInterrupt),
    "os.replace fails": ("os", OSError(13, "Permission denied"), OSError),
    "os.replace interrupted": ("os", KeyboardInterrupt(), KeyboardInterrupt),
}


@pytest.mark.parametrize("what", ["network", "sweep"])
@pytest.mark.parametrize("where, failure, exc", CRASHES.values(), ids=list(CRASHES))
def test_crash_mid_save_keeps_the_previous_file(tmp_path, monkeypatch, sweep_result, what, where, failure, exc):
    """A save that fails inside numpy.savez or os.replace raises that error, leaves the
    previous file byte-for-byte intact and loadable, and leaves no temporary file."""
    target = tmp_path / "model.npz"
    old = trained_network()
    old.save(target)
    before = target.read_bytes()
    if where == "numpy":
        monkeypatch.setattr(np, "savez", failure)
    else:
        def replace(src, dst):
            raise failure

        monkeypatch.setattr(os, "replace", replace)
    new = fastnn.Network([1, 1], "linear", "mse", seed=3)
    with pytest.raises(exc):
        (new if what == "network" else sweep_result).save(target)
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert leftovers(tmp_path, ["model.npz"]) == []
    assert same_network(fastnn.load(target), old)


def test_failed_first_save_creates_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(np, "savez", partial_savez(OSError(5, "I/O error")))
    with pytest.raises(OSError):
        fastnn.Network([1, 1]).save(tmp_path / "new.npz")
    assert os.listdir(tmp_path) == []


def test_process_killed_mid_save_keeps_the_previous_file(tmp_path):
    """The process dies (os._exit, as under SIGKILL or a power cut) after writing half of
    the new archive: the previous file is intact and loads; at worst a stray
    .fastnn-*.tmp is left beside it, never at the target's name."""
    target = tmp_path / "model.npz"
    old = trained_network()
    old.save(target)
    before = target.read_bytes()
    script = textwrap.dedent(f"""
        import os, numpy as np, fastnn
        def savez(handle, **arrays):
            handle.write(b"PK\\x03\\x04 half")
            handle.flush()
            os._exit(9)
        np.savez = savez
        fastnn.Network([1, 1], "linear", "mse").save({str(target)!r})
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 9, done.stderr
    assert target.read_bytes() == before
    assert same_network(fastnn.load(target), old)
    assert all(name.startswith(".fastnn-") and name.endswith(".tmp") for name in leftovers(tmp_path, ["model.npz"]))


def test_non_finite_params_are_not_saved(tmp_path):
    """params made NaN through a view cannot be saved (load would refuse the file): a
    ValueError, and the previous file stays."""
    target = tmp_path / "model.npz"
    net = trained_network()
    net.save(target)
    before = target.read_bytes()
    net.weight(0)[0, 0] = np.nan
    with pytest.raises(ValueError, match="params"):
        net.save(target)
    assert target.read_bytes() == before and leftovers(tmp_path, ["model.npz"]) == []


def test_saved_file_permissions(tmp_path):
    """A new file gets the usual permissions (0666 minus the umask), not the temporary
    file's 0600; replacing a file keeps that file's permissions."""
    umask = os.umask(0o022)
    try:
        fastnn.Network([1, 1]).save(tmp_path / "new.npz")
        assert stat.S_IMODE(os.stat(tmp_path / "new.npz").st_mode) == 0o644
        os.chmod(tmp_path / "new.npz", 0o640)
        fastnn.Network([1, 1]).save(tmp_path / "new.npz")
        assert stat.S_IMODE(os.stat(tmp_path / "new.npz").st_mode) == 0o640
    finally:
        os.umask(umask)
    assert atomic._umask() == umask
