"""``graphc.GradientTape``: the custom-training-loop style.

::

    with graphc.GradientTape() as tape:
        logits = model(x, training=True)
        loss = loss_fn(y, logits)
    grads = tape.gradient(loss, model.trainable_weights)
    optimizer.apply_gradients(zip(grads, model.trainable_weights))

Inside the ``with`` block the tape's ``StagedTracer`` is the active trace:
model calls on host arrays and ``graphc.ops``/losses on their results are
*recorded as IR*, not run (host arrays become parameters, so the recorded
Func has the same structure every iteration).  A single layer (not a model)
called on a host array runs eagerly as usual; pass it ``tape.watch(x)``
instead, the recorded tensor, to record it.  Reading a value
(``float(loss)``) runs the trace so far.  ``tape.gradient`` differentiates
the recording with the autodiff transform (``gradients.py``) and runs the
gradient program; its compiled form is cached by the *structure* of the
recording plus which values are target and sources, so later iterations
neither differentiate nor compile again -- they trace (cheap Python) and
run.  Sources may be weights (``model.trainable_weights``), arrays passed to
``tape.watch`` or recorded tensors; the result has the sources' structure
and holds host arrays.  A source the target does not depend on gets zeros.

Inside ``graphc.function`` (an active trace already exists) the tape records
into that trace and ``gradient`` returns tensors of it, so a whole
user-written step compiles into one Func.  A tape inside another tape shares
the outer recording and returns recorded tensors (readable with
``.numpy()``), which the outer tape can differentiate again: second
derivatives.

Randomness: the recording draws one key (``seed``: an int, a
``graphc.random.SeedGenerator``, or None for the default generator), so
every evaluation of one recording sees the same dropout masks.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np

from graphc.errors import FrontendError

from ..ir.builder import Builder
from ..ir.core import Value
from ..ir.equality import fingerprint
from ..layers.weights import Weight
from ..random import SeedGenerator, generator_from
from ..structure import flatten, pack_like
from ..tracing import Traced
from .gradients import check_sources, gradient_func, scalar_target, splice, symbolic_gradient
from .staging import StagedTracer, activate, active_tracer, compiled_executable
from .variables import Variable

_GRADIENTS: "OrderedDict[tuple, Any]" = OrderedDict()


class GradientTape:
    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True, *,
                 seed: int | SeedGenerator | None = None, backend: Any = None,
                 passes: Any = ...) -> None:
        self.persistent = bool(persistent)
        self.seed = generator_from(seed) if seed is not None else None
        self.backend = backend
        self.passes = passes
        self._tracer: StagedTracer | None = None
        self._nested = False
        self._context: Any = None
        self._used = False

    # recording ------------------------------------------------------------------
    def __enter__(self) -> "GradientTape":
        outer = active_tracer()
        self._nested = outer is not None
        self._tracer = outer if outer is not None else StagedTracer(
            "tape", eager=True, seed=self.seed, backend=self.backend, passes=self.passes)
        self._context = activate(self._tracer)
        self._context.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._context.__exit__(*exc)
        self._context = None

    @property
    def tracer(self) -> StagedTracer:
        if self._tracer is None:
            raise FrontendError("this GradientTape has not recorded anything: use it as "
                                "`with graphc.GradientTape() as tape:`")
        return self._tracer

    def watch(self, value: Any) -> Any:
        """Record ``value`` (host arrays, possibly nested) so gradients can be taken
        with respect to it; returns the recorded tensors (pass them on to layers)."""
        tracer = self.tracer
        leaves = flatten(value)
        out = []
        for leaf in leaves:
            if isinstance(leaf, (Traced, Weight, Variable)):
                out.append(tracer.read(leaf) if not isinstance(leaf, Traced) else leaf)
            else:
                out.append(tracer.lift(np.asarray(leaf) if not isinstance(leaf, np.ndarray)
                                       else leaf, "watched"))
        return pack_like(value, out)

    # differentiating ----------------------------------------------------------
    def _source(self, tracer: StagedTracer, leaf: Any) -> tuple[Traced, str]:
        if isinstance(leaf, (Weight, Variable)):
            return tracer.read(leaf), f"'{leaf.path}'"
        if isinstance(leaf, Traced):
            if leaf.tracer is not tracer:
                raise FrontendError("tape.gradient: a source tensor was not recorded by this "
                                    "tape")
            return leaf, f"a tensor of type {leaf.type}"
        if isinstance(leaf, np.ndarray) and id(leaf) in tracer.lifted:
            return tracer.wrap(tracer.lifted[id(leaf)]), "a watched array"
        raise FrontendError(f"tape.gradient: cannot differentiate with respect to {leaf!r}; "
                            "sources are weights, arrays given to tape.watch, or tensors "
                            "recorded by the tape")

    def gradient(self, target: Any, sources: Any, output_gradients: Any = None) -> Any:
        """d target / d source for every source, in the structure of ``sources``."""
        if self._used and not self.persistent:
            raise FrontendError("a non-persistent GradientTape can compute one gradient; "
                                "create it with GradientTape(persistent=True) for more")
        tracer = self.tracer
        if output_gradients is not None:
            raise FrontendError("tape.gradient(output_gradients=...) is not supported; "
                                "multiply the target by them first")
        if not isinstance(target, Traced) or target.tracer is not tracer:
            raise FrontendError(f"tape.gradient: the target must be a tensor recorded by this "
                                f"tape (computed from the model's outputs inside the `with` "
                                f"block); received {type(target).__name__}")
        self._used = True
        target = scalar_target(target, "tape.gradient")
        leaves = flatten(sources)
        found = [self._source(tracer, leaf) for leaf in leaves]
        check_sources([v for v, _ in found], [n for _, n in found], "tape.gradient")
        values = [v.value for v, _ in found]
        if not tracer.eager or self._nested:  # the enclosing trace differentiates it further
            return pack_like(sources, symbolic_gradient(tracer, target, [v for v, _ in found]))
        return pack_like(sources, self._eager_gradient(tracer, target.value, values))

    def _eager_gradient(self, tracer: StagedTracer, target: Value,
                        sources: list[Value]) -> list[np.ndarray]:
        unique = list(dict.fromkeys(sources))
        forward = tracer.func([target] + unique)
        key = (fingerprint(forward, ignore_name=True), getattr(tracer.backend, "name",
                                                                tracer.backend),
               repr(tracer.passes))
        program = _GRADIENTS.get(key)
        if program is None:
            grad, _ = gradient_func(tracer, target, unique)
            b = Builder("tape_gradient")
            params = [b.param(p.type, p.name) for p in tracer.builder.params]
            # replay the recording so intermediate sources exist, then splice the gradient
            mapped = splice(b, tracer.func(unique), params)
            results = splice(b, grad, params + list(mapped))
            program = compiled_executable(b.finish(*results), tracer.backend, tracer.passes)
            _GRADIENTS[key] = program
            while len(_GRADIENTS) > 64:
                _GRADIENTS.popitem(last=False)
        outs = program(*tracer.fetch(()))
        tracer.values.setdefault(target, outs[0])
        by_value = dict(zip(unique, outs[1:]))
        return [by_value[v] for v in sources]

