"""API-level behaviour of infer-shapes, fold-constants, cse and dce beyond
the golden files: contexts, clones, object identity and error cases."""

from __future__ import annotations

import numpy as np
import pytest

from graphc.errors import GraphcError, PassError
from graphc.ir import Module, TensorType
from graphc.passes import PassContext, run_pipeline

from .util import assert_same_results, op_names, parse, run

CALLS = """\
func @main(%x: f32[N,2], %y: f32[M,2]) -> (f32[N,2], f32[M,2]) {
  %0: f32[N,2] = call @k(%x)
  %1: f32[M,2] = call @k2(%y)
  return %0, %1
}

func private @k(%a: f32[N,2]) -> (f32[N,2]) attributes {primitive = true} {
  %0: f32[N,2] = exp(%a)
  return %0
}

func private @k2(%a: f32[M,2]) -> (f32[M,2]) attributes {primitive = true} {
  %0: f32[M,2] = neg(%a)
  return %0
}
"""


def test_context_bindings_specialize_and_keep_results():
    module = parse(CALLS)
    out = run_pipeline(module, "infer-shapes", PassContext(bindings={"N": 4, "M": 1}))
    assert out.entry.param_types == (TensorType("f32", (4, 2)), TensorType("f32", (1, 2)))
    assert out["k"].param_types == (TensorType("f32", (4, 2)),)
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((4, 2)).astype(np.float32),
              rng.standard_normal((1, 2)).astype(np.float32)]
    assert_same_results(module, out, arrays)


def test_option_and_context_must_agree():
    module = parse(CALLS)
    same = run_pipeline(module, "infer-shapes{bind=N:4}", PassContext(bindings={"N": 4}))
    assert same.entry.param_types[0] == TensorType("f32", (4, 2))
    with pytest.raises(PassError, match="bound to 5 by the pass option and to 4"):
        run_pipeline(module, "infer-shapes{bind=N:5}", PassContext(bindings={"N": 4}))


def test_a_callee_reached_with_two_signatures_is_cloned():
    # @main is bound (N=3); the private, uncalled @helper keeps its own N, so
    # @k is reached with f32[3,2] and with f32[N,2]: the second gets a clone.
    module = parse("""\
func @main(%x: f32[N,2]) -> (f32[N,2]) {
  %0: f32[N,2] = call @k(%x)
  return %0
}

func private @helper(%z: f32[N,2]) -> (f32[N,2]) {
  %0: f32[N,2] = call @k(%z)
  return %0
}

func private @k(%a: f32[N,2]) -> (f32[N,2]) {
  %0: f32[N,2] = exp(%a)
  return %0
}
""")
    out = run_pipeline(module, "infer-shapes{bind=N:3}")
    assert [f.name for f in out.funcs] == ["main", "helper", "k", "k_1"]
    assert out["k"].param_types == (TensorType("f32", (3, 2)),)
    assert out["k_1"].param_types == (TensorType("f32", ("N", 2)),)
    assert out["helper"].nodes[0].attrs["callee"] == "k_1"
    assert out["main"].nodes[0].attrs["callee"] == "k"


def test_recursion_through_calls_is_an_error():
    # the verifier refuses it when the text is read (invariant 5); infer-shapes
    # keeps its own check for modules built without verification
    source = """\
func @a(%x: f32[2]) -> (f32[2]) {
  %0: f32[2] = call @b(%x)
  return %0
}

func private @b(%x: f32[2]) -> (f32[2]) {
  %0: f32[2] = call @a(%x)
  return %0
}
"""
    with pytest.raises(GraphcError, match="recursion is not supported"):
        parse(source)
    a_calls_b = parse(source.replace("call @a", "neg")).funcs[0]
    b_calls_a = parse(source.replace("call @b", "neg")).funcs[1]
    looping = Module([a_calls_b, b_calls_a])
    with pytest.raises(PassError, match="recursion is not supported"):
        run_pipeline(looping, "infer-shapes", PassContext(verify_each=False))


def test_uncalled_private_functions_are_reinferred_on_their_own():
    text = """\
func @main(%x: f32[N]) -> (f32[N]) {
  return %x
}

func private @lonely(%a: f32[N,4]) -> (f32[?,2]) {
  %0: f32[?,2] = reshape(%a) {shape = [-1, 2]}
  return %0
}
"""
    module = parse(text)
    assert run_pipeline(module, "infer-shapes") is module
    out = run_pipeline(module, "infer-shapes{bind=N:5}")
    assert out["lonely"] is module["lonely"]  # its N is its own symbol


def test_fold_keeps_the_value_objects_users_read():
    module = parse("""\
func @f(%x: f32[2]) -> (f32[2]) {
  %a: f32[2] = constant() {value = [1.0, 2.0]}
  %0: f32[2] = exp(%a)
  %1: f32[2] = add(%x, %0)
  return %1
}
""")
    out = run_pipeline(module, "fold-constants")
    before, after = module.entry.nodes[1], out.entry.nodes[1]
    assert after.op.name == "constant" and after.outputs == before.outputs
    np.testing.assert_array_equal(after.attrs["value"].array,
                                  np.exp(np.array([1.0, 2.0], np.float32)))
    assert run_pipeline(out, "fold-constants") is out


def test_cse_merges_equal_calls_and_keeps_different_ones():
    module = parse("""\
func @main(%x: f32[3], %y: f32[3]) -> (f32[3], f32[3], f32[3]) {
  %0: f32[3] = call @k(%x)
  %1: f32[3] = call @k(%x)
  %2: f32[3] = call @k(%y)
  return %0, %1, %2
}

func private @k(%a: f32[3]) -> (f32[3]) {
  %0: f32[3] = exp(%a)
  return %0
}
""")
    out = run_pipeline(module, "cse")
    assert op_names(out.entry) == ["call", "call"]
    assert out.entry.results[0] is out.entry.results[1]
    assert_same_results(module, out)


def test_dce_keeps_a_module_without_public_functions():
    module = parse("""\
func private @k(%a: f32[3]) -> (f32[3]) {
  %0: f32[3] = exp(%a)
  %1: f32[3] = neg(%a)
  return %0
}
""")
    out = run_pipeline(module, "dce")
    assert [f.name for f in out.funcs] == ["k"] and op_names(out["k"]) == ["exp"]


def test_passes_accept_empty_functions():
    module = parse("func @f() -> () {\n  return\n}\n")
    assert run_pipeline(module, "default") is module


def test_results_can_be_parameters_after_canonicalize():
    module = parse("""\
func @f(%x: i32[]) -> (i32[]) {
  %z: i32[] = constant() {value = 0}
  %0: i32[] = add(%x, %z)
  return %0
}
""")
    out = run_pipeline(module, "default")
    assert out.entry.results == out.entry.params
    assert run(out, [np.int32(7)])[0] == 7
    assert isinstance(out, Module)
