"""kernels/blocks.py is generated: the committed file must be what the generator writes,
and each block must compute what its docstring says, in the reference's summation order."""
import importlib.util
import pathlib

import numpy as np
import pytest

from fastnn.kernels import blocks

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_blocks_file_is_the_generators_output():
    spec = importlib.util.spec_from_file_location("gen_blocks", ROOT / "scripts" / "gen_blocks.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert (ROOT / "fastnn" / "kernels" / "blocks.py").read_text() == gen.source()


@pytest.mark.parametrize("width", [1, 2, 3, 4, 5, 7, 16, 19, 37])
def test_blocks_match_plain_loops_bit_for_bit(width):
    rng = np.random.default_rng(width)
    n, stride, mat0, vec0 = 6, width + 3, 2, 1
    mat = rng.standard_normal(mat0 + n * stride + width)
    vec = rng.standard_normal(vec0 + n)
    col = rng.standard_normal(width + 2)
    out = np.zeros(width + 4)
    blocks.dot(mat, mat0, stride, vec, vec0, n, out, 3, width)
    for k in range(width):
        total = 0.0  # the reference's order: rows 0, 1, 2, ...
        for i in range(n):
            total += vec[vec0 + i] * mat[mat0 + i * stride + k]
        assert out[3 + k] == total
    stepped, added = mat.copy(), mat.copy()
    blocks.step(stepped, mat0, stride, vec, vec0, n, col, 1, width, 0.25)
    blocks.accumulate(added, mat0, stride, vec, vec0, n, col, 1, width)
    want_step, want_add = mat.copy(), mat.copy()
    for i in range(n):
        for k in range(width):
            want_step[mat0 + i * stride + k] -= 0.25 * (vec[vec0 + i] * col[1 + k])
            want_add[mat0 + i * stride + k] += vec[vec0 + i] * col[1 + k]
    assert np.array_equal(stepped, want_step) and np.array_equal(added, want_add)
