"""graphc.passes -- pass infrastructure and the built-in passes (DESIGN.md section 4).

Layout: ``base`` (Pass, FuncPass), ``options`` (typed pass options),
``pipeline`` (pipeline strings, named pipelines), ``registry`` (built-ins,
``register_pass``, the ``graphc.passes`` entry-point group), ``context``
(PassContext), ``instruments`` (print/dump/timing/immutability hooks),
``manager`` (PassManager, run_pipeline), ``rewrite`` (the pattern-rewrite
engine) and one module per pass: ``infer_shapes``, ``canonicalize`` (rules
in ``rules_arith``/``rules_shape``), ``fold_constants``, ``cse``, ``dce``,
``fuse`` (with ``fusion_groups``, ``fusion_outline``, ``fusion_report``).
``autodiff`` and ``inline`` hold the reverse-mode differentiation transform.

Typical use::

    from graphc.passes import run_pipeline
    optimized = run_pipeline(module, "default")
"""

from .base import FuncPass, Pass
from .context import PassContext
from .instruments import DumpIR, ImmutabilityCheck, Instrument, PassStep, PassTiming, PrintIR
from .manager import PassManager, run_pipeline
from .options import Bindings
from .pipeline import NAMED_PIPELINES, format_pipeline, make_pass, parse_pipeline
from .registry import (ENTRY_POINT_GROUP, get_pass_class, known_pass_names, list_passes,
                       register_pass, unregister_pass)
from .rewrite import Match, Pat, PatternSet, Rewriter, Rule, any_value, const, op, rewrite_func, rule

__all__ = [
    "Bindings", "DumpIR", "ENTRY_POINT_GROUP", "FuncPass", "ImmutabilityCheck", "Instrument",
    "Match", "NAMED_PIPELINES", "Pass", "PassContext", "PassManager", "PassStep", "PassTiming",
    "Pat", "PatternSet", "PrintIR", "Rewriter", "Rule", "any_value", "const", "format_pipeline",
    "get_pass_class", "known_pass_names", "list_passes", "make_pass", "op", "parse_pipeline",
    "register_pass", "rewrite_func", "rule", "run_pipeline", "unregister_pass",
]
