"""GradientTape and graphc.function: recording, caching by structure, sources, errors."""

from __future__ import annotations

import numpy as np
import pytest

import graphc
from graphc import losses, ops
from graphc.errors import FrontendError
from graphc.training import staging, tape as tape_module

from .conftest import INTERP, blobs, small_mlp


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_gradient_with_respect_to_weights_inputs_and_intermediates():
    model = small_mlp(softmax=False)
    x, y = blobs(10)
    loss_fn = losses.SparseCategoricalCrossentropy(from_logits=True)
    with graphc.GradientTape(persistent=True, backend=INTERP) as tape:
        xt = tape.watch(x)
        logits = model(x)
        loss = loss_fn(y, logits)
    g_logits = tape.gradient(loss, logits)
    expected = (_softmax(logits.numpy().astype(np.float64)) - np.eye(3)[y]) / len(y)
    np.testing.assert_allclose(g_logits, expected, rtol=1e-5, atol=1e-7)
    g = tape.gradient(loss, {"w": model.trainable_weights, "x": x})
    assert [a.shape for a in g["w"]] == [w.shape for w in model.trainable_weights]
    assert g["x"].shape == x.shape and xt.shape == x.shape

    def objective(x_, *weights):
        out = ops.add(ops.matmul(ops.relu(ops.add(ops.matmul(x_, weights[0]), weights[1])),
                                 weights[2]), weights[3])
        return loss_fn(y, out)

    reference = graphc.grad(objective, argnums=(0, 1, 2, 3, 4), backend=INTERP)(
        x, *model.get_weights())
    for got, want in zip([g["x"]] + g["w"], reference):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_values_are_readable_and_the_gradient_program_is_cached(monkeypatch):
    model = small_mlp()
    x, y = blobs(40)
    compiles = []
    original = staging.compiled_executable

    def counting(func, *args, **kwargs):
        compiles.append(func.name)
        return original(func, *args, **kwargs)

    monkeypatch.setattr(tape_module, "compiled_executable", counting)
    tape_module._GRADIENTS.clear()
    loss_fn = losses.SparseCategoricalCrossentropy()
    seen = []
    for start in range(0, 40, 10):  # same shapes every iteration: one gradient compile
        with graphc.GradientTape(backend=INTERP) as tape:
            loss = loss_fn(y[start:start + 10], model(x[start:start + 10], training=True))
        grads = tape.gradient(loss, model.trainable_weights)
        seen.append(float(loss))
        assert loss.numpy().shape == () and all(np.all(np.isfinite(g)) for g in grads)
    assert compiles == ["tape_gradient"]
    assert len(set(seen)) == 4  # different batches, different losses


def test_persistence_and_errors():
    model = small_mlp()
    x, y = blobs(6)
    with graphc.GradientTape(backend=INTERP) as tape:
        loss = losses.sparse_categorical_crossentropy(y, model(x))
        total = ops.mean(loss)
    tape.gradient(total, model.trainable_weights)
    with pytest.raises(FrontendError, match="non-persistent GradientTape can compute one"):
        tape.gradient(total, model.trainable_weights)
    with graphc.GradientTape(backend=INTERP) as tape:
        out = model(x)
    with pytest.raises(FrontendError, match="must be a tensor recorded by this tape"):
        tape.gradient(np.float32(1.0), model.trainable_weights)
    with graphc.GradientTape(backend=INTERP) as tape:
        out = model(x)
    with pytest.raises(FrontendError, match="cannot differentiate with respect to"):
        tape.gradient(ops.sum(out), [np.ones(3)])
    with graphc.GradientTape(backend=INTERP) as tape:
        labels = tape.watch(y)
        out = ops.sum(model(x)) + ops.sum(ops.cast(labels, "float32"))
    with pytest.raises(FrontendError, match="only float tensors have gradients"):
        tape.gradient(out, [labels])
    with pytest.raises(FrontendError, match="has not recorded anything"):
        graphc.GradientTape().gradient(None, [])


def test_function_compiles_a_whole_step_into_one_func():
    model = small_mlp(dropout=0.25)
    optimizer = graphc.optimizers.SGD(learning_rate=0.1, momentum=0.9)
    loss_fn = losses.SparseCategoricalCrossentropy()
    traces = []

    @graphc.function(backend=INTERP, seed=0)
    def train_step(x, y, scale):
        traces.append(scale)
        with graphc.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True)) * scale
        grads = tape.gradient(loss, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        return {"loss": loss}

    x, y = blobs(64)
    module = train_step.lower(x[:16], y[:16], 1.0)
    assert len(module.funcs) == 1
    func = module.entry
    names = [p.name for p in func.params]
    assert names[:2] == ["arg0", "arg1"] and "rng_key" in names
    assert "sgd/iterations" in names and "learning_rate" in names
    # results: the loss, then new weights, momentum slots and the iteration count
    assert len(func.results) == 1 + 2 * len(model.trainable_weights) + 1
    losses_seen = [float(train_step(x[i:i + 16], y[i:i + 16], 1.0)["loss"])
                   for i in range(0, 64, 16) for _ in range(3)]
    assert traces == [1.0]  # one trace for every call with this signature
    assert losses_seen[-1] < losses_seen[0]
    assert int(optimizer.iterations.value) == 12
    train_step(x[:16], y[:16], 2.0)  # a new static value: a new trace
    assert traces == [1.0, 2.0]


def test_function_results_and_errors():
    double = graphc.function(lambda a, b=None: (a * 2.0, None), backend=INTERP)
    out, nothing = double(np.ones(3, np.float32))
    np.testing.assert_array_equal(out, np.full(3, 2.0, np.float32))
    assert nothing is None
    with pytest.raises(FrontendError, match="must return tensors computed in it"):
        graphc.function(lambda a: 3.0, backend=INTERP)(np.ones(2))
    with pytest.raises(FrontendError, match="arrays or hashable Python values"):
        graphc.function(lambda a, b: a, backend=INTERP)(np.ones(2), {1, 2})

    def peek(a):
        return float(ops.sum(a))

    with pytest.raises(FrontendError, match="value is not known while graphc traces"):
        graphc.function(peek, backend=INTERP)(np.ones(2))


def test_model_called_on_data_in_training_mode_outside_a_tape():
    model = small_mlp(dropout=0.5, hidden=64)
    x, _ = blobs(8)
    inference = model.predict(x)
    a, b = model(x, training=True), model(x, training=True)
    assert a.shape == inference.shape
    assert not np.allclose(a, b)  # fresh dropout masks per call
    np.testing.assert_allclose(model(x, training=False), inference, rtol=1e-6)


def test_nested_tapes_give_second_derivatives():
    x = np.array([0.5, -1.0, 2.0])
    with graphc.GradientTape(backend=INTERP) as outer:
        xt = outer.watch(x)
        with graphc.GradientTape() as inner:
            y = ops.sum(xt * xt * xt)
        dy = inner.gradient(y, xt)
        np.testing.assert_allclose(dy.numpy(), 3 * x ** 2, rtol=1e-12)
        total = ops.sum(dy)
    np.testing.assert_allclose(outer.gradient(total, x), 6 * x, rtol=1e-12)
