"""``Layer.get_config`` / ``from_config``: every built-in layer, schema checks
on load, custom layers (captured arguments, overrides, registration)."""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest

import graphc
from graphc import layers
from graphc.saving import register_serializable
from graphc.saving.layer_config import SPECIAL_RULES
from graphc.saving.registry import BUILTIN_TABLES
from graphc.saving.schemas import LAYER_FIELDS

LAYERS = [
    layers.Dense(3, activation="tanh", use_bias=False, kernel_initializer="he_uniform",
                 name="dense_a", dtype="float64", trainable=False),
    layers.Dense(2, kernel_initializer=graphc.initializers.RandomNormal(0.5, 2.0, seed=3)),
    layers.Activation("softplus"),
    layers.Dropout(0.25, noise_shape=(None, 1), seed=4),
    layers.ReLU(max_value=6.0, negative_slope=0.1, threshold=0.5),
    layers.LeakyReLU(0.2),
    layers.ELU(alpha=0.5),
    layers.Softmax(axis=1),
    layers.Flatten(),
    layers.Reshape((2, -1)),
    layers.Permute((2, 1)),
    layers.RepeatVector(3),
    layers.Concatenate(axis=1),
    layers.Add(), layers.Subtract(), layers.Multiply(), layers.Average(), layers.Maximum(),
    layers.Minimum(),
    layers.LayerNormalization(axis=[1, 2], epsilon=1e-5, center=False,
                              gamma_initializer=graphc.initializers.Constant(2.0)),
    layers.Embedding(7, 3, embeddings_initializer="glorot_normal"),
    layers.InputLayer(shape=(None, 3), batch_size=4, dtype="int32", name="ids"),
]


def test_every_builtin_layer_has_exactly_one_config_rule():
    builtin = BUILTIN_TABLES["layer"]()
    for name, cls in builtin.items():
        if name in ("Functional", "Sequential"):
            continue
        assert (name in LAYER_FIELDS) != (name in SPECIAL_RULES), name
        params = inspect.signature(cls.__init__).parameters
        for field in LAYER_FIELDS.get(name, {}):
            assert field in params, f"{name}.{field} is not a constructor argument"


@pytest.mark.parametrize("layer", LAYERS, ids=lambda layer: type(layer).__name__)
def test_config_round_trip_is_exact(layer):
    config = layer.get_config()
    text = json.dumps(config, sort_keys=True)
    clone = type(layer).from_config(json.loads(text))
    assert type(clone) is type(layer) and clone.name == layer.name
    assert json.dumps(clone.get_config(), sort_keys=True) == text


def test_dense_config_reads_like_keras():
    config = layers.Dense(3, activation="relu", name="d").get_config()
    assert config == {
        "name": "d", "trainable": True, "dtype": "float32", "units": 3, "activation": "relu",
        "use_bias": True,
        "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None},
                               "module": "graphc.initializers"},
        "bias_initializer": {"class_name": "Zeros", "config": {},
                             "module": "graphc.initializers"}}


def test_from_config_gives_fresh_weights_from_the_initializers():
    original = layers.Dense(4, kernel_initializer=graphc.initializers.Constant(0.5))
    original(np.ones((1, 2), np.float32))
    clone = layers.Dense.from_config(original.get_config())
    clone(np.ones((1, 2), np.float32))
    assert clone.kernel is not original.kernel
    np.testing.assert_array_equal(clone.kernel.numpy(), np.full((2, 4), 0.5, np.float32))


@pytest.mark.parametrize("change, message", [
    ({"units": "ten"}, "key 'units' expects an integer >= 1, received 'ten'"),
    ({"units": True}, "key 'units' expects an integer >= 1, received True"),
    ({"use_bias": "yes"}, "key 'use_bias' expects true or false, received 'yes'"),
    ({"activation": "no_such_fn"}, "unknown activation 'no_such_fn'"),
    ({"activation": 3}, "key 'activation' expects an activation name, received 3"),
    ({"unitz": 3}, "unknown key(s) 'unitz'; expected keys: activation, bias_initializer"),
    ({"kernel_initializer": {"class_name": "Evil", "config": {}}},
     "unknown initializer 'Evil'"),
    ({"kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": "x"}}},
     "seed must be an int or None"),
    ({"dtype": "complex64"}, "key 'dtype' expects a dtype name"),
])
def test_bad_configs_are_load_errors_naming_the_key(change, message):
    config = {**layers.Dense(3, name="d").get_config(), **change}
    with pytest.raises(graphc.LoadError) as info:
        layers.Dense.from_config(config)
    assert message in str(info.value)
    assert "Dense 'd'" in str(info.value)


