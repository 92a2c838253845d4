"""Errors raised while a model is being *defined*: each message a user can
meet, with the layer, the shapes and where they came from.

Shape problems are ``graphc.ShapeError`` (also a ``ValueError``); misuse of
the API is ``graphc.FrontendError`` (also a ``ValueError``).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import graphc
from graphc import FrontendError, ShapeError, layers, ops

HERE = "test_definition_errors.py"


def raises(error, *fragments):
    """Context manager: ``error`` whose message contains every fragment, in order."""
    pattern = ".*".join(re.escape(f) for f in fragments)
    return pytest.raises(error, match=re.compile(pattern, re.S))


def test_shape_error_is_a_value_error_and_a_graphc_error():
    assert issubclass(ShapeError, ValueError) and issubclass(ShapeError, graphc.GraphcError)
    assert issubclass(FrontendError, ValueError)


def test_dense_names_expected_last_dim_and_the_chain_back_to_the_input():
    img = graphc.Input((26, 26, 8), name="img")
    flat = layers.Flatten(name="flat")(img)
    head = layers.Dense(10, name="head")
    head.build((None, 1352))
    with raises(ShapeError, "Dense 'head' expects last dim 1352, received (N, 5408) = "
                "Flatten 'flat' of (N, 26, 26, 8) <- Input 'img'", "layer called at",
                HERE) as info:
        head(flat)
    assert head._call_sites == []  # nothing was recorded for the failed call
    assert isinstance(info.value, ValueError)


def test_chain_is_followed_through_several_layers_and_cut_short():
    x = graphc.Input((4,), name="x")
    y = x
    for i in range(7):
        y = layers.Dense(4, name=f"d{i}")(y)
    with raises(ShapeError, "Reshape 'r' expects 3 elements per sample",
                "(N, 4) = Dense 'd6' of (N, 4) <- Dense 'd5' of (N, 4) <- Dense 'd4'", "<- ..."):
        layers.Reshape((3,), name="r")(y)


@pytest.mark.parametrize("make, shape, fragments", [
    (lambda: layers.Dense(3, name="d"), (), ["Dense 'd' expects an input of rank >= 2",
                                             "received (N,) = Input"]),
    (lambda: layers.Dense(3, name="d"), (None,), ["Dense 'd' cannot be applied to its input",
                                                  "last dimension of its input must be known",
                                                  "received (N, ?)"]),
    (lambda: layers.RepeatVector(2, name="rv"), (3, 4), ["RepeatVector 'rv' expects an input "
                                                         "of rank 2", "(N, 3, 4)"]),
    (lambda: layers.Permute((2, 1), name="p"), (4,), ["Permute 'p' expects an input of rank 3"]),
    (lambda: layers.Reshape((5,), name="r"), (4,), ["Reshape 'r' expects 5 elements per sample "
                                                    "to fill target shape (5,)", "(N, 4)"]),
    (lambda: layers.Reshape((-1, 3), name="r"), (4,), ["divisible by 3", "(N, 4)"]),
    (lambda: layers.LayerNormalization(axis=2, name="ln"), (4,),
     ["LayerNormalization 'ln' cannot be applied", "axis 2 is out of range"]),
])
def test_single_input_layer_shape_errors(make, shape, fragments):
    with raises(ShapeError, *fragments):
        make()(graphc.Input(shape))


def test_layer_normalization_checks_later_calls_against_its_weights():
    ln = layers.LayerNormalization(name="ln")
    ln(graphc.Input((4,)))
    with raises(ShapeError, "LayerNormalization 'ln' expects sizes (4,) on axes [-1]",
                "received (N, 5)"):
        ln(graphc.Input((5,)))
    with raises(ShapeError, "expects an input of rank 2", "(N, 2, 4)"):
        ln(graphc.Input((2, 4)))


def test_merge_layers_show_every_input():
    a = layers.Dense(2, name="a")(graphc.Input((4,), name="x"))
    b = graphc.Input((3,), name="b")
    with raises(ShapeError, "Add 'sum' expects inputs whose shapes are equal or broadcast",
                "input 0: (N, 2) = Dense 'a' of (N, 4) <- Input 'x'",
                "input 1: (N, 3) = Input 'b'"):
        layers.Add(name="sum")([a, b])
    c = graphc.Input((2, 5), name="c")
    with raises(ShapeError, "Concatenate 'cat' expects inputs with matching shapes except on "
                "the concatenation axis -1 (and of one rank)", "input 1: (N, 2, 5)"):
        layers.Concatenate(name="cat")([a, c])
    with raises(ShapeError, "matching shapes except on the concatenation axis 1", "(N, 2, 5)"):
        layers.Concatenate(axis=1, name="cat1")([c, graphc.Input((2, 4))])
    with raises(ShapeError, "inputs of rank >= 4 to concatenate on axis 3"):
        layers.Concatenate(axis=3)([c, c])


def test_merge_layer_input_structure():
    x = graphc.Input((2,))
    with raises(FrontendError, "Add 'add' should be called on a list of tensors",
                "a single tensor of shape (N, 2)"):
        layers.Add()(x)
    with raises(FrontendError, "Subtract 'subtract' expects exactly 2 inputs", "3 inputs"):
        layers.Subtract()([x, x, x])
    with raises(FrontendError, "expects a flat list of tensors"):
        layers.Add()([x, [x, x]])
    with raises(FrontendError, "Dense 'dense' expects a single tensor", "a list of 2"):
        layers.Dense(2)([x, x])


def test_op_node_errors_wrap_the_ir_rule():
    x = graphc.Input((4,), name="x")
    with raises(ShapeError, "Matmul 'matmul' cannot be applied to its input",
                "op 'matmul' contracts dimension 4 of (N, 4) with dimension 3 of (3, 2)",
                "received (N, 4) = Input 'x'"):
        ops.matmul(x, np.ones((3, 2), np.float32))
    with raises(ShapeError, "Add 'add' cannot be applied to its inputs", "input 1: (N, 3)"):
        x + graphc.Input((3,))


@pytest.mark.parametrize("key, error, fragment", [
    ((slice(None), 0, 1), ShapeError, "too many indices for a tensor of rank 2"),
    ((slice(None), 9), ShapeError, "index 9 is out of range for axis 1 of (N, 4) (size 4)"),
    ((slice(None), slice(None, None, 0)), ShapeError, "slice step cannot be zero"),
    ((Ellipsis, Ellipsis), FrontendError, "only have a single ellipsis"),
    ((slice(None), True), FrontendError, "boolean (mask) indices are not supported"),
    (([0], [1]), FrontendError, "only one integer-array index"),
    ((slice(None), slice(0.5, None)), FrontendError, "slice bounds must be ints"),
    ((slice(None), [0.5]), FrontendError, "indices must be integers"),
])
def test_indexing_errors(key, error, fragment):
    x = graphc.Input((4,), name="x")
    with raises(error, fragment):
        x[key]


def test_sequential_definition_errors():
    with raises(FrontendError, "already has an input (Input 'first')",
                "an Input can only be the first layer", "Input 'second'"):
        graphc.Sequential([graphc.Input((3,), name="first"), graphc.Input((3,), name="second")])
    with raises(FrontendError, "An Input must be the first layer", "already has layers ('d')"):
        graphc.Sequential([layers.Dense(3, name="d"), graphc.Input((3,))])
    with raises(FrontendError, "Only instances of graphc Layer can be added",
                "Received: 5 (of type int)"):
        graphc.Sequential([layers.Dense(3), 5])
    with raises(FrontendError, "should have unique names. Name 'a' is already"):
        graphc.Sequential([layers.Dense(3, name="a"), layers.Dense(3, name="a")])
    with raises(FrontendError, "expects a list of layers"):
        graphc.Sequential(layers.Dense(3))
    with raises(FrontendError, "There are no layers in Sequential model 'empty' to pop"):
        graphc.Sequential(name="empty").pop()
    with raises(FrontendError, "Sequential model 'empty' has no layers"):
        graphc.Sequential(name="empty")(graphc.Input((3,)))


def test_sequential_add_checks_shapes_at_once_and_rolls_back():
    model = graphc.Sequential([graphc.Input((3,), name="x"), layers.Dense(4, name="d")])
    with raises(ShapeError, "Reshape 'r' expects 3 elements per sample",
                "(N, 4) = Dense 'd' of (N, 3) <- Input 'x'", HERE):
        model.add(layers.Reshape((3,), name="r"))
    assert [layer.name for layer in model.layers] == ["d"] and model.output_shape == (None, 4)
    with raises(ShapeError, "Dense 'deep' expects an input of rank >= 2"):
        graphc.Sequential([layers.Dense(2, name="deep")]).build((None,))


def test_sequential_rejects_multi_output_layers():
    x = graphc.Input((4,))
    two = graphc.Model(x, [layers.Dense(1)(x), layers.Dense(2)(x)], name="two")
    with raises(FrontendError, "should have a single output tensor", "'two' returned 2 tensors"):
        graphc.Sequential([graphc.Input((4,)), two])


def test_functional_model_errors():
    x = graphc.Input((3,), name="x")
    other = graphc.Input((3,), name="other")
    out = layers.Dense(2, name="d")(other)
    with raises(FrontendError, "Graph disconnected: output 0 of model 'm', (N, 2) = Dense 'd' "
                "of (N, 3) <- Input 'other'", "inputs ['x']", "depends on Input 'other'"):
        graphc.Model(x, out, name="m")
    with raises(FrontendError, "The name 'q' is used 2 times in model 'm2'",
                "All layer names should be unique"):
        graphc.Model(x, layers.Dense(2, name="q")(layers.Dense(2, name="q")(x)), name="m2")
    with raises(FrontendError, "inputs must be symbolic tensors", "input 0 is ndarray"):
        graphc.Model(np.ones(3), out)
    with raises(FrontendError, "outputs must be symbolic tensors", "output 1 is int"):
        graphc.Model(x, [layers.Dense(1)(x), 3])
    with raises(FrontendError, "input 'x' is given twice"):
        graphc.Model([x, x], layers.Dense(1)(x))
    with raises(FrontendError, "graphc.Model needs inputs= and outputs="):
        graphc.Model()


def test_slicing_from_a_nested_model_called_twice_is_ambiguous():
    y = graphc.Input((3,))
    inner = graphc.Model(y, layers.Dense(2, name="inner_d")(y), name="inner")
    a, b = graphc.Input((3,)), graphc.Input((3,))
    outer = graphc.Model([a, b], layers.Add()([inner(a), inner(b)]), name="outer")
    with raises(FrontendError, "lies inside a nested model that is called 2 times",
                "it is ambiguous which call is meant"):
        graphc.Model(outer.inputs, inner.get_layer("inner_d").output)
    with raises(FrontendError, "Graph disconnected", "(an input of model 'inner', which is not "
                "called on these inputs)"):
        graphc.Model(graphc.Input((3,)), inner.get_layer("inner_d").output)


def test_calling_a_model_with_the_wrong_inputs():
    a, b = graphc.Input((3,), name="a"), graphc.Input((4,), name="b")
    model = graphc.Model([a, b], layers.Concatenate()([a, b]), name="two")
    with raises(FrontendError, "Model 'two' expects 2 inputs (a: (N, 3), b: (N, 4)), received "
                "a single tensor of shape (N, 3)", "layer called at"):
        model(a)
    with raises(FrontendError, "expects 2 input(s)", "received a list of 1 value(s)"):
        model([a])
    with raises(FrontendError, "Model 'two' is missing input(s) 'b'"):
        model({"a": a})
    single = graphc.Model(a, layers.Dense(2)(a), name="single")
    with raises(ShapeError, "Model 'single' expects input 'a' of shape (N, 3), received (N, 5) "
                "= Input 'wrong'"):
        single(graphc.Input((5,), name="wrong"))
    with raises(ShapeError, "expects input 'a' of shape (N, 3), received (N, 2, 3)"):
        single(graphc.Input((2, 3)))  # rank mismatch


def test_symbolic_tensor_misuse():
    x = graphc.Input((3,), name="x")
    with raises(FrontendError, "has no truth value"):
        bool(x > 0)
    with raises(FrontendError, "is symbolic: it has no values until the model runs"):
        np.asarray(x)
    with raises(FrontendError, "cannot be iterated"):
        list(x)
    with raises(FrontendError, "was called on a mix of symbolic tensors and other values"):
        layers.Add()([x, np.ones((1, 3))])
    with raises(FrontendError, "tensors must be passed as the inputs, not as keyword argument "
                "'mask'"):
        layers.Dense(2)(x, mask=x)
    dense = layers.Dense(2)
    dense(x)
    with raises(FrontendError, "cannot use layer weight 'dense_1/kernel' directly"):
        ops.matmul(x, dense.kernel)


def test_layer_construction_errors():
    cases = [
        (lambda: layers.Dense(2, name="a/b"), "name may not contain '/'"),
        (lambda: layers.Dense(2, name=""), "name must be a non-empty string"),
        (lambda: layers.Dense(2, foo=1),
         "Unrecognized keyword arguments passed to Dense: {'foo': 1}"),
        (lambda: layers.Dense(0), "units must be a positive int. Received: units=0"),
        (lambda: layers.Dense(2, activation="nope"),
         "unknown activation 'nope'; known activations:"),
        (lambda: layers.Dense(2, activation=3), "an activation must be a name, a callable or None"),
        (lambda: layers.Dense(2, kernel_initializer="nope"), "unknown initializer 'nope'"),
        (lambda: layers.Dense(2, kernel_initializer=3), "an initializer must be a name"),
        (lambda: layers.Dense(2, dtype="complex64"), "unsupported dtype 'complex64'"),
        (lambda: layers.Dropout(1.5), "rate; expected a float between 0 and 1"),
        (lambda: layers.Reshape((2, -2)), "target_shape must be a tuple of non-negative ints"),
        (lambda: layers.Reshape((-1, -1)), "at most one -1"),
        (lambda: layers.Permute((1, 3)), "dims must be a permutation of 1..2"),
        (lambda: layers.RepeatVector(-1), "n must be a non-negative int"),
        (lambda: layers.Concatenate(axis="x"), "axis must be an int"),
        (lambda: layers.Softmax(axis=1.5), "axis must be an int"),
        (lambda: layers.LeakyReLU(negative_slope=-1), "negative_slope must be a number >= 0"),
        (lambda: layers.ReLU(max_value="x"), "max_value must be a number >= 0"),
        (lambda: layers.ELU(alpha=None), "alpha must be a number"),
        (lambda: layers.Lambda(3), "function must be callable"),
        (lambda: layers.LayerNormalization(axis="x"), "axis must be an int or a list of ints"),
        (lambda: layers.LayerNormalization(epsilon=-1), "epsilon must be a non-negative number"),
        (lambda: layers.Embedding(0, 2), "input_dim must be a positive int"),
        (lambda: layers.Embedding(4, 2, mask_zero=True), "mask_zero=True is not supported"),
        (lambda: graphc.Input(), "needs shape= (the shape of one sample"),
        (lambda: graphc.Input((-1, 3)), "every dimension must be a non-negative int or None"),
        (lambda: graphc.Input("abc"), "shape must be a tuple of ints or None"),
        (lambda: graphc.Input((3,), batch_size=0), "batch_size must be a positive int or None"),
        (lambda: graphc.Input(batch_shape=()), "batch_shape needs at least the batch dim"),
        (lambda: graphc.Input((3,), dtype="complex64"), "unsupported dtype 'complex64'"),
        (lambda: graphc.initializers.RandomNormal(seed="a"), "seed must be an int or None"),
        (lambda: graphc.initializers.VarianceScaling(scale=0), "scale must be positive"),
        (lambda: graphc.initializers.VarianceScaling(mode="x"), "mode must be one of"),
        (lambda: graphc.initializers.VarianceScaling(distribution="x"), "distribution must be"),
    ]
    for make, fragment in cases:
        with raises(FrontendError, fragment):
            make()


def test_weight_errors():
    x = graphc.Input((3,))
    model = graphc.Model(x, layers.Dense(2, name="d")(x), name="m")
    with raises(FrontendError, "set_weights(weights) on Model 'm' with a weight list of length 1",
                "expecting 2 weights (d/kernel, d/bias)"):
        model.set_weights([np.ones((3, 2))])
    with raises(FrontendError, "weight 'd/kernel' has shape (3, 2), which is not compatible with "
                "the provided weight shape (2, 3)"):
        model.set_weights([np.ones((2, 3)), np.ones(2)])
    with raises(FrontendError, "set_weights on Model 'm' expects a list of arrays"):
        model.set_weights(np.ones(3))
    with raises(FrontendError, "weight 'd/bias' expects a float32 array of shape (2,)"):
        model.get_layer("d").bias.assign(["a", "b"])

    class TwoWeights(layers.Layer):
        def build(self, input_shape):
            self.add_weight("w", (2,))
            self.add_weight("w", (2,))

        def call(self, inputs):
            return inputs

    with raises(FrontendError, "already has a weight named 'w'"):
        TwoWeights(name="tw")(x)


def test_layer_input_output_errors_and_get_layer():
    dense = layers.Dense(2, name="lonely")
    with raises(FrontendError, "Dense 'lonely' has never been called and thus has no defined "
                "output"):
        dense.output
    x = graphc.Input((3,), name="x")
    dense(x)
    with raises(FrontendError, "was called 1 time(s); asked for the input of call 4"):
        dense.get_input_at(4)
    inner = graphc.Sequential([layers.Dense(2, name="deep")], name="inner")
    model = graphc.Model(x, inner(dense(x)), name="m")
    with raises(FrontendError, "No such layer: zzz. Existing layers are: ['x', 'lonely', "
                "'inner']"):
        model.get_layer("zzz")
    with raises(FrontendError, "Layer 'deep' is inside a nested model: use "
                "model.get_layer('inner').get_layer('deep')"):
        model.get_layer("deep")
    with raises(FrontendError, "retrieve layer at index 7 but model 'm' only has 3 layers"):
        model.get_layer(index=7)
    with raises(FrontendError, "Provide only a layer name or a layer index"):
        model.get_layer("x", 0)
    with raises(FrontendError, "Provide either a layer name or layer index"):
        model.get_layer()


def test_custom_layer_errors():
    class NoCall(layers.Layer):
        pass

    class ReturnsNumber(layers.Layer):
        def call(self, inputs):
            return 3

    x = graphc.Input((2,))
    with raises(FrontendError, "NoCall does not implement call(inputs)"):
        NoCall()(x)
    with raises(FrontendError, "'returns_number'.call must return tensors computed from its "
                "inputs", "returned 3"):
        ReturnsNumber()(x)


def test_dropout_training_mode_is_refused_clearly():
    """Fixing training=True at a call site of a model definition has no random key."""
    with raises(FrontendError, "Dropout 'dr' is in training mode in a trace without a random "
                "key", "do not fix training=True at a call site of a model definition"):
        layers.Dropout(0.5, name="dr")(graphc.Input((3,)), training=True)


def test_unbuilt_sequential():
    model = graphc.Sequential([layers.Dense(2)], name="lazy")
    for action in (model.to_ir, lambda: model.inputs, lambda: model.output):
        with raises(FrontendError, "Sequential model 'lazy' is not built yet",
                    "build((None, ...))"):
            action()
    with raises(FrontendError, "build expects the input shape including the batch dim"):
        model.build(5)


def test_bad_op_arguments_name_the_op_node_and_attribute():
    x = graphc.Input((3, 4), name="x")
    with raises(ShapeError, "Softmax 'softmax' cannot be applied to its input",
                "op 'softmax', attribute 'axis': expected an integer", "received 'a'"):
        ops.softmax(x, axis="a")
    with raises(ShapeError, "Sum 'sum' cannot be applied", "attribute 'axes'"):
        ops.sum(x, axis="a")
    with raises(FrontendError, "reshape newshape must be a tuple of dimensions"):
        ops.reshape(x, "abc")
    with raises(FrontendError, "cannot use 'a' (numpy dtype <U1) as a tensor constant"):
        ops.clip(x, "a", 1)


def test_dict_structures_need_string_keys():
    x = graphc.Input((3,))
    with raises(FrontendError, "dicts of tensors must have string keys", "['a', 1]"):
        graphc.Model(x, {"a": x, 1: x})


def test_unknown_dims_where_a_layer_needs_them():
    x = graphc.Input((None, 4), name="x")
    with raises(ShapeError, "Flatten 'f' expects a known batch dim or known sample dims",
                "received (?, ?, 4)"):
        layers.Flatten(name="f")(x[1:])
    with raises(ShapeError, "Reshape 'r' expects a known batch dim when target_shape holds -1"):
        layers.Reshape((-1, 2), name="r")(x[1:])
    with raises(ShapeError, "Flatten 'f0' expects an input with a batch dim (rank >= 1), "
                "received ()"):
        layers.Flatten(name="f0")(graphc.Input((3,))[0, 0])
    with raises(ShapeError, "LayerNormalization 'ln' cannot be applied to its input: its input "
                "needs known sizes on the normalized axes [-1]", "received (N, ?)"):
        layers.LayerNormalization(name="ln")(graphc.Input((None,)))

    class Unknowable(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight("w", input_shape)

        def call(self, x):
            return x

    with raises(ShapeError, "Unknowable 'u': weight 'w' needs a fully known shape, received "
                "(None, 3)"):
        Unknowable(name="u")(graphc.Input((3,)))


def test_input_layers_cannot_be_called():
    x = graphc.Input((3,), name="x")
    with raises(FrontendError, "InputLayer 'x' cannot be called; use its output"):
        x.layer(x)


def test_integer_constants_must_fit():
    i = graphc.Input((2,), dtype="int32")
    with raises(ShapeError, "constant 1099511627776 does not fit in int32"):
        i + 2 ** 40
    flags = graphc.Input((2,), dtype="bool")
    assert str(ops.equal(flags, 2).type) == "bool[N,2]" and str(ops.where(flags, 2, 0).type) == \
        "i32[N,2]"


def test_traced_values_cannot_cross_layer_calls():
    stash = []

    class Stash(layers.Layer):
        def call(self, x):
            stash.append(x)
            return x

    class Use(layers.Layer):
        def call(self, x):
            return ops.add(x, stash[0])

    x = graphc.Input((2,))
    Stash()(x)
    with raises(FrontendError, "a value from another trace was used"):
        Use()(x)
