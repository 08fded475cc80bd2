"""Turn pytest-benchmark's ``--benchmark-json`` output into bench/RESULTS.md.

    python bench/report.py BENCH.json [RESULTS.md] [--first-result-json FIRST.json]
    python -m bench.report --first-result-json FIRST.json [RESULTS.md]

One table per case: each implementation's median time per step (a step is one sample's
forward pass, backward pass and update), its ratio to fastnn's numba backend and its
speed-up over the pure-Python reference; then the sweeps (``bench/test_sweep.py``: ns per
configuration-step of ``fastnn.sweep``, a loop of ``fit`` calls and JAX's ``jit(vmap)``,
with the issue's targets marked met or not met); then the start-up figures (compile time
with an empty cache, cold start with a warm one), the machine, the versions and the date.
All ratios come from one run on one machine: absolute times drift on shared machines,
ratios measured together much less.

The "First result" section (issue 14: a new shape's first ``fit``, a sweep of new shapes)
comes from ``python -m bench.startup --first-result --json FIRST.json`` instead
(``first_result_section``): with ``--first-result-json`` it is written from that file
(alone, when no BENCH.json is given: the rest of RESULTS.md stays as it is); without, a
full rewrite keeps the section already in RESULTS.md, as it keeps the sweep-sizes one.
"""
from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

from fastnn.benchmark import format_seconds as _seconds
from fastnn.benchmark import format_times as _ratio

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

BASELINE, REFERENCE = "numba", "reference"

# Sweeps (bench/test_sweep.py): the implementation the ratios are taken against, the
# report order, and the targets.
SWEEP_BASELINE = "sweep"
SWEEP_ORDER = ("sweep", "sweep-1thread", "fit-loop", "jax")
SWEEP_TARGET_NS = 1.5  # fastnn.sweep, ns per configuration-step, at most
SWEEP_TARGET_JAX = 10.0  # fastnn.sweep faster than JAX's jit(vmap) by at least this factor

COLD_START_TARGET_S = 1.0  # new process, import fastnn, seed 000's network, 1 epoch

# The "First result" section (python -m bench.startup --first-result --json F), issue 14's targets.
FIRST_RESULT_BEGIN = ("<!-- first-result: begin (python -m bench.startup --first-result --json F; "
                      "python -m bench.report --first-result-json F) -->")
FIRST_RESULT_END = "<!-- first-result: end -->"
FIRST_FIT_TARGET_S = 0.5  # a new shape's first fit, from Network(...), numba's cache of the package warm
FIRST_EVER_TARGET_S = 3.0  # the first fit on a machine, both caches empty
FIRST_SWEEP_TARGET = 2.0  # a sweep of 5 new widths: its first call at most this many times its warm call

_STOLEN_NOTE = (
    "*CPU stolen*: the share of busy CPU time that the hypervisor gave to other guests while "
    "that benchmark ran (from /proc/stat); stolen time stretches timed regions at random."
)


def _registry():
    try:
        from bench import cases

        return cases
    except Exception:  # noqa: BLE001 - the report still works from the JSON alone
        return None


def _ns(value):
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _compare(times, label):
    """'3.1x faster than X' when X takes ``times`` fastnn's time, or '1.2x slower than X'."""
    if times >= 1:
        return f"{_ratio(times)} faster than {label}"
    return f"{_ratio(1 / times)} slower than {label}"


def collect(data):
    """{case: {impl: row}} and the start-up benchmarks, from the JSON."""
    by_case, startup = {}, {}
    for bench in data["benchmarks"]:
        info = bench.get("extra_info", {})
        stats = bench["stats"]
        if "case" in info and "kind" not in info:  # the start-up benchmarks' first-result rows name a case too
            steps = info["steps"]
            row = dict(
                info,
                ns_median=stats["median"] / steps * 1e9,
                ns_min=stats["min"] / steps * 1e9,
                ns_iqr=stats["iqr"] / steps * 1e9,
                rounds=stats["rounds"],
            )
            by_case.setdefault(info["case"], {})[info["impl"]] = row
        elif "kind" in info:
            startup[info["kind"]] = dict(info, median_s=stats["median"], min_s=stats["min"], rounds=stats["rounds"])
    return by_case, startup


def collect_sweeps(data):
    """{sweep: {impl: row}} from the JSON (benchmarks whose extra_info names a sweep)."""
    sweeps = {}
    for bench in data["benchmarks"]:
        info = bench.get("extra_info", {})
        if "sweep" not in info or "config_steps" not in info:
            continue
        stats = bench["stats"]
        steps = info["config_steps"]
        row = dict(
            info,
            ns_median=stats["median"] / steps * 1e9,
            ns_min=stats["min"] / steps * 1e9,
            rounds=stats["rounds"],
        )
        sweeps.setdefault(info["sweep"], {})[info["impl"]] = row
    return sweeps


def _bytes(value):
    if value >= 2**20:
        return f"{value / 2**20:.2f} MiB"
    if value >= 2**10:
        return f"{value / 2**10:.1f} KiB"
    return f"{value} B"


