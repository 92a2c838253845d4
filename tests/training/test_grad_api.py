"""graphc.grad / graphc.value_and_grad on Python functions, against finite
differences in f64 (``conftest.finite_difference_check``: eps 1e-6, tolerance
1e-6 + 1e-5 |fd|), on the interpreter; plus caching and errors."""

from __future__ import annotations

import numpy as np
import pytest

import graphc
from graphc import ops
from graphc.errors import FrontendError

from .conftest import INTERP, finite_difference_check


def _f(x, w, b):
    """A little network with broadcasting, a reduction, softmax and a gather."""
    h = ops.tanh(ops.matmul(x, w) + b)
    logp = ops.log_softmax(h * 2.0, axis=-1)
    picked = ops.take(logp, np.array([0, 2]), axis=1)
    return ops.mean(ops.square(h)) - ops.sum(picked) / 7.0 + ops.max(ops.abs(w)) * 0.1


@pytest.fixture
def args(rng):
    return (rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3))


def test_value_and_grad_matches_finite_differences(args, rng):
    value, grads = graphc.value_and_grad(_f, argnums=(0, 1, 2), backend=INTERP)(*args)
    plain = graphc.function(_f, backend=INTERP)
    assert value == pytest.approx(float(plain(*args)), rel=1e-12)
    for i, grad in enumerate(grads):
        assert grad.shape == args[i].shape and grad.dtype == np.float64

        def f_i(v, i=i):
            changed = list(args)
            changed[i] = v
            return float(plain(*changed))

        finite_difference_check(f_i, args[i], grad, rng)


def test_grad_argnums_and_has_aux(args):
    g1 = graphc.grad(_f, argnums=1, backend=INTERP)(*args)
    assert isinstance(g1, np.ndarray) and g1.shape == (4, 3)

    def with_aux(x, w, b):
        out = ops.matmul(x, w) + b
        return ops.sum(out), {"out": out, "norm": ops.sum(ops.square(w))}

    grad, aux = graphc.grad(with_aux, argnums=(2,), has_aux=True, backend=INTERP)(*args)
    np.testing.assert_allclose(grad[0], np.full(3, 5.0))
    np.testing.assert_allclose(aux["out"], args[0] @ args[1] + args[2], rtol=1e-12)
    (value, aux2), grad2 = graphc.value_and_grad(with_aux, argnums=-1, has_aux=True,
                                                 backend=INTERP)(*args)
    assert value == pytest.approx(float(np.sum(args[0] @ args[1] + args[2])))
    np.testing.assert_allclose(aux2["norm"], np.sum(args[1] ** 2))
    np.testing.assert_allclose(grad2, np.full(3, 5.0))


def test_traced_once_per_signature():
    calls = []

    def f(x):
        calls.append(x.shape)
        return ops.sum(ops.exp(x))

    g = graphc.grad(f, backend=INTERP)
    for n in (3, 3, 4, 3):
        np.testing.assert_allclose(g(np.ones(n)), np.full(n, np.e))
    assert calls == [(3,), (4,)]


def test_second_derivative_through_a_nested_grad():
    """d/dx of (d/dx sum(x^3)) . 1 = 6x, through the same transform twice."""
    def inner(x):
        with graphc.GradientTape() as tape:
            tape.watch(x)
            y = ops.sum(x * x * x)
        (dy,) = tape.gradient(y, [x])
        return ops.sum(dy)

    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(graphc.grad(inner, backend=INTERP)(x), 6 * x, rtol=1e-12)


def test_errors():
    with pytest.raises(FrontendError, match="needs fn to return a 0-d float tensor"):
        graphc.grad(lambda x: x * 2.0, backend=INTERP)(np.ones(3))
    with pytest.raises(FrontendError, match="only float tensors have gradients"):
        graphc.grad(lambda x, i: ops.sum(x), argnums=1, backend=INTERP)(np.ones(2),
                                                                        np.ones(2, np.int64))
    with pytest.raises(FrontendError, match="argnums 3 is out of range for 1 argument"):
        graphc.grad(lambda x: ops.sum(x), argnums=3)(np.ones(2))
    with pytest.raises(FrontendError, match="has_aux=True needs fn to return"):
        graphc.grad(lambda x: ops.sum(x), has_aux=True, backend=INTERP)(np.ones(2))
    with pytest.raises(graphc.InputError, match="unsupported dtype"):
        graphc.grad(lambda x: ops.sum(x))(np.array(["a"]))
