"""Turns a Delivery into JSON-safe data and back, so the outbox can keep the exact payload of a push.

A retry (after a failure or a crash) re-sends the stored snapshot, not a payload rebuilt from the
database, which is what makes the body byte-identical under the same idempotency key.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from pathlib import Path
from typing import Any

from channels.base import Delivery


def dump(value: Any) -> Any:
    """Plain JSON data for a dataclass tree of str, numbers, datetimes, paths, tuples and mappings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: dump(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple | list):
        return [dump(item) for item in value]
    if isinstance(value, typing.Mapping):
        return {str(key): dump(item) for key, item in value.items()}
    return value


def _load(kind: Any, data: Any) -> Any:
    if data is None:
        return None
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        return _load(options[0], data)
    if origin is tuple:
        return tuple(_load(typing.get_args(kind)[0], item) for item in data)
    if dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        names = {f.name for f in dataclasses.fields(kind)}
        return kind(**{name: _load(hints[name], item) for name, item in data.items() if name in names})
    if kind is datetime:
        return datetime.fromisoformat(data)
    if kind is Path:
        return Path(data)
    if origin is not None and issubclass(origin, typing.Mapping):
        return dict(data)
    return data


def load(data: dict[str, Any]) -> Delivery:
    """The Delivery that :func:`dump` made ``data`` from."""
    return _load(Delivery, data)
