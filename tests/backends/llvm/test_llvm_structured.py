"""Reductions, softmax, movement ops, gather/scatter, random numbers, matmul
and constants against the interpreter, over dtypes and shapes (including
empty axes, size-1 axes and 0-d results)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from llvm_helpers import assert_matches, kernel_module, random_array, with_specials


def _reduce_module(op: str, dtype: str, axes_list) -> str:
    body, results = [], []
    for k, (axes, keep) in enumerate(axes_list):
        shape = _reduced_type((("A", 0), ("B", 1), ("C", 2)), axes, keep)
        attr = "none" if axes is None else f"[{', '.join(map(str, axes))}]"
        out_dtype = "i64" if op == "argmax" else dtype
        if op == "argmax":
            body.append(f"%r{k}: {out_dtype}{shape} = argmax(%x) {{axis = {axes[0]}, "
                        f"keepdims = {str(keep).lower()}}}")
        else:
            body.append(f"%r{k}: {out_dtype}{shape} = {op}(%x) {{axes = {attr}, "
                        f"keepdims = {str(keep).lower()}}}")
        results.append((f"%r{k}", f"{out_dtype}{shape}"))
    return kernel_module(f"%x: {dtype}[A,B,C]", body, results)


def _reduced_type(dims, axes, keep) -> str:
    axes = range(3) if axes is None else [a % 3 for a in axes]
    kept = ["1" if i in axes else d for d, i in dims] if keep else \
        [d for d, i in dims if i not in axes]
    return f"[{','.join(kept)}]"


AXES = [(None, False), ((0,), False), ((1,), True), ((2,), False), ((0, 1), False),
        ((1, 2), True), ((0, 2), False), ((-1,), True), ((), False)]


@pytest.mark.parametrize("op,dtype", [("sum", "f32"), ("sum", "i32"), ("mean", "f64"),
                                      ("max", "f32"), ("min", "i64"), ("sum", "f64"),
                                      ("mean", "f32")])
def test_reductions_over_every_axis_set(llvm_compile, op, dtype):
    module = _reduce_module(op, dtype, AXES)
    exe = llvm_compile(module)
    rng = np.random.default_rng(10)
    shapes = [(2, 3, 4), (1, 1, 1), (5, 1, 7), (3, 9, 33)]
    if op in ("sum", "mean"):
        shapes += [(0, 3, 4), (2, 0, 3), (2, 3, 0)]
    for shape in shapes:
        assert_matches(module, exe, [random_array(rng, dtype, shape)])


def test_max_and_argmax_propagate_nan(llvm_compile):
    module = _reduce_module("max", "f32", [((1,), False), ((0, 1), True)])
    arg = _reduce_module("argmax", "f32", [((1,), False), ((0,), True), ((2,), False)])
    rng = np.random.default_rng(11)
    x = with_specials(random_array(rng, "f32", (3, 4, 5)))
    x[2, 1, 3] = np.nan
    for module in (module, arg):
        exe = llvm_compile(module)
        assert_matches(module, exe, [x])
        assert_matches(module, exe, [np.full((2, 3, 2), -np.inf, np.float32)])


def test_argmax_ints_first_maximum(llvm_compile):
    module = _reduce_module("argmax", "i32", [((1,), False), ((0,), True)])
    exe = llvm_compile(module)
    x = np.array([[[3, 3], [1, 7], [3, 7]]], dtype=np.int32)
    assert_matches(module, exe, [x])
    assert_matches(module, exe, [np.random.default_rng(12).integers(0, 3, (4, 6, 5))
                                 .astype(np.int32)])


def test_max_over_an_axis_empty_at_run_time_is_an_error(llvm_compile):
    from graphc.errors import ExecutionError
    module = _reduce_module("max", "f32", [((1,), False)])
    exe = llvm_compile(module)
    with pytest.raises(ExecutionError, match="max.*empty"):
        exe(np.zeros((2, 0, 3), np.float32))


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_softmax_and_log_softmax(llvm_compile, dtype):
    t = f"{dtype}[N,M,K]"
    module = kernel_module(f"%x: {t}", [
        f"%a: {t} = softmax(%x) {{axis = -1}}", f"%b: {t} = log_softmax(%x) {{axis = 1}}",
        f"%c: {t} = softmax(%x) {{axis = 0}}"], [("%a", t), ("%b", t), ("%c", t)])
    exe = llvm_compile(module)
    rng = np.random.default_rng(13)
    for shape in [(2, 3, 4), (1, 1, 1), (0, 3, 2), (3, 0, 2), (2, 5, 0), (4, 7, 37)]:
        assert_matches(module, exe, [random_array(rng, dtype, shape, -20, 20)])
    x = random_array(rng, dtype, (2, 3, 4))
    x[0, 0, 0], x[1, 2, :] = np.nan, -np.inf
    assert_matches(module, exe, [x])


MOVEMENT = [
    ("%r: f32[B,A] = transpose(%x) {perm = [1, 0]}", "f32[B,A]"),
    ("%r: f32[A,B] = transpose(%x) {perm = none}", None),
    ("%r: f32[?] = reshape(%x) {shape = [-1]}", "f32[?]"),
    ("%r: f32[B,1,A] = reshape(%t) {shape = [B, 1, A]}", "f32[B,1,A]"),
    ("%r: f32[A,1,B] = expand_dims(%x) {axes = [1]}", "f32[A,1,B]"),
    ("%r: f32[2,A,B] = broadcast_to(%x) {shape = [2, A, B]}", "f32[2,A,B]"),
    ("%r: f32[?,B] = slice(%x) {axes = [0], starts = [1], stops = [none], steps = []}",
     "f32[?,B]"),
    ("%r: f32[A,?] = slice(%x) {axes = [1], starts = [none], stops = [none], steps = [-2]}",
     "f32[A,?]"),
    ("%r: f32[?,B] = concat(%x, %x, %x) {axis = 0}", "f32[?,B]"),
    ("%r: f32[A,?] = concat(%x, %e) {axis = 1}", "f32[A,?]"),
]


def test_movement_ops(llvm_compile):
    body = ["%t: f32[B,A] = transpose(%x) {perm = [1, 0]}",
            "%e: f32[A,3] = slice(%w) {axes = [1], starts = [0], stops = [3], steps = []}"]
    results = []
    for k, (line, typ) in enumerate(MOVEMENT):
        if typ is None:
            typ = "f32[B,A]"
            line = line.replace("f32[A,B]", typ)
        body.append(line.replace("%r:", f"%r{k}:"))
        results.append((f"%r{k}", typ))
    module = kernel_module("%x: f32[A,B], %w: f32[A,5]", body, results)
    exe = llvm_compile(module)
    rng = np.random.default_rng(14)
    for a, b in [(3, 4), (1, 1), (0, 4), (3, 0), (6, 17)]:
        assert_matches(module, exe, [random_array(rng, "f32", (a, b)),
                                     random_array(rng, "f32", (a, 5))])


def test_squeeze_and_reshape_roundtrip_ints(llvm_compile):
    module = kernel_module("%x: i64[N,1,M]", [
        "%s: i64[N,M] = squeeze(%x) {axes = [1]}",
        "%r: i64[M,N] = reshape(%s) {shape = [M, N]}",
        "%q: i64[N,M] = add(%s, %s)"],
        [("%r", "i64[M,N]"), ("%q", "i64[N,M]")])
    exe = llvm_compile(module)
    rng = np.random.default_rng(15)
    for n, m in [(2, 3), (1, 1), (0, 3), (5, 8)]:
        assert_matches(module, exe, [random_array(rng, "i64", (n, 1, m))])


@pytest.mark.parametrize("index_dtype", ["i32", "i64"])
def test_gather_and_scatter_add(llvm_compile, index_dtype):
    module = kernel_module(f"%x: f32[A,B], %i: {index_dtype}[K]", [
        "%g0: f32[K,B] = gather(%x, %i) {axis = 0}",
        "%g1: f32[A,K] = gather(%x, %i) {axis = 1}",
        "%g2: f32[K,B] = mul(%g0, %g0)"],
        [("%g1", "f32[A,K]"), ("%g2", "f32[K,B]")])
    scatter = (f"func @main(%x: f32[A,B], %i: {index_dtype}[K], %u: f32[K,B]) -> (f32[A,B]) {{\n"
               "  %r: f32[A,B] = scatter_add(%x, %i, %u) {axis = 0}\n  return %r\n}\n")
    rng = np.random.default_rng(16)
    exe, scat = llvm_compile(module), llvm_compile(scatter)
    np_index = np.dtype(index_dtype.replace("i", "int"))
    for a, k in [(4, 6), (5, 0), (1, 3)]:
        x = random_array(rng, "f32", (a, a))
        idx = rng.integers(-a, a, k).astype(np_index)
        assert_matches(module, exe, [x, idx])
        assert_matches(scatter, scat, [x, idx, random_array(rng, "f32", (k, a))])


def test_gather_index_out_of_range_is_an_error(llvm_compile):
    from graphc.errors import ExecutionError
    module = kernel_module("%x: f32[A,B], %i: i64[K]", ["%g: f32[K,B] = gather(%x, %i) {axis = 0}"],
                           [("%g", "f32[K,B]")])
    exe = llvm_compile(module)
    x = np.zeros((3, 2), np.float32)
    with pytest.raises(ExecutionError, match=r"gather.*index 3 is out of range for axis 0 of "
                                             r"size 3"):
        exe(x, np.array([0, 3], np.int64))
    with pytest.raises(ExecutionError, match="index -4"):
        exe(x, np.array([-4], np.int64))


def test_random_uniform_matches_the_reference_bit_for_bit(llvm_compile):
    module = kernel_module("%k: i64[], %x: f32[N,M]", [
        "%u: f32[N,M] = random_uniform(%k, %x) {dtype = f32}",
        "%v: f64[N,M] = random_uniform(%k, %x) {dtype = f64}",
        "%d: f32[N,M] = mul(%u, %x)"],
        [("%u", "f32[N,M]"), ("%v", "f64[N,M]"), ("%d", "f32[N,M]")])
    exe = llvm_compile(module)
    for key, shape in [(0, (3, 5)), (-7, (1, 1)), (2 ** 40 + 3, (17, 9)), (5, (0, 4))]:
        x = np.ones(shape, np.float32)
        assert_matches(module, exe, [np.int64(key), x], rtol=0, atol=0)


@pytest.mark.parametrize("dtype", ["f32", "f64", "i64"])
def test_matmul_shapes(llvm_compile, dtype):
    cases = [("[M,K]", "[K,N]", "[M,N]"), ("[K]", "[K,N]", "[N]"), ("[M,K]", "[K]", "[M]"),
             ("[K]", "[K]", "[]"), ("[2,M,K]", "[K,N]", "[2,M,N]"), ("[2,M,K]", "[2,K,N]",
                                                                     "[2,M,N]")]
    rng = np.random.default_rng(17)
    for a, b, out in cases:
        src = (f"func @main(%a: {dtype}{a}, %b: {dtype}{b}) -> ({dtype}{out}) {{\n"
               f"  %r: {dtype}{out} = matmul(%a, %b)\n  return %r\n}}\n")
        exe = llvm_compile(src)
        for m, k, n in [(3, 4, 5), (1, 1, 1), (0, 3, 2), (3, 0, 2)]:
            sizes = {"M": m, "K": k, "N": n}
            shape = lambda s: tuple(2 if d == "2" else sizes[d] for d in s.strip("[]").split(",")
                                    if d)  # noqa: E731
            assert_matches(src, exe, [random_array(rng, dtype, shape(a)),
                                      random_array(rng, dtype, shape(b))], rtol=1e-5)


def test_constants_inside_kernels(llvm_compile):
    module = kernel_module("%x: f32[N,3]", [
        "%c: f32[3] = constant() {value = [1.0, -2.0, 0.5]}",
        "%s: f32[] = constant() {value = 2.0}",
        "%o: f32[2,3] = constant() {value = [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]}",
        "%b: bool[3] = constant() {value = [true, false, true]}",
        "%y: f32[N,3] = mul(%x, %c)", "%z: f32[N,3] = add(%y, %s)",
        "%w: f32[N,3] = where(%b, %z, %x)"],
        [("%w", "f32[N,3]"), ("%o", "f32[2,3]"), ("%c", "f32[3]")])
    exe = llvm_compile(module)
    rng = np.random.default_rng(18)
    for n in (0, 1, 4):
        assert_matches(module, exe, [random_array(rng, "f32", (n, 3))])


def test_results_that_are_params_or_repeated_are_fresh_arrays(llvm_compile):
    src = ("func @main(%x: f32[N]) -> (f32[N], f32[N], f32[N]) {\n"
           "  %y: f32[N] = neg(%x)\n  return %x, %y, %y\n}\n")
    exe = llvm_compile(src)
    x = np.arange(4, dtype=np.float32)
    a, b, c = exe(x)
    assert a is not x and not np.shares_memory(a, x)
    assert not np.shares_memory(b, c)
    np.testing.assert_array_equal(b, -x)
    np.testing.assert_array_equal(c, -x)


def test_every_combination_of_keepdims_and_row_sink(llvm_compile):
    """A layer-norm-like group: two dependent row reductions plus row and element results."""
    module = kernel_module("%x: f32[N,C], %g: f32[C]", [
        "%m: f32[N,1] = mean(%x) {axes = [1], keepdims = true}",
        "%d: f32[N,C] = sub(%x, %m)",
        "%q: f32[N,C] = mul(%d, %d)",
        "%v: f32[N] = mean(%q) {axes = [-1], keepdims = false}",
        "%e: f32[] = constant() {value = 1e-5}",
        "%ve: f32[N] = add(%v, %e)",
        "%r: f32[N] = rsqrt(%ve)",
        "%r1: f32[N,1] = expand_dims(%r) {axes = [1]}",
        "%y: f32[N,C] = mul(%d, %r1)",
        "%z: f32[N,C] = mul(%y, %g)"],
        [("%z", "f32[N,C]"), ("%r", "f32[N]"), ("%m", "f32[N,1]")])
    exe = llvm_compile(module)
    rng = np.random.default_rng(19)
    for n, c in itertools.product((0, 1, 5), (1, 8, 33)):
        assert_matches(module, exe, [random_array(rng, "f32", (n, c)),
                                     random_array(rng, "f32", (c,))], rtol=1e-4, atol=1e-5)


def test_matmul_operands_computed_in_the_kernel(llvm_compile):
    """A hand-written primitive Func may compute a matmul operand itself: it is
    stored first (a map stage), and a stage running earlier that needs the same
    value computes it inline instead of reading the buffer before it is written."""
    module = kernel_module("%x: f32[N,K], %w: f32[K,M]", [
        "%u: f32[N,K] = exp(%x)",
        "%r: f32[N] = sum(%u) {axes = [1]}",
        "%t: f32[K,N] = transpose(%u) {perm = [1, 0]}",
        "%tt: f32[K,K] = matmul(%t, %u)",
        "%m: f32[N,M] = matmul(%u, %w)",
        "%r1: f32[N,1] = expand_dims(%r) {axes = [1]}",
        "%y: f32[N,M] = div(%m, %r1)"],
        [("%r", "f32[N]"), ("%y", "f32[N,M]"), ("%tt", "f32[K,K]")])
    exe = llvm_compile(module)
    rng = np.random.default_rng(20)
    for n in (1, 5, 0):
        assert_matches(module, exe, [random_array(rng, "f32", (n, 4), -1, 1),
                                     random_array(rng, "f32", (4, 3))], rtol=1e-5)
