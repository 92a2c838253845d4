"""Finite-difference checks of every differentiable op's vjp rule and of the
autodiff transform on whole models.

Method: for an op ``f`` the test builds the scalar objective
``L(inputs) = sum(f(inputs) * W)`` with a fixed random ``W`` (so the
cotangent reaching the rule is a general tensor, not ones), differentiates it
with ``vjp_func``, runs both on the interpreter in f64, and compares the
directional derivative ``<grad, d>`` with the central difference
``(L(x + eps d) - L(x - eps d)) / (2 eps)`` along a random direction ``d``.
Tolerance: |fd - analytic| <= 1e-6 + 1e-5 |fd| with eps = 1e-6 in f64
(the truncation error of the central difference is O(eps^2) ~ 1e-12, the
rounding error O(1e-16 / eps) ~ 1e-10).  Inputs avoid points where an op is
not differentiable (0 for relu/abs, ties for max/min, non-positive values
for log/sqrt).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import graphc.ir as ir
from graphc.backends import get_backend
from graphc.errors import GraphcError
from graphc.ir import Builder, Module, TensorType
from graphc.passes.autodiff import grad_module, vjp_func

EPS = 1e-6
INTERP = get_backend("interpreter")


def _run(func, *arrays):
    return INTERP.compile(Module([func]))(*arrays)


def check_grads(func, arrays, rng, wrt=None):
    """Compare vjp_func's gradients with central differences for every float input."""
    grad = vjp_func(func, wrt)
    ir.verify(Module([grad]))
    outs = _run(grad, *arrays)
    value, grads = outs[0], outs[1:]
    np.testing.assert_allclose(value, _run(func, *arrays)[0], rtol=1e-12, atol=1e-12)
    float_inputs = [i for i, p in enumerate(func.params) if p.type.dtype.is_float]
    indices = float_inputs if wrt is None else [
        w if isinstance(w, int) else [p.name for p in func.params].index(w) for w in wrt]
    assert len(grads) == len(indices)
    for index, g in zip(indices, grads):
        assert g.shape == arrays[index].shape and g.dtype == arrays[index].dtype
        d = rng.standard_normal(arrays[index].shape)
        plus = list(arrays)
        minus = list(arrays)
        plus[index] = arrays[index] + EPS * d
        minus[index] = arrays[index] - EPS * d
        fd = (_run(func, *plus)[0] - _run(func, *minus)[0]) / (2 * EPS)
        analytic = float(np.sum(g * d))
        assert abs(fd - analytic) <= 1e-6 + 1e-5 * abs(fd), (
            f"input {index}: finite difference {fd!r} vs gradient {analytic!r}")


def weighted_sum_of(op_name, input_types, attrs, rng):
    """L = sum(op(inputs) * W) for a fixed random W."""
    b = Builder(op_name)
    params = [b.param(TensorType(*t), f"p{i}") for i, t in enumerate(input_types)]
    y = b.emit(op_name, *params, **attrs)
    if y.type.dtype.short != "f64":
        y = b.emit("cast", y, dtype="f64")
    weights = b.constant(rng.standard_normal(y.type.shape))
    return b.finish(b.emit("sum", b.emit("mul", y, weights)))


def away_from_zero(shape, rng, low=0.3):
    x = rng.uniform(low, 2.0, shape)
    return x * rng.choice([-1.0, 1.0], shape)


def positive(shape, rng, low=0.2):
    return rng.uniform(low, 3.0, shape)


def distinct(shape, rng):
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) * 0.37 + rng.uniform(0, 0.01, shape))


UNARY_CASES = {
    "neg": None, "exp": None, "tanh": None, "sigmoid": None, "erf": None, "square": None,
    "abs": away_from_zero, "relu": away_from_zero, "reciprocal": away_from_zero,
    "log": positive, "sqrt": positive, "rsqrt": positive,
}


@pytest.mark.parametrize("name", sorted(UNARY_CASES))
@pytest.mark.parametrize("shape", [(2, 3), (), (0, 2)], ids=str)
def test_unary(name, shape):
    rng = np.random.default_rng(0)
    make = UNARY_CASES[name] or (lambda s, r: r.standard_normal(s))
    func = weighted_sum_of(name, [("f64", shape)], {}, rng)
    check_grads(func, [make(shape, rng)], rng)


@pytest.mark.parametrize("approximate", [False, True])
def test_gelu(approximate):
    rng = np.random.default_rng(1)
    func = weighted_sum_of("gelu", [("f64", (3, 4))], {"approximate": approximate}, rng)
    check_grads(func, [rng.standard_normal((3, 4)) * 2], rng)