def weight_flops(sizes, batch_size):
    """Floating-point operations on the weights in one step (one sample): per weight, a
    multiply and an add forward, the same for the error signal sent below (all layers but
    the first), then per-sample SGD's x * d, lr * that and the subtraction, or a
    mini-batch's multiply-add into the gradient sum and its share of g / m, lr * that and
    the subtraction. Biases, activations and the loss are not counted."""
    total = 0.0
    for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        per_weight = 2 + (2 if layer > 0 else 0) + (3 if batch_size == 1 else 2 + 3 / batch_size)
        total += per_weight * n_in * n_out
    return total


def _stolen(row):
    """The row's share of CPU time stolen by other guests, as a table cell."""
    share = row.get("cpu_stolen")
    return "" if share is None else f"{100 * share:.0f}%"


def _met(ok):
    return "**met**" if ok else "**not met**"


def sweep_table(name, rows):
    """Markdown lines for one sweep: the table, the targets, memory."""
    out = []
    first = next(iter(rows.values()))
    out.append(f"### `{name}`")
    out.append("")
    out.append(first.get("sweep_description", ""))
    out.append("")
    impls = [i for i in SWEEP_ORDER if i in rows] + [i for i in rows if i not in SWEEP_ORDER]
    base = rows.get(SWEEP_BASELINE, {}).get("ns_median")
    out.append(
        "| implementation | ns per configuration-step (median) | min | configurations x epochs x samples per call "
        "| rounds | compile / load (untimed) | time / fastnn sweep | CPU stolen |"
    )
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for impl in impls:
        row = rows[impl]
        t = row["ns_median"]
        shape = f"{row['configs']:,} x {row['epochs']:,} x {row['samples']:,}"
        if row["configs"] != row.get("grid_configs", row["configs"]):
            shape += f" (of {row['grid_configs']:,})"
        compile_s = row.get("compile_s")
        title = row.get("impl_title", impl)
        label = f"**{title}**" if impl == SWEEP_BASELINE else title
        out.append(
            f"| {label} | {_ns(t)} | {_ns(row['ns_min'])} | {shape} | {row['rounds']} | "
            f"{_seconds(compile_s) if compile_s is not None else ''} | {_ratio(t / base) if base else 'n/a'} | "
            f"{_stolen(row)} |"
        )
    out.append("")
    out.append(
        "A configuration-step is one sample's forward pass, backward pass and update for one "
        "configuration. Times are whole calls (for `fastnn.sweep`: argument checks, the grid, "
        "initialisation and the kernel lookup included; compilation, or loading the compiled "
        "kernel from the disk cache, is done by an earlier untimed call and shown apart: near "
        "zero where an earlier benchmark in the run already loaded the kernel; for JAX it "
        "includes its first, warm-up run). The fit loop times a subset of the configurations "
        "(its networks built beforehand) and is scaled per configuration-step. " + _STOLEN_NOTE
    )
    out.append("")
    base_row = rows.get(SWEEP_BASELINE)
    if base_row:
        threads = base_row.get("threads")
        lines = []
        lines.append(
            f"| fastnn.sweep <= {SWEEP_TARGET_NS:g} ns per configuration-step"
            + (f" ({threads} threads)" if threads else "")
            + f" | {_ns(base)} ns | {_met(base <= SWEEP_TARGET_NS)} |"
        )
        if "jax" in rows:
            times = rows["jax"]["ns_median"] / base
            lines.append(
                f"| fastnn.sweep >= {SWEEP_TARGET_JAX:g}x faster than JAX `jit(vmap)` | "
                f"{_compare(times, 'JAX')} | {_met(times >= SWEEP_TARGET_JAX)} |"
            )
        else:
            lines.append(
                f"| fastnn.sweep >= {SWEEP_TARGET_JAX:g}x faster than JAX `jit(vmap)` | "
                "not measured (JAX not installed) | n/a |"
            )
        out.append("Targets (from the medians above, measured in one run):")
        out.append("")
        out.append("| target | measured | |")
        out.append("|---|---|---|")
        out += lines
        out.append("")
        facts = []
        if "fit-loop" in rows:
            facts.append(_compare(rows["fit-loop"]["ns_median"] / base, "a loop of `fit` calls"))
        if "sweep-1thread" in rows and threads:
            one = rows["sweep-1thread"]["ns_median"]
            facts.append(f"with {threads} threads {_compare(one / base, 'with 1')}")
        training = base_row.get("ns_per_config_step_training")
        if training:
            facts.append(f"its training alone (`result.seconds`) takes {_ns(training)} ns per configuration-step")
        if facts:
            out.append("fastnn.sweep (medians): " + "; ".join(facts) + ".")
            out.append("")
        if "kxpe_bytes" in base_row:
            K, E, P = base_row["grid_configs"], base_row["epochs"], base_row.get("n_params", "P")
            text = (
                f"Memory: the result holds K x (P + E) floats, K = {K:,}, P = {P}, E = {E}: "
                f"{_bytes(base_row['result_float_bytes'])} ({_bytes(base_row['kxpe_bytes'])} expected)"
            )
            if "tracemalloc_peak_bytes" in base_row:
                text += (
                    f"; the Python-visible peak during a sweep (tracemalloc: numpy arrays and Python "
                    f"objects) was {_bytes(base_row['tracemalloc_peak_bytes'])}. The kernels' scratch "
                    "(numba allocations, not seen by tracemalloc) is allocated once per block of "
                    "configurations, before the epoch loop: none per step (checked by "
                    "`bench/test_sweep.py::test_sweep_memory`)."
                )
            else:
                text += "."
            out.append(text)
            out.append("")
    return out


