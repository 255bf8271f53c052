"""The one codec for handing values between processes: a JSON skeleton and the arrays, in one .npz.

Handles None, bools, numbers, strings, paths, lists, tuples, str-keyed dicts, numpy arrays and the
project's dataclasses (classes under `pipeline.`; nothing else is ever constructed). No pickle: files
are read with `allow_pickle=False`. A file of another codec version is refused, so a stale worker and
a newer caller cannot silently misread each other.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.core.errors import InternalError
from pipeline.core.files import atomic_path

NAME = "tryon-codec"
VERSION = 1
_SKELETON = "__skeleton__"


def save(path: str | os.PathLike, value: Any) -> Path:
    """Write `value` to `path` (.npz appended when missing); returns the file written."""
    path = _npz(path)
    arrays: dict[str, np.ndarray] = {}
    skeleton = {"codec": NAME, "version": VERSION, "value": _encode(value, arrays)}
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **{_SKELETON: np.array(json.dumps(skeleton))}, **arrays)
    return path


def load(path: str | os.PathLike) -> Any:
    """Read a value written by `save`."""
    with np.load(_npz(path), allow_pickle=False) as z:
        skeleton = json.loads(str(z[_SKELETON]))
        if skeleton.get("codec") != NAME or skeleton.get("version") != VERSION:
            raise InternalError(
                f"{path}: codec {skeleton.get('codec')} v{skeleton.get('version')}, expected {NAME} v{VERSION}"
                " (the worker environment runs another version of the pipeline)"
            )
        return _decode(skeleton["value"], z)


def _npz(path: str | os.PathLike) -> Path:
    path = Path(path)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


def _encode(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        key = f"a{len(arrays)}"
        arrays[key] = value
        return {"__array__": key}
    if isinstance(value, os.PathLike):
        return {"__path__": os.fspath(value)}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, arrays) for v in value]}
    if isinstance(value, list):
        return [_encode(v, arrays) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) and not k.startswith("__") for k in value):
            raise InternalError("codec: dict keys must be strings not starting with '__'")
        return {k: _encode(v, arrays) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        fields = {
            f.name: _encode(getattr(value, f.name), arrays) for f in dataclasses.fields(value) if f.init
        }
        return {"__dataclass__": f"{cls.__module__}:{cls.__qualname__}", "fields": fields}
    raise InternalError(f"codec: cannot encode a {type(value).__name__}")


def _decode(value: Any, z: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v, z) for v in value]
    if not isinstance(value, dict):
        return value
    if "__array__" in value:
        return z[value["__array__"]]
    if "__path__" in value:
        return Path(value["__path__"])
    if "__tuple__" in value:
        return tuple(_decode(v, z) for v in value["__tuple__"])
    if "__dataclass__" in value:
        return _dataclass(value["__dataclass__"])(**{k: _decode(v, z) for k, v in value["fields"].items()})
    return {k: _decode(v, z) for k, v in value.items()}


def _dataclass(name: str) -> type:
    """The project dataclass called `module:Qualname`; anything outside `pipeline.` is refused."""
    module, _, qualname = name.partition(":")
    if not module.startswith("pipeline.") or "." in qualname:
        raise InternalError(f"codec: refusing to build {name}")
    cls = getattr(importlib.import_module(module), qualname, None)
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise InternalError(f"codec: {name} is not a dataclass")
    return cls