BROADCAST_SHAPES = [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3)),
                    ((4, 1, 3), (2, 1))]


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "maximum", "minimum"])
@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
def test_binary(name, shapes):
    rng = np.random.default_rng(2)
    func = weighted_sum_of(name, [("f64", s) for s in shapes], {}, rng)
    if name == "pow":
        arrays = [positive(shapes[0], rng, 0.5), rng.uniform(-2, 2, shapes[1])]
    elif name == "div":
        arrays = [rng.standard_normal(shapes[0]), away_from_zero(shapes[1], rng, 0.5)]
    else:
        arrays = [distinct(shapes[0], rng), distinct(shapes[1], rng) + 0.11]
    check_grads(func, arrays, rng)


def test_maximum_splits_ties_evenly():
    b = Builder("tie")
    x = b.param(TensorType("f64", (2,)), "x")
    y = b.param(TensorType("f64", (2,)), "y")
    func = b.finish(b.emit("sum", b.emit("maximum", x, y)))
    _, gx, gy = _run(vjp_func(func), np.array([1.0, 2.0]), np.array([1.0, 3.0]))
    np.testing.assert_array_equal(gx, [0.5, 0.0])
    np.testing.assert_array_equal(gy, [0.5, 1.0])


def test_where_routes_cotangents():
    rng = np.random.default_rng(3)
    func = weighted_sum_of("where", [("bool", (2, 3)), ("f64", (2, 3)), ("f64", (3,))], {}, rng)
    check_grads(func, [rng.random((2, 3)) < 0.5, rng.standard_normal((2, 3)),
                       rng.standard_normal(3)], rng)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
@pytest.mark.parametrize("axes, keepdims", [(None, False), ((0,), False), ((-1,), True),
                                            ((0, 2), False), ((), False)], ids=str)
def test_reductions(name, axes, keepdims):
    rng = np.random.default_rng(4)
    func = weighted_sum_of(name, [("f64", (2, 3, 4))], {"axes": axes, "keepdims": keepdims}, rng)
    check_grads(func, [distinct((2, 3, 4), rng)], rng)


def test_max_shares_gradient_among_ties():
    b = Builder("tie")
    x = b.param(TensorType("f64", (4,)), "x")
    func = b.finish(b.emit("max", x))
    _, g = _run(vjp_func(func), np.array([3.0, 1.0, 3.0, 3.0]))
    np.testing.assert_allclose(g, [1 / 3, 0, 1 / 3, 1 / 3])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [0, -1])
def test_softmax_family(name, axis):
    rng = np.random.default_rng(5)
    func = weighted_sum_of(name, [("f64", (3, 5))], {"axis": axis}, rng)
    check_grads(func, [rng.standard_normal((3, 5)) * 3], rng)


@pytest.mark.parametrize("a, b", [((2, 3), (3, 4)), ((3,), (3, 4)), ((2, 3), (3,)), ((3,), (3,)),
                                  ((2, 2, 3), (3, 4)), ((1, 2, 3), (4, 3, 2)),
                                  ((5, 2, 3), (5, 3, 1))], ids=str)
def test_matmul(a, b):
    rng = np.random.default_rng(6)
    func = weighted_sum_of("matmul", [("f64", a), ("f64", b)], {}, rng)
    check_grads(func, [rng.standard_normal(a), rng.standard_normal(b)], rng)


MOVEMENT_CASES = [
    ("reshape", [(2, 3, 4)], {"shape": (4, -1)}),
    ("transpose", [(2, 3, 4)], {"perm": (2, 0, 1)}),
    ("transpose", [(2, 3, 4)], {"perm": None}),
    ("broadcast_to", [(3,)], {"shape": (2, 3)}),
    ("broadcast_to", [(2, 1)], {"shape": (3, 2, 4)}),
    ("concat", [(2, 3), (1, 3), (4, 3)], {"axis": 0}),
    ("concat", [(2, 3), (2, 1)], {"axis": -1}),
    ("slice", [(5, 6)], {"axes": (0, 1), "starts": (1, None), "stops": (None, -1),
                         "steps": (2, 1)}),
    ("slice", [(6,)], {"axes": (0,), "starts": (None,), "stops": (None,), "steps": (-2,)}),
    # whole axes reversed: the same length as the input, in the opposite order
    ("slice", [(5, 6)], {"axes": (0,), "starts": (None,), "stops": (None,), "steps": (-1,)}),
    ("slice", [(5, 6)], {"axes": (1, 0), "starts": (None, 1), "stops": (None, 4),
                         "steps": (-1, 1)}),
    ("expand_dims", [(2, 3)], {"axes": (0, -1)}),
    ("squeeze", [(2, 1, 3, 1)], {"axes": (1, -1)}),
    ("squeeze", [(1, 3, 1)], {"axes": None}),
]


