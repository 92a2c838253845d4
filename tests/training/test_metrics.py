"""graphc.metrics against numpy (and scikit-learn for AUC); exact accumulation."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from graphc import metrics
from graphc.errors import FrontendError


def test_accuracy_variants(rng):
    probs = rng.random((40, 5)).astype(np.float32)
    labels = rng.integers(0, 5, 40)
    expected = float(np.mean(probs.argmax(-1) == labels))
    for name, y in (("sparse_categorical_accuracy", labels),
                    ("categorical_accuracy", np.eye(5)[labels]),
                    ("accuracy", labels), ("accuracy", np.eye(5)[labels])):
        m = metrics.get(name)
        m.update_state(y, probs)
        assert m.result() == pytest.approx(expected, abs=1e-7), name
    scores = rng.random((30, 1)).astype(np.float32)
    truth = rng.integers(0, 2, (30, 1))
    for m in (metrics.BinaryAccuracy(threshold=0.4), metrics.get("acc")):
        m.update_state(truth, scores)
        threshold = 0.4 if isinstance(m, metrics.BinaryAccuracy) else 0.5
        assert m.result() == pytest.approx(np.mean((scores > threshold) == truth), abs=1e-7)
    exact = metrics.Accuracy()
    exact.update_state(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.5, 3.0], np.float32))
    assert exact.result() == pytest.approx(2 / 3)


def test_mean_metrics_accumulate_exactly_over_uneven_batches(rng):
    y = rng.normal(size=(23, 3)).astype(np.float32)
    p = rng.normal(size=(23, 3)).astype(np.float32)
    mse, mae = metrics.get("mse"), metrics.MeanAbsoluteError()
    for start in (0, 10, 20):
        mse.update_state(y[start:start + 10], p[start:start + 10])
        mae.update_state(y[start:start + 10], p[start:start + 10])
    assert mse.name == "mse"
    assert mse.result() == pytest.approx(float(np.mean((y - p) ** 2)), rel=1e-6)
    assert mae.result() == pytest.approx(float(np.mean(np.abs(y - p))), rel=1e-6)
    mse.reset_state()
    assert mse.result() == 0.0


def test_auc_matches_scikit_learn(rng):
    truth = rng.integers(0, 2, (400, 1))
    scores = np.clip(truth * 0.35 + rng.random((400, 1)) * 0.65, 0, 1).astype(np.float32)
    auc = metrics.AUC(num_thresholds=1000)
    auc.update_state(truth[:150], scores[:150])
    auc.update_state(truth[150:], scores[150:])
    assert auc.result() == pytest.approx(roc_auc_score(truth, scores), abs=2e-3)


def test_get_and_errors():
    assert isinstance(metrics.get("auc"), metrics.AUC)
    assert metrics.get("CategoricalAccuracy").name == "categorical_accuracy"
    with pytest.raises(FrontendError, match="unknown metric 'acuracy'"):
        metrics.get("acuracy")
    with pytest.raises(FrontendError, match="num_thresholds must be an int >= 2"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(FrontendError, match="cannot use 3 as a metric"):
        metrics.get(3)
