"""``model.summary()``: the layer table, rendered with rich.

Columns: ``Layer (type)``, ``Output Shape`` (Keras style, ``None`` for the
batch), ``Param #``, ``Connected to`` for Functional models (each input as
``layer[call][output]``, as Keras prints it) and ``Trainable`` with
``show_trainable=True``.  ``expand_nested=True`` lists the layers of nested
models under them, indented.  Below the table come the totals with their
sizes (``Total params: 407,050 (1.55 MB)``; sizes use each weight's dtype
and 1024-based units), counting a shared weight once.

Rendering: on a terminal the table uses rich's box drawing and colour;
otherwise (a pipe, a file, a ``print_fn``) it is plain ASCII without escape
codes, so logs and tests read it as text.
"""

from __future__ import annotations

import io
import sys
from typing import TYPE_CHECKING, Any, Callable

from rich import box
from rich.console import Console
from rich.table import Table

from ..structure import flatten
from ..tensor import CallSite, SymbolicTensor

if TYPE_CHECKING:  # pragma: no cover
    from ..layers.base import Layer
    from .model import Model

SIZE_UNITS = ("B", "KB", "MB", "GB", "TB")


def readable_size(num_bytes: float) -> str:
    """``1628200`` -> ``1.55 MB`` (1024-based, two decimals)."""
    value, unit = float(num_bytes), SIZE_UNITS[0]
    for unit in SIZE_UNITS:
        if value < 1024 or unit == SIZE_UNITS[-1]:
            break
        value /= 1024
    return f"{value:.2f} {unit}"


def _shape_text(tensors: Any) -> str:
    shapes = [str(t.shape) for t in flatten(tensors)]
    return shapes[0] if len(shapes) == 1 else "[" + ", ".join(shapes) + "]"


def _sites_in(model: "Model", layer: "Layer") -> list[CallSite]:
    if layer.is_input_layer:
        return layer._call_sites[:1]
    return [s for s in model.graph.sites if s.layer is layer]


def _tensor_label(tensor: SymbolicTensor) -> str:
    site = tensor.site
    if site is None:
        return tensor.name
    return f"{site.layer.name}[{site.index}][{tensor.output_index}]"


def _output_shape(model: "Model", layer: "Layer") -> str:
    if not model.built:
        return "?"
    texts = {_shape_text(s.outputs) for s in _sites_in(model, layer)}
    return texts.pop() if len(texts) == 1 else "multiple"


def _connected(model: "Model", layer: "Layer") -> str:
    labels = [_tensor_label(t) for s in _sites_in(model, layer) for t in s.input_tensors]
    return "\n".join(labels) if labels else "-"


def _params(model: "Model", layer: "Layer") -> str:
    if not model.built and not layer.built:
        return "0 (unbuilt)"
    return f"{layer.count_params():,}"


def _trainable(layer: "Layer") -> str:
    if not layer.weights:
        return "-"
    return "Y" if layer.trainable else "N"


def _rows(model: "Model", functional: bool, show_trainable: bool, expand: bool,
          depth: int = 0) -> list[list[str]]:
    from .model import Model
    from .sequential import Sequential
    layers = model.layers if isinstance(model, Sequential) else model.operations
    rows = []
    for layer in layers:
        indent = "  " * depth + ("└ " if depth else "")
        row = [f"{indent}{layer.name} ({layer.type_name})", _output_shape(model, layer),
               _params(model, layer)]
        if functional:
            row.append(_connected(model, layer) if depth == 0 else "")
        if show_trainable:
            row.append(_trainable(layer))
        rows.append(row)
        if expand and isinstance(layer, Model) and layer.built:
            rows += _rows(layer, functional, show_trainable, True, depth + 1)
    return rows


def _totals(model: "Model") -> list[str]:
    weights = model.weights
    trainable = model.trainable_weights
    frozen = [w for w in weights if not any(w is t for t in trainable)]

    def line(label: str, ws: list) -> str:
        count = sum(w.size for w in ws)
        return f" {label}: {count:,} ({readable_size(sum(w.nbytes for w in ws))})"

    return [line("Total params", weights), line("Trainable params", trainable),
            line("Non-trainable params", frozen)]


def build_table(model: "Model", *, expand_nested: bool, show_trainable: bool,
                fancy: bool) -> Table:
    from .sequential import Sequential
    functional = not isinstance(model, Sequential)
    table = Table(box=box.HEAVY_HEAD if fancy else box.ASCII_DOUBLE_HEAD, show_header=True,
                  header_style="bold" if fancy else "", expand=False, show_lines=False)
    table.add_column("Layer (type)", no_wrap=True)
    table.add_column("Output Shape", no_wrap=True)
    table.add_column("Param #", justify="right", no_wrap=True)
    if functional:
        table.add_column("Connected to", no_wrap=True)
    if show_trainable:
        table.add_column("Trainable", justify="center", no_wrap=True)
    for row in _rows(model, functional, show_trainable, expand_nested):
        table.add_row(*row)
    return table


def summary_text(model: "Model", *, expand_nested: bool = False, show_trainable: bool = False,
                 line_length: int | None = None) -> str:
    """The plain-text summary (what ``print_fn`` and pipes receive)."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=line_length or 400, force_terminal=False,
                      no_color=True, color_system=None, highlight=False, emoji=False)
    console.print(f'Model: "{model.name}"', markup=False)
    console.print(build_table(model, expand_nested=expand_nested,
                              show_trainable=show_trainable, fancy=False))
    for line in _totals(model):
        console.print(line, markup=False)
    return "\n".join(line.rstrip() for line in buffer.getvalue().rstrip("\n").split("\n"))


def print_summary(model: "Model", *, print_fn: Callable[[str], Any] | None = None,
                  expand_nested: bool = False, show_trainable: bool = False,
                  line_length: int | None = None) -> None:
    if print_fn is None and sys.stdout.isatty():
        console = Console(width=line_length)
        console.print(f'Model: "{model.name}"', markup=False, style="bold")
        console.print(build_table(model, expand_nested=expand_nested,
                                  show_trainable=show_trainable, fancy=True))
        for line in _totals(model):
            console.print(line, markup=False, highlight=False)
        return
    text = summary_text(model, expand_nested=expand_nested, show_trainable=show_trainable,
                        line_length=line_length)
    emit = print_fn or print
    for line in text.split("\n"):
        emit(line)
