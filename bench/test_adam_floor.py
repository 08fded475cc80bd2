"""Smoke checks of ``python -m bench.adam_floor`` (the timing runs by hand): the loop it
times as Adam's step is the kernels' rule, its floors follow from a sweep-sizes run, and
its RESULTS.md subsection renders, replaces itself and survives the sweep-sizes rewrite."""
import numpy as np

from bench import adam_floor, sweep_sizes
from fastnn.kernels.optim import adam_step


def test_the_timed_step_is_adams_rule():
    work = adam_floor.fresh_work()
    before = work.copy()
    adam_floor.adam(work, 1)
    rows = adam_floor.ROWS * adam_floor.LANES
    p, g, m, v = (before[i * rows : (i + 1) * rows] for i in range(4))
    p_new, m_new, v_new = adam_step(p, g, m, v, 1e-3, adam_floor.EPSILON, adam_floor.BETA1, adam_floor.BETA2,
                                    adam_floor.UNBIAS1, adam_floor.UNBIAS2)
    assert np.array_equal(work[:rows], p_new) and not np.array_equal(p_new, p)
    assert np.array_equal(work[2 * rows : 3 * rows], m_new) and np.array_equal(work[3 * rows :], v_new)
    assert np.array_equal(work[rows : 2 * rows], g)  # the gradients are only read


def test_dead_units_rows_hold_subnormal_moments_that_stay_subnormal():
    """The dead-unit loop times what a dead ReLU unit's step is late in a run: gradient 0
    and m subnormal, and m stays subnormal under the step (never flushed, never 0)."""
    work = adam_floor.fresh_work(dead=True)
    rows = adam_floor.ROWS * adam_floor.LANES
    m = work[2 * rows : 3 * rows]
    assert not work[rows : 2 * rows].any() and (m < 0).any() and (m > 0).any()
    assert (np.abs(m) < np.finfo(float).tiny).all() and m.all()
    for _ in range(400):  # 0.9 ** 400 < 1e-18: without the rounding back, m would be 0
        adam_floor.adam(work, 1)
    m = work[2 * rows : 3 * rows]
    assert (np.abs(m) < np.finfo(float).tiny).all() and m.all()


PARTS = dict(divider=0.36, divider_and_multiplies=0.37, divider_and_adds=0.36, multiplies=0.08, adam=0.38,
             adam_without_divider=0.19, adam_dead=0.46)


def _row(case, n_params, ns, jax=None, batch_size=1):
    row = dict(case=case, n_params=n_params, batch_size=batch_size, fastnn=dict(ns=ns))
    if jax:
        row["jax"] = dict(ns=jax)
    return row


def test_floors_follow_from_a_sweep_sizes_run():
    adam_rows = [_row("2-2-1", 9, 2.8, jax=30.0), _row("2-64-1", 257, 70.0, jax=310.0),
                 _row("spiral-2-64-3", 387, 47.0, batch_size=32)]
    small, big, spiral = adam_floor.floors(PARTS, adam_rows, [_row("2-64-1", 257, 18.0)])
    assert small["floor"] == 9 * 0.38 / 2 and small["target"] == 10.0 and small["budget"] == 3.0
    assert big["floor"] == 257 * 0.38 / 2 and big["target"] == 5.0 and big["budget"] == 62.0 and big["sgd"] == 18.0
    assert spiral["floor"] == 387 * 0.38 / 2 / 32 and "budget" not in spiral and "sgd" not in small


def test_subsection_renders_replaces_itself_and_survives_the_sweep_sizes_rewrite(tmp_path):
    data = dict(machine=dict(date="today", cpu="cpu"), parts=PARTS, jax_flushes=True,
                floors=adam_floor.floors(PARTS, [_row("2-64-1", 257, 70.0, jax=310.0)], [_row("2-64-1", 257, 18.0)]))
    section = adam_floor.markdown(data)
    assert section.startswith(adam_floor.BEGIN) and section.endswith(adam_floor.END)
    assert "| Adam's step (sweeplanes._adam_row) | 0.380 |" in section
    assert "| Adam's step on dead units (gradient 0, m subnormal) | 0.460 |" in section
    assert "costs 0.460 ns, 1.2x" in section and "JAX's jit flushes subnormal numbers to zero" in section
    assert "| 2-64-1 | 257 | 70.0 | 48.8 | 18.0 | 66.8 | 310.0 | 5x | 62.0 | **no** |" in section
    sgd = dict(machine=dict(date="today", cpu="cpu", cores=2, numba="0"), rows=[
        dict(case="2-64-1", n_params=257, batch_size=1, fastnn=dict(ns=18.0, kernel="sweeplanes.train"))])
    results = tmp_path / "RESULTS.md"
    results.write_text("# results\n\n## Start-up\n\nrest\n")
    sweep_sizes.write_section(results, sweep_sizes.markdown(sgd))
    adam_floor.write_subsection(results, section)
    adam_floor.write_subsection(results, section.replace("0.380", "0.390"))
    sweep_sizes.write_section(results, sweep_sizes.markdown(sgd).replace("18.0", "19.0"))
    text = results.read_text()
    assert text.count(adam_floor.BEGIN) == 1 and "| 0.390 |" in text and "| 19.0 |" in text
    assert text.index(sweep_sizes.BEGIN) < text.index(adam_floor.BEGIN) < text.index(sweep_sizes.END)
    assert text.index(sweep_sizes.END) < text.index("## Start-up")
