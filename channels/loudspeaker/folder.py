"""Drops each loudspeaker program as an M3U playlist plus its MP3s into a folder a playout engine watches.

Layout, for a delivery starting 06:30 on 2025-03-14 (in the time zone of ``start_at``)::

    <dir>/<station_code>/2025-03-14/0630.m3u8           extended M3U, written last
    <dir>/<station_code>/2025-03-14/0630.json           sidecar for operators, written just before
    <dir>/<station_code>/2025-03-14/0630-01-<sha12>.mp3 the files, in playing order: the intro jingle,
                                                        the clips, the outro jingle (as the program has them)

A live program the slot relays (``Delivery.streams``) is a line of the playlist at its place among the clips:
``#EXTINF:<seconds>,<name>`` then its URL; the playout engine plays the stream for that many seconds.

An emergency (``Delivery.alert``) is written beside the playlists of the day it is pushed::

    <dir>/<station_code>/2025-03-14/emergency.m3u8          the emergency's audio file, or its live stream URL
    <dir>/<station_code>/2025-03-14/emergency.json          sidecar: ref, title, text, issued_at, until, repeat,
                                                             the slot playlist it replaced
    <dir>/<station_code>/2025-03-14/emergency-<sha12>.mp3   the audio, when it is a file

and the playlist of the slot playing at that moment (the sidecar whose ``start_at``–``end_at`` holds it)
is replaced by the same emergency playlist, its program kept as ``<HHMM>.m3u8.interrupted`` (a name no
``*.m3u8`` watcher picks up) and not put back. A playout engine plays ``emergency.m3u8`` first while it
exists. A repeat writes the same files again; the all-clear removes ``emergency.*`` and empties the slot
playlist the emergency took over (or puts the all-clear's own announcement there, when it has audio). The end of
an emergency that ran out without an all-clear (``Alert.ended``, no audio) does the same as a silent all-clear.
Each file is written atomically (a temporary file renamed over it).
"""

from __future__ import annotations

import logging
import math
import os
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from channels.base import Alert, AudioClip, Channel, ChannelOptions, Delivery, PermanentError, Receipt, Stream
from channels.files import (
    copy_atomic,
    locked,
    os_errors,
    read_json,
    sha256_file,
    station_folder,
    write_atomic,
    write_json,
)
from channels.loudspeaker.played import JINGLES, cut_at

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


def playlist_text(entries: list[_Placed | Stream]) -> str:
    """The extended M3U for ``entries``: ``#EXTM3U`` then ``#EXTINF:<ceil seconds>,<title>`` and the file, or the
    URL of a relayed stream."""
    lines = ["#EXTM3U"]
    for entry in entries:
        if isinstance(entry, Stream):
            lines.append(f"#EXTINF:{math.ceil(entry.duration_s)},{_one_line(entry.name)}")
            lines.append(_one_line(entry.url))
        else:
            lines.append(f"#EXTINF:{math.ceil(entry.clip.duration_s)},{_one_line(entry.clip.title)}")
            lines.append(entry.file)
    return "\n".join(lines) + "\n"


def with_streams(placed: list[_Placed], streams: tuple[Stream, ...]) -> list[_Placed | Stream]:
    """The playlist's entries: the files, with each stream after the first ``position`` pieces (jingles stay
    at the ends)."""
    entries: list[_Placed | Stream] = []
    pieces = 0
    for p in placed:
        if p.kind != "intro":
            entries.extend(s for s in streams if s.position == pieces and s not in entries)
        entries.append(p)
        pieces += p.kind == "piece"
    outro = entries.pop() if entries and isinstance(entries[-1], _Placed) and entries[-1].kind == "outro" else None
    entries.extend(s for s in streams if s not in entries)
    return entries + ([outro] if outro is not None else [])


