"""Saving and loading networks and sweep results, without pickle.

A file is a NumPy ``.npz`` archive (a zip of ``.npy`` arrays, each with a CRC) holding
plain numeric arrays and one ``header``: a JSON text with ``format`` (``fastnn.network`` or
``fastnn.sweep``), ``version`` and what is needed to rebuild the object (sizes,
activations, loss, bias, ...). Loading uses ``allow_pickle=False``, so a file can carry
no code. Writes go to a temporary file in the same folder that is then renamed over the
target: a crash mid-save leaves the previous file intact.

Network files: ``header``, ``params`` (n_params,) float64.
Sweep files: ``header``, ``configs`` (structured), ``losses`` (K, E), ``diverged_epoch``
(K,), and per group g: ``indices_g``, ``params_g`` (k_g, n_params), ``checkpoints_g``
(C, k_g, n_params).
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile

import numpy as np

FORMAT_VERSION = 1
NETWORK = "fastnn.network"
SWEEP = "fastnn.sweep"


def _write(path, arrays):
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".fastnn-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _header_array(header):
    return np.array(json.dumps(header, sort_keys=True))


def save_network(net, path):
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
            }
            for g in result.groups
        ],
    }
    arrays = {
        "header": _header_array(header),
        "configs": result.configs,
        "losses": result.losses,
        "diverged_epoch": result.diverged_epoch,
    }
    for i, g in enumerate(result.groups):
        arrays[f"indices_{i}"] = g.indices
        arrays[f"params_{i}"] = g.params
        arrays[f"checkpoints_{i}"] = g.checkpoint_params
    _write(path, arrays)


def load(path):
    """A Network or SweepResult from a file written by ``save`` (raises ValueError if the
    file is not one, is truncated or corrupted, or comes from a newer fastnn)."""
    path = os.fspath(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as exc:
        raise ValueError(f"{path} is not a readable fastnn file (truncated or corrupted?): {exc}") from None
    if "header" not in arrays:
        raise ValueError(f"{path} is not a fastnn file: it has no header")
    try:
        header = json.loads(str(arrays["header"]))
        kind, version = header["format"], int(header["version"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} has a damaged fastnn header: {exc}") from None
    if kind not in (NETWORK, SWEEP):
        raise ValueError(f"{path} is not a fastnn file (format {kind!r})")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{path} was written in fastnn file format version {version}; this fastnn reads versions "
            f"up to {FORMAT_VERSION}: upgrade fastnn"
        )
    try:
        return _network(header, arrays) if kind == NETWORK else _sweep(header, arrays)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path} is missing part of a {kind} file: {exc}") from None


def _network(header, arrays):
    from .network import Network

    init = arrays["params"]
    if init.dtype != np.float64 or init.ndim != 1:
        raise ValueError(f"params must be a flat float64 array, found {init.dtype} {init.shape}")
    return Network(header["sizes"], header["activations"], header["loss"], header["bias"], init=init,
                   seed=header.get("seed"))


def _sweep(header, arrays):
    from .spec import Spec
    from .sweep import Group, SweepResult

    groups = []
    for i, g in enumerate(header["groups"]):
        spec = Spec.build(g["sizes"], g["activations"], g["loss"], g["bias"])
        params = arrays[f"params_{i}"]
        if params.shape[1:] != (spec.n_params,):
            raise ValueError(f"group {i} parameters have shape {params.shape}, expected (*, {spec.n_params})")
        groups.append(Group(tuple(g["hidden"]), int(g["batch_size"]), spec, arrays[f"indices_{i}"], params,
                            arrays[f"checkpoints_{i}"]))
    return SweepResult(arrays["configs"], arrays["losses"], arrays["diverged_epoch"], tuple(header["checkpoints"]),
                       groups, float(header.get("seconds", 0.0)), float(header.get("compile_seconds", 0.0)))
