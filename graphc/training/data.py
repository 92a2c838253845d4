"""Training data: matching ``x``/``y`` to a model, checking them, batching them.

``prepare(model, specs, x, y, what)`` returns a ``Dataset``:

* ``x`` is matched to the model inputs (single array, list, or dict keyed by
  input name) and converted to their dtypes (``models.inputs``);
* ``y`` is matched to the outputs that are trained (single array for one
  output, a list in output order, or a dict keyed by output name); targets
  of a sparse loss become ``int64`` labels (whole numbers only, in
  ``[0, classes)``), other targets take the output's dtype;
* every array must hold the same number of samples;
* ``sample_weight`` (one array of per-sample weights, or a list / dict by
  output name like ``y``) and ``class_weight`` (``{class index: weight}``,
  one trained output only: the class of a sample is its sparse label, the
  argmax of a one-hot target, or the rounded target of a single-unit
  output; classes not listed weigh 1) become one float32 weight per sample
  and trained output (``Dataset.weights``; their product when both are
  given).  Weights must be finite and non-negative.

Each failure is an ``InputError`` naming the argument (``fit`` / ``evaluate``),
the input or output, and what was expected.

Batching keeps the arrays C-contiguous (a shuffled epoch permutes every
array once, then batches are slices), so a compiled step never copies its
inputs.  ``epoch_order(count, seed, epoch)`` is the permutation ``fit`` uses
for an epoch; a custom training loop that wants ``fit``'s exact batches uses
it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np

from graphc.errors import FrontendError, InputError

from ..ir.types import TensorType, format_shape
from ..models.inputs import convert_arrays, match_inputs
from ..random import SeedGenerator
from .losses import check_sparse_labels
from .train_step import OutputSpec


@dataclass
class Dataset:
    xs: list[np.ndarray]
    ys: list[np.ndarray | None]   # one per output spec; None for outputs not trained
    count: int
    weights: list[np.ndarray | None] | None = None   # per output spec: sample weights

    def __post_init__(self) -> None:
        if self.weights is None:
            self.weights = [None] * len(self.ys)

    def subset(self, index: Any) -> "Dataset":
        pick = (lambda a: np.ascontiguousarray(a[index])) if not isinstance(index, slice) \
            else (lambda a: a[index])
        xs = [pick(a) for a in self.xs]
        ys = [None if a is None else pick(a) for a in self.ys]
        weights = [None if a is None else pick(a) for a in self.weights or []]
        return Dataset(xs, ys, len(xs[0]) if xs else 0, weights)

    @property
    def weighted(self) -> tuple[bool, ...]:
        """Per output spec: whether its loss is weighted per sample."""
        return tuple(w is not None for w in self.weights or [])

    def split(self, fraction: float) -> tuple["Dataset", "Dataset"]:
        """(first part, last ``fraction``) -- Keras' ``validation_split``."""
        cut = int(self.count * (1.0 - fraction))
        if cut <= 0 or cut >= self.count:
            raise InputError(f"validation_split={fraction} of {self.count} samples leaves no "
                             "training or no validation data")
        return self.subset(slice(0, cut)), self.subset(slice(cut, self.count))

    def batches(self, batch_size: int) -> Iterator[tuple[list[np.ndarray], list[np.ndarray]]]:
        """(inputs, targets then sample weights) per batch: the step's data arguments."""
        trained = [a for a in self.ys if a is not None] + \
            [a for a in self.weights or [] if a is not None]
        for start in range(0, self.count, batch_size):
            stop = min(start + batch_size, self.count)
            yield [a[start:stop] for a in self.xs], [a[start:stop] for a in trained]

    def steps(self, batch_size: int) -> int:
        return -(-self.count // batch_size)

    def target_types(self, model: Any) -> list[TensorType | None]:
        """The step's target parameter types: the data's dtype and sample shape with
        the model's batch dimension."""
        batch = model.graph.inputs[0].type.shape[0] if model.graph.inputs else "N"
        return [None if a is None else TensorType(a.dtype, (batch,) + a.shape[1:])
                for a in self.ys]


def epoch_order(count: int, seed: SeedGenerator, epoch: int) -> np.ndarray:
    """The sample order ``fit(shuffle=True)`` uses in ``epoch``."""
    return seed.numpy_rng(epoch).permutation(count)


def check_batch_size(batch_size: Any, what: str) -> int:
    if batch_size is None:
        return 32
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size <= 0:
        raise FrontendError(f"{what}: batch_size must be a positive int. Received: "
                            f"batch_size={batch_size!r}")
    return int(batch_size)


def _match_targets(specs: Sequence[OutputSpec], y: Any, what: str) -> list[Any]:
    wanted = [s for s in specs if s.loss is not None or s.metrics]
    names = [s.name for s in wanted]
    if y is None:
        raise InputError(f"{what} needs targets y for the output(s) {names}")
    if isinstance(y, dict):
        unknown = sorted(set(y) - {s.name for s in specs})
        if unknown:
            raise InputError(f"{what} received targets for unknown output(s) {unknown}; the "
                             f"model's outputs are {[s.name for s in specs]}")
        missing = [n for n in names if n not in y]
        if missing:
            raise InputError(f"{what} is missing targets for output(s) {missing}")
        given = [y[n] for n in names]
    elif isinstance(y, (list, tuple)) and len(wanted) > 1:
        if len(y) != len(wanted):
            raise InputError(f"{what} received {len(y)} target arrays for {len(wanted)} trained "
                             f"output(s) {names}; pass one per output (or a dict by name)")
        given = list(y)
    elif len(wanted) > 1:
        raise InputError(f"{what} needs one target array per trained output {names}; pass a "
                         "list or a dict keyed by output name")
    else:
        single = isinstance(y, (list, tuple)) and len(y) == 1 and isinstance(y[0], np.ndarray)
        given = [y[0] if single else y]
    found = iter(given)
    return [next(found) if (s.loss is not None or s.metrics) else None for s in specs]


def _target_array(spec: OutputSpec, value: Any, what: str) -> np.ndarray:
    label = f"{what}: targets for output '{spec.name}'"
    try:
        array = np.asarray(value)
    except Exception as exc:
        raise InputError(f"{label} could not be converted to an array: {exc}") from None
    if array.dtype.kind not in "biuf":
        raise InputError(f"{label} must be numbers; received dtype {array.dtype}")
    if array.ndim == 0:
        raise InputError(f"{label} need a sample axis; received a scalar")
    if spec.loss is not None and spec.loss.sparse_labels:
        classes = spec.type.shape[-1] if spec.type.rank else None
        if isinstance(classes, int):
            check_sparse_labels(spec.loss.name, array, classes, label)
        return np.ascontiguousarray(array.astype(np.int64))
    return np.ascontiguousarray(array.astype(spec.type.dtype.numpy))


def _per_output(specs: Sequence[OutputSpec], value: Any, what: str, arg: str) -> list[Any]:
    """``value`` matched to the trained outputs like ``y`` (one array, a list, a dict)."""
    wanted = [s for s in specs if s.loss is not None]
    if isinstance(value, dict):
        unknown = sorted(set(value) - {s.name for s in wanted})
        if unknown:
            raise InputError(f"{what}: {arg} names output(s) {unknown} that have no loss; "
                             f"the outputs with a loss are {[s.name for s in wanted]}")
        by_name = value
    elif isinstance(value, (list, tuple)) and len(wanted) > 1:
        if len(value) != len(wanted):
            raise InputError(f"{what}: {arg} holds {len(value)} arrays for {len(wanted)} "
                             f"outputs with a loss {[s.name for s in wanted]}")
        by_name = {s.name: v for s, v in zip(wanted, value)}
    elif len(wanted) > 1:
        raise InputError(f"{what}: {arg} needs one array per output with a loss "
                         f"{[s.name for s in wanted]}; pass a list or a dict keyed by name")
    else:
        by_name = {s.name: value for s in wanted}
    return [by_name.get(s.name) if s.loss is not None else None for s in specs]


def _weight_array(value: Any, count: int, label: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{label} must be numbers: {exc}") from None
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.shape != (count,):
        raise InputError(f"{label} must hold one weight per sample, shape ({count},); "
                         f"received shape {format_shape(array.shape)}")
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise InputError(f"{label} must be finite and non-negative")
    return array


def _sample_classes(spec: OutputSpec, y: np.ndarray) -> np.ndarray:
    if spec.loss is not None and spec.loss.sparse_labels:
        return y.reshape(len(y), -1)[:, 0]
    if y.ndim >= 2 and y.shape[-1] > 1:
        return np.argmax(y.reshape(len(y), -1), axis=-1)
    return np.rint(y.reshape(len(y), -1)[:, 0]).astype(np.int64)


def _class_weights(specs: Sequence[OutputSpec], ys: Sequence[np.ndarray | None],
                   class_weight: Any, what: str) -> list[np.ndarray | None]:
    if not isinstance(class_weight, dict) or not all(
            isinstance(k, (int, np.integer)) and not isinstance(k, bool) for k in class_weight):
        raise InputError(f"{what}: class_weight must be a dict {{class index: weight}}; "
                         f"received {class_weight!r}")
    trained = [i for i, s in enumerate(specs) if s.loss is not None]
    if len(trained) != 1:
        raise InputError(f"{what}: class_weight applies to a model with one output with a "
                         f"loss; this model has {len(trained)}: use sample_weight per output")
    index = trained[0]
    classes = _sample_classes(specs[index], ys[index])  # type: ignore[arg-type]
    table = {int(k): float(v) for k, v in class_weight.items()}
    weights = np.array([table.get(int(c), 1.0) for c in classes], dtype=np.float64)
    out: list[np.ndarray | None] = [None] * len(specs)
    out[index] = _weight_array(weights, len(weights), f"{what}: class_weight")
    return out


def _sample_weights(specs: Sequence[OutputSpec], ys: Sequence[np.ndarray | None], count: int,
                    sample_weight: Any, class_weight: Any,
                    what: str) -> list[np.ndarray | None]:
    weights: list[np.ndarray | None] = [None] * len(specs)
    if sample_weight is not None:
        given = _per_output(specs, sample_weight, what, "sample_weight")
        weights = [None if v is None else
                   _weight_array(v, count, f"{what}: sample_weight for output '{s.name}'")
                   for s, v in zip(specs, given)]
    if class_weight is not None:
        for i, w in enumerate(_class_weights(specs, ys, class_weight, what)):
            if w is not None:
                weights[i] = w if weights[i] is None else weights[i] * w
    return [None if w is None else np.ascontiguousarray(w, dtype=np.float32) for w in weights]


def prepare(model: Any, specs: Sequence[OutputSpec], x: Any, y: Any, what: str,
            sample_weight: Any = None, class_weight: Any = None) -> Dataset:
    if x is None:
        raise InputError(f"{what} needs input data x")
    label = f"{model.type_name} '{model.name}'"
    try:
        xs = convert_arrays(model, match_inputs(model, x), any_batch=True)
    except FrontendError as exc:
        raise InputError(f"{what}: {exc}") from None
    xs = [np.ascontiguousarray(a) for a in xs]
    ys = [None if v is None else _target_array(s, v, what)
          for s, v in zip(specs, _match_targets(specs, y, what))]
    counts = {f"input '{n}'": len(a) for n, a in zip(model.input_names, xs)}
    counts.update({f"targets '{s.name}'": len(a) for s, a in zip(specs, ys) if a is not None})
    if len(set(counts.values())) > 1:
        listed = ", ".join(f"{k} has {v}" for k, v in counts.items())
        raise InputError(f"{what}: x and y must hold the same number of samples; {listed}")
    count = next(iter(counts.values()))
    if count == 0:
        raise InputError(f"{what} received no samples ({label}, shapes "
                         f"{[format_shape(a.shape) for a in xs]})")
    return Dataset(xs, ys, count,
                   _sample_weights(specs, ys, count, sample_weight, class_weight, what))
