"""``infer-shapes``: re-infer every type from the parameters, optionally
specializing symbolic dims to sizes.

Algorithm, per public function:

1. bindings = the pass option ``bind`` (``infer-shapes{bind=N:32}``) merged
   with ``PassContext.bindings`` (a symbol bound differently by both is an
   error); each bound symbol must occur in some public function's parameters;
2. parameter types get the bound sizes substituted; so do symbols in shape
   attributes (``reshape {shape = [N, -1]}``), which keeps verifier
   invariant 7 (symbols in attributes are bound by parameters);
3. walking the nodes in order, each node's result types are re-inferred from
   its (new) operand types.  Where the recorded type is more precise (it
   names a dim that inference leaves ``?``) the recorded dim is kept;
4. a ``call`` takes the callee's result types; the callee is re-inferred for
   the argument types (its symbols unified with the arguments' dims).  A
   callee reached with two different signatures is cloned as ``@name_1``.

Private functions that no public function calls are re-inferred on their
own.  A node whose operands no longer fit (a ShapeError from ``infer``) or
whose recorded type contradicts the inferred one is a *shape conflict*: the
PassError names the node, both shapes, and where each operand came from
(the parameter and its binding, or the producing node).  Unchanged
functions stay the same objects; an unchanged module is returned as is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from graphc.errors import PassError, ShapeError

from ..ir.attrs import SHAPE
from ..ir.core import Func, Module, Node, Value
from ..ir.opdef import CALL
from ..ir.printer import NameScope
from ..ir.types import UNKNOWN, Dim, TensorType
from .base import Pass, at_node
from .context import PassContext
from .funcutil import describe_node
from .options import Bindings

SymbolMap = Mapping[str, Dim]


def substitute_type(t: TensorType, symbols: SymbolMap) -> TensorType:
    if not symbols or not t.symbols & symbols.keys():
        return t
    return t.with_shape(symbols.get(d, d) if isinstance(d, str) else d for d in t.shape)


def substitute_attrs(node: Node, symbols: SymbolMap):
    attrs = node.attrs
    for spec in node.op.attrs:
        if spec.kind is SHAPE:
            dims = attrs[spec.name]
            new = tuple(symbols.get(d, d) if isinstance(d, str) else d for d in dims)
            if new != dims:
                attrs = attrs.replace(**{spec.name: new})
    return attrs


def merge_types(recorded: TensorType, inferred: TensorType) -> TensorType | None:
    """The inferred type, keeping recorded dims where inference says ``?``;
    None when they contradict (dtype, rank, or two different sizes)."""
    if recorded.dtype != inferred.dtype or recorded.rank != inferred.rank:
        return None
    dims: list[Dim] = []
    for r, i in zip(recorded.shape, inferred.shape):
        if i == UNKNOWN:
            dims.append(r)
        elif isinstance(r, int) and isinstance(i, int) and r != i:
            return None
        else:
            dims.append(i)
    return inferred.with_shape(dims)


def unify_params(callee: Func, arg_types: tuple[TensorType, ...]) -> dict[str, Dim]:
    """Symbol map from the callee's parameter types to the argument types."""
    found: dict[str, Dim] = {}
    for i, (p, a) in enumerate(zip(callee.params, arg_types)):
        if p.type.dtype != a.dtype or p.type.rank != a.rank:
            raise ShapeError(f"call @{callee.name} argument {i} is now {a}, which cannot "
                             f"stand for the parameter type {p.type}")
        for d, k in zip(p.type.shape, a.shape):
            if isinstance(d, str) and d != UNKNOWN:
                if found.setdefault(d, k) != k:
                    raise ShapeError(f"call @{callee.name} binds symbol {d} to both "
                                     f"{found[d]} and {k}")
            elif isinstance(d, int) and isinstance(k, int) and d != k:
                raise ShapeError(f"call @{callee.name} argument {i} is now {a}, but the "
                                 f"parameter has type {p.type}")
    return found


