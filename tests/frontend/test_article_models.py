"""The article's examples as tests: each model's ``predict`` against numpy
computed from its ``get_weights()`` (tolerance 1e-5), plus parameter totals.

Sequential MNIST-sized MLPs, a Functional two-input two-output model, a
transfer-learning slice (also from inside nested models), a shared layer,
nesting both ways, deferred building and add/pop.
"""

from __future__ import annotations

import numpy as np
import pytest

import graphc
from graphc import layers

from .conftest import TOL, np_relu, np_softmax


def mlp(*hidden, name=None):
    model = graphc.Sequential([graphc.Input(shape=(784,))], name=name)
    for units in hidden:
        model.add(layers.Dense(units, activation="relu"))
    model.add(layers.Dense(10, activation="softmax"))
    return model


def np_mlp(weights, x):
    pairs = list(zip(weights[::2], weights[1::2]))
    for kernel, bias in pairs[:-1]:
        x = np_relu(x @ kernel + bias)
    return np_softmax(x @ pairs[-1][0] + pairs[-1][1])


@pytest.mark.parametrize("hidden, total", [((512,), 407_050), ((512, 512), 669_706)])
def test_mnist_mlp(hidden, total, rng):
    model = mlp(*hidden)
    assert model.count_params() == total
    assert [w.shape for w in model.get_weights()][:2] == [(784, 512), (512,)]  # Keras layout
    x = rng.random((20, 784), dtype=np.float32)
    np.testing.assert_allclose(model.predict(x, batch_size=8), np_mlp(model.get_weights(), x),
                               **TOL)
    np.testing.assert_allclose(model(x[:3]), np_mlp(model.get_weights(), x[:3]), **TOL)


def two_in_two_out():
    image = graphc.Input(shape=(64,), name="image")
    meta = graphc.Input(shape=(5,), name="meta")
    features = layers.Dense(32, activation="relu", name="features")(image)
    joined = layers.Concatenate(name="joined")([features, meta])
    hidden = layers.Dense(16, activation="tanh", name="hidden")(joined)
    label = layers.Dense(4, activation="softmax", name="label")(hidden)
    score = layers.Dense(1, name="score")(hidden)
    return image, meta, label, score


def np_two_in_two_out(model, image, meta):
    w = {layer.name: layer.get_weights() for layer in model.layers if layer.weights}
    features = np_relu(image @ w["features"][0] + w["features"][1])
    hidden = np.tanh(np.concatenate([features, meta], -1) @ w["hidden"][0] + w["hidden"][1])
    return (np_softmax(hidden @ w["label"][0] + w["label"][1]),
            hidden @ w["score"][0] + w["score"][1])


def test_functional_two_inputs_two_outputs(rng):
    image, meta, label, score = two_in_two_out()
    model = graphc.Model(inputs=[image, meta], outputs=[label, score], name="two_by_two")
    x_image = rng.normal(size=(7, 64)).astype(np.float32)
    x_meta = rng.normal(size=(7, 5)).astype(np.float32)
    want = np_two_in_two_out(model, x_image, x_meta)
    for given in ([x_image, x_meta], {"image": x_image, "meta": x_meta}):
        got = model.predict(given)
        assert isinstance(got, list) and len(got) == 2
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, **TOL)


def test_dict_inputs_and_outputs(rng):
    image, meta, label, score = two_in_two_out()
    model = graphc.Model({"img": image, "m": meta}, {"label": label, "score": score})
    x_image = rng.normal(size=(3, 64)).astype(np.float64)  # converted to float32
    x_meta = rng.normal(size=(3, 5)).astype(np.float32)
    got = model({"img": x_image, "m": x_meta})
    assert set(got) == {"label", "score"} and got["label"].dtype == np.float32
    want = np_two_in_two_out(model, x_image.astype(np.float32), x_meta)
    np.testing.assert_allclose(got["label"], want[0], **TOL)
    np.testing.assert_allclose(got["score"], want[1], **TOL)
    by_name = model.predict({"image": x_image, "meta": x_meta})  # input names work too
    np.testing.assert_allclose(by_name["score"], want[1], **TOL)


def blocks_model():
    return graphc.Sequential([
        graphc.Input(shape=(12,), name="pixels"),
        layers.Dense(10, activation="relu", name="block1"),
        layers.Dense(8, activation="relu", name="block2"),
        layers.Dense(6, activation="relu", name="block3"),
        layers.Dense(4, activation="relu", name="block4"),
        layers.Dense(3, activation="softmax", name="classifier"),
    ], name="base")


def np_chain(model_layers, x, upto):
    for layer in model_layers:
        kernel, bias = layer.get_weights()
        x = x @ kernel + bias
        if layer.name == upto:
            return np_relu(x)
        x = np_relu(x) if layer.name != "classifier" else np_softmax(x)
    return x


