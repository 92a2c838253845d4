"""graphc.backends.numba -- the CPU backend: fused kernels generated as
Python source for numba, BLAS for matmul, planned buffers and an on-disk
kernel cache.

Layout (lowering, compiler and runtime kept apart):

* lowering: ``program.py`` (module -> groups over slots, views),
  ``rules.py`` (the per-op scalar lowering table), ``exprs.py`` (index
  arithmetic), ``stages.py`` (loop nests), ``stagegroups.py`` (which
  stages share a row loop), ``kernelgen.py`` (a group -> kernels + BLAS
  calls), ``programgen.py`` (every kernel of a model -> one
  program function), ``mathlib.py`` (vectorizable f32 math, f16
  conversion) and ``pointers.py`` (typed pointers, stack scratch);
* compiler: ``compiler.py`` (numba compiles the program once, as a C
  callback) over ``cache.py`` (content-addressed object code on disk) and
  ``loader.py`` (loads object code with llvmlite alone: warm processes never
  import numba);
* runtime: ``runtime.py`` (input checks, launch), ``plan.py`` (shapes and
  buffers per input shape), ``workspace.py`` (buffers bound to the
  program's steps), ``threads.py`` (the kernels-vs-BLAS thread policy) and
  ``nativepool.py`` (the GIL-free kernel pool);
* ``backend.py``: ``NumbaBackend`` / ``NumbaExecutable``.
"""

from .backend import NumbaBackend, NumbaExecutable, NumbaOptions
from .cache import ENV_VAR as CACHE_DIR_ENV_VAR
from .cache import default_cache_dir

__all__ = ["CACHE_DIR_ENV_VAR", "NumbaBackend", "NumbaExecutable", "NumbaOptions",
           "default_cache_dir"]
