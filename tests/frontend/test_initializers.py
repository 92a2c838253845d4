"""Initializers: Keras formulas (checked statistically on large draws with wide
bounds), determinism under a seed, and use through layers."""

from __future__ import annotations

import math

import numpy as np
import pytest

import graphc
from graphc import initializers, layers

SHAPE = (400, 300)  # fan_in 400, fan_out 300


@pytest.mark.parametrize("name, expected_std, bound", [
    ("glorot_uniform", math.sqrt(2 / 700), math.sqrt(6 / 700)),
    ("glorot_normal", math.sqrt(2 / 700), 2 * math.sqrt(2 / 700) / 0.87962566103423978),
    ("he_uniform", math.sqrt(2 / 400), math.sqrt(6 / 400)),
    ("he_normal", math.sqrt(2 / 400), 2 * math.sqrt(2 / 400) / 0.87962566103423978),
    ("lecun_normal", math.sqrt(1 / 400), 2 * math.sqrt(1 / 400) / 0.87962566103423978),
    ("lecun_uniform", math.sqrt(1 / 400), math.sqrt(3 / 400)),
])
def test_variance_scaling_family(name, expected_std, bound):
    values = initializers.get(name)(SHAPE)
    assert values.dtype == np.float32 and values.shape == SHAPE
    assert abs(values.mean()) < 0.02 * expected_std  # ~7 standard errors
    assert abs(values.std() / expected_std - 1) < 0.02
    assert np.abs(values).max() <= bound * (1 + 1e-6)


def test_simple_initializers():
    assert np.all(initializers.get("zeros")((2, 3)) == 0)
    assert np.all(initializers.get("ones")((4,), "int32") == 1)
    np.testing.assert_array_equal(initializers.Constant(2.5)((2,)), [2.5, 2.5])
    normal = initializers.RandomNormal(mean=1.0, stddev=0.5, seed=0)(SHAPE)
    assert abs(normal.mean() - 1) < 0.01 and abs(normal.std() - 0.5) < 0.01
    uniform = initializers.RandomUniform(-2, 3, seed=0)(SHAPE)
    assert uniform.min() >= -2 and uniform.max() <= 3 and abs(uniform.mean() - 0.5) < 0.02
    truncated = initializers.TruncatedNormal(stddev=1.0, seed=0)(SHAPE)
    assert np.abs(truncated).max() <= 2.0


def test_names_classes_and_callables_resolve():
    assert isinstance(initializers.get("HeNormal"), initializers.HeNormal)
    assert isinstance(initializers.get(initializers.Zeros), initializers.Zeros)
    custom = initializers.get(lambda shape, dtype: np.full(shape, 7.0))
    np.testing.assert_array_equal(custom((2,)), [7, 7])
    with pytest.raises(graphc.FrontendError, match="returned shape"):
        initializers.get(lambda shape, dtype: np.zeros(3))((2,))
    with pytest.raises(graphc.FrontendError, match="cannot fill a weight of shape"):
        initializers.Constant([1, 2, 3])((2,))


def test_same_seed_same_weights():
    first = initializers.GlorotUniform(seed=42)((5, 4))
    np.testing.assert_array_equal(first, initializers.GlorotUniform(seed=42)((5, 4)))
    assert not np.array_equal(first, initializers.GlorotUniform(seed=43)((5, 4)))
    a = layers.Dense(3, kernel_initializer=initializers.HeNormal(seed=7))
    b = layers.Dense(3, kernel_initializer=initializers.HeNormal(seed=7))
    a.build((None, 4))
    b.build((None, 4))
    np.testing.assert_array_equal(a.get_weights()[0], b.get_weights()[0])


def test_layer_defaults_follow_keras():
    dense = layers.Dense(3)
    dense(graphc.Input((200,)))
    kernel, bias = dense.get_weights()
    assert np.all(bias == 0) and np.abs(kernel).max() <= math.sqrt(6 / 203)
    embedding = layers.Embedding(50, 8)
    embedding(graphc.Input((2,), dtype="int32"))
    assert np.abs(embedding.get_weights()[0]).max() <= 0.05
    norm = layers.LayerNormalization()
    norm(graphc.Input((4,)))
    gamma, beta = norm.get_weights()
    assert np.all(gamma == 1) and np.all(beta == 0)
