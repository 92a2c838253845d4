"""``graphc plot MODEL -o out.svg``: draw a model's layer graph, or its IR.

MODEL is a saved model (``.graphc``), a Python model reference
(``file.py:attr``) or a ``.gir`` file (which has no layers, so its IR is
drawn).  ``--ir`` draws the IR after the pass pipeline ``-p`` (default: the
one ``graphc.compile`` runs, so fused kernels appear as clusters; ``-p O0``
draws the IR as lowered).  The output format follows the extension of
``-o``: ``.svg``, ``.png`` or ``.dot``.  Graphviz is used when its ``dot``
program is installed (``--engine python`` never uses it).
"""

from __future__ import annotations

import argparse

from ..utils.layout import RANKDIRS
from ..utils.plot import ENGINES, plot_model
from .loading import is_saved_model, load_model_object, load_module


def register(sub: argparse._SubParsersAction) -> None:
    plot = sub.add_parser("plot", help="draw a model's layer graph (or its IR) as SVG, PNG or "
                                       "DOT")
    plot.add_argument("model", metavar="MODEL", help="a saved model (.graphc), a Python model "
                      "reference (file.py:attr or module:attr), or a .gir file")
    plot.add_argument("-o", "--output", required=True, metavar="OUT",
                      help="the picture to write: .svg, .png or .dot")
    plot.add_argument("--ir", action="store_true",
                      help="draw the IR (fused kernels as clusters) instead of the layers")
    plot.add_argument("-p", "--passes", default="default", metavar="PIPELINE",
                      help="pass pipeline run before drawing the IR of a model (default: "
                           "default; O0 draws the IR as lowered)")
    plot.add_argument("--show-shapes", action="store_true", help="print shapes in the nodes")
    plot.add_argument("--show-dtype", action="store_true", help="print dtypes in the nodes")
    plot.add_argument("--hide-layer-names", action="store_true",
                      help="print only layer types (layer view) or no layer paths (IR view)")
    plot.add_argument("--expand-nested", action="store_true",
                      help="draw nested models as clusters of their layers")
    plot.add_argument("--rankdir", choices=RANKDIRS, default="TB",
                      help="direction of the drawing (default: TB, top to bottom)")
    plot.add_argument("--dpi", type=float, default=96, help="resolution of a PNG (default 96)")
    plot.add_argument("--engine", choices=ENGINES, default="auto",
                      help="auto: Graphviz when installed, else graphc's own layout")
    plot.set_defaults(handler=run_plot)


def run_plot(args: argparse.Namespace) -> int:
    options = dict(show_shapes=args.show_shapes, show_dtype=args.show_dtype,
                   show_layer_names=not args.hide_layer_names, rankdir=args.rankdir,
                   expand_nested=args.expand_nested, dpi=args.dpi, engine=args.engine)
    if args.model.endswith(".gir") and not is_saved_model(args.model):
        target = load_module(args.model)
        from ..compiled import apply_passes
        target = apply_passes(target, args.passes)
        written = plot_model(target, args.output, level="ir", **options)
    else:
        model = load_model_object(args.model, "graphc plot")
        written = plot_model(model, args.output, level="ir" if args.ir else "layers",
                             passes=args.passes, **options)
    print(f"wrote {written}")
    return 0
