"""Models of every kind the front end builds, for round-trip and cloning tests.

Each builder returns ``(model, data)`` where ``data`` is a valid input for
``predict``; builders use explicit names where a test needs them and
automatic names elsewhere (so both paths are exercised).
"""

from __future__ import annotations

import numpy as np

import graphc
from graphc import layers, ops
from graphc.saving import register_serializable

RNG_SEED = 7


def _rng():
    return np.random.default_rng(RNG_SEED)


def sequential_mlp():
    model = graphc.Sequential([graphc.Input((8,), name="x"), layers.Dense(16, activation="relu"),
                               layers.Dropout(0.5), layers.Dense(4, activation="softmax")],
                              name="mlp")
    return model, _rng().normal(size=(5, 8)).astype(np.float32)


def sequential_input_shape():
    model = graphc.Sequential([layers.Dense(6, input_shape=(3,), kernel_initializer="he_normal"),
                               layers.ReLU(max_value=6.0, negative_slope=0.1),
                               layers.Dense(2, use_bias=False)])
    return model, _rng().normal(size=(4, 3)).astype(np.float32)


def two_in_two_out():
    image = graphc.Input(shape=(6,), name="image")
    meta = graphc.Input(shape=(3,), name="meta")
    features = layers.Dense(5, activation="tanh", name="features")(image)
    joined = layers.Concatenate(name="joined")([features, meta])
    label = layers.Dense(4, activation="softmax", name="label")(joined)
    score = layers.Dense(1, name="score")(joined)
    model = graphc.Model([image, meta], [label, score], name="two_by_two")
    rng = _rng()
    return model, [rng.normal(size=(3, 6)).astype(np.float32),
                   rng.normal(size=(3, 3)).astype(np.float32)]


def dict_io():
    a = graphc.Input((4,), name="a")
    b = graphc.Input((4,), name="b")
    total = layers.Add(name="total")([a, b])
    model = graphc.Model({"zeta": a, "alpha": b},
                         {"sum": layers.Dense(2, name="head")(total), "diff": a - b},
                         name="dicts")
    rng = _rng()
    return model, {"zeta": rng.normal(size=(2, 4)).astype(np.float32),
                   "alpha": rng.normal(size=(2, 4)).astype(np.float32)}


def shared_layer():
    left = graphc.Input((5,), name="left")
    right = graphc.Input((5,), name="right")
    encoder = layers.Dense(3, activation="relu", name="encoder")
    distance = layers.Subtract(name="distance")([encoder(left), encoder(right)])
    again = encoder(layers.Dense(5, name="mix")(left))
    model = graphc.Model([left, right], [distance, again], name="siamese")
    rng = _rng()
    return model, [rng.normal(size=(3, 5)).astype(np.float32),
                   rng.normal(size=(3, 5)).astype(np.float32)]


def nested_models():
    inner = graphc.Sequential([graphc.Input((4,)), layers.Dense(4, activation="relu",
                                                                name="block"),
                               layers.LayerNormalization(name="norm")], name="inner")
    x = graphc.Input((4,), name="x")
    branch = graphc.Model(x, layers.Dense(4, name="proj")(inner(x)), name="branch")
    outer_in = graphc.Input((4,), name="outer_in")
    twice = inner(branch(outer_in))  # inner is used inside branch and again here
    stacked = graphc.Sequential([branch, layers.Dense(2, name="top")], name="stacked")
    model = graphc.Model(outer_in, [twice, stacked(outer_in)], name="nest")
    return model, _rng().normal(size=(3, 4)).astype(np.float32)


def sliced_from_nested():
    inner = graphc.Sequential([graphc.Input((6,)), layers.Dense(5, name="block1"),
                               layers.Dense(4, activation="relu", name="block2"),
                               layers.Dense(3, name="block3")], name="inner")
    x = graphc.Input((6,), name="x")
    base = graphc.Model(x, inner(x), name="base")
    features = base.get_layer("inner").get_layer("block2").output
    head = layers.Dense(2, name="head")(features)
    model = graphc.Model(base.input, [head, base.output], name="transfer")
    return model, _rng().normal(size=(2, 6)).astype(np.float32)


