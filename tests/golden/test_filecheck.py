"""Tests of the golden-file machinery itself (``gir_filecheck``)."""

from __future__ import annotations

import pytest

try:
    from . import gir_filecheck as fc
except ImportError:  # tests/golden is not a package
    import gir_filecheck as fc

OUTPUT = """func @a(%x: f32[2]) -> (f32[2]) {
  %0: f32[2] = exp(%x)
  return   %0
}

func @b(%x: f32[2]) -> (f32[2]) {
  %0: f32[2] = relu(%x)
  return %0
}
"""


def checks(text: str) -> list[fc.Check]:
    return fc.parse_directives("// RUN: graphc show %s\n" + text, "t.gir").checks


def run(text: str, output: str = OUTPUT) -> None:
    fc.check_output(output, checks(text), golden="t.gir", command="graphc show t.gir")


@pytest.mark.parametrize("text", [
    "// CHECK: exp\n// CHECK-NEXT: return %0\n// CHECK-NEXT: }\n// CHECK-EMPTY:\n",
    "// CHECK: %0: f32[2] ={{ +}}exp({{%[a-z]+}})\n",          # regex blocks
    "//CHECK:    return       %0   \n",                         # whitespace tolerance
    "// CHECK: exp\n// CHECK-SAME: (%x)\n",
    "// CHECK: func @a\n// CHECK-NOT: relu\n// CHECK: func @b\n// CHECK: relu\n",
    "// CHECK-LABEL: func @a(\n// CHECK-NOT: relu\n// CHECK-LABEL: func @b(\n// CHECK-NEXT: relu\n",
    "// CHECK: [2]\n",                                         # [[ ]] is literal text
])
def test_passing_checks(text):
    run(text)


@pytest.mark.parametrize("text, problem", [
    ("// CHECK: sigmoid\n", "expected pattern not found"),
    ("// CHECK: func @a\n// CHECK-NEXT: return\n", "not found on the line after"),
    ("// CHECK: exp\n// CHECK-SAME: return\n", "same line"),
    ("// CHECK: exp\n// CHECK-EMPTY:\n", "expected an empty line"),
    ("// CHECK: func @a\n// CHECK-NOT: relu\n", "excluded pattern found"),
    ("// CHECK-LABEL: func @a(\n// CHECK: relu\n// CHECK-LABEL: func @b(\n",
     "expected pattern not found"),  # relu is in @b's block, not @a's
    ("// CHECK-LABEL: func @c(\n", "CHECK-LABEL pattern not found"),
])
def test_failing_checks_explain_themselves(text, problem):
    with pytest.raises(fc.CheckFailure) as info:
        run(text)
    report = str(info.value)
    assert problem in report
    assert "t.gir:" in report and "scanning started at output line" in report
    assert "func @a(%x: f32[2])" in report  # the output is shown


@pytest.mark.parametrize("text, problem", [
    ("// CHECK-NXT: x\n", "unknown directive"),
    ("// CHECK:\n", "empty pattern"),
    ("// CHECK-NEXT: x\n", "needs an earlier CHECK"),
    ("// CHECK: {{[}}\n", "invalid regex"),
    ("// CHECK: {{x\n", "without a closing"),
    ("// CHECK-EMPTY: x\n", "takes no pattern"),
])
def test_malformed_directives(text, problem):
    with pytest.raises(fc.GoldenConfigError, match=problem):
        checks(text)


def test_run_lines():
    found = fc.parse_directives("// RUN: not graphc verify %s\n// RUN: graphc show \\\n"
                                "// RUN:   %s\n", "/a b/t.gir")
    assert [(r.expect_failure, r.argv) for r in found.runs] == [
        (True, ("verify", "/a b/t.gir")), (False, ("show", "/a b/t.gir"))]
    with pytest.raises(fc.GoldenConfigError, match="no '// RUN:' line"):
        fc.parse_directives("func @f() -> () {\n  return\n}\n", "t.gir")
    with pytest.raises(fc.GoldenConfigError, match="RUN lines run 'graphc"):
        fc.parse_directives("// RUN: ls %s\n", "t.gir")


@pytest.mark.parametrize("output", [
    OUTPUT,
    "/x/t.gir:3:5: error: bad {{thing}} }}} {{{\n  a\x00b\tc\n      ^\nnote\n",
    "\n\nleading blank lines\n",
    "func @a() -> () {\nfunc @a() -> () {\n",  # a repeated func line is no label
])
def test_generated_checks_match_their_output(output):
    generated = fc.generate_checks(output, "/x/t.gir", "t.gir")
    parsed = checks("\n".join(generated) + "\n")
    assert parsed, generated
    fc.check_output(output, parsed, golden="t.gir", command="cmd")
    assert not any("/x/" in line for line in generated)


def test_rewrite_keeps_run_lines_comments_and_body():
    text = "// about\n// RUN: graphc show %s\n// CHECK: old\n// note\nfunc @f\n// CHECK-NEXT: x\n"
    directives = fc.parse_directives(text, "t.gir")
    new = fc.rewrite_checks(text, directives, ["// CHECK: new"])
    assert new == "// about\n// RUN: graphc show %s\n// CHECK: new\n// note\nfunc @f\n"
