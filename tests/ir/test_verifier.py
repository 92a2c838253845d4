"""The verifier: each numbered invariant is violated once by hand-built IR,
and the error names the invariant, the node, its loc and a window of IR."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import graphc.ir as ir
from graphc.errors import AttrError, ShapeError, VerifyError
from graphc.ir import Builder, Func, Loc, Module, Node, TensorType, Value
from graphc.ir.attrs import Attrs


def small_func(name="f"):
    b = Builder(name)
    x = b.param(TensorType("f32", ("N", 3)), "x")
    y = b.emit("neg", x, loc=Loc("layer/neg", "model.py", 7))
    z = b.emit("exp", y)
    return b.finish(z)


def expect(invariant: int, ir_obj, *fragments: str) -> VerifyError:
    with pytest.raises(VerifyError) as info:
        ir.verify(ir_obj)
    err = info.value
    assert err.invariant == invariant, str(err)
    text = str(err)
    assert f"verifier invariant {invariant}" in text
    for fragment in fragments:
        assert fragment in text, text
    return err


def test_valid_ir_passes():
    func = small_func()
    assert ir.verify(Module([func])) is not None


def test_1_use_before_definition():
    func = small_func()
    swapped = func.replace(nodes=tuple(reversed(func.nodes)))
    err = expect(1, swapped, "used before it is defined", ">>")
    assert err.node is swapped.nodes[0]


def test_1_value_defined_twice():
    func = small_func()
    neg = func.nodes[0]
    dup = Node(neg.op, neg.inputs, neg.attrs, neg.outputs, None)
    expect(1, func.replace(nodes=(neg, dup) + func.nodes[1:]), "defined twice")


def test_2_result_not_defined():
    func = small_func()
    stray = Value(TensorType("f32", ("N", 3)), "stray")
    expect(2, func.replace(results=(stray,)), "result 0")


def test_3_wrong_arity_and_bad_attrs():
    func = small_func()
    neg = func.nodes[0]
    two_inputs = neg.replace(inputs=neg.inputs * 2)
    expect(3, func.replace(nodes=(two_inputs,) + func.nodes[1:]), "takes 1 input(s), received 2")
    with_attr = neg.replace(attrs=Attrs({"axis": 1}))
    expect(3, func.replace(nodes=(with_attr,) + func.nodes[1:]), "has no attribute 'axis'")


def test_4_recorded_type_differs_from_inferred():
    func = small_func()
    neg = func.nodes[0]
    wrong = Value(TensorType("f32", ("N", 4)), "y")
    bad = neg.replace(outputs=(wrong,))
    exp = func.nodes[1].replace(inputs=(wrong,))
    err = expect(4, func.replace(nodes=(bad, exp), results=exp.outputs),
                 "recorded as f32[N,4]", "expected type f32[N,3]",
                 "from source: layer/neg (model.py:7)", "in node: %y: f32[N,4] = neg(%x)")
    assert err.node is bad


def test_4_question_mark_may_be_refined():
    b = Builder("f")
    x = b.param(TensorType("f32", ("N", 3)), "x")
    y = b.emit("slice", x, axes=(0,), starts=(1,), stops=(None,))
    assert y.type.shape == ("?", 3)
    func = b.finish(y)
    refined = Value(TensorType("f32", ("N", 3)))
    node = func.nodes[0].replace(outputs=(refined,))
    ir.verify(func.replace(nodes=(node,), results=(refined,)))


def _caller_and_kernel():
    kb = Builder("k", private=True, primitive=True)
    p = kb.param(TensorType("f32", (2,)), "p")
    kernel = kb.finish(kb.emit("neg", p))
    b = Builder("main")
    x = b.param(TensorType("f32", (2,)), "x")
    (out,) = b.call(kernel, x)
    return b.finish(out), kernel


def test_5_call_to_missing_function_and_signature_mismatch():
    main, kernel = _caller_and_kernel()
    expect(5, Module([main]), "undefined function @k")
    other = kernel.replace(params=(Value(TensorType("f64", (2,)), "p"),))
    expect(5, Module([main, other]), "passes (f32[2])", "takes (f64[2])")
    renamed = main.replace(name="k", nodes=main.nodes)
    expect(5, Module([renamed]), "calls itself")


def test_6_primitive_function_with_call():
    main, kernel = _caller_and_kernel()
    as_primitive = main.replace(primitive=True)
    expect(6, Module([as_primitive, kernel]), "non-fusible op 'call'")


def test_7_unbound_symbol_in_shape_attribute():
    b = Builder("f")
    x = b.param(TensorType("f32", (6,)), "x")
    b.emit("reshape", x, shape=(2, 3))
    func = b.finish()
    node = func.nodes[0]
    bad = node.replace(attrs=node.attrs.replace(shape=("M", 3)),
                       outputs=(Value(TensorType("f32", ("M", 3))),))
    expect(7, func.replace(nodes=(bad,)), "symbol(s) M")


def test_8_duplicate_function_names():
    expect(8, Module([small_func("f"), small_func("f")]), "@f is defined twice")


def test_window_is_bounded_for_long_functions():
    b = Builder("long")
    v = b.param(TensorType("f32", (2,)), "x")
    for _ in range(200):
        v = b.emit("neg", v)
    func = b.finish(v)
    middle = func.nodes[100]
    wrong = Value(TensorType("f32", (3,)))
    nodes = list(func.nodes)
    nodes[100] = middle.replace(outputs=(wrong,))
    nodes[101] = nodes[101].replace(inputs=(wrong,))
    err = expect(4, func.replace(nodes=tuple(nodes)))
    assert len(str(err).splitlines()) < 30


def test_opdef_identity_is_checked():
    func = small_func()
    neg = func.nodes[0]
    fake_op = dataclasses.replace(neg.op)
    expect(3, func.replace(nodes=(neg.replace(op=fake_op),) + func.nodes[1:]),
           "not the registered one")


def test_builder_rejects_what_the_verifier_would():
    b = Builder("f")
    x = b.param(TensorType("f32", (2, 3)), "x")
    y = b.param(TensorType("f64", (3,)), "y")
    with pytest.raises(ShapeError, match="one dtype"):
        b.emit("add", x, y)
    with pytest.raises(AttrError, match="dtype"):
        b.emit("constant", value=np.zeros(2, np.complex64))
