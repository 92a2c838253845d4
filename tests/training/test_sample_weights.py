"""``sample_weight`` and ``class_weight`` in fit / evaluate / train_on_batch,
against numpy: the weighted loss is ``mean(w_i * loss_i)`` over the batch
(Keras' ``sum_over_batch_size``), metrics stay unweighted.  Tolerances:
float32 losses and updates within 1e-6 relative / 1e-7 absolute."""

from __future__ import annotations

import numpy as np
import pytest

import graphc
from graphc import initializers, layers

from .conftest import INTERP

LR = 0.1


def _classifier(seed: int = 1):
    model = graphc.Sequential([graphc.Input((5,)),
                               layers.Dense(3, kernel_initializer=initializers.GlorotUniform(
                                   seed=seed))])
    model.compile(optimizer=graphc.optimizers.SGD(LR), backend=INTERP, metrics=["accuracy"],
                  loss=graphc.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _data(n: int = 48):
    rng = np.random.default_rng(0)
    return (rng.normal(size=(n, 5)).astype(np.float32), rng.integers(0, 3, n),
            rng.uniform(0, 2, n).astype(np.float32))


def _per_sample_ce(model, x, y):
    kernel, bias = (w.astype(np.float64) for w in model.get_weights())
    z = x @ kernel + bias
    top = z.max(1, keepdims=True)
    lse = np.log(np.exp(z - top).sum(1)) + top[:, 0]
    return lse - z[np.arange(len(y)), y], z


def test_evaluate_weighs_the_loss_not_the_metrics():
    model = _classifier()
    x, y, w = _data()
    per, z = _per_sample_ce(model, x, y)
    loss, accuracy = model.evaluate(x, y, sample_weight=w, batch_size=len(x), verbose=0)
    np.testing.assert_allclose(loss, (per * w).mean(), rtol=1e-6)
    assert accuracy == pytest.approx((z.argmax(1) == y).mean())
    assert model.evaluate(x, y, verbose=0)[0] == pytest.approx(per.mean(), rel=1e-6)


def test_a_weighted_step_is_the_weighted_gradient():
    model = _classifier()
    x, y, w = _data()
    kernel, bias = (a.astype(np.float64) for a in model.get_weights())
    _, z = _per_sample_ce(model, x, y)
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    g = p * w[:, None] / len(x)
    model.train_on_batch(x, y, sample_weight=w)
    new_kernel, new_bias = model.get_weights()
    np.testing.assert_allclose(new_kernel, kernel - LR * x.T @ g, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(new_bias, bias - LR * g.sum(0), rtol=1e-6, atol=1e-7)


def test_class_weight_is_the_same_as_the_equivalent_sample_weight():
    x, y, _ = _data()
    table = {0: 2.0, 2: 0.25}                  # class 1 is not listed: weight 1
    by_class = _classifier()
    by_class.fit(x, y, epochs=2, batch_size=16, class_weight=table, verbose=0, seed=3)
    by_sample = _classifier()
    by_sample.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=3,
                  sample_weight=np.array([table.get(int(c), 1.0) for c in y]))
    for a, b in zip(by_class.get_weights(), by_sample.get_weights()):
        np.testing.assert_array_equal(a, b)
    unweighted = _classifier()
    unweighted.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=3)
    assert not np.array_equal(unweighted.get_weights()[0], by_class.get_weights()[0])


def test_class_weight_of_one_hot_and_binary_targets():
    x, y, _ = _data()
    one_hot = np.eye(3, dtype=np.float32)[y]
    model = graphc.Sequential([graphc.Input((5,)), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy", backend=INTERP)
    weighted = model.evaluate(x, one_hot, verbose=0, batch_size=len(x),
                              sample_weight=np.where(y == 1, 3.0, 1.0))
    model.fit(x, one_hot, epochs=0, class_weight={1: 3.0}, verbose=0)   # accepted, no step
    binary = graphc.Sequential([graphc.Input((5,)), layers.Dense(1, activation="sigmoid")])
    binary.compile(optimizer="sgd", loss="binary_crossentropy", backend=INTERP)
    labels = (y == 1).astype(np.float32)[:, None]
    before = binary.get_weights()
    binary.train_on_batch(x, labels, class_weight={1: 0.0, 0: 0.0})     # every weight 0
    for a, b in zip(before, binary.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert np.isfinite(weighted)


def test_per_output_weights_and_sequence_outputs():
    inp = graphc.Input((4, 3), name="x")
    seq = layers.Dense(2, name="seq")(inp)                  # (N, 4, 2): mse over the last axis
    head = layers.Dense(1, name="head")(layers.Flatten()(inp))
    model = graphc.Model(inp, {"seq": seq, "head": head})
    model.compile(optimizer="sgd", loss={"seq": "mse", "head": "mae"}, backend=INTERP)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 4, 3)).astype(np.float32)
    y_seq = rng.normal(size=(6, 4, 2)).astype(np.float32)
    y_head = rng.normal(size=(6, 1)).astype(np.float32)
    w = rng.uniform(0, 1, 6).astype(np.float32)
    logs = model.evaluate(x, {"seq": y_seq, "head": y_head}, sample_weight={"seq": w},
                          batch_size=6, verbose=0, return_dict=True)
    out = model.predict(x, verbose=0)
    per_step = ((out["seq"] - y_seq) ** 2).mean(-1)          # (N, 4)
    np.testing.assert_allclose(logs["seq_loss"], (per_step * w[:, None]).mean(), rtol=1e-6)
    np.testing.assert_allclose(logs["head_loss"], np.abs(out["head"] - y_head).mean(),
                               rtol=1e-6)


def test_validation_data_with_weights():
    model = _classifier()
    x, y, w = _data()
    per, _ = _per_sample_ce(model, x, y)
    history = model.fit(x, y, epochs=1, batch_size=len(x), verbose=0, shuffle=False,
                        validation_data=(x, y, w))
    assert history.history["val_loss"][0] != pytest.approx(per.mean())   # after the step
    assert np.isfinite(history.history["val_loss"][0])


@pytest.mark.parametrize("options,message", [
    (dict(sample_weight=np.ones(3)), "one weight per sample, shape (48,)"),
    (dict(sample_weight=-np.ones(48)), "finite and non-negative"),
    (dict(sample_weight=np.full(48, np.nan)), "finite and non-negative"),
    (dict(sample_weight={"nope": np.ones(48)}), "names output(s) ['nope']"),
    (dict(class_weight=[1.0, 2.0]), "class_weight must be a dict"),
    (dict(class_weight={"a": 1.0}), "class_weight must be a dict"),
])
def test_bad_weights_are_clear_errors(options, message):
    model = _classifier()
    x, y, _ = _data()
    with pytest.raises(graphc.InputError) as info:
        model.fit(x, y, verbose=0, **options)
    assert message in str(info.value)


def test_class_weight_needs_a_single_trained_output():
    inp = graphc.Input((3,))
    model = graphc.Model(inp, [layers.Dense(2)(inp), layers.Dense(2)(inp)])
    model.compile(optimizer="sgd", loss=["mse", "mse"], backend=INTERP)
    x = np.zeros((4, 3), np.float32)
    with pytest.raises(graphc.InputError, match="one output with a loss"):
        model.fit(x, [np.zeros((4, 2)), np.zeros((4, 2))], class_weight={0: 1.0}, verbose=0)
