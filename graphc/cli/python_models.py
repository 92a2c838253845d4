"""Python model references for the CLI: ``path/to/file.py:attr`` and
``package.module:attr``.

The part after the last ``:`` names an attribute (dotted names allowed)
that is a graphc ``Model`` or a zero-argument callable returning one.  A
``.py`` file is *executed* (with ``__name__`` set to ``"__graphc_model__"``,
so its ``if __name__ == "__main__":`` block does not run); a module is
imported with the current directory on ``sys.path``, as ``python -m`` does.
Unlike saved model files, a Python reference is code, and running it is the
point.

Every failure is a ``LoadError`` naming the reference and what was wrong; an
exception raised by the user's code is reported with its type, message and
the line of the file where it happened.  A ``GraphcError`` raised while the
model is being defined (a ``ShapeError`` at a layer call) passes through
unchanged: its message already names the layer, the shapes and the line.
"""

from __future__ import annotations

import importlib
import os
import re
import runpy
import sys
import traceback
from typing import Any

from graphc.errors import GraphcError, LoadError

from ..ir.core import Module

_ATTR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")


def split_reference(ref: str) -> tuple[str, str] | None:
    """``("path/m.py", "model")`` or ``("pkg.mod", "model")``; None if not one."""
    target, sep, attr = ref.rpartition(":")
    if not sep or not target or not _ATTR.match(attr):
        return None
    if target.endswith(".py") or _ATTR.match(target):
        return target, attr
    return None


def is_python_reference(ref: str) -> bool:
    return split_reference(ref) is not None


def _user_frame(exc: BaseException, path: str | None) -> str:
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith("<") and "importlib" not in f.filename
              and "runpy" not in f.filename and not os.path.abspath(f.filename).startswith(here)]
    if path is not None:
        mine = [f for f in frames if os.path.abspath(f.filename) == os.path.abspath(path)]
        frames = mine or frames
    if not frames:
        return ""
    return f" (at {frames[-1].filename}:{frames[-1].lineno})"


def _run_user_code(what: str, path: str | None, fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except GraphcError:
        raise
    except (Exception, SystemExit) as exc:
        raise LoadError(f"{what} failed: {type(exc).__name__}: {exc}"
                        f"{_user_frame(exc, path)}") from None


def _namespace(target: str) -> tuple[Any, str, str | None]:
    if target.endswith(".py"):
        if not os.path.isfile(target):
            raise LoadError(f"cannot load model '{target}': no such file")
        folder = os.path.dirname(os.path.abspath(target))
        sys.path.insert(0, folder)  # the file's own imports, as `python file.py` sees them
        try:
            globals_ = _run_user_code(f"running {target}", target, runpy.run_path, target,
                                      None, "__graphc_model__")
        finally:
            sys.path.remove(folder)
        return globals_, target, target
    sys.path.insert(0, os.getcwd())
    try:
        module = _run_user_code(f"importing module '{target}'", None,
                                importlib.import_module, target)
    finally:
        sys.path.remove(os.getcwd())
    return vars(module), f"module '{target}'", getattr(module, "__file__", None)


def load_python_model(ref: str) -> Any:
    """The graphc Model that ``ref`` names."""
    from ..layers.base import Layer
    from ..models.model import Model
    parts = split_reference(ref)
    if parts is None:
        raise LoadError(f"'{ref}' is not a Python model reference; expected "
                        "path/to/file.py:attr or package.module:attr")
    target, attr = parts
    namespace, source, path = _namespace(target)
    first, *rest = attr.split(".")
    if first not in namespace:
        found = sorted(k for k, v in namespace.items()
                       if isinstance(v, Model) or (callable(v) and not k.startswith("_")
                                                   and getattr(v, "__module__", None) in
                                                   ("__graphc_model__", target)))
        raise LoadError(f"{source} has no attribute '{first}'; models and functions it "
                        f"defines: {', '.join(found) or 'none'}")
    value = namespace[first]
    for part in rest:
        if not hasattr(value, part):
            raise LoadError(f"{source}: '{attr}' cannot be resolved: no attribute '{part}'")
        value = getattr(value, part)
    if isinstance(value, Layer) and not isinstance(value, Model):
        raise LoadError(f"{ref} is a {value.type_name} layer, not a model; wrap it in "
                        "graphc.Model(inputs, outputs) or graphc.Sequential([...])")
    if not isinstance(value, Model) and callable(value):
        value = _run_user_code(f"calling {attr}() from {source}", path, value)
    if not isinstance(value, Model):
        raise LoadError(f"{ref} is {type(value).__name__}, expected a graphc Model or a "
                        "function with no arguments that returns one")
    return value


def load_python_module(ref: str) -> Module:
    """The IR of the model ``ref`` names (``Model.to_ir``)."""
    return load_python_model(ref).to_ir()
