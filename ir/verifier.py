"""The IR verifier.

Numbered invariants (a ``VerifyError`` names the one that failed):

1. **SSA** - every value is defined exactly once, as a parameter or as an
   output of one node, and every use comes after its definition in the same
   function (nodes are in topological order).
2. **Results** - every function result is a value defined in the function.
3. **Schema** - every node's op is registered, its input count matches the
   op's arity, and its attributes match the op's schema exactly (names,
   kinds, nothing missing, nothing extra).
4. **Types** - re-running the op's ``infer`` rule on the recorded input types
   and attributes reproduces the recorded result types (a recorded type may
   only refine an inferred ``?`` dimension).
5. **Calls** - a ``call`` names a function of the module other than its
   caller, with matching argument count and types, and records the callee's
   result types; the call graph has no cycle (no function reaches itself
   through other calls) and no chain of calls deeper than
   ``MAX_CALL_DEPTH``, so every tool can walk it.
6. **Primitive functions** - a function marked ``primitive`` (a fused
   kernel) holds only fusible ops: no ``call``, nothing ``opaque`` except
   constants.
7. **Bound symbols** - every symbol in a shape attribute also appears in a
   parameter type of the function, so it has a size at run time.
8. **Module** - function names are unique, and each is a name the text
   format can carry (letters, digits, ``_`` and ``.``).

Errors carry the offending node and function, print the node and its
``loc``, and show a window of IR around it with the node marked.
"""

from __future__ import annotations

import re

from graphc.errors import AttrError, GraphcError, ShapeError, VerifyError

from .attrs import SHAPE
from .core import Func, Module, Node, Value
from .opdef import CALL, FusionKind, get_op
from .ops.special import CONSTANT_LIKE
from .printer import func_lines
from .types import refines

INVARIANT_NAMES = {
    1: "SSA: defined once, before use",
    2: "results are defined",
    3: "op schema: arity and attributes",
    4: "result types match infer",
    5: "calls match their callee",
    6: "primitive functions hold only fusible ops",
    7: "symbols in attributes are bound by parameters",
    8: "function names are unique and printable",
}

WINDOW = 5
MAX_CALL_DEPTH = 64
"""The longest chain of calls a module may hold (backends inline calls)."""


def _context(func: Func, node: Node | None) -> str:
    lines = func_lines(func)
    index = next((i for i, (_, n) in enumerate(lines) if n is node), 0) if node else 0
    out = []
    if node is not None:
        out.append(f"  in node: {lines[index][0].strip()}")
        if node.loc is not None:
            out.append(f"  from source: {node.loc.describe()}")
    out.append(f"  in function @{func.name}:")
    lo, hi = max(0, index - WINDOW), min(len(lines), index + WINDOW + 1)
    if lo > 0:
        out.append("      ...")
    for i in range(lo, hi):
        marker = ">>  " if node is not None and i == index else "    "
        out.append(f"  {marker}{lines[i][0]}")
    if hi < len(lines):
        out.append("      ...")
    return "\n".join(out)


def _fail(invariant: int, message: str, func: Func, node: Node | None = None) -> VerifyError:
    headline = f"verifier invariant {invariant} ({INVARIANT_NAMES[invariant]}): {message}"
    return VerifyError(headline, invariant=invariant, node=node, func=func,
                       context=_context(func, node))


def _verify_schema(func: Func, node: Node) -> None:
    try:
        registered = get_op(node.op.name)
    except GraphcError as exc:
        raise _fail(3, str(exc), func, node) from None
    if registered is not node.op:
        raise _fail(3, f"node uses an OpDef '{node.op.name}' that is not the registered one",
                    func, node)
    try:
        node.op.check_arity(len(node.inputs))
        canonical = node.op.make_attrs(dict(node.attrs))
    except (ShapeError, AttrError) as exc:
        raise _fail(3, str(exc), func, node) from None
    if canonical != node.attrs:
        raise _fail(3, f"attributes of '{node.op.name}' are not in canonical form", func, node)


def _verify_types(func: Func, node: Node) -> None:
    try:
        inferred = node.op.infer_types([v.type for v in node.inputs], node.attrs)
    except ShapeError as exc:
        raise _fail(4, f"op '{node.op.name}' rejects its inputs: {exc}", func, node) from None
    recorded = tuple(o.type for o in node.outputs)
    if len(recorded) != len(inferred):
        raise _fail(4, f"op '{node.op.name}' has {len(inferred)} result(s), the node records "
                       f"{len(recorded)}", func, node)
    for i, (rec, inf) in enumerate(zip(recorded, inferred)):
        if not refines(rec, inf):
            which = f"result {i} " if len(recorded) > 1 else ""
            raise _fail(4, f"op '{node.op.name}' {which}is recorded as {rec}, but its inputs "
                           f"({', '.join(str(v.type) for v in node.inputs) or 'none'}) give "
                           f"{inf}; expected type {inf}", func, node)


