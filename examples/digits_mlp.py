"""Train a Sequential MLP on scikit-learn's bundled digits (no download).

Run it (``make demo`` does)::

    python examples/digits_mlp.py

It prints the model summary, the compiled train step (one Func: forward +
loss + backward + Adam update, fused into kernels), the progress of every
epoch, and the accuracy on the held-out 20% of the data, which must reach
0.96.  The run is reproducible: seeded initializers and ``fit(seed=...)``
fix the weights, the shuffling and the dropout masks.  The gradient IR of the
model is also available from the CLI::

    graphc grad examples/digits_mlp.py:build_model --loss sparse_categorical_crossentropy
"""

from __future__ import annotations

import sys
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import graphc
from graphc import initializers, layers

SEED = 0
TARGET_ACCURACY = 0.96


def build_model() -> graphc.Sequential:
    """64 pixels -> 128 -> 64 -> 10 classes, ReLU, dropout, softmax."""
    init = initializers.GlorotUniform
    return graphc.Sequential([
        graphc.Input(shape=(64,), name="pixels"),
        layers.Dense(128, activation="relu", kernel_initializer=init(seed=SEED), name="hidden1"),
        layers.Dropout(0.2, name="dropout"),
        layers.Dense(64, activation="relu", kernel_initializer=init(seed=SEED + 1),
                     name="hidden2"),
        layers.Dense(10, activation="softmax", kernel_initializer=init(seed=SEED + 2),
                     name="digits"),
    ], name="digits_mlp")


def load_data() -> tuple[np.ndarray, ...]:
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)   # 8x8 images, pixel values 0..16
    return tuple(train_test_split(x, digits.target, test_size=0.2, random_state=SEED))


def main() -> int:
    x_train, x_test, y_train, y_test = load_data()
    print(f"digits: {len(x_train)} training and {len(x_test)} test images of 8x8 pixels\n")
    model = build_model()
    model.summary()
    model.compile(optimizer=graphc.optimizers.Adam(learning_rate=1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    start = time.perf_counter()
    history = model.fit(x_train, y_train, batch_size=32, epochs=40, validation_split=0.1,
                        seed=SEED, verbose=2)
    seconds = time.perf_counter() - start

    step = model.compiled_train_step
    compiled = step.executable.module
    kernels = sum(1 for f in compiled.funcs if f.primitive)
    print(f"\ntrain step: one compiled Func (forward + loss + backward + Adam update), "
          f"{len(step.module.entry.nodes)} IR nodes before passes, {kernels} fused kernels "
          f"on the '{step.program.backend_name}' backend; called once "
          f"per batch ({len(history.epoch)} epochs in {seconds:.1f} s including compilation)")

    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test loss {loss:.4f}, test accuracy {accuracy:.4f} "
          f"(target >= {TARGET_ACCURACY})")
    if accuracy < TARGET_ACCURACY:
        print("FAILED: test accuracy below the target", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
