"""``fastnn seeds``: every number the seed documents print, recomputed by fastnn, and each
document's hand-derived backpropagation run through ``fastnn.audit``.

The documents live in ``fastnn.seeds`` (one module each: networks, weights, name
mappings, the hand-derived step in the document's words, and its tables of
``fastnn.seeds.table.Quantity`` rows). This module prints them: per seed, the mapping
of its names onto fastnn's layout, one table per step of the document (printed value,
numba kernel value, reference value, verdict), then the audit of its step: the document's
own sample first, then random points chosen to show what one sample hides, with the wrong
parameters, the diagnosis and whether the document's sample shows them.

``run(seeds, plot_dir)`` prints it all and returns the exit status: 0 when every kernel
value equals its reference value (to ``AGREE_RTOL``), else 1.
"""
from __future__ import annotations

import os
import sys
from functools import lru_cache

import numpy as np

from .network import Network
from .seeds import SEED_IDS, document, seed000, seed004


@lru_cache(None)
def seed(sid):
    """The walkthrough of one seed ("000" .. "004"); values are computed when first read."""
    return document(normalize(sid)).build()


def normalize(sid):
    text = str(sid).strip()
    if not text.isdigit() or int(text) > 4:
        raise ValueError(f"unknown seed {sid!r}; the seeds are {', '.join(SEED_IDS)}")
    return f"{int(text):03d}"


# ------------------------------------------------------------------ printing


def _fmt(value):
    return repr(float(value))


def _mark(q):
    if q.kernel == q.reference:
        return "="
    return "~" if q.agrees else "DIFF"


def audit_verdict(report):
    """One line: ok, or each group of wrong parameters with the kinds of its diagnosis and
    whether the document's own sample shows it, e.g. ``audit: 2 of 8 parameters wrong:
    w2, w3 = swapped (shown by its sample)``."""
    sample = "its samples" if report.samples != 1 else "its sample"
    if report.ok:
        return (f"audit: ok: the document's {report.kind} agrees with fastnn's reference for all "
                f"{len(report.names)} parameters")
    groups = {}
    for name in report.wrong:
        d = report.diagnoses.get(name)
        shown = "hidden by" if name in report.hidden else "shown by"
        groups.setdefault(("+".join(d.kinds) if d else "undiagnosed", shown), []).append(name)
    parts = [f"{', '.join(names)} = {kinds} ({shown} {sample})" for (kinds, shown), names in groups.items()]
    if report.mismatches:
        parts.append(f"FD MISMATCH (fastnn's reference disagrees with finite differences: a fastnn bug): "
                     f"{', '.join(report.mismatches)}")
    head = f"{len(report.wrong)} of {len(report.names)} parameters wrong" if report.wrong else "no parameter wrong"
    return f"audit: {head}: " + "; ".join(parts)


def _audit_summary(report):
    if report.ok:
        return "audit: ok"
    hidden = f", {len(report.hidden)} hidden by its sample{'s' * (report.samples != 1)}" if report.hidden else ""
    return (f"audit: {len(report.wrong)} of {len(report.names)} parameters wrong{hidden}"
            + (", FD MISMATCH" if report.mismatches else ""))


def format_seed(s):
    """The walkthrough of one seed as text."""
    lines = [f"== seed {s.sid}: {s.title}", f"network: {s.network}", "names -> fastnn:"]
    items = [f"{name} = {slot}" for name, slot in s.names.items()]
    for i in range(0, len(items), 4):
        lines.append("  " + "   ".join(f"{item:<22}" for item in items[i : i + 4]).rstrip())
    lines += [f"  {doc_name} = {where}" for doc_name, where in s.units]
    for g in s.groups:
        width = max([len("quantity")] + [len(q.name) for q in g.quantities])
        lines += ["", f"-- {g.title}", f"   [{g.how}]",
                  f"   {'quantity':<{width}}  {'document':<22} {'kernel':<22} {'reference':<22} k=r verdict"]
        for q in g.quantities:
            doc = q.doc if q.doc is not None else "-"
            lines.append(f"   {q.name:<{width}}  {doc:<22} {_fmt(q.kernel):<22} {_fmt(q.reference):<22} {_mark(q):<3} "
                         f"{q.verdict}" + (f": {q.note}" if q.note else ""))
    report = s.report
    if report is not None:
        step, _, X, _, lr = s.audited
        lines += ["", f"-- audit: the document's hand-derived {report.kind} on its own sample{'s' * (len(X) != 1)}, "
                  "then on random points (\"your\" below is the document's)",
                  f"   [fastnn.audit(fastnn.seeds.seed{s.sid}.{step.__name__}, network, mapping(names), X, y, "
                  + (f"lr={lr!r})]" if lr is not None else 'kind="gradient")]')]
        lines += [f"   {line}" if line else "" for line in str(report).splitlines()]
        lines.append(f"   {audit_verdict(report)}")
    lines.append("")
    lines += [f"note: {note}" for note in s.notes]
    qs = s.quantities
    same, ok = sum(q.kernel == q.reference for q in qs), sum(q.agrees for q in qs)
    counts = ", ".join(f"{n} {v}" for v, n in sorted(s.counts().items()))
    audited = f"{_audit_summary(report)}; " if report is not None else ""
    lines.append(f"seed {s.sid}: printed numbers: {counts}; {audited}kernel = reference: {ok}/{len(qs)} "
                 f"({same} bit-identical)")
    return "\n".join(lines)


