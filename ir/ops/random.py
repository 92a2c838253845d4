"""``random_uniform``: counter-based random numbers, a pure function of a key.

``random_uniform(key, like) {dtype = f32}`` has the shape of ``like`` (whose
values are never read: it only carries the shape, so symbolic dims bind at
run time and the op fuses with its neighbours) and fills it with numbers in
``[0, 1)``.  Element ``i`` (its C-order position in the result) is a hash of
``(key, i)``, so the op is pure: the same key gives the same numbers on every
backend, bit for bit, and CSE may merge two draws with equal operands.
Randomness is therefore an explicit input of a graph (the key, an ``i64``
scalar), never hidden state.

The hash works on 32-bit words held in int64 so every product stays below
2**63 (no overflow anywhere, identical in numpy and in compiled code)::

    mix(x)  = x ^= x >> 16; x = x * 0x21F0AAAD & M; x ^= x >> 15;
              x = x * 0x735A2D97 & M; x ^= x >> 15          (M = 2**32 - 1)
    k1 = mix(lo(key) ^ mix(hi(key)))        k2 = mix(k1 ^ 0x9E3779B9)
    h  = mix((mix(lo(i) ^ k1) + hi(i) + k2) & M)
    u  = (h >> 8) * 2**-24                  (24 bits: exact in f32 and f64)

``lo``/``hi`` are the low and high 32-bit words (``hi`` by arithmetic shift,
then masked).  The backends must reproduce exactly this sequence; the numba
lowering calls ``mathlib.random_uniform_f32`` with the same steps.

Not differentiable: the numbers do not depend on the *values* of ``like``.
"""

from __future__ import annotations

import numpy as np

from graphc.errors import ShapeError

from ..attrs import DTYPE, AttrSpec
from ..dtypes import DType
from ..opdef import FusionKind, OpDef, define_ops
from ..types import TensorType
from .common import require_dtype

MASK32 = 0xFFFFFFFF
MIX_MUL1 = 0x21F0AAAD
MIX_MUL2 = 0x735A2D97
KEY_SALT = 0x9E3779B9
UNIT = 2.0 ** -24


def mix32(x: np.ndarray | int) -> np.ndarray | int:
    """The 32-bit finaliser on values in ``[0, 2**32)`` (int64 arrays or ints)."""
    x = x ^ (x >> 16)
    x = (x * MIX_MUL1) & MASK32
    x = x ^ (x >> 15)
    x = (x * MIX_MUL2) & MASK32
    return x ^ (x >> 15)


def key_words(key: int) -> tuple[int, int]:
    """``(k1, k2)`` of the module docstring for an int64 ``key``."""
    key = int(key)
    k1 = mix32((key & MASK32) ^ mix32((key >> 32) & MASK32))
    return k1, mix32(k1 ^ KEY_SALT)


def uniform_bits(key: int, count: int) -> np.ndarray:
    """The 24-bit integers ``h >> 8`` for positions ``0 .. count-1`` (int64)."""
    k1, k2 = key_words(key)
    i = np.arange(count, dtype=np.int64)
    h = mix32((mix32((i & MASK32) ^ k1) + ((i >> 32) & MASK32) + k2) & MASK32)
    return h >> 8


def _infer(key: TensorType, like: TensorType, *, dtype: object) -> TensorType:
    if key.dtype.short != "i64" or key.rank != 0:
        raise ShapeError(f"op 'random_uniform' needs an i64[] key, received {key}")
    out = like.with_dtype(dtype)
    require_dtype("random_uniform", out, "float", "a result dtype")
    if out.dtype.short == "f16":
        raise ShapeError("op 'random_uniform' draws f32 or f64 numbers (24 random bits); "
                         "received dtype f16: draw f32 and cast")
    return out


def _reference(key: np.ndarray, like: np.ndarray, *, dtype: object) -> np.ndarray:
    out = TensorType(dtype, ()).dtype.numpy
    bits = uniform_bits(int(key), like.size)
    return (bits.astype(out) * out.type(UNIT)).reshape(like.shape)


define_ops([
    OpDef(name="random_uniform", arity=2, input_names=("key", "like"),
          attrs=(AttrSpec("dtype", DTYPE, DType.f32),), infer=_infer, reference=_reference,
          fusion=FusionKind.BROADCAST, category="random", differentiable=False,
          doc="numbers in [0, 1) shaped like `like`, a counter-based hash of the i64 key"),
])
