"""Saving and loading networks and sweep results, without pickle.

A file is a NumPy ``.npz`` archive (a zip of ``.npy`` arrays, each with a CRC) holding
plain numeric arrays and one ``header``: a JSON text with ``format`` (``fastnn.network`` or
``fastnn.sweep``), ``version`` and what is needed to rebuild the object (sizes,
activations, loss, bias, ...). Loading uses ``allow_pickle=False``, so a file can carry
no code. Writes go to a temporary file in the same folder (``.fastnn-*.tmp``), flushed to
disk, then renamed over the target: an exception mid-save leaves the previous file intact
and removes the temporary file; a killed process leaves the previous file intact and, at
worst, a stray ``.fastnn-*.tmp`` beside it. The saved file gets the permissions of the file
it replaces, or the usual ones (0666 minus the umask) for a new file.

``load`` raises ValueError for anything that is not an intact fastnn file of a version it
knows (truncated, corrupted, not a zip, a bare .npy, another format, a newer version), and
OSError when the file cannot be opened at all.

Network files: ``header``, ``params`` (n_params,) float64.
Sweep files: ``header``, ``configs`` (structured), ``losses`` (K, E), ``diverged_epoch``
(K,), ``stuck`` (K,) bool (absent in files from before it was recorded: loaded as None),
and per group g: ``indices_g``, ``params_g`` (k_g, n_params), ``checkpoints_g``
(C, k_g, n_params). A sweep with held-out data or stopping also has, where it recorded
them, ``val_losses`` and ``val_accuracy`` (K, E) float64, ``best_epoch``,
``stopped_epoch`` and ``pruned_epoch`` (K,) int64, and in the header ``halving``
({eta, first_rung} or absent), ``patience`` (int or null) and ``min_delta``; files from
before them load with those fields None (min_delta 0.0).
"""
from __future__ import annotations

import json
import os

import numpy as np

from .atomic import write_atomically

FORMAT_VERSION = 1
NETWORK = "fastnn.network"
SWEEP = "fastnn.sweep"
# A sweep's held-out data and stopping arrays: name -> (dtype kinds, ndim, dtype kept)
MONITOR_ARRAYS = {
    "val_losses": ("f", 2, np.float64),
    "val_accuracy": ("f", 2, np.float64),
    "best_epoch": ("iu", 1, np.int64),
    "stopped_epoch": ("iu", 1, np.int64),
    "pruned_epoch": ("iu", 1, np.int64),
}


def _path(path):
    try:
        return os.fsdecode(os.fspath(path))  # bytes paths too (mkstemp needs str parts)
    except TypeError:
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}") from None


def _write(path, arrays):
    write_atomically(_path(path), lambda handle: np.savez(handle, **arrays))


def _header_array(header):
    return np.array(json.dumps(header, sort_keys=True))


def save_network(net, path):
    if not np.isfinite(net.params).all():
        # A file that load() refuses would be a network lost; the old file stays as it was.
        raise ValueError("params hold NaN or inf (written through weight()/bias()?): nothing was saved")
    header = {
        "format": NETWORK,
        "version": FORMAT_VERSION,
        "sizes": list(net.spec.sizes),
        "activations": list(net.spec.activations),
        "loss": net.spec.loss,
        "bias": net.spec.bias,
        "seed": net.seed,
        "init": net.init,
    }
    _write(path, {"header": _header_array(header), "params": net.params})


