"""Sweeps across network sizes: ns per configuration-step and per parameter (issue 19).

    .venv/bin/python -m bench.sweep_sizes                      # fastnn only
    .venv/bin/python -m bench.sweep_sizes --optimizer adam --baseline   # Adam, and GeneralBlocks beside it
    /tmp/jaxenv/bin/python -m bench.sweep_sizes --jax          # with JAX jit(vmap) beside it
    python -m bench.sweep_sizes --baseline --jax --json out.json --markdown bench/RESULTS.md
    python -m bench.sweep_sizes --from-json out.json --markdown bench/RESULTS.md

Every case is a grid of 1,024 configurations, 64 learning rates x 16 He init seeds,
configuration k = (lrs[k // 16], seed k % 16) as ``fastnn.sweep`` orders them, trained by
``fastnn.sweep(..., threads=2)`` with plain SGD. The regression networks train on seed
000's data (``datasets.quadratic(100, seed=0)``), ReLU on every layer, squared error, per
sample, learning rates ``geomspace(1e-4, 1e-2, 64)`` (bench/test_sweep.py's grid); the
spiral classifier is bench/cases.py's 2-64-3 ReLU/softmax network with categorical
cross-entropy on ``datasets.spiral(100, 3, seed=0)`` in mini-batches of 32, learning rates
``geomspace(1e-3, 1e-1, 64)``, samples in order (as JAX's loop takes them).

A configuration-step is one sample's forward pass, backward pass and (its share of the)
update for one configuration; *per parameter* divides by the network's parameter count.
Times are medians of ``--repeats`` whole ``fastnn.sweep`` calls (argument checks, grid,
initialisation and kernel lookup included) after an untimed call that compiles the
kernel or loads it from the disk cache. ``--baseline`` also times the same sweep with the
kernel it used before issue 19 for networks past 64 parameters (``sweep_generic.train``;
smaller networks keep their generated kernels). ``--jax`` times JAX's
``jit(vmap(lax.scan))`` (``fastnn.compare.jax_impl.prepare_sweep``, float64; its trace and
compile untimed). Each case runs its own number of epochs (``SizeCase.epochs``) so that a
call takes a fraction of a second to a few seconds.

``--optimizer adam``: the same grids trained with ``fastnn.Adam()`` (default settings):
past 64 parameters on the lane kernel's optimizer mode (``sweeplanes.train_optim``);
``--baseline`` then times the path such sweeps took before it, one configuration at a time
with fit's kernel (``sweep_options.GeneralBlocks``), over ``BASELINE_EPOCHS`` of the
case's epochs (it is slow); ``--jax`` uses optax's ``adam`` (the same formula). Its
RESULTS.md table is a subsection (``ADAM_BEGIN``..``ADAM_END``) inside the SGD section.

This machine is shared: before each case the script waits (up to ``--wait-idle``
seconds) for both cores to be idle, and reports the share of CPU time other processes
took while the case ran (*other load*); ratios are meaningful within one run only.
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib
import importlib.util
import json
import os
import platform
import resource
import statistics
import sys
import time
import warnings
from dataclasses import dataclass

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
# steady-state timings: kernels compiled (or loaded) in the warm-up, not tiered (fastnn.kernels.tiering)
os.environ.setdefault("FASTNN_TIERING", "0")

import fastnn  # noqa: E402
from fastnn import datasets  # noqa: E402
from fastnn.benchmark import _ns  # noqa: E402  (the tables' ns format)
from fastnn.errors import TrainingWarning  # noqa: E402
from fastnn import sweep_options  # noqa: E402
from fastnn.kernels import sweepgen  # noqa: E402
from fastnn.options import TrainOptions  # noqa: E402

sweep_module = importlib.import_module("fastnn.sweep")

LRS_REGRESSION = np.geomspace(1e-4, 1e-2, 64)
LRS_SPIRAL = np.geomspace(1e-3, 1e-1, 64)
SEEDS = tuple(range(16))
INIT = "he"
THREADS = 2
TARGET_NS_PER_PARAM = 0.2  # issue 19: at most, per parameter per configuration-step, both cores
TARGET_JAX = 5.0  # at least this many times faster than JAX jit(vmap) at every size
TARGET_JAX_SMALL = 10.0  # ... and this many where the network is small (the generated kernels)
OPTIMIZERS = ("sgd", "adam")  # --optimizer: plain SGD, or fastnn.Adam() with its default settings
BASELINE_EPOCHS = 0.2  # the share of a case's epochs the GeneralBlocks baseline trains (at least 1)

# The section this script writes into bench/RESULTS.md (bench/report.py keeps it when it
# rewrites the rest of the file).
BEGIN = "<!-- sweep-sizes: begin (python -m bench.sweep_sizes --markdown; bench/report.py keeps it) -->"
END = "<!-- sweep-sizes: end -->"
# The --optimizer adam table: a subsection inside BEGIN..END (so that report.py keeps it too).
ADAM_BEGIN = "<!-- sweep-sizes-adam: begin (python -m bench.sweep_sizes --optimizer adam --markdown) -->"
ADAM_END = "<!-- sweep-sizes-adam: end -->"
# python -m bench.adam_floor's subsection, after the Adam one (kept the same way).
FLOOR_BEGIN = "<!-- adam-floor: begin (python -m bench.adam_floor --markdown) -->"
FLOOR_END = "<!-- adam-floor: end -->"
_SUBSECTIONS = ((ADAM_BEGIN, ADAM_END), (FLOOR_BEGIN, FLOOR_END))


@dataclass(frozen=True)
class SizeCase:
    name: str
    sizes: tuple
    activation: object
    loss: str
    batch_size: int
    epochs: int  # per timed call

    @property
    def spiral(self):
        return self.sizes[-1] == 3

    def data(self):
        return datasets.spiral(100, 3, seed=0) if self.spiral else datasets.quadratic(100, seed=0)

    def lrs(self):
        return LRS_SPIRAL if self.spiral else LRS_REGRESSION

    def spec(self):
        return fastnn.spec.Spec.build(self.sizes, self.activation, self.loss, True)


CASES = {
    case.name: case
    for case in (
        SizeCase("2-2-1", (2, 2, 1), "relu", "squared_error", 1, 200),
        SizeCase("2-8-1", (2, 8, 1), "relu", "squared_error", 1, 200),
        SizeCase("2-16-1", (2, 16, 1), "relu", "squared_error", 1, 200),
        SizeCase("2-32-1", (2, 32, 1), "relu", "squared_error", 1, 100),
        SizeCase("2-64-1", (2, 64, 1), "relu", "squared_error", 1, 100),
        SizeCase("2-16-16-1", (2, 16, 16, 1), "relu", "squared_error", 1, 50),
        SizeCase("2-32-32-1", (2, 32, 32, 1), "relu", "squared_error", 1, 20),
        SizeCase("2-64-64-1", (2, 64, 64, 1), "relu", "squared_error", 1, 5),
        SizeCase("spiral-2-64-3", (2, 64, 3), ("relu", "softmax"), "categorical_cross_entropy", 32, 20),
    )
}


# ---------------------------------------------------------------- the machine's other load


def _cpu_jiffies():
    """(busy, total) jiffies of all CPUs from /proc/stat, or None."""
    try:
        with open("/proc/stat") as handle:
            fields = [int(v) for v in handle.readline().split()[1:]]
    except OSError:
        return None
    idle = fields[3] + fields[4]
    total = sum(fields[:8])
    return total - idle, total


def _own_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime


class OtherLoad:
    """Share of the machine's CPU time that other processes took while the block ran."""

    def __enter__(self):
        self.start = _cpu_jiffies(), _own_cpu_seconds()
        return self

    def __exit__(self, *exc):
        end = _cpu_jiffies(), _own_cpu_seconds()
        self.share = None
        if self.start[0] and end[0] and end[0][1] > self.start[0][1]:
            hz = os.sysconf("SC_CLK_TCK")
            busy = (end[0][0] - self.start[0][0]) / hz
            total = (end[0][1] - self.start[0][1]) / hz
            self.share = max(0.0, busy - (end[1] - self.start[1])) / total
        return False


