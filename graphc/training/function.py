"""``graphc.function``, ``graphc.grad`` and ``graphc.value_and_grad``.

``@graphc.function`` compiles a whole user-written Python function -- a
custom training step with a ``GradientTape``, ``apply_gradients`` and model
calls -- into **one** Func: it is traced once per input signature (array
dtypes and shapes; other arguments such as Python numbers are static and
part of the signature) with its arguments as parameters, the weights and
optimizer state it touches read as parameters and their new values returned
as extra results, which are swapped in after every call.  Its results come
back as numpy arrays in the structure the function returned.

``graphc.grad(fn, argnums=0)`` and ``graphc.value_and_grad(fn, argnums=0,
has_aux=False)`` differentiate a function of arrays written with
``graphc.ops`` (or calling models and losses).  ``fn`` must return a 0-d
float (the value), or ``(value, aux)`` with ``has_aux``.  Like JAX:
``grad`` returns the gradient (a tuple for a tuple of ``argnums``), or
``(gradient, aux)``; ``value_and_grad`` returns ``(value, gradient)`` or
``((value, aux), gradient)``.  Each is traced and compiled once per input
signature and cached.

Both use the same staging machinery as ``fit`` (``staging.py``) and the same
autodiff transform (``gradients.py``).
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from graphc.errors import FrontendError

from ..ir.core import Module
from ..ir.types import TensorType
from ..random import generator_from
from ..structure import flatten, pack_like
from ..tracing import Traced
from .gradients import check_sources, symbolic_gradient
from .staging import StagedProgram, StagedTracer, activate, as_host_array


def _is_array(leaf: Any) -> bool:
    return isinstance(leaf, (np.ndarray, np.generic))


def _static_key(leaf: Any) -> Any:
    try:
        hash(leaf)
    except TypeError:
        raise FrontendError(f"graphc.function arguments must be arrays or hashable Python "
                            f"values (numbers, strings, None); received {leaf!r}") from None
    return ("static", type(leaf).__name__, leaf)


class StagedFunction:
    """A Python function compiled per input signature; see the module doc."""

    def __init__(self, fn: Callable[..., Any], backend: Any = None, passes: Any = ...,
                 seed: Any = None) -> None:
        self.fn = fn
        self.backend = backend
        self.passes = passes
        self.seed = seed
        self._cache: dict[tuple, tuple[StagedProgram, Any, Any]] = {}
        functools.update_wrapper(self, fn)

    @property
    def label(self) -> str:
        return f"graphc.function {getattr(self.fn, '__name__', 'fn')!r}"

    def _split(self, args: tuple, kwargs: dict) -> tuple[list[np.ndarray], tuple]:
        leaves = flatten((list(args), kwargs))
        arrays = [as_host_array(x, self.label) for x in leaves if _is_array(x)]
        key = tuple((x.dtype.str, x.shape) if _is_array(x) else _static_key(x) for x in leaves)
        return arrays, key

    def _trace(self, args: tuple, kwargs: dict, arrays: list[np.ndarray]) -> tuple:
        name = getattr(self.fn, "__name__", "fn").strip("<>") or "fn"
        tracer = StagedTracer(name, seed=generator_from(self.seed) if self.seed is not None
                              else None, backend=self.backend, passes=self.passes)
        params = iter([tracer.arg(TensorType(a.dtype, a.shape), f"arg{i}")
                       for i, a in enumerate(arrays)])
        structure = (list(args), kwargs)
        leaves = [next(params) if _is_array(x) else x for x in flatten(structure)]
        call_args, call_kwargs = pack_like(structure, leaves)
        with activate(tracer):
            out = self.fn(*call_args, **call_kwargs)
        outputs = [x for x in flatten(out) if x is not None]
        for x in outputs:
            if not isinstance(x, Traced):
                raise FrontendError(f"{self.label} must return tensors computed in it (or "
                                    f"nothing); it returned {x!r}")
        return tracer.finish(outputs, name), out, tracer

    def get_program(self, *args: Any, **kwargs: Any) -> StagedProgram:
        """The staged program for arguments like these (traced on first use)."""
        arrays, key = self._split(args, kwargs)
        if key not in self._cache:
            program, out, _ = self._trace(args, kwargs, arrays)
            self._cache[key] = (program, out, None)
        return self._cache[key][0]

    def lower(self, *args: Any, **kwargs: Any) -> Module:
        """The traced IR (before passes) for arguments like these."""
        return self.get_program(*args, **kwargs).module

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        arrays, key = self._split(args, kwargs)
        program = self.get_program(*args, **kwargs)
        out = self._cache[key][1]
        results, _ = program.run(arrays)
        found = iter(results)
        return pack_like(out, [None if x is None else next(found) for x in flatten(out)])


def function(fn: Callable[..., Any] | None = None, *, backend: Any = None, passes: Any = ...,
             seed: Any = None) -> Any:
    """Compile ``fn`` into one Func per input signature (usable as ``@graphc.function``
    or ``@graphc.function(backend="interpreter")``)."""
    if fn is None:
        return lambda f: StagedFunction(f, backend, passes, seed)
    if not callable(fn):
        raise FrontendError(f"graphc.function needs a function; received {fn!r}")
    return StagedFunction(fn, backend, passes, seed)


# ---------------------------------------------------------------- grad / value_and_grad

def _argnums(argnums: Any, count: int, label: str) -> tuple[int, ...]:
    items = (argnums,) if isinstance(argnums, int) and not isinstance(argnums, bool) else argnums
    if not isinstance(items, tuple) or not items or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in items):
        raise FrontendError(f"{label}: argnums must be an int or a tuple of ints. Received: "
                            f"{argnums!r}")
    for i in items:
        if not -count <= i < count:
            raise FrontendError(f"{label}: argnums {i} is out of range for {count} argument(s)")
    return tuple(i % count for i in items)


class _Differentiated:
    def __init__(self, fn: Callable[..., Any], argnums: Any, has_aux: bool, backend: Any,
                 passes: Any, with_value: bool) -> None:
        self.fn = fn
        self.argnums = argnums
        self.has_aux = bool(has_aux)
        self.backend = backend
        self.passes = passes
        self.with_value = with_value
        self.label = f"graphc.{'value_and_grad' if with_value else 'grad'} of " \
                     f"{getattr(fn, '__name__', 'fn')!r}"
        self._cache: dict[tuple, tuple[StagedProgram, tuple[int, ...], Any]] = {}
        functools.update_wrapper(self, fn)

    def _trace(self, arrays: list[np.ndarray]) -> tuple[StagedProgram, tuple[int, ...], Any]:
        argnums = _argnums(self.argnums, len(arrays), self.label)
        tracer = StagedTracer(getattr(self.fn, "__name__", "fn").strip("<>") or "fn",
                              backend=self.backend, passes=self.passes)
        params = [tracer.arg(TensorType(a.dtype, a.shape), f"x{i}") for i, a in enumerate(arrays)]
        with activate(tracer):
            out = self.fn(*params)
        aux: Any = None
        if self.has_aux:
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                raise FrontendError(f"{self.label} with has_aux=True needs fn to return "
                                    f"(value, aux); it returned {out!r}")
            out, aux = out
        if not isinstance(out, Traced) or out.tracer is not tracer or out.ndim != 0 \
                or not out.dtype.is_float:
            shown = out.type if isinstance(out, Traced) else repr(out)
            raise FrontendError(f"{self.label} needs fn to return a 0-d float tensor (a loss) "
                                f"computed from its arguments; it returned {shown}")
        sources = [params[i] for i in argnums]
        check_sources(sources, [f"argument {i}" for i in argnums], self.label)
        grads = symbolic_gradient(tracer, out, sources)
        aux_leaves = flatten(aux) if self.has_aux else []
        if not all(isinstance(x, Traced) for x in aux_leaves):
            raise FrontendError(f"{self.label}: aux must hold tensors computed in fn")
        return tracer.finish([out] + grads + aux_leaves), argnums, aux

    def __call__(self, *args: Any) -> Any:
        arrays = [as_host_array(a, self.label) for a in args]
        key = tuple((a.dtype.str, a.shape) for a in arrays)
        if key not in self._cache:
            self._cache[key] = self._trace(arrays)
        program, argnums, aux_structure = self._cache[key]
        results, _ = program.run(arrays)
        value, rest = results[0], results[1:]
        grads = rest[:len(argnums)]
        grad = grads[0] if isinstance(self.argnums, int) else tuple(grads)
        if self.has_aux:
            aux = pack_like(aux_structure, rest[len(argnums):])
            return ((value, aux), grad) if self.with_value else (grad, aux)
        return (value, grad) if self.with_value else grad


def value_and_grad(fn: Callable[..., Any], argnums: Any = 0, has_aux: bool = False, *,
                   backend: Any = None, passes: Any = ...) -> Callable[..., Any]:
    """``fn``'s value and its gradient with respect to ``argnums`` (see the module doc)."""
    return _Differentiated(fn, argnums, has_aux, backend, passes, with_value=True)


def grad(fn: Callable[..., Any], argnums: Any = 0, has_aux: bool = False, *,
         backend: Any = None, passes: Any = ...) -> Callable[..., Any]:
    """``fn``'s gradient with respect to ``argnums`` (see the module doc)."""
    return _Differentiated(fn, argnums, has_aux, backend, passes, with_value=False)
