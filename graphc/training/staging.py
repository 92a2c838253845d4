"""Staging: traced Python code -> one IR Func -> a compiled, stateful program.

Every training API (``fit``'s train step, ``GradientTape``,
``graphc.function``, ``graphc.grad``, ``optimizer.apply_gradients``) is the
same three moves:

1. trace Python code (layers, ``graphc.ops``, losses, optimizers) with a
   ``StagedTracer`` into one Builder;
2. ``finish`` it into a ``StagedProgram``: one Func whose parameters each
   have a *source* -- where the host gets the array on every call -- and whose
   results are the user's outputs followed by the new values of the state the
   code wrote;
3. run it: fetch the sources, call the compiled executable once, swap the
   written values in (``variables.swap_in``).

Parameter sources:

==============  ============================================================
``ArgSource``   the i-th array the program is called with (a batch)
``ArraySource`` a host array captured while tracing (a tape's inputs)
``VarSource``   a Weight or Variable: its *current* value at call time
``KeySource``   the random key: a fresh ``SeedGenerator`` key per call, or
                one key fixed for the trace (an eager tape evaluates its
                trace several times and must see one set of dropout masks)
``ValueSource`` a host value computed at call time (the learning rate)
==============  ============================================================

State: ``tracer.weight(w)`` (what layers call) and ``read(var)`` give a
variable's latest value in the trace -- a parameter on first read, the
written value after a ``write(var, value)``.

Compiled executables are cached by the structure of the Func
(``graphc.ir.equality.fingerprint``), the backend and the pass pipeline, so
a tape re-traced every iteration compiles once.  ``activate(tracer)`` makes a
tracer the *active* one for a ``with`` block (a context variable, not a
global): model calls on host arrays and GradientTapes inside the block
record into it.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections import OrderedDict
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from graphc.errors import FrontendError, GraphcError, InputError

from ..backends.base import Executable
from ..naming import ir_func_name
from ..ir.builder import Builder
from ..ir.core import Func, Module, Value
from ..ir.dtypes import dtype_of
from ..ir.equality import fingerprint
from ..ir.types import TensorType, format_shape
from ..ir.verifier import verify_module
from ..random import RandomStream, SeedGenerator
from ..tracing import Traced, Tracer
from .variables import swap_in

# ---------------------------------------------------------------- sources


class ArgSource:
    def __init__(self, index: int) -> None:
        self.index = index

    def fetch(self, args: Sequence[np.ndarray]) -> np.ndarray:
        return args[self.index]


class ArraySource:
    def __init__(self, array: np.ndarray) -> None:
        self.array = array

    def fetch(self, args: Sequence[np.ndarray]) -> np.ndarray:
        return self.array


class VarSource:
    def __init__(self, var: Any) -> None:
        self.var = var

    def fetch(self, args: Sequence[np.ndarray]) -> np.ndarray:
        return self.var.value


class KeySource:
    def __init__(self, generator: SeedGenerator, per_call: bool) -> None:
        self.generator = generator
        self.per_call = per_call
        self.fixed = None if per_call else generator.next_key()

    def fetch(self, args: Sequence[np.ndarray]) -> np.ndarray:
        return self.generator.next_key() if self.per_call else self.fixed


class ValueSource:
    def __init__(self, compute: Callable[[], Any], dtype: object) -> None:
        self.compute = compute
        self.dtype = dtype_of(dtype).numpy

    def fetch(self, args: Sequence[np.ndarray]) -> np.ndarray:
        return np.asarray(self.compute(), dtype=self.dtype)


# ---------------------------------------------------------------- tensors


class StagedTensor(Traced):
    """A traced value that can also be read (``numpy()``, ``float()``) when its
    trace is eager (a GradientTape, a model called with ``training=True``)."""

    __slots__ = ()

    def numpy(self) -> np.ndarray:
        return self.tracer.evaluate([self.value])[0]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    def item(self) -> Any:
        return self.numpy().item()

    def __float__(self) -> float:
        return float(self.numpy())

    def __int__(self) -> int:
        return int(self.numpy())

    def __bool__(self) -> bool:
        return bool(self.numpy())

    def __repr__(self) -> str:
        return f"<StagedTensor {self.value.type}>"


# ---------------------------------------------------------------- the tracer


class StagedTracer(Tracer):
    """A tracer whose parameters know where their arrays come from (see the module doc).

    ``eager`` traces (tapes) may be evaluated while they grow; their host
    arrays are captured as parameters (``lift``), so the Func's structure does
    not depend on the data and the compile cache hits every iteration.
    """

    def __init__(self, name: str, *, training: bool = False, eager: bool = False,
                 seed: SeedGenerator | None = None, backend: Any = None,
                 passes: Any = ...) -> None:
        super().__init__(Builder(ir_func_name(name)), training=training)
        self._weight_param = self._variable_param
        self.eager = eager
        self.sources: list[Any] = []
        self.writes: dict[Any, Value] = {}
        self.lifted: dict[int, Value] = {}
        self.values: dict[Value, np.ndarray] = {}
        self.backend = backend
        self.passes = passes
        self._seed = seed
        self._stream: RandomStream | None = None

    # parameters ---------------------------------------------------------------
    def _new_param(self, type_: TensorType, name: str, source: Any) -> StagedTensor:
        value = self.builder.param(type_, name)
        self.sources.append(source)
        return StagedTensor(value, self)

    def param(self, type: TensorType, name: str | None = None, origin: Any = None) -> Traced:
        raise GraphcError("a StagedTracer makes parameters with arg/lift/read, each with a "
                          "source (internal error)")

    def arg(self, type_: TensorType, name: str) -> StagedTensor:
        """A parameter for the next positional argument of the program."""
        index = sum(isinstance(s, ArgSource) for s in self.sources)
        return self._new_param(type_, name, ArgSource(index))

    def lift(self, array: np.ndarray, name: str = "data") -> StagedTensor:
        """A host array as a parameter (the same array object gives the same parameter)."""
        found = self.lifted.get(id(array))
        if found is not None:
            return StagedTensor(found, self)
        tensor = self._new_param(TensorType(array.dtype, array.shape), name, ArraySource(array))
        self.lifted[id(array)] = tensor.value
        return tensor

    def host_value(self, type_: TensorType, name: str, compute: Callable[[], Any]) -> StagedTensor:
        """A parameter whose array ``compute()`` gives at every call."""
        return self._new_param(type_, name, ValueSource(compute, type_.dtype))

    def _variable_param(self, var: Any) -> Value:
        return self._new_param(var.type, var.path, VarSource(var)).value

    @property
    def random_stream(self) -> RandomStream:
        """The trace's random stream; its key parameter is made on first use."""
        if self._stream is None:
            from ..random import default_generator
            generator = self._seed if self._seed is not None else default_generator()
            key = self._new_param(TensorType("i64", ()), "rng_key",
                                  KeySource(generator, per_call=not self.eager))
            self._stream = RandomStream(key)
        return self._stream

    # values ---------------------------------------------------------------------
    def wrap(self, value: Value) -> StagedTensor:
        return StagedTensor(value, self)

    def emit(self, op: str, *inputs: Traced, **attrs: Any) -> StagedTensor:
        return StagedTensor(super().emit(op, *inputs, **attrs).value, self)

    def constant(self, value: Any, dtype: object) -> StagedTensor:
        array = np.asarray(value, dtype=dtype_of(dtype).numpy)
        if self.eager and array.size > 1:
            return self.lift(array, "const")  # data-dependent constants must not change the Func
        return StagedTensor(super().constant(array, dtype).value, self)

    def weight(self, weight: Any) -> StagedTensor:
        written = self.writes.get(weight)
        if written is not None:
            return StagedTensor(written, self)
        return StagedTensor(super().weight(weight).value, self)

    read = weight

    def write(self, var: Any, value: Traced) -> None:
        """Record ``value`` as the new value of ``var`` (applied after the program runs)."""
        if not isinstance(value, Traced) or value.tracer is not self:
            raise FrontendError(f"the new value of '{var.path}' must be a tensor of this trace; "
                                f"received {value!r}")
        if value.type != var.type:
            raise FrontendError(f"cannot assign a value of type {value.type} to '{var.path}' "
                                f"of type {var.type}")
        self.writes[var] = value.value

    @contextlib.contextmanager
    def training_mode(self, training: bool | None) -> Iterator[None]:
        """Set ``training`` for a block (None keeps the current mode)."""
        saved = self.training
        if training is not None:
            self.training = bool(training)
        try:
            yield
        finally:
            self.training = saved

    # running ----------------------------------------------------------------
    def func(self, results: Sequence[Value], name: str | None = None) -> Func:
        b = self.builder
        return Func(name or b.name, tuple(b.params), tuple(b.nodes), tuple(results))

    def evaluate(self, values: Sequence[Value]) -> list[np.ndarray]:
        """Run the trace so far and return ``values`` (eager traces only)."""
        if not self.eager:
            raise FrontendError("a tensor's value is not known while graphc traces a function "
                                "(graphc.function, graphc.grad, a training step); return it from "
                                "the function instead")
        missing = [v for v in dict.fromkeys(values) if v not in self.values]
        if missing:
            func = self.func(missing, f"{self.builder.name}_eval")
            outs = compiled_executable(func, self.backend, self.passes)(*self.fetch(()))
            self.values.update(zip(missing, outs))
        return [self.values[v] for v in values]

    def fetch(self, args: Sequence[np.ndarray]) -> list[np.ndarray]:
        return [s.fetch(args) for s in self.sources]

    def finish(self, outputs: Sequence[Traced], name: str | None = None) -> "StagedProgram":
        for out in outputs:
            if not isinstance(out, Traced) or out.tracer is not self:
                raise FrontendError(f"a staged function must return tensors computed in its "
                                    f"trace (with graphc.ops, layers or models); received "
                                    f"{out!r}")
        targets = list(self.writes)
        results = [o.value for o in outputs] + [self.writes[t] for t in targets]
        return StagedProgram(self.func(results, name), list(self.sources), len(outputs),
                             targets, self.backend, self.passes)


