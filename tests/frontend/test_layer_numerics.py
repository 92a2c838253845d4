"""Every layer and activation, run through ``predict``, against numpy computed
from ``get_weights()`` (tolerance 1e-5, ``conftest.TOL``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import graphc
from graphc import layers

from .conftest import TOL, np_relu, np_softmax

_erf = np.vectorize(math.erf)


def _softplus(x):
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)


def _elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * (np.exp(np.minimum(x, 0)) - 1))


NUMPY_ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": np_relu,
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "tanh": np.tanh,
    "softmax": np_softmax,
    "log_softmax": lambda x: np.log(np_softmax(x)),
    "gelu": lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))),
    "elu": _elu,
    "selu": lambda x: 1.0507009873554805 * _elu(x, 1.6732632423543772),
    "leaky_relu": lambda x: np.where(x >= 0, x, 0.2 * x),
    "swish": lambda x: x / (1 + np.exp(-x)),
    "silu": lambda x: x / (1 + np.exp(-x)),
    "softplus": _softplus,
    "softsign": lambda x: x / (1 + np.abs(x)),
    "relu6": lambda x: np.clip(x, 0, 6),
    "hard_sigmoid": lambda x: np.clip(x + 3, 0, 6) / 6,
    "mish": lambda x: x * np.tanh(_softplus(x)),
    "exponential": np.exp,
}


def run(layer, *input_shapes, data, dtype="float32"):
    inputs = [graphc.Input(s, dtype=dtype) for s in input_shapes]
    out = layer(inputs if len(inputs) > 1 else inputs[0])
    model = graphc.Model(inputs if len(inputs) > 1 else inputs[0], out)
    return model.predict(data if len(data) > 1 else data[0]), layer.get_weights()


@pytest.mark.parametrize("name", sorted(NUMPY_ACTIVATIONS))
def test_dense_with_each_activation(name, rng):
    x = rng.normal(0, 2, (6, 5)).astype(np.float32)
    got, (kernel, bias) = run(layers.Dense(4, activation=name, bias_initializer="random_normal"),
                              (5,), data=[x])
    np.testing.assert_allclose(got, NUMPY_ACTIVATIONS[name](x @ kernel + bias), **TOL)


def test_activation_layer_and_large_inputs(rng):
    x = (rng.normal(0, 30, (4, 7))).astype(np.float32)  # exp overflows without care
    for name in ("softplus", "elu", "selu", "sigmoid", "softmax", "mish"):
        got, _ = run(layers.Activation(name), (7,), data=[x])
        np.testing.assert_allclose(got, NUMPY_ACTIVATIONS[name](x.astype(np.float64)), **TOL)
        assert np.all(np.isfinite(got))


def test_dense_without_bias_on_rank3(rng):
    x = rng.normal(size=(2, 3, 5)).astype(np.float32)
    got, (kernel,) = run(layers.Dense(4, use_bias=False), (3, 5), data=[x])
    np.testing.assert_allclose(got, x @ kernel, **TOL)


def test_dropout_is_identity_at_inference(rng):
    x = rng.normal(size=(3, 4)).astype(np.float32)
    got, _ = run(layers.Dropout(0.9), (4,), data=[x])
    np.testing.assert_array_equal(got, x)


@pytest.mark.parametrize("layer, shape, fn", [
    (lambda: layers.Flatten(), (2, 3, 4), lambda x: x.reshape(len(x), -1)),
    (lambda: layers.Reshape((4, 6)), (2, 3, 4), lambda x: x.reshape(len(x), 4, 6)),
    (lambda: layers.Reshape((-1, 2)), (2, 3, 4), lambda x: x.reshape(len(x), 12, 2)),
    (lambda: layers.Permute((3, 1, 2)), (2, 3, 4), lambda x: x.transpose(0, 3, 1, 2)),
    (lambda: layers.RepeatVector(3), (4,), lambda x: np.repeat(x[:, None, :], 3, axis=1)),
])
def test_reshaping_layers(layer, shape, fn, rng):
    x = rng.normal(size=(5,) + shape).astype(np.float32)
    got, _ = run(layer(), shape, data=[x])
    np.testing.assert_array_equal(got, fn(x))


@pytest.mark.parametrize("layer, fn", [
    (layers.Add, lambda a, b, c: a + b + c),
    (layers.Multiply, lambda a, b, c: a * b * c),
    (layers.Average, lambda a, b, c: (a + b + c) / 3),
    (layers.Maximum, lambda a, b, c: np.maximum(np.maximum(a, b), c)),
    (layers.Minimum, lambda a, b, c: np.minimum(np.minimum(a, b), c)),
])
def test_elementwise_merge_layers(layer, fn, rng):
    a, b, c = (rng.normal(size=(4, 3)).astype(np.float32) for _ in range(3))
    got, _ = run(layer(), (3,), (3,), (3,), data=[a, b, c])
    np.testing.assert_allclose(got, fn(a, b, c), **TOL)


def test_subtract_and_concatenate(rng):
    a, b = rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=(4, 3)).astype(np.float32)
    got, _ = run(layers.Subtract(), (3,), (3,), data=[a, b])
    np.testing.assert_allclose(got, a - b, **TOL)
    c = rng.normal(size=(4, 5)).astype(np.float32)
    got, _ = run(layers.Concatenate(), (3,), (5,), data=[a, c])
    np.testing.assert_array_equal(got, np.concatenate([a, c], axis=-1))


@pytest.mark.parametrize("axis", [-1, [1, 2], 1])
def test_layer_normalization(axis, rng):
    x = rng.normal(3, 2, (4, 5, 6)).astype(np.float32)
    layer = layers.LayerNormalization(axis=axis, gamma_initializer="random_normal",
                                      beta_initializer="random_normal")
    got, (gamma, beta) = run(layer, (5, 6), data=[x])
    axes = tuple(np.atleast_1d(axis) % 3)
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    shape = [x.shape[i] if i in axes else 1 for i in range(3)]
    expected = (x - mean) / np.sqrt(var + 1e-3) * gamma.reshape(shape) + beta.reshape(shape)
    np.testing.assert_allclose(got, expected, **TOL)


def test_embedding_with_int_and_float_indices(rng):
    idx = rng.integers(0, 10, (3, 4))
    got, (table,) = run(layers.Embedding(10, 6), (4,), data=[idx.astype(np.int32)],
                        dtype="int32")
    np.testing.assert_array_equal(got, table[idx])
    got, (table,) = run(layers.Embedding(10, 6), (4,), data=[idx.astype(np.float32)])
    np.testing.assert_array_equal(got, table[idx])


def test_eager_layer_call_matches_numpy(rng):
    dense = layers.Dense(3, activation="tanh")
    x = rng.normal(size=(2, 4)).astype(np.float32)
    kernel_bias = None
    got = dense(x)
    kernel_bias = dense.get_weights()
    np.testing.assert_allclose(got, np.tanh(x @ kernel_bias[0] + kernel_bias[1]), **TOL)


@pytest.mark.parametrize("layer, fn", [
    (lambda: layers.ReLU(), np_relu),
    (lambda: layers.ReLU(max_value=1.0), lambda x: np.clip(x, 0, 1)),
    (lambda: layers.ReLU(negative_slope=0.1, threshold=0.5),
     lambda x: np.where(x >= 0.5, x, 0.1 * (x - 0.5))),
    (lambda: layers.LeakyReLU(), lambda x: np.where(x >= 0, x, 0.3 * x)),
    (lambda: layers.ELU(alpha=0.5), lambda x: _elu(x, 0.5)),
    (lambda: layers.Softmax(axis=1), lambda x: np_softmax(x, axis=1)),
    (lambda: layers.Lambda(lambda t: t * 2 + 1), lambda x: x * 2 + 1),
    (lambda: layers.Lambda(graphc.ops.sum, arguments={"axis": -1}), lambda x: x.sum(-1)),
])
def test_activation_layers_and_lambda(layer, fn, rng):
    x = rng.normal(size=(3, 4, 5)).astype(np.float32)
    got, _ = run(layer(), (4, 5), data=[x])
    np.testing.assert_allclose(got, fn(x), **TOL)


def test_functional_merge_shorthands(rng):
    a, b = graphc.Input((3,)), graphc.Input((3,))
    outputs = [layers.add([a, b]), layers.subtract([a, b]), layers.multiply([a, b]),
               layers.average([a, b]), layers.maximum([a, b]), layers.minimum([a, b]),
               layers.concatenate([a, b])]
    x, y = rng.normal(size=(2, 3)).astype(np.float32), rng.normal(size=(2, 3)).astype(np.float32)
    got = graphc.Model([a, b], outputs).predict([x, y])
    want = [x + y, x - y, x * y, (x + y) / 2, np.maximum(x, y), np.minimum(x, y),
            np.concatenate([x, y], -1)]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, **TOL)
