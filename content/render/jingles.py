"""The demo's station jingles, synthesised by loa itself (a short chime up for the intro, down for the outro).

Regenerate the shipped files with:  .venv/bin/python -m content.render.jingles config/jingles
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

from content.render import audio

RATE = 22050
#: A pentatonic motif (C5 D5 E5 G5 A5 in Hz), common in Vietnamese broadcast signatures.
_UP = (523.25, 587.33, 659.25, 783.99, 880.0)
_NOTE_S = 0.32


def chime(notes: tuple[float, ...], *, note_s: float = _NOTE_S, tail_s: float = 0.9) -> np.ndarray:
    """Bell-like notes in sequence (a partial an octave up, exponential decay), as int16 mono samples."""
    length = int((len(notes) * note_s + tail_s) * RATE)
    out = np.zeros(length)
    for n, frequency in enumerate(notes):
        start = int(n * note_s * RATE)
        t = np.arange(length - start) / RATE
        envelope = np.exp(-3.5 * t) * np.minimum(1.0, t / 0.005)
        tone = np.sin(2 * math.pi * frequency * t) + 0.3 * np.sin(2 * math.pi * 2 * frequency * t)
        out[start:] += envelope * tone
    out *= 0.5 / np.abs(out).max()
    fade = int(0.05 * RATE)
    out[-fade:] *= np.linspace(1, 0, fade)
    return np.round(out * 32767).astype(np.int16)[:, None]


def write_demo_jingles(folder: Path) -> tuple[Path, Path]:
    """Write ``intro.mp3`` (rising) and ``outro.mp3`` (falling) into ``folder``."""
    intro, outro = folder / "intro.mp3", folder / "outro.mp3"
    audio.write_mp3(audio.segment_of(chime(_UP), rate=RATE), intro, bitrate="64k",
                    tags={"title": "loa intro", "artist": "loa"})
    audio.write_mp3(audio.segment_of(chime(tuple(reversed(_UP))), rate=RATE), outro, bitrate="64k",
                    tags={"title": "loa outro", "artist": "loa"})
    return intro, outro


if __name__ == "__main__":
    for written in write_demo_jingles(Path(sys.argv[1] if len(sys.argv) > 1 else "config/jingles")):
        print(written)