def case_table(name, rows, registry):
    """Markdown lines for one case."""
    out = []
    first = next(iter(rows.values()))
    out.append(f"### {first.get('case_title', name)} (`{name}`)")
    out.append("")
    out.append(first.get("case_description", ""))
    out.append("")
    order = list(registry.IMPLS) if registry else sorted(rows)
    impls = [i for i in order if i in rows] + [i for i in rows if i not in order]
    base = rows.get(BASELINE, {}).get("ns_median")
    ref = rows.get(REFERENCE, {}).get("ns_median")
    out.append(
        "| implementation | ns per step (median) | min | epochs x samples per call | rounds | time / numba "
        "| speed-up over reference | CPU stolen |"
    )
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for impl in impls:
        row = rows[impl]
        t = row["ns_median"]
        steps = row["steps"]
        per_call = f"{row['epochs']:,} x {steps // row['epochs']:,}"
        vs_base = _ratio(t / base) if base else "n/a"
        vs_ref = _ratio(ref / t) if ref else "n/a"
        title = row.get("impl_title", impl)
        label = f"**{title}**" if impl == BASELINE else title
        out.append(
            f"| {label} | {_ns(t)} | {_ns(row['ns_min'])} | {per_call} | {row['rounds']} | {vs_base} | {vs_ref} "
            f"| {_stolen(row)} |"
        )
    missing = []
    if registry:
        case = registry.CASES.get(name)
        missing = [
            i.name for i in registry.IMPLS.values() if case is not None and i.applies(case) and i.name not in rows
        ]
    out.append("")
    if base:
        facts = []
        for other, label in (
            (REFERENCE, "the reference"),
            ("seed-scalar", "the seed's scalar Python"),
            ("generic", "the generic kernel"),
            ("handwritten", "the hand-written kernel"),
            ("jax", "JAX"),
            ("torch", "PyTorch"),
        ):
            if other in rows:
                facts.append(_compare(rows[other]["ns_median"] / base, label))
        out.append("fastnn numba (medians): " + "; ".join(facts) + ".")
        out.append("")
        case = registry.CASES.get(name) if registry else None
        if case is not None:
            flops = weight_flops(case.sizes, case.batch_size)
            out.append(
                f"Arithmetic rate of fastnn numba: {flops / base:.1f} GFLOP/s (median; "
                f"{flops / rows[BASELINE]['ns_min']:.1f} at the minimum), from {flops:,.0f} "
                "floating-point operations per step on the weights (see `weight_flops` in bench/report.py)."
            )
            out.append("")
    if missing:
        out.append(f"Not measured (module not installed): {', '.join(missing)}.")
        out.append("")
    return out


def startup_section(startup):
    out = ["## Start-up", ""]
    if not startup:
        return out + ["(not measured)", ""]
    out.append(
        "A fresh `python -m bench.startup`: `import fastnn`, build seed 000's network, fit it "
        "for 1 epoch (the first fit compiles, or loads numba's cache), fit again. "
        "Whole-process wall time (median of the rounds), then the process's own breakdown "
        "(last round)."
    )
    out.append("")
    out.append("| | process wall time | rounds | import fastnn | first fit | second fit | CPU stolen |")
    out.append("|---|---:|---:|---:|---:|---:|---:|")
    labels = {
        "compile": "compile time (empty NUMBA_CACHE_DIR and FASTNN_CACHE_DIR)",
        "cold": "cold start (caches warm), bench venv (scipy installed)",
        "floor": "numba floor: numpy + numba and one cached one-line @njit function (cache warm), bench venv",
        "cold-core": "cold start (caches warm), venv with only fastnn and its dependencies",
        "floor-core": "numba floor (cache warm), venv with only fastnn's dependencies",
    }
    for kind in ("compile", "cold", "floor", "cold-core", "floor-core"):
        if kind not in startup:
            continue
        s = startup[kind]
        out.append(
            f"| {labels[kind]} | {_seconds(s['median_s'])} | {s['rounds']} | {_seconds(s['import_s'])} | "
            f"{_seconds(s['first_fit_s'])} | {_seconds(s['second_fit_s'])} | {_stolen(s)} |"
        )
    out.append("")
    if "floor" in startup:
        out.append(
            "The numba floor's columns are its import of numpy and numba and its first and second "
            "call. Process wall time also holds the interpreter's start and exit; the exit, "
            "where Python frees numba's many objects, takes a few tenths of a second here. "
            "The bench venv holds the comparison targets: JAX brings scipy, and numba imports "
            "scipy.linalg when it sets up its CPU target (its first cached function), a few "
            "tenths of a second more in both rows; `pip install fastnn` brings no scipy."
        )
        out.append("")
    measured = [
        f"{where} {_seconds(startup[kind]['median_s'])}, {_met(startup[kind]['median_s'] <= COLD_START_TARGET_S)}"
        for kind, where in (("cold", "bench venv"), ("cold-core", "venv with only fastnn's dependencies"))
        if kind in startup
    ]
    if measured:
        out.append(f"Target: cold start <= {COLD_START_TARGET_S:.1f} s, caches warm (medians): " + "; ".join(measured) + ".")
        out.append("")
    per_case = [(k, startup[k].get("first_fit_by_case_s")) for k in ("compile", "cold") if k in startup]
    per_case = [(k, v) for k, v in per_case if v]
    if per_case:
        out.append(
            "First `fit` of each case's network in one more process (after seed 000's fit there; "
            "a new architecture's kernels are compiled, or loaded from the cache, on its first fit):"
        )
        out.append("")
        cases_ = list(dict.fromkeys(c for _, v in per_case for c in v))
        out.append("| case | " + " | ".join(labels[k] for k, _ in per_case) + " |")
        out.append("|---|" + "---:|" * len(per_case))
        for c in cases_:
            out.append(f"| {c} | " + " | ".join(_seconds(v[c]) if c in v else "" for _, v in per_case) + " |")
        out.append("")
    return out


