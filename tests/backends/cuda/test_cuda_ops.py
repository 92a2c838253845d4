"""Every op of the registry on the cuda backend (numba's CUDA simulator)
against the interpreter: the shared op table ``tests/ir/op_cases.py`` covers
each op over its dtypes and over 0-d, size-0, size-1 and broadcasting
shapes.  Each case is a one-node function, so it also exercises the
unfused path (a node of the entry function lowered as its own kernel).
Tolerances: ``cuda_test_helpers`` (elementwise table for elementwise,
movement and random ops; the reduction table for reductions, softmax and
matmul)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from graphc.backends import get_backend
from graphc.backends.cuda import rules
from graphc.ir import Builder, Module, TensorType, all_ops
from tests.ir.op_cases import CASES, Case, arrays_for

from cuda_test_helpers import (ELEMENTWISE_TOL, REDUCTION_TOL, assert_same_results,
                               compile_sim, reference)

_REDUCING = {"sum", "mean", "max", "min", "argmax", "softmax", "log_softmax", "matmul"}


def one_node_module(c: Case) -> Module:
    b = Builder("case")
    params = [b.param(TensorType(t.dtype, t.shape), f"x{i}") for i, t in enumerate(c.inputs)]
    return Module([b.finish(b.emit(c.op, *params, **c.attrs))])


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_op_matches_interpreter(c: Case):
    module = one_node_module(c)
    arrays = arrays_for(c, np.random.default_rng(zlib.crc32(c.id.encode())))
    got = compile_sim(module)(*arrays)
    tol = REDUCTION_TOL if c.op in _REDUCING else ELEMENTWISE_TOL
    assert_same_results(got, reference(module, *arrays), tol)


def test_every_op_is_lowered_or_declared_unsupported():
    """An op added to the registry must get a cuda lowering (or a reason it has none)."""
    missing = sorted(op.name for op in all_ops()
                     if op.name != "call" and op.name not in rules.LOWERING
                     and op.name not in rules.UNSUPPORTED)
    assert not missing, f"ops with no cuda lowering and no declared reason: {missing}"
    assert not set(rules.LOWERING) & set(rules.UNSUPPORTED)
    assert get_backend("cuda").supported_ops() == frozenset(rules.LOWERING) | {"call"}


def test_every_op_has_a_case_here():
    """The op table drives the numerics test above, so it must cover every lowered op."""
    covered = {c.op for c in CASES}
    assert set(rules.LOWERING) <= covered | {"call"}
