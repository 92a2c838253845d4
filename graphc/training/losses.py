"""``graphc.losses``: Keras' losses, written once with ``graphc.ops``.

Each loss function maps ``(y_true, y_pred)`` to a per-sample loss (the last
axis reduced); a ``Loss`` object reduces that to a scalar
(``"sum_over_batch_size"``: the mean, ``"sum"``, or ``"none"``).  Inside a
trace they emit IR (so a training step differentiates them with the same
autodiff transform); on numpy arrays they are traced once and run by the
reference interpreter.

Numerical stability:

* cross-entropies ``from_logits`` use ``log_softmax`` / the softplus form
  ``relu(x) - x*z + log(1 + exp(-|x|))``, which never overflow;
* on probabilities, when the predictions were *computed in the same trace*
  by ``softmax`` (resp. ``sigmoid``) -- a model whose last layer has
  ``activation="softmax"`` -- the loss reads that op's input and uses the
  logits form; otherwise probabilities are clipped to ``[eps, 1 - eps]``
  (``eps = 1e-7``) as Keras does.

Checks (each a ``ShapeError`` naming the loss and both shapes): dense losses
need targets shaped like the predictions (a missing trailing axis of size 1
is added); ``sparse_categorical_crossentropy`` needs integer labels shaped
like the predictions without their class axis.  A label outside
``[0, classes)`` makes that sample's loss NaN inside the graph (a compiled
graph cannot raise), which ``fit`` reports; host data is checked before it
gets there (``check_sparse_labels``).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from graphc.errors import FrontendError, InputError, ShapeError

from .. import ops
from ..ir.types import format_shape
from ..naming import snake_case
from ..tracing import Traced
from .tensors import as_tensor, producer_op, run_standalone

EPSILON = 1e-7
REDUCTIONS = ("sum_over_batch_size", "sum", "none", None)


# ---------------------------------------------------------------- shape rules

def _dims_agree(a: Any, b: Any) -> bool:
    return not (isinstance(a, int) and isinstance(b, int) and a != b)


def _shapes_agree(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(_dims_agree(x, y) for x, y in zip(a, b))


def dense_targets(name: str, y_true: Traced, y_pred: Traced) -> Traced:
    """``y_true`` conformed to ``y_pred``'s shape and dtype, or a ShapeError."""
    t, p = y_true.type.shape, y_pred.type.shape
    if len(t) == len(p) - 1 and p and p[-1] == 1 and _shapes_agree(t, p[:-1]):
        y_true = ops.expand_dims(y_true, -1)
    elif not _shapes_agree(t, p):
        hint = ""
        if len(t) == len(p) - 1 and _shapes_agree(t, p[:-1]):
            hint = ("; integer class labels need 'sparse_categorical_crossentropy' (or "
                    "one-hot encoded targets)")
        raise ShapeError(f"loss '{name}' needs targets shaped like the predictions "
                         f"{format_shape(p)}; received targets of shape {format_shape(t)}{hint}")
    return ops.cast(y_true, y_pred.dtype.value) if y_true.dtype != y_pred.dtype else y_true


def sparse_targets(name: str, y_true: Traced, y_pred: Traced) -> Traced:
    """Integer labels shaped like ``y_pred`` without its class axis."""
    t, p = y_true.type.shape, y_pred.type.shape
    if not p:
        raise ShapeError(f"loss '{name}' needs predictions with a class axis; received a 0-d "
                         "tensor")
    if len(t) == len(p) and t[-1] == 1 and _shapes_agree(t[:-1], p[:-1]):
        y_true = ops.squeeze(y_true, -1)
    elif not _shapes_agree(t, p[:-1]):
        hint = ("; one-hot targets need 'categorical_crossentropy'"
                if _shapes_agree(t, p) else "")
        raise ShapeError(f"loss '{name}' needs integer labels of shape "
                         f"{format_shape(p[:-1])} for predictions of shape {format_shape(p)}; "
                         f"received labels of shape {format_shape(t)}{hint}")
    if not isinstance(p[-1], int):
        raise ShapeError(f"loss '{name}' needs a known number of classes; the predictions "
                         f"have shape {format_shape(p)}")
    return y_true if y_true.dtype.is_int else ops.cast(y_true, "int64")


