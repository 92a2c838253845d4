"""Weight initializers, Keras names and formulas, each seedable.

An initializer is called as ``init(shape, dtype)`` and returns a numpy array.
With ``seed=<int>`` it draws from ``numpy.random.default_rng(seed)`` afresh on
every call, so the same seed always gives the same weights; without a seed
every call draws new values.

Variance scaling (the glorot/he/lecun family) uses the fans of the shape:
``(in, out)`` for a matrix, and for higher ranks the leading dims are a
receptive field multiplying both (``(*field, in, out)``); a vector has
``fan_in = fan_out = len``.  With ``n`` = fan_in, fan_out or their mean:

* ``uniform``: U(-limit, limit), ``limit = sqrt(3 * scale / n)``;
* ``truncated_normal``: N(0, s) redrawn outside two standard deviations,
  ``s = sqrt(scale / n) / 0.8796...`` (the std of a unit normal truncated
  at +-2, so the result has variance ``scale / n``);
* ``untruncated_normal``: N(0, sqrt(scale / n)).

``get`` turns a name (``"he_normal"``, ``"HeNormal"``), an instance or a
callable into an initializer, and lists the known names otherwise.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from graphc.errors import FrontendError

from .ir.dtypes import dtype_of
from .naming import snake_case

TRUNCATED_NORMAL_STD = 0.87962566103423978  # std of N(0, 1) restricted to [-2, 2]


def compute_fans(shape: tuple[int, ...]) -> tuple[float, float]:
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    field = math.prod(shape[:-2])
    return float(shape[-2] * field), float(shape[-1] * field)


class Initializer:
    """Base class: ``__call__(shape, dtype) -> ndarray``."""

    def __init__(self, seed: int | None = None) -> None:
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise FrontendError(f"{type(self).__name__}: seed must be an int or None. "
                                f"Received: seed={seed!r}")
        self.seed = seed

    def _rng(self) -> np.random.Generator:
        return np.random.default_rng(self.seed)

    def sample(self, shape: tuple[int, ...]) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, shape: tuple[int, ...], dtype: object = "float32") -> np.ndarray:
        shape = tuple(int(d) for d in shape)
        return np.asarray(self.sample(shape)).astype(dtype_of(dtype).numpy)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    def sample(self, shape: tuple[int, ...]) -> np.ndarray:
        return np.zeros(shape)

    def get_config(self) -> dict[str, Any]:
        return {}


class Ones(Initializer):
    def sample(self, shape: tuple[int, ...]) -> np.ndarray:
        return np.ones(shape)

    def get_config(self) -> dict[str, Any]:
        return {}


class Constant(Initializer):
    def __init__(self, value: Any = 0.0) -> None:
        super().__init__()
        self.value = value

    def sample(self, shape: tuple[int, ...]) -> np.ndarray:
        try:
            return np.broadcast_to(np.asarray(self.value, dtype=np.float64), shape).copy()
        except ValueError:
            raise FrontendError(f"Constant initializer value of shape "
                                f"{np.shape(self.value)} cannot fill a weight of shape "
                                f"{shape}") from None

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value}


class RandomNormal(Initializer):
    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def sample(self, shape: tuple[int, ...]) -> np.ndarray:
        return self._rng().normal(self.mean, self.stddev, shape)

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    def __init__(self, minval: float = -0.05, maxval: float = 0.05,
                 seed: int | None = None) -> None:
        super().__init__(seed)
        self.minval, self.maxval = float(minval), float(maxval)

    def sample(self, shape: tuple[int, ...]) -> np.ndarray:
        return self._rng().uniform(self.minval, self.maxval, shape)

    def get_config(self) -> dict[str, Any]:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


def truncated_normal(rng: np.random.Generator, mean: float, stddev: float,
                     shape: tuple[int, ...]) -> np.ndarray:
    """N(mean, stddev) with every draw outside two stddevs redrawn."""
    z = rng.standard_normal(shape)
    outside = np.abs(z) > 2.0
    while outside.any():
        z[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(z) > 2.0
    return mean + stddev * z


class TruncatedNormal(RandomNormal):
    def sample(self, shape: tuple[int, ...]) -> np.ndarray:
        return truncated_normal(self._rng(), self.mean, self.stddev, shape)


class VarianceScaling(Initializer):
    MODES = ("fan_in", "fan_out", "fan_avg")
    DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale: float = 1.0, mode: str = "fan_in",
                 distribution: str = "truncated_normal", seed: int | None = None) -> None:
        super().__init__(seed)
        if not scale > 0:
            raise FrontendError(f"VarianceScaling: scale must be positive. Received: "
                                f"scale={scale!r}")
        if mode not in self.MODES:
            raise FrontendError(f"VarianceScaling: mode must be one of {', '.join(self.MODES)}."
                                f" Received: mode={mode!r}")
        if distribution not in self.DISTRIBUTIONS:
            raise FrontendError(f"VarianceScaling: distribution must be one of "
                                f"{', '.join(self.DISTRIBUTIONS)}. Received: "
                                f"distribution={distribution!r}")
        self.scale, self.mode, self.distribution = float(scale), mode, distribution

    def sample(self, shape: tuple[int, ...]) -> np.ndarray:
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        rng = self._rng()
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return rng.uniform(-limit, limit, shape)
        if self.distribution == "untruncated_normal":
            return rng.normal(0.0, math.sqrt(variance), shape)
        return truncated_normal(rng, 0.0, math.sqrt(variance) / TRUNCATED_NORMAL_STD, shape)

    def get_config(self) -> dict[str, Any]:
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}


def _scaling(name: str, scale: float, mode: str, distribution: str) -> type:
    def __init__(self: VarianceScaling, seed: int | None = None) -> None:
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self: VarianceScaling) -> dict[str, Any]:
        return {"seed": self.seed}

    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config,
                                           "__doc__": f"VarianceScaling(scale={scale}, "
                                                      f"mode={mode!r}, distribution="
                                                      f"{distribution!r})"})


GlorotUniform = _scaling("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _scaling("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _scaling("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _scaling("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _scaling("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _scaling("LecunNormal", 1.0, "fan_in", "truncated_normal")

BY_NAME: dict[str, type] = {
    "zeros": Zeros, "ones": Ones, "constant": Constant,
    "random_normal": RandomNormal, "normal": RandomNormal,
    "random_uniform": RandomUniform, "uniform": RandomUniform,
    "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
}


class _FromCallable(Initializer):
    def __init__(self, fn: Callable[..., Any]) -> None:
        super().__init__()
        self.fn = fn

    def sample(self, shape: tuple[int, ...]) -> np.ndarray:
        array = np.asarray(self.fn(shape, "float32"))
        if array.shape != shape:
            raise FrontendError(f"initializer {self.fn!r} returned shape {array.shape}, "
                                f"expected {shape}")
        return array


def get(identifier: Any) -> Initializer:
    """An initializer from a name, an instance, a class or a callable."""
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if isinstance(identifier, str):
        key = snake_case(identifier) if identifier[:1].isupper() else identifier
        if key in BY_NAME:
            return BY_NAME[key]()
        raise FrontendError(f"unknown initializer {identifier!r}; known initializers: "
                            f"{', '.join(sorted(BY_NAME))}")
    if callable(identifier):
        return _FromCallable(identifier)
    raise FrontendError(f"an initializer must be a name, an Initializer or a callable "
                        f"(shape, dtype) -> array. Received: {identifier!r}")
