"""Storing an uploaded recording or image: checked for what it claims to be, kept by its SHA-256."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from content.errors import InputError
from content.media import media_path

MAX_BYTES = 50 * 1024 * 1024
MAX_AUDIO_S = 60 * 60
_IMAGE_MAGIC = ((b"\x89PNG\r\n\x1a\n", ".png"), (b"\xff\xd8\xff", ".jpg"), (b"GIF87a", ".gif"),
                (b"GIF89a", ".gif"))


def _image_suffix(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return next((suffix for magic, suffix in _IMAGE_MAGIC if data.startswith(magic)), None)


def _audio_seconds(data: bytes, name: str) -> float:
    from content.render.audio import decode

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload"
        path.write_bytes(data)
        try:
            segment = decode(path)
        except ValueError:
            raise InputError("this file is not audio loa can read (mp3, wav, ogg, m4a…)", where=name) from None
    return segment.duration_seconds


def store_upload(media_dir: Path, data: bytes, *, kind: str, name: str) -> str:
    """Keep ``data`` under the media folder and return its SHA-256; the uploaded file name is never used
    as a path, so a name like ``../../etc/passwd`` goes nowhere."""
    name = os.path.basename(name or "upload")[:100] or "upload"
    if not data:
        raise InputError("the file is empty", where=name)
    if len(data) > MAX_BYTES:
        raise InputError("the file is {size} MB; at most {limit} MB", where=name, size=len(data) // 1_048_576,
                         limit=MAX_BYTES // 1_048_576)
    if kind == "image":
        suffix = _image_suffix(data)
        if suffix is None:
            raise InputError("this file is not an image (PNG, JPEG, GIF or WebP)", where=name)
    elif kind == "audio":
        seconds = _audio_seconds(data, name)
        if seconds > MAX_AUDIO_S:
            raise InputError("the recording lasts {minutes:.0f} minutes; at most {limit}", where=name,
                             minutes=seconds / 60, limit=MAX_AUDIO_S // 60)
        suffix = Path(name).suffix.lower() if Path(name).suffix.lower() in (".mp3", ".wav", ".ogg", ".m4a") \
            else ".audio"
    else:
        raise InputError("unknown upload kind {kind!r}; audio or image", where="kind", kind=kind)
    sha = hashlib.sha256(data).hexdigest()
    target = media_path(media_dir, sha, suffix)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        partial.write_bytes(data)
        partial.replace(target)
    return sha
