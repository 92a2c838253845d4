"""Helpers for code that takes tensors *or* host arrays (losses, metrics).

* ``as_tensor(value, like)``: a host array next to a traced tensor joins that
  tensor's trace -- as a parameter in an eager trace (so the trace's
  structure, and its compile-cache key, never depend on the data), as a
  constant otherwise;
* ``producer_op(x)``: the node that computed ``x`` in its trace (losses use it
  to find the logits behind a softmax);
* ``run_standalone(fn, *arrays)``: run a function of tensors on host arrays by
  tracing it once and evaluating it on the reference interpreter.
"""

from __future__ import annotations

from typing import Any, Callable

from ..ir.core import Node
from ..tracing import Traced
from .staging import StagedTracer, as_host_array


def as_tensor(value: Any, like: Traced, what: str) -> Traced:
    """``value`` as a tensor of ``like``'s trace (see the module doc)."""
    if isinstance(value, Traced):
        return value
    array = as_host_array(value, what)
    tracer = like.tracer
    if isinstance(tracer, StagedTracer) and tracer.eager:
        return tracer.lift(array, what)
    return tracer.constant(array, array.dtype)


def producer_op(x: Traced) -> Node | None:
    """The node of ``x``'s trace whose output is ``x`` (None for parameters)."""
    for node in reversed(x.tracer.builder.nodes):
        if x.value in node.outputs:
            return node
    return None


def run_standalone(fn: Callable[..., Any], *values: Any) -> Any:
    """``fn`` applied to host arrays, evaluated by the interpreter (one array, or a
    list when ``fn`` returns a list)."""
    tracer = StagedTracer(getattr(fn, "__name__", "fn").strip("<>") or "fn", eager=True,
                          backend="interpreter", passes=None)
    arrays = [as_host_array(v, f"argument {i}") for i, v in enumerate(values)]
    out = fn(*(tracer.lift(a, f"x{i}") for i, a in enumerate(arrays)))
    if isinstance(out, list):
        return tracer.evaluate([o.value for o in out])
    return tracer.evaluate([out.value])[0]
