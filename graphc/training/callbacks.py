"""``graphc.callbacks``: hooks into ``fit``/``evaluate``, with Keras' names.

``Callback`` is the base class for user callbacks: override any of
``on_train_begin/end(logs)``, ``on_epoch_begin/end(epoch, logs)``,
``on_train_batch_begin/end(batch, logs)``, ``on_test_begin/end(logs)``,
``on_test_batch_begin/end(batch, logs)``.  ``self.model`` is the model being
trained and ``self.params`` holds ``epochs``, ``steps`` and ``verbose``;
setting ``model.stop_training = True`` ends training after the epoch.
``logs`` maps log names (``loss``, metric names, ``val_...``) to floats.

Built in: ``History`` (added to every ``fit``, which returns it),
``EarlyStopping``, ``ModelCheckpoint``, ``LearningRateScheduler`` and
``LambdaCallback``; the progress display is ``progress.ProgbarLogger``.

Checkpoints go through the model-file format (``graphc.saving``): a path
ending in ``.npz`` (or ``save_weights_only=True``) gets ``model.save_weights``
(weights keyed by path, read back by ``model.load_weights``), any other path
``model.save`` (architecture, weights and optimizer state).
"""

from __future__ import annotations

import math
import os
import warnings
from typing import Any, Callable, Iterable

import numpy as np

from graphc.errors import FrontendError


class Callback:
    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = dict(params)

    def on_train_begin(self, logs: dict | None = None) -> None: ...
    def on_train_end(self, logs: dict | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None: ...
    def on_test_begin(self, logs: dict | None = None) -> None: ...
    def on_test_end(self, logs: dict | None = None) -> None: ...
    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None: ...


_HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
          "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
          "on_test_batch_begin", "on_test_batch_end")


class CallbackList:
    """Calls every callback's hook in order."""

    def __init__(self, callbacks: Iterable[Callback], model: Any, params: dict) -> None:
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise FrontendError(f"callbacks must be graphc.callbacks.Callback instances; "
                                    f"received {cb!r}")
            cb.set_model(model)
            cb.set_params(params)

    def __getattr__(self, hook: str) -> Callable[..., None]:
        if hook not in _HOOKS:
            raise AttributeError(hook)

        indexed = hook.startswith(("on_epoch", "on_train_batch", "on_test_batch"))

        def call(*args: Any) -> None:
            if len(args) == (1 if indexed else 0):
                args = args + ({},)  # hooks always receive a logs dict, as in Keras
            for cb in self.callbacks:
                getattr(cb, hook)(*args)

        return call


class History(Callback):
    """Records the epoch logs: ``history.history["loss"]`` is one float per epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.epoch: list[int] = []
        self.history: dict[str, list[float]] = {}

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self


def _monitor_mode(monitor: str, mode: str, owner: str) -> Callable[[float, float], bool]:
    """``better(current, best)`` for ``mode`` (auto: max for accuracy/auc, else min)."""
    if mode not in ("auto", "min", "max"):
        raise FrontendError(f"{owner}: mode must be 'auto', 'min' or 'max'. Received: {mode!r}")
    if mode == "auto":
        mode = "max" if any(k in monitor for k in ("acc", "auc")) else "min"
    return (lambda a, b: a > b) if mode == "max" else (lambda a, b: a < b)


def _read_monitor(logs: dict | None, monitor: str, owner: str) -> float | None:
    value = (logs or {}).get(monitor)
    if value is None:
        warnings.warn(f"{owner} monitors '{monitor}', which is not among the logs "
                      f"({', '.join(sorted(logs or {})) or 'none'}); it does nothing this epoch",
                      stacklevel=3)
    return value


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience``
    epochs; ``restore_best_weights`` puts back the best epoch's weights."""

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False, start_from_epoch: int = 0) -> None:
        super().__init__()
        self.monitor = monitor
        self.min_delta = abs(float(min_delta))
        self.patience = int(patience)
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = int(start_from_epoch)
        self._better = _monitor_mode(monitor, mode, "EarlyStopping")
        self.stopped_epoch = 0

    def _improved(self, current: float, reference: float | None) -> bool:
        if reference is None:
            return True
        shift = self.min_delta if self._better(1.0, 0.0) else -self.min_delta
        return self._better(current - shift, reference)

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best: float | None = None
        self.best_weights: list[np.ndarray] | None = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        current = _read_monitor(logs, self.monitor, "EarlyStopping")
        if current is None or epoch < self.start_from_epoch:
            return
        self.wait += 1
        if not math.isnan(current) and self._improved(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._improved(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.stopped_epoch and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(Callback):
    """Save after every epoch (``save_best_only``: when ``monitor`` improves).
    ``filepath`` may use ``{epoch}`` and log names: ``"ckpt-{epoch:02d}.npz"``."""

    def __init__(self, filepath: str, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False,
                 mode: str = "auto", initial_value_threshold: float | None = None) -> None:
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self._better = _monitor_mode(monitor, mode, "ModelCheckpoint")
        self.best = initial_value_threshold

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = dict(logs or {})
        if self.save_best_only:
            current = _read_monitor(logs, self.monitor, "ModelCheckpoint")
            if current is None or (self.best is not None and not self._better(current, self.best)):
                return
            self.best = current
        try:
            path = self.filepath.format(epoch=epoch + 1, **logs)
        except (KeyError, ValueError, IndexError) as exc:
            raise FrontendError(f"ModelCheckpoint cannot format filepath {self.filepath!r} with "
                                f"epoch and logs {sorted(logs)}: {exc}") from None
        self._save(path)
        if self.verbose:
            print(f"Epoch {epoch + 1}: saved model to {path}")

    def _save(self, path: str) -> None:
        if path.endswith(".npz") or self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)


class LearningRateScheduler(Callback):
    """At each epoch start, ``optimizer.learning_rate = schedule(epoch, lr)``."""

    def __init__(self, schedule: Callable[[int, float], float], verbose: int = 0) -> None:
        super().__init__()
        if not callable(schedule):
            raise FrontendError(f"LearningRateScheduler needs a function (epoch, lr) -> lr. "
                                f"Received: {schedule!r}")
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        optimizer = self.model.optimizer
        if not isinstance(optimizer.learning_rate, float):
            raise FrontendError("LearningRateScheduler cannot be combined with an optimizer "
                                "whose learning_rate is a schedule")
        lr = self.schedule(epoch, optimizer.learning_rate)
        optimizer.learning_rate = float(lr)
        if self.verbose:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class LambdaCallback(Callback):
    """A callback from functions: ``LambdaCallback(on_epoch_end=lambda e, logs: ...)``."""

    def __init__(self, **hooks: Callable[..., None]) -> None:
        super().__init__()
        unknown = sorted(set(hooks) - set(_HOOKS))
        if unknown:
            raise FrontendError(f"LambdaCallback has no hook(s) {unknown}; hooks: {list(_HOOKS)}")
        for name, fn in hooks.items():
            setattr(self, name, fn)
