"""The interpreter executable: input checking, symbol binding, calls, and
runtime errors that name the node."""

from __future__ import annotations

import numpy as np
import pytest

import graphc.ir as ir
from graphc.backends import get_backend
from graphc.errors import ExecutionError, GraphcError, InputError, LoweringError
from graphc.ir import Builder, Loc, Module, TensorType


def compile_func(func, *extra):
    return get_backend("interpreter").compile(Module([func, *extra]))


def two_input_func():
    b = Builder("pair")
    x = b.param(TensorType("f32", ("N", 3)), "x")
    y = b.param(TensorType("f32", ("N", 3)), "y")
    return b.finish(b.emit("add", x, y))


def test_runs_and_returns_fresh_arrays():
    b = Builder("ident")
    x = b.param(TensorType("f32", (2,)), "x")
    run = compile_func(b.finish(x))
    data = np.ones(2, np.float32)
    (out,) = run(data)
    out[0] = 5
    assert data[0] == 1


@pytest.mark.parametrize("args, message", [
    ((np.ones((2, 3), np.float32),), "takes 2 input(s)"),
    ((np.ones((2, 3), np.float64), np.ones((2, 3), np.float32)),
     "input 0 ('x') expects dtype float32"),
    ((np.ones((2, 3), np.float32), np.ones((3,), np.float32)),
     "expected shape (N, 3) (rank 2), received (3,) (rank 1)"),
    ((np.ones((2, 3), np.float32), np.ones((2, 4), np.float32)),
     "input 1 ('y') expected shape (N, 3), received (2, 4)"),
    ((np.ones((2, 3), np.float32), np.ones((5, 3), np.float32)),
     "symbol N was bound to 2 by input 0 ('x')"),
    (("text", np.ones((2, 3), np.float32)), "must be a numpy array, received str"),
])
def test_input_mismatches_are_clear_errors(args, message):
    run = compile_func(two_input_func())
    with pytest.raises(InputError) as info:
        run(*args)
    assert message in str(info.value)


def test_symbolic_batch_serves_every_size():
    run = compile_func(two_input_func())
    for n in (0, 1, 7):
        a = np.arange(3 * n, dtype=np.float32).reshape(n, 3)
        (out,) = run(a, a)
        np.testing.assert_array_equal(out, a + a)


def test_call_runs_the_callee():
    kb = Builder("k", private=True, primitive=True)
    p = kb.param(TensorType("f32", ("M",)), "p")
    kernel = kb.finish(kb.emit("mul", p, p))
    b = Builder("main")
    x = b.param(TensorType("f32", ("M",)), "x")
    (sq,) = b.call(kernel, x)
    run = compile_func(b.finish(b.emit("neg", sq)), kernel)
    (out,) = run(np.array([1, 2, 3], np.float32))
    np.testing.assert_array_equal(out, [-1, -4, -9])


def test_gather_out_of_range_names_the_node():
    b = Builder("emb")
    table = b.param(TensorType("f32", (4, 2)), "table")
    idx = b.param(TensorType("i64", ("N",)), "idx")
    with b.at(Loc("embedding", "model.py", 12)):
        out = b.emit("gather", table, idx, axis=0)
    run = compile_func(b.finish(out))
    with pytest.raises(ExecutionError) as info:
        run(np.zeros((4, 2), np.float32), np.array([1, 9]))
    text = str(info.value)
    assert "index 9 is out of range for axis 0 of size 4" in text
    assert "embedding (model.py:12)" in text


def test_runtime_size_conflict_inside_the_graph_is_reported():
    # Symbol K is only checked at run time: matmul contracts K with 3.
    b = Builder("mm")
    x = b.param(TensorType("f32", (2, "K")), "x")
    w = b.param(TensorType("f32", (3, 4)), "w")
    run = compile_func(b.finish(b.emit("matmul", x, w)))
    with pytest.raises(ExecutionError, match="matmul"):
        run(np.ones((2, 5), np.float32), np.ones((3, 4), np.float32))


def test_unknown_backend_and_options():
    with pytest.raises(GraphcError, match="unknown backend 'nope'; available backends: "):
        get_backend("nope")
    with pytest.raises(GraphcError, match="takes no options"):
        get_backend("interpreter").compile(Module([two_input_func()]), {"fast": True})


def test_lowering_error_names_the_op_and_loc():
    from graphc.backends import Backend

    class Tiny(Backend):
        name = "tiny"

        def supported_ops(self):
            return frozenset({"add"})

        def compile(self, module, options=None):
            self.check_supported(module)

    b = Builder("f")
    x = b.param(TensorType("f32", (2,)), "x")
    func = b.finish(b.emit("exp", x, loc=Loc("act", "m.py", 4)))
    with pytest.raises(LoweringError) as info:
        Tiny().compile(Module([func]))
    assert "backend 'tiny' cannot lower op 'exp' in @f (from act (m.py:4))" in str(info.value)


def test_source_shows_the_ir():
    run = compile_func(two_input_func())
    assert "add(%x, %y)" in run.source()
    assert ir.print_module(run.module) in run.source()
