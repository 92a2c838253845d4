"""build_train_step: one Func with described parameters and results; the gradient
it computes equals graphc.grad's; the IR stays one forward pass after cse."""

from __future__ import annotations

import numpy as np
import pytest

import graphc
from graphc.ir import print_module
from graphc.passes import run_pipeline
from graphc.training import build_train_step

from .conftest import INTERP, blobs, small_mlp


def test_train_step_module_and_roles():
    model = small_mlp(dropout=0.2)
    step = build_train_step(model, "sparse_categorical_crossentropy",
                            graphc.optimizers.Adam(), backend=INTERP)
    module = step.module
    assert len(module.funcs) == 1
    roles = step.param_roles
    assert roles[:2] == [("input_layer", "input"), ("target_dense_1", "target")]
    kinds = [r for _, r in roles]
    assert kinds.count("weight") == 4 and kinds.count("rng_key") == 1
    assert kinds.count("learning_rate") == 1 and kinds.count("optimizer_state") == 9
    assert step.writes[0] == "adam/iterations" and "dense/kernel" in step.writes
    text = print_module(run_pipeline(module, "default"))
    # the forward pass once (2) and the backward pass (dW2, dH, dW1; the input needs no
    # gradient): 5 matmuls -- a forward pass replayed by the gradient would make 7
    assert text.count("= matmul(") == 5
    assert text.count("random_uniform(") == 1  # the backward pass reuses the forward mask


def test_one_step_equals_grad_then_sgd():
    model = small_mlp()
    x, y = blobs(12)
    weights = model.get_weights()
    loss_fn = graphc.losses.SparseCategoricalCrossentropy()

    def loss_of(x_, *ws):
        h = graphc.ops.relu(graphc.ops.matmul(x_, ws[0]) + ws[1])
        return loss_fn(y, graphc.ops.softmax(graphc.ops.matmul(h, ws[2]) + ws[3]))

    value, grads = graphc.value_and_grad(loss_of, argnums=(1, 2, 3, 4), backend=INTERP)(
        x, *weights)
    step = build_train_step(model, "sparse_categorical_crossentropy",
                            graphc.optimizers.SGD(learning_rate=0.5), backend=INTERP)
    assert step([x], [y]) == pytest.approx(float(value), rel=1e-6)
    for got, w, g in zip(model.get_weights(), weights, grads):
        np.testing.assert_allclose(got, w - 0.5 * g, rtol=1e-5, atol=1e-6)


def test_arguments_cover_every_parameter():
    model = small_mlp()
    step = build_train_step(model, "mse", "sgd", targets=[graphc.ir.TensorType("f32", ("N", 3))],
                            backend=INTERP)
    x, _ = blobs(5)
    args = step.arguments([x], [np.zeros((5, 3), np.float32)])
    assert len(args) == len(step.module.entry.params)
    assert args[2] is model.trainable_weights[0].value  # weights are passed, not copied