# ---------------------------------------------------------------- programs


class StagedProgram:
    """A finished trace: one Func, its parameter sources, and what it writes."""

    def __init__(self, func: Func, sources: list[Any], n_outputs: int, targets: list[Any],
                 backend: Any = None, passes: Any = ...) -> None:
        self.func = verify_module(Module([func])).entry
        self.sources = sources
        self.n_outputs = n_outputs
        self.targets = targets
        self.backend = backend
        self.passes = passes
        self.last_args: list[np.ndarray] | None = None
        self._executable: Executable | None = None

    @property
    def module(self) -> Module:
        return Module([self.func])

    @property
    def backend_name(self) -> str:
        from ..compiled import resolve_backend
        return resolve_backend(self.backend).name

    @property
    def executable(self) -> Executable:
        if self._executable is None:
            self._executable = compiled_executable(self.func, self.backend, self.passes)
        return self._executable

    def arguments(self, args: Sequence[np.ndarray] = ()) -> list[np.ndarray]:
        """Every parameter's array for a call with ``args``."""
        return [s.fetch(args) for s in self.sources]

    def run(self, args: Sequence[np.ndarray] = (), *,
            commit: bool = True) -> tuple[list[np.ndarray], "PendingWrites"]:
        """Call once; returns the outputs and the writes (already applied when ``commit``)."""
        arrays = self.arguments(args)
        self.last_args = arrays
        results = list(self.executable(*arrays))
        pending = PendingWrites(self.targets, results[self.n_outputs:])
        if commit:
            pending.commit()
        return results[:self.n_outputs], pending