def _verify_call(module: Module, func: Func, node: Node) -> None:
    callee_name = node.attrs["callee"]
    if callee_name == func.name:
        raise _fail(5, f"@{func.name} calls itself; recursion is not supported", func, node)
    if callee_name not in module:
        known = ", ".join("@" + f.name for f in module.funcs)
        raise _fail(5, f"call to undefined function @{callee_name} (module has {known})",
                    func, node)
    callee = module[callee_name]
    args = tuple(v.type for v in node.inputs)
    if args != callee.param_types:
        raise _fail(5, f"call @{callee_name} passes ({', '.join(map(str, args))}), the callee "
                       f"takes ({', '.join(map(str, callee.param_types))})", func, node)
    outs = tuple(o.type for o in node.outputs)
    if outs != callee.result_types:
        raise _fail(5, f"call @{callee_name} records results ({', '.join(map(str, outs))}), the "
                       f"callee returns ({', '.join(map(str, callee.result_types))})", func, node)


def _param_symbols(func: Func) -> set[str]:
    return {s for p in func.params for s in p.type.symbols}


_FUNC_NAME = re.compile(r"[A-Za-z0-9_.]+")


def verify_func(func: Func, module: Module | None = None) -> None:
    if not isinstance(func.name, str) or not _FUNC_NAME.fullmatch(func.name):
        raise _fail(8, f"function name {func.name!r} cannot be printed as @name: use letters, "
                       "digits, '_' and '.'", func)
    defined: set[Value] = set()
    for p in func.params:
        if p in defined:
            raise _fail(1, f"parameter {p!r} appears twice", func)
        defined.add(p)
    bound = _param_symbols(func)
    for node in func.nodes:
        for i, v in enumerate(node.inputs):
            if v not in defined:
                raise _fail(1, f"input {i} of '{node.op.name}' ({v.type}) is used before it is "
                               "defined, or is not defined in this function", func, node)
        _verify_schema(func, node)
        if node.op.name == CALL:
            if module is not None:
                _verify_call(module, func, node)
        else:
            _verify_types(func, node)
        if func.primitive and (node.op.name == CALL or (
                node.op.fusion is FusionKind.OPAQUE and CONSTANT_LIKE not in node.op.traits)):
            raise _fail(6, f"primitive function holds non-fusible op '{node.op.name}'",
                        func, node)
        for spec in node.op.attrs:
            if spec.kind is SHAPE:
                free = [d for d in node.attrs[spec.name] if isinstance(d, str) and d not in bound]
                if free:
                    raise _fail(7, f"attribute '{spec.name}' uses symbol(s) {', '.join(free)} "
                                   "that no parameter type binds", func, node)
        for out in node.outputs:
            if out in defined:
                raise _fail(1, f"value {out!r} is defined twice", func, node)
            defined.add(out)
    for i, r in enumerate(func.results):
        if r not in defined:
            raise _fail(2, f"result {i} ({r.type}) is not defined in @{func.name}", func)


def verify_module(module: Module) -> Module:
    """Check every invariant; return the module unchanged or raise VerifyError."""
    seen: set[str] = set()
    for func in module.funcs:
        if func.name in seen:
            raise _fail(8, f"function @{func.name} is defined twice", func)
        seen.add(func.name)
    for func in module.funcs:
        verify_func(func, module)
    _verify_call_graph(module)
    return module


def _first_call(caller: Func, callee: str) -> Node:
    return next(n for n in caller.nodes if n.op.name == CALL and n.attrs["callee"] == callee)


def _verify_call_graph(module: Module) -> None:
    """Invariant 5 across functions: no cycle, no chain deeper than MAX_CALL_DEPTH.
    An iterative depth-first walk (a deep chain must not exhaust Python's stack);
    ``depth[f]`` is the longest chain of calls below ``f``."""
    callees = {f.name: sorted({n.attrs["callee"] for n in f.nodes if n.op.name == CALL})
               for f in module.funcs}
    depth: dict[str, int] = {}
    for root in callees:
        if root in depth:
            continue
        path = [root]
        on_path = {root}
        pending = [iter(callees[root])]
        while pending:
            callee = next(pending[-1], None)
            if callee is None:
                done = path.pop()
                on_path.discard(done)
                pending.pop()
                depth[done] = max((depth[c] + 1 for c in callees[done]), default=0)
                if depth[done] > MAX_CALL_DEPTH:
                    caller = module[done]
                    raise _fail(5, f"calls nest {depth[done]} levels deep below @{done}, more "
                                   f"than the {MAX_CALL_DEPTH} graphc supports", caller,
                                _first_call(caller, callees[done][0]))
                continue
            if callee in on_path:
                cycle = path[path.index(callee):] + [callee]
                caller = module[path[-1]]
                raise _fail(5, f"@{callee} calls itself through "
                               f"{' -> '.join('@' + name for name in cycle)}; recursion is "
                               "not supported", caller, _first_call(caller, callee))
            if callee not in depth:
                path.append(callee)
                on_path.add(callee)
                pending.append(iter(callees[callee]))


def verify(ir: Module | Func) -> Module | Func:
    """Verify a Module (or a lone Func, whose calls then go unchecked)."""
    if isinstance(ir, Func):
        verify_func(ir)
        return ir
    return verify_module(ir)
