"""graphc.backends.llvm -- llvmlite emits vectorized LLVM IR for fused groups.

Its reason to exist is fast compilation: a model's kernels are one LLVM
module, optimized and compiled once by llvmlite in a fraction of a second.
Only ``matmul`` runs through numpy (``numpy.matmul`` into a planned buffer:
BLAS beats any loop nest we would generate); every other op is generated
code, and an op or dtype this backend cannot lower (f16) is a compile-time
``LoweringError``, never a silent fallback.

Layout (lowering, compiling and runtime kept apart):

* lowering: ``staging.py`` (a primitive Func -> stages over buffers),
  ``alignment.py`` (axis maps: when a row stage may read its own
  reductions), ``evaluator.py`` (any value at an index, memoized),
  ``rules.py`` (the per-op scalar lowering table), ``movement.py`` (index
  rules of movement ops, gather, concat, random_uniform, softmax),
  ``reductions.py`` (identity/combine per reduction), ``stages.py`` (loop
  nests per stage kind), ``loops.py``, ``mathlib.py`` (vectorizable float32
  exp/log/tanh/sigmoid/erf/gelu; coefficients from ``mathfit.py``),
  ``irtypes.py``, ``kernelgen.py`` (functions, ABI, metadata);
* compiler: ``compiler.py`` (host target machine, O2/O3 pipeline, MCJIT)
  and ``objcache.py`` (content-addressed object code on disk);
* runtime: ``program.py`` (module -> groups and views), ``shapes.py``
  (concrete shapes and run-time scalars per input signature),
  ``runtime.py`` (buffer plans, ctypes calls, numpy.matmul), ``pool.py``
  (large launches split over threads);
* ``backend.py``: ``LlvmBackend`` / ``LlvmExecutable``, the kernel cache.
"""

from .backend import NUMPY_OPS, SUPPORTED_OPS, LlvmBackend, LlvmExecutable, LlvmOptions
from .objcache import default_cache_dir

__all__ = ["LlvmBackend", "LlvmExecutable", "LlvmOptions", "NUMPY_OPS", "SUPPORTED_OPS",
           "default_cache_dir"]
