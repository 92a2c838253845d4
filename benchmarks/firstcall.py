"""Time graphc's first call of a workload in a fresh process:
``python benchmarks/firstcall.py W3 CACHE_DIR`` prints JSON.

``first_call_s`` is what a user waits for between having the model's IR
and holding the first result: the default pass pipeline, the numba
backend's compile (import of the backend, lowering, cache lookup, numba
compile or object load) and the first run.  ``imports_s`` (Python, numpy,
graphc's front end) is reported apart; it is paid by any graphc program.
"""

from __future__ import annotations

import json
import sys
import time

t0 = time.perf_counter()
import numpy as np  # noqa: E402

import graphc.ir  # noqa: E402,F401
import graphc.passes  # noqa: E402,F401

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import workloads  # noqa: E402

t1 = time.perf_counter()
name, cache_dir = sys.argv[1], sys.argv[2]
module = workloads.module(name)
inputs = getattr(workloads, f"{name.lower()}_inputs")(np.random.default_rng(0))
t2 = time.perf_counter()
from graphc.backends import get_backend  # noqa: E402
from graphc.passes import run_pipeline  # noqa: E402

optimized = run_pipeline(module, "default")
t3 = time.perf_counter()
exe = get_backend("numba").compile(optimized, {"cache_dir": cache_dir})
t4 = time.perf_counter()
exe(*inputs)
t5 = time.perf_counter()
r = exe.compile_report
print(json.dumps({"imports_s": t1 - t0, "build_ir_s": t2 - t1, "pipeline_s": t3 - t2,
                  "compile_s": t4 - t3, "run_s": t5 - t4, "first_call_s": t5 - t2,
                  "compiled": r.compiled, "from_disk": r.from_disk, "kernels": r.kernels,
                  "numba_imported": "numba" in sys.modules}))