@pytest.mark.parametrize("name, shapes, attrs", MOVEMENT_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(MOVEMENT_CASES)])
def test_movement(name, shapes, attrs):
    rng = np.random.default_rng(7)
    func = weighted_sum_of(name, [("f64", s) for s in shapes], attrs, rng)
    check_grads(func, [rng.standard_normal(s) for s in shapes], rng)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_gather_with_repeated_indices(axis):
    rng = np.random.default_rng(8)
    func = weighted_sum_of("gather", [("f64", (4, 5)), ("i64", (2, 3))], {"axis": axis}, rng)
    size = (4, 5)[axis]
    indices = np.array([[0, 1, 1], [size - 1, -1, 0]])
    check_grads(func, [rng.standard_normal((4, 5)), indices], rng)


def test_scatter_add():
    rng = np.random.default_rng(9)
    func = weighted_sum_of("scatter_add", [("f64", (4, 2)), ("i64", (3,)), ("f64", (3, 2))],
                           {"axis": 0}, rng)
    check_grads(func, [rng.standard_normal((4, 2)), np.array([1, 1, 3]),
                       rng.standard_normal((3, 2))], rng)


def test_cast_round_trip_keeps_gradient():
    b = Builder("cast")
    x = b.param(TensorType("f64", (3,)), "x")
    y = b.emit("cast", b.emit("cast", x, dtype="f32"), dtype="f64")
    func = b.finish(b.emit("sum", b.emit("mul", y, y)))
    _, g = _run(vjp_func(func), np.array([1.0, -2.0, 0.5]))
    np.testing.assert_allclose(g, [2.0, -4.0, 1.0], rtol=1e-6)


def test_every_differentiable_op_has_a_rule_and_a_check():
    checked = set(UNARY_CASES) | {"gelu", "add", "sub", "mul", "div", "pow", "maximum",
                                  "minimum", "where", "sum", "mean", "max", "min", "softmax",
                                  "log_softmax", "matmul", "gather", "scatter_add", "cast"}
    checked |= {c[0] for c in MOVEMENT_CASES}
    for op in ir.all_ops():
        if op.name == "call":
            continue
        if op.differentiable:
            assert op.vjp is not None, f"op '{op.name}' has no vjp rule"
            assert op.name in checked, f"op '{op.name}' has no finite-difference check"
        else:
            assert op.vjp is None, f"non-differentiable op '{op.name}' has a vjp rule"


# -- whole models -----------------------------------------------------------------------


def mlp_loss(batch="N"):
    """softmax cross-entropy of a 2-layer MLP; labels are one-hot floats."""
    b = Builder("mlp_loss")
    x = b.param(TensorType("f64", (batch, 6)), "x")
    y = b.param(TensorType("f64", (batch, 3)), "y")
    w1 = b.param(TensorType("f64", (6, 5)), "w1")
    b1 = b.param(TensorType("f64", (5,)), "b1")
    w2 = b.param(TensorType("f64", (5, 3)), "w2")
    b2 = b.param(TensorType("f64", (3,)), "b2")
    h = b.emit("relu", b.emit("add", b.emit("matmul", x, w1), b1))
    logits = b.emit("add", b.emit("matmul", h, w2), b2)
    nll = b.emit("neg", b.emit("sum", b.emit("mul", y, b.emit("log_softmax", logits)),
                               axes=(-1,)))
    return b.finish(b.emit("mean", nll))


def test_mlp_softmax_cross_entropy():
    rng = np.random.default_rng(10)
    arrays = [rng.standard_normal((7, 6)), np.eye(3)[rng.integers(0, 3, 7)],
              rng.standard_normal((6, 5)), rng.standard_normal(5) * 0.1,
              rng.standard_normal((5, 3)), rng.standard_normal(3) * 0.1]
    check_grads(mlp_loss(), arrays, rng, wrt=["w1", "b1", "w2", "b2"])


def test_mlp_gradient_serves_every_batch_size():
    grad = vjp_func(mlp_loss(), ["w2"])
    rng = np.random.default_rng(11)
    for n in (1, 4):
        arrays = [rng.standard_normal((n, 6)), np.eye(3)[rng.integers(0, 3, n)],
                  rng.standard_normal((6, 5)), rng.standard_normal(5),
                  rng.standard_normal((5, 3)), rng.standard_normal(3)]
        outs = _run(grad, *arrays)
        assert outs[1].shape == (5, 3)


