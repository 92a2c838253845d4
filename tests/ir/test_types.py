"""Types: dtypes, TensorType validation, broadcasting with symbols, refines(),
axis normalisation."""

from __future__ import annotations

import numpy as np
import pytest

from graphc.errors import GraphcError, ShapeError
from graphc.ir import ALL_DTYPES, DType, TensorType, dtype_of, format_shape
from graphc.ir.types import (UNKNOWN, broadcast_dims, broadcast_shapes, check_dim, normalize_axes,
                             normalize_axis, product, refines)

# ---------------------------------------------------------------- dtypes

SPELLINGS = [
    (DType.f32, DType.f32),
    ("f16", DType.f16), ("f32", DType.f32), ("f64", DType.f64),
    ("i32", DType.i32), ("i64", DType.i64), ("bool", DType.bool),
    ("float16", DType.f16), ("float32", DType.f32), ("float64", DType.f64),
    ("int32", DType.i32), ("int64", DType.i64),
    ("float", DType.f32), ("int", DType.i64), ("bool_", DType.bool),
    (np.float16, DType.f16), (np.float32, DType.f32), (np.float64, DType.f64),
    (np.int32, DType.i32), (np.int64, DType.i64), (np.bool_, DType.bool),
    (np.dtype("float32"), DType.f32), (np.dtype("int64"), DType.i64),
    (np.dtype(bool), DType.bool), ("f4", DType.f32), ("<f8", DType.f64), ("i8", DType.i64),
    (bool, DType.bool),
]


@pytest.mark.parametrize("spec, expected", SPELLINGS, ids=[repr(s) for s, _ in SPELLINGS])
def test_dtype_of_spellings(spec, expected):
    assert dtype_of(spec) is expected


@pytest.mark.parametrize("spec", ["int8", "uint8", "complex64", np.complex128, "foo", "", "F32",
                                  3, [1], object, ("f4", (2,)), "f4,f4", "str"],
                         ids=repr)
def test_dtype_of_rejects_unsupported(spec):
    with pytest.raises(ShapeError, match="unsupported dtype") as info:
        dtype_of(spec)
    assert "f16, f32, f64, i32, i64, bool" in str(info.value)
    assert "float32" in str(info.value)


def test_dtype_of_none_is_rejected():
    with pytest.raises(ShapeError):
        dtype_of(None)


def test_dtype_of_malformed_numpy_spec_is_a_graphc_error():
    with pytest.raises(GraphcError):
        dtype_of(("i4", -1))


def test_dtype_properties():
    assert [d.short for d in ALL_DTYPES] == ["f16", "f32", "f64", "i32", "i64", "bool"]
    for d in ALL_DTYPES:
        assert dtype_of(d.numpy) is d and dtype_of(d.short) is d
        assert d.itemsize == d.numpy.itemsize
        assert str(d) == d.short and repr(d) == f"DType.{d.short}"
        assert sum([d.is_float, d.is_int, d.is_bool]) == 1
        assert d.is_numeric == (not d.is_bool)
    assert DType.f16.is_float and DType.i32.is_int and DType.bool.is_bool


# ---------------------------------------------------------------- TensorType

def test_tensor_type_basics():
    ty = TensorType("float32", (np.int64(2), "N", "?"))
    assert ty.dtype is DType.f32
    assert ty.shape == (2, "N", "?") and type(ty.shape[0]) is int
    assert str(ty) == "f32[2,N,?]" and repr(ty) == "TensorType(f32[2,N,?])"
    assert ty.rank == 3 and not ty.is_static and ty.size is None
    assert ty.symbols == frozenset({"N"})
    assert ty.with_shape([4]) == TensorType("f32", (4,))
    assert ty.with_dtype("i64") == TensorType("i64", (2, "N", "?"))
    same = TensorType("f32", (2, "N", "?"))
    assert ty == TensorType(DType.f32, [2, "N", "?"]) and hash(ty) == hash(same)
    assert ty != TensorType("f64", (2, "N", "?"))

    scalar = TensorType("f64")
    assert str(scalar) == "f64[]" and scalar.rank == 0 and scalar.is_static and scalar.size == 1
    empty = TensorType("i32", (3, 0))
    assert empty.size == 0 and empty.is_static


