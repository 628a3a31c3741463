"""Content-addressed renditions: each revision is rendered once per settings and reused everywhere."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError as DatabaseIntegrityError
from sqlalchemy.orm import Session, sessionmaker

from content import seals
from content.config import RenderSettings
from content.db import unit_of_work
from content.errors import InputError, LoaError, NotFound
from content.models import Rendition, Revision
from content.render import normalize

if TYPE_CHECKING:
    from content.render.speech import Speech, SpeechEngine

log = logging.getLogger(__name__)
_render_lock = threading.Lock()
_verified: set[tuple[str, str, int, int]] = set()


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def speech_text(revision: Revision, settings: RenderSettings) -> str:
    """What the loudspeaker says for a revision, before normalisation: title (if spoken), then body.

    With an uploaded recording, only the title is synthesised; the recording replaces the body.
    """
    title = f"{revision.title.rstrip('.!?…')}." if settings.audio.spoken_titles else ""
    if revision.audio_sha256:
        return title
    return f"{title}\n{revision.body}" if title else revision.body


def speech_key(revision: Revision, settings: RenderSettings) -> str:
    """The rendition key: the same revision with the same engine and settings gives the same key."""
    speech, audio = settings.speech, settings.audio
    document = {
        "revision": revision.sha256,
        "recording": revision.audio_sha256,
        "engine": speech.engine,
        "voice": speech.voice,
        "rate": speech.rate_wpm,
        "pitch": speech.pitch,
        "pause": speech.sentence_pause_ms,
        "bitrate": audio.bitrate,
        "titles": audio.spoken_titles,
        "loudness": [audio.loudness_lufs, audio.true_peak_db],
        "format": [audio.sample_rate, audio.channels],
        "normalizer": normalize.VERSION,
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def find_speech(session: Session, revision: Revision, settings: RenderSettings) -> Rendition | None:
    """The stored speech rendition of ``revision`` if it exists and its file is intact."""
    rendition = session.scalar(select(Rendition).where(Rendition.key == speech_key(revision, settings)))
    if rendition is None:
        return None
    path = Path(rendition.path)
    if not path.exists():
        log.warning("rendition %s is missing on disk; rendering it again", rendition.key)
        return None
    stat = path.stat()
    # Hash a file once per process and version of it on disk, not on every plan and push.
    version = (rendition.sha256, str(path), stat.st_size, stat.st_mtime_ns)
    if version not in _verified:
        if file_sha256(path) != rendition.sha256:
            log.warning("rendition %s is damaged on disk; rendering it again", rendition.key)
            return None
        _verified.add(version)
    return rendition


def ensure_speech(
    session: Session,
    revision: Revision,
    settings: RenderSettings,
    *,
    now: datetime,
    abbreviations: Mapping[str, str] | None = None,
) -> Rendition:
    """The speech MP3 of ``revision``: found if rendered before, otherwise synthesised once.

    Synthesis is slow: a caller holding a write transaction should call :func:`render_speech` first.
    """
    existing = find_speech(session, revision, settings)
    if existing is not None:
        return existing
    return _store(session, _speak(revision, settings, abbreviations), revision.sha256, now)


def render_speech(sessions: sessionmaker[Session], revision_ids: Iterable[int], settings: RenderSettings, *,
                  now: datetime, abbreviations: Mapping[str, str] | None = None) -> dict[int, Rendition | Exception]:
    """The speech rendition of each revision, rendered where missing with no transaction open while it is
    synthesised: looked up in a short transaction, spoken outside any, stored in another short one.

    On SQLite every transaction holds the one write lock, so an approval never waits for a synthesis.
    A revision that cannot be rendered maps to the error (logged), so one bad piece stops nothing else.
    """
    out: dict[int, Rendition | Exception] = {}
    for revision_id in dict.fromkeys(revision_ids):
        try:
            with unit_of_work(sessions) as session:
                revision = session.get(Revision, revision_id)
                if revision is None:
                    raise NotFound("revision {revision} no longer exists", revision=revision_id)
                rendition = find_speech(session, revision, settings)
            if rendition is None:
                values = _speak(revision, settings, abbreviations)
                with unit_of_work(sessions) as session:
                    rendition = _store(session, values, revision.sha256, now)
            out[revision_id] = rendition
        except LoaError as error:  # a user's matter (e.g. a recording gone from disk): one line, no traceback
            log.warning("could not render the speech of revision %s: %s", revision_id, error)
            out[revision_id] = error
        except Exception as error:
            log.exception("could not render the speech of revision %s", revision_id)
            out[revision_id] = error
    return out


def _speak(revision: Revision, settings: RenderSettings, abbreviations: Mapping[str, str] | None,
           ) -> dict[str, object]:
    """Synthesise ``revision``'s speech into its content-addressed MP3 (no database); the rendition's values."""
    from content.render import audio  # pydub, numpy and ctypes load only when rendering
    from content.render.loudness import normalize_loudness

    key = speech_key(revision, settings)
    path = settings.renditions_dir / "speech" / key[:2] / f"{key}.mp3"
    fmt = {"rate": settings.audio.sample_rate, "channels": settings.audio.channels}
    with _render_lock:
        text = normalize.normalize(speech_text(revision, settings), abbreviations)
        parts = []
        spoken = None
        if text.strip():
            spoken = synthesize(text, settings)
            parts.append(audio.conform(audio.segment_from_speech(spoken.speech), **fmt))
        if revision.audio_sha256:
            recording = _recording(revision, settings)
            if parts:
                parts.append(audio.silence(settings.speech.sentence_pause_ms / 1000, **fmt))
            parts.append(audio.conform(recording, **fmt))
        segment = sum(parts[1:], parts[0])
        samples, measured = normalize_loudness(audio.samples_of(segment), settings.audio.sample_rate,
                                               target_lufs=settings.audio.loudness_lufs,
                                               ceiling_db=settings.audio.true_peak_db)
        audio.write_mp3(audio.segment_of(samples, rate=settings.audio.sample_rate), path,
                        bitrate=settings.audio.bitrate, tags={"title": revision.title, "artist": "loa"})
    details: dict[str, object] = {"normalizer": normalize.VERSION, "loudness_lufs": round(measured.lufs, 2),
                                  "true_peak_db": round(measured.true_peak_db, 2),
                                  "recording": revision.audio_sha256}
    engine_name = "recording" if spoken is None else spoken.engine.name
    if spoken is not None:
        details["voice"] = spoken.engine.voice
        if spoken.fallback_reason:
            details["fallback"] = {"wanted": settings.speech.engine, "used": spoken.engine.name,
                                   "reason": spoken.fallback_reason}
    duration = audio.mp3_duration(path)
    log.info("rendered revision %s to %s (%.1f s)", revision.id, path, duration)
    return dict(key=key, revision_id=revision.id, kind="speech", path=str(path), sha256=file_sha256(path),
                duration_s=round(duration, 3), engine=engine_name, details=details)


def _store(session: Session, values: dict[str, object], revision_sha256: str, now: datetime) -> Rendition:
    """Keep a rendered file's rendition row, sealed (or the one another worker stored for the same key meanwhile)."""
    try:
        with session.begin_nested():
            rendition = Rendition(**values, created_at=now)
            seals.seal_rendition(session, rendition, revision_sha256)
            session.add(rendition)
    except DatabaseIntegrityError:
        # Another worker rendered the same revision meanwhile; its file is byte-identical.
        rendition = session.scalars(select(Rendition).where(Rendition.key == values["key"])).one()
    return rendition