class FolderLoudspeaker(Channel):
    """Writes one playlist per delivery slot; the playout engine plays whatever it finds."""

    kind = "loudspeaker.folder"
    Options = FolderOptions
    options: FolderOptions

    def deliver(self, delivery: Delivery) -> Receipt:
        if delivery.alert is not None:
            return self._emergency(delivery, delivery.alert)
        station = station_folder(delivery, delivery.clips or delivery.streams, "clips")
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
            entries = with_streams(placed, delivery.streams)
            write_json(slot_dir / f"{stem}.json", _sidecar(delivery, entries))
            write_atomic(playlist, playlist_text(entries).encode("utf-8"))
            _remove_stale(slot_dir, stem, {p.file for p in placed})

        relayed = sum(stream.duration_s for stream in delivery.streams)
        total = round(sum(p.clip.duration_s for p in placed) + relayed, 3)
        log.info("delivery %s: playlist %s (%d files, %.1f s)", delivery.id, playlist, len(placed), total)
        details: dict[str, Any] = {"files": len(placed), "duration_s": total}
        if delivery.streams:
            details["streams"] = [{"url": s.url, "planned_s": s.duration_s} for s in delivery.streams]
        return Receipt(delivery_id=delivery.id, location=str(playlist), details=details)


    # --- emergencies ----------------------------------------------------------------------------------

    def _emergency(self, delivery: Delivery, alert: Alert) -> Receipt:
        """Write ``emergency.m3u8`` and take over the slot playing now; or, on the all-clear, undo that."""
        station = station_folder(delivery, (alert,), "alert")
        if alert.audio is not None:
            _check_clip(alert.audio)
        elif alert.stream_url is None and not alert.all_clear:
            raise PermanentError(f"delivery {delivery.id}: emergency {alert.ref} has neither audio nor a stream")
        root = self.options.dir / station
        day_dir = root / delivery.start_at.strftime("%Y-%m-%d")
        details: dict[str, Any] = {"alert": alert.ref, "all_clear": alert.all_clear, "repeat": alert.repeat,
                                   "ended": alert.ended}
        with os_errors(f"cannot write the emergency playlist in {day_dir}"), locked(root / ".emergency.lock"):
            day_dir.mkdir(parents=True, exist_ok=True)
            if alert.all_clear:
                details.update(self._all_clear(delivery, alert, root))
                location = str(day_dir)
            else:
                playlist = _alert_playlist(alert, day_dir)
                sidecar = day_dir / EMERGENCY_JSON
                earlier = read_json(sidecar) if sidecar.is_file() else None
                replaced = earlier.get("replaced") if isinstance(earlier, dict) and earlier.get("ref") == alert.ref \
                    else None
                interrupted = None
                if replaced is None:
                    replaced, interrupted = _take_over_slot(day_dir, delivery.start_at)
                if replaced is not None:
                    write_atomic(day_dir / replaced, playlist.encode("utf-8"))
                write_json(sidecar, {
                    "ref": alert.ref, "delivery_id": delivery.id, "title": _one_line(alert.title),
                    "text": unicodedata.normalize("NFC", alert.text), "issued_at": alert.issued_at.isoformat(),
                    "until": alert.until.isoformat() if alert.until else None, "repeat": alert.repeat,
                    "stream_url": alert.stream_url, "replaced": replaced,
                    "interrupted": interrupted or (earlier or {}).get("interrupted"),
                })
                write_atomic(day_dir / EMERGENCY_PLAYLIST, playlist.encode("utf-8"))
                location = str(day_dir / EMERGENCY_PLAYLIST)
                details.update(replaced=replaced, interrupted=interrupted)
        log.warning("delivery %s: emergency %s %s in %s", delivery.id, alert.ref,
                    ("ended" if alert.ended else "cleared") if alert.all_clear else "written", day_dir)
        return Receipt(delivery_id=delivery.id, location=location, details=details)

    def _all_clear(self, delivery: Delivery, alert: Alert, root: Path) -> dict[str, Any]:
        """Remove this emergency's files from every day of the station; empty the slot playlists it took over
        (or put the all-clear's announcement there)."""
        cleared, emptied = [], []
        for sidecar in sorted(root.glob(f"*/{EMERGENCY_JSON}")):
            document = read_json(sidecar)
            if not isinstance(document, dict) or document.get("ref") != alert.ref:
                continue
            day_dir = sidecar.parent
            if document.get("replaced"):
                after = _alert_playlist(alert, day_dir) if alert.audio is not None else "#EXTM3U\n"
                write_atomic(day_dir / document["replaced"], after.encode("utf-8"))
                emptied.append(f"{day_dir.name}/{document['replaced']}")
            (day_dir / EMERGENCY_PLAYLIST).unlink(missing_ok=True)
            sidecar.unlink()
            keep = f"emergency-{alert.audio.sha256.lower()[:12]}.mp3" if alert.audio is not None else None
            for audio in day_dir.glob("emergency-*.mp3"):
                if audio.name != keep:
                    audio.unlink()
            cleared.append(day_dir.name)
        return {"cleared": cleared, "slots": emptied}


