"""Turn pytest-benchmark's ``--benchmark-json`` output into bench/RESULTS.md.

    python bench/report.py BENCH.json [RESULTS.md]

One table per case: each implementation's median time per step (a step is one sample's
forward pass, backward pass and update), its ratio to fastnn's numba backend and its
speed-up over the pure-Python reference; then the sweeps (``bench/test_sweep.py``: ns per
configuration-step of ``fastnn.sweep``, a loop of ``fit`` calls and JAX's ``jit(vmap)``,
with the issue's targets marked met or not met); then the start-up figures (compile time
with an empty cache, cold start with a warm one), the machine, the versions and the date.
All ratios come from one run on one machine: absolute times drift on shared machines,
ratios measured together much less.
"""
from __future__ import annotations

import json
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
        if "case" in info:
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
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    data = json.loads(Path(argv[0]).read_text())
    target = Path(argv[1]) if len(argv) > 1 else HERE / "RESULTS.md"
    text = render(data)
    if target.exists():  # keep the section written by python -m bench.sweep_sizes
        from bench import sweep_sizes

        old = target.read_text()
        if sweep_sizes.BEGIN in old and sweep_sizes.END in old:
            section = sweep_sizes.BEGIN + old.split(sweep_sizes.BEGIN, 1)[1].split(sweep_sizes.END, 1)[0]
            target.write_text(text)
            sweep_sizes.write_section(target, section + sweep_sizes.END)
            print(f"wrote {target}")
            return 0
    target.write_text(text)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
