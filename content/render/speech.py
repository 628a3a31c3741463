"""Turn text into raw speech audio: the engine interface and the offline eSpeak NG engine."""

from __future__ import annotations

import ctypes
import logging
import re
import sys
import threading
import unicodedata
from abc import ABC, abstractmethod
from array import array
from dataclasses import dataclass
from typing import Any, ClassVar

import espeakng_loader

log = logging.getLogger(__name__)

# Values from espeak-ng's speak_lib.h (API revision 12).
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000  # return instead of calling exit(1) when the data is missing
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_EE_OK = 0
_ESPEAK_RATE = 1
_ESPEAK_PITCH = 3
_BUFFER_MS = 0  # 0 lets eSpeak pick its default 60 ms callback buffers

# Sentence ends: ., !, ? or … followed by whitespace, and blank lines (paragraphs). A single line
# break is left to eSpeak, which reads it as a space, so hard-wrapped text is not chopped up.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])\s+|\n\s*\n")


@dataclass(frozen=True)
class Speech:
    """Signed little-endian PCM audio produced by an engine."""

    pcm: bytes
    sample_rate: int
    sample_width: int = 2
    channels: int = 1

    @property
    def duration_s(self) -> float:
        """The length of the audio in seconds."""
        return len(self.pcm) / (self.sample_width * self.channels * self.sample_rate)


class SpeechUnavailable(RuntimeError):
    """An engine could not speak right now (no network, HTTP error, quota); another engine may."""


class SpeechEngine(ABC):
    """A text-to-speech engine: subclasses set ``name`` and implement :meth:`synthesize`."""

    name: ClassVar[str]
    voice: str

    @abstractmethod
    def synthesize(self, text: str) -> Speech:
        """Speak ``text`` and return the audio.

        Raises ``ValueError`` when the text has nothing to say. Implementations must be safe to call
        from several threads at once.
        """


class _EspeakEvent(ctypes.Structure):
    """espeak_EVENT from speak_lib.h; the callback receives an array of these."""

    class _Id(ctypes.Union):
        _fields_ = [
            ("number", ctypes.c_int),
            ("name", ctypes.c_char_p),
            ("string", ctypes.c_char * 8),
        ]

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _Id),
    ]


_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_EspeakEvent)
)


