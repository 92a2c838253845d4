"""A ``Layout`` as a PNG image, drawn with matplotlib (Agg, no display needed).

The drawing is the one the SVG writer makes: the same boxes, dashed cluster
frames, monospace text and arrowed polylines, in layout pixels at 96 dpi
scaled to ``dpi``.  matplotlib is imported only here, when a PNG is asked
for, and a ``Figure`` is used directly (no pyplot global state).  Very large
drawings are scaled down so that neither side exceeds ``MAX_PIXELS``.
"""

from __future__ import annotations

import math

from graphc.errors import GraphcError

from .layout import Layout
from .plot_graph import PlotGraph
from .svg import CLUSTER_FILL, FILL

BASE_DPI = 96.0
MAX_PIXELS = 16000


def write_png(graph: PlotGraph, layout: Layout, path: str, dpi: float = 96) -> None:
    try:
        import matplotlib
    except ImportError as exc:  # pragma: no cover - matplotlib is a dependency
        raise GraphcError(f"writing a PNG needs matplotlib, which cannot be imported ({exc}); "
                          "write .svg or .dot instead") from None
    # Unhinted text keeps the 0.6 em advance the layout sized boxes with, at any dpi.
    with matplotlib.rc_context({"text.hinting": "none"}):
        _draw(graph, layout, path, dpi)


def _draw(graph: PlotGraph, layout: Layout, path: str, dpi: float) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch, Polygon
    style = layout.style
    dpi = min(float(dpi), MAX_PIXELS * BASE_DPI / max(layout.width, layout.height, 1))
    fig = Figure(figsize=(layout.width / BASE_DPI, layout.height / BASE_DPI), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, layout.width)
    ax.set_ylim(layout.height, 0)
    ax.axis("off")
    points_per_px = 72.0 / BASE_DPI
    font = style.font_px * points_per_px
    kinds = {c.id: c for c in graph.clusters}
    for cid, box in layout.clusters.items():
        cluster = kinds[cid]
        ax.add_patch(FancyBboxPatch((box.x, box.y), box.w, box.h, boxstyle="round,pad=0,"
                                    "rounding_size=6", facecolor=CLUSTER_FILL.get(cluster.kind),
                                    edgecolor="#999999", linestyle=(0, (4, 3)), linewidth=1))
        ax.text(box.x + style.cluster_pad, box.y + style.label_band - 4, cluster.label,
                family="monospace", fontsize=font, color="#555555", va="baseline")
    for _, _, points in layout.edges:
        xs, ys = zip(*points)
        ax.plot(xs, ys, color="#444444", linewidth=1.2 * points_per_px * 1.5)
        (x0, y0), (x1, y1) = points[-2], points[-1]
        angle = math.atan2(y1 - y0, x1 - x0)
        size, spread = 8.0, 0.45
        head = [(x1, y1),
                (x1 - size * math.cos(angle - spread), y1 - size * math.sin(angle - spread)),
                (x1 - size * math.cos(angle + spread), y1 - size * math.sin(angle + spread))]
        ax.add_patch(Polygon(head, closed=True, facecolor="#444444", edgecolor="none"))
    for node in graph.nodes:
        box = layout.nodes[node.id]
        ax.add_patch(FancyBboxPatch((box.x, box.y), box.w, box.h, boxstyle="round,pad=0,"
                                    "rounding_size=4", facecolor=FILL.get(node.kind, "#ffffff"),
                                    edgecolor="#333333", linewidth=1))
        for i, line in enumerate(node.lines):
            ax.text(box.x + style.pad_x, box.y + style.pad_y + (i + 0.75) * style.line_px, line,
                    family="monospace", fontsize=font, va="baseline",
                    fontweight="bold" if i == 0 else "normal")
    try:
        fig.savefig(path, dpi=dpi, format="png", facecolor="white")
    except OSError as exc:
        raise GraphcError(f"cannot write {path}: {exc.strerror or exc}") from None
