"""Register-blocked inner loops of the generic kernels (generated: scripts/gen_blocks.py).

Each function handles a block of ``width`` neighbouring columns of a row-major matrix
stored inside a flat array ``mat`` at ``mat0`` with row stride ``stride``. It keeps one
scalar per column in registers across the loop over rows; compiled with LLVM's SLP
vectoriser (see kernels.compiled) the block becomes SIMD code. Every column still sums
its rows in order 0, 1, 2, ..., so results equal the reference's loops bit for bit.

* ``dot``:  out[out0 + k] = sum_i vec[vec0 + i] * mat[mat0 + i * stride + k]
* ``step``: mat[mat0 + i * stride + k] -= lr * (vec[vec0 + i] * col[col0 + k])
* ``accumulate``: mat[mat0 + i * stride + k] += vec[vec0 + i] * col[col0 + k]

for k < width, i < n. The dispatchers (``dot``, ``step``, ``accumulate``) cover any
number of columns with blocks of 16, 4 and 1 (few variants: each one is compiled into
every kernel that uses it).
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
_0 = np.uint64(0)
_1 = np.uint64(1)
_2 = np.uint64(2)
_3 = np.uint64(3)
_4 = np.uint64(4)
_5 = np.uint64(5)
_6 = np.uint64(6)
_7 = np.uint64(7)
_8 = np.uint64(8)
_9 = np.uint64(9)
_10 = np.uint64(10)
_11 = np.uint64(11)
_12 = np.uint64(12)
_13 = np.uint64(13)
_14 = np.uint64(14)
_15 = np.uint64(15)



@njit(**_KW)
def _dot16(mat, mat0, stride, vec, vec0, n, out, out0):
    c0 = 0.0
    c1 = 0.0
    c2 = 0.0
    c3 = 0.0
    c4 = 0.0
    c5 = 0.0
    c6 = 0.0
    c7 = 0.0
    c8 = 0.0
    c9 = 0.0
    c10 = 0.0
    c11 = 0.0
    c12 = 0.0
    c13 = 0.0
    c14 = 0.0
    c15 = 0.0
    row = np.uint64(mat0)
    jump = np.uint64(stride)
    at = np.uint64(vec0)
    for i in range(n):
        v = vec[at]
        at += _1
        c0 += v * mat[row + _0]
        c1 += v * mat[row + _1]
        c2 += v * mat[row + _2]
        c3 += v * mat[row + _3]
        c4 += v * mat[row + _4]
        c5 += v * mat[row + _5]
        c6 += v * mat[row + _6]
        c7 += v * mat[row + _7]
        c8 += v * mat[row + _8]
        c9 += v * mat[row + _9]
        c10 += v * mat[row + _10]
        c11 += v * mat[row + _11]
        c12 += v * mat[row + _12]
        c13 += v * mat[row + _13]
        c14 += v * mat[row + _14]
        c15 += v * mat[row + _15]
        row += jump
    out[out0 + 0] = c0
    out[out0 + 1] = c1
    out[out0 + 2] = c2
    out[out0 + 3] = c3
    out[out0 + 4] = c4
    out[out0 + 5] = c5
    out[out0 + 6] = c6
    out[out0 + 7] = c7
    out[out0 + 8] = c8
    out[out0 + 9] = c9
    out[out0 + 10] = c10
    out[out0 + 11] = c11
    out[out0 + 12] = c12
    out[out0 + 13] = c13
    out[out0 + 14] = c14
    out[out0 + 15] = c15



@njit(**_KW)
def _dot4(mat, mat0, stride, vec, vec0, n, out, out0):
    c0 = 0.0
    c1 = 0.0
    c2 = 0.0
    c3 = 0.0
    row = np.uint64(mat0)
    jump = np.uint64(stride)
    at = np.uint64(vec0)
    for i in range(n):
        v = vec[at]
        at += _1
        c0 += v * mat[row + _0]
        c1 += v * mat[row + _1]
        c2 += v * mat[row + _2]
        c3 += v * mat[row + _3]
        row += jump
    out[out0 + 0] = c0
    out[out0 + 1] = c1
    out[out0 + 2] = c2
    out[out0 + 3] = c3



@njit(**_KW)
def _dot3(mat, mat0, stride, vec, vec0, n, out, out0):
    c0 = 0.0
    c1 = 0.0
    c2 = 0.0
    row = np.uint64(mat0)
    jump = np.uint64(stride)
    at = np.uint64(vec0)
    for i in range(n):
        v = vec[at]
        at += _1
        c0 += v * mat[row + _0]
        c1 += v * mat[row + _1]
        c2 += v * mat[row + _2]
        row += jump
    out[out0 + 0] = c0
    out[out0 + 1] = c1
    out[out0 + 2] = c2



@njit(**_KW)
def _dot2(mat, mat0, stride, vec, vec0, n, out, out0):
    c0 = 0.0
    c1 = 0.0
    row = np.uint64(mat0)
    jump = np.uint64(stride)
    at = np.uint64(vec0)
    for i in range(n):
        v = vec[at]
        at += _1
        c0 += v * mat[row + _0]
        c1 += v * mat[row + _1]
        row += jump
    out[out0 + 0] = c0
    out[out0 + 1] = c1



@njit(**_KW)
def _dot1(mat, mat0, stride, vec, vec0, n, out, out0):
    c0 = 0.0
    row = np.uint64(mat0)
    jump = np.uint64(stride)
    at = np.uint64(vec0)
    for i in range(n):
        v = vec[at]
        at += _1
        c0 += v * mat[row + _0]
        row += jump
    out[out0 + 0] = c0



@njit(**_INLINED)
def dot(mat, mat0, stride, vec, vec0, n, out, out0, width):
    """dot over ``width`` columns, in blocks."""
    j = 0
    while j < width:
        left = width - j
        if left >= 16:
            _dot16(mat, mat0 + j, stride, vec, vec0, n, out, out0 + j)
            j += 16
        elif left >= 4:
            _dot4(mat, mat0 + j, stride, vec, vec0, n, out, out0 + j)
            j += 4
        elif left >= 3:
            _dot3(mat, mat0 + j, stride, vec, vec0, n, out, out0 + j)
            j += 3
        elif left >= 2:
            _dot2(mat, mat0 + j, stride, vec, vec0, n, out, out0 + j)
            j += 2
        else:
            _dot1(mat, mat0 + j, stride, vec, vec0, n, out, out0 + j)
            j += 1



@njit(**_KW)
def _step16(mat, mat0, stride, vec, vec0, n, col, col0, lr):
    c0 = col[col0 + 0]
    c1 = col[col0 + 1]
    c2 = col[col0 + 2]
    c3 = col[col0 + 3]
    c4 = col[col0 + 4]
    c5 = col[col0 + 5]
    c6 = col[col0 + 6]
    c7 = col[col0 + 7]
    c8 = col[col0 + 8]
    c9 = col[col0 + 9]
    c10 = col[col0 + 10]
    c11 = col[col0 + 11]
    c12 = col[col0 + 12]
    c13 = col[col0 + 13]
    c14 = col[col0 + 14]
    c15 = col[col0 + 15]
    row = np.uint64(mat0)
    jump = np.uint64(stride)
    at = np.uint64(vec0)
    for i in range(n):
        v = vec[at]
        at += _1
        mat[row + _0] -= lr * (v * c0)
        mat[row + _1] -= lr * (v * c1)
        mat[row + _2] -= lr * (v * c2)
        mat[row + _3] -= lr * (v * c3)
        mat[row + _4] -= lr * (v * c4)
        mat[row + _5] -= lr * (v * c5)
        mat[row + _6] -= lr * (v * c6)
        mat[row + _7] -= lr * (v * c7)
        mat[row + _8] -= lr * (v * c8)
        mat[row + _9] -= lr * (v * c9)
        mat[row + _10] -= lr * (v * c10)
        mat[row + _11] -= lr * (v * c11)
        mat[row + _12] -= lr * (v * c12)
        mat[row + _13] -= lr * (v * c13)
        mat[row + _14] -= lr * (v * c14)
        mat[row + _15] -= lr * (v * c15)
        row += jump



@njit(**_KW)
def _step4(mat, mat0, stride, vec, vec0, n, col, col0, lr):
    c0 = col[col0 + 0]
    c1 = col[col0 + 1]
    c2 = col[col0 + 2]
    c3 = col[col0 + 3]
    row = np.uint64(mat0)
    jump = np.uint64(stride)
    at = np.uint64(vec0)
    for i in range(n):
        v = vec[at]
        at += _1
        mat[row + _0] -= lr * (v * c0)
        mat[row + _1] -= lr * (v * c1)
        mat[row + _2] -= lr * (v * c2)
        mat[row + _3] -= lr * (v * c3)
        row += jump



@njit(**_KW)
def _step3(mat, mat0, stride, vec, vec0, n, col, col0, lr):
    c0 = col[col0 + 0]
    c1 = col[col0 + 1]
    c2 = col[col0 + 2]
    row = np.uint64(mat0)
    jump = np.uint64(stride)
    at = np.uint64(vec0)
    for i in range(n):
        v = vec[at]
        at += _1
        mat[row + _0] -= lr * (v * c0)
        mat[row + _1] -= lr * (v * c1)
        mat[row + _2] -= lr * (v * c2)
        row += jump



@njit(**_KW)
def _step2(mat, mat0, stride, vec, vec0, n, col, col0, lr):
    c0 = col[col0 + 0]
    c1 = col[col0 + 1]
    row = np.uint64(mat0)
    jump = np.uint64(stride)
    at = np.uint64(vec0)
    for i in range(n):
        v = vec[at]
        at += _1
        mat[row + _0] -= lr * (v * c0)
        mat[row + _1] -= lr * (v * c1)
        row += jump



@njit(**_KW)
def _step1(mat, mat0, stride, vec, vec0, n, col, col0, lr):
    c0 = col[col0 + 0]
    row = np.uint64(mat0)
    jump = np.uint64(stride)
    at = np.uint64(vec0)
    for i in range(n):
        v = vec[at]
        at += _1
        mat[row + _0] -= lr * (v * c0)
        row += jump



@njit(**_INLINED)
def step(mat, mat0, stride, vec, vec0, n, col, col0, width, lr):
    """step over ``width`` columns, in blocks."""
    j = 0
    while j < width:
        left = width - j
        if left >= 16:
            _step16(mat, mat0 + j, stride, vec, vec0, n, col, col0 + j, lr)
            j += 16
        elif left >= 4:
            _step4(mat, mat0 + j, stride, vec, vec0, n, col, col0 + j, lr)
            j += 4
        elif left >= 3:
            _step3(mat, mat0 + j, stride, vec, vec0, n, col, col0 + j, lr)
            j += 3
        elif left >= 2:
            _step2(mat, mat0 + j, stride, vec, vec0, n, col, col0 + j, lr)
            j += 2
        else:
            _step1(mat, mat0 + j, stride, vec, vec0, n, col, col0 + j, lr)
            j += 1



@njit(**_KW)
def _accumulate16(mat, mat0, stride, vec, vec0, n, col, col0):
    c0 = col[col0 + 0]
    c1 = col[col0 + 1]
    c2 = col[col0 + 2]
    c3 = col[col0 + 3]
    c4 = col[col0 + 4]
    c5 = col[col0 + 5]
    c6 = col[col0 + 6]
    c7 = col[col0 + 7]
    c8 = col[col0 + 8]
    c9 = col[col0 + 9]
    c10 = col[col0 + 10]
    c11 = col[col0 + 11]
    c12 = col[col0 + 12]
    c13 = col[col0 + 13]
    c14 = col[col0 + 14]
    c15 = col[col0 + 15]
    row = np.uint64(mat0)
    jump = np.uint64(stride)
    at = np.uint64(vec0)
    for i in range(n):
        v = vec[at]
        at += _1
        mat[row + _0] += v * c0
        mat[row + _1] += v * c1
        mat[row + _2] += v * c2
        mat[row + _3] += v * c3
        mat[row + _4] += v * c4
        mat[row + _5] += v * c5
        mat[row + _6] += v * c6
        mat[row + _7] += v * c7
        mat[row + _8] += v * c8
        mat[row + _9] += v * c9
        mat[row + _10] += v * c10
        mat[row + _11] += v * c11
        mat[row + _12] += v * c12
        mat[row + _13] += v * c13
        mat[row + _14] += v * c14
        mat[row + _15] += v * c15
        row += jump



@njit(**_KW)
def _accumulate4(mat, mat0, stride, vec, vec0, n, col, col0):
    c0 = col[col0 + 0]
    c1 = col[col0 + 1]
    c2 = col[col0 + 2]
    c3 = col[col0 + 3]
    row = np.uint64(mat0)
    jump = np.uint64(stride)
    at = np.uint64(vec0)
    for i in range(n):
        v = vec[at]
        at += _1
        mat[row + _0] += v * c0
        mat[row + _1] += v * c1
        mat[row + _2] += v * c2
        mat[row + _3] += v * c3
        row += jump



@njit(**_KW)
def _accumulate3(mat, mat0, stride, vec, vec0, n, col, col0):
    c0 = col[col0 + 0]
    c1 = col[col0 + 1]
    c2 = col[col0 + 2]
    row = np.uint64(mat0)
    jump = np.uint64(stride)
    at = np.uint64(vec0)
    for i in range(n):
        v = vec[at]
        at += _1
        mat[row + _0] += v * c0
        mat[row + _1] += v * c1
        mat[row + _2] += v * c2
        row += jump



@njit(**_KW)
def _accumulate2(mat, mat0, stride, vec, vec0, n, col, col0):
    c0 = col[col0 + 0]
    c1 = col[col0 + 1]
    row = np.uint64(mat0)
    jump = np.uint64(stride)
    at = np.uint64(vec0)
    for i in range(n):
        v = vec[at]
        at += _1
        mat[row + _0] += v * c0
        mat[row + _1] += v * c1
        row += jump



@njit(**_KW)
def _accumulate1(mat, mat0, stride, vec, vec0, n, col, col0):
    c0 = col[col0 + 0]
    row = np.uint64(mat0)
    jump = np.uint64(stride)
    at = np.uint64(vec0)
    for i in range(n):
        v = vec[at]
        at += _1
        mat[row + _0] += v * c0
        row += jump



@njit(**_INLINED)
def accumulate(mat, mat0, stride, vec, vec0, n, col, col0, width):
    """accumulate over ``width`` columns, in blocks."""
    j = 0
    while j < width:
        left = width - j
        if left >= 16:
            _accumulate16(mat, mat0 + j, stride, vec, vec0, n, col, col0 + j)
            j += 16
        elif left >= 4:
            _accumulate4(mat, mat0 + j, stride, vec, vec0, n, col, col0 + j)
            j += 4
        elif left >= 3:
            _accumulate3(mat, mat0 + j, stride, vec, vec0, n, col, col0 + j)
            j += 3
        elif left >= 2:
            _accumulate2(mat, mat0 + j, stride, vec, vec0, n, col, col0 + j)
            j += 2
        else:
            _accumulate1(mat, mat0 + j, stride, vec, vec0, n, col, col0 + j)
            j += 1
