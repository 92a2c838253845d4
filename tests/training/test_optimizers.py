"""Optimizers: the IR updates against numpy implementations of Keras' formulas.

Each optimizer updates an f64 Variable for five steps with changing gradients,
inside ``graphc.function`` on the interpreter (the traced path); the eager
``apply_gradients`` path runs on the default backend.  Tolerance: rtol 1e-12
in f64 (the same formula, evaluated in a different order), 1e-6 in f32.
"""

from __future__ import annotations

import numpy as np
import pytest

import graphc
from graphc import layers, optimizers
from graphc.errors import FrontendError
from graphc.training import Variable, schedules

from .conftest import INTERP


def numpy_reference(name: str, config: dict):
    """A numpy optimizer: ``update(w, g, t) -> w`` with state kept inside."""
    state: dict = {}
    lr = config.get("learning_rate", 0.001)

    def sgd(w, g, t):
        mom = config.get("momentum", 0.0)
        if not mom:
            return w - lr * g
        v = state["v"] = mom * state.get("v", 0.0) - lr * g
        return w + mom * v - lr * g if config.get("nesterov") else w + v

    def adam(w, g, t):
        b1, b2, eps = 0.9, 0.999, 1e-7
        w = w - w * config.get("weight_decay", 0.0) * lr
        m = state["m"] = state.get("m", 0.0) + (g - state.get("m", 0.0)) * (1 - b1)
        v = state["v"] = state.get("v", 0.0) + (g * g - state.get("v", 0.0)) * (1 - b2)
        alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        return w - m * alpha / (np.sqrt(v) + eps)

    def rmsprop(w, g, t):
        rho, mom, eps = 0.9, config.get("momentum", 0.0), 1e-7
        v = state["v"] = rho * state.get("v", 0.0) + (1 - rho) * g * g
        denominator = v + eps
        if config.get("centered"):
            mg = state["mg"] = rho * state.get("mg", 0.0) + (1 - rho) * g
            denominator = denominator - mg * mg
        increment = lr * g / np.sqrt(denominator)
        if mom:
            increment = state["mom"] = mom * state.get("mom", 0.0) + increment
        return w - increment

    return {"SGD": sgd, "Adam": adam, "AdamW": adam, "RMSprop": rmsprop}[name]


CASES = [
    ("SGD", {"learning_rate": 0.1}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"learning_rate": 0.01}),
    ("AdamW", {"learning_rate": 0.01, "weight_decay": 0.1}),
    ("RMSprop", {"learning_rate": 0.01}),
    ("RMSprop", {"learning_rate": 0.01, "momentum": 0.5, "centered": True}),
]


def _gradients(step: int, shape=(3, 2)) -> np.ndarray:
    return np.sin(np.arange(np.prod(shape)).reshape(shape) + 0.7 * step)


@pytest.mark.parametrize("name, config", CASES, ids=[f"{n}-{sorted(c)}" for n, c in CASES])
def test_updates_match_the_formulas(name, config):
    w0 = np.linspace(-1, 1, 6).reshape(3, 2)
    var = Variable("w", w0.copy())
    optimizer = getattr(optimizers, name)(**config)

    @graphc.function(backend=INTERP)
    def step(grad):
        optimizer.apply_gradients([(grad, var)])

    reference, expected = numpy_reference(name, config), w0.copy()
    for t in range(1, 6):
        step(_gradients(t))
        expected = reference(expected, _gradients(t), t)
        np.testing.assert_allclose(var.value, expected, rtol=1e-12, atol=1e-14)
    assert int(optimizer.iterations.value) == 5


def test_eager_apply_gradients_on_layer_weights_default_backend():
    dense = layers.Dense(2, kernel_initializer="ones")
    dense.build((None, 3))
    kernel0 = dense.kernel.numpy()
    optimizer = optimizers.Adam(learning_rate=0.01)
    reference = numpy_reference("Adam", {"learning_rate": 0.01})
    expected = kernel0.astype(np.float64)
    for t in range(1, 4):
        grads = [_gradients(t).astype(np.float32), np.ones(2, np.float32)]
        optimizer.apply_gradients(zip(grads, [dense.kernel, dense.bias]))
        expected = reference(expected, grads[0].astype(np.float64), t)
    np.testing.assert_allclose(dense.kernel.value, expected, rtol=1e-5, atol=1e-6)
    assert not dense.kernel.value.flags.writeable  # Weight values stay read-only


