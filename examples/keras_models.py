"""Keras-style models in graphc: build, inspect, compile, predict, slice.

Run it::

    python examples/keras_models.py

or point the CLI at the models it defines (the file is executed, its
``__main__`` block is not)::

    graphc show examples/keras_models.py:mnist_mlp
    graphc show examples/keras_models.py:two_inputs_two_outputs --summary
    graphc show examples/keras_models.py:features

Each prediction below is checked against numpy computed from the model's
own ``get_weights()``.
"""

from __future__ import annotations

import numpy as np

import graphc
from graphc import layers, ops


def mnist_mlp() -> graphc.Sequential:
    """784-512-10, the classic MNIST MLP: 407,050 parameters."""
    return graphc.Sequential([
        graphc.Input(shape=(784,), name="pixels"),
        layers.Dense(512, activation="relu", name="hidden"),
        layers.Dropout(0.2),
        layers.Dense(10, activation="softmax", name="digits"),
    ], name="mnist_mlp")


def two_inputs_two_outputs() -> graphc.Model:
    """An image vector and metadata in; a class and a score out."""
    image = graphc.Input(shape=(64,), name="image")
    meta = graphc.Input(shape=(5,), name="meta")
    features = layers.Dense(32, activation="relu", name="features")(image)
    joined = layers.Concatenate(name="joined")([features, meta])
    hidden = layers.LayerNormalization(name="norm")(layers.Dense(16, activation="gelu",
                                                                 name="mix")(joined))
    label = layers.Dense(4, activation="softmax", name="label")(hidden)
    score = ops.sum(hidden * hidden, axis=-1, keepdims=True)  # an op node in the graph
    return graphc.Model(inputs={"image": image, "meta": meta},
                        outputs={"label": label, "score": score}, name="two_by_two")


def backbone() -> graphc.Model:
    """A base network whose blocks sit inside a nested Sequential."""
    blocks = graphc.Sequential([layers.Dense(32, activation="relu", name=f"block{i}")
                                for i in range(1, 5)], name="blocks")
    x = graphc.Input(shape=(16,), name="x")
    return graphc.Model(x, layers.Dense(3, activation="softmax", name="classifier")(blocks(x)),
                        name="backbone")


def features() -> graphc.Model:
    """Transfer learning: the backbone up to block4 (inside the nested model),
    sharing the backbone's weights."""
    base = backbone()
    block4 = base.get_layer("blocks").get_layer("block4")
    return graphc.Model(inputs=base.input, outputs=block4.output, name="features")


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def main() -> None:
    rng = np.random.default_rng(0)

    mlp = mnist_mlp()
    mlp.summary()
    x = rng.random((8, 784), dtype=np.float32)
    k1, b1, k2, b2 = mlp.get_weights()
    expected = _softmax(_relu(x @ k1 + b1) @ k2 + b2)
    np.testing.assert_allclose(mlp.predict(x, batch_size=4), expected, rtol=1e-5, atol=1e-6)
    print("mnist_mlp.predict matches numpy\n")

    model = two_inputs_two_outputs()
    model.summary()
    out = model.predict({"image": rng.normal(size=(3, 64)), "meta": rng.normal(size=(3, 5))})
    print({name: value.shape for name, value in out.items()}, "\n")

    sliced = features()
    print(graphc.ir.print_module(sliced.to_ir()))
    data = rng.normal(size=(2, 16)).astype(np.float32)
    h = data
    for layer in sliced.get_layer("blocks").layers:
        kernel, bias = layer.get_weights()
        h = _relu(h @ kernel + bias)
    np.testing.assert_allclose(sliced.predict(data), h, rtol=1e-5, atol=1e-6)
    print("features.predict (block4 inside the nested model) matches numpy")


if __name__ == "__main__":
    main()
