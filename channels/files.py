"""Crash-safe file writing, locking and error mapping shared by the adapters that write to disk."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from channels.base import Delivery, PermanentError, TransientError

#: Mode of every file we publish: readable by a playout engine or web server running as another user.
FILE_MODE = 0o644

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_CHUNK = 1 << 16


def safe_name(name: str) -> str:
    """``name`` if it is usable as one path component (letters, digits, ``._-``; no leading dot
    or underscore), else ``ValueError``. Guards directories named after station codes."""
    if not _SAFE_NAME.fullmatch(name) or ".." in name:
        raise ValueError(f"not a safe file name: {name!r}")
    return name


def station_folder(delivery: Delivery, items: tuple[Any, ...], noun: str) -> str:
    """The delivery's station code as a folder name, after the checks every file adapter makes:
    aware times, something to deliver, a code that is safe as a path. Else ``PermanentError``."""
    if delivery.start_at.tzinfo is None or delivery.end_at.tzinfo is None:
        raise PermanentError(f"delivery {delivery.id}: start_at/end_at have no time zone")
    if not items:
        raise PermanentError(f"delivery {delivery.id}: no {noun} to deliver")
    try:
        return safe_name(delivery.station_code)
    except ValueError as exc:
        raise PermanentError(str(exc)) from exc


def sha256_file(path: Path) -> str:
    """Lower-case hex SHA-256 of the file at ``path``."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fsync_dir(directory: Path) -> None:
    """Make the latest renames inside ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace_with(path: Path, fill: Callable[[BinaryIO], None]) -> None:
    """Write a temp file beside ``path`` with ``fill``, fsync it, rename it over ``path``, fsync the dir."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            fill(f)
            f.flush()
            os.fchmod(f.fileno(), FILE_MODE)
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that readers see the old file or the new one, never a part."""
    _replace_with(path, lambda f: f.write(data))


def copy_atomic(src: Path, dst: Path) -> None:
    """Copy the bytes of ``src`` to ``dst`` with the same all-or-nothing guarantee as :func:`write_atomic`."""
    with src.open("rb") as source:
        _replace_with(dst, lambda f: shutil.copyfileobj(source, f, _CHUNK))


def write_json(path: Path, document: Any) -> None:
    """Write ``document`` atomically as indented UTF-8 JSON (non-ASCII kept readable)."""
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    write_atomic(path, text.encode("utf-8"))


def read_json(path: Path) -> Any | None:
    """The JSON document at ``path``, or ``None`` if there is no such file."""
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError:
        return None


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on the lock file ``path`` (created if missing) for the block.

    Each call opens the file anew, so the lock excludes other threads of this process as well as
    other processes. Blocks until the lock is free.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def store_media(src: Path, media_dir: Path) -> str:
    """Copy ``src`` into ``media_dir`` under a content-addressed name and return that name.

    The name is the first 16 hex digits of its SHA-256 plus the lower-cased suffix, so the same
    image is stored once however many documents refer to it.
    """
    name = sha256_file(src)[:16] + src.suffix.lower()
    target = media_dir / name
    if not target.exists():
        media_dir.mkdir(parents=True, exist_ok=True)
        copy_atomic(src, target)
    return name


def prune_media(media_dir: Path, keep: set[str]) -> None:
    """Delete the files in ``media_dir`` whose names are not in ``keep``."""
    if not media_dir.is_dir():
        return
    for entry in media_dir.iterdir():
        if entry.is_file() and not entry.name.startswith(".") and entry.name not in keep:
            entry.unlink(missing_ok=True)


@contextlib.contextmanager
def os_errors(action: str) -> Iterator[None]:
    """Turn ``OSError`` raised in the block into the adapter errors the dispatcher understands.

    ``PermissionError`` is permanent (the target will stay unwritable until someone acts); any
    other ``OSError`` (full disk, I/O error, vanished mount) is transient.
    """
    try:
        yield
    except PermissionError as exc:
        raise PermanentError(f"{action}: {exc}") from exc
    except OSError as exc:
        raise TransientError(f"{action}: {exc}") from exc
