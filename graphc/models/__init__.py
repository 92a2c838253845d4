"""``graphc.models``: Functional ``Model`` and ``Sequential``, and how they
become IR.

``graph`` (which call sites compute the outputs, locating tensors inside
nested models), ``model`` (Functional), ``sequential``, ``inputs`` (matching
call arguments and data to inputs), ``lowering`` (tracing a graph into IR,
``to_ir``), ``summary`` (the rich table).  ``model_from_json``, ``load_model`` and
``clone_model`` come from ``graphc.saving``.
"""

from .model import Model
from .sequential import Sequential

from ..saving import clone_model, load_model, model_from_json  # noqa: E402  (needs Model)

__all__ = ["Model", "Sequential", "clone_model", "load_model", "model_from_json"]