def speech_fallbacks(session: Session, revision_id: int) -> list[dict[str, str]]:
    """Where the configured engine could not read a revision and the fallback did, with the reason."""
    renditions = session.scalars(select(Rendition).where(Rendition.revision_id == revision_id,
                                                         Rendition.kind == "speech"))
    return [dict(r.details["fallback"]) for r in renditions if (r.details or {}).get("fallback")]


@dataclass(frozen=True)
class Spoken:
    """Speech and the engine that really read it; ``fallback_reason`` says why it is not the configured one."""

    speech: Speech
    engine: SpeechEngine
    fallback_reason: str | None = None


def _open(name: str, settings: RenderSettings) -> SpeechEngine:
    from content.render import speech

    options = settings.speech
    return speech.open_engine(name, voice=options.voice, rate_wpm=options.rate_wpm, pitch=options.pitch,
                              sentence_pause_ms=options.sentence_pause_ms, timeout_s=options.timeout_s)


def synthesize(text: str, settings: RenderSettings) -> Spoken:
    """Speak ``text`` with the configured engine; when it cannot (no network, HTTP error, timeout), the
    fallback engine reads it and the reason is returned, so a slot is never left silent."""
    from content.render.speech import SpeechUnavailable

    engine = _open(settings.speech.engine, settings)
    try:
        return Spoken(engine.synthesize(text), engine)
    except SpeechUnavailable as error:
        reason = str(error)
    log.warning("speech engine %s failed (%s); the %s engine reads instead", engine.name, reason,
                settings.speech.fallback)
    fallback = _open(settings.speech.fallback, settings)
    return Spoken(fallback.synthesize(text), fallback, reason)


def _recording(revision: Revision, settings: RenderSettings):  # -> AudioSegment
    """The centre's own recording of a revision, decoded; a clear error when it is gone or not audio."""
    from content.media import find_media
    from content.render import audio

    if settings.media_dir is None:
        raise InputError("a recording is attached but no media folder is configured", where="loa.toml [media] dir")
    path = find_media(settings.media_dir, revision.audio_sha256 or "")
    try:
        return audio.decode(path)
    except FileNotFoundError:
        raise InputError("the recording is gone from the media folder", where=str(path)) from None
    except ValueError as error:
        raise InputError("the recording cannot be read as audio ({problem})", where=str(path),
                         problem=str(error)) from error
