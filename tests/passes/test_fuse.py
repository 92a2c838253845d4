"""fuse: the acceptance cases (MLP and branching graphs), the kernel
contract, locations, the report, options and idempotence."""

from __future__ import annotations

import pytest

import graphc
from graphc.ir import FusionKind, Module, fuse_locs
from graphc.passes import PassContext, run_pipeline

from .util import (assert_kernel_contract, assert_same_results, branching, calls_in, kernels_of,
                   mlp, op_names, random_inputs)


def optimize(module: Module, pipeline: str = "default") -> tuple[Module, PassContext]:
    ctx = PassContext()
    return run_pipeline(module, pipeline, ctx), ctx


@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu", "sigmoid"])
def test_mlp_gives_one_kernel_per_dense_layer_plus_softmax(activation):
    module = mlp(widths=(20, 16, 12, 8, 4), activation=activation)
    out, _ = optimize(module)
    entry = out.entry
    assert op_names(entry) == ["call"] * 5
    kernels = [out[name] for name in calls_in(entry)]
    for kernel in kernels[:3]:
        assert op_names(kernel) == ["matmul", "add", activation]
    assert op_names(kernels[3]) == ["matmul", "add"]
    assert op_names(kernels[4]) == ["softmax"]
    for kernel in kernels:
        assert_kernel_contract(kernel)
    assert_same_results(module, out, random_inputs(module, dims={"N": 5}))


def test_branching_graph_gives_one_kernel_per_matmul_plus_softmax():
    module = branching()
    out, _ = optimize(module)
    kernels = [out[name] for name in calls_in(out.entry)]
    matmuls = [sum(n.op.name == "matmul" for n in k.nodes) for k in kernels]
    assert matmuls == [1, 1, 1, 1, 0]
    assert op_names(kernels[-1]) == ["softmax"]
    for kernel in kernels:
        assert_kernel_contract(kernel)
        if "matmul" in op_names(kernel):
            assert op_names(kernel)[:2] == ["matmul", "add"]
    assert_same_results(module, out, random_inputs(module, dims={"N": 4}))


def test_sequential_model_from_the_front_end():
    if not hasattr(graphc, "Sequential"):
        pytest.skip("the Keras-style front end is not available")
    model = graphc.Sequential([graphc.Input((12,)),
                               graphc.layers.Dense(8, activation="relu"),
                               graphc.layers.Dense(6, activation="tanh"),
                               graphc.layers.Dense(3, activation="softmax")])
    module = model.to_ir()
    out, _ = optimize(module)
    kernels = [out[name] for name in calls_in(out.entry)]
    assert [op_names(k) for k in kernels] == [["matmul", "add", "relu"],
                                             ["matmul", "add", "tanh"],
                                             ["matmul", "add"], ["softmax"]]
    assert_same_results(module, out, random_inputs(module, dims={"N": 2}))


def test_call_loc_is_the_union_of_the_kernel_locs():
    out, _ = optimize(branching())
    for call in out.entry.nodes:
        kernel = out[call.attrs["callee"]]
        assert call.loc == fuse_locs(n.loc for n in kernel.nodes if n.op.name != "constant")
    merged = [c.loc for c in out.entry.nodes if c.loc is not None and len(c.loc.parts) > 1]
    assert [p.path for p in merged[0].parts] == ["model/dense_c", "model/add"]


def test_report_lists_kernels_layers_and_reasons():
    _, ctx = optimize(mlp())
    (report,) = ctx.reports["fuse"]
    assert report.func == "mlp"
    assert [k.ops for k in report.kernels] == [("matmul", "add", "relu"),
                                              ("matmul", "add", "relu"),
                                              ("matmul", "add"), ("softmax",)]
    assert report.kernels[1].layers == ("model/dense_1 (model.py:11)",)
    assert any("reads its operands from memory" in line for line in report.kernels[1].kept_apart)
    assert "softmax" in report.kernels[3].kept_apart[0]
    assert report.format().startswith("fusion report for @mlp: 4 kernels")


def test_fuse_is_idempotent_and_leaves_kernels_alone():
    once, _ = optimize(mlp(), "fuse")
    assert run_pipeline(once, "fuse") is once
    assert run_pipeline(once, "simplify") is once


def test_max_ops_bounds_kernel_size():
    out, _ = optimize(mlp(), "fuse{max-ops=1}")
    assert all(len(k.nodes) == 1 for k in kernels_of(out))
    assert len(kernels_of(out)) == len(mlp().entry.nodes)


def test_max_inline_constant_zero_passes_constants_as_arguments():
    text = """\
func @f(%x: f32[3]) -> (f32[3]) {
  %c: f32[] = constant() {value = 3.0}
  %0: f32[3] = mul(%x, %c)
  return %0
}
"""
    from .util import parse
    copied, _ = optimize(parse(text), "fuse")
    passed, _ = optimize(parse(text), "fuse{max-inline-constant=0}")
    assert op_names(copied.entry) == ["call"] and op_names(copied["fused_0"]) == ["constant", "mul"]
    assert op_names(passed.entry) == ["constant", "call"]
    assert op_names(passed["fused_0"]) == ["mul"]


def test_every_fusible_node_ends_in_a_kernel():
    out, _ = optimize(branching(), "fuse")
    for node in out.entry.nodes:
        assert node.op.name == "call" or node.op.fusion is FusionKind.OPAQUE


def test_kernel_names_skip_names_in_use():
    from .util import parse
    text = """\
func @fused_0(%x: f32[3]) -> (f32[3]) {
  %0: f32[3] = exp(%x)
  return %0
}
"""
    out, _ = optimize(parse(text), "fuse")
    assert [f.name for f in out.funcs] == ["fused_0", "fused_1"]


def test_no_kernel_cycle_through_a_third_kernel():
    """Regression: %z may not join the kernel of %r1 -- %r0's kernel reads that kernel
    (%b) and also computes %w, which %z reads -- even though no single node path
    leads from the first kernel back to %z (found in an Adam train step)."""
    text = """func @f(%x: f32[N,4], %s: f32[], %v: f32[1]) -> (f32[4], f32[N,1]) {
  %t: f32[] = mul(%s, %s)
  %w: f32[1] = mul(%t, %v)
  %a: f32[N,4] = exp(%x)
  %r1: f32[N,1] = sum(%a) {axes = [1], keepdims = true}
  %b: f32[N,4] = mul(%a, %r1)
  %r0: f32[4] = sum(%b) {axes = [0], keepdims = false}
  %u: f32[4] = mul(%r0, %t)
  %z: f32[N,1] = mul(%r1, %w)
  return %u, %z
}
"""
    module = graphc.ir.parse_module(text)
    out, _ = optimize(module, "fuse")
    for name in calls_in(out.entry):
        assert_kernel_contract(out[name])
    assert_same_results(module, out, random_inputs(module, dims={"N": 3}))