def save_sweep(result, path):
    header = {
        "format": SWEEP,
        "version": FORMAT_VERSION,
        "checkpoints": list(result.checkpoints),
        "seconds": result.seconds,
        "compile_seconds": result.compile_seconds,
        "groups": [
            {
                "hidden": list(g.hidden),
                "batch_size": g.batch_size,
                "sizes": list(g.spec.sizes),
                "activations": list(g.spec.activations),
                "loss": g.spec.loss,
                "bias": g.spec.bias,
                **({} if g.options is None else {"options": _options_header(g.options)}),
            }
            for g in result.groups
        ],
        "patience": None if result.patience is None else int(result.patience),
        "min_delta": float(result.min_delta),
    }
    if result.halving is not None:
        header["halving"] = {"eta": result.halving.eta, "first_rung": result.halving.first_rung}
    arrays = {
        "header": _header_array(header),
        "configs": result.configs,
        "losses": result.losses,
        "diverged_epoch": result.diverged_epoch,
    }
    if result.stuck is not None:
        arrays["stuck"] = result.stuck
    for name in MONITOR_ARRAYS:
        if getattr(result, name) is not None:
            arrays[name] = getattr(result, name)
    for i, g in enumerate(result.groups):
        arrays[f"indices_{i}"] = g.indices
        arrays[f"params_{i}"] = g.params
        arrays[f"checkpoints_{i}"] = g.checkpoint_params
    _write(path, arrays)


def _options_header(options):
    """A group's TrainOptions as JSON: the optimizer's name and settings, the penalties, dropout."""
    from dataclasses import asdict

    p = options.penalties
    return {"optimizer": options.optimizer.name, "settings": asdict(options.optimizer), "l1": list(p.l1),
            "l2": list(p.l2), "l1_bias": list(p.l1_bias), "l2_bias": list(p.l2_bias),
            "dropout": list(options.dropout)}


def _options(spec, header):
    """The TrainOptions a group's header names (validated as fit validates them)."""
    from .optim import OPTIMIZERS
    from .options import TrainOptions

    if header is None:
        return None
    optimizer = OPTIMIZERS[header["optimizer"]](**header["settings"])
    return TrainOptions.build(spec, optimizer, header["l1"], header["l2"], header["l1_bias"], header["l2_bias"],
                              header["dropout"] if spec.n_layers > 1 else 0.0)


def load(path):
    """A Network or SweepResult from a file written by ``save``.

    Raises ValueError if the file is not one (not a zip, a bare .npy, another format),
    is truncated or corrupted, or comes from a newer fastnn; OSError (FileNotFoundError,
    PermissionError, IsADirectoryError) if it cannot be opened at all.
    """
    path = _path(path)
    with open(path, "rb") as handle:
        try:
            archive = np.load(handle, allow_pickle=False)
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise ValueError(f"it holds a single {type(archive).__name__}, not an .npz archive")
            with archive:
                arrays = {name: archive[name] for name in archive.files}
        except Exception as exc:  # zipfile, zlib, numpy's format parser: anything means damaged
            raise ValueError(
                f"{path} is not a readable fastnn file (truncated or corrupted?): {type(exc).__name__}: {exc}"
            ) from None
    kind, version, header = _header(path, arrays)
    if kind not in (NETWORK, SWEEP):
        raise ValueError(f"{path} is not a fastnn file (format {kind!r})")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{path} was written in fastnn file format version {version}; this fastnn reads versions "
            f"up to {FORMAT_VERSION}: upgrade fastnn"
        )
    try:
        return _network(header, arrays) if kind == NETWORK else _sweep(header, arrays)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        what = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
        raise ValueError(f"{path} is a damaged {kind} file: {what}") from None


def _header(path, arrays):
    """(format, version, header dict) from the archive's JSON header."""
    if "header" not in arrays:
        raise ValueError(f"{path} is not a fastnn file: it has no header")
    text = arrays["header"]
    if text.dtype.kind != "U" or text.ndim != 0:
        raise ValueError(f"{path} has a damaged fastnn header: {text.dtype} {text.shape}, not a text")
    try:
        header = json.loads(str(text))
    except ValueError as exc:
        raise ValueError(f"{path} has a damaged fastnn header: {exc}") from None
    if not isinstance(header, dict):
        raise ValueError(f"{path} has a damaged fastnn header: not a JSON object")
    kind, version = header.get("format"), header.get("version")
    if not isinstance(kind, str):
        raise ValueError(f"{path} is not a fastnn file (format {kind!r})")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"{path} has a damaged fastnn header: version {version!r}")
    return kind, version, header


def _array(arrays, name, kind, ndim):
    value = arrays[name]
    if value.dtype.kind not in kind or value.ndim != ndim:
        raise ValueError(f"{name} is {value.dtype} of shape {value.shape}")
    return value


