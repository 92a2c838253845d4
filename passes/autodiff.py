"""Reverse-mode automatic differentiation as an IR transform.

``vjp_func(func, wrt)`` returns a new Func that computes ``func``'s results
*and* the gradients of a scalar objective with respect to the parameters
named in ``wrt``.  The result is ordinary IR: the usual passes (cse, dce,
fold-constants, fuse) clean it up and every backend compiles it unchanged.

Algorithm (one forward replay, one reverse walk):

1. ``call`` nodes are inlined first, so gradients flow through fused
   kernels exactly as through their bodies.
2. The forward nodes are replayed into a fresh Builder (same ops, attributes
   and ``loc``), mapping old values to new ones.
3. *Activity*: a value is active when it is floating point and depends on a
   ``wrt`` parameter.  Only active values carry cotangents; everything else
   is a constant of the differentiation and costs nothing.
4. Seeds: with ``seed="ones"`` the function must return one 0-d float
   result (the loss) and its cotangent is 1; with ``seed="param"`` a
   cotangent parameter ``ct_<i>`` is appended for each float result (the
   vector-Jacobian product of a vector-valued function).
5. Reverse walk: for each node in reverse order with a cotangent on some
   output and an active input, the op's ``vjp`` rule emits the input
   cotangents (see ``graphc.ir.ops.grad_util`` for the rule contract).
   Cotangents of a value used several times are summed (``add``).  Zeros
   stay symbolic (absent) until a gradient output needs one materialised.
6. Results: the forward results, then one gradient per ``wrt`` parameter,
   named ``grad_<param>``, each with its parameter's exact type.

Gradient nodes carry the ``loc`` of the forward node they differentiate, so
a gradient kernel is traced back to the same layer and source line.
"""

from __future__ import annotations

from typing import Sequence

from graphc.errors import GraphcError

from ..ir.builder import Builder
from ..ir.core import Func, Module, Node, Value
from ..ir.ops.grad_util import scalar, zeros
from .inline import inline_calls


def _resolve_wrt(func: Func, wrt: Sequence[int | str] | None) -> list[int]:
    if wrt is None:
        return [i for i, p in enumerate(func.params) if p.type.dtype.is_float]
    names = [p.name for p in func.params]
    indices = []
    for item in wrt:
        if isinstance(item, int) and not isinstance(item, bool):
            if not 0 <= item < len(func.params):
                raise GraphcError(f"cannot differentiate @{func.name} with respect to input "
                                  f"{item}: it has {len(func.params)} input(s)")
            index = item
        elif item in names:
            index = names.index(item)
        else:
            listed = ", ".join(str(n) for n in names) or "none"
            raise GraphcError(f"@{func.name} has no input named {item!r} to differentiate "
                              f"with respect to; its inputs are {listed}")
        param = func.params[index]
        if not param.type.dtype.is_float:
            raise GraphcError(f"cannot differentiate with respect to input "
                              f"'{param.name or index}' of type {param.type}: only floating "
                              "point inputs have gradients")
        if index not in indices:
            indices.append(index)
    return indices


def _accumulate(b: Builder, env: dict[Value, Value], target: Value, ct: Value) -> None:
    if ct.type != target.type:
        raise GraphcError(f"gradient rule produced {ct.type} for a value of type "
                          f"{target.type}; this is a bug in a vjp rule")
    env[target] = b.emit("add", env[target], ct) if target in env else ct


def vjp_func(func: Func, wrt: Sequence[int | str] | None = None, *, seed: str = "ones",
             name: str | None = None, module: Module | None = None) -> Func:
    """The gradient function of ``func`` (see the module docstring)."""
    if seed not in ("ones", "param"):
        raise GraphcError(f"seed must be 'ones' or 'param', received {seed!r}")
    if module is not None:
        func = inline_calls(func, module)
    wrt_indices = _resolve_wrt(func, wrt)
    b = Builder(name or f"{func.name}_grad")
    mapping: dict[Value, Value] = {}
    for p in func.params:
        mapping[p] = b.param(p.type, p.name)
    active: set[Value] = {mapping[func.params[i]] for i in wrt_indices}

    replayed: list[tuple[Node, Node]] = []
    for node in func.nodes:
        if node.op.name == "call":
            raise GraphcError(f"@{func.name} calls @{node.attrs['callee']}; pass the module so "
                              "calls can be inlined before differentiation")
        outputs = tuple(Value(o.type, o.name) for o in node.outputs)
        copy = Node(node.op, tuple(mapping[v] for v in node.inputs), node.attrs, outputs, node.loc)
        b.add_node(copy)
        mapping.update(zip(node.outputs, outputs))
        if any(v in active for v in copy.inputs):
            active.update(o for o in outputs if o.type.dtype.is_float)
        replayed.append((node, copy))

    results = [mapping[r] for r in func.results]
    cts: dict[Value, Value] = {}
    if seed == "ones":
        if len(results) != 1 or results[0].type.rank != 0 or not results[0].type.dtype.is_float:
            shown = ", ".join(str(r.type) for r in results) or "nothing"
            raise GraphcError(f"a gradient needs @{func.name} to return one 0-d float value "
                              f"(a loss); it returns {shown}. Reduce it (e.g. with mean) or "
                              "use seed='param' for a vector-Jacobian product")
        if results[0] in active:
            cts[results[0]] = scalar(b, 1.0, results[0].type.dtype)
    else:
        for i, r in enumerate(results):
            if r.type.dtype.is_float:
                ct = b.param(r.type, f"ct_{i}")
                if r in active:
                    _accumulate(b, cts, r, ct)

    for original, node in reversed(replayed):
        out_cts = [cts.get(o) for o in node.outputs]
        if all(c is None for c in out_cts) or not any(v in active for v in node.inputs):
            continue
        if not node.op.differentiable:
            continue
        if node.op.vjp is None:
            raise GraphcError(f"op '{node.op.name}' has no gradient rule"
                              + (f" (at {node.loc.describe()})" if node.loc else ""))
        filled = [c if c is not None else zeros(b, o.type) for c, o in zip(out_cts, node.outputs)]
        with b.at(node.loc):
            in_cts = node.op.vjp(b, node, *filled)
        if len(in_cts) != len(node.inputs):
            raise GraphcError(f"gradient rule of '{node.op.name}' returned {len(in_cts)} "
                              f"cotangents for {len(node.inputs)} inputs")
        for value, ct in zip(node.inputs, in_cts):
            if ct is not None and value in active:
                with b.at(node.loc):
                    _accumulate(b, cts, value, ct)

    grads = []
    for i in wrt_indices:
        param = mapping[func.params[i]]
        grad = cts.get(param)
        if grad is None:
            grad = zeros(b, param.type)
        grads.append(grad)
    return b.finish(*results, *grads)


def grad_module(module: Module, wrt: Sequence[int | str] | None = None, *,
                seed: str = "ones") -> Module:
    """A module whose entry is the gradient function of ``module``'s entry."""
    entry = module.entry
    return Module([vjp_func(entry, wrt, seed=seed, module=module)])
