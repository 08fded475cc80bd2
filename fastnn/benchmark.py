"""``fastnn bench``: time fastnn on your own network against its reference, JAX and PyTorch.

A short version of the comparison that ``bench/`` (pytest-benchmark, ``scripts/bench``)
runs on fixed cases, for any network sizes, and from an installed package::

    from fastnn import benchmark
    case = benchmark.make_case([2, 16, 1], "relu")
    result = benchmark.run(case)
    print(benchmark.format_result(result))

Each implementation trains the same network from the same initial parameters on the same
data with the same SGD (``fastnn.compare``): fastnn's pure-Python reference, its generic
numba kernel, its fastest numba kernel (``backend="numba"``, the baseline of every
ratio), and, when they import, JAX (``jit`` + ``lax.scan``) and PyTorch (eager, 1
thread). A *step* is one sample's forward pass, backward pass and update (its share of
the update for mini-batches); times are medians over a few runs, in ns per step, so
implementations that run different numbers of epochs stay comparable.

* Warm-up (JIT compilation, or loading compiled kernels from the cache) happens before
  the timed runs and is reported on its own.
* Each implementation's epochs are chosen so that a run takes about ``seconds`` (0.1 s);
  JAX, which compiles per epoch count, runs a tenth of fastnn numba's epochs.
  ``epochs`` fixes the count for the compiled implementations and caps the others.
* Every loss history is compared with the reference's over the epochs both ran (training
  does not shuffle, so the first epochs do not depend on how many follow): the same
  numbers means within ``rtol`` (1e-9) relative.

JAX and PyTorch are imported only when ``compare=True`` and skipped, with a note, when
they are not installed or cannot train the network (e.g. binary cross-entropy without a
sigmoid output).

Before any of that, ``first_call`` times what a new shape costs in a new process (issue
14): the first ``fit`` of the network in this process, from ``Network(...)`` to the end
of the fit, with compilation as a user gets it (``fastnn.kernels.tiering``: by default a
shape whose generated kernel is not compiled yet starts on the shape-generic kernel while
the generated one compiles in the background; with ``FASTNN_TIERING=0`` the generated
kernel is compiled, or loaded from the disk cache, before training), which kernel ran it,
and the same fit once the generated kernel is compiled (``tiering.wait()``) and loaded.
"""
from __future__ import annotations

import importlib
import os
import statistics
import time
from dataclasses import dataclass, field

import numpy as np

from . import datasets, optim
from . import validation as check
from .compare import as_arrays
from .errors import DivergenceError, epoch_phrase
from .network import Network
from .spec import Spec

BASELINE = "numba"
REFERENCE = "reference"
RTOL = 1e-9
SQUARED_LOSSES = ("squared_error", "half_squared_error", "mse")
MAX_EPOCHS = 1_000_000


# ---------------------------------------------------------------- the case


@dataclass(frozen=True, eq=False)
class Case:
    """A network, its data and its training settings (the protocol of fastnn.compare)."""

    spec: Spec
    lr: float
    batch_size: int
    X: np.ndarray
    y: np.ndarray  # as Network.fit takes it: (n, n_outputs), or (n,) class labels
    init: str
    seed: int  # of the initial parameters
    data_name: str
    init_note: str = ""  # why the init seed is not the one asked for
    optimizer: str = "sgd"  # fit's optimizer, by name (default settings)

    @property
    def sizes(self):
        return self.spec.sizes

    @property
    def activations(self):
        return self.spec.activations

    @property
    def loss(self):
        return self.spec.loss

    @property
    def n_samples(self):
        return self.X.shape[0]

    def network(self):
        """A fresh Network holding the case's initial parameters."""
        return Network(self.sizes, list(self.activations), self.loss, init=self.init, seed=self.seed)

    def data(self):
        return self.X, self.y

    def arrays(self):
        return as_arrays(self.X, self.y, self.sizes[-1], self.loss)

    def describe(self):
        widths = "-".join(str(s) for s in self.sizes)
        acts = "/".join(dict.fromkeys(self.activations))
        step = "SGD" if self.optimizer == "sgd" else repr(optim.resolve(self.optimizer))
        batch = f"per-sample {step}" if self.batch_size == 1 else f"mini-batch {self.batch_size}, {step}"
        return (
            f"{widths} {acts}, {self.loss}, {batch}, lr {self.lr:g}, {self.n_samples} samples "
            f"({self.data_name}), {self.init} init seed {self.seed}{self.init_note}"
        )

    def __repr__(self):
        return f"Case({self.describe()})"