def wait_idle(limit_s, busy_below=0.15):
    """Wait until the machine's CPUs are under ``busy_below`` busy over half a second (at
    most limit_s seconds); returns whether they were."""
    deadline = time.monotonic() + limit_s
    while True:
        before = _cpu_jiffies()
        time.sleep(0.5)
        after = _cpu_jiffies()
        if before is None or after is None:
            return True
        busy = (after[0] - before[0]) / max(after[1] - before[1], 1)
        if busy < busy_below:
            return True
        if time.monotonic() > deadline:
            return False


# ---------------------------------------------------------------- implementations


def run_sweep(case, epochs, threads=THREADS, optimizer="sgd"):
    X, y = case.data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrainingWarning)  # the spiral's classes come in order
        return fastnn.sweep(list(case.sizes), X, y, lr=list(case.lrs()), seeds=list(SEEDS), epochs=epochs,
                            activation=case.activation, loss=case.loss, init=INIT, batch_size=case.batch_size,
                            progress=False, threads=threads, optimizer=optimizer)


def kernel_name(case, optimizer="sgd"):
    """The module and function of the kernel that trains the case's group."""
    if optimizer == "sgd":
        kernel = sweep_module._kernel(case.spec(), case.batch_size, False)
    else:
        spec = case.spec()
        options = TrainOptions.build(spec, optimizer)
        if not sweep_options.vectorised(spec, options):
            return "sweep_options.GeneralBlocks"
        kernel = sweep_options.load(spec, options, False, case.batch_size)  # run_sweep: samples in order
    function = getattr(kernel, "py_func", kernel)
    module = function.__module__.replace("fastnn.kernels.", "")
    return "sweepgen (generated)" if module.startswith("fastnn_generated_") else f"{module}.{function.__name__}"


