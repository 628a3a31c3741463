"""The one upload path for CLI, web and API: streamed with a size limit, proven by decoding, stored by SHA-256."""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

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


class UploadRefused(InputError):
    """An upload refused by a check; ``template`` and ``params`` let the web app say it in Vietnamese."""

    def __init__(self, name: str, template: str, **params: Any) -> None:
        super().__init__(template % params, where=name)
        self.name, self.template, self.params = name, template, params


EMPTY = "the file is empty"
TOO_BIG = "the file is larger than %(limit)s MB, the limit in loa.toml ([ingest] %(key)s)"
NOT_AUDIO = "this is not a recording loa can play: decoding it failed (%(why)s)"
AUDIO_FORMAT = "%(format)s audio is not accepted; upload mp3, wav, m4a or ogg"
TOO_LONG = "the recording lasts %(length)s; at most %(limit)s ([ingest] max_audio_minutes in loa.toml)"
IMAGE_FORMAT = "%(format)s images are not accepted; upload JPEG, PNG, WebP, GIF or BMP"
TOO_MANY_PIXELS = "the image is %(width)s×%(height)s pixels; at most %(limit)s pixels ([ingest] max_image_pixels)"
BOMB = "the image has %(pixels)s pixels; at most %(limit)s pixels ([ingest] max_image_pixels)"
NOT_IMAGE = "this is not an image loa can show: decoding it failed (%(why)s)"
#: Every message an upload can be refused with, for the web app's catalog.
MESSAGES = (EMPTY, TOO_BIG, NOT_AUDIO, AUDIO_FORMAT, TOO_LONG, IMAGE_FORMAT, TOO_MANY_PIXELS, BOMB, NOT_IMAGE)
CHUNK = 1024 * 1024


def _spool(source: bytes | BinaryIO, folder: Path, limit_mb: float, key: str, shown: str) -> tuple[Path, str]:
    """Copy the upload into ``folder`` a chunk at a time, hashing it and stopping as soon as it passes the
    size limit: a big upload is never held in memory whole, nor read past the limit."""
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    digest, size, limit = hashlib.sha256(), 0, int(limit_mb * 1024 * 1024)
    path = folder / "upload"  # never the uploaded name
    with path.open("wb") as out:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise UploadRefused(shown, TOO_BIG, limit=f"{limit_mb:g}", key=key)
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    if size == 0:
        raise UploadRefused(shown, EMPTY)
    return path, digest.hexdigest()


def _incoming() -> tempfile.TemporaryDirectory[str]:
    """A scratch folder for an upload being checked; nothing reaches the media folder before it passes."""
    return tempfile.TemporaryDirectory(prefix="loa-upload-")


def _keep(path: Path, digest: str, suffix: str, media_dir: Path) -> Path:
    """Move a checked upload into place whole: copied beside its final name, then renamed."""
    target = media_path(media_dir, digest, suffix)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.name}.{os.getpid()}.part")
        shutil.copyfile(path, partial)
        with partial.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, target)
    return target


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


def _why(stderr: str, returncode: int) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else f"ffmpeg exited {returncode}"


def read_header(path: Path) -> tuple[str | None, float | None, str]:
    """(format name, duration in seconds, ffmpeg's words) from the container's header alone: no decoding,
    so a 3-hour recording is refused at once rather than after decoding it."""
    run = subprocess.run([_ffmpeg(), "-nostdin", "-hide_banner", "-i", str(path)], capture_output=True,
                         timeout=60, check=False)
    stderr = run.stderr.decode("utf-8", "replace")
    found = re.search(r"Input #0, ([^ ]+), from", stderr)
    duration = re.search(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)", stderr)
    seconds = (int(duration[1]) * 3600 + int(duration[2]) * 60 + float(duration[3])) if duration else None
    return (found.group(1).rstrip(",") if found else None), seconds, _why(stderr, run.returncode)


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
        raise UploadRefused("", NOT_AUDIO, why=_why(stderr, run.returncode))
    return found.group(1).rstrip(","), seconds


def store_audio(source: bytes | BinaryIO, name: str, media_dir: Path, settings: IngestSettings) -> Upload:
    """Prove ``source`` is mp3, wav, m4a or ogg audio within the length limit, then store it: size checked
    while it is copied, format and length read from the header first, then decoding bounded by the limit."""
    shown = display_name(name)
    limit_s = settings.max_audio_minutes * 60
    with _incoming() as folder:
        path, digest = _spool(source, Path(folder), settings.max_audio_mb, "max_audio_mb", shown)
        format_name, header_s, why = read_header(path)
        if format_name is None:
            raise UploadRefused(shown, NOT_AUDIO, why=why)
        if format_name not in AUDIO_FORMATS:
            raise UploadRefused(shown, AUDIO_FORMAT, format=format_name)
        if header_s is not None and header_s > limit_s + 1:
            raise UploadRefused(shown, TOO_LONG, length=_clock(header_s), limit=_clock(limit_s))
        try:
            format_name, seconds = probe_audio(path, limit_s)
        except UploadRefused as error:
            raise UploadRefused(shown, error.template, **error.params) from None
        if seconds > limit_s:
            raise UploadRefused(shown, TOO_LONG, length=f"> {_clock(limit_s)}", limit=_clock(limit_s))
        stored = _keep(path, digest, AUDIO_FORMATS[format_name], media_dir)
    return Upload("audio", digest, stored, shown, duration_s=round(seconds, 3))


def store_image(source: bytes | BinaryIO, name: str, media_dir: Path, settings: IngestSettings) -> Upload:
    """Decode ``source`` with Pillow to prove it is an image (refusing pixel bombs before decoding),
    shrink it to fit boards and store the result."""
    import warnings

    from PIL import Image, ImageOps, UnidentifiedImageError

    shown = display_name(name)
    with _incoming() as folder:
        path, _ = _spool(source, Path(folder), settings.max_image_mb, "max_image_mb", shown)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                image = Image.open(path)
                if image.format not in IMAGE_FORMATS:
                    raise UploadRefused(shown, IMAGE_FORMAT, format=image.format)
                width, height = image.size
                if width * height > settings.max_image_pixels:
                    raise UploadRefused(shown, TOO_MANY_PIXELS, width=width, height=height,
                                        limit=settings.max_image_pixels)
                image.draft("RGB", settings.board_image)  # JPEG: decode at the reduced size straight away
                image.load()
        except UploadRefused:
            raise
        except Image.DecompressionBombError as error:  # Pillow's own limit, hit while reading the header
            found = re.search(r"\((\d+) pixels\)", str(error))
            raise UploadRefused(shown, BOMB, pixels=found[1] if found else "?",
                                limit=settings.max_image_pixels) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as error:
            raise UploadRefused(shown, NOT_IMAGE, why=str(error)) from None
        image = ImageOps.exif_transpose(image)
        image.thumbnail(settings.board_image, Image.Resampling.LANCZOS)
        out = io.BytesIO()
        if image.mode in ("RGBA", "LA", "P"):
            image.convert("RGBA").save(out, "PNG", optimize=True)
            suffix = ".png"
        else:
            image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
            suffix = ".jpg"
    digest, stored = _store(out.getvalue(), suffix, media_dir)
    return Upload("image", digest, stored, shown, size=image.size)


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


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes} min" + (f" {secs} s" if secs else "")
