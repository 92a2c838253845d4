"""graphc.backends.cuda -- numba.cuda kernels per fused group, weights kept on the device.

Layout (lowering, compiling and runtime kept apart, as in the numba backend,
whose generic pieces -- the program of groups over slots, the
index-arithmetic emitter and the scalar rule table -- are imported from
``graphc.backends.numba``, not copied):

* lowering: ``rules.py`` (the per-op lowering table and reductions as
  data), ``emitter.py`` (one kernel under construction; locals at their
  canonical index), ``writers.py`` (elementwise, row, matmul and scatter
  kernels), ``lowering.py`` (a primitive Func -> one fused kernel, or
  staged kernels), ``mathlib.py`` (the kernels' globals and device helpers);
* compiler: ``compiler.py`` (numba.cuda or the simulator's jit; a PTX check
  that needs no GPU);
* runtime: ``target.py`` (GPU or simulator, launch geometry),
  ``runtime.py`` (buffers per shape signature, launches, results),
  ``residency.py`` (parameters kept on the device);
* ``backend.py``: ``CudaBackend`` / ``CudaExecutable``.
"""

from .backend import CudaBackend, CudaExecutable, lower_program
from .target import CudaTarget, LaunchConfig, resolve_target

__all__ = ["CudaBackend", "CudaExecutable", "CudaTarget", "LaunchConfig", "lower_program",
           "resolve_target"]
