"""Time graphc's first call (compile + run once) of a workload in a fresh
process: ``python benchmarks/firstcall.py W3 CACHE_DIR`` prints JSON."""

from __future__ import annotations

import json
import sys
import time

t0 = time.perf_counter()
import numpy as np  # noqa: E402

from graphc.backends import get_backend  # noqa: E402
from graphc.ir import parse_module  # noqa: E402

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import workloads  # noqa: E402
from run import optimize  # noqa: E402

t1 = time.perf_counter()
name, cache_dir = sys.argv[1], sys.argv[2]
module, how = optimize(parse_module(getattr(workloads, f"{name}_IR")))
inputs = getattr(workloads, f"{name.lower()}_inputs")(np.random.default_rng(0))
t2 = time.perf_counter()
exe = get_backend("numba").compile(module, {"cache_dir": cache_dir})
exe(*inputs)
t3 = time.perf_counter()
r = exe.compile_report
print(json.dumps({"imports_s": t1 - t0, "first_call_s": t3 - t2, "compiled": r.compiled,
                  "from_disk": r.from_disk, "kernel_modules": r.modules, "ir": how}))
