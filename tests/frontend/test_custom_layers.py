"""User-defined layers: ``build``/``call`` written once with ``graphc.ops``,
sublayers tracked as attributes, the ``training`` flag, and locations that
point at the line that created the layer."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import graphc
from graphc import layers, ops

from .conftest import TOL


class Residual(layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.inner = layers.Dense(units, activation="relu", name="inner")
        self.proj = layers.Dense(units, name="proj")

    def build(self, input_shape):
        self.scale = self.add_weight("scale", (), initializer="ones")

    def call(self, x):
        return self.proj(x) + self.inner(x) * self.scale


def test_composite_layer_numerics_weights_and_paths(rng):
    x = graphc.Input((3,), name="x")
    created_at = inspect.currentframe().f_lineno + 1
    block = Residual(4, name="res")
    model = graphc.Model(x, block(x), name="m")
    assert [w.path for w in model.weights] == ["res/scale", "inner/kernel", "inner/bias",
                                               "proj/kernel", "proj/bias"]
    func = model.to_ir().entry
    assert [p.name for p in func.params][1:3] == ["res/scale", "res/inner/kernel"]
    paths = {n.loc.path: n.loc.line for n in func.nodes}
    assert paths["m/res"] == created_at and set(paths) == {"m/res", "m/res/inner", "m/res/proj"}
    w = {p.path: p.numpy() for p in model.weights}
    data = rng.normal(size=(5, 3)).astype(np.float32)
    want = data @ w["proj/kernel"] + w["proj/bias"] + \
        np.maximum(data @ w["inner/kernel"] + w["inner/bias"], 0) * w["res/scale"]
    np.testing.assert_allclose(model.predict(data), want, **TOL)
    assert model.count_params() == 1 + 2 * (3 * 4 + 4)


class Noise(layers.Layer):
    """Adds 1 in training mode: a stand-in for behaviour that depends on the flag."""

    def call(self, x, training=False):
        return x + 1.0 if training else x


def test_training_flag_reaches_call():
    x = graphc.Input((2,))
    inference = graphc.Model(x, Noise()(x))
    training = graphc.Model(x, Noise()(x, training=True))
    data = np.zeros((1, 2), np.float32)
    np.testing.assert_array_equal(inference.predict(data), data)
    np.testing.assert_array_equal(training.predict(data), data + 1)


def test_failed_build_leaves_no_half_made_weights():
    class Picky(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight("w", (input_shape[-1],))
            if input_shape[-1] != 2:
                raise graphc.ShapeError("needs 2 features")

        def call(self, x):
            return x * self.w

    picky = Picky(name="picky")
    with pytest.raises(graphc.ShapeError, match="Picky 'picky' cannot be applied to its input: "
                                                "needs 2 features; received \\(N, 3\\)"):
        picky(graphc.Input((3,)))
    assert picky.weights == [] and not picky.built
    assert picky(graphc.Input((2,))).shape == (None, 2)


def test_layer_used_eagerly_then_symbolically(rng):
    dense = layers.Dense(2)
    data = rng.normal(size=(3, 4)).astype(np.float32)
    eager = dense(data)
    x = graphc.Input((4,))
    model = graphc.Model(x, dense(x))
    np.testing.assert_allclose(model.predict(data), eager, **TOL)
    np.testing.assert_allclose(ops.matmul(data, dense.kernel) + dense.bias.numpy(), eager, **TOL)


def test_forgetting_super_init_is_a_clear_error():
    class Forgetful(layers.Layer):
        def __init__(self):
            pass

        def call(self, x):
            return x

    with pytest.raises(graphc.FrontendError, match="Forgetful.__init__ must call "
                                                   "super\\(\\).__init__"):
        Forgetful()(graphc.Input((2,)))


def test_training_is_dropped_where_call_does_not_take_it_and_unknown_kwargs_fail():
    x = graphc.Input((3,))
    assert layers.Dense(2)(x, training=True).shape == (None, 2)
    with pytest.raises(graphc.FrontendError, match="'d'.call cannot take the keyword "
                                                   "argument\\(s\\) \\['foo'\\]"):
        layers.Dense(2, name="d")(x, foo=1)


def test_weights_of_a_layer_outside_the_model_become_extra_parameters(rng):
    shared = layers.Dense(3, name="outside")
    shared.build((None, 2))

    class UsesOutside(layers.Layer):
        def call(self, x):
            return ops.matmul(x, shared.kernel)

    x = graphc.Input((2,), name="x")
    model = graphc.Model(x, UsesOutside(name="user")(x))
    assert model.weights == []
    func = model.to_ir().entry
    assert [p.name for p in func.params] == ["x", "outside/kernel"]
    data = rng.normal(size=(4, 2)).astype(np.float32)
    np.testing.assert_allclose(model.predict(data), data @ shared.kernel.numpy(), **TOL)
