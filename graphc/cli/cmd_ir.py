"""``graphc show``, ``graphc verify`` and ``graphc run``.

``run`` binds each entry parameter from ``-i NAME=PATH.npy``, else from the
loader's defaults (a saved or Python model's own weights), else -- with
``--random`` -- from seeded random data; anything else is a missing input.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from graphc.errors import GraphcError, InputError

from ..backends import checked_call, get_backend
from ..ir import Module, print_module, verify
from ..ir.types import format_shape
from ..passes import run_pipeline
from .loading import load_model_object, load_model_ref, load_module, read_array, write_array


def register(sub: argparse._SubParsersAction) -> None:
    show = sub.add_parser("show", help="print the IR of a model in canonical .gir form")
    show.add_argument("model", metavar="MODEL",
                      help="a .gir file, a saved model (.graphc), or a Python model: "
                           "path/to/file.py:attr or module:attr")
    view = show.add_mutually_exclusive_group()
    view.add_argument("--summary", action="store_true",
                      help="print the layer table (saved and Python models)")
    view.add_argument("--config", action="store_true",
                      help="print the architecture as JSON (saved and Python models)")
    view.add_argument("--ir", action="store_true", help="print the IR (the default)")
    show.set_defaults(handler=run_show)

    ver = sub.add_parser("verify", help="check a model's IR against the verifier's invariants")
    ver.add_argument("model", metavar="MODEL", help="a .gir file")
    ver.set_defaults(handler=run_verify)

    run = sub.add_parser("run", help="run a model on a backend with inputs from .npy files")
    run.add_argument("model", metavar="MODEL", help="a .gir file, a saved model (.graphc) or "
                     "a Python model reference; a model's weights are bound from the model")
    run.add_argument("--backend", "-b", default="interpreter", help="backend name "
                     "(default: interpreter; `graphc backends` lists them)")
    run.add_argument("-p", "--passes", dest="pipeline", default="O0", metavar="PIPELINE",
                     help="pass pipeline to run before compiling (default: O0, the model "
                          "as written; `graphc passes` lists them)")
    run.add_argument("-i", "--input", action="append", default=[], metavar="NAME=PATH.npy",
                     help="bind an input by parameter name (repeatable)")
    run.add_argument("-o", "--output-dir", metavar="DIR",
                     help="write results as DIR/out0.npy, DIR/out1.npy, ...")
    run.add_argument("--random", action="store_true",
                     help="fill inputs not given with -i (and without a default, such as a "
                          "model's weights) with seeded random data")
    run.add_argument("--dim", action="append", default=[], metavar="SYMBOL=SIZE",
                     help="size of a symbolic dim for --random inputs (default 1)")
    run.add_argument("--seed", type=int, default=0, help="seed for --random (default 0)")
    run.add_argument("--dump-kernels", metavar="DIR",
                     help="write the generated source of every kernel to DIR")
    run.set_defaults(handler=run_run)


def run_show(args: argparse.Namespace) -> int:
    if args.summary:
        load_model_object(args.model, "show --summary").summary()
        return 0
    if args.config:
        print(load_model_object(args.model, "show --config").to_json(indent=2))
        return 0
    sys.stdout.write(print_module(load_module(args.model)))
    return 0


def run_verify(args: argparse.Namespace) -> int:
    module = verify(load_module(args.model))
    assert isinstance(module, Module)
    nodes = sum(len(f.nodes) for f in module.funcs)
    print(f"{args.model}: ok ({len(module.funcs)} function(s), {nodes} node(s))")
    return 0


def _parse_pairs(items: list[str], flag: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise InputError(f"{flag} expects NAME=VALUE, received '{item}'")
        if name in pairs:
            raise InputError(f"{flag} gives '{name}' twice")
        pairs[name] = value
    return pairs


def random_input(t, dims: dict[str, int], rng: np.random.Generator) -> np.ndarray:
    shape = tuple(d if isinstance(d, int) else dims.get(d, 1) for d in t.shape)
    if t.dtype.is_float:
        return rng.standard_normal(shape).astype(t.dtype.numpy)
    if t.dtype.is_bool:
        return rng.random(shape) < 0.5
    return rng.integers(0, 10, shape).astype(t.dtype.numpy)


def gather_inputs(module: Module, args: argparse.Namespace,
                  defaults: dict[str, np.ndarray] | None = None) -> list[np.ndarray]:
    """One array per entry parameter: from -i files, else ``defaults``, else
    (with --random) generated."""
    defaults = defaults or {}
    func = module.entry
    given = _parse_pairs(args.input, "-i")
    names = [p.name or str(i) for i, p in enumerate(func.params)]
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise InputError(f"@{func.name} has no parameter {', '.join(unknown)}; its parameters "
                         f"are {', '.join(names) or 'none'}")
    dims = {k: _int_arg(v, f"--dim {k}") for k, v in _parse_pairs(args.dim, "--dim").items()}
    symbols = sorted({d for p in func.params for d in p.type.shape
                      if isinstance(d, str) and d != "?"})
    stray = sorted(set(dims) - set(symbols))
    if stray:
        raise InputError(f"--dim names {', '.join(stray)}, which no parameter of @{func.name} "
                         f"has; its symbolic dims are {', '.join(symbols) or 'none'}")
    rng = np.random.default_rng(args.seed)
    arrays = []
    for name, param in zip(names, func.params):
        if name in given:
            arrays.append(read_array(given[name], f"input '{name}'"))
        elif name in defaults:
            arrays.append(defaults[name])
        elif args.random:
            arrays.append(random_input(param.type, dims, rng))
        else:
            raise InputError(f"missing input '{name}' ({param.type}); pass -i {name}=PATH.npy "
                             "or --random")
    return arrays


def _int_arg(text: str, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"{what} expects a non-negative integer, received '{text}'") from None
    if value < 0:
        raise InputError(f"{what} expects a non-negative integer, received {value}")
    return value


def run_run(args: argparse.Namespace) -> int:
    loaded = load_model_ref(args.model)
    module = verify(loaded.module)
    assert isinstance(module, Module)
    backend = get_backend(args.backend)
    if not backend.is_available():
        raise GraphcError(f"backend '{backend.name}' is not available here: "
                          f"{backend.unavailable_reason()}")
    executable = checked_call(backend, "compile", backend.compile,
                              run_pipeline(module, args.pipeline))
    if getattr(args, "dump_kernels", None):
        dump_kernels(executable, args.dump_kernels)
    results = checked_call(backend, "run", executable,
                           *gather_inputs(module, args, loaded.defaults))
    for i, array in enumerate(results):
        line = f"out{i}: {array.dtype.name}{format_shape(array.shape)}"
        if args.output_dir:
            line += f" -> {write_array(args.output_dir, f'out{i}.npy', array)}"
        print(line)
    return 0


def dump_kernels(executable, directory: str) -> None:
    """``--dump-kernels DIR``: one file per kernel group (or the whole source)."""
    import os
    if hasattr(executable, "dump_kernels"):
        paths = executable.dump_kernels(directory)
    else:
        try:
            os.makedirs(directory, exist_ok=True)
            path = os.path.join(directory, "source.txt")
            with open(path, "w") as f:
                f.write(executable.source())
        except OSError as exc:
            raise GraphcError(f"cannot write kernels to {directory}: {exc.strerror}") from None
        paths = [path]
    print(f"wrote {len(paths)} kernel file(s) to {directory}", file=sys.stderr)