def make_data(spec, samples=100, seed=0):
    """(X, y, description): seed 000's quadratic data for 2 inputs, 1 output and a squared
    loss; otherwise standard-normal X with targets that fit the loss (standard-normal for
    squared losses, 0/1 for binary cross-entropy, class labels for categorical)."""
    samples = check.integer(samples, "samples", 1)
    n_in, n_out = spec.n_inputs, spec.n_outputs
    if n_in == 2 and n_out == 1 and spec.loss in SQUARED_LOSSES:
        X, y = datasets.quadratic(samples, seed=seed)
        return X, y, f"datasets.quadratic, seed {seed}"
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((samples, n_in))
    if spec.loss == "categorical_cross_entropy":
        return X, rng.integers(0, n_out, samples), f"random normal X, random class labels, seed {seed}"
    if spec.loss == "binary_cross_entropy":
        return X, rng.integers(0, 2, (samples, n_out)).astype(np.float64), f"random normal X, 0/1 targets, seed {seed}"
    return X, rng.standard_normal((samples, n_out)), f"random normal X and targets, seed {seed}"


def dead_layer(net, X):
    """The first ReLU layer none of whose units is positive for any row of X, or None.

    From there on the network is constant on X: no gradient reaches the layers below, and
    a dead output gives no gradient at all (a network that does not train, and whose
    kernels skip work that a live one does).
    """
    a = np.asarray(X, dtype=np.float64)
    for l, name in enumerate(net.activations):
        z = a @ net.weight(l) + (net.bias(l) if net.spec.bias else 0.0)
        if name == "relu" and not np.any(z > 0.0):
            return l
        if name == "relu":
            a = np.maximum(z, 0.0)
        elif name == "sigmoid":
            a = 0.5 * (1.0 + np.tanh(0.5 * z))
        elif name == "tanh":
            a = np.tanh(z)
        elif name == "gaussian":
            a = np.exp(-(z * z))
        else:  # linear; softmax is output-only
            a = z
    return None


def make_case(sizes, activation="relu", loss="squared_error", lr=1e-3, batch_size=1, samples=100,
              init="he", seed=0, optimizer="sgd"):
    """A Case for these settings (raises ValueError/TypeError on bad ones, as Network does).

    ``seed`` seeds the data and the initial parameters; if those start with a dead ReLU
    layer (``dead_layer``), the next init seed that does not is taken (and said). A
    ``batch_size`` of None means full batch.
    """
    spec = Spec.build(sizes, activation, loss)
    optimizer = optim.resolve(optimizer).name  # by name: the comparisons know the defaults
    seed = check.seed(seed)
    X, y, data_name = make_data(spec, samples, seed)
    lr = check.positive_float(lr, "lr")
    n = X.shape[0]
    batch_size = n if batch_size is None else check.integer(batch_size, "batch_size", 1, n)
    net = Network(spec.sizes, list(spec.activations), spec.loss, init=init, seed=seed)  # validates init
    init_seed, note = seed, ""
    if init != "zeros" and dead_layer(net, X) is not None:
        for candidate in range(seed + 1, seed + 100):
            if dead_layer(Network(spec.sizes, list(spec.activations), spec.loss, init=init, seed=candidate), X) is None:
                skipped = f"{seed}" if candidate == seed + 1 else f"{seed} to {candidate - 1}"
                init_seed, note = candidate, f" (init seed {skipped} starts with dead ReLUs)"
                break
    return Case(spec, lr, batch_size, X, y, init, init_seed, data_name, note, optimizer)


