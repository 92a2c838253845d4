"""A ``Layout`` as SVG text (a small writer, no dependencies).

Structure, which tests and tools may rely on::

    <svg xmlns=... width= height= viewBox=...>
      <defs> arrow marker </defs>
      <g class="clusters"> <g class="cluster" data-id=...> <title/> <rect/> <text/> </g> ...
      <g class="edges">    <path class="edge" data-source=... data-target=... d=.../> ...
      <g class="nodes">    <g class="node node-<kind>" data-id=...> <title/> <rect/> <text>
                             <tspan>line</tspan>... </text> </g> ...

Text is escaped for XML; the font is monospace, as the layout assumed.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from .layout import Layout
from .plot_graph import PlotGraph

FILL = {"input": "#e8f1fb", "layer": "#ffffff", "model": "#fdf3e1", "op": "#f3f3f3",
        "param": "#eef7ee", "const": "#f7f7f7", "result": "#f9ecec"}
CLUSTER_FILL = {"model": "#fbfbf4", "kernel": "#eef4fc"}


def _num(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def to_svg(graph: PlotGraph, layout: Layout) -> str:
    style = layout.style
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<svg xmlns="http://www.w3.org/2000/svg" width="{layout.width}" '
           f'height="{layout.height}" viewBox="0 0 {layout.width} {layout.height}" '
           f'font-family="monospace" font-size="{_num(style.font_px)}">',
           f"<title>{escape(graph.title)}</title>",
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
           'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
           'fill="#444"/></marker></defs>',
           '<rect width="100%" height="100%" fill="#ffffff"/>',
           '<g class="clusters">']
    kinds = {c.id: c for c in graph.clusters}
    for cid, box in layout.clusters.items():
        cluster = kinds[cid]
        out.append(f'<g class="cluster cluster-{cluster.kind}" data-id={quoteattr(cid)}>'
                   f"<title>{escape(cluster.label)}</title>"
                   f'<rect x="{_num(box.x)}" y="{_num(box.y)}" width="{_num(box.w)}" '
                   f'height="{_num(box.h)}" rx="6" fill="{CLUSTER_FILL.get(cluster.kind)}" '
                   'stroke="#999" stroke-dasharray="4 3"/>'
                   f'<text x="{_num(box.x + style.cluster_pad)}" '
                   f'y="{_num(box.y + style.label_band - 4)}" fill="#555">'
                   f"{escape(cluster.label)}</text></g>")
    out.append('</g>\n<g class="edges">')
    for source, target, points in layout.edges:
        d = "M" + " L".join(f"{_num(x)},{_num(y)}" for x, y in points)
        out.append(f'<path class="edge" data-source={quoteattr(source)} '
                   f'data-target={quoteattr(target)} d="{d}" fill="none" stroke="#444" '
                   'stroke-width="1.2" marker-end="url(#arrow)"/>')
    out.append('</g>\n<g class="nodes">')
    for node in graph.nodes:
        box = layout.nodes[node.id]
        lines = []
        for i, line in enumerate(node.lines):
            y = box.y + style.pad_y + (i + 0.75) * style.line_px
            weight = ' font-weight="bold"' if i == 0 else ""
            lines.append(f'<tspan x="{_num(box.x + style.pad_x)}" y="{_num(y)}"{weight}>'
                         f"{escape(line)}</tspan>")
        out.append(f'<g class="node node-{node.kind}" data-id={quoteattr(node.id)}>'
                   f"<title>{escape(node.id)}</title>"
                   f'<rect x="{_num(box.x)}" y="{_num(box.y)}" width="{_num(box.w)}" '
                   f'height="{_num(box.h)}" rx="4" fill="{FILL.get(node.kind, "#ffffff")}" '
                   f'stroke="#333"/><text xml:space="preserve">{"".join(lines)}</text></g>')
    out.append("</g>\n</svg>\n")
    return "\n".join(out)
