"""Build, decode and write audio files with pydub and ffmpeg, never needing ffprobe."""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

import imageio_ffmpeg
from mutagen import MutagenError
from mutagen.id3 import TALB, TDRC, TIT2, TPE1
from mutagen.mp3 import MP3

from content.render.speech import Speech

# pydub warns at import when ffmpeg is not on PATH (configure_pydub points it at ours) and, on Python
# 3.11-3.12, because it imports audioop. Neither is news to us.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Couldn't find ff", category=RuntimeWarning)
    warnings.filterwarnings("ignore", message="'audioop' is deprecated", category=DeprecationWarning)
    from pydub import AudioSegment
    from pydub.audio_segment import fix_wav_headers

log = logging.getLogger(__name__)

#: LAME's algorithm quality (ffmpeg ``-compression_level``, 0 best … 9 fastest) at the configured bitrate.
#: 3 is LAME's own default; bench/program.py compares the levels on a program's speech (time, loudness,
#: spectrum) and the chosen one measured no audible difference from it, at a fraction of its time.
MP3_QUALITY = 7
_ID3_FRAMES = {"title": TIT2, "artist": TPE1, "album": TALB, "date": TDRC}
_RAW_FORMATS = {1: "u8", 2: "s16le", 3: "s24le", 4: "s32le"}


@functools.cache
def ffmpeg_path() -> str:
    """The ffmpeg to run: the system one on PATH, else the binary shipped by imageio-ffmpeg."""
    found = shutil.which("ffmpeg") or imageio_ffmpeg.get_ffmpeg_exe()
    log.debug("using ffmpeg at %s", found)
    return found


def configure_pydub() -> None:
    """Point pydub's own encoding and decoding at :func:`ffmpeg_path`; safe to call repeatedly."""
    AudioSegment.converter = ffmpeg_path()


class AudioInterrupted(InterruptedError):
    """ffmpeg was stopped by a signal (the service shutting down), not defeated by its input."""