# ---------------------------------------------------------------- implementations


@dataclass(frozen=True)
class Impl:
    name: str
    title: str
    short: str  # for running text
    module: str  # a fastnn.compare module with prepare(case, epochs, **kwargs)
    kwargs: dict = field(default_factory=dict)
    requires: tuple = ()  # optional third-party modules it imports
    compiled: bool = True  # fast: gets --epochs as is (slow ones: at most --epochs)

    def setup(self, case, epochs):
        return importlib.import_module(self.module).prepare(case, epochs, **self.kwargs)


_FASTNN = "fastnn.compare.fastnn_impl"
IMPLS = {
    impl.name: impl
    for impl in (
        Impl("reference", "fastnn reference (pure Python)", "the reference", _FASTNN, dict(backend="reference"),
             compiled=False),
        Impl("torch", "PyTorch eager, CPU, 1 thread", "PyTorch", "fastnn.compare.torch_impl", requires=("torch",),
             compiled=False),
        Impl("jax", "JAX jit + lax.scan", "JAX", "fastnn.compare.jax_impl", requires=("jax",)),
        Impl("generic", "fastnn numba, generic kernel", "fastnn generic", _FASTNN, dict(backend="generic")),
        Impl("numba", "fastnn numba (backend='numba')", "fastnn numba", _FASTNN, dict(backend="numba")),
    )
}
# Run order: the reference first (the check's oracle), numba before JAX (JAX runs as
# many epochs as numba does); IMPLS' order is the table's, slowest kinds first.
RUN_ORDER = ("reference", "generic", "numba", "jax", "torch")
OPTIONAL = tuple(name for name, impl in IMPLS.items() if impl.requires)


@dataclass
class Row:
    """One implementation's figures (ns per step are medians over ``runs`` timed runs)."""

    name: str
    title: str
    ns_per_step: float | None = None
    ns_min: float | None = None
    epochs: int = 0
    steps: int = 0
    runs: int = 0
    warmup_seconds: float | None = None  # the untimed first call (compilation)
    compile_seconds: float | None = None  # warm-up less its own training work, estimated
    history: np.ndarray | None = field(default=None, repr=False)
    check: str = ""  # "same numbers", "differs ...", "diverged ...", "(the reference)"
    same: bool | None = None  # None: not checked
    max_rel_diff: float | None = None
    checked_epochs: int = 0
    skipped: str | None = None  # why it did not run


@dataclass
class FirstCall:
    """The first ``fit`` of the case's network in this process and a warm one (``first_call``)."""

    epochs: int
    first_seconds: float  # Network(...) to the end of the first fit
    kernel: str  # which kernel trained the first fit
    tiering: bool  # fastnn.kernels.tiering.enabled() (FASTNN_TIERING, the disk cache)
    waited_seconds: float  # tiering.wait(): what was left of the background compile
    warm_seconds: float  # the same, once the generated kernel is compiled and loaded
    same: bool  # the first and the warm fit gave the same history and parameters, bit for bit
    warm_kernel: str = "the generated kernel"


@dataclass
class Result:
    case: Case
    rows: dict  # name -> Row, in IMPLS' order
    rtol: float = RTOL
    notes: list = field(default_factory=list)
    versions: dict = field(default_factory=dict)
    first: FirstCall | None = None

    @property
    def same_numbers(self):
        """True when every implementation that ran matched the reference."""
        ran = [r for r in self.rows.values() if r.skipped is None and r.name != REFERENCE]
        return bool(ran) and all(r.same for r in ran) and self.rows[REFERENCE].skipped is None

    def ratio(self, name):
        """Time per step of ``name`` over fastnn numba's (None when either is missing)."""
        base, row = self.rows.get(BASELINE), self.rows.get(name)
        if not base or not row or base.ns_per_step is None or row.ns_per_step is None:
            return None
        return row.ns_per_step / base.ns_per_step

    def speedup(self, name):
        """The reference's time per step over ``name``'s."""
        ref, row = self.rows.get(REFERENCE), self.rows.get(name)
        if not ref or not row or ref.ns_per_step is None or row.ns_per_step is None:
            return None
        return ref.ns_per_step / row.ns_per_step


