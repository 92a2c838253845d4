"""Peer implementations of W1-W3, run side by side with graphc.

Every factory returns a callable taking the workload's numpy inputs, or
raises ``Unavailable`` saying why it cannot run here (a peer that is not
installed, or a workload the peer cannot express).  Peers:

* numpy eager -- the plain formula, op by op;
* hand-fused numba (W1 only) -- one ``prange`` loop with the same clamped
  rational tanh the issue's reference kernel used, writing into a reused
  output buffer (the issue's reference measurement);
* PyTorch eager and ``torch.compile`` (W3: the compiled function is the
  loss; autograd differentiates it, the SGD update is eager);
* JAX ``jit`` (W3: ``value_and_grad`` plus the update, in one jit);
* ONNX Runtime (W1, W2: the graph is built with the ``onnx`` helper API;
  W3 needs the separate onnxruntime-training package, so it is skipped).

Outputs are left in each library's own array type (converting them back is
not part of the work being timed).
"""

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


def numpy_w3(x, y, w1, b1, w2, b2, w3, b3, lr):
    inv_n = np.float32(1.0 / x.shape[0])
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


def numpy_fns(workload: str):
    return {"W1": numpy_w1, "W2": numpy_w2, "W3": numpy_w3}[workload]


# -- hand-fused numba (W1), the target of the issue ---------------------------
def hand_numba_fns(workload: str):
    if workload != "W1":
        raise Unavailable("hand-fused kernel exists for W1 only")
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
    maybe_compile = torch.compile if compiled else (lambda f: f)

    def w1(x, a, b, c):
        v = x * a + b
        return torch.nn.functional.gelu(v, approximate="tanh") * c

    def w2(x, w1_, b1, w2_, b2, w3, b3):
        h = torch.relu(x @ w1_ + b1)
        h = torch.relu(h @ w2_ + b2)
        return torch.softmax(h @ w3 + b3, dim=-1)

    def loss_fn(x, y, w1_, b1, w2_, b2, w3_, b3):
        h = torch.relu(x @ w1_ + b1)
        h = torch.relu(h @ w2_ + b2)
        ls = torch.log_softmax(h @ w3_ + b3, dim=-1)
        return -(y * ls).sum(1).mean()

    loss = maybe_compile(loss_fn)

    def w3(x, y, w1_, b1, w2_, b2, w3_, b3, lr):
        params = [p.detach().requires_grad_() for p in (w1_, b1, w2_, b2, w3_, b3)]
        value = loss(x, y, *params)
        grads = torch.autograd.grad(value, params)
        with torch.no_grad():
            return (value.detach(),) + tuple(p - lr * g for p, g in zip(params, grads))

    fn = {"W1": maybe_compile(w1), "W2": maybe_compile(w2), "W3": w3}[workload]

    def run(*arrays):
        tensors = [torch.from_numpy(np.asarray(a)) for a in arrays]
        if workload == "W3":
            return fn(*tensors)
        with torch.no_grad():
            return fn(*tensors)

    return run


# -- JAX ------------------------------------------------------------------------
def jax_fns(workload: str):
    try:
        import jax
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

    def w3(x, y, w1_, b1, w2_, b2, w3_, b3, lr):
        params = (w1_, b1, w2_, b2, w3_, b3)
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        return (loss,) + tuple(p - lr * g for p, g in zip(params, grads))

    fn = jax.jit({"W1": w1, "W2": w2, "W3": w3}[workload])

    def run(*arrays):
        return jax.block_until_ready(fn(*arrays))

    return run


# -- ONNX Runtime ---------------------------------------------------------------
def _onnx_graph(workload: str, inputs):
    from onnx import TensorProto, helper

    def info(name, array):
        return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(np.shape(array)))

    if workload == "W1":
        names = ["x", "a", "b", "c"]
        nodes = [helper.make_node("Mul", ["x", "a"], ["xa"]),
                 helper.make_node("Add", ["xa", "b"], ["v"]),
                 helper.make_node("Gelu", ["v"], ["g"], approximate="tanh"),
                 helper.make_node("Mul", ["g", "c"], ["out"])]
        out_shape = list(np.shape(inputs[0]))
        opset = 20                       # Gelu joined the default domain in opset 20
    else:
        names = ["x", "w1", "b1", "w2", "b2", "w3", "b3"]
        nodes = [helper.make_node("Gemm", ["x", "w1", "b1"], ["a1"]),
                 helper.make_node("Relu", ["a1"], ["h1"]),
                 helper.make_node("Gemm", ["h1", "w2", "b2"], ["a2"]),
                 helper.make_node("Relu", ["a2"], ["h2"]),
                 helper.make_node("Gemm", ["h2", "w3", "b3"], ["z"]),
                 helper.make_node("Softmax", ["z"], ["out"], axis=-1)]
        out_shape = [np.shape(inputs[0])[0], np.shape(inputs[5])[1]]
        opset = 17
    graph = helper.make_graph(nodes, workload.lower(), [info(n, a) for n, a in zip(names, inputs)],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, out_shape)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 9
    return model, names


def onnxruntime_fns(workload: str, inputs):
    if workload == "W3":
        raise Unavailable("a train step needs the separate onnxruntime-training package; "
                          "onnxruntime runs inference only")
    try:
        import onnxruntime
    except ImportError:
        raise Unavailable("onnxruntime not installed (pip install 'graphc[bench]')") from None
    try:
        model, names = _onnx_graph(workload, inputs)
    except ImportError:
        raise Unavailable("the onnx package (to build the graph) is not installed") from None
    session = onnxruntime.InferenceSession(model.SerializeToString(),
                                           providers=["CPUExecutionProvider"])

    def run(*arrays):
        feed = {n: np.asarray(a, dtype=np.float32) for n, a in zip(names, arrays)}
        return session.run(None, feed)[0]

    return run


def factories(workload: str, inputs):
    """``(label, factory)`` for every peer of ``workload``, in table order."""
    return [
        ("numpy", lambda: numpy_fns(workload)),
        ("hand-fused numba", lambda: hand_numba_fns(workload)),
        ("torch eager", lambda: torch_fns(workload, False)),
        ("torch.compile", lambda: torch_fns(workload, True)),
        ("jax.jit", lambda: jax_fns(workload)),
        ("onnxruntime", lambda: onnxruntime_fns(workload, inputs)),
    ]