def ops_and_lambdas():
    x = graphc.Input((6,), name="x")
    y = graphc.Input((6, 2), name="y")
    scaled = ops.exp(x * 0.5) + 1.0
    part = scaled[:, 1:4]
    grid = ops.reshape(part, (-1, 3, 1))
    mixed = ops.matmul(ops.transpose(y, (0, 2, 1)), ops.expand_dims(x, -1))
    pair = layers.Lambda(lambda t: (ops.sum(t, axis=1), {"m": ops.max(t, axis=1)}),
                         name="pair")(grid)
    picked = ops.where(x > 0.0, x, ops.square(x))
    constant = x + np.arange(6, dtype=np.float32) / 7.0
    table = np.linspace(-1.0, 1.0, 48, dtype=np.float32).reshape(6, 8)  # a const-table constant
    projected = layers.Lambda(lambda t: ops.matmul(t, table), name="project")(x)
    twice = layers.Lambda(lambda t: t * 2.0, name="twice")  # two calls, two input signatures
    model = graphc.Model([x, y], [pair, ops.squeeze(mixed, -1), picked, constant, projected,
                                  twice(x), twice(y)], name="opsy")
    rng = _rng()
    return model, [rng.normal(size=(3, 6)).astype(np.float32),
                   rng.normal(size=(3, 6, 2)).astype(np.float32)]


def every_layer():
    tokens = graphc.Input((5,), dtype="int32", name="tokens")
    emb = layers.Embedding(10, 4, name="emb")(tokens)
    norm = layers.LayerNormalization(axis=[1, 2], epsilon=1e-5, name="norm")(emb)
    perm = layers.Permute((2, 1), name="perm")(norm)
    flat = layers.Flatten(name="flat")(perm)
    reshaped = layers.Reshape((4, 5), name="reshape")(flat)
    dense = layers.Dense(3, name="dense")(flat)
    acts = [layers.Activation("gelu")(dense), layers.LeakyReLU(0.2)(dense),
            layers.ELU(alpha=0.7)(dense), layers.Softmax(axis=-1)(dense), layers.ReLU()(dense)]
    merged = [layers.Add()(acts[:2]), layers.Multiply()(acts[1:3]), layers.Average()(acts[2:4]),
              layers.Maximum()(acts[:3]), layers.Minimum()(acts[2:]),
              layers.Subtract()(acts[3:5])]
    joined = layers.Concatenate(axis=-1)(merged)
    repeated = layers.RepeatVector(2)(joined)
    model = graphc.Model(tokens, [repeated, reshaped], name="everything")
    return model, _rng().integers(0, 10, size=(3, 5)).astype(np.int32)


@register_serializable(package="Zoo")
class Residual(layers.Layer):
    """A composite custom layer: sublayers, its own weight, a constructor argument."""

    def __init__(self, units, scale_init=1.0, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.scale_init = scale_init
        self.inner = layers.Dense(units, activation="relu")
        self.proj = layers.Dense(units)

    def build(self, input_shape):
        self.scale = self.add_weight("scale", (), initializer=graphc.initializers.Constant(
            self.scale_init))

    def call(self, x):
        return self.proj(x) + self.inner(x) * self.scale


def custom_layer():
    x = graphc.Input((3,), name="x")
    y = Residual(4, scale_init=0.5, name="res")(x)
    model = graphc.Model(x, layers.Dense(2, name="out")(y), name="custom")
    return model, _rng().normal(size=(2, 3)).astype(np.float32)


def intermediate_input():
    x = graphc.Input((3,), name="x")
    hidden = layers.Dense(4, name="hidden")(x)
    model = graphc.Model(hidden, layers.Dense(2, name="after")(hidden), name="tail")
    return model, _rng().normal(size=(2, 4)).astype(np.float32)


def fixed_batch():
    x = graphc.Input((3,), batch_size=2, dtype="float64", name="x")
    model = graphc.Model(x, layers.Dense(2, dtype="float64", name="d")(x), name="fixed")
    return model, _rng().normal(size=(2, 3))


@register_serializable(package="Zoo")
class TwoStep(graphc.Model):
    """A model subclass that builds its own graph from constructor arguments."""

    def __init__(self, hidden=4, **kwargs):
        x = graphc.Input((3,))
        y = layers.Dense(2)(layers.Dense(hidden, activation="tanh")(x))
        super().__init__(x, y, **kwargs)


def subclassed_model():
    inner = TwoStep(hidden=5, name="two_step")
    x = graphc.Input((3,), name="x")
    model = graphc.Model(x, layers.Dense(1, name="out")(inner(x)), name="wrapped")
    return model, _rng().normal(size=(2, 3)).astype(np.float32)


BUILDERS = [sequential_mlp, sequential_input_shape, two_in_two_out, dict_io, shared_layer,
            nested_models, sliced_from_nested, ops_and_lambdas, every_layer, custom_layer,
            intermediate_input, fixed_batch, subclassed_model]


def predict(model, data):
    """Predictions on the reference interpreter (no pass pipeline: fast and exact)."""
    out = model.compiled("interpreter", None)(data)
    return [np.asarray(a) for a in graphc.structure.flatten(out)]


def assert_same_predictions(a, b, data):
    got, want = predict(b, data), predict(a, data)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
