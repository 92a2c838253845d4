"""The pattern-rewrite engine: matching, rule locations, the driver and its guards."""

from __future__ import annotations

import io

import pytest

from graphc.errors import GraphcError, PassError
from graphc.passes import PassContext, PatternSet, any_value, const, op, rewrite_func, rule
from graphc.passes.rewrite import Pat

from .util import assert_same_results, op_names, parse

TWO = """\
func @f(%x: f32[3], %y: f32[3]) -> (f32[3]) {
  %0: f32[] = constant() {value = 2.0}
  %1: f32[3] = mul(%0, %x)
  %2: f32[3] = sub(%1, %y)
  %3: f32[3] = sub(%1, %1)
  %4: f32[3] = add(%2, %3)
  return %4
}
"""

x_, y_ = any_value("x"), any_value("y")


def double_to_add(rw, m):
    return rw.emit("add", m["x"], m["x"])


def test_commutative_operands_match_in_either_order():
    rules = PatternSet([rule("times-two", op("mul", x_, const(splat=2)), double_to_add)])
    module = parse(TWO)
    func = rewrite_func(module.entry, rules)
    assert "mul" not in op_names(func) and "add" in op_names(func)
    assert_same_results(module, module.with_func(func))


def test_a_name_used_twice_must_bind_one_value():
    hits = []

    def record(rw, m):
        hits.append(m.node("root"))
        return None

    rules = PatternSet([rule("self-sub", op("sub", x_, x_, name="root"), record)])
    func = parse(TWO).entry
    assert rewrite_func(func, rules) is func  # declined everywhere: unchanged
    assert [n.inputs[0] is n.inputs[1] for n in hits] == [True]


def test_attribute_constraints():
    text = """\
func @f(%x: f32[2,3]) -> (f32[2,3], f32[2,3]) {
  %0: f32[3,2] = transpose(%x) {perm = [1, 0]}
  %1: f32[2,3] = transpose(%0) {perm = [1, 0]}
  %2: f32[2,3] = neg(%x)
  return %1, %2
}
"""
    seen = []
    rules = PatternSet([rule("swap", op("transpose", name="t", perm=(1, 0)),
                             lambda rw, m: seen.append(m.node("t")))])
    rewrite_func(parse(text).entry, rules)
    assert len(seen) == 2


def test_rules_record_where_they_are_defined():
    r = rule("times-two", op("mul", x_, const(splat=2)), double_to_add)
    assert r.where.startswith("passes/test_rewrite.py:")
    line = int(r.where.rsplit(":", 1)[1])
    with open(__file__) as fh:
        assert 'rule("times-two"' in fh.read().splitlines()[line - 1]


def test_debug_rewrites_prints_rule_location_and_node():
    log = io.StringIO()
    rules = PatternSet([rule("times-two", op("mul", x_, const(splat=2)), double_to_add)])
    rewrite_func(parse(TWO).entry, rules, PassContext(debug_rewrites=True, log=log))
    line = log.getvalue().strip()
    assert line.startswith("rewrite: times-two (passes/test_rewrite.py:")
    assert "on %1 = mul(%0, %x) -> %1:f32[3]" in line


def test_endless_rewriting_is_stopped_with_the_rules_named():
    rules = PatternSet([
        rule("exp-again", op("exp", x_), lambda rw, m: rw.emit("exp", m["x"])),
    ])
    func = parse(TWO.replace("add(%2, %3)", "exp(%2)")
                 .replace("-> (f32[3])", "-> (f32[3])")).entry
    with pytest.raises(PassError) as info:
        rewrite_func(func, rules)
    text = str(info.value)
    assert "rewrite rules loop" in text and "exp-again (passes/test_rewrite.py:" in text


def test_a_result_of_another_type_is_declined_and_its_nodes_dropped():
    log = io.StringIO()
    rules = PatternSet([
        rule("bad-type", op("neg", x_), lambda rw, m: rw.emit("cast", m["x"], dtype="f64")),
    ])
    text = "func @f(%x: f32[3]) -> (f32[3]) {\n  %0: f32[3] = neg(%x)\n  return %0\n}\n"
    func = parse(text).entry
    assert rewrite_func(func, rules, PassContext(debug_rewrites=True, log=log)) is func
    assert "declined" in log.getvalue() and "f64[3] differs from f32[3]" in log.getvalue()


def test_pattern_sets_compose_and_index_by_op():
    a = PatternSet([rule("r1", op("mul"), lambda rw, m: None)])
    b = PatternSet([rule("r2", op(("mul", "add")), lambda rw, m: None)])
    both = a + b
    assert [r.name for r in both.rules_for("mul")] == ["r1", "r2"]
    assert [r.name for r in both.rules_for("add")] == ["r2"]
    assert both.rules_for("exp") == [] and len(both) == 2


def test_bad_rules_fail_when_defined():
    with pytest.raises(PassError, match="must name its op"):
        rule("anything", any_value("x"), lambda rw, m: None)
    with pytest.raises(GraphcError, match="unknown op 'mull'"):
        PatternSet([rule("typo", op("mull"), lambda rw, m: None)])


def test_pattern_repr_is_readable():
    assert repr(op("mul", x_, const("c"))) == "mul(any as x, constant as c)"
    assert isinstance(op("mul"), Pat)


def test_a_declining_action_leaves_no_trace_even_if_its_nodes_were_rewritten():
    # The action builds neg(neg(x)) -- which the neg-neg rule rewrites while it is
    # being built -- and then declines.  The function must come back unchanged
    # (and the driver must not sweep forever believing something changed).
    from graphc.passes.canonicalize import CANONICAL_RULES

    def build_then_decline(rw, m):
        rw.emit("neg", rw.emit("neg", m["x"]))
        return None

    rules = PatternSet([rule("decliner", op("exp", x_), build_then_decline)]) + CANONICAL_RULES
    text = "func @f(%x: f32[3]) -> (f32[3]) {\n  %0: f32[3] = exp(%x)\n  return %0\n}\n"
    func = parse(text).entry
    assert rewrite_func(func, rules) is func