#: The emergency's playlist and its sidecar, beside the day's playlists.
EMERGENCY_PLAYLIST = "emergency.m3u8"
EMERGENCY_JSON = "emergency.json"


def _alert_playlist(alert: Alert, day_dir: Path) -> str:
    """The M3U of an emergency: its audio copied beside the playlist, or its live stream's URL."""
    title = _one_line(f"KHẨN CẤP: {alert.title}" if not alert.all_clear else f"Hết cảnh báo: {alert.title}")
    if alert.audio is not None:
        name = f"emergency-{alert.audio.sha256.lower()[:12]}.mp3"
        copy_atomic(alert.audio.path, day_dir / name)
        return f"#EXTM3U\n#EXTINF:{math.ceil(alert.audio.duration_s)},{title}\n{name}\n"
    return f"#EXTM3U\n#EXTINF:-1,{title}\n{alert.stream_url}\n"


def _take_over_slot(day_dir: Path, moment: datetime) -> tuple[str | None, dict[str, Any] | None]:
    """The playlist of the slot playing at ``moment`` (its program kept as ``.interrupted``) and what was cut:
    ``(file name, {"delivery", "played_s", "program_s"})``; ``(None, None)`` when no slot is playing."""
    for sidecar in sorted(day_dir.glob("[0-9][0-9][0-9][0-9].json")):
        try:
            document = read_json(sidecar)
            start, end = datetime.fromisoformat(document["start_at"]), datetime.fromisoformat(document["end_at"])
        except (ValueError, KeyError, TypeError):
            continue
        playlist = sidecar.with_suffix(".m3u8")
        if not (start <= moment < end) or not playlist.is_file():
            continue
        kept = playlist.with_name(playlist.name + ".interrupted")
        if not kept.exists():
            os.link(playlist, kept)  # the program as it was, for the operator; the slot's name gets the emergency
        items = [(str(item.get("kind") if item.get("kind") in JINGLES else item.get("ref")),
                  float(item.get("duration_s", 0))) for item in document.get("items", [])]
        program_s = round(sum(seconds for _, seconds in items), 3)
        played = round(min((moment - start).total_seconds(), program_s), 3)
        return playlist.name, {"delivery": document.get("delivery_id"), "played_s": played,
                               "program_s": program_s, **cut_at(items, played)}
    return None, None


def _sidecar(delivery: Delivery, entries: list[_Placed | Stream]) -> dict[str, object]:
    """What an operator wants to know about the playlist beside it."""
    return {
        "delivery_id": delivery.id,
        "station": delivery.station_code,
        "station_name": unicodedata.normalize("NFC", delivery.station_name),
        "start_at": delivery.start_at.isoformat(),
        "end_at": delivery.end_at.isoformat(),
        "items": [
            {"ref": f"relay-{n}", "kind": "stream", "title": _one_line(p.name), "url": p.url,
             "duration_s": p.duration_s} if isinstance(p, Stream) else
            {
                "ref": p.clip.ref,
                "kind": p.kind,
                "title": _one_line(p.clip.title),
                "file": p.file,
                "sha256": p.clip.sha256.lower(),
                "duration_s": p.clip.duration_s,
            }
            for n, p in enumerate(entries, start=1)
        ],
    }


def _remove_stale(slot_dir: Path, stem: str, keep: set[str]) -> None:
    """Delete clips of this slot left by an earlier, different delivery (after the new playlist is in)."""
    for old in slot_dir.glob(f"{stem}-*.mp3"):
        if old.name not in keep:
            log.info("removing stale clip %s", old)
            old.unlink(missing_ok=True)
