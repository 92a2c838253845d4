"""LLVM types and constants for graphc dtypes.

Every dtype has a *storage* type (how one element sits in a numpy buffer)
and a *register* type (how generated code holds it): they agree except for
``bool``, stored as one byte (numpy's layout) and held as ``i1``.  Loads
widen bool with ``icmp ne 0`` (any non-zero byte is true), stores
``zext`` it back to 0/1.

f16 is not supported by this backend: ``SUPPORTED_DTYPES`` lists what is,
and ``check_dtypes`` (called at compile time) rejects anything else with a
``LoweringError`` that names the value and the op producing it.
"""

from __future__ import annotations

from llvmlite import ir

from graphc.errors import LoweringError

from ...ir.core import Func, Module
from ...ir.dtypes import DType

F32 = ir.FloatType()
F64 = ir.DoubleType()
I1 = ir.IntType(1)
I8 = ir.IntType(8)
I32 = ir.IntType(32)
I64 = ir.IntType(64)
PTR = ir.PointerType()
VOID = ir.VoidType()

SUPPORTED_DTYPES = (DType.f32, DType.f64, DType.i32, DType.i64, DType.bool)

_REGISTER = {DType.f32: F32, DType.f64: F64, DType.i32: I32, DType.i64: I64, DType.bool: I1}
_STORAGE = {DType.f32: F32, DType.f64: F64, DType.i32: I32, DType.i64: I64, DType.bool: I8}


def register_type(dtype: DType) -> ir.Type:
    return _REGISTER[dtype]


def storage_type(dtype: DType) -> ir.Type:
    return _STORAGE[dtype]


def const(dtype: DType, value: float | int | bool) -> ir.Constant:
    """A constant of ``dtype``'s register type."""
    if dtype is DType.bool:
        return ir.Constant(I1, 1 if value else 0)
    if dtype.is_int:
        return ir.Constant(_REGISTER[dtype], int(value))
    return ir.Constant(_REGISTER[dtype], float(value))


def i64(value: int) -> ir.Constant:
    return ir.Constant(I64, int(value))


def check_dtypes(module: Module) -> None:
    """LoweringError for the first value whose dtype this backend cannot hold."""
    for func in module.funcs:
        _check_func(func)


def _check_func(func: Func) -> None:
    def reject(what: str, dtype: DType) -> None:
        raise LoweringError(
            f"backend 'llvm' does not support dtype {dtype.short}: {what} in @{func.name}; "
            f"supported dtypes are {', '.join(d.short for d in SUPPORTED_DTYPES)} "
            "(cast to f32 around the f16 part, or use backend 'numba')")

    for p in func.params:
        if p.type.dtype not in SUPPORTED_DTYPES:
            reject(f"parameter %{p.name or '?'}: {p.type}", p.type.dtype)
    for node in func.nodes:
        for out in node.outputs:
            if out.type.dtype not in SUPPORTED_DTYPES:
                where = f" (from {node.loc.describe()})" if node.loc is not None else ""
                reject(f"op '{node.op.name}' produces {out.type}{where}", out.type.dtype)
