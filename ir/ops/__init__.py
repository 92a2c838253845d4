"""The core op set, grouped by category; importing this package registers it.

=============  =============================================================
file           ops
=============  =============================================================
elementwise    neg abs exp log sqrt rsqrt square reciprocal tanh sigmoid relu
               gelu erf sign cast
binary         add sub mul div pow maximum minimum where; eq ne lt le gt ge
reduce         sum mean max min argmax softmax log_softmax
linalg         matmul
shape          reshape transpose broadcast_to concat slice gather expand_dims
               squeeze
special        constant call
random         random_uniform
=============  =============================================================
"""

from . import (binary, elementwise, linalg, random, reduce, shape,  # noqa: F401  (registration)
               special)
from .special import CONSTANT_LIKE

__all__ = ["CONSTANT_LIKE"]
