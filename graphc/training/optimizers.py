"""``graphc.optimizers``: SGD, Adam, AdamW, RMSprop -- their updates are IR.

An optimizer's ``update_step(g, w, slots, lr, t)`` is written once with
``graphc.ops`` and emitted into whatever trace applies it: the train step of
``fit`` (so forward + loss + backward + update is one compiled Func), a
``graphc.function``, or the small cached program ``apply_gradients`` runs for
host-array gradients (the custom-loop style).

State lives on the host as ``Variable`` objects and never changes type:

* ``iterations`` -- an ``int64`` scalar, incremented by every applied step;
* slots -- per weight, one array per name in ``slot_names`` (zeros at
  ``build``), e.g. Adam's ``m`` and ``v``.

A step reads them as parameters and returns their new values, which the host
swaps in (no copies, see ``variables.py``).  The learning rate is evaluated
on the host (a float or a ``schedules`` object at ``iterations``) and passed
as an f64 scalar parameter (rounded once to each weight's dtype), so changing
it never recompiles.

**Saving hook** (for the model-file format): ``get_config()`` /
``from_config(config)`` describe the optimizer; ``variables()`` returns the
state arrays as ``[iterations, <slots of weight 0 in slot_names order>,
<slots of weight 1> ...]`` in the order of the weights given to ``build``;
``set_variables(arrays)`` restores them (it needs ``build(weights)`` first:
``optimizer.build(model.trainable_weights)``).

Keras formulas (``t`` = iterations + 1; weight decay, when set, is decoupled:
``w -= w * weight_decay * lr`` before the update; ``clipvalue``, ``clipnorm``
and ``global_clipnorm`` rescale gradients first).
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np

from graphc.errors import FrontendError

from .. import ops
from ..layers.weights import Weight
from ..tracing import Traced
from . import schedules
from .staging import StagedTracer, StagedProgram, active_tracer
from .variables import Variable


class Optimizer:
    slot_names: tuple[str, ...] = ()

    def __init__(self, learning_rate: Any = 0.001, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, name: str | None = None) -> None:
        self.name = name or type(self).__name__.lower()
        self.learning_rate = learning_rate
        for option, value in (("weight_decay", weight_decay), ("clipnorm", clipnorm),
                              ("clipvalue", clipvalue), ("global_clipnorm", global_clipnorm)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or value < 0):
                raise FrontendError(f"{type(self).__name__}: {option} must be a non-negative "
                                    f"number or None. Received: {option}={value!r}")
        if clipnorm is not None and global_clipnorm is not None:
            raise FrontendError(f"{type(self).__name__}: set clipnorm or global_clipnorm, not "
                                "both")
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.iterations = Variable(f"{self.name}/iterations", np.int64(0))
        self._weights: list[Any] = []
        self._slots: dict[Any, list[Variable]] = {}
        self._eager_programs: dict[tuple, StagedProgram] = {}

    # learning rate ------------------------------------------------------------
    @property
    def learning_rate(self) -> Any:
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        if isinstance(value, dict):  # a schedule as get_config() writes it
            value = schedules.deserialize(value)
        if isinstance(value, schedules.LearningRateSchedule) or callable(value):
            self._learning_rate = value
            return
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) \
                or not value > 0:
            raise FrontendError(f"{type(self).__name__}: learning_rate must be a positive "
                                f"number or a schedule. Received: {value!r}")
        self._learning_rate = float(value)

    def current_learning_rate(self) -> float:
        """The learning rate of the next step (schedules read ``iterations``)."""
        lr = self._learning_rate
        return float(lr(int(self.iterations.value)) if callable(lr) else lr)

    # state ----------------------------------------------------------------------
    def build(self, var_list: Iterable[Any]) -> None:
        """Create the slots of every weight in ``var_list`` not seen yet."""
        for w in var_list:
            if w in self._slots:
                continue
            if not isinstance(w, (Weight, Variable)):
                raise FrontendError(f"{type(self).__name__} updates weights (layer.weights, "
                                    f"model.trainable_weights); received {w!r}")
            self._weights.append(w)
            self._slots[w] = [Variable(f"{self.name}/{w.path}/{slot}",
                                       np.zeros(w.shape, dtype=w.type.dtype.numpy))
                              for slot in self.slot_names]

    def variables(self) -> list[np.ndarray]:
        """Copies of the state arrays (see the module doc for the order)."""
        out = [self.iterations.numpy()]
        for w in self._weights:
            out.extend(s.numpy() for s in self._slots[w])
        return out

    def slot_state(self) -> list[tuple[Any, str, np.ndarray]]:
        """``(weight, slot name, array copy)`` for every slot, in build order; with
        ``iterations`` this is the whole state, keyed so that a saved file can
        be matched to weights by identity rather than by position."""
        return [(w, slot, var.numpy()) for w in self._weights
                for slot, var in zip(self.slot_names, self._slots[w])]

    def set_slot(self, weight: Any, slot: str, array: Any) -> None:
        """Give ``weight``'s ``slot`` this value (building its slots if needed)."""
        if slot not in self.slot_names:
            raise FrontendError(f"{type(self).__name__} has no slot '{slot}'; its slots are "
                                f"{', '.join(self.slot_names) or 'none'}")
        self.build([weight])
        self._slots[weight][self.slot_names.index(slot)].assign(array)

    def set_variables(self, arrays: Sequence[Any]) -> None:
        targets = [self.iterations] + [s for w in self._weights for s in self._slots[w]]
        if len(arrays) != len(targets):
            raise FrontendError(f"{type(self).__name__}.set_variables expects {len(targets)} "
                                f"arrays (iterations + {len(self.slot_names)} slot(s) for each "
                                f"of {len(self._weights)} built weight(s)); received "
                                f"{len(arrays)}. Call build(model.trainable_weights) first")
        for target, array in zip(targets, arrays):
            target.assign(array)

    def get_config(self) -> dict[str, Any]:
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = schedules.serialize(lr)
        elif callable(lr):
            raise FrontendError(f"{type(self).__name__}: a learning rate given as a plain "
                                "function cannot be serialized; use a graphc.optimizers."
                                "schedules object")
        return {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "clipvalue": self.clipvalue,
                "global_clipnorm": self.global_clipnorm}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Optimizer":
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"])
        return cls(**config)

    # applying -------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Any]]) -> None:
        """One step.  Gradients that are tensors of an active trace (inside
        ``graphc.function``) emit the update into it; host arrays run a cached
        compiled update program."""
        pairs = [(g, w) for g, w in grads_and_vars if g is not None]
        if not pairs:
            raise FrontendError(f"{type(self).__name__}.apply_gradients received no gradients")
        grads, weights = [g for g, _ in pairs], [w for _, w in pairs]
        traced = [g for g in grads if isinstance(g, Traced)]
        if traced:
            tracer = active_tracer()
            if tracer is None or any(g.tracer is not tracer for g in traced):
                raise FrontendError("apply_gradients received traced gradients that do not "
                                    "belong to the function being traced")
            self.apply_in_trace(tracer, grads, weights)
            return
        self._apply_eagerly([np.asarray(g) for g in grads], weights)

    def _apply_eagerly(self, grads: list[np.ndarray], weights: list[Any]) -> None:
        for g, w in zip(grads, weights):
            if g.shape != w.shape:
                raise FrontendError(f"gradient for '{w.path}' has shape {g.shape}, the weight "
                                    f"has shape {w.shape}")
        key = tuple(id(w) for w in weights)
        program = self._eager_programs.get(key)
        if program is None:
            tracer = StagedTracer(f"{self.name}_apply")
            args = [tracer.arg(w.type, f"grad_{i}") for i, w in enumerate(weights)]
            self.apply_in_trace(tracer, args, weights)
            program = self._eager_programs[key] = tracer.finish([])
        program.run([g.astype(w.type.dtype.numpy, copy=False) for g, w in zip(grads, weights)])

    def apply_in_trace(self, tracer: StagedTracer, grads: Sequence[Any],
                       weights: Sequence[Any]) -> None:
        """Emit the update of ``weights`` by ``grads`` into ``tracer`` (state is
        read and written through the trace)."""
        self.build(weights)
        grads = [g if isinstance(g, Traced) else tracer.lift(np.asarray(g), "grad")
                 for g in grads]
        grads = self._clipped(grads)
        lr64 = tracer.host_value(self.iterations.type.with_dtype("f64"), "learning_rate",
                                 self.current_learning_rate)
        step = ops.add(tracer.read(self.iterations), 1)
        tracer.write(self.iterations, step)
        for g, w in zip(grads, weights):
            dtype = w.type.dtype.value
            lr = ops.cast(lr64, dtype)  # the learning rate rounded once, to the weight's dtype
            t = ops.cast(step, dtype)
            value = tracer.read(w)
            if self.weight_decay:
                value = ops.subtract(value, ops.multiply(ops.multiply(value, self.weight_decay),
                                                         lr))
            slots = [tracer.read(s) for s in self._slots[w]]
            new_value, new_slots = self.update_step(ops.cast(g, dtype), value, slots, lr, t)
            tracer.write(w, new_value)
            for slot, new in zip(self._slots[w], new_slots):
                tracer.write(slot, new)

    def _clipped(self, grads: list[Traced]) -> list[Traced]:
        if self.clipvalue is not None:
            grads = [ops.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        if self.clipnorm is not None:
            grads = [_scale_to_norm(g, ops.sqrt(ops.sum(ops.square(g))), self.clipnorm)
                     for g in grads]
        if self.global_clipnorm is not None:
            total = ops.sqrt(_sum_all([ops.sum(ops.square(ops.cast(g, "float32")))
                                       for g in grads]))
            grads = [_scale_to_norm(g, ops.cast(total, g.dtype.value), self.global_clipnorm)
                     for g in grads]
        return grads

    def update_step(self, g: Traced, w: Traced, slots: list[Traced], lr: Traced,
                    t: Traced) -> tuple[Traced, list[Traced]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} lr={self._learning_rate!r}>"


def _scale_to_norm(g: Traced, norm: Traced, limit: float) -> Traced:
    return ops.multiply(g, ops.divide(limit, ops.maximum(norm, limit)))


def _sum_all(values: list[Traced]) -> Traced:
    total = values[0]
    for v in values[1:]:
        total = ops.add(total, v)
    return total


def _unit_interval(owner: str, **values: Any) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
            raise FrontendError(f"{owner}: {name} must be in [0, 1). Received: {name}={value!r}")


class SGD(Optimizer):
    """``v = momentum v - lr g; w += v`` (nesterov: ``w += momentum v - lr g``)."""

    def __init__(self, learning_rate: Any = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 **kwargs: Any) -> None:
        _unit_interval("SGD", momentum=momentum)
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.slot_names = ("momentum",) if self.momentum else ()
        super().__init__(learning_rate, **kwargs)

    def update_step(self, g, w, slots, lr, t):
        if not self.momentum:
            return ops.subtract(w, ops.multiply(g, lr)), []
        velocity = ops.subtract(ops.multiply(slots[0], self.momentum), ops.multiply(g, lr))
        if self.nesterov:
            step = ops.subtract(ops.multiply(velocity, self.momentum), ops.multiply(g, lr))
            return ops.add(w, step), [velocity]
        return ops.add(w, velocity), [velocity]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """``m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2);
    w -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)``."""

    slot_names = ("m", "v")

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, **kwargs: Any) -> None:
        _unit_interval(type(self).__name__, beta_1=beta_1, beta_2=beta_2)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        super().__init__(learning_rate, **kwargs)

    def update_step(self, g, w, slots, lr, t):
        m, v = slots
        m = ops.add(m, ops.multiply(ops.subtract(g, m), 1.0 - self.beta_1))
        v = ops.add(v, ops.multiply(ops.subtract(ops.square(g), v), 1.0 - self.beta_2))
        correction = ops.divide(ops.sqrt(ops.subtract(1.0, ops.power(self.beta_2, t))),
                                ops.subtract(1.0, ops.power(self.beta_1, t)))
        alpha = ops.multiply(lr, correction)
        step = ops.divide(ops.multiply(m, alpha), ops.add(ops.sqrt(v), self.epsilon))
        return ops.subtract(w, step), [m, v]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.004, as Keras)."""

    def __init__(self, learning_rate: Any = 0.001, weight_decay: float = 0.004,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate, weight_decay=weight_decay, **kwargs)


class RMSprop(Optimizer):
    """``v = rho v + (1 - rho) g^2`` (centered: minus the squared mean gradient);
    ``w -= lr g / sqrt(v + eps)``, through a momentum slot when ``momentum > 0``."""

    def __init__(self, learning_rate: Any = 0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False, **kwargs: Any) -> None:
        _unit_interval("RMSprop", rho=rho, momentum=momentum)
        self.rho, self.momentum, self.epsilon = float(rho), float(momentum), float(epsilon)
        self.centered = bool(centered)
        self.slot_names = ("velocity",) + (("average_gradient",) if self.centered else ()) + \
            (("momentum",) if self.momentum else ())
        super().__init__(learning_rate, **kwargs)

    def update_step(self, g, w, slots, lr, t):
        rest = list(slots)
        velocity = ops.add(ops.multiply(rest.pop(0), self.rho),
                           ops.multiply(ops.square(g), 1.0 - self.rho))
        new_slots = [velocity]
        denominator = ops.add(velocity, self.epsilon)
        if self.centered:
            average = ops.add(ops.multiply(rest.pop(0), self.rho), ops.multiply(g, 1.0 - self.rho))
            new_slots.append(average)
            denominator = ops.subtract(denominator, ops.square(average))
        increment = ops.divide(ops.multiply(g, lr), ops.sqrt(denominator))
        if self.momentum:
            increment = ops.add(ops.multiply(rest.pop(0), self.momentum), increment)
            new_slots.append(increment)
        return ops.subtract(w, increment), new_slots

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


_BY_NAME = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop}


def get(identifier: Any) -> Optimizer:
    """An optimizer from a name (``"adam"``), a config dict
    (``{"class_name": "Adam", "config": {...}}``) or an instance (used as is)."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    if isinstance(identifier, dict) and str(identifier.get("class_name", "")).lower() in _BY_NAME:
        return _BY_NAME[identifier["class_name"].lower()].from_config(
            dict(identifier.get("config", {})))
    raise FrontendError(f"unknown optimizer {identifier!r}; expected an Optimizer or one of "
                        f"{', '.join(sorted(_BY_NAME))}")


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}
