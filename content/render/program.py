"""Loudspeaker programs: jingle in, each piece (spoken title and audio) with gaps, jingle out, one loudness.

Layout, exactly: ``intro · (piece · gap)… · outro``, so a program lasts
``program_overhead_s() + Σ ensure_airtime()`` and the planner can fill a slot to the second.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from content.config import RenderSettings
from content.errors import InputError
from content.models import Revision
from content.render.renditions import ensure_speech, file_sha256

log = logging.getLogger(__name__)
#: ffmpeg decodes run at once while assembling a program (each is its own process).
_DECODERS = max(2, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class ProgramPart:
    """One piece of a program: its rendered clip (already at target loudness) and its title."""

    title: str
    path: Path
    sha256: str


@dataclass(frozen=True)
class ProgramFile:
    """An assembled program on disk, with what it measures."""

    path: Path
    sha256: str
    duration_s: float
    loudness_lufs: float
    true_peak_db: float


@functools.cache
def _jingle_seconds(path: Path, size: int, mtime_ns: int) -> float:
    from content.render import audio

    return len(audio.decode(path)) / 1000


def _jingle(path: Path | None) -> Path | None:
    if path is None:
        return None
    if not path.is_file():
        raise InputError("the jingle file does not exist", where=f"loa.toml [audio]: {path}")
    return path


@dataclass(frozen=True)
class Jingle:
    """A station jingle as a program plays it: its file, SHA-256 and decoded seconds."""

    path: Path
    sha256: str
    duration_s: float


@functools.cache
def _jingle_of(path: Path, size: int, mtime_ns: int) -> Jingle:
    return Jingle(path, file_sha256(path), round(_jingle_seconds(path, size, mtime_ns), 3))


def program_jingles(settings: RenderSettings) -> tuple[Jingle | None, Jingle | None]:
    """The intro and outro jingles around every program (None where none is configured)."""
    def one(path: Path | None) -> Jingle | None:
        if path is None:
            return None
        stat = path.stat()
        return _jingle_of(path, stat.st_size, stat.st_mtime_ns)

    return one(_jingle(settings.audio.intro)), one(_jingle(settings.audio.outro))


def program_overhead_s(session: Session | None, settings: RenderSettings) -> float:
    """Seconds a program spends on its jingles (intro + outro, as decoded); 0 without jingles."""
    total = 0.0
    for path in (_jingle(settings.audio.intro), _jingle(settings.audio.outro)):
        if path is not None:
            stat = path.stat()
            total += _jingle_seconds(path, stat.st_size, stat.st_mtime_ns)
    return total


def ensure_airtime(session: Session, revision: Revision, settings: RenderSettings, *, now: datetime,
                   abbreviations: Mapping[str, str] | None = None) -> float:
    """Exact seconds ``revision`` occupies in a program: its clip (spoken title and audio) plus the gap."""
    rendition = ensure_speech(session, revision, settings, now=now, abbreviations=abbreviations)
    return rendition.duration_s + settings.audio.gap_s


def program_key(parts: Sequence[ProgramPart], settings: RenderSettings, tags: Mapping[str, str]) -> str:
    """The program's content address: its clips, jingles, audio settings and tags."""
    audio = settings.audio
    jingles = [file_sha256(p) if p else None for p in (_jingle(audio.intro), _jingle(audio.outro))]
    document = {"parts": [p.sha256 for p in parts], "jingles": jingles, "tags": dict(tags),
                "audio": audio.model_dump(mode="json", exclude={"intro", "outro"})}
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def _program_path(parts: Sequence[ProgramPart], settings: RenderSettings, *, station: str, day: date,
                  title: str) -> tuple[Path, dict[str, str]]:
    if not parts:
        raise ValueError("a program needs at least one piece")
    tags = {"title": title, "artist": station, "album": "loa", "date": day.isoformat()}
    key = program_key(parts, settings, tags)
    return settings.renditions_dir / "programs" / key[:2] / f"{key}.mp3", tags


def find_program(parts: Sequence[ProgramPart], settings: RenderSettings, *, station: str, day: date,
                 title: str) -> ProgramFile | None:
    """The program of ``parts`` if it was assembled before, else None (a lookup: nothing is built)."""
    path, _ = _program_path(parts, settings, station=station, day=day, title=title)
    meta = path.with_suffix(".json")
    if path.is_file() and meta.is_file():
        return ProgramFile(path=path, **json.loads(meta.read_text("utf-8")))
    return None


