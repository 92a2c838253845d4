"""Model configs: JSON round trips are byte-identical and rebuild models that
compute the same (after copying weights), for every kind of model."""

from __future__ import annotations

import json

import numpy as np
import pytest

import graphc
from graphc import layers, ops

from . import zoo


def test_json_round_trip_is_byte_identical(built):
    model, _ = built
    text = model.to_json()
    assert graphc.models.model_from_json(text).to_json() == text


def test_rebuilt_model_predicts_the_same_with_copied_weights(built):
    model, data = built
    rebuilt = type(model).from_config(model.get_config())
    assert type(rebuilt) is type(model)
    assert [w.shape for w in rebuilt.weights] == [w.shape for w in model.weights]
    rebuilt.set_weights(model.get_weights())
    zoo.assert_same_predictions(model, rebuilt, data)


def test_rebuilt_model_keeps_names_structure_and_flags():
    model, _ = zoo.two_in_two_out()
    model.get_layer("features").trainable = False
    rebuilt = graphc.models.model_from_json(model.to_json())
    assert rebuilt.name == "two_by_two"
    assert rebuilt.input_names == ["image", "meta"] and rebuilt.output_names == ["label", "score"]
    assert [op.name for op in rebuilt.operations] == [op.name for op in model.operations]
    assert not rebuilt.get_layer("features").trainable
    assert len(rebuilt.trainable_weights) == len(model.trainable_weights) == 4


def test_shared_layers_stay_shared_within_and_across_nesting_levels():
    model, _ = zoo.nested_models()
    rebuilt = graphc.models.model_from_json(model.to_json())
    inner_top = rebuilt.get_layer("inner")
    assert rebuilt.get_layer("branch").get_layer("inner") is inner_top
    assert rebuilt.get_layer("stacked").get_layer("branch") is rebuilt.get_layer("branch")
    assert len(rebuilt.weights) == len(model.weights)
    siamese, _ = zoo.shared_layer()
    again = graphc.models.model_from_json(siamese.to_json())
    encoder = again.get_layer("encoder")
    assert len([s for s in again.graph.sites if s.layer is encoder]) == 3


def test_shared_entries_are_references_in_the_json():
    model, _ = zoo.nested_models()
    config = json.loads(model.to_json())["config"]
    shared = [e for e in config["layers"] if "shared" in e]
    assert shared == [{"class_name": "Sequential", "name": "inner", "shared": "nest/branch/inner"}]


def test_dict_structures_survive():
    model, data = zoo.dict_io()
    rebuilt = graphc.models.model_from_json(model.to_json())
    assert isinstance(rebuilt.input, dict) and sorted(rebuilt.input) == ["alpha", "zeta"]
    rebuilt.set_weights(model.get_weights())
    out = rebuilt.compiled("interpreter", None)(data)
    assert sorted(out) == ["diff", "sum"]
    np.testing.assert_array_equal(out["diff"], data["zeta"] - data["alpha"])


def test_functions_are_stored_as_ir_not_code():
    model, _ = zoo.ops_and_lambdas()
    text = model.to_json()
    config = json.loads(text)["config"]
    entries = {e["name"]: e for e in config["layers"]}
    assert entries["pair"]["class_name"] == "Lambda"
    stored = entries["pair"]["config"]["function"]
    assert stored["ir"].startswith("func @call_0(%x0: f32[N,3,1]) -> (f32[N,1], f32[N,1])")
    assert stored["outputs"] == {"call_0": {"tuple": [0, {"dict": {"m": 1}}]}}
    assert entries["get_item"]["config"]["op"] == "get_item"
    assert "lambda" not in text and "<function" not in text and "co_code" not in text


def test_a_stored_function_replays_on_other_batch_sizes_and_symbols():
    x = graphc.Input((4,), name="x")
    flat = layers.Lambda(lambda t: ops.reshape(t * 2.0, (-1, 2, 2)), name="fold")(x)
    model = graphc.Model(x, flat, name="m")
    rebuilt = graphc.models.model_from_json(model.to_json())
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_array_equal(rebuilt.predict(data), data.reshape(3, 2, 2) * 2.0)
    y = graphc.Input((4,), batch_size=5, name="y")
    fixed = graphc.Model(y, rebuilt.get_layer("fold")(y))
    assert fixed.outputs[0].type.shape == (5, 2, 2)


def test_a_function_replayed_on_incompatible_inputs_is_a_shape_error():
    x = graphc.Input((4,), name="x")
    model = graphc.Model(x, layers.Lambda(lambda t: t + 1.0, name="inc")(x))
    inc = graphc.models.model_from_json(model.to_json()).get_layer("inc")
    with pytest.raises(graphc.ShapeError, match="stored as IR for inputs"):
        inc(graphc.Input((5,)))


def test_lambda_that_was_never_called_cannot_be_stored():
    model = graphc.Sequential([layers.Lambda(lambda t: t), layers.Dense(2)], name="s")
    with pytest.raises(graphc.FrontendError, match="has never been called"):
        model.get_config()


def test_lambda_using_another_layers_weights_cannot_be_stored():
    dense = layers.Dense(2, name="d")
    x = graphc.Input((2,), name="x")
    h = dense(x)
    model = graphc.Model(x, layers.Lambda(lambda t: ops.matmul(t, dense.kernel))(h))
    with pytest.raises(graphc.FrontendError, match="uses the weight\\(s\\) d/kernel"):
        model.to_json()


def test_unbuilt_sequential_round_trips_unbuilt():
    model = graphc.Sequential([layers.Dense(3), layers.Dense(1)], name="later")
    rebuilt = graphc.models.model_from_json(model.to_json())
    assert not rebuilt.built and [type(layer) for layer in rebuilt.layers] == [layers.Dense] * 2
    assert rebuilt.to_json() == model.to_json()
    rebuilt.build((None, 4))
    assert rebuilt.count_params() == 4 * 3 + 3 + 3 + 1


