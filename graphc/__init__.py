"""graphc -- a graph compiler for neural networks.

Build a model in the Keras style, lower it to a typed op-level IR
(``graphc.ir``), rewrite it with passes (``graphc.passes``) and run it on a
backend (``graphc.backends``).
"""

from .errors import (AttrError, BackendError, ExecutionError, FrontendError, GraphcError,
                     InputError, LoadError, LoweringError, ParseError, PassError, ShapeError,
                     UnknownOpError, VerifyError)

__version__ = "0.1.0"

# The Keras-style front end: Input/Model/Sequential, layers, ops, compile.
from . import ops  # noqa: E402  (first: the front-end modules import each other through it)
from . import activations, initializers, layers  # noqa: E402
from .compiled import compile  # noqa: E402,A001
from .layers import Input  # noqa: E402
from .models import Model, Sequential  # noqa: E402
from .naming import reset_names  # noqa: E402
from . import saving, utils  # noqa: E402  (model files, configs, cloning; plot_model)
# Training: autodiff-facing APIs, losses, optimizers, metrics, callbacks (graphc/training/).
from . import random  # noqa: E402
from .training import callbacks, losses, metrics, optimizers  # noqa: E402
from .training import GradientTape, function, grad, value_and_grad  # noqa: E402

__all__ = [
    "AttrError", "BackendError", "ExecutionError", "FrontendError", "GraphcError", "InputError",
    "LoadError", "LoweringError", "ParseError", "PassError", "ShapeError", "UnknownOpError",
    "VerifyError", "__version__",
]
__all__ += ["Input", "Model", "Sequential", "activations", "compile", "initializers", "layers",
            "ops", "reset_names"]
__all__ += ["saving", "utils"]
__all__ += ["GradientTape", "callbacks", "function", "grad", "losses", "metrics", "optimizers",
            "random", "value_and_grad"]
