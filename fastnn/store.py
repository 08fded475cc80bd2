"""Sweeps that survive interruption: ``fastnn.sweep(..., store=FOLDER)``.

Every block of configurations is written to the folder as soon as it is trained; a sweep
started again with the same arguments and data loads the blocks found there and trains
only the others. Blocks are independent and each is trained from its own inputs to the
last epoch, so the result equals an uninterrupted run's bit for bit, after Ctrl-C, a
``kill -9`` or a power cut alike.

The folder holds:

* ``manifest.json``: what decides the results: digests of the configurations table, X and
  y, and epochs, shuffle, init (and the common starting parameters, if any), checkpoints,
  chunk (the block size), the networks, and the fastnn version (with a digest of its kernel
  sources). A sweep whose manifest differs is refused (ValueError naming ``store``), so
  blocks of two different sweeps never mix.
* ``g<group>-b<block>.npz``: one block's results, keyed by group and block index (block b
  of a group holds its configurations ``b * chunk`` up to ``(b + 1) * chunk``): ``header``
  (JSON: the manifest's digest, group, block), ``losses`` (n, epochs), ``diverged_epoch``
  (n,), ``stuck`` (n,), ``params`` (n_params, n), ``checkpoints`` (n_checkpoints,
  n_params, n). NumPy ``.npz`` without pickle, written atomically (``fastnn.atomic``: a
  temporary file, flushed to disk, renamed into place).
* ``w<segment>-g<group>-b<block>.npz``: in a watched sweep (validation data, patience,
  halving: ``fastnn.sweep_monitor``), one block's result for one segment between halving
  rungs: every value its configurations carry to the next epoch (parameters, optimizer
  states, best loss so far, ...) and the segment's curves. A rerun replays the segments
  from these files, rung by rung, and trains the blocks it does not find.
* ``.fastnn-*.tmp``: a write cut short; never read, and removed once a sweep completes.

A block file that cannot be read back (a damaged disk, say) is reported with a warning and
trained again.

Test hook: the environment variable ``FASTNN_TEST_STORE_FAULT`` makes the writer fail on
purpose: ``exit-after:N`` ends the process (``os._exit``) right after the N-th block file,
``half-write:N`` after writing half of the N-th block's temporary file, ``delay:S`` sleeps
S seconds after each block file (so that a test can kill the process mid-sweep).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import time
import warnings

import numpy as np

from .atomic import write_atomically

FORMAT = "fastnn.sweep-store"
BLOCK_FORMAT = "fastnn.sweep-store-block"
VERSION = 1
MANIFEST = "manifest.json"
_BLOCK = re.compile(r"^g(\d+)-b(\d+)\.npz$")
_TEMP = re.compile(r"^\.fastnn-.*\.tmp$")
FAULT_VARIABLE = "FASTNN_TEST_STORE_FAULT"


def _digest_array(array):
    array = np.ascontiguousarray(array)
    digest = hashlib.sha256()
    digest.update(repr((array.dtype.descr, array.shape)).encode())
    digest.update(array.tobytes())
    return digest.hexdigest()[:32]


def manifest(configs, X, y, *, epochs, shuffle, init, start_params, checkpoints, chunk, specs, monitor=None,
             halving=None):
    """The fields that decide a sweep's results (JSON values); ``monitor``
    (``fastnn.history.Monitor``) and ``halving``: a watched sweep's settings."""
    from . import __version__
    from .kernels.compiler import sources_digest

    fields = {
        "fastnn": f"{__version__} (kernel sources {sources_digest()})",
        "configs": _digest_array(configs),
        "X": _digest_array(X),
        "y": _digest_array(y),
        "epochs": int(epochs),
        "shuffle": bool(shuffle),
        "init": init if start_params is None else f"given parameters {_digest_array(start_params)}",
        "checkpoints": [int(c) for c in checkpoints],
        "chunk": int(chunk),
        "networks": [[list(s.sizes), list(s.activations), s.loss, bool(s.bias)] for s in specs],
    }
    if monitor is not None:  # absent otherwise, so the stores of plain sweeps stay valid
        fields["watch"] = {
            "validation": None if monitor.X_val is None else [_digest_array(monitor.X_val),
                                                               _digest_array(monitor.Y_val)],
            "patience": monitor.patience, "min_delta": float(monitor.min_delta),
            "restore_best": bool(monitor.restore_best),
            "halving": None if halving is None else [halving.eta, halving.first_rung],
        }
    return fields


