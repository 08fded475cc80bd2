"""What bounds a sweep with Adam on this machine: its update step alone (issues 12 and 19).

    .venv/bin/python -m bench.adam_floor                        # the step and its parts, one core
    .venv/bin/python -m bench.adam_floor --adam-json A.json --sgd-json S.json --markdown bench/RESULTS.md

Per sample, every parameter of every configuration takes one Adam step: two moments,
a square root and a division (``kernels.optim.adam_step``). This script times that step
alone, with nothing else in the loop, as fastnn's lane kernel takes it
(``sweeplanes._adam_row``: rows of 16 lanes, two ``<8 x double>`` halves, moments in
rows of their own), and the parts it is made of, on one core, each loop over 64 rows
(all in L1). Figures are ns per parameter and lane (one parameter of one configuration):

* *divider*: ``g / (sqrt(v) + epsilon)``, the step's square root and division alone;
* *divider + 5 multiplies* / *+ 5 adds*: the same loop with five multiplies (adds) of
  another row beside it, independent of the division; *5 multiplies* alone;
* *Adam's step*: ``sweeplanes._adam_row``, the kernels' own code;
* *Adam without its square root and division*: the same loop with ``sqrt(v_hat) +
  epsilon`` and the division replaced by an add (numbers no longer Adam's), so the
  moments, multiplies, loads and stores alone;
* *Adam's step on dead units*: ``_adam_row`` on the rows of ReLU units that have passed no
  gradient for thousands of steps: g = 0 and m decayed below 2.2e-308 (m shrinks by
  beta1 = 0.9 a step: from 1e-4 in about 6,700 steps), a subnormal number, which this
  CPU handles slowly; m then stays subnormal for good (``fresh_work``). fastnn keeps
  IEEE arithmetic (bit for bit the reference's Python floats); XLA's CPU backend flushes
  subnormal numbers to zero (``jax_flushes``, checked when jax is importable), so JAX's
  sweeps never take that cost.

From these and a sweep-sizes run with Adam (``--adam-json``: ``python -m bench.sweep_sizes
--optimizer adam --jax --json``), each network's *floor* is P x (Adam's step) / 2 ns per
configuration-step: the step alone for its P parameters on the two cores. Its *budget* is
JAX's time over the issue's target ratio (``sweep_sizes.TARGET_JAX``, or
``TARGET_JAX_SMALL`` up to 64 parameters). ``--sgd-json`` (the plain SGD run) adds the SGD
sweep of the same network: the forward and backward passes an Adam sweep runs besides
the step.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
from numba import njit

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from fastnn.kernels.lanes8 import load8, store8  # noqa: E402
from fastnn.kernels.sweeplanes import LANES, _HALF, _adam_row  # noqa: E402
from bench import sweep_sizes  # noqa: E402

ROWS = 64  # rows of each kind: 4 x 64 x 16 x 8 bytes = 32 KiB, in L1
THREADS = 2  # the sweeps' threads: the floor per configuration-step divides by them
EPSILON, BETA1, BETA2 = 1e-7, 0.9, 0.999  # fastnn.Adam()'s defaults
UNBIAS1, UNBIAS2 = 1.0 / (1.0 - BETA1 ** 10), 1.0 / (1.0 - BETA2 ** 10)  # step 9's corrections
# Rows of work: parameters [0, ROWS), gradients [ROWS, 2 ROWS), m [2 ROWS, 3 ROWS), v [3 ROWS, 4 ROWS).
P_ROW, G_ROW, M_ROW, V_ROW = 0, ROWS, 2 * ROWS, 3 * ROWS
_KW = dict(cache=False, nogil=True, error_model="numpy")


@njit(**dict(_KW, inline="always"))
def _divide(work, q, h):
    """Row q's half h: P = G / (sqrt(V) + epsilon); returns G's half."""
    g, v = load8(work, (G_ROW + q) * LANES + h), load8(work, (V_ROW + q) * LANES + h)
    store8(work, (P_ROW + q) * LANES + h, g / (np.sqrt(v) + EPSILON))
    return g


@njit(**_KW)
def divider(work, reps):
    for _ in range(reps):
        for q in range(ROWS):
            for h in range(0, LANES, _HALF):
                _divide(work, q, h)


@njit(**_KW)
def divider_and_multiplies(work, reps):
    for _ in range(reps):
        for q in range(ROWS):
            for h in range(0, LANES, _HALF):
                g = _divide(work, q, h)
                store8(work, (M_ROW + q) * LANES + h, ((((g * 0.9) * 1.01) * 0.99) * 1.001) * 0.999)


@njit(**_KW)
def divider_and_adds(work, reps):
    for _ in range(reps):
        for q in range(ROWS):
            for h in range(0, LANES, _HALF):
                g = _divide(work, q, h)
                store8(work, (M_ROW + q) * LANES + h, ((((g + 0.9) + 1.01) + 0.99) + 1.001) + 0.999)


@njit(**_KW)
def multiplies(work, reps):
    for _ in range(reps):
        for q in range(ROWS):
            for h in range(0, LANES, _HALF):
                g = load8(work, (G_ROW + q) * LANES + h)
                store8(work, (M_ROW + q) * LANES + h, ((((g * 0.9) * 1.01) * 0.99) * 1.001) * 0.999)


@njit(**_KW)
def adam(work, reps):
    lr = load8(work, 0) * 0.0 + 1e-3
    for _ in range(reps):
        for q in range(ROWS):
            g = (G_ROW + q) * LANES
            _adam_row(work, (P_ROW + q) * LANES, (M_ROW + q) * LANES, (V_ROW + q) * LANES, load8(work, g),
                      load8(work, g + _HALF), lr, lr, EPSILON, BETA1, BETA2, UNBIAS1, UNBIAS2)


@njit(**_KW)
def adam_without_divider(work, reps):
    lr = load8(work, 0) * 0.0 + 1e-3
    for _ in range(reps):
        for q in range(ROWS):
            for h in range(0, LANES, _HALF):
                p, m, v = (P_ROW + q) * LANES + h, (M_ROW + q) * LANES + h, (V_ROW + q) * LANES + h
                g = load8(work, (G_ROW + q) * LANES + h)
                m_new = BETA1 * load8(work, m) + (1.0 - BETA1) * g
                v_new = BETA2 * load8(work, v) + (1.0 - BETA2) * (g * g)
                store8(work, p, load8(work, p) + (-lr * (m_new * UNBIAS1) + (v_new * UNBIAS2 + EPSILON)))
                store8(work, m, m_new)
                store8(work, v, v_new)


DEAD = "adam_dead"  # Adam's step on fresh_work(dead=True), in the parts beside LOOPS
DEAD_LABEL = "Adam's step on dead units (gradient 0, m subnormal)"
LOOPS = (
    ("divider", "divider: g / (sqrt(v) + epsilon)", divider),
    ("divider_and_multiplies", "divider + 5 multiplies beside it", divider_and_multiplies),
    ("divider_and_adds", "divider + 5 adds beside it", divider_and_adds),
    ("multiplies", "5 multiplies alone", multiplies),
    ("adam", "Adam's step (sweeplanes._adam_row)", adam),
    ("adam_without_divider", "Adam's step without its square root and division", adam_without_divider),
)


def fresh_work(seed=0, dead=False):
    """(4 ROWS x LANES,) float64: parameters, gradients, m and v (v > 0) as in training;
    ``dead``: the rows of dead units late in a run, gradients 0 and m subnormal (of both
    signs, 1e-312 to 1e-309 in magnitude). They stay subnormal however long the loop
    runs, as in training: 0.9 m rounds back to m at 5 units of the smallest subnormal
    (2.5e-323), so at beta1 = 0.9 a dead unit's m never reaches 0."""
    rng = np.random.default_rng(seed)
    work = np.empty(4 * ROWS * LANES)
    work[: 2 * ROWS * LANES] = rng.normal(0.0, 0.1, 2 * ROWS * LANES)
    work[M_ROW * LANES : V_ROW * LANES] = rng.normal(0.0, 0.01, ROWS * LANES)
    work[V_ROW * LANES :] = rng.uniform(1e-6, 1e-3, ROWS * LANES)
    if dead:
        work[G_ROW * LANES : M_ROW * LANES] = 0.0
        size = rng.uniform(1e-312, 1e-309, ROWS * LANES)
        work[M_ROW * LANES : V_ROW * LANES] = np.where(rng.random(ROWS * LANES) < 0.5, -size, size)
    return work


