"""Scalar helpers that generated kernels call: vectorizable f32 math and
float16 storage conversion.

Why this exists: the llvmlite wheels carry no vector math library, so
``math.exp``/``math.tanh`` inside a loop become scalar libm calls and stop the
loop vectorizer (a fused ``gelu`` kernel ran ~30x slower that way).  The f32
functions below use only +, *, /, comparisons, selects and bit casts, which
LLVM vectorizes.  f64 kernels keep calling ``math.*`` (correctly rounded
enough, and f64 is not the fast path).

Algorithms (all evaluated in f32).  Errors against f64 references over
about a million float32 values spanning the whole range are asserted in
``tests/backends/numba/test_numba_mathlib.py``: exp 1 ulp, tanh 6 ulp, sigmoid
2 ulp, erf 1 ulp, erfc 64 ulp (1 - erf cancels just below 2), gelu (tanh
form) 2 ulp for x >= -0.5 and an absolute error below 2 ulp(1)|x| further
left (``1 + tanh`` cancels there, as in numpy's f32 formula), gelu (erf
form) 128 ulp (it uses erfc):

* ``exp_f32``: ``x = k*ln2 + r`` with ``k = round(x/ln2)`` (by adding and
  subtracting 1.5 * 2**23, which rounds in one step) and a two-part
  (Cody-Waite) ``ln2`` so ``r`` is exact to f32 precision, ``|r| <= ln2/2``;
  ``e**r`` by its degree-7 Taylor polynomial (truncation < 6e-9 relative);
  ``2**k`` applied as two exponent-field multiplies so results that are
  subnormal come out right.  Overflow gives inf, underflow 0, NaN stays NaN.
* ``tanh_f32``: a rational function ``x * P(x^2) / Q(x^2)`` with P and Q of
  degree 4, clamped to ``|x| <= 9`` and exactly +-1 beyond (tanh rounds to
  1 in f32 above 8.7).  No exp and no branches: 9 FMAs and one division.
  The coefficients were fitted for graphc by iteratively reweighted least
  squares on the linearized problem ``P(s) - (tanh(x)/x) Q(s) = 0`` over
  [0, 9] (Lawson weights, driving the relative error towards equioscillation:
  2.1e-8 in exact arithmetic), then rounded to f32.  Evaluated in f32 with
  FMA the error is at most 5.3 ulp (3.1e-7 relative, at |x| = 8.79, where
  P and Q are large; an exhaustive check over every float in [0, 10)) and
  0.04 ulp on average; numpy's f32 tanh is within ~1 ulp.
* ``sigmoid_f32``: ``e = exp(-|x|)``, then ``1/(1+e)`` or ``e/(1+e)`` by the
  sign of x (never overflows, no cancellation).
* ``erf_f32``: Maclaurin series (28 terms, Horner in f64 since its terms
  grow before they shrink) for ``|x| < 2``; for ``|x| >= 2``
  ``1 - erfc(|x|)`` with ``erfc(a) = exp(-a*a) * K(a) / sqrt(pi)`` where K is
  the classical continued fraction ``1/(a + (1/2)/(a + 1/(a + (3/2)/(a + ...``
  evaluated bottom-up at depth 40; 1 beyond 4 (erf rounds to 1).
  ``erfc_f32`` is exposed so exact gelu of negative inputs avoids the
  cancellation in ``1 + erf(x)``.
* float16: numba has no f16 type on the CPU, so f16 arrays reach kernels as
  their uint16 bit patterns.  ``f16_to_f32`` widens exactly;
  ``f32_to_f16`` rounds to nearest-even (subnormals, overflow to inf and
  NaN handled) -- the same result as numpy's ``astype(float16)``.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir as llir
from numba import njit, types
from numba.extending import intrinsic

_F = np.float32
# Out-of-line helpers use numba's own cache (next to this file, like .pyc
# files, or numba's user-wide cache directory): after the first compile on a
# machine, a cold graphc compile loads them instead of compiling them again
# (~0.3 s).  Small helpers are inlined into the kernel's own numba IR before
# typing instead: no separate compile, library and link per helper.
_JIT = dict(error_model="numpy", fastmath={"contract"}, cache=True)
_INLINE = dict(_JIT, inline="always", cache=False)


@intrinsic
def f32_bits(typingctx, x):
    """The IEEE bits of an f32 as an int32 (a free bit cast)."""
    if x != types.float32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llir.IntType(32))

    return types.int32(types.float32), codegen


@intrinsic
def bits_f32(typingctx, x):
    """The f32 whose IEEE bits are the low 32 bits of the integer ``x``."""
    if not isinstance(x, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        value = args[0]
        if x.bitwidth > 32:
            value = builder.trunc(value, llir.IntType(32))
        elif x.bitwidth < 32:
            value = builder.zext(value, llir.IntType(32))
        return builder.bitcast(value, llir.FloatType())

    return types.float32(x), codegen


@intrinsic
def _at_least(typingctx, x, bound):
    """``bound if x < bound else x``: NaN passes; one ``maxps(bound, x)`` on x86
    (a select spelled out in IR: written as a Python conditional, two such
    clamps came out as five compare/blend instructions each)."""
    if x != bound or not isinstance(x, types.Float):
        return None

    def codegen(context, builder, signature, args):
        value, limit = args
        return builder.select(builder.fcmp_ordered("<", value, limit), limit, value)

    return x(x, bound), codegen


@intrinsic
def _at_most(typingctx, x, bound):
    """``bound if x > bound else x``: NaN passes; one ``minps(bound, x)``."""
    if x != bound or not isinstance(x, types.Float):
        return None

    def codegen(context, builder, signature, args):
        value, limit = args
        return builder.select(builder.fcmp_ordered(">", value, limit), limit, value)

    return x(x, bound), codegen


# Typed constants as module globals: numba freezes them into the code, with
# no call to type at each use (cheaper to compile than ``_F(1.5)``).
_I1, _I23, _I127 = np.int32(1), np.int32(23), np.int32(127)
_ROUND = _F(12582912.0)        # 1.5 * 2**23: (t + _ROUND) - _ROUND rounds t to an integer
_EXP_LO, _EXP_HI = _F(-104.0), _F(89.0)
_LOG2E = _F(1.44269504088896341)
_LN2_HI, _LN2_LO = _F(0.693359375), _F(-2.12194440054690583e-4)
_EXP_C = tuple(_F(c) for c in (1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0,
                               1.0 / 6.0, 0.5, 1.0, 1.0))
_EXP_C7, _EXP_C6, _EXP_C5, _EXP_C4, _EXP_C3, _EXP_C2, _EXP_C1, _EXP_C0 = _EXP_C
_EXP_OVER, _EXP_UNDER = _F(88.72283935546875), _F(-103.97208404541016)
_INF, _ZERO = _F(np.inf), _F(0.0)


@njit(**_JIT)
def _pow2i(k):
    """2**k as f32 for -126 <= k <= 127 (an int32 exponent field)."""
    return bits_f32((k + _I127) << _I23)


@njit(**_JIT)
def exp_f32(x):
    # Clamp so k stays in range; the selects at the end restore inf/0/NaN.
    xc = _at_most(_at_least(x, _EXP_LO), _EXP_HI)
    kf = (xc * _LOG2E + _ROUND) - _ROUND     # nearest integer (no reassociation)
    r = xc - kf * _LN2_HI                    # ln2 high part (exact product)
    r = r - kf * _LN2_LO                     # ln2 low part
    p = _EXP_C7 * r + _EXP_C6
    p = p * r + _EXP_C5
    p = p * r + _EXP_C4
    p = p * r + _EXP_C3
    p = p * r + _EXP_C2
    p = p * r + _EXP_C1
    p = p * r + _EXP_C0
    k = np.int32(kf)
    half = k >> _I1
    y = p * _pow2i(half) * _pow2i(k - half)
    y = _INF if x > _EXP_OVER else y
    y = _ZERO if x < _EXP_UNDER else y
    return x if x != x else y


@njit(**_INLINE)
def tanh_f32(x):
    # x * P(x*x) / Q(x*x) on [-9, 9] (see the module docstring).  Each clamp
    # is written so that NaN passes through (a comparison with NaN is false),
    # the input clamp keeps -0.0, and the output clamp makes every |x| >= 8.5
    # give exactly +-1 (the rational reaches 1 + 1 ulp at 9).
    c = _at_most(_at_least(x, _F(-9.0)), _F(9.0))
    s = c * c
    p = _F(1.3354445549396132e-08)
    p = p * s + _F(2.060900987999048e-05)
    p = p * s + _F(0.003495588432997465)
    p = p * s + _F(0.13381028175354004)
    p = p * s + _F(1.0)
    q = _F(7.77649290739646e-07)
    q = q * s + _F(0.00032856318284757435)
    q = q * s + _F(0.02587698958814144)
    q = q * s + _F(0.4671434462070465)
    q = q * s + _F(1.0)
    return _at_least(_at_most(c * p / q, _F(1.0)), _F(-1.0))


@njit(**_INLINE)
def sigmoid_f32(x):
    e = exp_f32(-abs(x))
    d = _F(1.0) + e
    y = _F(1.0) / d if x >= _F(0.0) else e / d
    return x if x != x else y


def _erf_series_coefficients(terms: int) -> tuple[float, ...]:
    """Coefficients of erf(x)/x as a polynomial in x*x, highest power first:
    2/sqrt(pi) * (-1)^n / (n! (2n+1)).  A tuple, not an array: iterating a
    global array would make the compiled code call numba's runtime (NRT),
    which a process loading cached kernels without numba does not have."""
    coef = [(-1.0) ** n / (math.factorial(n) * (2 * n + 1)) * 2.0 / math.sqrt(math.pi)
            for n in range(terms)]
    return tuple(float(c) for c in coef[::-1])


_ERF_SERIES = _erf_series_coefficients(28)


@njit(**_JIT)
def _erf_series(x):
    # Maclaurin series, Horner in x*x; evaluated in f64 because the terms of
    # the series grow to ~1.2 before they shrink (|x| < 2).
    s = np.float64(x) * np.float64(x)
    p = 0.0
    for c in _ERF_SERIES:
        p = p * s + c
    return np.float32(np.float64(x) * p)


@njit(**_JIT)
def erfc_f32(x):
    """erfc for any x; accurate in relative terms for x >= 2."""
    a = min(max(abs(x), _F(2.0)), _F(11.0))
    # Continued fraction K(a) = 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + ...)))).
    t = a
    for j in range(40, 0, -1):
        t = a + _F(j * 0.5) / t
    frac = _F(1.0) / t
    # exp(-a*a) with a*a split so its rounding error does not reach the result.
    hi = np.float32(np.floor(a * _F(4096.0)) * _F(1.0 / 4096.0))
    lo = a - hi
    tail = exp_f32(-hi * hi) * exp_f32(-(a + hi) * lo)
    big = tail * frac * _F(0.5641895835477563)
    small = _F(1.0) - _erf_series(x)
    y = big if x >= _F(2.0) else (_F(2.0) - big if x <= _F(-2.0) else small)
    y = _F(0.0) if x > _F(10.1) else y
    return x if x != x else y


@njit(**_JIT)
def erf_f32(x):
    a = abs(x)
    y = _erf_series(x) if a < _F(2.0) else _F(1.0) - erfc_f32(a)
    y = _F(1.0) if a > _F(4.0) else y
    y = -y if (x < _F(0.0) and a >= _F(2.0)) else y
    return x if x != x else y


@njit(**_JIT)
def gelu_erf_f32(x):
    # x * Phi(x); for x < 0 use erfc so tiny results keep relative accuracy.
    z = x * _F(0.7071067811865476)
    pos = _F(0.5) * x * (_F(1.0) + erf_f32(z))
    neg = _F(0.5) * x * erfc_f32(-z)
    return neg if x < _F(0.0) else pos


@njit(**_INLINE)
def gelu_tanh_f32(x):
    # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) as h + h t with h = x/2
    # (one FMA; no separate rounding of 1 + t).
    u = x * (_F(0.7978845608028654) + _F(0.035677408136300125) * (x * x))
    h = _F(0.5) * x
    return h * tanh_f32(u) + h


@njit(**_JIT)
def gelu_erf_f64(x):
    return 0.5 * x * math.erfc(-x * 0.7071067811865476)


@njit(**_JIT)
def gelu_tanh_f64(x):
    return 0.5 * x * (1.0 + math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)))


@njit(**_JIT)
def sigmoid_f64(x):
    e = math.exp(-abs(x))
    y = 1.0 / (1.0 + e) if x >= 0.0 else e / (1.0 + e)
    return x if x != x else y


@njit(**_JIT)
def f16_to_f32(h):
    """Widen f16 bits (a uint16) to f32, exactly."""
    b = np.int32(h)
    sign = (b & np.int32(0x8000)) << np.int32(16)
    expo = (b >> np.int32(10)) & np.int32(0x1F)
    mant = b & np.int32(0x3FF)
    # normal numbers: rebias the exponent; inf/NaN: all-ones exponent.
    normal = bits_f32(sign | ((expo + np.int32(112)) << np.int32(23)) | (mant << np.int32(13)))
    special = bits_f32(sign | np.int32(0x7F800000) | (mant << np.int32(13)))
    # subnormals (and zero): mant * 2**-24, exact in f32.
    sub = np.float32(mant) * _F(5.9604644775390625e-08)
    sub = -sub if sign != np.int32(0) else sub
    y = special if expo == np.int32(31) else normal
    return sub if expo == np.int32(0) else y


@njit(**_JIT)
def f32_to_f16(x):
    """Round f32 to the nearest f16 (ties to even); returns the uint16 bits."""
    b = f32_bits(x)
    sign = (b >> np.int32(16)) & np.int32(0x8000)
    a = b & np.int32(0x7FFFFFFF)
    # NaN keeps a quiet payload bit; inf and overflow become inf.
    nan = sign | np.int32(0x7E00)
    inf = sign | np.int32(0x7C00)
    # Normal range: drop 13 mantissa bits with round-to-nearest-even.
    r = a - np.int32(0x38000000)  # rebias exponent 127 -> 15
    lsb = (r >> np.int32(13)) & np.int32(1)
    normal = (r + np.int32(0x0FFF) + lsb) >> np.int32(13)
    normal = inf if normal >= np.int32(0x7C00) else normal | sign
    # Subnormal range (|x| < 2**-14): round |x| * 2**24 to an integer, ties even.
    scaled = abs(x) * _F(16777216.0)
    q = np.float32(np.floor(scaled))
    frac = scaled - q
    qi = np.int32(q)
    up = (frac > _F(0.5)) or (frac == _F(0.5) and (qi & np.int32(1)) == np.int32(1))
    sub = (qi + np.int32(1) if up else qi) | sign
    y = sub if a < np.int32(0x38800000) else normal
    y = inf if a >= np.int32(0x47800000) else y
    y = nan if a > np.int32(0x7F800000) else y
    return np.uint16(y)


@njit(**_JIT)
def round_f16(x):
    """x rounded to f16 precision, kept in f32 (one f16 op's result)."""
    return f16_to_f32(f32_to_f16(x))


@njit(**_JIT)
def _mix32(x):
    """The 32-bit finaliser of ``graphc.ir.ops.random`` on int64 values in [0, 2**32)."""
    x = x ^ (x >> np.int64(16))
    x = (x * np.int64(0x21F0AAAD)) & np.int64(0xFFFFFFFF)
    x = x ^ (x >> np.int64(15))
    x = (x * np.int64(0x735A2D97)) & np.int64(0xFFFFFFFF)
    return x ^ (x >> np.int64(15))


@njit(**_JIT)
def random_uniform_f32(key, index):
    """Element ``index`` of ``random_uniform`` for ``key``: the same integer steps as
    the op's numpy reference (``graphc.ir.ops.random``), so results are bit-identical."""
    m = np.int64(0xFFFFFFFF)
    k1 = _mix32((key & m) ^ _mix32((key >> np.int64(32)) & m))
    k2 = _mix32(k1 ^ np.int64(0x9E3779B9))
    h = _mix32((_mix32((index & m) ^ k1) + ((index >> np.int64(32)) & m) + k2) & m)
    return np.float32(h >> np.int64(8)) * _F(5.9604644775390625e-08)


HELPERS = {
    "exp_f32": exp_f32, "tanh_f32": tanh_f32, "sigmoid_f32": sigmoid_f32, "erf_f32": erf_f32,
    "erfc_f32": erfc_f32, "gelu_erf_f32": gelu_erf_f32, "gelu_tanh_f32": gelu_tanh_f32,
    "gelu_erf_f64": gelu_erf_f64, "gelu_tanh_f64": gelu_tanh_f64, "sigmoid_f64": sigmoid_f64,
    "f16_to_f32": f16_to_f32, "f32_to_f16": f32_to_f16, "round_f16": round_f16,
    "random_uniform_f32": random_uniform_f32,
}
"""Every helper a generated kernel may call, by the name it uses."""
