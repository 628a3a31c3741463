"""Where uploaded recordings and images live: content-addressed files under the media folder."""

from __future__ import annotations

from pathlib import Path

from content.errors import NotFound


def media_path(media_dir: Path, sha256: str, suffix: str) -> Path:
    """The path an upload with this SHA-256 and file suffix (``".mp3"``, ``".png"``) is stored at."""
    return media_dir / sha256[:2] / f"{sha256}{suffix.lower()}"


def find_media(media_dir: Path, sha256: str) -> Path:
    """The stored upload with this SHA-256, whatever its suffix; :class:`NotFound` when it is gone."""
    folder = media_dir / sha256[:2]
    for candidate in sorted(folder.glob(f"{sha256}.*")) if folder.is_dir() else ():
        return candidate
    raise NotFound("upload {upload}… is not in {folder}", where=str(media_dir), upload=sha256[:12],
                   folder=str(media_dir))
