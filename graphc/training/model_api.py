"""``TrainingMixin``: the training methods of ``graphc.Model``.

``Model`` inherits this mixin (one base class in ``models/model.py``), so
every model -- Functional, Sequential, nested -- gets Keras' training API:
``compile``, ``fit``, ``evaluate``, ``train_on_batch``, ``test_on_batch``,
``predict_on_batch``, and the attributes ``optimizer``, ``metrics_names``,
``history``, ``stop_training`` and ``compiled_train_step`` (the compiled step of the
last ``fit``).  The loops live in ``trainer.py``.

It also routes *calls on data* that training needs:

* inside a ``GradientTape`` or ``graphc.function`` (an active
  ``StagedTracer``), ``model(x)`` on host arrays records the model into that
  trace (``x`` becomes a parameter) instead of running it, and returns
  tensors of the trace;
* outside any trace, ``model(x, training=True)`` runs the training-mode
  forward pass (Dropout active, keys from ``graphc.random``'s default
  generator) and returns arrays;
* on tensors of a trace, ``training=`` sets the trace's mode for the call.

Everything else goes to ``Layer.__call__`` unchanged.
"""

from __future__ import annotations

from typing import Any

from ..structure import flatten, pack_like
from ..tensor import SymbolicTensor
from ..tracing import Traced


class TrainingMixin:
    _training_config: Any = None
    history: Any = None
    stop_training: bool = False
    compiled_train_step: Any = None

    # routing calls ------------------------------------------------------------------
    def __call__(self, inputs: Any, **kwargs: Any) -> Any:
        leaves = flatten(inputs)
        training = kwargs.get("training")
        if leaves and not any(isinstance(x, SymbolicTensor) for x in leaves):
            traced = [x for x in leaves if isinstance(x, Traced)]
            if traced:
                tracer = traced[0].tracer
                saved = tracer.training
                if training is not None:
                    tracer.training = bool(training)
                try:
                    return super().__call__(inputs, **kwargs)  # type: ignore[misc]
                finally:
                    tracer.training = saved
            from .staging import active_tracer
            tracer = active_tracer()
            if tracer is not None or training:
                return self._call_on_data(tracer, inputs, bool(training))
        return super().__call__(inputs, **kwargs)  # type: ignore[misc]

    def _call_on_data(self, tracer: Any, inputs: Any, training: bool) -> Any:
        from ..models.inputs import convert_arrays, match_inputs
        from .staging import StagedTracer
        if hasattr(self, "_build_from_data"):
            self._build_from_data(inputs)
        arrays = convert_arrays(self, match_inputs(self, inputs), any_batch=True)
        own = tracer is None
        if own:
            tracer = StagedTracer(f"{self.name}_training", training=True, eager=True)
        values = [tracer.lift(a, name) for a, name in zip(arrays, self.input_names)]
        with tracer.training_mode(training):
            out = self._trace(tracer, values, {})
        if not own:
            return out
        leaves = flatten(out)
        return pack_like(out, tracer.evaluate([v.value for v in leaves]))

    # Keras' training API ---------------------------------------------------------------
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Any = None,
                loss_weights: Any = None, *, backend: Any = None, passes: Any = ...) -> None:
        """Choose the optimizer, loss(es) and metrics; ``backend``/``passes`` default to
        ``graphc.compiled.DEFAULT_BACKEND`` / ``DEFAULT_PASSES``."""
        from .compile_config import TrainingConfig
        self._training_config = TrainingConfig(self, optimizer, loss, metrics, loss_weights,
                                               backend, passes)

    @property
    def optimizer(self) -> Any:
        config = self._training_config
        return None if config is None else config.optimizer

    @property
    def metrics_names(self) -> list[str]:
        config = self._training_config
        return [] if config is None or config._specs is None else config.log_names()

    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: Any = "auto", callbacks: Any = None, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: bool = True, initial_epoch: int = 0,
            validation_batch_size: int | None = None, validation_freq: int = 1,
            seed: Any = None, debug_nans: bool = False, sample_weight: Any = None,
            class_weight: Any = None) -> Any:
        """Train for ``epochs``; returns a ``History``.  ``seed`` (int or
        ``graphc.random.SeedGenerator``) fixes shuffling and dropout; ``debug_nans``
        locates the op that produced a non-finite loss; ``sample_weight`` (per
        sample, per output like ``y``) and ``class_weight`` (``{class: weight}``)
        weigh each sample's loss."""
        from .trainer import fit
        return fit(self, x, y, batch_size, epochs, verbose, callbacks, validation_split,
                   validation_data, shuffle, initial_epoch, validation_batch_size,
                   validation_freq, seed, debug_nans, sample_weight, class_weight)

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None,
                 verbose: Any = "auto", callbacks: Any = None, return_dict: bool = False,
                 sample_weight: Any = None) -> Any:
        """The loss (and metrics) on ``x``/``y``: a float, a list, or a dict."""
        from .trainer import evaluate
        return evaluate(self, x, y, batch_size, verbose, callbacks, return_dict, sample_weight)

    def train_on_batch(self, x: Any, y: Any, return_dict: bool = False,
                       sample_weight: Any = None, class_weight: Any = None) -> Any:
        from .trainer import train_on_batch
        return train_on_batch(self, x, y, return_dict, sample_weight, class_weight)

    def test_on_batch(self, x: Any, y: Any, return_dict: bool = False,
                      sample_weight: Any = None) -> Any:
        from .trainer import test_on_batch
        return test_on_batch(self, x, y, return_dict, sample_weight)

    def predict_on_batch(self, x: Any) -> Any:
        leaves = flatten(x)
        size = len(leaves[0]) if leaves and hasattr(leaves[0], "__len__") else None
        return self.predict(x, batch_size=max(size or 1, 1))  # type: ignore[attr-defined]
