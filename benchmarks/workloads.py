"""The benchmark workloads W1-W3: graphc IR text plus numpy inputs.

W1  gelu_tanh(x*a + b) * c over 4M f32 (memory/compute bound elementwise)
W2  MLP 784-512-512-10 forward, relu, softmax output, batch 256 (BLAS bound)
W3  the same MLP's training step: softmax cross-entropy, backward, SGD.
    The graphc side is generated the way users get it: the forward IR and
    loss, ``vjp_func`` for the gradients, the SGD update appended in IR
    (``w3_module``); numpy/torch/jax peers compute the same step.
"""

from __future__ import annotations

import numpy as np

W1_IR = """
func @w1(%x: f32[N], %a: f32[], %b: f32[], %c: f32[]) -> (f32[N]) {
  %0: f32[N] = mul(%x, %a)
  %1: f32[N] = add(%0, %b)
  %2: f32[N] = gelu(%1) {approximate = true}
  %3: f32[N] = mul(%2, %c)
  return %3
}
"""

W2_IR = """
func @w2(%x: f32[N,784], %w1: f32[784,512], %b1: f32[512], %w2: f32[512,512], %b2: f32[512], %w3: f32[512,10], %b3: f32[10]) -> (f32[N,10]) {
  %0: f32[N,512] = matmul(%x, %w1)
  %1: f32[N,512] = add(%0, %b1)
  %2: f32[N,512] = relu(%1)
  %3: f32[N,512] = matmul(%2, %w2)
  %4: f32[N,512] = add(%3, %b2)
  %5: f32[N,512] = relu(%4)
  %6: f32[N,10] = matmul(%5, %w3)
  %7: f32[N,10] = add(%6, %b3)
  %8: f32[N,10] = softmax(%7) {axis = -1}
  return %8
}
"""

W3_FORWARD_IR = """
func @w3_loss(%x: f32[N,784], %y: f32[N,10], %w1: f32[784,512], %b1: f32[512], %w2: f32[512,512], %b2: f32[512], %w3: f32[512,10], %b3: f32[10]) -> (f32[]) {
  %m1: f32[N,512] = matmul(%x, %w1)
  %a1: f32[N,512] = add(%m1, %b1)
  %h1: f32[N,512] = relu(%a1)
  %m2: f32[N,512] = matmul(%h1, %w2)
  %a2: f32[N,512] = add(%m2, %b2)
  %h2: f32[N,512] = relu(%a2)
  %m3: f32[N,10] = matmul(%h2, %w3)
  %lg: f32[N,10] = add(%m3, %b3)
  %ls: f32[N,10] = log_softmax(%lg) {axis = -1}
  %yl: f32[N,10] = mul(%y, %ls)
  %rs: f32[N] = sum(%yl) {axes = [1]}
  %mn: f32[] = mean(%rs)
  %loss: f32[] = neg(%mn)
  return %loss
}
"""
"""W3's forward pass and loss; the train step is derived from it by autodiff."""

W3_WEIGHTS = ("w1", "b1", "w2", "b2", "w3", "b3")


def w3_module():
    """The SGD train step of W3, built as users get it: ``vjp_func`` of the
    loss with respect to the weights, then ``w - lr * grad`` in IR.
    Params: x, y, the six weights, lr; results: loss, the six new weights."""
    from graphc.ir import Builder, Module, TensorType, parse_module
    from graphc.passes.autodiff import vjp_func
    from graphc.passes.inline import inline_calls

    forward = parse_module(W3_FORWARD_IR).entry
    grad = vjp_func(forward, W3_WEIGHTS, name="w3_loss_grad").replace(private=True)
    b = Builder("w3")
    params = [b.param(p.type, p.name) for p in forward.params]
    lr = b.param(TensorType("f32", ()), "lr")
    loss, *grads = b.call(grad, *params)
    by_name = {p.name: p for p in params}
    new = [b.emit("sub", by_name[w], b.emit("mul", lr, g)) for w, g in zip(W3_WEIGHTS, grads)]
    step = b.finish(loss, *new)
    module = Module([step, grad])
    return Module([inline_calls(step, module)])

BATCH = 256
W1_SIZE = 1 << 22


def w1_inputs(rng):
    return [rng.standard_normal(W1_SIZE).astype(np.float32), np.float32(1.1), np.float32(0.2),
            np.float32(0.3)]


def mlp_weights(rng):
    def dense(i, o):
        return [(rng.standard_normal((i, o)) * np.sqrt(2.0 / i)).astype(np.float32),
                np.zeros(o, np.float32)]
    return dense(784, 512) + dense(512, 512) + dense(512, 10)


def w2_inputs(rng):
    return [rng.standard_normal((BATCH, 784)).astype(np.float32)] + mlp_weights(rng)


def w3_inputs(rng):
    x = rng.standard_normal((BATCH, 784)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, BATCH)]
    return [x, y] + mlp_weights(rng) + [np.float32(0.01)]


W2_GEMMS = [(BATCH, 784, 512), (BATCH, 512, 512), (BATCH, 512, 10)]
"""(m, k, n) of W2's matrix products."""
W3_GEMMS = W2_GEMMS + [(BATCH, 10, 512), (512, BATCH, 10), (BATCH, 512, 512), (512, BATCH, 512),
                       (784, BATCH, 512)]
"""W3's products: the forward pass, then per layer the input gradient (none
for the first layer: x needs none) and the weight gradient."""
W2_FLOP = sum(2 * m * k * n for m, k, n in W2_GEMMS)
W3_FLOP = sum(2 * m * k * n for m, k, n in W3_GEMMS)
W1_BYTES = 2 * W1_SIZE * 4
"""W1 reads x and writes the result once: the bytes any implementation must move."""


def module(name: str):
    """The graphc module of workload ``name`` ("W1", "W2" or "W3"), unoptimized."""
    if name == "W3":
        return w3_module()
    from graphc.ir import parse_module
    return parse_module(globals()[f"{name}_IR"])
