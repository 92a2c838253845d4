"""A custom training loop with a gradient tape (the imperative style).

The same digits MLP as ``digits_mlp.py``, trained three ways from the same
initial weights and the same seed:

1. eagerly, with ``graphc.GradientTape`` -- the model call and the loss are
   recorded as IR, differentiated by the autodiff transform, and the compiled
   gradient is cached by the recording's structure, so only the first
   iteration compiles;
2. with the whole step under ``@graphc.function`` -- one Func per step
   (forward, loss, gradient and Adam update), like ``fit``'s;
3. with ``model.fit``.

All three visit the batches in the same order (``graphc.training.epoch_order``)
and draw the same dropout masks (one key per step from a
``graphc.random.SeedGenerator``), so they reach the same loss.  Run it::

    python examples/custom_loop.py
"""

from __future__ import annotations

import sys

import numpy as np

import graphc
from graphc.training import epoch_order

from digits_mlp import SEED, build_model, load_data

EPOCHS = 5
BATCH = 32


def batches(count: int, seeds: graphc.random.SeedGenerator, epoch: int):
    order = epoch_order(count, seeds, epoch)
    for start in range(0, count, BATCH):
        yield order[start:start + BATCH]


def train_with_tape(model, x, y) -> float:
    """Style 1: record, differentiate, apply -- written out by hand."""
    loss_fn = graphc.losses.SparseCategoricalCrossentropy()
    optimizer = graphc.optimizers.Adam(learning_rate=1e-3)
    seeds = graphc.random.SeedGenerator(SEED)
    for epoch in range(EPOCHS):
        total = 0.0
        for index in batches(len(x), seeds, epoch):
            with graphc.GradientTape(seed=seeds) as tape:
                probabilities = model(x[index], training=True)
                loss = loss_fn(y[index], probabilities)
            grads = tape.gradient(loss, model.trainable_weights)
            optimizer.apply_gradients(zip(grads, model.trainable_weights))
            total += float(loss) * len(index)
        print(f"  tape      epoch {epoch + 1}: loss {total / len(x):.6f}")
    return total / len(x)


def train_with_function(model, x, y) -> float:
    """Style 2: the same step, compiled whole by graphc.function."""
    loss_fn = graphc.losses.SparseCategoricalCrossentropy()
    optimizer = graphc.optimizers.Adam(learning_rate=1e-3)
    seeds = graphc.random.SeedGenerator(SEED)

    @graphc.function(seed=seeds)
    def train_step(x_batch, y_batch):
        with graphc.GradientTape() as tape:
            probabilities = model(x_batch, training=True)
            loss = loss_fn(y_batch, probabilities)
        grads = tape.gradient(loss, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        return loss

    for epoch in range(EPOCHS):
        total = 0.0
        for index in batches(len(x), seeds, epoch):
            total += float(train_step(x[index], y[index])) * len(index)
        print(f"  function  epoch {epoch + 1}: loss {total / len(x):.6f}")
    return total / len(x)


def main() -> int:
    x_train, _, y_train, _ = load_data()
    model = build_model()
    initial = model.get_weights()
    print("custom loop with graphc.GradientTape:")
    tape_loss = train_with_tape(model, x_train, y_train)

    model.set_weights(initial)
    print("the same step under @graphc.function:")
    function_loss = train_with_function(model, x_train, y_train)

    model.set_weights(initial)
    model.compile(optimizer=graphc.optimizers.Adam(learning_rate=1e-3),
                  loss="sparse_categorical_crossentropy")
    print("model.fit:")
    history = model.fit(x_train, y_train, batch_size=BATCH, epochs=EPOCHS, seed=SEED, verbose=2)
    fit_loss = history.history["loss"][-1]

    spread = max(tape_loss, function_loss, fit_loss) - min(tape_loss, function_loss, fit_loss)
    print(f"final epoch loss: tape {tape_loss:.6f}, function {function_loss:.6f}, "
          f"fit {fit_loss:.6f} (spread {spread:.2e})")
    if not np.isclose(tape_loss, fit_loss, rtol=1e-3) or \
            not np.isclose(function_loss, fit_loss, rtol=1e-3):
        print("FAILED: the three styles disagree", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
