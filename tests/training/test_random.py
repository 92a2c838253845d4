"""Randomness: keys, the random_uniform op on every backend, and Dropout.

The numba lowering of ``random_uniform`` must be bit-identical to the
reference (integer hashing only), wherever the op lands in a kernel.
"""

from __future__ import annotations

import numpy as np
import pytest

import graphc
from graphc import layers
from graphc.backends import get_backend
from graphc.errors import FrontendError
from graphc.ir import Builder, Module, TensorType
from graphc.passes import run_pipeline
from graphc.random import SeedGenerator, generator_from

from .conftest import INTERP


def _dropout_like_module() -> Module:
    """Two draws in different positions of fused kernels: flat, broadcast and transposed."""
    b = Builder("r")
    key = b.param(TensorType("i64", ()), "key")
    x = b.param(TensorType("f32", ("N", 5)), "x")
    bias = b.param(TensorType("f32", (5,)), "bias")
    sub = b.emit("add", key, b.constant(np.int64(7)))
    u = b.emit("random_uniform", sub, x)
    keep = b.emit("ge", u, b.constant(np.float32(0.3)))
    dropped = b.emit("where", keep, b.emit("mul", x, b.constant(np.float32(1 / 0.7))),
                     b.constant(np.float32(0)))
    shifted = b.emit("add", b.emit("random_uniform", key, x), bias)      # read at a nest index
    wide = b.emit("transpose", b.emit("random_uniform", key, x, dtype="f64"), perm=(1, 0))
    return Module([b.finish(dropped, shifted, wide)])


def test_numba_random_uniform_is_bit_identical_to_the_interpreter():
    module = _dropout_like_module()
    numba = get_backend("numba").compile(run_pipeline(module, "default"))
    oracle = get_backend(INTERP).compile(module)
    rng = np.random.default_rng(0)
    for key in (0, -3, 2**40 + 5, -(2**62)):
        x = rng.random((37, 5)).astype(np.float32)
        bias = rng.random(5).astype(np.float32)
        for got, want in zip(numba(np.int64(key), x, bias), oracle(np.int64(key), x, bias)):
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)


def test_seed_generator_is_deterministic_and_seed_sensitive():
    a, b, c = SeedGenerator(5), SeedGenerator(5), SeedGenerator(6)
    keys_a = [int(a.next_key()) for _ in range(4)]
    assert keys_a == [int(b.next_key()) for _ in range(4)]
    assert keys_a != [int(c.next_key()) for _ in range(4)]
    assert len(set(keys_a)) == 4
    assert a.key(2) == keys_a[2]  # stateless access agrees
    assert generator_from(a) is a
    with pytest.raises(FrontendError, match="seed must be an int"):
        SeedGenerator(1.5)


def test_set_seed_reseeds_the_default_generator():
    graphc.random.set_seed(11)
    first = int(graphc.random.default_generator().next_key())
    graphc.random.set_seed(11)
    assert int(graphc.random.default_generator().next_key()) == first


def _dropout_model(rate=0.5, noise_shape=None):
    x = graphc.Input((6, 40))
    return graphc.Model(x, layers.Dropout(rate, noise_shape=noise_shape, name="drop")(x))


def test_dropout_is_identity_at_inference_and_masks_in_training():
    model = _dropout_model(0.25)
    x = np.ones((50, 6, 40), np.float32)
    np.testing.assert_array_equal(model.predict(x), x)
    out = model(x, training=True)
    kept = out != 0
    assert 0.70 < kept.mean() < 0.80                        # keep probability 0.75
    np.testing.assert_allclose(out[kept], 1 / 0.75, rtol=1e-6)  # kept values are scaled


def test_dropout_masks_follow_the_seed():
    model = _dropout_model()
    x = np.ones((4, 6, 40), np.float32)
    graphc.random.set_seed(3)
    first = model(x, training=True)
    second = model(x, training=True)
    graphc.random.set_seed(3)
    np.testing.assert_array_equal(model(x, training=True), first)
    assert not np.array_equal(first, second)


def test_two_dropout_layers_draw_different_masks():
    x = graphc.Input((200,))
    model = graphc.Model(x, [layers.Dropout(0.5)(x), layers.Dropout(0.5)(x)])
    a, b = model(np.ones((3, 200), np.float32), training=True)
    assert not np.array_equal(a != 0, b != 0)


def test_noise_shape_shares_the_mask_along_an_axis():
    model = _dropout_model(0.5, noise_shape=(None, 1, 40))
    out = model(np.ones((5, 6, 40), np.float32), training=True)
    assert np.all((out != 0) == (out[:, :1, :] != 0))


def test_dropout_gradient_reuses_the_forward_mask():
    """d/dx sum(dropout(x) * w) = mask * scale * w with the mask of the same call."""
    drop = layers.Dropout(0.5)
    w = np.random.default_rng(0).standard_normal((3, 30)).astype(np.float32)

    def objective(x):
        return graphc.ops.sum(graphc.ops.multiply(drop(x, training=True), w))

    value, grad = graphc.value_and_grad(objective, backend=INTERP)(np.ones((3, 30), np.float32))
    mask = grad != 0
    np.testing.assert_allclose(grad[mask], (2.0 * w)[mask], rtol=1e-6)
    np.testing.assert_allclose(value, np.sum(2.0 * w * mask), rtol=1e-5)


def test_training_mode_at_a_definition_call_site_is_refused():
    with pytest.raises(FrontendError, match="trace without a random key"):
        layers.Dropout(0.3, name="d")(graphc.Input((3,)), training=True)
