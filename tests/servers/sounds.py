"""Small sounds the tests make: a recording as a commune would upload one."""

from __future__ import annotations

import io
import math
import struct
import wave


def wav_tone(seconds: float = 2.0, rate: int = 22050, hz: float = 440.0) -> bytes:
    """A mono 16-bit WAV of a ``hz`` tone: what a commune records on a phone, in miniature."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"".join(struct.pack("<h", int(12000 * math.sin(2 * math.pi * hz * n / rate)))
                                 for n in range(int(seconds * rate))))
    return out.getvalue()
