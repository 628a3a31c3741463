"""Smaller renditions of an uploaded image for screens that need less than a board (previews, phones)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

#: The widths pages ask for; anything else is refused so that nobody can fill the disk with sizes.
WIDTHS = (320, 640, 1280)


def image_rendition(source: Path, sha256: str, width: int, renditions_dir: Path) -> Path:
    """``source`` (the stored image whose SHA-256 is ``sha256``) at most ``width`` pixels wide, made once
    and kept under ``renditions_dir/images`` (content-addressed: the same image and width, the same file)."""
    from PIL import Image

    if width not in WIDTHS:
        raise ValueError(f"width {width} is not one of {WIDTHS}")
    suffix = ".png" if source.suffix.lower() in (".png", ".gif") else ".jpg"
    path = renditions_dir / "images" / sha256[:2] / f"{sha256}-{width}{suffix}"
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        image.thumbnail((width, width * 4), Image.Resampling.LANCZOS)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=suffix)
        with os.fdopen(handle, "wb") as out:
            if suffix == ".png":
                image.convert("RGBA").save(out, "PNG", optimize=True)
            else:
                image.convert("RGB").save(out, "JPEG", quality=82, optimize=True, progressive=True)
    os.replace(temporary, path)  # atomic: two requests making it at once both leave a whole file
    return path