def _ffmpeg(args: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run ffmpeg quietly with ``args`` and return the finished process, whatever its exit code.

    Raises :class:`AudioInterrupted` when a signal stopped it: a stop of the whole process group
    (systemd, Ctrl-C) reaches ffmpeg too, and its input must not then be called unreadable.
    """
    command = [ffmpeg_path(), "-hide_banner", "-nostats", "-loglevel", "error", *args]
    if stdin is None:
        command.insert(1, "-nostdin")
    process = subprocess.run(command, input=stdin, capture_output=True, check=False)
    if process.returncode < 0:
        raise AudioInterrupted(f"ffmpeg was stopped by signal {-process.returncode}")
    return process


def _stderr_tail(process: subprocess.CompletedProcess[bytes]) -> str:
    """The last line ffmpeg printed, for error messages."""
    lines = process.stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else f"exit code {process.returncode}"


def segment_from_speech(speech: Speech) -> AudioSegment:
    """Wrap synthesised PCM in a pydub segment without copying through a file."""
    return AudioSegment(
        data=speech.pcm,
        sample_width=speech.sample_width,
        frame_rate=speech.sample_rate,
        channels=speech.channels,
    )


def decode(path: Path) -> AudioSegment:
    """Decode any audio file ffmpeg understands (mp3, wav, ogg, m4a…) to 16-bit PCM.

    Raises ``FileNotFoundError`` when there is no such file and ``ValueError`` naming the file when
    it holds no decodable audio.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no audio file at {path}")
    process = _ffmpeg(
        ["-i", f"file:{path}", "-map", "0:a:0", "-map_metadata", "-1", "-c:a", "pcm_s16le", "-f", "wav", "-"]
    )
    if process.returncode != 0:
        raise ValueError(f"{path.name} is not an audio file ffmpeg can read: {_stderr_tail(process)}")
    wav = bytearray(process.stdout)
    fix_wav_headers(wav)  # ffmpeg cannot go back to fill in the sizes when writing to a pipe
    segment = AudioSegment(data=bytes(wav))
    if len(segment.raw_data) == 0:
        raise ValueError(f"{path.name} holds no audio")
    return segment


def decode_pcm(path: Path, *, rate: int, channels: int) -> bytes:
    """Decode any audio file straight to 16-bit PCM at ``rate`` Hz and ``channels``, in one ffmpeg call.

    For joining: no WAV header to repair and no resampling in Python afterwards. Errors as :func:`decode`.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no audio file at {path}")
    process = _ffmpeg(["-i", f"file:{path}", "-map", "0:a:0", "-map_metadata", "-1", "-ar", str(rate),
                       "-ac", str(channels), "-c:a", "pcm_s16le", "-f", "s16le", "-"])
    if process.returncode != 0:
        raise ValueError(f"{path.name} is not an audio file ffmpeg can read: {_stderr_tail(process)}")
    if not process.stdout:
        raise ValueError(f"{path.name} holds no audio")
    return process.stdout


def write_mp3(
    segment: AudioSegment, path: Path, *, bitrate: str = "128k", tags: dict[str, str] | None = None,
    quality: int = MP3_QUALITY,
) -> None:
    """Encode ``segment`` to an MP3 at ``path`` atomically, with ID3 tags when given.

    Tags may be ``title``, ``artist``, ``album`` and ``date``. The file appears complete or not at
    all: it is written next to ``path`` under a temporary name, synced, then renamed over ``path``.
    """
    path = Path(path)
    tags = dict(tags or {})
    unknown = sorted(set(tags) - set(_ID3_FRAMES))
    if unknown:
        raise ValueError(f"unknown tag(s) {', '.join(unknown)}; allowed: {', '.join(_ID3_FRAMES)}")
    raw_format = _RAW_FORMATS.get(segment.sample_width)
    if raw_format is None:
        raise ValueError(f"cannot encode {8 * segment.sample_width}-bit samples")

    def encode(temporary: Path) -> None:
        _encode_mp3(segment, temporary, raw_format, bitrate, quality)
        if tags:
            _write_tags(temporary, tags)

    _write_atomically(path, encode)
    log.debug("wrote %s (%.1f s at %s)", path, segment.duration_seconds, bitrate)


def tagged_copy(source: Path, path: Path, tags: dict[str, str]) -> None:
    """Copy the MP3 ``source`` to ``path`` atomically with ``tags`` (as :func:`write_mp3` writes them): the
    same sound under another title, station or date, without encoding it again."""
    unknown = sorted(set(tags) - set(_ID3_FRAMES))
    if unknown:
        raise ValueError(f"unknown tag(s) {', '.join(unknown)}; allowed: {', '.join(_ID3_FRAMES)}")

    def copy(temporary: Path) -> None:
        shutil.copyfile(source, temporary)
        if tags:
            _write_tags(temporary, tags)

    _write_atomically(Path(path), copy)


def _write_atomically(path: Path, fill) -> None:  # fill: Callable[[Path], None]
    """Have ``fill`` write a temporary file next to ``path``, sync it, then rename it over ``path``: the
    file appears complete or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(descriptor)
    temporary = Path(temporary_name)
    try:
        fill(temporary)
        with temporary.open("rb+") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _encode_mp3(segment: AudioSegment, target: Path, raw_format: str, bitrate: str, quality: int) -> None:
    """Pipe the segment's samples through ffmpeg's LAME encoder into ``target``.

    ffmpeg writes a LAME-format info tag (encoder delay and padding) but signs it "Lavc…", which
    mutagen ignores, so its durations would run ~50 ms long; signing it "LAME3.100" fixes that.
    """
    source = ["-f", raw_format, "-ar", str(segment.frame_rate), "-ac", str(segment.channels), "-i", "pipe:0"]
    codec = ["-c:a", "libmp3lame", "-b:a", bitrate, "-compression_level", str(quality),
             "-metadata:s:a:0", "encoder=LAME3.100"]
    output = ["-id3v2_version", "0", "-write_id3v1", "0", "-f", "mp3", "-y", f"file:{target}"]
    process = _ffmpeg([*source, *codec, *output], stdin=segment.raw_data)
    if process.returncode != 0:
        raise RuntimeError(f"ffmpeg could not encode {target.name}: {_stderr_tail(process)}")


def _write_tags(target: Path, tags: dict[str, str]) -> None:
    """Write ID3v2.4 text frames (UTF-8) into the MP3 at ``target``."""
    audio = MP3(target)
    if audio.tags is None:
        audio.add_tags()
    for key, value in tags.items():
        audio.tags.add(_ID3_FRAMES[key](encoding=3, text=[value]))
    audio.save()


def _fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable, where the platform allows it."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def mp3_duration(path: Path) -> float:
    """The playing time of an MP3 in seconds, read from its headers with mutagen."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no MP3 file at {path}")
    try:
        return float(MP3(path).info.length)
    except MutagenError as error:
        raise ValueError(f"{path.name} is not an MP3 file: {error}") from error


def decode_bytes(data: bytes, name: str) -> AudioSegment:
    """Decode audio held in memory (an MP3 from an online engine); ``name`` appears in errors."""
    process = _ffmpeg(["-i", "pipe:0", "-map", "0:a:0", "-c:a", "pcm_s16le", "-f", "wav", "-"], stdin=data)
    if process.returncode != 0:
        raise ValueError(f"{name} is not audio ffmpeg can read: {_stderr_tail(process)}")
    wav = bytearray(process.stdout)
    fix_wav_headers(wav)
    segment = AudioSegment(data=bytes(wav))
    if len(segment.raw_data) == 0:
        raise ValueError(f"{name} holds no audio")
    return segment


def conform(segment: AudioSegment, *, rate: int, channels: int) -> AudioSegment:
    """``segment`` as 16-bit PCM at ``rate`` Hz with ``channels`` channels, ready to be joined."""
    if segment.sample_width != 2:
        segment = segment.set_sample_width(2)
    if segment.frame_rate != rate:
        segment = segment.set_frame_rate(rate)
    if segment.channels != channels:
        segment = segment.set_channels(channels)
    return segment


def silence(seconds: float, *, rate: int, channels: int) -> AudioSegment:
    """``seconds`` of digital silence in the given format, exact to the frame."""
    return AudioSegment(data=bytes(2 * channels * round(seconds * rate)), sample_width=2, frame_rate=rate,
                        channels=channels)


def samples_of(segment: AudioSegment):  # -> numpy.ndarray, imported lazily
    """The segment's 16-bit samples as a (frames, channels) numpy array."""
    import numpy as np

    return np.frombuffer(segment.raw_data, dtype="<i2").reshape(-1, segment.channels)


def segment_of(samples, *, rate: int) -> AudioSegment:
    """A pydub segment over (frames, channels) int16 samples."""
    return AudioSegment(data=samples.astype("<i2").tobytes(), sample_width=2, frame_rate=rate,
                        channels=samples.shape[1])
