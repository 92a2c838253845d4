"""PassManager and instruments: verification, error reports, immutability,
printing, dumping and timing."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest

from graphc.errors import GraphcError, PassError, VerifyError
from graphc.ir import Loc, Module, TensorType, Value, parse_file, print_module
from graphc.passes import (DumpIR, FuncPass, Instrument, Pass, PassContext, PassManager,
                           PassTiming, PrintIR, run_pipeline)
from graphc.passes.base import at_node

from .util import mlp, parse

SIMPLE = """\
func @f(%x: f32[4]) -> (f32[4]) {
  %0: f32[] = constant() {value = 1.0}
  %1: f32[4] = mul(%x, %0) loc("layer/mul", "m.py":7)
  %2: f32[4] = exp(%1)
  return %2
}
"""


@dataclass(frozen=True)
class BreakTypes(FuncPass):
    """Records a wrong result type: the verifier must catch it."""
    name = "break-types"

    def run_func(self, func, ctx):
        node = func.nodes[-1]
        bad = Value(TensorType("f64", (4,)))
        return func.replace(nodes=func.nodes[:-1] + (node.replace(outputs=(bad,)),),
                            results=(bad,))


@dataclass(frozen=True)
class Explode(FuncPass):
    name = "explode"
    internal: bool = False

    def run_func(self, func, ctx):
        for node in func.nodes:
            with at_node(func, node):
                if node.op.name == "mul":
                    if self.internal:
                        raise KeyError("oops")
                    raise GraphcError("cannot handle this mul")
        return func


@dataclass(frozen=True)
class Mutate(Pass):
    name = "mutate"

    def run(self, module, ctx):
        object.__setattr__(module.funcs[0].nodes[0], "loc", Loc("tampered"))
        return module


def ctx(**kw) -> PassContext:
    kw.setdefault("log", io.StringIO())
    return PassContext(**kw)


def test_verify_each_blames_the_pass_that_broke_the_ir():
    with pytest.raises(PassError) as info:
        PassManager([BreakTypes()], ctx()).run(parse(SIMPLE))
    text = str(info.value)
    assert "pass break-types (pass 1/1) produced invalid IR" in text
    assert "verifier invariant 4" in text and "f64[4]" in text


def test_without_verify_each_the_bad_ir_goes_through():
    out = PassManager([BreakTypes()], ctx(verify_each=False)).run(parse(SIMPLE))
    with pytest.raises(VerifyError):
        from graphc.ir import verify
        verify(out)


def test_failure_names_the_pass_and_shows_ir_around_the_node():
    with pytest.raises(PassError) as info:
        PassManager(["cse", Explode()], ctx()).run(parse(SIMPLE))
    text = str(info.value)
    assert text.startswith("pass explode (pass 2/2) failed: cannot handle this mul")
    assert "at node: %1: f32[4] = mul(%x, %0)" in text
    assert "from source: layer/mul (m.py:7)" in text
    assert ">>    %1: f32[4] = mul(%x, %0)" in text and "%2: f32[4] = exp(%1)" in text


def test_internal_error_is_reported_as_a_bug_with_the_cause_kept():
    with pytest.raises(PassError) as info:
        PassManager([Explode(internal=True)], ctx()).run(parse(SIMPLE))
    assert "internal error in pass explode{internal=true} (pass 1/1): KeyError" in str(info.value)
    assert isinstance(info.value.__cause__, KeyError)
    assert info.value.pass_name == "explode"


def test_a_pass_that_mutates_its_input_is_caught():
    with pytest.raises(PassError, match="pass 'mutate' mutated its input module"):
        PassManager([Mutate()], ctx()).run(parse(SIMPLE))


def test_immutability_check_can_be_switched_off():
    module = parse(SIMPLE)
    assert PassManager([Mutate()], ctx(check_immutable=False)).run(module) is module


def test_invalid_input_is_reported_before_any_pass_runs():
    module = parse(SIMPLE)
    func = module.funcs[0]
    broken = Module([func.replace(nodes=func.nodes[1:])])  # %0 used but never defined
    with pytest.raises(VerifyError, match="invariant 1"):
        run_pipeline(broken, "cse", ctx())


def test_unchanged_module_is_returned_as_the_same_object():
    module = parse(SIMPLE.replace("mul(%x, %0)", "add(%x, %x)"))
    module = run_pipeline(module, "simplify", ctx())
    assert run_pipeline(module, "simplify", ctx()) is module
    assert run_pipeline(module, "O0", ctx()) is module


def test_run_pipeline_accepts_a_func_and_rejects_other_things():
    func = parse(SIMPLE).funcs[0]
    assert isinstance(run_pipeline(func, "cse", ctx()), Module)
    with pytest.raises(PassError, match="runs on an ir.Module"):
        run_pipeline("not ir", "cse", ctx())  # type: ignore[arg-type]


def test_print_ir_before_and_after_all_have_headers_naming_each_pass():
    log = io.StringIO()
    instruments = [PrintIR(before=frozenset("*"), after=frozenset("*"))]
    run_pipeline(parse(SIMPLE), "canonicalize,cse", ctx(log=log, instruments=instruments))
    text = log.getvalue()
    headers = [line for line in text.splitlines() if line.startswith("// -----")]
    assert headers == ["// ----- IR before canonicalize (pass 1/2) -----",
                       "// ----- IR after canonicalize (pass 1/2) -----",
                       "// ----- IR before cse (pass 2/2) -----",
                       "// ----- IR after cse (pass 2/2) (unchanged) -----"]


def test_print_after_change_skips_passes_that_changed_nothing():
    log = io.StringIO()
    instruments = [PrintIR(after=frozenset("*"), only_changed=True)]
    run_pipeline(parse(SIMPLE), "cse,canonicalize,dce", ctx(log=log, instruments=instruments))
    headers = [line for line in log.getvalue().splitlines() if line.startswith("// -----")]
    assert headers == ["// ----- IR after canonicalize (pass 2/3) -----"]


def test_print_after_one_pass_only():
    log = io.StringIO()
    instruments = [PrintIR(after=frozenset(["dce"]))]
    run_pipeline(parse(SIMPLE), "canonicalize,dce", ctx(log=log, instruments=instruments))
    assert log.getvalue().startswith("// ----- IR after dce (pass 2/2) (unchanged) -----\nfunc @f")


def test_dump_dir_writes_one_parseable_numbered_file_per_pass(tmp_path):
    dump = DumpIR(str(tmp_path / "dump"))
    run_pipeline(mlp(), "default", ctx(instruments=[dump]))
    files = sorted(p.name for p in (tmp_path / "dump").iterdir())
    assert files == ["00-input.gir", "01-infer-shapes.gir", "02-canonicalize.gir",
                     "03-fold-constants.gir", "04-cse.gir", "05-canonicalize.gir", "06-dce.gir",
                     "07-fuse.gir"]
    fused = parse_file(str(tmp_path / "dump" / "07-fuse.gir"))
    assert sum(f.primitive for f in fused.funcs) == 4


def test_dump_dir_that_cannot_be_written_is_a_pass_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(PassError, match="cannot write the IR dump"):
        run_pipeline(mlp(), "cse", ctx(instruments=[DumpIR(str(blocker / "sub"))]))


def test_pass_timing_reports_every_pass():
    log = io.StringIO()
    timing = PassTiming()
    run_pipeline(mlp(), "simplify", ctx(log=log, instruments=[timing]))
    assert [spec for spec, _ in timing.records] == ["infer-shapes", "canonicalize",
                                                    "fold-constants", "cse", "canonicalize",
                                                    "dce"]
    assert all(seconds >= 0 for _, seconds in timing.records)
    text = log.getvalue()
    assert text.startswith("// ----- pass timing: 6 passes")
    assert text.count("%  canonicalize") == 2


def test_custom_instrument_sees_every_hook_in_order():
    events = []

    class Recorder(Instrument):
        def before_pipeline(self, module, ctx, passes):
            events.append(("start", len(passes)))

        def before_pass(self, step, module, ctx):
            events.append(("before", step.pass_.name, step.index))

        def after_pass(self, step, before, after, seconds, ctx):
            events.append(("after", step.pass_.name, after is not before))

        def after_pipeline(self, module, ctx):
            events.append(("end",))

    run_pipeline(parse(SIMPLE), "canonicalize,cse", ctx(instruments=[Recorder()]))
    assert events == [("start", 2), ("before", "canonicalize", 1),
                      ("after", "canonicalize", True), ("before", "cse", 2),
                      ("after", "cse", False), ("end",)]


def test_context_rejects_bad_bindings():
    with pytest.raises(PassError, match="non-negative int"):
        PassContext(bindings={"N": -1})


def test_pipeline_output_prints_and_reparses():
    out = run_pipeline(mlp(), "default", ctx())
    text = print_module(out)
    assert print_module(parse(text)) == text