def test_transfer_learning_slice_shares_weights(rng):
    base = blocks_model()
    features = graphc.Model(inputs=base.input, outputs=base.get_layer("block4").output)
    assert features.output_shape == (None, 4) and features.count_params() == 130 + 88 + 54 + 28
    x = rng.normal(size=(5, 12)).astype(np.float32)
    np.testing.assert_allclose(features.predict(x), np_chain(base.layers, x, "block4"), **TOL)
    compiled = graphc.compile(features)
    base.get_layer("block2").set_weights([np.ones((10, 8), np.float32), np.zeros(8, np.float32)])
    assert graphc.compile(features) is compiled  # weights are inputs: no recompile
    np.testing.assert_allclose(features.predict(x), np_chain(base.layers, x, "block4"), **TOL)


def test_slice_from_inside_nested_models(rng):
    inner = graphc.Sequential([
        layers.Dense(8, activation="relu", name="block3"),
        layers.Dense(4, activation="relu", name="block4"),
        layers.Dense(2, name="tail"),
    ], name="inner")
    middle = graphc.Sequential([layers.Dense(6, activation="relu", name="stem"), inner],
                               name="middle")
    x_in = graphc.Input(shape=(5,), name="x")
    base = graphc.Model(x_in, layers.Dense(1, name="head")(middle(x_in)), name="base")
    block4 = base.get_layer("middle").get_layer("inner").get_layer("block4")
    sliced = graphc.Model(inputs=base.input, outputs=block4.output, name="sliced")
    assert sliced.output_shape == (None, 4)
    x = rng.normal(size=(6, 5)).astype(np.float32)
    stem, b3, b4 = (layer.get_weights() for layer in
                    (middle.get_layer("stem"), inner.get_layer("block3"), block4))
    want = np_relu(np_relu(np_relu(x @ stem[0] + stem[1]) @ b3[0] + b3[1]) @ b4[0] + b4[1])
    np.testing.assert_allclose(sliced.predict(x), want, **TOL)
    both = graphc.Model(base.input, [block4.output, base.output])  # inner and final outputs
    inner_out, final = both.predict(x)
    np.testing.assert_allclose(inner_out, want, **TOL)
    np.testing.assert_allclose(final, base.predict(x), **TOL)


def test_shared_layer_siamese(rng):
    left, right = graphc.Input((6,), name="left"), graphc.Input((6,), name="right")
    encoder = layers.Dense(4, activation="tanh", name="encoder")
    distance = abs(encoder(left) - encoder(right))
    model = graphc.Model([left, right], layers.Dense(1, activation="sigmoid",
                                                     name="judge")(distance))
    assert len(model.weights) == 4 and model.count_params() == 6 * 4 + 4 + 4 + 1
    a, b = rng.normal(size=(3, 6)).astype(np.float32), rng.normal(size=(3, 6)).astype(np.float32)
    (kernel, bias), (jk, jb) = encoder.get_weights(), model.get_layer("judge").get_weights()
    d = np.abs(np.tanh(a @ kernel + bias) - np.tanh(b @ kernel + bias))
    np.testing.assert_allclose(model.predict([a, b]), 1 / (1 + np.exp(-(d @ jk + jb))), **TOL)


def test_nesting_both_ways(rng):
    seq_block = graphc.Sequential([layers.Dense(8, activation="relu", name="s1")], name="seq")
    x = graphc.Input((4,), name="x")
    functional = graphc.Model(x, layers.Dense(3, name="f1")(seq_block(x)), name="fn")
    outer = graphc.Sequential([graphc.Input((4,)), functional, layers.Dense(2, name="out")],
                              name="outer")
    data = rng.normal(size=(5, 4)).astype(np.float32)
    s1, f1, out = (layer.get_weights() for layer in (seq_block.layers[0],
                                                     functional.get_layer("f1"),
                                                     outer.get_layer("out")))
    want = (np_relu(data @ s1[0] + s1[1]) @ f1[0] + f1[1]) @ out[0] + out[1]
    np.testing.assert_allclose(outer.predict(data), want, **TOL)
    assert outer.count_params() == 4 * 8 + 8 + 8 * 3 + 3 + 3 * 2 + 2


def test_nested_model_reused_twice_shares_weights(rng):
    y = graphc.Input((3,))
    tower = graphc.Model(y, layers.Dense(2, name="t")(y), name="tower")
    a, b = graphc.Input((3,)), graphc.Input((3,))
    model = graphc.Model([a, b], layers.Add()([tower(a), tower(b)]))
    assert model.count_params() == 8
    xa, xb = rng.normal(size=(2, 3)).astype(np.float32), rng.normal(size=(2, 3)).astype(np.float32)
    kernel, bias = tower.get_weights()
    np.testing.assert_allclose(model.predict([xa, xb]), xa @ kernel + xb @ kernel + 2 * bias,
                               **TOL)


