"""Smoke checks of ``python -m bench.sweep_sizes`` (the timing itself runs by hand: it takes
minutes): its cases are the issue's, and its RESULTS.md section renders from a run's JSON
and replaces itself in place, which bench/report.py keeps when it rewrites the file."""
from bench import sweep_sizes


def _row(name, n_params, ns, base=None, jax=None):
    row = dict(case=name, n_params=n_params, batch_size=1, fastnn=dict(ns=ns, kernel="sweeplanes.train"),
               other_load=0.01)
    if base:
        row["baseline"] = dict(ns=base)
    if jax:
        row["jax"] = dict(ns=jax)
    return row


def test_cases_are_the_issues():
    assert {"2-16-1", "2-32-1", "2-64-1", "2-16-16-1", "2-32-32-1", "2-64-64-1", "spiral-2-64-3"} <= set(
        sweep_sizes.CASES)
    spiral = sweep_sizes.CASES["spiral-2-64-3"]
    assert spiral.batch_size == 32 and spiral.spec().n_params == 387
    assert sweep_sizes.CASES["2-64-64-1"].spec().n_params == 4417


def test_section_renders_and_replaces_itself(tmp_path):
    data = dict(machine=dict(date="today", cpu="cpu", cores=2, numba="0"),
                rows=[_row("2-8-1", 33, 2.0, jax=20.0), _row("2-64-1", 257, 30.0, base=300.0, jax=200.0)])
    section = sweep_sizes.markdown(data)
    assert section.startswith(sweep_sizes.BEGIN) and section.endswith(sweep_sizes.END)
    assert "| 2-64-1 | 257 | `sweeplanes.train` | 30.0 | 0.117 | 300 | 1.167 | 10.0x | 200 | 6.7x | 1% |" in section
    assert "worst 0.117 (2-64-1) | **met**" in section
    assert "lowest 6.7x (2-64-1) | **met**" in section
    results = tmp_path / "RESULTS.md"
    results.write_text("# results\n\n## Sweeps\n\ntable\n\n## Start-up\n\nrest\n")
    sweep_sizes.write_section(results, section)
    sweep_sizes.write_section(results, section.replace("30.0", "31.0"))
    text = results.read_text()
    assert text.count(sweep_sizes.BEGIN) == 1 and "| 31.0 |" in text
    assert text.index("## Sweeps") < text.index(sweep_sizes.BEGIN) < text.index("## Start-up")