# ---------------------------------------------------------------- first result (issue 14)


def _sec(value, missing=""):
    return missing if value is None else _seconds(value)


def _median(runs, key):
    values = [r[key] for r in runs or () if r.get(key) is not None]
    return statistics.median(values) if values else None


def _span(values, unit=_sec):
    values = sorted(v for v in values if v is not None)
    if not values:
        return ""
    if len(values) == 1 or unit(values[0]) == unit(values[-1]):
        return unit(values[0])
    low, high = unit(values[0]), unit(values[-1])
    if low.split(" ")[-1] == high.split(" ")[-1]:  # the same unit: '0.22-0.28 s'
        return f"{low.rsplit(' ', 1)[0]}-{high}"
    return f"{low} to {high}"


def _missing(data, prefix, ran=True):
    """What a cell with no figure says: 'failed' when a process for it failed, 'not run'
    when it was skipped (``ran`` False), else nothing."""
    if any(f.startswith(prefix) for f in data.get("failed") or ()):
        return "failed"
    return "" if ran else "not run"


def _kernel_that_ran(run):
    """'generic', 'reference, then generic, then generated', ... from a --first run."""
    first = run.get("first_run")
    if not run.get("tiering"):
        return "generated (compiled first)"
    if not first:
        return "generated (cached)"
    ran = (("reference", first.get("reference_epochs")), ("generic", first.get("generic_epochs")),
           ("generated", first.get("switched_at") is not None))
    parts = [name for name, epochs in ran if epochs]
    return ", then ".join(parts) or "generic"


def _plural(n, word):
    return f"{n} {word}" if n == 1 else f"{n} {word}{'es' if word.endswith('s') else 's'}"