class Scaled(layers.Layer):
    """A user layer with constructor arguments and no get_config of its own."""

    def __init__(self, factor, offsets=(0.0,), *, mode="mul", **kwargs):
        super().__init__(**kwargs)
        self.factor, self.offsets, self.mode = factor, offsets, mode

    def call(self, x):
        return x * self.factor + self.offsets[0]


def test_custom_layer_config_comes_from_its_constructor_arguments():
    layer = Scaled(2.5, [1.0, 2.0], mode="add", name="s", trainable=False)
    assert layer.get_config() == {"name": "s", "trainable": False, "dtype": "float32",
                                  "factor": 2.5, "offsets": [1.0, 2.0], "mode": "add"}
    clone = Scaled.from_config(layer.get_config())
    assert (clone.factor, clone.offsets, clone.mode, clone.trainable) == \
        (2.5, [1.0, 2.0], "add", False)


def test_custom_get_config_override_with_super_is_used():
    class Tagged(Scaled):
        def get_config(self):
            return {**super().get_config(), "factor": self.factor * 2}

    assert Tagged(1.5, name="t").get_config()["factor"] == 3.0


def test_unserializable_custom_argument_says_how_to_fix_it():
    layer = Scaled(object(), name="s")
    with pytest.raises(graphc.FrontendError, match="argument 'factor'.*cannot be saved in a "
                                                    "config.*get_config"):
        layer.get_config()


def test_unknown_custom_class_names_it_and_says_how_to_register():
    x = graphc.Input((2,), name="x")
    model = graphc.Model(x, Scaled(2.0, name="s")(x), name="m")
    text = model.to_json()
    with pytest.raises(graphc.LoadError) as info:
        graphc.models.model_from_json(text)
    message = str(info.value)
    assert "unknown layer 'Scaled'" in message
    assert "register_serializable()" in message and "custom_objects={'Scaled': Scaled}" in message
    restored = graphc.models.model_from_json(text, custom_objects={"Scaled": Scaled})
    data = np.ones((1, 2), np.float32)
    np.testing.assert_array_equal(restored.predict(data, batch_size=None), data * 2.0)


def test_a_custom_class_named_like_a_builtin_is_not_taken_for_it():
    class Dense(Scaled):  # noqa: N801 - the point is the clash
        pass

    x = graphc.Input((2,), name="x")
    text = graphc.Model(x, Dense(1.0, name="mine")(x)).to_json()
    with pytest.raises(graphc.LoadError, match="unknown layer 'Dense'"):
        graphc.models.model_from_json(text)


def test_registered_layer_and_activation_load_without_custom_objects():
    @register_serializable(package="Tests")
    def cube(x):
        return x * x * x

    @register_serializable(package="Tests")
    class Offset(layers.Layer):
        def __init__(self, amount=1.0, **kwargs):
            super().__init__(**kwargs)
            self.amount = amount

        def call(self, x):
            return x + self.amount

    x = graphc.Input((3,), name="x")
    y = layers.Dense(2, activation=cube, name="d")(Offset(0.5, name="o")(x))
    model = graphc.Model(x, y, name="m")
    config = json.loads(model.to_json())
    assert config["config"]["layers"][1]["registered_name"] == "Tests>Offset"
    assert config["config"]["layers"][2]["config"]["activation"] == "Tests>cube"
    restored = graphc.models.model_from_json(model.to_json())
    restored.set_weights(model.get_weights())
    data = np.random.default_rng(0).normal(size=(2, 3)).astype(np.float32)
    np.testing.assert_array_equal(restored.predict(data), model.predict(data))


def test_unregistered_activation_function_cannot_be_saved():
    layer = layers.Dense(2, activation=lambda t: t, name="d")
    with pytest.raises(graphc.FrontendError, match="not a graphc activation and is not "
                                                    "registered"):
        layer.get_config()


def test_serialize_and_deserialize_for_custom_configs():
    init = graphc.initializers.TruncatedNormal(0.0, 0.5, seed=9)
    raw = graphc.saving.serialize({"init": init, "table": np.eye(2, dtype=np.float32),
                                   "rate": float("inf")})
    assert raw["table"]["class_name"] == "ndarray" and raw["rate"] == {"class_name": "float",
                                                                       "config": "inf"}
    back = graphc.saving.deserialize(json.loads(json.dumps(raw)))
    assert type(back["init"]) is type(init) and back["init"].get_config() == init.get_config()
    np.testing.assert_array_equal(back["table"], np.eye(2))
    assert back["rate"] == float("inf")
    with pytest.raises(graphc.LoadError, match="unknown object 'X>Thing'"):
        graphc.saving.deserialize({"class_name": "Thing", "registered_name": "X>Thing"})
