"""The cuda runtime on the simulator: input checks, errors, buffers reused per
shape signature, fresh results, and parameters kept on the device."""

from __future__ import annotations

import numpy as np
import pytest

from graphc.backends import get_backend
from graphc.backends.cuda import CudaBackend, rules
from graphc.errors import BackendError, ExecutionError, InputError, LoweringError

from cuda_test_helpers import SIMULATOR, assert_matches, compile_sim

AFFINE = """
func @main(%x: f32[N,3], %w: f32[3,2], %b: f32[2]) -> (f32[N,2], f32[N,3]) {
  %0: f32[N,2] = matmul(%x, %w)
  %1: f32[N,2] = add(%0, %b)
  return %1, %x
}
"""


def _affine_inputs(batch: int = 2):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((batch, 3)).astype(np.float32),
            rng.standard_normal((3, 2)).astype(np.float32),
            rng.standard_normal(2).astype(np.float32))


# -- input checks and errors ------------------------------------------------------------

def test_bad_inputs_are_input_errors():
    exe = compile_sim(AFFINE)
    x, w, b = _affine_inputs()
    with pytest.raises(InputError, match="expects dtype float32"):
        exe(x.astype(np.float64), w, b)
    with pytest.raises(InputError, match="takes 3 input"):
        exe(x, w)
    with pytest.raises(InputError, match="rank 2"):
        exe(x[0], w, b)
    with pytest.raises(InputError, match=r"expected shape \(3, 2\)"):
        exe(x, w.T.copy(), b)
    with pytest.raises(InputError, match="must be a numpy array"):
        exe(x, w, "bias")


def test_a_lowered_op_missing_from_the_table_is_a_lowering_error(monkeypatch):
    monkeypatch.delitem(rules.LOWERING, "erf")
    monkeypatch.setitem(rules.UNSUPPORTED, "erf", "it is switched off for this test")
    module = "func @main(%x: f32[2]) -> (f32[2]) {\n  %0: f32[2] = erf(%x)\n  return %0\n}"
    with pytest.raises(LoweringError, match="cannot lower op 'erf'.*switched off"):
        compile_sim(module)


def test_bad_options_are_backend_errors():
    with pytest.raises(BackendError, match="no option.*colour"):
        compile_sim(AFFINE, colour="red")
    with pytest.raises(BackendError, match="target expects one of auto, gpu, simulator"):
        get_backend("cuda").compile(compile_sim(AFFINE).module, {"target": "tpu"})
    with pytest.raises(BackendError, match="block_size expects a power of two"):
        compile_sim(AFFINE, block_size=6)
    with pytest.raises(BackendError, match="tile expects an integer from 1 to 32"):
        compile_sim(AFFINE, tile=64)
    with pytest.raises(BackendError, match="max_blocks expects an integer"):
        compile_sim(AFFINE, max_blocks="many")
    with pytest.raises(BackendError, match="no option"):
        CudaBackend(colour="red")


def test_gather_out_of_range_raises_and_the_executable_recovers():
    module = """
func @main(%x: f32[5,2], %i: i64[K]) -> (f32[K,2]) {
  %0: f32[K,2] = gather(%x, %i) {axis = 0}
  return %0
}"""
    exe = compile_sim(module)
    x = np.arange(10, dtype=np.float32).reshape(5, 2)
    with pytest.raises(ExecutionError, match="op 'gather' .* index out of range"):
        exe(x, np.array([1, 5], np.int64))
    assert_matches(module, exe, [x, np.array([-5, 4, 0], np.int64)])


def test_scatter_add_out_of_range_raises():
    module = """
func @main(%x: f32[3], %i: i64[2], %u: f32[2]) -> (f32[3]) {
  %0: f32[3] = scatter_add(%x, %i, %u) {axis = 0}
  return %0
}"""
    exe = compile_sim(module)
    with pytest.raises(ExecutionError, match="op 'scatter_add'"):
        exe(np.zeros(3, np.float32), np.array([0, 3], np.int64), np.ones(2, np.float32))
    assert_matches(module, exe, [np.zeros(3, np.float32), np.array([2, 2], np.int64),
                                 np.array([1.5, 2.0], np.float32)])


# -- buffers and results ----------------------------------------------------------------

def test_buffers_are_allocated_once_per_shape_signature():
    exe = compile_sim(AFFINE)
    x, w, b = _affine_inputs(2)
    exe(x, w, b)
    plan = exe._runner._plans[(x.shape, w.shape, b.shape)]
    buffers = dict(plan.buffers)
    exe(x + 1, w, b)
    assert exe._runner._plans[(x.shape, w.shape, b.shape)] is plan
    assert plan.buffers == buffers and all(plan.buffers[k] is v for k, v in buffers.items())
    exe(*_affine_inputs(4))
    assert len(exe._runner._plans) == 2