class _Inference:
    def __init__(self, module: Module, bound: SymbolMap) -> None:
        self.module = module
        self.bound = bound
        self.results: dict[str, Func] = {}           # processed under their own name
        self.clones: dict[str, list[Func]] = {}      # extra signatures, by original name
        self.signatures: dict[tuple[str, tuple], str] = {}
        self.active: set[str] = set()

    def callee(self, name: str, arg_types: tuple[TensorType, ...]) -> Func:
        key = (name, arg_types)
        if key in self.signatures:
            done = self.signatures[key]
            return self.results.get(done) or next(
                f for f in self.clones[name] if f.name == done)
        if name in self.active:
            raise PassError(f"@{name} calls itself (directly or through other functions); "
                            "recursion is not supported")
        original = self.module[name]
        self.active.add(name)
        try:
            func = self.infer(original, arg_types, unify_params(original, arg_types))
        finally:
            self.active.discard(name)
        if name in self.results:  # a second signature: clone under a fresh name
            k = 1
            while f"{name}_{k}" in self.module or any(
                    f.name == f"{name}_{k}" for f in self.clones.get(name, [])):
                k += 1
            func = func.replace(name=f"{name}_{k}")
            self.clones.setdefault(name, []).append(func)
        else:
            self.results[name] = func
        self.signatures[key] = func.name
        return func

    def infer(self, func: Func, param_types: tuple[TensorType, ...], symbols: SymbolMap) -> Func:
        values: dict[Value, Value] = {}
        params = []
        for p, t in zip(func.params, param_types):
            new = p if t == p.type else Value(t, p.name)
            values[p] = new
            params.append(new)
        nodes = []
        for node in func.nodes:
            with at_node(func, node):
                nodes.append(self.infer_node(func, node, values, symbols))
        results = tuple(values.get(r, r) for r in func.results)
        if (all(a is b for a, b in zip(params, func.params))
                and all(a is b for a, b in zip(nodes, func.nodes))):
            return func
        return func.replace(params=tuple(params), nodes=tuple(nodes), results=results)

    def infer_node(self, func: Func, node: Node, values: dict[Value, Value],
                   symbols: SymbolMap) -> Node:
        inputs = tuple(values.get(v, v) for v in node.inputs)
        types = [v.type for v in inputs]
        attrs = substitute_attrs(node, symbols)
        try:
            if node.op.name == CALL:
                callee = self.callee(node.attrs["callee"], tuple(types))
                attrs = attrs.replace(callee=callee.name)
                inferred = callee.result_types
            else:
                inferred = node.op.infer_types(types, attrs)
        except ShapeError as exc:
            raise PassError(self.conflict(func, node, inputs, str(exc))) from None
        outputs = []
        for out, new_type in zip(node.outputs, inferred):
            recorded = substitute_type(out.type, symbols)
            merged = new_type if node.op.name == CALL else merge_types(recorded, new_type)
            if merged is None:
                raise PassError(self.conflict(
                    func, node, inputs, f"its operands give {new_type}, but it records "
                                        f"{out.type}" + (f" ({recorded} after binding)"
                                                          if recorded != out.type else "")))
            new = out if merged == out.type else Value(merged, out.name)
            values[out] = new
            outputs.append(new)
        if (attrs == node.attrs and all(a is b for a, b in zip(inputs, node.inputs))
                and all(a is b for a, b in zip(outputs, node.outputs))):
            return node
        return node.replace(inputs=inputs, attrs=attrs, outputs=tuple(outputs))

    def conflict(self, func: Func, node: Node, inputs: tuple[Value, ...], why: str) -> str:
        names = NameScope(func)
        lines = [f"shape conflict at {describe_node(node, names)}: {why}"]
        producers = func.producers
        for i, (old, new) in enumerate(zip(node.inputs, inputs)):
            source = producers.get(old)
            origin = (f"from {describe_node(source, names)}" if source is not None
                      else f"parameter {names[old]} declared {old.type}")
            lines.append(f"  operand {i}: {new.type}, {origin}")
        if self.bound:
            lines.append("  with " + ", ".join(f"{s}={d}" for s, d in sorted(self.bound.items()))
                         + " bound")
        return "\n".join(lines)


@dataclass(frozen=True)
class InferShapes(Pass):
    name = "infer-shapes"
    summary = "re-infer types from the parameters; bind symbolic dims to sizes"

    bind: Bindings = field(default=(), metadata={
        "help": "sizes for symbolic dims of public functions, e.g. N:32,T:8"})

    def bindings(self, ctx: PassContext, module: Module) -> dict[str, Dim]:
        merged: dict[str, Dim] = dict(ctx.bindings)
        for sym, size in self.bind:
            if merged.setdefault(sym, size) != size:
                raise PassError(f"symbol {sym} is bound to {size} by the pass option and to "
                                f"{merged[sym]} by the pass context")
        found = {s for f in module.funcs if not f.private for p in f.params
                 for s in p.type.symbols}
        missing = sorted(set(merged) - found)
        if missing:
            have = ", ".join(sorted(found)) or "none"
            raise PassError(f"cannot bind {', '.join(missing)}: no parameter of a public "
                            f"function has that symbol (symbols present: {have})")
        return merged

    def run(self, module: Module, ctx: PassContext) -> Module:
        symbols = self.bindings(ctx, module)
        state = _Inference(module, symbols)
        for func in module.funcs:
            if not func.private:
                types = tuple(substitute_type(t, symbols) for t in func.param_types)
                state.results[func.name] = state.infer(func, types, symbols)
        for func in module.funcs:
            if func.private and func.name not in state.results:
                state.callee(func.name, func.param_types)
        funcs: list[Func] = []
        for func in module.funcs:
            funcs.append(state.results[func.name])
            funcs.extend(state.clones.get(func.name, []))
        if len(funcs) == len(module.funcs) and all(a is b for a, b in zip(funcs, module.funcs)):
            return module
        return Module(funcs)