def jax_flushes():
    """Whether jax's jit (float64, CPU) flushes subnormal results to zero; None without jax."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    product = jax.jit(lambda x, y: x * y)(jnp.float64(1e-300), jnp.float64(1e-10))  # 1e-310, a subnormal
    return bool(product == 0.0)


def time_loop(loop, seconds=0.3, rounds=5, dead=False):
    """Best of ``rounds`` timings of ``loop`` (compiled first, untimed) on ``fresh_work(dead=dead)``:
    ns per parameter-lane."""
    work = fresh_work(dead=dead)
    loop(work, 1)
    reps = 1
    while True:  # about ``seconds`` a round
        started = time.perf_counter()
        loop(work, reps)
        elapsed = time.perf_counter() - started
        if elapsed > seconds / 4:
            break
        reps *= 4
    reps = max(1, int(reps * seconds / elapsed))
    best = float("inf")
    for _ in range(rounds):
        work = fresh_work(dead=dead)
        started = time.perf_counter()
        loop(work, reps)
        best = min(best, time.perf_counter() - started)
    return best / (reps * ROWS * LANES) * 1e9


def measure():
    parts = {name: time_loop(loop) for name, _, loop in LOOPS}
    parts[DEAD] = time_loop(adam, dead=True)
    return parts


def floors(parts, adam_rows, sgd_rows=()):
    """Per network of a sweep-sizes Adam run: its floor (the step alone on THREADS cores),
    its budget (JAX over the target ratio), and the SGD sweep beside them when given."""
    sgd = {r["case"]: r["fastnn"]["ns"] for r in sgd_rows}
    out = []
    for r in adam_rows:
        n_params = r["n_params"]
        target = sweep_sizes.TARGET_JAX_SMALL if n_params <= 64 else sweep_sizes.TARGET_JAX
        row = dict(case=r["case"], n_params=n_params, batch_size=r["batch_size"], fastnn=r["fastnn"]["ns"],
                   floor=n_params * parts["adam"] / THREADS / r["batch_size"], target=target)
        if "jax" in r:
            row["jax"] = r["jax"]["ns"]
            row["budget"] = r["jax"]["ns"] / target
        if r["case"] in sgd:
            row["sgd"] = sgd[r["case"]]
        out.append(row)
    return out


BEGIN = sweep_sizes.FLOOR_BEGIN
END = sweep_sizes.FLOOR_END


def markdown(data):
    """The RESULTS.md subsection (BEGIN..END, inside the sweep-sizes section) for a run's JSON."""
    parts, info = data["parts"], data["machine"]
    out = [BEGIN, "### What bounds the sweeps with Adam: its step alone", ""]
    out.append(
        f"Written by `python -m bench.adam_floor` ({info.get('date', '?')}, {info.get('cpu', '?')}): numba loops "
        f"over {ROWS} rows of {LANES} lanes (all in L1), one core, best of 5 timings; ns per parameter and lane "
        "(one parameter of one configuration). *Adam's step* is the lane kernel's own code (`sweeplanes._adam_row`)."
    )
    out += ["", "| loop | ns per parameter-lane |", "|---|---:|"]
    out += [f"| {label} | {parts[name]:.3f} |" for name, label, _ in LOOPS if name in parts]
    if DEAD in parts:
        out.append(f"| {DEAD_LABEL} | {parts[DEAD]:.3f} |")
    out.append("")
    beside = parts["adam"] - parts["divider"]
    out.append(
        f"The square root and the division together cost {parts['divider']:.3f} ns. Beside them, five independent "
        f"adds cost {parts['divider_and_adds'] - parts['divider']:+.3f} ns more and five multiplies "
        f"{parts['divider_and_multiplies'] - parts['divider']:+.3f} (alone: {parts['multiplies']:.3f}). Adam's step "
        f"costs {parts['adam']:.3f}: the rest of its rule, {parts['adam_without_divider']:.3f} ns alone, adds "
        f"{beside:+.3f} to the divider"
        + (", so the step runs at the divider's speed." if beside < parts["adam_without_divider"] / 2 else ".")
    )
    if DEAD in parts:
        flushes = data.get("jax_flushes")
        out[-1] += (
            f" On the rows of dead ReLU units late in a run (gradient 0, m decayed below 2.2e-308: a subnormal "
            f"number), the same step costs {parts[DEAD]:.3f} ns, {parts[DEAD] / parts['adam']:.1f}x. fastnn keeps "
            "IEEE arithmetic there, bit for bit the reference's"
            + ("; JAX's jit flushes subnormal numbers to zero (checked: 1e-300 * 1e-10 gives 0.0), so its sweeps "
               "never pay this." if flushes else "; JAX keeps them too (checked: 1e-300 * 1e-10 gives 1e-310)."
               if flushes is False else ".")
        )
    rows = data.get("floors") or []
    if rows:
        has_sgd = any("sgd" in r for r in rows)
        head = ["network", "parameters", "Adam sweep (ns per config-step)", "floor: the step alone"]
        head += ["SGD sweep", "floor + SGD"] if has_sgd else []
        head += ["JAX", "target", "budget: JAX / target", "within budget"]
        out += ["", "| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
        for r in rows:
            cells = [r["case"] + (f", batch {r['batch_size']}" if r["batch_size"] > 1 else ""), f"{r['n_params']:,}",
                     f"{r['fastnn']:.1f}", f"{r['floor']:.1f}"]
            if has_sgd:
                cells += [f"{r['sgd']:.1f}", f"{r['floor'] + r['sgd']:.1f}"] if "sgd" in r else ["", ""]
            if "budget" in r:
                within = r["floor"] + r.get("sgd", 0.0) <= r["budget"]
                cells += [f"{r['jax']:.1f}", f"{r['target']:g}x", f"{r['budget']:.1f}", "yes" if within else "**no**"]
            else:
                cells += ["", f"{r['target']:g}x", "", ""]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
        out.append(
            f"*floor*: P x {parts['adam']:.3f} ns / {THREADS} cores (over the batch where there is one), the step "
            "alone for every parameter of a configuration-step. *JAX*, *Adam sweep*: from the sweep-sizes run named "
            f"in the note; *SGD sweep*: the plain SGD run (the forward and backward passes). *within budget*: "
            "whether the floor" + (" plus the SGD sweep" if has_sgd else "") + " fits in JAX's time over the target."
        )
    if data.get("note"):
        out += ["", data["note"]]
    out += ["", END]
    return "\n".join(out)


def write_subsection(path, section):
    """Replace BEGIN..END of ``path``, else insert it at the end of the sweep-sizes section."""
    with open(path) as handle:
        text = handle.read()
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    elif sweep_sizes.END in text:
        head, tail = text.split(sweep_sizes.END, 1)
        text = head + section + "\n" + sweep_sizes.END + tail
    else:
        raise ValueError(f"{path}: no sweep-sizes section to put the Adam floor in (run python -m bench.sweep_sizes)")
    with open(path, "w") as handle:
        handle.write(text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adam-json", help="a python -m bench.sweep_sizes --optimizer adam --json run")
    parser.add_argument("--sgd-json", help="a python -m bench.sweep_sizes --json run (plain SGD)")
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--from-json", help="read the figures from here instead of measuring")
    parser.add_argument("--markdown", help="write the subsection into this RESULTS.md")
    parser.add_argument("--note", help="a paragraph under the tables (kept in the JSON)")
    args = parser.parse_args(argv)
    if args.from_json:
        with open(args.from_json) as handle:
            data = json.load(handle)
    else:
        data = dict(machine=sweep_sizes.machine(), parts=measure(), jax_flushes=jax_flushes())
    for name, label, _ in LOOPS + ((DEAD, DEAD_LABEL, None),):
        if name in data["parts"]:
            print(f"{label:52s} {data['parts'][name]:.3f} ns per parameter-lane")
    print(f"jax's jit flushes subnormal numbers to zero: {data.get('jax_flushes')}")
    if args.adam_json:
        with open(args.adam_json) as handle:
            adam_rows = json.load(handle)["rows"]
        sgd_rows = []
        if args.sgd_json:
            with open(args.sgd_json) as handle:
                sgd_rows = json.load(handle)["rows"]
        data["floors"] = floors(data["parts"], adam_rows, sgd_rows)
        for r in data["floors"]:
            print(f"{r['case']:14s} P={r['n_params']:5d} Adam sweep {r['fastnn']:8.2f}  floor {r['floor']:8.2f}"
                  + (f"  SGD {r['sgd']:7.2f}" if "sgd" in r else "")
                  + (f"  budget {r['budget']:8.2f} (JAX / {r['target']:g})" if "budget" in r else ""))
    if args.note:
        data["note"] = args.note
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(data, handle, indent=1)
    if args.markdown:
        write_subsection(args.markdown, markdown(data))
        print(f"wrote the Adam-floor subsection of {args.markdown}")


if __name__ == "__main__":
    main()