@pytest.mark.parametrize("dim, match", [
    (-1, "must be >= 0"),
    (-5, "must be >= 0"),
    (True, "invalid dimension True"),
    (False, "invalid dimension False"),
    (2.0, "invalid dimension 2.0"),
    (None, "invalid dimension None"),
    ("1N", "symbol name"),
    ("", "symbol name"),
    ("N-1", "symbol name"),
    ("N M", "symbol name"),
    ("??", "symbol name"),
    (np.int64(-2), "must be >= 0"),
], ids=repr)
def test_tensor_type_rejects_bad_dims(dim, match):
    with pytest.raises(ShapeError, match=match):
        TensorType("f32", (2, dim))


def test_tensor_type_rejects_bad_dtype():
    with pytest.raises(ShapeError, match="unsupported dtype 'int8'"):
        TensorType("int8", (2,))


@pytest.mark.parametrize("dim", [0, 7, "N", "batch_1", "_x", "?", np.int32(3)], ids=repr)
def test_check_dim_accepts(dim):
    assert check_dim(dim) == dim


def test_format_shape():
    assert format_shape(()) == "()"
    assert format_shape((3,)) == "(3,)"
    assert format_shape(("N", 784)) == "(N, 784)"


# ---------------------------------------------------------------- broadcasting

@pytest.mark.parametrize("a, b, expected", [
    (3, 3, 3), (1, 3, 3), (3, 1, 3), (1, 1, 1), (0, 1, 0), (1, 0, 0), (0, 0, 0),
    (3, 4, None), (0, 3, None),
    ("N", "N", "N"), ("N", 1, "N"), (1, "N", "N"),
    ("N", 3, 3), (3, "N", 3), ("N", 0, 0),          # a symbol against n != 1 must be n
    ("N", "M", UNKNOWN), ("N", "?", UNKNOWN), ("?", "N", UNKNOWN),
    ("?", "?", UNKNOWN), ("?", 1, UNKNOWN), (1, "?", UNKNOWN), ("?", 5, 5),
], ids=lambda v: repr(v))
def test_broadcast_dims(a, b, expected):
    assert broadcast_dims(a, b) == expected
    assert broadcast_dims(b, a) == expected  # symmetric


@pytest.mark.parametrize("shapes, expected", [
    ([], ()),
    ([()], ()),
    ([(), ()], ()),
    ([(2, 3)], (2, 3)),
    ([(2, 3), (3,)], (2, 3)),
    ([(2, 1), (1, 3)], (2, 3)),
    ([(4, 1, 3), (2, 1)], (4, 2, 3)),
    ([(), (2, 3)], (2, 3)),
    ([(0, 3), (1, 3)], (0, 3)),
    ([(1,), (0,)], (0,)),
    ([("N", 3), (3,)], ("N", 3)),
    ([("N", 1), (1, "N")], ("N", "N")),
    ([("N", 3), ("N", 1)], ("N", 3)),
    ([("N",), ("M",)], ("?",)),
    ([("N",), (4,)], (4,)),
    ([("?", 3), (5, 1)], (5, 3)),
    ([("?",), ("?",)], ("?",)),
    ([(1, "N"), (2, 1), (1, 1, 1)], (1, 2, "N")),
    ([("B", 1, 3), (4, 3), (1,)], ("B", 4, 3)),
], ids=str)
def test_broadcast_shapes(shapes, expected):
    assert broadcast_shapes(*shapes) == expected


@pytest.mark.parametrize("shapes", [
    [(2, 3), (4,)],
    [(2,), (3,)],
    [(0,), (2,)],
    [(3,), ("N",), (4,)],   # N must be 3 and 4
    [(2, 1), (3, 1), (1, 1)],
], ids=str)
def test_broadcast_shapes_errors_name_every_shape(shapes):
    with pytest.raises(ShapeError, match="cannot be broadcast together") as info:
        broadcast_shapes(*shapes)
    for shape in shapes:
        assert format_shape(shape) in str(info.value)


