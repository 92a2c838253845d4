"""``model.save`` / ``graphc.models.load_model``, ``save_weights`` / ``load_weights``."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pytest

import graphc
from graphc import layers
from graphc.saving import FORMAT_VERSION

from . import zoo


def test_loaded_model_predicts_the_same_to_the_bit(built, tmp_path):
    model, data = built
    path = tmp_path / "m.graphc"
    model.save(path)
    loaded = graphc.models.load_model(path)
    assert type(loaded) is type(model) and loaded.name == model.name
    assert loaded.to_json() == model.to_json()
    zoo.assert_same_predictions(model, loaded, data)


def test_default_backend_predictions_match_after_loading(tmp_path):
    model, data = zoo.two_in_two_out()
    model.save(tmp_path / "m.graphc")
    loaded = graphc.models.load_model(str(tmp_path / "m.graphc"))
    for got, want in zip(loaded.predict(data), model.predict(data)):
        np.testing.assert_array_equal(got, want)


def test_file_layout_and_metadata(tmp_path):
    model, _ = zoo.custom_layer()
    path = tmp_path / "m.graphc"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["config.json", "metadata.json", "weights.npz"]
        metadata = json.loads(archive.read("metadata.json"))
        config = archive.read("config.json").decode()
    assert metadata["format"] == "graphc-model"
    assert metadata["format_version"] == FORMAT_VERSION
    assert metadata["graphc_version"] == graphc.__version__
    assert metadata["date_saved"].endswith("+00:00")
    assert metadata["class_name"] == "Functional"
    assert {"Dense", "InputLayer", "Residual", "GlorotUniform"} <= set(metadata["classes"])
    assert metadata["weights"] == {"count": 7, "bytes": 4 * (1 + 2 * (3 * 4 + 4) + 4 * 2 + 2)}
    assert json.loads(config) == json.loads(model.to_json())
    with zipfile.ZipFile(path) as archive:
        archive.extract("weights.npz", tmp_path)
    with np.load(tmp_path / "weights.npz", allow_pickle=False) as weights:
        assert sorted(weights.files)[:2] == ["out/bias", "out/kernel"]
        np.testing.assert_array_equal(weights["res/scale"], 0.5)


def test_saving_twice_gives_the_same_members(tmp_path):
    model, _ = zoo.sequential_mlp()
    model.save(tmp_path / "a.graphc")
    model.save(tmp_path / "b.graphc")
    with zipfile.ZipFile(tmp_path / "a.graphc") as a, zipfile.ZipFile(tmp_path / "b.graphc") as b:
        for name in ("config.json", "weights.npz"):
            assert a.read(name) == b.read(name)


def test_save_is_atomic_and_leaves_nothing_behind(tmp_path):
    model, _ = zoo.sequential_mlp()
    target = tmp_path / "m.graphc"
    model.save(target)
    before = target.read_bytes()
    broken = graphc.Sequential([graphc.Input((2,)), layers.Lambda(lambda t: t),
                                layers.Dense(2, activation=lambda t: t)])
    with pytest.raises(graphc.FrontendError, match="not a graphc activation"):
        broken.save(target)
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.graphc"]
    with pytest.raises(graphc.GraphcError, match="overwrite=False"):
        model.save(target, overwrite=False)
    with pytest.raises(graphc.FrontendError, match="must end with .graphc"):
        model.save(tmp_path / "m.keras")
    with pytest.raises(graphc.GraphcError, match="cannot write"):
        model.save(tmp_path / "missing_dir" / "m.graphc")
    assert os.listdir(tmp_path) == ["m.graphc"]


def test_load_model_of_a_missing_file(tmp_path):
    with pytest.raises(graphc.LoadError, match="no such file"):
        graphc.models.load_model(tmp_path / "nothing.graphc")


def test_save_weights_and_load_weights(tmp_path):
    model, data = zoo.nested_models()
    path = tmp_path / "w.weights.npz"
    model.save_weights(path)
    with np.load(path, allow_pickle=False) as stored:
        assert "branch/proj/kernel" in stored.files and "stacked/top/bias" in stored.files
    other = graphc.models.clone_model(model)
    other.load_weights(path)
    zoo.assert_same_predictions(model, other, data)
    model.save(tmp_path / "m.graphc")
    third = graphc.models.clone_model(model)
    third.load_weights(tmp_path / "m.graphc")
    zoo.assert_same_predictions(model, third, data)


def test_load_weights_with_a_wrong_shape_names_the_weight(tmp_path):
    x = graphc.Input((3,), name="x")
    small = graphc.Model(x, layers.Dense(2, name="head")(x), name="m")
    small.save_weights(tmp_path / "w.npz")
    y = graphc.Input((3,), name="x")
    wide = graphc.Model(y, layers.Dense(5, name="head")(y), name="m")
    before = wide.get_weights()
    with pytest.raises(graphc.LoadError, match="weight 'head/kernel' of model 'm' has shape "
                                               "\\(3, 5\\); the file holds shape \\(3, 2\\)"):
        wide.load_weights(tmp_path / "w.npz")
    for old, now in zip(before, wide.get_weights()):  # nothing was half-assigned
        np.testing.assert_array_equal(old, now)


def test_load_weights_with_missing_and_unexpected_names(tmp_path):
    x = graphc.Input((3,), name="x")
    graphc.Model(x, layers.Dense(2, name="a")(x)).save_weights(tmp_path / "w.npz")
    y = graphc.Input((3,), name="x")
    other = graphc.Model(y, layers.Dense(2, name="b")(y))
    with pytest.raises(graphc.LoadError) as info:
        other.load_weights(tmp_path / "w.npz")
    message = str(info.value)
    assert "no array for weight(s) 'b/kernel', 'b/bias'" in message
    assert "holds array(s) 'a/kernel', 'a/bias' that the model does not have" in message


def test_load_weights_with_a_wrong_dtype(tmp_path):
    x = graphc.Input((3,), name="x")
    model = graphc.Model(x, layers.Dense(2, name="d")(x))
    np.savez(tmp_path / "w.npz", **{"d/kernel": np.zeros((3, 2)), "d/bias": np.zeros(2)})
    with pytest.raises(graphc.LoadError, match="weight 'd/kernel' of model '.*' is float32; "
                                               "the file holds float64"):
        model.load_weights(tmp_path / "w.npz")


def test_weights_file_names(tmp_path):
    model, _ = zoo.sequential_mlp()
    with pytest.raises(graphc.FrontendError, match="must end with .npz"):
        model.save_weights(tmp_path / "w.h5")
    with pytest.raises(graphc.FrontendError, match="must end with .npz or .graphc"):
        model.load_weights(tmp_path / "w.h5")


def test_odd_layer_names_make_safe_member_names(tmp_path):
    x = graphc.Input((2,), name="x")
    model = graphc.Model(x, layers.Dense(2, name="..")(layers.Dense(2, name="a b:c")(x)))
    model.save(tmp_path / "m.graphc")
    loaded = graphc.models.load_model(tmp_path / "m.graphc")
    data = np.ones((1, 2), np.float32)
    zoo.assert_same_predictions(model, loaded, data)
    with zipfile.ZipFile(tmp_path / "m.graphc") as archive:
        archive.extract("weights.npz", tmp_path)
    with zipfile.ZipFile(tmp_path / "weights.npz") as weights:
        assert sorted(weights.namelist()) == ["%2E%2E/bias.npy", "%2E%2E/kernel.npy",
                                              "a%20b%3Ac/bias.npy", "a%20b%3Ac/kernel.npy"]


def test_layers_of_a_loaded_model_point_at_the_file(tmp_path):
    model, _ = zoo.sequential_mlp()
    model.save(tmp_path / "m.graphc")
    loaded = graphc.models.load_model(tmp_path / "m.graphc")
    locs = {node.loc.file for node in loaded.to_ir().entry.nodes}
    assert locs == {os.path.relpath(tmp_path / "m.graphc")} or \
        locs == {str(tmp_path / "m.graphc")}


def test_a_model_subclass_is_saved_by_its_constructor_arguments(tmp_path):
    model = zoo.TwoStep(hidden=3, name="ts")
    assert model.get_config() == {"name": "ts", "trainable": True, "dtype": "float32",
                                  "hidden": 3}
    model.save(tmp_path / "ts.graphc")
    loaded = graphc.models.load_model(tmp_path / "ts.graphc")
    assert type(loaded) is zoo.TwoStep and loaded.name == "ts"
    data = np.ones((2, 3), np.float32)
    zoo.assert_same_predictions(model, loaded, data)


class _AutoNamedBlock(graphc.layers.base.Layer):
    """A custom layer whose sublayer takes an automatic name (dense, dense_1 ...)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.inner = layers.Dense(units)

    def call(self, x):
        return self.inner(x)


def test_load_weights_into_a_clone_whose_sublayers_got_new_automatic_names(tmp_path):
    x = graphc.Input((4,), name="x")
    model = graphc.Model(x, _AutoNamedBlock(3, name="blk")(x))
    model.save_weights(tmp_path / "w.npz")
    twin = graphc.models.clone_model(model)
    assert [w.path for w in twin.weights] != [w.path for w in model.weights]
    twin.load_weights(tmp_path / "w.npz")
    data = np.ones((2, 4), np.float32)
    np.testing.assert_array_equal(twin.predict(data, verbose=0), model.predict(data, verbose=0))
