"""fastnn works after ``nnfs.init()``, to the bit (issue 18, item 1).

The nnfs book starts every chapter with ``import nnfs; nnfs.init()``, which replaces numpy
functions for good: ``np.zeros`` and ``np.eye`` get ``dtype="float32"`` unless a dtype
is given (nnfs 0.5.1: when at most one positional argument is passed and no ``dtype``
keyword), ``np.random.randn`` returns ``.astype("float32")``, and ``np.dot`` computes in
float64 and returns float32. fastnn must not depend on numpy's defaults anywhere: every
array it makes is float64 (or int64) explicitly, and its numba kernels use no numpy
function that nnfs replaces: numba types a kernel's ``np.zeros`` by looking the attribute
up when it compiles the kernel and matching it against the functions it registered when
it loaded its typing registries (at the first kernel call), so a kernel compiled after
``nnfs.init()`` in a process that ran a kernel before it fails to type ("Use of
unsupported NumPy function 'numpy.zeros'").

* Real nnfs, in a subprocess (``nnfs.init()`` cannot be undone and must not leak into
  the other tests of this worker): ``import nnfs; nnfs.init(); import fastnn`` as the book
  does, then the whole public API (``workload``): every init, predict/loss/gradient with
  every backend, fit per sample, in mini-batches and full batch, with integer class
  labels, gradcheck, sweep (generated and generic kernels), the data sets, save/load.
  Every returned array must be float64 (int64 for labels) and equal, bit for bit, what
  this process computes without nnfs.
* Kernels compiled after ``nnfs.init()``, in a second subprocess: numba's typing
  registries loaded first (a network used before ``nnfs.init()``), then the generated
  kernels (``FASTNN_NO_CACHE=1``, so compiled now) of a network built before
  ``nnfs.init()`` trained on integer labels, the wide kernels (kernels.widegen), and a
  fresh, uncached copy of the shape-generic lane sweep kernel (kernels.sweeplanes).
* The same numpy functions (and ``np.ones``, ``np.identity``) replaced by
  hand with float32-defaulting versions through ``monkeypatch`` (undone after the test),
  in this process, on networks built before and after the patch.
* No kernel source (package modules and generated text) names a numpy function that nnfs
  replaces.

Shapes are those of the other tests (tests/strategies.py NUMBA_POOL, tests/test_sweep.py),
so numba's disk cache has their kernels already.
"""
import importlib
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import fastnn
from fastnn import datasets
from fastnn.kernels import codegen, sweepgen, widegen
from fastnn.spec import Spec

TESTS = os.path.dirname(os.path.abspath(__file__))
BACKENDS = ("numba", "generic", "reference")
SOFTMAX = dict(activation=["tanh", "softmax"], loss="categorical_cross_entropy")  # [2, 4, 3], as test_sweep
WIDE = ([3, 12, 12], ["tanh", "softmax"], "half_squared_error")  # NUMBA_POOL: kernels.widegen
GENERIC_SWEEP = dict(sizes=[2, 12, 12, 1], activation="sigmoid", loss="mse", bias=False, init="normal", seed=1)


# ------------------------------------------------------------------ the workloads


