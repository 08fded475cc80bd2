"""`fastnn bench`: the table, the same-numbers check, JAX/PyTorch present and absent."""
import sys

import numpy as np
import pytest

import fastnn
from fastnn import benchmark
from fastnn.cli import main

# Tiny settings: a few epochs on a few samples, two short timed runs per implementation.
TINY = ["--sizes", "2,4,1", "--activation", "relu,linear", "--samples", "8", "--epochs", "3",
        "--repeats", "2", "--seconds", "0.005"]
FASTNN_ROWS = ("fastnn reference (pure Python)", "fastnn numba, generic kernel", "fastnn numba (backend='numba')")
JAX_ROW, TORCH_ROW = "JAX jit + lax.scan", "PyTorch eager, CPU, 1 thread"


def _table(out):
    """{implementation: [ns/step, / numba, speed-up, epochs x samples, runs, check]}."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("implementation"))
    rows = {}
    for line in lines[start + 2 :]:
        if not line.strip():
            break
        cells = [c.strip() for c in line.split("  ") if c.strip()]
        rows[cells[0]] = cells[1:]
    return rows


def _bench(capsys, *extra):
    status = main(["bench", *TINY, *extra])
    return status, capsys.readouterr().out


def _check_fastnn_rows(rows):
    for title in FASTNN_ROWS:
        ns, ratio, speedup, steps, runs, check = rows[title]
        assert float(ns.replace(",", "")) > 0
        assert steps == "3 x 8" and runs in ("1", "2")  # 1: a first run over the time budget
        assert check == ("(the reference)" if "reference" in title else "same numbers")
    assert rows["fastnn numba (backend='numba')"][1] == "1.00x"
    assert rows["fastnn reference (pure Python)"][2] == "1.00x"


def _hide(monkeypatch, *modules):
    """Make ``import module`` fail as if it were not installed."""
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)  # import raises ImportError
    monkeypatch.setitem(sys.modules, "fastnn.compare.jax_impl", None)
    monkeypatch.setitem(sys.modules, "fastnn.compare.torch_impl", None)


def test_bench_without_jax_and_torch(monkeypatch, capsys):
    _hide(monkeypatch, "jax", "torch")
    status, out = _bench(capsys)
    assert status == 0, out
    rows = _table(out)
    assert set(rows) == set(FASTNN_ROWS)
    _check_fastnn_rows(rows)
    assert "Same numbers: every loss history matches the reference's to 1e-09 relative" in out
    assert f"{JAX_ROW}: skipped, jax not installed" in out
    assert f"{TORCH_ROW}: skipped, torch not installed" in out
    assert "2-4-1 relu/linear, squared_error, per-sample SGD, lr 0.001, 8 samples (datasets.quadratic" in out


def test_bench_no_compare_does_not_import_them(capsys):
    status, out = _bench(capsys, "--no-compare")
    assert status == 0, out
    assert set(_table(out)) == set(FASTNN_ROWS)
    assert f"{JAX_ROW}: skipped, not run (--no-compare)" in out


def test_bench_with_jax_and_torch(capsys):
    pytest.importorskip("jax")
    pytest.importorskip("torch")
    status, out = _bench(capsys)
    assert status == 0, out
    rows = _table(out)
    _check_fastnn_rows(rows)
    for title in (JAX_ROW, TORCH_ROW):
        assert rows[title][-1] == "same numbers", out
    assert float(rows[TORCH_ROW][0].replace(",", "")) > 0
    assert "skipped" not in out


def test_bench_reports_different_numbers(monkeypatch, capsys):
    """An implementation that trains with another lr fails the check: exit status 1."""
    from dataclasses import replace

    from fastnn.compare import fastnn_impl

    prepare = fastnn_impl.prepare

    def off_by_a_bit(case, epochs, backend="numba"):
        if backend == "generic":
            case = replace(case, lr=case.lr * (1 + 1e-6))
        return prepare(case, epochs, backend)

    monkeypatch.setattr(fastnn_impl, "prepare", off_by_a_bit)
    status, out = _bench(capsys, "--no-compare")
    assert status == 1
    rows = _table(out)
    assert rows["fastnn numba, generic kernel"][-1].startswith("differs: ")
    assert rows["fastnn numba (backend='numba')"][-1] == "same numbers"
    assert "NOT the same numbers" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--sizes", "2,x,1"], "--sizes must be widths"),
        (["--loss", "categorical_cross_entropy"], "needs a softmax output layer"),
        (["--activation", "relu,relu,relu"], "one per layer"),
        (["--batch-size", "0"], "batch_size"),
        (["--repeats", "0"], "repeats"),
    ],
)
def test_bench_bad_arguments(args, message, capsys):
    with pytest.raises(SystemExit, match=message):
        main(["bench", *args])


def test_make_case_data_fits_the_loss():
    quad = benchmark.make_case([2, 3, 1], "relu")
    assert quad.data_name.startswith("datasets.quadratic") and quad.X.shape == (100, 2)
    bce = benchmark.make_case([3, 4, 2], ["tanh", "sigmoid"], "binary_cross_entropy", samples=20, seed=1)
    assert set(np.unique(bce.y)) <= {0.0, 1.0} and bce.y.shape == (20, 2)
    cce = benchmark.make_case([2, 5, 3], ["relu", "softmax"], "categorical_cross_entropy", batch_size=4)
    X, Y = cce.arrays()
    assert cce.y.shape == (100,) and np.all(Y.sum(axis=1) == 1.0) and cce.batch_size == 4
    assert "mini-batch 4" in cce.describe()
    reg = benchmark.make_case([3, 2], "linear", "mse", samples=5)
    assert reg.y.shape == (5, 2) and reg.data_name.startswith("random normal")
    again = benchmark.make_case([3, 2], "linear", "mse", samples=5)
    assert again.seed == 0 and again.init_note == ""
    np.testing.assert_array_equal(reg.X, again.X)
    np.testing.assert_array_equal(reg.network().params, again.network().params)


def test_make_case_skips_dead_relu_inits():
    """He init seed 0 of 2-2-1 ReLU leaves the output unit dead on seed 000's data."""
    case = benchmark.make_case([2, 2, 1], "relu")
    dead = fastnn.Network([2, 2, 1], "relu", init="he", seed=0)
    assert benchmark.dead_layer(dead, case.X) == 1
    assert case.seed == 1 and benchmark.dead_layer(case.network(), case.X) is None
    assert "he init seed 1 (init seed 0 starts with dead ReLUs)" in case.describe()
    assert np.any(case.network().gradient(*case.data(), backend="reference"))


