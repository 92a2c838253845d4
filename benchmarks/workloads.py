"""The benchmark workloads W1-W3: graphc IR text plus numpy inputs.

W1  gelu_tanh(x*a + b) * c over 4M f32 (memory/compute bound elementwise)
W2  MLP 784-512-512-10 forward, relu, softmax output, batch 256 (BLAS bound)
W3  the same MLP's training step: softmax cross-entropy, backward, SGD.
    The graphc side is a hand-written forward+backward IR (autodiff will
    generate it later); numpy/torch/jax peers compute the same step.
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

W3_IR = """
func @w3(%x: f32[N,784], %y: f32[N,10], %w1: f32[784,512], %b1: f32[512], %w2: f32[512,512], %b2: f32[512], %w3: f32[512,10], %b3: f32[10], %lr: f32[], %inv_n: f32[]) -> (f32[], f32[784,512], f32[512], f32[512,512], f32[512], f32[512,10], f32[10]) {
  %z: f32[] = constant() {value = 0.0}
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
  %p: f32[N,10] = exp(%ls)
  %d0: f32[N,10] = sub(%p, %y)
  %d3: f32[N,10] = mul(%d0, %inv_n)
  %h2t: f32[512,N] = transpose(%h2)
  %gw3: f32[512,10] = matmul(%h2t, %d3)
  %gb3: f32[10] = sum(%d3) {axes = [0]}
  %w3t: f32[10,512] = transpose(%w3)
  %e2: f32[N,512] = matmul(%d3, %w3t)
  %k2: bool[N,512] = gt(%h2, %z)
  %d2: f32[N,512] = where(%k2, %e2, %z)
  %h1t: f32[512,N] = transpose(%h1)
  %gw2: f32[512,512] = matmul(%h1t, %d2)
  %gb2: f32[512] = sum(%d2) {axes = [0]}
  %w2t: f32[512,512] = transpose(%w2)
  %e1: f32[N,512] = matmul(%d2, %w2t)
  %k1: bool[N,512] = gt(%h1, %z)
  %d1: f32[N,512] = where(%k1, %e1, %z)
  %xt: f32[784,N] = transpose(%x)
  %gw1: f32[784,512] = matmul(%xt, %d1)
  %gb1: f32[512] = sum(%d1) {axes = [0]}
  %s1: f32[784,512] = mul(%gw1, %lr)
  %nw1: f32[784,512] = sub(%w1, %s1)
  %t1: f32[512] = mul(%gb1, %lr)
  %nb1: f32[512] = sub(%b1, %t1)
  %s2: f32[512,512] = mul(%gw2, %lr)
  %nw2: f32[512,512] = sub(%w2, %s2)
  %t2: f32[512] = mul(%gb2, %lr)
  %nb2: f32[512] = sub(%b2, %t2)
  %s3: f32[512,10] = mul(%gw3, %lr)
  %nw3: f32[512,10] = sub(%w3, %s3)
  %t3: f32[10] = mul(%gb3, %lr)
  %nb3: f32[10] = sub(%b3, %t3)
  return %loss, %nw1, %nb1, %nw2, %nb2, %nw3, %nb3
}
"""

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
    return [x, y] + mlp_weights(rng) + [np.float32(0.01), np.float32(1.0 / BATCH)]


W1_FLOP_PER_ELEM = 12
W2_FLOP = 2 * BATCH * (784 * 512 + 512 * 512 + 512 * 10)
W3_FLOP = 3 * W2_FLOP