_DIGESTS = {"configs": "the configurations (lr, seeds, hidden, batch_size, optimizer, l1, l2, dropout)",
            "X": "the inputs X", "y": "the targets y",
            "watch": "the validation data, patience, min_delta, restore_best or halving"}


def _show(value):
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def open_store(path, fields):
    """The store in folder ``path`` for the sweep described by ``fields`` (``manifest``):
    created when the folder is new or empty, reopened when its manifest matches; ValueError
    naming ``store`` otherwise."""
    fields = json.loads(json.dumps(fields))  # as read back from the file
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"store: {path!r} is a file; give a folder (new, empty, or one an earlier run of "
                         "this sweep wrote)")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"store: cannot create the folder {path!r}: {exc}") from None
    manifest_path = os.path.join(path, MANIFEST)
    try:
        with open(manifest_path, "rb") as handle:
            text = handle.read()
    except FileNotFoundError:
        others = sorted(name for name in os.listdir(path) if not _TEMP.match(name))
        if others:
            listed = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
            raise ValueError(f"store: {path!r} holds files ({listed}) but no fastnn sweep manifest: give a new or "
                             "empty folder") from None
        body = {"format": FORMAT, "version": VERSION, "sweep": fields}
        write_atomically(manifest_path, lambda handle: handle.write(json.dumps(body, indent=1).encode()))
        return Store(path, fields)
    except OSError as exc:
        raise ValueError(f"store: cannot read {manifest_path!r}: {exc}") from None
    try:
        body = json.loads(text)
        if not isinstance(body, dict) or not isinstance(body.get("sweep"), dict):
            raise ValueError("not a JSON object with a 'sweep' entry")
    except ValueError as exc:
        raise ValueError(f"store: {manifest_path!r} is damaged ({exc}); delete the folder to start again") from None
    if body.get("format") != FORMAT:
        raise ValueError(f"store: {path!r} is not a fastnn sweep store (format {body.get('format')!r})")
    version = body.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise ValueError(f"store: {path!r} was written in store format {version!r}; this fastnn reads up to "
                         f"{VERSION}: upgrade fastnn")
    stored = body["sweep"]
    differ = [name for name in fields if stored.get(name) != fields[name]]
    differ += [name for name in stored if name not in fields]
    if differ:
        details = "; ".join(f"{_DIGESTS[name]} differ" if name in _DIGESTS else
                            f"{name}: stored {_show(stored.get(name))}, now {_show(fields.get(name))}"
                            for name in differ)
        raise ValueError(f"store: {path!r} holds the blocks of a different sweep (different arguments, data or "
                         f"fastnn version: {details}); give another folder, or delete this one to start over")
    return Store(path, fields)


