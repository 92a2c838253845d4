"""graphc.backends.numba -- the CPU backend: fused kernels generated as
Python source for numba, BLAS for matmul, planned buffers and an on-disk
kernel cache.

Layout (lowering, compiler and runtime kept apart):

* lowering: ``program.py`` (module -> groups over slots), ``rules.py`` (the
  per-op scalar lowering table), ``exprs.py`` (index arithmetic),
  ``stages.py`` (loop nests), ``kernelgen.py`` (a group -> kernels + BLAS),
  ``mathlib.py`` (vectorizable f32 math, f16 conversion);
* compiler: ``compiler.py`` (numba, eager signatures) over ``cache.py``
  (content-addressed on-disk cache);
* runtime: ``runtime.py`` (input checks, shape plans, buffers, launch) and
  ``threads.py`` (the numba-vs-BLAS thread policy);
* ``backend.py``: ``NumbaBackend`` / ``NumbaExecutable``.
"""

from .backend import NumbaBackend, NumbaExecutable, NumbaOptions
from .cache import ENV_VAR as CACHE_DIR_ENV_VAR
from .cache import default_cache_dir

__all__ = ["CACHE_DIR_ENV_VAR", "NumbaBackend", "NumbaExecutable", "NumbaOptions",
           "default_cache_dir"]
