"""Errors met when a defined model is *called*: wrong structure, shapes, dtypes
and batch sizes of the data, runtime failures, and misuse of compile/ops."""

from __future__ import annotations

import re

import numpy as np
import pytest

import graphc
from graphc import BackendError, ExecutionError, FrontendError, InputError, layers, ops


def raises(error, *fragments):
    pattern = ".*".join(re.escape(f) for f in fragments)
    return pytest.raises(error, match=re.compile(pattern, re.S))


@pytest.fixture
def mlp():
    x = graphc.Input((784,), name="x")
    return graphc.Model(x, layers.Dense(10, name="d")(x), name="mlp")


@pytest.fixture
def two():
    a, b = graphc.Input((3,), name="a"), graphc.Input((4,), name="b")
    return graphc.Model([a, b], layers.Concatenate()([a, b]), name="two")


def test_wrong_shape_is_reported_in_model_terms(mlp):
    with raises(InputError, "Model 'mlp' input 'x' expected shape (N, 784), received (5, 783)"):
        mlp.predict(np.zeros((5, 783)))
    with raises(InputError, "expected shape (N, 784), received (784,)"):
        mlp(np.zeros(784))  # rank mismatch
    assert issubclass(InputError, ValueError)


def test_wrong_structure(two):
    with raises(FrontendError, "Model 'two' expects 2 inputs (a: (N, 3), b: (N, 4)), received a "
                "single array of shape (2, 3)"):
        two.predict(np.zeros((2, 3)))
    with raises(FrontendError, "expects 2 input(s)", "received a list of 3 value(s)"):
        two([np.zeros((2, 3))] * 3)
    with raises(FrontendError, "Model 'two' is missing input(s) 'b'; expected keys: 'a', 'b'"):
        two.predict({"a": np.zeros((2, 3))})
    with raises(FrontendError, "received unknown input key(s) 'zz'"):
        two({"a": np.zeros((2, 3)), "b": np.zeros((2, 4)), "zz": 0})


def test_dict_keys_given_twice():
    a = graphc.Input((3,), name="a_input")
    model = graphc.Model({"a": a}, layers.Dense(1)(a), name="keyed")
    with raises(FrontendError, "received input 'a' twice (as 'a' and 'a_input')"):
        model({"a": np.zeros((1, 3)), "a_input": np.zeros((1, 3))})


def test_batch_sizes_must_agree(two):
    with raises(InputError, "input 'b' has size 3 on axis 0 (symbol N), but input 'a' has N = 2"):
        two.predict([np.zeros((2, 3)), np.zeros((3, 4))])


def test_dtype_conversion(mlp):
    np.testing.assert_allclose(mlp(np.ones((1, 784), np.int64)), mlp(np.ones((1, 784))))
    with raises(InputError, "input 'x' expects numbers of dtype float32, received dtype <U1"):
        mlp.predict(np.array([["a"] * 784]))
    tokens = graphc.Input((2,), dtype="int32", name="tok")
    embed = graphc.Model(tokens, layers.Embedding(5, 2, name="emb")(tokens), name="embed")
    assert embed(np.array([[1.0, 2.0]])).shape == (1, 2, 2)  # whole floats are fine
    with raises(InputError, "input 'tok' expects dtype int32, received float64 values that are "
                "not whole numbers"):
        embed(np.array([[0.5, 1.0]]))
    flags = graphc.Input((2,), dtype="bool", name="flags")
    gate = graphc.Model(flags, ops.cast(flags, "float32"))
    with raises(InputError, "input 'flags' expects dtype bool, received int64"):
        gate(np.array([[1, 0]]))
    with raises(InputError, "received a symbolic tensor where data was expected"):
        gate.compiled()(flags)


def test_runtime_failure_names_the_layer_and_line():
    tokens = graphc.Input((2,), dtype="int32", name="tok")
    embed = graphc.Model(tokens, layers.Embedding(5, 2, name="emb")(tokens), name="embed")
    for backend in ("interpreter", "numba"):
        with raises(ExecutionError, "out of range", "embed/emb (", "test_call_errors.py:"):
            graphc.compile(embed, backend=backend)(np.array([[7, 1]]))


