"""Layer arguments as JSON values, and back: generic codecs and typed kinds.

Generic encoding (``encode_value``), used for the constructor arguments of
custom layers and for nested values:

==========================  ===============================================
Python value                JSON
==========================  ===============================================
None, bool, int, str        itself
float                       itself; nan/inf as ``{"class_name": "float",
                            "config": "nan"}`` (the JSON stays standard)
numpy scalar                the Python scalar
list / tuple                list
dict with str keys          dict
DType                       ``"float32"`` ...
numpy array                 ``{"class_name": "ndarray", "config": {"dtype",
                            "shape", "base64"}}`` (little-endian bytes)
Initializer                 ``{"class_name", "config", "module"}``
Layer                       its layer entry (class_name, config)
graphc activation           ``{"class_name": "relu", "module":
                            "graphc.activations"}``
registered class/function   ``{"class_name", "registered_name", "config"?}``
==========================  ===============================================

A dict is read back as an object exactly when it has a ``class_name`` key and
no keys other than ``class_name``, ``config``, ``module`` and
``registered_name``.  ``decode_value`` resolves such objects only through a
``Resolver`` (``registry.py``), so decoding runs no code named by the data.

The typed fields of built-in layer schemas are in ``kinds.py``.
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np

from graphc.errors import FrontendError, GraphcError, LoadError

from ..ir.dtypes import DType, dtype_of
from .registry import BUILTIN_MODULES, Resolver, registered_name, serialized_name

OBJECT_KEYS = frozenset({"class_name", "config", "module", "registered_name"})
MAX_DEPTH = 64
ARRAY_DTYPES = ("bool", "int32", "int64", "float16", "float32", "float64")


def is_object(raw: Any) -> bool:
    return isinstance(raw, dict) and "class_name" in raw and set(raw) <= OBJECT_KEYS


def short_repr(raw: Any) -> str:
    text = repr(raw)
    return text if len(text) <= 60 else text[:57] + "..."


# --- generic codec ------------------------------------------------------------------
def encode_array(array: np.ndarray) -> dict:
    array = np.asarray(array)
    dtype = dtype_of(array.dtype)
    data = array.astype(array.dtype.newbyteorder("<")).tobytes()
    return {"class_name": "ndarray", "config": {"dtype": dtype.value,
                                                "shape": [int(d) for d in array.shape],
                                                "base64": base64.b64encode(data).decode()}}


def decode_array(config: Any, where: str) -> np.ndarray:
    if not isinstance(config, dict) or set(config) != {"dtype", "shape", "base64"}:
        raise LoadError(f"{where}: an ndarray needs exactly the keys base64, dtype and shape")
    dtype, shape, data = config["dtype"], config["shape"], config["base64"]
    if dtype not in ARRAY_DTYPES:
        raise LoadError(f"{where}: ndarray dtype must be one of {', '.join(ARRAY_DTYPES)}, "
                        f"received {short_repr(dtype)}")
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool)
                                              and d >= 0 for d in shape):
        raise LoadError(f"{where}: ndarray shape must be a list of non-negative ints, "
                        f"received {short_repr(shape)}")
    if not isinstance(data, str):
        raise LoadError(f"{where}: ndarray base64 must be a string")
    try:
        raw = base64.b64decode(data.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise LoadError(f"{where}: ndarray base64 is not valid base64 text") from None
    np_dtype = np.dtype(dtype).newbyteorder("<")
    if len(raw) != math.prod(shape) * np_dtype.itemsize:
        raise LoadError(f"{where}: ndarray of shape {tuple(shape)} and dtype {dtype} needs "
                        f"{math.prod(shape) * np_dtype.itemsize} bytes, base64 holds {len(raw)}")
    return np.frombuffer(raw, np_dtype).astype(np.dtype(dtype)).reshape(shape)


def encode_value(value: Any, where: str, depth: int = 0) -> Any:
    """The JSON form of one argument value (see the module doc)."""
    from ..initializers import Initializer
    from ..layers.base import Layer
    if depth > MAX_DEPTH:
        raise FrontendError(f"{where}: value nested more than {MAX_DEPTH} levels deep")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else {"class_name": "float", "config": repr(value)}
    if isinstance(value, DType):
        return value.value
    if isinstance(value, (list, tuple)):
        return [encode_value(v, where, depth + 1) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise FrontendError(f"{where}: dict keys must be strings to be saved; received "
                                f"keys {list(value)!r}")
        return {k: encode_value(v, f"{where}.{k}", depth + 1) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        try:
            return encode_array(value)
        except GraphcError:
            raise FrontendError(f"{where}: arrays of dtype {value.dtype} cannot be saved; "
                                f"expected one of {', '.join(ARRAY_DTYPES)}") from None
    if isinstance(value, Initializer):
        from .kinds import INITIALIZER
        return INITIALIZER.encode(value, where)
    if isinstance(value, Layer):
        from .layer_config import standalone_entry
        return standalone_entry(value)
    key = registered_name(value)
    if key is not None:
        if isinstance(value, type) or not hasattr(value, "get_config"):
            return {"class_name": getattr(value, "__name__", key), "registered_name": key}
    key = registered_name(type(value))
    if key is not None:
        return {"class_name": type(value).__name__, "registered_name": key,
                "config": encode_value(value.get_config(), where, depth + 1)}
    if callable(value):
        name, registered = serialized_name(value, "activation", where)
        return {"class_name": name, "module": BUILTIN_MODULES["activation"]}
    raise FrontendError(f"{where}: a value of type {type(value).__name__} ({short_repr(value)}) "
                        "cannot be saved in a config. Give the layer a get_config() that "
                        "returns JSON-compatible values, or register the type with "
                        "@graphc.saving.register_serializable()")


def decode_value(raw: Any, resolver: Resolver, where: str, depth: int = 0) -> Any:
    """The Python value of one generic JSON value."""
    if depth > MAX_DEPTH:
        raise LoadError(f"{where}: value nested more than {MAX_DEPTH} levels deep")
    if isinstance(raw, list):
        return [decode_value(v, resolver, f"{where}[{i}]", depth + 1) for i, v in enumerate(raw)]
    if not isinstance(raw, dict):
        return raw
    if not is_object(raw):
        return {k: decode_value(v, resolver, f"{where}.{k}", depth + 1) for k, v in raw.items()}
    name, config = raw["class_name"], raw.get("config")
    module, registered = raw.get("module"), raw.get("registered_name")
    if name == "float" and module is None and registered is None:
        if config not in ("nan", "inf", "-inf"):
            raise LoadError(f"{where}: a float object holds 'nan', 'inf' or '-inf', received "
                            f"{short_repr(config)}")
        return float(config)
    if name == "ndarray" and module is None and registered is None:
        return decode_array(config, where)
    from .kinds import INITIALIZER
    if module == BUILTIN_MODULES["initializer"]:
        return INITIALIZER.decode(raw, resolver, where)
    if module == BUILTIN_MODULES["activation"]:
        return resolver.lookup("activation", name, registered, where)
    if module in ("graphc.layers", "graphc.models"):
        from .layer_config import standalone_layer
        return standalone_layer(raw, resolver, where)
    obj = _custom(resolver, name, registered, module, where)
    if isinstance(obj, type):
        from ..initializers import Initializer as InitializerBase
        from ..layers.base import Layer
        if issubclass(obj, InitializerBase):
            return INITIALIZER.decode(raw, resolver, where)
        if issubclass(obj, Layer):
            from .layer_config import standalone_layer
            return standalone_layer(raw, resolver, where)
    if config is None:
        return obj
    return construct(obj, decode_value(config, resolver, f"{where}.config", depth + 1), where)


def _custom(resolver: Resolver, name: str, registered: Any, module: Any, where: str) -> Any:
    """A registered or custom object named by an object entry (never imported)."""
    from .registry import REGISTERED
    for key in (registered, name):
        if isinstance(key, str) and key in resolver.custom_objects:
            return resolver.custom_objects[key]
    if isinstance(registered, str) and registered in REGISTERED:
        return REGISTERED[registered]
    raise LoadError(f"{where}: unknown object '{registered or name}' (module {module!r}). "
                    "Only graphc's own initializers, activations and layers, objects "
                    "registered with @graphc.saving.register_serializable() and "
                    "custom_objects given to the loading call can be named in a config")


def construct(cls: Any, kwargs: Any, where: str) -> Any:
    """``cls.from_config(kwargs)`` when it has one, else ``cls(**kwargs)``;
    any failure becomes a LoadError naming ``where``."""
    if not isinstance(kwargs, dict):
        raise LoadError(f"{where}: config must be a JSON object, received {short_repr(kwargs)}")
    try:
        if hasattr(cls, "from_config"):
            return cls.from_config(kwargs)
        return cls(**kwargs)
    except LoadError:
        raise
    except (GraphcError, TypeError, ValueError) as exc:
        raise LoadError(f"{where}: cannot create {getattr(cls, '__name__', cls)} from its "
                        f"config: {exc}") from None


def serialize(value: Any) -> Any:
    """The JSON form of ``value`` (for a custom ``get_config`` holding objects)."""
    return encode_value(value, "serialize")


def deserialize(raw: Any, custom_objects: Any = None) -> Any:
    """The value ``serialize`` described (for a custom ``from_config``); names
    resolve through graphc's tables, the registry and ``custom_objects``."""
    return decode_value(raw, Resolver(custom_objects), "deserialize")
