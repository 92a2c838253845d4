"""Shared helpers for pass tests: model builders and the interpreter oracle.

``assert_same_results`` runs the module before and after a pass on the
numpy reference interpreter and compares every result.  Passes that only
re-wire or fold with the ops' own reference rules are exact, so the default
tolerance is bit-exactness with NaNs equal; tests that allow reassociation
say so with an explicit rtol/atol.
"""

from __future__ import annotations

import numpy as np

from graphc.backends import get_backend
from graphc.ir import Builder, Loc, Module, TensorType, parse_module, verify

INTERPRETER = get_backend("interpreter")


def run(module: Module, arrays) -> tuple[np.ndarray, ...]:
    return INTERPRETER.compile(module)(*arrays)


def random_array(t: TensorType, rng: np.random.Generator, dims: dict | None = None):
    shape = tuple(d if isinstance(d, int) else (dims or {}).get(d, 3) for d in t.shape)
    if t.dtype.is_float:
        return rng.standard_normal(shape).astype(t.dtype.numpy)
    if t.dtype.is_bool:
        return rng.random(shape) < 0.5
    return rng.integers(-5, 6, shape).astype(t.dtype.numpy)


def random_inputs(module: Module, seed: int = 0, dims: dict | None = None):
    rng = np.random.default_rng(seed)
    return [random_array(p.type, rng, dims) for p in module.entry.params]


def assert_same_results(before: Module, after: Module, arrays=None, *, rtol: float = 0.0,
                        atol: float = 0.0) -> None:
    verify(after)
    arrays = random_inputs(before) if arrays is None else arrays
    expected, actual = run(before, arrays), run(after, arrays)
    assert len(expected) == len(actual)
    for e, a in zip(expected, actual):
        assert e.dtype == a.dtype and e.shape == a.shape
        if rtol == 0.0 and atol == 0.0:
            np.testing.assert_array_equal(a, e)
        else:
            np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, equal_nan=True)


def dense(b: Builder, x, units_in: int, units: int, name: str, activation: str | None,
          line: int):
    w = b.param(TensorType("f32", (units_in, units)), f"{name}_w")
    bias = b.param(TensorType("f32", (units,)), f"{name}_b")
    with b.at(Loc(f"model/{name}", "model.py", line)):
        y = b.emit("add", b.emit("matmul", x, w), bias)
        return b.emit(activation, y) if activation else y


def mlp(widths=(784, 64, 32, 10), activation: str = "relu", softmax: bool = True) -> Module:
    """Dense layers (bias + activation, none on the last) and a softmax tail."""
    b = Builder("mlp")
    x = b.param(TensorType("f32", ("N", widths[0])), "x")
    h = x
    for k, (w_in, w_out) in enumerate(zip(widths[:-1], widths[1:])):
        last = k == len(widths) - 2
        h = dense(b, h, w_in, w_out, f"dense_{k}", None if last else activation, 10 + k)
    if softmax:
        with b.at(Loc("model/softmax", "model.py", 20)):
            h = b.emit("softmax", h, axis=-1)
    return Module([b.finish(h)])


def branching() -> Module:
    """x -> dense_a -> {dense_b, dense_c} -> add -> dense_out -> softmax (Functional style)."""
    b = Builder("branchy")
    x = b.param(TensorType("f32", ("N", 16)), "x")
    a = dense(b, x, 16, 32, "dense_a", "relu", 1)
    left = dense(b, a, 32, 32, "dense_b", "relu", 2)
    right = dense(b, a, 32, 32, "dense_c", "tanh", 3)
    with b.at(Loc("model/add", "model.py", 4)):
        merged = b.emit("add", left, right)
    out = dense(b, merged, 32, 5, "dense_out", None, 5)
    with b.at(Loc("model/softmax", "model.py", 6)):
        y = b.emit("softmax", out, axis=-1)
    return Module([b.finish(y)])


def parse(text: str) -> Module:
    return parse_module(text, "<test>")


def op_names(func) -> list[str]:
    return [n.op.name for n in func.nodes]


def kernels_of(module: Module) -> list:
    return [f for f in module.funcs if f.primitive]


def calls_in(func) -> list[str]:
    return [n.attrs["callee"] for n in func.nodes if n.op.name == "call"]


def assert_kernel_contract(kernel, max_inline: int = 32) -> None:
    """The guarantees ``fuse`` documents for the kernels it produces."""
    from graphc.ir import FusionKind
    from graphc.passes.fusion_groups import domain, nests, reduce_axes

    assert kernel.primitive and kernel.private
    consts = [n for n in kernel.nodes if n.op.name == "constant"]
    copied = len(consts)
    while copied < len(kernel.nodes) and kernel.nodes[copied].op.name == "broadcast_to" and \
            kernel.nodes[copied].inputs[0] in {o for c in consts for o in c.outputs}:
        copied += 1
    assert all(n.op.name == "constant" for n in kernel.nodes[:len(consts)]), \
        "copied nodes come first"
    assert all(c.outputs[0].type.size <= max_inline for c in consts)
    body = list(kernel.nodes[copied:])
    anchors = [n for n in body if n.op.fusion is FusionKind.OUT_FUSABLE]
    assert len(anchors) <= 1
    if anchors:
        (anchor,) = anchors
        inside = {o for n in body for o in n.outputs}
        assert not set(anchor.inputs) & inside, "matmul operands come from outside the kernel"
        shape = anchor.outputs[0].type.shape
        for n in body:
            if n is not anchor:
                assert n.op.fusion in (FusionKind.ELEMENTWISE, FusionKind.BROADCAST)
                assert n.outputs[0].type.shape == shape
    domains = [domain(n) for n in body]
    outer = [d for d in domains if all(nests(x, d) for x in domains)]
    assert outer, f"domains {domains} do not nest in one of them"
    big = outer[0]
    full = {reduce_axes(n) for n in body
            if n.op.fusion is FusionKind.REDUCE and domain(n) == big}
    assert len(full) <= 1
