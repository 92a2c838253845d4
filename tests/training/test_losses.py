"""graphc.losses against numpy oracles written here, stability, and errors.

Oracles are computed in f64 from the formulas (never from graphc); results
are f32, compared with rtol 1e-5, atol 1e-6.
"""

from __future__ import annotations

import numpy as np
import pytest

import graphc
from graphc import losses
from graphc.errors import FrontendError, InputError, ShapeError

from .conftest import INTERP

TOL = dict(rtol=1e-5, atol=1e-6)


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _log_softmax(z):
    s = z - z.max(-1, keepdims=True)
    return s - np.log(np.exp(s).sum(-1, keepdims=True))


@pytest.fixture
def data(rng):
    logits = rng.normal(0, 2, (6, 5))
    labels = rng.integers(0, 5, 6)
    onehot = np.eye(5)[labels]
    probs = _softmax(logits)
    target = rng.normal(size=(6, 5))
    return logits, labels, onehot, probs, target


def f32(*arrays):
    return [np.asarray(a, np.float32) for a in arrays]


def test_regression_losses(data):
    logits, _, _, _, target = data
    p, t = f32(logits, target)
    np.testing.assert_allclose(losses.mean_squared_error(t, p), ((p - t) ** 2).mean(-1), **TOL)
    np.testing.assert_allclose(losses.mean_absolute_error(t, p), np.abs(p - t).mean(-1), **TOL)
    err = np.abs(p.astype(np.float64) - t)
    huber = np.where(err <= 1.5, 0.5 * err ** 2, 1.5 * err - 0.5 * 1.5 ** 2).mean(-1)
    np.testing.assert_allclose(losses.huber(t, p, delta=1.5), huber, **TOL)


def test_categorical_crossentropies(data):
    logits, labels, onehot, probs, _ = data
    expected = -(onehot * _log_softmax(logits)).sum(-1)
    z, p, y = f32(logits, probs, onehot)
    np.testing.assert_allclose(losses.categorical_crossentropy(y, z, from_logits=True), expected,
                               **TOL)
    np.testing.assert_allclose(losses.categorical_crossentropy(y, p), expected, rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(losses.sparse_categorical_crossentropy(labels, z,
                                                                      from_logits=True),
                               expected, **TOL)
    np.testing.assert_allclose(losses.sparse_categorical_crossentropy(labels[:, None], p),
                               expected, rtol=1e-5, atol=1e-5)
    smoothed = onehot * 0.9 + 0.1 / 5
    np.testing.assert_allclose(
        losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1,
                                       reduction="none")(y, z),
        -(smoothed * _log_softmax(logits)).sum(-1), **TOL)


def test_binary_crossentropy(rng):
    z = rng.normal(0, 3, (8, 1))
    y = rng.integers(0, 2, (8, 1)).astype(np.float64)
    expected = (np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))).mean(-1)
    zf, pf, yf = f32(z, 1 / (1 + np.exp(-z)), y)
    np.testing.assert_allclose(losses.binary_crossentropy(yf, zf, from_logits=True), expected,
                               **TOL)
    np.testing.assert_allclose(losses.binary_crossentropy(yf[:, 0], pf), expected, rtol=1e-4,
                               atol=1e-5)  # a missing trailing axis of 1 is added


def test_reductions_and_sample_weights(data):
    logits, _, _, _, target = data
    p, t = f32(logits, target)
    per = ((p - t) ** 2).mean(-1)
    w = np.linspace(0.5, 2, 6).astype(np.float32)
    np.testing.assert_allclose(losses.MeanSquaredError()(t, p), per.mean(), **TOL)
    np.testing.assert_allclose(losses.MeanSquaredError(reduction="sum")(t, p), per.sum(), **TOL)
    np.testing.assert_allclose(losses.MeanSquaredError(reduction="none")(t, p), per, **TOL)
    np.testing.assert_allclose(losses.MeanSquaredError()(t, p, sample_weight=w),
                               (per * w).mean(), **TOL)


def test_cross_entropy_of_a_softmax_output_is_stable_in_a_trace():
    """Logits of 1e4: the softmax saturates to exact 0/1, yet the loss traced after
    the model's softmax stays finite and equals the logits form."""
    z = np.array([[1e4, 0.0, -1e4], [0.0, 5e3, 0.0]], np.float32)
    labels = np.array([2, 0])

    def through_softmax(logits):
        return losses.SparseCategoricalCrossentropy()(labels, graphc.ops.softmax(logits))

    def from_logits(logits):
        return losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)

    a = graphc.value_and_grad(through_softmax, backend=INTERP)(z)
    b = graphc.value_and_grad(from_logits, backend=INTERP)(z)
    assert np.isfinite(a[0]) and np.all(np.isfinite(a[1]))
    np.testing.assert_allclose(a[0], b[0], rtol=1e-6)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(b[0], (2e4 + 5e3) / 2, rtol=1e-6)


def test_shape_mismatches_are_named():
    p = np.zeros((4, 10), np.float32)
    with pytest.raises(ShapeError, match=r"'categorical_crossentropy' needs targets shaped like "
                       r"the predictions \(4, 10\); received targets of shape \(4,\); integer "
                       r"class labels need 'sparse_categorical_crossentropy'"):
        losses.categorical_crossentropy(np.zeros(4, np.float32), p)
    with pytest.raises(ShapeError, match=r"labels of shape \(4,\) for predictions of shape "
                       r"\(4, 10\); received labels of shape \(4, 10\); one-hot targets need "
                       r"'categorical_crossentropy'"):
        losses.sparse_categorical_crossentropy(np.zeros((4, 10), np.int64), p)
    with pytest.raises(ShapeError, match="mean_squared_error"):
        losses.mean_squared_error(np.zeros((4, 3), np.float32), p)


def test_sparse_labels_out_of_range():
    p = np.full((3, 4), 0.25, np.float32)
    with pytest.raises(InputError, match=r"class labels in \[0, 4\); found 4 at index 2"):
        losses.sparse_categorical_crossentropy(np.array([0, 1, 4]), p)
    with pytest.raises(InputError, match="found -1 at index 0"):
        losses.sparse_categorical_crossentropy(np.array([-1, 1, 2]), p)

    def traced_labels(labels, probs):  # in a graph the check cannot raise: the loss is NaN
        return losses.SparseCategoricalCrossentropy()(labels, probs)

    value = graphc.function(traced_labels, backend=INTERP)(np.array([0, 7, 1]), p)
    assert np.isnan(value)


def test_get_resolves_names_objects_and_functions():
    assert isinstance(losses.get("mse"), losses.MeanSquaredError)
    assert losses.get("mse").name == "mse"
    assert isinstance(losses.get("SparseCategoricalCrossentropy"),
                      losses.SparseCategoricalCrossentropy)
    assert isinstance(losses.get(losses.huber), losses.Huber)
    custom = losses.get(lambda t, p: graphc.ops.abs(p - t))
    assert isinstance(custom, losses.Loss)
    with pytest.raises(FrontendError, match="unknown loss 'msee'; known losses"):
        losses.get("msee")
    with pytest.raises(FrontendError, match="reduction must be one of"):
        losses.MeanSquaredError(reduction="avg")
    with pytest.raises(FrontendError, match="takes the options"):
        losses.Huber(alpha=1.0)
    assert losses.Huber(delta=2.0).get_config() == {"name": "huber",
                                                    "reduction": "sum_over_batch_size",
                                                    "delta": 2.0}