def check_sparse_labels(name: str, labels: np.ndarray, classes: int, what: str) -> None:
    """Host-side range check of integer labels (fit, evaluate, standalone calls)."""
    if labels.size == 0:
        return
    bad = (labels < 0) | (labels >= classes)
    if labels.dtype.kind == "f":
        bad |= (labels != np.floor(labels))
    if np.any(bad):
        position = tuple(int(i) for i in np.argwhere(bad)[0])
        value = labels[position].item()
        index = position if len(position) > 1 else position[0]
        raise InputError(f"{what}: loss '{name}' needs class labels in [0, {classes}); "
                         f"found {value!r} at index {index}")


# ---------------------------------------------------------------- per-sample losses

def _logits_of(y_pred: Traced, op: str) -> Traced | None:
    """The input of ``op`` when ``y_pred`` was computed by it on the last axis."""
    node = producer_op(y_pred)
    if node is None or node.op.name != op:
        return None
    if op == "softmax" and node.attrs["axis"] % y_pred.ndim != y_pred.ndim - 1:
        return None
    return y_pred.tracer.wrap(node.inputs[0])


def _log_probs(y_pred: Traced, from_logits: bool) -> Traced:
    logits = y_pred if from_logits else _logits_of(y_pred, "softmax")
    if logits is not None:
        return ops.log_softmax(logits, axis=-1)
    probs = ops.divide(y_pred, ops.sum(y_pred, axis=-1, keepdims=True))
    return ops.log(ops.clip(probs, EPSILON, 1.0 - EPSILON))


def _mean_squared_error(y_true: Traced, y_pred: Traced) -> Traced:
    y_true = dense_targets("mean_squared_error", y_true, y_pred)
    return ops.mean(ops.square(ops.subtract(y_pred, y_true)), axis=-1)


def _mean_absolute_error(y_true: Traced, y_pred: Traced) -> Traced:
    y_true = dense_targets("mean_absolute_error", y_true, y_pred)
    return ops.mean(ops.abs(ops.subtract(y_pred, y_true)), axis=-1)


def _huber(y_true: Traced, y_pred: Traced, delta: float = 1.0) -> Traced:
    y_true = dense_targets("huber", y_true, y_pred)
    error = ops.abs(ops.subtract(y_pred, y_true))
    quadratic = ops.multiply(ops.square(error), 0.5)
    linear = ops.subtract(ops.multiply(error, delta), 0.5 * delta * delta)
    return ops.mean(ops.where(ops.less_equal(error, delta), quadratic, linear), axis=-1)