# ---------------------------------------------------------------- timing


def _time(run):
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def _calibrate(impl, case, seconds, cap):
    """(prepared, times, first warm-up): epochs grown until a run takes about ``seconds``."""
    epochs = 1
    prepared = impl.setup(case, epochs)
    warmup = prepared.warmup_seconds
    while True:
        t = _time(prepared.run)
        if t >= seconds / 4 or epochs >= cap:
            break
        aim = int(epochs * (seconds / 2) / max(t, 1e-7))  # half the target: never far over it
        epochs = min(cap, max(2 * epochs, aim))
        prepared = impl.setup(case, epochs)
    want = max(1, min(cap, round(epochs * seconds / max(t, 1e-9))))
    if want <= epochs * 1.25:  # close enough: keep what is measured
        return prepared, [t], warmup
    return impl.setup(case, want), [], warmup


def _measure(impl, case, epochs, seconds, repeats, cap):
    """Row with the median time per step over up to ``repeats`` runs of ``prepared.run``."""
    row = Row(impl.name, impl.title)
    if epochs is None:
        prepared, times, row.warmup_seconds = _calibrate(impl, case, seconds, cap)
    else:
        prepared = impl.setup(case, epochs)
        times, row.warmup_seconds = [], prepared.warmup_seconds
    budget = repeats * seconds  # a run much slower than ``seconds`` (1 epoch) runs fewer times
    while len(times) < repeats and (not times or sum(times) < budget):
        times.append(_time(prepared.run))
    history, _ = prepared.outcome()
    row.history = np.asarray(history, dtype=np.float64)
    row.epochs, row.steps, row.runs = prepared.epochs, prepared.steps, len(times)
    row.ns_per_step = statistics.median(times) / prepared.steps * 1e9
    row.ns_min = min(times) / prepared.steps * 1e9
    if row.warmup_seconds is not None:
        # The warm-up also trained (1 epoch for fastnn, the whole run for JAX): take it off.
        per_epoch = statistics.median(times) / prepared.epochs
        warm_epochs = prepared.epochs if impl.name == "jax" else 1
        row.compile_seconds = max(0.0, row.warmup_seconds - warm_epochs * per_epoch)
    return row


def _importable(module):
    """None when ``module`` imports, else why not (a broken install counts as missing)."""
    try:
        importlib.import_module(module)
    except ImportError as error:
        return f"{module} not installed ({error})"
    except Exception as error:  # noqa: BLE001 - e.g. a jaxlib that fails to load
        return f"{module} failed to import ({type(error).__name__}: {error})"
    return None


def _version(name):
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


FIRST_EPOCHS = 20  # first_call's fit, unless epochs are given


def _kernel_that_ran(spec, tiered, record, enabled):
    """Which kernel trained a fit: ``record`` is tiering.last_fit() after it, ``tiered``
    whether that record is this fit's (a new one)."""
    from .kernels import specialized

    if specialized.kind(spec) is None:
        return "the generic kernel (no generated kernel for a network this wide)"
    if tiered:
        parts = []
        if record.get("reference_epochs"):
            parts.append(f"fastnn.reference for {record['reference_epochs']:,} epochs")
        if record.get("generic_epochs"):
            parts.append(f"the shape-generic kernel for {record['generic_epochs']:,} epochs")
        if record.get("switched_at") is not None:
            parts.append(f"the generated kernel from epoch {record['switched_at'] + 1}")
        if not parts:
            parts.append("the shape-generic kernel")
        ending = ("its compile ended during the fit" if record.get("switched_at") is not None
                  else "it compiled in the background meanwhile")
        return ", then ".join(parts) + f" (tiered: {ending})"
    if enabled:
        return "the generated kernel (already compiled: in this process or in the disk cache)"
    return "the generated kernel"


