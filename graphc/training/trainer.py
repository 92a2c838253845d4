"""The loops behind ``fit``, ``evaluate``, ``train_on_batch`` and ``test_on_batch``.

``fit``: prepare and check the data (``data.prepare``), take the compiled
train step (``TrainingConfig.step``; compiled before the first epoch so
compile time never shows up in the progress bar), then per epoch: order the
samples (``data.epoch_order`` from the seed, when shuffling), run the step
once per batch, accumulate the logs, validate, and call the callbacks.

``sample_weight`` / ``class_weight`` weigh each sample's loss (``data.py``
turns them into per-sample weights, the step takes them as parameters); the
reported loss is then the weighted loss, metrics stay unweighted.

Logs are exact epoch averages: each batch's mean loss is weighted by its
number of samples, and metrics sum their batch statistics (``metrics.py``).

A non-finite loss stops training with ``NonFiniteLossError`` naming the
epoch and batch; the weights stay those *before* that batch (a step's writes
are committed only after its loss is checked).  With ``debug_nans=True`` the
message also names the first op that produced a non-finite value
(``debug.locate_nonfinite``, run on the interpreter with that batch's exact
arguments).

Randomness: ``seed`` (an int or a ``graphc.random.SeedGenerator``) drives the
shuffling and the step's random keys (one per step), so a seed reproduces a
run bit for bit on the same backend and from the same initial weights.
Without a seed, each ``fit`` draws a fresh generator from
``graphc.random.default_generator()`` (so ``graphc.random.set_seed`` makes a
sequence of fits reproducible).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from graphc.errors import FrontendError, GraphcError

from ..random import SeedGenerator, default_generator, generator_from
from .callbacks import CallbackList, History
from .compile_config import TrainingConfig
from .data import Dataset, check_batch_size, epoch_order, prepare
from .debug import locate_nonfinite
from .progress import ProgbarLogger, check_verbose
from .train_step import TrainStep


class NonFiniteLossError(GraphcError, FloatingPointError):
    """Training produced a NaN or infinite loss."""


class LogAccumulator:
    """Running epoch logs from per-batch step outputs."""

    def __init__(self, config: TrainingConfig, prefix: str = "") -> None:
        self.config = config
        self.prefix = prefix
        self.samples = 0
        self.losses: np.ndarray | None = None
        self.stats: list[np.ndarray] | None = None

    def add(self, count: int, losses: Sequence[np.ndarray], stats: Sequence[np.ndarray]) -> None:
        weighted = np.array([float(v) for v in losses]) * count
        self.losses = weighted if self.losses is None else self.losses + weighted
        batch = [np.asarray(s, dtype=np.float64) for s in stats]
        self.stats = batch if self.stats is None else [a + b for a, b in zip(self.stats, batch)]
        self.samples += count

    def logs(self) -> dict[str, float]:
        if self.losses is None:
            return {}
        values = list(self.losses / self.samples)
        stats = list(self.stats or [])
        for spec in self.config.specs:
            for metric in spec.metrics:
                width = metric.stat_count
                values.append(metric.result_of(stats[:width]))
                stats = stats[width:]
        names = self.config.log_names()
        return {self.prefix + n: float(v) for n, v in zip(names, values)}


def _require_config(model: Any, what: str, x: Any) -> TrainingConfig:
    config = getattr(model, "_training_config", None)
    if config is None:
        raise FrontendError(f"model '{model.name}' must be compiled before {what}: call "
                            "model.compile(optimizer=..., loss=..., metrics=[...])")
    if x is not None and hasattr(model, "_build_from_data"):
        model._build_from_data(x)  # a Sequential without an input shape builds from data
    config.resolve(model)
    return config


def _step_losses(step: TrainStep, loss: np.ndarray, per_output: list) -> list:
    return [loss] + (list(per_output) if step.n_losses > 1 else [])


def _nonfinite(step: TrainStep, loss: float, epoch: int, epochs: int, batch: int, steps: int,
               debug: bool) -> NonFiniteLossError:
    text = (f"fit stopped: the loss became {loss} at epoch {epoch + 1}/{epochs}, batch "
            f"{batch + 1}/{steps}; the weights are those before this batch.")
    if debug and step.program.last_args is not None:
        report = locate_nonfinite(step.program.func, step.program.last_args)
        text += f"\n{report}" if report is not None else \
            "\nthe interpreter found no non-finite value on this batch (the compiled " \
            "backend and the interpreter disagree: please report this)"
    else:
        text += " Pass debug_nans=True to fit to locate the first op that produced it."
    return NonFiniteLossError(text)


def run_eval(model: Any, config: TrainingConfig, data: Dataset, batch_size: int,
             callbacks: CallbackList | None, prefix: str = "") -> dict[str, float]:
    step = config.step(model, "eval", data.target_types(model), weighted=data.weighted)
    acc = LogAccumulator(config, prefix)
    if callbacks is not None:
        callbacks.on_test_begin()
    for b, (xs, ys) in enumerate(data.batches(batch_size)):
        if callbacks is not None:
            callbacks.on_test_batch_begin(b)
        (loss, per_output, stats), _ = step.run(xs, ys)
        acc.add(len(xs[0]), _step_losses(step, loss, per_output), stats)
        if callbacks is not None:
            callbacks.on_test_batch_end(b, acc.logs())
    logs = acc.logs()
    if callbacks is not None:
        callbacks.on_test_end(logs)
    return logs


def fit(model: Any, x: Any = None, y: Any = None, batch_size: int | None = None,
        epochs: int = 1, verbose: Any = "auto", callbacks: Sequence[Any] | None = None,
        validation_split: float = 0.0, validation_data: Any = None, shuffle: bool = True,
        initial_epoch: int = 0, validation_batch_size: int | None = None,
        validation_freq: int = 1, seed: int | SeedGenerator | None = None,
        debug_nans: bool = False, sample_weight: Any = None,
        class_weight: Any = None) -> History:
    config = _require_config(model, "fit", x)
    batch_size = check_batch_size(batch_size, "fit")
    verbose = check_verbose(verbose)
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise FrontendError(f"fit: epochs must be a non-negative int. Received: {epochs!r}")
    data = prepare(model, config.specs, x, y, "fit", sample_weight, class_weight)
    validation = None
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise FrontendError("fit: validation_data must be a tuple (x_val, y_val) or "
                                "(x_val, y_val, sample_weight_val)")
        validation = prepare(model, config.specs, validation_data[0], validation_data[1],
                             "fit validation_data",
                             validation_data[2] if len(validation_data) == 3 else None)
    elif validation_split:
        if not 0 < validation_split < 1:
            raise FrontendError(f"fit: validation_split must be in (0, 1). Received: "
                                f"{validation_split!r}")
        data, validation = data.split(validation_split)
    seeds = generator_from(seed) if seed is not None else \
        SeedGenerator(int(default_generator().next_key()))  # set_seed() reproduces it
    step = config.step(model, "train", data.target_types(model), seeds, data.weighted)
    step.executable  # noqa: B018 - compile now, not inside the first epoch's timing
    if validation is not None:
        config.step(model, "eval", validation.target_types(model),  # noqa: B018
                    weighted=validation.weighted).executable
    history = History()
    extra = [ProgbarLogger(verbose)] if verbose else []
    steps = data.steps(batch_size)
    cbs = CallbackList(list(callbacks or []) + extra + [history], model,
                       {"epochs": epochs, "steps": steps, "verbose": verbose})
    model.stop_training = False
    model.compiled_train_step = step
    cbs.on_train_begin()
    logs: dict[str, float] = {}
    for epoch in range(initial_epoch, epochs):
        cbs.on_epoch_begin(epoch)
        epoch_data = data.subset(epoch_order(data.count, seeds, epoch)) if shuffle else data
        acc = LogAccumulator(config)
        for b, (xs, ys) in enumerate(epoch_data.batches(batch_size)):
            cbs.on_train_batch_begin(b)
            (loss, per_output, stats), pending = step.run(xs, ys, commit=False)
            if not np.isfinite(loss):
                raise _nonfinite(step, float(loss), epoch, epochs, b, steps, debug_nans)
            pending.commit()
            acc.add(len(xs[0]), _step_losses(step, loss, per_output), stats)
            cbs.on_train_batch_end(b, acc.logs())
            if model.stop_training:     # a callback may stop in the middle of an epoch
                break
        logs = acc.logs()
        if validation is not None and (epoch + 1) % validation_freq == 0:
            logs.update(run_eval(model, config, validation,
                                 check_batch_size(validation_batch_size or batch_size, "fit"),
                                 None, prefix="val_"))
        cbs.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    cbs.on_train_end(logs)
    return history


def evaluate(model: Any, x: Any = None, y: Any = None, batch_size: int | None = None,
             verbose: Any = "auto", callbacks: Sequence[Any] | None = None,
             return_dict: bool = False, sample_weight: Any = None) -> Any:
    config = _require_config(model, "evaluate", x)
    check_verbose(verbose)
    data = prepare(model, config.specs, x, y, "evaluate", sample_weight)
    cbs = CallbackList(list(callbacks or []), model, {"verbose": verbose})
    logs = run_eval(model, config, data, check_batch_size(batch_size, "evaluate"), cbs)
    return logs if return_dict else _as_result(logs)


def _as_result(logs: dict[str, float]) -> Any:
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


def train_on_batch(model: Any, x: Any, y: Any, return_dict: bool = False,
                   sample_weight: Any = None, class_weight: Any = None) -> Any:
    """One training step on exactly this data (no shuffling, one batch)."""
    config = _require_config(model, "train_on_batch", x)
    data = prepare(model, config.specs, x, y, "train_on_batch", sample_weight, class_weight)
    step = config.step(model, "train", data.target_types(model), default_generator(),
                       data.weighted)
    acc = LogAccumulator(config)
    xs, ys = next(data.batches(data.count))
    (loss, per_output, stats), pending = step.run(xs, ys, commit=False)
    if not np.isfinite(loss):
        raise NonFiniteLossError(f"train_on_batch: the loss became {float(loss)}; the weights "
                                 "were not updated")
    pending.commit()
    acc.add(data.count, _step_losses(step, loss, per_output), stats)
    logs = acc.logs()
    return logs if return_dict else _as_result(logs)


def test_on_batch(model: Any, x: Any, y: Any, return_dict: bool = False,
                  sample_weight: Any = None) -> Any:
    config = _require_config(model, "test_on_batch", x)
    data = prepare(model, config.specs, x, y, "test_on_batch", sample_weight)
    logs = run_eval(model, config, data, data.count, None)
    return logs if return_dict else _as_result(logs)