def workload(folder):
    """Every public entry point on small networks: {name: returned value}."""
    r = {}
    QX, QY = datasets.quadratic(20, seed=0)
    SX, SY = datasets.spiral(10, 3, seed=0)
    r["quadratic.X"], r["quadratic.y"] = QX, QY
    r["spiral.X"], r["spiral.y"] = SX, SY
    r["vertical.X"], r["vertical.y"] = datasets.vertical(10, 3, seed=1)
    r["gender.X"], r["gender.y"] = datasets.gender()
    r["xor.X"], r["xor.y"] = datasets.xor()

    for init in fastnn.INITS:
        r[f"init {init}"] = fastnn.Network([2, 2, 1], "relu", "squared_error", init=init, seed=5).params
    r["init list"] = fastnn.Network([2, 2, 1], init=[0.25, -0.5, 0.75, 1.0, 0.0, 0.1, 0.5, -0.25, 0.2]).params

    net = fastnn.Network([2, 2, 1], "relu", "squared_error", seed=4)  # seed 4: no dead ReLU on QX
    r["predict list"] = net.predict([[1.0, 2.0]])
    for b in BACKENDS:
        r[f"predict {b}"] = net.predict(QX, backend=b)
        r[f"loss {b}"] = net.loss(QX, QY, backend=b)
        r[f"gradient {b}"] = net.gradient(QX, QY, backend=b)
    r["loss 1-d y"] = net.loss(QX, list(QY.ravel()))
    for b, batch_size, shuffle in [("numba", 1, True), ("numba", 1, False), ("numba", 6, True), ("numba", None, False),
                                   ("generic", 1, True), ("generic", 6, False), ("reference", 6, True)]:
        trained = net.copy()
        name = f"fit {b} batch {batch_size} shuffle {shuffle}"
        r[f"{name} history"] = trained.fit(QX, QY, lr=1e-3, epochs=3, batch_size=batch_size, shuffle=shuffle,
                                           backend=b)
        r[f"{name} params"] = trained.params
    r["gradcheck"] = fastnn.gradcheck(net, QX, QY)
    r["numerical_gradient"] = fastnn.numerical_gradient(net, QX, QY)

    cls = fastnn.Network([2, 4, 3], **SOFTMAX, seed=0)
    r["softmax predict"] = cls.predict(SX)
    for b in BACKENDS:
        r[f"softmax loss {b}"] = cls.loss(SX, SY, backend=b)
        r[f"softmax gradient {b}"] = cls.gradient(SX, list(SY), backend=b)
    for b, batch_size in [("numba", 1), ("numba", 5), ("generic", 1), ("generic", 5)]:
        trained = cls.copy()
        r[f"softmax fit {b} batch {batch_size} history"] = trained.fit(SX, SY, lr=0.05, epochs=2,
                                                                       batch_size=batch_size, shuffle=True,
                                                                       backend=b)
        r[f"softmax fit {b} batch {batch_size} params"] = trained.params
    r["softmax gradcheck"] = fastnn.gradcheck(cls, SX, SY)

    r.update(wide_fits())

    result = fastnn.sweep([2, 2, 1], QX, QY, lr=[1e-3, 2e-3], seeds=[2, 4], batch_size=[1, 6], epochs=3,
                          checkpoints=[2], shuffle=True, progress=False)
    r.update(sweep_values("sweep", result))
    r.update(sweep_values("softmax sweep", fastnn.sweep([2, 4, 3], SX, SY, lr=[0.05], seeds=[0], batch_size=[1, 5],
                                                        epochs=2, shuffle=True, progress=False, **SOFTMAX)))
    r.update(generic_sweep())

    net.save(os.path.join(folder, "net.npz"))
    loaded = fastnn.load(os.path.join(folder, "net.npz"))
    r["load params"] = loaded.params
    r["load predict"] = loaded.predict(QX)
    result.save(os.path.join(folder, "sweep.npz"))
    r.update(sweep_values("load sweep", fastnn.load(os.path.join(folder, "sweep.npz"))))
    return r


def wide_fits(batch_sizes=(1, 4)):
    """kernels.widegen's per-sample (batch size 1) and mini-batch kernels."""
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((8, 3)), rng.uniform(0.0, 1.0, (8, 12))
    r = {}
    for batch_size in batch_sizes:
        net = fastnn.Network(*WIDE, seed=0)
        r[f"wide fit batch {batch_size} history"] = net.fit(X, Y, lr=0.1, epochs=2, batch_size=batch_size)
        r[f"wide fit batch {batch_size} params"] = net.params
    return r


