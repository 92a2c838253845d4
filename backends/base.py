"""The backend contract and what every backend shares.

::

    Backend:     name, description, is_available(), supported_ops(),
                 compile(module, options) -> Executable
    Executable:  __call__(*arrays) -> tuple of arrays;  source() -> str

A backend that cannot run an op says so at compile time with a
``LoweringError`` naming the op and where it came from: there is no silent
fallback.  ``bind_inputs`` is the one place that checks the arrays handed to
an executable (count, dtype, rank, sizes, and that each named symbol binds
one size) and produces the symbol bindings that ``resolve_attrs`` uses to
turn symbolic shape attributes into concrete ones.
"""

from __future__ import annotations

import abc
import os
from pathlib import Path
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from graphc.errors import BackendError, InputError, LoweringError

from ..ir.attrs import SHAPE
from ..ir.core import Func, Module, Node
from ..ir.opdef import CALL
from ..ir.types import UNKNOWN, TensorType, format_shape


class Executable(abc.ABC):
    """A compiled module: call it with one array per entry-function parameter."""

    def __init__(self, module: Module) -> None:
        self.module = module
        self.func = module.entry

    @property
    def input_types(self) -> tuple[TensorType, ...]:
        return self.func.param_types

    @property
    def output_types(self) -> tuple[TensorType, ...]:
        return self.func.result_types

    @abc.abstractmethod
    def __call__(self, *arrays: Any) -> tuple[np.ndarray, ...]:
        """Run the entry function; returns one fresh array per result."""

    @abc.abstractmethod
    def source(self) -> str:
        """The code this executable runs (generated source per kernel)."""

    def keep_on_device(self, param_indices: Any, check: str = "content") -> None:
        """Ask a backend with its own memory (cuda) to keep these entry parameters
        resident across calls; ``check`` says how a changed host array is detected
        (see backends/cuda/residency.py).  Host-memory backends need nothing."""


class Backend(abc.ABC):
    name: ClassVar[str]
    description: ClassVar[str] = ""

    def is_available(self) -> bool:
        return True

    def unavailable_reason(self) -> str:
        return ""

    @abc.abstractmethod
    def supported_ops(self) -> frozenset[str]:
        """Names of the ops this backend can lower."""

    @abc.abstractmethod
    def compile(self, module: Module, options: Mapping[str, Any] | None = None) -> Executable:
        """Compile ``module`` (its entry function and everything it calls)."""

    def check_supported(self, module: Module) -> None:
        """Raise LoweringError for the first op this backend cannot run."""
        supported = self.supported_ops()
        for func in module.funcs:
            for node in func.nodes:
                if node.op.name != CALL and node.op.name not in supported:
                    where = f" (from {node.loc.describe()})" if node.loc is not None else ""
                    raise LoweringError(
                        f"backend '{self.name}' cannot lower op '{node.op.name}' in "
                        f"@{func.name}{where}; `graphc ops` shows which backends support it")


def _param_label(func: Func, index: int) -> str:
    name = func.params[index].name
    return f"input {index} ('{name}')" if name else f"input {index}"


def bind_inputs(func: Func, arrays: Sequence[Any]) -> tuple[list[np.ndarray], dict[str, int]]:
    """Check ``arrays`` against ``func``'s parameters; return them as ndarrays
    plus the size bound to each named symbol."""
    if len(arrays) != len(func.params):
        sig = ", ".join(f"{p.name or i}: {p.type}" for i, p in enumerate(func.params))
        raise InputError(f"@{func.name} takes {len(func.params)} input(s) ({sig}), "
                         f"received {len(arrays)}")
    bindings: dict[str, int] = {}
    bound_by: dict[str, str] = {}
    checked: list[np.ndarray] = []
    for i, (param, raw) in enumerate(zip(func.params, arrays)):
        label = _param_label(func, i)
        expected = param.type
        if isinstance(raw, np.ndarray):
            array = raw
        elif isinstance(raw, (np.generic, int, float, bool, list, tuple)):
            array = np.asarray(raw)
        else:
            raise InputError(f"{label} must be a numpy array, received {type(raw).__name__}")
        if not array.dtype.isnative and array.dtype.newbyteorder("=") == expected.dtype.numpy:
            array = array.astype(expected.dtype.numpy)      # same values, native byte order
        if array.dtype != expected.dtype.numpy:
            raise InputError(f"{label} expects dtype {expected.dtype.numpy.name} "
                             f"({expected}), received {array.dtype.name}")
        if array.ndim != expected.rank:
            raise InputError(f"{label} expected shape {format_shape(expected.shape)} "
                             f"(rank {expected.rank}), received {format_shape(array.shape)} "
                             f"(rank {array.ndim})")
        for axis, (dim, size) in enumerate(zip(expected.shape, array.shape)):
            if dim == UNKNOWN:
                continue
            if isinstance(dim, int):
                if dim != size:
                    raise InputError(f"{label} expected shape {format_shape(expected.shape)}, "
                                     f"received {format_shape(array.shape)}")
            elif dim in bindings:
                if bindings[dim] != size:
                    raise InputError(f"{label} has size {size} at axis {axis}, but symbol "
                                     f"{dim} was bound to {bindings[dim]} by {bound_by[dim]}")
            else:
                bindings[dim] = int(size)
                bound_by[dim] = label
        checked.append(array)
    return checked, bindings


def resolve_attrs(node: Node, bindings: Mapping[str, int]) -> Mapping[str, Any]:
    """The node's attributes with symbols in shape attributes replaced by sizes."""
    shape_attrs = [s.name for s in node.op.attrs if s.kind is SHAPE]
    if not shape_attrs:
        return node.attrs
    resolved = dict(node.attrs)
    for name in shape_attrs:
        resolved[name] = tuple(bindings[d] if isinstance(d, str) else d for d in resolved[name])
    return resolved


def concrete_shape(t: TensorType, bindings: Mapping[str, int]) -> tuple[int | None, ...]:
    """``t``'s shape with bound symbols replaced; unbound ones (and ``?``) are None."""
    return tuple(d if isinstance(d, int) else bindings.get(d) for d in t.shape)


def write_kernel_files(sources: Mapping[str, str], directory: str | os.PathLike,
                       suffix: str) -> list[Path]:
    """Write each ``name -> text`` of ``sources`` to ``directory/<name><suffix>``
    (what ``Executable.dump_kernels`` does in every compiled backend)."""
    path = Path(directory)
    written = []
    try:
        path.mkdir(parents=True, exist_ok=True)
        for name, text in sources.items():
            target = path / f"{name}{suffix}"
            target.write_text(text)
            written.append(target)
    except OSError as exc:
        raise BackendError(f"cannot write kernels to {path}: {exc.strerror}") from None
    return written


def shape_mismatch(recorded: TensorType, shape: Sequence[int],
                   bindings: dict[str, int]) -> str | None:
    """Why a concrete ``shape`` does not fit the ``recorded`` type (None when it
    does).  A symbol seen for the first time is bound in ``bindings``; a bound
    one must keep its size, so a run never returns a result that breaks the
    types the IR declares."""
    if len(shape) != recorded.rank:
        return f"shape {tuple(shape)}"
    for dim, size in zip(recorded.shape, shape):
        if isinstance(dim, int) and dim != size:
            return f"shape {tuple(shape)}"
        if isinstance(dim, str) and dim != UNKNOWN and bindings.setdefault(dim, size) != size:
            return f"size {size} for symbol {dim}, bound to {bindings[dim]}"
    return None
