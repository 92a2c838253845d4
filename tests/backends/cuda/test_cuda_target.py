"""Where the cuda backend runs: availability, the NUMBA_ENABLE_CUDASIM path, the
CLI, and a PTX check of generated kernels that needs no GPU.

Why the simulator tests leave numba.cuda alone: they choose the simulator
with the backend option ``target="simulator"``, which imports
``numba.cuda.simulator`` as a library; ``numba.cuda`` stays the real driver
binding for every other test of the session (checked below).  The one path
that needs ``NUMBA_ENABLE_CUDASIM=1`` -- ``target="auto"`` and the CLI on a
machine without a GPU -- runs in subprocesses, so the variable never enters
this process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from graphc.backends import get_backend
from graphc.backends.cuda import CudaBackend
from graphc.backends.cuda.compiler import nvvm_problem, ptx_for
from graphc.backends.cuda.lowering import lower_group
from graphc.backends.cuda.target import (LaunchConfig, gpu_problem, numba_cuda_is_simulator)
from graphc.errors import BackendError
from graphc.ir import parse_module

from cuda_test_helpers import compile_sim
from ptx_modules import all_functions

MODEL = """
func @main(%x: f32[N,4], %w: f32[4,3], %b: f32[3]) -> (f32[N,3]) {
  %0: f32[N,3] = matmul(%x, %w)
  %1: f32[N,3] = add(%0, %b)
  %2: f32[N,3] = softmax(%1) {axis = -1}
  return %2
}
"""

no_gpu = pytest.mark.skipif(numba_cuda_is_simulator() or gpu_problem() is None,
                            reason="needs a process without a GPU and without the simulator env")


@no_gpu
def test_without_a_gpu_the_backend_says_how_to_use_the_simulator():
    backend = get_backend("cuda")
    assert not backend.is_available()
    reason = backend.unavailable_reason()
    assert "no usable CUDA GPU" in reason
    assert "NUMBA_ENABLE_CUDASIM=1" in reason and "target='simulator'" in reason
    with pytest.raises(BackendError, match="not available here: no usable CUDA GPU"):
        backend.compile(parse_module(MODEL))
    with pytest.raises(BackendError, match="not available here: no usable CUDA GPU"):
        backend.compile(parse_module(MODEL), {"target": "gpu"})
    assert CudaBackend(target="simulator").is_available()


@no_gpu
def test_the_simulator_option_leaves_numba_cuda_alone():
    from numba import cuda
    exe = compile_sim(MODEL)
    exe(np.ones((2, 4), np.float32), np.ones((4, 3), np.float32), np.ones(3, np.float32))
    assert exe.target.simulated
    assert not numba_cuda_is_simulator()
    assert not cuda.jit.__module__.startswith("numba.cuda.simulator")
    assert "simulator" not in sys.modules["numba.cuda.cudadrv.driver"].__name__


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, env=env, cwd=cwd)


def test_env_variable_makes_auto_choose_the_simulator(tmp_path):
    script = (
        "import numpy as np\n"
        "from graphc.backends import get_backend\n"
        "from graphc.ir import parse_module\n"
        f"module = parse_module({MODEL!r})\n"
        "backend = get_backend('cuda')\n"
        "assert backend.is_available(), backend.unavailable_reason()\n"
        "exe = backend.compile(module)\n"
        "args = [np.full((2, 4), 0.5, np.float32), np.eye(4, 3, dtype=np.float32),\n"
        "        np.arange(3, dtype=np.float32)]\n"
        "want = get_backend('interpreter').compile(module)(*args)[0]\n"
        "got = exe(*args)[0]\n"
        "np.testing.assert_allclose(got, want, rtol=1e-5)\n"
        "print(exe.target.kind)\n")
    proc = _run([sys.executable, "-c", script], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "simulator"


def test_cli_runs_a_model_on_the_cuda_backend(tmp_path):
    model = tmp_path / "model.gir"
    model.write_text(MODEL)
    graphc = str(Path(sys.executable).with_name("graphc"))
    args = ["run", str(model), "--random", "--dim", "N=3"]
    proc = _run([graphc, *args, "--backend", "cuda", "-o", str(tmp_path / "cuda"),
                 "--dump-kernels", str(tmp_path / "kernels")], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("out0: float32(3, 3)") and "Traceback" not in proc.stderr
    ref = subprocess.run([graphc, *args, "-o", str(tmp_path / "ref")], capture_output=True,
                         text=True, timeout=120)
    assert ref.returncode == 0, ref.stderr
    np.testing.assert_allclose(np.load(tmp_path / "cuda" / "out0.npy"),
                               np.load(tmp_path / "ref" / "out0.npy"), rtol=1e-5)
    assert any("def g" in p.read_text() for p in (tmp_path / "kernels").iterdir())


@no_gpu
def test_cli_without_a_gpu_fails_cleanly(tmp_path):
    model = tmp_path / "model.gir"
    model.write_text(MODEL)
    graphc = str(Path(sys.executable).with_name("graphc"))
    proc = subprocess.run([graphc, "run", str(model), "--random", "--backend", "cuda"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "not available here" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.skipif(nvvm_problem() is not None, reason=f"NVVM unavailable: {nvvm_problem()}")
def test_every_kernel_kind_and_dtype_compiles_to_ptx():
    """numba.cuda types and lowers the very kernels the simulator runs (the simulator
    itself would accept Python that numba.cuda rejects); NVVM then emits PTX."""
    launch = LaunchConfig(block=32, max_blocks=65535, tile=16)
    kernels = [k for f in all_functions() for k in lower_group(f, f.name, launch).kernels]
    ptx = ptx_for(kernels, cc=(8, 0), optimize=False)
    assert set(ptx) == {k.name for k in kernels}
    assert all(".entry" in text for text in ptx.values())


def test_graphc_ops_shows_full_cuda_coverage(capsys):
    from graphc.cli.main import main
    from graphc.ir import all_ops
    assert main(["ops", "--backend", "cuda"]) == 0
    total = len(all_ops())
    lowered = len(get_backend("cuda").supported_ops())
    assert f"cuda: {lowered}/{total} ops lowered" in capsys.readouterr().out
    assert lowered == total
