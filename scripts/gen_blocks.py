"""Writes fastnn/kernels/blocks.py: register-blocked inner loops for the generic kernels.

Run `python scripts/gen_blocks.py` after changing it; tests/test_blocks.py checks that the
committed file is what this script writes.
"""
import pathlib
import sys

WIDTHS = (16, 4, 3, 2, 1)

HEADER = '''"""Register-blocked inner loops of the generic kernels (generated: scripts/gen_blocks.py).

Each function handles a block of ``width`` neighbouring columns of a row-major matrix
stored inside a flat array ``mat`` at ``mat0`` with row stride ``stride``. It keeps one
scalar per column in registers across the loop over rows; compiled with LLVM's SLP
vectoriser (see kernels.compiled) the block becomes SIMD code. Every column still sums
its rows in order 0, 1, 2, ..., so results equal the reference's loops bit for bit.

* ``dot``:  out[out0 + k] = sum_i vec[vec0 + i] * mat[mat0 + i * stride + k]
* ``step``: mat[mat0 + i * stride + k] -= lr * (vec[vec0 + i] * col[col0 + k])
* ``accumulate``: mat[mat0 + i * stride + k] += vec[vec0 + i] * col[col0 + k]

for k < width, i < n. The dispatchers (``dot``, ``step``, ``accumulate``) cover any
number of columns with blocks of 16, 4 and 1 (few variants: each one is compiled into\nevery kernel that uses it).
"""
import numpy as np
from numba import njit

from .compiler import HELPER as _KW  # allocate nothing: no NRT (see compiler.HELPER)

# dot, step and accumulate are inlined where they are called: a call passes its three
# arrays as numba array structs, which cost more than the blocks' work at small widths
# (generic per-sample SGD 81 -> 54 ns a step and mean_gradient 121 -> 49 ns a sample on a
# 2-2-1 network; the generic kernels take about 5 s more to compile, once per machine).
_INLINED = dict(_KW, inline="always")

# Indices are uint64: numba adds a negative-index wrap-around to every signed index,
# which hides from LLVM that mat[row + 0], mat[row + 1], ... are neighbours.
'''


ROWS = [
    "    row = np.uint64(mat0)",
    "    jump = np.uint64(stride)",
    "    at = np.uint64(vec0)",
    "    for i in range(n):",
    "        v = vec[at]",
    "        at += _1",
]


def block(kind, w):
    ks = range(w)
    if kind == "dot":
        lines = [f"def _dot{w}(mat, mat0, stride, vec, vec0, n, out, out0):"]
        lines += [f"    c{k} = 0.0" for k in ks]
        lines += ROWS + [f"        c{k} += v * mat[row + _{k}]" for k in ks] + ["        row += jump"]
        lines += [f"    out[out0 + {k}] = c{k}" for k in ks]
    else:
        args = "mat, mat0, stride, vec, vec0, n, col, col0" + (", lr" if kind == "step" else "")
        lines = [f"def _{kind}{w}({args}):"]
        lines += [f"    c{k} = col[col0 + {k}]" for k in ks]
        if kind == "step":
            lines += ROWS + [f"        mat[row + _{k}] -= lr * (v * c{k})" for k in ks]
        else:
            lines += ROWS + [f"        mat[row + _{k}] += v * c{k}" for k in ks]
        lines += ["        row += jump"]
    return "\n\n@njit(**_KW)\n" + "\n".join(lines) + "\n"


def dispatcher(kind):
    extra = ", lr" if kind == "step" else ""
    if kind == "dot":
        sig = "mat, mat0, stride, vec, vec0, n, out, out0, width"
        call = "mat, mat0 + j, stride, vec, vec0, n, out, out0 + j"
    else:
        sig = f"mat, mat0, stride, vec, vec0, n, col, col0, width{extra}"
        call = f"mat, mat0 + j, stride, vec, vec0, n, col, col0 + j{extra}"
    lines = [f"def {kind}({sig}):", f'    """{kind} over ``width`` columns, in blocks."""', "    j = 0"]
    lines += ["    while j < width:", "        left = width - j"]
    for idx, w in enumerate(WIDTHS):
        cond = "if" if idx == 0 else "elif"
        if w == 1:
            lines += ["        else:", f"            _{kind}1({call})", "            j += 1"]
        else:
            lines += [f"        {cond} left >= {w}:", f"            _{kind}{w}({call})", f"            j += {w}"]
    return "\n\n@njit(**_INLINED)\n" + "\n".join(lines) + "\n"


def source():
    text = HEADER + "".join(f"_{k} = np.uint64({k})\n" for k in range(max(WIDTHS)))
    for kind in ("dot", "step", "accumulate"):
        for w in WIDTHS:
            text += "\n" + block(kind, w)
        text += "\n" + dispatcher(kind)
    return text


if __name__ == "__main__":
    target = pathlib.Path(__file__).resolve().parent.parent / "fastnn" / "kernels" / "blocks.py"
    target.write_text(source())
    sys.stdout.write(f"wrote {target}\n")
