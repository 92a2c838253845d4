"""``graphc opt`` (run a pass pipeline) and ``graphc passes`` (list passes and pipelines).

``opt`` prints the optimized module to stdout (or writes it with ``-o``); it
is canonical ``.gir`` that ``show``, ``run`` and ``opt`` accept again.
Everything else -- IR printed around passes, pass timing, the fusion
report, rewrite traces -- goes to stderr, so ``graphc opt m.gir > out.gir``
stays valid IR whatever else is asked for.  Each printed IR block starts
with a header line naming the pass: ``// ----- IR after cse (pass 4/7) -----``.
"""

from __future__ import annotations

import argparse
import sys

from graphc.errors import GraphcError, InputError, PassError

from ..ir import print_module
from ..passes import (NAMED_PIPELINES, DumpIR, PassContext, PassManager, PassTiming, PrintIR,
                      list_passes)
from ..passes.instruments import ALL, Instrument
from ..passes.options import parse_bindings
from .cmd_info import format_table
from .loading import load_module


def register(sub: argparse._SubParsersAction) -> None:
    opt = sub.add_parser("opt", help="run a pass pipeline over a model and print the result")
    opt.add_argument("model", metavar="MODEL", help="a .gir file or a Python model reference")
    opt.add_argument("-p", "--passes", dest="pipeline", default="default", metavar="PIPELINE",
                     help="passes and named pipelines, comma separated, e.g. "
                          "'infer-shapes,fold-constants{max-elements=4096},cse,dce,fuse' "
                          "(default: default; `graphc passes` lists them)")
    opt.add_argument("-o", "--output", metavar="OUT.gir", help="write the result here "
                     "instead of stdout")
    opt.add_argument("--print-ir-before-all", action="store_true",
                     help="print the IR before every pass (to stderr)")
    opt.add_argument("--print-ir-after-all", action="store_true",
                     help="print the IR after every pass (to stderr)")
    opt.add_argument("--print-ir-before", action="append", default=[], metavar="PASS",
                     help="print the IR before each run of PASS (repeatable)")
    opt.add_argument("--print-ir-after", action="append", default=[], metavar="PASS",
                     help="print the IR after each run of PASS (repeatable)")
    opt.add_argument("--print-ir-after-change", action="store_true",
                     help="print the IR after a pass only if it changed the IR (after every "
                          "pass unless --print-ir-after or --print-ir-after-all narrows it)")
    opt.add_argument("--dump-dir", metavar="DIR",
                     help="write the input and the IR after each pass as numbered .gir files")
    opt.add_argument("--time-passes", action="store_true",
                     help="report the time each pass took (to stderr)")
    opt.add_argument("--fusion-report", action="store_true",
                     help="list each fused kernel, its ops and layers, and why neighbouring "
                          "ops were not fused (to stderr)")
    opt.add_argument("--debug-rewrites", action="store_true",
                     help="log every rewrite rule that fires, with where it is defined")
    opt.add_argument("--bind", action="append", default=[], metavar="SYMBOL=SIZE",
                     help="specialize a symbolic dim (used by infer-shapes; repeatable)")
    opt.add_argument("--verify-each", action=argparse.BooleanOptionalAction, default=True,
                     help="verify the IR after every pass (default: on)")
    opt.set_defaults(handler=run_opt)

    passes = sub.add_parser("passes", help="list passes with their options, and named pipelines")
    passes.set_defaults(handler=run_passes)


def _check_pass_names(names: list[str], flag: str, valid: list[str]) -> frozenset[str]:
    unknown = sorted(set(names) - set(valid))
    if unknown:
        raise PassError(f"{flag} names unknown pass(es) {', '.join(unknown)}; valid passes: "
                        f"{', '.join(valid)}")
    return frozenset(names)


def _bindings(items: list[str]) -> dict[str, int]:
    try:
        return dict(parse_bindings(",".join(items)))
    except ValueError as exc:
        raise InputError(f"--bind: {exc}") from None


def build_context(args: argparse.Namespace, pass_names: list[str]) -> PassContext:
    before = _check_pass_names(args.print_ir_before, "--print-ir-before", pass_names)
    after = _check_pass_names(args.print_ir_after, "--print-ir-after", pass_names)
    if args.print_ir_before_all:
        before = frozenset([ALL])
    if args.print_ir_after_all or (args.print_ir_after_change and not after):
        after = frozenset([ALL])
    instruments: list[Instrument] = []
    if before or after:
        instruments.append(PrintIR(before, after, only_changed=args.print_ir_after_change))
    if args.dump_dir:
        instruments.append(DumpIR(args.dump_dir))
    if args.time_passes:
        instruments.append(PassTiming())
    return PassContext(verify_each=args.verify_each, check_immutable=args.verify_each,
                       instruments=instruments, debug_rewrites=args.debug_rewrites,
                       bindings=_bindings(args.bind), log=sys.stderr)


def _print_fusion_report(manager: PassManager, ctx: PassContext) -> None:
    if not any(p.name == "fuse" for p in manager.passes):
        ctx.write(f"fusion report: the pipeline '{manager.pipeline}' runs no 'fuse' pass")
        return
    reports = ctx.reports.get("fuse", [])
    if not reports:
        ctx.write("fusion report: nothing to fuse")
    for report in reports:
        ctx.write(report.format())


def run_opt(args: argparse.Namespace) -> int:
    valid = sorted(source.name for source, _, _ in list_passes())
    ctx = build_context(args, valid)
    manager = PassManager(args.pipeline, ctx)
    module = manager.run(load_module(args.model))
    text = print_module(module)
    if args.fusion_report:
        _print_fusion_report(manager, ctx)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise GraphcError(f"cannot write {args.output}: {exc.strerror}") from None
    else:
        sys.stdout.write(text)
    return 0


def run_passes(args: argparse.Namespace) -> int:
    rows = []
    for source, cls, problem in list_passes():
        if cls is None:
            rows.append([source.name, source.origin, f"failed to load: {problem}"])
            continue
        rows.append([source.name, source.origin, cls.summary])
        for opt in cls.options():
            rows.append(["", "", f"  {opt.describe()}" + (f"  ({opt.help})" if opt.help else "")])
    print(format_table(["pass", "origin", "summary / options"], rows))
    print()
    pipes = [[name, text or "(no passes)", doc] for name, (text, doc) in NAMED_PIPELINES.items()]
    print(format_table(["pipeline", "passes", "description"], pipes))
    return 0