def generic_sweep():
    """A sweep trained by kernels.sweeplanes (too big for the generated sweep kernels)."""
    QX, QY = datasets.quadratic(20, seed=0)
    kw = dict(GENERIC_SWEEP)
    net = fastnn.Network(kw.pop("sizes"), **kw)
    return sweep_values("generic sweep", fastnn.sweep(net, QX, QY / 10, lr=[0.01, 0.1], seeds=[2, 3],
                                                      batch_size=[1, 20], epochs=2, checkpoints=[1],
                                                      progress=False))


def sweep_values(name, result):
    r = {f"{name} configs": result.configs, f"{name} losses": result.losses,
         f"{name} diverged_epoch": result.diverged_epoch, f"{name} final_losses": result.final_losses()}
    for k in range(len(result.configs)):
        r[f"{name} params {k}"] = result.params_of(k)
        r[f"{name} network {k}"] = result.network(k).params
        for c in result.checkpoints:
            r[f"{name} params {k} checkpoint {c}"] = result.params_of(k, checkpoint=c)
    return r


def late_compiled(init_numpy_patch, fresh_sweep_kernel):
    """Kernels compiled after ``init_numpy_patch()`` (nnfs.init() in a subprocess run with
    FASTNN_NO_CACHE=1): numba's typing registries are loaded before it by a first
    prediction; a network built before it trains on integer labels; the wide kernels; the
    lane sweep kernel, a fresh uncached copy of it with ``fresh_sweep_kernel``."""
    SX, SY = datasets.spiral(10, 3, seed=0)
    fastnn.Network([2, 2, 1], seed=0).predict([[1.0, 2.0]])  # loads numba's registries (generic kernel)
    before = fastnn.Network([2, 4, 3], **SOFTMAX, seed=0)
    init_numpy_patch()
    r = {"built before: params": before.params}
    r["built before: fit history"] = before.fit(SX, SY, lr=0.05, epochs=2, batch_size=5, shuffle=True)
    r["built before: fit params"] = before.params
    r["built before: loss"] = before.loss(SX, SY)
    r.update(wide_fits(batch_sizes=(1,)))  # the per-sample kernel only: a wide kernel compiles in ~3 s
    if fresh_sweep_kernel:
        import numba

        from fastnn.kernels import sweeplanes
        from fastnn.kernels.compiler import compiled

        sweep_module = importlib.import_module("fastnn.sweep")
        real = sweep_module._kernel
        fresh = numba.njit(nogil=True, error_model="numpy")(sweeplanes.train.py_func)

        def kernel(spec, batch_size, shuffle):
            assert not sweepgen.supports(spec), "the sweep was expected to use the lane kernel"
            return compiled(fresh, sweep_module._SIGNATURE)

        sweep_module._kernel = kernel
        try:
            r.update(generic_sweep())
        finally:
            sweep_module._kernel = real
        assert fresh.signatures, "the fresh sweep kernel was not used"
    else:
        r.update(generic_sweep())
    return r


# ------------------------------------------------------------------ checking results


def check_types(results):
    """Every float array is float64, every integer array int64 (fields of
    sweep configs: float64, int64, uint64 seeds, text), every scalar a Python float."""
    for name, value in results.items():
        if isinstance(value, fastnn.History):  # fit's result: its loss array
            value = np.asarray(value)
        if not isinstance(value, np.ndarray):
            assert type(value) is float, f"{name} is {type(value).__name__}, not float"
        elif value.dtype.names:
            for field in value.dtype.names:
                kind = value.dtype[field]
                assert kind in (np.float64, np.int64, np.uint64) or kind.kind == "U", f"{name}: {field} is {kind}"
        elif value.dtype.kind == "f":
            assert value.dtype == np.float64, f"{name} is {value.dtype}, not float64"
        else:
            assert value.dtype == np.int64, f"{name} is {value.dtype}, not int64"