def _first_fit_rows(data, out):
    """The per-case table of a first-result run, its target and what the runs show."""
    rows = data.get("cases") or []
    jax_python = data.get("jax_python")
    jax_versions = {r.get("jax_version") for row in rows for r in row["runs"].get("jax", ()) if r.get("jax_version")}
    jax_text = (f"JAX {', '.join(sorted(jax_versions))} from {jax_python}" if jax_versions
                else f"JAX from {jax_python}" if jax_python else "JAX")
    rounds = data["rounds"]
    out.append(
        f"Each cell: the median of {_plural(rounds, 'fresh process')}"
        f"{'' if rounds == 1 else ' each'}, with an empty fastnn cache (`FASTNN_CACHE_DIR`) and numba's cache of "
        "fastnn's own kernels warm (a warm-up process ran first); the time from `Network(...)` to the end of a "
        f"{data['epochs']}-epoch `fit` on {data['samples']} samples (lr {data['lr']:g}, no shuffling). *before*: "
        "`FASTNN_TIERING=0`, which compiles the generated kernel before training, as fastnn did before tiering. "
        "*fastnn first fit*: the default, tiered (`fastnn.kernels.tiering`): the fit starts at once on the "
        "shape-generic kernel while a background process compiles the generated one; *kernel that ran it*: "
        "`tiering.last_fit()` of that fit. *warm*: the same job again in that process once the generated kernel "
        "is compiled and loaded. JAX: `fastnn.compare.jax_impl` (jit over `lax.scan`, float64; optax's Adam), "
        f"{jax_text}, in its own fresh processes: from building its parameters to the result of the first call "
        "(trace, compile, run), and a second call of the same jitted function."
    )
    out.append("")
    out.append("| case | fastnn first fit, before | fastnn first fit | kernel that ran it | fastnn warm | "
               "JAX first call (compile + run) | JAX warm | fastnn first / JAX first |")
    out.append("|---|---:|---:|---|---:|---:|---:|---:|")
    firsts, generic_s, imports, compiles, same, agree = [], [], [], [], [], []
    for row in rows:
        runs = row["runs"]
        before, after = _median(runs.get("before"), "first_s"), _median(runs.get("after"), "first_s")
        kernels = sorted({_kernel_that_ran(r) for r in runs.get("after", ())})
        jax_first_s, jax_warm_s = _median(runs.get("jax"), "first_s"), _median(runs.get("jax"), "warm_s")
        ratio = _ratio(after / jax_first_s) if after and jax_first_s else ""
        not_run = _missing(data, f"{row['case']}: before", row.get("before_run", True))
        after_cell = _sec(after, _missing(data, row["case"] + ": after"))
        out.append(f"| {row['case']} | {_sec(before, not_run)} | {after_cell} | "
                   f"{', '.join(kernels)} | "
                   f"{_sec(_median(runs.get('after'), 'warm_s'))} | "
                   f"{_sec(jax_first_s, _missing(data, row['case'] + ': JAX', bool(jax_python)))} | "
                   f"{_sec(jax_warm_s)} | {ratio} |")
        if after is not None:
            firsts.append((after, row["case"]))
        for r in runs.get("after", ()):
            generic_s.append((r.get("first_run") or {}).get("generic_s"))
            imports.append(r.get("import_s"))
            if r.get("compile_s"):
                compiles.append((row["case"], max(r["compile_s"])))
            if "same_numbers" in r:
                same.append(r["same_numbers"])
        if runs.get("before") and runs.get("after"):
            digests = {r.get("digest") for label in ("before", "after") for r in runs[label]}
            agree.append(len(digests) == 1 and None not in digests)
    out.append("")
    if firsts:
        worst, worst_case = max(firsts)
        ok = worst <= FIRST_FIT_TARGET_S
        verdict = (f"{_met(True)} in every case ({_span([f for f, _ in firsts])})" if ok
                   else f"{_met(False)} (worst {_sec(worst)}, {worst_case}; all: {_span([f for f, _ in firsts])})")
        text = (f"Target: first `fit` within {FIRST_FIT_TARGET_S:g} s of `Network(...)`, numba's cache of fastnn's "
                f"kernels warm: {verdict}.")
        if any(g is not None for g in generic_s):
            text += (f" The {data['epochs']} epochs themselves took {_span(generic_s)} on the generic kernel "
                     "(`last_fit()['generic_s']`); the rest of the first fit is building the network, checking the "
                     "data and loading the generic kernel from numba's cache (numba's first cache load in a process "
                     "sets up its compiler and CPU target: the numba floor of the start-up table).")
        if any(i is not None for i in imports):
            text += f" `import fastnn` took {_span(imports)} before that (not in the cells)."
        out.append(text)
        out.append("")
    if compiles:
        by_case = {}
        for case, seconds in compiles:
            by_case.setdefault(case, []).append(seconds)
        out.append("The background compile of each generated kernel in the tiered processes: "
                   + "; ".join(f"{case}: {_span(v)}" for case, v in by_case.items())
                   + " (numba's frontend time grows with the length of the function).")
        out.append("")
    if same or agree:
        checks = []
        if same:
            checks.append(f"first and warm fit in each tiered process: {'equal' if all(same) else 'NOT equal'}")
        if agree:
            checks.append(f"tiered and before processes of each case: {'equal' if all(agree) else 'NOT equal'}")
        out.append("Same numbers (histories and parameters, bit for bit, checked by the benchmark): "
                   + "; ".join(checks) + ".")
        out.append("")


