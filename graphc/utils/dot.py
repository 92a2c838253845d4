"""A ``PlotGraph`` as Graphviz DOT text, and rendering it with ``dot``.

``to_dot`` always works (it is just text): clusters become ``subgraph
cluster_<n>`` blocks nested as the clusters are, nodes are boxes labelled
with their lines.  ``render_with_graphviz`` runs the ``dot`` program when it
is on PATH (``graphviz_available``), feeding the text on stdin; it is an
optional accelerator, never a requirement -- without it ``plot_model``
draws with the pure-Python layout.
"""

from __future__ import annotations

import shutil
import subprocess

from graphc.errors import GraphcError

from .plot_graph import PlotGraph
from .svg import CLUSTER_FILL, FILL

GRAPHVIZ_TIMEOUT_S = 120


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(graph: PlotGraph, rankdir: str = "TB", dpi: float = 96) -> str:
    ids = {node.id: f"n{i}" for i, node in enumerate(graph.nodes)}
    children: dict[str | None, list[str]] = {}
    for cluster in graph.clusters:
        children.setdefault(cluster.parent, []).append(cluster.id)
    members: dict[str | None, list] = {}
    for node in graph.nodes:
        members.setdefault(node.cluster, []).append(node)
    labels = {c.id: c for c in graph.clusters}
    numbers = {c.id: i for i, c in enumerate(graph.clusters)}
    lines = [f"digraph {_quote(graph.title)} {{",
             f"  graph [rankdir={rankdir}, dpi={dpi:g}, fontname=\"monospace\", "
             "fontsize=10, nodesep=0.3, ranksep=0.4];",
             '  node [shape=box, style="rounded,filled", fontname="monospace", fontsize=10, '
             'fillcolor="#ffffff"];',
             '  edge [color="#444444", arrowsize=0.7];']

    def emit(cluster: str | None, indent: str) -> None:
        for node in members.get(cluster, []):
            label = "\\l".join(line.replace("\\", "\\\\").replace('"', '\\"')
                               for line in node.lines) + "\\l"
            lines.append(f'{indent}{ids[node.id]} [label="{label}", tooltip={_quote(node.id)}, '
                         f'fillcolor="{FILL.get(node.kind, "#ffffff")}"];')
        for child in children.get(cluster, []):
            info = labels[child]
            lines.append(f"{indent}subgraph cluster_{numbers[child]} {{")
            lines.append(f'{indent}  label={_quote(info.label)}; style="rounded,dashed,filled"; '
                         f'fillcolor="{CLUSTER_FILL.get(info.kind)}"; color="#999999"; '
                         'labeljust=l;')
            emit(child, indent + "  ")
            lines.append(f"{indent}}}")

    emit(None, "  ")
    for source, target in graph.edges:
        lines.append(f"  {ids[source]} -> {ids[target]};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def graphviz_available() -> bool:
    return shutil.which("dot") is not None


def render_with_graphviz(dot_text: str, path: str, fmt: str) -> None:
    executable = shutil.which("dot")
    if executable is None:
        raise GraphcError("Graphviz's 'dot' program is not on PATH")
    try:
        done = subprocess.run([executable, f"-T{fmt}", "-o", path], input=dot_text.encode(),
                              capture_output=True, timeout=GRAPHVIZ_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GraphcError(f"running Graphviz 'dot' failed: {exc}") from None
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()
        raise GraphcError(f"Graphviz 'dot' could not render {path}: {message}")
