"""``graphc grad``: print the gradient IR of a model.

::

    graphc grad MODEL [--wrt NAME ...] [--loss LOSS | --reduce sum|mean | --seed param]
                      [-p PIPELINE]

The objective is what the entry function computes, made scalar one of four
ways: a function that already returns one 0-d float is used as is;
``--loss NAME`` adds a target parameter per output (``target_<i>``: integer
labels for ``sparse_categorical_crossentropy``, else shaped like the output)
and sums the outputs' mean losses; ``--reduce sum|mean`` sums (averages) every
float result; ``--seed param`` keeps the results and takes the
vector-Jacobian product with one cotangent parameter per float result
(``ct_<i>``).  ``--wrt`` names the parameters to differentiate with respect
to (repeatable; default: every float parameter -- model inputs and weights).
The gradient function returns the objective, then ``grad_<param>`` for each;
``-p`` runs a pass pipeline on it first (default ``simplify``; ``O0`` prints
the raw output of the autodiff transform).
"""

from __future__ import annotations

import argparse
import sys

from graphc.errors import GraphcError

from ..ir import Func, Module, TensorType, print_module
from ..passes import run_pipeline
from ..passes.autodiff import vjp_func
from ..passes.inline import inline_calls
from .loading import load_module


def register(sub: argparse._SubParsersAction) -> None:
    grad = sub.add_parser("grad", help="print the gradient IR of a model (reverse-mode autodiff)")
    grad.add_argument("model", metavar="MODEL",
                      help="a .gir file, or a Python model: path/to/file.py:attr or module:attr")
    grad.add_argument("--wrt", nargs="+", action="extend", metavar="NAME",
                      help="parameter(s) to differentiate with respect to (default: every "
                           "float parameter)")
    how = grad.add_mutually_exclusive_group()
    how.add_argument("--loss", metavar="LOSS",
                     help="differentiate this loss of the outputs against new target "
                          "parameters (e.g. sparse_categorical_crossentropy, mse)")
    how.add_argument("--reduce", choices=("sum", "mean"),
                     help="differentiate the sum (mean) of every float result")
    how.add_argument("--seed", choices=("ones", "param"), default=None,
                     help="param: a vector-Jacobian product with a cotangent parameter per "
                          "float result")
    grad.add_argument("-p", "--passes", default="simplify", metavar="PIPELINE",
                      help="pass pipeline run on the gradient (default: simplify; O0: none)")
    grad.set_defaults(handler=run_grad)


def _is_loss(func: Func) -> bool:
    results = func.results
    return len(results) == 1 and results[0].type.rank == 0 and results[0].type.dtype.is_float


def objective(func: Func, *, loss: str | None, reduce: str | None) -> Func:
    """``func`` with its results replaced by one scalar objective (see the module doc)."""
    from ..training import losses
    from ..training.gradients import splice
    from ..training.staging import StagedTracer
    tracer = StagedTracer(func.name)
    params = [tracer.arg(p.type, p.name or f"x{i}") for i, p in enumerate(func.params)]
    outputs = [tracer.wrap(v) for v in splice(tracer.builder, func, [p.value for p in params])]
    floats = [o for o in outputs if o.dtype.is_float]
    if not floats:
        raise GraphcError(f"@{func.name} returns no float result to differentiate")
    terms = []
    if loss is not None:
        chosen = losses.get(loss)
        for i, out in enumerate(floats):
            target = TensorType("i64", out.type.shape[:-1]) if chosen.sparse_labels else out.type
            terms.append(chosen(tracer.arg(target, f"target_{i}"), out))
    else:
        op = "sum" if reduce == "sum" else "mean"
        terms = [tracer.emit(op, o, axes=None, keepdims=False) for o in floats]
    total = terms[0]
    for term in terms[1:]:
        total = tracer.emit("add", total, term)
    return tracer.func([total.value], func.name)


def run_grad(args: argparse.Namespace) -> int:
    module = load_module(args.model)
    entry = inline_calls(module.entry, module)
    if args.loss is not None or args.reduce is not None:
        entry = objective(entry, loss=args.loss, reduce=args.reduce)
        seed = "ones"
    elif args.seed is not None:
        seed = args.seed
    elif _is_loss(entry):
        seed = "ones"
    else:
        shown = ", ".join(str(t) for t in entry.result_types) or "nothing"
        raise GraphcError(f"@{entry.name} returns {shown}, not one 0-d float (a loss); pass "
                          "--loss NAME (e.g. --loss sparse_categorical_crossentropy), "
                          "--reduce sum|mean, or --seed param for a vector-Jacobian product")
    grad = vjp_func(entry, args.wrt, seed=seed, name=f"{entry.name}_grad")
    result = run_pipeline(Module([grad]), args.passes)
    sys.stdout.write(print_module(result))
    return 0
