"""Constants whose bytes could differ for equal values (byte order, the sign of
a NaN), the immutability of constant values, and names the text format must
carry: each either normalized so that equal means equal, or refused clearly."""

from __future__ import annotations

import numpy as np
import pytest

import graphc.ir as ir
from graphc.backends import get_backend
from graphc.errors import PassError, VerifyError
from graphc.ir import Builder, TensorType, parse_module, print_module
from graphc.ir.attrs import TensorValue
from graphc.ir.equality import structural_equal, structural_hash
from graphc.passes import run_pipeline
from graphc.passes.fold_constants import FoldConstants


def _add_constant(values: np.ndarray) -> ir.Module:
    b = Builder("f")
    x = b.param(TensorType("f32", (values.size,)), "x")
    return ir.Module([b.finish(b.emit("add", x, b.constant(values)))])


@pytest.mark.parametrize("size", [4, 40])          # inline and constant-table forms
def test_a_big_endian_constant_is_the_same_constant(size):
    native, swapped = np.arange(size, dtype="<f4"), np.arange(size, dtype=">f4")
    a, b = _add_constant(native), _add_constant(swapped)
    assert structural_equal(a, b) and structural_hash(a) == structural_hash(b)
    assert structural_equal(b, parse_module(print_module(b)))
    x = np.zeros(size, np.float32)
    for backend in ("interpreter", "numba", "llvm"):
        np.testing.assert_array_equal(get_backend(backend).compile(b)(x)[0], native)


def test_big_endian_inputs_are_converted():
    module = _add_constant(np.ones(3, np.float32))
    x = np.arange(3, dtype=">f4")
    for backend in ("interpreter", "numba", "llvm"):
        np.testing.assert_array_equal(get_backend(backend).compile(module)(x)[0], [1, 2, 3])


def test_the_sign_of_a_nan_survives_printing():
    values = np.array([np.nan, -np.nan, 1.0], np.float32)
    module = _add_constant(values)
    text = print_module(module)
    assert "-nan" in text
    again = parse_module(text)
    assert structural_equal(module, again) and structural_hash(module) == structural_hash(again)
    assert print_module(again) == text


def test_a_folded_nan_round_trips():
    b = Builder("f")
    minus_one = b.constant(np.float32(-1.0))
    module = ir.Module([b.finish(b.emit("log", minus_one))])
    folded = run_pipeline(module, [FoldConstants()])
    assert structural_equal(folded, parse_module(print_module(folded)))


def test_constant_values_cannot_be_changed():
    value = TensorValue(np.arange(3, dtype=np.float32))
    with pytest.raises(AttributeError, match="immutable"):
        value.array = np.zeros(3, np.float32)
    with pytest.raises(ValueError):
        value.array.setflags(write=True)
    with pytest.raises(ValueError):
        value.array[0] = 5


@pytest.mark.parametrize("name", ["my-func", "é", "", "a b"])
def test_a_function_name_the_text_cannot_carry_is_refused(name):
    b = Builder(name)
    x = b.param(TensorType("f32", (1,)), "x")
    with pytest.raises(VerifyError, match="invariant 8"):
        ir.verify(ir.Module([b.finish(x)]))


def test_a_str_pass_option_the_pipeline_cannot_carry_is_refused():
    from dataclasses import dataclass
    from graphc.passes import Pass

    @dataclass(frozen=True)
    class Tagged(Pass):
        name = "tagged-test"
        label: str = "plain"

        def run(self, module, ctx):
            return module

    assert Tagged(label="x.y_1").spec() == "tagged-test{label=x.y_1}"
    for bad in ("hello world", "a,b", "a}b", ""):
        with pytest.raises(PassError, match="cannot be written in a pipeline string"):
            Tagged(label=bad).spec()
