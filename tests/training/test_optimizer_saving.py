"""The optimizer hook of the model-file format: a compiled, trained model saved
and loaded resumes training exactly where it stopped."""

from __future__ import annotations

import numpy as np

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
