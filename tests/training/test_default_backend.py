"""Training on graphc.compiled.DEFAULT_BACKEND (numba): reproducibility, agreement
with the interpreter and with the custom-loop style, and a held-out accuracy.

Tolerances: the same seed on the same backend is bit for bit; numba against
the interpreter, and tape loop against fit, agree within 1e-5 relative (f32).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import graphc
from graphc.compiled import DEFAULT_BACKEND
from graphc.training import epoch_order

from .conftest import INTERP, blobs, small_mlp

EPOCHS = 3


def _fit(backend, seed=4, dropout=0.3):
    model = small_mlp(dropout=dropout, hidden=16)
    model.compile(optimizer=graphc.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], backend=backend)
    history = model.fit(*blobs(100), batch_size=16, epochs=EPOCHS, seed=seed, verbose=0)
    return model, history


def test_default_backend_is_numba_and_a_seed_reproduces_a_run_bit_for_bit():
    assert DEFAULT_BACKEND == "numba"
    first, h1 = _fit(None)
    second, h2 = _fit(None)
    assert first.compiled_train_step.program.backend_name == DEFAULT_BACKEND
    assert h1.history == h2.history
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)
    third, h3 = _fit(None, seed=5)  # another seed: other shuffles and masks
    assert h3.history["loss"] != h1.history["loss"]


def test_numba_and_the_interpreter_reach_the_same_loss():
    _, numba = _fit(None)
    _, interp = _fit(INTERP)
    np.testing.assert_allclose(numba.history["loss"], interp.history["loss"], rtol=1e-5)


def test_a_gradient_tape_loop_reaches_the_same_loss_as_fit():
    _, history = _fit(None)
    model = small_mlp(dropout=0.3, hidden=16)
    optimizer = graphc.optimizers.Adam(0.01)
    loss_fn = graphc.losses.SparseCategoricalCrossentropy()
    seeds = graphc.random.SeedGenerator(4)
    x, y = blobs(100)
    for epoch in range(EPOCHS):
        order, total = epoch_order(len(x), seeds, epoch), 0.0
        for start in range(0, len(x), 16):
            index = order[start:start + 16]
            with graphc.GradientTape(seed=seeds) as tape:
                loss = loss_fn(y[index], model(x[index], training=True))
            grads = tape.gradient(loss, model.trainable_weights)
            optimizer.apply_gradients(zip(grads, model.trainable_weights))
            total += float(loss) * len(index)
        assert total / len(x) == pytest.approx(history.history["loss"][epoch], rel=1e-5)


def test_digits_mlp_reaches_the_stated_test_accuracy():
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(x, digits.target, test_size=0.2,
                                                        random_state=0)
    model = small_mlp(features=64, classes=10, hidden=64, dropout=0.1)
    model.compile(optimizer=graphc.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=32, epochs=20, seed=0, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy >= 0.96
