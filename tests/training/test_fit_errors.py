"""Every mistake a user can make with compile/fit/evaluate gets a clear GraphcError."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest

import graphc
from graphc import layers
from graphc.errors import FrontendError, InputError, ShapeError
from graphc.training import NonFiniteLossError
from graphc.training.progress import ProgbarLogger

from .conftest import INTERP, blobs, small_mlp


def compiled(model=None, **kwargs):
    model = model or small_mlp()
    options = dict(optimizer="sgd", loss="sparse_categorical_crossentropy")
    options.update(kwargs)
    model.compile(backend=INTERP, **options)
    return model


def test_uncompiled_model():
    with pytest.raises(FrontendError, match=r"must be compiled before fit: call model.compile"):
        small_mlp().fit(*blobs(4))


def test_mismatched_sample_counts():
    x, y = blobs(10)
    with pytest.raises(InputError, match=r"fit: x and y must hold the same number of samples; "
                       r"input 'input_layer' has 10, targets 'dense_1' has 9"):
        compiled().fit(x, y[:9], verbose=0)


def test_labels_out_of_range_and_not_whole():
    x, y = blobs(10)
    y[4] = 3
    with pytest.raises(InputError, match=re.escape("fit: targets for output 'dense_1': loss "
                       "'sparse_categorical_crossentropy' needs class labels in [0, 3); found 3 "
                       "at index 4")):
        compiled().fit(x, y, verbose=0)
    with pytest.raises(InputError, match="found 0.5 at index 0"):
        compiled().evaluate(x, np.full(10, 0.5), verbose=0)


def test_a_loss_that_does_not_fit_the_output():
    x, y = blobs(10)
    with pytest.raises(ShapeError, match=re.escape("output 'dense_1': loss "
                       "'categorical_crossentropy' needs targets shaped like the predictions "
                       "(N, 3); received targets of shape (N,); integer class labels need "
                       "'sparse_categorical_crossentropy'")):
        compiled(loss="categorical_crossentropy").fit(x, y, verbose=0)
    with pytest.raises(ShapeError, match=re.escape("loss 'mean_squared_error' needs targets "
                                                   "shaped like the predictions (N, 3); "
                                                   "received targets of shape (N, 2)")):
        compiled(loss="mse").fit(x, np.zeros((10, 2)), verbose=0)


def test_bad_compile_arguments():
    a = graphc.Input((4,))
    model = graphc.Model(a, [layers.Dense(2, name="p")(a), layers.Dense(1, name="q")(a)])
    with pytest.raises(FrontendError, match=r"names unknown output\(s\) \['r'\]; the model's "
                       r"outputs are \['p', 'q'\]"):
        model.compile(loss={"r": "mse"})
    with pytest.raises(FrontendError, match="received 3 losses for a model with 2 output"):
        model.compile(loss=["mse"] * 3)
    with pytest.raises(FrontendError, match="needs a loss"):
        model.compile(optimizer="adam")
    with pytest.raises(FrontendError, match="unknown optimizer"):
        model.compile(optimizer="adagradx", loss="mse")
    model.compile(loss={"p": "mse"}, backend=INTERP)
    with pytest.raises(InputError, match=r"missing targets for output\(s\) \['p'\]"):
        model.fit(np.ones((3, 4)), {"q": np.ones((3, 1))}, verbose=0)


@pytest.mark.parametrize("kwargs, message", [
    ({"batch_size": 0}, "batch_size must be a positive int"),
    ({"epochs": -1}, "epochs must be a non-negative int"),
    ({"verbose": 3}, "verbose must be 0, 1, 2 or 'auto'"),
    ({"validation_split": 1.5}, r"validation_split must be in \(0, 1\)"),
    ({"validation_data": ([1],)}, r"validation_data must be a tuple \(x_val, y_val\)"),
])
def test_bad_fit_arguments(kwargs, message):
    with pytest.raises(FrontendError, match=message):
        compiled().fit(*blobs(10), **kwargs)


def _exploding_model():
    """log of a value that turns negative during training: NaN, at a known layer."""
    x = graphc.Input((2,))
    h = layers.Dense(1, kernel_initializer="ones", bias_initializer="zeros", name="lin")(x)
    out = layers.Lambda(lambda t: graphc.ops.log(t), name="logarithm")(h)
    return graphc.Model(x, out)


def test_nan_loss_stops_naming_epoch_and_batch():
    model = compiled(_exploding_model(), loss="mse", optimizer=graphc.optimizers.SGD(10.0))
    x = np.ones((8, 2), np.float32)
    before_each_batch = []
    remember = graphc.callbacks.LambdaCallback(
        on_train_batch_begin=lambda batch, logs: before_each_batch.append(model.get_weights()))
    with pytest.raises(NonFiniteLossError, match=r"the loss became nan at epoch 1/3, batch "
                       r"\d/4; the weights are those before this batch\. Pass debug_nans=True"):
        model.fit(x, np.full((8, 1), -50.0, np.float32), batch_size=2, epochs=3, verbose=0,
                  shuffle=False, callbacks=[remember])
    for got, want in zip(model.get_weights(), before_each_batch[-1]):
        np.testing.assert_array_equal(got, want)  # the failing batch was not applied


def test_debug_nans_locates_the_op_and_its_layer():
    model = compiled(_exploding_model(), loss="mse", optimizer=graphc.optimizers.SGD(10.0))
    x = np.ones((8, 2), np.float32)
    with pytest.raises(NonFiniteLossError) as info:
        model.fit(x, np.full((8, 1), -50.0, np.float32), batch_size=2, epochs=2, verbose=0,
                  shuffle=False, debug_nans=True)
    text = str(info.value)
    assert "the first non-finite value (NaN) was produced by op 'log' at " in text
    assert "functional/logarithm" in text and "test_fit_errors.py" in text
    assert "from finite inputs" in text


def test_progress_bar_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    model = compiled()
    model.fit(*blobs(20), epochs=2, batch_size=10, callbacks=[ProgbarLogger(1, stream)],
              verbose=0)
    out = stream.getvalue()
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "2/2" in out and "loss:" in out
