"""Four-lane float64 vectors for numba kernels: an LLVM ``<4 x double>`` value type.

numba has no SIMD type of its own and leaves vectorisation to LLVM, which cannot see
that, say, the error signals of four neighbouring units are independent sums it may
compute side by side. Generated kernels (``kernels.widegen``) say so explicitly with
these operations; LLVM keeps the values in AVX registers (two SSE registers without AVX).

Every operation is one IEEE operation per lane (plain ``fadd``/``fmul``/``fsub``, no
fast-math flags, no contraction into FMA), so a lane computes exactly what the same
scalar expression would: vectorising *across* independent sums keeps every sum's order.

* ``load4(a, i)`` / ``store4(a, i, v)``: ``a[i:i+4]`` of a C-contiguous float64 array
  (no bounds check; ``i`` any integer).
* ``splat4(x)``: (x, x, x, x); ``zero4()``: (0.0, 0.0, 0.0, 0.0).
* ``add4``, ``sub4``, ``mul4``, ``div4``: lane-wise ``x + y``, ``x - y``, ``x * y``, ``x / y``.
* ``relu4(z)``: ``z if z > 0.0 else 0.0``; ``relu_back4(value, z)``: ``value if z > 0.0
  else 0.0`` (the error an inactive ReLU passes back is exactly 0, see fastnn.reference).
* ``transpose4(r0, r1, r2, r3)``: the columns of the 4x4 matrix with rows r0..r3.
"""
from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic, models, register_model

_DOUBLE = ir.DoubleType()
_V4 = ir.VectorType(_DOUBLE, 4)


class F64x4(types.Type):
    """numba type of a <4 x double> SSA value."""

    def __init__(self):
        super().__init__(name="f64x4")


f64x4 = F64x4()


@register_model(F64x4)
class _F64x4Model(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, _V4)


def vector_pointer(context, builder, array_type, array, index, index_type, vector=_V4):
    """Pointer to element ``index`` of a C-contiguous 1-d array, as ``vector``* (<4 x
    double> here, <8 x double> for kernels.lanes8)."""
    data = context.make_array(array_type)(context, builder, array).data
    index = context.cast(builder, index, index_type, types.intp)
    return builder.bitcast(builder.gep(data, [index], inbounds=True), vector.as_pointer())


@intrinsic
def load4(typingctx, array, index):
    def codegen(context, builder, sig, args):
        ptr = vector_pointer(context, builder, sig.args[0], args[0], args[1], sig.args[1])
        return builder.load(ptr, align=8)

    return f64x4(array, index), codegen


@intrinsic
def store4(typingctx, array, index, value):
    def codegen(context, builder, sig, args):
        ptr = vector_pointer(context, builder, sig.args[0], args[0], args[1], sig.args[1])
        builder.store(args[2], ptr, align=8)
        return context.get_dummy_value()

    return types.void(array, index, value), codegen


def _splat(builder, scalar):
    vector = builder.insert_element(ir.Constant(_V4, ir.Undefined), scalar, ir.Constant(ir.IntType(32), 0))
    return builder.shuffle_vector(vector, ir.Constant(_V4, ir.Undefined), ir.Constant(ir.VectorType(ir.IntType(32), 4), [0] * 4))


@intrinsic
def splat4(typingctx, x):
    def codegen(context, builder, sig, args):
        return _splat(builder, context.cast(builder, args[0], sig.args[0], types.float64))

    return f64x4(x), codegen


@intrinsic
def zero4(typingctx):
    def codegen(context, builder, sig, args):
        return ir.Constant(_V4, [0.0] * 4)

    return f64x4(), codegen


def _binary(operation):
    @intrinsic
    def op(typingctx, x, y):
        def codegen(context, builder, sig, args):
            return getattr(builder, operation)(args[0], args[1])

        return f64x4(x, y), codegen

    return op


add4 = _binary("fadd")
sub4 = _binary("fsub")
mul4 = _binary("fmul")
div4 = _binary("fdiv")


def _positive(builder, z):
    return builder.fcmp_ordered(">", z, ir.Constant(_V4, [0.0] * 4))


@intrinsic
def relu4(typingctx, z):
    def codegen(context, builder, sig, args):
        return builder.select(_positive(builder, args[0]), args[0], ir.Constant(_V4, [0.0] * 4))

    return f64x4(z), codegen


@intrinsic
def relu_back4(typingctx, value, z):
    def codegen(context, builder, sig, args):
        return builder.select(_positive(builder, args[1]), args[0], ir.Constant(_V4, [0.0] * 4))

    return f64x4(value, z), codegen


@intrinsic
def lane4(typingctx, v, k):
    """Lane k (a compile-time literal int) of v, as a float64."""
    def codegen(context, builder, sig, args):
        return builder.extract_element(args[0], context.cast(builder, args[1], sig.args[1], types.int32))

    return types.float64(v, k), codegen


def _shuffle(builder, x, y, mask):
    return builder.shuffle_vector(x, y, ir.Constant(ir.VectorType(ir.IntType(32), 4), mask))


@intrinsic
def transpose4(typingctx, r0, r1, r2, r3):
    """(c0, c1, c2, c3), c_k = (r0[k], r1[k], r2[k], r3[k]): unpack within 128-bit halves,
    then swap halves (8 shuffles, the AVX idiom)."""
    tuple_type = types.UniTuple(f64x4, 4)

    def codegen(context, builder, sig, args):
        a, b, c, d = args
        lo_ab = _shuffle(builder, a, b, [0, 4, 2, 6])  # a0 b0 a2 b2
        hi_ab = _shuffle(builder, a, b, [1, 5, 3, 7])  # a1 b1 a3 b3
        lo_cd = _shuffle(builder, c, d, [0, 4, 2, 6])  # c0 d0 c2 d2
        hi_cd = _shuffle(builder, c, d, [1, 5, 3, 7])  # c1 d1 c3 d3
        cols = [
            _shuffle(builder, lo_ab, lo_cd, [0, 1, 4, 5]),  # a0 b0 c0 d0
            _shuffle(builder, hi_ab, hi_cd, [0, 1, 4, 5]),  # a1 b1 c1 d1
            _shuffle(builder, lo_ab, lo_cd, [2, 3, 6, 7]),  # a2 b2 c2 d2
            _shuffle(builder, hi_ab, hi_cd, [2, 3, 6, 7]),  # a3 b3 c3 d3
        ]
        return context.make_tuple(builder, tuple_type, cols)

    return tuple_type(r0, r1, r2, r3), codegen


__all__ = ["f64x4", "load4", "store4", "splat4", "zero4", "add4", "sub4", "mul4", "div4", "relu4", "relu_back4",
           "lane4", "transpose4"]
