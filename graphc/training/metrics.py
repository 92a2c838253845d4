"""``graphc.metrics``: metrics as batch statistics computed inside the graph.

A metric contributes ``stats(y_true, y_pred)``: a few *sums* over the batch
(IR, so a training step computes them in the same compiled Func as the
loss), and ``result_of(totals)``: the host turns the running totals into the
value shown.  Summing is what makes a metric exact over an epoch whatever the
batch sizes (mean metrics keep ``[sum, count]``; AUC keeps its confusion
counts per threshold).

As standalone objects they follow Keras: ``update_state(y_true, y_pred)``
(host arrays), ``result()``, ``reset_state()``.

``"accuracy"`` (or ``"acc"``) picks its variant from the shapes, as Keras
does: predictions with a last axis of 1 -> binary accuracy, integer labels
without the class axis -> sparse categorical accuracy, else categorical
accuracy.  ``Accuracy`` (the class) is exact equality.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from graphc.errors import FrontendError

from .. import ops
from ..naming import snake_case
from ..tracing import Traced
from .losses import dense_targets, sparse_targets
from .tensors import as_tensor, run_standalone


def _count(values: Traced) -> Traced:
    """The number of elements of ``values``, as a float sum (works for symbolic shapes)."""
    return ops.sum(ops.add(ops.multiply(values, 0.0), 1.0))


class Metric:
    """Base class: ``stats`` (IR sums) and ``result_of`` (host), see the module doc.
    ``stat_count`` is how many arrays ``stats`` returns."""

    stat_count = 2

    def __init__(self, name: str | None = None) -> None:
        self.name = name or snake_case(type(self).__name__)
        self._totals: list[np.ndarray] | None = None

    def stats(self, y_true: Traced, y_pred: Traced) -> list[Traced]:  # pragma: no cover
        raise NotImplementedError

    def result_of(self, totals: Sequence[np.ndarray]) -> float:  # pragma: no cover
        raise NotImplementedError

    # the Keras object API --------------------------------------------------------
    def update_state(self, y_true: Any, y_pred: Any) -> None:
        if isinstance(y_true, Traced) or isinstance(y_pred, Traced):
            raise FrontendError(f"metric '{self.name}'.update_state takes host arrays; inside "
                                "a trace use stats(y_true, y_pred)")
        self.add_totals(run_standalone(lambda t, p: list(self.stats(t, p)), y_true, y_pred))

    def add_totals(self, batch: Sequence[np.ndarray]) -> None:
        batch = [np.asarray(b, dtype=np.float64) for b in batch]
        self._totals = batch if self._totals is None else \
            [t + b for t, b in zip(self._totals, batch)]

    def result(self) -> float:
        if self._totals is None:
            return 0.0
        return self.result_of(self._totals)

    def reset_state(self) -> None:
        self._totals = None

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class MeanMetricWrapper(Metric):
    """The mean of a per-element function of ``(y_true, y_pred)``."""

    def __init__(self, fn: Callable[[Traced, Traced], Traced], name: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(name or getattr(fn, "__name__", "metric"))
        self.fn = fn
        self.fn_kwargs = kwargs

    def stats(self, y_true: Traced, y_pred: Traced) -> list[Traced]:
        values = self.fn(y_true, y_pred, **self.fn_kwargs)
        return [ops.sum(values), _count(values)]

    def result_of(self, totals: Sequence[np.ndarray]) -> float:
        total, count = float(totals[0]), float(totals[1])
        return total / count if count else 0.0

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self.fn_kwargs}


# ---------------------------------------------------------------- per-element functions

def _matches(a: Traced, b: Traced) -> Traced:
    return ops.cast(ops.equal(a, b), "float32")


def accuracy(y_true: Traced, y_pred: Traced) -> Traced:
    return _matches(dense_targets("accuracy", y_true, y_pred), y_pred)


def binary_accuracy(y_true: Traced, y_pred: Traced, threshold: float = 0.5) -> Traced:
    y_true = dense_targets("binary_accuracy", y_true, y_pred)
    predicted = ops.cast(ops.greater(y_pred, threshold), y_pred.dtype.value)
    return _matches(y_true, predicted)


def categorical_accuracy(y_true: Traced, y_pred: Traced) -> Traced:
    y_true = dense_targets("categorical_accuracy", y_true, y_pred)
    return _matches(ops.argmax(y_true, axis=-1), ops.argmax(y_pred, axis=-1))


def sparse_categorical_accuracy(y_true: Traced, y_pred: Traced) -> Traced:
    labels = ops.cast(sparse_targets("sparse_categorical_accuracy", y_true, y_pred), "int64")
    return _matches(labels, ops.argmax(y_pred, axis=-1))


def auto_accuracy(y_true: Traced, y_pred: Traced) -> Traced:
    """Keras' ``"accuracy"``: the variant the shapes call for."""
    pred = y_pred.type.shape
    if pred and pred[-1] == 1:
        return binary_accuracy(y_true, y_pred)
    true = y_true.type.shape
    if len(true) == len(pred) - 1 or (len(true) == len(pred) and true and true[-1] == 1):
        return sparse_categorical_accuracy(y_true, y_pred)
    return categorical_accuracy(y_true, y_pred)


