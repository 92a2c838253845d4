"""``graphc.compile``: the compiled-model cache, input structures, compiled IR
modules and traced Python functions."""

from __future__ import annotations

import numpy as np
import pytest

import graphc
from graphc import compiled, layers, ops

from .conftest import TOL


@pytest.fixture
def model():
    x = graphc.Input((3,), name="x")
    return graphc.Model(x, layers.Dense(2, activation="tanh", name="d")(x), name="small")


def test_defaults_are_single_constants():
    assert compiled.DEFAULT_BACKEND == "numba" and compiled.DEFAULT_PASSES == "default"


def test_compile_returns_a_cached_callable(model, rng):
    first = graphc.compile(model)
    assert graphc.compile(model, backend="numba", passes="default") is first
    x = rng.normal(size=(4, 3)).astype(np.float32)
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(first(x), np.tanh(x @ kernel + bias), **TOL)
    np.testing.assert_allclose(first([x]), first({"x": x}), **TOL)
    model.predict(x)
    assert model.compiled() is first  # predict reused it
    assert "def " in first.source()  # the generated kernel source


def test_set_weights_takes_effect_without_recompiling(model, rng):
    fn = graphc.compile(model)
    x = rng.normal(size=(2, 3)).astype(np.float32)
    model.set_weights([np.zeros((3, 2)), np.ones(2)])
    np.testing.assert_allclose(fn(x), np.tanh(np.ones((2, 2))), **TOL)
    assert graphc.compile(model) is fn


def test_sequential_changes_invalidate_the_cache(rng):
    seq = graphc.Sequential([graphc.Input((3,)), layers.Dense(2)])
    before = graphc.compile(seq)
    seq.add(layers.Dense(1))
    after = graphc.compile(seq)
    assert after is not before and after(np.zeros((1, 3))).shape == (1, 1)
    outer = graphc.Sequential([graphc.Input((3,)), seq])
    nested_before = graphc.compile(outer)
    seq.pop()
    assert graphc.compile(outer) is not nested_before  # a nested model changed


def test_single_list_and_dict_outputs_keep_their_structure(rng):
    x = graphc.Input((2,), name="x")
    y = layers.Dense(2)(x)
    data = rng.normal(size=(3, 2)).astype(np.float32)
    assert isinstance(graphc.Model(x, y)(data), np.ndarray)
    listed = graphc.Model(x, [y, y * 2])(data)
    assert isinstance(listed, list) and len(listed) == 2
    keyed = graphc.Model(x, {"a": y, "b": [y, x]})(data)
    assert set(keyed) == {"a", "b"} and isinstance(keyed["b"], list)
    np.testing.assert_array_equal(keyed["b"][1], data)


def test_compile_a_module(model, rng):
    run = graphc.compile(model.to_ir())
    x = rng.normal(size=(2, 3)).astype(np.float32)
    (out,) = run(x, *model.get_weights())
    np.testing.assert_allclose(out, model(x), **TOL)


def test_compile_a_function_traces_once_per_signature(rng):
    calls = []

    def fn(a, b):
        calls.append(a.type)
        return {"sum": ops.sum(a * b, axis=-1), "max": ops.max(a, axis=0)}

    jitted = graphc.compile(fn)
    a, b = rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=(4, 3)).astype(np.float32)
    out = jitted(a, b)
    np.testing.assert_allclose(out["sum"], (a * b).sum(-1), **TOL)
    np.testing.assert_allclose(out["max"], a.max(0), **TOL)
    jitted(b, a)
    assert len(calls) == 1
    jitted(a[:2], b[:2])
    assert len(calls) == 2
    text = graphc.ir.print_module(jitted.lower(a, b))
    assert "func @fn(%x0: f32[4,3], %x1: f32[4,3])" in text


def test_pass_pipelines_plug_in(model, rng):
    pytest.importorskip("graphc.passes.manager")
    x = rng.normal(size=(2, 3)).astype(np.float32)
    plain = graphc.compile(model, passes=None)
    assert plain is not graphc.compile(model)
    np.testing.assert_allclose(plain(x), model(x), **TOL)