def test_predict_arguments(mlp, two):
    with raises(FrontendError, "batch_size must be a positive int. Received: batch_size=0"):
        mlp.predict(np.zeros((2, 784)), batch_size=0)
    fixed = graphc.Input((2,), batch_size=4, name="fixed")
    model = graphc.Model(fixed, fixed * 2, name="fixed_batch")
    np.testing.assert_array_equal(model.predict(np.ones((8, 2)), batch_size=3), np.full((8, 2), 2))
    with raises(InputError, "model 'fixed_batch' has a fixed batch size of 4; predict needs a "
                "multiple of 4 samples, received 6"):
        model.predict(np.ones((6, 2)))
    with raises(InputError, "input 'fixed' expected shape (4, 2), received (6, 2)"):
        model(np.ones((6, 2)))
    other = graphc.Input((2,), batch_size=4)
    pair = graphc.Model([fixed, other], fixed + other)
    with raises(InputError, "needs inputs with one number of samples; received [8, 12]"):
        pair.predict([np.ones((8, 2)), np.ones((12, 2))])


def test_empty_sequential_cannot_run():
    with raises(FrontendError, "Sequential model 'empty' has no layers"):
        graphc.Sequential(name="empty").predict(np.zeros((2, 3)))
    with raises(FrontendError, "cannot be built from a 0-d input"):
        graphc.Sequential([layers.Dense(2)]).predict(np.float32(1.0))


def test_compile_errors(mlp):
    with raises(FrontendError, "graphc.compile takes a Model, an IR Module or a function; "
                "received Dense 'lone'. Wrap the layer in a model"):
        graphc.compile(layers.Dense(2, name="lone"))
    with raises(FrontendError, "received int"):
        graphc.compile(3)
    with raises(BackendError, "unknown backend 'nope'; available backends:"):
        graphc.compile(mlp, backend="nope")
    fn = graphc.compile(lambda x: 3)
    with raises(FrontendError, "must return graphc tensors computed with graphc.ops"):
        fn(np.zeros(2))


def test_eager_op_and_layer_errors():
    with raises(FrontendError, "graphc.ops.exp needs at least one tensor argument"):
        ops.exp(1.0)
    with raises(FrontendError, "received an array of unsupported dtype complex128"):
        ops.exp(np.zeros(2, np.complex128))
    with raises(graphc.ShapeError, "Dense 'd' expects last dim 3, received (2, 4)"):
        dense = layers.Dense(2, name="d")
        dense(np.zeros((1, 3), np.float32))
        dense(np.zeros((2, 4), np.float32))
    with raises(FrontendError, "cannot use 'x' (numpy dtype <U1) as a tensor constant"):
        ops.add(np.zeros(2), "x")
    with raises(FrontendError, "concatenate expects a non-empty list of tensors"):
        ops.concatenate(np.zeros(2))
    with raises(FrontendError, "reshape newshape entries must be ints"):
        ops.reshape(np.zeros(4), (2, 2.0))


def test_ops_on_weights_alone_join_the_layer_trace():
    class WeightsOnly(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight("w", (2,), initializer="random_normal")

        def call(self, inputs):
            return inputs + ops.exp(self.w)

    x = graphc.Input((2,))
    layer = WeightsOnly()
    model = graphc.Model(x, layer(x))
    np.testing.assert_allclose(model.predict(np.zeros((1, 2))), np.exp(layer.get_weights())[0:1],
                               rtol=1e-6)
    np.testing.assert_allclose(ops.exp(layer.w), np.exp(layer.w.numpy()), rtol=1e-6)  # eager


def test_values_cannot_leak_between_traces():
    class Leaks(layers.Layer):
        def call(self, inputs):
            return ops.add(inputs, outer)

    outer = graphc.Input((2,), name="outer")
    with raises(FrontendError, "mixes a symbolic model tensor with a value traced inside"):
        Leaks()(graphc.Input((2,)))


def test_unavailable_backend_is_named():
    from graphc.backends.interpreter import InterpreterBackend

    class Offline(InterpreterBackend):
        name = "offline"

        def is_available(self):
            return False

        def unavailable_reason(self):
            return "no device here"

    x = graphc.Input((2,))
    with raises(BackendError, "backend 'offline' is not available here: no device here"):
        graphc.compile(graphc.Model(x, x * 2), backend=Offline())


def test_ragged_data_is_an_input_error(mlp):
    with raises(InputError, "Model 'mlp' input 'x' could not be converted to an array"):
        mlp.predict([[1.0, 2.0], [3.0]])