def test_training_flag_of_a_call_is_kept():
    class Noise(layers.Layer):
        def call(self, x, training=False):
            return x + 1.0 if training else x

    x = graphc.Input((2,), name="x")
    model = graphc.Model(x, Noise(name="n")(x, training=True), name="m")
    node = json.loads(model.to_json())["config"]["nodes"][0]
    assert node["kwargs"] == {"training": True}
    rebuilt = graphc.models.model_from_json(model.to_json(), custom_objects={"Noise": Noise})
    np.testing.assert_array_equal(rebuilt.predict(np.zeros((1, 2), np.float32)), [[1.0, 1.0]])


@pytest.mark.parametrize("mutate, message", [
    (lambda c: c["config"]["nodes"][0]["inputs"].update(ref=["nowhere", 0, 0]),
     "refers to layer 'nowhere', which the model does not have (a dangling reference)"),
    (lambda c: c["config"]["nodes"][0]["inputs"].update(ref=["second", 0, 0]),
     "refers to call 0 of layer 'second', which comes later in 'nodes' (a cyclic"),
    (lambda c: c["config"]["nodes"][0]["inputs"].update(ref=["first", 0, 0]),
     "refers to call 0 of layer 'first', which comes later in 'nodes' (a cyclic"),
    (lambda c: c["config"]["nodes"][1]["inputs"].update(ref=["first", 3, 0]),
     "refers to call 3 of layer 'first', but the layer is called 1 time(s)"),
    (lambda c: c["config"]["nodes"][1]["inputs"].update(ref=["first", 0, 9]),
     "layer 'first' returns 1 tensor(s); there is no output 9"),
    (lambda c: c["config"]["nodes"][0]["inputs"].update(ref="first"),
     "a reference is [layer name, node index, tensor index]"),
    (lambda c: c["config"]["nodes"][0].update(layer="x"), "an InputLayer ('x') cannot be called"),
    (lambda c: c["config"].update(extra=1), "unknown key(s) 'extra'"),
    (lambda c: c["config"].pop("outputs"), "missing key(s) 'outputs'"),
    (lambda c: c["config"].update(trainable="yes"), "'trainable' must be true or false"),
    (lambda c: c["config"]["layers"].append(c["config"]["layers"][1]),
     "two layers are named 'first'"),
    (lambda c: c["config"]["layers"][1].update(shared="m/ghost"),
     "'shared' refers to 'm/ghost', which is not a layer written earlier"),
    (lambda c: c["config"]["layers"][1].update(class_name="Bogus"), "unknown layer 'Bogus'"),
    (lambda c: c.update(class_name="GlorotUniform", module="graphc.layers"),
     "unknown layer 'GlorotUniform'"),
    (lambda c: c["config"]["layers"][1]["config"].update(units=-1),
     "key 'units' expects an integer >= 1, received -1"),
    (lambda c: c["config"]["layers"][2].update(
        class_name="Reshape", config={"name": "second", "target_shape": [7]}),
     "nodes[1] (call of 'second') failed: Reshape 'second' expects 7 elements per sample"),
])
def test_broken_configs_are_load_errors(mutate, message):
    x = graphc.Input((3,), name="x")
    hidden = layers.Dense(3, name="first")(x)
    model = graphc.Model(x, layers.Dense(2, name="second")(hidden), name="m")
    config = json.loads(model.to_json())
    mutate(config)
    with pytest.raises(graphc.LoadError) as info:
        graphc.models.model_from_json(json.dumps(config))
    assert message in str(info.value)


@pytest.mark.parametrize("text, message", [
    ('{"a": 1, "a": 2}', "the key 'a' appears twice"),
    ('{"class_name": "Sequential", "config": NaN}', "'NaN' is not standard JSON"),
    ("[" * 100000 + "]" * 100000, "nested too deeply"),
    ("{", "not valid JSON"),
    ('"just a string"', "expected a JSON object with class_name and config"),
])
def test_malformed_json_is_a_load_error(text, message):
    with pytest.raises(graphc.LoadError, match=message):
        graphc.models.model_from_json(text)


def test_stored_functions_keep_large_constants_and_every_call_signature():
    model, data = zoo.ops_and_lambdas()
    entries = {e["name"]: e for e in json.loads(model.to_json())["config"]["layers"]}
    assert entries["project"]["config"]["function"]["ir"].startswith(
        'const @c0: f32[6,8] = base64"')
    twice = entries["twice"]["config"]["function"]
    assert sorted(twice["outputs"]) == ["call_0", "call_1"]
    assert "func @call_1(%x0: f32[N,6,2])" in twice["ir"]
    rebuilt = graphc.models.model_from_json(model.to_json())
    zoo.assert_same_predictions(model, rebuilt, data)


def test_a_layer_given_as_a_constructor_argument_round_trips():
    class Twice(layers.Layer):
        def __init__(self, inner, **kwargs):
            super().__init__(**kwargs)
            self.inner = inner

        def call(self, x):
            return self.inner(self.inner(x))

    layer = Twice(layers.Dense(3, activation="relu", name="shared_dense"), name="twice")
    config = layer.get_config()
    assert config["inner"]["class_name"] == "Dense"
    assert config["inner"]["config"]["name"] == "shared_dense"
    clone = Twice.from_config(json.loads(json.dumps(config)))
    assert isinstance(clone.inner, layers.Dense) and clone.inner is not layer.inner
    assert json.dumps(clone.get_config(), sort_keys=True) == json.dumps(config, sort_keys=True)
