"""``Model.to_ir()``: one verified public function, inputs then weights as
parameters, nested models inlined, and every node's ``loc`` naming the layer
path and the line that created the layer."""

from __future__ import annotations

import inspect

import numpy as np

import graphc
from graphc import layers
from graphc.ir import parse_module, print_module, verify
from graphc.ir.loc import Loc

THIS_FILE = "test_to_ir.py"


def line() -> int:
    return inspect.currentframe().f_back.f_lineno


def test_mlp_ir_text():
    model = graphc.Sequential([graphc.Input((784,), name="x"), layers.Dense(10, name="d")],
                              name="mlp")
    text = print_module(model.to_ir())
    assert text.splitlines()[0] == ("func @mlp(%x: f32[N,784], %d_kernel: f32[784,10], "
                                    "%d_bias: f32[10]) -> (f32[N,10]) {")
    assert "%0: f32[N,10] = matmul(%x, %d_kernel) loc(\"mlp/d\"" in text
    assert "%d: f32[N,10] = add(%0, %d_bias)" in text
    assert text.rstrip().endswith("return %d\n}".rstrip())


def test_locs_name_layer_paths_and_creation_lines():
    block_line = line() + 1
    block = graphc.Sequential([layers.Dense(4, name="dense_2")], name="block1")
    x = graphc.Input((3,), name="x")
    head_line = line() + 1
    head = layers.Dense(2, name="head")
    model = graphc.Model(x, head(block(x)), name="outer")
    module = verify(model.to_ir())
    func = module.entry
    assert func.name == "outer" and len(module.funcs) == 1
    locs = {node.loc.path: node.loc for node in func.nodes}
    assert set(locs) == {"outer/block1/dense_2", "outer/head"}
    inner = locs["outer/block1/dense_2"]
    assert inner.file.endswith(THIS_FILE) and inner.line == block_line
    assert locs["outer/head"].line == head_line
    assert [p.name for p in func.params] == ["x", "block1/dense_2/kernel", "block1/dense_2/bias",
                                             "head/kernel", "head/bias"]


def test_params_follow_keras_weight_order_and_shared_weights_appear_once():
    a, b = graphc.Input((4,), name="a"), graphc.Input((4,), name="b")
    shared = layers.Dense(3, name="shared")
    model = graphc.Model([a, b], layers.Add(name="sum")([shared(a), shared(b)]), name="siamese")
    func = model.to_ir().entry
    assert [p.name for p in func.params] == ["a", "b", "shared/kernel", "shared/bias"]
    kernel = func.params[2]
    matmuls = [n for n in func.nodes if n.op.name == "matmul"]
    assert len(matmuls) == 2 and all(n.inputs[1] is kernel for n in matmuls)
    assert [w.path for w in model.weights] == ["shared/kernel", "shared/bias"]


def test_ir_round_trips_through_the_text_format():
    x = graphc.Input((6,), name="x")
    y = layers.LayerNormalization(name="ln")(layers.Dense(6, activation="gelu", name="d")(x))
    model = graphc.Model(x, [y, graphc.ops.softmax(y[:, :3])], name="rt")
    text = print_module(model.to_ir())
    assert print_module(parse_module(text)) == text


def test_op_nodes_have_their_own_path_and_call_line():
    x = graphc.Input((3,), name="x")
    op_line = line() + 1
    y = x * 2.0
    func = graphc.Model(x, y, name="scale").to_ir().entry
    assert {n.loc for n in func.nodes} == {Loc("scale/multiply", func.nodes[0].loc.file, op_line)}
    assert [n.op.name for n in func.nodes] == ["constant", "mul"]


def test_ir_runs_on_the_interpreter_with_the_model_weights(rng):
    model = graphc.Sequential([graphc.Input((5,)), layers.Dense(3, activation="relu"),
                               layers.Dense(2)])
    executable = graphc.compile(model.to_ir())
    x = rng.normal(size=(4, 5)).astype(np.float32)
    (out,) = executable(x, *model.get_weights())
    np.testing.assert_allclose(out, model.predict(x), rtol=1e-6)


def test_function_names_are_sanitized():
    x = graphc.Input((1,))
    func = graphc.Model(x, x + 1, name="9-lives").to_ir().entry
    assert func.name == "m_9_lives"