def as_arrays(results):
    """{name: array} for np.savez, plus the scalar names."""
    arrays = {name: np.asarray(value) if isinstance(value, (np.ndarray, fastnn.History))
              else np.array(value, dtype=np.float64) for name, value in results.items()}
    return arrays, sorted(name for name, value in results.items()
                          if not isinstance(value, (np.ndarray, fastnn.History)))


def assert_bit_identical(got, expected, context):
    assert sorted(got) == sorted(expected), f"{context}: different results computed"
    for name in expected:
        a, b = np.asarray(got[name]), np.asarray(expected[name])
        assert a.dtype == b.dtype and a.shape == b.shape, f"{context}: {name}: {a.dtype} {a.shape} != {b.dtype} {b.shape}"
        assert a.tobytes() == b.tobytes(), f"{context}: {name} differs in its bits: {a!r} != {b!r}"


def save_results(results, path):
    """Used by the subprocesses: check the types there, write the results for the parent."""
    check_types(results)
    arrays, scalars = as_arrays(results)
    # stored as a0, a1, ... with the names (which hold spaces) in a JSON index
    index = sorted(arrays)
    np.savez(path, names=np.array(json.dumps({"names": index, "scalars": scalars})),
             **{f"a{i}": arrays[name] for i, name in enumerate(index)})


def load_results(path):
    with np.load(path, allow_pickle=False) as archive:
        meta = json.loads(str(archive["names"]))
        return {name: archive[f"a{i}"] for i, name in enumerate(meta["names"])}, meta["scalars"]


def run_script(body, env=None):
    """Run ``body`` in a fresh interpreter that can import this module; fail with its output."""
    script = f"import sys\nsys.path.insert(0, {TESTS!r})\n" + body
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})})
    assert done.returncode == 0, f"the subprocess failed:\n{done.stdout}\n{done.stderr}"
    return done


def nnfs_active():
    """numpy is patched as nnfs 0.5.1's init() patches it."""
    assert np.zeros(2).dtype == np.float32 and np.eye(2).dtype == np.float32, "nnfs.init() did not patch numpy"
    assert np.random.randn(2).dtype == np.float32 and np.dot(np.ones(2), np.ones(2)).dtype == np.float32


def nnfs_init():
    import nnfs

    nnfs.init()
    nnfs_active()


@pytest.fixture(scope="module")
def expected(tmp_path_factory):
    """workload() without nnfs, in this process."""
    results = workload(str(tmp_path_factory.mktemp("plain")))
    check_types(results)
    return results


def test_public_api_after_real_nnfs_init(tmp_path, expected):
    """``import nnfs; nnfs.init(); import fastnn`` as the book does: every result float64
    (int64 labels) and bit-identical to the results without nnfs."""
    pytest.importorskip("nnfs")
    out = str(tmp_path / "nnfs.npz")
    run_script(
        "import nnfs\n"
        "nnfs.init()\n"
        "import fastnn\n"
        "from test_nnfs_init import nnfs_active, save_results, workload\n"
        "nnfs_active()\n"
        f"save_results(workload({str(tmp_path)!r}), {out!r})\n"
    )
    got, scalars = load_results(out)
    arrays, expected_scalars = as_arrays(expected)
    assert scalars == expected_scalars
    assert_bit_identical(got, arrays, "after nnfs.init()")


def test_kernels_compiled_after_real_nnfs_init(tmp_path):
    """Kernels compiled after ``nnfs.init()`` (numba's registries loaded before it) type
    and give the same bits: generated kernels of a network built before nnfs.init()
    trained on integer labels, the wide kernels, a fresh copy of the lane sweep
    kernel."""
    pytest.importorskip("nnfs")
    expected_late = late_compiled(lambda: None, fresh_sweep_kernel=False)
    check_types(expected_late)
    out = str(tmp_path / "late.npz")
    run_script(
        "from test_nnfs_init import late_compiled, nnfs_init, save_results\n"
        f"save_results(late_compiled(nnfs_init, fresh_sweep_kernel=True), {out!r})\n",
        env={"FASTNN_NO_CACHE": "1"},
    )
    got, scalars = load_results(out)
    arrays, expected_scalars = as_arrays(expected_late)
    assert scalars == expected_scalars
    assert_bit_identical(got, arrays, "kernels compiled after nnfs.init()")


