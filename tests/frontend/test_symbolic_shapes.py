"""Symbolic shapes and dtypes at definition time (no numbers are computed here).

Every layer and op is called on symbolic tensors; the expected result types
are written out by hand (IR form: ``N`` is the batch symbol, ``?`` unknown).
"""

from __future__ import annotations

import numpy as np
import pytest

import graphc
from graphc import layers, ops


def ir_type(t):
    return str(t.type)


def test_input_types_and_keras_shapes():
    x = graphc.Input(shape=(784,))
    assert ir_type(x) == "f32[N,784]" and x.shape == (None, 784) and x.dtype == "float32"
    assert ir_type(graphc.Input((3,), batch_size=8)) == "f32[8,3]"
    assert ir_type(graphc.Input((None, 8), dtype="int32")) == "i32[N,?,8]"
    assert ir_type(graphc.Input(5)) == "f32[N,5]"
    assert ir_type(graphc.Input(batch_shape=(None, 2, 3))) == "f32[N,2,3]"
    assert x.name == "input_layer" and graphc.Input((1,)).name == "input_layer_5"


@pytest.mark.parametrize("make, shape, expected", [
    (lambda: layers.Dense(4), (3,), "f32[N,4]"),
    (lambda: layers.Dense(4), (7, 3), "f32[N,7,4]"),
    (lambda: layers.Dense(4), (None, 3), "f32[N,?,4]"),
    (lambda: layers.Activation("gelu"), (3,), "f32[N,3]"),
    (lambda: layers.Dropout(0.5), (3, 2), "f32[N,3,2]"),
    (lambda: layers.Flatten(), (26, 26, 8), "f32[N,5408]"),
    (lambda: layers.Flatten(), (), "f32[N,1]"),
    (lambda: layers.Flatten(), (None, 4), "f32[N,?]"),
    (lambda: layers.Reshape((3, 4)), (12,), "f32[N,3,4]"),
    (lambda: layers.Reshape((-1, 4)), (2, 6), "f32[N,3,4]"),
    (lambda: layers.Permute((2, 1)), (3, 4), "f32[N,4,3]"),
    (lambda: layers.Permute((3, 1, 2)), (2, 3, 4), "f32[N,4,2,3]"),
    (lambda: layers.RepeatVector(3), (5,), "f32[N,3,5]"),
    (lambda: layers.LayerNormalization(), (6, 5), "f32[N,6,5]"),
    (lambda: layers.LayerNormalization(axis=[1, 2]), (6, 5), "f32[N,6,5]"),
    (lambda: layers.Embedding(100, 16), (10,), "f32[N,10,16]"),
])
def test_single_input_layers(make, shape, expected):
    assert ir_type(make()(graphc.Input(shape))) == expected


@pytest.mark.parametrize("cls", [layers.Add, layers.Multiply, layers.Average, layers.Maximum,
                                 layers.Minimum])
def test_elementwise_merges(cls):
    a, b, c = graphc.Input((4,)), graphc.Input((4,)), graphc.Input((1,))
    assert ir_type(cls()([a, b])) == "f32[N,4]"
    assert ir_type(cls()([a, b, c])) == "f32[N,4]"  # (N, 1) broadcasts


def test_subtract_and_concatenate():
    a, b = graphc.Input((3, 4)), graphc.Input((3, 2))
    assert ir_type(layers.Subtract()([a, a])) == "f32[N,3,4]"
    assert ir_type(layers.Concatenate()([a, b])) == "f32[N,3,6]"
    assert ir_type(layers.Concatenate(axis=1)([a, a])) == "f32[N,6,4]"


def test_embedding_casts_float_indices_and_dense_casts_ints():
    tokens = graphc.Input((5,), dtype="float32")
    assert ir_type(layers.Embedding(10, 3)(tokens)) == "f32[N,5,3]"
    ints = graphc.Input((5,), dtype="int64")
    assert ir_type(layers.Dense(2)(ints)) == "f32[N,2]"


def test_tensor_operators_and_ops():
    x, y = graphc.Input((3,)), graphc.Input((3,))
    w = np.ones((3, 5), np.float32)
    assert ir_type(x + y) == ir_type(x * 2) == ir_type(2 - x) == ir_type(-x) == "f32[N,3]"
    assert ir_type(x / 2) == ir_type(x ** 2) == ir_type(abs(x)) == "f32[N,3]"
    assert ir_type(x[:, 0]) == "f32[N]"
    assert ir_type(x[:, 1:3]) == "f32[N,2]"
    assert ir_type(x[..., None]) == "f32[N,3,1]"
    assert ir_type(x[:, [0, 2]]) == "f32[N,2]"
    assert ir_type(x @ w) == "f32[N,5]"
    assert ir_type(x > 0) == "bool[N,3]"
    assert ir_type(ops.mean(x, axis=-1)) == "f32[N]"
    assert ir_type(ops.sum(x, axis=1, keepdims=True)) == "f32[N,1]"
    assert ir_type(ops.concatenate([x, y], axis=-1)) == "f32[N,6]"
    assert ir_type(ops.concat([x, y], axis=0)) == "f32[?,3]"
    assert ir_type(ops.reshape(x, (-1, 3, 1))) == "f32[N,3,1]"
    assert ir_type(ops.transpose(x)) == "f32[3,N]"
    assert ir_type(ops.exp(x)) == ir_type(ops.softmax(x)) == "f32[N,3]"
    assert ir_type(ops.matmul(x, ops.transpose(y))) == "f32[N,N]"
    assert ir_type(ops.cast(x, "int32")) == "i32[N,3]"
    assert ir_type(ops.argmax(x, axis=-1)) == "i64[N]"
    assert ir_type(ops.stack([x, y], axis=1)) == "f32[N,2,3]"
    assert ir_type(ops.where(x > 0, x, 0.0)) == "f32[N,3]"


