"""Load a compiled program's machine code with llvmlite alone (no numba).

A cached program is one relocatable object file (ELF on Linux) holding the
C-callable entry ``void program(int64 kid, int64 lo, int64 hi, int64 *P)``
that numba compiled.  Loading it needs only llvmlite's MCJIT: add the
object to a process-wide execution engine, resolve its external symbols,
take the entry's address and wrap it in a ctypes function pointer.  A warm
process therefore never imports numba (importing numba alone costs ~0.3 s).

External symbols of numba-compiled code, and how each is resolved:

* Python C-API functions and libm (``PyErr_*``, ``expf`` ...): exported by
  the running interpreter and the libraries it loaded;
* ``numba_gil_ensure`` / ``numba_gil_release`` (numba's C helpers, only on
  the error path of a C callback, which our kernels never take): defined by
  a small LLVM module, ``_GIL_STUBS``, with the same behaviour;
* any other numba helper (f64 ``erf`` calls ``numba_erf``): registered by
  initialising numba's CPU target, which is done only when such a symbol is
  actually needed.

MCJIT aborts the whole process on a symbol it cannot resolve, so every
undefined symbol of an ELF object is checked *before* the object is added;
an object with an unresolvable symbol is refused with a ``BackendError``.
Non-ELF objects (other platforms) initialise numba's target first, which
registers every helper numba code can reference.
"""

from __future__ import annotations

import ctypes
import struct
import threading

from graphc.errors import BackendError

PROGRAM_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64,
                                ctypes.c_void_p)
"""ctypes type of a program entry: ``(kid, lo, hi, table address)``; ctypes
releases the GIL for the call, so pool threads run kernels in parallel."""

_GIL_STUBS = r"""
declare i32 @PyGILState_Ensure()
declare void @PyGILState_Release(i32)

define void @numba_gil_ensure(i32* %state) {
  %g = call i32 @PyGILState_Ensure()
  store i32 %g, i32* %state
  ret void
}

define void @numba_gil_release(i32* %state) {
  %g = load i32, i32* %state
  call void @PyGILState_Release(i32 %g)
  ret void
}
"""
_STUB_SYMBOLS = frozenset({"numba_gil_ensure", "numba_gil_release"})

_LOCK = threading.Lock()
_ENGINE = None
_KEEP: list = []          # object file references must outlive their code


def _engine():
    global _ENGINE
    if _ENGINE is None:
        import llvmlite.binding as llvm
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        target = llvm.Target.from_default_triple()
        machine = target.create_target_machine(cpu=llvm.get_host_cpu_name(),
                                               features=llvm.get_host_cpu_features().flatten(),
                                               codemodel="jitdefault")
        stubs = llvm.parse_assembly(_GIL_STUBS)
        stubs.verify()
        _ENGINE = llvm.create_mcjit_compiler(stubs, machine)
        _ENGINE.finalize_object()
    return _ENGINE


def undefined_symbols(obj: bytes) -> list[str] | None:
    """Names of the undefined symbols of a little-endian ELF64 object, or None
    when ``obj`` is not one."""
    if obj[:4] != b"\x7fELF" or obj[4] != 2 or obj[5] != 1:
        return None
    shoff, = struct.unpack_from("<Q", obj, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", obj, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", obj, shoff + i * shentsize)
                for i in range(shnum)]
    names: list[str] = []
    for sh in sections:
        if sh[1] != 2:      # SHT_SYMTAB
            continue
        offset, size, link, entsize = sh[4], sh[5], sh[6], sh[9] or 24
        strtab = sections[link][4]
        for pos in range(offset, offset + size, entsize):
            st_name, _info, _other, st_shndx = struct.unpack_from("<IBBH", obj, pos)
            if st_shndx == 0 and st_name:
                end = obj.index(b"\0", strtab + st_name)
                names.append(obj[strtab + st_name:end].decode())
    return names


def _register_numba_helpers() -> None:
    """Make numba's C helpers and its runtime (``NRT_*``: a kernel that builds
    a small array inside, such as the float32 erf's coefficient table, frees
    it through NRT) resolvable by the engine that loads cached code."""
    from numba.core.registry import cpu_target
    from numba.core.runtime import nrt
    context = cpu_target.target_context   # creating numba's CPU context registers its helpers
    nrt.rtsys.initialize(context)


def _check_symbols(obj: bytes) -> None:
    import llvmlite.binding as llvm
    names = undefined_symbols(obj)
    if names is None:
        _register_numba_helpers()
        return
    missing = [n for n in names if n not in _STUB_SYMBOLS and llvm.address_of_symbol(n) is None]
    if missing:
        _register_numba_helpers()
        missing = [n for n in missing if llvm.address_of_symbol(n) is None]
    if missing:
        raise BackendError(f"backend 'numba': compiled kernels need symbol(s) "
                           f"{', '.join(sorted(missing))} that this process cannot provide")


def load_ir(text: str, symbols: tuple[str, ...]) -> dict[str, int]:
    """Compile LLVM IR ``text`` into the process-wide engine; the address of
    each of ``symbols`` (``nativepool.py`` builds its thread pool this way)."""
    import llvmlite.binding as llvm
    with _LOCK:
        engine = _engine()
        module = llvm.parse_assembly(text)
        module.verify()
        engine.add_module(module)
        engine.finalize_object()
        _KEEP.append(module)
        return {name: engine.get_function_address(name) for name in symbols}


def load_program(obj: bytes, symbol: str):
    """The ctypes entry of ``symbol`` in object code ``obj`` (see the module doc)."""
    import llvmlite.binding as llvm
    with _LOCK:
        engine = _engine()
        _check_symbols(obj)
        ref = llvm.ObjectFileRef.from_data(obj)
        engine.add_object_file(ref)
        engine.finalize_object()
        _KEEP.append(ref)
        address = engine.get_function_address(symbol)
    if not address:
        raise BackendError(f"backend 'numba': cached kernels lack their entry point {symbol}")
    return PROGRAM_TYPE(address)
