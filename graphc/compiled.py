"""``graphc.compile``: from a model (or a function) to something you call.

``compile(model, backend="interpreter", passes=None)`` lowers the model
(``Model.to_ir``), runs the pass pipeline, compiles the module on the
backend and returns a ``CompiledModel``.  Calling it takes a single array, a
list, or a dict keyed by input name (``models/inputs.py`` converts dtypes
and checks shapes in model terms), appends the model's *current* weight
arrays (weights are function parameters, so ``set_weights`` needs no
recompile) and returns the output structure the model was built with.
``predict`` does the same in batches and concatenates the results along
axis 0.  Models keep their compiled forms in a cache keyed by backend,
pipeline and structure, so ``model.predict`` compiles once.

Plugging in defaults: ``DEFAULT_BACKEND`` and ``DEFAULT_PASSES`` below are the
only places that choose them.  ``passes=None`` means "no pass pipeline";
any other value (a pipeline string such as ``"default"`` or a list of
passes) goes to ``graphc.passes.run_pipeline``.

``compile`` also accepts an ``ir.Module`` (compiled as is) and a plain
Python function of tensors, which is traced with ``graphc.ops`` on the
types of the arrays it is first called with (once per distinct signature).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from graphc.errors import BackendError, FrontendError, InputError

from .backends.base import Backend, Executable
from .backends.registry import get_backend
from .ir.core import Module
from .ir.types import TensorType
from .ir.verifier import verify_module
from .layers.base import Layer, eager_array
from .models.inputs import convert_arrays, match_inputs
from .models.lowering import lower_model
from .models.model import Model
from .structure import flatten, pack_like
from .tracing import Traced, Tracer

DEFAULT_BACKEND = "numba"
"""Backend used when none is named (``model(x)``, ``predict``, ``compile``)."""

DEFAULT_PASSES: str | None = "default"
"""Pass pipeline used when none is given; None runs no passes."""


def pipeline_key(passes: Any) -> Any:
    if passes is None or isinstance(passes, str):
        return passes
    return tuple(str(p) for p in passes)


def apply_passes(module: Module, passes: Any) -> Module:
    if passes is None:
        return module
    from .passes import run_pipeline  # late: the pass package is optional at import time
    return run_pipeline(module, passes)


def resolve_backend(backend: str | Backend | None) -> Backend:
    resolved = get_backend(DEFAULT_BACKEND if backend is None else backend)
    if not resolved.is_available():
        raise BackendError(f"backend '{resolved.name}' is not available here: "
                           f"{resolved.unavailable_reason()}")
    return resolved


class CompiledModel:
    """A model compiled for one backend and pass pipeline."""

    def __init__(self, model: Model, backend: str | Backend | None = None,
                 passes: Any = DEFAULT_PASSES) -> None:
        self.model = model
        self.lowered = lower_model(model)
        self.module = apply_passes(self.lowered.module, passes)
        self.backend = resolve_backend(backend)
        self.executable: Executable = self.backend.compile(self.module)
        # Weights follow the inputs and are replaced (never written) by set_weights and
        # training, so a device backend may keep them resident, keyed by array identity.
        count = len(self.module.entry.params)
        self.executable.keep_on_device(range(count - len(self.lowered.weights), count),
                                       check="identity")

    def __call__(self, inputs: Any) -> Any:
        return self._run(convert_arrays(self.model, match_inputs(self.model, inputs)))

    def _run_flat(self, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
        weights = [w.value for w in self.lowered.weights]
        return list(self.executable(*arrays, *weights))

    def _run(self, arrays: Sequence[np.ndarray]) -> Any:
        return pack_like(self.lowered.output_structure, self._run_flat(arrays))

    def predict(self, x: Any, batch_size: int | None = 32) -> Any:
        arrays = convert_arrays(self.model, match_inputs(self.model, x), any_batch=True)
        step = _batch_step(self.model, batch_size)
        sizes = {a.shape[0] for a in arrays if a.ndim}
        if len(sizes) > 1:
            raise InputError(f"predict on model '{self.model.name}' needs inputs with one "
                             f"number of samples; received {sorted(sizes)}")
        count = sizes.pop() if sizes else 0
        fixed = {t.type.shape[0] for t in self.model.graph.inputs
                 if t.type.rank and isinstance(t.type.shape[0], int)}
        if fixed:
            step = fixed.pop()
            if count % step:
                raise InputError(f"model '{self.model.name}' has a fixed batch size of {step}; "
                                 f"predict needs a multiple of {step} samples, received {count}")
        if count <= step:
            return self._run(arrays)
        pieces = [self._run_flat([a[start:start + step] for a in arrays])
                  for start in range(0, count, step)]
        joined = [np.concatenate([p[i] for p in pieces], axis=0) if pieces[0][i].ndim
                  else np.stack([p[i] for p in pieces]) for i in range(len(pieces[0]))]
        return pack_like(self.lowered.output_structure, joined)

    def source(self) -> str:
        return self.executable.source()

    def __repr__(self) -> str:
        return f"<CompiledModel {self.model.name!r} on {self.backend.name}>"


def _batch_step(model: Model, batch_size: Any) -> int:
    if batch_size is None:
        return 32
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size <= 0:
        raise FrontendError(f"predict on model '{model.name}': batch_size must be a positive "
                            f"int. Received: batch_size={batch_size!r}")
    return int(batch_size)


class CompiledModule:
    """An IR module compiled as is; called with one array per parameter."""

    def __init__(self, module: Module, backend: str | Backend | None = None,
                 passes: Any = DEFAULT_PASSES) -> None:
        self.module = apply_passes(verify_module(module), passes)
        self.backend = resolve_backend(backend)
        self.executable = self.backend.compile(self.module)

    def __call__(self, *arrays: Any) -> tuple[np.ndarray, ...]:
        return self.executable(*arrays)

    def source(self) -> str:
        return self.executable.source()


class CompiledFunction:
    """A Python function of tensors, traced per input signature and compiled."""

    def __init__(self, fn: Callable[..., Any], backend: str | Backend | None = None,
                 passes: Any = DEFAULT_PASSES) -> None:
        self.fn = fn
        self.backend = resolve_backend(backend)
        self.passes = passes
        self._cache: dict[tuple, tuple[Executable, Any, list]] = {}

    def lower(self, *args: Any) -> Module:
        """The traced IR for arguments like ``args``."""
        return self._trace([eager_array(a, self._label()) for a in args])[0]

    def _label(self) -> str:
        return f"compiled function {getattr(self.fn, '__name__', 'fn')!r}"

    def _trace(self, arrays: list[np.ndarray]) -> tuple[Module, Any, list]:
        tracer = Tracer.scratch(getattr(self.fn, "__name__", "fn").strip("<>") or "fn")
        params = [tracer.param(TensorType(a.dtype, a.shape), f"x{i}")
                  for i, a in enumerate(arrays)]
        out = self.fn(*params)
        leaves = flatten(out)
        if not leaves or not all(isinstance(v, Traced) for v in leaves):
            raise FrontendError(f"{self._label()} must return graphc tensors computed with "
                                f"graphc.ops from its arguments; it returned {out!r}")
        func = tracer.builder.finish(*(v.value for v in leaves))
        return verify_module(Module([func])), out, list(tracer.weights)

    def __call__(self, *args: Any) -> Any:
        arrays = [eager_array(a, self._label()) for a in args]
        key = tuple((a.dtype.str, a.shape) for a in arrays)
        if key not in self._cache:
            module, out, weights = self._trace(arrays)
            executable = self.backend.compile(apply_passes(module, self.passes))
            self._cache[key] = (executable, out, weights)
        executable, out, weights = self._cache[key]
        return pack_like(out, list(executable(*arrays, *(w.value for w in weights))))


def compile(model_or_fn: Any, backend: str | Backend | None = None, passes: Any = ...) -> Any:
    """Compile a Model, an ``ir.Module`` or a function of tensors; see the module doc.
    ``passes=...`` (the default) means ``DEFAULT_PASSES``; None runs no passes."""
    if passes is ...:
        passes = DEFAULT_PASSES
    if isinstance(model_or_fn, Model):
        return model_or_fn.compiled(backend, passes)
    if isinstance(model_or_fn, Module):
        return CompiledModule(model_or_fn, backend, passes)
    if isinstance(model_or_fn, Layer):
        raise FrontendError(f"graphc.compile takes a Model, an IR Module or a function; "
                            f"received {model_or_fn.type_name} '{model_or_fn.name}'. Wrap the "
                            "layer in a model: graphc.Model(x, layer(x))")
    if callable(model_or_fn):
        return CompiledFunction(model_or_fn, backend, passes)
    raise FrontendError(f"graphc.compile takes a Model, an IR Module or a function; "
                        f"received {type(model_or_fn).__name__}")


def run_traced(tracer: Tracer, outputs: Any, arrays: Sequence[np.ndarray]) -> Any:
    """Finish a scratch trace and run it eagerly on the reference interpreter."""
    leaves = flatten(outputs)
    if not all(isinstance(v, Traced) for v in leaves):
        raise FrontendError(f"expected graphc tensors as results; received {outputs!r}")
    func = tracer.builder.finish(*(v.value for v in leaves))
    executable = get_backend("interpreter").compile(Module([func]))
    weights = [w.value for w in tracer.weights]
    return pack_like(outputs, list(executable(*arrays, *weights)))
