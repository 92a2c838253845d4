"""What ``model.compile(...)`` records, and the steps it builds on demand.

``output_specs`` spreads ``loss``, ``loss_weights`` and ``metrics`` over the
model's outputs, Keras-style:

* a single loss (name, ``Loss`` or function) applies to every output; a list
  gives one per output in ``model.output_names`` order; a dict is keyed by
  output name (outputs it leaves out are not trained);
* ``loss_weights``: a list or a dict like the losses, default 1 each;
* metrics: a list applies to every output; a list of lists or a dict gives
  one list per output.

Log names: ``loss`` (the weighted total), and with several outputs
``<output>_loss`` per output and ``<output>_<metric>``; with one output just
``<metric>``.  Validation adds the prefix ``val_``.

``TrainingConfig`` keeps the compiled train/eval steps, keyed by the model's
structure, its trainable weights and the target types, so ``fit`` after
``fit`` reuses them and changing the model rebuilds them.
"""

from __future__ import annotations

from typing import Any, Sequence

from graphc.errors import FrontendError

from ..ir.types import TensorType
from . import losses as losses_module
from . import metrics as metrics_module
from .optimizers import Optimizer
from .optimizers import get as get_optimizer
from .train_step import OutputSpec, TrainStep, build_eval_step, build_train_step


def _per_output(value: Any, names: list[str], what: str, single: type | tuple) -> list[Any]:
    if value is None:
        return [None] * len(names)
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise FrontendError(f"compile() {what} names unknown output(s) {unknown}; the "
                                f"model's outputs are {names}")
        return [value.get(n) for n in names]
    if isinstance(value, (list, tuple)) and not isinstance(value, single):
        if len(value) != len(names):
            raise FrontendError(f"compile() received {len(value)} {what} for a model with "
                                f"{len(names)} output(s) {names}; give one per output (or a "
                                "dict keyed by output name)")
        return list(value)
    return [value] * len(names)


def _metrics_per_output(metrics: Any, names: list[str]) -> list[list[Any]]:
    if metrics is None:
        return [[] for _ in names]
    if isinstance(metrics, dict):
        return [_as_list(m) for m in _per_output(metrics, names, "metrics", ())]
    if not isinstance(metrics, (list, tuple)):
        raise FrontendError(f"compile() metrics must be a list (or a dict keyed by output "
                            f"name). Received: {metrics!r}")
    if metrics and all(isinstance(m, (list, tuple)) for m in metrics):
        return [_as_list(m) for m in _per_output(list(metrics), names, "metric lists", ())]
    return [list(metrics) for _ in names]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def output_specs(model: Any, loss: Any, metrics: Any = None,
                 loss_weights: Any = None) -> list[OutputSpec]:
    names = list(model.output_names)
    types: list[TensorType] = [t.type for t in model.outputs]
    if loss is None:
        raise FrontendError(f"compile() of model '{model.name}' needs a loss, e.g. "
                            "loss='sparse_categorical_crossentropy'")
    losses = [losses_module.get(x) if x is not None else None
              for x in _per_output(loss, names, "losses", ())]
    weights = _per_output(loss_weights, names, "loss_weights", ())
    specs = []
    for name, type_, loss_, weight, metric_list in zip(names, types, losses, weights,
                                                       _metrics_per_output(metrics, names)):
        if weight is None:
            weight = 1.0
        if isinstance(weight, bool) or not isinstance(weight, (int, float)):
            raise FrontendError(f"compile() loss_weights for output '{name}' must be a number. "
                                f"Received: {weight!r}")
        specs.append(OutputSpec(name, type_, loss_, float(weight),
                                [metrics_module.get(m) for m in metric_list]))
    if all(s.loss is None for s in specs):
        raise FrontendError(f"compile() of model '{model.name}' gives no loss to any of its "
                            f"outputs {names}")
    return specs


class TrainingConfig:
    """The state of ``model.compile``: optimizer, per-output specs, cached steps."""

    def __init__(self, model: Any, optimizer: Any, loss: Any, metrics: Any, loss_weights: Any,
                 backend: Any = None, passes: Any = ...) -> None:
        self.optimizer: Optimizer = get_optimizer(optimizer)
        self.loss, self.metrics, self.loss_weights = loss, metrics, loss_weights
        self.backend = backend
        self.passes = passes
        self._specs: list[OutputSpec] | None = None
        self._steps: dict[tuple, TrainStep] = {}
        if model.built:  # an unbuilt Sequential resolves its outputs at the first fit
            self.resolve(model)

    def resolve(self, model: Any) -> list[OutputSpec]:
        """The per-output specs (computed once the model's outputs are known)."""
        if self._specs is None:
            self._specs = output_specs(model, self.loss, self.metrics, self.loss_weights)
        return self._specs

    @property
    def specs(self) -> list[OutputSpec]:
        if self._specs is None:
            raise FrontendError("the model is not built yet: fit it on data (or build it) first")
        return self._specs

    @property
    def multi_output(self) -> bool:
        return len(self.specs) > 1

    def log_names(self) -> list[str]:
        """Names of the values a step reports, in its output order."""
        names = ["loss"]
        if sum(s.loss is not None for s in self.specs) > 1:
            names += [f"{s.name}_loss" for s in self.specs if s.loss is not None]
        for s in self.specs:
            names += [f"{s.name}_{m.name}" if self.multi_output else m.name for m in s.metrics]
        return names

    def step(self, model: Any, kind: str, targets: Sequence[TensorType],
             seed: Any = None, weighted: Sequence[bool] = ()) -> TrainStep:
        """The train (``kind="train"``) or eval step for targets of ``targets`` (and
        per-sample loss weights for the outputs ``weighted`` marks); a train step
        draws its random keys from the generator ``seed``."""
        weighted = tuple(weighted) if any(weighted) else ()
        key = (kind, model._structure_key(), tuple(id(w) for w in model.trainable_weights),
               tuple(targets), weighted)
        found = self._steps.get(key)
        if found is None:
            if kind == "train":
                found = build_train_step(model, optimizer=self.optimizer, specs=self.specs,
                                         targets=targets, backend=self.backend,
                                         passes=self.passes, weighted=weighted)
            else:
                found = build_eval_step(model, self.specs, targets=targets,
                                        backend=self.backend, passes=self.passes,
                                        weighted=weighted)
            self._steps[key] = found
        if seed is not None:
            found.use_generator(seed)
        return found
