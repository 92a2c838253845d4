"""The reference interpreter: numpy over each op's ``reference`` rule.

It is the oracle every other backend and every pass is tested against, so it
is deliberately simple and strict: it walks the entry function node by node,
runs ``call`` by recursion into the callee, and checks every result against
the node's recorded type (dtype exactly, int dims exactly, named symbols
consistently).  A mismatch there is a bug in an op's rules, reported as
such; a runtime failure of an op (a gather index out of range) is an
``ExecutionError`` naming the node and its source location.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from graphc.errors import ExecutionError, GraphcError

from ..ir.core import Func, Module, Node
from ..ir.opdef import CALL, all_ops
from ..ir.printer import NameScope, format_node, print_module
from .base import Backend, Executable, bind_inputs, resolve_attrs, shape_mismatch


def _where(node: Node) -> str:
    return f" (from {node.loc.describe()})" if node.loc is not None else ""


def _check_result(func: Func, node: Node, index: int, array: np.ndarray,
                  bindings: dict[str, int]) -> None:
    expected = node.outputs[index].type
    if array.dtype != expected.dtype.numpy:
        problem = f"dtype {array.dtype.name}"
    else:
        problem = shape_mismatch(expected, array.shape, bindings)
    if problem is not None:
        text = format_node(node, NameScope(func))
        raise ExecutionError(f"op '{node.op.name}' produced {problem}, but the IR records "
                             f"{expected}{_where(node)}\n  in node: {text}")


def run_func(module: Module, func: Func, arrays: list[np.ndarray],
             bindings: dict[str, int]) -> tuple[np.ndarray, ...]:
    env: dict[Any, np.ndarray] = dict(zip(func.params, arrays))
    for node in func.nodes:
        inputs = [env[v] for v in node.inputs]
        if node.op.name == CALL:
            callee = module[node.attrs["callee"]]
            results = run_func(module, callee, *bind_inputs(callee, inputs))
        else:
            try:
                results = node.op.evaluate(inputs, resolve_attrs(node, bindings))
            except ExecutionError as exc:
                raise ExecutionError(f"{exc}{_where(node)}") from None
        for i, (out, array) in enumerate(zip(node.outputs, results)):
            _check_result(func, node, i, array, bindings)
            env[out] = array
    return tuple(env[r] for r in func.results)


class InterpreterExecutable(Executable):
    def __call__(self, *arrays: Any) -> tuple[np.ndarray, ...]:
        checked, bindings = bind_inputs(self.func, arrays)
        results = run_func(self.module, self.func, checked, bindings)
        # Never hand back an input (or a view of one) as a result.
        return tuple(np.array(r, copy=True) for r in results)

    def source(self) -> str:
        return "// interpreter: runs the IR below node by node with numpy\n" + \
            print_module(self.module)


class InterpreterBackend(Backend):
    name = "interpreter"
    description = "numpy reference interpreter (the test oracle)"

    def supported_ops(self) -> frozenset[str]:
        return frozenset(op.name for op in all_ops())

    def compile(self, module: Module, options: Mapping[str, Any] | None = None) -> Executable:
        if options:
            raise GraphcError(f"backend 'interpreter' takes no options, received "
                              f"{', '.join(sorted(options))}")
        self.check_supported(module)
        return InterpreterExecutable(module)
