"""Property tests on random valid graphs (see ``random_graphs.py``).

For every drawn graph, each pass alone, the default pipeline and random
pipelines must keep the IR valid (the PassManager verifies after every
pass) and keep the interpreter's results.  Tolerance: exact.  These passes
never reassociate arithmetic -- they rewire values, apply identities that
are exact in IEEE arithmetic, and fold with the ops' own reference rules --
so results must be equal element for element, with NaN equal to NaN and
+0.0 equal to -0.0 (``x + 0 -> x`` may change the sign of a zero).
Each pass must also be idempotent and keep every node's ``loc``, and every
kernel that ``fuse`` makes must satisfy its documented contract.

Example counts are modest so the suite stays fast; the ``slow`` variant
runs many more.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphc.errors import ExecutionError, PassError
from graphc.passes import PassContext, PassManager, known_pass_names, parse_pipeline
from graphc.passes.cse import expression_key
from graphc.passes.fold_constants import FoldConstants

from .random_graphs import Drawn, graphs
from .util import assert_kernel_contract, run

BUILTINS = ["infer-shapes", "canonicalize", "fold-constants", "cse", "dce", "fuse"]
FAST = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
DEEP = settings(max_examples=600, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def random_pass(draw) -> str:
    name = draw(st.sampled_from(BUILTINS))
    if name == "fold-constants" and draw(st.booleans()):
        return f"fold-constants{{max-elements={draw(st.sampled_from([0, 1, 6, 4096]))}}}"
    if name == "fuse" and draw(st.booleans()):
        return f"fuse{{max-ops={draw(st.integers(1, 5))} " \
               f"max-inline-constant={draw(st.sampled_from([0, 1, 32]))}}}"
    return name


def check(graph: Drawn, pipeline: str, seed: int = 0) -> None:
    original = graph.module
    optimized = PassManager(pipeline, PassContext()).run(original)
    arrays = graph.inputs(seed)
    try:
        expected = run(original, arrays)
    except ExecutionError:
        return  # e.g. max over an axis that N=0 empties; nothing to compare
    actual = run(optimized, arrays)
    for e, a in zip(expected, actual, strict=True):
        assert (e.dtype, e.shape) == (a.dtype, a.shape), pipeline
        np.testing.assert_array_equal(a, e, err_msg=f"pipeline {pipeline}")
    for func in optimized.funcs:  # every node of the drawn graph has a loc: none is lost
        assert all(n.loc is not None for n in func.nodes), f"a node lost its loc in {pipeline}"
    passes = parse_pipeline(pipeline)
    if passes and passes[-1].name == "fuse":  # the contract holds for what fuse just made
        earlier = {f.name for f in PassManager(passes[:-1]).run(original).funcs}
        for func in optimized.funcs:
            if func.primitive and func.name not in earlier:
                assert_kernel_contract(func, passes[-1].max_inline_constant)


def check_all(graph: Drawn, pipelines: list[str]) -> None:
    for pipeline in pipelines:
        check(graph, pipeline)


@FAST
@given(graphs())
def test_every_pass_alone_keeps_results_and_is_idempotent(graph):
    for name in known_pass_names():
        (pass_,) = parse_pipeline(name)
        once = PassManager([pass_]).run(graph.module)
        assert PassManager([pass_]).run(once) is once, f"{name} is not idempotent"
    check_all(graph, BUILTINS)


@FAST
@given(graphs())
def test_default_pipeline_keeps_results(graph):
    check(graph, "default")


@FAST
@given(graphs(), st.data())
def test_random_pipelines_keep_results(graph, data):
    passes = data.draw(st.lists(st.builds(random_pass, st.just(data.draw)), max_size=6))
    check(graph, ",".join(passes))


@FAST
@given(graphs(), st.sampled_from([0, 1, 4]))
def test_binding_n_keeps_results(graph, size):
    if "N" not in graph.module.entry.params[0].type.symbols:
        return
    graph = Drawn(graph.module, size)
    try:
        check(graph, f"infer-shapes{{bind=N:{size}}},default")
    except PassError as exc:  # N=size makes some node impossible: so must running it be
        assert "shape conflict" in str(exc)
        with pytest.raises(ExecutionError):
            run(graph.module, graph.inputs(0))


@FAST
@given(graphs())
def test_folding_and_sharing_leave_nothing_to_do(graph):
    folded = PassManager("fold-constants,dce").run(graph.module)
    fold = FoldConstants()
    for func in folded.funcs:
        producers = func.producers
        assert all(fold.foldable(n, producers) is None for n in func.nodes)
    shared = PassManager("cse").run(graph.module)
    for func in shared.funcs:
        keys = [expression_key(n) for n in func.nodes if n.op.is_pure]
        assert len(keys) == len(set(keys))


@pytest.mark.slow
@DEEP
@given(graphs(), st.data())
def test_deep_random_pipelines(graph, data):
    passes = data.draw(st.lists(st.builds(random_pass, st.just(data.draw)), max_size=10))
    check_all(graph, ["default", ",".join(passes)] + BUILTINS)