def first_call(case, epochs=FIRST_EPOCHS):
    """FirstCall: ``Network(...)`` plus an ``epochs``-epoch ``fit`` of ``case``, timed
    together, as the first fit of the network in this process (compilation as a user gets
    it), which kernel ran it, then ``tiering.wait()``, a fit that loads the generated
    kernel, and the same fit timed again (warm)."""
    from .kernels import tiering

    X, y = case.data()
    kwargs = dict(batch_size=case.batch_size, optimizer=case.optimizer)

    def fit():
        started = time.perf_counter()
        net = case.network()
        history = net.fit(X, y, case.lr, epochs, **kwargs)
        return time.perf_counter() - started, np.asarray(history, dtype=np.float64), net.params.copy()

    previous = tiering.last_fit()
    first_seconds, history, params = fit()
    record = tiering.last_fit()
    tiered = record is not None and record is not previous
    kernel = _kernel_that_ran(case.spec, tiered, record, tiering.enabled())
    started = time.perf_counter()
    tiering.wait()
    waited = time.perf_counter() - started
    fit()  # loads the generated kernel
    warm_seconds, warm_history, warm_params = fit()
    same = bool(np.array_equal(history, warm_history, equal_nan=True) and np.array_equal(params, warm_params))
    from .kernels import specialized

    warm_kernel = "the generated kernel" if specialized.kind(case.spec) is not None else "the generic kernel"
    if tiered and "failed" in tiering.jobs().values():
        warm_kernel = "the shape-generic kernel (the generated kernel's background compile failed)"
    return FirstCall(epochs, first_seconds, kernel, tiering.enabled(), waited, warm_seconds, same, warm_kernel)


def format_first_call(first):
    """The lines ``format_result`` shows for a FirstCall."""
    lines = [f"First result: Network(...) plus a {first.epochs:,}-epoch fit, compiling as a user's first fit of "
             "this network does, then the same once its generated kernel is compiled and loaded:"]
    lines.append(f"  first fit: {format_seconds(first.first_seconds)}, on {first.kernel}")
    if not first.tiering:
        lines.append("    tiering off (FASTNN_TIERING=0, or no disk cache): this time includes compiling the generated "
                     "kernel, or loading it from the disk cache (by default a new shape starts at once on the "
                     "shape-generic kernel while the generated one compiles in the background)")
    warm = f"  warm fit:  {format_seconds(first.warm_seconds)}, on {first.warm_kernel}"
    if first.warm_seconds > 0:
        warm += f" (first / warm: {format_times(first.first_seconds / first.warm_seconds)})"
    if first.waited_seconds >= 0.001:
        warm += f", after waiting {format_seconds(first.waited_seconds)} for the background compile"
    lines.append(warm)
    if not first.same:
        lines.append("  NOT the same numbers in the first and the warm fit")
    return lines


# ---------------------------------------------------------------- checking


def _compare(row, ref, rtol):
    """Fill row's check against the reference's history ``ref``."""
    history = row.history
    if not np.all(np.isfinite(history)):
        bad = int(np.argmin(np.isfinite(history)))
        row.same, row.check = False, f"diverged in {epoch_phrase(bad)}"
        return
    k = min(len(history), len(ref))
    diff = np.abs(history[:k] - ref[:k]) / np.maximum(np.abs(ref[:k]), np.finfo(float).tiny)
    worst = int(np.argmax(diff))
    row.max_rel_diff, row.checked_epochs = float(diff[worst]), k
    row.same = bool(diff[worst] <= rtol)
    row.check = "same numbers" if row.same else f"differs: {diff[worst]:.1e} relative in {epoch_phrase(worst)}"


