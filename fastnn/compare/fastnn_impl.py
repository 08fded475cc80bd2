"""fastnn itself as a comparison: ``Network.fit`` with a given backend.

``backend`` is one of ``fastnn.network.BACKENDS``: ``"numba"`` (the fastest kernel:
unrolled for small networks, explicit-SIMD loops for wider ones, the generic loops past
1,024 units a layer), ``"generic"`` (the generic numba
loops) or ``"reference"`` (the pure-Python oracle). The timed call is the public API,
validation of X and y included.
"""
from __future__ import annotations

import time

from . import Prepared


def prepare(case, epochs, backend="numba"):
    net = case.network()
    X, y = case.data()
    initial = net.params.copy()
    last = {}

    def fit(n_epochs):
        net.params = initial  # copies into the network's buffer
        return net.fit(X, y, case.lr, n_epochs, batch_size=case.batch_size, backend=backend,
                       optimizer=getattr(case, "optimizer", "sgd"))

    def run():
        last["history"] = fit(epochs)

    warmup = None
    if backend != "reference":
        # Compile (or load from numba's cache) outside the timed region. On a shape whose
        # generated kernel is not compiled yet, that first fit runs on the shape-generic
        # kernel while the generated one compiles in the background (kernels.tiering):
        # wait for it and load it, so that the timed runs are on the generated kernel.
        from ..kernels import tiering

        started = time.perf_counter()
        fit(1)
        tiering.wait()  # returns at once when no compile is running
        fit(1)  # loads the generated kernel, if the first fit did not run on it
        warmup = time.perf_counter() - started
    return Prepared(run, epochs, epochs * len(X), lambda: (last["history"], net.params.copy()), warmup)