def test_dtype_promotion_of_ops():
    i = graphc.Input((3,), dtype="int32")
    f = graphc.Input((3,))
    assert ir_type(i + 1) == "i32[N,3]"
    assert ir_type(i * 0.5) == "f32[N,3]"
    assert ir_type(i + f) == "f32[N,3]"
    assert ir_type(i / 2) == "f32[N,3]"
    assert ir_type(ops.exp(i)) == "f32[N,3]"


def test_model_shapes_single_list_and_dict():
    a, b = graphc.Input((3,), name="a"), graphc.Input((4,), name="b")
    single = graphc.Model(a, layers.Dense(2)(a))
    assert single.input_shape == (None, 3) and single.output_shape == (None, 2)
    both = graphc.Model([a, b], [layers.Dense(1)(a), layers.Dense(5)(b)])
    assert both.input_shape == [(None, 3), (None, 4)]
    assert both.output_shape == [(None, 1), (None, 5)]
    keyed = graphc.Model({"b": b, "a": a}, {"y": layers.Dense(2)(b)})
    assert keyed.input_names == ["a", "b"]  # dict inputs flatten by sorted key
    assert keyed.output_shape == {"y": (None, 2)}


def test_model_called_on_new_tensors_reinfers_types():
    x = graphc.Input((None, 4))
    block = graphc.Model(x, layers.Dense(3)(x), name="block")
    assert ir_type(block(graphc.Input((7, 4), batch_size=2))) == "f32[2,7,3]"


def test_nesting_both_ways():
    inner_seq = graphc.Sequential([layers.Dense(8), layers.Dense(4)], name="inner_seq")
    x = graphc.Input((6,))
    functional = graphc.Model(x, inner_seq(x), name="functional_outer")
    assert functional.output_shape == (None, 4)
    y = graphc.Input((4,))
    inner_fn = graphc.Model(y, layers.Dense(2)(y), name="inner_fn")
    seq = graphc.Sequential([graphc.Input((6,)), functional, inner_fn, layers.Dense(1)])
    assert seq.output_shape == (None, 1)
    assert [layer.name for layer in seq.layers] == ["functional_outer", "inner_fn", "dense_3"]


def test_sequential_deferred_build():
    model = graphc.Sequential([layers.Dense(4), layers.Dense(2)])
    assert not model.built and model.weights == []
    model.build((None, 8))
    assert model.built and model.output_shape == (None, 2)
    assert [w.shape for w in model.weights] == [(8, 4), (4,), (4, 2), (2,)]


def test_sequential_builds_on_symbolic_call_and_from_input_shape():
    deferred = graphc.Sequential([layers.Dense(4)])
    assert ir_type(deferred(graphc.Input((3,)))) == "f32[N,4]"
    assert deferred.input_shape == (None, 3)
    eager = graphc.Sequential([layers.Dense(4, input_shape=(5,)), layers.Dense(1)])
    assert eager.built and eager.input_shape == (None, 5) and eager.output_shape == (None, 1)


def test_sequential_add_and_pop():
    model = graphc.Sequential([graphc.Input((3,))])
    model.add(layers.Dense(4, name="a"))
    model.add(layers.Dense(5, name="b"))
    assert model.output_shape == (None, 5)
    popped = model.pop()
    assert popped.name == "b" and model.output_shape == (None, 4)
    assert popped._call_sites == []  # the popped layer no longer belongs to the model
    model.add(layers.Dense(6, name="c"))
    assert [layer.name for layer in model.layers] == ["a", "c"]
    assert model.output_shape == (None, 6)


def test_shared_layer_has_one_weight_set_and_two_call_sites():
    shared = layers.Dense(3, name="shared")
    a, b = graphc.Input((4,)), graphc.Input((4,))
    out_a, out_b = shared(a), shared(b)
    model = graphc.Model([a, b], [out_a, out_b])
    assert len(shared.weights) == 2 and len(model.weights) == 2
    assert shared.output is out_a and shared.get_output_at(1) is out_b
    assert [layer.name for layer in model.layers].count("shared") == 1


def test_layer_input_output_properties():
    x = graphc.Input((2,), name="x")
    dense = layers.Dense(3, name="d")
    y = dense(x)
    assert dense.input is x and dense.output is y
    assert dense.input_shape == (None, 2) and dense.output_shape == (None, 3)
    model = graphc.Model(x, y)
    assert model.get_layer("d") is dense and model.get_layer(index=1) is dense
    assert model.inputs == [x] and model.outputs == [y]


def test_keras2_input_dim_spelling():
    model = graphc.Sequential([layers.Dense(4, input_dim=3)])
    assert model.input_shape == (None, 3) and model.output_shape == (None, 4)


def test_one_element_list_for_a_single_input_layer():
    x = graphc.Input((3,))
    assert ir_type(layers.Dense(2)([x])) == ir_type(layers.Dense(2)((x,))) == "f32[N,2]"