def _baseline_kernel():
    """sweep._kernel as it was before issue 19: sweep_generic.train past 64 parameters."""
    from fastnn.kernels import sweep_generic
    from fastnn.kernels.compiler import compiled

    current = sweep_module._kernel

    def kernel(spec, batch_size, shuffle):
        if sweepgen.supports(spec):
            return current(spec, batch_size, shuffle)
        return compiled(sweep_generic.train, sweep_module._SIGNATURE)

    return kernel


def _general_blocks(spec, options):
    """sweep_options.vectorised as it was before the lane kernel's optimizer mode: only
    the generated kernels' networks; the others on GeneralBlocks."""
    return sweepgen.supports(spec) and not options.has_dropout


def time_fastnn(case, repeats, threads=THREADS, baseline=False, optimizer="sgd"):
    X, _ = case.data()
    saved = sweep_module._kernel, sweep_options.vectorised
    epochs = case.epochs
    if baseline and optimizer == "sgd":
        sweep_module._kernel = _baseline_kernel()
    elif baseline:
        sweep_options.vectorised = _general_blocks
        epochs = max(1, round(case.epochs * BASELINE_EPOCHS))
    try:
        first = run_sweep(case, 1, threads, optimizer)  # compiles the kernel or loads it from the cache
        whole, training = [], []
        for _ in range(repeats):
            started = time.perf_counter()
            result = run_sweep(case, epochs, threads, optimizer)
            whole.append(time.perf_counter() - started)
            training.append(result.seconds)
        name = kernel_name(case, optimizer)
    finally:
        sweep_module._kernel, sweep_options.vectorised = saved
    steps = len(result.configs) * epochs * len(X)
    return dict(ns=statistics.median(whole) / steps * 1e9, ns_min=min(whole) / steps * 1e9,
                ns_training=statistics.median(training) / steps * 1e9, compile_s=first.compile_seconds,
                diverged=int(result.diverged.sum()), kernel=name, losses_sum=float(np.nansum(result.losses)))


def time_jax(case, repeats, optimizer="sgd"):
    from bench import cases as bench_cases
    from fastnn.compare import jax_impl

    spec = case.spec()
    K = len(case.lrs()) * len(SEEDS)
    by_seed = {s: spec.init_params(INIT, s) for s in SEEDS}
    params = np.stack([by_seed[SEEDS[k % len(SEEDS)]] for k in range(K)])
    lrs = np.repeat(case.lrs(), len(SEEDS))
    jax_case = bench_cases.Case(
        name=f"sweep-sizes-{case.name}", title=case.name, sizes=case.sizes, activation=case.activation,
        loss=case.loss, lr=float(lrs[0]), batch_size=case.batch_size, make_data=case.data,
        make_network=lambda: fastnn.Network(list(case.sizes), case.activation, case.loss, init=INIT, seed=0),
        optimizer=optimizer,  # jax_impl: optax's adam for "adam"
    )
    if optimizer != "sgd":
        jax_case = dataclasses.replace(jax_case, name=f"{jax_case.name}-{optimizer}")
    bench_cases.CASES.setdefault(jax_case.name, jax_case)  # Case.data() looks itself up there
    prepared = jax_impl.prepare_sweep(jax_case, case.epochs, lrs, params)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        prepared.run()
        times.append(time.perf_counter() - started)
    return dict(ns=statistics.median(times) / prepared.steps * 1e9, ns_min=min(times) / prepared.steps * 1e9,
                compile_s=prepared.warmup_seconds)


