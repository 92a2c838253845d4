"""graphc.ir -- the typed, immutable, op-level IR.

Layout: ``dtypes``/``types`` (element and tensor types with symbolic dims),
``attrs`` (attribute kinds and schemas), ``core`` (Value, Node, Func,
Module), ``opdef`` + ``ops/`` (the op registry and the core op set),
``builder`` (type-inferring construction), ``printer``/``lexer``/``parser``
(the round-tripping ``.gir`` text format), ``verifier`` (numbered
invariants), ``equality`` (structural equality and hashing).
"""

from . import ops as _ops  # noqa: F401  (registers the core op set)
from .attrs import Attrs, AttrSpec, TensorValue
from .builder import Builder
from .core import Func, Module, Node, Value
from .dtypes import ALL_DTYPES, DType, dtype_of
from .equality import structural_equal, structural_hash
from .loc import FusedLoc, Loc, fuse_locs
from .opdef import CALL, FusionKind, OpDef, all_ops, get_op, has_op, register_op
from .parser import parse_file, parse_module
from .printer import print_func, print_module
from .types import UNKNOWN, Dim, TensorType, broadcast_shapes, format_shape
from .verifier import verify, verify_module

__all__ = [
    "ALL_DTYPES", "Attrs", "AttrSpec", "Builder", "CALL", "DType", "Dim", "Func", "FusedLoc",
    "FusionKind", "Loc", "Module", "Node", "OpDef", "TensorType", "TensorValue", "UNKNOWN",
    "Value", "all_ops", "broadcast_shapes", "dtype_of", "format_shape", "fuse_locs", "get_op",
    "has_op", "parse_file", "parse_module", "print_func", "print_module", "register_op",
    "structural_equal", "structural_hash", "verify", "verify_module",
]