# ---------------------------------------------------------------- running


def check_settings(epochs=None, repeats=5, seconds=0.1):
    """(epochs, repeats, seconds) validated as ``run`` takes them (raises ValueError/TypeError)."""
    if epochs is not None:
        epochs = check.integer(epochs, "epochs", 1)
    return epochs, check.integer(repeats, "repeats", 1), check.positive_float(seconds, "seconds")


def run(case, epochs=None, compare=True, repeats=5, seconds=0.1, rtol=RTOL, log=None, first=True):
    """Time every implementation on ``case`` and check it against the reference.

    ``epochs``: epochs per timed run of the compiled implementations (the slow ones run at
    most that many); default: enough for about ``seconds`` per run. ``compare``: also
    JAX and PyTorch when importable. ``repeats``: timed runs per implementation (fewer when
    a single run is much slower than ``seconds``). ``log``: called with a line of progress.
    ``first``: time the network's first fit in this process and a warm one before anything
    else (``first_call``, ``epochs`` or FIRST_EPOCHS epochs). Returns a Result;
    ``format_result`` turns it into the table.
    """
    epochs, repeats, seconds = check_settings(epochs, repeats, seconds)
    log = log or (lambda line: None)
    rows, notes = {}, []
    first_result = None
    if first:  # before anything else in this process has compiled or loaded the network's kernels
        log("timing the first fit ...")
        try:
            first_result = first_call(case, epochs or FIRST_EPOCHS)
        except DivergenceError as error:
            notes.append(f"first fit: diverged in {epoch_phrase(error.epoch)} (not timed)")
    for name in RUN_ORDER:
        impl = IMPLS[name]
        row = Row(name, impl.title)
        rows[name] = row
        if impl.requires and not compare:
            row.skipped = "not run (--no-compare)"
            continue
        why = next(filter(None, (_importable(m) for m in impl.requires)), None)
        if why:
            row.skipped = why
            continue
        fixed, cap = None, MAX_EPOCHS
        if not impl.compiled:
            cap = epochs or MAX_EPOCHS
        elif epochs is not None:
            fixed = epochs
        elif name == "jax" and rows[BASELINE].epochs:
            # JAX compiles per epoch count, so it is not calibrated (that would compile it
            # twice): a tenth of numba's epochs, runs of ~seconds / 10 if it is as fast.
            fixed = max(1, rows[BASELINE].epochs // 10)
        log(f"timing {impl.title} ...")
        try:
            rows[name] = row = _measure(impl, case, fixed, seconds, repeats, cap)
        except DivergenceError as error:
            row.skipped = f"diverged in {epoch_phrase(error.epoch)}: try a smaller lr"
        except NotImplementedError as error:
            row.skipped = f"cannot train this network: {error}"
        except Exception as error:  # noqa: BLE001 - an optional library's failure is reported, not fatal
            if not impl.requires:
                raise
            row.skipped = f"failed: {type(error).__name__}: {error}"
    ref = rows[REFERENCE]
    for row in rows.values():
        if row.skipped is not None:
            continue
        if row.name == REFERENCE:
            row.check, row.same = "(the reference)", True
        elif ref.skipped is None:
            _compare(row, ref.history, rtol)
        elif not np.all(np.isfinite(row.history)):
            _compare(row, row.history, rtol)  # says where it diverged
        else:
            row.check = "not checked"
    numba = rows[BASELINE]
    if numba.skipped is None and numba.history is not None and len(numba.history) > 1:
        first, last = numba.history[0], numba.history[-1]
        notes.append(f"loss (fastnn numba): {first:.6g} in epoch 1 -> {last:.6g} in epoch {len(numba.history):,}")
        if not last < first:
            notes.append(
                "  the loss does not fall (dead ReLUs? lr too large?): the timings stand, but another --seed, "
                "--lr or activation trains"
            )
    from .kernels import specialized

    if specialized.kind(case.spec) is None:
        notes.append("backend='numba' runs the generic kernel here: the network is too wide for generated kernels")
    versions = {name: _version(name) for name in ("fastnn", "numpy", "numba")}
    for name, row in rows.items():
        if row.skipped is None and IMPLS[name].requires:
            versions.update({m: _version(m) for m in IMPLS[name].requires})
    ordered = {name: rows[name] for name in IMPLS}
    return Result(case, ordered, rtol, notes, versions, first_result)


# ---------------------------------------------------------------- the table


def _ns(value):
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def format_times(value):
    """A ratio as text: '1,242x', '18.3x', '1.04x'; '' for None."""
    if value is None:
        return ""
    if value >= 100:
        return f"{value:,.0f}x"
    if value >= 10:
        return f"{value:.1f}x"
    return f"{value:.2f}x"


def format_seconds(value):
    """A duration as text: '2.59 s', or '26.4 ms' below 0.1 s."""
    return f"{value:.2f} s" if value >= 0.1 else f"{value * 1e3:.1f} ms"


def format_result(result):
    """The report as text: a header, the table, compile times, the check, notes."""
    case = result.case
    lines = [f"fastnn bench: {case.describe()}", ""]
    header = ("implementation", "ns/step", "/ numba", "speed-up over reference", "epochs x samples", "runs", "check")
    table = []
    for name, row in result.rows.items():
        if row.skipped is not None:
            continue
        table.append((
            row.title,
            _ns(row.ns_per_step),
            format_times(result.ratio(name)),
            format_times(result.speedup(name)),
            f"{row.epochs:,} x {case.n_samples:,}",
            str(row.runs),
            row.check,
        ))
    widths = [max(len(r[i]) for r in table + [header]) for i in range(len(header))]
    right = (False, True, True, True, True, True, False)

    def line(cells):
        return "  ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right)).rstrip()

    lines.append(line(header))
    lines.append("  ".join("-" * w for w in widths))
    lines += [line(r) for r in table]
    lines.append("")
    lines.append(
        "A step is one sample's forward pass, backward pass and update; ns/step is the median "
        "of the timed runs."
    )
    compiled = [
        f"{IMPLS[row.name].short} {format_seconds(row.compile_seconds)}"
        for row in result.rows.values()
        if row.skipped is None and row.compile_seconds is not None and row.name != "torch"
    ]
    if compiled:
        lines.append(
            "Compile time, not in the timings (first call: JIT compilation, or loading from the "
            "cache): " + ", ".join(compiled) + "."
        )
    if result.first is not None:
        lines += format_first_call(result.first)
    checked = [r for r in result.rows.values() if r.skipped is None and r.max_rel_diff is not None]
    if result.same_numbers:
        worst = max(r.max_rel_diff for r in checked)
        spans = sorted({r.checked_epochs for r in checked})
        span = f"{spans[0]:,}" if len(spans) == 1 else f"{spans[0]:,} to {spans[-1]:,}"
        lines.append(
            f"Same numbers: every loss history matches the reference's to {result.rtol:g} relative "
            f"over the epochs both ran ({span}; largest difference {worst:.1e})."
        )
    else:
        bad = [f"{r.title}: {r.check}" for r in result.rows.values() if r.skipped is None and r.same is False]
        if result.rows[REFERENCE].skipped is not None:
            bad.append(f"nothing to check against: the reference {result.rows[REFERENCE].skipped}")
        lines.append(f"NOT the same numbers (tolerance {result.rtol:g} relative): " + "; ".join(bad) + ".")
    for name, row in result.rows.items():
        if row.skipped is not None:
            lines.append(f"{row.title}: skipped, {row.skipped}.")
    lines += result.notes
    versions = ", ".join(f"{k} {v}" for k, v in result.versions.items() if v)
    lines.append(
        f"{versions}; {os.cpu_count()} CPU cores. Absolute times drift on shared machines: "
        "compare the ratios, measured together."
    )
    return "\n".join(lines)
