"""Gradients inside a trace, by the one autodiff transform (``passes/autodiff.py``).

``symbolic_gradient(tracer, target, sources)`` emits, into ``tracer``'s
Builder, the gradient of the 0-d ``target`` with respect to each value in
``sources`` -- parameters (weights, inputs) or any intermediate value.

Algorithm:

1. Snapshot the trace as a Func ``F``.  Each source becomes a *fresh*
   parameter of ``F`` and every use of the source in ``F`` reads that
   parameter instead, so "with respect to an intermediate value" is an
   ordinary "with respect to a parameter".  ``F`` returns the target.
2. ``G = vjp_func(F, wrt=<the fresh parameters>)``.
3. Splice ``G`` into the Builder with its parameters bound to the trace's
   parameters and the sources' own values.  ``G`` replays the forward nodes;
   the spliced copies are identical to the originals (same ops, same
   operands), so the ``cse`` pass of the default pipeline merges them and the
   forward runs once.  Random draws are pure functions of their key, so a
   replayed dropout mask is the forward mask.

The cotangent seed is 1 (``vjp_func(seed="ones")``); a non-scalar target is
summed first (the TensorFlow convention for ``tape.gradient``).
"""

from __future__ import annotations

from typing import Sequence

from graphc.errors import FrontendError

from ..ir.builder import Builder
from ..ir.core import Func, Node, Value
from ..passes.autodiff import vjp_func
from ..tracing import Traced
from .staging import StagedTensor, StagedTracer


def splice(builder: Builder, func: Func, args: Sequence[Value]) -> tuple[Value, ...]:
    """Copy ``func``'s nodes into ``builder`` with its params bound to ``args``;
    returns the values of its results."""
    mapping: dict[Value, Value] = dict(zip(func.params, args))
    for node in func.nodes:
        outputs = tuple(Value(o.type, o.name) for o in node.outputs)
        builder.add_node(Node(node.op, tuple(mapping[v] for v in node.inputs), node.attrs,
                              outputs, node.loc))
        mapping.update(zip(node.outputs, outputs))
    return tuple(mapping[r] for r in func.results)


def gradient_func(tracer: StagedTracer, target: Value,
                  sources: Sequence[Value]) -> tuple[Func, list[Value]]:
    """The vjp Func of the trace (steps 1-2) and the arguments to splice it with."""
    b = tracer.builder
    fresh = [Value(s.type, f"wrt_{i}") for i, s in enumerate(sources)]
    subst = dict(zip(sources, fresh))
    nodes = tuple(n if not any(v in subst for v in n.inputs) else
                  n.replace(inputs=tuple(subst.get(v, v) for v in n.inputs)) for n in b.nodes)
    params = tuple(b.params)
    forward = Func(f"{b.name}_forward", params + tuple(fresh), nodes,
                   (subst.get(target, target),))
    grad = vjp_func(forward, wrt=list(range(len(params), len(params) + len(fresh))))
    return grad, list(params) + list(sources)


def scalar_target(target: Traced, what: str) -> StagedTensor:
    """``target`` itself when it is a 0-d float, else its sum (a float)."""
    if not target.dtype.is_float:
        raise FrontendError(f"{what}: the target must be a float tensor (a loss); received "
                            f"{target.type}")
    if target.ndim:
        target = target.tracer.emit("sum", target, axes=None, keepdims=False)
    return target  # type: ignore[return-value]


def check_sources(sources: Sequence[Traced], names: Sequence[str], what: str) -> None:
    for source, name in zip(sources, names):
        if not source.dtype.is_float:
            raise FrontendError(f"{what}: cannot differentiate with respect to {name} of type "
                                f"{source.type}; only float tensors have gradients")


def symbolic_gradient(tracer: StagedTracer, target: Traced,
                      sources: Sequence[Traced]) -> list[StagedTensor]:
    """Emit d target / d source for each source (see the module doc)."""
    target = scalar_target(target, "gradient")
    if not sources:
        return []
    unique = list(dict.fromkeys(s.value for s in sources))
    grad, args = gradient_func(tracer, target.value, unique)
    outputs = dict(zip(unique, splice(tracer.builder, grad, args)[1:]))
    return [StagedTensor(outputs[s.value], tracer) for s in sources]
