"""Plays one cached file: decoded by ffmpeg to raw PCM here, written to the output at the pace of the audio, so
``played_s`` is what the output actually took (the bytes written), not what the file claims to last.

Outputs: ``ffmpeg`` (PCM into ffmpeg, out to an ALSA device), ``file`` (PCM appended to a file: tests, rehearsal),
``mpv`` and ``liquidsoap`` (their raw-audio readers on standard input) and ``command`` (any argv reading PCM on
stdin, ``{rate}`` filled in). Samples are signed 16-bit little-endian, mono, at ``rate`` Hz.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from loa.edge.settings import EdgeSettings


class OutputFault(Exception):
    """The audio output refused the samples (the device is gone, the player died)."""


def ffmpeg_exe() -> str:
    """The system's ffmpeg, else the one imageio-ffmpeg ships."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def output_argv(settings: EdgeSettings) -> list[str] | None:
    """The player process that takes the PCM on stdin, or None for the file sink."""
    rate = str(settings.rate)
    if settings.player == "file":
        return None
    if settings.player == "ffmpeg":
        return [ffmpeg_exe(), "-v", "error", "-f", "s16le", "-ar", rate, "-ac", "1", "-i", "-",
                "-f", "alsa", settings.alsa_device]
    if settings.player == "mpv":
        return ["mpv", "--no-video", "--really-quiet", "--demuxer=rawaudio", f"--demuxer-rawaudio-rate={rate}",
                "--demuxer-rawaudio-channels=1", "--demuxer-rawaudio-format=s16le", "-"]
    if settings.player == "liquidsoap":
        # input.external.rawaudio runs `cat`, which inherits liquidsoap's stdin: the PCM written here
        script = f'output.alsa(fallible=true, input.external.rawaudio(channels=1, samplerate={rate}, "cat"))'
        return ["liquidsoap", script]
    return [part.replace("{rate}", rate) for part in settings.player_command]


class Output:
    """Where decoded samples go for the life of the agent: a file, or one long-running player process."""

    def __init__(self, settings: EdgeSettings) -> None:
        self.settings = settings
        self.argv = output_argv(settings)
        self.process: subprocess.Popen[bytes] | None = None
        self.handle: IO[bytes] | None = None

    def _sink(self) -> IO[bytes]:
        if self.argv is None:
            if self.handle is None:
                self.settings.file_sink.parent.mkdir(parents=True, exist_ok=True)
                self.handle = self.settings.file_sink.open("ab")
            return self.handle
        if self.process is None or self.process.poll() is not None:
            self.process = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
        assert self.process.stdin is not None
        return self.process.stdin

    def write(self, data: bytes) -> None:
        try:
            sink = self._sink()
            sink.write(data)
            sink.flush()
        except (OSError, ValueError) as error:
            self.process = None
            raise OutputFault(f"audio output: {error}") from None

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
        if self.process is not None and self.process.stdin is not None:
            self.process.stdin.close()
            self.process.wait(timeout=10)


@dataclass(frozen=True)
class Played:
    played_s: float
    complete: bool


def play(path: Path | str, output: Output, *, rate: int, speed: float, stop: threading.Event,
         progress: Callable[[float], None], limit_s: float | None = None) -> Played:
    """Decode ``path`` (a cached file, or a stream URL ffmpeg reads) and write it to ``output`` at ``speed`` times
    real time; stops early when ``stop`` is set, and after ``limit_s`` seconds of audio when given (complete then).
    ``progress(played_s)`` is called about twice a second (a checkpoint a killed agent recovers from)."""
    decoder = subprocess.Popen([ffmpeg_exe(), "-v", "error", "-nostdin", "-i", str(path), "-f", "s16le", "-ac", "1",
                                "-ar", str(rate), "-"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    name = path.name if isinstance(path, Path) else path
    assert decoder.stdout is not None
    per_second = 2 * rate
    chunk = per_second // 10
    written, began, last_checkpoint = 0, time.monotonic(), 0.0
    complete = True
    try:
        while True:
            if stop.is_set():
                complete = False
                break
            want = chunk if limit_s is None else min(chunk, int(limit_s * rate) * 2 - written)
            if want <= 0:
                break
            data = decoder.stdout.read(want)
            if not data:
                break
            output.write(data)
            written += len(data)
            played_s = written / per_second
            ahead = played_s / speed - (time.monotonic() - began)
            if ahead > 0:
                stop.wait(ahead)
            if played_s - last_checkpoint >= 0.5 * speed or played_s - last_checkpoint >= 5:
                progress(played_s)
                last_checkpoint = played_s
    finally:
        decoder.kill()
        _, errors = decoder.communicate()
    if complete and decoder.returncode not in (0, -9) and written == 0:
        raise OutputFault(f"ffmpeg could not decode {name}: {errors.decode(errors='replace')[-200:]}")
    return Played(written / per_second, complete)
