"""Whole-model gradients through the front end, against finite differences.

Models are built in f64 (every layer ``dtype="float64"``); the gradient of the
loss with respect to every trainable weight comes from a ``GradientTape`` on
the interpreter and is checked along a random direction per weight with
central differences (``conftest.finite_difference_check``).
"""

from __future__ import annotations

import numpy as np
import pytest

import graphc
from graphc import initializers, layers, losses

from .conftest import INTERP, finite_difference_check

F64 = dict(dtype="float64")


def _init(seed):
    return initializers.GlorotUniform(seed=seed)


def mlp():
    return graphc.Sequential([
        graphc.Input((6,), dtype="float64"),
        layers.Dense(8, activation="tanh", kernel_initializer=_init(1), **F64),
        layers.Dense(4, activation="softmax", kernel_initializer=_init(2),
                     bias_initializer=initializers.RandomNormal(seed=3), **F64)])


def layer_norm():
    x = graphc.Input((5, 6), dtype="float64")
    h = layers.LayerNormalization(gamma_initializer=initializers.RandomNormal(1.0, 0.3, seed=4),
                                  beta_initializer=initializers.RandomNormal(seed=5), **F64)(x)
    h = layers.Dense(3, activation="gelu", kernel_initializer=_init(6), **F64)(h)
    return graphc.Model(x, layers.Flatten()(h))


def embedding():
    tokens = graphc.Input((7,), dtype="int32")
    e = layers.Embedding(11, 4, embeddings_initializer=initializers.RandomNormal(seed=7),
                         **F64)(tokens)
    return graphc.Model(tokens, layers.Dense(2, kernel_initializer=_init(8), **F64)(
        layers.Flatten()(e)))


def branching():
    a, b = graphc.Input((4,), dtype="float64"), graphc.Input((3,), dtype="float64")
    shared = layers.Dense(5, activation="relu", kernel_initializer=_init(9),
                          bias_initializer=initializers.Constant(0.1), **F64)
    left = shared(a)
    right = shared(layers.Dense(4, kernel_initializer=_init(10), **F64)(b))
    joined = layers.concatenate([left, right, layers.multiply([left, right])])
    return graphc.Model([a, b], [layers.Dense(2, kernel_initializer=_init(11), **F64)(joined),
                                 layers.Dense(1, activation="sigmoid",
                                              kernel_initializer=_init(12), **F64)(left)])


def _data(name, rng):
    if name == "mlp":
        return [rng.standard_normal((9, 6))], [rng.integers(0, 4, 9)]
    if name == "layer_norm":
        return [rng.standard_normal((3, 5, 6))], [rng.standard_normal((3, 15))]
    if name == "embedding":
        return [rng.integers(0, 11, (4, 7)).astype(np.int32)], [rng.standard_normal((4, 2))]
    return ([rng.standard_normal((6, 4)), rng.standard_normal((6, 3))],
            [rng.standard_normal((6, 2)), rng.integers(0, 2, (6, 1)).astype(np.float64)])


LOSSES = {"mlp": [losses.SparseCategoricalCrossentropy()], "layer_norm": [losses.Huber()],
          "embedding": [losses.MeanSquaredError()],
          "branching": [losses.MeanAbsoluteError(), losses.BinaryCrossentropy()]}


def _objective(model, name, xs, ys):
    outs = model(xs if len(xs) > 1 else xs[0])
    outs = outs if isinstance(outs, list) else [outs]
    total = None
    for loss, y, out in zip(LOSSES[name], ys, outs):
        value = loss(y, out)
        total = value if total is None else total + value * 0.5
    return total


@pytest.mark.parametrize("name", ["mlp", "layer_norm", "embedding", "branching"])
def test_model_gradients_match_finite_differences(name, rng):
    model = {"mlp": mlp, "layer_norm": layer_norm, "embedding": embedding,
             "branching": branching}[name]()
    xs, ys = _data(name, rng)
    weights = model.trainable_weights
    with graphc.GradientTape(backend=INTERP) as tape:
        loss = _objective(model, name, xs, ys)
    grads = tape.gradient(loss, weights)
    evaluate = graphc.function(lambda *data: _objective(model, name, list(data[:len(xs)]), ys),
                               backend=INTERP)
    assert float(loss) == pytest.approx(float(evaluate(*xs)), rel=1e-12)
    original = model.get_weights()
    for index, (w, g) in enumerate(zip(weights, grads)):
        assert g.shape == w.shape and np.any(g != 0), w.path

        def f(value, w=w):
            w.assign(value)
            return float(evaluate(*xs))

        finite_difference_check(f, w.numpy(), g, rng)
        model.set_weights(original)