def _network(header, arrays):
    from .network import Network

    init = arrays["params"]
    if init.dtype != np.float64 or init.ndim != 1:
        raise ValueError(f"params must be a flat float64 array, found {init.dtype} {init.shape}")
    return Network(header["sizes"], header["activations"], header["loss"], header["bias"], init=init,
                   seed=header.get("seed"))


def _sweep(header, arrays):
    from .spec import Spec
    from .sweep_result import Group, SweepResult

    configs = _array(arrays, "configs", "V", 1)
    if set(configs.dtype.names or ()) < {"lr", "seed", "hidden", "batch_size", "group"}:
        raise ValueError(f"configs has fields {configs.dtype.names}")
    K = configs.shape[0]
    losses = _array(arrays, "losses", "f", 2)
    diverged = _array(arrays, "diverged_epoch", "iu", 1)
    if losses.shape[0] != K or diverged.shape != (K,):
        raise ValueError(f"{K} configurations but losses {losses.shape}, diverged_epoch {diverged.shape}")
    stuck = arrays.get("stuck")
    if stuck is not None and (stuck.dtype != np.bool_ or stuck.shape != (K,)):
        raise ValueError(f"{K} configurations but stuck is {stuck.dtype} of shape {stuck.shape}")
    checkpoints = tuple(int(c) for c in header["checkpoints"])
    groups, seen = [], []
    for i, g in enumerate(header["groups"]):
        spec = Spec.build(g["sizes"], g["activations"], g["loss"], g["bias"])
        indices = _array(arrays, f"indices_{i}", "iu", 1)
        params = _array(arrays, f"params_{i}", "f", 2)
        kept = _array(arrays, f"checkpoints_{i}", "f", 3)
        k = indices.shape[0]
        if params.shape != (k, spec.n_params) or kept.shape != (len(checkpoints), k, spec.n_params):
            raise ValueError(
                f"group {i} has {k} configurations of {spec.n_params} parameters but params {params.shape}, "
                f"checkpoints {kept.shape}"
            )
        seen.append(indices)
        groups.append(Group(tuple(int(w) for w in g["hidden"]), int(g["batch_size"]), spec, indices, params, kept,
                            _options(spec, g.get("options"))))
    everyone = np.sort(np.concatenate(seen)) if seen else np.empty(0, dtype=np.int64)
    if not np.array_equal(everyone, np.arange(K)) or not np.isin(configs["group"], np.arange(len(groups))).all():
        raise ValueError("the groups do not cover the configurations one to one")
    monitor = {}
    for name, (kind, ndim, dtype) in MONITOR_ARRAYS.items():
        if name in arrays:
            value = _array(arrays, name, kind, ndim)
            if value.shape != losses.shape[:ndim]:
                raise ValueError(f"{name} has shape {value.shape}, not {losses.shape[:ndim]}")
            monitor[name] = value.astype(dtype, copy=False)
    return SweepResult(configs, losses, diverged, checkpoints, groups,
                       float(header.get("seconds", 0.0)), float(header.get("compile_seconds", 0.0)), stuck,
                       **monitor, **_monitor_settings(header))


def _monitor_settings(header):
    """halving, patience and min_delta from a sweep header (absent: None, None, 0.0)."""
    from .halving import Halving

    halving = header.get("halving")
    if halving is not None:
        if not isinstance(halving, dict):
            raise ValueError(f"halving is {halving!r}")
        halving = Halving(halving["eta"], halving["first_rung"])
    patience = header.get("patience")
    if patience is not None and (isinstance(patience, bool) or not isinstance(patience, int) or patience < 1):
        raise ValueError(f"patience is {patience!r}")
    min_delta = header.get("min_delta", 0.0)
    if isinstance(min_delta, bool) or not isinstance(min_delta, (int, float)) or not min_delta >= 0:
        raise ValueError(f"min_delta is {min_delta!r}")
    return {"halving": halving, "patience": patience, "min_delta": float(min_delta)}
