"""Drops each loudspeaker program as an M3U playlist plus its MP3s into a folder a playout engine watches.

Layout, for a delivery starting 06:30 on 2025-03-14 (in the time zone of ``start_at``)::

    <dir>/<station_code>/2025-03-14/0630.m3u8           extended M3U, written last
    <dir>/<station_code>/2025-03-14/0630.json           sidecar for operators, written just before
    <dir>/<station_code>/2025-03-14/0630-01-<sha12>.mp3 the files, in playing order: the intro jingle,
                                                        the clips, the outro jingle (as the program has them)
"""

from __future__ import annotations

import logging
import math
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from channels.base import AudioClip, Channel, ChannelOptions, Delivery, PermanentError, Receipt
from channels.files import copy_atomic, os_errors, sha256_file, station_folder, write_atomic, write_json

log = logging.getLogger(__name__)


class FolderOptions(ChannelOptions):
    """``type = "folder"`` and the root ``dir`` the playout engine reads."""

    type: Literal["folder"]
    dir: Path


@dataclass(frozen=True)
class _Placed:
    """One file of the playlist (a jingle or a clip) and the file name it gets beside the playlist."""

    clip: AudioClip
    file: str
    kind: str = "piece"  # "intro", "piece" or "outro"


def _one_line(text: str) -> str:
    """``text`` in NFC on a single line, as an M3U title must be."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def _check_clip(clip: AudioClip) -> None:
    """Refuse a clip whose file is missing or whose bytes are not the ones that were approved."""
    name = f"clip {clip.ref!r} ({clip.title})"
    if not clip.path.is_file():
        raise PermanentError(f"{name}: file missing: {clip.path}")
    try:
        actual = sha256_file(clip.path)
    except OSError as exc:
        raise PermanentError(f"{name}: cannot read {clip.path}: {exc}") from exc
    if actual != clip.sha256.lower():
        raise PermanentError(
            f"{name}: SHA-256 mismatch for {clip.path}: expected {clip.sha256}, got {actual}"
        )


def playlist_text(placed: list[_Placed]) -> str:
    """The extended M3U for ``placed``: ``#EXTM3U`` then ``#EXTINF:<ceil seconds>,<title>`` and file."""
    lines = ["#EXTM3U"]
    for p in placed:
        lines.append(f"#EXTINF:{math.ceil(p.clip.duration_s)},{_one_line(p.clip.title)}")
        lines.append(p.file)
    return "\n".join(lines) + "\n"


class FolderLoudspeaker(Channel):
    """Writes one playlist per delivery slot; the playout engine plays whatever it finds."""

    kind = "loudspeaker.folder"
    Options = FolderOptions
    options: FolderOptions

    def deliver(self, delivery: Delivery) -> Receipt:
        station = station_folder(delivery, delivery.clips, "clips")
        items = [("intro", delivery.intro), *(("piece", clip) for clip in delivery.clips), ("outro", delivery.outro)]
        playing = [(kind, clip) for kind, clip in items if clip is not None]
        for _, clip in playing:
            _check_clip(clip)

        stem = delivery.start_at.strftime("%H%M")
        slot_dir = self.options.dir / station / delivery.start_at.strftime("%Y-%m-%d")
        placed = [
            _Placed(clip, f"{stem}-{n:02d}-{clip.sha256.lower()[:12]}.mp3", kind)
            for n, (kind, clip) in enumerate(playing, start=1)
        ]
        playlist = slot_dir / f"{stem}.m3u8"
        with os_errors(f"cannot write playlist {playlist}"):
            slot_dir.mkdir(parents=True, exist_ok=True)
            for p in placed:
                copy_atomic(p.clip.path, slot_dir / p.file)
            write_json(slot_dir / f"{stem}.json", _sidecar(delivery, placed))
            write_atomic(playlist, playlist_text(placed).encode("utf-8"))
            _remove_stale(slot_dir, stem, {p.file for p in placed})

        total = round(sum(p.clip.duration_s for p in placed), 3)
        log.info("delivery %s: playlist %s (%d files, %.1f s)", delivery.id, playlist, len(placed), total)
        return Receipt(
            delivery_id=delivery.id,
            location=str(playlist),
            details={"files": len(placed), "duration_s": total},
        )


def _sidecar(delivery: Delivery, placed: list[_Placed]) -> dict[str, object]:
    """What an operator wants to know about the playlist beside it."""
    return {
        "delivery_id": delivery.id,
        "station": delivery.station_code,
        "station_name": unicodedata.normalize("NFC", delivery.station_name),
        "start_at": delivery.start_at.isoformat(),
        "end_at": delivery.end_at.isoformat(),
        "items": [
            {
                "ref": p.clip.ref,
                "kind": p.kind,
                "title": _one_line(p.clip.title),
                "file": p.file,
                "sha256": p.clip.sha256.lower(),
                "duration_s": p.clip.duration_s,
            }
            for p in placed
        ],
    }


def _remove_stale(slot_dir: Path, stem: str, keep: set[str]) -> None:
    """Delete clips of this slot left by an earlier, different delivery (after the new playlist is in)."""
    for old in slot_dir.glob(f"{stem}-*.mp3"):
        if old.name not in keep:
            log.info("removing stale clip %s", old)
            old.unlink(missing_ok=True)
