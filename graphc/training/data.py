"""Training data: matching ``x``/``y`` to a model, checking them, batching them.

``prepare(model, specs, x, y, what)`` returns a ``Dataset``:

* ``x`` is matched to the model inputs (single array, list, or dict keyed by
  input name) and converted to their dtypes (``models.inputs``);
* ``y`` is matched to the outputs that are trained (single array for one
  output, a list in output order, or a dict keyed by output name); targets
  of a sparse loss become ``int64`` labels (whole numbers only, in
  ``[0, classes)``), other targets take the output's dtype;
* every array must hold the same number of samples.

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

    def subset(self, index: Any) -> "Dataset":
        pick = (lambda a: np.ascontiguousarray(a[index])) if not isinstance(index, slice) \
            else (lambda a: a[index])
        xs = [pick(a) for a in self.xs]
        ys = [None if a is None else pick(a) for a in self.ys]
        return Dataset(xs, ys, len(xs[0]) if xs else 0)

    def split(self, fraction: float) -> tuple["Dataset", "Dataset"]:
        """(first part, last ``fraction``) -- Keras' ``validation_split``."""
        cut = int(self.count * (1.0 - fraction))
        if cut <= 0 or cut >= self.count:
            raise InputError(f"validation_split={fraction} of {self.count} samples leaves no "
                             "training or no validation data")
        return self.subset(slice(0, cut)), self.subset(slice(cut, self.count))

    def batches(self, batch_size: int) -> Iterator[tuple[list[np.ndarray], list[np.ndarray]]]:
        for start in range(0, self.count, batch_size):
            stop = min(start + batch_size, self.count)
            yield ([a[start:stop] for a in self.xs],
                   [a[start:stop] for a in self.ys if a is not None])

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


def prepare(model: Any, specs: Sequence[OutputSpec], x: Any, y: Any, what: str) -> Dataset:
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
    return Dataset(xs, ys, count)
