"""Random valid graphs for property tests, drawn with hypothesis.

``draw_graph(draw)`` builds one Func with ``graphc.ir.Builder``:

* a base shape from ``BASE_SHAPES`` (0-d, size-0, size-1 and symbolic
  ``N`` dims included) and a dtype from all six;
* parameters whose shapes broadcast against the base shape;
* 1..``MAX_STEPS`` steps, each an op on values drawn from the pool:
  elementwise, broadcasting binaries and comparisons, ``where``, casts,
  reductions and softmax, movement ops, ``matmul``, constants (often 0, 1,
  -1, 2 so that identities apply), and "bait" that the passes must handle:
  double negation, ``x - x``, ``x * 1``, duplicated expressions, transpose
  of transpose, reshape of reshape and all-constant subgraphs.

A step whose operands do not fit (the Builder raises ShapeError) is
skipped, so every drawn graph is valid by construction.  Every node carries
a ``loc`` naming its step, so tests can check that passes keep locations.
``n_size`` is the run-time size of ``N``.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from graphc.errors import ShapeError
from graphc.ir import Builder, Func, Loc, Module, TensorType, Value, print_module
from graphc.ir.dtypes import ALL_DTYPES, DType

BASE_SHAPES = [(), (1,), (3,), (0,), (2, 3), (1, 3), (2, 1), (3, 0), ("N",), ("N", 3),
               ("N", 1, 2), (2, 2, 2)]
MAX_STEPS = 10

FLOAT_UNARY = ["neg", "abs", "exp", "log", "sqrt", "rsqrt", "square", "reciprocal", "tanh",
               "sigmoid", "relu", "gelu", "erf", "sign"]
INT_UNARY = ["neg", "abs", "square", "relu", "sign"]
FLOAT_BINARY = ["add", "sub", "mul", "div", "pow", "maximum", "minimum"]
INT_BINARY = ["add", "sub", "mul", "maximum", "minimum"]
COMPARE = ["eq", "ne", "lt", "le", "gt", "ge"]
SPECIAL = [0, 1, -1, 2, 0.5, 3]


class Drawn:
    """A drawn graph and the run-time size of ``N``."""

    def __init__(self, module: Module, n_size: int) -> None:
        self.module = module
        self.n_size = n_size

    def __repr__(self) -> str:  # hypothesis shows this for a failing example
        return f"Drawn(N={self.n_size}):\n{print_module(self.module)}"

    def inputs(self, seed: int) -> list[np.ndarray]:
        rng = np.random.default_rng(seed)
        arrays = []
        for p in self.module.entry.params:
            shape = tuple(self.n_size if d == "N" else d for d in p.type.shape)
            if p.type.dtype.is_float:
                a = np.where(rng.random(shape) < 0.1, 0.0, rng.standard_normal(shape) * 2)
            elif p.type.dtype.is_bool:
                a = rng.random(shape) < 0.5
            else:
                a = rng.integers(-4, 5, shape)
            arrays.append(np.asarray(a).astype(p.type.dtype.numpy))
        return arrays


def _broadcastable(draw, base: tuple) -> tuple:
    keep = draw(st.integers(0, len(base)))
    dims = list(base[len(base) - keep:])
    return tuple(1 if draw(st.booleans()) and d != 1 else d for d in dims)


class _Gen:
    def __init__(self, draw, dtype: DType, base: tuple) -> None:
        self.draw = draw
        self.b = Builder("g")
        self.base = base
        self.pool: list[Value] = []

    def pick(self, dtype_test=None) -> Value | None:
        values = [v for v in self.pool if dtype_test is None or dtype_test(v.type.dtype)]
        if not values:
            return None
        index = self.draw(st.integers(0, len(values) - 1))
        return values[-1 - index if self.draw(st.booleans()) else index]

    def constant_for(self, v: Value) -> Value:
        shape = self.draw(st.sampled_from([(), _broadcastable(self.draw, v.type.shape)]))
        shape = tuple(d if isinstance(d, int) else 1 for d in shape)
        value = self.draw(st.sampled_from(SPECIAL))
        if self.draw(st.booleans()):
            array = np.full(shape, value)
        else:
            array = np.random.default_rng(self.draw(st.integers(0, 99))).integers(-3, 4, shape)
        return self.b.constant(np.asarray(array).astype(v.type.dtype.numpy), v.type.dtype)

    def emit(self, op: str, *args: Value, **attrs) -> None:
        try:
            self.pool.append(self.b.emit(op, *args, **attrs))
        except ShapeError:
            pass

    def step(self) -> None:
        kind = self.draw(st.sampled_from(
            ["unary", "binary", "binary_const", "compare", "where", "cast", "reduce",
             "softmax", "move", "matmul", "bait", "bait", "const_chain"]))
        getattr(self, "step_" + kind)()

    def step_unary(self) -> None:
        v = self.pick(lambda d: not d.is_bool)
        if v is not None:
            ops = FLOAT_UNARY if v.type.dtype.is_float else INT_UNARY
            self.emit(self.draw(st.sampled_from(ops)), v)

    def _binary(self, v: Value, w: Value) -> None:
        ops = FLOAT_BINARY if v.type.dtype.is_float else INT_BINARY
        self.emit(self.draw(st.sampled_from(ops)), v, w)

    def step_binary(self) -> None:
        v = self.pick(lambda d: not d.is_bool)
        if v is not None:
            w = self.pick(lambda d, want=v.type.dtype: d == want)
            self._binary(v, w)

    def step_binary_const(self) -> None:
        v = self.pick(lambda d: not d.is_bool)
        if v is not None:
            c = self.constant_for(v)
            self._binary(*((v, c) if self.draw(st.booleans()) else (c, v)))

    def step_compare(self) -> None:
        v = self.pick()
        if v is not None:
            ops = ["eq", "ne"] if v.type.dtype.is_bool else COMPARE
            w = self.pick(lambda d, want=v.type.dtype: d == want)
            self.emit(self.draw(st.sampled_from(ops)), v, w)

    def step_where(self) -> None:
        cond = self.pick(lambda d: d.is_bool)
        v = self.pick()
        if cond is not None and v is not None:
            w = self.pick(lambda d, want=v.type.dtype: d == want)
            self.emit("where", cond, v, w)

    def step_cast(self) -> None:
        v = self.pick()
        if v is not None:
            self.emit("cast", v, dtype=self.draw(st.sampled_from(ALL_DTYPES)))

    def step_reduce(self) -> None:
        v = self.pick(lambda d: not d.is_bool)
        if v is None:
            return
        ops = ["sum", "max", "min", "argmax"] + (["mean"] if v.type.dtype.is_float else [])
        op = self.draw(st.sampled_from(ops))
        rank = v.type.rank
        if op == "argmax":
            if rank:
                self.emit(op, v, axis=self.draw(st.integers(-rank, rank - 1)),
                          keepdims=self.draw(st.booleans()))
            return
        axes = self.draw(st.sampled_from([None, [], list(range(rank))[:1], [-1] if rank else []]))
        self.emit(op, v, axes=axes, keepdims=self.draw(st.booleans()))

    def step_softmax(self) -> None:
        v = self.pick(lambda d: d.is_float)
        if v is not None and v.type.rank:
            self.emit(self.draw(st.sampled_from(["softmax", "log_softmax"])), v, axis=-1)

    def step_move(self) -> None:
        v = self.pick()
        if v is None:
            return
        rank = v.type.rank
        choice = self.draw(st.sampled_from(["transpose", "reshape", "expand", "broadcast",
                                            "slice", "squeeze"]))
        if choice == "transpose":
            perm = self.draw(st.permutations(list(range(rank))))
            self.emit("transpose", v, perm=perm)
        elif choice == "reshape":
            self.emit("reshape", v, shape=[-1])
        elif choice == "expand":
            self.emit("expand_dims", v, axes=[0])
        elif choice == "broadcast":
            self.emit("broadcast_to", v, shape=(2,) + tuple(self.base))
        elif choice == "slice" and rank:
            self.emit("slice", v, axes=[0], starts=[None], stops=[None],
                      steps=[self.draw(st.sampled_from([1, -1, 2]))])
        elif choice == "squeeze" and v.type.is_static:
            self.emit("squeeze", v, axes=None)

    def step_matmul(self) -> None:
        v = self.pick(lambda d: d.is_float or d.is_int)
        if v is None or v.type.rank == 0:
            return
        k = v.type.shape[-1]
        if not isinstance(k, int):
            return
        w = self.b.param(TensorType(v.type.dtype, (k, 2)), f"w{len(self.b.params)}")
        self.emit("matmul", v, w)
        if self.pool and self.pool[-1].type.rank and self.draw(st.booleans()):
            bias = self.b.param(TensorType(v.type.dtype, (2,)), f"b{len(self.b.params)}")
            self.emit("add", self.pool[-1], bias)
            if v.type.dtype.is_float:
                self.emit(self.draw(st.sampled_from(["relu", "tanh", "sigmoid"])), self.pool[-1])

    def step_bait(self) -> None:
        v = self.pick(lambda d: not d.is_bool)
        if v is None:
            return
        try:
            self._bait(v)
        except ShapeError:
            pass

    def _bait(self, v: Value) -> None:
        bait = self.draw(st.sampled_from(["negneg", "self_sub", "times_one", "plus_zero",
                                          "duplicate", "transpose2", "reshape2"]))
        if bait == "negneg":
            self.emit("neg", self.b.emit("neg", v))
        elif bait == "self_sub":
            self.emit("sub", v, v)
        elif bait in ("times_one", "plus_zero"):
            one = self.b.constant(np.array(1 if bait == "times_one" else 0, v.type.dtype.numpy))
            self.emit("mul" if bait == "times_one" else "add", one, v)
        elif bait == "duplicate":
            node = next((n for n in reversed(self.b.nodes) if n.op.name not in ("constant",)
                         and n.outputs[0] in self.pool), None)
            if node is not None:
                self.emit(node.op.name, *node.inputs, **dict(node.attrs))
        elif bait == "transpose2":
            self.emit("transpose", self.b.emit("transpose", v))
        else:
            self.emit("reshape", self.b.emit("reshape", v, shape=[-1]),
                      shape=list(v.type.shape) if v.type.is_static else [-1])

    def step_const_chain(self) -> None:
        dtype = self.draw(st.sampled_from([DType.f32, DType.f64, DType.i32, DType.i64]))
        shape = self.draw(st.sampled_from([(), (2,), (2, 3)]))
        c = self.b.constant(np.arange(int(np.prod(shape)), dtype=dtype.numpy).reshape(shape) + 1)
        d = self.b.emit("mul", c, self.b.constant(np.array(2, dtype.numpy)))
        self.pool.append(self.b.emit("add", d, c))


@st.composite
def graphs(draw) -> Drawn:
    base = draw(st.sampled_from(BASE_SHAPES))
    dtype = draw(st.sampled_from(ALL_DTYPES))
    gen = _Gen(draw, dtype, base)
    gen.pool.append(gen.b.param(TensorType(dtype, base), "x"))
    for i in range(draw(st.integers(0, 2))):
        extra_dtype = draw(st.sampled_from([dtype, DType.bool, DType.f32]))
        gen.pool.append(gen.b.param(TensorType(extra_dtype, _broadcastable(draw, base)), f"p{i}"))
    inputs = len(gen.pool)
    for i in range(draw(st.integers(1, MAX_STEPS))):
        with gen.b.at(Loc(f"model/layer_{i}", "model.py", i + 1)):
            gen.step()
    produced = gen.pool[inputs:] or gen.pool
    count = draw(st.integers(1, min(3, len(produced))))
    results = draw(st.lists(st.sampled_from(produced), min_size=count, max_size=count))
    func: Func = gen.b.finish(*results)
    return Drawn(Module([func]), draw(st.sampled_from([0, 1, 2, 3])))
