"""The ``.graphc`` model file: ``save_model`` and ``load_model``.

A model file is a zip archive of

=================  ==========================================================
``metadata.json``  ``format`` ("graphc-model"), ``format_version`` (an int,
                   ``FORMAT_VERSION`` when written), ``graphc_version``,
                   ``date_saved`` (UTC, ISO 8601), ``class_name`` and
                   ``classes`` (every class name the config uses), weight
                   count and bytes, whether optimizer state is included
``config.json``    the architecture: ``{"class_name", "config", ...}`` as
                   ``Model.to_json`` writes it
``weights.npz``    one array per weight, keyed by weight path (``npz.py``)
``optimizer.json`` optional: the optimizer's config and the model's
``optimizer.npz``  compile settings, and the optimizer's state arrays
                   (``optimizer_state.py``)
=================  ==========================================================

Loading never executes code from the file: JSON is parsed strictly, arrays
by graphc's own ``.npy`` reader, class names resolve only through graphc's
registry and the caller's ``custom_objects``, and functions (Lambda layers,
``graphc.ops`` calls) come back as IR.  The file is checked in this order --
archive structure and caps, metadata (a newer ``format_version`` is
refused), config, weights -- and every problem is a ``LoadError`` naming
the file.  The weights' total size is the budget for the weights the
architecture may create while it is rebuilt, so a config cannot make
loading allocate more than the file holds.  Saving writes a temporary file
next to the target and renames it into place.
"""

from __future__ import annotations

import datetime
import json
import zipfile
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphc.errors import LoadError

from .archive import (ByteBudget, LoadLimits, ZipReader, as_path, atomic_write, target_path,
                      write_member)
from .entries import RebuildContext, WeightBudget
from ..naming import display_file
from .model_config import deserialize_top, model_entry, parse_json
from .npz import npz_bytes, read_npz
from .optimizer_state import optimizer_state, restore_optimizer_state
from .registry import Resolver
from .weights_io import assign_weights, weight_arrays

FORMAT = "graphc-model"
FORMAT_VERSION = 1
MODEL_SUFFIXES = (".graphc",)
REQUIRED = ("metadata.json", "config.json", "weights.npz")
OPTIONAL = ("optimizer.json", "optimizer.npz")


def _classes(config: Any) -> list[str]:
    found: set[str] = set()
    stack = [config]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("class_name"), str):
                found.add(item["class_name"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return sorted(found)


def save_model(model: Any, filepath: Any, overwrite: bool = True) -> None:
    from .. import __version__
    path = target_path(filepath, MODEL_SUFFIXES, f"save of model '{model.name}'")
    entry = model_entry(model)
    config = json.dumps(entry, sort_keys=True, indent=1, allow_nan=False)
    arrays = weight_arrays(model)
    optimizer = optimizer_state(model)
    metadata = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "graphc_version": __version__,
        "date_saved": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "class_name": entry["class_name"], "classes": _classes(entry),
        "weights": {"count": len(arrays), "bytes": int(sum(a.nbytes for _, a in arrays))},
        "optimizer": optimizer is not None,
    }
    members = [("metadata.json", json.dumps(metadata, sort_keys=True, indent=1).encode(), True),
               ("config.json", config.encode(), True),
               ("weights.npz", npz_bytes(arrays), False)]
    if optimizer is not None:
        described, state = optimizer
        members += [("optimizer.json", json.dumps(described, sort_keys=True, indent=1,
                                                  allow_nan=False).encode(), True),
                    ("optimizer.npz", npz_bytes(state), False)]
    with atomic_write(path, overwrite) as fh:
        with zipfile.ZipFile(fh, "w", allowZip64=True) as archive:
            for name, data, compress in members:
                write_member(archive, name, data, compress)


@dataclass
class ModelFileContents:
    metadata: dict
    config: Any
    weights: dict[str, np.ndarray]
    optimizer: dict | None
    optimizer_arrays: dict[str, np.ndarray]


def check_metadata(metadata: Any, where: str) -> dict:
    if not isinstance(metadata, dict):
        raise LoadError(f"{where}: metadata.json must hold a JSON object")
    if metadata.get("format") != FORMAT:
        raise LoadError(f"{where}: metadata.json says format {metadata.get('format')!r}; "
                        f"expected {FORMAT!r}")
    version = metadata.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise LoadError(f"{where}: metadata.json has no valid format_version (a positive "
                        f"integer); received {version!r}")
    if version > FORMAT_VERSION:
        raise LoadError(f"{where} was written in model-file format {version} (by graphc "
                        f"{metadata.get('graphc_version', '?')}); this graphc reads formats up "
                        f"to {FORMAT_VERSION}. Upgrade graphc to load it")
    return metadata


def read_model_file(path: Any, limits: LoadLimits) -> ModelFileContents:
    """Every part of a model file, checked (nothing is built yet)."""
    where = str(path)
    budget = ByteBudget(limits.max_total_bytes, where)
    reader = ZipReader(path, where, budget, limits.max_members,
                       lambda name: name in REQUIRED or name in OPTIONAL)
    try:
        for name in REQUIRED:
            if name not in reader:
                raise LoadError(f"{where} is not a graphc model file: it has no {name} "
                                f"(members: {', '.join(reader.names()) or 'none'})")
        metadata = check_metadata(parse_json(reader.read("metadata.json",
                                                         limits.max_json_bytes),
                                             f"{where}: metadata.json"), where)
        config = parse_json(reader.read("config.json", limits.max_json_bytes),
                            f"{where}: config.json")
        weights = read_npz(reader.read("weights.npz"), f"{where}: weights.npz", budget,
                           limits.max_arrays)
        optimizer, optimizer_arrays = None, {}
        if "optimizer.json" in reader:
            optimizer = parse_json(reader.read("optimizer.json", limits.max_json_bytes),
                                   f"{where}: optimizer.json")
            if "optimizer.npz" in reader:
                optimizer_arrays = read_npz(reader.read("optimizer.npz"),
                                            f"{where}: optimizer.npz", budget, limits.max_arrays)
        return ModelFileContents(metadata, config, weights, optimizer, optimizer_arrays)
    finally:
        reader.close()


def load_model(filepath: Any, custom_objects: Any = None, compile: bool = True,
               limits: LoadLimits | None = None) -> Any:
    """The model saved in ``filepath``; it predicts exactly what the saved one did."""
    from ..layers.base import Layer
    path = as_path(filepath, "load_model")
    contents = read_model_file(path, limits or LoadLimits())
    total = sum(a.nbytes for a in contents.weights.values())
    ctx = RebuildContext(Resolver(custom_objects), budget=WeightBudget(total))
    try:
        model = deserialize_top(contents.config, ctx, "config.json")
    except LoadError as exc:
        raise LoadError(f"{path}: {exc}") from None
    except RecursionError:
        raise LoadError(f"{path}: config.json: structure nested too deeply") from None
    finally:
        ctx.release()
    ctx.set_source((display_file(path), None))
    if not isinstance(model, Layer):
        raise LoadError(f"{path}: config.json describes {type(model).__name__}, not a model")
    assign_weights(model, contents.weights, f"{path}: weights.npz", positional=True)
    if compile and contents.optimizer is not None:
        restore_optimizer_state(model, contents.optimizer, contents.optimizer_arrays,
                                ctx.resolver, f"{path}: optimizer.json")
    return model
