"""Raw typed pointers for generated kernels.

Every kernel of a program receives one ``int64`` table ``P`` (see
``kernelgen.py``): array addresses first, then the error flag's address,
then runtime sizes.  ``ptr_<t>(P[k])`` turns an address back into a typed
numba ``CPointer``; indexing a CPointer is a plain load or store.

Why pointers and not numba arrays: a numba array index is signed, so every
``a[i]`` carries a negative-index wrap-around (``i < 0 ? i + n : i``) unless
LLVM can prove ``i >= 0``; with loops over ``range(lo, hi)`` it cannot, and
the select stopped or slowed the loop vectorizer (a fused gelu loop ran ~2x
slower).  Pointers also take no CPython wrapper to call: the program is one
C function (``compiler.py``), called through ctypes without the GIL.

Storage types: f32/f64/i32/i64 as themselves, bool as ``uint8`` (0 or 1:
numpy's layout), f16 as its ``uint16`` bits (``mathlib`` converts).

``stack_<t>(n)`` (``n`` a literal) is a kernel-local scratch array of ``n``
elements on the stack, allocated once in the function's entry block: the
accumulators of a column reduction (``stages.py``) live there, so no kernel
ever allocates heap memory (which would tie compiled code to numba's
runtime).
"""

from __future__ import annotations

from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _pointer_intrinsic(element):
    @intrinsic
    def cast(typingctx, address):
        if not isinstance(address, types.Integer):
            return None
        ptr_type = types.CPointer(element)

        def codegen(context, builder, signature, args):
            target = context.get_data_type(element).as_pointer()
            return builder.inttoptr(args[0], target)

        return ptr_type(address), codegen

    return cast


ptr_f32 = _pointer_intrinsic(types.float32)
ptr_f64 = _pointer_intrinsic(types.float64)
ptr_i32 = _pointer_intrinsic(types.int32)
ptr_i64 = _pointer_intrinsic(types.int64)
ptr_u8 = _pointer_intrinsic(types.uint8)
ptr_u16 = _pointer_intrinsic(types.uint16)



def _stack_intrinsic(element):
    @intrinsic
    def stack(typingctx, count):
        if not isinstance(count, types.IntegerLiteral) or count.literal_value < 1:
            return None
        size = count.literal_value

        def codegen(context, builder, signature, args):
            data = context.get_data_type(element)
            array = cgutils.alloca_once(builder, data, size=size)
            return array

        return types.CPointer(element)(count), codegen

    return stack


stack_f32 = _stack_intrinsic(types.float32)
stack_f64 = _stack_intrinsic(types.float64)
stack_i32 = _stack_intrinsic(types.int32)
stack_i64 = _stack_intrinsic(types.int64)

POINTER_HELPERS = {"ptr_f32": ptr_f32, "ptr_f64": ptr_f64, "ptr_i32": ptr_i32,
                   "ptr_i64": ptr_i64, "ptr_u8": ptr_u8, "ptr_u16": ptr_u16,
                   "stack_f32": stack_f32, "stack_f64": stack_f64, "stack_i32": stack_i32,
                   "stack_i64": stack_i64}
"""Every pointer helper a generated kernel may call, by name."""
