"""The canonical ``.gir`` printer.

Grammar of the printed text (the parser accepts exactly this, plus comments
and free whitespace)::

    module   := (const-def NL)* (NL? func)*
    const    := "const" "@" NAME ":" type "=" "base64" STRING
    func     := "func" ["private"] "@" NAME "(" params ")" "->" "(" types ")"
                ["attributes" "{" "primitive" "=" "true" "}"] "{" NL
                  (node NL)*  "return" [values] NL "}"
    node     := results "=" OP "(" values ")" [attrs] [loc]
              | results "=" "call" "@" NAME "(" values ")" [loc]
    results  := "%" NAME ":" type ("," "%" NAME ":" type)*
    attrs    := "{" NAME "=" attr-value ("," NAME "=" attr-value)* "}"

Determinism: functions in module order, nodes in their (topological) order,
attributes sorted by name, SSA names from each value's hint made unique with
``_1`` suffixes (unnamed values get the lowest free number), large constants
(more than ``INLINE_MAX_ELEMENTS`` elements) in a table at the top named
``@c0, @c1 ...`` in order of first use.  Hence ``print(parse(t)) == t`` for
text this printer produced.
"""

from __future__ import annotations

import base64
import re
from typing import Iterable

from .attrs import TENSOR, TensorValue
from .core import Func, Module, Node, Value
from .opdef import CALL

INLINE_MAX_ELEMENTS = 32
_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.]")


class ConstTable:
    """Names for constants too large to print inline, shared by a module."""

    def __init__(self) -> None:
        self.names: dict[TensorValue, str] = {}

    def ref(self, value: TensorValue) -> str:
        if value not in self.names:
            self.names[value] = f"c{len(self.names)}"
        return "@" + self.names[value]

    def lines(self) -> list[str]:
        out = []
        for value, name in self.names.items():
            data = base64.b64encode(value.array.astype(value.array.dtype.newbyteorder("<"))
                                    .tobytes()).decode("ascii")
            shape = ",".join(str(d) for d in value.shape)
            out.append(f'const @{name}: {value.dtype.short}[{shape}] = base64"{data}"')
        return out


class NameScope:
    """Unique printed names for the values of one function."""

    def __init__(self, func: Func) -> None:
        values = list(func.params) + [o for n in func.nodes for o in n.outputs]
        taken: set[str] = set()
        self.names: dict[Value, str] = {}
        pending: list[Value] = []
        for v in values:
            if v in self.names:
                continue
            if v.name:
                base = _NAME_CHARS.sub("_", v.name)
                name, k = base, 0
                while name in taken:
                    k += 1
                    name = f"{base}_{k}"
                taken.add(name)
                self.names[v] = name
            else:
                pending.append(v)
                self.names[v] = ""
        counter = 0
        for v in pending:
            while str(counter) in taken:
                counter += 1
            self.names[v] = str(counter)
            taken.add(str(counter))

    def __getitem__(self, value: Value) -> str:
        try:
            return "%" + self.names[value]
        except KeyError:
            return f"%<undefined {value.type}>"


def format_attrs(node: Node, consts: ConstTable | None) -> str:
    parts = []
    for spec in sorted(node.op.attrs, key=lambda s: s.name):
        value = node.attrs.get(spec.name)
        if spec.kind is TENSOR and consts is not None and value.array.size > INLINE_MAX_ELEMENTS:
            text = consts.ref(value)
        else:
            text = spec.kind.format(value)
        parts.append(f"{spec.name} = {text}")
    return " {" + ", ".join(parts) + "}" if parts else ""


def format_node(node: Node, names: NameScope, consts: ConstTable | None = None) -> str:
    results = ", ".join(f"{names[o]}: {o.type}" for o in node.outputs)
    args = ", ".join(names[v] for v in node.inputs)
    if node.op.name == CALL:
        body = f"call @{node.attrs['callee']}({args})"
    else:
        body = f"{node.op.name}({args}){format_attrs(node, consts)}"
    text = f"{results} = {body}" if node.outputs else body
    if node.loc is not None:
        text += f" {node.loc}"
    return text


def func_lines(func: Func, consts: ConstTable | None = None) -> list[tuple[str, Node | None]]:
    """The printed lines of ``func``, each paired with its node (None otherwise)."""
    names = NameScope(func)
    params = ", ".join(f"{names[p]}: {p.type}" for p in func.params)
    results = ", ".join(str(t) for t in func.result_types)
    head = "func " + ("private " if func.private else "") + f"@{func.name}({params}) -> ({results})"
    if func.primitive:
        head += " attributes {primitive = true}"
    lines: list[tuple[str, Node | None]] = [(head + " {", None)]
    for node in func.nodes:
        lines.append(("  " + format_node(node, names, consts), node))
    ret = "  return"
    if func.results:
        ret += " " + ", ".join(names[r] for r in func.results)
    lines.append((ret, None))
    lines.append(("}", None))
    return lines


def print_func(func: Func) -> str:
    return "\n".join(text for text, _ in func_lines(func)) + "\n"


def print_module(module: Module | Func | Iterable[Func]) -> str:
    """Canonical text of a module (a lone Func prints as a one-function module)."""
    funcs = [module] if isinstance(module, Func) else list(module)
    consts = ConstTable()
    blocks = ["\n".join(text for text, _ in func_lines(f, consts)) for f in funcs]
    header = consts.lines()
    text = "\n\n".join(blocks) + "\n"
    if header:
        text = "\n".join(header) + "\n\n" + text
    return text
