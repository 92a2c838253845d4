"""Optimizer state in model files: a compiled, trained model resumes training
after ``load_model`` exactly where it stopped."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import graphc
from graphc import layers

from .hostile import edit_json, members, npz, replaced


def trained_model():
    model = graphc.Sequential([graphc.Input((3,), name="x"), layers.Dense(4, activation="relu"),
                               layers.Dense(1)], name="reg")
    model.compile(optimizer=graphc.optimizers.Adam(learning_rate=0.01), loss="mse",
                  metrics=["mae"], backend="interpreter")
    rng = np.random.default_rng(3)
    x = rng.normal(size=(16, 3)).astype(np.float32)
    y = rng.normal(size=(16, 1)).astype(np.float32)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False)
    return model, x, y


def test_optimizer_state_is_saved_and_training_resumes_identically(tmp_path):
    model, x, y = trained_model()
    model.save(tmp_path / "m.graphc")
    with zipfile.ZipFile(tmp_path / "m.graphc") as archive:
        assert {"optimizer.json", "optimizer.npz"} <= set(archive.namelist())
        described = json.loads(archive.read("optimizer.json"))
    assert described["optimizer"]["class_name"] == "Adam"
    assert described["compile"] == {"loss": "mse", "metrics": ["mae"]}
    loaded = graphc.models.load_model(tmp_path / "m.graphc")
    assert type(loaded.optimizer) is graphc.optimizers.Adam
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    saved_state, restored = model.optimizer.variables(), loaded.optimizer.variables()
    assert len(saved_state) == 1 + 2 * 4 and int(restored[0]) == 4  # 2 epochs x 2 batches
    for a, b in zip(saved_state, restored):
        np.testing.assert_array_equal(a, b)
    loaded.compile(optimizer=loaded.optimizer, loss="mse", backend="interpreter")
    model.compile(optimizer=model.optimizer, loss="mse", backend="interpreter")
    first = model.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False).history
    second = loaded.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False).history
    assert first == second
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_compile_false_skips_the_optimizer(tmp_path):
    model, _, _ = trained_model()
    model.save(tmp_path / "m.graphc")
    assert graphc.models.load_model(tmp_path / "m.graphc", compile=False).optimizer is None


def test_uncompiled_models_have_no_optimizer_members(tmp_path):
    model = graphc.Sequential([graphc.Input((2,)), layers.Dense(1)])
    model.save(tmp_path / "m.graphc")
    with zipfile.ZipFile(tmp_path / "m.graphc") as archive:
        assert "optimizer.json" not in archive.namelist()


@pytest.mark.parametrize("corrupt, message", [
    (lambda d: edit_json(d, "optimizer.json", lambda o: o["optimizer"].update(class_name="Evil")),
     "unknown optimizer 'Evil'"),
    (lambda d: edit_json(d, "optimizer.json", lambda o: o.update(extra=1)),
     "expected exactly the keys compile, optimizer, variables"),
    (lambda d: replaced(d, optimizer_npz=npz({"0000": np.zeros((), np.int64)})),
     "'variables' must list one name per array of optimizer.npz"),
    (lambda d: edit_json(d, "optimizer.json", lambda o: o["optimizer"]["config"].update(
        beta_1="x")), "optimizer.json, optimizer: cannot create Adam from its config"),
])
def test_broken_optimizer_state_is_a_load_error(corrupt, message, tmp_path):
    model, _, _ = trained_model()
    model.save(tmp_path / "m.graphc")
    data = (tmp_path / "m.graphc").read_bytes()
    assert "optimizer.npz" in members(data)
    (tmp_path / "bad.graphc").write_bytes(corrupt(data))
    with pytest.raises(graphc.LoadError, match=message):
        graphc.models.load_model(tmp_path / "bad.graphc")
