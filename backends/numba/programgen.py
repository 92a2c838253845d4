"""Assemble every kernel of a compiled model into one program source.

The program is a single Python function that numba compiles once
(``compiler.py`` says why one)::

    def graphc_program(kid, lo, hi, P):
        if kid == 0:
            <body of kernel 0>
            return
        if kid == 1:
            ...

Kernel ``kid`` runs outer iterations ``lo:hi`` over its table ``P``
(``kernelgen.KernelFunction``).  Kernels are numbered in program order;
a primitive Func called twice contributes its kernels once.  Locals may
reuse a name in two branches with different types: each branch ends in
``return``, so numba never merges them.

The header imports the helpers kernels call by name; importing it needs
numba, so only a cold compile executes it.
"""

from __future__ import annotations

from .kernelgen import KernelFunction

ENTRY = "graphc_program"

MATH_HELPERS = ("erf_f32", "erfc_f32", "exp_f32", "f16_to_f32", "f32_to_f16", "gelu_erf_f32",
                "gelu_erf_f64", "gelu_tanh_f32", "gelu_tanh_f64", "random_uniform_f32",
                "round_f16", "sigmoid_f32", "sigmoid_f64", "tanh_f32")
"""Names ``mathlib.HELPERS`` provides (a test keeps the two in step)."""

POINTER_HELPERS = ("ptr_f32", "ptr_f64", "ptr_i32", "ptr_i64", "ptr_u8", "ptr_u16",
                   "stack_f32", "stack_f64", "stack_i32", "stack_i64")
"""Names ``pointers.POINTER_HELPERS`` provides."""

HEADER = (
    '"""graphc numba program (generated; see graphc.backends.numba.programgen)."""\n'
    "import math\n"
    "import numpy as np\n"
    f"from graphc.backends.numba.mathlib import {', '.join(MATH_HELPERS)}\n"
    f"from graphc.backends.numba.pointers import {', '.join(POINTER_HELPERS)}\n"
    "F32 = np.float32\nF64 = np.float64\nI32 = np.int32\nI64 = np.int64\nU8 = np.uint8\n"
    "INF = np.inf\nNAN = np.nan\n"
)


def program_source(kernels: list[KernelFunction]) -> str:
    """The program holding ``kernels``; kernel ``i`` of the list is ``kid == i``."""
    lines = [HEADER, "", f"def {ENTRY}(kid, lo, hi, P):"]
    for kid, kernel in enumerate(kernels):
        lines.append(f"    if kid == {kid}:")
        lines.extend("    " + line for line in kernel.body.rstrip("\n").splitlines())
        lines.append("        return")
    if not kernels:
        lines.append("    return")
    return "\n".join(lines) + "\n"
