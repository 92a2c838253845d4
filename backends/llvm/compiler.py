"""LLVM IR text -> machine code for the host CPU, with llvmlite.binding.

* **Target**: one ``TargetMachine`` per process for the host's CPU name and
  feature string (``get_host_cpu_name``/``get_host_cpu_features``), so the
  vectorizer uses the widest vectors the machine has (AVX2, AVX-512 ...).
* **Optimization**: the new pass manager's default pipeline at
  ``opt_level`` (2 or 3) with loop and SLP vectorization on; reductions
  vectorize because their ``fadd``s carry ``reassoc`` (see reductions.py).
* **Code generation**: MCJIT, one engine per compiled module; the engine
  lives as long as any kernel compiled in it (``JitModule`` keeps it).
* **Object cache** (optional, ``objcache.ObjectCache``): MCJIT hands over
  the object code it produced (``set_object_cache``); the cache stores it
  under a key of the IR text, the target and the llvmlite version.  A hit
  skips optimization and code generation: the object is loaded into an
  empty engine and its symbols resolved against this process (libm).

LLVM's global state is not thread-safe: every compile holds ``_LOCK``.
Engines are never destroyed: ``_KEEP`` holds each one (and the object
buffers loaded into it) for the life of the process, as the kernel cache
does with the kernels; tearing down MCJIT engines that loaded object
files crashes the process with some llvmlite builds.
"""

from __future__ import annotations

import ctypes.util
import functools
import threading
import time
from dataclasses import dataclass, field

import llvmlite
import llvmlite.binding as llvm

from graphc.errors import LoweringError

_LOCK = threading.Lock()
_KEEP: list = []


@dataclass(frozen=True)
class HostTarget:
    machine: llvm.TargetMachine
    triple: str
    cpu: str
    features: str

    @property
    def fingerprint(self) -> str:
        """What object code depends on besides its IR: part of every cache key."""
        return f"{self.triple}|{self.cpu}|{self.features}|llvmlite {llvmlite.__version__}"


@functools.lru_cache(maxsize=None)
def host_target(opt_level: int = 3) -> HostTarget:
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    libm = ctypes.util.find_library("m")
    if libm:
        llvm.load_library_permanently(libm)
    triple = llvm.get_process_triple()
    cpu = llvm.get_host_cpu_name()
    features = llvm.get_host_cpu_features().flatten()
    machine = llvm.Target.from_triple(triple).create_target_machine(
        cpu=cpu, features=features, opt=opt_level, jit=True)
    return HostTarget(machine, triple, cpu, features)


@dataclass
class CompileStats:
    """Seconds per phase of one compile (what ``compile_report`` shows)."""

    parse_s: float = 0.0
    optimize_s: float = 0.0
    codegen_s: float = 0.0
    from_disk: bool = False
    ir_bytes: int = 0


@dataclass
class JitModule:
    """Machine code of one compiled module; keeps the engine (and so the code) alive."""

    engine: llvm.ExecutionEngine
    stats: CompileStats = field(default_factory=CompileStats)

    def address(self, symbol: str) -> int:
        addr = self.engine.get_function_address(symbol)
        if not addr:
            raise LoweringError(f"backend 'llvm': compiled module has no function {symbol!r}")
        return addr


def optimize(module: llvm.ModuleRef, target: HostTarget, opt_level: int) -> None:
    tuning = llvm.create_pipeline_tuning_options(speed_level=opt_level)
    tuning.loop_vectorization = True
    tuning.slp_vectorization = True
    tuning.loop_unrolling = False    # the vectorizer interleaves; unrolling on top only grows code
    builder = llvm.create_pass_builder(target.machine, tuning)
    builder.getModulePassManager().run(module, builder)


def _empty_module(target: HostTarget) -> llvm.ModuleRef:
    module = llvm.parse_assembly(f'target triple = "{target.triple}"\n')
    module.data_layout = str(target.machine.target_data)
    return module


def compile_ir(ir_text: str, opt_level: int = 3, cache=None) -> JitModule:
    """Compile one module of LLVM IR text (``cache``: an ObjectCache or None)."""
    target = host_target(opt_level)
    stats = CompileStats(ir_bytes=len(ir_text))
    key = cache.key(ir_text, target.fingerprint, opt_level) if cache is not None else None
    with _LOCK:
        if key is not None:
            obj = cache.load(key)
            if obj is not None:
                t = time.perf_counter()
                engine = llvm.create_mcjit_compiler(_empty_module(target), target.machine)
                ref = llvm.ObjectFileRef.from_data(obj)
                engine.add_object_file(ref)
                engine.finalize_object()
                _KEEP.append((engine, ref, obj))
                stats.codegen_s = time.perf_counter() - t
                stats.from_disk = True
                return JitModule(engine, stats)
        t = time.perf_counter()
        try:
            module = llvm.parse_assembly(ir_text)
            module.verify()
        except RuntimeError as exc:  # a bug in the lowering, not in the user's model
            raise LoweringError(f"backend 'llvm' generated invalid LLVM IR: {exc}") from None
        module.triple = target.triple
        module.data_layout = str(target.machine.target_data)
        stats.parse_s = time.perf_counter() - t
        t = time.perf_counter()
        optimize(module, target, opt_level)
        stats.optimize_s = time.perf_counter() - t
        t = time.perf_counter()
        engine = llvm.create_mcjit_compiler(module, target.machine)
        produced: list[bytes] = []
        if key is not None:
            engine.set_object_cache(lambda _module, data: produced.append(bytes(data)))
        engine.finalize_object()
        _KEEP.append(engine)
        stats.codegen_s = time.perf_counter() - t
        if key is not None and produced:
            cache.store(key, produced[0])
        return JitModule(engine, stats)


def optimized_ir(ir_text: str, opt_level: int = 3) -> str:
    """The module after optimization (for reading what the vectorizer did)."""
    target = host_target(opt_level)
    with _LOCK:
        module = llvm.parse_assembly(ir_text)
        module.triple = target.triple
        module.data_layout = str(target.machine.target_data)
        optimize(module, target, opt_level)
        return str(module)
