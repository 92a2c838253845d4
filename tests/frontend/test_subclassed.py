"""Subclassed models (``graphc.Model`` with ``call``): built from the first
input types into an ordinary graph, so they predict, summarize, lower to IR,
expose intermediate outputs, train, nest and save like Functional models."""

from __future__ import annotations

import numpy as np
import pytest

import graphc
from graphc import layers, ops
from graphc.errors import FrontendError, LoadError

TOL = dict(rtol=1e-5, atol=1e-6)


class TwoLayer(graphc.Model):
    def __init__(self, hidden=6, classes=3, **kwargs):
        super().__init__(**kwargs)
        self.hidden = layers.Dense(hidden, activation="relu", name="hidden")
        self.drop = layers.Dropout(0.5, name="drop")
        self.head = layers.Dense(classes, name="head")

    def call(self, inputs, training=None):
        return ops.softmax(self.head(self.drop(self.hidden(inputs), training=training)))


class Pair(graphc.Model):
    """Two named inputs; Python control flow on shapes is allowed."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.proj = layers.Dense(3, name="proj")

    def call(self, inputs):
        a, b = inputs["a"], inputs["b"]
        if a.shape[-1] != b.shape[-1]:
            b = self.proj(b)
        return a * b


def numpy_two_layer(model, x):
    k1, b1, k2, b2 = model.get_weights()
    logits = np.maximum(x @ k1 + b1, 0) @ k2 + b2
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.fixture
def x():
    return np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)


def test_builds_on_first_data_call_and_matches_numpy(x):
    model = TwoLayer(name="clf")
    assert not model.built
    np.testing.assert_allclose(model.predict(x), numpy_two_layer(model, x), **TOL)
    assert model.built and [w.shape for w in model.weights] == [(4, 6), (6,), (6, 3), (3,)]
    for backend in ("interpreter", "numba"):
        np.testing.assert_allclose(graphc.compile(model, backend=backend)(x),
                                   numpy_two_layer(model, x), **TOL)


def test_summary_ir_and_intermediate_outputs(x, capsys):
    model = TwoLayer(name="clf")
    model.build((None, 4))
    model.summary()
    text = capsys.readouterr().out
    assert "hidden (Dense)" in text and "Total params: 51" in text
    module = model.to_ir()
    graphc.ir.verify(module)
    locs = {n.loc.path for n in module.entry.nodes if n.loc is not None}
    assert "clf/hidden" in locs and "clf/head" in locs
    features = graphc.Model(model.input, model.get_layer("hidden").output)
    k1, b1, _, _ = model.get_weights()
    np.testing.assert_allclose(features.predict(x), np.maximum(x @ k1 + b1, 0), **TOL)


def test_dict_inputs_and_shape_dependent_python():
    model = Pair(name="pair")
    a = np.ones((2, 3), np.float32)
    b = np.full((2, 5), 2.0, np.float32)
    out = model({"a": a, "b": b})
    k, bias = model.get_weights()
    np.testing.assert_allclose(out, a * (b @ k + bias), **TOL)
    assert model.input_names == ["a", "b"]


def test_nested_in_a_functional_model(x):
    inner = TwoLayer(name="inner")
    inp = graphc.Input((4,), name="x")
    outer = graphc.Model(inp, layers.Dense(2, name="top")(inner(inp)), name="outer")
    k, b = outer.get_layer("top").get_weights()
    np.testing.assert_allclose(outer.predict(x), numpy_two_layer(inner, x) @ k + b, **TOL)


def test_trains_with_fit_and_dropout(x):
    model = TwoLayer(name="clf")
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(x, np.array([0, 1, 2, 0, 1]), epochs=4, verbose=0, seed=1)
    losses = history.history["loss"]
    assert len(losses) == 4 and all(np.isfinite(losses))
    np.testing.assert_allclose(model.predict(x), numpy_two_layer(model, x), **TOL)  # inference


def test_save_and_load_rebuilds_the_graph(tmp_path, x):
    model = TwoLayer(hidden=5, name="clf")
    model.predict(x)
    path = tmp_path / "clf.graphc"
    model.save(path)
    loaded = graphc.models.load_model(path, custom_objects={"TwoLayer": TwoLayer})
    assert isinstance(loaded, TwoLayer) and loaded.built
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_malformed_build_config_is_a_load_error():
    from graphc.saving.build_config import apply_build_config
    with pytest.raises(LoadError, match="build input shape"):
        apply_build_config(TwoLayer(), {"structure": "single",
                                        "inputs": [{"shape": [None, -4], "dtype": "f32"}]}, "f")
    with pytest.raises(LoadError, match="'structure' must be"):
        apply_build_config(TwoLayer(), {"structure": "tree",
                                        "inputs": [{"shape": [None, 4], "dtype": "f32"}]}, "f")


def test_errors_are_clear(x):
    with pytest.raises(FrontendError, match="subclassed model 'lazy' is not built yet"):
        TwoLayer(name="lazy").summary()

    class Broken(graphc.Model):
        def call(self, inputs):
            return 3.0

    with pytest.raises(FrontendError, match="Broken.call must return graphc tensors"):
        Broken().predict(x)
    with pytest.raises(FrontendError, match="or a subclass that defines call"):
        graphc.Model()
    with pytest.raises(FrontendError, match="build expects an input shape"):
        TwoLayer().build("wide")