def _binary_crossentropy(y_true: Traced, y_pred: Traced, from_logits: bool = False,
                         label_smoothing: float = 0.0) -> Traced:
    y_true = dense_targets("binary_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = ops.add(ops.multiply(y_true, 1.0 - label_smoothing), 0.5 * label_smoothing)
    logits = y_pred if from_logits else _logits_of(y_pred, "sigmoid")
    if logits is not None:  # relu(x) - x z + log(1 + exp(-|x|))
        soft = ops.log(ops.add(ops.exp(ops.negative(ops.abs(logits))), 1.0))
        per = ops.add(ops.subtract(ops.relu(logits), ops.multiply(logits, y_true)), soft)
    else:
        p = ops.clip(y_pred, EPSILON, 1.0 - EPSILON)
        per = ops.negative(ops.add(ops.multiply(y_true, ops.log(p)),
                                   ops.multiply(ops.subtract(1.0, y_true),
                                                ops.log(ops.subtract(1.0, p)))))
    return ops.mean(per, axis=-1)


def _categorical_crossentropy(y_true: Traced, y_pred: Traced, from_logits: bool = False,
                              label_smoothing: float = 0.0) -> Traced:
    y_true = dense_targets("categorical_crossentropy", y_true, y_pred)
    if label_smoothing:
        classes = y_pred.type.shape[-1]
        y_true = ops.add(ops.multiply(y_true, 1.0 - label_smoothing),
                         label_smoothing / classes)
    return ops.negative(ops.sum(ops.multiply(y_true, _log_probs(y_pred, from_logits)), axis=-1))


def _sparse_categorical_crossentropy(y_true: Traced, y_pred: Traced,
                                     from_logits: bool = False) -> Traced:
    labels = sparse_targets("sparse_categorical_crossentropy", y_true, y_pred)
    classes = int(y_pred.type.shape[-1])
    tracer = y_pred.tracer
    class_ids = tracer.wrap(tracer.builder.constant(np.arange(classes, dtype=labels.dtype.numpy)))
    one_hot = ops.cast(ops.equal(ops.expand_dims(labels, -1), class_ids), y_pred.dtype.value)
    per = ops.negative(ops.sum(ops.multiply(one_hot, _log_probs(y_pred, from_logits)), axis=-1))
    valid = ops.equal(ops.sum(one_hot, axis=-1), 1.0)  # exactly one class matched
    return ops.where(valid, per, float("nan"))


def _public(fn: Callable[..., Traced], name: str) -> Callable[..., Any]:
    def loss(y_true: Any, y_pred: Any, **kwargs: Any) -> Any:
        return apply_loss(fn, name, y_true, y_pred, **kwargs)

    loss.__name__ = loss.__qualname__ = name
    loss.__doc__ = f"Per-sample ``{name}`` (the last axis reduced); see the module doc."
    return loss


def apply_loss(fn: Callable[..., Traced], name: str, y_true: Any, y_pred: Any,
               **kwargs: Any) -> Any:
    """Run a per-sample loss on tensors (emitting IR) or on host arrays."""
    if isinstance(y_pred, Traced) or isinstance(y_true, Traced):
        like = y_pred if isinstance(y_pred, Traced) else y_true
        if name == "sparse_categorical_crossentropy" and not isinstance(y_true, Traced):
            check_sparse_labels(name, np.asarray(y_true), int(like.type.shape[-1]), "labels")
        return fn(as_tensor(y_true, like, "y_true"), as_tensor(y_pred, like, "y_pred"),
                  **kwargs)
    y_pred = np.asarray(y_pred)
    if name == "sparse_categorical_crossentropy" and y_pred.ndim:
        check_sparse_labels(name, np.asarray(y_true), y_pred.shape[-1], "labels")
    return run_standalone(lambda t, p: fn(t, p, **kwargs), y_true, y_pred)


mean_squared_error = _public(_mean_squared_error, "mean_squared_error")
mean_absolute_error = _public(_mean_absolute_error, "mean_absolute_error")
huber = _public(_huber, "huber")
binary_crossentropy = _public(_binary_crossentropy, "binary_crossentropy")
categorical_crossentropy = _public(_categorical_crossentropy, "categorical_crossentropy")
sparse_categorical_crossentropy = _public(_sparse_categorical_crossentropy,
                                          "sparse_categorical_crossentropy")
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error


# ---------------------------------------------------------------- Loss objects

class Loss:
    """A loss with a reduction; ``loss(y_true, y_pred, sample_weight=None)``."""

    sparse_labels = False

    def __init__(self, name: str | None = None,
                 reduction: str | None = "sum_over_batch_size") -> None:
        if reduction not in REDUCTIONS:
            raise FrontendError(f"{type(self).__name__}: reduction must be one of "
                                f"'sum_over_batch_size', 'sum', 'none'. Received: {reduction!r}")
        self.name = name or snake_case(type(self).__name__)
        self.reduction = reduction

    def call(self, y_true: Any, y_pred: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        per_sample = self.call(y_true, y_pred)
        if sample_weight is not None:
            per_sample = ops.multiply(per_sample, _conform_weight(sample_weight, per_sample))
        if self.reduction in ("none", None):
            return per_sample
        if self.reduction == "sum":
            return ops.sum(per_sample)
        return ops.mean(per_sample)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Loss":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def _conform_weight(weight: Any, per_sample: Any) -> Any:
    if isinstance(per_sample, Traced):
        weight = as_tensor(weight, per_sample, "sample_weight")
        if weight.ndim > per_sample.ndim:
            weight = ops.squeeze(weight, -1)
        if 0 < weight.ndim < per_sample.ndim:     # (N,) weighs the samples of (N, T, ...)
            weight = ops.expand_dims(weight, list(range(weight.ndim, per_sample.ndim)))
        return weight
    weight = np.asarray(weight, dtype=np.asarray(per_sample).dtype)
    return weight.reshape(weight.shape[:np.ndim(per_sample)])


class LossFunctionWrapper(Loss):
    """A ``Loss`` around a per-sample function ``fn(y_true, y_pred, **kwargs)``."""

    def __init__(self, fn: Callable[..., Any], name: str | None = None,
                 reduction: str | None = "sum_over_batch_size", **kwargs: Any) -> None:
        super().__init__(name=name or getattr(fn, "__name__", "loss"), reduction=reduction)
        self.fn = fn
        self.fn_kwargs = kwargs

    def call(self, y_true: Any, y_pred: Any) -> Any:
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self.fn_kwargs}


def _loss_class(class_name: str, fn: Callable[..., Any], default_name: str,
                sparse: bool = False, **defaults: Any) -> type:
    def __init__(self: LossFunctionWrapper, *args: Any, name: str | None = None,
                 reduction: str | None = "sum_over_batch_size", **kwargs: Any) -> None:
        options = dict(defaults)
        for key, value in zip(defaults, args):
            options[key] = value
        unknown = sorted(set(kwargs) - set(defaults))
        if unknown or len(args) > len(defaults):
            raise FrontendError(f"{class_name} takes the options {sorted(defaults) or 'none'}; "
                                f"received {unknown or args}")
        options.update(kwargs)
        LossFunctionWrapper.__init__(self, fn, name=name or default_name, reduction=reduction,
                                     **options)

    return type(class_name, (LossFunctionWrapper,), {
        "__init__": __init__, "sparse_labels": sparse,
        "__doc__": f"``{default_name}`` with a reduction (options: {defaults or 'none'})."})


MeanSquaredError = _loss_class("MeanSquaredError", mean_squared_error, "mean_squared_error")
MeanAbsoluteError = _loss_class("MeanAbsoluteError", mean_absolute_error, "mean_absolute_error")
Huber = _loss_class("Huber", huber, "huber", delta=1.0)
BinaryCrossentropy = _loss_class("BinaryCrossentropy", binary_crossentropy,
                                 "binary_crossentropy", from_logits=False, label_smoothing=0.0)
CategoricalCrossentropy = _loss_class("CategoricalCrossentropy", categorical_crossentropy,
                                      "categorical_crossentropy", from_logits=False,
                                      label_smoothing=0.0)
SparseCategoricalCrossentropy = _loss_class(
    "SparseCategoricalCrossentropy", sparse_categorical_crossentropy,
    "sparse_categorical_crossentropy", sparse=True, from_logits=False)

_BY_NAME: dict[str, type] = {
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError, "huber": Huber,
    "binary_crossentropy": BinaryCrossentropy, "bce": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy, "cce": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}
_FUNCTIONS = {mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError,
              huber: Huber, binary_crossentropy: BinaryCrossentropy,
              categorical_crossentropy: CategoricalCrossentropy,
              sparse_categorical_crossentropy: SparseCategoricalCrossentropy}


def get(identifier: Any) -> Loss:
    """A ``Loss`` from a name (``"mse"``, ``"SparseCategoricalCrossentropy"``), a
    ``Loss``, a loss function of this module or any ``fn(y_true, y_pred)``."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        key = identifier if identifier in _BY_NAME else snake_case(identifier)
        if key in _BY_NAME:
            loss = _BY_NAME[key]()
            loss.name = identifier if identifier in _BY_NAME else loss.name
            return loss
        known = ", ".join(sorted(_BY_NAME))
        raise FrontendError(f"unknown loss {identifier!r}; known losses: {known}")
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier) and identifier in _FUNCTIONS:
        return _FUNCTIONS[identifier]()
    if callable(identifier):
        return LossFunctionWrapper(identifier)
    raise FrontendError(f"cannot use {identifier!r} as a loss: expected a name, a Loss or a "
                        "function (y_true, y_pred) -> per-sample loss")
