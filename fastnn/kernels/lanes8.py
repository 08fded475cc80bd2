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
* Operators: ``+``, ``-``, ``*``, ``/`` between two vectors or a vector and a scalar
  (float or integer, converted to float64 and splat, as a scalar expression converts
  it), unary ``-`` (``-0.0 - x``, numba's scalar negation) and ``np.sqrt`` (correctly
  rounded, like the scalar's). So a scalar rule written with them, such as
  ``kernels.optim``'s ``adam_step``, runs on eight lanes unchanged, with each lane's
  exact scalar result.
"""
from __future__ import annotations

import operator

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.imputils import lower_builtin
from numba.core.typing.templates import AbstractTemplate, infer_global, signature
from numba.extending import intrinsic, models, register_model

from .simd import vector_pointer

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
    return vector_pointer(context, builder, array_type, array, index, index_type, _V8)


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


def _splat(builder, scalar):
    """<8 x double> with every lane the double ``scalar``."""
    vector = builder.insert_element(ir.Constant(_V8, ir.Undefined), scalar, ir.Constant(ir.IntType(32), 0))
    mask = ir.Constant(ir.VectorType(ir.IntType(32), 8), [0] * 8)
    return builder.shuffle_vector(vector, ir.Constant(_V8, ir.Undefined), mask)


@intrinsic
def splat8(typingctx, x):
    def codegen(context, builder, sig, args):
        return _splat(builder, context.cast(builder, args[0], sig.args[0], types.float64))

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


def _operand(context, builder, value, value_type):
    """A vector operand: a vector as it is, a scalar converted to float64 and splat."""
    if value_type is f64x8:
        return value
    return _splat(builder, context.cast(builder, value, value_type, types.float64))


def _scalar(t):
    return isinstance(t, (types.Float, types.Integer)) and not isinstance(t, types.Boolean)


def _operator(function, instruction):
    class _Template(AbstractTemplate):
        key = function

        def generic(self, args, kws):
            if kws or len(args) != 2 or f64x8 not in args:
                return None
            if all(a is f64x8 or _scalar(a) for a in args):
                return signature(f64x8, *args)
            return None

    infer_global(function)(_Template)

    def lower(context, builder, sig, args):
        x, y = (_operand(context, builder, v, t) for v, t in zip(args, sig.args))
        return getattr(builder, instruction)(x, y)

    for pair in ((f64x8, f64x8), (f64x8, types.Number), (types.Number, f64x8)):
        lower_builtin(function, *pair)(lower)


for _function, _instruction in ((operator.add, "fadd"), (operator.sub, "fsub"), (operator.mul, "fmul"),
                                (operator.truediv, "fdiv")):
    _operator(_function, _instruction)


@infer_global(operator.neg)
class _Negate(AbstractTemplate):
    def generic(self, args, kws):
        if not kws and len(args) == 1 and args[0] is f64x8:
            return signature(f64x8, f64x8)
        return None


@lower_builtin(operator.neg, f64x8)
def _negate(context, builder, sig, args):
    return builder.fsub(ir.Constant(_V8, [-0.0] * 8), args[0])


@infer_global(np.sqrt)
class _Sqrt(AbstractTemplate):
    def generic(self, args, kws):
        if not kws and len(args) == 1 and args[0] is f64x8:
            return signature(f64x8, f64x8)
        return None


@lower_builtin(np.sqrt, f64x8)
def _sqrt(context, builder, sig, args):
    function = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_V8, [_V8]), "llvm.sqrt.v8f64")
    return builder.call(function, [args[0]])


__all__ = ["f64x8", "load8", "store8", "splat8", "zero8", "add8", "sub8", "mul8", "div8", "relu8", "relu_back8",
           "max8"]
