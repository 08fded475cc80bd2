"""Eight-lane float64 vectors for numba kernels: an LLVM ``<8 x double>`` value type.

The eight-wide sibling of ``kernels.simd`` (same rules: one plain IEEE operation per
lane, no fast-math flags, no FMA contraction, so a lane computes exactly what the scalar
expression would). LLVM maps a ``<8 x double>`` onto one AVX-512 register, or two AVX2
registers (four SSE registers) where the machine has no AVX-512; values held in
variables stay in registers across loops, which memory-based lane loops cannot promise
(LLVM reloads them after every store it cannot prove disjoint).

* ``load8(a, i)`` / ``store8(a, i, v)``: ``a[i:i+8]`` of a C-contiguous 1-d float64 array
  (no bounds check).
* ``splat8(x)``, ``zero8()``; ``add8``, ``sub8``, ``mul8``, ``div8``: lane-wise.
* ``relu8(z)``: ``z if z > 0.0 else 0.0``; ``relu_back8(value, z)``: ``value if z > 0.0
  else 0.0``; ``max8(x, y)``: ``y if y > x else x`` (x where y is NaN, as the scalar
  ``if y > x: x = y`` does).
"""
from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic, models, register_model

_DOUBLE = ir.DoubleType()
_V8 = ir.VectorType(_DOUBLE, 8)
_ZERO = ir.Constant(_V8, [0.0] * 8)


class F64x8(types.Type):
    """numba type of a <8 x double> SSA value."""

    def __init__(self):
        super().__init__(name="f64x8")


f64x8 = F64x8()


@register_model(F64x8)
class _F64x8Model(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, _V8)


def _pointer(context, builder, array_type, array, index, index_type):
    data = context.make_array(array_type)(context, builder, array).data
    index = context.cast(builder, index, index_type, types.intp)
    return builder.bitcast(builder.gep(data, [index], inbounds=True), _V8.as_pointer())


@intrinsic
def load8(typingctx, array, index):
    def codegen(context, builder, sig, args):
        return builder.load(_pointer(context, builder, sig.args[0], args[0], args[1], sig.args[1]), align=8)

    return f64x8(array, index), codegen


@intrinsic
def store8(typingctx, array, index, value):
    def codegen(context, builder, sig, args):
        builder.store(args[2], _pointer(context, builder, sig.args[0], args[0], args[1], sig.args[1]), align=8)
        return context.get_dummy_value()

    return types.void(array, index, value), codegen


@intrinsic
def splat8(typingctx, x):
    def codegen(context, builder, sig, args):
        scalar = context.cast(builder, args[0], sig.args[0], types.float64)
        vector = builder.insert_element(ir.Constant(_V8, ir.Undefined), scalar, ir.Constant(ir.IntType(32), 0))
        mask = ir.Constant(ir.VectorType(ir.IntType(32), 8), [0] * 8)
        return builder.shuffle_vector(vector, ir.Constant(_V8, ir.Undefined), mask)

    return f64x8(x), codegen


@intrinsic
def zero8(typingctx):
    def codegen(context, builder, sig, args):
        return _ZERO

    return f64x8(), codegen


def _binary(operation):
    @intrinsic
    def op(typingctx, x, y):
        def codegen(context, builder, sig, args):
            return getattr(builder, operation)(args[0], args[1])

        return f64x8(x, y), codegen

    return op


add8 = _binary("fadd")
sub8 = _binary("fsub")
mul8 = _binary("fmul")
div8 = _binary("fdiv")


@intrinsic
def relu8(typingctx, z):
    def codegen(context, builder, sig, args):
        return builder.select(builder.fcmp_ordered(">", args[0], _ZERO), args[0], _ZERO)

    return f64x8(z), codegen


@intrinsic
def relu_back8(typingctx, value, z):
    def codegen(context, builder, sig, args):
        return builder.select(builder.fcmp_ordered(">", args[1], _ZERO), args[0], _ZERO)

    return f64x8(value, z), codegen


@intrinsic
def max8(typingctx, x, y):
    def codegen(context, builder, sig, args):
        return builder.select(builder.fcmp_ordered(">", args[1], args[0]), args[1], args[0])

    return f64x8(x, y), codegen


__all__ = ["f64x8", "load8", "store8", "splat8", "zero8", "add8", "sub8", "mul8", "div8", "relu8", "relu_back8",
           "max8"]
