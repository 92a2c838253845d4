"""``fold-constants``: evaluate pure nodes whose operands are all constants.

A node is folded when

* its op is pure and is neither ``constant`` nor ``call``, and it has operands;
* every operand is the output of a ``constant`` node (including constants
  created earlier in the same walk, so chains fold in one pass);
* its result types are static and its shape attributes name no symbols;
* its result is small: at most ``max-elements`` elements, or no more than its
  constant operands hold together (folding never grows the constant data,
  so a ``broadcast_to`` of a scalar to a large shape stays a broadcast).

The node's own ``reference`` rule computes the value -- the same numpy code
the interpreter runs, so folding changes no result bit.  The folded node
becomes a ``constant`` node that defines the *same* output Value with the
same ``loc``, so no user needs rewiring.  The operand constants are left for
``dce``.  An op that fails on its constant operands (a gather index out of
range) is left alone so that running the program reports the error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from graphc.errors import ExecutionError, PassError

from ..ir.attrs import SHAPE, TensorValue
from ..ir.core import Func, Node, Value
from ..ir.opdef import CALL, get_op
from .base import FuncPass, at_node
from .context import PassContext
from .funcutil import CONSTANT, constant_array


def _has_symbolic_attr(node: Node) -> bool:
    return any(isinstance(d, str) for spec in node.op.attrs if spec.kind is SHAPE
               for d in node.attrs[spec.name])


@dataclass(frozen=True)
class FoldConstants(FuncPass):
    name = "fold-constants"
    summary = "evaluate pure nodes whose operands are all constants (size-capped)"

    max_elements: int = field(default=4096, metadata={
        "help": "fold results up to this many elements (larger ones only when "
                "they are no larger than their constant operands together)"})

    def __post_init__(self) -> None:
        if self.max_elements < 0:
            raise ValueError(f"max-elements must be >= 0, received {self.max_elements}")

    def foldable(self, node: Node, producers: dict[Value, Node]) -> list[np.ndarray] | None:
        """The constant operand arrays when ``node`` is to be folded, else None."""
        if (not node.op.is_pure or node.op.name in (CONSTANT, CALL) or not node.inputs
                or _has_symbolic_attr(node)):
            return None
        if not all(o.type.is_static for o in node.outputs):
            return None
        arrays = [constant_array(producers.get(v)) for v in node.inputs]
        if any(a is None for a in arrays):
            return None
        size = sum(o.type.size or 0 for o in node.outputs)
        if size > self.max_elements and size > sum(a.size for a in arrays):
            return None
        return arrays  # type: ignore[return-value]

    def run_func(self, func: Func, ctx: PassContext) -> Func:
        constant_op = get_op(CONSTANT)
        producers: dict[Value, Node] = {}
        nodes: list[Node] = []
        changed = False
        for node in func.nodes:
            with at_node(func, node):
                arrays = self.foldable(node, producers)
                folded = self._fold(node, arrays, constant_op) if arrays is not None else None
            emitted = folded or [node]
            changed |= bool(folded)
            nodes.extend(emitted)
            for new in emitted:
                for out in new.outputs:
                    producers[out] = new
        return func.replace(nodes=tuple(nodes)) if changed else func

    def _fold(self, node: Node, arrays: list[np.ndarray], constant_op) -> list[Node] | None:
        try:
            results = node.op.evaluate(arrays, node.attrs)
        except ExecutionError:
            return None
        folded = []
        for out, array in zip(node.outputs, results):
            expected = out.type
            if array.dtype != expected.dtype.numpy or array.shape != expected.shape:
                raise PassError(f"op '{node.op.name}' evaluated to {array.dtype.name}"
                                f"{list(array.shape)} on constant operands, but the IR records "
                                f"{expected} (a bug in the op's infer or reference rule)")
            attrs = constant_op.make_attrs({"value": TensorValue(array)})
            folded.append(Node(constant_op, (), attrs, (out,), node.loc))
        return folded

