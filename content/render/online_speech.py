"""The online speech engine: Google's voice through gTTS (language ``vi``), decoded to PCM."""

from __future__ import annotations

import logging
from typing import ClassVar

from content.render.speech import Speech, SpeechEngine, SpeechUnavailable, split_sentences

log = logging.getLogger(__name__)

#: gTTS sends at most 100 characters per request; keeping each call to a few sentences bounds the
#: work lost when one request fails and keeps sentence intonation whole.
_MAX_CHARS = 400


def _batches(sentences: list[str], limit: int = _MAX_CHARS) -> list[str]:
    batches: list[str] = []
    for sentence in sentences:
        if batches and len(batches[-1]) + 1 + len(sentence) <= limit:
            batches[-1] = f"{batches[-1]} {sentence}"
        else:
            batches.append(sentence)
    return batches


class GttsEngine(SpeechEngine):
    """Speech from gTTS. Any network or service failure raises :class:`SpeechUnavailable`, so the
    caller can read the text with the offline engine instead."""

    name: ClassVar[str] = "gtts"

    def __init__(self, voice: str = "vi", timeout_s: float = 10.0, tld: str = "com", **_ignored: object) -> None:
        self.voice = voice
        self.timeout_s = timeout_s
        self.tld = tld

    def synthesize(self, text: str) -> Speech:
        """Speak ``text`` through gTTS; the MP3 it returns is decoded to 16-bit mono PCM."""
        import requests
        from gtts import gTTS, gTTSError
        from pydub import AudioSegment

        from content.render import audio

        sentences = split_sentences(text)
        if not sentences:
            raise ValueError("nothing to say: the text is empty")
        language = "vi" if self.voice in ("", "vi", "vi-VN") else self.voice
        joined: AudioSegment | None = None
        for batch in _batches(sentences):
            try:
                chunks = list(gTTS(batch, lang=language, tld=self.tld, lang_check=False,
                                   timeout=self.timeout_s).stream())
            except gTTSError as error:
                raise SpeechUnavailable(f"gTTS failed: {error}") from error
            except requests.RequestException as error:  # gTTS wraps most of these; not all
                raise SpeechUnavailable(f"gTTS could not be reached: {error}") from error
            try:
                segment = audio.decode_bytes(b"".join(chunks), "the gTTS answer")
            except ValueError as error:
                raise SpeechUnavailable(str(error)) from error
            segment = audio.conform(segment, rate=segment.frame_rate, channels=1)
            joined = segment if joined is None else joined + segment
        assert joined is not None
        return Speech(pcm=joined.raw_data, sample_rate=joined.frame_rate)
