"""Hand-written recursive-descent parser for ``.gir`` text (grammar in
``printer.py``).

The parser checks what is syntax: tokens, names defined once and before use,
known ops, arity, attribute names and kinds, constant literals against their
declared type.  Whether the recorded types are *right* is the verifier's
job; ``parse_module(..., verify=True)`` (the default) runs it and reports a
failure at the ``FILE:LINE:COL`` of the offending node.

Every error is a ``ParseError``: ``FILE:LINE:COL: error: MESSAGE``, the source
line, a caret, and what was expected.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from typing import Any

import numpy as np

from graphc.errors import AttrError, GraphcError, ParseError, ShapeError, UnknownOpError, VerifyError

from .attrs import TENSOR, FuncRef, Ident, TensorValue
from .core import Func, Module, Node, Value
from .dtypes import DType
from .lexer import Source, Token, tokenize
from .loc import AnyLoc, FusedLoc, Loc
from .opdef import CALL, get_op
from .types import UNKNOWN, TensorType

MAX_NESTING = 64
MAX_RANK = 32
MAX_NAME_IN_MESSAGE = 60
_INT64_MAX = 2 ** 63 - 1


class _FuncScope:
    def __init__(self) -> None:
        self.values: dict[str, tuple[Value, int]] = {}


class Parser:
    def __init__(self, text: str, filename: str = "<string>") -> None:
        self.source = Source(text, filename)
        self.tokens = tokenize(self.source)
        self.pos = 0
        self.consts: dict[str, TensorValue] = {}
        self.spans: dict[int, int] = {}  # id(node or func) -> offset
        self.funcs: list[Func] = []

    # -- token helpers --------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        tok = self.tokens[self.pos]
        if tok.kind != "EOF":
            self.pos += 1
        return tok

    def at(self, text: str) -> bool:
        tok = self.tok
        return tok.text == text and tok.kind in ("PUNCT", "ARROW", "IDENT")

    def error(self, message: str, tok: Token | None = None, note: str | None = None) -> ParseError:
        tok = tok or self.tok
        return self.source.error(tok.offset, message, note)

    def expect(self, text: str, context: str) -> Token:
        if not self.at(text):
            raise self.error(f"expected '{text}' {context}, found {self.tok.describe()}")
        return self.advance()

    def string(self, tok: Token) -> str:
        """The text of a STRING token (JSON escapes); a bad escape is a ParseError."""
        try:
            return json.loads(tok.text)
        except json.JSONDecodeError as exc:
            raise self.source.error(tok.offset + exc.pos, f"invalid string literal: {exc.msg}",
                                    'expected JSON escapes such as \\n, \\t, \\" and no '
                                    "raw control characters") from None

    def integer(self, tok: Token, what: str, low: int = -_INT64_MAX - 1,
                high: int = _INT64_MAX) -> int:
        """An INT token as a bounded int (checked before converting huge digit runs)."""
        digits = tok.text.lstrip("-")
        value = int(tok.text) if len(digits) <= 20 else None
        if value is None or not low <= value <= high:
            raise self.error(f"{what} {_clip(tok.text)} is out of range "
                             f"(expected {low} to {high})", tok)
        return value

    def expect_kind(self, kind: str, what: str) -> Token:
        if self.tok.kind != kind:
            raise self.error(f"expected {what}, found {self.tok.describe()}")
        return self.advance()

    # -- module ----------------------------------------------------------
    def parse_module(self) -> Module:
        while self.at("const"):
            self.parse_const()
        names: dict[str, int] = {}
        while self.tok.kind != "EOF":
            if not self.at("func"):
                raise self.error(f"expected 'func' or end of file, found {self.tok.describe()}")
            start = self.tok
            func = self.parse_func()
            if func.name in names:
                line, _ = self.source.position(names[func.name])
                raise self.error(f"redefinition of function @{func.name} "
                                 f"(first defined on line {line})", start)
            names[func.name] = start.offset
            self.spans[id(func)] = start.offset
            self.funcs.append(func)
        if not self.funcs:
            raise self.error("empty module: expected at least one 'func'")
        return Module(self.funcs)

    def parse_const(self) -> None:
        self.advance()
        name_tok = self.expect_kind("SYMBOL", "a constant name such as @c0")
        name = name_tok.text[1:]
        if name in self.consts:
            raise self.error(f"redefinition of constant @{name}", name_tok)
        self.expect(":", "after the constant name")
        type_tok = self.tok
        ctype = self.parse_type()
        if not ctype.is_static:
            raise self.error(f"constant @{name} needs a static type, found {ctype}", type_tok)
        self.expect("=", "after the constant type")
        if not self.at("base64"):
            raise self.error(f"expected base64\"...\" data for constant @{name}, "
                             f"found {self.tok.describe()}")
        self.advance()
        data_tok = self.expect_kind("STRING", "a quoted base64 string")
        try:
            raw = base64.b64decode(self.string(data_tok), validate=True)
        except (binascii.Error, ValueError):
            raise self.error(f"constant @{name} holds invalid base64 data", data_tok) from None
        dtype = ctype.dtype.numpy.newbyteorder("<")
        expected = (ctype.size or 0) * dtype.itemsize
        if len(raw) != expected:
            raise self.error(f"constant @{name} of type {ctype} needs {expected} bytes, "
                             f"the data holds {len(raw)}", data_tok)
        try:
            array = np.frombuffer(raw, dtype=dtype).reshape(ctype.shape)
        except (ValueError, MemoryError):
            raise self.error(f"constant @{name} of type {ctype} cannot be materialized "
                             "(too many dimensions or elements)", type_tok) from None
        if ctype.dtype is DType.bool and raw and max(raw) > 1:
            raise self.error(f"constant @{name} holds bytes other than 0/1 for bool data",
                             data_tok)
        self.consts[name] = TensorValue(array.astype(ctype.dtype.numpy))

    # -- types -----------------------------------------------------------
    def parse_type(self) -> TensorType:
        tok = self.tok
        if tok.kind != "IDENT" or tok.text not in DType.__members__:
            raise self.error(f"expected a tensor type such as f32[N,10], found {tok.describe()}",
                             note="dtypes are f16, f32, f64, i32, i64, bool")
        self.advance()
        dtype = DType[tok.text]
        self.expect("[", "to open the shape of the type")
        dims: list[int | str] = []
        while not self.at("]"):
            if dims:
                self.expect(",", "between dimensions")
            dim_tok = self.tok
            if dim_tok.kind == "INT":
                if dim_tok.text.startswith("-") or len(dim_tok.text) > 19 or \
                        int(dim_tok.text) > _INT64_MAX:
                    raise self.error(f"invalid dimension {_clip(dim_tok.text)}: expected a size "
                                     "between 0 and 2**63-1, a symbol or '?'", dim_tok)
                dims.append(int(dim_tok.text))
            elif dim_tok.kind == "IDENT" or dim_tok.text == UNKNOWN:
                dims.append(dim_tok.text)
            else:
                raise self.error(f"expected a dimension (an int, a symbol such as N, or '?'), "
                                 f"found {dim_tok.describe()}")
            self.advance()
        self.advance()
        if len(dims) > MAX_RANK:
            raise self.error(f"a type of rank {len(dims)} exceeds graphc's limit of {MAX_RANK} "
                             "dimensions", tok)
        return TensorType(dtype, dims)

    # -- functions -------------------------------------------------------
    def parse_func(self) -> Func:
        self.advance()
        private = False
        if self.at("private"):
            self.advance()
            private = True
        name = self.expect_kind("SYMBOL", "a function name such as @main").text[1:]
        scope = _FuncScope()
        self.expect("(", "to open the parameter list")
        params: list[Value] = []
        while not self.at(")"):
            if params:
                self.expect(",", "between parameters")
            params.append(self.define(scope, self.parse_typed_name()))
        self.advance()
        self.expect("->", "before the result types")
        self.expect("(", "to open the result types")
        result_types: list[TensorType] = []
        while not self.at(")"):
            if result_types:
                self.expect(",", "between result types")
            result_types.append(self.parse_type())
        self.advance()
        primitive = False
        if self.at("attributes"):
            self.advance()
            self.expect("{", "to open the function attributes")
            key = self.expect_kind("IDENT", "a function attribute name")
            if key.text != "primitive":
                raise self.error(f"unknown function attribute '{key.text}'; "
                                 "the only one is 'primitive'", key)
            self.expect("=", "after the attribute name")
            if not (self.at("true") or self.at("false")):
                raise self.error(f"expected true or false, found {self.tok.describe()}")
            primitive = self.advance().text == "true"
            self.expect("}", "to close the function attributes")
        self.expect("{", "to open the function body")
        nodes: list[Node] = []
        while not self.at("return"):
            if self.tok.kind == "EOF" or self.at("}"):
                raise self.error(f"expected a node or 'return' in function @{name}, "
                                 f"found {self.tok.describe()}")
            nodes.append(self.parse_node(scope))
        ret_tok = self.advance()
        results: list[Value] = []
        if self.tok.kind == "VALUE":
            results.append(self.use(scope, self.advance()))
            while self.at(","):
                self.advance()
                results.append(self.use(scope, self.expect_kind("VALUE", "a %value to return")))
        if len(results) != len(result_types):
            raise self.error(f"function @{name} declares {len(result_types)} result(s) but "
                             f"returns {len(results)}", ret_tok)
        for value, declared in zip(results, result_types):
            if value.type != declared:
                raise self.error(f"function @{name} declares result type {declared} but "
                                 f"returns a value of type {value.type}", ret_tok)
        self.expect("}", f"to close function @{name}")
        return Func(name, tuple(params), tuple(nodes), tuple(results), private=private,
                    primitive=primitive)

    def parse_typed_name(self) -> tuple[Token, TensorType]:
        name_tok = self.expect_kind("VALUE", "a %name")
        self.expect(":", f"and a type after {name_tok.text}")
        return name_tok, self.parse_type()

    def define(self, scope: _FuncScope, named: tuple[Token, TensorType]) -> Value:
        tok, vtype = named
        name = tok.text[1:]
        if name in scope.values:
            line, _ = self.source.position(scope.values[name][1])
            raise self.error(f"redefinition of %{_clip(name)} (first defined on line {line})", tok,
                             note="every SSA value is defined exactly once")
        value = Value(vtype, name)
        scope.values[name] = (value, tok.offset)
        return value

    def use(self, scope: _FuncScope, tok: Token) -> Value:
        name = tok.text[1:]
        if name not in scope.values:
            raise self.error(f"use of undefined value %{_clip(name)}", tok,
                             note="a value must be defined (as a parameter or by an earlier "
                                  "node of the same function) before it is used")
        return scope.values[name][0]

    # -- nodes -----------------------------------------------------------
    def parse_node(self, scope: _FuncScope) -> Node:
        start = self.tok
        outs: list[tuple[Token, TensorType]] = [self.parse_typed_name()]
        while self.at(","):
            self.advance()
            outs.append(self.parse_typed_name())
        self.expect("=", "after the node results")
        op_tok = self.expect_kind("IDENT", "an op name")
        try:
            opdef = get_op(op_tok.text)
        except UnknownOpError as exc:
            raise self.error(str(exc), op_tok) from None
        attrs_given: dict[str, Any] = {}
        attr_tok = op_tok
        if opdef.name == CALL:
            callee = self.expect_kind("SYMBOL", "a callee such as @fused_0 after 'call'")
            attrs_given["callee"] = FuncRef(callee.text[1:])
        self.expect("(", f"to open the arguments of '{opdef.name}'")
        inputs: list[Value] = []
        while not self.at(")"):
            if inputs:
                self.expect(",", "between arguments")
            inputs.append(self.use(scope, self.expect_kind("VALUE", "a %value argument")))
        self.advance()
        try:
            opdef.check_arity(len(inputs))
        except ShapeError as exc:
            raise self.error(str(exc), op_tok) from None
        if opdef.num_outputs >= 0 and len(outs) != opdef.num_outputs:
            raise self.error(f"op '{opdef.name}' has {opdef.num_outputs} result(s), "
                             f"the node names {len(outs)}", start)
        if self.at("{") and opdef.name != CALL:
            attr_tok = self.tok
            attrs_given.update(self.parse_attr_dict())
        loc = self.parse_loc() if self.at("loc") else None
        attrs_given = self.resolve_tensor_attrs(opdef, attrs_given, [t for _, t in outs], attr_tok)
        try:
            attrs = opdef.make_attrs(attrs_given)
        except AttrError as exc:
            raise self.error(str(exc), attr_tok) from None
        outputs = tuple(self.define(scope, out) for out in outs)
        node = Node(opdef, tuple(inputs), attrs, outputs, loc)
        self.spans[id(node)] = start.offset
        return node

    def resolve_tensor_attrs(self, opdef, given: dict[str, Any], out_types: list[TensorType],
                             tok: Token) -> dict[str, Any]:
        """Turn literal/@ref tensor attributes into TensorValues of the result type."""
        for spec in opdef.attrs:
            if spec.kind is not TENSOR or spec.name not in given:
                continue
            raw = given[spec.name]
            if len(out_types) != 1 or not out_types[0].is_static:
                raise self.error(f"attribute '{spec.name}' of '{opdef.name}' needs one static "
                                 "result type to give its literal a dtype and shape", tok)
            given[spec.name] = self.tensor_literal(raw, out_types[0], tok)
        return given

    def tensor_literal(self, raw: Any, vtype: TensorType, tok: Token) -> TensorValue:
        if isinstance(raw, FuncRef):
            if raw.name not in self.consts:
                raise self.error(f"reference to undefined constant @{raw.name}", tok,
                                 note="large constants are defined at the top of the file "
                                      "with: const @name: TYPE = base64\"...\"")
            value = self.consts[raw.name]
            if value.dtype != vtype.dtype or value.shape != vtype.shape:
                raise self.error(f"constant @{raw.name} has type {value.dtype.short}"
                                 f"{list(value.shape)}, the node declares {vtype}", tok)
            return value
        dtype = vtype.dtype
        try:
            flat, shape = _flatten_literal(raw)
        except ValueError as exc:
            raise self.error(f"malformed tensor literal: {exc}", tok) from None
        if vtype.size == 0 and flat == []:
            try:
                return TensorValue(np.zeros(vtype.shape, dtype.numpy))
            except (ValueError, MemoryError):
                raise self.error(f"a constant of type {vtype} cannot be materialized "
                                 "(too many dimensions or elements)", tok) from None
        if tuple(shape) != vtype.shape:
            raise self.error(f"tensor literal has shape {tuple(shape)} but the node declares "
                             f"{vtype}", tok)
        for item in flat:
            ok = (isinstance(item, bool) if dtype is DType.bool else
                  isinstance(item, int) and not isinstance(item, bool) if dtype.is_int else
                  isinstance(item, (int, float)) and not isinstance(item, bool))
            if not ok:
                raise self.error(f"tensor literal element {_show(item)} does not fit dtype "
                                 f"{dtype.short}", tok)
        try:
            with np.errstate(over="raise"):
                array = np.array(flat, dtype=dtype.numpy).reshape(vtype.shape)
        except (OverflowError, FloatingPointError):
            raise self.error(f"tensor literal element out of range for {dtype.short}", tok) from None
        return TensorValue(array)

    # -- attributes --------------------------------------------------------
    def parse_attr_dict(self) -> dict[str, Any]:
        self.advance()
        attrs: dict[str, Any] = {}
        while not self.at("}"):
            if attrs:
                self.expect(",", "between attributes")
            key = self.expect_kind("IDENT", "an attribute name")
            if key.text in attrs:
                raise self.error(f"attribute '{key.text}' is given twice", key)
            self.expect("=", f"after attribute name '{key.text}'")
            attrs[key.text] = self.parse_attr_value(0)
        self.advance()
        return attrs

    def parse_attr_value(self, depth: int) -> Any:
        if depth > MAX_NESTING:
            raise self.error(f"attribute value nested deeper than {MAX_NESTING} levels")
        tok = self.tok
        if tok.kind == "INT":
            self.advance()
            return self.integer(tok, "integer")
        if tok.kind == "FLOAT":
            self.advance()
            value = float(tok.text)
            if math.isinf(value):
                raise self.error(f"float literal {_clip(tok.text)} overflows a 64-bit float; "
                                 "write inf for an infinity", tok)
            return value
        if tok.kind == "STRING":
            self.advance()
            return self.string(tok)
        if tok.kind == "SYMBOL":
            self.advance()
            return FuncRef(tok.text[1:])
        if tok.kind == "IDENT":
            self.advance()
            return {"true": True, "false": False, "none": None}.get(tok.text, Ident(tok.text))
        if tok.text == "-" and self.tokens[self.pos + 1].text in ("inf", "nan"):
            self.advance()
            self.advance()
            return -float(self.tokens[self.pos - 1].text)   # -nan: a NaN with its sign bit
        if tok.text == "?":
            self.advance()
            return Ident("?")
        if tok.text == "[":
            self.advance()
            items = []
            while not self.at("]"):
                if items:
                    self.expect(",", "between list elements")
                if self.tok.kind == "EOF":
                    raise self.error("expected ']' to close the list, found end of file")
                items.append(self.parse_attr_value(depth + 1))
            self.advance()
            return items
        raise self.error(f"expected an attribute value (number, true/false, none, string, "
                         f"list, dtype, symbol or @name), found {tok.describe()}")

    def parse_loc(self) -> AnyLoc:
        self.advance()
        self.expect("(", "after 'loc'")
        if self.at("fused"):
            self.advance()
            self.expect("[", "after 'fused'")
            parts: list[Loc] = []
            while not self.at("]"):
                if parts:
                    self.expect(",", "between fused locations")
                if not self.at("loc"):
                    raise self.error(f"expected loc(...) inside fused[...], found "
                                     f"{self.tok.describe()}")
                if self.tokens[self.pos + 2].text == "fused":
                    raise self.error("fused locations cannot be nested",
                                     self.tokens[self.pos + 2],
                                     note='expected a plain loc("path", "file":line)')
                part = self.parse_loc()
                assert isinstance(part, Loc)
                parts.append(part)
            self.advance()
            self.expect(")", "to close loc(fused[...])")
            return FusedLoc(tuple(parts))
        path = self.string(self.expect_kind("STRING", "a quoted layer path in loc(...)"))
        file, line = None, None
        if self.at(","):
            self.advance()
            file = self.string(self.expect_kind("STRING", "a quoted file name"))
            if self.at(":"):
                self.advance()
                line = self.integer(self.expect_kind("INT", "a line number"), "line number",
                                    low=0)
        self.expect(")", "to close loc(...)")
        return Loc(path, file, line)


def _clip(text: str) -> str:
    """Long user text shortened for a message."""
    if len(text) <= MAX_NAME_IN_MESSAGE:
        return text
    return text[:MAX_NAME_IN_MESSAGE - 3] + "..."


def _show(item: Any) -> str:
    if isinstance(item, Ident):
        return item.name
    if isinstance(item, bool):
        return "true" if item else "false"
    return repr(item)


def _flatten_literal(raw: Any) -> tuple[list, list[int]]:
    """Flatten a nested list literal, checking it is rectangular."""
    if isinstance(raw, Ident) and raw.name in ("inf", "nan"):
        return [float(raw.name)], []
    if not isinstance(raw, list):
        if isinstance(raw, (int, float, bool)):
            return [raw], []
        raise ValueError(f"expected a number, true/false or a nested list, found {_show(raw)}")
    if not raw:
        return [], [0]
    parts = [_flatten_literal(item) for item in raw]
    inner = parts[0][1]
    if any(p[1] != inner for p in parts):
        raise ValueError("the nested lists are not rectangular")
    return [x for p in parts for x in p[0]], [len(raw)] + inner


def parse_module(text: str, filename: str = "<string>", *, verify: bool = True) -> Module:
    """Parse ``.gir`` text.  With ``verify`` the verifier runs too, and its
    errors are reported at the file position of the offending node."""
    parser = Parser(text, filename)
    module = parser.parse_module()
    if verify:
        from .verifier import verify_module
        try:
            verify_module(module)
        except VerifyError as exc:
            anchor = getattr(exc, "node", None) or getattr(exc, "func", None)
            offset = parser.spans.get(id(anchor)) if anchor is not None else None
            if offset is None:
                raise
            line, col = parser.source.position(offset)
            raise ParseError(exc.headline, filename=filename, line=line, col=col,
                             source_line=parser.source.line_text(line),
                             note=exc.context) from None
    return module


def parse_file(path: str) -> Module:
    """Read and parse a ``.gir`` file; undecodable bytes are a ParseError."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise GraphcError(f"cannot read {path}: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
        text = text[1:] if text.startswith("\ufeff") else text  # a byte-order mark
    except UnicodeDecodeError as exc:
        prefix = data[:exc.start].decode("utf-8", errors="replace")
        line = prefix.count("\n") + 1
        col = len(prefix) - prefix.rfind("\n")
        raise ParseError(f"the file is not UTF-8 text (invalid byte 0x{data[exc.start]:02x})",
                         filename=path, line=line, col=col,
                         note="expected a .gir text file") from None
    return parse_module(text, path)