def _float32_default(original, positional):
    """``original`` with dtype float32 unless one is given (nnfs's enclose())."""
    def patched(*args, **kwargs):
        if len(args) <= positional and "dtype" not in kwargs:
            kwargs["dtype"] = np.float32
        return original(*args, **kwargs)
    return patched


def test_public_api_with_numpy_patched_by_hand(monkeypatch, tmp_path, expected):
    """np.zeros/ones/eye/identity default to float32, np.random.randn and np.dot
    return float32 (as nnfs.init() makes them): fastnn's results do not change, on
    networks built before and after the patch."""
    # The expected results (computed first) also load numba's typing registries with the
    # real numpy functions: registries loaded under the patch would key np.zeros' typing to
    # the replacement, for the rest of this worker.
    SX, SY = datasets.spiral(10, 3, seed=0)
    before = fastnn.Network([2, 4, 3], **SOFTMAX, seed=0)
    before_expected = before.copy().fit(SX, SY, lr=0.05, epochs=2, batch_size=5, shuffle=True)

    dot, randn = np.dot, np.random.randn
    # Not np.empty: numpy's own Generator.uniform fills np.empty(size) with doubles, so a
    # float32 default there corrupts memory (nnfs leaves np.empty alone).
    for name, positional in (("zeros", 1), ("ones", 1), ("eye", 1), ("identity", 1)):
        monkeypatch.setattr(np, name, _float32_default(getattr(np, name), positional))
    monkeypatch.setattr(np.random, "randn", lambda *args: randn(*args).astype(np.float32))
    monkeypatch.setattr(np, "dot", lambda a, b, *args, **kw: dot(np.asarray(a, np.float64), np.asarray(b, np.float64),
                                                                   *args, **kw).astype(np.float32))
    assert np.zeros(2).dtype == np.ones(2).dtype == np.eye(2).dtype == np.identity(2).dtype == np.float32

    history = before.fit(SX, SY, lr=0.05, epochs=2, batch_size=5, shuffle=True)
    assert history.dtype == np.float64 and before.params.dtype == np.float64
    assert history.tobytes() == before_expected.tobytes()
    got = workload(str(tmp_path))
    check_types(got)
    assert as_arrays(got)[1] == as_arrays(expected)[1]
    assert_bit_identical(as_arrays(got)[0], as_arrays(expected)[0], "numpy patched by hand")


# numpy functions nnfs.init() replaces, or that a float32 default could be given to; numba
# looks a kernel's np.<name> up when it compiles it, and knows only numpy's own objects.
PATCHED = re.compile(r"\b(?:np|numpy)\.(?:(?:zeros|ones|eye|identity|dot)\s*\(|random\.)")


def test_kernels_use_no_numpy_function_that_nnfs_replaces():
    kernels = os.path.join(os.path.dirname(os.path.abspath(fastnn.__file__)), "kernels")
    texts = {}
    for name in sorted(os.listdir(kernels)):
        if name.endswith(".py"):
            with open(os.path.join(kernels, name)) as handle:
                texts[name] = handle.read()
    small = Spec.build([2, 2, 1], "relu", "squared_error", True)
    wide = Spec.build(*WIDE, True)
    assert codegen.supports(small) and sweepgen.supports(small) and widegen.supports(wide)
    texts["codegen.source"] = codegen.source(small)
    texts["widegen.source"] = widegen.source(wide)
    texts["sweepgen.source"] = sweepgen.source(small)
    found = {name: sorted(set(PATCHED.findall(text))) for name, text in texts.items()}
    assert not {name: hits for name, hits in found.items() if hits}, found
