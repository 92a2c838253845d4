"""Activation functions, Keras names and defaults.

Those with a core IR op (relu, sigmoid, tanh, softmax, log_softmax, gelu)
emit it; the others are compositions of core ops, so the IR op set stays
small and every backend runs them without extra work:

=============  =================================================
elu            ``where(x > 0, x, alpha * (exp(min(x, 0)) - 1))``
selu           ``scale * elu(x, alpha)``, the self-normalizing constants
leaky_relu     ``where(x >= 0, x, negative_slope * x)``
swish / silu   ``x * sigmoid(x)``
softplus       ``relu(x) + log(1 + exp(-|x|))`` (never overflows)
softsign       ``x / (1 + |x|)``
relu6          ``min(max(x, 0), 6)``
hard_sigmoid   ``relu6(x + 3) / 6``
mish           ``x * tanh(softplus(x))``
exponential    ``exp(x)``
linear         ``x``
=============  =================================================

Each is a ``graphc.ops`` function, so it also works on symbolic tensors and
numpy arrays.  ``get`` resolves ``Dense(..., activation="gelu")``.
"""

from __future__ import annotations

from typing import Any, Callable

from graphc.errors import FrontendError

from .ops.dispatch import graphc_op
from .ops.math import exp, gelu, log_softmax, sigmoid, softmax, tanh
from .ops.operands import floating, operand, operands
from .tracing import Traced

SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805


def _emit(op: str, *xs: Traced, **attrs: Any) -> Traced:
    return xs[0].tracer.emit(op, *xs, **attrs)


def _binary(op: str, a: Any, b: Any) -> Traced:
    x, y = operands(a, b)
    return _emit(op, x, y)


def linear(x: Any) -> Any:
    """The identity."""
    return x


@graphc_op("relu")
def relu(x: Any, negative_slope: float = 0.0, max_value: float | None = None,
         threshold: float = 0.0) -> Traced:
    """``max(x, 0)``; Keras' optional slope, cap and threshold are supported."""
    x = operand(x)
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return _emit("relu", x)
    x = floating(x)
    below = _binary("mul", _binary("sub", x, threshold), negative_slope) \
        if negative_slope else operands(x, 0.0)[1]
    out = _emit("where", _binary("ge", x, threshold), x, below)
    if max_value is not None:
        out = _binary("minimum", out, max_value)
    return out


@graphc_op("elu")
def elu(x: Any, alpha: float = 1.0) -> Traced:
    x = floating(operand(x))
    negative = _binary("mul", _binary("sub", _emit("exp", _binary("minimum", x, 0.0)), 1.0),
                       alpha)
    return _emit("where", _binary("gt", x, 0.0), x, negative)


@graphc_op("selu")
def selu(x: Any) -> Traced:
    return _binary("mul", elu(x, alpha=SELU_ALPHA), SELU_SCALE)


@graphc_op("leaky_relu")
def leaky_relu(x: Any, negative_slope: float = 0.2) -> Traced:
    x = floating(operand(x))
    return _emit("where", _binary("ge", x, 0.0), x, _binary("mul", x, negative_slope))


@graphc_op("silu")
def silu(x: Any) -> Traced:
    x = floating(operand(x))
    return _emit("mul", x, _emit("sigmoid", x))


swish = silu


@graphc_op("softplus")
def softplus(x: Any) -> Traced:
    x = floating(operand(x))
    tail = _emit("log", _binary("add", _emit("exp", _emit("neg", _emit("abs", x))), 1.0))
    return _emit("add", _emit("relu", x), tail)


@graphc_op("softsign")
def softsign(x: Any) -> Traced:
    x = floating(operand(x))
    return _emit("div", x, _binary("add", _emit("abs", x), 1.0))


@graphc_op("relu6")
def relu6(x: Any) -> Traced:
    x = operand(x)
    return _binary("minimum", _emit("relu", x), 6)


@graphc_op("hard_sigmoid")
def hard_sigmoid(x: Any) -> Traced:
    x = floating(operand(x))
    return _binary("div", relu6(_binary("add", x, 3.0)), 6.0)


@graphc_op("mish")
def mish(x: Any) -> Traced:
    x = floating(operand(x))
    return _emit("mul", x, _emit("tanh", softplus(x)))


exponential = exp

ACTIVATIONS: dict[str, Callable[..., Any]] = {
    "linear": linear, "relu": relu, "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax,
    "log_softmax": log_softmax, "gelu": gelu, "elu": elu, "selu": selu,
    "leaky_relu": leaky_relu, "swish": swish, "silu": silu, "softplus": softplus,
    "softsign": softsign, "relu6": relu6, "hard_sigmoid": hard_sigmoid, "mish": mish,
    "exponential": exponential,
}


def get(identifier: Any) -> Callable[..., Any]:
    """An activation function from a name, a callable or None (linear)."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        if identifier in ACTIVATIONS:
            return ACTIVATIONS[identifier]
        raise FrontendError(f"unknown activation {identifier!r}; known activations: "
                            f"{', '.join(sorted(ACTIVATIONS))}")
    if callable(identifier):
        return identifier
    raise FrontendError(f"an activation must be a name, a callable or None. "
                        f"Received: {identifier!r}")


def name_of(fn: Callable[..., Any]) -> str:
    for name, known in ACTIVATIONS.items():
        if known is fn:
            return name
    return getattr(fn, "__name__", repr(fn))


__all__ = ["ACTIVATIONS", "elu", "exponential", "gelu", "get", "hard_sigmoid", "leaky_relu",
           "linear", "log_softmax", "mish", "relu", "relu6", "selu", "sigmoid", "silu",
           "softmax", "softplus", "softsign", "swish", "tanh"]
