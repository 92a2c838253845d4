"""``graphc.optimizers.schedules``: learning rate as a function of the step.

A schedule is evaluated on the host, once per optimizer step, with the
optimizer's iteration count *before* the step (Keras' convention); the value
reaches the compiled step as a scalar parameter, so a changing learning rate
never recompiles anything.  Formulas (``s`` = step):

===========================  ===================================================
ExponentialDecay             ``lr0 * rate ** (s / decay_steps)`` (floored with
                             ``staircase``)
InverseTimeDecay             ``lr0 / (1 + rate * s / decay_steps)`` (idem)
PiecewiseConstantDecay       ``values[i]`` for the first boundary ``s <= b[i]``
PolynomialDecay              ``(lr0 - end) * (1 - s/decay_steps) ** power + end``
CosineDecay                  linear warmup to ``warmup_target`` over
                             ``warmup_steps``, then
                             ``peak * (alpha + (1-alpha) * (1 + cos(pi p)) / 2)``
===========================  ===================================================

Each has ``get_config``/``from_config``; ``serialize``/``deserialize`` give the
plain-data form an optimizer's config holds.
"""

from __future__ import annotations

import math
from typing import Any

from graphc.errors import FrontendError


class LearningRateSchedule:
    def __call__(self, step: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "LearningRateSchedule":
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _positive(owner: str, **values: Any) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise FrontendError(f"{owner}: {name} must be a positive number. Received: "
                                f"{name}={value!r}")


class ExponentialDecay(LearningRateSchedule):
    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False) -> None:
        _positive("ExponentialDecay", initial_learning_rate=initial_learning_rate,
                  decay_steps=decay_steps, decay_rate=decay_rate)
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps = decay_steps
        self.decay_rate = float(decay_rate)
        self.staircase = bool(staircase)

    def __call__(self, step: int) -> float:
        p = step / self.decay_steps
        return self.initial_learning_rate * self.decay_rate ** (math.floor(p) if self.staircase
                                                                 else p)

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase}


class InverseTimeDecay(ExponentialDecay):
    def __call__(self, step: int) -> float:
        p = step / self.decay_steps
        return self.initial_learning_rate / (1 + self.decay_rate * (math.floor(p) if self.staircase
                                                                    else p))


class PiecewiseConstantDecay(LearningRateSchedule):
    def __init__(self, boundaries: list[int], values: list[float]) -> None:
        if len(values) != len(boundaries) + 1:
            raise FrontendError(f"PiecewiseConstantDecay needs one more value than boundaries; "
                                f"received {len(boundaries)} boundaries and {len(values)} values")
        if list(boundaries) != sorted(boundaries):
            raise FrontendError(f"PiecewiseConstantDecay boundaries must increase. Received: "
                                f"{list(boundaries)}")
        self.boundaries = list(boundaries)
        self.values = [float(v) for v in values]

    def __call__(self, step: int) -> float:
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": self.boundaries, "values": self.values}


class PolynomialDecay(LearningRateSchedule):
    def __init__(self, initial_learning_rate: float, decay_steps: int,
                 end_learning_rate: float = 0.0001, power: float = 1.0) -> None:
        _positive("PolynomialDecay", initial_learning_rate=initial_learning_rate,
                  decay_steps=decay_steps)
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps = decay_steps
        self.end_learning_rate = float(end_learning_rate)
        self.power = float(power)

    def __call__(self, step: int) -> float:
        frac = 1 - min(step, self.decay_steps) / self.decay_steps
        return (self.initial_learning_rate - self.end_learning_rate) * frac ** self.power + \
            self.end_learning_rate

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power}


class CosineDecay(LearningRateSchedule):
    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0,
                 warmup_target: float | None = None, warmup_steps: int = 0) -> None:
        _positive("CosineDecay", decay_steps=decay_steps)
        if isinstance(initial_learning_rate, bool) or not isinstance(
                initial_learning_rate, (int, float)) or initial_learning_rate < 0:
            raise FrontendError(f"CosineDecay: initial_learning_rate must be a non-negative "
                                f"number (0 with warmup). Received: {initial_learning_rate!r}")
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps = decay_steps
        self.alpha = float(alpha)
        self.warmup_target = None if warmup_target is None else float(warmup_target)
        self.warmup_steps = int(warmup_steps)

    def __call__(self, step: int) -> float:
        peak = self.warmup_target if self.warmup_target is not None else \
            self.initial_learning_rate
        if step < self.warmup_steps:
            return self.initial_learning_rate + (peak - self.initial_learning_rate) * \
                step / self.warmup_steps
        p = min(step - self.warmup_steps, self.decay_steps) / self.decay_steps
        return peak * (self.alpha + (1 - self.alpha) * 0.5 * (1 + math.cos(math.pi * p)))

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


SCHEDULES = {cls.__name__: cls for cls in (ExponentialDecay, InverseTimeDecay,
                                           PiecewiseConstantDecay, PolynomialDecay, CosineDecay)}


def serialize(schedule: LearningRateSchedule) -> dict[str, Any]:
    """``{"schedule": <class name>, "config": {...}}`` -- plain JSON data (no
    ``class_name`` key, so a model file stores it as data, not as an object)."""
    return {"schedule": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config: dict[str, Any]) -> LearningRateSchedule:
    name = config.get("schedule", config.get("class_name"))
    if name not in SCHEDULES:
        raise FrontendError(f"unknown learning-rate schedule {name!r}; known: "
                            f"{', '.join(sorted(SCHEDULES))}")
    return SCHEDULES[name].from_config(dict(config.get("config", {})))