def assemble_program(parts: Sequence[ProgramPart], settings: RenderSettings, *, station: str, day: date,
                     title: str) -> ProgramFile:
    """The program of ``parts`` as one MP3 under ``renditions/programs``, built once per content.

    Loudness is brought to the configured target with the true peak under the ceiling; the MP3 carries
    ID3 title, station (artist) and date tags. The sound itself (jingles, clips, gaps, loudness, encoding)
    is assembled once per distinct content and settings, whatever the station, day or title: a program
    relayed to a whole province is built once, and each commune's copy differs only in its tags.
    Slow (ffmpeg) the first time: never call it inside a write transaction.
    """
    found = find_program(parts, settings, station=station, day=day, title=title)
    if found is not None:
        return found
    path, tags = _program_path(parts, settings, station=station, day=day, title=title)
    from content.render import audio

    sound = _sound(parts, settings)
    audio.tagged_copy(sound.path, path, tags)
    result = {"sha256": file_sha256(path), "duration_s": sound.duration_s, "loudness_lufs": sound.loudness_lufs,
              "true_peak_db": sound.true_peak_db}
    _write_meta(path, result)
    return ProgramFile(path=path, **result)


def _write_meta(path: Path, result: Mapping[str, object]) -> None:
    meta = path.with_suffix(".json")
    tmp = meta.with_suffix(".json.part")
    tmp.write_text(json.dumps(result), "utf-8")
    tmp.replace(meta)


def _sound(parts: Sequence[ProgramPart], settings: RenderSettings) -> ProgramFile:
    """The untagged program of ``parts``: found under ``renditions/programs/sound`` or assembled there."""
    key = program_key(parts, settings, {})
    path = settings.renditions_dir / "programs" / "sound" / key[:2] / f"{key}.mp3"
    meta = path.with_suffix(".json")
    if path.is_file() and meta.is_file():
        return ProgramFile(path=path, **json.loads(meta.read_text("utf-8")))
    from content.render import audio
    from content.render.loudness import limit_to_target

    cfg = settings.audio
    fmt = {"rate": cfg.sample_rate, "channels": cfg.channels}
    files = [file for file in (_jingle(cfg.intro), *(part.path for part in parts), _jingle(cfg.outro))
             if file is not None]
    # Each ffmpeg decode is a process of its own: run them side by side, a few at a time, in order.
    with ThreadPoolExecutor(max_workers=min(_DECODERS, len(files))) as decoders:
        decoded = list(decoders.map(lambda file: audio.decode_pcm(file, **fmt), files))
    gap = audio.silence(cfg.gap_s, **fmt).raw_data
    first = 1 if cfg.intro is not None else 0
    last = len(decoded) - (1 if cfg.outro is not None else 0)
    pieces = decoded[:first] + [chunk for clip in decoded[first:last] for chunk in (clip, gap)] + decoded[last:]
    joined = audio.silence(0, **fmt)._spawn(b"".join(pieces))  # one copy, not one per +
    del pieces, decoded
    fade_ms = int(cfg.fade_s * 1000)
    if fade_ms and len(joined) > 4 * fade_ms:
        joined = joined.fade_in(fade_ms).fade_out(fade_ms)
    limited = limit_to_target(audio.samples_of(joined), cfg.sample_rate,
                              target_lufs=cfg.loudness_lufs, ceiling_db=cfg.true_peak_db)
    del joined
    # The encoder (another process) and the final check and measurement (numpy) run at the same time.
    with ThreadPoolExecutor(max_workers=1) as encoder:
        encoded = encoder.submit(audio.write_mp3, audio.segment_of(limited.samples, rate=cfg.sample_rate), path,
                                 bitrate=cfg.bitrate)
        samples, measured = limited.finish()
        encoded.result()
    if samples is not limited.samples:  # the check held an overshoot: what was encoded is not what goes out
        audio.write_mp3(audio.segment_of(samples, rate=cfg.sample_rate), path, bitrate=cfg.bitrate)
    result = {"sha256": file_sha256(path), "duration_s": round(samples.shape[0] / cfg.sample_rate, 3),
              "loudness_lufs": round(measured.lufs, 2), "true_peak_db": round(measured.true_peak_db, 2)}
    _write_meta(path, result)
    log.info("assembled program %s (%d pieces, %.1f s, %.1f LUFS)", path.name, len(parts),
             result["duration_s"], measured.lufs)
    return ProgramFile(path=path, **result)
