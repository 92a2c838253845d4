"""Peer implementations of W1-W3: numpy eager, a hand-fused numba kernel
(W1), and PyTorch / JAX when installed (``pip install graphc[bench]``).
Each factory returns ``(name, fn)`` or raises ``Unavailable`` saying why."""

from __future__ import annotations

import numpy as np


class Unavailable(Exception):
    pass


# -- numpy eager --------------------------------------------------------------
def numpy_w1(x, a, b, c):
    v = x * a + b
    return 0.5 * v * (1.0 + np.tanh(np.float32(0.7978845608) * (v + np.float32(0.044715) * v ** 3))) * c


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def numpy_w2(x, w1, b1, w2, b2, w3, b3):
    h1 = np.maximum(x @ w1 + b1, 0)
    h2 = np.maximum(h1 @ w2 + b2, 0)
    return _softmax(h2 @ w3 + b3)


def numpy_w3(x, y, w1, b1, w2, b2, w3, b3, lr, inv_n):
    h1 = np.maximum(x @ w1 + b1, 0)
    h2 = np.maximum(h1 @ w2 + b2, 0)
    z = h2 @ w3 + b3
    z = z - z.max(axis=1, keepdims=True)
    ls = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = -(y * ls).sum(axis=1).mean()
    d3 = (np.exp(ls) - y) * inv_n
    d2 = (d3 @ w3.T) * (h2 > 0)
    d1 = (d2 @ w2.T) * (h1 > 0)
    return (loss, w1 - lr * (x.T @ d1), b1 - lr * d1.sum(0), w2 - lr * (h1.T @ d2),
            b2 - lr * d2.sum(0), w3 - lr * (h2.T @ d3), b3 - lr * d3.sum(0))


# -- hand-fused numba (W1), the target of the issue ---------------------------
def hand_numba_w1():
    import numba
    from numba import prange

    @numba.njit(parallel=True, error_model="numpy", fastmath=True)
    def kernel(x, a, b, c, out):
        f = np.float32
        for i in prange(x.shape[0]):
            v = x[i] * a + b
            u = f(0.7978845608) * (v + f(0.044715) * v * v * v)
            u = min(max(u, f(-9.0)), f(9.0))
            u2 = u * u
            p = u * (f(135135.0) + u2 * (f(17325.0) + u2 * (f(378.0) + u2)))
            q = f(135135.0) + u2 * (f(62370.0) + u2 * (f(3150.0) + u2 * f(28.0)))
            out[i] = f(0.5) * v * (f(1.0) + p / q) * c

    state = {}

    def run(x, a, b, c):
        out = state.get(x.shape)
        if out is None:
            out = state[x.shape] = np.empty_like(x)
        kernel(x, a, b, c, out)
        return out

    return run


# -- PyTorch ------------------------------------------------------------------
def _torch():
    try:
        import torch
    except ImportError:
        raise Unavailable("PyTorch not installed (pip install 'graphc[bench]')") from None
    return torch


def torch_fns(workload: str, compiled: bool):
    torch = _torch()

    def w1(x, a, b, c):
        v = x * a + b
        return torch.nn.functional.gelu(v, approximate="tanh") * c

    def w2(x, w1_, b1, w2_, b2, w3, b3):
        h = torch.relu(x @ w1_ + b1)
        h = torch.relu(h @ w2_ + b2)
        return torch.softmax(h @ w3 + b3, dim=-1)

    def w3(x, y, w1_, b1, w2_, b2, w3_, b3, lr, inv_n):
        params = [p.detach().requires_grad_() for p in (w1_, b1, w2_, b2, w3_, b3)]
        h = torch.relu(x @ params[0] + params[1])
        h = torch.relu(h @ params[2] + params[3])
        ls = torch.log_softmax(h @ params[4] + params[5], dim=-1)
        loss = -(y * ls).sum(1).mean()
        grads = torch.autograd.grad(loss, params)
        return (loss.detach(),) + tuple(p.detach() - lr * g for p, g in zip(params, grads))

    fn = {"W1": w1, "W2": w2, "W3": w3}[workload]
    if compiled:
        fn = torch.compile(fn)

    def run(*arrays):
        with torch.set_grad_enabled(workload == "W3"):
            out = fn(*[torch.from_numpy(np.asarray(a)) for a in arrays])
        return out

    return run


# -- JAX ------------------------------------------------------------------------
def jax_fns(workload: str):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        raise Unavailable("JAX not installed (pip install 'graphc[bench]')") from None

    def w1(x, a, b, c):
        return jax.nn.gelu(x * a + b, approximate=True) * c

    def w2(x, w1_, b1, w2_, b2, w3, b3):
        h = jax.nn.relu(x @ w1_ + b1)
        h = jax.nn.relu(h @ w2_ + b2)
        return jax.nn.softmax(h @ w3 + b3, axis=-1)

    def loss_fn(params, x, y):
        w1_, b1, w2_, b2, w3, b3 = params
        h = jax.nn.relu(x @ w1_ + b1)
        h = jax.nn.relu(h @ w2_ + b2)
        return -(y * jax.nn.log_softmax(h @ w3 + b3, axis=-1)).sum(1).mean()

    def w3(x, y, w1_, b1, w2_, b2, w3_, b3, lr, inv_n):
        params = (w1_, b1, w2_, b2, w3_, b3)
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        return (loss,) + tuple(p - lr * g for p, g in zip(params, grads))

    fn = jax.jit({"W1": w1, "W2": w2, "W3": w3}[workload])

    def run(*arrays):
        out = fn(*arrays)
        return jax.block_until_ready(out)

    return run


def onnxruntime_fns(workload: str):
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        raise Unavailable("onnxruntime not installed (pip install 'graphc[bench]')") from None
    raise Unavailable("onnxruntime peer: model export not implemented yet")
