"""A Functional model with two inputs, two outputs and two losses.

Inputs: the 8x8 digit image and 16 summary features (its row and column ink
sums).  Outputs: the digit class (softmax, sparse categorical cross-entropy)
and the total amount of ink (a regression, mean squared error).  The two
losses are combined with ``loss_weights``; each output has its own metrics,
and the logs name them per output (``digit_accuracy``, ``ink_mae`` ...).
Run it::

    python examples/functional_two_heads.py

or look at the gradient IR of the combined objective from the CLI::

    graphc grad examples/functional_two_heads.py:build_model --reduce mean --wrt shared/kernel
"""

from __future__ import annotations

import sys

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import graphc
from graphc import initializers, layers

SEED = 1


def build_model() -> graphc.Model:
    init = initializers.GlorotUniform
    pixels = graphc.Input(shape=(64,), name="pixels")
    sums = graphc.Input(shape=(16,), name="sums")
    image = layers.Dense(64, activation="relu", kernel_initializer=init(seed=SEED),
                         name="image_features")(pixels)
    summary = layers.Dense(16, activation="relu", kernel_initializer=init(seed=SEED + 1),
                           name="sum_features")(sums)
    joined = layers.concatenate([image, summary], name="joined")
    shared = layers.Dense(64, activation="relu", kernel_initializer=init(seed=SEED + 2),
                          name="shared")(joined)
    digit = layers.Dense(10, activation="softmax", kernel_initializer=init(seed=SEED + 3),
                         name="digit")(shared)
    ink = layers.Dense(1, kernel_initializer=init(seed=SEED + 4), name="ink")(shared)
    return graphc.Model(inputs=[pixels, sums], outputs=[digit, ink], name="two_heads")


def load_data():
    digits = load_digits()
    images = (digits.data / 16.0).astype(np.float32)
    grid = images.reshape(-1, 8, 8)
    sums = np.concatenate([grid.sum(axis=1), grid.sum(axis=2)], axis=1) / 8.0
    ink = images.sum(axis=1, keepdims=True) / 64.0
    return train_test_split(images, sums.astype(np.float32), digits.target,
                            ink.astype(np.float32), test_size=0.2, random_state=SEED)


def main() -> int:
    (x_img, x_img_test, x_sums, x_sums_test, y_digit, y_digit_test,
     y_ink, y_ink_test) = load_data()
    model = build_model()
    model.summary()
    model.compile(optimizer=graphc.optimizers.Adam(learning_rate=2e-3),
                  loss={"digit": "sparse_categorical_crossentropy", "ink": "mse"},
                  loss_weights={"digit": 1.0, "ink": 0.5},
                  metrics={"digit": ["accuracy"], "ink": ["mae"]})
    history = model.fit({"pixels": x_img, "sums": x_sums}, {"digit": y_digit, "ink": y_ink},
                        batch_size=32, epochs=25, validation_split=0.1, seed=SEED,
                        callbacks=[graphc.callbacks.EarlyStopping(
                            monitor="val_loss", patience=5, restore_best_weights=True)])
    print(f"\nlogged per epoch: {', '.join(history.history)}")
    results = model.evaluate([x_img_test, x_sums_test], [y_digit_test, y_ink_test],
                             return_dict=True, verbose=0)
    print("test: " + ", ".join(f"{k} {v:.4f}" for k, v in results.items()))
    digit_probs, ink = model.predict([x_img_test[:3], x_sums_test[:3]])
    print(f"first three test images: digits {digit_probs.argmax(axis=1).tolist()} "
          f"(true {y_digit_test[:3].tolist()}), ink {[round(float(v), 3) for v in ink[:, 0]]} "
          f"(true {[round(float(v), 3) for v in y_ink_test[:3, 0]]})")
    if results["digit_accuracy"] < 0.9:
        print("FAILED: the digit head did not learn", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