class PendingWrites:
    def __init__(self, targets: list[Any], arrays: list[np.ndarray]) -> None:
        self.targets = targets
        self.arrays = arrays

    def commit(self) -> None:
        for target, array in zip(self.targets, self.arrays):
            swap_in(target, array)


# ---------------------------------------------------------------- compile cache

_CACHE: "OrderedDict[tuple, Executable]" = OrderedDict()
_CACHE_SIZE = 64


def compiled_executable(func: Func, backend: Any = None, passes: Any = ...) -> Executable:
    """``func`` compiled on ``backend`` after ``passes`` (defaults: graphc.compiled's),
    cached by structure."""
    from ..compiled import DEFAULT_PASSES, apply_passes, pipeline_key, resolve_backend
    resolved = resolve_backend(backend)
    passes = DEFAULT_PASSES if passes is ... else passes
    key = (fingerprint(func, ignore_name=True), resolved.name, pipeline_key(passes))
    found = _CACHE.get(key)
    if found is not None:
        _CACHE.move_to_end(key)
        return found
    module = apply_passes(verify_module(Module([func])), passes)
    executable = resolved.compile(module)
    _CACHE[key] = executable
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return executable


# ---------------------------------------------------------------- the active tracer

_ACTIVE: contextvars.ContextVar[tuple[StagedTracer, ...]] = contextvars.ContextVar(
    "graphc_active_tracers", default=())


def active_tracer() -> StagedTracer | None:
    """The innermost tracer activated by a ``with activate(...)`` block, if any."""
    stack = _ACTIVE.get()
    return stack[-1] if stack else None


@contextlib.contextmanager
def activate(tracer: StagedTracer) -> Iterator[StagedTracer]:
    token = _ACTIVE.set(_ACTIVE.get() + (tracer,))
    try:
        yield tracer
    finally:
        _ACTIVE.reset(token)


def as_host_array(value: Any, what: str) -> np.ndarray:
    """A numpy array of a dtype graphc supports, or an InputError naming ``what``."""
    array = np.asarray(value)
    try:
        dtype_of(array.dtype)
    except GraphcError:
        raise InputError(f"{what} received an array of unsupported dtype {array.dtype} "
                         f"(shape {format_shape(array.shape)}); expected float16/32/64, "
                         "int32/64 or bool") from None
    return array
