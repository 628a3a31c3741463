"""Benchmark: assembling a 10-minute loudspeaker program with loudness normalisation, as a multiple of
real time, against plain assembly (decode, join, encode, no loudness work) and against the MP3 encode alone
of the same PCM (most of the time) in the same run; and the
two loudness methods considered (pyloudnorm + loa's true-peak limiter, which loa uses, and ffmpeg loudnorm).

Then: the same program for several communes (the sound is assembled once, each commune's copy only tagged),
and the MP3 encoder's quality levels compared on the program's PCM (time, loudness and spectral difference from
the PCM), with the level loa uses (content.render.audio.MP3_QUALITY) marked.

Goal (issue 4, SPEC §14; issue 19): at least 100× real time, and at least 0.7 of plain assembly's rate.
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
from content.render import audio, loudness  # imported before timing, as in a running server
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


def spectral_difference(reference: np.ndarray, other: np.ndarray, rate: int) -> float:
    """Mean absolute difference in dB between the short-time spectra of two mono signals, over the frames
    that are not silence and, in each, the bins up to 10 kHz within 30 dB of its loudest (what is heard: an
    encoder is free to drop what is masked far below it)."""
    size, hop = 1024, 512
    length = min(reference.shape[0], other.shape[0])
    window = np.hanning(size)

    def spectra(signal: np.ndarray) -> np.ndarray:
        frames = np.lib.stride_tricks.sliding_window_view(signal[:length, 0], size)[::hop] * window
        return 20 * np.log10(np.abs(np.fft.rfft(frames, axis=1)) + 1e-6)

    ours, theirs = spectra(reference), spectra(other)
    bins = np.fft.rfftfreq(size, 1 / rate) <= 10_000
    ours, theirs = ours[:, bins], theirs[:, bins]
    heard = (ours > ours.max(axis=1, keepdims=True) - 30) & (ours.max(axis=1, keepdims=True) > ours.max() - 50)
    return float(np.abs(ours - theirs)[heard].mean())


def snr_db(reference: np.ndarray, other: np.ndarray) -> float:
    """Signal to coding-noise ratio of ``other`` against ``reference`` (aligned: the LAME tag trims the delay)."""
    length = min(reference.shape[0], other.shape[0])
    noise = np.sum((reference[:length] - other[:length]) ** 2)
    return float(10 * np.log10(np.sum(reference[:length] ** 2) / max(noise, 1e-20)))


def encoder_levels(pcm, folder: Path, bitrate: str) -> None:
    """Encode the same PCM at several LAME quality levels: time, loudness and spectral difference."""
    rate = pcm.frame_rate
    source = audio.samples_of(pcm).astype(np.float64) / 32768
    source_lufs = loudness.integrated_lufs(source, rate)
    print(f"mp3 encoder levels (-compression_level, {bitrate} CBR), against the program's PCM "
          f"({source_lufs:.2f} LUFS):")
    reference = None
    for level in (2, 3, 5, 7, 9):
        path = folder / f"level{level}.mp3"
        start = time.perf_counter()
        audio.write_mp3(pcm, path, bitrate=bitrate, quality=level)
        wall = time.perf_counter() - start
        decoded = audio.samples_of(audio.decode(path)).astype(np.float64) / 32768
        reference = decoded if level == 3 else reference
        difference = f"{spectral_difference(reference, decoded, rate):5.2f} dB" if reference is not None else "  —   "
        mark = "  ← loa" if level == audio.MP3_QUALITY else ("  (LAME's default)" if level == 3 else "")
        print(f"  level {level}: {wall:6.2f} s = {pcm.duration_seconds / wall:6.1f}× real time, "
              f"loudness {loudness.integrated_lufs(decoded, rate) - source_lufs:+.2f} LU, SNR "
              f"{snr_db(source, decoded):5.1f} dB, spectrum {spectral_difference(source, decoded, rate):5.2f} dB "
              f"from the PCM, {difference} from level 3{mark}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 1-minute program: a smoke test")
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds of plain assembly, loa's and the encode alone, in turn; the best of each counts")
    args = parser.parse_args()
    minutes = 1.0 if args.quick else 10.0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        parts = clips(folder, minutes, pieces=4 if args.quick else 10)
        intro, outro = jingle(folder / "in.mp3"), jingle(folder / "out.mp3")
        plain_wall = ours_wall = encode_wall = math.inf
        for n in range(args.repeat):  # each round assembles into a new renditions folder: nothing is reused
            settings = RenderSettings(renditions_dir=folder / f"renditions-{n}",
                                      audio=AudioSettings(intro=intro, outro=outro))
            start = time.perf_counter()
            length = plain(parts, folder / "plain.mp3")
            plain_wall = min(plain_wall, time.perf_counter() - start)

            start = time.perf_counter()
            program = assemble_program(parts, settings, station="Xã Tân Lập", day=date(2026, 11, 23), title="Sáng")
            ours_wall = min(ours_wall, time.perf_counter() - start)

            pcm = audio.decode(program.path)  # the same PCM the program encoded, give or take the codec
            start = time.perf_counter()
            audio.write_mp3(pcm, folder / "encode-only.mp3", bitrate=settings.audio.bitrate)
            encode_wall = min(encode_wall, time.perf_counter() - start)

        start = time.perf_counter()
        ffmpeg_loudnorm(folder / "plain.mp3", folder / "loudnorm.mp3")
        loudnorm_wall = time.perf_counter() - start

        communes = 10
        start = time.perf_counter()
        for n in range(communes):
            shared = assemble_program(parts, settings, station=f"Xã số {n}", day=date(2026, 11, 24), title="Sáng")
        shared_wall = time.perf_counter() - start
        same_sound = shared.loudness_lufs == program.loudness_lufs and shared.duration_s == program.duration_s
        encoder_levels(pcm, folder, settings.audio.bitrate)

    ours_rate, plain_rate = program.duration_s / ours_wall, length / plain_wall
    encode_rate = program.duration_s / encode_wall
    print(f"program         : {program.duration_s:7.1f} s, {program.loudness_lufs} LUFS, "
          f"true peak {program.true_peak_db} dBTP; best of {args.repeat} round(s) below")
    print(f"plain assembly  : {plain_wall:6.2f} s = {plain_rate:7.1f}× real time (decode, join, encode)")
    print(f"loa assembly    : {ours_wall:6.2f} s = {ours_rate:7.1f}× real time (+ jingles, fades, pyloudnorm, "
          f"true-peak limiter)")
    print(f"mp3 encode only : {encode_wall:6.2f} s = {encode_rate:7.1f}× real time (ffmpeg LAME on the "
          f"program's PCM: the floor any assembly pays)")
    print(f"ffmpeg loudnorm : {loudnorm_wall:6.2f} s = {length / loudnorm_wall:7.1f}× real time (loudness alone, "
          f"one pass: the alternative not chosen)")
    print(f"{communes} communes    : {shared_wall:6.2f} s = {communes * program.duration_s / shared_wall:7.1f}× real "
          f"time for the same program relayed to {communes} communes (sound already assembled: tagged copies; "
          f"same loudness and length: {'yes' if same_sound else 'NO'})")
    print(f"ratio           : {ours_rate / plain_rate:6.2f} of plain assembly's rate (goal ≥ 0.7 → "
          f"{'met' if ours_rate / plain_rate >= 0.7 else 'NOT met'})")
    print(f"ratio to encode : {ours_rate / encode_rate:6.2f} of the MP3 encode's rate "
          f"({encode_wall / ours_wall:.0%} of loa's assembly time is the encode)")
    print(f"goal            : ≥ 100× real time → {'met' if ours_rate >= 100 else 'NOT met'}")


if __name__ == "__main__":
    main()
