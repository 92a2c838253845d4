"""``graphc`` command-line entry point.

Each command lives in a module of this package that exposes
``register(subparsers)``; the module list below is the whole command set.
``main`` owns error reporting: a ``GraphcError`` becomes one message on
stderr and exit status 1, argparse usage errors exit 2, and anything else is
reported as an internal error (with the traceback only under
``--traceback``), so a user never sees a raw Python traceback.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from typing import Sequence

from graphc import __version__
from graphc.errors import GraphcError, ParseError

from . import cmd_bench, cmd_grad, cmd_info, cmd_ir, cmd_opt, cmd_plot

COMMAND_MODULES = [cmd_ir, cmd_info, cmd_opt, cmd_bench, cmd_plot, cmd_grad]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's exit status 2 with our prefix
        self.print_usage(sys.stderr)
        self.exit(2, f"graphc: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="graphc", description="graphc: a graph compiler for neural networks")
    parser.add_argument("--version", action="version", version=f"graphc {__version__}")
    parser.add_argument("--traceback", action="store_true",
                        help="show Python tracebacks for internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = args.handler(args)
        sys.stdout.flush()
        return int(status or 0)
    except ParseError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except GraphcError as exc:
        print(f"graphc: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print("graphc: interrupted", file=sys.stderr)
        return 130
    except MemoryError as exc:  # the input asks for more than this machine has
        print(f"graphc: error: not enough memory to finish ({exc or 'allocation failed'}); "
              "try smaller inputs (--dim) or a machine with more memory", file=sys.stderr)
        return 1
    except Exception as exc:  # pragma: no cover - exercised only by bugs
        if args.traceback:
            traceback.print_exc()
        print(f"graphc: internal error: {type(exc).__name__}: {exc}\n"
              "This is a bug in graphc; rerun with --traceback for details.", file=sys.stderr)
        return 70


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