def test_clipping():
    var = Variable("w", np.zeros(4))
    g = np.array([3.0, -4.0, 0.5, 0.0])
    for kwargs, expected in (({"clipvalue": 1.0}, -np.clip(g, -1, 1)),
                             ({"clipnorm": 2.5}, -g * 2.5 / np.linalg.norm(g)),
                             ({"global_clipnorm": 100.0}, -g)):
        var.assign(np.zeros(4))
        optimizer = optimizers.SGD(learning_rate=1.0, **kwargs)
        graphc.function(lambda grad: optimizer.apply_gradients([(grad, var)]),
                        backend=INTERP)(g)
        np.testing.assert_allclose(var.value, expected, rtol=1e-12)


def test_learning_rate_schedule_is_read_every_step_without_retracing():
    schedule = schedules.PiecewiseConstantDecay([1], [1.0, 0.25])
    var = Variable("w", np.zeros(1))
    optimizer = optimizers.SGD(learning_rate=schedule)
    traces = []

    @graphc.function(backend=INTERP)
    def step(grad):
        traces.append(1)
        optimizer.apply_gradients([(grad, var)])

    for _ in range(3):
        step(np.ones(1))
    # steps 0 and 1 use 1.0, step 2 uses 0.25
    np.testing.assert_allclose(var.value, [-2.25])
    assert len(traces) == 1


def test_schedules():
    exp = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert exp(0) == pytest.approx(0.1) and exp(10) == pytest.approx(0.05)
    assert exp(15) == pytest.approx(0.1 * 0.5 ** 1.5)
    stair = schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True)
    assert stair(15) == pytest.approx(0.05)
    assert schedules.InverseTimeDecay(1.0, 1, 1.0)(3) == pytest.approx(0.25)
    poly = schedules.PolynomialDecay(1.0, decay_steps=4, end_learning_rate=0.0, power=2)
    assert [poly(s) for s in (0, 2, 4, 9)] == pytest.approx([1.0, 0.25, 0.0, 0.0])
    cosine = schedules.CosineDecay(0.0, decay_steps=10, warmup_target=1.0, warmup_steps=5)
    assert cosine(0) == 0.0 and cosine(5) == pytest.approx(1.0)
    assert cosine(10) == pytest.approx(0.5) and cosine(15) == pytest.approx(0.0)
    config = schedules.serialize(cosine)
    assert schedules.deserialize(config).get_config() == cosine.get_config()
    with pytest.raises(FrontendError, match="one more value than boundaries"):
        schedules.PiecewiseConstantDecay([1, 2], [1.0])


def test_config_and_variables_round_trip():
    dense = layers.Dense(2)
    dense.build((None, 3))
    optimizer = optimizers.Adam(learning_rate=schedules.ExponentialDecay(0.1, 5, 0.9),
                                beta_1=0.8)
    optimizer.apply_gradients(zip([np.ones((3, 2), np.float32), np.ones(2, np.float32)],
                                  [dense.kernel, dense.bias]))
    state = optimizer.variables()
    assert [s.shape for s in state] == [(), (3, 2), (3, 2), (2,), (2,)]
    assert int(state[0]) == 1 and np.all(state[1] != 0)

    clone = optimizers.get(optimizers.serialize(optimizer))
    assert isinstance(clone, optimizers.Adam) and clone.get_config() == optimizer.get_config()
    with pytest.raises(FrontendError, match="Call build"):
        clone.set_variables(state)
    clone.build([dense.kernel, dense.bias])
    clone.set_variables(state)
    for a, b in zip(clone.variables(), state):
        np.testing.assert_array_equal(a, b)


def test_bad_arguments():
    with pytest.raises(FrontendError, match="learning_rate must be a positive number"):
        optimizers.SGD(learning_rate=-1)
    with pytest.raises(FrontendError, match="momentum must be in"):
        optimizers.SGD(momentum=1.5)
    with pytest.raises(FrontendError, match="unknown optimizer 'adamm'"):
        optimizers.get("adamm")
    with pytest.raises(FrontendError, match="received no gradients"):
        optimizers.SGD().apply_gradients([])
    var = Variable("w", np.zeros(3, np.float32))
    with pytest.raises(FrontendError, match="gradient for 'w' has shape"):
        optimizers.SGD().apply_gradients([(np.zeros(2, np.float32), var)])
