"""The typed settings content needs (speech, audio, renditions), filled in by the shell from loa.toml."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SpeechSettings(_Section):
    """``[speech]``: which engine reads the text aloud, and how."""

    engine: Literal["offline", "gtts"] = "offline"
    fallback: Literal["offline"] = "offline"
    voice: str = "vi"
    rate_wpm: int = Field(150, ge=80, le=400)
    pitch: int = Field(50, ge=0, le=99)
    sentence_pause_ms: int = Field(400, ge=0, le=5000)
    #: Seconds the online engine may wait for each answer before the offline engine reads instead.
    timeout_s: float = Field(10.0, gt=0, le=120)


class AudioSettings(_Section):
    """``[audio]``: how programs and clips are encoded."""

    loudness_lufs: float = Field(-16.0, ge=-40, le=-5)
    true_peak_db: float = Field(-1.5, ge=-12, le=0)
    bitrate: str = Field("128k", pattern=r"^\d{2,3}k$")
    intro: Path | None = None
    outro: Path | None = None
    gap_s: float = Field(1.0, ge=0, le=30)
    spoken_titles: bool = True
    #: 1 for mono (what loudspeaker lines carry), 2 for stereo.
    channels: Literal[1, 2] = 1
    sample_rate: Literal[22050, 24000, 44100, 48000] = 22050
    fade_s: float = Field(0.3, ge=0, le=5)


class RenderSettings(_Section):
    """Everything rendering needs at once: where renditions live and how to make them."""

    renditions_dir: Path
    #: Uploaded recordings and images, stored by :mod:`content.media`; a recording replaces speech.
    media_dir: Path | None = None
    speech: SpeechSettings = SpeechSettings()
    audio: AudioSettings = AudioSettings()
