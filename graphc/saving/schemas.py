"""The config fields of every built-in layer, as data.

``LAYER_FIELDS[class name]`` maps each constructor argument that a config
stores to its ``Kind`` (``kinds.py``): how it is encoded and what a loaded
value must look like.  The attribute of the layer holding an argument has
the argument's name (``Dense.units``, ``Dense.kernel_initializer`` ...), so
``get_config`` reads ``getattr(layer, field)`` for each field.  Every layer
config also has ``BASE_FIELDS`` (name, trainable, dtype).

Layers with a rule of their own (``InputLayer``, ``Lambda``, ``OpNode``, the
models) are in ``layer_config.SPECIAL_RULES`` / the model modules instead;
a test checks that every layer class graphc exports has exactly one of the
two and that every field is a constructor argument.
"""

from __future__ import annotations

from .kinds import (INITIALIZER, Activation, Bool, DTypeKind, Int, IntList, IntOrIntList, Kind,
                    Number, Optional, Str)

BASE_FIELDS: dict[str, Kind] = {"name": Str(), "trainable": Bool(), "dtype": DTypeKind()}

_ACTIVATION = Activation()
_MERGE: dict[str, Kind] = {}

LAYER_FIELDS: dict[str, dict[str, Kind]] = {
    "Dense": {"units": Int(1), "activation": _ACTIVATION, "use_bias": Bool(),
              "kernel_initializer": INITIALIZER, "bias_initializer": INITIALIZER},
    "Activation": {"activation": _ACTIVATION},
    "Dropout": {"rate": Number(0, 1), "noise_shape": Optional(IntList(0, none_ok=True)),
                "seed": Optional(Int())},
    "ReLU": {"max_value": Optional(Number(0)), "negative_slope": Number(0),
             "threshold": Number()},
    "LeakyReLU": {"negative_slope": Number(0)},
    "ELU": {"alpha": Number()},
    "Softmax": {"axis": Int()},
    "Flatten": {},
    "Reshape": {"target_shape": IntList(-1)},
    "Permute": {"dims": IntList(1, non_empty=True)},
    "RepeatVector": {"n": Int(0)},
    "Concatenate": {"axis": Int()},
    "Add": _MERGE, "Subtract": _MERGE, "Multiply": _MERGE, "Average": _MERGE,
    "Maximum": _MERGE, "Minimum": _MERGE,
    "LayerNormalization": {"axis": IntOrIntList(), "epsilon": Number(0), "center": Bool(),
                           "scale": Bool(), "beta_initializer": INITIALIZER,
                           "gamma_initializer": INITIALIZER},
    "Embedding": {"input_dim": Int(1), "output_dim": Int(1),
                  "embeddings_initializer": INITIALIZER},
}
