"""``model.summary()``: the table, parameter totals with sizes, Functional
"Connected to", nested expansion, trainable flags, and plain text off a
terminal (rich box drawing and colour only on a terminal)."""

from __future__ import annotations

import sys

import graphc
from graphc import layers
from graphc.models.summary import readable_size

MLP_SUMMARY = """\
Model: "mnist"
+-----------------+--------------+---------+
| Layer (type)    | Output Shape | Param # |
+=================+==============+=========+
| dense (Dense)   | (None, 512)  | 401,920 |
| dense_1 (Dense) | (None, 10)   |   5,130 |
+-----------------+--------------+---------+
 Total params: 407,050 (1.55 MB)
 Trainable params: 407,050 (1.55 MB)
 Non-trainable params: 0 (0.00 B)"""


def lines_of(model, **kwargs):
    out = []
    model.summary(print_fn=out.append, **kwargs)
    return out


def mnist():
    return graphc.Sequential([graphc.Input((784,)), layers.Dense(512, activation="relu"),
                              layers.Dense(10, activation="softmax")], name="mnist")


def test_sequential_mlp_summary_is_exact():
    assert "\n".join(lines_of(mnist())) == MLP_SUMMARY


def test_summary_prints_plain_text_when_stdout_is_not_a_terminal(capsys):
    mnist().summary()
    out = capsys.readouterr().out
    assert out == MLP_SUMMARY + "\n" and "\x1b[" not in out


def test_summary_uses_rich_on_a_terminal(monkeypatch, capsys):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    mnist().summary()
    out = capsys.readouterr().out
    assert "┏━" in out and "Layer (type)" in out and "\x1b[" in out
    assert " Total params: 407,050 (1.55 MB)" in out


def test_functional_summary_has_connected_to():
    a, b = graphc.Input((3,), name="a"), graphc.Input((3,), name="b")
    shared = layers.Dense(2, name="shared")
    total = layers.Add(name="total")([shared(a), shared(b)])
    model = graphc.Model([a, b], total, name="f")
    assert lines_of(model) == [
        'Model: "f"',
        "+----------------+--------------+---------+--------------+",
        "| Layer (type)   | Output Shape | Param # | Connected to |",
        "+================+==============+=========+==============+",
        "| a (InputLayer) | (None, 3)    |       0 | -            |",
        "| b (InputLayer) | (None, 3)    |       0 | -            |",
        "| shared (Dense) | (None, 2)    |       8 | a[0][0]      |",
        "|                |              |         | b[0][0]      |",
        "| total (Add)    | (None, 2)    |       0 | shared[0][0] |",
        "|                |              |         | shared[1][0] |",
        "+----------------+--------------+---------+--------------+",
        " Total params: 8 (32.00 B)",
        " Trainable params: 8 (32.00 B)",
        " Non-trainable params: 0 (0.00 B)",
    ]


def test_expand_nested_and_show_trainable():
    inner = graphc.Sequential([layers.Dense(4, name="d1"), layers.Dense(2, name="d2")],
                              name="inner")
    x = graphc.Input((3,), name="x")
    model = graphc.Model(x, layers.Dense(1, name="head")(inner(x)), name="outer")
    inner.get_layer("d1").trainable = False
    lines = lines_of(model, expand_nested=True, show_trainable=True)
    assert lines[4:9] == [
        "| x (InputLayer)     | (None, 3)    |       0 | -            |     -     |",
        "| inner (Sequential) | (None, 2)    |      26 | x[0][0]      |     Y     |",
        "|   └ d1 (Dense)     | (None, 4)    |      16 |              |     N     |",
        "|   └ d2 (Dense)     | (None, 2)    |      10 |              |     Y     |",
        "| head (Dense)       | (None, 1)    |       3 | inner[0][0]  |     Y     |",
    ]
    assert lines[-3:] == [" Total params: 29 (116.00 B)", " Trainable params: 13 (52.00 B)",
                          " Non-trainable params: 16 (64.00 B)"]
    assert len(lines_of(model)) == len(lines) - 2  # not expanded: two rows fewer


def test_freezing_a_model_freezes_its_layers():
    model = mnist()
    model.trainable = False
    assert model.trainable_weights == [] and len(model.non_trainable_weights) == 4
    assert lines_of(model)[-2:] == [" Trainable params: 0 (0.00 B)",
                                    " Non-trainable params: 407,050 (1.55 MB)"]
    model.trainable = True
    assert all(layer.trainable for layer in model.layers)


def test_unbuilt_sequential_summary():
    lines = lines_of(graphc.Sequential([layers.Dense(3, name="d")], name="lazy"))
    assert "| d (Dense)    | ?            | 0 (unbuilt) |" in lines
    assert lines[-3] == " Total params: 0 (0.00 B)"


def test_multiple_output_shapes_and_op_rows():
    x = graphc.Input((2, 3), name="x")
    dense = layers.Dense(4, name="d")
    y = dense(x)
    z = dense(x[:, 0])
    model = graphc.Model(x, [y, z], name="multi")
    rows = [r for r in lines_of(model) if r.startswith("| ")]
    assert "| d (Dense)          | multiple     |      16 | x[0][0]        |" in rows
    assert "|                    |              |         | get_item[0][0] |" in rows
    assert "| get_item (GetItem) | (None, 3)    |       0 | x[0][0]        |" in rows


def test_readable_size():
    assert readable_size(0) == "0.00 B"
    assert readable_size(1023) == "1023.00 B"
    assert readable_size(1024) == "1.00 KB"
    assert readable_size(407_050 * 4) == "1.55 MB"
    assert readable_size(3 * 1024 ** 3) == "3.00 GB"
