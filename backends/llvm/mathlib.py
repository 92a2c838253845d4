"""Transcendental functions for generated kernels, as LLVM IR.

llvmlite's LLVM has no vector math library, so ``llvm.exp.f32`` in a loop
becomes a scalar ``expf`` call and the loop stays scalar.  The float32
functions here are therefore written out as straight-line IR -- range
reduction, a polynomial (coefficients fitted by ``mathfit.py``), bit
manipulation of the exponent, ``select`` for special cases -- with no calls
and no branches, so the loop vectorizer widens them like any arithmetic.
Each is an ``internal alwaysinline`` function of the kernel module.

float64 uses LLVM intrinsics (``llvm.exp``/``llvm.log``/``llvm.pow``,
which become libm calls) and libm's ``tanh``/``erf``: correctly rounded
to within libm's accuracy, but loops using them stay scalar.

Accuracy of the float32 functions, measured against float64 numpy/scipy over
*every* float32 input (all 2**32 bit patterns; results in the normal range),
with no mismatch on any non-finite result; ``test_llvm_mathlib.py`` re-checks
these bounds on a 1.5M-value sample:

* ``exp``      1.02 ulp; overflow to inf above 88.72, 0 below -103.97
                  (subnormal results in between are rounded once);
* ``log``      1.97 ulp; subnormal inputs handled; log(0) = -inf, x < 0 -> NaN;
* ``tanh``     1.34 ulp (polynomial below |x| = 0.625, 1 - 2/(exp(2|x|)+1)
                  above; odd, so -0 stays -0);
* ``sigmoid``  2.41 ulp (exp(-|x|) form: never overflows);
* ``erf``      2.48 ulp (x q(x^2) below |x| = 1, 1 - exp(-x^2) q(1/x)/x above);
* ``gelu``     exact form via erf/erfc (no cancellation for x < 0; the
               Gaussian uses x*x/2 split in two floats): <= 1e-6 relative;
               tanh form as x * sigmoid(2u), algebraically equal to
               0.5 x (1 + tanh u) without its cancellation for x < 0:
               <= (1 + |2u|) * 2e-7 relative (rounding the float32 argument
               2u costs |2u| ulp of exp: ~1e-5 at x = -9).

NaN inputs give NaN from every function (a final ``select`` on ``x uno x`` where
the arithmetic alone would not propagate it).
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

from llvmlite import ir

from ...ir.dtypes import DType
from .irtypes import F32, F64, I32

# Fitted by mathfit.py (max relative error of each fit in float64 in the comment).
EXP_COEFFS = (0.49999993451472535, 0.16666520687563197, 0.04166838740855343,
              0.008368710035300545, 0.0013814611000590882)  # 3.1e-09
LOG_COEFFS = (0.6666666564867029, 0.40000334529938986, 0.28537347218377523,
              0.23581467976908763)  # 4.8e-12
TANH_COEFFS = (-0.3333333080279852, 0.1333320601039167, -0.05394676327118122,
               0.02170070420384164, -0.008177400372842165, 0.0021429635947211663)  # 1.6e-10
ERF_COEFFS = (1.1283791657322906, -0.3761262583960494, 0.1128358526967583,
              -0.026853816031585015, 0.0051883344383661795, -0.0008010247151970518,
              7.85402477445768e-05)  # 1.2e-09
ERFC_COEFFS = (0.5023534283045177, -0.0765158086146687, -0.004124045614057575,
               0.008962948529530555, -0.003974034838834191, 0.0009195261059458688,
               7.995290561027199e-05, -0.00022509518035093452, 0.00017792600920249826,
               -7.320984850664512e-05, -1.6469995142567168e-05, 1.846269483345977e-05)  # 1.0e-08
TANH_SMALL = 0.625
ERFC_MAX = 10.0
ERFC_CENTER = (1.0 + 1.0 / ERFC_MAX) / 2
ERFC_HALF_WIDTH = (1.0 - 1.0 / ERFC_MAX) / 2

LN2_HI = 0.693145751953125          # 16 significant bits: k * LN2_HI is exact
LN2_LO = 1.428606765330187e-06
LOG2E = 1.4426950408889634
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
GELU_CUBIC = 0.044715


def _f(value: float) -> ir.Constant:
    return ir.Constant(F32, value)


def _i(value: int) -> ir.Constant:
    return ir.Constant(I32, value)


class _F32Builder:
    """Float32 arithmetic helpers over one IRBuilder (the bodies below)."""

    def __init__(self, lib: "MathLib", b: ir.IRBuilder) -> None:
        self.lib, self.b = lib, b

    def intr(self, name: str, *args: ir.Value) -> ir.Value:
        return self.b.call(self.lib.intrinsic(name, F32), list(args))

    def fma(self, a, x, c):
        return self.intr("llvm.fmuladd", a, x, c)

    def horner(self, x: ir.Value, coeffs: Sequence[float]) -> ir.Value:
        acc = _f(coeffs[-1])
        for c in reversed(coeffs[:-1]):
            acc = self.fma(acc, x, _f(c))
        return acc

    def pow2(self, k: ir.Value) -> ir.Value:
        """2**k for an i32 k in [-126, 127]."""
        b = self.b
        return b.bitcast(b.shl(b.add(k, _i(127)), _i(23)), F32)

    def nan_passthrough(self, x: ir.Value, result: ir.Value) -> ir.Value:
        b = self.b
        return b.select(b.fcmp_unordered("uno", x, x), x, result)


def _exp_body(m: _F32Builder, x: ir.Value) -> ir.Value:
    b = m.b
    xc = m.intr("llvm.minnum", m.intr("llvm.maxnum", x, _f(-104.0)), _f(89.0))  # NaN -> finite
    k = m.intr("llvm.rint", b.fmul(xc, _f(LOG2E)))
    r = m.fma(k, _f(-LN2_HI), xc)
    r = m.fma(k, _f(-LN2_LO), r)
    p = b.fadd(_f(1.0), m.fma(b.fmul(r, r), m.horner(r, EXP_COEFFS), r))
    ki = b.fptosi(k, I32)                       # in [-150, 129]: two scale steps
    k1 = b.ashr(ki, _i(1))
    scaled = b.fmul(b.fmul(p, m.pow2(k1)), m.pow2(b.sub(ki, k1)))
    return m.nan_passthrough(x, scaled)


def _log_body(m: _F32Builder, x: ir.Value) -> ir.Value:
    b = m.b
    tiny = b.fcmp_ordered("<", x, _f(2.0 ** -126))
    xs = b.select(tiny, b.fmul(x, _f(2.0 ** 23)), x)
    bits = b.bitcast(xs, I32)
    e = b.sub(b.lshr(bits, _i(23)), b.select(tiny, _i(127 + 23), _i(127)))
    mant = b.bitcast(b.or_(b.and_(bits, _i(0x7FFFFF)), _i(0x3F800000)), F32)  # [1, 2)
    big = b.fcmp_ordered(">", mant, _f(math.sqrt(2.0)))
    mant = b.select(big, b.fmul(mant, _f(0.5)), mant)
    e = b.select(big, b.add(e, _i(1)), e)
    f = b.fsub(mant, _f(1.0))
    s = b.fdiv(f, b.fadd(f, _f(2.0)))
    z = b.fmul(s, s)
    log_m = m.fma(b.fmul(s, z), m.horner(z, LOG_COEFFS), b.fadd(s, s))
    ef = b.sitofp(e, F32)
    result = m.fma(ef, _f(LN2_HI), m.fma(ef, _f(LN2_LO), log_m))
    result = b.select(b.fcmp_ordered("==", x, _f(math.inf)), x, result)
    result = b.select(b.fcmp_ordered("==", x, _f(0.0)), _f(-math.inf), result)
    result = b.select(b.fcmp_unordered("<", x, _f(0.0)), _f(math.nan), result)  # also NaN
    return result


def _tanh_body(m: _F32Builder, x: ir.Value) -> ir.Value:
    b = m.b
    a = m.intr("llvm.fabs", x)      # tanh is odd: work on |x|, restore the sign (and -0)
    a2 = b.fmul(a, a)
    small = m.fma(b.fmul(a, a2), m.horner(a2, TANH_COEFFS), a)
    e = m.lib.call(b, "exp", DType.f32, b.fadd(a, a))
    large = b.fsub(_f(1.0), b.fdiv(_f(2.0), b.fadd(e, _f(1.0))))
    return m.intr("llvm.copysign", b.select(b.fcmp_ordered("<", a, _f(TANH_SMALL)), small,
                                            large), x)


def _sigmoid_body(m: _F32Builder, x: ir.Value) -> ir.Value:
    b = m.b
    e = m.lib.call(b, "exp", DType.f32, b.fneg(m.intr("llvm.fabs", x)))
    num = b.select(b.fcmp_ordered(">=", x, _f(0.0)), _f(1.0), e)
    return b.fdiv(num, b.fadd(_f(1.0), e))


def _erf_small(m: _F32Builder, x: ir.Value) -> ir.Value:
    return m.b.fmul(x, m.horner(m.b.fmul(x, x), ERF_COEFFS))


def _square(m: _F32Builder, v: ir.Value, scale: float = 1.0) -> tuple[ir.Value, ir.Value]:
    """(hi, lo) with hi + lo = scale * v * v to about float64 precision when FMA is
    available (lo is the rounding error of v*v; 0 without FMA); scale is a power of 2."""
    b = m.b
    hi = b.fmul(v, v)
    lo = m.fma(v, v, b.fneg(hi))
    if scale != 1.0:
        hi, lo = b.fmul(hi, _f(scale)), b.fmul(lo, _f(scale))
    return hi, lo


def _erfc_big(m: _F32Builder, a: ir.Value, square: tuple | None = None) -> ir.Value:
    """erfc(a) for a >= 1 (a is clamped to 20 so huge/inf inputs give 0).  ``square``:
    a more accurate (hi, lo) of a*a than a itself gives (gelu passes x*x/2)."""
    b = m.b
    a = m.intr("llvm.minnum", a, _f(20.0))
    hi, lo = square if square is not None else _square(m, a)
    hi = m.intr("llvm.minnum", hi, _f(400.0))
    lo = b.select(b.fcmp_ordered("<", hi, _f(400.0)), lo, _f(0.0))   # inf*inf - inf: NaN
    gauss = b.fmul(m.lib.call(b, "exp", DType.f32, b.fneg(hi)), b.fsub(_f(1.0), lo))
    inv = b.fdiv(_f(1.0), a)
    v = b.fmul(b.fsub(inv, _f(ERFC_CENTER)), _f(1.0 / ERFC_HALF_WIDTH))
    return b.fmul(b.fmul(gauss, m.horner(v, ERFC_COEFFS)), inv)


def _erf_body(m: _F32Builder, x: ir.Value) -> ir.Value:
    b = m.b
    a = m.intr("llvm.fabs", x)
    large = m.intr("llvm.copysign", b.fsub(_f(1.0), _erfc_big(m, a)), x)
    result = b.select(b.fcmp_ordered("<", a, _f(1.0)), _erf_small(m, x), large)
    return m.nan_passthrough(x, result)


def _gelu_erf_body(m: _F32Builder, x: ir.Value) -> ir.Value:
    """0.5 x (1 + erf(x / sqrt 2)); for x < 0 the factor is erfc(|t|), computed directly."""
    b = m.b
    t = b.fmul(x, _f(1.0 / math.sqrt(2.0)))
    a = m.intr("llvm.fabs", t)
    near = b.fcmp_ordered("<", a, _f(1.0))
    erf_small = _erf_small(m, a)
    erfc_big = _erfc_big(m, a, _square(m, x, 0.5))   # t*t = x*x/2 without t's rounding
    erfc_a = b.select(near, b.fsub(_f(1.0), erf_small), erfc_big)
    one_plus_erf = b.fadd(_f(1.0), b.select(near, erf_small, b.fsub(_f(1.0), erfc_big)))
    factor = b.select(b.fcmp_ordered(">=", x, _f(0.0)), one_plus_erf, erfc_a)
    return m.nan_passthrough(x, b.fmul(b.fmul(_f(0.5), x), factor))


def _gelu_tanh_body(m: _F32Builder, x: ir.Value) -> ir.Value:
    """x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3)."""
    b = m.b
    inner = m.fma(b.fmul(_f(GELU_CUBIC), b.fmul(x, x)), x, x)
    two_u = b.fmul(inner, _f(2.0 * SQRT_2_OVER_PI))
    return b.fmul(x, m.lib.call(b, "sigmoid", DType.f32, two_u))


F32_BODIES: dict[str, Callable[[_F32Builder, ir.Value], ir.Value]] = {
    "exp": _exp_body, "log": _log_body, "tanh": _tanh_body, "sigmoid": _sigmoid_body,
    "erf": _erf_body, "gelu_erf": _gelu_erf_body, "gelu_tanh": _gelu_tanh_body,
}

INTRINSIC_ARITY = {"llvm.fmuladd": 3, "llvm.minnum": 2, "llvm.maxnum": 2, "llvm.copysign": 2,
                   "llvm.maximum": 2, "llvm.minimum": 2, "llvm.pow": 2, "llvm.smax": 2,
                   "llvm.smin": 2}
LIBM_F64 = {"tanh": "tanh", "erf": "erf"}
INTRINSIC_F64 = {"exp": "llvm.exp", "log": "llvm.log"}


class MathLib:
    """The math functions of one kernel module, defined on first use."""

    def __init__(self, module: ir.Module) -> None:
        self.module = module
        self._funcs: dict[tuple[str, DType], ir.Function] = {}
        self._intrinsics: dict[tuple[str, str], ir.Function] = {}

    def intrinsic(self, name: str, typ: ir.Type) -> ir.Function:
        """The overloaded intrinsic ``name`` whose operands and result are ``typ``."""
        key = (name, str(typ))
        if key not in self._intrinsics:
            arity = INTRINSIC_ARITY.get(name, 1)
            self._intrinsics[key] = self.module.declare_intrinsic(
                name, [typ], ir.FunctionType(typ, [typ] * arity))
        return self._intrinsics[key]

    def call(self, b: ir.IRBuilder, name: str, dtype: DType, *args: ir.Value) -> ir.Value:
        """``name(args)`` in ``dtype`` (f32 or f64)."""
        return b.call(self._function(name, dtype), list(args))

    def _function(self, name: str, dtype: DType) -> ir.Function:
        key = (name, dtype)
        if key in self._funcs:
            return self._funcs[key]
        if dtype is DType.f32:
            fn = self._define(f"graphc.{name}.f32", F32, lambda b, x: F32_BODIES[name](
                _F32Builder(self, b), x))
        elif name in INTRINSIC_F64:
            fn = self.intrinsic(INTRINSIC_F64[name], F64)
        elif name in LIBM_F64:
            fn = self.module.globals.get(LIBM_F64[name]) or ir.Function(
                self.module, ir.FunctionType(F64, [F64]), LIBM_F64[name])
        else:
            fn = self._define(f"graphc.{name}.f64", F64, _F64_BODIES[name](self))
        self._funcs[key] = fn
        return fn

    def _define(self, symbol: str, typ: ir.Type,
                body: Callable[[ir.IRBuilder, ir.Value], ir.Value]) -> ir.Function:
        fn = ir.Function(self.module, ir.FunctionType(typ, [typ]), symbol)
        fn.linkage = "internal"
        fn.attributes.add("alwaysinline")
        fn.attributes.add("nounwind")
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        b.ret(body(b, fn.args[0]))
        return fn


def _f64_sigmoid(lib: MathLib) -> Callable[[ir.IRBuilder, ir.Value], ir.Value]:
    def body(b: ir.IRBuilder, x: ir.Value) -> ir.Value:
        fabs = lib.intrinsic("llvm.fabs", F64)
        e = lib.call(b, "exp", DType.f64, b.fneg(b.call(fabs, [x])))
        one = ir.Constant(F64, 1.0)
        num = b.select(b.fcmp_ordered(">=", x, ir.Constant(F64, 0.0)), one, e)
        return b.fdiv(num, b.fadd(one, e))
    return body


def _f64_gelu_tanh(lib: MathLib) -> Callable[[ir.IRBuilder, ir.Value], ir.Value]:
    def body(b: ir.IRBuilder, x: ir.Value) -> ir.Value:   # the reference's evaluation order
        c = lambda v: ir.Constant(F64, v)  # noqa: E731
        cube = b.fmul(b.fmul(b.fmul(c(GELU_CUBIC), x), x), x)
        inner = b.fmul(c(SQRT_2_OVER_PI), b.fadd(x, cube))
        t = lib.call(b, "tanh", DType.f64, inner)
        return b.fmul(b.fmul(c(0.5), x), b.fadd(c(1.0), t))
    return body


def _f64_gelu_erf(lib: MathLib) -> Callable[[ir.IRBuilder, ir.Value], ir.Value]:
    def body(b: ir.IRBuilder, x: ir.Value) -> ir.Value:
        c = lambda v: ir.Constant(F64, v)  # noqa: E731
        e = lib.call(b, "erf", DType.f64, b.fdiv(x, c(math.sqrt(2.0))))
        return b.fmul(b.fmul(c(0.5), x), b.fadd(c(1.0), e))
    return body


_F64_BODIES = {"sigmoid": _f64_sigmoid, "gelu_tanh": _f64_gelu_tanh,
               "gelu_erf": _f64_gelu_erf}