class Store:
    """An open store: ``load`` the finished blocks, ``write`` one as it completes."""

    def __init__(self, path, fields):
        self.path = path
        self.digest = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:32]
        self.opened = time.time()
        self.written = 0
        self.fault = _fault()

    def _file(self, group, block):
        return os.path.join(self.path, f"g{group:05d}-b{block:06d}.npz")

    def load(self, shapes, epochs, chunk):
        """{(group, block): (losses, diverged_epoch, params, checkpoints, stuck)} for every
        intact block file whose group and block the sweep has. ``shapes[group]``:
        (configurations in the group, n_params, n_checkpoints)."""
        found = {}
        for name in sorted(os.listdir(self.path)):
            match = _BLOCK.match(name)
            if not match:
                continue
            group, block = int(match.group(1)), int(match.group(2))
            if group not in shapes or block * chunk >= shapes[group][0]:
                warnings.warn(f"store: {name} names no block of this sweep; ignored", stacklevel=4)
                continue
            n_group, n_params, n_ckpt = shapes[group]
            n = min(chunk, n_group - block * chunk)
            try:
                found[(group, block)] = self._read(os.path.join(self.path, name), group, block, n, n_params, n_ckpt,
                                                   epochs)
            except Exception as exc:  # anything: the block is trained again
                warnings.warn(f"store: {name} cannot be read back ({type(exc).__name__}: {exc}); its block is "
                              "trained again", stacklevel=4)
        return found

    def _read(self, path, group, block, n, n_params, n_ckpt, epochs):
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        header = json.loads(str(arrays["header"]))
        if header != {"format": BLOCK_FORMAT, "version": VERSION, "sweep": self.digest, "group": group,
                      "block": block}:
            raise ValueError(f"its header {header} does not match this sweep")
        expected = {"losses": ((n, epochs), np.float64), "diverged_epoch": ((n,), np.int64),
                    "params": ((n_params, n), np.float64), "checkpoints": ((n_ckpt, n_params, n), np.float64),
                    "stuck": ((n,), np.bool_)}
        for name, (shape, dtype) in expected.items():
            if arrays[name].shape != shape or arrays[name].dtype != dtype:
                raise ValueError(f"{name} is {arrays[name].dtype} {arrays[name].shape}, expected {shape}")
        return (arrays["losses"], arrays["diverged_epoch"], arrays["params"], arrays["checkpoints"],
                arrays["stuck"])

    def _named(self, name):
        return os.path.join(self.path, f"{name}.npz")

    def read_arrays(self, name):
        """The arrays ``write_arrays`` wrote under ``name``, or None when there is no such
        file, or it cannot be read back (then with a warning: it is trained again)."""
        path = self._named(name)
        if not os.path.exists(path):
            return None
        try:
            with np.load(path, allow_pickle=False) as archive:
                arrays = {key: archive[key] for key in archive.files}
            header = json.loads(str(arrays.pop("header")))
            if header != {"format": BLOCK_FORMAT, "version": VERSION, "sweep": self.digest, "name": name}:
                raise ValueError(f"its header {header} does not match this sweep")
            return arrays
        except Exception as exc:  # anything: the block is trained again
            warnings.warn(f"store: {os.path.basename(path)} cannot be read back ({type(exc).__name__}: {exc}); its "
                          "block is trained again", stacklevel=4)
            return None

    def write_arrays(self, name, arrays):
        """Write the arrays ``arrays`` ({key: array}) under ``name``, atomically (a watched
        sweep's block: ``fastnn.sweep_monitor``)."""
        header = {"format": BLOCK_FORMAT, "version": VERSION, "sweep": self.digest, "name": name}
        buffer = io.BytesIO()
        np.savez(buffer, header=np.array(json.dumps(header, sort_keys=True)), **arrays)
        self._put(self._named(name), buffer.getvalue())

    def write(self, group, block, result):
        """Write one block's (losses, diverged_epoch, params, checkpoints, stuck), atomically."""
        losses, diverged, params, checkpoints, stuck = result
        header = {"format": BLOCK_FORMAT, "version": VERSION, "sweep": self.digest, "group": group, "block": block}
        buffer = io.BytesIO()
        np.savez(buffer, header=np.array(json.dumps(header, sort_keys=True)), losses=losses,
                 diverged_epoch=diverged.astype(np.int64), params=params, checkpoints=checkpoints,
                 stuck=stuck.astype(np.bool_))
        self._put(self._file(group, block), buffer.getvalue())

    def _put(self, path, data):
        """Write one file's bytes atomically (and obey the test hook)."""
        self.written += 1
        kind, value = self.fault
        if kind == "half-write" and self.written == value:
            def write(handle):
                handle.write(data[: len(data) // 2])
                handle.flush()
                os.fsync(handle.fileno())
                os._exit(75)

            write_atomically(path, write)
        write_atomically(path, lambda handle: handle.write(data))
        if kind == "exit-after" and self.written == value:
            os._exit(75)
        if kind == "delay":
            time.sleep(value)

    def finish(self):
        """After a complete sweep: remove the temporary files of writes cut short before."""
        for name in os.listdir(self.path):
            path = os.path.join(self.path, name)
            try:
                if _TEMP.match(name) and os.stat(path).st_mtime < self.opened:
                    os.unlink(path)
            except OSError:
                pass


def _fault():
    """(kind, value) from FASTNN_TEST_STORE_FAULT, or (None, None)."""
    text = os.environ.get(FAULT_VARIABLE, "").strip()
    if not text:
        return None, None
    kind, _, value = text.partition(":")
    if kind in ("exit-after", "half-write"):
        return kind, int(value)
    if kind == "delay":
        return kind, float(value)
    raise ValueError(f"{FAULT_VARIABLE}={text!r}: expected exit-after:N, half-write:N or delay:SECONDS")
