"""``graphc.models``: Functional ``Model`` and ``Sequential``, and how they
become IR.

``graph`` (which call sites compute the outputs, locating tensors inside
nested models), ``model`` (Functional), ``sequential``, ``inputs`` (matching
call arguments and data to inputs), ``lowering`` (tracing a graph into IR,
``to_ir``), ``summary`` (the rich table).
"""

from .model import Model
from .sequential import Sequential

__all__ = ["Model", "Sequential"]
