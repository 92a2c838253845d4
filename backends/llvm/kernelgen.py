"""A primitive Func -> LLVM functions plus the metadata the runtime needs.

``KernelModule`` collects the kernels of one compile into a single
``llvmlite.ir.Module`` (one LLVM compile for all of them; the math helpers
are defined once).  ``add(func, symbol)`` plans the Func (``staging.py``)
and splits its stages at matmul stages: each run of other stages becomes
one LLVM function, so a Func without matmul (or with one matmul followed
by its epilogue) is exactly one function.  Steps run in order:

    CallStep(symbol, split)   i32 symbol(ptr buffers, ptr scalars, i64 lo, i64 hi)
    MatmulStep(a, b, out)     numpy.matmul(a, b, out=out) -- BLAS

ABI of a generated function: ``buffers`` points at one data pointer per
planned buffer (``KernelInfo.buffers``, C-contiguous arrays), ``scalars``
at the i64 run-time sizes (``KernelInfo.scalar_keys``, filled per input
shape by ``shapes.py``).  It returns 0, or the 1-based code of the first
failed run-time check (``KernelInfo.error_sites``).  A function made of a
single map or row stage runs only the iterations ``[lo, hi)`` of its
outermost loop, whose count is the product of the sizes of axes
``split[1]`` of value number ``split[0]`` (``CallStep.split``); the
runtime may then run disjoint ranges on several threads.  Other
functions ignore ``lo``/``hi`` (their ``split`` is None).  The exported symbol is
a thin wrapper that loads the pointers and calls an internal body whose
buffer arguments are ``noalias`` (the runtime never passes one array as two
buffers that are written), which is what lets LLVM vectorize without
run-time overlap checks.

``KernelInfo`` refers to values only by their structural numbering and
nodes by their index, never by object: a cached kernel serves every
structurally equal Func.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from llvmlite import ir

from ...ir.core import Func
from .evaluator import ErrorTable, Evaluator, ScalarTable
from .irtypes import I32, I64, PTR, i64
from .loops import Slot
from .mathlib import MathLib
from .stages import STAGE_EMITTERS, split_axes
from .staging import Buffer, KernelPlan, plan_kernel


@dataclass(frozen=True)
class CallStep:
    symbol: str
    split: tuple[int, tuple[int, ...]] | None = None


@dataclass(frozen=True)
class MatmulStep:
    a: Buffer
    b: Buffer
    out: Buffer


@dataclass
class KernelInfo:
    """Everything the runtime needs to run one compiled primitive Func."""

    buffers: list[Buffer]
    steps: list
    scalar_keys: list[tuple]
    error_sites: list[tuple[str, int, int]]
    stage_kinds: list[str]
    functions: list[ir.Function] = field(default_factory=list)
    symbols: list[str] = field(default_factory=list)

    @property
    def source(self) -> str:
        """The kernel's LLVM IR as generated (before optimization)."""
        return "\n".join(str(fn) for fn in self.functions)


class KernelModule:
    def __init__(self, name: str = "graphc_kernels") -> None:
        self.module = ir.Module(name)
        self.math = MathLib(self.module)

    def add(self, func: Func, symbol: str) -> KernelInfo:
        plan = plan_kernel(func)
        scalars, errors = ScalarTable(), ErrorTable()
        steps: list = []
        functions: list[ir.Function] = []
        run: list = []

        def flush() -> None:
            if run:
                name = f"{symbol}_{len([s for s in steps if isinstance(s, CallStep)])}"
                axes = split_axes(run[0]) if len(run) == 1 else None
                split = None if axes is None else (plan.numbering[run[0].domain], axes)
                functions.extend(self._function(name, plan, list(run), scalars, errors,
                                                split is not None))
                steps.append(CallStep(name, split))
                run.clear()

        for stage in plan.stages:
            if stage.kind == "matmul":
                flush()
                a, b = stage.node.inputs
                steps.append(MatmulStep(plan.leaf[a], plan.leaf[b], plan.leaf[stage.node.output]))
            else:
                run.append(stage)
        flush()
        return KernelInfo(plan.buffers, steps, scalars.keys, errors.sites,
                          [s.kind for s in plan.stages], functions,
                          [s.symbol for s in steps if isinstance(s, CallStep)])

    def _function(self, name: str, plan: KernelPlan, stages: list, scalars: ScalarTable,
                  errors: ErrorTable, splittable: bool) -> tuple[ir.Function, ir.Function]:
        count = len(plan.buffers)
        body = ir.Function(self.module, ir.FunctionType(I32, [PTR] * (count + 1) + [I64, I64]),
                           f"{name}.body")
        body.linkage = "internal"
        body.attributes.add("nounwind")
        for arg, buf in zip(body.args, plan.buffers):
            arg.name = f"{buf.role}{buf.index}_{_clean(buf.name)}"
            arg.add_attribute("noalias")
        body.args[count].name = "scalars"
        lo, hi = body.args[count + 1], body.args[count + 2]
        lo.name, hi.name = "lo", "hi"
        entry = ir.IRBuilder(body.append_basic_block("entry"))
        b = ir.IRBuilder(body.append_basic_block("start"))
        err = Slot(entry, entry, I32, ir.Constant(I32, 0), "err")
        err.b = b
        ev = Evaluator(plan, b, entry, self.math, list(body.args[:count]), body.args[count],
                       scalars, errors, err)
        for stage in stages:
            ev.stage = next(i for i, s in enumerate(plan.stages) if s is stage)
            STAGE_EMITTERS[stage.kind](ev, stage, (lo, hi) if splittable else None)
        b.ret(err.get())
        entry.branch(b.function.blocks[1])

        wrapper = ir.Function(self.module, ir.FunctionType(I32, [PTR, PTR, I64, I64]), name)
        wb = ir.IRBuilder(wrapper.append_basic_block("entry"))
        pointers = [wb.load(wb.gep(wrapper.args[0], [i64(k)], source_etype=PTR), typ=PTR)
                    for k in range(count)]
        wb.ret(wb.call(body, pointers + list(wrapper.args[1:])))
        return body, wrapper

    def text(self) -> str:
        return str(self.module)


def _clean(name: str) -> str:
    return "".join(c if c.isalnum() or c == "_" else "_" for c in name)[:24]
