"""The optimizer hook of the model-file format: a compiled, trained model saved
and loaded resumes training exactly where it stopped."""

from __future__ import annotations

import numpy as np
import pytest

import graphc
from graphc.training import schedules

from .conftest import INTERP, blobs, small_mlp


def test_training_resumes_exactly_after_save_and_load(tmp_path):
    x, y = blobs(40)
    model = small_mlp(dropout=0.2)
    optimizer = graphc.optimizers.Adam(schedules.ExponentialDecay(0.01, 10, 0.9))
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], backend=INTERP)
    model.fit(x, y, epochs=2, verbose=0, seed=0)
    path = tmp_path / "model.graphc"
    model.save(path)

    loaded = graphc.models.load_model(path)
    restored = loaded.optimizer
    assert isinstance(restored, graphc.optimizers.Adam)
    assert restored.get_config() == optimizer.get_config()
    for a, b in zip(restored.variables(), optimizer.variables()):
        np.testing.assert_array_equal(a, b)

    loaded.compile(optimizer=restored, loss="sparse_categorical_crossentropy",
                   metrics=["accuracy"], backend=INTERP)
    continued = model.fit(x, y, epochs=1, verbose=0, seed=3)
    resumed = loaded.fit(x, y, epochs=1, verbose=0, seed=3)
    assert resumed.history == continued.history
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def _resume_matches(model, x, y, path):
    model.save(path)
    loaded = graphc.models.load_model(path)
    loaded.compile(optimizer=loaded.optimizer, loss="sparse_categorical_crossentropy",
                   backend=INTERP)
    model.fit(x, y, epochs=1, verbose=0, seed=5, shuffle=False)
    loaded.fit(x, y, epochs=1, verbose=0, seed=5, shuffle=False)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_compiled_model_saved_before_training_loads(tmp_path):
    x, y = blobs(20)
    model = small_mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", backend=INTERP)
    _resume_matches(model, x, y, tmp_path / "untrained.graphc")


def test_slots_follow_their_weights_through_freezing(tmp_path):
    # a layer frozen for the first fit gets its slots after the others: the state
    # is matched to weights by identity, never by position
    x, y = blobs(30)
    model = small_mlp()
    first = model.layers[0]
    first.trainable = False
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", backend=INTERP)
    model.fit(x, y, epochs=1, verbose=0, seed=1)
    first.trainable = True
    model.compile(optimizer=model.optimizer, loss="sparse_categorical_crossentropy",
                  backend=INTERP)
    model.fit(x, y, epochs=1, verbose=0, seed=2)
    _resume_matches(model, x, y, tmp_path / "unfrozen.graphc")
    first.trainable = False                  # frozen at save time: its slots still load
    model.save(tmp_path / "frozen.graphc")
    assert graphc.models.load_model(tmp_path / "frozen.graphc").optimizer is not None


def test_a_loss_object_is_saved_and_a_loss_function_loads_uncompiled(tmp_path):
    x, y = blobs(20)
    model = small_mlp()
    model.compile(optimizer="sgd", backend=INTERP,
                  loss=graphc.losses.SparseCategoricalCrossentropy(from_logits=False))
    model.fit(x, y, epochs=1, verbose=0, seed=0)
    model.save(tmp_path / "object.graphc")
    loaded = graphc.models.load_model(tmp_path / "object.graphc")
    assert isinstance(loaded._training_config.loss, graphc.losses.SparseCategoricalCrossentropy)
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)

    def my_loss(y_true, y_pred):
        return graphc.losses.sparse_categorical_crossentropy(y_true, y_pred)

    model.compile(optimizer="sgd", loss=my_loss, backend=INTERP)
    model.save(tmp_path / "function.graphc")
    with pytest.warns(UserWarning, match="loaded uncompiled"):
        plain = graphc.models.load_model(tmp_path / "function.graphc")
    assert plain.optimizer is None
    np.testing.assert_array_equal(plain.predict(x, verbose=0), model.predict(x, verbose=0))
