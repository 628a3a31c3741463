"""Content-addressed renditions: each revision is rendered once per settings and reused everywhere."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError as DatabaseIntegrityError
from sqlalchemy.orm import Session

from content.config import RenderSettings
from content.models import Rendition, Revision
from content.render import normalize

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
    """What the loudspeaker says for a revision, before normalisation: title, then body."""
    if settings.audio.spoken_titles:
        return f"{revision.title.rstrip('.!?…')}.\n{revision.body}"
    return revision.body


def speech_key(revision: Revision, settings: RenderSettings) -> str:
    """The rendition key: the same revision with the same engine and settings gives the same key."""
    speech, audio = settings.speech, settings.audio
    document = {
        "revision": revision.sha256,
        "engine": speech.engine,
        "voice": speech.voice,
        "rate": speech.rate_wpm,
        "pitch": speech.pitch,
        "pause": speech.sentence_pause_ms,
        "bitrate": audio.bitrate,
        "titles": audio.spoken_titles,
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
    """The speech MP3 of ``revision``: found if rendered before, otherwise synthesised once."""
    existing = find_speech(session, revision, settings)
    if existing is not None:
        return existing
    from content.render import audio, speech  # pydub and ctypes load only when rendering

    key = speech_key(revision, settings)
    path = settings.renditions_dir / "speech" / key[:2] / f"{key}.mp3"
    with _render_lock:
        text = normalize.normalize(speech_text(revision, settings), abbreviations)
        name = settings.speech.engine
        if name not in speech.ENGINES:
            log.warning("speech engine %r is not available in this version; using %r", name,
                        settings.speech.fallback)
            name = settings.speech.fallback
        engine = speech.open_engine(
            name,
            voice=settings.speech.voice,
            rate_wpm=settings.speech.rate_wpm,
            pitch=settings.speech.pitch,
            sentence_pause_ms=settings.speech.sentence_pause_ms,
        )
        segment = audio.segment_from_speech(engine.synthesize(text))
        audio.write_mp3(segment, path, bitrate=settings.audio.bitrate,
                        tags={"title": revision.title, "artist": "loa"})
    duration = audio.mp3_duration(path)
    values = dict(key=key, revision_id=revision.id, kind="speech", path=str(path), sha256=file_sha256(path),
                  duration_s=round(duration, 3), engine=engine.name,
                  details={"voice": engine.voice, "normalizer": normalize.VERSION}, created_at=now)
    try:
        with session.begin_nested():
            rendition = Rendition(**values)
            session.add(rendition)
    except DatabaseIntegrityError:
        # Another worker rendered the same revision meanwhile; its file is byte-identical.
        rendition = session.scalars(select(Rendition).where(Rendition.key == key)).one()
    log.info("rendered revision %s to %s (%.1f s)", revision.id, path, duration)
    return rendition
