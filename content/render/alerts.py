"""Renders what loudspeakers play for an emergency: its text spoken, or its recording, loudness-normalised to MP3.

Content-addressed like speech renditions (the same text and settings give the same file), and slow: call it
with no transaction open.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from content.config import RenderSettings
from content.render import normalize
from content.render.renditions import _render_lock, file_sha256, synthesize


@dataclass(frozen=True)
class AlertAudio:
    path: Path
    sha256: str
    duration_s: float


def alert_key(title: str, text: str, recording_sha256: str | None, settings: RenderSettings) -> str:
    speech, audio = settings.speech, settings.audio
    document = {"title": title, "text": text, "recording": recording_sha256, "engine": speech.engine,
                "voice": speech.voice, "rate": speech.rate_wpm, "pitch": speech.pitch, "bitrate": audio.bitrate,
                "loudness": [audio.loudness_lufs, audio.true_peak_db], "format": [audio.sample_rate, audio.channels],
                "normalizer": normalize.VERSION}
    return hashlib.sha256(json.dumps(document, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def render_alert(title: str, text: str, recording: Path | None, settings: RenderSettings, *,
                 abbreviations: Mapping[str, str] | None = None) -> AlertAudio:
    """The MP3 loudspeakers play: the recording when there is one (after the spoken title), else the title and
    text spoken; rendered once per content and settings."""
    from content.render import audio
    from content.render.loudness import normalize_loudness

    recording_sha = file_sha256(recording) if recording is not None else None
    key = alert_key(title, text, recording_sha, settings)
    path = settings.renditions_dir / "alerts" / key[:2] / f"{key}.mp3"
    if not path.exists():
        fmt = {"rate": settings.audio.sample_rate, "channels": settings.audio.channels}
        spoken = f"{title.rstrip('.!?…')}." + ("" if recording is not None else f"\n{text}")
        with _render_lock:
            parts = [audio.conform(audio.segment_from_speech(
                synthesize(normalize.normalize(spoken, abbreviations), settings).speech), **fmt)]
            if recording is not None:
                parts += [audio.silence(settings.speech.sentence_pause_ms / 1000, **fmt),
                          audio.conform(audio.decode(recording), **fmt)]
            segment = sum(parts[1:], parts[0])
            samples, _ = normalize_loudness(audio.samples_of(segment), settings.audio.sample_rate,
                                            target_lufs=settings.audio.loudness_lufs,
                                            ceiling_db=settings.audio.true_peak_db)
            # Written aside and linked into place: when two processes (a CLI sending it and loa serve's lane)
            # render the same alert at once, the first file stays and both hash that one (encodes differ by bytes).
            partial = path.with_name(f".{path.stem}.{os.getpid()}.mp3")
            audio.write_mp3(audio.segment_of(samples, rate=settings.audio.sample_rate), partial,
                            bitrate=settings.audio.bitrate, tags={"title": title, "artist": "loa"})
            try:
                os.link(partial, path)
            except FileExistsError:
                pass
            finally:
                partial.unlink(missing_ok=True)
    return AlertAudio(path, file_sha256(path), round(audio.mp3_duration(path), 3))
