"""The op registry: every op has its rules, and ``infer`` agrees with ``reference``.

(a) every registered op (except ``call``) has cases in ``op_cases.CASES`` and
    its infer/reference/fusion/category/doc; the differentiable set is pinned;
(b) on every case, ``infer_types`` gives exactly the shape and dtype that
    ``evaluate`` produces;
(c) invalid inputs are rejected with ShapeError/AttrError naming the op;
(d) symbolic dims (``N``, ``?``) give the documented results, and those
    results are sound: instantiating the symbols and running the reference
    gives a matching shape.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import graphc
from graphc.errors import AttrError, ShapeError
from graphc.ir import CALL, FusionKind, TensorType, all_ops, get_op
from graphc.ir.attrs import TensorValue

from .op_cases import (ACCEPTED, ALL, BINARY, CASES, COMPARE, DIFFERENTIABLE, NUMERIC, UNARY, Case,
                      arrays_for, dtype_probe, t)

OPS = [op for op in all_ops() if op.name != CALL]
OP_NAMES = [op.name for op in OPS]


# ---------------------------------------------------------------- (a) rules

def test_registry_is_not_empty_and_names_are_unique():
    names = [op.name for op in all_ops()]
    assert len(names) == len(set(names))
    assert CALL in names and len(OPS) >= 40


@pytest.mark.parametrize("name", OP_NAMES)
def test_every_op_has_cases(name):
    assert any(c.op == name for c in CASES), \
        f"op '{name}' has no type-inference case in tests/ir/op_cases.py; add some"


def test_cases_name_only_registered_ops():
    unknown = {c.op for c in CASES} - set(OP_NAMES)
    assert not unknown


@pytest.mark.parametrize("name", OP_NAMES)
def test_every_op_has_its_rules(name):
    op = get_op(name)
    assert callable(op.infer) and callable(op.reference)
    assert isinstance(op.fusion, FusionKind)
    assert isinstance(op.category, str) and op.category and op.category != "misc"
    assert isinstance(op.doc, str) and op.doc.strip()
    assert op.num_outputs == 1
    assert op.is_pure
    assert op.vjp is None or callable(op.vjp)  # vjp rules come later
    # the attribute schema is printable (used by `graphc ops`)
    assert op.signature().startswith(name + "(")


def test_differentiable_ops_are_listed():
    found = {op.name for op in OPS if op.differentiable}
    assert found == DIFFERENTIABLE, (
        f"newly differentiable: {sorted(found - DIFFERENTIABLE)}; "
        f"no longer differentiable: {sorted(DIFFERENTIABLE - found)}")


def test_fusion_kinds():
    kinds = {op.name: op.fusion for op in OPS}
    for name in ("neg", "exp", "gelu", "cast"):
        assert kinds[name] is FusionKind.ELEMENTWISE
    for name in ("add", "where", "eq", "pow"):
        assert kinds[name] is FusionKind.BROADCAST
    for name in ("sum", "argmax", "softmax", "log_softmax"):
        assert kinds[name] is FusionKind.REDUCE
    for name in ("reshape", "gather", "slice", "concat"):
        assert kinds[name] is FusionKind.INJECTIVE
    assert kinds["matmul"] is FusionKind.OUT_FUSABLE
    assert kinds["constant"] is FusionKind.OPAQUE
    assert get_op(CALL).fusion is FusionKind.OPAQUE


def test_commutative_traits():
    commutative = {op.name for op in OPS if op.is_commutative}
    assert commutative == {"add", "mul", "maximum", "minimum", "eq", "ne"}


@pytest.mark.parametrize("name", OP_NAMES)
def test_cases_cover_every_accepted_dtype(name):
    """The table exercises each dtype the op accepts on its checked input."""
    position = 1 if name in ("where", "random_uniform") else 0
    seen = set()
    for c in CASES:
        if c.op != name:
            continue
        if name == "constant":
            seen.add(c.attrs["value"].dtype.short)
        else:
            seen.add(c.inputs[position].dtype.short)
    assert set(ACCEPTED[name]) <= seen


@pytest.mark.parametrize("dtype", ALL)
@pytest.mark.parametrize("name", OP_NAMES)
def test_dtype_rules(name, dtype):
    """infer accepts exactly the documented dtypes; others fail naming the op."""
    op = get_op(name)
    types, attrs = dtype_probe(name, dtype)
    if dtype in ACCEPTED[name]:
        (out,) = op.infer_types(types, op.make_attrs(attrs))
        if name in ("eq", "ne", "lt", "le", "gt", "ge"):
            assert out.dtype.short == "bool"
        elif name in ("cast", "random_uniform"):
            assert out.dtype.short == "f32"
        elif name == "argmax":
            assert out.dtype.short == "i64"
        else:
            assert out.dtype.short == dtype
    else:
        with pytest.raises(ShapeError, match=f"op '{name}' expects .* {dtype}\\["):
            op.infer_types(types, op.make_attrs(attrs))


@pytest.mark.parametrize("dtype", ALL)
def test_gather_indices_must_be_int(dtype):
    op = get_op("gather")
    types = [TensorType("f32", (4,)), TensorType(dtype, (2,))]
    if dtype in ("i32", "i64"):
        assert op.infer_types(types, op.make_attrs({}))[0] == t("f32[2]")
    else:
        with pytest.raises(ShapeError, match="op 'gather' expects indices"):
            op.infer_types(types, op.make_attrs({}))


@pytest.mark.parametrize("dtype", ALL)
def test_where_condition_must_be_bool(dtype):
    op = get_op("where")
    types = [TensorType(dtype, (2,)), t("f32[2]"), t("f32[2]")]
    if dtype == "bool":
        assert op.infer_types(types, op.make_attrs({}))[0] == t("f32[2]")
    else:
        with pytest.raises(ShapeError, match="op 'where' expects a condition"):
            op.infer_types(types, op.make_attrs({}))


# ---------------------------------------------------------------- (b) infer == reference

@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_infer_agrees_with_reference(c: Case):
    op = get_op(c.op)
    attrs = op.make_attrs(c.attrs)
    (inferred,) = op.infer_types(list(c.inputs), attrs)
    assert inferred.is_static
    rng = np.random.default_rng(0)
    arrays = arrays_for(c, rng)
    for array, ty in zip(arrays, c.inputs):
        assert array.dtype == ty.dtype.numpy and array.shape == ty.shape
    (result,) = op.evaluate(arrays, attrs)
    assert isinstance(result, np.ndarray)
    assert result.dtype == inferred.dtype.numpy, f"{c.id}: reference gave {result.dtype}"
    assert result.shape == inferred.shape, f"{c.id}: reference gave {result.shape}"


def test_case_table_size():
    assert len(CASES) >= 400


# ---------------------------------------------------------------- (c) errors

def E(op, *inputs, error=ShapeError, match="", **attrs):  # noqa: N802
    return pytest.param(op, [t(x) for x in inputs], attrs, error, match,
                        id=f"{op}-{match or error.__name__}"[:60])


INVALID = [
    # dtypes and broadcasting
    E("add", "f32[2,3]", "f64[2,3]", match="one dtype"),
    E("add", "f32[2,3]", "f32[4]", match=r"cannot be broadcast"),
    E("add", "f32[2,3]", "f32[3,3]", match=r"cannot be broadcast"),
    E("sub", "i32[3]", "i64[3]", match="one dtype"),
    E("mul", "bool[3]", "bool[3]", match="expects operands"),
    E("div", "i32[3]", "i32[3]", match="expects operands"),
    E("pow", "i64[3]", "i64[3]", match="expects operands"),
    E("maximum", "f32[0]", "f32[2]", match=r"cannot be broadcast"),
    E("eq", "f32[3]", "i32[3]", match="one dtype"),
    E("lt", "bool[3]", "bool[3]", match="expects operands"),
    E("ge", "f32[2]", "f32[3]", match=r"cannot be broadcast"),
    E("where", "f32[3]", "f32[3]", "f32[3]", match="condition"),
    E("where", "bool[3]", "f32[3]", "f64[3]", match="one dtype"),
    E("where", "bool[2]", "f32[3]", "f32[3]", match=r"cannot be broadcast"),
    # arity
    E("add", "f32[2]", match="takes 2 input"),
    E("add", "f32[2]", "f32[2]", "f32[2]", match="takes 2 input"),
    E("neg", match="takes 1 input"),
    E("concat", match="at least 1"),
    E("constant", "f32[]", match="takes 0 input", value=TensorValue(1.0)),
    # unary dtypes and attributes
    E("exp", "i32[3]", match="insert a cast"),
    E("sign", "bool[3]", match="expects input"),
    E("gelu", "f32[3]", error=AttrError, match="approximate", approximate=1),
    E("relu", "f32[3]", error=AttrError, match="no attribute", alpha=0.1),
    E("cast", "f32[3]", error=AttrError, match="requires attribute 'dtype'"),
    E("cast", "f32[3]", error=AttrError, match="dtype", dtype="complex64"),
    E("cast", "f32[3]", error=AttrError, match="dtype", dtype="int8"),
    # reductions
    E("sum", "f32[2,3]", match="out of range", axes=[2]),
    E("sum", "f32[2,3]", match="out of range", axes=[-3]),
    E("sum", "f32[]", match="out of range", axes=[0]),
    E("sum", "f32[2,3]", match="repeat", axes=[0, -2]),
    E("sum", "bool[3]", match="expects input"),
    E("sum", "f32[3]", error=AttrError, match="no attribute 'axis'", axis=0),
    E("sum", "f32[3]", error=AttrError, match="keepdims", keepdims="yes"),
    E("mean", "i32[3]", match="expects input"),
    E("max", "f32[0,3]", match="empty", axes=[0]),
    E("max", "f32[3,0]", match="empty"),
    E("min", "f32[0]", match="empty", keepdims=True),
    E("min", "i32[2,0,3]", match="empty", axes=[-2]),
    E("argmax", "f32[]", match="out of range"),
    E("argmax", "f32[3,0]", match="empty"),
    E("argmax", "f32[3]", match="out of range", axis=1),
    E("argmax", "bool[3]", match="expects input"),
    E("argmax", "f32[3]", error=AttrError, match="no attribute", axes=[0]),
    E("softmax", "i32[3]", match="expects input"),
    E("softmax", "f32[3]", match="out of range", axis=1),
    E("log_softmax", "f32[]", match="out of range"),
    E("softmax", "f32[3]", error=AttrError, match="axis", axis=[0]),
    # matmul
    E("matmul", "f32[2,3]", "f32[4,5]", match="contracts dimension 3"),
    E("matmul", "f32[3]", "f32[4]", match="contracts"),
    E("matmul", "f32[2,3]", "f32[2]", match="contracts"),
    E("matmul", "f32[]", "f32[3]", match="rank >= 1"),
    E("matmul", "f32[2,2,3]", "f32[3,3,4]", match="cannot be broadcast"),
    E("matmul", "f32[2,3]", "f64[3,4]", match="one dtype"),
    E("matmul", "bool[2,3]", "bool[3,4]", match="expects operands"),
    # reshape
    E("reshape", "f32[2,3]", match="element counts 6 and 4", shape=[4]),
    E("reshape", "f32[2,3]", match="do not divide", shape=[4, -1]),
    E("reshape", "f32[0,3]", match="ambiguous", shape=[0, -1]),
    E("reshape", "f32[N,3]", match="element counts", shape=["N", 4]),
    E("reshape", "f32[2,3]", error=AttrError, match="requires attribute 'shape'"),
    E("reshape", "f32[2,3]", error=AttrError, match="at most one -1", shape=[-1, -1]),
    E("reshape", "f32[2,3]", error=AttrError, match="not '\\?'", shape=["?", 3]),
    E("reshape", "f32[2,3]", error=AttrError, match=">= -1", shape=[-2, 3]),
    # transpose
    E("transpose", "f32[2,3]", match="not a permutation", perm=[0]),
    E("transpose", "f32[2,3]", match="repeat", perm=[0, 0]),
    E("transpose", "f32[2,3]", match="out of range", perm=[0, 2]),
    # broadcast_to
    E("broadcast_to", "f32[2]", match="does not fit", shape=[3]),
    E("broadcast_to", "f32[2,2]", match="lower-rank", shape=[2]),
    E("broadcast_to", "f32[2]", match="-1", shape=[-1]),
    E("broadcast_to", "f32[3]", match="does not fit", shape=["N"]),
    # concat
    E("concat", "f32[2]", "f64[2]", match="one dtype"),
    E("concat", "f32[2]", "f32[2,1]", match="one rank"),
    E("concat", "f32[]", "f32[]", match="0-d"),
    E("concat", "f32[2,3]", "f32[2,4]", match="equal sizes", axis=0),
    E("concat", "f32[2,3]", "f32[2,3]", match="out of range", axis=2),
    # slice
    E("slice", "f32[5]", match="out of range", axes=[1], starts=[0], stops=[1]),
    E("slice", "f32[5]", match="one start, stop", axes=[0], starts=[0, 1], stops=[1]),
    E("slice", "f32[5]", match="one start, stop", axes=[0], starts=[0], stops=[1],
      steps=[1, 1]),
    E("slice", "f32[5]", match="step may not be 0", axes=[0], starts=[0], stops=[1],
      steps=[0]),
    E("slice", "f32[5,5]", match="repeat", axes=[0, -2], starts=[0, 0], stops=[1, 1]),
    E("slice", "f32[5]", error=AttrError, match="requires attribute", axes=[0]),
    # gather
    E("gather", "f32[5]", "f32[2]", match="expects indices"),
    E("gather", "f32[5]", "i32[2]", match="out of range", axis=1),
    E("gather", "f32[]", "i32[2]", match="out of range"),
    E("gather", "f32[0,3]", "i64[2]", match="empty"),
    # scatter_add
    E("scatter_add", "f32[5]", "f32[2]", "f32[2]", match="expects indices"),
    E("scatter_add", "f32[5]", "i64[2]", "f64[2]", match="one dtype"),
    E("scatter_add", "f32[5,3]", "i64[2]", "f32[2,4]", match="needs updates of shape"),
    E("scatter_add", "bool[5]", "i64[2]", "bool[2]", match="expects input of dtype"),
    # expand_dims
    E("expand_dims", "f32[2]", match="out of range", axes=[2]),
    E("expand_dims", "f32[2]", match="out of range", axes=[-3]),
    E("expand_dims", "f32[2]", match="repeat", axes=[0, 0]),
    E("expand_dims", "f32[2]", error=AttrError, match="requires attribute 'axes'"),
    E("expand_dims", "f32[2]", error=AttrError, match="integer", axes=[0.5]),
    # squeeze
    E("squeeze", "f32[2,3]", match="size 1", axes=[0]),
    E("squeeze", "f32[1,0]", match="size 1", axes=[1]),
    E("squeeze", "f32[1,3]", match="out of range", axes=[2]),
    E("squeeze", "f32[N,1]", match="explicit axes"),
    E("squeeze", "f32[N,1]", match="size 1", axes=[0]),
    # random_uniform
    E("random_uniform", "i32[]", "f32[2]", match="needs an i64\\[\\] key"),
    E("random_uniform", "i64[2]", "f32[2]", match="needs an i64\\[\\] key"),
    E("random_uniform", "i64[]", "f32[2]", match="received dtype f16", dtype="f16"),
    E("random_uniform", "i64[]", "f32[2]", match="expects a result dtype", dtype="i32"),
    # constant
    E("constant", error=AttrError, match="requires attribute 'value'"),
    E("constant", error=AttrError, match="tensor", value="abc"),
]
# every elementwise op: a dtype outside its class, arity, an unknown attribute;
# every binary op: mismatched dtypes and non-broadcastable shapes
for _op in UNARY:
    _bad = "bool" if ACCEPTED[_op] == NUMERIC else "i32"
    INVALID += [E(_op, f"{_bad}[2]", match="expects input"),
                E(_op, "f32[2]", "f32[2]", match="takes 1 input"),
                E(_op, "f32[2]", error=AttrError, match="no attribute 'axis'", axis=0)]
for _op in BINARY + COMPARE:
    INVALID += [E(_op, "f32[2,3]", "f64[2,3]", match="one dtype"),
                E(_op, "f32[2,3]", "f32[2]", match="cannot be broadcast"),
                E(_op, "f32[4,1,3]", "f32[2,3,2,1]", match=r"cannot be broadcast")]


@pytest.mark.parametrize("name, inputs, attrs, error, match", INVALID)
def test_invalid_inputs_are_rejected(name, inputs, attrs, error, match):
    op = get_op(name)
    with pytest.raises(error, match=match) as info:
        op.infer_types(inputs, op.make_attrs(attrs))
    assert f"op '{name}'" in str(info.value), f"message does not name the op: {info.value}"
    assert isinstance(info.value, graphc.GraphcError)


def test_every_op_has_an_error_case():
    covered = {p.values[0] for p in INVALID}
    assert set(OP_NAMES) <= covered, sorted(set(OP_NAMES) - covered)


def test_unknown_op_suggests_close_names():
    with pytest.raises(graphc.UnknownOpError, match="did you mean 'matmul'"):
        get_op("matmull")


def test_call_has_no_standalone_infer_or_reference():
    op = get_op(CALL)
    attrs = op.make_attrs({"callee": "f"})
    with pytest.raises(graphc.GraphcError, match="callee's signature"):
        op.infer(t("f32[2]"), **attrs)
    with pytest.raises(graphc.GraphcError, match="executed by the backend"):
        op.reference(np.zeros(2, np.float32), **attrs)


def test_reference_failures_are_execution_errors():
    op = get_op("gather")
    with pytest.raises(graphc.ExecutionError, match="op 'gather' failed: index 5"):
        op.evaluate([np.zeros(3, np.float32), np.array([5])], op.make_attrs({}))


# ---------------------------------------------------------------- (d) symbolic dims

def S(op, *inputs, out, envs=None, **attrs):  # noqa: N802
    """A symbolic case: ``out`` is the documented result type; ``envs`` are
    symbol bindings under which the program is valid (``?`` gets one size)."""
    ins = ",".join(inputs)
    return pytest.param(op, [t(x) for x in inputs], attrs, t(out), envs,
                        id=f"{op}({ins})->{out}")


_N = [{"N": 0, "?": 2}, {"N": 1, "?": 2}, {"N": 4, "?": 2}]

SYMBOLIC = [
    # elementwise keeps symbols; binary broadcasting with symbols (types.py)
    S("exp", "f32[N,?]", out="f32[N,?]"),
    S("cast", "f32[N,3]", out="i64[N,3]", dtype="i64"),
    S("add", "f32[N,3]", "f32[N,3]", out="f32[N,3]"),
    S("add", "f32[N,3]", "f32[3]", out="f32[N,3]"),
    S("add", "f32[N,1]", "f32[1,N]", out="f32[N,N]"),
    S("add", "f32[N]", "f32[1]", out="f32[N]"),
    S("mul", "f32[N]", "f32[3]", out="f32[3]", envs=[{"N": 1}, {"N": 3}]),
    S("sub", "f32[N]", "f32[M]", out="f32[?]", envs=[{"N": 1, "M": 4}, {"N": 3, "M": 3}]),
    S("add", "f32[?]", "f32[?]", out="f32[?]"),
    S("add", "f32[?]", "f32[N]", out="f32[?]", envs=[{"N": 2, "?": 2}, {"N": 2, "?": 1}]),
    S("eq", "i32[N,1]", "i32[5]", out="bool[N,5]"),
    S("where", "bool[N,1]", "f32[3]", "f32[]", out="f32[N,3]"),
    # reductions keep symbols on kept axes
    S("sum", "f32[N,3]", out="f32[]", axes=None),
    S("sum", "f32[N,3]", out="f32[N]", axes=[-1]),
    S("mean", "f32[N,?]", out="f32[1,?]", axes=[0], keepdims=True),
    S("max", "f32[N,3]", out="f32[N]", axes=[1], envs=[{"N": 0}, {"N": 2}]),
    S("argmax", "f32[N,3]", out="i64[N,1]", axis=1, keepdims=True),
    S("softmax", "f32[N,?]", out="f32[N,?]"),
    # matmul (linalg.py): symbol against int is accepted
    S("matmul", "f32[N,784]", "f32[784,10]", out="f32[N,10]"),
    S("matmul", "f32[N,K]", "f32[3,4]", out="f32[N,4]", envs=[{"N": 2, "K": 3}]),
    S("matmul", "f32[N,2,3]", "f32[3,4]", out="f32[N,2,4]"),
    S("matmul", "f32[B,2,3]", "f32[1,3,4]", out="f32[B,2,4]", envs=[{"B": 0}, {"B": 5}]),
    S("matmul", "f32[?]", "f32[?,4]", out="f32[4]"),
    # reshape (shape.py)
    S("reshape", "f32[N,26,26,8]", out="f32[N,5408]", shape=[-1, 5408]),
    S("reshape", "f32[N,3]", out="f32[N,3]", shape=["N", -1]),
    S("reshape", "f32[N,3,4]", out="f32[N,12]", shape=["N", -1]),
    S("reshape", "f32[N,4]", out="f32[N,2,2]", shape=["N", 2, -1]),
    S("reshape", "f32[N,3]", out="f32[?]", shape=[-1]),
    S("reshape", "f32[N,6]", out="f32[?,3]", shape=[-1, 3]),
    S("reshape", "f32[?,3]", out="f32[?,3]", shape=[-1, 3]),
    S("reshape", "f32[N,M,3]", out="f32[N,?]", shape=["N", -1],
      envs=[{"N": 0, "M": 2}, {"N": 2, "M": 0}, {"N": 3, "M": 1}]),
    S("reshape", "f32[N,M,4]", out="f32[N,M,4]", shape=["N", -1, 4],
      envs=[{"N": 0, "M": 0}, {"N": 0, "M": 3}, {"N": 2, "M": 0}, {"N": 2, "M": 3}]),
    S("reshape", "f32[N,3]", out="f32[3,N]", shape=[3, "N"]),
    S("reshape", "f32[0,N]", out="f32[0,N]", shape=[-1, "N"]),
    # transpose / broadcast_to / expand_dims / squeeze carry symbols
    S("transpose", "f32[N,?,3]", out="f32[3,?,N]"),
    S("broadcast_to", "f32[3]", out="f32[N,3]", shape=["N", 3]),
    S("broadcast_to", "f32[N,1]", out="f32[N,4]", shape=["N", 4]),
    S("expand_dims", "f32[N]", out="f32[N,1]", axes=[-1]),
    S("squeeze", "f32[N,1]", out="f32[N]", axes=[1]),
    # concat: along a symbolic axis is '?', other axes merge
    S("concat", "f32[N,3]", "f32[2,3]", out="f32[?,3]"),
    S("concat", "f32[N,3]", "f32[N,4]", out="f32[N,7]", axis=1),
    S("concat", "f32[?,3]", "f32[N,2]", out="f32[N,5]", axis=1,
      envs=[{"N": 2, "?": 2}]),
    S("concat", "f32[2,3]", "f32[2,N]", out="f32[2,?]", axis=-1),
    # slice keeps the symbol only for the whole axis
    S("slice", "f32[N,5]", out="f32[N,3]", axes=[1], starts=[1], stops=[4]),
    S("slice", "f32[N]", out="f32[N]", axes=[0], starts=[None], stops=[None]),
    S("slice", "f32[N]", out="f32[N]", axes=[0], starts=[0], stops=[None]),
    S("slice", "f32[N]", out="f32[N]", axes=[0], starts=[None], stops=[None], steps=[-1]),
    S("slice", "f32[N]", out="f32[?]", axes=[0], starts=[1], stops=[None]),
    S("slice", "f32[N]", out="f32[?]", axes=[0], starts=[0], stops=[None], steps=[2]),
    S("slice", "f32[N]", out="f32[?]", axes=[0], starts=[0], stops=[-1]),
    # gather
    S("gather", "f32[5,3]", "i32[N]", out="f32[N,3]"),
    S("gather", "f32[N,3]", "i32[2]", out="f32[N,2]", axis=1),
]


def _bind(ty: TensorType, env: dict) -> tuple[int, ...]:
    return tuple(env[d] if isinstance(d, str) else d for d in ty.shape)


@pytest.mark.parametrize("name, inputs, attrs, expected, envs", SYMBOLIC)
def test_symbolic_inference(name, inputs, attrs, expected, envs):
    op = get_op(name)
    made = op.make_attrs(attrs)
    (inferred,) = op.infer_types(inputs, made)
    assert inferred == expected
    # Soundness: bind the symbols, run the reference, and check that the
    # result matches the inferred type the way the interpreter checks it.
    rng = np.random.default_rng(1)
    for env in envs or _N:
        concrete = [TensorType(x.dtype, _bind(x, env)) for x in inputs]
        c = Case(name, tuple(concrete), dict(made))
        resolved = dict(made)
        if "shape" in resolved:
            resolved["shape"] = tuple(env[d] if isinstance(d, str) else d
                                      for d in resolved["shape"])
        (result,) = op.evaluate(arrays_for(c, rng), resolved)
        assert result.dtype == inferred.dtype.numpy
        assert result.ndim == inferred.rank
        for dim, size in zip(inferred.shape, result.shape):
            if dim != "?":
                assert (env[dim] if isinstance(dim, str) else dim) == size, (env, result.shape)


def test_symbolic_reshape_into_new_symbol_is_unknown():
    op = get_op("reshape")
    (out,) = op.infer_types([t("f32[6]")], op.make_attrs({"shape": ["N", -1]}))
    assert out == t("f32[N,?]")


def test_symbolic_matmul_contraction_symbols():
    """linalg.py: two different ints are an error, a symbol against an int is not."""
    op = get_op("matmul")
    attrs = op.make_attrs({})
    assert op.infer_types([t("f32[2,K]"), t("f32[J,4]")], attrs) == (t("f32[2,4]"),)
    with pytest.raises(ShapeError, match=re.escape("(2, 3)")):
        op.infer_types([t("f32[2,3]"), t("f32[4,N]")], attrs)
