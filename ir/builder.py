"""``Builder``: construct a Func node by node, inferring types on every emit.

Usage::

    b = Builder("mlp")
    x = b.param(TensorType("f32", ("N", 784)), "x")
    w = b.param(TensorType("f32", (784, 10)), "w")
    y = b.emit("softmax", b.emit("matmul", x, w), axis=-1)
    func = b.finish(y)

Every ``emit`` checks arity and attributes against the op's schema and runs
its ``infer`` rule, so a Builder can only produce well-typed nodes; errors
surface at the emit that caused them.  The current source location is an
explicit piece of Builder state (``with b.at(loc): ...``), not a global.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator, Sequence

from graphc.errors import GraphcError, ShapeError

from .attrs import TensorValue
from .core import Func, Node, Value
from .loc import AnyLoc
from .opdef import CALL, OpDef, get_op
from .types import TensorType


class Builder:
    def __init__(self, name: str = "main", *, private: bool = False,
                 primitive: bool = False) -> None:
        self.name = name
        self.private = private
        self.primitive = primitive
        self.params: list[Value] = []
        self.nodes: list[Node] = []
        self.loc: AnyLoc | None = None

    @contextlib.contextmanager
    def at(self, loc: AnyLoc | None) -> Iterator[None]:
        """Attach ``loc`` to every node emitted inside the block."""
        saved, self.loc = self.loc, loc
        try:
            yield
        finally:
            self.loc = saved

    def param(self, type: TensorType, name: str | None = None) -> Value:
        value = Value(type, name)
        self.params.append(value)
        return value

    def emit(self, op: str | OpDef, *inputs: Value, name: str | None = None,
             loc: AnyLoc | None = None, **attrs: Any) -> Value:
        """Append one single-output node and return its output."""
        outputs = self.emit_multi(op, *inputs, names=(name,), loc=loc, **attrs)
        if len(outputs) != 1:
            raise GraphcError(f"op '{op}' has {len(outputs)} outputs; use emit_multi")
        return outputs[0]

    def emit_multi(self, op: str | OpDef, *inputs: Value, names: Sequence[str | None] = (),
                   loc: AnyLoc | None = None, **attrs: Any) -> tuple[Value, ...]:
        opdef = op if isinstance(op, OpDef) else get_op(op)
        if opdef.name == CALL:
            raise GraphcError("emit a call with Builder.call(callee, *args)")
        for i, v in enumerate(inputs):
            if not isinstance(v, Value):
                raise ShapeError(f"op '{opdef.name}' input {i} must be an IR Value, "
                                 f"received {type(v).__name__}")
        attr_map = opdef.make_attrs(attrs)
        types = opdef.infer_types([v.type for v in inputs], attr_map)
        names = tuple(names) + (None,) * (len(types) - len(names))
        outputs = tuple(Value(t, n) for t, n in zip(types, names))
        self.nodes.append(Node(opdef, tuple(inputs), attr_map, outputs,
                               loc if loc is not None else self.loc))
        return outputs

    def constant(self, value: object, dtype: object | None = None,
                 name: str | None = None) -> Value:
        """Emit ``constant`` holding ``value`` (array-like, optional dtype)."""
        return self.emit("constant", name=name, value=TensorValue(value, dtype))

    def call(self, callee: Func, *args: Value, names: Sequence[str | None] = (),
             loc: AnyLoc | None = None) -> tuple[Value, ...]:
        """Emit ``call @callee(args)``; result types are the callee's."""
        if len(args) != len(callee.params):
            raise ShapeError(f"call @{callee.name} takes {len(callee.params)} argument(s), "
                             f"received {len(args)}")
        for i, (arg, param) in enumerate(zip(args, callee.params)):
            if arg.type != param.type:
                raise ShapeError(f"call @{callee.name} argument {i} has type {arg.type}, "
                                 f"expected {param.type}")
        opdef = get_op(CALL)
        names = tuple(names) + (None,) * (len(callee.results) - len(names))
        outputs = tuple(Value(r.type, n) for r, n in zip(callee.results, names))
        self.nodes.append(Node(opdef, tuple(args), opdef.make_attrs({"callee": callee.name}),
                               outputs, loc if loc is not None else self.loc))
        return outputs

    def add_node(self, node: Node) -> Node:
        """Append an already built node (passes copying nodes use this)."""
        self.nodes.append(node)
        return node

    def finish(self, *results: Value) -> Func:
        return Func(self.name, tuple(self.params), tuple(self.nodes), tuple(results),
                    private=self.private, primitive=self.primitive)
