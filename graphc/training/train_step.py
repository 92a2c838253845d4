"""The train step and the eval step: one Func each, compiled once.

``build_train_step(model, loss, optimizer)`` traces, into one
``StagedTracer``:

1. the model's forward pass with ``training=True`` (Dropout draws its masks
   from the step's ``rng_key`` parameter);
2. the loss of every output (``loss_weights`` combine them) and the metric
   statistics (batch sums, see ``metrics.py``);
3. the gradient of the total loss with respect to the trainable weights
   (``gradients.symbolic_gradient``: the autodiff transform);
4. the optimizer's update of every trainable weight and of its own state.

The result is a ``TrainStep`` around one ``StagedProgram`` whose Func has

* parameters: the model inputs, the targets, the per-sample loss weights
  (outputs trained with ``sample_weight``/``class_weight``), then (in order of first use)
  every weight, the random key (when something draws), the learning rate and
  the optimizer state; ``param_roles`` names the role of each;
* results: ``loss``, one loss per output when there are several, the metric
  statistics, then the new values of the trainable weights and optimizer
  state (``writes``).

``step(xs, ys)`` runs it once: the compiled Func is called once per batch and
the written arrays are swapped into the weights and slots.  The default
backend and pipeline are ``graphc.compiled.DEFAULT_BACKEND`` / ``DEFAULT_PASSES``.

For benchmarks: ``step = build_train_step(model, "sparse_categorical_crossentropy",
graphc.optimizers.Adam())``; ``step.module`` is the IR (before passes),
``step.arguments(xs, ys)`` every parameter's array, ``step.executable`` the
compiled form and ``step(xs, ys)`` one full training step.

``build_eval_step`` is the same without 3-4 and with ``training=False``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from graphc.errors import FrontendError, ShapeError

from .. import ops
from ..ir.core import Module
from ..ir.types import TensorType
from ..layers.weights import Weight
from ..structure import flatten
from ..tracing import Traced
from . import losses as losses_module
from . import metrics as metrics_module
from .gradients import symbolic_gradient
from .optimizers import get as get_optimizer
from .staging import (ArgSource, KeySource, StagedProgram, StagedTracer, ValueSource,
                      VarSource, activate)
from .variables import Variable


@dataclass
class OutputSpec:
    """What is trained against one model output."""

    name: str
    type: TensorType
    loss: losses_module.Loss | None
    weight: float
    metrics: list[metrics_module.Metric]


def target_type(spec: OutputSpec) -> TensorType | None:
    """The default target type of an output: labels for sparse losses, else the
    output's own type (None when the output is not trained)."""
    t = spec.type
    if spec.loss is None and not spec.metrics:
        return None
    if spec.loss is not None and spec.loss.sparse_labels:
        return TensorType("i64", t.shape[:-1])
    return t


def trace_model(tracer: StagedTracer, model: Any, inputs: list[Traced],
                training: bool) -> list[Traced]:
    """The model's outputs (flattened) traced into ``tracer``."""
    with tracer.training_mode(training):
        return flatten(model._trace(tracer, list(inputs), {}))


def _loss_and_stats(specs: Sequence[OutputSpec], ys: Sequence[Traced | None],
                    outputs: Sequence[Traced], ws: Sequence[Traced | None]
                    ) -> tuple[Traced, list[Traced], list[Traced]]:
    """The weighted total loss, each output's loss and the metric statistics;
    ``ws`` holds each output's per-sample loss weights (None: unweighted).
    Metrics are not weighted (``sample_weight`` weighs the loss, as in Keras)."""
    total = None
    per_output: list[Traced] = []
    stats: list[Traced] = []
    for spec, y, out, w in zip(specs, ys, outputs, ws):
        if y is None:
            continue
        try:
            value = spec.loss(y, out, sample_weight=w) if spec.loss is not None else None
            stats.extend(s for m in spec.metrics for s in m.stats(y, out))
        except ShapeError as exc:
            raise ShapeError(f"output '{spec.name}': {exc}") from None
        if value is not None:
            per_output.append(value)
            term = value if spec.weight == 1.0 else ops.multiply(value, spec.weight)
            total = term if total is None else ops.add(total, term)
    if total is None:
        raise FrontendError("compile() needs a loss for at least one output")
    return total, per_output, stats