def measure(names, repeats, with_jax, baseline, idle_s, threads=THREADS, optimizer="sgd"):
    rows = []
    for name in names:
        case = CASES[name]
        idle = wait_idle(idle_s)
        spec = case.spec()
        row = dict(case=name, sizes=list(case.sizes), n_params=spec.n_params, batch_size=case.batch_size,
                   epochs=case.epochs, samples=len(case.data()[0]), configs=len(case.lrs()) * len(SEEDS),
                   threads=threads, started_idle=idle, optimizer=optimizer)
        with OtherLoad() as load:
            row["fastnn"] = time_fastnn(case, repeats, threads, optimizer=optimizer)
            if baseline and not sweepgen.supports(spec):
                row["baseline"] = time_fastnn(case, repeats, threads, baseline=True, optimizer=optimizer)
            if with_jax:
                row["jax"] = time_jax(case, repeats, optimizer)
        row["other_load"] = load.share
        rows.append(row)
        print(_line(row), flush=True)
    return rows


def _line(row):
    fast = row["fastnn"]
    line = (f"{row['case']:14s} P={row['n_params']:5d} {fast['kernel']:26s} {fast['ns']:8.2f} ns/config-step "
            f"{fast['ns'] / row['n_params']:6.3f} ns/param (compile/load {fast['compile_s']:.2f} s)")
    if "baseline" in row:
        base = row["baseline"]
        line += f" | before {base['ns']:8.2f} ns ({base['ns'] / row['n_params']:.3f}/param, {base['ns'] / fast['ns']:.1f}x)"
    if "jax" in row:
        line += f" | JAX {row['jax']['ns']:8.2f} ns -> {row['jax']['ns'] / fast['ns']:.1f}x"
    if row.get("other_load") is not None:
        line += f" | other load {row['other_load']:.0%}"
    return line


# ---------------------------------------------------------------- report


