"""Python operators and indexing on symbolic tensors: what they build, and the
clear errors for what they cannot mean (numerical checks against numpy)."""

from __future__ import annotations

import numpy as np
import pytest

import graphc
from graphc import FrontendError, ops

X = np.arange(12, dtype=np.float32).reshape(4, 3)


def _predict(build):
    x = graphc.Input((3,), name="x")
    return graphc.Model(x, build(x)).predict(X, verbose=0)


def test_integer_array_indices_from_numpy_lists_and_tuples_agree():
    for index in (np.array([0, 2]), [0, 2], np.array([0, 2], dtype=np.int32)):
        np.testing.assert_array_equal(_predict(lambda x: x[:, index]), X[:, [0, 2]])
    np.testing.assert_array_equal(_predict(lambda x: x[..., np.array([2, 1])]), X[..., [2, 1]])


@pytest.mark.parametrize("mask", [np.array([True, False, True]), [True, False, True], True])
def test_boolean_mask_indices_are_refused(mask):
    x = graphc.Input((3,))
    with pytest.raises(FrontendError, match=r"boolean \(mask\) indices are not supported"):
        x[:, mask]


def test_a_bool_tensor_index_is_refused_not_used_as_positions():
    x = graphc.Input((3,))
    mask = graphc.Input((3,), dtype="bool")
    with pytest.raises(FrontendError, match="graphc.ops.where"):
        x[mask]


def test_where_with_a_constant_condition():
    got = _predict(lambda x: ops.where(np.array([True, False, True]), x, 100.0))
    np.testing.assert_array_equal(got, np.where([True, False, True], X, 100.0))


@pytest.mark.parametrize("compare", [lambda x: x == 0, lambda x: x != 0.5,
                                     lambda x: x == np.float32(1), lambda x: x == np.zeros(3)])
def test_equality_with_a_value_names_the_elementwise_op(compare):
    x = graphc.Input((3,))
    with pytest.raises(FrontendError, match=r"graphc.ops.(not_)?equal\(x, value\)"):
        compare(x)


def test_equality_between_tensors_is_identity_as_in_keras():
    a, b = graphc.Input((3,)), graphc.Input((3,))
    assert a == a and a != b and not (a == b)
    assert b in [a, b] and [a, b].index(b) == 1
    assert (a == "x") is False and (a != None) is True   # noqa: E711
    np.testing.assert_array_equal(_predict(lambda x: ops.equal(x, 4.0)), X == 4.0)


def test_transpose_property_and_shape():
    x = graphc.Input((2, 5))
    assert x.T.shape == (5, 2, None)
    assert ops.shape(x) == (None, 2, 5) and ops.shape(X) == (4, 3)
    np.testing.assert_array_equal(_predict(lambda x: ops.transpose(x).T), X)


class Configured(graphc.Model):
    """The Keras pattern: get_config extends super().get_config()."""

    def __init__(self, hidden=4, **kwargs):
        super().__init__(**kwargs)
        self.hidden_units = hidden
        self.dense = graphc.layers.Dense(hidden, activation="relu", name="dense")
        self.head = graphc.layers.Dense(2, name="head")

    def call(self, x, training=None):
        return self.head(self.dense(x))

    def get_config(self):
        config = super().get_config()
        config.update(hidden=self.hidden_units)
        return config


def test_subclass_get_config_through_super_saves_and_loads(tmp_path):
    model = Configured(hidden=7, name="configured")
    x = np.random.default_rng(0).normal(size=(3, 5)).astype(np.float32)
    want = model.predict(x, verbose=0)
    assert model.get_config() == {"name": "configured", "trainable": True, "dtype": "float32",
                                  "hidden": 7}
    model.save(tmp_path / "m.graphc")
    loaded = graphc.models.load_model(tmp_path / "m.graphc",
                                      custom_objects={"Configured": Configured})
    assert loaded.hidden_units == 7
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), want)