def _sweep_rows(data, out):
    sweep = data.get("sweep")
    if not sweep:
        return
    hidden = ", ".join(str(h) for h in sweep["hidden"])
    configs = sweep["n_lrs"] * sweep["n_seeds"]
    low, high = sweep["lr_range"]
    out.append("### A sweep of new shapes")
    out.append("")
    out.append(
        f"`python -m bench.startup --first-sweep`, in fresh processes with an empty fastnn cache (numba's cache of "
        f"the package sweep kernels warm: a warm-up process swept other widths first): `fastnn.sweep` of 2-h-1 "
        f"{sweep['activation']} networks over {len(sweep['hidden'])} hidden widths never seen before (h = {hidden}), "
        f"{configs:,} configurations each ({sweep['n_lrs']} learning rates `geomspace({low:g}, {high:g})` x "
        f"{sweep['n_seeds']} init seeds), {sweep['epochs']} epochs, per sample, on `quadratic({sweep['samples']}, "
        f"seed=0)`, `threads={sweep['threads']}`. *first call*: the first `fastnn.sweep` call in the process; "
        "*warm call*: a second one, after `tiering.wait()` (every background compile the first started has "
        "ended). *before*: `FASTNN_TIERING=0`. Medians of "
        f"{_plural(data['rounds'], 'process')}."
    )
    out.append("")
    out.append("| sweep | first call, before | warm call, before | first call | warm call | first / warm | "
               "background compiles started | of the first call: compiling / training |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    before, after = sweep.get("before") or [], sweep.get("after") or []
    b_first, b_warm = _median(before, "first_s"), _median(before, "warm_s")
    a_first, a_warm = _median(after, "first_s"), _median(after, "warm_s")
    jobs = sorted({r.get("background_jobs", 0) for r in after})
    split = (f"{_sec(_median(after, 'first_compile_s'))} / {_sec(_median(after, 'first_training_s'))}"
             if after else "")
    not_run = _missing(data, "sweep: before", not any(s.startswith("sweep: before") for s in data.get("skipped") or ()))
    n = len(sweep["hidden"]) * configs
    out.append(f"| {len(sweep['hidden'])} widths x {configs} = {n:,} configurations, {sweep['epochs']} epochs | "
               f"{_sec(b_first, not_run)} | {_sec(b_warm, not_run)} | "
               f"{_sec(a_first, _missing(data, 'sweep: after'))} | "
               f"{_sec(a_warm)} | "
               f"{_ratio(a_first / a_warm) if a_first and a_warm else ''} | "
               f"{', '.join(str(j) for j in jobs)} | {split} |")
    out.append("")
    if a_first and a_warm:
        ratio = a_first / a_warm
        text = (f"Target: the first call at most {FIRST_SWEEP_TARGET:g}x the warm call: "
                f"{_met(ratio <= FIRST_SWEEP_TARGET)} ({_ratio(ratio)}")
        if b_first and b_warm:
            text += f"; before: {_ratio(b_first / b_warm)}"
        text += ")."
        if jobs == [0]:
            text += (" The first call started no background compile: it compiled (or loaded) every kernel it "
                     "needed before training (`fastnn.sweep` did not tier here).")
        elif jobs:
            text += (" The first call started background compiles of generated kernels and trained on kernels "
                     "already compiled meanwhile (tiered).")
        same = [r.get("same_numbers") for r in after + before if "same_numbers" in r]
        digests = {r.get("digest") for r in after + before if r.get("digest")}
        if same:
            text += (" Same numbers (losses and final parameters, bit for bit): first and warm call "
                     f"{'equal' if all(same) else 'NOT equal'}")
            if len(digests) > 0:
                text += f", all processes {'equal' if len(digests) == 1 else 'NOT equal'}"
            text += "."
        out.append(text)
        out.append("")


def _long_rows(data, out):
    run_long = data.get("long")
    if not run_long:
        return
    epochs, after, before = run_long["epochs"], run_long.get("after"), run_long.get("before")
    out.append(
        f"A long fit of a new shape ends on the generated kernel at its steady-state speed: {run_long['case']}, "
        f"{epochs:,} epochs, fresh process, empty fastnn cache (`python -m bench.startup --long "
        f"\"{run_long['case']}\" {epochs}`):"
    )
    out.append("")
    out.append("| | whole fit | epochs on the generic kernel | their time | epochs on the generated kernel | "
               "their time | per epoch, generated part | per epoch, warm fit |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    switched = None
    if after:
        run = after.get("first_run") or {}
        switched = run.get("switched_at")
        warm = f"{after['warm_s'] / epochs * 1e6:.1f} us"
        if switched is not None:
            rest = epochs - switched
            per = f"{run['generated_s'] / rest * 1e6:.1f} us" if rest else ""
            out.append(f"| tiered (default) | {_sec(after['first_s'])} | {switched:,} | {_sec(run.get('generic_s'))} | "
                       f"{rest:,} | {_sec(run['generated_s'])} | {per} | {warm} |")
        else:
            out.append(f"| tiered (default) | {_sec(after['first_s'])} | {epochs:,} | {_sec(run.get('generic_s'))} | "
                       f"0 (the compile had not finished) | | | {warm} |")
    else:
        out.append(f"| tiered (default) | {_missing(data, 'long fit: after', False)} | | | | | | |")
    if before:
        out.append(f"| FASTNN_TIERING=0 (compile, then train) | {_sec(before['first_s'])} | 0 | | {epochs:,} | | | "
                   f"{before['warm_s'] / epochs * 1e6:.1f} us |")
    else:
        out.append(f"| FASTNN_TIERING=0 (compile, then train) | {_missing(data, 'long fit: before', False)} "
                   "| | | | | | |")
    out.append("")
    facts = []
    if after and switched is not None:
        facts.append(f"The switch came {_sec((after.get('first_run') or {}).get('generic_s'))} into the fit, when the "
                     "background compile finished")
    checks = []
    if after and "same_numbers" in after:
        equal = "equal" if after["same_numbers"] else "NOT equal"
        checks.append(f"the warm (all-generated) fit of the same process: {equal}")
    if after and before and after.get("digest") and before.get("digest"):
        equal = "equal" if after["digest"] == before["digest"] else "NOT equal"
        checks.append(f"the FASTNN_TIERING=0 process: {equal}")
    if checks:
        facts.append("the tiered fit's history and parameters against " + "; against ".join(checks)
                     + ", bit for bit (checked by the benchmark; tests/test_tiering.py switches at every epoch)")
    if facts:
        text = "; ".join(facts)
        out.append(text[0].upper() + text[1:] + ".")
        out.append("")


def _other_rows(data, out):
    cold, warm, overhead = data.get("cold"), data.get("warm"), data.get("overhead")
    if cold:
        out.append(
            "**Both** caches empty (the first fit ever on a machine, right after `pip install`: numba's cache "
            "(`NUMBA_CACHE_DIR`) empty too, so the generic kernels are not compiled either; tiered, they compile in "
            "background processes with the generated one and the fit trains meanwhile on what is ready: *kernel that "
            "ran it*), one fresh process per cell, `Network(...)` to the end of the same 20-epoch fit:"
        )
        out.append("")
        out.append("| case | first fit ever, before | first fit ever | kernel that ran it |")
        out.append("|---|---:|---:|---|")
        firsts = []
        for entry in cold:
            after, before = entry.get("after"), entry.get("before")
            if after:
                firsts.append(after["first_s"])
            prefix = f"cold: {entry['case']}"
            out.append(f"| {entry['case']} | "
                       f"{_sec(before['first_s']) if before else _missing(data, prefix + ': before', False)} | "
                       f"{_sec(after['first_s']) if after else _missing(data, prefix + ': after', False)} | "
                       f"{_kernel_that_ran(after) if after else ''} |")
        out.append("")
        if firsts:
            out.append(f"Target: the first fit ever on a machine <= {FIRST_EVER_TARGET_S:g} s: "
                       f"{_met(max(firsts) <= FIRST_EVER_TARGET_S)} ({_span(firsts)}).")
            out.append("")
    lines = []
    if warm and warm.get("after"):
        def both(runs):
            return [r["import_s"] + r["first_fit_s"] for r in runs]

        after = statistics.median(both(warm["after"]))
        text = (f"With both caches warm, a new process's `import fastnn` plus seed 000's first fit (`python -m "
                f"bench.startup`, median of {_plural(len(warm['after']), 'process')}): {_sec(after)}")
        if warm.get("before"):
            # The processes ran in pairs, before and after in turn: the verdict is the median
            # of the pairs' differences (a slow moment of the machine hits both of a pair).
            before = statistics.median(both(warm["before"]))
            pairs = [a - b for a, b in zip(both(warm["after"]), both(warm["before"]))]
            change = statistics.median(pairs)
            text += (f", with FASTNN_TIERING=0 {_sec(before)}; tiered minus FASTNN_TIERING=0, pair by pair: median "
                     f"{change * 1e3:+.1f} ms (from {min(pairs) * 1e3:+.0f} to {max(pairs) * 1e3:+.0f} ms); target "
                     f"(as fast as before tiering or faster): {_met(change <= 0.0)}")
        lines.append(text + ".")
    if overhead and overhead.get("after"):
        text = (f"A warm `fit` call (1 epoch of seed 000's network, {overhead['after']['calls']:,} calls) costs "
                f"{overhead['after']['per_call_s'] * 1e6:.1f} us")
        if overhead.get("before"):
            text += f", against {overhead['before']['per_call_s'] * 1e6:.1f} us with FASTNN_TIERING=0"
        lines.append(text + ".")
    if lines:
        out.append(" ".join(lines))
        out.append("")


def first_result_section(data):
    """The "First result" section of RESULTS.md (between FIRST_RESULT_BEGIN and
    FIRST_RESULT_END) from ``python -m bench.startup --first-result --json``'s figures."""
    out = [FIRST_RESULT_BEGIN, "## First result", ""]
    machine = data.get("machine") or {}
    commit = machine.get("commit")
    load = ""
    if data.get("load_before") and data.get("load_after"):
        load = (f", load average {data['load_before'][0]:.1f} when the run started and {data['load_after'][0]:.1f} "
                "when it ended (other work on this shared machine)")
    numba = (machine.get("versions") or {}).get("numba")
    where = f"{machine.get('cpu', '?')}, {machine.get('cores', '?')} cores, numba {numba}"
    if commit:
        where += f", fastnn commit {commit}" + (" with uncommitted changes" if machine.get("dirty") else "")
    out.append(
        f"A new network shape's first `fit`, and a first sweep of new shapes (issue 14). Written by "
        f"`{data.get('command', 'python -m bench.startup --first-result')}` and `python -m bench.report "
        f"--first-result-json` (do not edit by hand), {data.get('date', '?')}, on {where}{load}."
    )
    out.append("")
    _first_fit_rows(data, out)
    _long_rows(data, out)
    _sweep_rows(data, out)
    _other_rows(data, out)
    if data.get("note"):
        out.append(data["note"])
        out.append("")
    if data.get("skipped"):
        out.append("Not run in this run (so not in the tables): " + "; ".join(data["skipped"]) + ".")
        out.append("")
    if data.get("failed"):
        out.append("Failed in this run (no figures): " + "; ".join(f"{f.rstrip('.')}" for f in data["failed"]) + ".")
        out.append("")
    out.append(FIRST_RESULT_END)
    return out


def _first_result_in(text):
    """The first-result section of a RESULTS.md text (between its markers, or a
    hand-written '## First result' up to the next '## ' heading), or None."""
    if FIRST_RESULT_BEGIN in text and FIRST_RESULT_END in text:
        body = text.split(FIRST_RESULT_BEGIN, 1)[1].split(FIRST_RESULT_END, 1)[0]
        return FIRST_RESULT_BEGIN + body + FIRST_RESULT_END
    if "\n## First result\n" in text:
        body = text.split("\n## First result\n", 1)[1]
        return ("## First result\n" + body.split("\n## ", 1)[0]).rstrip()
    return None


def write_first_result_section(path, section):
    """Put ``section`` in ``path`` in place of its first-result section (see
    ``_first_result_in``), else before '## Machine', else at the end."""
    path = Path(path)
    text = path.read_text() if path.exists() else ""
    old = _first_result_in(text)
    if old is not None:
        text = text.replace(old, section.rstrip(), 1)
    elif "\n## Machine" in text:
        head, tail = text.split("\n## Machine", 1)
        text = head.rstrip() + "\n\n" + section.rstrip() + "\n\n## Machine" + tail
    else:
        text = text.rstrip() + "\n\n" + section.rstrip() + "\n"
    path.write_text(text)


def machine_section(data):
    m = data.get("machine_info", {})
    extra = m.get("fastnn", {})
    versions = extra.get("versions", {})
    cpu = extra.get("cpu_model") or m.get("cpu", {}).get("brand_raw") or m.get("processor", "?")
    llvm = extra.get("llvm_cpu")
    lines = ["## Machine", ""]
    lines.append(f"- CPU: {cpu}" + (f" (LLVM target `{llvm}`)" if llvm else "") + f", {extra.get('cores', '?')} cores")
    lines.append(f"- OS: {m.get('system', '?')} {m.get('release', '')}, {m.get('machine', '')}")
    lines.append(f"- Python {m.get('python_version', '?')} ({m.get('python_implementation', '')})")
    shown = ", ".join(f"{k} {v}" for k, v in versions.items() if v)
    absent = [k for k, v in versions.items() if not v]
    lines.append(f"- {shown}" + (f"; not installed: {', '.join(absent)}" if absent else ""))
    commit = data.get("commit_info", {})
    if commit.get("id"):
        dirty = " (with uncommitted changes)" if commit.get("dirty") else ""
        lines.append(f"- fastnn commit {commit['id'][:10]}{dirty}")
    lines.append(f"- Date: {data.get('datetime', '?')}")
    lines.append("")
    return lines


def render(data):
    registry = _registry()
    by_case, startup = collect(data)
    lines = ["# fastnn benchmark results", ""]
    lines.append(
        "Written by `scripts/bench` (pytest-benchmark, then `bench/report.py`); do not edit by hand. "
        "A step is one sample's forward pass, backward pass and update (for mini-batches, its "
        "share of the batch's update), so slow implementations run fewer epochs and stay "
        "comparable. *time / numba* is each implementation's median time per step over fastnn's "
        "`backend=\"numba\"` (below 1: faster than fastnn); *speed-up over reference* is the "
        "reference's time over its time. JIT compilation happens before timing and is "
        "measured separately (start-up, below). All figures come from one run on a shared, "
        "noisy machine: compare ratios, not absolute times across runs. " + _STOLEN_NOTE
    )
    lines.append("")
    if by_case:
        lines.append("## Training: ns per step")
        lines.append("")
    order = list(registry.CASES) if registry else sorted(by_case)
    for name in [c for c in order if c in by_case] + [c for c in by_case if c not in order]:
        lines += case_table(name, by_case[name], registry)
    sweeps = collect_sweeps(data)
    if sweeps:
        lines.append("## Sweeps: ns per configuration-step")
        lines.append("")
        for name, rows in sweeps.items():
            lines += sweep_table(name, rows)
    lines += startup_section(startup)
    lines += machine_section(data)
    return "\n".join(lines).rstrip() + "\n"


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    first_json = None
    if "--first-result-json" in argv:
        at = argv.index("--first-result-json")
        if at + 1 >= len(argv):
            print("--first-result-json: name the JSON of python -m bench.startup --first-result --json",
                  file=sys.stderr)
            return 2
        first_json = argv[at + 1]
        del argv[at : at + 2]
    if (not argv and not first_json) or (argv and argv[0] in ("-h", "--help")):
        print(__doc__.strip())
        return 0 if argv else 2
    bench_json = argv.pop(0) if argv and argv[0].endswith(".json") else None
    target = Path(argv[0]) if argv else HERE / "RESULTS.md"
    section = None
    if first_json:
        section = "\n".join(first_result_section(json.loads(Path(first_json).read_text())))
    if bench_json is None:  # the first-result section alone
        write_first_result_section(target, section)
        print(f"wrote the first-result section of {target}")
        return 0
    data = json.loads(Path(bench_json).read_text())
    text = render(data)
    old = target.read_text() if target.exists() else ""
    if section is None:
        section = _first_result_in(old)  # keep the section written by python -m bench.startup --first-result
    target.write_text(text)
    from bench import sweep_sizes

    if sweep_sizes.BEGIN in old and sweep_sizes.END in old:  # keep the section written by python -m bench.sweep_sizes
        kept = sweep_sizes.BEGIN + old.split(sweep_sizes.BEGIN, 1)[1].split(sweep_sizes.END, 1)[0]
        sweep_sizes.write_section(target, kept + sweep_sizes.END)
    if section:
        write_first_result_section(target, section)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
