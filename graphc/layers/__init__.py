"""``graphc.layers``: the Keras-style layer set.

=================  ==========================================================
module             layers
=================  ==========================================================
base               Layer (the base class), Weight (in weights)
input_layer        InputLayer, Input
core               Dense, Activation, Dropout, Lambda
activation         ReLU, LeakyReLU, ELU, Softmax
reshaping          Flatten, Reshape, Permute, RepeatVector
merging            Concatenate, Add, Subtract, Multiply, Average, Maximum,
                   Minimum (and the functional shorthands add, concatenate ...)
normalization      LayerNormalization
embedding          Embedding
=================  ==========================================================
"""

from .activation import ELU, LeakyReLU, ReLU, Softmax
from .base import Layer
from .core import Activation, Dense, Dropout, Lambda
from .embedding import Embedding
from .input_layer import Input, InputLayer
from .merging import (Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract, add,
                      average, concatenate, maximum, minimum, multiply, subtract)
from .normalization import LayerNormalization
from .reshaping import Flatten, Permute, RepeatVector, Reshape
from .weights import Weight

__all__ = [
    "Activation", "Add", "Average", "Concatenate", "Dense", "Dropout", "ELU", "Embedding",
    "Flatten", "Input", "InputLayer", "Lambda", "Layer", "LayerNormalization", "LeakyReLU",
    "Maximum", "Minimum", "Multiply", "Permute", "ReLU", "RepeatVector", "Reshape", "Softmax",
    "Subtract", "Weight", "add", "average", "concatenate", "maximum", "minimum", "multiply",
    "subtract",
]
