"""Randomness as an explicit input: seed generators on the host, keys in the graph.

Every random number graphc draws inside a compiled graph comes from the
``random_uniform`` op, a pure, counter-based hash of an ``i64`` *key* and the
element's position (``graphc.ir.ops.random``).  A graph that needs
randomness therefore has a key *parameter*, and the host decides its value:

* ``SeedGenerator(seed)`` hands out keys, one per ``next_key()``:
  ``key_n = mix64(seed, n)``.  Two generators with the same seed give the
  same keys in the same order, so a seed reproduces a run bit for bit on the
  same backend (``fit(seed=...)`` and a ``GradientTape(seed=...)`` loop draw
  one key per training step).
* ``RandomStream`` lives in a trace: it holds the key parameter and gives
  each draw its own sub-key ``key + n`` (``n`` counts draws in trace order),
  so two Dropout layers never share a mask and re-tracing the same code draws
  the same numbers.  ``stream_of(tracer)`` finds a trace's stream; a plain
  ``Tracer`` (inference, model definition) has none, which is how Dropout
  knows it cannot be in training mode there.

``set_seed(seed)`` reseeds the process-wide ``default_generator()`` that
traces use when no generator is given (Keras' ``set_random_seed``); passing
a generator or a seed explicitly is always preferred.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import FrontendError

if TYPE_CHECKING:  # pragma: no cover
    from .tracing import Traced, Tracer

_MASK64 = (1 << 64) - 1


def _mix64(x: int) -> int:
    """splitmix64's finaliser on a 64-bit unsigned int."""
    x &= _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def _as_int64(x: int) -> int:
    return x - (1 << 64) if x >= 1 << 63 else x


def _check_seed(seed: Any, what: str) -> int:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise FrontendError(f"{what} must be an int (or None for a fresh random seed). "
                            f"Received: {seed!r}")
    return int(seed)


class SeedGenerator:
    """A host-side source of graph keys: ``next_key()`` -> a 0-d int64 array."""

    def __init__(self, seed: int | None = None) -> None:
        if seed is None:
            seed = int.from_bytes(os.urandom(8), "little") >> 1
        self.seed = _check_seed(seed, "SeedGenerator seed")
        self.count = 0

    def key(self, index: int) -> np.ndarray:
        """The ``index``-th key of this seed (stateless)."""
        mixed = _mix64(_mix64(self.seed & _MASK64) ^ _mix64(index + 0x9E3779B97F4A7C15))
        return np.array(_as_int64(mixed), dtype=np.int64)

    def next_key(self) -> np.ndarray:
        key = self.key(self.count)
        self.count += 1
        return key

    def numpy_rng(self, *salt: int) -> np.random.Generator:
        """A numpy Generator derived from this seed (shuffling, validation splits)."""
        return np.random.default_rng([self.seed & _MASK64, *salt])

    def __repr__(self) -> str:
        return f"SeedGenerator(seed={self.seed}, drawn={self.count})"


_DEFAULT: list[SeedGenerator] = [SeedGenerator()]


def default_generator() -> SeedGenerator:
    """The process-wide generator used when a trace is given none."""
    return _DEFAULT[0]


def set_seed(seed: int) -> None:
    """Reseed ``default_generator()`` (the Keras ``set_random_seed`` habit)."""
    _DEFAULT[0] = SeedGenerator(_check_seed(seed, "graphc.random.set_seed seed"))


def generator_from(seed: "int | SeedGenerator | None") -> SeedGenerator:
    """A generator from an int seed, a generator (used as is), or None (the default)."""
    if seed is None:
        return default_generator()
    if isinstance(seed, SeedGenerator):
        return seed
    return SeedGenerator(_check_seed(seed, "seed"))


class RandomStream:
    """The draws of one trace, all derived from one key parameter."""

    def __init__(self, key: "Traced") -> None:
        self.key = key
        self.draws = 0

    def uniform(self, like: "Traced", dtype: str = "f32") -> "Traced":
        """Numbers in [0, 1) shaped like ``like``, from this trace's next sub-key."""
        tracer = self.key.tracer
        sub = tracer.emit("add", self.key, tracer.constant(np.int64(self.draws), "i64"))
        self.draws += 1
        return tracer.emit("random_uniform", sub, like, dtype=dtype)


def stream_of(tracer: "Tracer") -> RandomStream | None:
    """The random stream of ``tracer`` (None for traces without randomness)."""
    return getattr(tracer, "random_stream", None)
