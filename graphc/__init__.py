"""graphc -- a graph compiler for neural networks.

Build a model in the Keras style, lower it to a typed op-level IR
(``graphc.ir``), rewrite it with passes (``graphc.passes``) and run it on a
backend (``graphc.backends``).
"""

from .errors import (AttrError, BackendError, ExecutionError, FrontendError, GraphcError,
                     InputError, LoadError, LoweringError, ParseError, PassError, ShapeError,
                     UnknownOpError, VerifyError)

__version__ = "0.1.0"

__all__ = [
    "AttrError", "BackendError", "ExecutionError", "FrontendError", "GraphcError", "InputError",
    "LoadError", "LoweringError", "ParseError", "PassError", "ShapeError", "UnknownOpError",
    "VerifyError", "__version__",
]