def test_sequential_deferred_build_on_data_and_add_pop(rng):
    model = graphc.Sequential([layers.Dense(5, activation="relu"), layers.Dense(3)])
    x = rng.normal(size=(4, 7)).astype(np.float32)
    got = model.predict(x)
    assert model.input_shape == (None, 7)
    (k1, b1), (k2, b2) = model.layers[0].get_weights(), model.layers[1].get_weights()
    np.testing.assert_allclose(got, np_relu(x @ k1 + b1) @ k2 + b2, **TOL)
    model.pop()
    np.testing.assert_allclose(model.predict(x), np_relu(x @ k1 + b1), **TOL)
    model.add(layers.Dense(2, activation="softmax"))
    k3, b3 = model.layers[1].get_weights()
    np.testing.assert_allclose(model.predict(x), np_softmax(np_relu(x @ k1 + b1) @ k3 + b3),
                               **TOL)


def test_tensor_ops_in_a_functional_graph(rng):
    x = graphc.Input((4,), name="x")
    w = rng.normal(size=(4, 3)).astype(np.float32)
    projected = x @ w
    y = graphc.ops.concatenate([projected * 2 + 1, x[:, :1], graphc.ops.mean(x, axis=-1,
                                                                           keepdims=True)], -1)
    model = graphc.Model(x, graphc.ops.exp(-graphc.ops.square(y)))
    data = rng.normal(size=(5, 4)).astype(np.float32)
    want_y = np.concatenate([(data @ w) * 2 + 1, data[:, :1], data.mean(-1, keepdims=True)], -1)
    np.testing.assert_allclose(model.predict(data), np.exp(-want_y ** 2), **TOL)


def test_predict_batches_match_one_shot(rng):
    model = mlp(16)
    x = rng.random((45, 784), dtype=np.float32)
    np.testing.assert_allclose(model.predict(x, batch_size=7), model.predict(x, batch_size=64),
                               **TOL)
    assert model.predict(x[:0]).shape == (0, 10)


def test_new_head_on_a_slice_from_inside_a_nested_model(rng):
    inner = graphc.Sequential([layers.Dense(6, activation="relu", name="block3"),
                               layers.Dense(4, activation="relu", name="block4"),
                               layers.Dense(2, name="tail")], name="inner")
    x = graphc.Input((5,), name="x")
    base = graphc.Model(x, layers.Dense(1, name="old_head")(inner(x)), name="base")
    features = graphc.Model(base.input, inner.get_layer("block4").output, name="features")
    fine_tuned = graphc.Model(features.input,
                              layers.Dense(3, name="new_head")(features.output), name="tuned")
    assert [layer.name for layer in fine_tuned.layers] == ["x", "inner", "new_head"]
    assert "new_head/kernel" in [w.path for w in fine_tuned.weights]
    data = rng.normal(size=(4, 5)).astype(np.float32)
    kernel, bias = fine_tuned.get_layer("new_head").get_weights()
    np.testing.assert_allclose(fine_tuned.predict(data), features.predict(data) @ kernel + bias,
                               **TOL)
    paths = [n.loc.path for n in fine_tuned.to_ir().entry.nodes]
    assert paths[-1] == "tuned/new_head" and "tuned/inner/tail" not in paths  # no dead work
    y = graphc.Input((5,), name="y")  # the slice reused as a layer on a fresh input
    reused = graphc.Model(y, features(y))
    np.testing.assert_allclose(reused.predict(data), features.predict(data), **TOL)


def test_inner_and_final_outputs_share_one_inlined_computation():
    inner = graphc.Sequential([layers.Dense(3, name="a"), layers.Dense(2, name="b")],
                              name="inner")
    x = graphc.Input((4,))
    base = graphc.Model(x, inner(x))
    both = graphc.Model(x, [base.output, inner.get_layer("a").output])
    assert [n.op.name for n in both.to_ir().entry.nodes] == ["matmul", "add"] * 2


def test_a_consumer_created_before_the_nested_call_is_ordered_after_it(rng):
    y = graphc.Input((3,), name="y")
    hidden = layers.Dense(4, name="hidden")
    inner = graphc.Model(y, layers.Dense(2, name="out")(hidden(y)), name="inner")
    early = layers.Dense(1, name="early")(hidden.output)  # made before inner is ever called
    x = graphc.Input((3,), name="x")
    outer = graphc.Model(x, inner(x), name="outer")
    probe = graphc.Model(x, [outer.output, early])
    data = rng.normal(size=(2, 3)).astype(np.float32)
    (hk, hb), (ek, eb) = hidden.get_weights(), probe.get_layer("early").get_weights()
    np.testing.assert_allclose(probe.predict(data)[1], (data @ hk + hb) @ ek + eb, **TOL)