class _Espeak:
    """libespeak-ng loaded and initialised for synchronous retrieval; use only while holding _LOCK."""

    def __init__(self) -> None:
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.argtypes = []
        lib.espeak_Synchronize.restype = ctypes.c_int
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        lib.espeak_Info.restype = ctypes.c_char_p

        data_path = espeakng_loader.get_data_path()  # raises RuntimeError when the data is missing
        options = _INITIALIZE_DONT_EXIT
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, _BUFFER_MS, data_path.encode(), options)
        if rate <= 0:
            raise RuntimeError(f"eSpeak NG failed to initialise with data at {data_path}")
        self._lib = lib
        self.sample_rate: int = rate
        self._chunks: list[bytes] = []
        self._callback = _SynthCallback(self._collect)  # kept here so ctypes never frees it
        lib.espeak_SetSynthCallback(self._callback)
        self._settings: tuple[str, int, int] | None = None
        version = (lib.espeak_Info(None) or b"?").decode()
        log.info("eSpeak NG %s ready at %d Hz (data %s)", version, rate, data_path)

    def _collect(self, wav: Any, numsamples: int, events: Any) -> int:
        """Receive one buffer of 16-bit samples from eSpeak; returning 0 means carry on."""
        if wav and numsamples > 0:
            self._chunks.append(ctypes.string_at(wav, numsamples * 2))
        return 0

    def configure(self, voice: str, rate_wpm: int, pitch: int) -> None:
        """Select the voice, rate and pitch, skipping the work when they are already set."""
        wanted = (voice, rate_wpm, pitch)
        if wanted == self._settings:
            return
        self._settings = None
        if self._lib.espeak_SetVoiceByName(voice.encode()) != _EE_OK:
            raise ValueError(f"eSpeak NG has no voice named {voice!r}")
        for parameter, value in ((_ESPEAK_RATE, rate_wpm), (_ESPEAK_PITCH, pitch)):
            if self._lib.espeak_SetParameter(parameter, value, 0) != _EE_OK:
                raise RuntimeError(f"eSpeak NG refused parameter {parameter} = {value}")
        self._settings = wanted

    def speak(self, text: str) -> bytes:
        """Synthesise one sentence and return its native-endian 16-bit samples."""
        data = text.encode("utf-8")
        self._chunks = []
        try:
            size = len(data) + 1
            status = self._lib.espeak_Synth(data, size, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            if status != _EE_OK:
                raise RuntimeError(f"eSpeak NG could not synthesise the text (error {status})")
            self._lib.espeak_Synchronize()
            return b"".join(self._chunks)
        finally:
            self._chunks = []


_LOCK = threading.Lock()  # libespeak-ng keeps global state: one caller at a time, for everything
_espeak: _Espeak | None = None


def _espeak_locked() -> _Espeak:
    """The process-wide eSpeak NG library, initialised on first use; the caller holds _LOCK."""
    global _espeak
    if _espeak is None:
        _espeak = _Espeak()
    return _espeak


def split_sentences(text: str) -> list[str]:
    """Split text at sentence ends and blank lines, dropping empty pieces."""
    return [piece.strip() for piece in _SENTENCE_BREAK.split(text) if piece.strip()]


def _little_endian(pcm: bytes) -> bytes:
    """Native 16-bit samples as little-endian bytes."""
    if sys.byteorder == "little":
        return pcm
    samples = array("h", pcm)
    samples.byteswap()
    return samples.tobytes()


class EspeakEngine(SpeechEngine):
    """Offline speech with eSpeak NG, shipped in the espeakng-loader wheel.

    Creating an engine is cheap; the library loads on the first synthesis. Sentences are spoken
    one by one with ``sentence_pause_ms`` of silence between them.
    """

    name: ClassVar[str] = "espeak"

    def __init__(
        self, voice: str = "vi", rate_wpm: int = 160, pitch: int = 50, sentence_pause_ms: int = 350
    ) -> None:
        if not 80 <= rate_wpm <= 450:
            raise ValueError(f"rate_wpm must be between 80 and 450 words per minute, not {rate_wpm}")
        if not 0 <= pitch <= 100:
            raise ValueError(f"pitch must be between 0 and 100, not {pitch}")
        if sentence_pause_ms < 0:
            raise ValueError(f"sentence_pause_ms cannot be negative, not {sentence_pause_ms}")
        self.voice = voice
        self.rate_wpm = rate_wpm
        self.pitch = pitch
        self.sentence_pause_ms = sentence_pause_ms

    def __repr__(self) -> str:
        """Show the settings, for logs."""
        return (
            f"EspeakEngine(voice={self.voice!r}, rate_wpm={self.rate_wpm}, pitch={self.pitch}, "
            f"sentence_pause_ms={self.sentence_pause_ms})"
        )

    def synthesize(self, text: str) -> Speech:
        """Speak NFC-normalised ``text`` sentence by sentence, with pauses between sentences."""
        sentences = split_sentences(unicodedata.normalize("NFC", text).replace("\x00", " "))
        if not sentences:
            raise ValueError("nothing to say: the text is empty")
        with _LOCK:
            espeak = _espeak_locked()
            espeak.configure(self.voice, self.rate_wpm, self.pitch)
            parts = [espeak.speak(sentence) for sentence in sentences]
            sample_rate = espeak.sample_rate
        pause = bytes(2 * round(sample_rate * self.sentence_pause_ms / 1000))
        pcm = _little_endian(pause.join(part for part in parts if part))
        speech = Speech(pcm=pcm, sample_rate=sample_rate)
        log.debug("%r spoke %d sentence(s), %.2f s of audio", self, len(sentences), speech.duration_s)
        return speech


ENGINES: dict[str, str] = {
    "offline": "content.render.speech:EspeakEngine",
    "espeak": "content.render.speech:EspeakEngine",
    "gtts": "content.render.online_speech:GttsEngine",
}


def open_engine(name: str, **options: Any) -> SpeechEngine:
    """Create the engine registered under ``name`` with the given constructor options."""
    import importlib

    try:
        module, _, attribute = ENGINES[name.strip().lower()].partition(":")
    except KeyError:
        known = ", ".join(sorted(ENGINES))
        raise ValueError(f"unknown speech engine {name!r}; known engines: {known}") from None
    engine_class: type[SpeechEngine] = getattr(importlib.import_module(module), attribute)
    if engine_class is EspeakEngine:
        options.pop("timeout_s", None)
    return engine_class(**options)
