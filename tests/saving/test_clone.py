"""``clone_model``: same architecture, new layers and weights; shared layers
cloned once; ``clone_function`` and ``input_tensors``."""

from __future__ import annotations

import numpy as np
import pytest

import graphc
from graphc import layers

from . import zoo


def test_clone_has_the_architecture_and_new_weights(built):
    model, data = built
    clone = graphc.models.clone_model(model)
    assert clone.to_json() == model.to_json()
    assert not any(a is b for a in clone.weights for b in model.weights)
    originals = {id(op) for op in model.operations}
    assert not any(id(op) in originals for op in clone.operations)
    clone.set_weights(model.get_weights())
    zoo.assert_same_predictions(model, clone, data)


def test_clone_weights_are_reinitialized():
    model, _ = zoo.sequential_mlp()
    clone = graphc.models.clone_model(model)
    kernel, cloned = model.get_layer("dense").kernel, clone.get_layer("dense").kernel
    assert kernel.shape == cloned.shape
    assert not np.array_equal(kernel.numpy(), cloned.numpy())  # glorot draws afresh
    np.testing.assert_array_equal(clone.get_layer("dense_1").bias.numpy(), np.zeros(4))


def test_a_shared_layer_is_cloned_once():
    model, _ = zoo.shared_layer()
    seen = []

    def clone_function(layer):
        seen.append(layer.name)
        return graphc.saving.clone_layer(layer)

    clone = graphc.models.clone_model(model, clone_function=clone_function)
    assert seen.count("encoder") == 1
    encoder = clone.get_layer("encoder")
    assert len([s for s in clone.graph.sites if s.layer is encoder]) == 3
    assert len(clone.weights) == len(model.weights)


def test_shared_nested_model_stays_shared_in_the_default_clone():
    model, _ = zoo.nested_models()
    clone = graphc.models.clone_model(model)
    assert clone.get_layer("branch").get_layer("inner") is clone.get_layer("inner")
    assert clone.get_layer("inner") is not model.get_layer("inner")


def test_clone_function_can_rename_and_replace_layers():
    model, data = zoo.two_in_two_out()

    def clone_function(layer):
        if layer.name == "features":
            return layers.Dense(5, activation="relu", name="features_relu")
        config = layer.get_config()
        config["name"] = "new_" + layer.name
        return type(layer).from_config(config)

    clone = graphc.models.clone_model(model, clone_function=clone_function)
    names = [op.name for op in clone.operations]
    assert names == ["image", "meta", "features_relu", "new_joined", "new_label", "new_score"]
    assert clone.get_layer("features_relu").activation is graphc.activations.relu
    clone.set_weights(model.get_weights())
    got = clone.compiled("interpreter", None)(data)
    w = {layer.name: layer.get_weights() for layer in model.layers if layer.weights}
    features = np.maximum(data[0] @ w["features"][0] + w["features"][1], 0)
    joined = np.concatenate([features, data[1]], -1)
    np.testing.assert_allclose(got[1], joined @ w["score"][0] + w["score"][1], rtol=1e-5,
                               atol=1e-6)


def test_clone_function_may_return_the_original_to_share_weights():
    model, data = zoo.sequential_mlp()
    clone = graphc.models.clone_model(model, clone_function=lambda layer: layer)
    assert clone.get_layer("dense").kernel is model.get_layer("dense").kernel
    zoo.assert_same_predictions(model, clone, data)


def test_clone_on_new_input_tensors():
    model, data = zoo.two_in_two_out()
    image = graphc.Input((6,), name="new_image")
    meta = graphc.Input((3,), name="new_meta")
    clone = graphc.models.clone_model(model, input_tensors=[image, meta])
    assert clone.inputs == [image, meta]
    clone.set_weights(model.get_weights())
    zoo.assert_same_predictions(model, clone, data)


def test_sequential_clone_on_an_intermediate_tensor_becomes_functional():
    model, data = zoo.sequential_mlp()
    x = graphc.Input((8,), name="raw")
    scaled = layers.Activation("linear", name="scaled")(x)
    clone = graphc.models.clone_model(model, input_tensors=scaled)
    assert type(clone) is graphc.Model
    functional = graphc.Model(x, clone(x))
    functional.set_weights(model.get_weights())
    zoo.assert_same_predictions(model, functional, data)


@pytest.mark.parametrize("kwargs, message", [
    ({"input_tensors": [np.zeros((1, 8))]}, "input_tensors must be symbolic tensors"),
    ({"input_tensors": []}, "has 1 input\\(s\\); input_tensors holds 0"),
    ({"clone_function": 3}, "clone_function must be callable"),
    ({"clone_function": lambda layer: "nope"}, "clone_function must return a graphc Layer"),
])
def test_clone_argument_errors(kwargs, message):
    model, _ = zoo.sequential_mlp()
    with pytest.raises(graphc.FrontendError, match=message):
        graphc.models.clone_model(model, **kwargs)


def test_clone_of_a_layer_is_an_error():
    with pytest.raises(graphc.FrontendError, match="expects a graphc Model"):
        graphc.models.clone_model(layers.Dense(2))
