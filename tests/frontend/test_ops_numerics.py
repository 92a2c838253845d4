"""``graphc.ops`` against numpy, both eagerly (numpy arrays in) and inside a
Functional model (symbolic tensors, run through predict).  Tolerance 1e-5."""

from __future__ import annotations

import numpy as np
import pytest

import graphc
from graphc import ops

from .conftest import TOL

X = np.random.default_rng(7).normal(size=(4, 5)).astype(np.float32)
Y = np.random.default_rng(8).normal(size=(4, 5)).astype(np.float32)

CASES = [
    ("add", lambda a, b: a + b, lambda a, b: a + b),
    ("sub const", lambda a, b: 1.5 - a, lambda a, b: 1.5 - a),
    ("mul", lambda a, b: a * b, lambda a, b: a * b),
    ("div", lambda a, b: a / (ops.abs(b) + 1), lambda a, b: a / (np.abs(b) + 1)),
    ("pow", lambda a, b: ops.abs(a) ** 1.5, lambda a, b: np.abs(a) ** 1.5),
    ("matmul", lambda a, b: a @ ops.transpose(b), lambda a, b: a @ b.T),
    ("neg/abs", lambda a, b: -abs(a), lambda a, b: -np.abs(a)),
    ("exp/log", lambda a, b: ops.log(ops.exp(a) + 1), lambda a, b: np.log(np.exp(a) + 1)),
    ("sqrt/rsqrt", lambda a, b: ops.sqrt(ops.square(a) + 1) * ops.rsqrt(ops.abs(b) + 1),
     lambda a, b: np.sqrt(a * a + 1) / np.sqrt(np.abs(b) + 1)),
    ("minmax", lambda a, b: ops.maximum(a, b) - ops.minimum(a, 0.0),
     lambda a, b: np.maximum(a, b) - np.minimum(a, 0)),
    ("where", lambda a, b: ops.where(a > b, a, b * 2), lambda a, b: np.where(a > b, a, b * 2)),
    ("clip", lambda a, b: ops.clip(a, -0.5, 0.5), lambda a, b: np.clip(a, -0.5, 0.5)),
    ("sum", lambda a, b: ops.sum(a, axis=1), lambda a, b: a.sum(1)),
    ("mean keepdims", lambda a, b: ops.mean(a, axis=-1, keepdims=True),
     lambda a, b: a.mean(-1, keepdims=True)),
    ("max/min", lambda a, b: ops.max(a, axis=0) + ops.min(b, axis=0),
     lambda a, b: a.max(0) + b.min(0)),
    ("var/std", lambda a, b: ops.var(a, axis=1) + ops.std(b, axis=1),
     lambda a, b: a.var(1) + b.std(1)),
    ("softmax", lambda a, b: ops.softmax(a, axis=0),
     lambda a, b: np.exp(a) / np.exp(a).sum(0)),
    ("log_softmax", lambda a, b: ops.log_softmax(a),
     lambda a, b: a - np.log(np.exp(a).sum(-1, keepdims=True))),
    ("concat", lambda a, b: ops.concatenate([a, b], axis=1),
     lambda a, b: np.concatenate([a, b], 1)),
    ("stack", lambda a, b: ops.stack([a, b], axis=1), lambda a, b: np.stack([a, b], 1)),
    ("reshape", lambda a, b: ops.reshape(a, (-1, 2, 10)), lambda a, b: a.reshape(-1, 2, 10)),
    ("expand/squeeze", lambda a, b: ops.squeeze(ops.expand_dims(a, 1), 1), lambda a, b: a),
    ("take", lambda a, b: ops.take(a, [4, 0, 0], axis=1), lambda a, b: a[:, [4, 0, 0]]),
    ("index int", lambda a, b: a[:, 2], lambda a, b: a[:, 2]),
    ("index neg", lambda a, b: a[:, -1], lambda a, b: a[:, -1]),
    ("index slices", lambda a, b: a[:, 1:4:2], lambda a, b: a[:, 1:4:2]),
    ("index reverse", lambda a, b: a[:, ::-1], lambda a, b: a[:, ::-1]),
    ("index newaxis", lambda a, b: a[:, None, 3], lambda a, b: a[:, None, 3]),
    ("index ellipsis", lambda a, b: a[..., :2], lambda a, b: a[..., :2]),
    ("index array", lambda a, b: a[:, [3, 1]], lambda a, b: a[:, [3, 1]]),
    ("cast", lambda a, b: ops.cast(a > 0, "float32") * 3, lambda a, b: (a > 0) * 3.0),
    ("argmax", lambda a, b: ops.argmax(a, axis=-1), lambda a, b: a.argmax(-1)),
    ("gelu tanh", lambda a, b: ops.gelu(a, approximate=True),
     lambda a, b: 0.5 * a * (1 + np.tanh(np.sqrt(2 / np.pi) * (a + 0.044715 * a ** 3)))),
    ("broadcast_to", lambda a, b: ops.broadcast_to(a[:, :1], (4, 3)),
     lambda a, b: np.broadcast_to(a[:, :1], (4, 3))),
]


@pytest.mark.parametrize("name, fn, reference", CASES, ids=[c[0] for c in CASES])
def test_eager(name, fn, reference):
    np.testing.assert_allclose(fn(X, Y), reference(X, Y), **TOL)


@pytest.mark.parametrize("name, fn, reference", CASES, ids=[c[0] for c in CASES])
def test_in_a_functional_model(name, fn, reference):
    a, b = graphc.Input((5,)), graphc.Input((5,))
    model = graphc.Model([a, b], fn(a, b))
    got = model.predict([X, Y], batch_size=len(X))  # some cases reduce over the batch axis
    np.testing.assert_allclose(got, reference(X, Y), **TOL)


def test_batch_index_on_symbolic_batch():
    x = graphc.Input((5,))
    model = graphc.Model(x, x[0])
    np.testing.assert_array_equal(model.predict(X, batch_size=4), X[0])
    with pytest.raises(graphc.ExecutionError, match="out of range"):
        graphc.Model(x, x[9]).predict(X)


def test_integer_ops_keep_integers():
    i = np.arange(6, dtype=np.int32).reshape(2, 3)
    assert ops.add(i, 1).dtype == np.int32
    np.testing.assert_array_equal(ops.multiply(i, 2), i * 2)
    assert ops.divide(i, 2).dtype == np.float32
    assert ops.multiply(i, 0.5).dtype == np.float32
