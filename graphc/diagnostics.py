"""Error messages of the front end: which layer, what it expected, what it
received, and how the received shape arose.

Keras names only the immediate shapes; graphc also shows the *chain* of
layers back to the inputs::

    Dense 'head' expects last dim 1352, received (N, 5408) = Flatten 'flat'
    of (N, 26, 26, 8) <- Dense 'proj' of (N, 26, 26, 3) <- Input 'img'

The chain follows each producer's first input, for at most ``CHAIN_DEPTH``
steps.  Messages are built here and nowhere else so they stay uniform.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from graphc.errors import ShapeError

from .ir.types import format_shape
from .naming import format_location
from .tensor import SymbolicTensor

if TYPE_CHECKING:  # pragma: no cover
    from .layers.base import Layer

CHAIN_DEPTH = 5
ARROW = " <- "


def layer_label(layer: "Layer") -> str:
    """``Dense 'head'``."""
    return f"{layer.type_name} '{layer.name}'"


def describe_tensor(tensor: SymbolicTensor) -> str:
    """The tensor's shape and the chain of layers that produced it."""
    steps: list[str] = []
    current = tensor
    while current.site is not None:
        layer = current.site.layer
        if layer.is_input_layer:
            steps.append(f"Input '{layer.name}'")
            break
        inputs = current.site.input_tensors
        shapes = " and ".join(format_shape(t.type.shape) for t in inputs)
        steps.append(f"{layer_label(layer)} of {shapes}" if inputs else layer_label(layer))
        if not inputs:
            break
        if len(steps) == CHAIN_DEPTH:
            steps.append("...")
            break
        current = inputs[0]
    text = format_shape(tensor.type.shape)
    return f"{text} = {ARROW.join(steps)}" if steps else text


def received_text(descriptions: Sequence[str]) -> str:
    if len(descriptions) == 1:
        return f"received {descriptions[0]}"
    return "received:\n" + "\n".join(f"  input {i}: {d}" for i, d in enumerate(descriptions))


def expectation_error(layer: "Layer", expected: str, descriptions: Sequence[str]) -> ShapeError:
    """``Dense 'head' expects last dim 1352, received (N, 5408) = ...``."""
    error = ShapeError(f"{layer_label(layer)} expects {expected}, {received_text(descriptions)}")
    error.from_layer = True  # type: ignore[attr-defined]
    return error


def infer_error(layer: "Layer", cause: Exception, descriptions: Sequence[str]) -> ShapeError:
    """Wrap a ShapeError raised by an op's ``infer`` rule inside a layer."""
    what = "its input" if len(descriptions) == 1 else "its inputs"
    error = ShapeError(f"{layer_label(layer)} cannot be applied to {what}: {cause}; "
                       f"{received_text(descriptions)}")
    error.from_layer = True  # type: ignore[attr-defined]
    return error


def at_call_site(error: Exception, location: tuple[str, int] | None) -> Exception:
    """The same error with the user's call location appended (once)."""
    if location is None or getattr(error, "located", False):
        return error
    try:
        located = type(error)(f"{error}\n  (layer called at {format_location(location)})")
    except TypeError:  # an error class with a richer constructor: leave it as it is
        return error
    located.located = True  # type: ignore[attr-defined]
    located.from_layer = True  # type: ignore[attr-defined]
    located.unlocated = str(error)  # type: ignore[attr-defined]
    return located


def message_without_call_site(error: Exception) -> str:
    """``error``'s text without the appended call location: when a file is being
    loaded the layer is called by the loader, so that location says nothing."""
    return getattr(error, "unlocated", str(error))