def run(seeds=None, plot_dir=None, out=print):
    """Print the walkthroughs of ``seeds`` (default: all); write plots; return the exit status:
    0 when every kernel value equals its reference value, 1 when one does not, 2 for an
    unknown seed."""
    try:
        ids = [normalize(s) for s in seeds] if seeds else list(SEED_IDS)
    except ValueError as exc:
        print(f"fastnn seeds: {exc}", file=sys.stderr)
        return 2
    status, totals, wrong = 0, {}, []
    for sid in ids:
        s = seed(sid)
        out(format_seed(s))
        out("")
        if not all(q.agrees for q in s.quantities):
            status = 1
        for verdict, n in s.counts().items():
            totals[verdict] = totals.get(verdict, 0) + n
        if s.report is not None and not s.report.ok:
            wrong.append(sid)
    if plot_dir is not None:
        for path in plot(ids, plot_dir):
            out(f"wrote {path}")
    audited = sum(seed(sid).report is not None for sid in ids)
    out("all seeds: printed numbers: " + ", ".join(f"{n} {v}" for v, n in sorted(totals.items()))
        + f"; audit: {len(wrong)} of {audited} documents' steps wrong" + (f" ({', '.join(wrong)})" if wrong else "")
        + f"; kernel = reference everywhere: {'yes' if status == 0 else 'NO'} (see docs/seeds.md)")
    return status


# ------------------------------------------------------------------ plots


def _figure(width, height):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)  # the Agg backend, without pyplot's global state
    return fig


def activation_curves(x, backend="numba"):
    """f(x) for sigmoid, tanh, relu, gaussian, through 1-1 networks with W = 1, b = 0."""
    X = np.asarray(x, dtype=np.float64).reshape(-1, 1)
    return {
        name: Network([1, 1], name, init=[1.0, 0.0]).predict(X, backend=backend)[:, 0]
        for name in ("sigmoid", "tanh", "relu", "gaussian")
    }


def plot(ids, directory):
    """Write the seeds' PNGs into ``directory``; returns the paths written."""
    os.makedirs(directory, exist_ok=True)
    paths = []
    if "000" in ids:
        fig = _figure(7, 4.5)
        ax = fig.add_subplot()
        for lr, epochs, style in ((seed000.LR, seed000.EPOCHS, "-"), (0.001, seed000.EPOCHS, "--")):
            history = seed000.training(lr, epochs, "numba")[0]
            ax.plot(np.arange(1, epochs + 1), history, style, label=f"lr {lr} (numba)")
        ref = seed000.training(seed000.LR, seed000.EPOCHS, "reference")[0]
        ax.plot(np.arange(1, seed000.EPOCHS + 1)[::25], ref[::25], "k.", ms=3, label=f"lr {seed000.LR} (reference)")
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("mean squared error over the epoch")
        ax.set_title(f"seed 000: 2-2-1 ReLU on datasets.quadratic(100, seed={seed000.DATA_SEED})")
        ax.legend()
        ax.grid(alpha=0.3)
        paths.append(_save(fig, directory, "seed000_loss.png"))
    if "002" in ids:
        x = np.linspace(-5, 5, 400, dtype=np.float64)
        curves = activation_curves(x)
        fig = _figure(12, 8)
        colors = dict(sigmoid="green", tanh="blue", relu="orange", gaussian="red")
        labels = dict(sigmoid="Sigmoid", tanh="Tanh", relu="ReLU", gaussian="Gaussian")
        for k, name in enumerate(curves):
            ax = fig.add_subplot(2, 2, k + 1)
            ax.plot(x, curves[name], color=colors[name], label=labels[name])
            ax.set_title(f"Activation Function {labels[name]}")
            ax.legend()
            ax.grid(alpha=0.3)
        fig.suptitle("seed 002: activation functions, computed by fastnn 1-1 networks (W = 1, b = 0)")
        fig.tight_layout()
        paths.append(_save(fig, directory, "seed002_activations.png"))
    if "004" in ids:
        history = seed004.loop("numba")[0]
        fig = _figure(7, 4.5)
        ax = fig.add_subplot()
        ax.plot(np.arange(1, seed004.ITERATIONS + 1), history, label="numba")
        ax.set_yscale("log")
        ax.set_xlabel("iteration")
        ax.set_ylabel("loss = relu(w . x + b)^2")
        ax.set_title(f"seed 004: single ReLU neuron, lr {seed004.LR}")
        ax.grid(alpha=0.3)
        ax.legend()
        paths.append(_save(fig, directory, "seed004_loss.png"))
    return paths


def _save(fig, directory, name):
    path = os.path.join(directory, name)
    fig.savefig(path, dpi=100)
    return path
