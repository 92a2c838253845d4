"""``plot_model``: draw a model's layer graph (or its IR) to SVG, PNG or DOT.

``to_file``'s extension picks the format: ``.svg``, ``.png`` or ``.dot``
(DOT text, for Graphviz users).  ``engine`` picks who draws:

* ``"auto"`` (default): Graphviz's ``dot`` when it is on PATH, else graphc's
  own layout (``layout.py``) written by ``svg.py`` / ``png.py`` -- a machine
  without Graphviz still gets a picture;
* ``"python"``: always graphc's own layout;
* ``"graphviz"``: always ``dot`` (an error when it is missing).

``level="layers"`` draws the layer graph (``layer_graph.py``);
``level="ir"`` draws the IR after ``passes`` (default: the pipeline
``graphc.compile`` runs, so fused kernels show as clusters).  A
``graphc.ir.Module`` can be plotted directly (IR level only).
"""

from __future__ import annotations

import os
from typing import Any

from graphc.errors import FrontendError, GraphcError

from .dot import graphviz_available, render_with_graphviz, to_dot
from .ir_graph import ir_graph
from .layer_graph import layer_graph
from .layout import RANKDIRS, layout
from .plot_graph import PlotGraph
from .png import write_png
from .svg import to_svg

FORMATS = ("svg", "png", "dot")
ENGINES = ("auto", "python", "graphviz")
LEVELS = ("layers", "ir")


def _format_of(path: str) -> str:
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if ext not in FORMATS:
        raise FrontendError(f"plot_model: cannot tell the format of {path!r}; the file name must "
                            f"end with {', '.join('.' + f for f in FORMATS)}")
    return ext


def build_plot_graph(model: Any, level: str, show_shapes: bool, show_dtype: bool,
                     show_layer_names: bool, expand_nested: bool, passes: Any) -> PlotGraph:
    from ..ir.core import Module
    from ..models.model import Model
    if level not in LEVELS:
        raise FrontendError(f"plot_model: level must be one of {', '.join(LEVELS)}; received "
                            f"{level!r}")
    if isinstance(model, Module):
        if level != "ir":
            raise FrontendError("plot_model: an IR module has no layer graph; use level='ir'")
        return ir_graph(model, show_shapes=show_shapes, show_layer_names=show_layer_names)
    if not isinstance(model, Model):
        raise FrontendError(f"plot_model expects a graphc Model or an IR Module; received "
                            f"{type(model).__name__}")
    if level == "ir":
        from ..compiled import DEFAULT_PASSES, apply_passes
        module = apply_passes(model.to_ir(), DEFAULT_PASSES if passes is ... else passes)
        return ir_graph(module, show_shapes=show_shapes, show_layer_names=show_layer_names)
    return layer_graph(model, show_shapes=show_shapes, show_dtype=show_dtype,
                       show_layer_names=show_layer_names, expand_nested=expand_nested)


def plot_model(model: Any, to_file: Any = "model.png", show_shapes: bool = False,
               show_dtype: bool = False, show_layer_names: bool = True, rankdir: str = "TB",
               expand_nested: bool = False, dpi: float = 96, level: str = "layers",
               engine: str = "auto", passes: Any = ...) -> str:
    """Draw ``model`` to ``to_file`` (see the module doc); returns the path written."""
    path = os.fspath(to_file)
    fmt = _format_of(path)
    if rankdir not in RANKDIRS:
        raise FrontendError(f"plot_model: rankdir must be one of {', '.join(RANKDIRS)}; "
                            f"received {rankdir!r}")
    if engine not in ENGINES:
        raise FrontendError(f"plot_model: engine must be one of {', '.join(ENGINES)}; "
                            f"received {engine!r}")
    if isinstance(dpi, bool) or not isinstance(dpi, (int, float)) or not 1 <= dpi <= 2400:
        raise FrontendError(f"plot_model: dpi must be a number in [1, 2400]; received {dpi!r}")
    graph = build_plot_graph(model, level, show_shapes, show_dtype, show_layer_names,
                             expand_nested, passes)
    use_graphviz = fmt != "dot" and (engine == "graphviz" or
                                     (engine == "auto" and graphviz_available()))
    if fmt == "dot" or use_graphviz:
        text = to_dot(graph, rankdir, dpi)
        if fmt == "dot":
            _write_text(path, text)
        else:
            render_with_graphviz(text, path, fmt)
        return path
    drawing = layout(graph, rankdir)
    if fmt == "svg":
        _write_text(path, to_svg(graph, drawing))
    else:
        write_png(graph, drawing, path, dpi)
    return path


def _write_text(path: str, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise GraphcError(f"cannot write {path}: {exc.strerror or exc}") from None