def test_results_are_fresh_arrays():
    exe = compile_sim(AFFINE)
    x, w, b = _affine_inputs()
    first, passed = exe(x, w, b)
    assert passed is not x and not np.shares_memory(passed, x)
    np.testing.assert_array_equal(passed, x)
    first[...] = 0
    again, _ = exe(x, w, b)
    assert not np.shares_memory(first, again) and np.abs(again).sum() > 0


def test_strided_and_zero_d_inputs():
    module = """
func @main(%x: f32[N,M], %s: f32[]) -> (f32[N,M], f32[]) {
  %0: f32[N,M] = mul(%x, %s)
  %1: f32[] = sum(%x)
  return %0, %1
}"""
    exe = compile_sim(module)
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    assert_matches(module, exe, [base[::2, ::-3], np.float32(2.5)])
    assert_matches(module, exe, [base.T, np.array(0.5, np.float32)])
    assert_matches(module, exe, [np.zeros((0, 3), np.float32), np.float32(1)])


def test_source_shows_every_kernel_and_dump_writes_one_file_per_group(tmp_path):
    exe = compile_sim(AFFINE)
    text = exe.source()
    for kernel in exe.kernels:
        assert f"def {kernel.name}(" in text
    assert "numba's CUDA simulator" in text and "cuda.syncthreads()" in text
    paths = exe.dump_kernels(tmp_path / "kernels")
    assert len(paths) == len(exe.groups)
    assert all(p.read_text().startswith("# ===== group") for p in paths)


# -- weights kept on the device -----------------------------------------------------------

def test_kept_weights_are_uploaded_once_and_reuploaded_when_changed():
    exe = compile_sim(AFFINE)
    x, w, b = _affine_inputs()
    exe.keep_on_device([1, 2])
    assert_matches(AFFINE, exe, [x, w, b])
    stats = exe.transfer_stats
    assert (stats.uploads, stats.reuses) == (2, 0)
    assert_matches(AFFINE, exe, [x * 2, w, b])
    assert (stats.uploads, stats.reuses) == (2, 2)
    w[0, 0] += 1.0  # changed in place: the fingerprint notices
    assert_matches(AFFINE, exe, [x, w, b])
    assert (stats.uploads, stats.reuses) == (3, 3)
    assert_matches(AFFINE, exe, [x, w.copy(), b.copy()])  # new objects, same bytes
    assert (stats.uploads, stats.reuses) == (3, 5)


def test_identity_check_trusts_only_frozen_arrays():
    exe = compile_sim(AFFINE)
    x, w, b = _affine_inputs()
    w.setflags(write=False)
    exe.keep_on_device([1, 2], check="identity")
    assert_matches(AFFINE, exe, [x, w, b])
    hashed = exe.transfer_stats.hashed_bytes
    assert_matches(AFFINE, exe, [x, w, b])
    assert exe.transfer_stats.hashed_bytes == hashed + b.nbytes  # w trusted, b (writeable) hashed
    view = w[:]
    assert not view.flags.writeable
    b[1] = 7.0
    assert_matches(AFFINE, exe, [x, w, b])  # a writeable array is still checked by content


def test_identity_check_reads_an_array_frozen_after_its_upload():
    exe = compile_sim(AFFINE)
    x, w, b = _affine_inputs()
    exe.keep_on_device([1], check="identity")
    assert_matches(AFFINE, exe, [x, w, b])      # w writeable when uploaded
    w[...] = 10.0                               # changed in place, then frozen
    w.setflags(write=False)
    assert_matches(AFFINE, exe, [x, w, b])      # its bytes are read again: the change is seen
    hashed = exe.transfer_stats.hashed_bytes
    assert_matches(AFFINE, exe, [x, w, b])      # now trusted by identity
    assert exe.transfer_stats.hashed_bytes == hashed


def test_release_and_bad_keep_arguments():
    exe = compile_sim(AFFINE)
    x, w, b = _affine_inputs()
    exe.keep_on_device([1])
    exe(x, w, b)
    exe.release_device_copies()
    exe(x, w, b)
    assert exe.transfer_stats.uploads == 1  # not kept any more: plain uploads
    with pytest.raises(InputError, match="indices from 0 to 2"):
        exe.keep_on_device([3])
    with pytest.raises(InputError, match="check must be one of content, identity"):
        exe.keep_on_device([0], check="never")


def test_compiled_model_keeps_its_weights_on_the_device():
    import graphc
    from graphc import layers
    from graphc.backends.cuda import CudaBackend

    inp = graphc.Input((3,), name="x")
    model = graphc.Model(inp, layers.Dense(2, name="d")(inp), name="tiny")
    run = graphc.compile(model, backend=CudaBackend(**SIMULATOR))
    x = np.ones((2, 3), np.float32)
    first = run(x)
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(first, x @ kernel + bias, rtol=1e-5)
    stats = run.executable.transfer_stats
    uploads = stats.uploads
    run(x)
    assert stats.uploads == uploads and stats.reuses >= 2  # both weights reused
    model.set_weights([kernel * 2, bias])  # new arrays: re-uploaded, never stale
    np.testing.assert_allclose(run(x), x @ (kernel * 2) + bias, rtol=1e-5)