def test_broadcast_shapes_error_names_the_op():
    with pytest.raises(ShapeError, match=r"^op 'add': shapes \(2, 3\) and \(4,\) cannot be "
                                         r"broadcast together \(dimension 3 against 4 "
                                         r"at axis -1\)"):
        broadcast_shapes((2, 3), (4,), op="add")


# ---------------------------------------------------------------- refines

@pytest.mark.parametrize("recorded, inferred, expected", [
    ("f32[2,3]", "f32[2,3]", True),
    ("f32[N,3]", "f32[N,3]", True),
    ("f32[N,3]", "f32[?,3]", True),     # recorded fills in a '?'
    ("f32[4,3]", "f32[?,3]", True),
    ("f32[?,3]", "f32[?,3]", True),
    ("f32[?,3]", "f32[N,3]", False),    # recorded may not forget what infer knows
    ("f32[4,3]", "f32[N,3]", False),
    ("f32[M,3]", "f32[N,3]", False),
    ("f32[2,3]", "f32[3,2]", False),
    ("f64[2,3]", "f32[2,3]", False),
    ("f32[2,3,1]", "f32[2,3]", False),
    ("f32[]", "f32[]", True),
    ("i64[]", "f32[]", False),
], ids=lambda v: str(v))
def test_refines(recorded, inferred, expected):
    from .op_cases import t
    assert refines(t(recorded), t(inferred)) is expected


# ---------------------------------------------------------------- axes

@pytest.mark.parametrize("axis, rank, expected", [
    (0, 1, 0), (-1, 1, 0), (2, 3, 2), (-3, 3, 0), (-1, 4, 3), (1, 2, 1),
])
def test_normalize_axis(axis, rank, expected):
    assert normalize_axis(axis, rank) == expected


@pytest.mark.parametrize("axis, rank, message", [
    (2, 2, "axis 2 is out of range for a tensor of rank 2 (expected -2 <= axis < 2)"),
    (-3, 2, "axis -3 is out of range for a tensor of rank 2 (expected -2 <= axis < 2)"),
    (0, 0, "axis 0 is out of range for a tensor of rank 0 (expected none: it has no axes)"),
    (-1, 0, "axis -1 is out of range for a tensor of rank 0 (expected none: it has no axes)"),
])
def test_normalize_axis_errors(axis, rank, message):
    with pytest.raises(ShapeError) as info:
        normalize_axis(axis, rank)
    assert str(info.value) == message


def test_normalize_axis_error_names_what_and_op():
    with pytest.raises(ShapeError, match=r"^op 'transpose': perm 5 is out of range .*"
                                         r"\(expected -2 <= perm < 2\)"):
        normalize_axis(5, 2, "perm", op="transpose")


def test_normalize_axes():
    assert normalize_axes([], 3) == ()
    assert normalize_axes([0, -1], 3) == (0, 2)
    assert normalize_axes((-1, 0, 1), 3) == (2, 0, 1)  # order is kept


def test_normalize_axes_errors():
    with pytest.raises(ShapeError, match=r"^axes \[0, -3\] repeat axis -3$"):
        normalize_axes([0, -3], 3)
    with pytest.raises(ShapeError, match=r"^op 'sum': axes \[1, 1\] repeat axis 1$"):
        normalize_axes([1, 1], 3, op="sum")
    # the singular of "axes" is "axis" (this message used to say "axe 3")
    with pytest.raises(ShapeError,
                       match=r"^axis 3 is out of range .* \(expected -3 <= axis < 3\)$"):
        normalize_axes([0, 3], 3)
    with pytest.raises(ShapeError, match=r"^perm 2 is out of range"):
        normalize_axes([2], 2, "perm")


def test_product():
    assert product([]) == 1
    assert product([2, 3, 4]) == 24
    assert product([2, 0]) == 0
    assert product([2, "N"]) == UNKNOWN
    assert product(["?"]) == UNKNOWN
