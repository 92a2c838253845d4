"""compile / fit / evaluate / train_on_batch, logs, progress and callbacks (on the
interpreter; the default backend is covered in test_default_backend.py)."""

from __future__ import annotations

import numpy as np
import pytest

import graphc
from graphc import callbacks, layers

from .conftest import INTERP, blobs, small_mlp


def compiled(model, **kwargs):
    options = dict(optimizer=graphc.optimizers.Adam(0.05),
                   loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    options.update(kwargs)
    model.compile(backend=INTERP, **options)
    return model


def test_fit_learns_and_reports_exact_epoch_logs(capsys):
    x, y = blobs(150)
    model = compiled(small_mlp())
    history = model.fit(x, y, batch_size=32, epochs=8, validation_split=0.2, seed=1, verbose=2)
    assert history is model.history
    assert list(history.history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert history.epoch == list(range(8))
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["val_accuracy"][-1] >= 0.9
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 8 and lines[0].startswith("Epoch 1/8 - 4/4 - ")
    assert " - loss: " in lines[0] and " - val_accuracy: " in lines[0]
    # the epoch logs are exact averages: evaluate() on the same data agrees
    val_x, val_y = x[120:], y[120:]
    loss, accuracy = model.evaluate(val_x, val_y, batch_size=7)
    assert loss == pytest.approx(history.history["val_loss"][-1], rel=1e-5)
    assert accuracy == pytest.approx(history.history["val_accuracy"][-1])
    assert model.evaluate(val_x, val_y, return_dict=True) == pytest.approx(
        {"loss": loss, "accuracy": accuracy}, rel=1e-5)
    assert model.metrics_names == ["loss", "accuracy"]


def test_verbose_zero_prints_nothing_and_validation_data(capsys):
    x, y = blobs(60)
    model = compiled(small_mlp())
    history = model.fit(x, y, epochs=2, verbose=0, validation_data=(x[:10], y[:10]))
    assert capsys.readouterr().out == ""
    assert "val_loss" in history.history


def test_train_and_test_on_batch():
    x, y = blobs(20)
    model = compiled(small_mlp())
    before = model.test_on_batch(x, y)
    logs = model.train_on_batch(x, y, return_dict=True)
    assert logs["loss"] == pytest.approx(before[0], rel=1e-6)  # the loss before the update
    assert model.test_on_batch(x, y)[0] < before[0]
    assert model.predict_on_batch(x[:3]).shape == (3, 3)


def test_sequential_without_input_builds_from_fit_data():
    x, y = blobs(30)
    model = graphc.Sequential([layers.Dense(3, activation="softmax")])
    compiled(model, metrics=None)
    history = model.fit(x, y, epochs=1, verbose=0)
    assert list(history.history) == ["loss"] and model.built


def test_multi_output_losses_weights_and_metrics():
    a = graphc.Input((4,), name="a")
    h = layers.Dense(8, activation="relu", name="h")(a)
    cls = layers.Dense(3, activation="softmax", name="cls")(h)
    reg = layers.Dense(1, name="reg")(h)
    model = graphc.Model(a, [cls, reg])
    model.compile(optimizer="adam", loss=["sparse_categorical_crossentropy", "mse"],
                  loss_weights=[1.0, 0.25], metrics={"cls": ["accuracy"], "reg": ["mae"]},
                  backend=INTERP)
    x, y = blobs(40)
    target = x[:, :1] * 2.0
    probs, pred = model.predict(x)
    history = model.fit(x, {"cls": y, "reg": target}, epochs=2, verbose=0, batch_size=40,
                        shuffle=False)
    assert list(history.history) == ["loss", "cls_loss", "reg_loss", "cls_accuracy", "reg_mae"]
    logs = {k: v[0] for k, v in history.history.items()}
    assert logs["loss"] == pytest.approx(logs["cls_loss"] + 0.25 * logs["reg_loss"], rel=1e-5)
    # the first epoch is one batch: its logs are those of the initial weights
    assert logs["cls_accuracy"] == pytest.approx(float(np.mean(probs.argmax(-1) == y)))
    assert logs["reg_loss"] == pytest.approx(float(np.mean((pred - target) ** 2)), rel=1e-4)
    assert logs["reg_mae"] == pytest.approx(float(np.mean(np.abs(pred - target))), rel=1e-4)


class Recorder(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def __getattribute__(self, name):
        if name.startswith("on_"):
            calls = object.__getattribute__(self, "calls")
            return lambda *args: calls.append(name)
        return object.__getattribute__(self, name)


def test_callback_hooks_order_and_stop_training():
    x, y = blobs(20)
    model = compiled(small_mlp())
    recorder = Recorder()

    class StopAfterFirst(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            assert self.params["epochs"] == 5 and self.params["steps"] == 2
            self.model.stop_training = True

    history = model.fit(x, y, batch_size=10, epochs=5, verbose=0,
                        validation_data=(x, y), callbacks=[recorder, StopAfterFirst()])
    assert len(history.epoch) == 1
    assert recorder.calls == ["on_train_begin", "on_epoch_begin", "on_train_batch_begin",
                              "on_train_batch_end", "on_train_batch_begin",
                              "on_train_batch_end", "on_epoch_end", "on_train_end"]


def test_stop_training_in_the_middle_of_an_epoch_stops_after_that_batch():
    x, y = blobs(60)
    model = compiled(small_mlp(), optimizer=graphc.optimizers.SGD(0.1))
    seen = []

    class StopAtThirdBatch(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(batch)
            if batch == 2:
                self.model.stop_training = True

    history = model.fit(x, y, batch_size=10, epochs=3, verbose=0, shuffle=False,
                        callbacks=[StopAtThirdBatch()])
    assert seen == [0, 1, 2] and len(history.epoch) == 1
    assert int(model.optimizer.iterations.value) == 3     # three steps ran, no more


def test_early_stopping_restores_the_best_weights():
    x, y = blobs(40)
    model = compiled(small_mlp(), optimizer=graphc.optimizers.SGD(0.5))
    snapshots = []
    keep = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: snapshots.append((logs["loss"], model.get_weights())))
    stop = callbacks.EarlyStopping(monitor="loss", patience=1, min_delta=10.0,
                                   restore_best_weights=True)
    history = model.fit(x, y, epochs=10, verbose=0, callbacks=[keep, stop])
    # min_delta=10 means no later epoch counts as an improvement: stop after epoch 2
    assert len(history.epoch) == 2 and stop.stopped_epoch == 1
    for got, want in zip(model.get_weights(), snapshots[0][1]):
        np.testing.assert_array_equal(got, want)


def test_model_checkpoint_and_learning_rate_scheduler(tmp_path):
    x, y = blobs(30)
    model = compiled(small_mlp(), optimizer=graphc.optimizers.SGD(0.1))
    path = str(tmp_path / "ckpt-{epoch:02d}-{loss:.3f}.npz")
    rates = []
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[
        callbacks.ModelCheckpoint(path, monitor="loss", save_best_only=True),
        callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1)),
        callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: rates.append(
            model.optimizer.learning_rate))])
    assert rates == pytest.approx([0.1, 0.05, 0.1 / 3])
    assert history.history["learning_rate"] == pytest.approx(rates)
    saved = sorted(p.name for p in tmp_path.iterdir())
    assert saved[0].startswith("ckpt-01-") and len(saved) >= 1
    final = model.get_weights()
    model.set_weights([np.zeros_like(w) for w in final])
    model.load_weights(str(tmp_path / saved[-1]))
    for got, want in zip(model.get_weights(), final):
        np.testing.assert_array_equal(got, want)