def test_layer_norm_composition():
    b = Builder("layernorm")
    x = b.param(TensorType("f64", ("N", 5)), "x")
    gamma = b.param(TensorType("f64", (5,)), "gamma")
    beta = b.param(TensorType("f64", (5,)), "beta")
    mu = b.emit("mean", x, axes=(-1,), keepdims=True)
    centered = b.emit("sub", x, mu)
    var = b.emit("mean", b.emit("square", centered), axes=(-1,), keepdims=True)
    eps = b.constant(np.array(1e-5))
    normed = b.emit("mul", centered, b.emit("rsqrt", b.emit("add", var, eps)))
    out = b.emit("add", b.emit("mul", normed, gamma), beta)
    weights = b.constant(np.random.default_rng(0).standard_normal((1, 5)))
    func = b.finish(b.emit("sum", b.emit("mul", b.emit("tanh", out), weights)))
    rng = np.random.default_rng(12)
    check_grads(func, [rng.standard_normal((4, 5)), rng.standard_normal(5),
                       rng.standard_normal(5)], rng)


def test_embedding_and_branching_graph():
    b = Builder("branch")
    table = b.param(TensorType("f64", (6, 4)), "table")
    ids = b.param(TensorType("i64", ("N", 3)), "ids")
    w = b.param(TensorType("f64", (4, 2)), "w")
    emb = b.emit("gather", table, ids, axis=0)                  # N,3,4
    pooled = b.emit("mean", emb, axes=(1,))                      # N,4
    left = b.emit("matmul", pooled, w)                           # shared w ...
    right = b.emit("matmul", b.emit("sigmoid", pooled), w)       # ... used twice
    both = b.emit("concat", left, right, axis=1)
    func = b.finish(b.emit("sum", b.emit("square", both)))
    rng = np.random.default_rng(13)
    check_grads(func, [rng.standard_normal((6, 4)), np.array([[0, 1, 1], [5, 2, 0]]),
                       rng.standard_normal((4, 2))], rng, wrt=["table", "w"])


def test_gradient_through_calls_inlines_them():
    kb = Builder("fused_0", private=True, primitive=True)
    p = kb.param(TensorType("f64", (3,)), "p")
    kernel = kb.finish(kb.emit("tanh", kb.emit("mul", p, p)))
    b = Builder("main")
    x = b.param(TensorType("f64", (3,)), "x")
    (t,) = b.call(kernel, x)
    module = Module([b.finish(b.emit("sum", t)), kernel])
    grad = grad_module(module)
    assert not any(n.op.name == "call" for n in grad.entry.nodes)
    xs = np.array([0.1, -0.5, 0.9])
    _, g = INTERP.compile(grad)(xs)
    np.testing.assert_allclose(g, 2 * xs * (1 - np.tanh(xs * xs) ** 2), rtol=1e-12)


def test_vector_jacobian_product_with_cotangent_parameters():
    b = Builder("vec")
    x = b.param(TensorType("f64", (3,)), "x")
    func = b.finish(b.emit("exp", x))
    grad = vjp_func(func, seed="param")
    assert [p.name for p in grad.params] == ["x", "ct_0"]
    xs, ct = np.array([0.0, 1.0, 2.0]), np.array([1.0, 2.0, 3.0])
    _, g = _run(grad, xs, ct)
    np.testing.assert_allclose(g, ct * np.exp(xs))


def test_unused_input_gets_zero_gradient_and_locs_are_kept():
    b = Builder("f")
    x = b.param(TensorType("f64", (2,)), "x")
    unused = b.param(TensorType("f64", (3,)), "unused")
    with b.at(ir.Loc("dense", "model.py", 5)):
        y = b.emit("tanh", x)
    func = b.finish(b.emit("sum", y))
    grad = vjp_func(func)
    _, gx, gu = _run(grad, np.zeros(2), np.ones(3))
    np.testing.assert_array_equal(gu, np.zeros(3))
    tanh_grad_nodes = [n for n in grad.nodes if n.loc == ir.Loc("dense", "model.py", 5)]
    assert len(tanh_grad_nodes) > 1  # the forward tanh and its gradient nodes


@pytest.mark.parametrize("wrt, message", [
    (["nope"], "has no input named 'nope'"),
    ([5], "it has 2 input(s)"),
    (["ids"], "only floating point inputs have gradients"),
])
def test_bad_wrt_is_a_clear_error(wrt, message):
    b = Builder("f")
    x = b.param(TensorType("f64", (2,)), "x")
    b.param(TensorType("i64", (2,)), "ids")
    func = b.finish(b.emit("sum", x))
    with pytest.raises(GraphcError, match=re.escape(message)):
        vjp_func(func, wrt)


def test_non_scalar_objective_is_a_clear_error():
    b = Builder("f")
    x = b.param(TensorType("f64", (2,)), "x")
    func = b.finish(b.emit("exp", x))
    with pytest.raises(GraphcError, match="return one 0-d float value"):
        vjp_func(func)