def machine():
    info = dict(python=platform.python_version(), numpy=np.__version__, fastnn=getattr(fastnn, "__version__", "?"))
    for module in ("numba", "llvmlite", "jax", "jaxlib"):
        try:
            info[module] = importlib.import_module(module).__version__
        except ImportError:
            pass
    try:
        import llvmlite.binding as llvm

        info["cpu"] = llvm.get_host_cpu_name()
    except Exception:  # noqa: BLE001 - informative only
        pass
    info["cores"] = os.cpu_count()
    info["date"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    return info


def markdown_adam(data):
    """The ``--optimizer adam`` subsection (between ADAM_BEGIN and ADAM_END) for a run's JSON."""
    rows, info = data["rows"], data["machine"]
    has_base = any("baseline" in r for r in rows)
    has_jax = any("jax" in r for r in rows)
    out = [ADAM_BEGIN, "### The same grids with Adam", ""]
    out.append(
        f"Written by `python -m bench.sweep_sizes --optimizer adam` ({info.get('date', '?')}, {info.get('cpu', '?')}, "
        f"{info.get('cores', '?')} cores): the grids above trained with `fastnn.Adam()` (default settings). Past 64 "
        "parameters they run on the lane kernel's optimizer mode (`sweeplanes.train_optim`, one function for every "
        "optimizer, compiled once per machine)."
        + (" *before*: the path such sweeps took before it, one configuration at a time with fit's kernel "
           f"(`sweep_options.GeneralBlocks`), timed over {BASELINE_EPOCHS:.0%} of the epochs, in the same run."
           if has_base else "")
        + (" *JAX*: `jit(vmap(lax.scan))` with optax's `adam` (the same formula), float64." if has_jax else "")
        + " Per sample, Adam's step (a division and a square root per parameter and configuration) costs far more "
        "than the forward and backward passes; in batches it is spread over the batch. The step alone is timed in "
        "the next subsection (`python -m bench.adam_floor`)."
    )
    out.append("")
    out += _table(rows, has_base, has_jax)
    out.append("")
    if data.get("note"):
        out += [data["note"], ""]
    out.append(ADAM_END)
    return "\n".join(out)


def _table(rows, has_base, has_jax):
    """The markdown lines of a table of rows (fastnn, and the baseline and JAX columns when had)."""
    out = []
    head = ["network", "parameters", "kernel", "ns per configuration-step", "ns per parameter"]
    if has_base:
        head += ["before: ns per config-step", "before: per parameter", "speed-up"]
    if has_jax:
        head += ["JAX jit(vmap): ns per config-step", "fastnn faster than JAX"]
    head += ["other load"]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
    for r in rows:
        fast = r["fastnn"]
        cells = [r["case"] + (f", batch {r['batch_size']}" if r["batch_size"] > 1 else ""), f"{r['n_params']:,}",
                 f"`{fast['kernel']}`", _ns(fast["ns"]), f"{fast['ns'] / r['n_params']:.3f}"]
        if has_base:
            base = r.get("baseline")
            cells += ([_ns(base["ns"]), f"{base['ns'] / r['n_params']:.3f}", f"{base['ns'] / fast['ns']:.1f}x"]
                      if base else ["(same kernel)", "", ""])
        if has_jax:
            jax = r.get("jax")
            cells += [_ns(jax["ns"]), f"{jax['ns'] / fast['ns']:.1f}x"] if jax else ["", ""]
        load = r.get("other_load")
        cells.append("" if load is None else f"{load:.0%}")
        out.append("| " + " | ".join(cells) + " |")
    return out


def write_adam_section(path, section):
    """Replace the ADAM_BEGIN..ADAM_END subsection of ``path``, else insert it before END
    (else write_section: a new section holding only it)."""
    with open(path) as handle:
        text = handle.read()
    if ADAM_BEGIN in text and ADAM_END in text:
        head, rest = text.split(ADAM_BEGIN, 1)
        text = head + section + rest.split(ADAM_END, 1)[1]
    elif BEGIN in text and END in text:
        head, tail = text.split(END, 1)
        text = head + section + "\n" + END + tail
    else:
        write_section(path, BEGIN + "\n" + section + "\n" + END)
        return
    with open(path, "w") as handle:
        handle.write(text)


def markdown(data):
    """The RESULTS.md section (between BEGIN and END) for a run's JSON."""
    rows, info = data["rows"], data["machine"]
    has_base = any("baseline" in r for r in rows)
    has_jax = any("jax" in r for r in rows)
    out = [BEGIN, "## Sweeps across network sizes: ns per configuration-step and per parameter", ""]
    out.append(
        "Written by `python -m bench.sweep_sizes` (issue 19), all rows from one run "
        f"({info.get('date', '?')}, {info.get('cpu', '?')}, {info.get('cores', '?')} cores, numba "
        f"{info.get('numba', '?')}{', jax ' + info['jax'] if 'jax' in info else ''}). 1,024 configurations "
        "(64 learning rates x 16 He init seeds) of each network, plain SGD, `fastnn.sweep(..., threads=2)`; "
        "the regression networks on seed 000's data (100 samples, ReLU everywhere, squared error, per sample), "
        "the spiral classifier (ReLU/softmax, categorical cross-entropy) on 300 samples in mini-batches of 32. "
        "Medians of whole calls after an untimed compile-or-load call. *kernel*: the sweep kernel that trains "
        "the group (the generated ones stop at 64 parameters; `sweeplanes.train` is the shape-generic lane "
        "kernel, compiled once per machine)."
        + (" *before*: the same sweep with the kernel used past 64 parameters before issue 19 "
           "(`sweep_generic.train`), in the same run." if has_base else "")
        + (" *JAX*: `jit(vmap(lax.scan))` of the same grid, float64 (fastnn.compare.jax_impl.prepare_sweep)."
           if has_jax else " JAX was not installed for this run.")
        + " *other load*: the share of CPU time other processes on this shared machine took while the row ran."
    )
    out.append("")
    out += _table(rows, has_base, has_jax)
    out.append("")
    worst = max(rows, key=lambda r: r["fastnn"]["ns"] / r["n_params"] if r["n_params"] > 64 else 0)
    worst_ns = worst["fastnn"]["ns"] / worst["n_params"]
    lines = [f"| fastnn.sweep <= {TARGET_NS_PER_PARAM} ns per parameter per configuration-step past 64 parameters "
             f"(2 threads) | worst {worst_ns:.3f} ({worst['case']}) | **{'met' if worst_ns <= TARGET_NS_PER_PARAM else 'not met'}** |"]
    if has_jax:
        ratios = [(r["jax"]["ns"] / r["fastnn"]["ns"], r) for r in rows if "jax" in r]
        lowest, at = min(ratios, key=lambda x: x[0])
        lines.append(f"| fastnn.sweep >= {TARGET_JAX:g}x faster than JAX `jit(vmap)` at every size | lowest "
                     f"{lowest:.1f}x ({at['case']}) | **{'met' if lowest >= TARGET_JAX else 'not met'}** |")
        small = [(q, r) for q, r in ratios if r["n_params"] <= 64]
        if small:
            low_small, at_small = min(small, key=lambda x: x[0])
            lines.append(f"| >= {TARGET_JAX_SMALL:g}x where the generated kernels train it (<= 64 parameters) | lowest "
                         f"{low_small:.1f}x ({at_small['case']}) | "
                         f"**{'met' if low_small >= TARGET_JAX_SMALL else 'not met'}** |")
    out += ["Targets (issue 19, from the medians above):", "", "| target | measured | |", "|---|---|---|", *lines, ""]
    if data.get("note"):
        out += [data["note"], ""]
    out.append(END)
    return "\n".join(out)


def write_section(path, section):
    """Replace the BEGIN..END section of ``path``, keeping its Adam and Adam-floor
    subsections (or insert it before '## Start-up', else at the end)."""
    with open(path) as handle:
        text = handle.read()
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        body, tail = rest.split(END, 1)
        for begin, end in _SUBSECTIONS:  # keep the subsections written by the other scripts
            if begin in body and end in body and begin not in section:
                kept = begin + body.split(begin, 1)[1].split(end, 1)[0] + end
                section = section[: -len(END)] + kept + "\n" + END
        text = head + section + tail
    elif "\n## Start-up" in text:
        head, tail = text.split("\n## Start-up", 1)
        text = head + "\n" + section + "\n\n## Start-up" + tail
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    with open(path, "w") as handle:
        handle.write(text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--jax", action="store_true", help="time JAX jit(vmap(lax.scan)) too (needs jax)")
    parser.add_argument("--baseline", action="store_true", help="time the pre-issue-19 kernel too")
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--optimizer", default="sgd", choices=OPTIMIZERS,
                        help="adam: fastnn.Adam() with default settings (--baseline: against GeneralBlocks)")
    parser.add_argument("--wait-idle", type=float, default=120.0, help="seconds to wait for idle CPUs per case")
    parser.add_argument("--json", help="write the rows here")
    parser.add_argument("--from-json", help="read the rows from here instead of measuring")
    parser.add_argument("--markdown", help="write the section into this RESULTS.md")
    parser.add_argument("--note", help="a paragraph to print under the tables (kept in the JSON)")
    args = parser.parse_args(argv)
    if args.from_json:
        with open(args.from_json) as handle:
            data = json.load(handle)
    else:
        if args.jax and importlib.util.find_spec("jax") is None:
            parser.error("--jax: JAX is not installed in this Python")
        data = dict(machine=machine(), optimizer=args.optimizer,
                    rows=measure(args.cases, args.repeats, args.jax, args.baseline, args.wait_idle, args.threads,
                                 args.optimizer))
    if args.note:
        data["note"] = args.note
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(data, handle, indent=1)
    if args.markdown and data.get("optimizer", "sgd") != "sgd":
        write_adam_section(args.markdown, markdown_adam(data))
        print(f"wrote the Adam subsection of the sweep-sizes section of {args.markdown}")
    elif args.markdown:
        write_section(args.markdown, markdown(data))
        print(f"wrote the sweep-sizes section of {args.markdown}")


if __name__ == "__main__":
    main()