class TrainStep:
    """A compiled train (or eval) step; see the module doc."""

    def __init__(self, program: StagedProgram, specs: list[OutputSpec], n_inputs: int,
                 n_losses: int, n_stats: int) -> None:
        self.program = program
        self.specs = specs
        self.n_inputs = n_inputs
        self.n_losses = n_losses
        self.n_stats = n_stats

    @property
    def module(self) -> Module:
        return self.program.module

    @property
    def executable(self) -> Any:
        return self.program.executable

    @property
    def param_roles(self) -> list[tuple[str, str]]:
        roles = []
        for param, source in zip(self.program.func.params, self.program.sources):
            if isinstance(source, ArgSource):
                role = "input" if source.index < self.n_inputs else "target"
            elif isinstance(source, KeySource):
                role = "rng_key"
            elif isinstance(source, ValueSource):
                role = "learning_rate"
            elif isinstance(source, VarSource) and isinstance(source.var, Weight):
                role = "weight"
            elif isinstance(source, VarSource) and isinstance(source.var, Variable):
                role = "optimizer_state"
            else:
                role = "data"
            roles.append((param.name or "", role))
        return roles

    @property
    def writes(self) -> list[str]:
        return [t.path for t in self.program.targets]

    def use_generator(self, generator: Any) -> None:
        """Draw this step's random keys from ``generator`` (a ``SeedGenerator``)."""
        for source in self.program.sources:
            if isinstance(source, KeySource):
                source.generator = generator

    def arguments(self, xs: Sequence[np.ndarray], ys: Sequence[np.ndarray]) -> list[np.ndarray]:
        return self.program.arguments(list(xs) + list(ys))

    def run(self, xs: Sequence[np.ndarray], ys: Sequence[np.ndarray], *, commit: bool = True):
        """``(loss, per-output losses, metric stats), pending writes``."""
        outs, pending = self.program.run(list(xs) + list(ys), commit=commit)
        loss = outs[0]
        per_output = outs[1:1 + self.n_losses] if self.n_losses > 1 else [loss]
        stats = outs[1 + (self.n_losses if self.n_losses > 1 else 0):]
        return (loss, per_output, stats), pending

    def __call__(self, xs: Sequence[np.ndarray], ys: Sequence[np.ndarray]) -> float:
        (loss, _, _), _ = self.run(xs, ys)
        return float(loss)


def _begin(model: Any, specs: Sequence[OutputSpec], name: str, training: bool,
           targets: Sequence[TensorType | None] | None, seed: Any, backend: Any,
           passes: Any, weighted: Sequence[bool] = ()
           ) -> tuple[StagedTracer, list[Traced], list[Traced | None], list[Traced | None]]:
    """A tracer with the step's data parameters: the inputs, the targets, then a
    float32 per-sample weight for each output ``weighted`` marks."""
    tracer = StagedTracer(name, training=training, seed=seed, backend=backend, passes=passes)
    xs = [tracer.arg(t.type, model.input_names[i]) for i, t in enumerate(model.graph.inputs)]
    types = list(targets) if targets is not None else [target_type(s) for s in specs]
    if len(types) != len(specs):
        raise FrontendError(f"{len(types)} target types given for {len(specs)} outputs")
    ys = [None if t is None else tracer.arg(t, f"target_{s.name}") for t, s in zip(types, specs)]
    batch = model.graph.inputs[0].type.shape[0] if model.graph.inputs else "N"
    flags = list(weighted) + [False] * (len(specs) - len(weighted))
    ws = [tracer.arg(TensorType("f32", (batch,)), f"sample_weight_{s.name}") if flag else None
          for s, flag in zip(specs, flags)]
    return tracer, xs, ys, ws


def build_train_step(model: Any, loss: Any = None, optimizer: Any = None,
                     metrics: Sequence[Any] = (), loss_weights: Any = None, *,
                     specs: list[OutputSpec] | None = None,
                     targets: Sequence[TensorType] | None = None, seed: Any = None,
                     backend: Any = None, passes: Any = ...,
                     weighted: Sequence[bool] = ()) -> TrainStep:
    """One compiled train step of ``model`` (see the module doc)."""
    from .compile_config import output_specs
    specs = specs if specs is not None else output_specs(model, loss, metrics, loss_weights)
    optimizer = get_optimizer(optimizer if optimizer is not None else "rmsprop")
    tracer, xs, ys, ws = _begin(model, specs, "train_step", True, targets, seed, backend,
                                passes, weighted)
    with activate(tracer):
        outputs = trace_model(tracer, model, xs, training=True)
        total, per_output, stats = _loss_and_stats(specs, ys, outputs, ws)
        weights = model.trainable_weights
        if not weights:
            raise FrontendError(f"model '{model.name}' has no trainable weights to train")
        grads = symbolic_gradient(tracer, total, [tracer.read(w) for w in weights])
        optimizer.apply_in_trace(tracer, grads, weights)
    results = [total] + (per_output if len(per_output) > 1 else []) + stats
    return TrainStep(tracer.finish(results, "train_step"), specs, len(xs), len(per_output),
                     len(stats))


def build_eval_step(model: Any, specs: list[OutputSpec], *,
                    targets: Sequence[TensorType] | None = None, backend: Any = None,
                    passes: Any = ..., weighted: Sequence[bool] = ()) -> TrainStep:
    """The loss and metric statistics of ``model`` in inference mode."""
    tracer, xs, ys, ws = _begin(model, specs, "eval_step", False, targets, None, backend,
                                passes, weighted)
    with activate(tracer):
        outputs = trace_model(tracer, model, xs, training=False)
        total, per_output, stats = _loss_and_stats(specs, ys, outputs, ws)
    results = [total] + (per_output if len(per_output) > 1 else []) + stats
    return TrainStep(tracer.finish(results, "eval_step"), specs, len(xs), len(per_output),
                     len(stats))