def _squared_error(y_true: Traced, y_pred: Traced) -> Traced:
    return ops.square(ops.subtract(y_pred, dense_targets("mean_squared_error", y_true, y_pred)))


def _absolute_error(y_true: Traced, y_pred: Traced) -> Traced:
    return ops.abs(ops.subtract(y_pred, dense_targets("mean_absolute_error", y_true, y_pred)))


def _metric_class(class_name: str, fn: Callable[..., Traced], default_name: str,
                  **defaults: Any) -> type:
    def __init__(self: MeanMetricWrapper, name: str | None = None, **kwargs: Any) -> None:
        unknown = sorted(set(kwargs) - set(defaults))
        if unknown:
            raise FrontendError(f"{class_name} takes the options {sorted(defaults) or 'none'}; "
                                f"received {unknown}")
        MeanMetricWrapper.__init__(self, fn, name=name or default_name, **{**defaults, **kwargs})

    return type(class_name, (MeanMetricWrapper,), {
        "__init__": __init__, "__doc__": f"The mean of ``{default_name}`` over all samples."})


Accuracy = _metric_class("Accuracy", accuracy, "accuracy")
BinaryAccuracy = _metric_class("BinaryAccuracy", binary_accuracy, "binary_accuracy",
                               threshold=0.5)
CategoricalAccuracy = _metric_class("CategoricalAccuracy", categorical_accuracy,
                                    "categorical_accuracy")
SparseCategoricalAccuracy = _metric_class("SparseCategoricalAccuracy",
                                          sparse_categorical_accuracy,
                                          "sparse_categorical_accuracy")
MeanSquaredError = _metric_class("MeanSquaredError", _squared_error, "mean_squared_error")
MeanAbsoluteError = _metric_class("MeanAbsoluteError", _absolute_error, "mean_absolute_error")


EPS_AUC = 1e-7


class AUC(Metric):
    """Area under the ROC curve from confusion counts at ``num_thresholds``
    evenly spaced thresholds (Keras' thresholds; trapezoidal rule)."""

    stat_count = 4

    def __init__(self, num_thresholds: int = 200, name: str | None = None) -> None:
        super().__init__(name or "auc")
        if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, int) \
                or num_thresholds < 2:
            raise FrontendError(f"AUC: num_thresholds must be an int >= 2. Received: "
                                f"{num_thresholds!r}")
        self.num_thresholds = num_thresholds
        inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self.thresholds = np.array([-EPS_AUC] + inner + [1.0 + EPS_AUC], dtype=np.float32)

    def stats(self, y_true: Traced, y_pred: Traced) -> list[Traced]:
        y_true = dense_targets(self.name, y_true, y_pred)
        pred = ops.reshape(ops.cast(y_pred, "float32"), (-1, 1))
        positive = ops.reshape(ops.cast(y_true, "float32"), (-1, 1))
        tracer = pred.tracer
        thresholds = tracer.wrap(tracer.builder.constant(self.thresholds))
        above = ops.cast(ops.greater(pred, thresholds), "float32")
        true_pos = ops.sum(ops.multiply(above, positive), axis=0)
        false_pos = ops.sum(ops.multiply(above, ops.subtract(1.0, positive)), axis=0)
        return [true_pos, false_pos, ops.sum(positive), _count(positive)]

    def result_of(self, totals: Sequence[np.ndarray]) -> float:
        tp, fp, positives, count = totals
        negatives = float(count) - float(positives)
        if positives <= 0 or negatives <= 0:
            return 0.0
        tpr, fpr = tp / float(positives), fp / negatives
        return float(np.sum((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2.0))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_thresholds": self.num_thresholds}

_BY_NAME: dict[str, Callable[[], Metric]] = {
    "accuracy": lambda: MeanMetricWrapper(auto_accuracy, name="accuracy"),
    "acc": lambda: MeanMetricWrapper(auto_accuracy, name="acc"),
    "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "mean_squared_error": MeanSquaredError, "mse": lambda: MeanSquaredError(name="mse"),
    "mean_absolute_error": MeanAbsoluteError, "mae": lambda: MeanAbsoluteError(name="mae"),
    "auc": AUC,
}


def get(identifier: Any) -> Metric:
    """A ``Metric`` from a name, a Metric (used as is), a Metric class or a function
    ``fn(y_true, y_pred) -> per-element values`` (its mean is reported)."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        key = identifier if identifier in _BY_NAME else snake_case(identifier)
        if key in _BY_NAME:
            return _BY_NAME[key]()
        raise FrontendError(f"unknown metric {identifier!r}; known metrics: "
                            f"{', '.join(sorted(_BY_NAME))}")
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(_tensor_fn(identifier), name=getattr(identifier, "__name__",
                                                                      "metric"))
    raise FrontendError(f"cannot use {identifier!r} as a metric: expected a name, a Metric or "
                        "a function (y_true, y_pred) -> values")


def _tensor_fn(fn: Callable[..., Any]) -> Callable[[Traced, Traced], Traced]:
    def values(y_true: Traced, y_pred: Traced) -> Traced:
        out = fn(y_true, y_pred)
        return as_tensor(out, y_pred, "metric value")

    values.__name__ = getattr(fn, "__name__", "metric")
    return values
