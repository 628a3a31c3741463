"""Checks uploaded recordings and images by decoding them, and stores them content-addressed under media."""

from __future__ import annotations

import hashlib
import io
import os
import re
import subprocess
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from content import audit
from content.errors import InputError
from content.ingest.config import IngestSettings
from content.media import media_path
from content.models import Revision, User
from content.pieces import edit_piece

#: ffmpeg's demuxer name -> the suffix the stored file gets. Nothing else is accepted.
AUDIO_FORMATS = {"mp3": ".mp3", "wav": ".wav", "ogg": ".ogg", "mov,mp4,m4a,3gp,3g2,mj2": ".m4a"}
IMAGE_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "BMP"}


@dataclass(frozen=True)
class Upload:
    """A stored upload: where it is, what it is, and what decoding measured."""

    kind: str  # "audio" or "image"
    sha256: str
    path: Path
    name: str  # the uploaded file's name, for display only: never part of a path
    duration_s: float | None = None
    size: tuple[int, int] | None = None


def display_name(name: str) -> str:
    """The last component of an uploaded file name, without control characters: for showing, never for paths."""
    last = re.split(r"[\\/]", name)[-1]
    cleaned = "".join(c for c in unicodedata.normalize("NFC", last) if unicodedata.category(c)[0] != "C")
    return cleaned.strip()[:120] or "upload"


def _store(data: bytes, suffix: str, media_dir: Path) -> tuple[str, Path]:
    digest = hashlib.sha256(data).hexdigest()
    target = media_path(media_dir, digest, suffix)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False, suffix=".part") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, target)
    return digest, target


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def probe_audio(path: Path, limit_s: float) -> tuple[str, float]:
    """(ffmpeg's format name, seconds decoded), decoding at most ``limit_s`` plus one second."""
    command = [_ffmpeg(), "-nostdin", "-hide_banner", "-nostats", "-t", f"{limit_s + 1:.3f}", "-i", str(path),
               "-map", "0:a:0", "-f", "null", "-progress", "pipe:1", "-"]
    run = subprocess.run(command, capture_output=True, timeout=600, check=False)
    stderr = run.stderr.decode("utf-8", "replace")
    found = re.search(r"Input #0, ([^ ]+), from", stderr)
    times = re.findall(rb"out_time_us=(\d+)", run.stdout)
    seconds = int(times[-1]) / 1e6 if times else 0.0
    if run.returncode != 0 or found is None or seconds <= 0:
        lines = [line.strip() for line in stderr.splitlines() if line.strip()]
        why = lines[-1] if lines else f"ffmpeg exited {run.returncode}"
        raise InputError(f"this is not a recording loa can play: decoding it failed ({why})")
    return found.group(1).rstrip(","), seconds


def store_audio(data: bytes, name: str, media_dir: Path, settings: IngestSettings) -> Upload:
    """Decode ``data`` to prove it is mp3, wav, m4a or ogg audio within the length limit, then store it."""
    shown = display_name(name)
    _check_size(data, settings.max_audio_mb, "max_audio_mb", shown)
    limit_s = settings.max_audio_minutes * 60
    with tempfile.TemporaryDirectory(prefix="loa-upload-") as folder:
        probe = Path(folder) / "upload"  # never the uploaded name
        probe.write_bytes(data)
        try:
            format_name, seconds = probe_audio(probe, limit_s)
        except InputError as error:
            raise InputError(str(error), where=shown) from None
    suffix = AUDIO_FORMATS.get(format_name)
    if suffix is None:
        raise InputError(f"{format_name} audio is not accepted; upload mp3, wav, m4a or ogg", where=shown)
    if seconds > limit_s:
        raise InputError(f"the recording is longer than {_clock(limit_s)}, the limit in loa.toml "
                         "([ingest] max_audio_minutes)", where=shown)
    digest, path = _store(data, suffix, media_dir)
    return Upload("audio", digest, path, shown, duration_s=round(seconds, 3))


def store_image(data: bytes, name: str, media_dir: Path, settings: IngestSettings) -> Upload:
    """Decode ``data`` with Pillow to prove it is an image, shrink it to fit boards, store the result."""
    import warnings

    from PIL import Image, ImageOps, UnidentifiedImageError

    shown = display_name(name)
    _check_size(data, settings.max_image_mb, "max_image_mb", shown)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in IMAGE_FORMATS:
                raise InputError(f"{image.format} images are not accepted; upload JPEG, PNG, WebP, GIF or BMP",
                                 where=shown)
            width, height = image.size
            if width * height > settings.max_image_pixels:
                raise InputError(f"the image is {width}×{height} pixels; at most {settings.max_image_pixels} "
                                 "pixels ([ingest] max_image_pixels)", where=shown)
            image.load()
    except InputError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as error:
        raise InputError(f"this is not an image loa can show: decoding it failed ({error})", where=shown) from None
    image = ImageOps.exif_transpose(image)
    image.thumbnail(settings.board_image, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if image.mode in ("RGBA", "LA", "P"):
        image.convert("RGBA").save(out, "PNG", optimize=True)
        suffix = ".png"
    else:
        image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
        suffix = ".jpg"
    digest, path = _store(out.getvalue(), suffix, media_dir)
    return Upload("image", digest, path, shown, size=image.size)


def attach(session: Session, piece_id: int, upload: Upload, *, actor: User, now: datetime) -> Revision:
    """A new revision of the piece carrying the upload; like any edit, it needs approval again."""
    field = "audio_sha256" if upload.kind == "audio" else "image_sha256"
    revision = edit_piece(session, piece_id, {field: upload.sha256}, actor=actor, now=now)
    details: dict[str, Any] = {"kind": upload.kind, "sha256": upload.sha256, "name": upload.name,
                               "revision": revision.number}
    if upload.duration_s is not None:
        details["duration_s"] = upload.duration_s
    if upload.size is not None:
        details["size"] = list(upload.size)
    audit.record(session, actor=actor.name, action="piece.upload", subject=f"piece:{piece_id}", at=now,
                 details=details)
    return revision


def _check_size(data: bytes, limit_mb: float, key: str, shown: str) -> None:
    if not data:
        raise InputError("the file is empty", where=shown)
    if len(data) > limit_mb * 1024 * 1024:
        raise InputError(f"the file is {len(data) / 1048576:.1f} MB; at most {limit_mb:g} MB ([ingest] {key})",
                         where=shown)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes} min" + (f" {secs} s" if secs else "")
