"""Benchmark: assembling a 10-minute loudspeaker program with loudness normalisation, as a multiple of
real time, against plain assembly (decode, join, encode, no loudness work) and against the MP3 encode alone
of the same PCM (most of the time) in the same run; and the
two loudness methods considered (pyloudnorm + loa's true-peak limiter, which loa uses, and ffmpeg loudnorm).

Goal (issue 4, SPEC §14): at least 100× real time.
Run:  .venv/bin/python bench/program.py        (add --quick for a smoke run)
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from content.config import AudioSettings, RenderSettings
from content.render import audio, loudness  # noqa: F401 - imported before timing, as in a running server
from content.render.program import ProgramPart, assemble_program
from content.render.renditions import file_sha256
from content.render.speech import EspeakEngine

SENTENCE = ("Mời bà con đến thư viện xã đọc sách, mượn sách về nhà cho con cháu cùng đọc trong Tuần lễ "
            "học tập suốt đời. ")


def clips(folder: Path, minutes: float, pieces: int) -> list[ProgramPart]:
    """``pieces`` MP3 clips of real eSpeak speech adding up to about ``minutes``."""
    one = EspeakEngine().synthesize(SENTENCE * 3)
    per_piece = minutes * 60 / pieces
    repeat = max(1, math.ceil(per_piece / one.duration_s))
    segment = audio.conform(audio.segment_from_speech(one) * repeat, rate=22050, channels=1)[: int(per_piece * 1000)]
    parts = []
    for n in range(pieces):
        path = folder / f"clip{n}.mp3"
        audio.write_mp3(segment.apply_gain(-6 * (n % 3)), path)  # pieces of different loudness
        parts.append(ProgramPart(f"Tin {n}", path, file_sha256(path)))
    return parts


def jingle(path: Path) -> Path:
    rate = 22050
    t = np.arange(int(3 * rate)) / rate
    tone = 0.4 * np.sin(2 * math.pi * 523.25 * t) * np.exp(-t)
    audio.write_mp3(audio.segment_of((tone * 32767).astype(np.int16)[:, None], rate=rate), path)
    return path


def plain(parts: list[ProgramPart], out: Path) -> float:
    joined = sum((audio.decode(p.path) for p in parts[1:]), audio.decode(parts[0].path))
    audio.write_mp3(joined, out)
    return len(joined) / 1000


def ffmpeg_loudnorm(source: Path, out: Path) -> None:
    process = audio._ffmpeg(["-i", f"file:{source}", "-af", "loudnorm=I=-16:TP=-1.5:LRA=11", "-ar", "22050",
                             "-c:a", "libmp3lame", "-b:a", "128k", "-y", f"file:{out}"])
    if process.returncode != 0:
        raise RuntimeError(process.stderr.decode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 1-minute program: a smoke test")
    args = parser.parse_args()
    minutes = 1.0 if args.quick else 10.0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        parts = clips(folder, minutes, pieces=4 if args.quick else 10)
        settings = RenderSettings(renditions_dir=folder / "renditions", audio=AudioSettings(
            intro=jingle(folder / "in.mp3"), outro=jingle(folder / "out.mp3")))

        start = time.perf_counter()
        length = plain(parts, folder / "plain.mp3")
        plain_wall = time.perf_counter() - start

        start = time.perf_counter()
        program = assemble_program(parts, settings, station="Xã Tân Lập", day=date(2026, 11, 23), title="Sáng")
        ours_wall = time.perf_counter() - start

        pcm = audio.decode(program.path)  # the same PCM the program encoded, give or take the codec
        start = time.perf_counter()
        audio.write_mp3(pcm, folder / "encode-only.mp3", bitrate=settings.audio.bitrate)
        encode_wall = time.perf_counter() - start

        start = time.perf_counter()
        ffmpeg_loudnorm(folder / "plain.mp3", folder / "loudnorm.mp3")
        loudnorm_wall = time.perf_counter() - start

    ours_rate, plain_rate = program.duration_s / ours_wall, length / plain_wall
    encode_rate = program.duration_s / encode_wall
    print(f"program         : {program.duration_s:7.1f} s, {program.loudness_lufs} LUFS, "
          f"true peak {program.true_peak_db} dBTP")
    print(f"plain assembly  : {plain_wall:6.2f} s = {plain_rate:7.1f}× real time (decode, join, encode)")
    print(f"loa assembly    : {ours_wall:6.2f} s = {ours_rate:7.1f}× real time (+ jingles, fades, pyloudnorm, "
          f"true-peak limiter)")
    print(f"mp3 encode only : {encode_wall:6.2f} s = {encode_rate:7.1f}× real time (ffmpeg LAME on the "
          f"program's PCM: the floor any assembly pays)")
    print(f"ffmpeg loudnorm : {loudnorm_wall:6.2f} s = {length / loudnorm_wall:7.1f}× real time (loudness alone, "
          f"one pass: the alternative not chosen)")
    print(f"ratio           : {ours_rate / plain_rate:6.2f} of plain assembly's rate")
    print(f"ratio to encode : {ours_rate / encode_rate:6.2f} of the MP3 encode's rate "
          f"({encode_wall / ours_wall:.0%} of loa's assembly time is the encode)")
    print(f"goal            : ≥ 100× real time → {'met' if ours_rate >= 100 else 'NOT met'}")


if __name__ == "__main__":
    main()
