"""``graphc.ops``: tensor operations, named and shaped as in ``keras.ops``.

Every function works on symbolic tensors (becoming an op node of a
Functional model), on values traced inside a layer's ``call`` (emitting IR
nodes), and on numpy arrays (run eagerly by the reference interpreter).  See
``dispatch.py`` for how, ``operands.py`` for the dtype rules, ``math.py``
and ``movement.py`` for the ops themselves.  Activations that are compositions
of core ops (``elu``, ``selu``, ``silu`` ...) live in ``graphc.activations``
and are re-exported here.
"""

from ..activations import (elu, hard_sigmoid, leaky_relu, mish, relu6, selu, silu, softplus,
                           softsign, swish)
from .dispatch import OpNode, graphc_op
from .math import (abs, add, argmax, cast, clip, divide, dot, equal, erf, exp, gelu, greater,
                   greater_equal, less, less_equal, log, log_softmax, matmul, max, maximum, mean,
                   min, minimum, multiply, negative, not_equal, power, reciprocal, relu, rsqrt,
                   sigmoid, sign, softmax, sqrt, square, std, subtract, sum, tanh, true_divide,
                   var, where)
from .movement import (broadcast_to, concat, concatenate, expand_dims, get_item, reshape,
                       shape, squeeze, stack, take, transpose)

__all__ = [
    "OpNode", "abs", "add", "argmax", "broadcast_to", "cast", "clip", "concat", "concatenate",
    "divide", "dot", "elu", "equal", "erf", "exp", "expand_dims", "gelu", "get_item",
    "graphc_op", "greater", "greater_equal", "hard_sigmoid", "leaky_relu", "less", "less_equal",
    "log", "log_softmax", "matmul", "max", "maximum", "mean", "min", "minimum", "mish",
    "multiply", "negative", "not_equal", "power", "reciprocal", "relu", "relu6", "reshape",
    "rsqrt", "selu", "shape", "sigmoid", "sign", "silu", "softmax", "softplus", "softsign", "sqrt",
    "square", "squeeze", "stack", "std", "subtract", "sum", "swish", "take", "tanh",
    "transpose", "true_divide", "var", "where",
]