def test_bench_with_an_optimizer(monkeypatch, capsys):
    """--optimizer adam: every fastnn backend trains with Adam and gets the reference's
    numbers; the description says so; a bad name is refused before any timing."""
    _hide(monkeypatch, "jax", "torch")
    status, out = _bench(capsys, "--optimizer", "adam")
    assert status == 0, out
    assert "per-sample Adam()" in out
    _check_fastnn_rows(_table(out))
    with pytest.raises(SystemExit, match="fastnn bench: unknown optimizer 'adamw'"):
        main(["bench", *TINY, "--optimizer", "adamw"])


def _first_result(out):
    """{"first": (seconds, rest of the line), "warm": ...} from fastnn bench's first-result lines."""
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("First result: "))
    found = {}
    for line in lines[at + 1 : at + 5]:
        for key in ("first", "warm"):
            if line.strip().startswith(f"{key} fit:"):
                value, unit = line.split(":", 1)[1].split(",")[0].split()
                found[key] = (float(value) * (1e-3 if unit == "ms" else 1.0), line)
    return lines[at], found


def test_bench_shows_the_first_and_the_warm_fit(capsys):
    """The output has the network's first fit in this process and a warm one, both
    positive, on the kernels that ran them; with FASTNN_TIERING=0 (the tests' setting) it
    says the first includes the compile or the cache load."""
    status, out = _bench(capsys, "--no-compare")
    assert status == 0, out
    header, found = _first_result(out)
    assert "a 3-epoch fit" in header
    assert set(found) == {"first", "warm"}, out
    assert found["first"][0] > 0 and found["warm"][0] > 0
    assert "on the generated kernel" in found["first"][1] and "on the generated kernel" in found["warm"][1]
    assert "this time includes compiling the generated kernel, or loading it from the disk cache" in out
    assert "NOT the same numbers in the first and the warm fit" not in out


def test_first_call_fields():
    """benchmark.first_call: the fields of a FirstCall are there and consistent."""
    from fastnn.kernels import tiering

    case = benchmark.make_case([3, 5, 2], "tanh", samples=10, batch_size=4, optimizer="adam")
    first = benchmark.first_call(case, epochs=2)
    assert first.epochs == 2 and first.first_seconds > 0 and first.warm_seconds > 0
    assert first.waited_seconds >= 0 and first.same is True
    assert first.tiering == tiering.enabled()
    assert first.kernel.startswith("the ") and first.warm_kernel == "the generated kernel"
    lines = benchmark.format_first_call(first)
    assert lines[0].startswith("First result: Network(...) plus a 2-epoch fit")
    assert any(line.strip().startswith("first fit: ") for line in lines)


def test_first_call_names_the_kernel_that_ran(monkeypatch):
    """Which kernel trained the first fit, from tiering.last_fit()'s record of a tiered fit
    (here a fake one: the tests run with tiering off)."""
    spec = benchmark.make_case([2, 3, 1], "relu").spec
    name = benchmark._kernel_that_ran
    assert name(spec, True, dict(generic_epochs=20, switched_at=None), True) == (
        "the shape-generic kernel for 20 epochs (tiered: it compiled in the background meanwhile)")
    assert name(spec, True, dict(generic_epochs=7, switched_at=7), True) == (
        "the shape-generic kernel for 7 epochs, then the generated kernel from epoch 8 "
        "(tiered: its compile ended during the fit)")
    both = name(spec, True, dict(reference_epochs=3, generic_epochs=4, switched_at=7), True)
    assert both.startswith("fastnn.reference for 3 epochs, then the shape-generic kernel for 4 epochs, then the gen")
    assert name(spec, True, dict(switched_at=0), True).startswith("the generated kernel from epoch 1 (tiered")
    assert "already compiled" in name(spec, False, None, True)
    assert name(spec, False, None, False) == "the generated kernel"
    wide = benchmark.make_case([2, 2000, 1], "relu", samples=4).spec
    assert "no generated kernel" in name(wide, False, None, True)


def test_bench_first_fit_divergence_is_a_note(monkeypatch, capsys):
    """A first fit that diverges is said in a note, not a crash."""
    from fastnn.errors import DivergenceError

    def diverge(case, epochs):
        raise DivergenceError(1, np.zeros(1))

    monkeypatch.setattr(benchmark, "first_call", diverge)
    status, out = _bench(capsys, "--no-compare")
    assert status == 0, out
    assert "first fit: diverged in the 2nd epoch (epoch=1) (not timed)" in out
    assert "First result:" not in out
